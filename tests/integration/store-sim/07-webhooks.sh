#!/usr/bin/env bash
# store-sim: webhook delivery (orders/create, orders/update), faults.
. "$(dirname "$0")/sim-lib.sh"
sim_start --limit 0 --webhook-timeout-ms 1000
hook_start

# wait_hooks N: wait up to 5 s until the sink holds N lines.
wait_hooks() {
    local i
    for i in $(seq 1 100); do
        [ "$(wc -l <"$HOOK_OUT")" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

api POST /admin/webhooks.json "{\"webhook\":{\"address\":\"$HOOK_URL\",\"topic\":\"orders/create\",\"format_type\":\"json\"}}"
t_is "register orders/create" "$ST" 201
api POST /admin/webhooks.json "{\"webhook\":{\"address\":\"$HOOK_URL\",\"topic\":\"orders/update\",\"format_type\":\"json\"}}"
t_is "register orders/update" "$ST" 201
ctl POST /_sim/products '{"title":"Кеды","variants_attributes":[{"sku":"W-1","price":"1000.0","quantity":50}]}'

ctl POST /_sim/orders '{"lines":[{"sku":"W-1","quantity":1}],"delivery_title":"Courier","delivery_price":"300.0","client":{"name":"A"}}'
OID=$(jb .id)
t_ok "orders/create arrives" wait_hooks 1
t_is "the body is one order object" "$(head -1 "$HOOK_OUT" | jq -r 'type + ":" + (.id|tostring)')" "object:$OID"
api GET /admin/orders/$OID.json
t_is "same shape as GET /admin/orders/{id}.json" \
    "$(head -1 "$HOOK_OUT" | jq -c 'keys')" "$(jb -c 'keys')"

api PUT /admin/orders/$OID.json '{"order":{"fulfillment_status":"accepted"}}'
t_ok "orders/update arrives after an API change" wait_hooks 2
t_is "update carries the new status" "$(sed -n 2p "$HOOK_OUT" | jq -r .fulfillment_status)" accepted
ctl POST /_sim/orders/$OID/status '{"fulfillment_status":"declined"}'
t_ok "orders/update arrives after a control change" wait_hooks 3
t_is "declined delivered" "$(sed -n 3p "$HOOK_OUT" | jq -r .fulfillment_status)" declined
api PUT /admin/orders/$OID.json '{"order":{"fulfillment_status":"declined"}}'
sleep 0.3
t_is "no webhook when nothing changed" "$(wc -l <"$HOOK_OUT")" 3

# orders/destroy on DELETE.
api POST /admin/webhooks.json "{\"webhook\":{\"address\":\"$HOOK_URL\",\"topic\":\"orders/destroy\"}}"
DW=$(jb .id)
ctl POST /_sim/orders '{"lines":[{"sku":"W-1","quantity":1}]}'
ODEL=$(jb .id)
t_ok "orders/create for the order to delete" wait_hooks 4
api DELETE /admin/orders/$ODEL.json
t_ok "orders/destroy arrives" wait_hooks 5
t_is "destroy carries the order" "$(sed -n 5p "$HOOK_OUT" | jq .id)" "$ODEL"
api DELETE /admin/webhooks/$DW.json
: >"$HOOK_OUT"

# Duplicates: webhook_dup_rate=1 delivers every webhook twice.
ctl POST /_sim/faults '{"webhook_dup_rate":1}'
t_is "set dup fault" "$(jb .webhook_dup_rate)" 1
ctl POST /_sim/orders '{"lines":[{"sku":"W-1","quantity":1}]}'
O2=$(jb .id)
t_ok "duplicated delivery arrives" wait_hooks 2
t_is "both copies are the same order" "$(tail -2 "$HOOK_OUT" | jq -r .id | sort -u)" "$O2"

# Drops: webhook_drop_rate=1 delivers nothing and counts the drop.
ctl POST /_sim/faults '{"webhook_dup_rate":0,"webhook_drop_rate":1}'
ctl POST /_sim/orders '{"lines":[{"sku":"W-1","quantity":1}]}'
sleep 0.5
t_is "dropped delivery does not arrive" "$(wc -l <"$HOOK_OUT")" 2
ctl GET /_sim/state
t_is "drop counted" "$(jb .webhooks.dropped)" 1
t_is "deliveries counted" "$(jb .webhooks.delivered)" 7
ctl POST /_sim/faults '{"webhook_drop_rate":0}'

# A slow receiver is cut off by --webhook-timeout-ms and counted failed.
kill "$HOOK_PID"
wait "$HOOK_PID" 2>/dev/null
hook_start --delay-ms 3000
api GET /admin/webhooks.json
for id in $(jb '.[].id'); do api DELETE /admin/webhooks/$id.json; done
api POST /admin/webhooks.json "{\"webhook\":{\"address\":\"$HOOK_URL\",\"topic\":\"orders/create\"}}"
ctl GET /_sim/state
F0=$(jb .webhooks.failed)
ctl POST /_sim/orders '{"lines":[{"sku":"W-1","quantity":1}]}'
sleep 1.6
ctl GET /_sim/state
t_is "slow receiver (3 s) cut off at --webhook-timeout-ms (1 s)" \
    "$(jb -c "[.webhooks.failed - $F0, .webhooks.queued]")" "[1,0]"

# products/create: the body is an array of products.
: >"$HOOK_OUT"
api POST /admin/webhooks.json "{\"webhook\":{\"address\":\"$HOOK_URL\",\"topic\":\"products/create\"}}"
api POST /admin/products.json '{"product":{"title":"Новый"}}'
PNEW=$(jb .id)
sleep 2
t_is "products/create body is a one-element array" \
    "$(grep '^\[' "$HOOK_OUT" | head -1 | jq -c '[type, length, .[0].id]')" "[\"array\",1,$PNEW]"

# Deleting the webhook stops deliveries.
api GET /admin/webhooks.json
for id in $(jb '.[].id'); do api DELETE /admin/webhooks/$id.json; done
: >"$HOOK_OUT"
ctl POST /_sim/orders '{"lines":[{"sku":"W-1","quantity":1}]}'
sleep 0.3
t_is "no webhooks, no deliveries" "$(wc -l <"$HOOK_OUT")" 0

t_done
