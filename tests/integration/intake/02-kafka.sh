#!/usr/bin/env bash
# harness: fresh-kafka
# The Kafka intake: omnisync.movements.in.v1, one till receipt a message
# keyed by outlet, applied exactly once through the HTTP API's path (a
# redelivered receipt applies nothing); a malformed message goes to the DLQ
# with its reason and the next one is applied; SIGTERM commits, a restart
# applies nothing again.
. "$(dirname "$0")/intake-lib.bash"

st_ledger 1 3 # STK-0001-01..03
omnisync location add R001 --kind outlet >/dev/null || t_bail "location"
omnisync stock receipt R001 STK-0001-01 10 >/dev/null || t_bail "receipt"
TOPIC=omnisync.movements.in.v1

produce() { # KEY VALUE
    printf '%s\n' "$2" | kcat -P -b "$OMNISYNC_KAFKA" -t "$TOPIC" -k "$1" 2>/dev/null
}
produce R001 '{"receipt":"T1","outlet":"R001","ts":"2026-12-02T10:00:00Z","lines":[{"sku":"STK-0001-01","qty":2}]}'
produce R001 'this is not JSON'
produce R001 '{"receipt":"T9","outlet":"R001","lines":[{"sku":"NOPE-1","qty":1}]}'
produce R001 '{"receipt":"T2","outlet":"R001","lines":[{"sku":"STK-0001-01","qty":1,"kind":"sale"},{"sku":"STK-0001-02","qty":3,"kind":"return"}]}'
produce R001 '{"receipt":"T1","outlet":"R001","ts":"2026-12-02T10:00:00Z","lines":[{"sku":"STK-0001-01","qty":2}]}'

la_start api
applied() { [ "$(onhand R001 STK-0001-02)" = 3 ]; }
t_ok "the receipts after the malformed ones are applied" wait_for 60 applied
t_is "T1 applied once (its redelivery changed nothing): 10 - 2 - 1" "$(onhand R001 STK-0001-01)" 7
t_is "movements: the receipt, T1's line, T2's two lines" "$(sql "SELECT count(*) FROM stock_movement")" 4
t_is "keys till:OUTLET:RECEIPT:LINE" \
    "$(sql "SELECT string_agg(idem_key, ',' ORDER BY idem_key) FROM stock_movement WHERE idem_key LIKE 'till:%'")" \
    "till:R001:T1:1,till:R001:T2:1,till:R001:T2:2"

dlq() {
    kcat -C -b "$OMNISYNC_KAFKA" -t omnisync.dlq.v1 -e -q -f '%k\t%h\t%s\n' 2>/dev/null
}
two() { [ "$(dlq | grep -c .)" = 2 ]; }
t_ok "two messages dead-lettered" wait_for 30 two
t_like "the malformed one, with its reason" "$(dlq)" \
    'R001.*exception.message=not a JSON object:.*this is not JSON'
t_like "the unknown SKU, with its reason" "$(dlq)" \
    'R001.*exception.message=lines\[0\]\.sku: unknown SKU "NOPE-1".*T9'
t_like "from ledger-api, the intake topic" "$(dlq | head -1)" \
    "__connect.errors.topic=$TOPIC,.*omnisync.errors.service=ledger-api"
t_is "noted in the ledger (omnisync dlq list)" \
    "$(omnisync dlq list --json | jq -c '[.[] | .service] | unique')" '["ledger-api"]'

# SIGTERM commits; a restart applies nothing again, then the next receipt.
t_ok "ledger-api stops on SIGTERM" t_kill api
la_start api2
produce R001 '{"receipt":"T3","outlet":"R001","lines":[{"sku":"STK-0001-03","qty":1,"kind":"return"}]}'
t3() { [ "$(onhand R001 STK-0001-03)" = 1 ]; }
t_ok "after a restart the next receipt is applied" wait_for 60 t3
t_is "and nothing earlier again" "$(onhand R001 STK-0001-01)" 7
t_is "still two dead letters" "$(dlq | grep -c .)" 2
sleep 2
t_like "metrics: items by entry and status" \
    "$(curl -s "http://$(grep -o 'http listening on [0-9.:]*' "$T_TMP/api2.log" | head -1 | awk '{print $4}')/metrics")" \
    'omnisync_api_items_total\{entry="kafka",status="applied"\} 1'
t_ok "ledger-api stops on SIGTERM" t_kill api2

# A backlog taken as one batch (one transaction), a malformed receipt in
# its middle: the others applied once, that one dead-lettered.
for i in $(seq 10 39); do
    if [ "$i" = 25 ]; then
        produce R001 '{"receipt":"T25","outlet":"R001","lines":"none"}'
    else
        produce R001 "{\"receipt\":\"T$i\",\"outlet\":\"R001\",\"lines\":[{\"sku\":\"STK-0001-02\",\"qty\":1,\"kind\":\"return\"}]}"
    fi
done
la_start api3
backlog() { [ "$(onhand R001 STK-0001-02)" = 32 ]; }
t_ok "the backlog's 29 good receipts are applied" wait_for 60 backlog
three() { [ "$(dlq | grep -c .)" = 3 ]; }
t_ok "the malformed one is dead-lettered" wait_for 30 three
t_like "with its reason" "$(dlq | tail -1)" 'lines.* must be an array'
sleep 2
t_is "exactly 29 more movements" "$(sql "SELECT count(*) FROM stock_movement WHERE idem_key LIKE 'till:R001:T__:%'")" 29
t_ok "ledger-api stops on SIGTERM" t_kill api3
t_done
