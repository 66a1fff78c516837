#!/usr/bin/env bash
# store-sim: auth, formats, error shapes, reference resources, control API.
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0

# 401 without or with wrong credentials.
ST=$(curl -s -o "$BODY" -D "$HDR" -w '%{http_code}' "$SIM_URL/admin/products.json")
t_is "no credentials -> 401" "$ST" 401
t_ok "401 carries WWW-Authenticate Basic" grep -qi '^WWW-Authenticate: Basic' "$HDR"
ST=$(curl -s -o "$BODY" -w '%{http_code}' -u "$SIM_LOGIN:wrong" "$SIM_URL/admin/account.json")
t_is "wrong password -> 401" "$ST" 401

api GET /admin/account.json
t_is "account -> 200" "$ST" 200
t_is "account currency RUR" "$(jb .currency_code)" RUR

# Writes need Content-Type: application/json, even with an empty body.
ST=$(curl -s -o "$BODY" -w '%{http_code}' -u "$SIM_LOGIN:$SIM_PASSWORD" \
    -X POST --data '{"product":{"title":"x"}}' "$SIM_URL/admin/products.json")
t_is "POST without JSON Content-Type -> 422" "$ST" 422
t_is "422 Content-Type message" "$(jb .message)" \
    "incorrect Content-Type, should be application/json"
ST=$(curl -s -o "$BODY" -w '%{http_code}' -u "$SIM_LOGIN:$SIM_PASSWORD" \
    -X POST "$SIM_URL/admin/products/100000000/recover.json")
t_is "empty POST without Content-Type -> 422" "$ST" 422

# 404 is HTML even for JSON clients.
ST=$(curl -s -o "$BODY" -D "$HDR" -w '%{http_code}' -H 'Accept: application/json' \
    -u "$SIM_LOGIN:$SIM_PASSWORD" "$SIM_URL/admin/products/100099999.json")
t_is "missing product -> 404" "$ST" 404
t_ok "404 body is HTML" grep -qi '<html' "$BODY"
t_ok "404 Content-Type text/html" grep -qi '^Content-Type: text/html' "$HDR"
api GET /admin/no_such_thing.json
t_is "unknown resource -> 404" "$ST" 404
api GET /admin/products.xml
t_is "non-.json path -> 406" "$ST" 406

# Validation errors: Rails-style field map.
api POST /admin/products.json '{"product":{"description":"no title"}}'
t_is "product without title -> 422" "$ST" 422
t_ok "422 body is {field:[msg]}" jq -e '.title | type == "array" and length == 1' "$BODY"
api POST /admin/products.json '{"product":{"title":"x","category_id":2000000}}'
t_is "collection id as category_id -> 422" "$ST" 422
t_is "category_id message" "$(jb '.category_id[0]')" "Категория удалена или отсутствует."

# Malformed and oversized bodies.
api POST /admin/products.json '{"product": {"title": '
t_is "malformed JSON -> 400" "$ST" 400
api POST /admin/products.json '[1,2]'
t_is "non-object JSON -> 400" "$ST" 400
head -c $((33 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$T_DIR/huge"
ST=$(curl -s -o "$BODY" -w '%{http_code}' -u "$SIM_LOGIN:$SIM_PASSWORD" \
    -H 'Content-Type: application/json' --data-binary @"$T_DIR/huge" \
    "$SIM_URL/admin/products.json")
t_is "33 MiB body -> 413" "$ST" 413
t_ok "still alive after huge body" curl -sf "$SIM_URL/_sim/health"

# DELETE of a missing product answers ok.
api DELETE /admin/products/100099999.json
t_is "DELETE missing product -> 200" "$ST" 200
t_is "DELETE body" "$(jb -c .)" '{"status":"ok"}'

# Categories: a tree under the root "Склад".
api GET /admin/categories.json
t_is "categories list is a bare array" "$(jb 'type')" array
ROOT_CAT=$(jb '.[0].id')
t_is "root category title" "$(jb '.[0].title')" "Склад"
api POST /admin/categories.json "{\"category\":{\"title\":\"Обувь\",\"parent_id\":$ROOT_CAT}}"
t_is "create category -> 201" "$ST" 201
CAT=$(jb .id)
api POST /admin/categories.json "{\"category\":{\"title\":\"Кеды\",\"parent_id\":$CAT}}"
SUB=$(jb .id)
t_is "child category parent_id" "$(jb .parent_id)" "$CAT"
api PUT /admin/categories/$SUB.json '{"category":{"title":"Кеды и слипоны"}}'
t_is "rename category" "$(jb .title)" "Кеды и слипоны"
api PUT /admin/categories/$CAT.json "{\"category\":{\"parent_id\":$SUB}}"
t_is "category cycle -> 422" "$ST" 422
api DELETE /admin/categories/$CAT.json
t_is "delete category with children -> 422" "$ST" 422
api POST /admin/categories.json '{"category":{"title":""}}'
t_is "blank category title -> 422" "$ST" 422

# Collections, collects and collections_ids (parent listed too).
api POST /admin/collections.json '{"collection":{"title":"Новинки"}}'
t_is "create collection -> 201" "$ST" 201
COL=$(jb .id)
api POST /admin/collections.json "{\"collection\":{\"title\":\"Зима\",\"parent_id\":$COL}}"
SUBCOL=$(jb .id)
api POST /admin/products.json "{\"product\":{\"title\":\"Ботинки\",\"category_id\":$SUB}}"
t_is "product in a category -> 201" "$ST" 201
PID=$(jb .id)
t_is "product has one default variant" "$(jb '.variants | length')" 1
api POST /admin/collects.json "{\"collect\":{\"product_id\":$PID,\"collection_id\":$SUBCOL}}"
t_is "create collect -> 201" "$ST" 201
CID=$(jb .id)
api POST /admin/collects.json "{\"collect\":{\"product_id\":$PID,\"collection_id\":$SUBCOL}}"
t_is "duplicate collect -> 422" "$ST" 422
api GET /admin/products/$PID.json
t_is "collections_ids has child and parent" "$(jb -c '.collections_ids | sort')" \
    "$(echo "[$COL,$SUBCOL]" | jq -c sort)"
api GET "/admin/collects.json?product_id=$PID"
t_is "collects by product" "$(jb length)" 1
api GET "/admin/products.json?collection_id=$COL"
t_is "products filtered by parent collection" "$(jb '.[0].id')" "$PID"
api DELETE /admin/collects/$CID.json
api GET /admin/products/$PID.json
t_is "collect removed" "$(jb -c .collections_ids)" "[]"

# Option names and values.
api POST /admin/option_names.json '{"option_name":{"title":"Цвет"}}'
t_is "create option name -> 201" "$ST" 201
ON=$(jb .id)
api POST /admin/option_names/$ON/option_values.json '{"option_value":{"title":"Красный"}}'
t_is "create option value -> 201" "$ST" 201
t_is "option value belongs to name" "$(jb .option_name_id)" "$ON"
api GET /admin/option_names/$ON/option_values.json
t_is "list option values" "$(jb length)" 1

# Warehouses.
api GET /admin/warehouses.json
t_is "one warehouse with array_index 0" "$(jb '.[0].array_index')" 0

# Webhooks: CRUD and unique (address, topic).
api POST /admin/webhooks.json '{"webhook":{"address":"http://127.0.0.1:9/h","topic":"orders/create","format_type":"json"}}'
t_is "create webhook -> 201" "$ST" 201
WH=$(jb .id)
t_is "webhook batch_size default" "$(jb .batch_size)" 10
api POST /admin/webhooks.json '{"webhook":{"address":"http://127.0.0.1:9/h","topic":"orders/create","format_type":"json"}}'
t_is "duplicate webhook -> 422" "$ST" 422
t_ok "duplicate webhook error names address" jq -e '.address | length == 1' "$BODY"
api POST /admin/webhooks.json '{"webhook":{"address":"http://example.com/h","topic":"orders/create"}}'
t_is "non-loopback webhook -> 422" "$ST" 422
api POST /admin/webhooks.json '{"webhook":{"address":"http://127.0.0.1:9/h","topic":"orders/explode"}}'
t_is "unknown topic -> 422" "$ST" 422
api PUT /admin/webhooks/$WH.json '{"webhook":{"topic":"orders/update"}}'
t_is "update webhook topic" "$(jb .topic)" "orders/update"
api DELETE /admin/webhooks/$WH.json
t_is "delete webhook" "$(jb .status)" ok
api GET /admin/webhooks.json
t_is "no webhooks left" "$(jb length)" 0

# Formats: money strings and +03:00 timestamps.
api POST /admin/products.json '{"product":{"title":"Деньги","variants_attributes":[{"sku":"M-1","price":1500,"old_price":"1999.90","quantity":3}]}}'
t_is "price is a string" "$(jb '.variants[0].price')" "1500.0"
t_is "old_price formatted" "$(jb '.variants[0].old_price')" "1999.9"
t_ok "timestamps end in +03:00 with ms" jq -e \
    '.updated_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\+03:00$")' "$BODY"
t_is "quantity_at_warehouse0 string" "$(jb '.variants[0].quantity_at_warehouse0')" "3.0"

# Control API: state keys, variants_by_sku exact keys, request log.
ctl GET /_sim/state
t_ok "state has the counters" jq -e \
    'has("products") and has("variants") and has("images") and has("orders") and has("requests") and has("rejected") and (.status_counts|type=="object")' "$BODY"
t_ok "state without skus has no variants_by_sku" jq -e 'has("variants_by_sku") | not' "$BODY"
REQS=$(jb .requests)
t_ok "status_counts sum to requests" jq -e '([.status_counts[]] | add) == .requests' "$BODY"
ctl GET '/_sim/state?skus=1'
t_is "variants_by_sku entry keys" "$(jb -c '.variants_by_sku["M-1"] | keys')" \
    '["archived","images","old_price","price","quantity"]'
t_is "variants_by_sku entry" "$(jb -c '.variants_by_sku["M-1"]')" \
    '{"quantity":3,"price":"1500.0","old_price":"1999.9","archived":false,"images":0}'
ctl GET "/_sim/requests?since=$((REQS - 1))"
t_is "requests?since returns the tail" "$(jb length)" 1
t_is "request log entry keys" "$(jb -c '.[0] | keys')" '["method","path","query","seq","status","time"]'
t_is "request log path" "$(jb '.[0].path')" /admin/products.json
ctl GET /_sim/state
t_is "control calls are not counted" "$(jb .requests)" "$REQS"

ctl POST /_sim/reset '{}'
ctl GET /_sim/state
t_is "reset empties the shop" "$(jb -c '[.products,.requests]')" '[0,0]'

t_done
