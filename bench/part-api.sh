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
# The policy's knobs and its one exception, on live streams:
#   - sell-outs (stockpub.urgent.at): 1 in 1,000 movements sells its
#     variant out, and goes at once;
#   - stockpub.hold.max.ms 60 s instead of the window (300 s) on the
#     dense 100k / 10k stream;
#   - a stream twice the window long (600 s; the minimum counts each
#     window-long period).
knob() { # target|-, label, apisim args...: "-" is a knob's trade, not the target
    local tgt=$1 label=$2 j calls min
    shift 2
    j=$("$SIM" "$@") || exit 1
    calls=$(jq .calls <<<"$j") min=$(jq .minimum <<<"$j")
    if [ "$tgt" = target ]; then
        bench_result api "$label: calls (baseline: minimum)" "$calls" "$min" calls \
            "<= 1.1x min" "$(met "$calls <= 1.1 * $min")"
    else
        bench_result api "$label: calls (baseline: minimum)" "$calls" "$min" calls
    fi
    bench_result api "$label: hold p99 ms (baseline: flush.ms)" "$(jq .hold_p99_ms <<<"$j")" 500 ms
}
for pm in 1 10; do
    knob - "live 10000 over 1000, $pm/1000 sell-outs" --moves 10000 --variants 1000 --rate 500 \
        --sellout-permille $pm
done
if [ "$BENCH_SIZE" != tiny ]; then
    knob - "live 100000 over 10000, hold.max 60 s" --moves 100000 --variants 10000 --rate 500 \
        --hold-max-ms 60000
    knob target "live 300000 over 1000 (600 s)" --moves 300000 --variants 1000 --rate 500
fi

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
