#!/usr/bin/env bash
# omnisync location add|list and pricelist add|list: happy paths, JSON,
# and input errors with exit 2.
. "$(dirname "$0")/cli-lib.bash"

omnisync db migrate >/dev/null || t_bail "db migrate failed"

run omnisync pricelist add RETAIL --name "Розница"
t_is "pricelist add exits 0" "$RC" 0
t_is "pricelist add says so" "$OUT" "added price list RETAIL"
run omnisync pricelist add ONLINE
t_is "pricelist add without --name" "$RC" 0
run omnisync pricelist add ONLINE
t_is "duplicate price list: exit 2" "$RC" 2
t_like "duplicate price list: clear message" "$ERR" "price list 'ONLINE' already exists"
run omnisync pricelist add
t_is "pricelist add without CODE: exit 2" "$RC" 2
run omnisync pricelist add "A B"
t_is "pricelist code with a space: exit 2" "$RC" 2
run omnisync pricelist list
t_is "pricelist list table" "$OUT" "$(printf 'code    name\nONLINE  ONLINE\nRETAIL  Розница')"
run omnisync pricelist list --json
t_is "pricelist list --json" "$(printf '%s' "$OUT" | jq -c .)" \
    '[{"code":"ONLINE","name":"ONLINE"},{"code":"RETAIL","name":"Розница"}]'

run omnisync location add WH1 --kind warehouse --name "Main warehouse"
t_is "location add warehouse" "$RC" 0
t_is "location add says so" "$OUT" "added location WH1 (warehouse)"
run omnisync location add SHOP1 --kind outlet --price-list RETAIL
t_is "location add outlet with price list" "$RC" 0
run omnisync location add --kind=online WEB1 --price-list=ONLINE
t_is "options in any order, --opt=value form" "$RC" 0

run omnisync location add WH1 --kind warehouse
t_is "duplicate location: exit 2" "$RC" 2
t_like "duplicate location: clear message" "$ERR" "location 'WH1' already exists"
run omnisync location add X1 --kind outlet --price-list NOPE
t_is "unknown price list: exit 2" "$RC" 2
t_like "unknown price list named" "$ERR" "unknown price list 'NOPE'"
run omnisync location add X1 --kind shop
t_is "bad kind: exit 2" "$RC" 2
t_like "bad kind named" "$ERR" "bad --kind 'shop'"
run omnisync location add X1
t_is "missing --kind: exit 2" "$RC" 2
t_like "missing --kind named" "$ERR" "--kind is required"
run omnisync location add X1 --kind outlet --colour red
t_is "unknown option: exit 2" "$RC" 2
t_like "unknown option named" "$ERR" "unknown option '--colour'"
run omnisync location add X1 --kind
t_is "option without value: exit 2" "$RC" 2
run omnisync location add X1 X2 --kind outlet
t_is "extra argument: exit 2" "$RC" 2
long65=$(printf 'L%.0s' $(seq 65))
run omnisync location add "$long65" --kind outlet
t_is "65-byte location code: exit 2" "$RC" 2
t_like "65-byte code: the limit named" "$ERR" "code longer than 64 bytes"
run omnisync location add "${long65:1}" --kind outlet --name "$(printf 'n%.0s' $(seq 501))"
t_is "501-byte --name: exit 2" "$RC" 2
t_like "501-byte --name: the limit named" "$ERR" "--name longer than 500 bytes"
run omnisync pricelist add "$long65"
t_is "65-byte price list code: exit 2" "$RC" 2
t_is "nothing was added by the failures" "$(sql "SELECT count(*) FROM location")" 3

run omnisync location list
t_is "location list exits 0" "$RC" 0
t_is "location list table" "$OUT" "$(printf '%s\n' \
    'code   name            kind       price_list' \
    'SHOP1  SHOP1           outlet     RETAIL' \
    'WEB1   WEB1            online     ONLINE' \
    'WH1    Main warehouse  warehouse')"
run omnisync location list --json
t_is "location list --json" "$(printf '%s' "$OUT" | jq -c .)" \
    '[{"code":"SHOP1","name":"SHOP1","kind":"outlet","price_list":"RETAIL"},{"code":"WEB1","name":"WEB1","kind":"online","price_list":"ONLINE"},{"code":"WH1","name":"Main warehouse","kind":"warehouse","price_list":null}]'
run omnisync location list --yaml
t_is "location list --yaml: exit 2" "$RC" 2

OMNISYNC_PG="host=127.0.0.1 port=1 dbname=x connect_timeout=2" run omnisync location list
t_is "no database: exit 3" "$RC" 3
run omnisync location
t_is "location without subcommand: exit 2" "$RC" 2
t_done
