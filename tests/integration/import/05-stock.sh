#!/usr/bin/env bash
# omnisync import stock FILE --location L --mode count|receipt|writeoff
# [--ref KEY]: columns sku, qty with the catalog import's CSV rules; one
# batch (one transaction): all or nothing, FILE:LINE:COLUMN errors; a
# count sets on hand and records the difference; --ref makes a re-import
# a no-op.
. "$(dirname "$0")/import-lib.bash"

cp -r "$FIX" "$T_TMP/cat"
t_ok "catalog" omnisync import catalog "$T_TMP/cat/small.csv" --price-list RETAIL
t_ok "location WH1" omnisync location add WH1 --kind warehouse
onhand() { sql "SELECT coalesce((SELECT on_hand FROM stock_level s JOIN variant v ON v.id = s.variant_id JOIN location l ON l.id = s.location_id WHERE l.code = 'WH1' AND v.sku = '$1'), 0)"; }
moves() { sql "SELECT count(*) FROM stock_movement"; }

# Receipt: BOM, ';', CRLF, a decimal comma with a zero fraction, '1 200'.
printf '\357\273\277SKU;Qty\r\nSH-1-RED-M;5\r\nSH-1-RED-L;"1 200"\r\nTR-1-32;3,00\r\n' >"$T_TMP/r.csv"
run omnisync import stock "$T_TMP/r.csv" --location WH1 --mode receipt --ref R1
t_is "receipt: exit 0" "$RC" 0
t_is "receipt summary" "$OUT" "stock receipt at WH1: 3 rows, 3 applied, 0 already applied, on hand +1208, 0 events"
t_is "SH-1-RED-M on hand 5" "$(onhand SH-1-RED-M)" 5
t_is "SH-1-RED-L on hand 1200" "$(onhand SH-1-RED-L)" 1200
t_is "TR-1-32 on hand 3" "$(onhand TR-1-32)" 3
t_is "three movements keyed R1:SKU" "$(sql "SELECT string_agg(idem_key, ',' ORDER BY idem_key) FROM stock_movement")" \
    "R1:SH-1-RED-L,R1:SH-1-RED-M,R1:TR-1-32"

n=$(moves)
run omnisync import stock "$T_TMP/r.csv" --location WH1 --mode receipt --ref R1
t_is "same ref again: exit 0" "$RC" 0
t_is "same ref again: nothing applied" "$OUT" "stock receipt at WH1: 3 rows, 0 applied, 3 already applied, on hand +0, 0 events"
t_is "same ref again: no movement" "$(moves)" "$n"
t_is "same ref again: on hand unchanged" "$(onhand SH-1-RED-M)" 5

# Count: sets on hand, the movement carries the difference.
printf 'qty,sku\n2,SH-1-RED-M\n1200,SH-1-RED-L\n0,TR-1-32\n' >"$T_TMP/c.csv"
run omnisync import stock "$T_TMP/c.csv" --location WH1 --mode count --json
t_is "count: exit 0" "$RC" 0
t_like "count: JSON summary" "$OUT" '"applied": 3'
t_like "count: net change" "$OUT" '"on_hand_change": -6'
t_is "count: SH-1-RED-M = 2" "$(onhand SH-1-RED-M)" 2
t_is "count: TR-1-32 = 0" "$(onhand TR-1-32)" 0
t_is "count: the differences recorded" \
    "$(sql "SELECT string_agg(l.on_hand_delta::text, ',' ORDER BY v.sku) FROM stock_movement m JOIN stock_movement_line l ON l.movement_id = m.id JOIN variant v ON v.id = l.variant_id WHERE m.kind = 'count'")" \
    "0,-3,-3"

# Writeoff.
printf 'sku,qty\nSH-1-RED-L,200\n' >"$T_TMP/w.csv"
t_ok "writeoff" omnisync import stock "$T_TMP/w.csv" --location WH1 --mode writeoff
t_is "writeoff: 1000 left" "$(onhand SH-1-RED-L)" 1000

# Bad rows: nothing applied, each named FILE:LINE:COLUMN.
n=$(moves)
printf 'sku,qty\nSH-1-RED-M,1\nNOPE-1,5\nSH-1-RED-M,2\nTR-1-32,1,5\nTR-1-32,x\n\nSH-1-RED-L,0\n' >"$T_TMP/bad.csv"
run omnisync import stock "$T_TMP/bad.csv" --location WH1 --mode receipt
t_is "bad rows: exit 2" "$RC" 2
t_like "duplicate SKU" "$ERR" 'bad.csv:4:1: sku: duplicate SKU "SH-1-RED-M" \(first on line 2\)'
t_like "field count" "$ERR" 'bad.csv:5:1: expected 2 fields as in the header, found 3'
t_like "not a number" "$ERR" 'bad.csv:6:9: qty: not a whole number: "x"'
t_like "zero receipt" "$ERR" 'bad.csv:8:12: qty: must be positive for a receipt'
t_like "summary" "$ERR" 'nothing applied'
t_is "bad rows: no movement" "$(moves)" "$n"

# A file whose rows are fine but a SKU is unknown (found in the ledger).
printf 'sku,qty\nSH-1-RED-M,1\nNOPE-1,5\n' >"$T_TMP/unk.csv"
run omnisync import stock "$T_TMP/unk.csv" --location WH1 --mode receipt
t_is "unknown SKU: exit 2" "$RC" 2
t_like "unknown SKU named" "$ERR" 'unk.csv:3:1: sku: unknown SKU "NOPE-1"'
t_is "unknown SKU: nothing applied" "$(onhand SH-1-RED-M)" 2

printf 'sku,qty\nSH-1-RED-M,"1,5"\n' >"$T_TMP/dec.csv"
run omnisync import stock "$T_TMP/dec.csv" --location WH1 --mode receipt
t_like "a fraction is refused" "$ERR" 'dec.csv:2:12: qty: not a whole number: "1,5"'

printf 'qty\n1\n' >"$T_TMP/nosku.csv"
run omnisync import stock "$T_TMP/nosku.csv" --location WH1 --mode count
t_is "missing column: exit 2" "$RC" 2
t_like "missing column named" "$ERR" 'nosku.csv:1:1: missing column "sku"'

run omnisync import stock "$T_TMP/r.csv" --location NOPE --mode count
t_is "unknown location: exit 2" "$RC" 2
t_like "unknown location named" "$ERR" "unknown location 'NOPE'"
run omnisync import stock "$T_TMP/r.csv" --location WH1 --mode sale
t_is "bad mode: exit 2" "$RC" 2

# Standard input and --dry-run.
run omnisync import stock - --location WH1 --mode receipt --dry-run <"$T_TMP/w.csv"
t_is "dry run from stdin: exit 0" "$RC" 0
t_like "dry run says so" "$OUT" 'dry run: rolled back'
t_is "dry run: unchanged" "$(onhand SH-1-RED-L)" 1000

# A 10,000-row count in one batch.
sql "INSERT INTO product (article, name) VALUES ('BULK', 'Bulk')" >/dev/null
sql "INSERT INTO variant (product_id, sku) SELECT (SELECT id FROM product WHERE article = 'BULK'), 'BULK-' || g FROM generate_series(1, 10000) g" >/dev/null
{ echo "sku;qty"; for i in $(seq 1 10000); do echo "BULK-$i;$((i % 7))"; done; } >"$T_TMP/big.csv"
t0=$(date +%s%N)
run omnisync import stock "$T_TMP/big.csv" --location WH1 --mode count --ref BIG
t1=$(date +%s%N)
t_is "10,000 rows: exit 0" "$RC" 0
t_like "10,000 rows applied" "$OUT" '10000 rows, 10000 applied'
t_diag "10,000-row count: $(((t1 - t0) / 1000000)) ms"
t_is "10,000 levels" "$(sql "SELECT sum(on_hand) FROM stock_level s JOIN variant v ON v.id = s.variant_id WHERE v.sku LIKE 'BULK-%'")" \
    "$(for i in $(seq 1 10000); do echo $((i % 7)); done | paste -sd+ | bc)"
t_done
