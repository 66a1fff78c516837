#!/usr/bin/env bash
# harness: fresh-kafka
# --help on every command and subcommand (exit 0, usage on stdout);
# usage errors exit 2; omnisync status counts and JSON (the full status
# story is tests/integration/ops/06-status.sh).
. "$(dirname "$0")/cli-lib.bash"

for c in "" "db" "db migrate" "location" "location add" "location list" \
    "pricelist" "pricelist add" "pricelist list" "import" \
    "stock" "stock receipt" "stock sale" "stock return" "stock writeoff" \
    "stock transfer" "stock count" "stock show" \
    "store" "store add" "store list" "store show" "status"; do
    # shellcheck disable=SC2086
    run omnisync $c --help
    t_is "omnisync $c --help: exit 0" "$RC" 0
    t_like "omnisync $c --help: usage on stdout" "$OUT" "usage"
done
run omnisync stock receipt -h
t_is "-h works too" "$RC" 0
run omnisync
t_is "no command: exit 2" "$RC" 2
run omnisync frobnicate
t_is "unknown command: exit 2" "$RC" 2
run omnisync status --verbose
t_is "status with unknown option: exit 2" "$RC" 2

# ---- status
cli_chain || t_bail "setting up the chain failed"
cli_store S1 WEB1 WH1 >/dev/null || t_bail "store S1"
omnisync stock receipt WH1 SH-1-RED-M 3 >/dev/null
omnisync stock receipt WH1 SH-1-RED-L 3 >/dev/null
omnisync stock receipt SHOP1 SH-1-RED-L 3 >/dev/null
sql "UPDATE outbox SET sent_at = now() WHERE id = (SELECT min(id) FROM outbox)"
sql "UPDATE outbox SET created_at = created_at - interval '90 seconds' WHERE sent_at IS NULL"

run omnisync status --json
t_diag "$ERR"
t_is "status --json exits 1: an outbox row waits for the store" "$RC" 1
t_is "... it is catching up, unverified" \
    "$(printf '%s' "$OUT" | jq -c '.store_sync[0] | [.store, .state, .behind.outbox, .verified.at]')" \
    '["S1","catching_up",1,null]'
t_is "... ok is false" "$(printf '%s' "$OUT" | jq .ok)" false
t_is "status --json counts" \
    "$(printf '%s' "$OUT" | jq -c '{locations, price_lists, products, variants, stores, movements}')" \
    '{"locations":5,"price_lists":2,"products":3,"variants":4,"stores":1,"movements":3}'
t_is "status --json outbox" "$(printf '%s' "$OUT" | jq -c '.outbox | {pending, sent}')" \
    '{"pending":1,"sent":1}'
t_like "oldest pending age in seconds" "$(printf '%s' "$OUT" | jq '.outbox.oldest_pending_age_s')" '^(9[0-9]|1[0-9][0-9])$'
run omnisync status
t_is "status table exits 1" "$RC" 1
t_like "status table: the store's state" "$OUT" 'store S1: catching up: 1m[0-9]+s behind: 1 outbox rows waiting'
t_like "status table: unverified since" "$OUT" 'verified +never: unverified since '
t_like "status table: variants" "$OUT" 'variants +4'
t_like "status table: outbox pending" "$OUT" 'pending +1'
sql "UPDATE outbox SET sent_at = now()"
run omnisync status --json
t_is "nothing pending: age is null" "$(printf '%s' "$OUT" | jq -c '.outbox')" \
    '{"pending":0,"oldest_pending_age_s":null,"sent":2}'
t_is "... the store (publishing nothing) is in sync: exit 0" \
    "$(printf '%s' "$OUT" | jq -c '[.store_sync[0].state, .ok]'):$RC" '["in_sync",true]:0'
t_done
