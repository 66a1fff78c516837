#!/usr/bin/env bash
# store-sim --data-dir: the whole shop survives a restart (SIGTERM and
# kill -9), ids and order numbers go on, queued group updates still apply,
# webhooks still fire; a corrupt shop file or a second store-sim on the
# same directory exits 2 with a message naming the problem.
. "$(dirname "$0")/sim-lib.sh"
DATA=$T_DIR/shop
hook_start
sim_start --limit 0 --data-dir "$DATA" --group-update-delay-ms 1500 \
    --image-processing-ms 0
t_ok "shop.json is written at start" test -s "$DATA/shop.json"

# ---- a shop with one of everything
api POST /admin/categories.json '{"category":{"title":"Обувь"}}'
CAT=$(jb .id)
api POST /admin/collections.json '{"collection":{"title":"Лето"}}'
COLL=$(jb .id)
api POST /admin/products.json "{\"product\":{\"title\":\"Кеды\",\"category_id\":$CAT,\"description\":\"<p>d</p>\",\"options\":[{\"title\":\"Размер\"}],\"variants_attributes\":[{\"sku\":\"P-40\",\"price\":\"1500.5\",\"old_price\":\"2000\",\"quantity\":5,\"options\":[{\"title\":\"Размер\",\"value\":\"40\"}]},{\"sku\":\"P-41\",\"price\":\"1500\",\"quantity\":3,\"options\":[{\"title\":\"Размер\",\"value\":\"41\"}]},{\"sku\":\"P-42\",\"price\":\"1500\",\"options\":[{\"title\":\"Размер\",\"value\":\"42\"}]}]}}"
t_is "product created" "$ST" 201
PID=$(jb .id)
V42=$(jb '.variants[] | select(.sku == "P-42") | .id')
api DELETE "/admin/products/$PID/variants/$V42.json"
t_is "a variant deleted (a hole in the variant ids)" "$ST" 200
PNG=$(printf '\x89PNG\r\n\x1a\nstore-sim-persist' | base64 -w0)
api POST "/admin/products/$PID/images.json" "{\"image\":{\"attachment\":\"$PNG\",\"filename\":\"a.png\",\"title\":\"front\"}}"
t_is "image uploaded" "$ST" 201
api POST /admin/collects.json "{\"collect\":{\"product_id\":$PID,\"collection_id\":$COLL}}"
t_is "collect" "$ST" 201
api POST /admin/products.json '{"product":{"title":"Old"}}'
OLD=$(jb .id)
api DELETE "/admin/products/$OLD.json"
t_is "a product archived" "$ST" 200
api POST /admin/webhooks.json "{\"webhook\":{\"address\":\"$HOOK_URL\",\"topic\":\"orders/create\",\"format_type\":\"json\"}}"
t_is "webhook registered" "$ST" 201
ctl POST /_sim/orders '{"lines":[{"sku":"P-40","quantity":2}],"delivery_title":"Courier","delivery_price":"300.0","client":{"name":"A","email":"a@example.com"},"shipping_address":{"address":"Тверская 1"},"comment":"c"}'
t_is "shopper order" "$ST" 201
O1=$(jb .id)
ctl POST "/_sim/orders/$O1/status" '{"fulfillment_status":"accepted","financial_status":"paid"}'
t_is "its status changed" "$ST" 200
api POST /admin/orders.json "{\"order\":{\"order_lines_attributes\":[{\"variant_id\":$(jq -r '.order_lines[0].variant_id' "$BODY"),\"quantity\":1}]}}"
O2=$(jb .id)
api DELETE "/admin/orders/$O2.json"
t_is "an order deleted (a hole in the order ids)" "$ST" 200

# snapshot NAME: every view a client reads, into $T_DIR/NAME.json.
snapshot() {
    local out=$T_DIR/$1.json p
    : >"$out"
    for p in "/admin/products.json?with_deleted=true&per_page=250" \
        /admin/orders.json /admin/categories.json /admin/collections.json \
        /admin/collects.json /admin/option_names.json /admin/webhooks.json \
        /admin/warehouses.json \
        "/admin/products.json?updated_since=2000-01-01"; do
        api GET "$p"
        jq -S -c . "$BODY" >>"$out"
    done
    ctl GET "/_sim/state?skus=1"
    jq -S -c '{products, variants, images, orders, variants_by_sku}' "$BODY" >>"$out"
    ctl GET "/_sim/products/$PID/images"
    jq -S -c . "$BODY" >>"$out"
}
snapshot before
t_ok "snapshot taken" test "$(wc -l <"$T_DIR/before.json")" -eq 11

sim_stop
sim_start --limit 0 --data-dir "$DATA" --group-update-delay-ms 1500 \
    --image-processing-ms 0
t_like "the log says what was loaded" "$(cat "$SIM_LOG")" 'shop loaded from .*shop.json: 2 products, 3 variants, 1 orders, 1 webhooks'
snapshot after
t_ok "every view is the same after a restart" \
    diff "$T_DIR/before.json" "$T_DIR/after.json"

# ---- ids and numbers go on; the clock only moves forward
api POST /admin/products.json '{"product":{"title":"New"}}'
t_is "the next product id follows the last one" "$(jb .id)" "$((OLD + 1))"
T_NEW=$(jb .updated_at)
ctl POST /_sim/orders '{"lines":[{"sku":"P-41","quantity":1}]}'
t_is "the next order id skips the deleted one" "$(jb .id)" "$((O2 + 1))"
t_is "order numbers go on" "$(jb .number)" 1003
t_ok "orders/create still fires after the restart" \
    wait_for 5 grep -q "\"id\":$((O2 + 1))," "$HOOK_OUT"
api GET "/admin/products.json?updated_since=$(jq -rn --arg t "$T_NEW" '$t|@uri')"
t_is "updated_since: the new product, then the one the order touched" \
    "$(jb -c '[.[].id]')" "[$((OLD + 1)),$PID]"

# ---- kill -9 right after a change: it was on disk before the answer
api PUT "/admin/products/$PID.json" '{"product":{"title":"Кеды 2"}}'
t_is "title changed" "$ST" 200
{
    kill -KILL "$SIM_PID"
    wait "$SIM_PID"
} 2>/dev/null
sim_start --limit 0 --data-dir "$DATA" --group-update-delay-ms 1500 \
    --image-processing-ms 0
api GET "/admin/products/$PID.json"
t_is "the change made just before kill -9 is there" "$(jb .title)" "Кеды 2"

# ---- a queued group update survives a restart and applies when due
V40=$(jb '.variants[] | select(.sku == "P-40") | .id')
api PUT /admin/products/variants_group_update.json "{\"variants\":[{\"id\":$V40,\"quantity\":77}]}"
t_is "group update queued" "$ST" 200
sim_stop
sim_start --limit 0 --data-dir "$DATA" --group-update-delay-ms 1500 \
    --image-processing-ms 0
qty40() {
    ctl GET "/_sim/state?skus=1"
    [ "$(jb '.variants_by_sku["P-40"].quantity')" = 77 ]
}
t_ok "the queued update applies after the restart" wait_for 10 qty40

# ---- one store-sim per directory
t_ok "a second store-sim on the same directory exits 2" \
    bash -c '"$1" --port 0 --login a --password b --data-dir "$2" 2>"$3"; test $? -eq 2' \
    _ "$STORE_SIM_BIN" "$DATA" "$T_DIR/second.log"
t_like "... saying the directory is in use" "$(cat "$T_DIR/second.log")" 'in use by another store-sim'
sim_stop

# ---- a corrupt shop file: exit 2, the file named, the file left alone
start_fails() { # FILE-CONTENT EXPECTED-MESSAGE
    printf '%s' "$1" >"$DATA/shop.json"
    "$STORE_SIM_BIN" --port 0 --login a --password b --data-dir "$DATA" \
        2>"$T_DIR/bad.log"
    local rc=$?
    t_is "corrupt ($2): exit 2" "$rc" 2
    t_like "corrupt ($2): the message names the file and the problem" \
        "$(cat "$T_DIR/bad.log")" "shop.json.*$2"
    t_is "corrupt ($2): the file is left as it was" "$(cat "$DATA/shop.json")" "$1"
}
cp "$DATA/shop.json" "$T_DIR/good.json"
start_fails "$(head -c 300 "$T_DIR/good.json")" 'line 1'
start_fails '{"store_sim_shop":2}' 'format version 2'
start_fails "$(jq -c '.variants[0].product_id = 123' "$T_DIR/good.json")" 'lists variant [0-9]*, not its own'
start_fails "$(jq -c '.products[0].title = 5' "$T_DIR/good.json")" 'products\[0\]: title: not a string'
start_fails "$(jq -c '.webhooks[0].topic = null' "$T_DIR/good.json")" 'webhooks\[0\]: topic: not a string'
start_fails "$(jq -c '.next_ids.orders = 400000000' "$T_DIR/good.json")" 'orders\[0\]: id 4000000[0-9]*: twice, or not below next_ids'
t_done
