#!/usr/bin/env bash
# tests/fuzz/run.sh — run the libFuzzer programs of build/fuzz/bin/.
#
# Usage: tests/fuzz/run.sh [--seconds N] [--jobs J] [TARGET...]
#   Each TARGET (default: every build/fuzz/bin/fuzz_*) runs for N seconds
#   (default 60) with J workers (default 1), starting from its committed
#   seeds tests/fuzz/corpus/<target>/ (read only: every seed, regression
#   inputs of fixed crashes included, runs first) and its working corpus
#   build/fuzz/corpus/<target>/ (what it found, kept between runs), with
#   the dictionary tests/fuzz/<target>.dict when there is one.  A
#   crash, leak, timeout or sanitizer report is written to
#   build/fuzz/crashes/<target>/ and printed as "CRASH <target>: <path>".
#   The log of each run is build/fuzz/logs/<target>.log; a line per target
#   gives its executions, executions/s and corpus size.
# Exit status: 0 when no target crashed, 1 when one did, 2 on usage errors
# (a target not built: make fuzz-build).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FZ=$ROOT/build/fuzz
SECONDS_EACH=60
JOBS=1
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds)
        SECONDS_EACH=${2:-}
        shift
        ;;
    --jobs)
        JOBS=${2:-}
        shift
        ;;
    -h | --help)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "fuzz: unknown option $1" >&2
        exit 2
        ;;
    *) TARGETS+=("$1") ;;
    esac
    shift
done
case "$SECONDS_EACH$JOBS" in
'' | *[!0-9]*)
    echo "fuzz: --seconds and --jobs take a positive number" >&2
    exit 2
    ;;
esac
if [ ${#TARGETS[@]} -eq 0 ]; then
    for b in "$FZ"/bin/fuzz_*; do
        [ -x "$b" ] && TARGETS+=("${b##*/fuzz_}")
    done
fi
if [ ${#TARGETS[@]} -eq 0 ]; then
    echo "fuzz: no target built in $FZ/bin (make fuzz-build)" >&2
    exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
crashed=0
for t in "${TARGETS[@]}"; do
    bin=$FZ/bin/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin is not built (make fuzz-build)" >&2
        exit 2
    fi
    seeds=$ROOT/tests/fuzz/corpus/$t
    work=$FZ/corpus/$t
    art=$FZ/crashes/$t
    log=$FZ/logs/$t.log
    mkdir -p "$work" "$art" "$FZ/logs"
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    before=$(find "$art" -type f | wc -l)
    opts=(-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/")
    [ -f "$ROOT/tests/fuzz/$t.dict" ] && opts+=(-dict="$ROOT/tests/fuzz/$t.dict")
    if [ "$JOBS" -gt 1 ]; then
        opts+=(-fork="$JOBS" -ignore_crashes=0)
    fi
    : >"$log.start"
    # The first directory receives new inputs; the seeds are only read.
    "$bin" "${opts[@]}" "${dirs[@]}" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    ncorp=$(find "$work" -type f | wc -l)
    after=$(find "$art" -type f | wc -l)
    if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
        crashed=1
        found=0
        while IFS= read -r f; do
            echo "CRASH $t: $f"
            found=1
        done < <(find "$art" -type f -newer "$log.start" 2>/dev/null)
        [ "$found" -eq 0 ] &&
            echo "CRASH $t: exit $rc, no input saved (see $log)"
        grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" |
            sed "s/^/  $t: /"
    fi
    echo "fuzz $t: ${execs:-?} executions, ${rate:-?} exec/s, $ncorp inputs in $work, exit $rc"
done
exit $crashed
