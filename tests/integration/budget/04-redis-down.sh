#!/usr/bin/env bash
# budget: Redis killed mid-run.  No request reaches the store unmetered
# (store-sim's count stays flat while Redis is down); the outage is logged
# once per process; work resumes when Redis returns.
. "$(dirname "$0")/budget-lib.sh"

LIMIT=30 WINDOW=4
bud_redis_start # private: this test kills it
bud_sim_start sim --limit $LIMIT --window $WINDOW
bud_hammer h1 --class catalog --threads 3 --duration 16 --limit $LIMIT --window $WINDOW
bud_hammer h2 --class stock --threads 3 --duration 16 --limit $LIMIT --window $WINDOW
sleep 3
R0=$(bud_state .requests)
t_ok "calls flow while Redis is up ($R0)" test "$R0" -gt 0
t_kill redis KILL
sleep 1 # in-flight calls granted before the kill finish
C1=$(bud_state .requests)
sleep 4
C2=$(bud_state .requests)
t_is "no request reached the store while Redis was down" "$C2" "$C1"
bud_redis_start # same port, empty: the budget starts afresh
sleep 1
wait_for 8 test "$(bud_state .requests)" -gt "$C2"
C3=$(bud_state .requests)
t_ok "work resumed after Redis returned ($C3 > $C2)" test "$C3" -gt "$C2"
t_wait h1 60
t_is "hammer h1 exited cleanly" $? 0
t_wait h2 60
bud_report h1 h2
for h in h1 h2; do
    t_is "$h: outage logged once" "$(grep -c 'redis unavailable' "$T_TMP/$h.log")" 1
    t_is "$h: recovery logged once" "$(grep -c 'available again' "$T_TMP/$h.log")" 1
    t_is "$h: one outage counted" "$(bud_json $h .budget.outages)" 1
done
t_is "store-sim rejected nothing" "$(bud_state .rejected)" 0
t_done
