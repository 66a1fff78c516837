#!/usr/bin/env bash
# harness: fresh-kafka
# An order for a SKU the ledger lacks is kept as needs_attention (visible
# in the CLI) with what could be reserved; a line that cannot be reserved
# in full too; an older version delivered after a newer one never
# overwrites it.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

ord_setup 10 20 0
ord_start oi
t_ok "intake up" wait_for 20 ord_healthy

# Unknown SKU: GHOST-1 is on sale in the store, not in the ledger.
o=$(sim_post /_sim/orders '{"lines":[{"sku":"GHOST-1","quantity":1},{"sku":"ART-00001-1","quantity":2}],"delivery_price":"300.0"}')
gid=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$o")
got() { [ -n "$(sql "SELECT 1 FROM customer_order WHERE remote_id = $1")" ]; }
t_ok "order with an unknown SKU reaches the ledger" wait_for 30 got "$gid"
t_is "its status is needs_attention" \
    "$(sql "SELECT status FROM customer_order WHERE remote_id = $gid")" needs_attention
t_like "the reason names the SKU" \
    "$(sql "SELECT attention_reason FROM customer_order WHERE remote_id = $gid")" "unknown SKU 'GHOST-1'"
list=$(omnisync orders list --needs-attention)
t_like "orders list --needs-attention shows it" "$list" "$ORD_STORE +$gid .*needs_attention.*GHOST-1"
t_is "orders list --needs-attention --json has exactly it" \
    "$(omnisync orders list --needs-attention --json | python3 -c 'import json,sys; print([o["remote_id"] for o in json.load(sys.stdin)])')" "[$gid]"
show=$(omnisync orders show "$ORD_STORE" "$gid")
t_like "orders show lists the unknown line" "$show" 'GHOST-1'
t_like "orders show lists the delivery line" "$show" "$ORD_DELIVERY_SKU .* 300.00 .*yes"
t_like "the known line is reserved at the online location" "$show" 'reserve +WEB1 +ART-00001-1 +0 +2'
t_is "ledger reserved of ART-00001-1" \
    "$(sql "SELECT sum(reserved) FROM stock_level l JOIN variant v ON v.id = l.variant_id WHERE v.sku = 'ART-00001-1'")" 2

# Shortage: 35 of ART-00002-1 when WEB1 has 10 and WH1 20 -> 30 reserved.
cat >"$T_TMP/short.json" <<JSON
{"id": 499999100, "number": 9100, "updated_at": "2030-01-01T00:00:00.000+03:00",
 "fulfillment_status": "new", "delivery_price": "0.0",
 "order_lines": [{"id": 599999100, "sku": "ART-00002-1", "quantity": 35, "sale_price": "10.0"}]}
JSON
t_is "webhook body for a shortage accepted" "$(hook_post "$ORD_SECRET" "$T_TMP/short.json")" 200
t_ok "shortage order applied" wait_for 30 got 499999100
t_like "shortage order needs attention with the reason" \
    "$(sql "SELECT status || ' ' || attention_reason FROM customer_order WHERE remote_id = 499999100")" \
    "needs_attention SKU 'ART-00002-1': reserved 30 of 35"
t_is "online location first, then WH1 (WH2 has none)" \
    "$(sql "SELECT string_agg(lo.code || '=' || ml.reserved_delta, ',' ORDER BY lo.code) FROM stock_movement m JOIN stock_movement_line ml ON ml.movement_id = m.id JOIN location lo ON lo.id = ml.location_id JOIN customer_order o ON o.id = m.order_id WHERE o.remote_id = 499999100")" \
    "WEB1=10,WH1=20"

# Out of order: version 2 (declined, paid) arrives before version 1 (new).
cat >"$T_TMP/v1.json" <<JSON
{"id": 499999001, "number": 9001, "updated_at": "2030-01-01T00:00:00.000+03:00",
 "fulfillment_status": "new", "financial_status": "pending", "delivery_price": "300.0",
 "order_lines": [{"id": 599999001, "sku": "ART-00003-1", "quantity": 2, "sale_price": "100.0"}]}
JSON
sed -e 's/"new"/"accepted"/' -e 's/"pending"/"paid"/' \
    -e 's/00:00:00.000+03:00/00:00:01.000+03:00/' "$T_TMP/v1.json" >"$T_TMP/v2.json"
t_is "newer version accepted" "$(hook_post "$ORD_SECRET" "$T_TMP/v2.json")" 200
t_ok "newer version applied" wait_for 30 got 499999001
t_is "older version accepted by the intake too" "$(hook_post "$ORD_SECRET" "$T_TMP/v1.json")" 200
stale() { grep -q "order $ORD_STORE:499999001 (webhook) updated" "$T_TMP/oi.log" && return 1; sleep 3; }
sleep 3
row=$(sql "SELECT status, financial_status, to_char(remote_updated_at AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM customer_order WHERE remote_id = 499999001")
t_is "the older version did not overwrite the newer" "$row" "accepted|paid|21:00:01"
t_is "reserved once" "$(sql "SELECT count(*) FROM stock_movement m JOIN customer_order o ON o.id = m.order_id WHERE o.remote_id = 499999001")" 1
# A replay of the newer version changes nothing either.
t_is "replayed newer version accepted" "$(hook_post "$ORD_SECRET" "$T_TMP/v2.json")" 200
sleep 2
t_is "still one movement, same version" \
    "$(sql "SELECT count(*) FROM stock_movement m JOIN customer_order o ON o.id = m.order_id WHERE o.remote_id = 499999001")|$(sql "SELECT financial_status FROM customer_order WHERE remote_id = 499999001")" "1|paid"
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
