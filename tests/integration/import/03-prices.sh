#!/usr/bin/env bash
# omnisync import prices FILE --price-list PL: sku,price[,old_price]; one
# event per product whose prices changed; re-import silent; unknown and
# duplicate SKUs are bad rows; --price-list required.
. "$(dirname "$0")/import-lib.bash"

cp -r "$FIX" "$T_TMP/cat"
t_ok "catalog" omnisync import catalog "$T_TMP/cat/small.csv" --price-list RETAIL
t_ok "a second price list" omnisync pricelist add ONLINE
n=$(events)

printf '\357\273\277SKU;Price;Old_price\r\nSH-1-RED-M;"1 400,00";1500\r\nSH-1-RED-L;1500,00;\r\nTR-1-32;2499.99;\r\n' >"$T_TMP/p.csv"
run omnisync import prices "$T_TMP/p.csv"
t_is "no --price-list: exit 2" "$RC" 2
t_like "names the option" "$ERR" '--price-list'
run omnisync import prices "$T_TMP/p.csv" --price-list NOPE
t_is "unknown price list: exit 2" "$RC" 2
t_like "names it" "$ERR" 'unknown price list "NOPE"'

run omnisync import prices "$T_TMP/p.csv" --price-list RETAIL
t_is "prices: exit 0" "$RC" 0
# SH-1-RED-M: 1500 -> 1400 (old 2000 -> 1500); SH-1-RED-L: same price, old
# price column present and empty (was NULL): unchanged; TR-1-32 unchanged.
t_is "summary" "$OUT" "prices: 3 rows, 1 changed, 2 unchanged, 1 products, 1 events"
t_is "stored" "$(sql "SELECT price || '/' || old_price FROM price r JOIN variant v ON v.id = r.variant_id JOIN price_list l ON l.id = r.price_list_id WHERE v.sku = 'SH-1-RED-M' AND l.code = 'RETAIL'")" \
    "1400.00/1500.00"
t_is "one event" "$(events)" $((n + 1))
t_is "the event carries the new price" \
    "$(sql "SELECT e->'prices'->'RETAIL'->>'price' || ' ' || (e->'prices'->'RETAIL'->>'old_price') FROM outbox, jsonb_array_elements(data->'variants') e WHERE outbox.id = (SELECT max(id) FROM outbox) AND e->>'sku' = 'SH-1-RED-M'")" \
    "1400.00 1500.00"

sum=$(ledger_sum)
run omnisync import prices "$T_TMP/p.csv" --price-list RETAIL
t_is "re-import summary" "$OUT" "prices: 3 rows, 0 changed, 3 unchanged, 0 products, 0 events"
t_is "re-import: 0 events" "$(events)" $((n + 1))
t_is "re-import: nothing changed" "$(ledger_sum)" "$sum"

# Another list: new rows, an event per product (SH-1 and TR-1).
run omnisync import prices "$T_TMP/p.csv" --price-list ONLINE
t_is "second list summary" "$OUT" "prices: 3 rows, 3 changed, 0 unchanged, 2 products, 2 events"
t_is "snapshot holds both lists" \
    "$(sql "SELECT (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(data->'variants'->0->'prices') k) FROM outbox WHERE id = (SELECT max(id) FROM outbox WHERE data->>'article' = 'SH-1')")" \
    "ONLINE,RETAIL"

# Bad rows: unknown SKU, duplicate SKU, bad price; nothing applied.
sum=$(ledger_sum)
n=$(events)
printf 'sku,price\nSH-1-RED-M,1\nNOPE-1,5\nSH-1-RED-M,2\nTR-1-32,1.234\n' >"$T_TMP/bad.csv"
run omnisync import prices "$T_TMP/bad.csv" --price-list RETAIL
t_is "bad rows: exit 2" "$RC" 2
t_like "unknown SKU" "$ERR" 'bad.csv:3:1: sku: unknown SKU "NOPE-1"'
t_like "duplicate SKU" "$ERR" 'bad.csv:4:1: sku: duplicate SKU "SH-1-RED-M" \(first on line 2\)'
t_like "bad price" "$ERR" 'bad.csv:5:9: price: more than 2 decimals: "1.234"'
t_is "bad rows: nothing applied" "$(ledger_sum)" "$sum"
t_is "bad rows: no event" "$(events)" "$n"

printf 'price\n1\n' >"$T_TMP/nosku.csv"
run omnisync import prices "$T_TMP/nosku.csv" --price-list RETAIL
t_is "missing sku column: exit 2" "$RC" 2
t_like "missing sku column: FILE:1:1" "$ERR" 'nosku.csv:1:1: missing column "sku"'
t_done
