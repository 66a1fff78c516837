#!/usr/bin/env bash
# budget: SCRIPT FLUSH mid-run.  EVALSHA answers NOSCRIPT, the client sends
# the script again with EVAL, and calls continue without an outage.
. "$(dirname "$0")/budget-lib.sh"

LIMIT=30 WINDOW=3
bud_redis_start # private: SCRIPT FLUSH would hit other users of a shared one
bud_sim_start sim --limit $LIMIT --window $WINDOW
bud_hammer h1 --class catalog --threads 3 --duration 12 --limit $LIMIT --window $WINDOW
bud_hammer h2 --class orders --threads 2 --duration 12 --limit $LIMIT --window $WINDOW
for i in 1 2 3; do
    sleep 3
    t_is "SCRIPT FLUSH $i" "$(redis-cli -p "$BUD_REDIS_PORT" script flush)" OK
done
C1=$(bud_state .requests)
t_wait h1 60
t_is "hammer h1 exited cleanly" $? 0
t_wait h2 60
bud_report h1 h2
C2=$(bud_state .requests)
RL=$(($(bud_json h1 .budget.script_reloads) + $(bud_json h2 .budget.script_reloads)))
t_ok "NOSCRIPT was answered by re-sending the script ($RL times)" test "$RL" -ge 1
t_is "no Redis outage" "$(($(bud_json h1 .budget.outages) + $(bud_json h2 .budget.outages)))" 0
t_ok "calls continued after the last flush ($C2 > $C1)" test "$C2" -gt "$C1"
t_is "store-sim rejected nothing" "$(bud_state .rejected)" 0
t_done
