#!/usr/bin/env bash
# harness: fresh-kafka
# kill -9 of stock-publisher mid-flush (store-sim answers each call 300 ms
# late, so flushes are slow), twice, while movements keep coming;
# restarted, the store converges to the ledger for every variant and
# reconcile finds nothing: nothing was skipped.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

STORE="s6k$$"
st_ledger 50 10 # 500 variants
st_sim sim
st_store "$STORE" sim WEB1 WH1
st_prefill "$STORE" sim % # DELIVERY too (reconcile)
st_relay relay
curl -sf -X POST -H 'Content-Type: application/json' --data '{"latency_ms":300}' \
    "http://127.0.0.1:${ST_PORT[sim]}/_sim/faults" >/dev/null || t_bail "faults"

seq0=$(st_seq sim)
t_bg burst move-burst --location WH1 --sku-like 'STK-%' --variants 500 \
    --moves 4000 --kinds receipt,sale,reserve,release --workers 4 --seed 7
st_pub pub1
calls_at_least() { [ "$(st_calls sim "$seq0")" -ge "$1" ]; }
t_ok "flushes under way" wait_for 60 calls_at_least 2
# The publisher is inside a 300 ms call most of the time now.
sleep 0.15
t_kill pub1 KILL
t_is "kill -9 #1 (exit status 137)" "$?" 137
c1=$(st_calls sim "$seq0")
st_pub pub2
t_ok "flushes again after the restart" wait_for 60 calls_at_least $((c1 + 2))
sleep 0.15
t_kill pub2 KILL
t_is "kill -9 #2 (exit status 137)" "$?" 137
t_wait burst 120
t_is "the burst finished" "$?" 0
t_like "4,000 movements" "$(cat "$T_TMP/burst.log")" 'moves=4000'
t_ok "the relay sent everything" wait_for 60 st_drained
st_pub pub3
t_ok "the store converges to the ledger for every variant" wait_for 120 st_compare "$STORE" sim
t_diag "$(st_compare "$STORE" sim); $(st_calls sim "$seq0") group-update calls"
curl -sf -X POST -H 'Content-Type: application/json' --data '{"latency_ms":0}' \
    "http://127.0.0.1:${ST_PORT[sim]}/_sim/faults" >/dev/null
omnisync reconcile "$STORE" >"$T_TMP/rec.out" 2>&1
t_is "reconcile: exit 0" "$?" 0
t_like "reconcile: 501 variants, none differ" "$(cat "$T_TMP/rec.out")" \
    '501 store variants, 501 ledger variants, 0 differ'
t_ok "stock-publisher stops cleanly" t_kill pub3
t_done
