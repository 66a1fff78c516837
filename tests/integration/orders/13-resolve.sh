#!/usr/bin/env bash
# harness: fresh-kafka
# An order line with a SKU the ledger does not know makes the order
# needs_attention; `orders list --needs-attention` shows the reason per
# line; `omnisync orders resolve` maps the line to a SKU or drops it,
# applies the order (reservation, attention cleared), records who and
# when, and later versions of the order keep the decision; bad decisions
# are refused (exit 2) with nothing changed.  The store agrees with the
# ledger at the end (`omnisync reconcile`).
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/orders/changes-lib.bash"

chg_setup

# ver ID N STATUS LINES -> $T_TMP/<ID>-<N>.json, a version of a store order
ver() {
    cat >"$T_TMP/$1-$2.json" <<JSON
{"id": $1, "number": $(( $1 % 10000 )), "updated_at": "2030-01-01T00:00:0$2.000+03:00",
 "fulfillment_status": "$3", "delivery_price": "0.0", "order_lines": $4}
JSON
}
g_lines='[{"id":599999301,"sku":"GHOST-1","quantity":1,"sale_price":"10.0"},{"id":599999302,"sku":"ART-00002-1","quantity":2,"sale_price":"10.0"}]'
ver 499999300 1 new "$g_lines"
t_is "order G (unknown SKU) accepted" "$(chg_hook "$T_TMP/499999300-1.json")" 200
attn() { [ "$(sql "SELECT status FROM customer_order WHERE remote_id = $1")" = needs_attention ]; }
t_ok "order G needs attention" wait_for 30 attn 499999300
list=$(omnisync orders list --needs-attention)
t_like "list --needs-attention: the reason of line 1" "$list" \
    "$CAT_STORE +499999300 +1 +GHOST-1 +1 +unknown SKU 'GHOST-1'"
t_is "list --needs-attention --json: line_reasons" \
    "$(omnisync orders list --needs-attention --json | jq -c '[.[0].line_reasons[] | [.remote_id, .line, .sku, .quantity, .reason]]')" \
    "[[499999300,1,\"GHOST-1\",1,\"unknown SKU 'GHOST-1' (variant 0)\"]]"
t_is "the known line is reserved" "$(lvl ART-00002-1)" "50|2"

# Refused decisions: exit 2, nothing changed.
run() { OUT=$("$@" 2>&1); RC=$?; }
run omnisync orders resolve "$CAT_STORE" 499999300 --map 3=ART-00003-1 --by alice
t_is "a line the order lacks: exit 2" "$RC" 2
t_like "... named" "$OUT" 'line 3: the order has 2 lines'
run omnisync orders resolve "$CAT_STORE" 499999300 --map 1=NOPE-1 --by alice
t_is "an unknown SKU: exit 2" "$RC" 2
t_like "... named" "$OUT" "unknown SKU 'NOPE-1'"
run omnisync orders resolve "$CAT_STORE" 499999300 --by alice
t_is "no decision: exit 2" "$RC" 2
run omnisync orders resolve "$CAT_STORE" 499999300 --map 1 --by alice
t_is "--map without =SKU: exit 2" "$RC" 2
run omnisync orders resolve "$CAT_STORE" 12345 --drop 1 --by alice
t_is "an unknown order: exit 2" "$RC" 2
t_is "still needs attention, nothing recorded" \
    "$(sql "SELECT status || '|' || coalesce(resolved_by, '-') FROM customer_order WHERE remote_id = 499999300")" \
    "needs_attention|-"

# Map line 1 to ART-00003-1.
run omnisync orders resolve "$CAT_STORE" 499999300 --map 1=ART-00003-1 --by alice
t_is "resolve --map exits 0" "$RC" 0
t_like "... and says so" "$OUT" 'resolved order 499999300 .* by alice: status new'
t_is "order G applied: status, no attention, stock" \
    "$(sql "SELECT status || '|' || coalesce(attention_reason, '-') || '|' || stock_state FROM customer_order WHERE remote_id = 499999300")" \
    "new|-|reserved"
t_is "the mapped line is reserved" "$(lvl ART-00003-1)|$(lvl ART-00002-1)" "50|1|50|2"
t_is "who and when are recorded" \
    "$(sql "SELECT resolved_by || '|' || (resolved_at > now() - interval '1 minute') FROM customer_order WHERE remote_id = 499999300")" \
    "alice|true"
t_like "orders show names who decided" "$(omnisync orders show "$CAT_STORE" 499999300)" 'resolved_by +alice'
t_is "orders list --needs-attention is empty" \
    "$(omnisync orders list --needs-attention --json)" "[]"
t_ok "reconcile agrees after the resolution" wait_for 60 chg_reconciled

# A later version from the store keeps the decision.
ver 499999300 2 accepted "$g_lines"
chg_hook "$T_TMP/499999300-2.json" >/dev/null
accepted() { [ "$(sql "SELECT status FROM customer_order WHERE remote_id = 499999300")" = accepted ]; }
t_ok "version 2 applies" wait_for 30 accepted
t_is "... with line 1 still mapped: no attention, same reservation" \
    "$(sql "SELECT coalesce(attention_reason, '-') FROM customer_order WHERE remote_id = 499999300")|$(lvl ART-00003-1)|$(lvl ART-00002-1)" \
    "-|50|1|50|2"

# Deciding again replaces the decision on that line: dropped now.
USER=bob omnisync orders resolve "$CAT_STORE" 499999300 --drop 1 >/dev/null
t_is "resolve --drop (by \$USER) exits 0" "$?" 0
t_is "the mapped unit is released, the line kept as dropped" \
    "$(lvl ART-00003-1)|$(sql "SELECT dropped FROM customer_order_line l JOIN customer_order o ON o.id = l.order_id WHERE o.remote_id = 499999300 AND l.line_no = 1")" \
    "50|0|t"
t_is "resolved by bob" "$(sql "SELECT resolved_by FROM customer_order WHERE remote_id = 499999300")" bob

# Order H: drop its unknown line at once.
ver 499999400 1 new '[{"id":599999401,"sku":"GHOST-2","quantity":2,"sale_price":"10.0"},{"id":599999402,"sku":"ART-00002-2","quantity":1,"sale_price":"10.0"}]'
chg_hook "$T_TMP/499999400-1.json" >/dev/null
t_ok "order H needs attention" wait_for 30 attn 499999400
t_ok "resolve H --drop 1 --json" \
    bash -c "omnisync orders resolve '$CAT_STORE' 499999400 --drop=1 --by carol --json | jq -e '.needs_attention == false and .resolved_by == \"carol\"'"
t_is "H: only the known line is reserved" "$(lvl ART-00002-2)" "50|1"

# Both orders exist only as webhooks: decline them so nothing stays
# reserved for orders the store does not have, then compare.
ver 499999300 3 declined "$g_lines"
ver 499999400 2 declined '[{"id":599999401,"sku":"GHOST-2","quantity":2,"sale_price":"10.0"},{"id":599999402,"sku":"ART-00002-2","quantity":1,"sale_price":"10.0"}]'
chg_hook "$T_TMP/499999300-3.json" >/dev/null
chg_hook "$T_TMP/499999400-2.json" >/dev/null
t_ok "G released" wait_for 30 is_state 499999300 released
t_ok "H released" wait_for 30 is_state 499999400 released
t_is "nothing reserved" "$(sql "SELECT sum(reserved) FROM stock_level")" 0
t_ok "reconcile $CAT_STORE exits 0" wait_for 60 chg_reconciled
t_done
