#!/usr/bin/env bash
# store-sim: products, variants, images, archive/recover, count, by_ids.
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0 --image-processing-ms 700 --max-image-bytes 2048

# Create with options and variants_attributes.
api POST /admin/products.json '{"product":{"title":"Docs API простой","description":"<p>d</p>","short_description":"s","options":[{"title":"Размер"}],"variants_attributes":[{"sku":"P-M","price":1500,"barcode":"4600000000017","quantity":3,"options":[{"title":"Размер","value":"M"}]},{"sku":"P-L","price":"1600.5","quantity":1,"options":[{"title":"Размер","value":"L"}]}]}}'
t_is "create product -> 201" "$ST" 201
PID=$(jb .id)
t_is "permalink transliterated" "$(jb .permalink)" docs-api-prostoy
t_is "two variants" "$(jb '.variants | length')" 2
t_is "variant title from option" "$(jb '.variants[0].title')" M
t_is "option_names listed" "$(jb '.option_names[0].title')" "Размер"
t_is "variant option_values" "$(jb '.variants[1].option_values[0].title')" L
VM=$(jb '.variants[0].id')
VL=$(jb '.variants[1].id')
ON=$(jb '.option_names[0].id')
t_ok "product has all documented keys" jq -e \
    'has("id") and has("category_id") and has("created_at") and has("updated_at") and has("is_hidden") and has("available") and has("archived") and has("title") and has("permalink") and has("collections_ids") and has("images") and has("option_names") and has("variants") and has("currency_code")' "$BODY"

api POST /admin/products.json '{"product":{"title":"X","variants_attributes":[{"sku":"X","external_id":"1"}]}}'
t_is "external_id in variants_attributes -> 422" "$ST" 422
t_is "undefined keys message" "$(jb '.variants_attributes[0]')" 'undefined keys ["external_id"]'

# Get and update.
api GET /admin/products/$PID.json
t_is "get product" "$(jb .title)" "Docs API простой"
U1=$(jb .updated_at)
api PUT /admin/products/$PID.json '{"product":{"title":"Новое имя","is_hidden":true}}'
t_is "update product -> 200" "$ST" 200
t_is "title updated" "$(jb .title)" "Новое имя"
t_is "is_hidden updated" "$(jb .is_hidden)" true
t_ok "updated_at moved forward" test "$(jb .updated_at)" '>' "$U1"

# Adding an option with a value to an existing product.
api POST /admin/products.json '{"product":{"title":"Один","variants_attributes":[{"sku":"O-1","price":10}]}}'
P2=$(jb .id)
api PUT /admin/products/$P2.json '{"product":{"options":[{"title":"Цвет","value":"Чёрный"}]}}'
t_is "option added to all variants" "$(jb '.variants[0].title')" "Чёрный"

# Variants CRUD.
api GET /admin/products/$PID/variants.json
t_is "list variants" "$(jb length)" 2
api POST /admin/products/$PID/variants.json "{\"variant\":{\"sku\":\"P-XL\",\"price\":1700,\"quantity\":2,\"options\":[{\"option_name_id\":$ON,\"value\":\"XL\"}]}}"
t_is "create variant -> 201" "$ST" 201
VXL=$(jb .id)
t_is "new variant title" "$(jb .title)" XL
api POST /admin/products/$PID/variants.json "{\"variant\":{\"sku\":\"P-M2\",\"price\":1,\"options\":[{\"option_name_id\":$ON,\"value\":\"M\"}]}}"
t_is "duplicate combination -> 422" "$ST" 422
t_is "duplicate combination wrapped error" "$(jb -r '.status + ":" + .errors.options[0]')" \
    "error:Вариант с такими значениями свойств уже существует"
api POST /admin/products/$PID/variants.json '{"variant":{"sku":"P-?","price":1,"options":[{"title":"Нет такого","value":"1"}]}}'
t_is "unknown option -> 422" "$ST" 422
t_is "unknown option message" "$(jb '.errors.options[0]')" \
    "Список свойств у товара изменился, перезагрузите страницу"
api PUT /admin/products/$PID/variants/$VXL.json '{"variant":{"price":"1750.00","old_price":2000,"quantity":5,"weight":0.6,"dimensions":"10х20х5"}}'
t_is "update variant -> 200" "$ST" 200
t_is "variant price" "$(jb .price)" "1750.0"
t_is "variant old_price" "$(jb .old_price)" "2000.0"
t_is "variant quantity" "$(jb .quantity)" 5
t_is "dimensions Cyrillic x normalised" "$(jb .dimensions)" "10x20x5"
t_is "weight string" "$(jb .weight)" "0.6"
api PUT /admin/products/$PID/variants/$VXL.json '{"variant":{"quantity_at_warehouse0":"7.0"}}'
t_is "quantity_at_warehouse0 writes quantity" "$(jb .quantity)" 7
api PUT /admin/products/$PID/variants/$VXL.json '{"variant":{"price":"abc"}}'
t_is "non-numeric price -> 422 (unwrapped)" "$(jb -r '.price[0]')" "не является числом"
api GET /admin/products/$PID/variants/$VXL.json
t_is "get variant" "$(jb .sku)" P-XL
api DELETE /admin/products/$PID/variants/$VXL.json
t_is "delete variant" "$(jb .status)" ok
api GET /admin/products/$PID/variants/$VXL.json
t_is "deleted variant -> 404" "$ST" 404
api DELETE /admin/products/$PID/variants/$VL.json
api DELETE /admin/products/$PID/variants/$VM.json
t_is "deleting the last variant -> 422" "$ST" 422
t_is "last variant message" "$(jb '.base[0]')" "Нельзя удалить последний вариант"

# Images: base64 attachment, processing, size limit, SHA-256.
printf 'fake-png-bytes-0123456789' >"$T_DIR/img.png"
B64=$(base64 -w0 "$T_DIR/img.png")
api POST /admin/products/$PID/images.json "{\"image\":{\"attachment\":\"$B64\",\"filename\":\"docs-api.png\"}}"
t_is "upload image -> 201" "$ST" 201
IMG=$(jb .id)
t_is "image_processing at first" "$(jb .image_processing)" true
t_is "loading url at first" "$(jb .url)" /images/loading.gif
t_is "image position" "$(jb .position)" 1
sleep 1
api GET /admin/products/$PID/images/$IMG.json
t_is "processed after the delay" "$(jb .image_processing)" false
t_ok "real url after processing" jq -e '.url | test("docs-api.png$")' "$BODY"
ctl GET /_sim/products/$PID/images
t_is "content SHA-256 kept" "$(jb '.[0].sha256')" "$(sha256sum "$T_DIR/img.png" | cut -d' ' -f1)"
api PUT /admin/products/$PID/variants/$VM.json "{\"variant\":{\"image_id\":$IMG}}"
t_is "variant image_id" "$(jb -c '[.image_id, .image_ids]')" "[$IMG,[$IMG]]"
BIG=$(head -c 4000 /dev/urandom | base64 -w0)
api POST /admin/products/$PID/images.json "{\"image\":{\"attachment\":\"$BIG\",\"filename\":\"big.jpg\"}}"
t_is "image over --max-image-bytes -> 422" "$ST" 422
api POST /admin/products/$PID/images.json '{"image":{"attachment":"@@@not base64@@@","filename":"x.jpg"}}'
t_is "bad base64 -> 422" "$ST" 422
api POST /admin/products/$PID/images.json '{"image":{"src":"https://example.com/a.jpg"}}'
t_is "unreachable src -> 422" "$ST" 422
t_is "src error shape" "$(jb -c 'keys')" '["image","src"]'
api POST /admin/products/$PID/images.json "{\"image\":{\"src\":\"$SIM_URL/_sim/health\"}}"
t_is "loopback src is fetched -> 201" "$ST" 201
ctl GET '/_sim/state?skus=1'
t_is "images counted per SKU" "$(jb '.variants_by_sku["P-M"].images')" 2
api DELETE /admin/products/$PID/images/$IMG.json
t_is "delete image" "$(jb .status)" ok
api GET /admin/products/$PID/variants/$VM.json
t_is "variant image cleared" "$(jb .image_id)" null

# Archive, deleted/with_deleted, recover.
api DELETE /admin/products/$PID.json
t_is "delete = archive" "$(jb .status)" ok
api GET /admin/products/$PID.json
t_is "archived product -> 404" "$ST" 404
api GET '/admin/products.json?deleted=true'
t_is "deleted=true lists archived" "$(jb -c '[.[] | .id]')" "[$PID]"
t_is "archived flag" "$(jb '.[0].archived')" true
api GET '/admin/products.json?with_deleted=true'
t_is "with_deleted lists all" "$(jb length)" 2
api GET /admin/products.json
t_is "default list hides archived" "$(jb -c '[.[] | .id]')" "[$P2]"
ctl GET '/_sim/state?skus=1'
t_is "state shows archived" "$(jb '.variants_by_sku["P-M"].archived')" true
ST=$(curl -s -o "$BODY" -w '%{http_code}' -u "$SIM_LOGIN:$SIM_PASSWORD" -X POST \
    -H 'Content-Type: application/json' "$SIM_URL/admin/products/$PID/recover.json")
t_is "recover with empty body -> 200" "$ST" 200
api GET /admin/products/$PID.json
t_is "recovered product is back" "$ST" 200

# count, paging bounds, by_ids.
ctl POST /_sim/products "$(jq -nc '{products: [range(0; 40) | {title: "Bulk \(.)", variants_attributes: [{sku: "B-\(.)", price: 100, quantity: 1}]}]}')"
t_is "pre-fill via /_sim/products -> 201" "$ST" 201
t_is "pre-filled 40" "$(jb .created)" 40
FIRST=$(jb '.ids[0]')
api GET /admin/products/count.json
t_is "count" "$(jb .count)" 42
api GET '/admin/products.json?per_page=3'
t_is "per_page below 10 raised to 10" "$(jb length)" 10
api GET '/admin/products.json?per_page=1000'
t_is "per_page capped (all 42 fit in 250)" "$(jb length)" 42
api GET '/admin/products.json'
t_is "default per_page 25" "$(jb length)" 25
api GET '/admin/products.json?per_page=10&page=5'
t_is "page 5 of 10 has the last 2" "$(jb length)" 2
api GET '/admin/products.json?per_page=10&page=2'
t_ok "list ordered by id" jq -e '[.[].id] == ([.[].id] | sort)' "$BODY"
api GET "/admin/products/by_ids.json?product_ids=$FIRST,$PID,100099999"
t_is "by_ids returns the existing ones" "$(jb -c '[.[].id]')" "[$FIRST,$PID]"
IDS=$(seq -s, 100000000 100000100)
api GET "/admin/products/by_ids.json?product_ids=$IDS"
t_is "by_ids with 101 ids -> 422" "$ST" 422
api GET "/admin/products.json?filter%5Btitle%5D=Bulk%2039"
t_is "filter[title]" "$(jb '.[0].title')" "Bulk 39"
api GET "/admin/products/count.json?updated_since=bogus"
t_is "bad updated_since -> 422" "$ST" 422

t_done
