#!/usr/bin/env bash
# bench/part-scale.sh — image-uploader scale-out: photos uploaded per
# second with 1, 2 and 4 replicas in one consumer group against a
# store-sim that answers every request after LAT ms (its latency fault),
# the limit high enough not to bind (latency-bound); the ratio to one
# replica.  Each replica count runs on its own fresh stack: the catalog's
# products are created first (no image-uploader), then the latency is set,
# the replicas start, and the clock runs from the first photo recorded
# until every photo is.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
if [ "${1:-}" != --one ]; then
    make -s -C "$ROOT" all >/dev/null || exit 1
    rs=$(bench_tiny "1 2 4" "1 2")
    base=
    for r in $rs; do
        rate=$(bash "$0" --one "$r" | tail -1)
        case $rate in '' | *[!0-9.]*) echo "bench: scale-out with $r replicas failed" >&2; exit 1 ;; esac
        [ -z "$base" ] && base=$rate
        met=-
        [ "$r" = 2 ] && met=$(python3 -c "print('yes' if $rate >= 1.8 * $base else 'no')")
        bench_result scale "$r replica(s): photos/s, latency-bound (baseline: 1 replica)" \
            "$rate" "$base" "photos/s" "$([ "$r" = 2 ] && echo '>= 1.8x' || echo -)" "$met"
    done
    exit 0
fi
R=$2
NPH=$(bench_tiny 240 40)
LAT=${BENCH_SCALE_LATENCY_MS:-100}
. "$ROOT/tests/harness/lib.sh"
harness_start >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
. "$ROOT/tests/integration/images/images-lib.bash"
CAT_IMGUP=0
CAT_LIMIT=100000 CAT_WINDOW=5
img_setup $((NPH / 3)) $((NPH / 3)) "$NPH" >/dev/null
omnisync sync initial "$CAT_STORE" --no-wait >/dev/null 2>&1 || exit 1
products() { [ "$(sql "SELECT count(*) FROM remote_map WHERE entity = 'product'")" -ge $((NPH / 3)) ]; }
wait_for 300 products || { echo "bench: products not created" >&2; exit 1; }
curl -sf -X POST -H 'Content-Type: application/json' -d "{\"latency_ms\":$LAT}" \
    "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null || exit 1
for i in $(seq "$R"); do img_uploader_start "up$i" -o log.level=warn; done
# The clock starts at the first photo recorded: the replicas' start and
# group join are not the upload throughput.
recorded() { sql "SELECT count(*) FROM remote_map WHERE entity = 'image' AND remote_id > 0"; }
first() { [ "$(recorded)" -ge 1 ]; }
wait_for 120 first || { echo "bench: no photo recorded" >&2; exit 1; }
n0=$(recorded)
t0=$(date +%s.%N)
wait_for 600 img_all_recorded || { echo "bench: photos not all recorded" >&2; exit 1; }
secs=$(echo "$(date +%s.%N) - $t0" | bc)
echo "scale: $R replica(s), $NPH photos, latency $LAT ms: $((NPH - n0)) in $secs s" >&2
python3 -c "print(round(($NPH - $n0) / $secs, 2))"
T_DONE=1
