# shellcheck shell=bash
# tests/harness/tap.sh — TAP helpers for integration test scripts.
#
#   . "$OMNISYNC_ROOT/tests/harness/tap.sh"
#   t_ok   "relay starts"        some_command --flag       # ok if exit 0
#   t_is   "row count"           "$(psql ... -tAc ...)" 3
#   t_like "error names the row" "$out" 'line 3'
#   t_done                                                 # last line
#
# Output: "ok N - name" / "not ok N - name" (with got/expected as "# "
# lines on failure), "ok N - name # SKIP reason" for skips, and at the end
# "# N passed, N failed" (t_done exits 1 when anything failed or no test
# ran).  tests/run.sh counts the ok / not ok lines.  Every assertion
# returns its result, so under `set -e` the first failure ends the script
# (reported, and counted as a failure); add `|| true` to go on.
#
# Also: t_unlike, t_pass, t_fail, t_skip, t_diag, t_bail, wait_for,
# free_port, t_bg / t_kill (background processes killed at exit),
# t_cleanup_add (run at exit; use it instead of `trap ... EXIT`), $T_TMP (a
# per-script temp dir removed at exit), and Test::More-style aliases
# ok / is / like / diag / done_testing whose NAME comes last.

T_N=0
T_PASS=0
T_FAIL=0
T_SKIP=0
T_DONE=0
T_CLEANUPS=()
declare -A T_BG_PIDS=()
if [ -n "${TEST_TMPDIR:-}" ]; then
    T_TMP=$TEST_TMPDIR
    mkdir -p "$T_TMP"
else
    T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/omnisync-test.XXXXXX")
    T_CLEANUPS+=("rm -rf '$T_TMP'")
fi
export T_TMP
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

_t_report() { # STATUS(0/1) NAME [DIAG...]
    local st=$1 name=$2
    shift 2
    T_N=$((T_N + 1))
    if [ "$st" -eq 0 ]; then
        T_PASS=$((T_PASS + 1))
        echo "ok $T_N - $name"
    else
        T_FAIL=$((T_FAIL + 1))
        echo "not ok $T_N - $name"
        local l
        for l in "$@"; do
            printf '%s\n' "$l" | sed 's/^/#   /'
        done
    fi
    return "$st"
}

# t_ok NAME CMD...: ok when CMD exits 0; its output is shown on failure.
t_ok() {
    local name=$1 out rc=0
    shift
    out=$("$@" 2>&1) || rc=$?
    if [ $rc -eq 0 ]; then
        _t_report 0 "$name"
    else
        _t_report 1 "$name" "command: $*" "exit status: $rc" \
            "$(printf '%s\n' "$out" | tail -20)" || true
        return 1
    fi
}

# t_nok NAME CMD...: ok when CMD exits non-zero.
t_nok() {
    local name=$1 out rc=0
    shift
    out=$("$@" 2>&1) || rc=$?
    if [ $rc -ne 0 ]; then
        _t_report 0 "$name"
    else
        _t_report 1 "$name" "command: $*" "expected failure, got exit 0" \
            "$(printf '%s\n' "$out" | tail -20)" || true
        return 1
    fi
}

# t_is NAME GOT WANT: string equality.
t_is() {
    if [ "$2" = "$3" ]; then
        _t_report 0 "$1"
    else
        _t_report 1 "$1" "     got: '$2'" "expected: '$3'" || true
        return 1
    fi
}

# t_isnt NAME GOT UNWANTED
t_isnt() {
    if [ "$2" != "$3" ]; then
        _t_report 0 "$1"
    else
        _t_report 1 "$1" "     got: '$2'" "expected anything else" || true
        return 1
    fi
}

# t_like NAME GOT REGEX: bash extended regex match ([[ =~ ]]).
t_like() {
    if [[ $2 =~ $3 ]]; then
        _t_report 0 "$1"
    else
        _t_report 1 "$1" "     got: '$2'" "expected to match: /$3/" || true
        return 1
    fi
}

# t_unlike NAME GOT REGEX
t_unlike() {
    if [[ ! $2 =~ $3 ]]; then
        _t_report 0 "$1"
    else
        _t_report 1 "$1" "     got: '$2'" "expected not to match: /$3/" || true
        return 1
    fi
}

t_pass() { _t_report 0 "$1"; }

# t_fail NAME [DIAG...]
t_fail() {
    _t_report 1 "$@" || true
    return 1
}

# t_skip NAME REASON: a test that cannot run here (counted as skipped).
t_skip() {
    T_N=$((T_N + 1))
    T_SKIP=$((T_SKIP + 1))
    echo "ok $T_N - $1 # SKIP ${2:-}"
}

t_diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# t_bail MSG: stop the script now (counts as a failure).
t_bail() {
    echo "Bail out! $*"
    T_FAIL=$((T_FAIL + 1))
    exit 1
}

# t_done: print the summary; exit 1 when anything failed or nothing ran.
t_done() {
    T_DONE=1
    local sk=
    [ "$T_SKIP" -gt 0 ] && sk=", $T_SKIP skipped"
    echo "# $T_PASS passed, $T_FAIL failed$sk"
    if [ "$T_FAIL" -ne 0 ] || [ "$T_N" -eq 0 ]; then
        [ "$T_N" -eq 0 ] && echo "# no test ran"
        exit 1
    fi
    exit 0
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 on
# timeout.
wait_for() {
    local secs=$1 end
    shift
    end=$(($(date +%s%N) / 1000000 + secs * 1000))
    until "$@" >/dev/null 2>&1; do
        [ $(($(date +%s%N) / 1000000)) -ge "$end" ] && return 1
        sleep 0.1
    done
    return 0
}

# free_port: a free TCP port on 127.0.0.1 (see harness_free_port).
free_port() {
    if declare -F harness_free_port >/dev/null; then
        harness_free_port
        return
    fi
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# t_bg NAME CMD...: start CMD in the background, output to $T_TMP/NAME.log;
# its pid is in T_BG_PIDS[NAME] and printed by t_pid NAME.  Killed at exit.
# CMD is not a job of the calling shell (a small waiter process records its
# exit status, which t_kill returns), so use t_kill / t_wait, not `wait`.
t_bg() {
    local name=$1 i
    shift
    rm -f "$T_TMP/.$name.pid" "$T_TMP/.$name.rc"
    (
        T_LOG=$T_TMP/$name.log T_PF=$T_TMP/.$name.pid T_RC=$T_TMP/.$name.rc \
            bash -c '"$@" </dev/null >>"$T_LOG" 2>&1 &
                echo $! >"$T_PF"
                wait $!
                echo $? >"$T_RC.tmp" && mv "$T_RC.tmp" "$T_RC"' t_bg "$@" \
            </dev/null >/dev/null 2>&1 &
    )
    for ((i = 0; i < 500; i++)); do
        [ -s "$T_TMP/.$name.pid" ] && break
        sleep 0.01
    done
    T_BG_PIDS[$name]=$(<"$T_TMP/.$name.pid")
}

t_pid() { echo "${T_BG_PIDS[$1]:-}"; }

# t_wait NAME [SECONDS]: wait (default 60 s) for a t_bg process to exit by
# itself; returns its exit status, or 124 on timeout (it keeps running).
t_wait() {
    local rcf=$T_TMP/.$1.rc i
    [ -n "${T_BG_PIDS[$1]:-}" ] || return 127
    for ((i = 0; i < ${2:-60} * 20; i++)); do
        if [ -s "$rcf" ]; then
            unset "T_BG_PIDS[$1]"
            return "$(<"$rcf")"
        fi
        sleep 0.05
    done
    return 124
}

# t_kill NAME [SIG]: signal a t_bg process (TERM by default) and wait for
# it (up to 15 s, then KILL).  Returns its exit status (128+N for signal N).
t_kill() {
    local pid=${T_BG_PIDS[$1]:-} sig=${2:-TERM} rc
    [ -n "$pid" ] || return 0
    kill -s "$sig" "$pid" 2>/dev/null
    t_wait "$1" 15
    rc=$?
    if [ $rc -eq 124 ]; then
        kill -KILL "$pid" 2>/dev/null
        t_wait "$1" 5
        rc=$?
    fi
    return $rc
}

# t_cleanup_add CMD: eval CMD at exit (in reverse order of adding).
t_cleanup_add() { T_CLEANUPS+=("$1"); }

_t_exit() {
    local rc=$? i n
    set +e
    # Stop what t_bg started: TERM, up to 5 s, then KILL.
    {
        local pids=("${T_BG_PIDS[@]}") p
        if [ ${#pids[@]} -gt 0 ]; then
            kill -TERM "${pids[@]}"
            for ((i = 0; i < 50; i++)); do
                n=0
                for p in "${pids[@]}"; do
                    kill -0 "$p" && n=1
                done
                [ $n -eq 0 ] && break
                sleep 0.1
            done
            [ $n -eq 1 ] && kill -KILL "${pids[@]}"
        fi
    } >/dev/null 2>&1
    for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${T_CLEANUPS[$i]}"
    done
    if [ "$T_DONE" -eq 0 ] && [ "$T_N" -gt 0 ]; then
        echo "# $T_PASS passed, $T_FAIL failed (script ended without t_done, status $rc)"
    fi
    exit $rc
}
# Keep an EXIT trap set before (e.g. harness_start's): run it before ours.
_t_prev_exit=$(trap -p EXIT | sed -n "s/^trap -- '\(.*\)' EXIT\$/\1/p")
trap "${_t_prev_exit:+$_t_prev_exit; }_t_exit" EXIT

# Test::More-style aliases (NAME last): ok CMD... NAME, is GOT WANT NAME,
# like GOT REGEX NAME, isnt GOT UNWANTED NAME.
ok() {
    local name=${!#}
    t_ok "$name" "${@:1:$#-1}"
}
is() { t_is "$3" "$1" "$2"; }
isnt() { t_isnt "$3" "$1" "$2"; }
like() { t_like "$3" "$1" "$2"; }
unlike() { t_unlike "$3" "$1" "$2"; }
diag() { t_diag "$@"; }
pass() { t_pass "$@"; }
fail() { t_fail "$@"; }
done_testing() { t_done; }
