#!/usr/bin/env bash
# harness: fresh-kafka
# Products and variants deleted in the store behind omnisync's back
# (issue 14 item 3) are created again and re-mapped, never dead-lettered:
# on their next change (a price), by `sync resync --catalog`, and by
# `reconcile --repair` (a product with photos: they follow).  After each
# scenario `omnisync reconcile` exits 0.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_STOCKPUB=1
CAT_IMGUP=1
cat_setup 5 2
t_ok "sync initial" omnisync sync initial "$CAT_STORE" --timeout 60
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

sim_delete() {
    curl -sf -X DELETE -u "$CAT_LOGIN:$CAT_PW" "http://127.0.0.1:$CAT_SIM_PORT$1" >/dev/null
}
rid() { # rid ENTITY ARTICLE|SKU: the remote id remote_map holds
    if [ "$1" = product ]; then
        sql "SELECT rm.remote_id FROM remote_map rm JOIN product p ON p.id = rm.local_id
              WHERE rm.entity = 'product' AND p.article = '$2'"
    else
        sql "SELECT rm.remote_id FROM remote_map rm JOIN variant v ON v.id = rm.local_id
              WHERE rm.entity = 'variant' AND v.sku = '$2'"
    fi
}
live() { sim_get "/admin/products/$1.json" >/dev/null; }
price() { # price SKU VALUE: import one price into ONLINE
    printf 'SKU;Price\n%s;%s\n' "$1" "$2" >"$T_TMP/p.csv"
    omnisync import prices "$T_TMP/p.csv" --price-list ONLINE >/dev/null
}
no_catpub_dlq() {
    t_is "$1: nothing dead-lettered by catalog-publisher" \
        "$(sql "SELECT count(*) FROM dlq_record WHERE service = 'catalog-publisher'")" 0
}

# A: a product deleted in the store, then its price changes.
p1=$(rid product ART-00001)
t_ok "A: ART-00001 deleted in the store" sim_delete "/admin/products/$p1.json"
t_nok "A: the store no longer shows it" live "$p1"
price ART-00001-1 777
remapped1() { local r; r=$(rid product ART-00001); [ -n "$r" ] && [ "$r" != "$p1" ] && live "$r"; }
t_ok "A: re-created and re-mapped on its next change" wait_for 40 remapped1
t_like "A: catalog-publisher says so" "$(cat "$T_TMP/catpub.log")" "product $p1 is gone from the store: creating it again"
t_ok "A: store-sim equals the ledger" cat_compare
t_ok "A: omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
no_catpub_dlq A

# B: a variant deleted in the store, then its price changes.
v22=$(rid variant ART-00002-2)
p2=$(rid product ART-00002)
t_ok "B: variant ART-00002-2 deleted in the store" sim_delete "/admin/products/$p2/variants/$v22.json"
price ART-00002-2 555
remapped22() { local r; r=$(rid variant ART-00002-2); [ -n "$r" ] && [ "$r" != "$v22" ]; }
t_ok "B: the variant is created again and re-mapped" wait_for 40 remapped22
t_is "B: same product" "$(rid product ART-00002)" "$p2"
t_ok "B: store-sim equals the ledger" cat_compare
t_ok "B: omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
no_catpub_dlq B

# C: deleted without a later change: sync resync --catalog finds them.
p3=$(rid product ART-00003)
p4=$(rid product ART-00004)
v41=$(rid variant ART-00004-1)
sim_delete "/admin/products/$p3.json"
sim_delete "/admin/products/$p4/variants/$v41.json"
t_nok "C: reconcile sees the store lacking them" omnisync reconcile "$CAT_STORE"
out=$(omnisync sync resync "$CAT_STORE" --catalog --timeout 60 2>&1)
t_is "C: sync resync --catalog exits 0" "$?" 0
t_like "C: it names what the store lost" "$out" "lost 1 product\(s\) and 3 variant\(s\)"
t_diag "$out"
t_isnt "C: ART-00003 re-mapped" "$(rid product ART-00003)" "$p3"
t_isnt "C: ART-00004-1 re-mapped" "$(rid variant ART-00004-1)" "$v41"
t_ok "C: store-sim equals the ledger" cat_compare
t_ok "C: omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
no_catpub_dlq C

# D: a product with photos deleted: reconcile --repair re-creates it.
p5=$(rid product ART-00005)
t_is "D: ART-00005 has 2 images" "$(sim_get "/admin/products/$p5/images.json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 2
sim_delete "/admin/products/$p5.json"
out=$(omnisync reconcile "$CAT_STORE" --repair --timeout 60 2>&1)
t_is "D: reconcile --repair exits 0" "$?" 0 || t_diag "$out"
t_like "D: it queued the product again" "$out" "the store lost 1 product"
p5b=$(rid product ART-00005)
t_isnt "D: re-mapped" "$p5b" "$p5"
imgs() { [ "$(sim_get "/admin/products/$p5b/images.json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ]; }
t_ok "D: its photos follow" wait_for 40 imgs
t_ok "D: store-sim equals the ledger" cat_compare
t_ok "D: omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
no_catpub_dlq D
t_is "no dead letter at all" "$(sql "SELECT count(*) FROM dlq_record")" 0
t_kill catpub TERM
t_done
