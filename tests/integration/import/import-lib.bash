# shellcheck shell=bash
# tests/integration/import/import-lib.bash — helpers of the import scripts
# (not a test itself: tests/run.sh runs only *.sh).
#
#   . "$(dirname "$0")/import-lib.bash"   # migrates, adds price list RETAIL
#   sql "SELECT ..."          psql on $OMNISYNC_PG, tuples only
#   run omnisync import ...   sets RC, OUT (stdout), ERR (stderr)
#   events                    number of catalog.product outbox rows
#   ledger_sum                checksum of every catalog table (all columns,
#                             updated_at included) and the stored photos

set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
export PATH=$OMNISYNC_ROOT/bin:$PATH
# shellcheck source=../../harness/tap.sh
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
FIX=$OMNISYNC_ROOT/tests/fixtures/catalog

sql() { psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -c "$1"; }

run() {
    RC=0
    OUT=$("$@" 2>"$T_TMP/run.err") || RC=$?
    ERR=$(cat "$T_TMP/run.err")
}

events() { sql "SELECT count(*) FROM outbox WHERE type = 'catalog.product'"; }

ledger_sum() {
    sql "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
           SELECT 'p' || p::text AS t FROM product p
           UNION ALL SELECT 'v' || v::text FROM variant v
           UNION ALL SELECT 'o' || o::text FROM variant_option o
           UNION ALL SELECT 'r' || r::text FROM price r
           UNION ALL SELECT 'f' || f::text FROM product_photo f
           UNION ALL SELECT 'b' || b.sha256 || b.size FROM photo_blob b
           UNION ALL SELECT 'g' || g::text FROM product_group g
           UNION ALL SELECT 'n' || n::text FROM option_name n
           UNION ALL SELECT 'w' || w::text FROM option_value w) s"
}

omnisync db migrate >/dev/null || t_bail "omnisync db migrate failed"
omnisync pricelist add RETAIL >/dev/null || t_bail "pricelist add failed"
