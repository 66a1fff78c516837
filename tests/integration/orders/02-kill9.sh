#!/usr/bin/env bash
# harness: fresh-kafka
# kill -9 of order-ingestor at random points while orders stream in (and
# webhooks are lost while it is down): after restarts, every order is in
# the ledger exactly once, with exactly one reservation.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"
N=${ORD_N:-400}
KILLS=${ORD_KILLS:-4}

ord_setup 100 500 400
ord_start oi
t_ok "intake up" wait_for 20 ord_healthy
sim_post /_sim/faults '{"webhook_dup_rate":0.5,"seed":11}' >/dev/null
ord_kill9_run "$N" "$KILLS" 0.02 7
all() { [ "$(ord_count)" -ge "$N" ]; }
t_ok "the ledger has $N orders" wait_for 120 all
sleep 5
t_is "exactly $N customer orders" "$(ord_count)" "$N"
t_ok "ledger equals store-sim (lines, delivery, reservations)" ord_compare
t_diag "$(ord_compare)"
t_is "one reserve movement per order" \
    "$(sql "SELECT count(*) FROM stock_movement WHERE kind = 'reserve'")" "$N"
t_is "no duplicate order rows" \
    "$(sql "SELECT count(*) FROM (SELECT remote_id FROM customer_order GROUP BY 1 HAVING count(*) > 1) x")" 0
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
