#!/usr/bin/env bash
# bench/part-orders.sh — orders first.
#   1. Order intake (bench/order-latency.sh): webhook received ->
#      reservation committed, p50/p99, idle and while photos saturate the
#      store's budget; baseline: orders_apply() directly (no HTTP/Kafka).
#   2. An order's store calls: the token wait p99 of an orders caller at
#      4 calls/s while 6 image threads saturate a 50 per 5 s budget, with
#      the orders headroom and paced bulk classes (docs/budget.md "Orders
#      first") vs without them (the baseline), and the image calls each
#      way (the trade-off).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
N=$(bench_tiny 300 30)
for sat in "" 1; do
    out=$(BENCH_ORDERS=$N BENCH_SATURATE=$sat bash "$ROOT/bench/order-latency.sh" 2>&1) ||
        { echo "$out" | tail -5; exit 1; }
    echo "$out"
    f=$(grep 'full path' <<<"$out") b=$(grep 'baseline (direct' <<<"$out")
    f50=$(sed -nE 's/.*p50 ([0-9.]+) ms.*/\1/p' <<<"$f") f99=$(sed -nE 's/.*p99 ([0-9.]+) ms.*/\1/p' <<<"$f")
    b50=$(sed -nE 's/.*p50 ([0-9.]+) ms.*/\1/p' <<<"$b") b99=$(sed -nE 's/.*p99 ([0-9.]+) ms.*/\1/p' <<<"$b")
    tag=idle
    [ -n "$sat" ] && tag="photos saturating"
    bench_result orders "intake->reserved p50 ms, $tag (baseline: direct apply)" "$f50" "$b50" ms
    bench_result orders "intake->reserved p99 ms, $tag (baseline: direct apply)" "$f99" "$b99" ms \
        "< 1000" "$(python3 -c "print('yes' if $f99 < 1000 else 'no')")"
done

# 2. token waits with and without orders first.
make -s -C "$ROOT" bin/store-sim build/std/tools/budget-hammer >/dev/null || exit 1
. "$ROOT/tests/harness/lib.sh"
harness_start redis >/dev/null || exit 1
DUR=$(bench_tiny 23 8)
PW=bench-orders-pw
W=$(mktemp -d)
cleanup() { bench_sim_stop; rm -rf "$W"; harness_cleanup; }
trap cleanup EXIT
bench_sim_start "$PW" 50 5 || { echo "bench: store-sim did not start" >&2; exit 1; }
port=$BENCH_SIM_PORT
H="$ROOT/build/std/tools/budget-hammer --url http://127.0.0.1:$port --login bench --limit 50 --window 5"
for m in on off; do
    flags="--orders-headroom-pct 125 --pace-bulk 1"
    [ $m = off ] && flags="--orders-headroom-pct 0 --pace-bulk 0"
    # shellcheck disable=SC2086
    OMNISYNC_STORE_PASSWORD=$PW $H --store "bo-$m-$$" --class images --threads 6 \
        --duration $((DUR + 1)) $flags >"$W/img-$m.json" 2>/dev/null &
    ip=$!
    sleep 0.3
    # shellcheck disable=SC2086
    OMNISYNC_STORE_PASSWORD=$PW $H --store "bo-$m-$$" --class orders --threads 1 \
        --interval-ms 250 --duration "$DUR" $flags >"$W/ord-$m.json" 2>/dev/null
    wait $ip
done
on=$(jq .wait_p99_ms "$W/ord-on.json") off=$(jq .wait_p99_ms "$W/ord-off.json")
bench_result orders "orders token wait p99 ms, photos saturating (baseline: no orders-first)" \
    "$on" "$off" ms "< 1000" "$(python3 -c "print('yes' if $on < 1000 else 'no')")"
bench_result orders "image calls with orders first (baseline: without)" \
    "$(jq .ok "$W/img-on.json")" "$(jq .ok "$W/img-off.json")" calls
bench_result orders "orders calls with orders first (baseline: without)" \
    "$(jq .ok "$W/ord-on.json")" "$(jq .ok "$W/ord-off.json")" calls
