#!/usr/bin/env bash
# omnisync import catalog on small files: what lands in the ledger, the
# event snapshot's shape (docs/events.md), re-import is silent, usage and
# row errors (FILE:LINE:COLUMN), dry run, vanished variants, delivery items.
. "$(dirname "$0")/import-lib.bash"

cp -r "$FIX" "$T_TMP/cat"
f=$T_TMP/cat/small.csv

run omnisync import catalog "$f"
t_is "prices without --price-list: exit 2" "$RC" 2
t_like "the error names --price-list" "$ERR" '--price-list'
run omnisync import catalog "$f" --price-list NOPE
t_is "unknown price list: exit 2" "$RC" 2
t_like "the error names it" "$ERR" 'unknown price list "NOPE"'
t_is "nothing applied" "$(sql "SELECT count(*) FROM product")" 0

run omnisync import catalog "$f" --price-list RETAIL
t_is "import exits 0" "$RC" 0
t_is "summary" "$OUT" \
    "catalog: 5 rows, 3 products (3 new, 0 changed, 0 unchanged, 0 archived), 5 variants, 3 events"
t_is "products" "$(sql "SELECT string_agg(article || '=' || name, ' ' ORDER BY id) FROM product")" \
    "SH-1=Shirt TR-1=Trousers DLV=Delivery"
t_is "description with quote and comma" \
    "$(sql "SELECT description FROM product WHERE article = 'SH-1'")" 'Cotton shirt, "slim"'
t_is "description with a line break" \
    "$(sql "SELECT description = E'Two\nlines' FROM product WHERE article = 'TR-1'")" t
t_is "variants in file order" \
    "$(sql "SELECT string_agg(sku || ':' || position, ' ' ORDER BY product_id, position) FROM variant")" \
    "SH-1-RED-M:1 SH-1-RED-L:2 SH-1-BLUE-M:3 TR-1-32:1 DELIVERY:1"
t_is "groups along the paths" \
    "$(sql "SELECT string_agg(path, ',' ORDER BY path) FROM product_group")" \
    "Одежда,Одежда/Мужская,Одежда/Мужская/Брюки,Одежда/Мужская/Рубашки"
t_is "group tree parents" \
    "$(sql "SELECT c.path FROM product_group c JOIN product_group p ON p.id = c.parent_id WHERE p.path = 'Одежда'")" \
    "Одежда/Мужская"
t_is "prices (decimal comma, thousands space)" \
    "$(sql "SELECT string_agg(v.sku || '=' || r.price || '/' || coalesce(r.old_price::text, '-'), ' ' ORDER BY v.id) FROM price r JOIN variant v ON v.id = r.variant_id")" \
    "SH-1-RED-M=1500.00/2000.00 SH-1-RED-L=1500.00/- SH-1-BLUE-M=1600.00/- TR-1-32=2499.99/- DELIVERY=0.00/-"
t_is "options" \
    "$(sql "SELECT string_agg(n.name || '=' || w.value, ' ' ORDER BY n.id) FROM variant_option o JOIN option_name n ON n.id = o.option_name_id JOIN option_value w ON w.id = o.option_value_id JOIN variant v ON v.id = o.variant_id WHERE v.sku = 'SH-1-RED-M'")" \
    "color=red size=M Material=cotton"
t_is "photos: union of the rows, absolute, hashed" \
    "$(sql "SELECT string_agg(position || ':' || path || ':' || sha256, ' ' ORDER BY position) FROM product_photo f JOIN product p ON p.id = f.product_id WHERE p.article = 'SH-1'")" \
    "1:$T_TMP/cat/photos/red.png:$(sha256sum <"$FIX/photos/red.png" | cut -d' ' -f1) 2:$T_TMP/cat/photos/grey.jpg:$(sha256sum <"$FIX/photos/grey.jpg" | cut -d' ' -f1) 3:$T_TMP/cat/photos/blue.png:$(sha256sum <"$FIX/photos/blue.png" | cut -d' ' -f1)"

# The event: envelope columns and the snapshot shape of docs/events.md.
ev="SELECT %s FROM outbox WHERE key = (SELECT id::text FROM product WHERE article = 'SH-1')"
t_is "one event per product" "$(events)" 3
# shellcheck disable=SC2059
t_is "topic, type, key, store" \
    "$(sql "$(printf "$ev" "topic || ' ' || type || ' ' || (key = (data->>'product_id')) || ' ' || (store IS NULL)")")" \
    "omnisync.catalog.v1 catalog.product true true"
# shellcheck disable=SC2059
t_is "snapshot keys" \
    "$(sql "$(printf "$ev" "(SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(data) k)")")" \
    "archived,article,description,groups,name,options,photos,product_id,variants"
# shellcheck disable=SC2059
t_is "snapshot product fields" \
    "$(sql "$(printf "$ev" "data->>'article' || '|' || (data->>'name') || '|' || (data->>'archived') || '|' || jsonb_typeof(data->'product_id')")")" \
    "SH-1|Shirt|false|number"
# shellcheck disable=SC2059
t_is "snapshot groups root first" \
    "$(sql "$(printf "$ev" "(SELECT string_agg(g->>'name', '/' ORDER BY o) FROM jsonb_array_elements(data->'groups') WITH ORDINALITY AS x(g, o))")")" \
    "Одежда/Мужская/Рубашки"
# shellcheck disable=SC2059
t_is "snapshot options in dictionary order" \
    "$(sql "$(printf "$ev" "data->>'options'")")" '["color", "size", "Material"]'
# shellcheck disable=SC2059
t_is "snapshot variant keys" \
    "$(sql "$(printf "$ev" "(SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(data->'variants'->0) k)")")" \
    "archived,barcode,options,prices,sku,variant_id"
# shellcheck disable=SC2059
t_is "snapshot variant values" \
    "$(sql "$(printf "$ev" "data->'variants'->0->>'sku' || '|' || (data->'variants'->0->>'barcode') || '|' || (data->'variants'->0->'options'->>'color') || '|' || (data->'variants'->0->'prices'->'RETAIL'->>'price') || '|' || (data->'variants'->0->'prices'->'RETAIL'->>'old_price') || '|' || jsonb_typeof(data->'variants'->1->'prices'->'RETAIL'->'old_price') || '|' || jsonb_typeof(data->'variants'->2->'barcode')")")" \
    "SH-1-RED-M|4600000000017|red|1500.00|2000.00|null|null"
# shellcheck disable=SC2059
t_is "snapshot photos" \
    "$(sql "$(printf "$ev" "jsonb_array_length(data->'photos') || '|' || (data->'photos'->0->>'position') || '|' || length(data->'photos'->0->>'sha256') || '|' || (data->'photos'->0->>'path' LIKE '/%%')")")" \
    "3|1|64|true"
t_is "ungrouped product: groups []" \
    "$(sql "SELECT data->>'groups' FROM outbox WHERE data->>'article' = 'DLV'")" "[]"

# Re-import: nothing changes, no event.
sum=$(ledger_sum)
run omnisync import catalog "$f" --price-list RETAIL
t_is "re-import exits 0" "$RC" 0
t_is "re-import summary" "$OUT" \
    "catalog: 5 rows, 3 products (0 new, 0 changed, 3 unchanged, 0 archived), 5 variants, 0 events"
t_is "re-import emits nothing" "$(events)" 3
t_is "re-import changes nothing" "$(ledger_sum)" "$sum"

# Header and row errors: nothing applied, positions exact.
printf 'article,name,price\nA,B,1\n' >"$T_TMP/nosku.csv"
run omnisync import catalog "$T_TMP/nosku.csv" --price-list RETAIL
t_is "missing column: exit 2" "$RC" 2
t_like "missing column: FILE:1:1" "$ERR" "nosku.csv:1:1: missing column \"sku\""
run omnisync import catalog "$T_TMP/cat/bad3.csv"
t_is "bad rows: exit 2" "$RC" 2
t_like "bad price after a multi-line field" "$ERR" 'bad3.csv:3:17: price: not a number: "12,x"'
t_like "conflicting group, column in characters" "$ERR" 'bad3.csv:4:13: group: "Одежда" differs from "Одежда/Мужская" on line 2'
t_like "duplicate SKU" "$ERR" 'bad3.csv:5:14: sku: duplicate SKU "A-1-S" \(first on line 2\)'
t_like "missing photo" "$ERR" 'bad3.csv:5:22: photo "photos/none.jpg": cannot read: No such file or directory'
t_is "bad rows: nothing applied" "$(ledger_sum)" "$sum"

# A SKU that belongs to another article in the ledger.
printf 'article,name,sku\nX-1,X,SH-1-RED-M\n' >"$T_TMP/steal.csv"
run omnisync import catalog "$T_TMP/steal.csv"
t_is "SKU of another article: exit 2" "$RC" 2
t_like "SKU of another article: named" "$ERR" 'steal.csv:2:7: sku: SKU "SH-1-RED-M" belongs to article "SH-1" in the ledger'

# Length limits (docs/limits.md): a 2 MB description once imported and
# then blocked the outbox (Kafka refused the event); now refused with its
# position, and nothing applied.
python3 -c 'import sys; print("article,name,description,sku,option:Size"); print("BIG-1,Big,%s,BIG-1-S,%s" % ("d" * 2000000, "S"))' >"$T_TMP/big.csv"
run omnisync import catalog "$T_TMP/big.csv"
t_is "2 MB description: exit 2" "$RC" 2
t_like "2 MB description: FILE:LINE:COLUMN and the limit" "$ERR" \
    'big.csv:2:11: description: 2000000 bytes, longer than 65536'
python3 -c 'print("article,name,sku,option:Size"); print("BIG-2,Big,BIG-2-S,%s" % ("x" * 256))' >"$T_TMP/bigopt.csv"
run omnisync import catalog "$T_TMP/bigopt.csv"
t_like "a 256-byte option value: named by its column" "$ERR" \
    'bigopt.csv:2:19: option:Size: 256 bytes, longer than 255'
t_is "long values: nothing applied" "$(ledger_sum)" "$sum"

# Columns: at most 256 (40,000 option columns once took 9.5 s in a
# quadratic duplicate check; now refused at once); unknown columns warn
# ten times, then once with the rest's count.
python3 -c 'print("article,name,sku," + ",".join("option:O%d" % i for i in range(40000))); print("C-1,C,C-1-S" + "," * 40000)' >"$T_TMP/cols.csv"
run timeout 20 omnisync import catalog "$T_TMP/cols.csv"
t_is "40,000 columns: exit 2 at once" "$RC" 2
t_like "40,000 columns: the position of the 257th" "$ERR" 'cols.csv:1:[0-9]+: 40003 columns, more than 256'
python3 -c 'print("article,name,sku," + ",".join("x%d" % i for i in range(200))); print("U-1,U,U-1-S" + "," * 200)' >"$T_TMP/unknown.csv"
run omnisync import catalog "$T_TMP/unknown.csv" --dry-run
t_is "200 unknown columns: a dry run still succeeds" "$RC" 0
t_is "200 unknown columns: ten warnings and one summary" \
    "$(grep -c 'warning: unknown column' <<<"$ERR")/$(grep -c 'and 190 more unknown columns' <<<"$ERR")" "10/1"
t_is "columns: nothing applied" "$(ledger_sum)" "$sum"

# Dry run: the summary, then nothing kept.
sed 's/Cotton shirt/Linen shirt/' "$f" >"$T_TMP/cat/linen.csv"
run omnisync import catalog "$T_TMP/cat/linen.csv" --price-list RETAIL --dry-run
t_is "dry run exits 0" "$RC" 0
t_like "dry run summary" "$OUT" '1 changed.* 1 events \(dry run: rolled back\)'
t_is "dry run kept nothing" "$(ledger_sum)" "$sum"
t_is "dry run emitted nothing" "$(events)" 3

# A variant that vanished from its product's rows is archived (one event);
# a product missing from the file is only reported.
grep -v '^SH-1,,,,SH-1-RED-L' "$f" | grep -v '^DLV' >"$T_TMP/cat/less.csv"
run omnisync import catalog "$T_TMP/cat/less.csv" --price-list RETAIL
t_is "vanished variant: exit 0" "$RC" 0
t_like "summary: 1 changed, 1 event" "$OUT" '\(0 new, 1 changed, 1 unchanged, 0 archived\), 3 variants, 1 events'
t_is "the variant is archived" "$(sql "SELECT archived FROM variant WHERE sku = 'SH-1-RED-L'")" t
t_is "the event says so" \
    "$(sql "SELECT e->>'archived' FROM outbox, jsonb_array_elements(data->'variants') e WHERE id = (SELECT max(id) FROM outbox) AND e->>'sku' = 'SH-1-RED-L'")" true
t_like "missing product: a notice" "$ERR" '1 product\(s\) in the ledger are not in'
t_is "missing product: left alone" "$(sql "SELECT archived FROM product WHERE article = 'DLV'")" f

# --archive-missing keeps a store's delivery item.
export OMNISYNC_SECRET_KEY=${OMNISYNC_SECRET_KEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}
t_ok "a warehouse" omnisync location add W1 --kind warehouse
t_ok "an online location" omnisync location add WEB --kind online
t_ok "a store whose delivery item is DELIVERY" env SHOP_PW=secret \
    omnisync store add shop --platform insales --url http://127.0.0.1:9 \
    --login l --password-env SHOP_PW --online-location WEB \
    --source-locations W1 --price-list RETAIL --delivery-sku DELIVERY
n=$(events)
run omnisync import catalog "$T_TMP/cat/less.csv" --price-list RETAIL --archive-missing
t_is "archive-missing with a delivery item: exit 0" "$RC" 0
t_like "the delivery product is kept and reported" "$ERR" 'product "DLV" is missing .* kept'
t_is "delivery product not archived" "$(sql "SELECT archived FROM product WHERE article = 'DLV'")" f
t_is "no event" "$(events)" "$n"

# Back to the full file: the variant comes back, one event.
run omnisync import catalog "$f" --price-list RETAIL
t_like "variant back: 1 changed" "$OUT" '1 changed.*1 events'
t_is "variant unarchived" "$(sql "SELECT archived FROM variant WHERE sku = 'SH-1-RED-L'")" f

# The staging tables are loaded with COPY's text format: a tab, a
# backslash and "\." in values and paths arrive as written.
printf 'group,article,name,description,sku,option:Size\n"A\\B/C\tD",ESC-1,"Tab\tname","back\\slash \\. \\N","ESC-1\\S","\\N"\n' >"$T_TMP/esc.csv"
run omnisync import catalog "$T_TMP/esc.csv"
t_is "escapes: exit 0" "$RC" 0
t_is "escapes: name, description, SKU, option value, group path" \
    "$(sql "SELECT p.name = E'Tab\\tname' AND p.description = E'back\\\\slash \\\\. \\\\N' AND v.sku = E'ESC-1\\\\S' AND ov.value = E'\\\\N' AND g.path = E'A\\\\B/C\\tD' FROM product p JOIN variant v ON v.product_id = p.id JOIN variant_option vo ON vo.variant_id = v.id JOIN option_value ov ON ov.id = vo.option_value_id JOIN product_group g ON g.id = p.group_id WHERE p.article = 'ESC-1'")" t

run omnisync import catalog --help
t_is "--help exits 0" "$RC" 0
t_like "--help shows the options" "$OUT" '--archive-missing'
t_done
