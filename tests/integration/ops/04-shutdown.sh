#!/usr/bin/env bash
# harness: fresh-kafka
# SIGTERM to each service in the middle of its work (store-sim slowed
# down so there is work in hand): it finishes or hands back what it holds,
# commits, exits 0 within 10 s; a new instance takes over and nothing is
# lost or done twice:
#   catalog-publisher and image-uploader during an initial sync: every
#     product, variant and photo once in the store (cat_compare,
#     img_compare);
#   outbox-relay and stock-publisher during a stock burst: the store equals
#     the ledger (omnisync reconcile exits 0);
#   order-ingestor while shoppers order: every order in the ledger once,
#     with its reservation.
# The relay's own SIGTERM-mid-backlog check (every row marked sent is on
# Kafka once, the rest published by the next relay) is
# relay/04-sigterm-drain.sh.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
IMG_NPH=60
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
. "$OMNISYNC_ROOT/tests/integration/ops/ops-lib.bash"

NP=40
img_setup "$NP" 80 "$IMG_NPH"
t_bg stockpub stock-publisher -o log.level=info -o stockpub.batch.max=5 \
    ${HARNESS_KAFKA_OPTS:-}
ORD_PORT=$(free_port)
ingest_start() {
    # shellcheck disable=SC2086
    t_bg "$1" order-ingestor -o log.level=info \
        -o intake.listen="127.0.0.1:$ORD_PORT" \
        -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
        -o poll.interval.ms=2000 -o stores.refresh.ms=2000 ${HARNESS_KAFKA_OPTS:-}
}
ingest_start ingest
faults() {
    curl -sf -X POST -H 'Content-Type: application/json' -d "$1" \
        "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null
}

# term NAME WHAT: SIGTERM; exit 0 within 10 s.
term() {
    local t0 rc=0 ms
    t0=$(date +%s%N)
    t_kill "$1" TERM || rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    t_is "$2: SIGTERM mid-work exits 0" "$rc" 0
    t_ok "$2: ... within 10 s ($ms ms)" [ "$ms" -lt 10000 ]
}
state() { sim_get /_sim/state | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
at_least() { [ "$(state "$1")" -ge "$2" ]; }

# ---- catalog-publisher and image-uploader during an initial sync
faults '{"latency_ms":60}'
t_bg sync omnisync sync initial "$CAT_STORE" --timeout 300
t_ok "catalog-publisher creates products" wait_for 120 at_least products $((NP / 4))
term catpub catalog-publisher
t_like "it says it stopped" "$(cat "$T_TMP/catpub.log")" 'stopped \(exit 0\)'
cat_publisher_start catpub2
t_ok "image-uploader uploads photos" wait_for 120 at_least images $((IMG_NPH / 4))
term imgup image-uploader
img_uploader_start imgup2
t_wait sync 300
t_is "sync initial completes after the restarts" "$?" 0 ||
    t_diag "$(tail -5 "$T_TMP/sync.log")"
t_ok "the store equals the ledger, no product or variant twice" cat_compare
t_diag "$(cat_compare)"
t_ok "every photo in the store once" img_compare
t_diag "$(img_compare)"

# ---- outbox-relay and stock-publisher during a stock burst
mapfile -t SKUS < <(sql "SELECT sku FROM variant WHERE sku NOT LIKE 'ART-00001-%' ORDER BY sku")
faults '{"latency_ms":250}'
seq0=$(sim_seq)
n=0
for s in "${SKUS[@]}"; do
    omnisync stock receipt WH1 "$s" 40 --ref "sd-$s" >/dev/null || t_bail "receipt $s"
    n=$((n + 1))
    if [ "$n" = 20 ]; then
        term relay outbox-relay
        t_bg relay2 outbox-relay -o relay.poll.ms=200 -o relay.standby.ms=200
    fi
done
stock_calls() { sim_get "/_sim/requests?since=$seq0" | grep -o 'variants_group_update' | wc -l; }
some_pushed() { [ "$(stock_calls)" -ge 2 ]; }
t_ok "stock-publisher pushes the burst (5 variants a call)" wait_for 60 some_pushed
term stockpub stock-publisher
t_like "it flushed what it held before exiting" "$(cat "$T_TMP/stockpub.log")" 'draining: [0-9]+ variants pending'
t_unlike "nothing was left pending" "$(cat "$T_TMP/stockpub.log")" 'still pending'
faults '{"latency_ms":0}'
t_bg stockpub2 stock-publisher -o log.level=info ${HARNESS_KAFKA_OPTS:-}
reconciled() { omnisync reconcile "$CAT_STORE" >"$T_TMP/rec.out" 2>&1; }
t_ok "the store equals the ledger (omnisync reconcile exits 0)" wait_for 90 reconciled
t_diag "$(tail -3 "$T_TMP/rec.out")"

# ---- order-ingestor while shoppers order
hooks_ok() { [ "$(sim_get /admin/webhooks.json | jq length)" -ge 2 ]; }
t_ok "order-ingestor registered its webhooks" wait_for 30 hooks_ok
faults '{"latency_ms":30}'
ops_shoppers "$CAT_SIM_PORT" 60 0.1 "$T_TMP/orders.jsonl" "${SKUS[@]}" >"$T_TMP/place.out" &
placer=$!
orders() { sql "SELECT count(*) FROM customer_order"; }
orders_at_least() { [ "$(orders)" -ge "$1" ]; }
t_ok "orders reach the ledger" wait_for 60 orders_at_least 10
term ingest order-ingestor
ingest_start ingest2
wait "$placer"
placed=$(cat "$T_TMP/place.out")
t_is "shoppers placed 60 orders" "$placed" 60
all_in() { [ "$(orders)" -ge "$placed" ]; }
t_ok "every order reaches the ledger (webhooks missed while down: polling)" wait_for 90 all_in
sleep 3 # duplicates in flight must change nothing
t_is "each order once" \
    "$(sql "SELECT count(*) || '/' || count(DISTINCT remote_id) FROM customer_order")" "$placed/$placed"
want=$(python3 -c '
import json, sys
print(sum(l["quantity"] for o in map(json.loads, open(sys.argv[1]))
          for l in o["order_lines"] if l["sku"] != "ART-00001-1"))' "$T_TMP/orders.jsonl")
t_is "reserved = the ordered quantities" \
    "$(sql "SELECT coalesce(sum(reserved), 0) FROM stock_level")" "$want"

for s in catpub2 imgup2 relay2 stockpub2 ingest2; do
    t_kill "$s" TERM
    t_is "$s exits 0 on SIGTERM" "$?" 0
done
t_done
