#!/usr/bin/env bash
# harness: fresh-kafka
# A 422 from the store ends in the DLQ (with the store's message, the
# product key and Kafka-Connect-style origin headers) and the consumer
# moves on: the next product change is published.
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_IMGUP=1 # photos are part of a sync
cat_setup 5 2
out=$(omnisync sync initial "$CAT_STORE" --timeout 60 2>&1)
t_is "sync initial exits 0" "$?" 0 || t_diag "$out"

faults() {
    curl -sf -X POST -H 'Content-Type: application/json' -d "$1" \
        "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null
}
dlq_rows() { sql "SELECT count(*) FROM dlq_record WHERE service = 'catalog-publisher'"; }

# Every store call answers 422 while ART-00002's description changes.
faults '{"error_rate":1,"error_status":422}'
sed -i 's/Описание товара ART-00002;/Другое описание ART-00002;/' "$T_TMP/cat/catalog.csv"
t_ok "re-import with ART-00002 changed" \
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE
t_ok "the 422 is dead-lettered" wait_for 60 bash -c "[ \$(psql '$OMNISYNC_PG' -XqtA -c \"SELECT count(*) FROM dlq_record WHERE service = 'catalog-publisher'\") -ge 1 ]"
faults '{"error_rate":0}'
t_is "one DLQ record, not a retry loop" "$(dlq_rows)" 1

# The consumer moved on: the next change goes through.
sed -i 's/Описание товара ART-00004;/Новое описание ART-00004;/' "$T_TMP/cat/catalog.csv"
t_ok "re-import with ART-00004 changed" \
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE
upd() { sim_get "/admin/products.json?per_page=250" | grep -q 'Новое описание ART-00004'; }
t_ok "the next product change is published" wait_for 60 upd
t_nok "ART-00002's change is not (it is in the DLQ)" \
    bash -c "curl -sf -u '$CAT_LOGIN:$CAT_PW' 'http://127.0.0.1:$CAT_SIM_PORT/admin/products.json?per_page=250' | grep -q 'Другое описание ART-00002'"

kcat -C -b "$OMNISYNC_KAFKA" -t omnisync.dlq.v1 -o beginning -e -q \
    -f '%k|%h\n' 2>/dev/null | grep "store $CAT_STORE:" >"$T_TMP/dlq.txt"
t_is "one DLQ record in Kafka for this store" "$(wc -l <"$T_TMP/dlq.txt")" 1
d=$(cat "$T_TMP/dlq.txt")
t_diag "$d"
pid=$(sql "SELECT id FROM product WHERE article = 'ART-00002'")
t_like "keyed by the product id" "$d" "^$pid\|"
t_like "origin headers" "$d" \
    '__connect.errors.topic=omnisync.catalog.v1,__connect.errors.partition=[0-9]+,__connect.errors.offset=[0-9]+'
t_like "the reason carries the store's 422 message" "$d" \
    "exception.message=store $CAT_STORE: product $pid: product_update: HTTP 422.*store-sim injected fault"
t_like "time and service" "$d" '__connect.errors.timestamp=[0-9]{13},omnisync.errors.service=catalog-publisher'

out=$(omnisync sync resync "$CAT_STORE" --catalog --timeout 60 2>&1)
t_is "resync --catalog repairs it once the store accepts again" "$?" 0 || t_diag "$out"
t_like "queuing just that product" "$out" ' 1 catalog.product'
t_ok "store-sim equals the ledger" cat_compare
t_kill catpub TERM
t_is "catalog-publisher exits 0 on SIGTERM" "$?" 0
t_done
