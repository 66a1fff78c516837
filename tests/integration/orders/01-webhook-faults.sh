#!/usr/bin/env bash
# harness: fresh-kafka
# 1,000 shopper orders with half the webhooks sent twice and 30 % never
# sent: the intake + polling backstop + apply end with exactly 1,000
# customer orders, each with its lines, delivery line and reservation.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"
N=${ORD_N:-1000}

ord_setup 100 500 400
ord_start oi
t_ok "intake answers /healthz" wait_for 20 ord_healthy
hooks() { [ "$(sim_get /admin/webhooks.json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ]; }
t_ok "orders/create and orders/update registered" wait_for 20 hooks
t_like "webhook address carries the store's secret" "$(sim_get /admin/webhooks.json)" "/hooks/$ORD_SECRET/orders"

sim_post /_sim/faults '{"webhook_dup_rate":0.5,"webhook_drop_rate":0.3,"seed":7}' >/dev/null
t0=$(date +%s)
out=$(ord_place "$N" 42 "$T_TMP/placed.jsonl")
t_is "store-sim accepted all $N orders" "$out" "placed=$N refused=0"
all() { [ "$(ord_count)" -ge "$N" ]; }
t_ok "the ledger has $N orders" wait_for 120 all
t_diag "all $N orders in the ledger after $(($(date +%s) - t0)) s"
sleep 5 # let duplicates and polls land
t_is "exactly $N customer orders" "$(ord_count)" "$N"
st=$(sim_get /_sim/state)
t_diag "store-sim webhooks: $(python3 -c 'import json,sys; print(json.load(sys.stdin)["webhooks"])' <<<"$st")"
t_like "some webhooks were dropped (polling had work)" "$st" '"dropped":[1-9]'
t_ok "ledger equals store-sim (lines, delivery, reservations)" ord_compare
t_diag "$(ord_compare)"
t_is "one reserve movement per order" \
    "$(sql "SELECT count(*) FROM stock_movement WHERE kind = 'reserve'")" "$N"
t_is "no order needs attention" "$(omnisync orders list --needs-attention --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0
t_like "polled orders were applied as stale duplicates or new" "$(cat "$T_TMP/oi.log")" 'poll: [0-9]+ orders put on'
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
