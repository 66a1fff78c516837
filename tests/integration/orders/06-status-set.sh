#!/usr/bin/env bash
# harness: fresh-kafka
# Setting an order's status in the store through the platform seam
# (store_platform.order_status_set, driven by tests/tools/order-status):
# the store takes the platform's status for the neutral one, its webhook
# brings the change back, and the ledger follows it (shipped: on hand and
# reserved down; cancelled: the reservation released).  A status the
# platform cannot set is refused without a call.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

OS_BIN=$OMNISYNC_ROOT/build/std/tools/order-status
[ -x "$OS_BIN" ] || t_bail "$OS_BIN missing (make -j2)"

ord_setup 10 20 0
ord_start oi
t_ok "intake up" wait_for 20 ord_healthy
sim_status() {
    sim_get "/admin/orders/$1.json" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["fulfillment_status"])'
}

a=$(place1 ART-00003-1 2)
t_ok "order A reserved" wait_for 30 is_state "$a" reserved
t_is "ART-00003-1 reserved 2" "$(lvl ART-00003-1)" "30|2"
t_like "order A set to shipped" "$("$OS_BIN" "$ORD_STORE" "$a" shipped)" '^ok 200'
t_is "the store has it dispatched" "$(sim_status "$a")" dispatched
t_ok "the ledger ships order A" wait_for 30 is_state "$a" shipped
t_is "ART-00003-1 shipped: on hand and reserved down" "$(lvl ART-00003-1)" "28|0"

b=$(place1 ART-00004-1 3)
t_ok "order B reserved" wait_for 30 is_state "$b" reserved
t_like "order B set to cancelled" "$("$OS_BIN" "$ORD_STORE" "$b" cancelled)" '^ok 200'
t_is "the store has it declined" "$(sim_status "$b")" declined
t_ok "the ledger releases order B" wait_for 30 is_state "$b" released
t_is "ART-00004-1 reservation released" "$(lvl ART-00004-1)" "30|0"

out=$("$OS_BIN" "$ORD_STORE" "$b" other)
t_is "a status the platform cannot set fails" "$?" 1
t_like "refused without a call" "$out" '^rejected 0 '
t_is "order B stays declined in the store" "$(sim_status "$b")" declined
out=$("$OS_BIN" "$ORD_STORE" 999999999 accepted)
t_is "an order the store does not have fails" "$?" 1
t_like "with the store's 404" "$out" '^rejected 404'
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
