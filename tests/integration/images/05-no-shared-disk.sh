#!/usr/bin/env bash
# harness: fresh-kafka
# image-uploader needs no disk shared with the importer: the import stores
# each photo's bytes in the ledger, the photo files are deleted, and two
# image-uploader replicas still upload every photo (content and position
# equal to the ledger's), dead-lettering nothing.
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
img_setup 12 24 36
t_is "36 photos stored in the ledger" "$(sql "SELECT count(*) FROM photo_blob")" 36
rm -rf "$T_TMP/cat/photos"
t_ok "the photo files are gone" test ! -e "$T_TMP/cat/photos"
img_uploader_start imgup2

out=$(omnisync sync initial "$CAT_STORE" --timeout 120 2>&1)
t_is "sync initial exits 0" "$?" 0 ||
    t_diag "$out" "$(tail -20 "$T_TMP/imgup.log")" "$(tail -20 "$T_TMP/imgup2.log")"
t_like "every photo synced" "$out" "products 12/12 variants 24/24 photos 36/36"
t_ok "every product is published" cat_compare
t_ok "store-sim holds every photo once, content and position" img_compare
t_diag "$(img_compare)"
t_is "nothing dead-lettered" \
    "$(sql "SELECT count(*) FROM dlq_record WHERE service = 'image-uploader'")" 0
n1=$(grep -c 'uploaded as image' "$T_TMP/imgup.log")
n2=$(grep -c 'uploaded as image' "$T_TMP/imgup2.log")
t_diag "uploads: imgup $n1, imgup2 $n2"
t_is "36 uploads in all" "$((n1 + n2))" 36

t_kill imgup TERM
t_is "image-uploader exits 0 on SIGTERM" "$?" 0
t_kill imgup2 TERM
t_kill catpub TERM
t_done
