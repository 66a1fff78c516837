#!/usr/bin/env bash
# budget: orders first — with images saturating the budget and orders
# asking for more than the static reserve (4 calls/s: ~22 per 5.5-s window,
# the reserve above images is 15), the orders headroom and the paced bulk
# classes (docs/budget.md "Orders first") keep the orders token wait under 1 s at p99 after the
# first window; with the headroom off (0 %) the same load waits for the
# window's end.  No request is rejected either way.
. "$(dirname "$0")/budget-lib.sh"
[ -n "${OMNISYNC_REDIS:-}" ] || t_bail "OMNISYNC_REDIS not set (run via tests/run.sh)"

LIMIT=50 WINDOW=5 DUR=${ORDERS_FIRST_S:-23}
bud_sim_start sim --limit $LIMIT --window $WINDOW

run() { # NAME HEADROOM_PCT PACE_BULK
    BUD_STORE=bt-$$-$1
    bud_hammer "img$1" --class images --threads 6 --duration $((DUR + 1)) \
        --limit $LIMIT --window $WINDOW --orders-headroom-pct "$2" \
        --pace-bulk "$3"
    sleep 0.3
    bud_hammer "ord$1" --class orders --threads 1 --interval-ms 250 \
        --duration "$DUR" --limit $LIMIT --window $WINDOW \
        --orders-headroom-pct "$2" --pace-bulk "$3"
    t_wait "ord$1" 120
    t_is "orders caller ($1) exited cleanly" $? 0
    t_wait "img$1" 120
    bud_report "img$1" "ord$1"
}

run on 125 1
P99=$(bud_json ordon .wait_p99_ms)
t_diag "headroom 125% + paced bulk: orders p99 $P99 ms, max $(bud_json ordon .max_wait_ms) ms, $(bud_json ordon .calls) orders calls, $(bud_json imgon .calls) image calls"
t_ok "orders p99 token wait $P99 ms < 1000 with images saturating" test "$P99" -lt 1000

run off 0 0
P99OFF=$(bud_json ordoff .wait_p99_ms)
t_diag "headroom and pacing off: orders p99 $P99OFF ms, $(bud_json ordoff .calls) orders calls, $(bud_json imgoff .calls) image calls"
t_ok "without the headroom orders wait longer ($P99OFF ms > $P99 ms)" test "$P99OFF" -gt "$P99"
ION=$(bud_json imgon .calls) IOFF=$(bud_json imgoff .calls)
t_diag "trade-off: images took $ION calls with orders first, $IOFF without"
t_ok "images kept at least 40% of their calls ($ION of $IOFF)" \
    test $((ION * 100)) -ge $((IOFF * 40))
t_is "store-sim rejected no request" "$(bud_state .rejected)" 0
t_done
