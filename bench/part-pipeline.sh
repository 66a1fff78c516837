#!/usr/bin/env bash
# bench/part-pipeline.sh — events/s from ledger commit to store acceptance
# with the store's limit off, against the same broker's raw produce +
# consume of as many messages of the same size (bench/kraw.c: librdkafka
# only, acks=all, a group joined before the first message).
#
# The pipeline: MOVES movements over 1,000 variants are committed while
# outbox-relay is stopped (stock-publisher runs, joined), and their stock
# events are committed COPIES more times in id order (so the last event
# of each variant is still its latest state: a stream COPIES+1 times as
# long without waiting for move-burst); then the relay starts and the
# clock runs until store-sim equals the ledger.  Events = those stock
# outbox rows.  Also reported: the peak
# RSS (VmHWM) of outbox-relay and stock-publisher under that load.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
MOVES=$(bench_tiny 5000 300)
COPIES=$(bench_tiny 9 1)
make -s -C "$ROOT" bin/omnisync bin/stock-publisher bin/outbox-relay bin/store-sim \
    build/std/tools/move-burst build/std/tools/kraw >/dev/null || exit 1
. "$ROOT/tests/harness/lib.sh"
harness_start >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
. "$ROOT/tests/integration/stock/stock-lib.bash"
PATH=$ROOT/build/std/tools:$PATH

STORE="pipe$$"
st_ledger 100 10 >/dev/null
st_sim sim --limit 0 --group-update sync
st_store "$STORE" sim WEB1 WH1 --api-limit 1000000 --api-window 1
st_prefill "$STORE" sim
st_relay relay0
wait_for 60 st_drained || { echo "bench: relay did not drain" >&2; exit 1; }
t_kill relay0 >/dev/null
st_pub pub
# Joined and idle: one change end to end first (relay briefly up).
sql "SELECT 1" >/dev/null
omnisync stock receipt WH1 STK-0001-01 1 >/dev/null 2>&1
st_relay relay1
wait_for 60 st_compare "$STORE" sim >/dev/null || { echo "bench: warm-up did not converge" >&2; exit 1; }
t_kill relay1 >/dev/null
before=$(sql "SELECT coalesce(max(id), 0) FROM outbox")
move-burst --location WH1 --sku-like 'STK-%' --variants 1000 --moves "$MOVES" \
    --kinds receipt,sale --workers 2 --seed 9 >/dev/null || exit 1
orig=$(sql "SELECT count(*) FROM outbox WHERE id > $before")
for _ in $(seq "$COPIES"); do
    sql "INSERT INTO outbox (topic, type, key, store, data)
         SELECT topic, type, key, store, data FROM outbox
          WHERE id > $before ORDER BY id LIMIT $orig" >/dev/null
done
events=$(sql "SELECT count(*) FROM outbox WHERE id > $before AND topic = 'omnisync.stock.v1'")
size=$(sql "SELECT coalesce(round(avg(length(data::text))) + 200, 400) FROM outbox WHERE id > $before")
pub_port=$(sed -n 's/.*http listening on [^ ]*:\([0-9][0-9]*\) (\/healthz .*/\1/p' "$T_TMP/pub.log" | tail -1)
# pub_read: stock messages stock-publisher has handled (its /metrics).
pub_read() {
    curl -s --max-time 5 "http://127.0.0.1:$pub_port/metrics" |
        sed -n 's/^omnisync_messages_consumed_total{topic="omnisync.stock.v1"} \([0-9]*\).*/\1/p'
}
read0=$(pub_read)
# cpu NAME: user+system CPU seconds of a t_bg process so far.
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/${T_BG_PIDS[$1]}/stat" 2>/dev/null; }
pub_cpu0=$(cpu pub)
t0=$(date +%s.%N)
st_relay relay2
# Stages: the relay drained the outbox, stock-publisher read every event,
# the store equals the ledger (each polled every 50 ms; the last one is
# the clock).
t_relay= t_read= n=0
while :; do
    now=$(date +%s.%N)
    [ -z "$t_relay" ] && st_drained && t_relay=$(echo "$now - $t0" | bc)
    [ -z "$t_read" ] && r=$(pub_read) && [ "$((${r:-0} - ${read0:-0}))" -ge "$events" ] && t_read=$(echo "$now - $t0" | bc)
    [ -n "$t_relay" ] && [ -n "$t_read" ] && st_compare "$STORE" sim >/dev/null 2>&1 && break
    n=$((n + 1))
    [ "$n" -gt 6000 ] && { echo "bench: no convergence" >&2; exit 1; }
    sleep 0.05
done
secs=$(echo "$(date +%s.%N) - $t0" | bc)
rate=$(python3 -c "print(round($events / $secs))")
hwm() { sed -nE 's/^VmHWM:[[:space:]]+([0-9]+) kB/\1/p' "/proc/${T_BG_PIDS[$1]}/status" 2>/dev/null; }
pub_hwm=$(hwm pub) relay_hwm=$(hwm relay2)
echo "pipeline: CPU s: outbox-relay $(cpu relay2), stock-publisher $(echo "$(cpu pub) - $pub_cpu0" | bc)"
raw=$(kraw --bootstrap "$OMNISYNC_KAFKA" --count "$events" --size "$size" --topic "kraw.$$") ||
    { echo "bench: kraw failed: $raw" >&2; exit 1; }
rawrate=$(jq .msgs_per_s <<<"$raw")
echo "pipeline: $events stock events ($MOVES movements, x$((COPIES + 1))) in $secs s (relay drained at $t_relay s, publisher read all at $t_read s); raw broker: $raw"
grep -E "stats:|caught up|round" "$T_TMP/relay2.log" | tail -3 | sed 's/^/pipeline: relay: /'
grep -E "stats:|backlog" "$T_TMP/pub.log" | tail -3 | sed 's/^/pipeline: publisher: /'
bench_result pipeline "events/s commit->store, limit off (baseline: raw produce+consume)" \
    "$rate" "$rawrate" "ev/s" ">= 50% raw" "$(python3 -c "print('yes' if $rate * 2 >= $rawrate else 'no')")"
bench_result pipeline "stock-publisher RSS peak MB under the pipeline load (baseline: 30 MB)" \
    "$(python3 -c "print(round(${pub_hwm:-0} / 1024, 1))")" 30 MB
bench_result pipeline "outbox-relay RSS peak MB under the pipeline load (baseline: 30 MB)" \
    "$(python3 -c "print(round(${relay_hwm:-0} / 1024, 1))")" 30 MB
T_DONE=1
