#!/usr/bin/env bash
# harness: fresh-kafka
# The settle rule (docs/stock-publisher.md "Budget-aware batching"): while
# a store's stream keeps changing, its changes wait and coalesce; a variant
# that sells out goes at once; when the stream pauses (stockpub.flush.ms)
# or a change waited stockpub.hold.max.ms, the store gets each variant
# once, with its freshest value.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

STORE="s8x$$"
st_ledger 100 10
st_sim sim
st_store "$STORE" sim WEB1 WH1
st_prefill "$STORE" sim
st_relay relay
# A 2 s quiet settles the stream here (500 ms by default): a loaded
# machine's hiccups must not count as the stream's end.
st_pub pub -o stockpub.flush.ms=2000
omnisync stock receipt WH1 STK-0100-01 3 >/dev/null
omnisync stock receipt WH1 STK-0100-02 3 >/dev/null
t_ok "the store starts equal to the ledger" wait_for 60 st_compare "$STORE" sim

qty_of() {
    sim_get sim "/_sim/state?skus=1" | python3 -c "
import json, sys
print(json.load(sys.stdin)['variants_by_sku']['$1']['quantity'])"
}
shows() { [ "$(qty_of "$1")" = "$2" ]; }
# stream SEED: receipts (nothing sells out) on 500 variants of STK-00%,
# 300 a run, run after run until stream_end.
stream() {
    rm -f "$T_TMP/stop"
    (while [ ! -e "$T_TMP/stop" ]; do
        move-burst --location WH1 --sku-like 'STK-00%' --variants 500 \
            --moves 300 --kinds receipt --workers 2 --seed "$1" || exit 1
    done) >"$T_TMP/stream-$1.log" 2>&1 &
    BURST=$!
    sleep 3 # well under way
}
stream_end() {
    touch "$T_TMP/stop"
    wait "$BURST"
}

# ---- a stream holds; a sell-out goes at once ------------------------------
seq0=$(st_seq sim)
mark=$(sql "SELECT coalesce(max(id), 0) FROM outbox")
stream 5
kill -0 "$BURST" 2>/dev/null || t_bail "the stream ended within 3 s (too fast)"
omnisync stock sale WH1 STK-0100-01 3 >/dev/null
omnisync stock receipt WH1 STK-0100-02 2 >/dev/null
t_ok "the sold-out variant shows 0 while the stream goes on" wait_for 15 shows STK-0100-01 0
held=$(qty_of STK-0100-02)
running=0
kill -0 "$BURST" 2>/dev/null && running=1
t_is "the stream was still running then" "$running" 1
t_is "the other change (3 -> 5, not urgent) still waits with the stream" "$held" 3
stream_end
t_is "the stream's movements applied" "$?" 0
t_diag "$(tail -1 "$T_TMP/stream-5.log")"
t_ok "once the stream pauses, the store equals the ledger" wait_for 30 st_compare "$STORE" sim
calls=$(st_calls sim "$seq0")
distinct=$(sql "SELECT count(DISTINCT key) FROM outbox
                 WHERE type = 'stock.available' AND id > $mark")
t_diag "stream of $(grep -c moves= "$T_TMP/stream-5.log") x 300 movements: $calls group updates, $distinct variants changed"
# The minimum is ceil(distinct / 100); the sell-out's call comes on top.
t_ok "calls <= 1.1 x ceil(distinct / 100) + the sell-out's call" \
    [ "$calls" -le $(((distinct + 99) / 100 * 11 / 10 + 1)) ]

# ---- a stream that never pauses still goes out every hold.max.ms ---------
t_ok "stock-publisher stops" t_kill pub
st_pub pub2 -o stockpub.flush.ms=2000 -o stockpub.hold.max.ms=3000
seq0=$(st_seq sim)
stream 6
omnisync stock receipt WH1 STK-0100-02 2 >/dev/null
t_ok "within hold.max (3 s) the change shows, the stream still going" \
    wait_for 15 shows STK-0100-02 7
running=0
kill -0 "$BURST" 2>/dev/null && running=1
t_is "the stream was still running then" "$running" 1
stream_end
t_is "the stream's movements applied" "$?" 0
t_ok "the store equals the ledger after the stream" wait_for 30 st_compare "$STORE" sim
t_ok "stock-publisher stops cleanly" t_kill pub2
t_done
