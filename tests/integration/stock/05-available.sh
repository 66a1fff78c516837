#!/usr/bin/env bash
# harness: fresh-kafka
# What the store may sell: on hand - reserved - safety stock, never below
# 0.  Reservations (reserve movements, as an online order makes) and the
# store's safety stock are subtracted; a sale beyond on hand (on hand < 0)
# shows 0, not a negative quantity.  Asserted on the store's quantity.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

STORE="s5a$$"
st_ledger 1 3 # STK-0001-01..03
st_sim sim
st_store "$STORE" sim WEB1 WH1 --safety-stock 2
st_prefill "$STORE" sim % # DELIVERY too (reconcile)
st_relay relay
st_pub pub
qty() {
    sim_get sim "/_sim/state?skus=1" | python3 -c "
import json, sys
print(json.load(sys.stdin)['variants_by_sku']['$1']['quantity'])"
}
is_qty() { [ "$(qty "$1")" = "$2" ]; } # is_qty SKU Q
level() { # level SKU: on_hand/reserved at WH1
    sql "SELECT l.on_hand || '/' || l.reserved FROM stock_level l
           JOIN variant v ON v.id = l.variant_id JOIN location c ON c.id = l.location_id
          WHERE c.code = 'WH1' AND v.sku = '$1'"
}

omnisync stock receipt WH1 STK-0001-01 10 >/dev/null 2>&1 || t_bail "receipt"
t_ok "10 on hand - safety 2: the store shows 8" wait_for 30 is_qty STK-0001-01 8
out=$(move-burst --location WH1 --sku-like STK-0001-01 --variants 1 --moves 3 \
    --kinds reserve --max-qty 1)
t_like "3 reserve movements" "$out" 'moves=3'
t_is "ledger: 10 on hand, 3 reserved" "$(level STK-0001-01)" "10/3"
t_ok "10 - 3 reserved - 2 safety: the store shows 5" wait_for 30 is_qty STK-0001-01 5
t_is "the event carries the parts" \
    "$(sql "SELECT data->>'on_hand' || ' ' || (data->>'reserved') || ' ' || (data->>'safety_stock') || ' ' || (data->>'available') FROM outbox WHERE type = 'stock.available' ORDER BY id DESC LIMIT 1")" \
    "10 3 2 5"
omnisync stock sale WH1 STK-0001-01 20 >/dev/null 2>&1 || t_bail "sale"
t_is "ledger: on hand -10 after a sale beyond stock" "$(level STK-0001-01)" "-10/3"
t_ok "the store shows 0, not a negative quantity" wait_for 30 is_qty STK-0001-01 0
t_is "the event's available is 0" \
    "$(sql "SELECT data->>'available' FROM outbox WHERE type = 'stock.available' ORDER BY id DESC LIMIT 1")" 0

# on hand within the safety stock: 0; one more: 1
omnisync stock receipt WH1 STK-0001-02 2 >/dev/null 2>&1 || t_bail "receipt 02"
sleep 1
t_ok "2 on hand, safety 2: the store shows 0" wait_for 30 is_qty STK-0001-02 0
omnisync stock receipt WH1 STK-0001-02 1 >/dev/null 2>&1 || t_bail "receipt 02"
t_ok "3 on hand, safety 2: the store shows 1" wait_for 30 is_qty STK-0001-02 1
# reserved beyond on hand: 0
omnisync stock receipt WH1 STK-0001-03 4 >/dev/null 2>&1 || t_bail "receipt 03"
move-burst --location WH1 --sku-like STK-0001-03 --variants 1 --moves 6 \
    --kinds reserve --max-qty 1 >/dev/null || t_bail "reserve 03"
t_is "ledger: 4 on hand, 6 reserved" "$(level STK-0001-03)" "4/6"
t_ok "reserved beyond on hand: the store shows 0" wait_for 30 is_qty STK-0001-03 0
omnisync stock receipt WH1 STK-0001-01 20 >/dev/null 2>&1 || t_bail "receipt"
t_ok "back above: 10 - 3 - 2 = 5" wait_for 30 is_qty STK-0001-01 5
t_ok "the store equals the ledger" st_compare "$STORE" sim
omnisync reconcile "$STORE" >/dev/null 2>&1
t_is "reconcile: exit 0" "$?" 0
t_ok "stock-publisher stops cleanly" t_kill pub
t_done
