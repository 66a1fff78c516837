#!/usr/bin/env bash
# harness: fresh-kafka
# Status changes made in the store: declining releases the reservation,
# dispatching turns it into a shipped sale (on hand and reserved both
# down), returning after shipment puts the stock back at the online
# location; each transition exactly once.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

ord_setup 10 20 0
ord_start oi
t_ok "intake up" wait_for 20 ord_healthy

t_is "ART-00001-1 before" "$(lvl ART-00001-1)" "30|0"
a=$(place1 ART-00001-1 3)
t_ok "order A reserved" wait_for 30 is_state "$a" reserved
t_is "ART-00001-1 reserved 3" "$(lvl ART-00001-1)" "30|3"
sim_post "/_sim/orders/$a/status" '{"fulfillment_status":"declined"}' >/dev/null
t_ok "declined order A: released" wait_for 30 is_state "$a" released
t_is "ART-00001-1 reservation released" "$(lvl ART-00001-1)" "30|0"
t_is "order A status declined" "$(sql "SELECT status FROM customer_order WHERE remote_id = $a")" declined
t_like "orders show A lists reserve and release" "$(omnisync orders show "$ORD_STORE" "$a")" 'reserve.*'$'\n''.*release'

b=$(place1 ART-00002-2 4)
t_ok "order B reserved" wait_for 30 is_state "$b" reserved
t_is "ART-00002-2 reserved 4" "$(lvl ART-00002-2)" "30|4"
sim_post "/_sim/orders/$b/status" '{"fulfillment_status":"dispatched"}' >/dev/null
t_ok "dispatched order B: shipped" wait_for 30 is_state "$b" shipped
t_is "ART-00002-2 shipped: on hand and reserved down" "$(lvl ART-00002-2)" "26|0"
sim_post "/_sim/orders/$b/status" '{"fulfillment_status":"delivered"}' >/dev/null
sleep 4
t_is "delivered after dispatched ships nothing more" "$(lvl ART-00002-2)" "26|0"
sim_post "/_sim/orders/$b/status" '{"fulfillment_status":"returned"}' >/dev/null
t_ok "returned order B: returned" wait_for 30 is_state "$b" returned
t_is "ART-00002-2 back on hand" "$(lvl ART-00002-2)" "30|0"
t_is "returned to the online location" \
    "$(sql "SELECT l.on_hand FROM stock_level l JOIN variant v ON v.id = l.variant_id JOIN location lo ON lo.id = l.location_id WHERE v.sku = 'ART-00002-2' AND lo.code = 'WEB1'")" 10
t_is "order B: reserve, ship, return once each" \
    "$(sql "SELECT string_agg(m.kind, ',' ORDER BY m.id) FROM stock_movement m JOIN customer_order o ON o.id = m.order_id WHERE o.remote_id = $b")" "reserve,ship,return"
t_is "orders list --status returned" \
    "$(omnisync orders list --status returned --json | python3 -c 'import json,sys; print([o["remote_id"] for o in json.load(sys.stdin)])')" "[$b]"
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
