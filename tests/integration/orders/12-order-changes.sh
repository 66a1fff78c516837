#!/usr/bin/env bash
# harness: fresh-kafka
# A later version of an order recomputes its reservation to its new lines
# (more, fewer, added, removed), exactly once, whatever order the
# versions come in (webhooks replayed in reverse, duplicated, polls); an
# order cancelled after it shipped and a customer's return of a delivered
# order put the stock back at the store's --return-location; the store
# agrees with the ledger (`omnisync reconcile`) at the end.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
CAT_STORE_ARGS="--return-location RET1"
. "$OMNISYNC_ROOT/tests/integration/orders/changes-lib.bash"

chg_setup
t_like "store show names the return location" \
    "$(omnisync store show "$CAT_STORE")" 'return_location +RET1'

# 1. Lines change in the store: more, a new line, then fewer and removed.
a=$(chg_place ART-00002-1 3)
t_ok "order A reserved" wait_for 30 is_state "$a" reserved
chg_body "$a" "$T_TMP/a1.json"
t_is "ART-00002-1 reserved 3" "$(lvl ART-00002-1)" "50|3"
l1=$(chg_line_id "$a" 1)
v22=$(chg_variant_id ART-00002-2)
chg_put "$a" "{\"order_lines_attributes\":[{\"id\":$l1,\"quantity\":5},{\"variant_id\":$v22,\"quantity\":2}]}"
two_lines() { [ "$(lvl ART-00002-2)" = "50|2" ]; }
t_ok "a new line is reserved" wait_for 30 two_lines
t_is "a raised quantity is reserved" "$(lvl ART-00002-1)" "50|5"
chg_body "$a" "$T_TMP/a2.json"
l2=$(chg_line_id "$a" 2)
chg_put "$a" "{\"order_lines_attributes\":[{\"id\":$l1,\"quantity\":1},{\"id\":$l2,\"_destroy\":true}]}"
fewer() { [ "$(lvl ART-00002-2)" = "50|0" ]; }
t_ok "a removed line is released" wait_for 30 fewer
t_is "a lowered quantity is released" "$(lvl ART-00002-1)" "50|1"
chg_body "$a" "$T_TMP/a3.json"
t_is "order A: one movement a version" "$(moves "$a")" "reserve,reserve,release"
# Every version again, newest first, twice: all stale.
for f in a3 a2 a1 a3 a1 a2; do
    t_is "replayed version $f accepted" "$(chg_hook "$T_TMP/$f.json")" 200
done
sleep 4
t_is "replays change nothing" "$(moves "$a")|$(lvl ART-00002-1)|$(lvl ART-00002-2)" \
    "reserve,reserve,release|50|1|50|0"
t_ok "reconcile agrees after the line changes" wait_for 60 chg_reconciled

# 2. Versions reordered before the ledger saw any of them: the newest
#    first, then older ones and duplicates; one reservation of its lines.
mk() { # ID VERSION-SECONDS LINES-JSON -> file
    cat >"$T_TMP/b$2.json" <<JSON
{"id": $1, "number": 9200, "updated_at": "2030-01-01T00:00:0$2.000+03:00",
 "fulfillment_status": "new", "delivery_price": "0.0", "order_lines": $3}
JSON
}
mk 499999200 1 '[{"id":599999201,"sku":"ART-00003-1","quantity":2,"sale_price":"10.0"},{"id":599999202,"sku":"ART-00003-2","quantity":1,"sale_price":"10.0"}]'
mk 499999200 2 '[{"id":599999201,"sku":"ART-00003-1","quantity":4,"sale_price":"10.0"}]'
mk 499999200 3 '[{"id":599999201,"sku":"ART-00003-1","quantity":1,"sale_price":"10.0"},{"id":599999203,"sku":"ART-00003-3","quantity":2,"sale_price":"10.0"}]'
t_is "version 2 first" "$(chg_hook "$T_TMP/b2.json")" 200
t_ok "order B reserved" wait_for 30 is_state 499999200 reserved
t_is "version 2's lines reserved" "$(lvl ART-00003-1)|$(lvl ART-00003-2)" "50|4|50|0"
for f in b1 b2 b1 b3 b3 b2 b1; do chg_hook "$T_TMP/$f.json" >/dev/null; done
b_done() { [ "$(lvl ART-00003-3)" = "50|2" ]; }
t_ok "version 3 applies" wait_for 30 b_done
sleep 3
t_is "reservation = version 3's lines" \
    "$(lvl ART-00003-1)|$(lvl ART-00003-2)|$(lvl ART-00003-3)" "50|1|50|0|50|2"
t_is "order B: reserve (v2), reserve + release (v3), once each" \
    "$(moves 499999200)" "reserve,reserve,release"
t_is "order B's lines are version 3's" \
    "$(sql "SELECT string_agg(sku || 'x' || quantity, ',' ORDER BY line_no) FROM customer_order_line l JOIN customer_order o ON o.id = l.order_id WHERE o.remote_id = 499999200 AND NOT is_delivery")" \
    "ART-00003-1x1,ART-00003-3x2"
# The ledger's order exists only as webhooks: decline it so nothing stays
# reserved for an order the store does not have.
sed 's/"new"/"declined"/; s/0:03\.000/0:09.000/' "$T_TMP/b3.json" >"$T_TMP/b9.json"
chg_hook "$T_TMP/b9.json" >/dev/null
t_ok "order B declined: released" wait_for 30 is_state 499999200 released
t_is "nothing of B stays reserved" "$(lvl ART-00003-1)|$(lvl ART-00003-3)" "50|0|50|0"
t_ok "reconcile agrees after the reordered versions" wait_for 60 chg_reconciled

# 3. Cancelled after it shipped: a return movement to RET1, once.
c=$(chg_place ART-00004-1 2)
t_ok "order C reserved" wait_for 30 is_state "$c" reserved
chg_status "$c" dispatched
t_ok "order C shipped" wait_for 30 is_state "$c" shipped
t_is "ART-00004-1 shipped" "$(lvl ART-00004-1)" "48|0"
chg_status "$c" declined
t_ok "declined after shipment: returned" wait_for 30 is_state "$c" returned
t_is "back on hand at the return location" "$(at RET1 ART-00004-1)|$(at WH1 ART-00004-1)" "2|48"
chg_body "$c" "$T_TMP/c.json"
chg_hook "$T_TMP/c.json" >/dev/null
chg_status "$c" returned
sleep 4
t_is "order C: reserve, ship, return once each" "$(moves "$c")" "reserve,ship,return"
t_is "order C needs no attention" \
    "$(sql "SELECT coalesce(attention_reason, '') FROM customer_order WHERE remote_id = $c")" ""
t_ok "reconcile agrees after the cancellation" wait_for 60 chg_reconciled

# 4. A customer's return of a delivered order.
d=$(chg_place ART-00004-2 1)
t_ok "order D reserved" wait_for 30 is_state "$d" reserved
chg_status "$d" delivered
t_ok "order D shipped" wait_for 30 is_state "$d" shipped
chg_status "$d" returned
t_ok "order D returned" wait_for 30 is_state "$d" returned
t_is "D's unit is at the return location" "$(at RET1 ART-00004-2)|$(lvl ART-00004-2)" "1|50|0"
t_is "order D: reserve, ship, return" "$(moves "$d")" "reserve,ship,return"

t_ok "reconcile $CAT_STORE exits 0" wait_for 60 chg_reconciled
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
