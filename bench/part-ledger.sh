#!/usr/bin/env bash
# bench/part-ledger.sh — the ledger's write paths against Postgres's floor
# on the same server, in the same run:
#   - movements/s through omnisync's write paths (tests/tools/move-burst)
#     with one online store selling from WH1, so every movement computes
#     and writes its stock.available event as in production:
#       single   ledger.h, one movement a transaction, vs plain single-row
#                INSERTs (autocommit, one round trip each) of as many rows
#                into a table of the movement line's shape;
#       batched  movebatch (the bulk intake's path: `omnisync import
#                stock`, ledger-api POST /v1/movements), 500 movements a
#                call, vs the same plain INSERTs 500 a transaction — the
#                target: batched within 3 x plain per movement — and vs
#                one 500-row INSERT statement a transaction (no round
#                trip a row: the floor of any batched write);
#   - `omnisync import catalog` of a 10,000-variant file (and an unchanged
#     re-import) vs psql's \copy of the same file's lines, the median of
#     5 rounds each.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
MOVES=$(bench_tiny 3000 200)
MOVESB=$(bench_tiny 30000 1000)
NP=$(bench_tiny 2500 100)
. "$ROOT/tests/harness/lib.sh"
harness_start pg >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
export OMNISYNC_SQL_DIR=$ROOT/deploy/sql
W=$(mktemp -d)
trap 'rm -rf "$W"; harness_cleanup' EXIT
PATH=$ROOT/bin:$ROOT/build/std/tools:$PATH
ms() { echo $(($(date +%s%N) / 1000000)); }

# --- movements -------------------------------------------------------------
db=$(harness_new_db bench_ledger)
export OMNISYNC_PG=$db
omnisync db migrate >/dev/null || exit 1
omnisync pricelist add ONLINE >/dev/null
omnisync location add WH1 --kind warehouse >/dev/null
bash "$ROOT/tests/integration/import/gen-catalog.bash" "$W/c" 250 4 >/dev/null
omnisync import catalog "$W/c/catalog.csv" --price-list ONLINE >/dev/null || exit 1
omnisync location add WEB1 --kind online >/dev/null
PW=bench omnisync store add benchstore --platform insales --url http://127.0.0.1:9 \
    --login bench --password-env PW --online-location WEB1 --source-locations WH1 \
    --price-list ONLINE --delivery-sku ART-00001-1 >/dev/null || exit 1
burst() { move-burst --location WH1 --sku-like 'ART-%' --variants 1000 \
    --kinds receipt,sale "$@" | sed -nE 's/.*rate=([0-9.]+).*/\1/p'; }
# plain_rate N PER_TX [multi]: rows/s of plain_sql N PER_TX through psql.
# plain_sql N PER_TX [multi]: N single-row INSERTs into plain_line, PER_TX
# a transaction (1: autocommit); multi: one PER_TX-row INSERT a statement.
plain_sql() {
    python3 -c "
import sys
n, k, multi = int(sys.argv[1]), int(sys.argv[2]), len(sys.argv) > 3
row = lambda i: '(%d, %d, 1, %d)' % (i, i % 1000 + 1, i % 7 + 1)
ins = 'INSERT INTO plain_line (movement_id, variant_id, location_id, qty) VALUES '
for s in range(0, n, k):
    rows = [row(i) for i in range(s, min(n, s + k))]
    if multi:
        print(ins + ', '.join(rows) + ';')
        continue
    if k > 1: print('BEGIN;')
    for r in rows: print(ins + r + ';')
    if k > 1: print('COMMIT;')
" "$@"
}
plain_rate() {
    local t pt
    plain_sql "$@" >"$W/plain.sql"
    t=$(ms)
    psql "$db" -Xq -f "$W/plain.sql" >/dev/null
    pt=$(($(ms) - t))
    python3 -c "print(round($1 / max($pt, 1) * 1000))"
}
psql "$db" -Xq -c "CREATE TABLE plain_line (id bigserial PRIMARY KEY, movement_id bigint,
    variant_id bigint, location_id bigint, qty int, created_at timestamptz DEFAULT now())"
r1=$(burst --moves "$MOVES" --seed 3) || exit 1
p1=$(plain_rate "$MOVES" 1)
rb=$(burst --moves "$MOVESB" --seed 4 --batch 1 --per-tx 500) || exit 1
pb=$(plain_rate "$MOVESB" 500)
pm=$(plain_rate "$MOVESB" 500 multi)
[ -n "$r1" ] && [ -n "$rb" ] || { echo "bench: move-burst gave no rate" >&2; exit 1; }
# The ratio is ours / plain (below 1: slower per movement).
bench_result ledger "movements/s, one per tx (baseline: plain INSERT/s autocommit)" "$r1" "$p1" "mv/s"
bench_result ledger "movements/s, movebatch of 500 (baseline: plain INSERT/s, 500 a tx)" "$rb" "$pb" "mv/s" \
    "batched >= 1/3 of plain" "$(python3 -c "print('yes' if $rb * 3 >= $pb else 'no')")"
bench_result ledger "movements/s, movebatch of 500 (baseline: one 500-row INSERT a tx)" "$rb" "$pm" "mv/s"

# --- catalog import --------------------------------------------------------
# ROUNDS alternated rounds, each on a fresh database: COPY, import, the
# unchanged re-import; the median of each (one run's ratio swings by a
# third on a shared 2-core machine).
bash "$ROOT/tests/integration/import/gen-catalog.bash" "$W/i" "$NP" 4 >/dev/null
tr -d '\r' <"$W/i/catalog.csv" >"$W/plain.txt"
ROUNDS=$(bench_tiny 5 1)
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
cs=() is=() es=()
for ((k = 0; k < ROUNDS; k++)); do
    db=$(harness_new_db bench_import)
    OMNISYNC_PG=$db omnisync db migrate >/dev/null
    OMNISYNC_PG=$db omnisync pricelist add RETAIL >/dev/null
    psql "$db" -Xq -c "CREATE UNLOGGED TABLE raw (line text)"
    t=$(ms)
    psql "$db" -Xq -c "\\copy raw FROM '$W/plain.txt' WITH (FORMAT text, DELIMITER E'\\x01')"
    cs+=("$(($(ms) - t))")
    t=$(ms)
    OMNISYNC_PG=$db omnisync import catalog "$W/i/catalog.csv" --price-list RETAIL >/dev/null || exit 1
    is+=("$(($(ms) - t))")
    t=$(ms)
    OMNISYNC_PG=$db omnisync import catalog "$W/i/catalog.csv" --price-list RETAIL >/dev/null || exit 1
    es+=("$(($(ms) - t))")
done
echo "catalog import rounds (ms): COPY ${cs[*]}; import ${is[*]}; re-import ${es[*]}"
c=$(median "${cs[@]}") i=$(median "${is[@]}") e=$(median "${es[@]}")
bench_result ledger "catalog import $((NP * 4)) variants, ms (baseline: COPY)" "$i" "$c" "ms" \
    "<= 10x COPY" "$(python3 -c "print('yes' if $i <= 10 * $c else 'no')")"
bench_result ledger "unchanged re-import $((NP * 4)) variants, ms (baseline: COPY)" "$e" "$c" "ms"
