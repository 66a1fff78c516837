#!/usr/bin/env bash
# The CLI's conventions (docs/cli.md): --version on every binary names the
# git revision it was built from; one exit-code table (0 ok, 1 negative
# answer, 2 usage/input, 3 a dependency); --json with the documented keys;
# `-` reads standard input with <stdin>:LINE positions; every command and
# subcommand in `omnisync --help`.
. "$(dirname "$0")/cli-lib.bash"

# ---- --version: every binary of bin/ (the services, the CLI, store-sim,
# devkafka), the revision of this checkout ("unknown" without .git)
if [ -e "$OMNISYNC_ROOT/.git" ] && rev=$(git -C "$OMNISYNC_ROOT" rev-parse --short=12 HEAD 2>/dev/null); then
    :
else
    rev=unknown
fi
nbin=0
for b in "$OMNISYNC_ROOT"/bin/*; do
    [ -x "$b" ] || continue
    name=$(basename "$b")
    nbin=$((nbin + 1))
    run "$b" --version
    t_is "$name --version: exit 0" "$RC" 0
    if [ "$rev" = unknown ]; then
        t_like "$name --version: release, git unknown" "$OUT" "^$name [0-9]+\.[0-9]+\.[0-9]+ \(git unknown\)$"
    else
        t_like "$name --version: release and this checkout's revision" "$OUT" \
            "^$name [0-9]+\.[0-9]+\.[0-9]+ \(git $rev(-dirty)?\)$"
    fi
done
for svc in "$OMNISYNC_ROOT"/services/*/main.c "$OMNISYNC_ROOT"/services/devtools/*/main.c; do
    svc=$(basename "$(dirname "$svc")")
    t_ok "bin/$svc exists (every binary is checked)" test -x "$OMNISYNC_ROOT/bin/$svc"
done
t_ok "at least the CLI, five services, store-sim and devkafka" test "$nbin" -ge 8

# ---- every command word, and every subcommand, in `omnisync --help`
run omnisync --help
t_is "omnisync --help: exit 0" "$RC" 0
help=$OUT
t_like "--help lists --version" "$help" '--version'
t_like "--help gives the exit-code table" "$help" '3  could not reach a dependency'
cmds=$(sed -n 's/^    {"\([a-z]*\)", cmd_[a-z_]*,.*/\1/p' "$OMNISYNC_ROOT/services/omnisync/main.c")
t_ok "the dispatch table has commands" test -n "$cmds"
for c in $cmds; do
    line=$(printf '%s\n' "$help" | grep -E "^  $c +" || true)
    t_ok "omnisync --help lists '$c'" test -n "$line"
    run omnisync "$c" --help
    t_is "omnisync $c --help: exit 0" "$RC" 0
    # The subcommands: "omnisync <c> <word>" lines of its own help.
    for sub in $(printf '%s\n' "$OUT" | sed -n "s/.*omnisync $c \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p" | sort -u); do
        t_like "omnisync --help names '$c $sub'" "$line" "[ :|]$sub([|: ]|$)"
    done
done
t_like "store adopt is in the help" "$(printf '%s\n' "$help" | grep -E '^  store ')" 'adopt'

# ---- the chain for the rest
cli_chain || t_bail "setting up the chain failed"
cli_store S1 WEB1 WH1 >/dev/null || t_bail "store S1"

# ---- exit codes: an unknown store is 2 everywhere
for cmd in "store show nope" "store adopt nope" "sync initial nope" "sync resync nope" \
    "reconcile nope" "orders show nope 1" "orders list --store nope"; do
    # shellcheck disable=SC2086
    run omnisync $cmd
    t_is "$cmd: exit 2 (unknown store)" "$RC" 2
    t_like "$cmd: names the store" "$ERR" "nope"
done
run omnisync orders show S1 424242
t_is "orders show of an unknown order: exit 2" "$RC" 2
run omnisync orders list --store S1 --json
t_is "orders list --store S1: exit 0" "$RC" 0
t_is "... an empty JSON array" "$(printf '%s' "$OUT" | jq -c .)" '[]'

# missing or bad settings: 2
run env -u OMNISYNC_SECRET_KEY omnisync store add S9 --platform insales \
    --url https://x.example --login l --password-env PATH --online-location WEB2 \
    --source-locations WH1 --price-list ONLINE --delivery-sku DELIVERY
t_is "store add without OMNISYNC_SECRET_KEY: exit 2" "$RC" 2
t_like "... naming it" "$ERR" 'OMNISYNC_SECRET_KEY'
run env -u OMNISYNC_SECRET_KEY omnisync reconcile S1
t_is "reconcile without OMNISYNC_SECRET_KEY: exit 2" "$RC" 2
run env -u OMNISYNC_SECRET_KEY omnisync store adopt S1
t_is "store adopt without OMNISYNC_SECRET_KEY: exit 2" "$RC" 2
run env -u OMNISYNC_REDIS omnisync reconcile S1
t_is "reconcile without OMNISYNC_REDIS: exit 2" "$RC" 2
run env -u OMNISYNC_KAFKA omnisync lag
t_is "lag without OMNISYNC_KAFKA: exit 2" "$RC" 2

# a dependency out of reach: 3
nosock=$T_TMP/no-postgres-here
mkdir -p "$nosock"
for cmd in "location list" "stock show" "db migrate" "store list" "orders list" \
    "sync initial S1"; do
    # shellcheck disable=SC2086
    run env -u OMNISYNC_PG PGHOST="$nosock" PGCONNECT_TIMEOUT=2 omnisync $cmd
    t_is "$cmd without OMNISYNC_PG (no server at libpq's defaults): exit 3" "$RC" 3
done
port=$(free_port)
run env OMNISYNC_PG="host=127.0.0.1 port=$port dbname=x connect_timeout=2" omnisync stock receipt WH1 SH-1-RED-M 1
t_is "Postgres unreachable: exit 3" "$RC" 3
t_like "... saying so" "$ERR" 'cannot connect to Postgres'
run env OMNISYNC_KAFKA="127.0.0.1:$(free_port)" timeout 60 omnisync lag
t_is "Kafka unreachable: exit 3" "$RC" 3
t_like "... saying so" "$ERR" 'cannot reach the broker'
# A store nobody answers for (S2's URL: a closed loopback port).
omnisync location add WEB3 --kind online --price-list ONLINE >/dev/null || t_bail "WEB3"
CLI_PW=x omnisync store add S2 --platform insales --url "http://127.0.0.1:$(free_port)" \
    --login l --password-env CLI_PW --online-location WEB3 --source-locations WH1 \
    --price-list ONLINE --delivery-sku DELIVERY >/dev/null || t_bail "store S2"
run timeout 120 omnisync reconcile S2
t_is "a store out of reach: reconcile exits 3" "$RC" 3
run timeout 120 omnisync store adopt S2 --dry-run
t_is "a store out of reach: store adopt exits 3" "$RC" 3
run env OMNISYNC_REDIS="127.0.0.1:$(free_port)" timeout 120 omnisync reconcile S1
t_is "Redis out of reach: reconcile exits 3" "$RC" 3

# ---- --json: parses, with the documented keys
keys() { printf '%s' "$1" | jq -c "$2" 2>&1; }
run omnisync db migrate --json
t_is "db migrate --json: exit 0" "$RC" 0
t_is "db migrate --json: nothing applied" "$(keys "$OUT" .)" '{"applied":[]}'
run omnisync pricelist add OUTLET --json
t_is "pricelist add --json" "$(keys "$OUT" .)" '{"code":"OUTLET","name":"OUTLET"}'
run omnisync location add SHOP2 --kind outlet --name "Shop 2" --price-list OUTLET --json
t_is "location add --json" "$(keys "$OUT" .)" \
    '{"code":"SHOP2","name":"Shop 2","kind":"outlet","price_list":"OUTLET"}'
run omnisync location add WH3 --kind warehouse --json
t_is "location add --json: no price list is null" "$(keys "$OUT" .price_list)" null
run omnisync stock receipt WH1 SH-1-RED-M 7 --ref conv-1 --json
t_is "stock receipt --json: exit 0" "$RC" 0
t_is "stock receipt --json" "$(keys "$OUT" '{kind, sku, qty, ref, already_applied, lines}')" \
    '{"kind":"receipt","sku":"SH-1-RED-M","qty":7,"ref":"conv-1","already_applied":false,"lines":[{"location":"WH1","delta":7,"on_hand":7}]}'
t_like "stock receipt --json: the movement id" "$(keys "$OUT" .movement)" '^[0-9]+$'
run omnisync stock receipt WH1 SH-1-RED-M 7 --ref conv-1 --json
t_is "a repeated --ref --json" "$(keys "$OUT" '{already_applied, movement, lines}')" \
    '{"already_applied":true,"movement":null,"lines":[]}'
run omnisync stock transfer WH1 SHOP1 SH-1-RED-M 3 --json
t_is "stock transfer --json: both lines" "$(keys "$OUT" '[.ref, .lines]')" \
    '[null,[{"location":"WH1","delta":-3,"on_hand":4},{"location":"SHOP1","delta":3,"on_hand":3}]]'
run omnisync stock count SHOP1 SH-1-RED-M 5 --json
t_is "stock count --json: the difference" "$(keys "$OUT" '.lines')" \
    '[{"location":"SHOP1","delta":2,"on_hand":5}]'
run cli_store S3 WEB2 WH1,SHOP1 --json
t_is "store add --json: exit 0" "$RC" 0
t_is "store add --json" "$(keys "$OUT" '{name, source_locations}')" '{"name":"S3","source_locations":3}'
t_like "store add --json: stock events" "$(keys "$OUT" .stock_events)" '^[0-9]+$'
run omnisync sync resync S1 --stock --no-wait --json
t_is "sync resync --json: exit 0" "$RC" 0
t_is "sync --json: keys" "$(keys "$OUT" '[keys_unsorted, (.queued|keys_unsorted), (.products|keys_unsorted), (.photos|keys_unsorted)]')" \
    '[["store","queued","waited","done","products","variants","photos","unpublishable"],["catalog_events","stock_events"],["total","synced","failed"],["total","synced","failed"]]'
t_is "sync --json: not waited" "$(keys "$OUT" '[.store, .waited, .done]')" '["S1",false,false]'

# ---- import from standard input ("-"), --json, <stdin>:LINE in errors
csv='article,name,sku,price
CONV-1,Conv one,CONV-1-A,10.00
CONV-1,Conv one,CONV-1-B,11.00'
OUT=$(printf '%s\n' "$csv" | omnisync import catalog - --price-list RETAIL --json 2>"$T_TMP/err") && RC=0 || RC=$?
t_is "import catalog - (stdin) --json: exit 0" "$RC" 0 || t_diag "$(cat "$T_TMP/err")"
t_is "import catalog --json" "$(keys "$OUT" '{kind, rows, products, new, variants, events, dry_run}')" \
    '{"kind":"catalog","rows":2,"products":1,"new":1,"variants":2,"events":1,"dry_run":false}'
t_is "import --json: every documented key" "$(keys "$OUT" keys_unsorted)" \
    '["kind","rows","products","new","changed","unchanged","archived","variants","events","dry_run"]'
t_is "the stdin rows are in the ledger" "$(sql "SELECT string_agg(sku, ',' ORDER BY sku) FROM variant WHERE sku LIKE 'CONV-%'")" \
    "CONV-1-A,CONV-1-B"
OUT=$(printf 'sku,price\nCONV-1-A,12.50\n' | omnisync import prices - --price-list RETAIL --json 2>"$T_TMP/err") && RC=0 || RC=$?
t_is "import prices - --json: exit 0" "$RC" 0 || t_diag "$(cat "$T_TMP/err")"
t_is "import prices --json" "$(keys "$OUT" '{kind, rows, changed}')" '{"kind":"prices","rows":1,"changed":1}'
ERR=$(printf 'sku,price\nCONV-1-A,13.00\nCONV-1-B,not-a-price\n' |
    omnisync import prices - --price-list RETAIL 2>&1 >/dev/null) && RC=0 || RC=$?
t_is "a bad row on stdin: exit 2" "$RC" 2
t_like "... named <stdin>:LINE:COLUMN" "$ERR" '<stdin>:3:[0-9]+: price'
t_is "... nothing applied" "$(sql "SELECT p.price FROM price p JOIN variant v ON v.id = p.variant_id
    JOIN price_list pl ON pl.id = p.price_list_id WHERE v.sku = 'CONV-1-A' AND pl.code = 'RETAIL'")" "12.50"
ERR=$(printf 'sku,price\n"CONV-1-A,13.00\n' | omnisync import prices - --price-list RETAIL 2>&1 >/dev/null) && RC=0 || RC=$?
t_is "an unterminated quote on stdin: exit 2" "$RC" 2
t_like "... named <stdin>:LINE" "$ERR" '<stdin>:2:'
t_done
