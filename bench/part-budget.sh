#!/usr/bin/env bash
# bench/part-budget.sh — the shared Redis budget vs the per-process
# limiters that peers use: N = 1, 2, 4 processes (2 threads each, class
# orders: the whole limit) call one store-sim with a fixed-window limit (the real shape
# scaled in time: 50 per 5 s), each process either with an in-process
# limiter set to the full limit (budget-hammer --limiter local) or on the
# shared budget.  Reported per window: useful calls (2xx) and rejected
# calls (429), side by side; the baseline is the store's limit per window.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
make -s -C "$ROOT" bin/store-sim build/std/tools/budget-hammer >/dev/null || exit 1
. "$ROOT/tests/harness/lib.sh"
harness_start redis >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
LIMIT=50 WINDOW=5
DUR=$(bench_tiny 14 4) # whole windows minus a second
NS=$(bench_tiny "1 2 4" "1 4")
PW=bench-budget-pw
W=$(mktemp -d)
cleanup() { bench_sim_stop; rm -rf "$W"; harness_cleanup; }
trap cleanup EXIT
bench_sim_start "$PW" $LIMIT $WINDOW || { echo "bench: store-sim did not start" >&2; exit 1; }
port=$BENCH_SIM_PORT
windows=$(python3 -c "import math; print(math.ceil($DUR / $WINDOW))")
for n in $NS; do
    for mode in local shared; do
        store=bb-$n-$mode-$$
        # A fresh store-sim count: wait out its current window.
        sleep $((WINDOW + 1))
        pids=()
        for p in $(seq "$n"); do
            OMNISYNC_STORE_PASSWORD=$PW "$ROOT/build/std/tools/budget-hammer" \
                --url "http://127.0.0.1:$port" --login bench --store "$store" \
                --class orders --threads 2 --duration "$DUR" --limit $LIMIT \
                --window $WINDOW --limiter "$mode" --pace-bulk 0 \
                >"$W/$n-$mode-$p.json" 2>"$W/$n-$mode-$p.err" &
            pids+=($!)
        done
        wait "${pids[@]}"
        ok=$(cat "$W/$n-$mode-"*.json | jq -s 'map(.ok) | add')
        rej=$(cat "$W/$n-$mode-"*.json | jq -s 'map(.s429) | add')
        useful=$(python3 -c "print(round($ok / $windows, 1))")
        bench_result budget "N=$n $mode: useful calls/window (baseline: limit)" "$useful" $LIMIT calls
        if [ "$mode" = shared ]; then
            bench_result budget "N=$n $mode: rejected (429) calls" "$rej" - calls "0" \
                "$([ "$rej" = 0 ] && echo yes || echo no)"
        else
            bench_result budget "N=$n $mode: rejected (429) calls" "$rej" - calls
        fi
    done
done
