#!/usr/bin/env bash
# harness: fresh-kafka
# Orders the intake accepts (they name an id and a version) but whose
# values are out of range (docs/limits.md) are kept as needs-attention
# orders an operator sees, with the reason naming the field — never only
# on the dead-letter topic — and reserve nothing: a quantity of 1e12, 1.5
# or 1e19 (once undefined behaviour), a price of 99999999999999, a
# negative line or delivery price.  A version of year 0000 or before 1970
# is refused by the intake (422).  A later good version of a held order
# applies (its reservation made once).
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

ord_setup 10 20 0
ord_start oi
t_ok "intake up" wait_for 20 ord_healthy

body() { # ID QTY PRICE DELIVERY [UPDATED]
    printf '{"id": %s, "updated_at": "%s", "delivery_price": %s, "order_lines": [{"id": %s1, "sku": "ART-00001-1", "quantity": %s, "sale_price": %s}]}' \
        "$1" "${5:-2030-01-01T00:00:00Z}" "$4" "$1" "$2" "$3" >"$T_TMP/o$1.json"
    echo "$T_TMP/o$1.json"
}
declare -A why=(
    [700001]='order_lines\[0\]\.quantity: out of range'
    [700002]='order_lines\[0\]\.quantity: expected integer'
    [700003]='order_lines\[0\]\.quantity: out of range'
    [700004]='order_lines\[0\]\.sale_price: expected money'
    [700005]='order_lines\[0\]\.sale_price: expected money'
    [700006]='delivery_price: expected money'
)
t_is "quantity 1e12: 200" "$(hook_post "$ORD_SECRET" "$(body 700001 1e12 '"10"' '"0"')")" 200
t_is "quantity 1.5: 200" "$(hook_post "$ORD_SECRET" "$(body 700002 1.5 '"10"' '"0"')")" 200
t_is "quantity 1e19: 200" "$(hook_post "$ORD_SECRET" "$(body 700003 1e19 '"10"' '"0"')")" 200
t_is "price 99999999999999: 200" "$(hook_post "$ORD_SECRET" "$(body 700004 1 '"99999999999999"' '"0"')")" 200
t_is "negative price: 200" "$(hook_post "$ORD_SECRET" "$(body 700005 1 '"-5"' '"0"')")" 200
t_is "negative delivery price: 200" "$(hook_post "$ORD_SECRET" "$(body 700006 1 '"10"' '"-300"')")" 200
t_is "year 0000: 422" "$(hook_post "$ORD_SECRET" "$(body 700007 1 '"10"' '"0"' 0000-01-01T00:00:00Z)")" 422
t_is "year 1969: 422" "$(hook_post "$ORD_SECRET" "$(body 700008 1 '"10"' '"0"' 1969-12-31T23:59:59Z)")" 422

held() { [ "$(sql "SELECT count(*) FROM customer_order WHERE status = 'needs_attention'")" = 6 ]; }
t_ok "the six bad orders are kept as needs_attention" wait_for 30 held
for id in "${!why[@]}"; do
    t_like "order $id: the reason names the field" \
        "$(sql "SELECT attention_reason FROM customer_order WHERE remote_id = $id")" "${why[$id]}"
done
t_is "nothing reserved by them" "$(lvl ART-00001-1)" "30|0"
t_is "no lines stored for them" "$(sql "SELECT count(*) FROM customer_order_line")" 0
t_is "orders list --needs-attention --json lists the six" \
    "$(omnisync orders list --needs-attention --json | python3 -c 'import json,sys; print(sorted(o["remote_id"] for o in json.load(sys.stdin)))')" \
    "[700001, 700002, 700003, 700004, 700005, 700006]"
t_is "none of them only on the dead-letter topic" "$(grep -c 'dlq:' "$T_TMP/oi.log")" 0
t_is "the refused versions never reached the ledger" \
    "$(sql "SELECT count(*) FROM customer_order WHERE remote_id IN (700007, 700008)")" 0

# The same version again changes nothing; a newer good one applies once.
t_is "the same bad version again: 200" "$(hook_post "$ORD_SECRET" "$(body 700001 1e12 '"10"' '"0"')")" 200
t_is "a newer good version: 200" \
    "$(hook_post "$ORD_SECRET" "$(body 700001 2 '"10"' '"0"' 2030-01-02T00:00:00Z)")" 200
good() { [ "$(lvl ART-00001-1)" = "30|2" ]; }
t_ok "the good version reserves 2" wait_for 30 good
sleep 2
t_is "once" "$(sql "SELECT count(*) FROM stock_movement m JOIN customer_order o ON o.id = m.order_id WHERE o.remote_id = 700001 AND m.kind = 'reserve'")" 1
t_ok "the process is still alive" kill -0 "$(t_pid oi)"
t_kill oi TERM
t_is "order-ingestor exits 0" "$?" 0
t_done
