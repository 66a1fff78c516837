#!/usr/bin/env bash
# bench/import.sh — speed of `omnisync import catalog` on a 10,000-variant
# file, as a ratio against a baseline measured in the same run: psql's
# \copy of the same file's lines into an unlogged table (the floor for
# getting those bytes into this Postgres at all).
#
#   bench/import.sh                 # 2,500 products x 4 variants, 3 rounds
#   BENCH_PRODUCTS=5000 BENCH_ROUNDS=5 bench/import.sh
# Starts its own Postgres on loopback (tests/harness/lib.sh) and removes it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NP=${BENCH_PRODUCTS:-2500}
ROUNDS=${BENCH_ROUNDS:-3}
make -s -C "$ROOT" bin/omnisync
# shellcheck source=../tests/harness/lib.sh
. "$ROOT/tests/harness/lib.sh"
harness_start pg >/dev/null
export OMNISYNC_SQL_DIR=$ROOT/deploy/sql
W=$(mktemp -d)
trap 'rm -rf "$W"; harness_cleanup' EXIT
bash "$ROOT/tests/integration/import/gen-catalog.bash" "$W" "$NP" 4
csv=$W/catalog.csv
rows=$((NP * 4))
# The baseline loads the same bytes, one physical line a row (carriage
# returns dropped so COPY's text format takes every line as it is).
tr -d '\r' <"$csv" >"$W/plain.txt"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
best_copy=0 best_imp=0 best_re=0
for r in $(seq 1 "$ROUNDS"); do
    db=$(harness_new_db "bench_import_$r")
    OMNISYNC_PG=$db omnisync db migrate >/dev/null
    OMNISYNC_PG=$db omnisync pricelist add RETAIL >/dev/null
    psql "$db" -Xq -c "CREATE UNLOGGED TABLE raw (line text)"
    t=$(now_ms)
    psql "$db" -Xq -c "\\copy raw FROM '$W/plain.txt' WITH (FORMAT text, DELIMITER E'\\x01')"
    c=$(($(now_ms) - t))
    t=$(now_ms)
    OMNISYNC_PG=$db omnisync import catalog "$csv" --price-list RETAIL >/dev/null
    i=$(($(now_ms) - t))
    t=$(now_ms)
    OMNISYNC_PG=$db omnisync import catalog "$csv" --price-list RETAIL >/dev/null
    e=$(($(now_ms) - t))
    echo "round $r: copy ${c} ms, import ${i} ms, unchanged re-import ${e} ms"
    [ "$best_copy" = 0 ] || [ "$c" -lt "$best_copy" ] && best_copy=$c
    [ "$best_imp" = 0 ] || [ "$i" -lt "$best_imp" ] && best_imp=$i
    [ "$best_re" = 0 ] || [ "$e" -lt "$best_re" ] && best_re=$e
done
[ "$best_copy" -gt 0 ] || best_copy=1
echo "import catalog: $rows variants; best of $ROUNDS:" \
    "copy baseline ${best_copy} ms, import ${best_imp} ms" \
    "(x$(awk -v a="$best_imp" -v b="$best_copy" 'BEGIN{printf "%.1f", a/b}') the baseline)," \
    "re-import ${best_re} ms" \
    "(x$(awk -v a="$best_re" -v b="$best_copy" 'BEGIN{printf "%.1f", a/b}'))"
