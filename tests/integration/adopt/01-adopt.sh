#!/usr/bin/env bash
# harness: fresh-kafka
# `omnisync store adopt` on a store pre-filled with 100 products, 80 of
# them with SKUs the ledger knows: maps 80, reports the 20 unmatched ones
# on each side, sends only GET requests and deletes nothing; --dry-run
# records nothing.  A sync afterwards updates the adopted products instead
# of creating duplicates.
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_IMGUP=1 # photos are part of a sync
CAT_WINDOW=10 # lean: 500 calls per 10 s
cat_setup 100 2 # ART-00001..100, variants ART-%05d-1 and -2

# Pre-fill: ART-00001..080 as the store's own products (other titles, one
# variant with SKU ...-1, one the ledger lacks), 20 foreign products.
python3 - >"$T_TMP/prefill.json" <<'PY'
import json
ps = []
for p in range(1, 81):
    ps.append({"title": "Old title %d" % p, "variants_attributes": [
        {"sku": "ART-%05d-1" % p, "price": 1},
        {"sku": "LEGACY-%05d" % p, "price": 2}]})
for p in range(1, 21):
    ps.append({"title": "Foreign %d" % p, "variants_attributes": [{"sku": "FOREIGN-%d" % p, "price": 3}]})
print(json.dumps({"products": ps}))
PY
t_like "store-sim pre-filled with 100 products" \
    "$(curl -sf -X POST -H 'Content-Type: application/json' -d @"$T_TMP/prefill.json" \
        "http://127.0.0.1:$CAT_SIM_PORT/_sim/products")" '"created":100'
nprod() { sim_get /_sim/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["products"])'; }

seq=$(sim_seq)
out=$(omnisync store adopt "$CAT_STORE" --dry-run 2>&1)
t_is "adopt --dry-run exits 0" "$?" 0 || t_diag "$out"
t_like "dry run: would map 80" "$out" 'would map 80 product\(s\) and 80 variant\(s\)'
t_is "dry run records nothing" "$(sql "SELECT count(*) FROM remote_map")" 0
out=$(omnisync store adopt "$CAT_STORE" --dry-run --json 2>/dev/null)
t_is "adopt --dry-run --json exits 0" "$?" 0
t_is "--json: the counts (docs/cli.md)" \
    "$(printf '%s' "$out" | jq -c '{dry_run, store_products, store_variants, mapped, mapped_variants, already_mapped}')" \
    '{"dry_run":true,"store_products":100,"store_variants":180,"mapped":80,"mapped_variants":80,"already_mapped":0}'
t_is "--json: the 20 foreign products unmatched, with why" \
    "$(printf '%s' "$out" | jq -c '[(.unmatched_in_store | length), (.unmatched_in_store[0] | keys_unsorted), (.not_in_store[0] | keys_unsorted)]')" \
    '[20,["id","title","why"],["id","article","name"]]'

out=$(omnisync store adopt "$CAT_STORE" 2>&1)
t_is "adopt exits 0" "$?" 0 || t_diag "$out"
t_diag "$(printf '%s\n' "$out" | grep -v '^  ')"
t_like "100 store products seen" "$out" '100 product\(s\), 180 variant\(s\) in the store'
t_like "maps 80" "$out" 'mapped 80 product\(s\) and 80 variant\(s\) by SKU'
t_like "reports 20 store products without a match" "$out" 'store products without a ledger match: 20'
t_is "... and lists them" "$(printf '%s\n' "$out" | grep -c '^  store product .*"Foreign [0-9]*": no SKU known')" 20
t_like "reports 20 ledger products not in the store" "$out" 'ledger products not in the store: 20'
t_is "... and lists them" "$(printf '%s\n' "$out" | grep -c '^  ledger product [0-9]* ART-000(8[1-9]|9[0-9]|100)')" 0
t_is "... by article" "$(printf '%s\n' "$out" | grep -cE '^  ledger product [0-9]+ ART-00(0(8[1-9]|9[0-9])|100) ')" 20
t_is "80 products mapped in remote_map" "$(sql "SELECT count(*) FROM remote_map WHERE entity = 'product' AND remote_id > 0")" 80
t_is "80 variants mapped" "$(sql "SELECT count(*) FROM remote_map WHERE entity = 'variant' AND remote_id > 0")" 80
t_is "only GET requests reached the store" "$(sim_changes "$seq" | wc -l)" 0
t_like "it paged the products list" "$(sim_get "/_sim/requests?since=$seq")" '"path":"/admin/products.json","query":"per_page=250&page=1"'
t_is "nothing deleted" "$(nprod)" 100
out=$(omnisync store adopt "$CAT_STORE" 2>&1)
t_like "adopt again: already mapped, nothing new" "$out" 'mapped 0 product.*already mapped: 80'

# The sync updates the 80 adopted products and creates only the 20 others.
seq=$(sim_seq)
out=$(omnisync sync resync "$CAT_STORE" --catalog --timeout 120 2>&1)
t_is "resync --catalog exits 0" "$?" 0 || t_diag "$out" "$(tail -20 "$T_TMP/catpub.log")"
t_is "20 products created, no duplicate" \
    "$(sim_changes "$seq" | grep -c '^POST /admin/products.json 201')" 20
t_is "80 adopted products updated" \
    "$(sim_changes "$seq" | grep -cE '^PUT /admin/products/[0-9]+.json 200')" 80
t_is "nothing deleted" "$(sim_changes "$seq" | grep -c '^DELETE')" 0
t_is "store-sim holds 120 products" "$(nprod)" 120
t_like "an adopted product carries the ledger's title" \
    "$(sim_get "/admin/products.json?per_page=250" | python3 -c '
import json,sys
for p in json.load(sys.stdin):
    if any(v["sku"] == "ART-00007-1" for v in p["variants"]):
        print(p["title"], sorted(v["sku"] for v in p["variants"]))')" \
    "^Товар 7 \['ART-00007-1', 'ART-00007-2', 'LEGACY-00007'\]$"
t_kill catpub TERM
t_kill imgup TERM
t_done
