#!/usr/bin/env bash
# budget: with the images class saturating the budget, an orders caller
# (a) never waits while the orders reserve is unspent, and (b) once it has
# spent the reserve, waits no longer than the rest of the current window.
. "$(dirname "$0")/budget-lib.sh"
[ -n "${OMNISYNC_REDIS:-}" ] || t_bail "OMNISYNC_REDIS not set (run via tests/run.sh)"

LIMIT=50 WINDOW=5 GUARD=500
bud_sim_start sim --limit $LIMIT --window $WINDOW

# (a) orders at 1 call/s: ~6 per 5.5-s window, below its reserve of 15
#     (images keep 30% of 50 back).
bud_hammer img --class images --threads 6 --duration 12 --limit $LIMIT --window $WINDOW
sleep 0.3
bud_hammer ord --class orders --threads 1 --interval-ms 1000 --duration 11 \
    --limit $LIMIT --window $WINDOW
t_wait ord 60
t_is "slow orders caller exited cleanly" $? 0
t_wait img 60
bud_report img ord
t_ok "images saturated the budget (took $(bud_json img .calls))" \
    test "$(bud_json img .calls)" -ge $((LIMIT * 7 / 10))
t_ok "orders made calls ($(bud_json ord .calls))" test "$(bud_json ord .calls)" -ge 8
t_is "orders never waited while its reserve was unspent" \
    "$(bud_json ord .budget.orders.waits)" 0
OMAX=$(bud_json ord .max_wait_ms)
t_ok "orders token latency stayed tiny (max $OMAX ms)" test "$OMAX" -lt 100
t_diag "orders max wait with unspent reserve: $OMAX ms"

# (b) orders at ~20 calls/s spend the reserve: they wait, but only until
#     the window ends.
BUD_STORE=$BUD_STORE-b
bud_hammer img2 --class images --threads 6 --duration 12 --limit $LIMIT --window $WINDOW
sleep 0.3
bud_hammer ord2 --class orders --threads 2 --interval-ms 100 --duration 11 \
    --limit $LIMIT --window $WINDOW
t_wait ord2 60
t_is "fast orders caller exited cleanly" $? 0
t_wait img2 60
bud_report img2 ord2
OMAX=$(bud_json ord2 .max_wait_ms)
t_diag "orders max wait after spending its reserve: $OMAX ms (window $((WINDOW * 1000)) ms + guard $GUARD ms)"
t_ok "orders spent the reserve and waited" test "$(bud_json ord2 .budget.orders.waits)" -gt 0
t_ok "orders max wait $OMAX ms < window + guard" test "$OMAX" -lt $((WINDOW * 1000 + GUARD))
ORD=$(bud_json ord2 .calls)
t_ok "orders got at least one full reserve (15) while images saturated ($ORD)" \
    test "$ORD" -ge 15
t_is "store-sim rejected no request" "$(bud_state .rejected)" 0
t_done
