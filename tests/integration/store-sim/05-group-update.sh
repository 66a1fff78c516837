#!/usr/bin/env bash
# store-sim: PUT /admin/products/variants_group_update.json, queued and sync.
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0 --group-update queued --group-update-delay-ms 1500

ctl POST /_sim/products '{"products":[{"title":"A","variants_attributes":[{"sku":"GA","price":100,"quantity":5}]},{"title":"B","variants_attributes":[{"sku":"GB","price":200,"quantity":6}]}]}'
api GET /admin/products.json
VA=$(jb '.[0].variants[0].id')
VB=$(jb '.[1].variants[0].id')

api PUT /admin/products/variants_group_update.json \
    "{\"variants\":[{\"id\":$VA,\"price\":1900,\"quantity\":1},{\"id\":$VB,\"old_price\":\"250.5\",\"quantity_at_warehouse0\":3}]}"
t_is "queued mode -> 200" "$ST" 200
t_is "queued mode returns []" "$(jb -c .)" "[]"
ctl GET '/_sim/state?skus=1'
t_is "not visible at once (quantity)" "$(jb '.variants_by_sku.GA.quantity')" 5
t_is "not visible at once (price)" "$(jb '.variants_by_sku.GA.price')" "100.0"
api GET /admin/products.json
t_is "not visible at once via the API" "$(jb '.[0].variants[0].price')" "100.0"
sleep 1.8
api GET /admin/products.json
t_is "visible after the delay (price)" "$(jb '.[0].variants[0].price')" "1900.0"
t_is "visible after the delay (quantity)" "$(jb '.[0].variants[0].quantity')" 1
t_is "old_price applied" "$(jb '.[1].variants[0].old_price')" "250.5"
t_is "quantity_at_warehouse0 applied" "$(jb '.[1].variants[0].quantity')" 3

BIG=$(jq -nc "{variants: [range(0; 101) | {id: $VA, quantity: .}]}")
api PUT /admin/products/variants_group_update.json "$BIG"
t_is "101 items -> 422" "$ST" 422
api PUT /admin/products/variants_group_update.json '{"nothing":1}'
t_is "no variants array -> 422" "$ST" 422
api PUT /admin/variants/group_update.json "{\"variants\":[{\"id\":$VA,\"quantity\":9}]}"
t_is "gem path /admin/variants/group_update.json works too" "$ST" 200
sim_stop

sim_start --limit 0 --group-update sync
ctl POST /_sim/products '{"title":"C","variants_attributes":[{"sku":"GC","price":100,"quantity":5}]}'
api GET /admin/products.json
VC=$(jb '.[0].variants[0].id')
api PUT /admin/products/variants_group_update.json \
    "{\"variants\":[{\"id\":$VC,\"quantity\":0},{\"id\":299999999,\"quantity\":1},{\"id\":$VC,\"price\":\"x\"}]}"
t_is "sync mode -> 200" "$ST" 200
t_is "sync mode per-item results" "$(jb -c '[.[] | .status]')" '["ok","not_found","error"]'
t_is "sync result ids" "$(jb -c '.[0].id')" "$VC"
ctl GET '/_sim/state?skus=1'
t_is "sync mode visible at once" "$(jb '.variants_by_sku.GC.quantity')" 0
api GET /admin/products.json
t_is "available false at quantity 0" "$(jb '.[0].variants[0].available')" false

t_done
