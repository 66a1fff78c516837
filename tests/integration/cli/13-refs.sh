#!/usr/bin/env bash
# Migrations 0018 and 0019: the catalog's bulk references (variant ->
# product, variant_option -> variant and option value, price -> variant
# and price list; product -> product group, product photo -> product) are
# checked once a statement by triggers instead of foreign keys.  They must
# refuse what the foreign keys refused, with SQLSTATE 23503, and a refused
# statement writes nothing.
. "$(dirname "$0")/cli-lib.bash"

omnisync db migrate >/dev/null || t_bail "migrate failed"
cli_seed_catalog
sql "INSERT INTO price_list (code, name) VALUES ('RETAIL', 'Retail');
     INSERT INTO option_name (name) VALUES ('color'), ('size');
     INSERT INTO option_value (option_name_id, value)
       SELECT id, 'red' FROM option_name WHERE name = 'color';
     INSERT INTO option_value (option_name_id, value)
       SELECT id, 'M' FROM option_name WHERE name = 'size';
     INSERT INTO product_group (name, path) VALUES ('Shirts', 'Shirts');
     INSERT INTO product (article, name) VALUES ('PH-1', 'Photo only');
     INSERT INTO photo_blob (sha256, bytes, size, content_type)
       VALUES (repeat('a', 64), '\x00', 1, 'image/png');" ||
    t_bail "seed failed"

# refused STMT: run it, expect SQLSTATE 23503 (t_ok runs it in a
# subshell: psql's message is kept in $T_TMP/refused, read by last_err).
refused() {
    local rc=0 err
    err=$(psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
        -c "$1" 2>&1 >/dev/null) || rc=$?
    printf '%s\n' "$err" >"$T_TMP/refused"
    [ "$rc" -ne 0 ] && [[ $err == *"23503"* ]]
}
last_err() { cat "$T_TMP/refused"; }

vid() { sql "SELECT id FROM variant WHERE sku = '$1'"; }
oid() {
    sql "SELECT ov.id FROM option_value ov JOIN option_name n
           ON n.id = ov.option_name_id WHERE n.name = '$1' AND ov.value = '$2'"
}
nid() { sql "SELECT id FROM option_name WHERE name = '$1'"; }
V=$(vid SH-1-RED-M)
V2=$(vid SH-1-RED-L)
RED=$(oid color red)
COLOR=$(nid color)
SIZE=$(nid size)
PL=$(sql "SELECT id FROM price_list WHERE code = 'RETAIL'")
GRP=$(sql "SELECT id FROM product_group WHERE path = 'Shirts'")
PH=$(sql "SELECT id FROM product WHERE article = 'PH-1'")
SHA=$(printf 'a%.0s' $(seq 64))

t_is "no foreign key is left on the five references" \
    "$(sql "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND
            conrelid IN ('variant'::regclass, 'variant_option'::regclass,
                         'price'::regclass)")" 0
t_is "nor on product -> group and photo -> product (0019)" \
    "$(sql "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND
            conname IN ('product_group_id_fkey',
                        'product_photo_product_id_fkey')")" 0

# ---- the child side: inserts and updates
t_ok "a variant of a missing product is refused" \
    refused "INSERT INTO variant (product_id, sku) VALUES (999999, 'X-1')"
t_like "the message names the reference and the key" "$(last_err)" \
    'variant.*"product".*\(product_id\)=\(999999\)'
t_ok "moving a variant to a missing product is refused" \
    refused "UPDATE variant SET product_id = 999999 WHERE id = $V"
t_ok "a price of a missing variant is refused" \
    refused "INSERT INTO price (price_list_id, variant_id, price)
             VALUES ($PL, 999999, 10)"
t_ok "a price in a missing price list is refused" \
    refused "INSERT INTO price (price_list_id, variant_id, price)
             VALUES (999999, $V, 10)"
t_ok "an option of a missing variant is refused" \
    refused "INSERT INTO variant_option VALUES (999999, $COLOR, $RED)"
t_ok "a value of another option is refused (the composite key)" \
    refused "INSERT INTO variant_option VALUES ($V, $SIZE, $RED)"
t_like "... naming both columns" "$(last_err)" \
    "Key \\(option_value_id, option_name_id\\)=\\($RED, $SIZE\\)"
t_ok "a product in a missing group is refused" \
    refused "INSERT INTO product (article, name, group_id)
             VALUES ('X-2', 'x', 999999)"
t_like "... naming the group reference" "$(last_err)" \
    'product.*"product_group".*\(group_id\)=\(999999\)'
t_ok "a photo of a missing product is refused" \
    refused "INSERT INTO product_photo (product_id, position, path, sha256)
             VALUES (999999, 1, 'a.png', '$SHA')"
t_like "... naming the product reference" "$(last_err)" \
    'product_photo.*"product".*\(product_id\)=\(999999\)'
t_ok "one bad row among good ones refuses the statement" \
    refused "INSERT INTO price (price_list_id, variant_id, price)
             SELECT $PL, id, 5 FROM variant UNION ALL SELECT $PL, 999999, 5"
t_is "... and writes none of them" "$(sql "SELECT count(*) FROM price")" 0
t_ok "a 3,000-row statement with one orphan is refused (hashed check)" \
    refused "INSERT INTO variant (product_id, sku)
             SELECT p.id, 'B-' || g FROM product p, generate_series(1, 3000) g
              WHERE p.article = 'SH-1'
             UNION ALL SELECT 999999, 'B-X'"
t_like "... naming the orphan" "$(last_err)" '\(product_id\)=\(999999\)'

# ---- what the references allow
t_ok "a price of a variant is written" \
    sql "INSERT INTO price (price_list_id, variant_id, price)
         VALUES ($PL, $V, 10)"
t_ok "an upsert of a price passes its update check" \
    sql "INSERT INTO price (price_list_id, variant_id, price)
         VALUES ($PL, $V, 11) ON CONFLICT (price_list_id, variant_id)
         DO UPDATE SET price = EXCLUDED.price"
t_ok "a product without a group is written (MATCH SIMPLE)" \
    sql "INSERT INTO product (article, name) VALUES ('NG-1', 'No group')"
t_ok "a product is put in a group" \
    sql "UPDATE product SET group_id = $GRP WHERE article = 'SH-1'"
t_ok "a photo of a product is written" \
    sql "INSERT INTO product_photo (product_id, position, path, sha256)
         VALUES ($PH, 1, 'a.png', '$SHA')"
t_ok "an option of a variant is written" \
    sql "INSERT INTO variant_option VALUES ($V, $COLOR, $RED),
                                           ($V2, $COLOR, $RED)"

# ---- the parent side: deletes and key updates
t_ok "deleting a product that has variants is refused" \
    refused "DELETE FROM product WHERE article = 'SH-1'"
t_like "the message names the reference" "$(last_err)" \
    'still referenced from table "variant"'
t_ok "deleting a variant that has a price is refused" \
    refused "DELETE FROM variant WHERE id = $V"
t_ok "deleting a price list that has prices is refused" \
    refused "DELETE FROM price_list WHERE id = $PL"
t_ok "deleting an option value in use is refused" \
    refused "DELETE FROM option_value WHERE id = $RED"
t_ok "deleting a group that has products is refused" \
    refused "DELETE FROM product_group WHERE id = $GRP"
t_ok "deleting a product that has photos is refused" \
    refused "DELETE FROM product WHERE id = $PH"
t_ok "changing a referenced group id is refused" \
    refused "UPDATE product_group SET id = 999999 WHERE id = $GRP"
t_ok "changing a referenced id is refused" \
    refused "UPDATE variant SET id = 999999 WHERE id = $V"
t_is "the refused statements changed nothing" \
    "$(sql "SELECT count(*) FROM variant")|$(sql "SELECT count(*) FROM price")|$(sql "SELECT count(*) FROM variant_option")|$(sql "SELECT count(*) FROM product_group")|$(sql "SELECT count(*) FROM product_photo")" \
    "4|1|2|1|1"
t_ok "deleting a variant without prices is allowed" \
    sql "DELETE FROM variant WHERE id = $V2"
t_is "its options went with it (as ON DELETE CASCADE did)" \
    "$(sql "SELECT count(*) FROM variant_option WHERE variant_id = $V2")" 0
t_is "other variants' options stay" \
    "$(sql "SELECT count(*) FROM variant_option WHERE variant_id = $V")" 1

t_done
