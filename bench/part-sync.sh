#!/usr/bin/env bash
# bench/part-sync.sh — an initial sync's store calls vs the minimum (one
# per category, product and photo): `omnisync sync initial` of a generated
# catalog (tests/integration/catalog/catalog-lib.bash: catalog-publisher,
# image-uploader, store-sim) — every changing /admin call store-sim saw,
# against the categories, products and photos of the ledger.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
NP=$(bench_tiny 300 20)
make -s -C "$ROOT" all >/dev/null || exit 1
. "$ROOT/tests/harness/lib.sh"
harness_start >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
CAT_IMGUP=1
. "$ROOT/tests/integration/catalog/catalog-lib.bash"
cat_setup "$NP" 4 >/dev/null
omnisync sync initial "$CAT_STORE" --timeout 300 >/dev/null 2>&1 || { echo "bench: sync failed" >&2; exit 1; }
calls=$(sim_changes 0 | grep -c .)
min=$(sql "SELECT (SELECT count(*) FROM product_group) + (SELECT count(*) FROM product WHERE NOT archived)
              + (SELECT count(*) FROM product_photo)")
bench_result sync "initial sync $NP products: changing calls (baseline: minimum)" "$calls" "$min" calls \
    "<= 1.1x min" "$(python3 -c "print('yes' if $calls <= 1.1 * $min else 'no')")"
sim_changes 0 | awk '{print $1, $2}' | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -8
T_DONE=1
