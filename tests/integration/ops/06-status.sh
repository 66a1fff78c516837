#!/usr/bin/env bash
# harness: fresh-kafka
# `omnisync status` is honest (docs/status.md): with the whole chain
# running against store-sim a synced store is "in sync" (exit 0) but
# "unverified since" its creation until `omnisync reconcile` checked it;
# with stock-publisher stopped and stock moved, `omnisync lag` shows its
# group's lag and status says "catching up" (exit 1) with how far behind;
# once it runs again and caught up, lag 0 and exit 0.  A store answering
# 503 makes it "paused" until when the budget says; a reconcile that finds
# drift makes it "failing" with the reason until a reconcile agrees again.
# Budget used by class, STORE, --watch, and exit 2 / 3 for usage / an
# unreachable Redis or broker.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"

if ! harness_kafka_is_real; then
    t_skip "omnisync status" "the mock cluster has no admin API (KAFKA.md §2)"
    t_done
fi

G=omnisync-stock-publisher
KOPTS=(-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500)

CAT_IMGUP=1 cat_setup 4 2
S=$CAT_STORE
stockpub_start() { t_bg "$1" stock-publisher -o log.level=info "${KOPTS[@]}"; }
stockpub_start stockpub

# status_json [ARGS]: `omnisync status --json ARGS`; exit status in ST_RC.
status_json() {
    ST_RC=0
    ST_OUT=$(omnisync status --json "$@" 2>"$T_TMP/status.err") || ST_RC=$?
}
# sj FILTER: FILTER on this store's entry of the last status_json.
sj() { printf '%s' "$ST_OUT" | jq -c --arg s "$S" ".store_sync[] | select(.store == \$s) | $1"; }
status_rc_is() { # CODE: `omnisync status` exits CODE
    local rc=0
    omnisync status >"$T_TMP/status.out" 2>&1 || rc=$?
    [ "$rc" = "$1" ]
}
lag_of() { omnisync lag --json --group "$G" --max 1000000 | jq '.groups[0].lag'; }
lag_positive() { [ "$(lag_of)" -gt 0 ] 2>/dev/null; }
lag_zero() { [ "$(lag_of)" = 0 ]; }
qty_is() { # SKU QTY: the store shows QTY for SKU
    [ "$(sim_get "/_sim/state?skus=1" | jq -r --arg s "$1" '.variants_by_sku[$s].quantity')" = "$2" ]
}

# ---- before the initial sync: catching up, the products not accepted
status_json
t_is "before sync: exit 1" "$ST_RC" 1
t_is "before sync: catching up" "$(sj .state)" '"catching_up"'
t_is "... the products the store has not accepted" "$(sj .behind.products)" 4

# ---- synced: in sync (exit 0), but unverified
mapfile -t SKUS < <(sql "SELECT sku FROM variant ORDER BY sku")
for s in "${SKUS[@]}"; do # every variant stocked: the store tracks them all
    omnisync stock receipt WH1 "$s" 3 --ref "st0-$s" >/dev/null || t_bail "receipt $s"
done
t_ok "sync initial" omnisync sync initial "$S" --timeout 180
t_ok "the store shows the stock" wait_for 60 qty_is "${SKUS[-1]}" 3
t_ok "status exits 0 once everything settled" wait_for 120 status_rc_is 0
status_json
t_is "in sync" "$(sj '[.state, .reason, .behind.age_s, .behind.topic_lag]')" '["in_sync",null,null,0]'
t_like "... unverified since the store was added" \
    "$(sj '[.verified.at, .verified.unverified_since]')" '^\[null,"[0-9-]+T[0-9:]+Z"\]$'
t_is "every publisher group is reported" \
    "$(printf '%s' "$ST_OUT" | jq -c '[.topics[].group]')" \
    '["omnisync-catalog-publisher","omnisync-image-uploader","omnisync-stock-publisher"]'
t_is "ok is true" "$(printf '%s' "$ST_OUT" | jq .ok)" true
t_is "budget used by class" "$(sj '.budget.by_class | keys')" '["catalog","images","orders","stock"]'
t_ok "... no class above the window's total" \
    test "$(sj '([.budget.by_class[]] | add) <= .budget.used')" = true
omnisync status >"$T_TMP/status.out"
t_like "text: the state line" "$(cat "$T_TMP/status.out")" "store $S: in sync"
t_like "text: unverified since" "$(cat "$T_TMP/status.out")" "verified +never: unverified since [0-9-]+T"

t_ok "reconcile agrees" omnisync reconcile "$S"
status_json
t_is "verified by reconcile" "$(sj '[.state, .verified.by, .verified.ok, .verified.unverified_since]')" \
    '["in_sync","reconcile",true,null]'
t_like "text: verified when, by what" "$(omnisync status "$S")" "verified +[0-9-]+T[0-9:]+Z by reconcile: the store agreed"

# ---- stock-publisher stopped, stock moved: lag, catching up, exit 1
t_kill stockpub >/dev/null
for s in "${SKUS[@]}"; do
    omnisync stock receipt WH1 "$s" 7 --ref "st1-$s" >/dev/null || t_bail "receipt $s"
done
t_ok "omnisync lag: stock-publisher's group lags" wait_for 30 lag_positive
t_like "... lag --json reports it" "$(lag_of)" '^[1-9][0-9]*$'
sleep 1.2
status_json
t_is "status exits 1 while it is stopped" "$ST_RC" 1
t_is "catching up" "$(sj .state)" '"catching_up"'
t_ok "... with the topics' lag" test "$(sj .behind.topic_lag)" -gt 0
t_ok "... and how far behind (over a second)" \
    awk -v a="$(sj .behind.age_s)" 'BEGIN { exit !(a >= 1 && a < 600) }'
t_like "... the reason says so" "$(sj .reason)" 'behind: .*messages in the publishers. topics'
t_like "... the group's lag at the top level" \
    "$(printf '%s' "$ST_OUT" | jq -c '.topics[] | select(.group == "'$G'") | .lag')" '^[1-9][0-9]*$'
t_is "ok is false" "$(printf '%s' "$ST_OUT" | jq .ok)" false
rc=0
omnisync status "$S" >"$T_TMP/status.out" 2>&1 || rc=$?
t_is "text: exit 1" "$rc" 1
t_like "text: catching up, behind" "$(cat "$T_TMP/status.out")" "store $S: catching up: [0-9.]+s behind"

# ---- started again: caught up, lag 0, exit 0
stockpub_start stockpub2
t_ok "stock-publisher catches up: lag 0" wait_for 90 lag_zero
t_ok "the store shows the new stock" wait_for 60 qty_is "${SKUS[-1]}" 10
t_ok "status exits 0 again" wait_for 60 status_rc_is 0

# ---- the store answers 503: paused until when, exit 1
curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"error_rate":1,"error_status":503}' \
    "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null || t_bail "faults"
omnisync stock receipt WH1 "${SKUS[0]}" 1 --ref st2 >/dev/null || t_bail "receipt"
paused() { status_json; [ "$(sj .state)" = '"paused"' ]; }
t_ok "status: paused after the store's 503" wait_for 60 paused
status_json # (t_ok ran paused in a subshell)
t_is "... exit 1" "$ST_RC" 1
t_is "... with the answer" "$(sj .paused.status)" 503
t_like "... and until when" "$(sj .paused.until)" '^"[0-9-]+T[0-9:]+Z"$'
t_like "... in the reason" "$(sj .reason)" 'until .* \(the store answered 503\)'
curl -sf -X POST -H 'Content-Type: application/json' -d '{"error_rate":0}' \
    "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null || t_bail "faults"
t_ok "after the pause it catches up: exit 0" wait_for 90 status_rc_is 0
t_ok "... and the store shows the stock moved meanwhile" wait_for 30 qty_is "${SKUS[0]}" 11

# ---- a reconcile that finds drift: failing until one agrees
t_kill stockpub2 >/dev/null
omnisync stock receipt WH1 "${SKUS[0]}" 2 --ref st3 >/dev/null || t_bail "receipt"
t_ok "the stock event waits in the topic" wait_for 30 lag_positive
rc=0
omnisync reconcile "$S" >/dev/null 2>&1 || rc=$?
t_is "reconcile finds the drift (exit 1)" "$rc" 1
stockpub_start stockpub3
t_ok "stock-publisher catches up again" wait_for 90 lag_zero
t_ok "... the store shows the stock" wait_for 60 qty_is "${SKUS[0]}" 13
status_json
t_is "failing: the last reconcile found drift" "$(sj '[.state, .verified.ok]')" '["failing",false]'
t_like "... the reason names it" "$(sj .reason)" 'reconcile at .* found the store differing: .*1 drifted'
t_is "... exit 1" "$ST_RC" 1
t_ok "a reconcile that agrees" omnisync reconcile "$S"
t_ok "... and status exits 0" status_rc_is 0

# ---- one store, usage, dependencies
status_json "$S"
t_is "STORE: only that store" "$(printf '%s' "$ST_OUT" | jq -c '[.store_sync[].store]')" "[\"$S\"]"
status_json no-such-store
t_is "unknown store: exit 2" "$ST_RC" 2
t_like "... saying so" "$(cat "$T_TMP/status.err")" "unknown store 'no-such-store'"
t_is "a bad option: exit 2" "$(omnisync status --frob >/dev/null 2>&1; echo $?)" 2
t_is "--interval without --watch: exit 2" "$(omnisync status --interval 2 >/dev/null 2>&1; echo $?)" 2
rc=0
OMNISYNC_REDIS=127.0.0.1:$(free_port) omnisync status >/dev/null 2>"$T_TMP/status.err" || rc=$?
t_is "Redis unreachable: exit 3" "$rc" 3
t_like "... saying so" "$(cat "$T_TMP/status.err")" 'Redis at 127.0.0.1'
rc=0
OMNISYNC_KAFKA=127.0.0.1:$(free_port) timeout 60 omnisync status >/dev/null 2>"$T_TMP/status.err" || rc=$?
t_is "broker unreachable: exit 3" "$rc" 3
t_like "... saying so" "$(cat "$T_TMP/status.err")" 'cannot reach the broker'
rc=0
OMNISYNC_PG="postgresql://127.0.0.1:$(free_port)/x?connect_timeout=2" omnisync status \
    >/dev/null 2>&1 || rc=$?
t_is "Postgres unreachable: exit 3" "$rc" 3

# ---- --watch: one compact document a refresh until SIGTERM
t_bg watch omnisync status --json --watch --interval 1
t_ok "--watch refreshes" wait_for 30 sh -c "[ \$(grep -c '^{' '$T_TMP/watch.log') -ge 2 ]"
t_is "... one compact JSON document a line" \
    "$(head -1 "$T_TMP/watch.log" | jq -c '.ok')" true
wrc=0
t_kill watch || wrc=$?
t_is "... SIGTERM ends it with the last status (0)" "$wrc" 0
t_done
