# sim-lib.sh — helpers for the store-sim integration scripts (sourced, not
# a test itself).  Starts store-sim / hooksink on free loopback ports in a
# temp dir, kills them on exit, and prints TAP-ish lines.
#
#   . "$(dirname "$0")/sim-lib.sh"
#   sim_start --limit 0            # sets SIM_URL, SIM_PID
#   api GET /admin/products.json   # sets ST (status), BODY (body file), HDR
#   t_ok "name" test-command...    # tests/harness/tap.sh assertions
#   t_is "name" "$actual" "$expected"
#   t_done

set -u
SIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$SIM_ROOT}
# shellcheck source=../../harness/tap.sh
. "$SIM_ROOT/tests/harness/tap.sh"
STORE_SIM_BIN=${STORE_SIM_BIN:-$SIM_ROOT/bin/store-sim}
HOOKSINK_BIN=${HOOKSINK_BIN:-$SIM_ROOT/build/std/tools/hooksink}
SIM_LOGIN=${SIM_LOGIN:-simlogin}
SIM_PASSWORD=${SIM_PASSWORD:-simpass}
T_DIR=$(mktemp -d "$T_TMP/store-sim.XXXXXX")
T_PIDS=()

# Servers started here are jobs of this shell (so a test can `wait` for an
# exit status); they are stopped at exit through tap.sh's cleanup list.
sim_cleanup() {
    local p
    for p in "${T_PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$T_DIR"
}
t_cleanup_add sim_cleanup

if [ ! -x "$STORE_SIM_BIN" ] || [ ! -x "$HOOKSINK_BIN" ]; then
    make -s -C "$SIM_ROOT" bin/store-sim build/std/tools/hooksink >&2 ||
        t_bail "cannot build store-sim"
fi

# wait_line FILE REGEX: wait up to 5 s for a line, print it.
wait_line() {
    local i
    for i in $(seq 1 100); do
        if grep -q "$2" "$1" 2>/dev/null; then
            grep -m1 "$2" "$1"
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# sim_start [store-sim flags...]: sets SIM_URL, SIM_PORT, SIM_PID, SIM_LOG.
sim_start() {
    SIM_LOG=$T_DIR/sim.$RANDOM.log
    "$STORE_SIM_BIN" --port 0 --login "$SIM_LOGIN" --password "$SIM_PASSWORD" \
        "$@" 2>"$SIM_LOG" &
    SIM_PID=$!
    T_PIDS+=("$SIM_PID")
    SIM_PORT=$(wait_line "$SIM_LOG" 'store-sim listening on' | sed 's/.*://')
    if [ -z "$SIM_PORT" ]; then
        t_bail "store-sim did not start: $(cat "$SIM_LOG")"
    fi
    SIM_URL=http://127.0.0.1:$SIM_PORT
}

sim_stop() {
    kill "$SIM_PID" 2>/dev/null
    wait "$SIM_PID" 2>/dev/null
}

# hook_start: sets HOOK_URL, HOOK_OUT, HOOK_PID.
hook_start() {
    HOOK_OUT=$T_DIR/hooks.$RANDOM.jsonl
    : >"$HOOK_OUT"
    local log=$T_DIR/hooksink.$RANDOM.log
    "$HOOKSINK_BIN" --port 0 --out "$HOOK_OUT" "$@" 2>"$log" &
    HOOK_PID=$!
    T_PIDS+=("$HOOK_PID")
    HOOK_PORT=$(wait_line "$log" 'hooksink listening on' | sed 's/.*://')
    [ -n "$HOOK_PORT" ] || t_bail "hooksink did not start"
    HOOK_URL=http://127.0.0.1:$HOOK_PORT/hook
}

# api METHOD PATH [JSON]: authenticated JSON call.  Sets ST, BODY, HDR.
BODY=$T_DIR/body
HDR=$T_DIR/hdr
api() {
    local m=$1 p=$2
    shift 2
    if [ $# -gt 0 ]; then
        ST=$(curl -s -o "$BODY" -D "$HDR" -w '%{http_code}' -X "$m" \
            -u "$SIM_LOGIN:$SIM_PASSWORD" -H 'Content-Type: application/json' \
            --data-binary "$1" "$SIM_URL$p")
    else
        ST=$(curl -s -o "$BODY" -D "$HDR" -w '%{http_code}' -X "$m" \
            -u "$SIM_LOGIN:$SIM_PASSWORD" "$SIM_URL$p")
    fi
}

# ctl METHOD PATH [JSON]: control API call (no auth).  Sets ST, BODY.
ctl() {
    local m=$1 p=$2
    shift 2
    if [ $# -gt 0 ]; then
        ST=$(curl -s -o "$BODY" -D "$HDR" -w '%{http_code}' -X "$m" \
            -H 'Content-Type: application/json' --data-binary "$1" \
            "$SIM_URL$p")
    else
        ST=$(curl -s -o "$BODY" -D "$HDR" -w '%{http_code}' -X "$m" "$SIM_URL$p")
    fi
}

jb() { jq -r "$@" "$BODY"; } # jq over the last body
hdr() { grep -i "^$1:" "$HDR" | head -1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
