#!/usr/bin/env bash
# bench/part-ledger.sh — the ledger's write paths against Postgres's floor
# on the same server, in the same run:
#   - movements/s through omnisync's write path (tests/tools/move-burst:
#     ledger.h, one movement a transaction, and --per-tx 100) vs plain
#     single-row INSERTs (autocommit, one round trip each) of as many rows
#     into a table of the movement line's shape;
#   - `omnisync import catalog` of a 10,000-variant file (and an unchanged
#     re-import) vs psql's \copy of the same file's lines.
# The batched movement path of branch intake is measured by bench/intake.sh
# when it is present (make bench runs it).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
MOVES=$(bench_tiny 3000 200)
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
out1=$(move-burst --location WH1 --sku-like 'ART-%' --variants 1000 --moves "$MOVES" \
    --kinds receipt,sale --seed 3) || exit 1
out100=$(move-burst --location WH1 --sku-like 'ART-%' --variants 1000 --moves "$MOVES" \
    --kinds receipt,sale --per-tx 100 --seed 4) || exit 1
r1=$(sed -nE 's/.*rate=([0-9.]+).*/\1/p' <<<"$out1")
r100=$(sed -nE 's/.*rate=([0-9.]+).*/\1/p' <<<"$out100")
psql "$db" -Xq -c "CREATE TABLE plain_line (id bigserial PRIMARY KEY, movement_id bigint,
    variant_id bigint, location_id bigint, qty int, created_at timestamptz DEFAULT now())"
python3 -c "
import sys
for i in range(int(sys.argv[1])):
    print('INSERT INTO plain_line (movement_id, variant_id, location_id, qty) VALUES (%d, %d, 1, %d);' % (i, i % 1000 + 1, i % 7 + 1))
" "$MOVES" >"$W/plain.sql"
t=$(ms)
psql "$db" -Xq -f "$W/plain.sql" >/dev/null
pt=$(($(ms) - t))
prate=$(python3 -c "print(round($MOVES / max($pt, 1) * 1000))")
# The ratio is plain / ours (how many times slower per movement).
bench_result ledger "movements/s, one per tx (baseline: plain INSERT/s)" "$r1" "$prate" "mv/s"
bench_result ledger "movements/s, 100 per tx (baseline: plain INSERT/s)" "$r100" "$prate" "mv/s" \
    "batched >= 1/3 of plain" "$(python3 -c "print('yes' if $r100 * 3 >= $prate else 'no')")"

# --- catalog import --------------------------------------------------------
bash "$ROOT/tests/integration/import/gen-catalog.bash" "$W/i" "$NP" 4 >/dev/null
tr -d '\r' <"$W/i/catalog.csv" >"$W/plain.txt"
db=$(harness_new_db bench_import)
OMNISYNC_PG=$db omnisync db migrate >/dev/null
OMNISYNC_PG=$db omnisync pricelist add RETAIL >/dev/null
psql "$db" -Xq -c "CREATE UNLOGGED TABLE raw (line text)"
t=$(ms)
psql "$db" -Xq -c "\\copy raw FROM '$W/plain.txt' WITH (FORMAT text, DELIMITER E'\\x01')"
c=$(($(ms) - t))
t=$(ms)
OMNISYNC_PG=$db omnisync import catalog "$W/i/catalog.csv" --price-list RETAIL >/dev/null || exit 1
i=$(($(ms) - t))
t=$(ms)
OMNISYNC_PG=$db omnisync import catalog "$W/i/catalog.csv" --price-list RETAIL >/dev/null || exit 1
e=$(($(ms) - t))
bench_result ledger "catalog import $((NP * 4)) variants, ms (baseline: COPY)" "$i" "$c" "ms" \
    "<= 10x COPY" "$(python3 -c "print('yes' if $i <= 10 * $c else 'no')")"
bench_result ledger "unchanged re-import $((NP * 4)) variants, ms (baseline: COPY)" "$e" "$c" "ms"
