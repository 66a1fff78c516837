#!/usr/bin/env bash
# harness: fresh-kafka
# A product not (yet) for sale in a store's channel (issue 14 item 8): a
# new product priced only in another price list is skipped for the store,
# counted (`omnisync status`, omnisync_catalog_not_for_sale), never
# dead-lettered; once a price arrives in the store's list it is published
# and the count drops.  After each step `omnisync reconcile` exits 0.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
. "$OMNISYNC_ROOT/tests/integration/ops/ops-lib.bash"
CAT_STOCKPUB=1
cat_setup 3 1
t_ok "sync initial" omnisync sync initial "$CAT_STORE" --timeout 60
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
ops_wait_port catpub || t_bail "catalog-publisher logged no ops port"
CP_PORT=$OPS_PORT

omnisync pricelist add OTHER --name Other >/dev/null || t_bail "pricelist"
printf 'Group;Article;Name;SKU;Price\nНовинки;NFS-1;Скоро в продаже;NFS-1-1;990\n' \
    >"$T_TMP/nfs.csv"
t_ok "a new product priced only in OTHER" \
    omnisync import catalog "$T_TMP/nfs.csv" --price-list OTHER
skipped() { grep -q 'not for sale, skipped: no active variant priced in price list ONLINE' "$T_TMP/catpub.log"; }
t_ok "catalog-publisher skips it for the store" wait_for 30 skipped
st=$(omnisync status "$CAT_STORE" --json)
t_is "status counts it as not for sale" \
    "$(printf '%s' "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store_sync"][0]["not_for_sale"])')" 1
t_is "and nothing dead-lettered" \
    "$(printf '%s' "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store_sync"][0]["failed"])')" 0
t_like "status text shows it" "$(omnisync status "$CAT_STORE")" 'not for sale +1'
t_is "no DLQ record" "$(sql "SELECT count(*) FROM dlq_record")" 0
gauge() {
    ops_scrape "$CP_PORT" "$T_TMP/m.txt" &&
        [ "$(ops_sum "$T_TMP/m.txt" omnisync_catalog_not_for_sale "store=\"$CAT_STORE\"")" = "$1.000000" ]
}
t_ok "the gauge omnisync_catalog_not_for_sale is 1" wait_for 15 gauge 1
t_is "the store does not have it" \
    "$(sim_get '/_sim/state?skus=1' | python3 -c 'import json,sys; print("NFS-1-1" in json.load(sys.stdin)["variants_by_sku"])')" False
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"

printf 'SKU;Price\nNFS-1-1;1090\n' >"$T_TMP/p.csv"
t_ok "its price arrives in ONLINE" \
    omnisync import prices "$T_TMP/p.csv" --price-list ONLINE
published() {
    sim_get '/_sim/state?skus=1' | python3 -c '
import json,sys
v = json.load(sys.stdin)["variants_by_sku"].get("NFS-1-1")
sys.exit(0 if v and v["price"] in ("1090.0", "1090") else 1)'
}
t_ok "published once sellable" wait_for 30 published
t_ok "the gauge drops to 0" wait_for 15 gauge 0
t_is "status: not for sale 0" \
    "$(omnisync status "$CAT_STORE" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["store_sync"][0]["not_for_sale"])')" 0
t_ok "store-sim equals the ledger" cat_compare
t_ok "omnisync reconcile exits 0" cat_reconciled || t_diag "$(cat "$T_TMP/reconcile.out")"
t_is "still no DLQ record" "$(sql "SELECT count(*) FROM dlq_record")" 0
t_kill catpub TERM
t_done
