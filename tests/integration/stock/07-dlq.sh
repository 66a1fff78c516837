#!/usr/bin/env bash
# harness: fresh-kafka
# A store rejecting one item of a batch: store-sim in sync group-update
# mode answers [{id,status}] per item; one remote_map row points at a
# variant id the store does not have ("not_found").  That item goes to the
# DLQ (key, reason header), the other 9 of the batch reach the store, and
# the offsets move on; later changes keep flowing.  reconcile then shows
# the variant (matched by SKU only) as drift that --repair cannot fix.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

STORE="s7d$$"
st_ledger 1 10 # STK-0001-01..10
st_sim sim --group-update sync
st_store "$STORE" sim WEB1 WH1
st_prefill "$STORE" sim % # DELIVERY too (reconcile)
BAD_SKU=STK-0001-04
bad_vid=$(sql "SELECT id FROM variant WHERE sku = '$BAD_SKU'")
sql "UPDATE remote_map SET remote_id = 299999999 WHERE entity = 'variant' AND local_id = $bad_vid" ||
    t_bail "remote_map"
# A backlog of 10 changes (publisher not running yet): one batch of 10.
for i in 01 02 03 04 05 06 07 08 09 10; do
    omnisync stock receipt WH1 "STK-0001-$i" "1$i" >/dev/null 2>&1 || t_bail "receipt $i"
done
st_relay relay
t_ok "the relay sent the 10 events" wait_for 30 st_drained
seq0=$(st_seq sim)
st_pub pub
qty() {
    sim_get sim "/_sim/state?skus=1" | python3 -c "
import json, sys
print(json.load(sys.stdin)['variants_by_sku']['$1']['quantity'])"
}
nine() {
    for i in 01 02 03 05 06 07 08 09 10; do
        [ "$(qty "STK-0001-$i")" = "1$i" ] || return 1
    done
}
t_ok "the other 9 variants reach the store" wait_for 30 nine
t_is "the rejected variant keeps its old quantity" "$(qty "$BAD_SKU")" 0
t_is "one group-update call for the batch" "$(st_calls sim "$seq0")" 1

dlq() {
    kcat -C -b "$OMNISYNC_KAFKA" -t omnisync.dlq.v1 -e -q \
        -f '%k\t%h\t%s\n' 2>/dev/null
}
has_dlq() { dlq | grep -q "^$STORE:$bad_vid"; }
t_ok "the rejected item is in the DLQ" wait_for 30 has_dlq
rec=$(dlq | grep "^$STORE:$bad_vid" | head -1)
t_like "DLQ reason header: the store's item status" "$rec" \
    '__connect.errors.exception.message=store rejected variant 299999999: status not_found'
t_like "DLQ origin: stock-publisher, the stock topic (a coalesced item)" "$rec" \
    'omnisync.errors.service=stock-publisher,omnisync.errors.source=omnisync.stock.v1'
t_like "DLQ value: the last event of the variant" "$rec" "\"sku\": ?\"$BAD_SKU\""
t_is "only that item is dead-lettered" "$(dlq | grep -c .)" 1
t_is "noted in the ledger: omnisync dlq list names store, variant, source" \
    "$(omnisync dlq list --json | jq -c '[.[] | [.store, .entity, .local_id, .source, .topic, .state]]')" \
    "[[\"$STORE\",\"variant\",$bad_vid,\"omnisync.stock.v1\",\"\",\"open\"]]"
sleep 1.5
t_like "offsets committed past the rejected item (nothing pending)" \
    "$(grep 'stats: ' "$T_TMP/pub.log" | tail -1)" 'pending=0'

# ---- later changes of good variants still go through
omnisync stock receipt WH1 STK-0001-02 5 >/dev/null 2>&1
is107() { [ "$(qty STK-0001-02)" = 107 ]; }
t_ok "later changes of good variants still go through" wait_for 30 is107

# ---- reconcile: the store's STK-0001-04 is matched by SKU only (the map
# points elsewhere), so its drift is reported and not repairable by events
omnisync reconcile "$STORE" --json >"$T_TMP/rec.out" 2>/dev/null
t_is "reconcile exits 1" "$?" 1
t_is "reconcile: the rejected variant's quantity drift" "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
print([(x["sku"], x["field"], x["store"], x["ledger"]) for x in d["drift"]], d["missing_in_store"], d["unknown_in_store"])' "$T_TMP/rec.out")" \
    "[('$BAD_SKU', 'quantity', '0', '104')] [] []"
omnisync reconcile "$STORE" --repair --timeout 5 >"$T_TMP/rep.out" 2>"$T_TMP/rep.err"
t_is "--repair: exit 1 (not repairable by a stock event)" "$?" 1
t_is "--repair emitted nothing" \
    "$(sql "SELECT count(*) FROM outbox WHERE type = 'stock.available' AND (data->>'variant_id')::bigint = $bad_vid")" 1
t_ok "stock-publisher stops cleanly" t_kill pub
t_done
