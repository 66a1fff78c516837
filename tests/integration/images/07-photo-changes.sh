#!/usr/bin/env bash
# harness: fresh-kafka
# A re-imported catalog row with reordered, fewer or replaced photos
# reaches the store (issue 14 item 1): a reorder moves the store's images
# (PUT position, no upload), a removed photo's image is deleted, a replaced
# photo's image is replaced; identical content twice in one product is two
# store images, as the ledger has it.  After each step the store's images
# equal the ledger's photos per position and `omnisync reconcile` exits 0.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
CAT_STOCKPUB=1
FIX=$OMNISYNC_ROOT/tests/fixtures/catalog/photos

# cat_gen DIR NP NV: two products; PH-1 with PH1_PHOTOS, PH-2 with the same
# content twice (dark.jpg and a copy under another name); the delivery
# item ART-00001-1 (cat_setup's --delivery-sku).
cat_gen() {
    mkdir -p "$1/photos"
    cp "$FIX"/*.jpg "$FIX"/*.png "$1/photos/"
    cp "$FIX/dark.jpg" "$1/photos/dark-copy.jpg"
    printf 'Group;Article;Name;SKU;Price;Photos\n' >"$1/${GEN_FILE:-catalog.csv}"
    printf 'Фото;PH-1;Один;PH-1-1;100;%s\n' "$PH1_PHOTOS" >>"$1/${GEN_FILE:-catalog.csv}"
    printf 'Фото;PH-2;Два;PH-2-1;200;photos/dark.jpg|photos/dark-copy.jpg\n' \
        >>"$1/${GEN_FILE:-catalog.csv}"
    printf ';DLV;Доставка;ART-00001-1;300;\n' >>"$1/${GEN_FILE:-catalog.csv}"
}
PH1_PHOTOS='photos/red.png|photos/grey.jpg|photos/blue.png'
cat_setup 2 1
t_ok "sync initial" omnisync sync initial "$CAT_STORE" --timeout 60
t_ok "store-sim equals the ledger" cat_compare
t_ok "images equal the photos (PH-2: the same content twice, two images)" img_compare
t_diag "$(img_compare)"
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
pid1=$(sql "SELECT remote_id FROM remote_map rm JOIN product p ON p.id = rm.local_id
             WHERE rm.entity = 'product' AND p.article = 'PH-1'")
images() { sim_get "/admin/products/$pid1/images.json"; }
ids_by_pos() { images | python3 -c 'import json,sys; print(" ".join(str(i["id"]) for i in sorted(json.load(sys.stdin), key=lambda i: i["position"])))'; }
read -r a b c <<<"$(ids_by_pos)"
t_diag "PH-1 images by position: $a $b $c"

# step: reimport PH-1 with PH1_PHOTOS, wait until the store agrees (run
# by t_ok in a subshell: take seq=$(sim_seq) before)
step() {
    PH1_PHOTOS=$1
    GEN_FILE=c2.csv cat_gen "$T_TMP/cat" 2 1
    omnisync import catalog "$T_TMP/cat/c2.csv" --price-list ONLINE >/dev/null || return 1
    wait_for 40 img_compare
}

seq=$(sim_seq)
t_ok "reorder: blue, red, grey" step 'photos/blue.png|photos/red.png|photos/grey.jpg'
t_is "the same images, moved" "$(ids_by_pos)" "$c $a $b"
t_is "no image uploaded" "$(sim_changes "$seq" | grep -c '^POST /admin/products/.*/images.json')" 0
t_like "by PUT position" "$(sim_changes "$seq")" "PUT /admin/products/$pid1/images/[0-9]+.json 200"
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

seq=$(sim_seq)
t_ok "remove: blue, red (grey gone)" step 'photos/blue.png|photos/red.png'
t_is "grey's image is deleted in the store" "$(ids_by_pos)" "$c $a"
t_like "by DELETE" "$(sim_changes "$seq")" "DELETE /admin/products/$pid1/images/$b.json 200"
t_is "no orphan mapping" "$(sql "SELECT count(*) FROM remote_map WHERE entity = 'image' AND remote_id = $b")" 0
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

seq=$(sim_seq)
t_ok "replace: blue, light (same position, new content)" step 'photos/blue.png|photos/light.jpg'
read -r x y <<<"$(ids_by_pos)"
t_is "position 1 kept" "$x" "$c"
t_isnt "position 2 is a new image" "$y" "$a"
t_like "red's image deleted" "$(sim_changes "$seq")" "DELETE /admin/products/$pid1/images/$a.json 200"
t_is "one upload" "$(sim_changes "$seq" | grep -c '^POST /admin/products/.*/images.json')" 1
t_ok "images equal the photos" img_compare
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

t_ok "all removed" step ''
t_is "no image left" "$(images | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0
t_ok "PH-2 keeps its two images" img_compare
t_is "nothing dead-lettered" "$(sql "SELECT count(*) FROM dlq_record")" 0
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
t_kill catpub TERM
t_done
