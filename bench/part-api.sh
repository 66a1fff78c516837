#!/usr/bin/env bash
# bench/part-api.sh — store API efficiency of stock-publisher.
#   1. The flush policy (services/stock-publisher/flushpol.h) on the real
#      pending map, driven by bench/apisim on a virtual clock under
#      inSales's real limit shape (500 per 300 s, stock's 475): bursts read
#      as a backlog and live streams (500 movements/s) of 1k/10k/100k
#      movements over 100/1k/10k variants — calls vs the minimum (the sum
#      over windows of ceil(distinct variants / 100)) and vs a naive
#      one-call-per-change client (= movements).
#   2. End to end (bench/stock-latency.sh: ledger, relay, stock-publisher,
#      store-sim with the real shape): a live stream of movements over
#      1,000 variants — group-update calls vs the minimum, and the latency.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
SIM=$ROOT/build/std/tools/apisim
make -s -C "$ROOT" build/std/tools/apisim >/dev/null || exit 1
cases=$(bench_tiny "1000:100 10000:1000 100000:10000" "1000:100 10000:1000")
met() { python3 -c "print('yes' if $1 else 'no')"; }
for c in $cases; do
    m=${c%%:*} v=${c##*:}
    for mode in burst live; do
        rate=0
        [ $mode = live ] && rate=500
        j=$("$SIM" --moves "$m" --variants "$v" --rate $rate) || exit 1
        calls=$(jq .calls <<<"$j") min=$(jq .minimum <<<"$j") naive=$(jq .naive <<<"$j")
        p99=$(jq .hold_p99_ms <<<"$j")
        bench_result api "$mode $m over $v: calls (baseline: minimum)" "$calls" "$min" calls \
            "<= 1.1x min" "$(met "$calls <= 1.1 * $min")"
        bench_result api "$mode $m over $v: calls (baseline: naive 1/change)" "$calls" "$naive" calls
        bench_result api "$mode $m over $v: hold p99 ms (baseline: flush.ms)" "$p99" 500 ms
    done
done
# The latency-for-calls knob on the live 10k / 1k stream.
for pace in 25 10; do
    j=$("$SIM" --moves 10000 --variants 1000 --rate 500 --pace $pace) || exit 1
    calls=$(jq .calls <<<"$j") min=$(jq .minimum <<<"$j")
    bench_result api "live 10000 over 1000, pace $pace%: calls (baseline: minimum)" "$calls" "$min" calls \
        "<= 1.1x min" "$(met "$calls <= 1.1 * $min")"
    bench_result api "live 10000 over 1000, pace $pace%: hold p99 ms (baseline: flush.ms)" \
        "$(jq .hold_p99_ms <<<"$j")" 500 ms
done

# End to end, real services (the store-sim limit is inSales's 500 / 300 s);
# BENCH_E2E=0 skips it (the smoke test).
[ "${BENCH_E2E:-1}" = 0 ] && exit 0
N=$(bench_tiny 2000 300)
out=$(BENCH_MOVES=$N bash "$ROOT/bench/stock-latency.sh" 2>&1) || { echo "$out" | tail -5; exit 1; }
echo "$out"
calls=$(sed -nE 's/.*pushes, ([0-9]+) group updates.*/\1/p' <<<"$out")
p50=$(sed -nE 's/.*p50 <= ([0-9]+) ms.*/\1/p' <<<"$out" | head -1)
p99=$(sed -nE 's/.*p99 <= ([0-9]+) ms.*/\1/p' <<<"$out" | head -1)
b50=$(sed -nE 's/.*baseline.*p50 ([0-9.]+) ms.*/\1/p' <<<"$out")
min=$(python3 -c "import math; print(math.ceil(1000 * (1 - math.exp(-$N / 1000.0)) / 100))")
bench_result api "e2e live $N over 1000: group updates (baseline: minimum, expected distinct)" \
    "$calls" "$min" calls "<= 1.1x min" "$(met "${calls:-0} <= 1.1 * $min")"
bench_result api "e2e live $N over 1000: commit->store p50 ms (baseline: bare call p50)" "$p50" "$b50" ms
bench_result api "e2e live $N over 1000: commit->store p99 ms (baseline: bare call p50)" "$p99" "$b50" ms
