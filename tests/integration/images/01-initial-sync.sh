#!/usr/bin/env bash
# harness: fresh-kafka
# An initial sync of a 300-product / 1,000-variant / 900-photo catalog:
# store-sim ends equal to the ledger (titles, categories, SKUs, prices,
# photo counts and SHA-256 per position), one upload per photo, and a
# second `sync initial` (and `resync --images`) sends 0 changing requests.
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
NP=${IMG_NP:-300}
NV=${IMG_NV:-1000}
NPH=${IMG_NPH_ALL:-900}

img_setup "$NP" "$NV" "$NPH"
t_is "the ledger holds $NPH photos" "$(img_count_photos)" "$NPH"
t0=$(date +%s)
out=$(omnisync sync initial "$CAT_STORE" --timeout 400 2>&1)
rc=$?
t_diag "initial sync of $NP products / $NPH photos took $(($(date +%s) - t0)) s"
t_is "sync initial exits 0" "$rc" 0 ||
    t_diag "$out" "$(tail -20 "$T_TMP/catpub.log")" "$(tail -20 "$T_TMP/imgup.log")"
t_like "progress lines count photos" "$out" "photos [0-9]+/$NPH"
t_like "sync initial ends with all synced" "$out" "products $NP/$NP variants $NV/$NV photos $NPH/$NPH"
t_ok "store-sim equals the ledger (titles, categories, SKUs, prices)" cat_compare
t_diag "$(cat_compare)"
t_ok "store-sim holds every photo once, content and position" img_compare
t_diag "$(img_compare)"
t_is "one upload per photo" \
    "$(sim_changes 0 | grep -cE '^POST /admin/products/[0-9]+/images.json 201')" "$NPH"

seq=$(sim_seq)
out=$(omnisync sync initial "$CAT_STORE" --timeout 120 2>&1)
t_is "second sync initial exits 0" "$?" 0
wait_for 60 bash -c "[ \$(psql '$OMNISYNC_PG' -XqtA -c \"SELECT count(*) FROM outbox WHERE sent_at IS NULL\") = 0 ]"
sleep 5
t_is "second sync initial sends 0 changing requests" "$(sim_changes "$seq" | wc -l)" 0

out=$(omnisync sync resync "$CAT_STORE" --images --timeout 60 2>&1)
t_is "resync --images exits 0" "$?" 0
t_like "resync --images queues nothing when every photo is there" "$out" ' 0 catalog.product'

t_kill imgup TERM
t_is "image-uploader exits 0 on SIGTERM" "$?" 0
t_kill catpub TERM
t_is "catalog-publisher exits 0 on SIGTERM" "$?" 0
t_done
