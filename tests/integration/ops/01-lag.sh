#!/usr/bin/env bash
# harness: fresh-kafka
# `omnisync lag` on the real broker: a test group that consumed and
# committed K of N messages shows lag N-K (exit 1 with --max 0), the age of
# its oldest unconsumed message, and lag 0 (exit 0) once it consumed the
# rest; a member that has its assignment but never committed counts from
# the log start; group selection, --watch, and exit 2 for an unknown group
# or an unreachable broker.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
export PATH=$OMNISYNC_ROOT/bin:$OMNISYNC_ROOT/build/std/tools:$PATH

if ! harness_kafka_is_real; then
    t_skip "omnisync lag" "the mock cluster has no admin API (KAFKA.md §2)"
    t_done
fi

TOPIC=omnisync.orders.v1
G=omnisync-test-lag-$$
N=10
K=4

# lag_json ARGS...: `omnisync lag --json ARGS`, its exit status in $LAG_RC.
lag_json() {
    LAG_RC=0
    LAG_OUT=$(omnisync lag --json "$@" 2>"$T_TMP/lag.err") || LAG_RC=$?
}
# jqv FILTER: FILTER applied to the last lag_json output.
jqv() { printf '%s' "$LAG_OUT" | jq -c "$1"; }

seq 1 "$N" | sed 's/^/msg-/' | kcat -P -b "$OMNISYNC_KAFKA" -t "$TOPIC" -p 0
t_ok "$N messages on $TOPIC partition 0" \
    wait_for 10 sh -c "kcat -C -b '$OMNISYNC_KAFKA' -t $TOPIC -p 0 -o beginning -e -q | wc -l | grep -qx $N"
t_is "the test group consumes and commits $K" \
    "$(group-consume --group "$G" --topic "$TOPIC" --count "$K")" "consumed $K"
sleep 1.2 # the oldest unconsumed message is now over a second old

# ---- lag N-K on partition 0, 0 elsewhere
lag_json --group "$G"
t_is "exit 1: lag above the default --max 0" "$LAG_RC" 1
t_is "one group" "$(jqv '[.groups[].group]')" "[\"$G\"]"
t_is "the group's lag" "$(jqv '.groups[0].lag')" $((N - K))
t_is "every partition of the topic has a row" \
    "$(jqv '[.groups[0].partitions[] | select(.topic == "'$TOPIC'")] | length')" 6
t_is "partition 0: committed, log end, lag" \
    "$(jqv '.groups[0].partitions[] | select(.partition == 0) | [.current_offset, .log_start_offset, .log_end_offset, .lag]')" \
    "[$K,0,$N,$((N - K))]"
t_is "partitions 1-5: no commit, nothing to read" \
    "$(jqv '[.groups[0].partitions[] | select(.partition > 0) | [.current_offset, .lag, .oldest_age_seconds]] | unique')" \
    '[[null,0,null]]'
age=$(jqv '.groups[0].partitions[] | select(.partition == 0) | .oldest_age_seconds')
t_like "the oldest unconsumed message's age is measured" "$age" '^[0-9]+(\.[0-9]+)?$'
t_ok "... and is over a second, under a minute" \
    awk -v a="$age" 'BEGIN { exit !(a >= 1 && a < 60) }'
t_is "the group left: Empty, no members" "$(jqv '[.groups[0].state, .groups[0].members]')" '["Empty",0]'
t_is "max_lag, max and ok" "$(jqv '[.max_lag, .max, .ok]')" "[$((N - K)),0,false]"

lag_json --group "$G" --max $((N - K))
t_is "exit 0 with --max N-K" "$LAG_RC" 0
t_is "ok is true" "$(jqv '.ok')" true
lag_json --group "$G" --max $((N - K - 1))
t_is "exit 1 with --max N-K-1" "$LAG_RC" 1

# ---- the table
rc=0
out=$(omnisync lag --group "$G") || rc=$?
t_is "table: exit 1" "$rc" 1
t_like "table: the header" "$(printf '%s\n' "$out" | head -1)" \
    '^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +OLDEST-AGE +CLIENT-ID$'
t_like "table: partition 0's row" "$out" \
    "$G +$TOPIC +0 +$K +$N +$((N - K)) +[0-9.]+s +-"
t_is "table: one line per partition" "$(printf '%s\n' "$out" | grep -c "^$G ")" 6
t_diag "$out"

# ---- which groups are shown
O=other-lag-$$
t_is "a group outside omnisync-* commits" \
    "$(group-consume --group "$O" --topic "$TOPIC" --count 1)" "consumed 1"
lag_json --max 1000
t_like "by default: the omnisync-* groups" "$(jqv '[.groups[].group]')" "\"$G\""
t_unlike "... not the others" "$(jqv '[.groups[].group]')" "\"$O\""
lag_json --all --max 1000
t_like "--all: every group" "$(jqv '[.groups[].group]')" "\"$G\".*\"$O\""
lag_json --group "$O"
t_is "--group selects any group" "$(jqv '[.groups[].group, .groups[0].lag]')" "[\"$O\",$((N - 1))]"

# ---- a member with its assignment and no commit counts from the log start
H=omnisync-test-hold-$$
t_bg hold group-consume --group "$H" --topic "$TOPIC" --count 0 --hold-ms 60000
has_member() {
    lag_json --group "$H" --max 1000
    [ "$(jqv '.groups[0].members')" = 1 ] &&
        [ "$(jqv '[.groups[0].partitions[] | select(.client_id != null)] | length')" = 6 ]
}
t_ok "the holding consumer has its assignment" wait_for 60 has_member
lag_json --group "$H" --max 1000 # (t_ok ran has_member in a subshell)
t_is "it is Stable" "$(jqv '.groups[0].state')" '"Stable"'
t_is "no commit: partition 0 lags by everything" \
    "$(jqv '.groups[0].partitions[] | select(.partition == 0) | [.current_offset, .lag]')" "[null,$N]"
t_is "... and exits 1" "$(omnisync lag --group "$H" >/dev/null 2>&1; echo $?)" 1
t_kill hold >/dev/null

# ---- consume the rest: lag 0, exit 0
t_is "the test group consumes the rest" \
    "$(group-consume --group "$G" --topic "$TOPIC" --count $((N - K)))" "consumed $((N - K))"
lag_json --group "$G"
t_is "exit 0: caught up" "$LAG_RC" 0
t_is "lag 0 everywhere" "$(jqv '[.groups[0].lag, .max_lag, .ok]')" '[0,0,true]'
t_is "partition 0: committed = log end, no age" \
    "$(jqv '.groups[0].partitions[] | select(.partition == 0) | [.current_offset, .log_end_offset, .oldest_age_seconds]')" \
    "[$N,$N,null]"

# ---- --watch: a document per refresh until SIGTERM, then the last status
t_bg watch omnisync lag --group "$G" --json --watch --interval 1
t_ok "--watch refreshes" wait_for 20 sh -c "[ \$(grep -c '^{' '$T_TMP/watch.log') -ge 2 ]"
t_is "... one compact JSON document a line" \
    "$(head -1 "$T_TMP/watch.log" | jq -c '[.groups[0].group, .ok]')" "[\"$G\",true]"
wrc=0
t_kill watch || wrc=$?
t_is "... SIGTERM ends it with the last status (0)" "$wrc" 0

# ---- errors: exit 2 (usage, unknown group), 3 (no broker)
lag_json --group "omnisync-no-such-group-$$"
t_is "unknown group: exit 2" "$LAG_RC" 2
t_like "... saying so" "$(cat "$T_TMP/lag.err")" 'not found'
rc=0
OMNISYNC_KAFKA=127.0.0.1:$(free_port) timeout 60 omnisync lag >/dev/null 2>"$T_TMP/lag.err" || rc=$?
t_is "unreachable broker: exit 3" "$rc" 3
t_like "... saying so" "$(cat "$T_TMP/lag.err")" 'cannot reach the broker'
rc=0
omnisync lag --max -1 >/dev/null 2>&1 || rc=$?
t_is "a bad --max: exit 2" "$rc" 2
t_done
