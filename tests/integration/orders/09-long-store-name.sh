#!/usr/bin/env bash
# harness: fresh-kafka
# A store name of the longest allowed length (64 bytes, docs/limits.md)
# loses no order: one order arrives by webhook and one by the poll (its
# webhook dropped), each reserved once.  (A 256-byte name once truncated
# the event key: webhooks dead-lettered as "unknown store" and polls as
# "key: expected", while the poll cursor moved on.)  A longer name is
# refused by `store add` and by the schema.
ORD_STORE=$(printf 'L%.0s' $(seq 1 60))$$
ORD_STORE=${ORD_STORE:0:64}
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

t_is "the name is 64 bytes" "${#ORD_STORE}" 64
ord_setup 10 20 0
ord_start oi
t_ok "intake up" wait_for 20 ord_healthy

a=$(place1 ART-00001-1 2)
t_ok "a webhook order of the 64-byte store is reserved" wait_for 30 is_state "$a" reserved
sim_post /_sim/faults '{"webhook_drop_rate":1}' >/dev/null
b=$(place1 ART-00002-1 1)
t_ok "a polled order of the 64-byte store is reserved" wait_for 40 is_state "$b" reserved
t_like "its webhook was dropped" "$(sim_get /_sim/state)" '"dropped": *[1-9]'
t_is "each once" "$(sql "SELECT count(*) FROM customer_order WHERE remote_id IN ($a, $b)")" 2
t_is "reservations" "$(lvl ART-00001-1)/$(lvl ART-00002-1)" "30|2/30|1"
t_is "nothing dead-lettered" "$(sql "SELECT count(*) FROM dlq_record")" 0

long=${ORD_STORE}X
ORD_PW_ENV=$ORD_PW omnisync store add "$long" --platform insales \
    --url "http://127.0.0.1:$ORD_SIM_PORT" --login l --password-env ORD_PW_ENV \
    --online-location WEB9 --source-locations WH1 --price-list ONLINE \
    --delivery-sku "$ORD_DELIVERY_SKU" >"$T_TMP/long.out" 2>&1
t_is "store add refuses a 65-byte name: exit 2" "$?" 2
t_like "and says why" "$(cat "$T_TMP/long.out")" "store name longer than 64 bytes"
t_nok "the schema refuses it too" sql "UPDATE store SET name = '$long' WHERE name = '$ORD_STORE'"
t_kill oi TERM
t_is "order-ingestor exits 0" "$?" 0
t_done
