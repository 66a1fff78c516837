#!/usr/bin/env bash
# harness: fresh-kafka
# 10,000 movements over 1,000 variants reach the store in at most
# ceil(1000/100) * 1.1 = 11 variants_group_update calls (store-sim, queued
# group updates), and the store ends equal to the ledger.
#
# The burst is a backlog when the publisher reads it (a back-office batch:
# committed and relayed while stock-publisher is stopped), so the
# drain-before-flush coalesces it fully.  02-live.sh covers a live stream.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

STORE="s1x$$"
st_ledger 100 10
st_sim sim
st_store "$STORE" sim WEB1 WH1
st_prefill "$STORE" sim
st_relay relay
st_pub pub
t_ok "the store add's events reach the store" wait_for 60 st_compare "$STORE" sim
sleep 1
t_ok "stock-publisher stops cleanly (SIGTERM)" t_kill pub

seq0=$(st_seq sim)
out=$(move-burst --location WH1 --sku-like 'STK-%' --variants 1000 --moves 10000 \
    --kinds receipt,sale,reserve,release --workers 8 --seed 7)
t_like "10,000 movements over 1,000 variants" "$out" 'moves=10000 variants=1000'
t_diag "$out"
t_is "10,000 movement rows" "$(sql "SELECT count(*) FROM stock_movement")" 10000
t_ok "the relay published the burst" wait_for 120 st_drained

st_pub pub2
t_ok "the store converges to the ledger" wait_for 90 st_compare "$STORE" sim
t_diag "$(st_compare "$STORE" sim)"
calls=$(st_calls sim "$seq0")
t_diag "group-update calls for the burst: $calls"
t_ok "at most 11 group-update calls ($calls)" test "$calls" -le 11
sleep 1.5
t_diag "$(grep 'stats: ' "$T_TMP/pub2.log" | tail -1)"
t_ok "stock-publisher stops cleanly" t_kill pub2
t_is "nothing pending at exit" "$(st_stat pub2 pending)" 0
t_done
