#!/usr/bin/env bash
# store-sim: shopper orders (POST /_sim/orders), stock, order API.
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0

ctl POST /_sim/products '{"products":[{"title":"Кеды","variants_attributes":[{"sku":"K-1","price":"1000.0","quantity":5},{"sku":"K-2","price":"2500.5","quantity":1}]},{"title":"Без учёта","variants_attributes":[{"sku":"U-1","price":10,"quantity":null}]}]}'
ORDER='{"lines":[{"sku":"K-1","quantity":2},{"sku":"K-2","quantity":1}],"delivery_title":"Courier","delivery_price":"300.0","client":{"name":"Иван","email":"i@example.com","phone":"+70000000000"}}'
ctl POST /_sim/orders "$ORDER"
t_is "place order -> 201" "$ST" 201
OID=$(jb .id)
t_is "fulfillment_status new" "$(jb .fulfillment_status)" new
t_is "financial_status pending" "$(jb .financial_status)" pending
t_is "two order lines" "$(jb '.order_lines | length')" 2
t_is "line sale_price from the variant" "$(jb '.order_lines[1].sale_price')" "2500.5"
t_is "line total_price" "$(jb '.order_lines[0].total_price')" "2000.0"
t_is "items_price" "$(jb .items_price)" "4500.5"
t_is "total_price includes delivery" "$(jb .total_price)" "4800.5"
t_is "delivery" "$(jb -c '[.delivery_title, .delivery_price]')" '["Courier","300.0"]'
t_is "client kept" "$(jb .client.email)" i@example.com
t_ok "lines carry variant_id, product_id, sku" jq -e \
    '.order_lines | all(.variant_id > 0 and .product_id > 0 and (.sku | type == "string"))' "$BODY"
t_ok "number and key" jq -e '(.number | type == "number") and (.key | length == 32)' "$BODY"
ctl GET '/_sim/state?skus=1'
t_is "stock decremented" "$(jb -c '[.variants_by_sku["K-1"].quantity, .variants_by_sku["K-2"].quantity]')" "[3,0]"
t_is "orders counted" "$(jb .orders)" 1

# Refusals leave the shop unchanged.
ctl POST /_sim/orders '{"lines":[{"sku":"K-1","quantity":1},{"sku":"K-2","quantity":1}]}'
t_is "line over stock -> 409" "$ST" 409
t_is "409 reason" "$(jb -c '[.error, .sku, .requested, .available]')" '["insufficient_stock","K-2",1,0]'
ctl POST /_sim/orders '{"lines":[{"sku":"K-1","quantity":2},{"sku":"K-1","quantity":2}]}'
t_is "same SKU twice over stock -> 409" "$ST" 409
ctl POST /_sim/orders '{"lines":[{"sku":"NOPE","quantity":1}]}'
t_is "unknown SKU -> 422" "$ST" 422
t_is "unknown SKU reason" "$(jb .error)" unknown_sku
ctl POST /_sim/orders '{"lines":[]}'
t_is "no lines -> 422" "$ST" 422
ctl GET '/_sim/state?skus=1'
t_is "nothing half-applied" "$(jb -c '[.variants_by_sku["K-1"].quantity, .orders]')" "[3,1]"
ctl POST /_sim/orders '{"lines":[{"sku":"U-1","quantity":1000}]}'
t_is "untracked stock (quantity null) sells" "$ST" 201

# Admin order API.
api GET /admin/orders.json
t_is "orders list" "$(jb length)" 2
api GET /admin/orders/$OID.json
t_is "get order" "$(jb .id)" "$OID"
U0=$(jb .updated_at)
api GET /admin/orders/count.json
t_is "orders count" "$(jb .count)" 2
api PUT /admin/orders/$OID.json '{"order":{"fulfillment_status":"accepted"}}'
t_is "update status -> 200" "$ST" 200
t_is "status changed" "$(jb .fulfillment_status)" accepted
t_ok "updated_at bumped" test "$(jb .updated_at)" '>' "$U0"
t_ok "accepted_at set" jq -e '.accepted_at != null' "$BODY"
api PUT /admin/orders/$OID.json '{"order":{"financial_status":"paid"}}'
t_is "financial status paid" "$(jb .financial_status)" paid
api PUT /admin/orders/$OID.json '{"order":{"fulfillment_status":"lost"}}'
t_is "unknown status -> 422" "$ST" 422
api GET '/admin/orders.json?fulfillment_status=accepted'
t_is "filter by fulfillment_status" "$(jb -c '[.[].id]')" "[$OID]"
api GET '/admin/orders.json?financial_status=pending'
t_is "filter by financial_status" "$(jb length)" 1
api GET '/admin/orders.json?fulfillment_status[]=new&fulfillment_status[]=accepted'
t_is "filter by several statuses" "$(jb length)" 2
api GET /admin/orders/400099999.json
t_is "missing order -> 404" "$ST" 404

# Control status change; declining does not restore stock.
ctl POST /_sim/orders/$OID/status '{"fulfillment_status":"declined"}'
t_is "control status change" "$(jb .fulfillment_status)" declined
ctl GET '/_sim/state?skus=1'
t_is "declined order keeps stock as is" "$(jb '.variants_by_sku["K-1"].quantity')" 3

# updated_since paging on orders: the changed order comes last.
api GET "/admin/orders.json?updated_since=$(jq -rn --arg s "$U0" '$s|@uri')"
t_is "updated_since on orders" "$(jb '.[-1].id')" "$OID"
LAST=$(jb '.[-1].updated_at')
api GET "/admin/orders.json?updated_since=$(jq -rn --arg s "$LAST" '$s|@uri')&from_id=$OID"
t_is "from_id skips the cursor" "$(jb length)" 0

# Admin API create and delete.
api GET '/admin/products.json'
VK1=$(jb '.[0].variants[0].id')
api POST /admin/orders.json "{\"order\":{\"order_lines_attributes\":[{\"variant_id\":$VK1,\"quantity\":1}],\"client\":{\"name\":\"B\"},\"shipping_address_attributes\":{\"address\":\"ул. Ленина, 1\"}}}"
t_is "POST /admin/orders.json -> 201" "$ST" 201
AO=$(jb .id)
t_is "admin order shipping address" "$(jb .shipping_address.address)" "ул. Ленина, 1"
api POST /admin/orders.json "{\"order\":{\"order_lines_attributes\":[{\"variant_id\":$VK1,\"quantity\":100}]}}"
t_is "admin order over stock -> 422" "$ST" 422
t_ok "admin refusal is a field map" jq -e '.order_lines | length == 1' "$BODY"
api POST /admin/orders.json '{"order":{"order_lines_attributes":[{"variant_id":299999999,"quantity":1}]}}'
t_is "admin order with unknown variant -> 422" "$ST" 422
ctl GET '/_sim/state?skus=1'
t_is "admin order took stock once" "$(jb '.variants_by_sku["K-1"].quantity')" 2
# Line edits (PUT order_lines_attributes, INSALES.md §5.3).
api GET /admin/orders/$AO.json
AL=$(jb '.order_lines[0].id')
AU=$(jb .updated_at)
sleep 0.01
api PUT /admin/orders/$AO.json "{\"order\":{\"order_lines_attributes\":[{\"id\":$AL,\"quantity\":3}]}}"
t_is "PUT a line's quantity -> 200" "$ST" 200
t_is "the line has 3, totals follow" "$(jb -c '[.order_lines[0].quantity, .items_price]')" '[3,"3000.0"]'
t_isnt "updated_at moves" "$(jb .updated_at)" "$AU"
ctl GET '/_sim/state?skus=1'
t_is "the increase took stock" "$(jb '.variants_by_sku["K-1"].quantity')" 0
api PUT /admin/orders/$AO.json "{\"order\":{\"order_lines_attributes\":[{\"id\":$AL,\"quantity\":4}]}}"
t_is "an increase beyond stock -> 422" "$ST" 422
t_ok "... as a field map" jq -e '.order_lines | length == 1' "$BODY"
api PUT /admin/orders/$AO.json '{"order":{"order_lines_attributes":[{"id":1,"quantity":1}]}}'
t_is "an unknown line -> 422" "$ST" 422
api GET '/admin/products.json'
VU=$(jb '[.[] | .variants[] | select(.sku == "U-1") | .id][0]')
api PUT /admin/orders/$AO.json "{\"order\":{\"order_lines_attributes\":[{\"variant_id\":$VU,\"quantity\":2},{\"id\":$AL,\"_destroy\":true}]}}"
t_is "add a line and remove one -> 200" "$ST" 200
t_is "only the new line is left" "$(jb -c '[.order_lines[] | [.sku, .quantity]]')" '[["U-1",2]]'
ctl GET '/_sim/state?skus=1'
t_is "a removed line does not put stock back" "$(jb '.variants_by_sku["K-1"].quantity')" 0
api DELETE /admin/orders/$AO.json
t_is "DELETE order" "$(jb .status)" ok
api GET /admin/orders/$AO.json
t_is "deleted order -> 404" "$ST" 404
api GET /admin/orders/count.json
t_is "count after delete" "$(jb .count)" 2

t_done
