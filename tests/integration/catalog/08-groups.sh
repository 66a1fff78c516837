#!/usr/bin/env bash
# harness: fresh-kafka
# Groups (issue 14 item 2): `omnisync group list|rename|move` and the
# store's categories following them (category update, re-parenting); a
# product whose group changes in a re-imported catalog changes category
# in the store; an emptied group's category is removed from the store
# only when nothing references it.  After each scenario `omnisync
# reconcile` exits 0.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_STOCKPUB=1
CAT_IMGUP=1 # product 5 has photos: sync initial waits for them
cat_setup 6 1
t_ok "sync initial" omnisync sync initial "$CAT_STORE" --timeout 60
t_ok "store-sim equals the ledger" cat_compare
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

cat_rid() { sql "SELECT rm.remote_id FROM remote_map rm JOIN product_group g ON g.id = rm.local_id
                  WHERE rm.entity = 'category' AND g.path = '$1'"; }
sim_cat() { sim_get "/admin/categories/$1.json" | python3 -c "import json,sys; c=json.load(sys.stdin); print(c['title'], c['parent_id'])"; }
converged() { cat_compare >/dev/null; }

out=$(omnisync group list)
t_is "group list exits 0" "$?" 0
t_like "group list shows the tree" "$out" 'Обувь/Кроссовки +Кроссовки +Обувь +1 +0'
t_is "group list --json" "$(omnisync group list --json | python3 -c 'import json,sys; print(sorted(g["path"] for g in json.load(sys.stdin))[0])')" "Аксессуары"

# rename
krid=$(cat_rid 'Обувь/Кроссовки')
orid=$(cat_rid 'Обувь')
out=$(omnisync group rename 'Обувь/Кроссовки' 'Кеды')
t_is "group rename exits 0" "$?" 0
t_like "it says what it queued" "$out" 'Обувь/Кроссовки -> Обувь/Кеды: 1 group\(s\), 1 catalog.product'
t_ok "the store's category is renamed" wait_for 30 converged
t_is "same category, new title" "$(sim_cat "$krid")" "Кеды $orid"
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

# move (with a subtree: Одежда/Женская has Платья below it)
zrid=$(cat_rid 'Одежда/Женская')
t_ok "group move Одежда/Женская under Обувь" omnisync group move 'Одежда/Женская' 'Обувь'
t_ok "the store's category is re-parented" wait_for 30 converged
t_is "same category, new parent" "$(sim_cat "$zrid")" "Женская $orid"
t_is "the ledger's paths below follow" "$(sql "SELECT count(*) FROM product_group WHERE path = 'Обувь/Женская/Платья'")" 1
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
t_ok "move back to the top ('/')" omnisync group move 'Обувь/Женская' /
t_ok "converged" wait_for 30 converged

# refusals: exit 2, nothing changed
omnisync group rename 'Нет/Такой' X 2>"$T_TMP/e"
t_is "rename of an unknown group: exit 2" "$?" 2
t_like "... naming it" "$(cat "$T_TMP/e")" "no group 'Нет/Такой'"
omnisync group move 'Одежда' 'Одежда/Детская' 2>"$T_TMP/e"
t_is "move under itself: exit 2" "$?" 2
omnisync group rename 'Одежда/Детская' 'Мужская' 2>"$T_TMP/e"
t_is "a name its sibling has: exit 2" "$?" 2
t_like "... saying so" "$(cat "$T_TMP/e")" "exists already"
omnisync group rename 'Одежда/Детская' 'a/b' 2>"$T_TMP/e"
t_is "a name with '/': exit 2" "$?" 2
omnisync group rename 'Одежда/Детская' 2>"$T_TMP/e"
t_is "missing NEW_NAME: exit 2" "$?" 2
t_is "nothing dead-lettered" "$(sql "SELECT count(*) FROM dlq_record")" 0

# a product moved to another group by a re-imported catalog
arid=$(cat_rid 'Аксессуары')
name4=$(sql "SELECT name FROM product WHERE article = 'ART-00004'")
printf 'Group;Article;Name;SKU\nОдежда/Мужская/Рубашки;ART-00004;"%s";ART-00004-1\n' \
    "${name4//\"/\"\"}" >"$T_TMP/move.csv"
t_ok "ART-00004 re-imported in Одежда/Мужская/Рубашки" \
    omnisync import catalog "$T_TMP/move.csv"
t_ok "it changes category in the store" wait_for 30 converged
gone() { ! sim_get "/admin/categories/$arid.json" >/dev/null; }
t_ok "its emptied old category is removed from the store" wait_for 20 gone
t_is "and forgotten" "$(cat_rid 'Аксессуары')" ""
t_like "catalog-publisher says why" "$(cat "$T_TMP/catpub.log")" "category $arid removed: nothing references"
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

# a group still referenced keeps its category
prid=$(cat_rid 'Одежда/Женская/Платья')
name1=$(sql "SELECT name FROM product WHERE article = 'ART-00001'")
printf 'Group;Article;Name;SKU\nОбувь/Кеды;ART-00001;"%s";ART-00001-1\n' \
    "${name1//\"/\"\"}" >"$T_TMP/move1.csv"
t_ok "ART-00001 leaves Одежда/Женская/Платья (ART-00006 stays)" \
    omnisync import catalog "$T_TMP/move1.csv"
t_ok "converged" wait_for 30 converged
t_ok "the category ART-00006 is in is kept" sim_get "/admin/categories/$prid.json"
t_is "still mapped" "$(cat_rid 'Одежда/Женская/Платья')" "$prid"
t_ok "store-sim equals the ledger" cat_compare
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
t_is "nothing dead-lettered" "$(sql "SELECT count(*) FROM dlq_record")" 0
t_kill catpub TERM
t_done
