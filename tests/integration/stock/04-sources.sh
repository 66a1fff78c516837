#!/usr/bin/env bash
# harness: fresh-kafka
# Which stores a movement reaches: two stores (two store-sims) share the
# warehouse WH1; store A also sells from the outlet OUT1.  A sale at OUT1
# (not a source of B) changes nothing in B — no event, no call, same
# quantity — and reaches A; a sale at WH1 updates both stores.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

A="s4a$$"
B="s4b$$"
st_ledger 2 5 # 10 variants
omnisync location add OUT1 --kind outlet >/dev/null || t_bail "OUT1"
omnisync location add WEB2 --kind online --price-list ONLINE >/dev/null || t_bail "WEB2"
st_sim simA
st_sim simB
st_store "$A" simA WEB1 WH1,OUT1
st_store "$B" simB WEB2 WH1
st_prefill "$A" simA %
st_prefill "$B" simB %
for s in STK-0001-01 STK-0001-02 STK-0002-01; do
    omnisync stock receipt WH1 "$s" 10 >/dev/null 2>&1 || t_bail "receipt $s"
done
omnisync stock receipt OUT1 STK-0001-01 5 >/dev/null 2>&1 || t_bail "receipt OUT1"
st_relay relay
st_pub pub
t_ok "store A converges" wait_for 60 st_compare "$A" simA
t_ok "store B converges" wait_for 60 st_compare "$B" simB

qty() { # qty SIM SKU
    sim_get "$1" "/_sim/state?skus=1" | python3 -c "
import json, sys
print(json.load(sys.stdin)['variants_by_sku']['$2']['quantity'])"
}
t_is "A sells WH1 + OUT1" "$(qty simA STK-0001-01)" 15
t_is "B sells WH1 only" "$(qty simB STK-0001-01)" 10

# ---- a sale at the outlet: A only
seqA=$(st_seq simA)
seqB=$(st_seq simB)
ev0=$(sql "SELECT coalesce(max(id), 0) FROM outbox")
omnisync stock sale OUT1 STK-0001-01 2 >/dev/null 2>&1 || t_bail "sale OUT1"
t_is "one stock event, for A only" \
    "$(sql "SELECT string_agg(store, ',') FROM outbox WHERE id > $ev0 AND type = 'stock.available'")" "$A"
a13() { [ "$(qty simA STK-0001-01)" = 13 ]; }
t_ok "A shows 13" wait_for 30 a13
sleep 2 # > stockpub.flush.ms (500) + the store's queue delay (200 ms)
t_is "B got no group update" "$(st_calls simB "$seqB")" 0
t_is "B still shows 10" "$(qty simB STK-0001-01)" 10
t_is "A got one group update" "$(st_calls simA "$seqA")" 1

# ---- a sale at the shared warehouse: both
seqA=$(st_seq simA)
seqB=$(st_seq simB)
ev0=$(sql "SELECT coalesce(max(id), 0) FROM outbox")
omnisync stock sale WH1 STK-0001-01 3 >/dev/null 2>&1 || t_bail "sale WH1"
t_is "one stock event per store fed by WH1" \
    "$(sql "SELECT string_agg(store, ',' ORDER BY store) FROM outbox WHERE id > $ev0 AND type = 'stock.available'")" "$A,$B"
a10() { [ "$(qty simA STK-0001-01)" = 10 ]; }
b7() { [ "$(qty simB STK-0001-01)" = 7 ]; }
t_ok "A shows 10 (7 at WH1 + 3 at OUT1)" wait_for 30 a10
t_ok "B shows 7" wait_for 30 b7
t_is "A: one group update" "$(st_calls simA "$seqA")" 1
t_is "B: one group update" "$(st_calls simB "$seqB")" 1

# ---- a transfer between OUT1 and WH1 changes B (WH1) and not A's total
ev0=$(sql "SELECT coalesce(max(id), 0) FROM outbox")
omnisync stock transfer OUT1 WH1 STK-0001-01 3 >/dev/null 2>&1 || t_bail "transfer"
t_is "transfer: events for both stores, A's total unchanged" \
    "$(sql "SELECT string_agg(store || '=' || (data->>'available'), ',' ORDER BY store) FROM outbox WHERE id > $ev0 AND type = 'stock.available'")" \
    "$A=10,$B=10"
b10() { [ "$(qty simB STK-0001-01)" = 10 ]; }
t_ok "B shows 10" wait_for 30 b10
t_ok "A equals the ledger" st_compare "$A" simA
omnisync reconcile "$A" >/dev/null 2>&1
t_is "reconcile A: exit 0" "$?" 0
omnisync reconcile "$B" >/dev/null 2>&1
t_is "reconcile B: exit 0" "$?" 0
t_ok "stock-publisher stops cleanly" t_kill pub
t_done
