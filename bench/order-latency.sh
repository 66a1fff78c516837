#!/usr/bin/env bash
# bench/order-latency.sh — webhook received -> reservation committed.
#
# Starts Postgres, Redis and Kafka (tests/harness/lib.sh), store-sim and
# order-ingestor on loopback, places BENCH_ORDERS (500) shopper orders in
# store-sim (its orders/create webhook hits the intake), and reports the
# p50/p99 of customer_order.applied_at - received_at (intake receipt to
# the commit of the reservation, both stamped on this host).  Baseline in
# the same run: the same orders applied to a second store directly with
# orders_apply() (bench/orderapply.c: no HTTP, no Kafka), and the ratio.
#
#   bench/order-latency.sh                 # 500 orders
#   BENCH_ORDERS=200 bench/order-latency.sh
#   BENCH_SATURATE=1 bench/order-latency.sh  # while photos saturate the
#       store's budget (budget-hammer, class images, 6 threads, on the
#       store's own budget key and store-sim)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
N=${BENCH_ORDERS:-500}
make -s -C "$ROOT" bin/omnisync bin/order-ingestor bin/store-sim \
    build/std/tools/orderapply build/std/tools/budget-hammer >/dev/null || exit 1
. "$ROOT/tests/harness/lib.sh"
harness_start >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
. "$ROOT/tests/integration/orders/orders-lib.bash"

ord_setup 1000 1000 1000 >/dev/null
ord_start oi -o poll.interval.ms=600000 -o log.level=warn >/dev/null
wait_for 30 ord_healthy || { echo "bench: intake did not start" >&2; exit 1; }
hooks() { [ "$(sim_get /admin/webhooks.json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge 2 ]; }
wait_for 30 hooks || { echo "bench: webhooks not registered" >&2; exit 1; }
# Warm-up (consumer group join, connections): not measured.
ord_place 5 1 "$T_TMP/warm.jsonl" >/dev/null
warm() { [ "$(ord_count)" -ge 5 ]; }
wait_for 60 warm
sql "UPDATE customer_order SET received_at = NULL" >/dev/null

if [ -n "${BENCH_SATURATE:-}" ]; then
    OMNISYNC_STORE_PASSWORD=$ORD_PW t_bg photos "$ROOT/build/std/tools/budget-hammer" \
        --url "http://127.0.0.1:$ORD_SIM_PORT" --login "$ORD_LOGIN" \
        --store "$ORD_STORE" --class images --threads 6 --duration 600
    sleep 1
fi
ORD_PLACE_DELAY=0.01 ord_place "$N" 99 "$T_TMP/placed.jsonl" >/dev/null
all() { [ "$(sql "SELECT count(*) FROM customer_order WHERE received_at IS NOT NULL")" -ge "$N" ]; }
wait_for 120 all || { echo "bench: only $(ord_count) orders applied" >&2; exit 1; }
full=$(sql "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2) || ' ' ||
                   round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 2)
              FROM (SELECT extract(epoch FROM applied_at - received_at) * 1000 AS ms
                      FROM customer_order WHERE received_at IS NOT NULL) x")
# The ingestor stops first so the baseline runs alone (and nothing polls
# the second store).
t_kill oi TERM >/dev/null
[ -n "${BENCH_SATURATE:-}" ] && t_kill photos TERM >/dev/null
# A second store selling from the same warehouses, for the baseline.
omnisync location add WEB2 --kind online --price-list ONLINE >/dev/null
ORD_PW_ENV=$ORD_PW omnisync store add "${ORD_STORE}b" --platform insales \
    --url "http://127.0.0.1:$ORD_SIM_PORT" --login "$ORD_LOGIN" \
    --password-env ORD_PW_ENV --online-location WEB2 \
    --source-locations WH1,WH2 --price-list ONLINE \
    --delivery-sku "$ORD_DELIVERY_SKU" >/dev/null || exit 1
base=$("$ROOT/build/std/tools/orderapply" "${ORD_STORE}b" <"$T_TMP/placed.jsonl")
read -r f50 f99 <<<"$full"
b50=$(sed 's/.*p50_ms=\([0-9.]*\).*/\1/' <<<"$base")
b99=$(sed 's/.*p99_ms=\([0-9.]*\).*/\1/' <<<"$base")
echo "order-latency: $N orders, webhook received -> reservation committed${BENCH_SATURATE:+ (photos saturating the budget)}"
echo "  full path (intake -> Kafka acks=all -> apply -> commit): p50 ${f50} ms  p99 ${f99} ms"
echo "  baseline (direct orders_apply, no HTTP/Kafka):           p50 ${b50} ms  p99 ${b99} ms"
python3 -c "import sys; f50,f99,b50,b99=map(float,sys.argv[1:]); print('  ratio full/baseline: p50 %.1fx  p99 %.1fx' % (f50/max(b50,0.001), f99/max(b99,0.001)))" \
    "$f50" "$f99" "$b50" "$b99"
T_DONE=1
