#!/usr/bin/env bash
# harness: fresh-kafka
# `make demo`'s scenario (deploy/demo.sh) on the small sample (20 products,
# 8 online orders) against the harness's servers, with store-sim and every
# service started here with the demo's own settings (deploy/demo.sh
# stack-env, DEMO_SPEED=30: 500 API requests per 10 s): the demo exits 0,
# and every summary field holds — the store holds the ledger's products,
# variants and photos (the replaced photo included), each order placed is in
# the ledger once, reservations are the open orders', no API window went
# over the limit, no 429, no dead letter, latency measured, no drift.  Then
# an alien product in the store makes `deploy/demo.sh check` fail naming
# the fields it breaks.  The fresh broker keeps other scripts' dead letters
# out of the count.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
export PATH=$OMNISYNC_ROOT/bin:$PATH

SAMPLE=$OMNISYNC_ROOT/deploy/sample/small
export DEMO_SPEED=30 DEMO_SAMPLE=small DEMO_ENV=- DEMO_LOG_DIR=$T_TMP \
    DEMO_WORK=$T_TMP/work DEMO_STORE="demo$$r$RANDOM" \
    DEMO_SUMMARY_JSON=$T_TMP/summary.json

t_ok "the committed sample is what deploy/sample/gen-sample.py writes" \
    python3 "$OMNISYNC_ROOT/deploy/sample/gen-sample.py" --check

omnisync db migrate >/dev/null || t_bail "db migrate"
env_file=$T_TMP/stack.env
"$OMNISYNC_ROOT/deploy/demo.sh" stack-env >"$env_file" || t_bail "demo.sh stack-env"
# shellcheck source=/dev/null
. "$env_file"
t_like "the demo's store-sim limit: 500 per 300/DEMO_SPEED s" \
    "$OMNISYNC_STORE_SIM_ARGS" '^--limit 500 --window 10$'

SIM_PORT=$(free_port)
export OMNISYNC_STORE_URL=http://127.0.0.1:$SIM_PORT OMNISYNC_STORE_LOGIN=demo
OMNISYNC_STORE_PASSWORD=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
export OMNISYNC_STORE_PASSWORD
# shellcheck disable=SC2086 # the flags are words
t_bg store-sim store-sim --port "$SIM_PORT" --login demo \
    --password "$OMNISYNC_STORE_PASSWORD" $OMNISYNC_STORE_SIM_ARGS
wait_for 10 curl -sf "$OMNISYNC_STORE_URL/_sim/health" || t_bail "store-sim did not start"
t_bg outbox-relay outbox-relay
for svc in catalog-publisher stock-publisher image-uploader order-ingestor; do
    # shellcheck disable=SC2086
    t_bg "$svc" "$svc" ${HARNESS_KAFKA_OPTS:-}
done

# The sample's own numbers (python's csv: descriptions span lines).
read -r want_products want_variants want_orders < <(python3 - "$SAMPLE" <<'PY'
import csv, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/catalog.csv", encoding="utf-8", newline=""), delimiter=";"))
orders = list(csv.DictReader(open(d + "/day/orders.csv", encoding="utf-8", newline=""), delimiter=";"))
print(len({r["Article"] for r in rows}), len(rows), len({r["order"] for r in orders}))
PY
)
t_is "the small sample: 20 products" "$want_products" 20

rc=0
"$OMNISYNC_ROOT/deploy/demo.sh" >"$T_TMP/demo.out" 2>&1 || rc=$?
out=$(cat "$T_TMP/demo.out")
t_is "deploy/demo.sh exits 0" "$rc" 0 || t_diag "$(tail -40 "$T_TMP/demo.out")"
[ -s "$DEMO_SUMMARY_JSON" ] || t_bail "no summary JSON; tail of the demo: $(tail -20 "$T_TMP/demo.out")"

num() { jq -r ".numbers.$1" "$DEMO_SUMMARY_JSON"; }
t_is "no field failed" "$(jq -r '.failed | join(",")' "$DEMO_SUMMARY_JSON")" ""
t_is "products: the sample's $want_products in the ledger" "$(num ledger_products)" "$want_products"
t_is "products: the store = the ledger" "$(num store_products)" "$want_products"
t_is "variants: the sample's $want_variants in the ledger" "$(num ledger_variants)" "$want_variants"
t_is "variants: the store = the ledger" "$(num store_variants)" "$want_variants"
t_ok "photos: some" test "$(num ledger_photos)" -ge "$want_products"
t_is "photos: the store = the ledger (the replaced one's old image deleted)" \
    "$(num store_photos)" "$(num ledger_photos)"
t_is "orders: all $want_orders placed" "$(num orders_placed)" "$want_orders"
t_is "orders: all ingested" "$(num orders_ingested)" "$want_orders"
t_is "orders: each once" "$(num order_rows)" "$want_orders"
t_ok "webhooks were dropped (the poll brought those orders)" \
    test "$(jq '.numbers.webhooks.dropped' "$DEMO_SUMMARY_JSON")" -gt 0
t_ok "reservations: some" test "$(num reserved)" -gt 0
t_is "reservations: the open orders'" "$(num reserved)" "$(num reserved_expected)"
t_ok "API: the busiest window within the limit" \
    test "$(num api_busiest_window)" -le "$(num api_limit)"
t_is "API: the budget is 500 per 10 s" "$(num api_limit)/$(num api_window_s)" "500/10"
t_ok "API: calls were made" test "$(num api_calls)" -gt "$want_products"
t_is "429s: 0" "$(num http_429)" 0
t_is "dead letters listed by omnisync dlq: 0" "$(num dead_letters)" 0
t_is "dead letters in the ledger: 0" "$(num dead_letters_ledger)" 0
t_ok "latency: measured" test "$(jq '.numbers.latency.n' "$DEMO_SUMMARY_JSON")" -gt 0
t_ok "latency: a p50" test "$(jq '.numbers.latency.p50_ms' "$DEMO_SUMMARY_JSON")" -gt 0
t_is "drift: 0" "$(num drift)" 0
t_is "reconcile exit 0" "$(num reconcile_exit)" 0

# The printed summary shows the same.
t_like "printed: products" "$out" "products +store $want_products / ledger $want_products \(synced $want_products\) +ok"
t_like "printed: variants" "$out" "variants +store $want_variants / ledger $want_variants .* ok"
t_like "printed: photos" "$out" "photos +store [0-9]+ / ledger [0-9]+ .* ok"
t_like "printed: orders" "$out" "orders +placed $want_orders / ingested $want_orders, each once .* ok"
t_like "printed: reservations" "$out" "reservations +ledger [0-9]+ / open orders [0-9]+ units +ok"
t_like "printed: API calls" "$out" "api_calls +[0-9]+ in [0-9]+ windows; busiest window [0-9]+ of the budget's 500 per 10 s +ok"
t_like "printed: 429s" "$out" "http_429 +0 +ok"
t_like "printed: dead letters" "$out" "dead_letters +0 listed by omnisync dlq, 0 failed in status +ok"
t_like "printed: latency" "$out" "latency +ledger to store p50 [0-9]+ ms, p(95|99) [0-9]+ ms .* ok"
t_like "printed: drift" "$out" "drift +0 \(omnisync reconcile exit 0\) +ok"
t_like "the initial sync's progress" "$out" "sync: products 20/20 variants $want_variants/$want_variants photos [0-9]+/[0-9]+"
t_like "what to try next" "$out" "omnisync status"

# A product the ledger does not know appears in the store: the check fails
# and names what no longer holds.
curl -sf -X POST -H 'Content-Type: application/json' \
    --data '{"product":{"title":"Alien","variants_attributes":[{"sku":"ALIEN-1","price":10,"quantity":1}]}}' \
    "$OMNISYNC_STORE_URL/_sim/products" >/dev/null || t_bail "alien product"
rc=0
DEMO_SUMMARY_JSON=$T_TMP/summary2.json "$OMNISYNC_ROOT/deploy/demo.sh" check \
    >"$T_TMP/check.out" 2>&1 || rc=$?
t_is "deploy/demo.sh check then exits 1" "$rc" 1
t_like "naming the failed fields" "$(cat "$T_TMP/check.out")" \
    "FAILED: products, variants, drift"
t_is "and drift 1 (the unknown variant)" "$(jq -r .numbers.drift "$T_TMP/summary2.json")" 1
t_is "a second demo on the same ledger refuses (make demo starts afresh)" \
    "$("$OMNISYNC_ROOT/deploy/demo.sh" >/dev/null 2>&1; echo $?)" 1
t_done
