#!/usr/bin/env bash
# harness: fresh-kafka
# A product archived in the ledger is archived in the store (DELETE); when
# it comes back in the ledger it is recovered from the store's archive
# (POST .../recover.json with {}), updated, and not created again.
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_IMGUP=1 # photos are part of a sync
cat_setup 4 2
out=$(omnisync sync initial "$CAT_STORE" --timeout 60 2>&1)
t_is "sync initial exits 0" "$?" 0 || t_diag "$out"
rid=$(sql "SELECT rm.remote_id FROM remote_map rm JOIN product p ON p.id = rm.local_id
            WHERE rm.entity = 'product' AND p.article = 'ART-00002'")
archived() { sim_get "/admin/products.json?deleted=true" | grep -q "\"id\":$rid,"; }

seq=$(sim_seq)
GEN_OMIT=ART-00002 GEN_FILE=less.csv bash "$OMNISYNC_ROOT/tests/integration/import/gen-catalog.bash" \
    "$T_TMP/cat" 4 2
t_ok "import without ART-00002 --archive-missing" \
    omnisync import catalog "$T_TMP/cat/less.csv" --price-list ONLINE --archive-missing
t_ok "the product is archived in the store" wait_for 60 archived
t_like "by one DELETE" "$(sim_changes "$seq")" "^DELETE /admin/products/$rid.json 200$"

seq=$(sim_seq)
t_ok "import with ART-00002 again" \
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE
recovered() { sim_changes "$seq" | grep -q "^PUT /admin/products/$rid.json 200"; }
t_ok "the product is recovered and updated" wait_for 60 recovered
sleep 2
ch=$(sim_changes "$seq")
t_diag "$ch"
t_like "recover.json first" "$(printf '%s\n' "$ch" | head -1)" "^POST /admin/products/$rid/recover.json 200$"
t_unlike "no product created" "$ch" '^POST /admin/products.json'
t_like "its request carried the JSON Content-Type (else 422)" "$ch" "recover.json 200"
t_nok "no longer archived in the store" archived
t_ok "store-sim equals the ledger" cat_compare
t_diag "$(cat_compare)"
# resync --stock: stock.available for the variants with stock.
omnisync stock receipt WH1 ART-00003-1 5 >/dev/null
omnisync stock receipt WH1 ART-00004-2 2 >/dev/null
sql "UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL" >/dev/null
before=$(sql "SELECT count(*) FROM outbox WHERE type = 'stock.available' AND store = '$CAT_STORE'")
out=$(omnisync sync resync "$CAT_STORE" --stock 2>&1)
t_is "resync --stock exits 0 at once" "$?" 0 || t_diag "$out"
t_like "it queues one event per variant with stock" "$out" ": 2 stock.available event\(s\) queued"
t_unlike "and no catalog event" "$out" 'catalog.product'
t_is "two stock.available rows in the outbox" \
    "$(($(sql "SELECT count(*) FROM outbox WHERE type = 'stock.available' AND store = '$CAT_STORE'") - before))" 2
t_kill catpub TERM
t_done
