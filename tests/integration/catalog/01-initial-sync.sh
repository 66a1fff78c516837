#!/usr/bin/env bash
# harness: fresh-kafka
# catalog-publisher + `omnisync sync initial`: a generated catalog ends in
# store-sim equal to the ledger; a second sync changes nothing; one changed
# description makes exactly one product update call; resync --catalog
# queues nothing when nothing differs.
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_IMGUP=1 # photos are part of a sync
NP=${CAT_NP:-300}
NV=${CAT_NV:-4} # 300 x 4 = 1,200 variants (the issue asks 1,000)

cat_setup "$NP" "$NV"
t0=$(date +%s)
out=$(omnisync sync initial "$CAT_STORE" --timeout 240 2>&1)
rc=$?
t_diag "initial sync of $NP products took $(($(date +%s) - t0)) s"
t_is "sync initial exits 0" "$rc" 0 || t_diag "$out" "$(tail -20 "$T_TMP/catpub.log")"
t_like "sync initial reports progress lines" "$out" 'sync: products [0-9]+/'"$NP"' variants'
t_like "sync initial ends with all synced" "$out" "products $NP/$NP variants"
t_ok "store-sim equals the ledger (titles, categories, SKUs, prices)" cat_compare
t_diag "$(cat_compare)"
calls=$(sim_changes 0 | grep -c '^POST /admin/products.json 201')
t_is "one product create call per product" "$calls" "$NP"

seq=$(sim_seq)
out=$(omnisync sync initial "$CAT_STORE" --timeout 120 2>&1)
t_is "second sync initial exits 0" "$?" 0
t_like "second sync initial queues every product again" "$out" "$NP catalog.product"
# The events were queued; let the publisher consume them all.
wait_for 60 bash -c "[ \$(psql '$OMNISYNC_PG' -XqtA -c \"SELECT count(*) FROM outbox WHERE sent_at IS NULL\") = 0 ]"
sleep 5
t_is "second sync initial sends 0 changing requests" "$(sim_changes "$seq" | wc -l)" 0

# One description changed in the ledger by re-importing the CSV.
seq=$(sim_seq)
sed -i 's/Описание товара ART-00007;/Новое описание ART-00007;/' "$T_TMP/cat/catalog.csv"
t_ok "re-import with one description changed" \
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE
changes() { [ "$(sim_changes "$seq" | wc -l)" -ge 1 ]; }
t_ok "the change reaches the store" wait_for 60 changes
sleep 3
ch=$(sim_changes "$seq")
t_is "exactly one changing request" "$(printf '%s\n' "$ch" | grep -c .)" 1
t_like "and it is a product update" "$ch" '^PUT /admin/products/[0-9]+.json 200$'
t_ok "store-sim still equals the ledger" cat_compare

out=$(omnisync sync resync "$CAT_STORE" --catalog --timeout 60 2>&1)
t_is "resync --catalog exits 0" "$?" 0
t_like "resync --catalog queues nothing when all is synced" "$out" ' 0 catalog.product'

t_kill catpub TERM
t_is "catalog-publisher exits 0 on SIGTERM" "$?" 0
t_done
