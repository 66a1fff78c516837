# shellcheck shell=bash
# tests/integration/cli/cli-lib.bash — helpers shared by the CLI's
# integration scripts (not a test itself: tests/run.sh runs only *.sh).
#
#   . "$(dirname "$0")/cli-lib.bash"
#   sql "SELECT ..."              # psql on $OMNISYNC_PG, tuples only
#   run omnisync stock ...        # sets RC, OUT (stdout), ERR (stderr)
#   cli_seed_catalog              # products/variants via SQL (see below)
#   cli_chain                     # migrate + price lists, locations, catalog

set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
# shellcheck source=../../harness/tap.sh
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

sql() { psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -c "$1"; }

# run CMD...: run it, keep exit status, stdout and stderr apart.
run() {
    RC=0
    OUT=$("$@" 2>"$T_TMP/run.err") || RC=$?
    ERR=$(cat "$T_TMP/run.err")
}

# Products and variants straight into the ledger with SQL: the catalog
# import (`omnisync import catalog`) is another command's business and this
# keeps the CLI tests independent of it.
cli_seed_catalog() {
    sql "INSERT INTO product (article, name) VALUES
           ('SH-1', 'Shirt'), ('TR-1', 'Trousers'), ('DLV', 'Delivery');
         INSERT INTO variant (product_id, sku, position)
           SELECT p.id, v.sku, v.pos FROM product p
           JOIN (VALUES ('SH-1', 'SH-1-RED-M', 1), ('SH-1', 'SH-1-RED-L', 2),
                        ('TR-1', 'TR-1-32', 1), ('DLV', 'DELIVERY', 1))
             AS v(article, sku, pos) ON v.article = p.article;"
}

# A small chain: two warehouses, an outlet, two online locations.
cli_chain() {
    omnisync db migrate >/dev/null &&
        omnisync pricelist add RETAIL --name Retail >/dev/null &&
        omnisync pricelist add ONLINE --name Online >/dev/null &&
        omnisync location add WH1 --kind warehouse >/dev/null &&
        omnisync location add WH2 --kind warehouse >/dev/null &&
        omnisync location add SHOP1 --kind outlet --price-list RETAIL >/dev/null &&
        omnisync location add WEB1 --kind online --price-list ONLINE >/dev/null &&
        omnisync location add WEB2 --kind online --price-list ONLINE >/dev/null &&
        cli_seed_catalog
}

# cli_store NAME ONLINE SOURCES [more options]: a store with a password
# from the environment.
cli_store() {
    local name=$1 online=$2 sources=$3
    shift 3
    CLI_PW='pw-Zq7#secret' omnisync store add "$name" --platform insales \
        --url https://shop.example --login api-user --password-env CLI_PW \
        --online-location "$online" --source-locations "$sources" \
        --price-list ONLINE --delivery-sku DELIVERY "$@"
}

# The latest stock.available data of STORE:SKU as "available on_hand
# reserved safety_stock", or "none".
cli_avail() {
    local v
    v=$(sql "SELECT concat_ws(' ', data->>'available', data->>'on_hand',
                    data->>'reserved', data->>'safety_stock')
             FROM outbox WHERE type = 'stock.available' AND store = '$1'
               AND data->>'sku' = '$2' ORDER BY id DESC LIMIT 1")
    echo "${v:-none}"
}

# Number of stock.available events for STORE (all SKUs).
cli_events() {
    sql "SELECT count(*) FROM outbox WHERE type = 'stock.available'
           AND store = '$1'"
}
