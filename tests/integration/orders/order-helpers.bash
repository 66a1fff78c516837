# shellcheck shell=bash
# tests/integration/orders/order-helpers.bash — helpers both order
# libraries share (orders-lib.bash, changes-lib.bash); they need sql() and
# $ORD_PORT.
#
#   hook_post SECRET BODY_FILE   POST a webhook body to the intake; prints
#                                the HTTP status
#   lvl SKU                      "on_hand|reserved" summed over locations
#   state ID, is_state ID STATE  the order's stock_state

hook_post() {
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -X POST --data-binary "@$2" "http://127.0.0.1:$ORD_PORT/hooks/$1/orders"
}

lvl() { # SKU -> "on_hand|reserved" summed over locations
    sql "SELECT sum(on_hand) || '|' || sum(reserved) FROM stock_level l JOIN variant v ON v.id = l.variant_id WHERE v.sku = '$1'"
}
state() { sql "SELECT stock_state FROM customer_order WHERE remote_id = $1"; }
is_state() { [ "$(state "$1")" = "$2" ]; }
