#!/usr/bin/env bash
# A 10,000-variant catalog (2,500 products x 4) as a Russian-locale
# spreadsheet exports it (BOM, ';', CRLF, decimal commas, quoted fields with
# ';' and line breaks, Cyrillic groups, photos): imports, re-import is
# silent, one changed description is one event, three bad rows apply
# nothing and are named by FILE:LINE:COLUMN, --archive-missing archives
# exactly the missing product.  Its speed is measured by bench/part-ledger.sh,
# not asserted here (timed tests are noisy on shared machines).
. "$(dirname "$0")/import-lib.bash"
GEN=$(dirname "$0")/gen-catalog.bash
d=$T_TMP/big
t_ok "generate 10,000 variants" "$GEN" "$d" 2500 4
f=$d/catalog.csv

t0=$(date +%s%N)
run omnisync import catalog "$f" --price-list RETAIL
ms=$((($(date +%s%N) - t0) / 1000000))
t_diag "10,000-variant import: $ms ms"
t_is "import exits 0" "$RC" 0
t_is "summary" "$OUT" \
    "catalog: 10000 rows, 2500 products (2500 new, 0 changed, 0 unchanged, 0 archived), 10000 variants, 2500 events"
t_is "products" "$(sql "SELECT count(*) FROM product")" 2500
t_is "variants" "$(sql "SELECT count(*) FROM variant")" 10000
t_is "prices" "$(sql "SELECT count(*) FROM price")" 10000
t_is "old prices" "$(sql "SELECT count(*) FROM price WHERE old_price IS NOT NULL")" 1250
t_is "photos (every 5th product, 2 each)" "$(sql "SELECT count(*) FROM product_photo")" 1000
t_is "the 2 distinct photo files stored once each" "$(sql "SELECT count(*) FROM photo_blob")" 2
t_is "variant options" "$(sql "SELECT count(*) FROM variant_option")" 25000
t_is "groups" "$(sql "SELECT count(*) FROM product_group")" 9
t_is "decimal comma with thousands space" \
    "$(sql "SELECT price FROM price r JOIN variant v ON v.id = r.variant_id WHERE v.sku = 'ART-02000-3'")" \
    "20003.50"
t_is "quoted name with ';'" \
    "$(sql "SELECT name FROM product WHERE article = 'ART-00004'")" "Рубашка; модель 4"
t_is "quoted multi-line description" \
    "$(sql "SELECT description = E'Описание товара ART-00007;\nвторая строка с \"кавычками\"' FROM product WHERE article = 'ART-00007'")" t
t_is "Cyrillic group chain" \
    "$(sql "SELECT g.path FROM product p JOIN product_group g ON g.id = p.group_id WHERE p.article = 'ART-00005'")" \
    "Одежда/Мужская/Рубашки"
t_is "photo path absolute, hash of the file" \
    "$(sql "SELECT path || ' ' || sha256 FROM product_photo f JOIN product p ON p.id = f.product_id WHERE p.article = 'ART-00005' AND position = 1")" \
    "$d/photos/grey.jpg $(sha256sum <"$d/photos/grey.jpg" | cut -d' ' -f1)"
t_is "one event per product" "$(events)" 2500
t_is "event snapshot has the variants" \
    "$(sql "SELECT jsonb_array_length(data->'variants') || ' ' || (data->'variants'->0->'options'->>'Материал') || ' ' || (data->'variants'->0->'prices'->'RETAIL'->>'price') FROM outbox WHERE data->>'article' = 'ART-00010'")" \
    "4 хлопок 101.50"

# Re-import: no event, no change (updated_at included).
sum=$(ledger_sum)
n=$(events)
t0=$(date +%s%N)
run omnisync import catalog "$f" --price-list RETAIL
t_diag "unchanged re-import: $((($(date +%s%N) - t0) / 1000000)) ms"
t_is "re-import exits 0" "$RC" 0
t_is "re-import summary" "$OUT" \
    "catalog: 10000 rows, 2500 products (0 new, 0 changed, 2500 unchanged, 0 archived), 10000 variants, 0 events"
t_is "re-import emits 0 events" "$(events)" "$n"
t_is "re-import changes nothing" "$(ledger_sum)" "$sum"

# One description changed: exactly one event, with the new text.
sed 's/Описание товара ART-01234;/Новое описание ART-01234;/' "$f" >"$d/changed.csv"
run omnisync import catalog "$d/changed.csv" --price-list RETAIL
t_is "changed description: exit 0" "$RC" 0
t_like "summary: 1 changed, 1 event" "$OUT" '\(0 new, 1 changed, 2499 unchanged, 0 archived\), 10000 variants, 1 events$'
t_is "exactly one event" "$(events)" $((n + 1))
t_is "the event is ART-01234's, with the new description" \
    "$(sql "SELECT data->>'article' || ' ' || split_part(data->>'description', E'\n', 1) FROM outbox ORDER BY id DESC LIMIT 1")" \
    "ART-01234 Новое описание ART-01234;"
t_is "its key is the product id" \
    "$(sql "SELECT key = (SELECT id::text FROM product WHERE article = 'ART-01234') FROM outbox ORDER BY id DESC LIMIT 1")" t

# Three bad rows spread over the file: nothing applied, all three named.
d2=$T_TMP/bad
t_ok "generate with 3 bad rows" "$GEN" "$d2" 2500 4 "$d2/expect"
sum=$(ledger_sum)
n=$(events)
run omnisync import catalog "$d2/catalog.csv" --price-list RETAIL
t_is "bad rows: exit 2" "$RC" 2
mapfile -t pos <"$d2/expect"
t_is "generator positions (after multi-line fields)" "${pos[*]}" "502:29 6253:17 12499:37"
t_like "bad price named" "$ERR" "catalog.csv:502:29: Price: not a number: \"12,x\""
t_like "duplicate SKU named" "$ERR" "catalog.csv:6253:17: SKU: duplicate SKU \"ART-00001-1\" \\(first on line 2\\)"
t_like "missing photo named" "$ERR" "catalog.csv:12499:37: photo \"photos/nope.jpg\": cannot read: No such file or directory"
t_is "exactly three errors" "$(grep -c 'catalog.csv:[0-9]*:[0-9]*: ' <<<"$ERR")" 3
t_is "bad rows: nothing applied" "$(ledger_sum)" "$sum"
t_is "bad rows: no event" "$(events)" "$n"

# --archive-missing: one product left out of the file.
t_ok "generate without ART-00777" env GEN_OMIT=ART-00777 GEN_FILE=missing.csv "$GEN" "$d" 2500 4
run omnisync import catalog "$d/missing.csv" --price-list RETAIL
t_like "without the flag: a notice with the count" "$ERR" 'notice: 1 product\(s\) in the ledger are not in'
t_like "without the flag: nothing archived (ART-01234 reverts: 1 event)" \
    "$OUT" '\(0 new, 1 changed, 2498 unchanged, 0 archived\), 9996 variants, 1 events$'
t_is "without the flag: ART-00777 left alone" \
    "$(sql "SELECT archived FROM product WHERE article = 'ART-00777'")" f
run omnisync import catalog "$d/missing.csv" --price-list RETAIL --archive-missing
t_is "archive-missing: exit 0" "$RC" 0
t_like "archive-missing summary" "$OUT" \
    '^catalog: 9996 rows, 2500 products \(0 new, 0 changed, 2499 unchanged, 1 archived\), 9996 variants, 1 events$'
t_is "exactly the missing product is archived" \
    "$(sql "SELECT string_agg(article, ',') FROM product WHERE archived")" "ART-00777"
t_is "its event says archived" \
    "$(sql "SELECT data->>'archived' FROM outbox WHERE data->>'article' = 'ART-00777' ORDER BY id DESC LIMIT 1")" true
t_is "one event for the archived product" "$(events)" $((n + 2))
t_done
