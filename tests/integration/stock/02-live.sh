#!/usr/bin/env bash
# harness: fresh-kafka
# A live burst: 10,000 movements over 1,000 variants while stock-publisher
# runs.  Asserts convergence and reports the call count and the
# commit->store latency (docs/stock-publisher.md explains why a live
# stream makes more calls than a backlog).  Also: a price import reaches
# the store through stock-publisher.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

STORE="s2x$$"
st_ledger 100 10
st_sim sim
st_store "$STORE" sim WEB1 WH1 --safety-stock 1
st_prefill "$STORE" sim
st_relay relay
st_pub pub
t_ok "the store add's events reach the store" wait_for 60 st_compare "$STORE" sim

seq0=$(st_seq sim)
out=$(move-burst --location WH1 --sku-like 'STK-%' --variants 1000 --moves 10000 \
    --kinds receipt,sale,reserve,release --workers 8 --seed 11)
t_like "10,000 live movements" "$out" 'moves=10000'
t_diag "$out"
t_ok "the store converges to the ledger (safety stock 1)" wait_for 90 st_compare "$STORE" sim
t_diag "$(st_compare "$STORE" sim)"
t_diag "live burst: $(st_calls sim "$seq0") group-update calls"
sleep 1.5
t_diag "$(grep 'stats: ' "$T_TMP/pub.log" | tail -1)"

# ---- a price import changes the store's prices through stock-publisher
printf 'sku,price,old_price\nSTK-0001-01,555.00,777.00\nSTK-0002-03,12.50,\n' >"$T_TMP/prices.csv"
t_ok "prices imported" omnisync import prices "$T_TMP/prices.csv" --price-list ONLINE
t_is "one stock event per changed price" \
    "$(sql "SELECT count(*) FROM outbox WHERE type = 'stock.available' AND data->>'price' IN ('555.00', '12.50')")" 2
price_of() {
    sim_get sim "/_sim/state?skus=1" | python3 -c "
import json, sys
v = json.load(sys.stdin)['variants_by_sku']['$1']
print(v['price'], v['old_price'])"
}
t_ok "the store shows the new prices" wait_for 30 st_compare "$STORE" sim
t_like "STK-0001-01 price and old price" "$(price_of STK-0001-01)" '^555\.0+ 777\.0+$'
t_like "STK-0002-03 price, old price cleared" "$(price_of STK-0002-03)" '^12\.50? None$'
t_ok "stock-publisher stops cleanly" t_kill pub
t_done
