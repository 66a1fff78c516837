# shellcheck shell=bash
# budget-lib.sh — helpers for the Redis budget scripts (sourced, not a test).
#
#   . "$(dirname "$0")/budget-lib.sh"
#   bud_sim_start --limit 50 --window 10     # SIM_PORT, SIM_URL (t_bg "sim")
#   bud_hammer h1 --class orders --threads 4 --duration 30 ...   # t_bg "h1"
#   t_wait h1 120; bud_json h1 .calls          # jq over its JSON stats line
#   bud_state .rejected                        # jq over GET /_sim/state
#   bud_redis_start                            # private Redis (t_bg "redis")
#
# Store-sim and private Redis servers are t_bg processes: killed at exit.

set -u
BUD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$BUD_ROOT}
# shellcheck source=../../harness/tap.sh
. "$BUD_ROOT/tests/harness/tap.sh"
STORE_SIM_BIN=${STORE_SIM_BIN:-$BUD_ROOT/bin/store-sim}
HAMMER_BIN=${HAMMER_BIN:-$BUD_ROOT/build/std/tools/budget-hammer}
BUD_LOGIN=budgetapp
OMNISYNC_STORE_PASSWORD=budget-secret-pw
export OMNISYNC_STORE_PASSWORD
BUD_STORE=bt-$$-$RANDOM # budget key of this run: omnisync:budget:{$BUD_STORE}

if [ ! -x "$STORE_SIM_BIN" ] || [ ! -x "$HAMMER_BIN" ]; then
    make -s -C "$BUD_ROOT" bin/store-sim build/std/tools/budget-hammer >&2 ||
        t_bail "cannot build store-sim / budget-hammer"
fi
command -v jq >/dev/null || t_bail "jq is required"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

bud_sim_health() { curl -sf "http://127.0.0.1:$SIM_PORT/_sim/state" >/dev/null; }

# bud_sim_start NAME [store-sim flags]: on $SIM_PORT (picked once, reused
# by restarts).
bud_sim_start() {
    local name=$1
    shift
    [ -n "${SIM_PORT:-}" ] || SIM_PORT=$(free_port)
    SIM_URL=http://127.0.0.1:$SIM_PORT
    t_bg "$name" "$STORE_SIM_BIN" --port "$SIM_PORT" --login "$BUD_LOGIN" \
        --password "$OMNISYNC_STORE_PASSWORD" "$@"
    wait_for 10 bud_sim_health || t_bail "store-sim did not start: $(cat "$T_TMP/$name.log")"
}

# bud_state JQ: a field of GET /_sim/state.
bud_state() { curl -s "$SIM_URL/_sim/state" | jq -r "$1"; }

# bud_hammer NAME [budget-hammer flags]: url, login, store preset.
bud_hammer() {
    local name=$1
    shift
    t_bg "$name" "$HAMMER_BIN" --url "$SIM_URL" --login "$BUD_LOGIN" \
        --store "$BUD_STORE" "$@"
}

# bud_json NAME JQ: a field of the JSON stats line a hammer printed.
bud_json() { grep -a '^{' "$T_TMP/$1.log" | tail -1 | jq -r "$2"; }

# bud_redis_start: a private Redis on $BUD_REDIS_PORT (reused by restarts);
# exports OMNISYNC_REDIS for the hammers started after it.
bud_redis_ping() { [ "$(redis-cli -p "$BUD_REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
bud_redis_start() {
    [ -n "${BUD_REDIS_PORT:-}" ] || BUD_REDIS_PORT=$(free_port)
    mkdir -p "$T_TMP/redis"
    t_bg redis redis-server --port "$BUD_REDIS_PORT" --bind 127.0.0.1 \
        --save '' --appendonly no --dir "$T_TMP/redis"
    wait_for 10 bud_redis_ping || t_bail "private redis did not start"
    OMNISYNC_REDIS=127.0.0.1:$BUD_REDIS_PORT
    export OMNISYNC_REDIS
}

# bud_report NAME...: print each hammer's stats as diagnostics.
bud_report() {
    local n
    for n in "$@"; do
        t_diag "$n: $(grep -a '^{' "$T_TMP/$n.log" | tail -1)"
    done
}
