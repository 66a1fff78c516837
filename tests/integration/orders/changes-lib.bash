# shellcheck shell=bash
# tests/integration/orders/changes-lib.bash — the whole loop for the
# order-change and resolve scripts (not a test itself: tests/run.sh runs
# only *.sh): the catalog in the store (catalog-publisher, `sync
# initial`), stock pushed (stock-publisher), orders back (order-ingestor).
#
#   . "$OMNISYNC_ROOT/tests/integration/orders/changes-lib.bash"
#   chg_setup              4 products x 3 variants, 50 of each ART-0000[234]-*
#                          at WH1, location RET1; CAT_STORE_ARGS as given
#   chg_place SKU QTY [SKU QTY]...   a shopper's order; prints its id
#   chg_put ID JSON        PUT /admin/orders/ID.json {"order": JSON}
#   chg_status ID STATUS   the shop's manager sets the fulfillment status
#   chg_line_id ID N       the store's id of the order's line N (1-based)
#   chg_variant_id SKU     the store's variant id of SKU
#   chg_hook FILE          POST FILE as an order webhook; prints the status
#   chg_body ID FILE       the order as the store shows it now, into FILE
#   at LOC SKU             on hand of SKU at LOC
#   moves ID               the order's movement kinds, by id
#   (and order-helpers.bash: hook_post, lvl, state, is_state)
#   chg_reconciled         `omnisync reconcile` exits 0 (wait_for it)
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
. "$OMNISYNC_ROOT/tests/integration/orders/order-helpers.bash"

chg_sim() { # METHOD PATH [JSON]
    curl -sf -u "$CAT_LOGIN:$CAT_PW" -H 'Content-Type: application/json' \
        -X "$1" ${3:+--data-binary "$3"} "http://127.0.0.1:$CAT_SIM_PORT$2"
}

chg_setup() {
    local s
    omnisync db migrate >/dev/null || t_bail "db migrate"
    omnisync location add RET1 --kind warehouse >/dev/null || t_bail "RET1"
    cat_setup 4 3
    for s in ART-00002-1 ART-00002-2 ART-00002-3 ART-00003-1 ART-00003-2 \
        ART-00003-3 ART-00004-1 ART-00004-2 ART-00004-3; do
        omnisync stock receipt WH1 "$s" 50 >/dev/null || t_bail "receipt $s"
    done
    t_bg stockpub stock-publisher -o log.level=info ${HARNESS_KAFKA_OPTS:-}
    omnisync sync initial "$CAT_STORE" --timeout 120 >"$T_TMP/sync.log" 2>&1 ||
        t_bail "sync initial: $(tail -3 "$T_TMP/sync.log")"
    ORD_PORT=$(free_port)
    t_bg oi order-ingestor -o log.level=info \
        -o intake.listen="127.0.0.1:$ORD_PORT" \
        -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
        -o poll.interval.ms=2000 -o stores.refresh.ms=2000 \
        ${HARNESS_KAFKA_OPTS:-}
    ORD_SECRET=$(omnisync store show "$CAT_STORE" --webhook-secret --json | jq -r .webhook_secret)
    wait_for 20 curl -sf "http://127.0.0.1:$ORD_PORT/healthz" >/dev/null ||
        t_bail "order-ingestor did not start"
}

chg_place() {
    local lines="" sep=""
    while [ $# -ge 2 ]; do
        lines="$lines$sep{\"sku\":\"$1\",\"quantity\":$2}"
        sep=,
        shift 2
    done
    chg_sim POST /_sim/orders "{\"lines\":[$lines],\"delivery_price\":\"300.0\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

chg_put() { chg_sim PUT "/admin/orders/$1.json" "{\"order\":$2}" >/dev/null; }

chg_status() {
    chg_sim POST "/_sim/orders/$1/status" "{\"fulfillment_status\":\"$2\"}" >/dev/null
}

chg_line_id() {
    chg_sim GET "/admin/orders/$1.json" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['order_lines'][$2 - 1]['id'])"
}

chg_variant_id() {
    chg_sim GET "/admin/products.json?per_page=250" | python3 -c "
import json, sys
print([v['id'] for p in json.load(sys.stdin) for v in p['variants'] if v['sku'] == '$1'][0])"
}

chg_body() { chg_sim GET "/admin/orders/$1.json" >"$2"; }

chg_hook() { hook_post "$ORD_SECRET" "$1"; }

at() {
    sql "SELECT coalesce(sum(l.on_hand), 0) FROM stock_level l JOIN variant v ON v.id = l.variant_id JOIN location lo ON lo.id = l.location_id WHERE v.sku = '$2' AND lo.code = '$1'"
}
moves() {
    sql "SELECT string_agg(m.kind, ',' ORDER BY m.id) FROM stock_movement m JOIN customer_order o ON o.id = m.order_id WHERE o.remote_id = $1"
}
chg_reconciled() { omnisync reconcile "$CAT_STORE" >"$T_TMP/reconcile.out" 2>&1; }
