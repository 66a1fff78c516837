#!/usr/bin/env bash
# harness: fresh-kafka
# omnisync store set changes a store's settings while every service runs:
# safety stock, price list and sources reach the store within the usual
# latency with one group update for exactly the variants that change;
# delivery SKU, return location, API budget, URL and password take effect
# without a restart; the password is never printed.  omnisync store
# remove stops syncing a store and keeps its history.  After each
# scenario `omnisync reconcile` exits 0.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/orders/changes-lib.bash"

run() { RC=0; OUT=$("$@" 2>&1) || RC=$?; }
S=$CAT_STORE
qty() { sim_get "/_sim/state?skus=1" | jq -r ".variants_by_sku[\"$1\"].$2"; }
is_qty() { [ "$(qty "$1" "${3:-quantity}")" = "$2" ]; }
group_updates() { sim_changes "$1" | grep -c variants_group_update; }
events_of() { printf '%s' "$OUT" | jq -r .stock_events; }

chg_setup
t_ok "converged before any change" wait_for 60 chg_reconciled

# 1. Safety stock: the 9 stocked variants drop by 5, in one group update.
seq=$(sim_seq)
run omnisync store set "$S" --safety-stock 5 --json
t_is "store set --safety-stock exits 0" "$RC" 0
t_is "... 9 stock events (the stocked variants)" "$(events_of)" 9
t_ok "the store shows 45 of ART-00002-1" wait_for 20 is_qty ART-00002-1 45
t_ok "reconcile agrees" wait_for 30 chg_reconciled
t_is "one group update for the 9 variants" "$(group_updates "$seq")" 1
run omnisync store set "$S" --safety-stock 5 --json
t_is "the same value again: no stock event" "$(events_of)" 0

# 2. Price list: ONLINE2 has the same prices and old prices but for
#    ART-00002-*: only those three are pushed.
omnisync pricelist add ONLINE2 --name Online2 >/dev/null || t_bail "pricelist"
sql "SELECT 'sku,price,old_price' UNION ALL SELECT * FROM (SELECT v.sku || ',' || (p.price + CASE WHEN v.sku LIKE 'ART-00002-%' THEN 100 ELSE 0 END)::text || ',' || coalesce(p.old_price::text, '') FROM price p JOIN variant v ON v.id = p.variant_id JOIN price_list pl ON pl.id = p.price_list_id WHERE pl.code = 'ONLINE' ORDER BY 1) x" >"$T_TMP/prices.csv"
omnisync import prices "$T_TMP/prices.csv" --price-list ONLINE2 >/dev/null ||
    t_bail "import prices"
new_price=$(sql "SELECT p.price FROM price p JOIN variant v ON v.id = p.variant_id JOIN price_list pl ON pl.id = p.price_list_id WHERE pl.code = 'ONLINE2' AND v.sku = 'ART-00002-1'")
seq=$(sim_seq)
run omnisync store set "$S" --price-list ONLINE2 --json
t_is "store set --price-list exits 0" "$RC" 0
t_is "... 3 stock events (the variants whose price changes)" "$(events_of)" 3
price_is() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) == float(sys.argv[2]) else 1)" "$(qty ART-00002-1 price)" "$new_price"; }
t_ok "the store shows the new price of ART-00002-1" wait_for 20 price_is
t_ok "reconcile agrees" wait_for 30 chg_reconciled
t_is "one group update for the 3 variants" "$(group_updates "$seq")" 1

# 3. Sources: WH2 (20 of ART-00003-1) joins; the next order reserves there.
omnisync location add WH2 --kind warehouse >/dev/null || t_bail "WH2"
omnisync stock receipt WH2 ART-00003-1 20 >/dev/null || t_bail "receipt"
run omnisync store set "$S" --source-locations WH1,WH2 --json
t_is "store set --source-locations: 1 stock event" "$(events_of)" 1
t_ok "the store shows 65 of ART-00003-1" wait_for 20 is_qty ART-00003-1 65
t_like "store show lists the sources" "$(omnisync store show "$S")" 'source_locations +WH1,WH2'
o=$(chg_place ART-00003-1 55)
t_ok "an order of 55 is reserved" wait_for 30 is_state "$o" reserved
t_is "... 50 at WH1, then 5 at WH2" \
    "$(sql "SELECT string_agg(lo.code || ':' || l.reserved, ',' ORDER BY lo.code) FROM stock_level l JOIN location lo ON lo.id = l.location_id JOIN variant v ON v.id = l.variant_id WHERE v.sku = 'ART-00003-1' AND l.reserved > 0")" \
    "WH1:50,WH2:5"
t_ok "reconcile agrees" wait_for 30 chg_reconciled

# 4. Delivery SKU and return location: the next order and return use them.
t_ok "store set --delivery-sku --return-location" \
    omnisync store set "$S" --delivery-sku ART-00001-2 --return-location RET1
d=$(chg_place ART-00004-1 1)
t_ok "order D reserved" wait_for 30 is_state "$d" reserved
t_is "its delivery line is ART-00001-2" \
    "$(sql "SELECT l.sku FROM customer_order_line l JOIN customer_order o ON o.id = l.order_id WHERE o.remote_id = $d AND l.is_delivery")" ART-00001-2
chg_status "$d" delivered
t_ok "order D shipped" wait_for 30 is_state "$d" shipped
chg_status "$d" returned
t_ok "order D returned" wait_for 30 is_state "$d" returned
t_is "... to RET1" "$(at RET1 ART-00004-1)" 1
t_ok "reconcile agrees" wait_for 30 chg_reconciled

# 5. API budget, URL and password: the services reload the store (log),
#    the password is sealed anew and never printed, the store still syncs.
printf '%s\n' "$CAT_PW" >"$T_TMP/pw"
box=$(sql "SELECT encode(password_box, 'hex') FROM store WHERE name = '$S'")
run omnisync store set "$S" --api-limit 450 --api-window 20 \
    --url "http://127.0.0.1:$CAT_SIM_PORT" --password-file "$T_TMP/pw"
t_is "store set --api-limit --api-window --url --password-file exits 0" "$RC" 0
t_isnt "the password is sealed anew" \
    "$(sql "SELECT encode(password_box, 'hex') FROM store WHERE name = '$S'")" "$box"
t_like "store show: the new budget" "$(omnisync store show "$S")" 'api_limit +450'
reloaded() { grep -q 'settings changed in the ledger, reloading' "$T_TMP/stockpub.log"; }
t_ok "stock-publisher reloads the store without a restart" wait_for 10 reloaded
omnisync stock receipt WH1 ART-00004-3 7 >/dev/null
t_ok "a receipt still reaches the store (57 - 5)" wait_for 20 is_qty ART-00004-3 52
all="$OUT $(omnisync store show "$S") $(omnisync store list --json) $(cat "$T_TMP"/*.log)"
t_unlike "the password is never printed" "$all" "$CAT_PW"
run env SP=x omnisync store set "$S" --password-env NOPE_UNSET
t_is "an unset --password-env: exit 2" "$RC" 2
run omnisync store set "$S"
t_is "nothing to change: exit 2" "$RC" 2
run omnisync store set "$S" --price-list NOPE
t_is "an unknown price list: exit 2, nothing changed" \
    "$RC|$(sql "SELECT pl.code FROM store s JOIN price_list pl ON pl.id = s.price_list_id WHERE s.name = '$S'")" "2|ONLINE2"
t_ok "reconcile agrees" wait_for 30 chg_reconciled

# 6. store remove: nothing is synced any more, the history stays.
run omnisync store remove "$S"
t_is "store remove exits 0" "$RC" 0
t_unlike "store list no longer shows it" "$(omnisync store list)" "$S"
sleep 2 # every service asks the ledger about its stores each second
seq=$(sim_seq)
omnisync stock receipt WH1 ART-00004-2 3 >/dev/null
body="$T_TMP/late.json"
chg_body "$o" "$body"
t_is "its webhooks are answered 404" "$(chg_hook "$body")" 404
sleep 4
t_is "no call to the store after the removal" "$(sim_changes "$seq" | wc -l)" 0
t_like "its orders stay (orders show)" "$(omnisync orders show "$S" "$d")" 'return +RET1'
run omnisync reconcile "$S"
t_is "reconcile of a removed store: exit 2" "$RC" 2
run omnisync store set "$S" --safety-stock 1
t_is "store set of a removed store: exit 2" "$RC" 2
t_done
