#!/usr/bin/env bash
# bench/stock-latency.sh — ledger commit -> store acceptance of a stock
# change, under a bounded live load.
#
# Starts Postgres, Redis and Kafka (tests/harness/lib.sh), store-sim
# (queued group updates), outbox-relay and stock-publisher on loopback,
# 1,000 variants mapped in the store; applies BENCH_MOVES (2000) random
# movements with BENCH_WORKERS (2) processes while stock-publisher runs,
# waits until the store equals the ledger, and reports stock-publisher's
# own histogram (envelope ts = ledger commit -> 200 of the group update;
# p = the histogram bucket's upper bound, capped by the max) plus the time
# from the last movement to a converged store.
# Baseline in the same run: the bare round trip of one 100-variant
# variants_group_update PUT to the same store-sim (curl, BENCH_BASE_CALLS
# (30) calls), and the ratio.  Bounded: BENCH_MOVES movements, 120 s
# convergence wait.
#
#   bench/stock-latency.sh
#   BENCH_MOVES=5000 BENCH_WORKERS=4 bench/stock-latency.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
N=${BENCH_MOVES:-2000}
W=${BENCH_WORKERS:-2}
NB=${BENCH_BASE_CALLS:-30}
make -s -C "$ROOT" bin/omnisync bin/stock-publisher bin/outbox-relay \
    bin/store-sim build/std/tools/move-burst >/dev/null || exit 1
. "$ROOT/tests/harness/lib.sh"
harness_start >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
. "$ROOT/tests/integration/stock/stock-lib.bash"

STORE="bench$$"
st_ledger 100 10 >/dev/null
st_sim sim
st_store "$STORE" sim WEB1 WH1
st_prefill "$STORE" sim
st_relay relay
st_pub pub1
# Warm-up (group join, connections), not measured; then a fresh
# publisher (fresh histogram) that has joined before the load starts.
move-burst --location WH1 --sku-like 'STK-%' --variants 1000 --moves 200 \
    --seed 1 >/dev/null || exit 1
wait_for 60 st_compare "$STORE" sim >/dev/null || { echo "bench: warm-up did not converge" >&2; exit 1; }
t_kill pub1 >/dev/null
st_pub pub2
omnisync stock receipt WH1 STK-0001-01 1 >/dev/null 2>&1
wait_for 60 st_compare "$STORE" sim >/dev/null || { echo "bench: probe did not converge" >&2; exit 1; }

seq0=$(st_seq sim)
out=$(move-burst --location WH1 --sku-like 'STK-%' --variants 1000 --moves "$N" \
    --kinds receipt,sale,reserve,release --workers "$W" --seed 5) || exit 1
t_end=$(date +%s.%N)
wait_for 120 st_compare "$STORE" sim >/dev/null || { echo "bench: no convergence in 120 s" >&2; exit 1; }
conv=$(echo "$(date +%s.%N) - $t_end" | bc)
sleep 1.5 # one more stats line (stats.ms=1000)
stats=$(grep 'stats: ' "$T_TMP/pub2.log" | tail -1)
calls=$(st_calls sim "$seq0")
f50=$(sed -nE 's/.* p50_ms=([0-9]+).*/\1/p' <<<"$stats")
f99=$(sed -nE 's/.* p99_ms=([0-9]+).*/\1/p' <<<"$stats")
fmax=$(sed -nE 's/.* max_ms=([0-9]+).*/\1/p' <<<"$stats")
fn=$(sed -nE 's/.* latency_n=([0-9]+).*/\1/p' <<<"$stats")
t_kill pub2 >/dev/null

# Baseline: the bare group-update round trip (100 variants, same store).
sim_get sim "/admin/products.json?per_page=250&page=1" | python3 -c '
import json, sys
vs = [v["id"] for p in json.load(sys.stdin) for v in p["variants"]][:100]
print(json.dumps({"variants": [{"id": i, "quantity": 5, "price": "100.0"} for i in vs]}))' \
    >"$T_TMP/gu.json"
for _ in $(seq "$NB"); do
    curl -s -o /dev/null -w '%{time_total}\n' -X PUT -u "$ST_LOGIN:$ST_PW" \
        -H 'Content-Type: application/json' --data-binary @"$T_TMP/gu.json" \
        "http://127.0.0.1:${ST_PORT[sim]}/admin/products/variants_group_update.json"
done >"$T_TMP/base.txt"
read -r b50 b99 < <(python3 -c '
import sys
v = sorted(float(x) * 1000 for x in open(sys.argv[1]))
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print("%.2f %.2f" % (p(0.5), p(0.99)))' "$T_TMP/base.txt")

echo "stock-latency: $N live movements over 1000 variants ($(sed -nE 's/.*rate=([0-9]+).*/\1/p' <<<"$out")/s, $W workers)"
echo "  ledger commit -> store acceptance (stock-publisher histogram, $fn variant pushes, $calls group updates):"
echo "    p50 <= ${f50} ms  p99 <= ${f99} ms  max ${fmax} ms"
echo "  last movement -> store equal to the ledger: ${conv} s"
echo "  baseline (bare 100-variant group-update round trip, $NB calls): p50 ${b50} ms  p99 ${b99} ms"
python3 -c "import sys; f50,f99,b50,b99=map(float,sys.argv[1:]); print('  ratio full/baseline: p50 %.0fx  p99 %.0fx' % (f50/max(b50,0.001), f99/max(b99,0.001)))" \
    "$f50" "$f99" "$b50" "$b99"
echo "  (a lone change waits up to stockpub.flush.ms=500 for company; under load 100 distinct variants fill a batch sooner)"
T_DONE=1
