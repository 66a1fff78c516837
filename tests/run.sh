#!/usr/bin/env bash
# tests/run.sh — omnisync's whole test suite (what `make test` runs).
#
# Usage: tests/run.sh [--unit-only] [--no-unit] [--no-san] [--results DIR]
#                     [PATTERN...]
#   1. unit tests build/std/tests/test_* (one per tests/unit/test_*.c);
#      logs in build/test-results/<date>-<pid>/ (build/test-results/latest)
#   2. the same unit tests built with SANITIZER=address,undefined
#      (build/san/tests/test_*), skipped with --no-san;
#   3. the harness (tests/harness/lib.sh: Postgres, Redis, Kafka) started
#      once, then every tests/integration/*/NN-*.sh in order, then
#      tests/deploy/NN-*.sh (the area `deploy`: the container image), only
#      those whose path contains one of the PATTERNs when given, each with
#      a fresh database, a timeout and its output in the results dir.
# The last line is "N passed, N failed"; the exit status is 0 only when
# nothing failed.
#
# Env: OMNISYNC_TEST_TIMEOUT (seconds per script, default 600),
# OMNISYNC_TEST_KAFKA (real|mock|external), OMNISYNC_TEST_PG,
# OMNISYNC_TEST_REDIS, HARNESS_KEEP=1 (keep the harness temp dir).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

UNIT=1
SAN=1
INTEG=1
RESULTS=
PATTERNS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --unit-only) INTEG=0 ;;
    --no-unit) UNIT=0 SAN=0 ;;
    --no-san) SAN=0 ;;
    --results)
        RESULTS=$2
        shift
        ;;
    -h | --help)
        sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "run.sh: unknown option $1" >&2
        exit 2
        ;;
    *) PATTERNS+=("$1") ;;
    esac
    shift
done

TIMEOUT=${OMNISYNC_TEST_TIMEOUT:-600}
if [ -z "$RESULTS" ]; then
    # One dir per run (several runs may share the tree); keep the last 10.
    mkdir -p "$ROOT/build/test-results"
    RESULTS=$ROOT/build/test-results/$(date +%Y%m%d-%H%M%S)-$$
    ls -1dt "$ROOT"/build/test-results/2*-* 2>/dev/null | tail -n +10 |
        xargs -r rm -rf
    mkdir -p "$RESULTS"
    ln -sfn "$(basename "$RESULTS")" "$ROOT/build/test-results/latest"
else
    rm -rf "$RESULTS"
    mkdir -p "$RESULTS"
fi

PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()

note() { echo "# $*"; }

# count_unit LABEL BINARY: run one unit binary, add its counts.
count_unit() {
    local label=$1 bin=$2 log rc=0 line p f
    log=$RESULTS/unit-$label-$(basename "$bin").log
    (cd "$ROOT" && timeout -k 10 "${OMNISYNC_UNIT_TIMEOUT:-300}" "$bin") \
        </dev/null >"$log" 2>&1 || rc=$?
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    p=$(printf '%s' "$line" | sed -nE 's/.*(^|[^0-9])([0-9]+) passed, ([0-9]+) failed.*/\2/p')
    f=$(printf '%s' "$line" | sed -nE 's/.*(^|[^0-9])([0-9]+) passed, ([0-9]+) failed.*/\3/p')
    p=${p:-0}
    f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed, timed out or failed without saying so
    fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [ "$f" -ne 0 ]; then
        FAILURES+=("$label $(basename "$bin")")
        echo "not ok - $label $(basename "$bin"): $p passed, $f failed (exit $rc)"
        sed 's/^/#   /' "$log" | tail -40
    else
        echo "ok - $label $(basename "$bin"): $p passed"
    fi
}

unit_names() {
    local s
    for s in tests/unit/test_*.c; do
        [ -e "$s" ] || continue
        s=${s#tests/unit/}
        echo "${s%.c}"
    done
}

# lsan_works: LeakSanitizer needs ptrace-like powers some sandboxes lack.
lsan_works() {
    local d=$RESULTS/lsan-probe out
    mkdir -p "$d"
    printf '#include <stdlib.h>\nint main(void){void *volatile p = malloc(7); p = 0; (void)p; return 0;}\n' >"$d/p.c"
    cc -fsanitize=address -g "$d/p.c" -o "$d/p" 2>/dev/null || return 1
    out=$(ASAN_OPTIONS=detect_leaks=1 "$d/p" 2>&1)
    printf '%s' "$out" | grep -q 'detected memory leaks'
}

run_units() { # DIR LABEL
    local dir=$1 label=$2 n
    for n in $(unit_names); do
        if [ -x "$dir/$n" ]; then
            count_unit "$label" "$dir/$n"
        else
            FAILED=$((FAILED + 1))
            FAILURES+=("$label $n (not built)")
            echo "not ok - $label $n: not built"
        fi
    done
}

# ------------------------------------------------------------------- build
if [ -z "${MAKELEVEL:-}" ]; then
    # Run by hand: build first (make test already did).
    if ! make -s -j2 all >"$RESULTS/build.log" 2>&1; then
        echo "not ok - make all"
        sed 's/^/#   /' "$RESULTS/build.log" | tail -30
        FAILED=$((FAILED + 1))
        FAILURES+=("make all")
    fi
fi

# ------------------------------------------------------------------- units
if [ $UNIT -eq 1 ]; then
    note "unit tests (build/std/tests)"
    run_units build/std/tests std
fi

if [ $SAN -eq 1 ] && [ -n "$(unit_names)" ]; then
    note "unit tests under ASan/UBSan (build/san/tests)"
    targets=$(unit_names | sed 's#^#build/san/tests/#')
    # shellcheck disable=SC2086
    if make -s -j2 SANITIZER=address,undefined $targets >"$RESULTS/build-san.log" 2>&1; then
        if lsan_works; then
            leaks=1
        else
            leaks=0
            note "LeakSanitizer does not work in this sandbox (ptrace); running with detect_leaks=0"
        fi
        ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=0:strict_string_checks=1" \
            UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
            run_units build/san/tests san
    else
        echo "not ok - make SANITIZER=address,undefined (unit tests)"
        sed 's/^/#   /' "$RESULTS/build-san.log" | tail -30
        FAILED=$((FAILED + 1))
        FAILURES+=("sanitizer build")
    fi
fi

# ------------------------------------------------------------- integration
SCRIPTS=()
if [ $INTEG -eq 1 ]; then
    # NN-name.sh are the scripts; other .sh files there are their helpers.
    for s in tests/integration/*/[0-9]*.sh tests/deploy/[0-9]*.sh; do
        [ -f "$s" ] || continue
        if [ ${#PATTERNS[@]} -gt 0 ]; then
            m=0
            for p in "${PATTERNS[@]}"; do
                case "$s" in *"$p"*) m=1 ;; esac
            done
            [ $m -eq 1 ] || continue
        fi
        SCRIPTS+=("$s")
    done
    if [ ${#PATTERNS[@]} -gt 0 ] && [ ${#SCRIPTS[@]} -eq 0 ]; then
        echo "not ok - no integration script matches: ${PATTERNS[*]}"
        FAILED=$((FAILED + 1))
    fi
fi

run_script() { # SCRIPT
    local s=$1 rel name log rc=0 p f k t0 db tpid
    rel=${s#tests/integration/}
    rel=${rel#tests/} # tests/deploy/NN-x.sh: deploy/NN-x.sh
    name=${rel%.sh}
    log=$RESULTS/integration/$name.log
    mkdir -p "$(dirname "$log")" "$RESULTS/tmp/$name"
    note "---- $rel"
    if ! harness_ensure; then
        echo "not ok - $rel: the harness servers cannot be restarted"
        FAILED=$((FAILED + 1))
        FAILURES+=("$rel (harness)")
        return
    fi
    if grep -q '^# harness: fresh-kafka' "$s"; then
        harness_kafka_reset >/dev/null || {
            echo "not ok - $rel: cannot reset Kafka"
            FAILED=$((FAILED + 1))
            FAILURES+=("$rel (kafka reset)")
            return
        }
    fi
    if ! db=$(harness_new_db "t_${name//\//_}"); then
        echo "not ok - $rel: cannot create its database"
        FAILED=$((FAILED + 1))
        FAILURES+=("$rel (database)")
        return
    fi
    t0=$SECONDS
    # timeout puts the script in its own process group: whatever the script
    # leaves running is killed with the group afterwards.  The output goes
    # to the log and is echoed live (tail stops when the script ends, even
    # if a leftover process still holds the log open).
    : >"$log"
    OMNISYNC_PG=$db TEST_TMPDIR=$RESULTS/tmp/$name TEST_NAME=$name TEST_LOG=$log \
        timeout -k 15 "$TIMEOUT" bash "$s" </dev/null >"$log" 2>&1 &
    tpid=$!
    tail -n +1 -s 0.2 -f --pid="$tpid" "$log"
    wait "$tpid"
    rc=$?
    kill -TERM -- "-$tpid" 2>/dev/null && sleep 1 && kill -KILL -- "-$tpid" 2>/dev/null
    p=$(grep -aE '^ok ' "$log" | grep -acvE '# *SKIP')
    k=$(grep -aE '^ok ' "$log" | grep -acE '# *SKIP')
    f=$(grep -acE '^not ok ' "$log")
    if [ ! -f "$log" ]; then
        echo "not ok - $rel: its log $log disappeared"
        p=0 k=0 f=1
    fi
    p=${p:-0} k=${k:-0} f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            echo "not ok - $rel: timed out after $TIMEOUT s"
        else
            echo "not ok - $rel: exited with status $rc"
        fi
    elif [ "$rc" -eq 0 ] && [ $((p + k + f)) -eq 0 ]; then
        f=1
        echo "not ok - $rel: ran no test"
    fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    SKIPPED=$((SKIPPED + k))
    [ "$f" -ne 0 ] && FAILURES+=("$rel")
    note "$rel: $p passed, $f failed, $k skipped ($((SECONDS - t0)) s, exit $rc)"
}

if [ ${#SCRIPTS[@]} -gt 0 ]; then
    # shellcheck source=harness/lib.sh
    . "$ROOT/tests/harness/lib.sh"
    note "starting the harness"
    if harness_start pg redis kafka; then
        for s in "${SCRIPTS[@]}"; do
            run_script "$s"
        done
    else
        echo "not ok - harness start (Postgres, Redis, Kafka)"
        for d in "$HARNESS_LOGDIR"/*.log; do
            [ -f "$d" ] || continue
            note "$(basename "$d"):"
            tail -15 "$d" | sed 's/^/#   /'
        done
        FAILED=$((FAILED + 1))
        FAILURES+=("harness start")
    fi
    harness_cleanup
fi

if [ ${#FAILURES[@]} -gt 0 ]; then
    note "failed:"
    for f in "${FAILURES[@]}"; do
        note "  $f"
    done
fi
[ "$SKIPPED" -gt 0 ] && note "$SKIPPED skipped"
note "logs in $RESULTS"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
