#!/usr/bin/env bash
# tests/valgrind.sh — `make valgrind`: run omnisync's programs under
# valgrind (memcheck; definite leaks and memory errors fail) against the
# harness's real servers:
#   bin/omnisync --help
#   bin/omnisync db migrate, then location add and location list
#   bin/outbox-relay for ~5 s, then SIGTERM (graceful shutdown path)
#   bin/devkafka --help, and hosting the mock cluster for 2 s
# A program not built yet is skipped (printed as SKIP).  Last line:
# "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=harness/lib.sh
. "$ROOT/tests/harness/lib.sh"
# shellcheck source=harness/tap.sh
. "$ROOT/tests/harness/tap.sh"

command -v valgrind >/dev/null || t_bail "valgrind is not installed (deploy/install-deps.sh)"
VG=(valgrind --quiet --leak-check=full --error-exitcode=3
    --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --track-origins=yes --num-callers=30)

# vg NAME EXPECTED_STATUS CMD...: run CMD under valgrind; ok when it exits
# with EXPECTED_STATUS and valgrind reports no error (status 3).
vg() {
    local name=$1 want=$2 log rc=0
    shift 2
    log=$T_TMP/$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '_').log
    "${VG[@]}" --log-file="$log.vg" "$@" >"$log" 2>&1 </dev/null || rc=$?
    if [ "$rc" -eq "$want" ] && [ ! -s "$log.vg" ]; then
        t_pass "valgrind: $name"
    else
        t_fail "valgrind: $name" "exit $rc (want $want)" \
            "$(tail -60 "$log.vg" 2>/dev/null)" "$(tail -10 "$log")" || true
    fi
}

need() { # NAME: t_skip when bin/NAME is missing
    [ -x "bin/$1" ] && return 0
    t_skip "valgrind: bin/$1" "bin/$1 not built yet"
    return 1
}

if need devkafka; then
    vg "devkafka --help" 0 bin/devkafka --help
fi
if need omnisync; then
    vg "omnisync --help" 0 bin/omnisync --help
fi

if [ -x bin/omnisync ] || [ -x bin/outbox-relay ]; then
    harness_start pg kafka >"$T_TMP/harness.log" 2>&1 || {
        cat "$T_TMP/harness.log"
        t_bail "cannot start the harness"
    }
    t_diag "$(cat "$T_TMP/harness.log")"
fi

if [ -x bin/omnisync ]; then
    if bin/omnisync db migrate >"$T_TMP/migrate.log" 2>&1; then
        vg "omnisync location add" 0 bin/omnisync location add VG1 \
            --kind warehouse --name "Valgrind warehouse"
        vg "omnisync location list" 0 bin/omnisync location list
        vg "omnisync pricelist add" 0 bin/omnisync pricelist add VGPL
        vg "omnisync import catalog" 0 bin/omnisync import catalog \
            tests/fixtures/catalog/small.csv --price-list VGPL
        vg "omnisync import catalog (bad rows)" 2 bin/omnisync import catalog \
            tests/fixtures/catalog/bad3.csv --price-list VGPL
        # SH-1-RED-M is the first SKU of tests/fixtures/catalog/small.csv.
        vg "omnisync stock receipt" 0 bin/omnisync stock receipt VG1 \
            SH-1-RED-M 5 --ref vg-1
        vg "omnisync stock show --json" 0 bin/omnisync stock show --json
        vg "omnisync status" 0 bin/omnisync status
        vg "omnisync db migrate (again, a no-op)" 0 bin/omnisync db migrate
    else
        t_fail "omnisync db migrate (before valgrind runs)" "$(tail -5 "$T_TMP/migrate.log")" || true
    fi
fi

# vg_service NAME SECONDS CMD...: run a long-lived program under valgrind
# for SECONDS, stop it with SIGTERM; ok when it exits 0 with no error.
vg_service() {
    local name=$1 secs=$2 log pid rc=0
    shift 2
    log=$T_TMP/$name.log
    "${VG[@]}" --log-file="$log.vg" "$@" >"$log" 2>&1 </dev/null &
    pid=$!
    sleep "$secs"
    {
        kill -TERM "$pid"
        for _ in $(seq 1 300); do
            kill -0 "$pid" || break
            sleep 0.1
        done
        kill -0 "$pid" && kill -KILL "$pid"
        wait "$pid" || rc=$?
    } 2>/dev/null
    if [ "$rc" -eq 0 ] && [ ! -s "$log.vg" ]; then
        t_pass "valgrind: $name runs ${secs} s and stops on SIGTERM"
    else
        t_fail "valgrind: $name runs ${secs} s and stops on SIGTERM" "exit $rc" \
            "$(tail -60 "$log.vg" 2>/dev/null)" "$(tail -10 "$log")" || true
    fi
}

if need outbox-relay; then
    vg_service outbox-relay "${VALGRIND_SERVICE_SECONDS:-5}" bin/outbox-relay
fi
if [ -x bin/devkafka ]; then
    vg_service "devkafka (mock cluster)" 2 bin/devkafka
fi

harness_cleanup 2>/dev/null || true
echo "# $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
T_DONE=1
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
