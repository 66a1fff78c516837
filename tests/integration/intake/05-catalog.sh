#!/usr/bin/env bash
# harness: fresh-kafka
# PUT /v1/catalog: product and variant upserts through the catalog
# import's own path.  A valid batch reaches the store through
# catalog-publisher and `omnisync reconcile` exits 0; a batch with one bad
# product answers 422 with per-item errors and applies nothing; a repeated
# idempotency key answers the first result; a client without catalog:write
# gets 403.  ledger-api runs as a login user in the ledger_api role of
# `omnisync db roles`.  Every exchange is checked against the OpenAPI file.
. "$(dirname "$0")/intake-lib.bash"
LA_AS_ROLE=1 # ledger-api as a user in the ledger_api role of db roles

STORE="s5c$$"
st_ledger 2 2 # STK-0001-01 .. STK-0002-02
st_sim sim
st_store "$STORE" sim WEB1 WH1
st_relay relay
t_bg catpub catalog-publisher -o log.level=info \
    -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500
st_pub pub
la_start api
TOK=$(la_token cat catalog:write)
RO=$(la_token ro stock:read,prices:write)

good='{"price_list":"ONLINE","products":[
 {"article":"NEW-1","name":"Jacket","group":"Outer/Jackets","description":"Warm",
  "variants":[{"sku":"NEW-1-S","barcode":"4600000000011","price":"1 990,00","options":{"size":"S"}},
              {"sku":"NEW-1-M","price":1990,"old_price":"2500","options":{"size":"M"}}]},
 {"article":"STK-0001","name":"Product 1 renamed","variants":[{"sku":"STK-0001-01"},{"sku":"STK-0001-02"}]}]}'

api PUT /v1/catalog "$RO" "$good"
t_is "without catalog:write: 403" "$CODE" 403
t_is "the 403 applied nothing" "$(sql "SELECT count(*) FROM product WHERE article = 'NEW-1'")" 0

bad='{"products":[
 {"article":"BAD-1","name":"Fine","variants":[{"sku":"BAD-1-A"}]},
 {"article":"BAD-2","name":"'"$(head -c 501 /dev/zero | tr '\0' x)"'","variants":[{"sku":"BAD-2-A"},{"sku":""}]}]}'
api PUT /v1/catalog "$TOK" "$bad"
t_is "a batch with one bad product: 422" "$CODE" 422
t_is "the errors name the product, variant and field" \
    "$(jq -c '[.errors[] | [.index, .variant, .field]] | sort' <<<"$BODY_OUT")" \
    '[[1,null,"name"],[1,1,"sku"]]'
t_like "the name's limit is the import's" "$(jq -r '.errors[] | select(.field == "name") | .error' <<<"$BODY_OUT")" '501 bytes, longer than 500'
t_is "the 422 applied nothing" "$(sql "SELECT count(*) FROM product WHERE article LIKE 'BAD-%'")" 0
api PUT /v1/catalog "$TOK" '{"products":[{"article":"STK-0002","name":"Steal","variants":[{"sku":"STK-0001-01"}]}]}'
t_is "a SKU of another article: 422 (the ledger's check)" \
    "$CODE $(jq -c '.errors[0] | [.index, .variant, .field]' <<<"$BODY_OUT")" '422 [0,0,"sku"]'
api PUT /v1/catalog "$TOK" '{"products":[{"article":"D-1","name":"A","variants":[{"sku":"D-X"}]},{"article":"D-2","name":"B","variants":[{"sku":"D-Y"},{"sku":"D-X"}]}]}'
t_is "a SKU twice in the batch: 422 naming both items" \
    "$CODE $(jq -c '.errors[0] | [.index, .variant, .field, .error]' <<<"$BODY_OUT")" \
    '422 [1,1,"sku","duplicate SKU (first at index 0, variant 0)"]'
api PUT /v1/catalog "$TOK" '{"products":[{"article":"P-1","name":"Priced","variants":[{"sku":"P-1-A","price":5}]}]}'
t_is "a price without price_list: 422" "$CODE $(jq -r '.errors[0].field' <<<"$BODY_OUT")" "422 price_list"

ev0=$(sql "SELECT count(*) FROM outbox WHERE topic LIKE '%catalog%'")
CURL_KEY=(-H 'Idempotency-Key: cat-batch-1')
api_key() { # like api, with the Idempotency-Key header
    CODE=$(curl -s -o "$T_TMP/api.out" -w '%{http_code}' -X PUT \
        -H "Authorization: Bearer $TOK" "${CURL_KEY[@]}" \
        -H 'Content-Type: application/json' --data-binary "$1" "$LA_URL/v1/catalog")
    BODY_OUT=$(cat "$T_TMP/api.out")
    la_record PUT /v1/catalog "$1"
}
api_key "$good"
t_is "a valid batch: 200" "$CODE" 200
first=$BODY_OUT
t_is "2 products (1 new, 1 changed), 4 variants" \
    "$(jq -c '[.products, .new, .changed, .variants, .key]' <<<"$first")" '[2,1,1,4,"cat-batch-1"]'
t_is "the ledger has the variants, options and prices" \
    "$(sql "SELECT string_agg(v.sku || '=' || pc.price || '/' || coalesce(pc.old_price::text, '-'), ' ' ORDER BY v.sku) FROM variant v JOIN product p ON p.id = v.product_id JOIN price pc ON pc.variant_id = v.id WHERE p.article = 'NEW-1'")" \
    'NEW-1-M=1990.00/2500.00 NEW-1-S=1990.00/-'
t_is "renamed" "$(sql "SELECT name FROM product WHERE article = 'STK-0001'")" "Product 1 renamed"
ev1=$(sql "SELECT count(*) FROM outbox WHERE topic LIKE '%catalog%'")
api_key "$good"
t_is "the same key again: the first result" "$CODE $BODY_OUT" "200 $first"
t_is "the repeat wrote no event" "$(sql "SELECT count(*) FROM outbox WHERE topic LIKE '%catalog%'")" "$ev1"
t_ok "the batch wrote catalog events" test "$ev1" -gt "$ev0"
api_key '{"products":[]}'
t_is "the key with another body: 409" "$CODE" 409
CURL_KEY=()
api PUT /v1/catalog "$TOK" '{"key":"cat-batch-1","products":[]}'
t_is "a key in the body counts too" "$CODE" 409

new_in_store() { sim_get sim "/_sim/state?skus=1" | jq -e '.variants_by_sku["NEW-1-M"]' >/dev/null; }
t_ok "catalog-publisher puts the new product in the store" wait_for 60 new_in_store
t_ok "the relay drained the outbox" wait_for 60 st_drained
reconciled() { omnisync reconcile "$STORE" >"$T_TMP/rec.out" 2>&1; }
t_ok "omnisync reconcile exits 0" wait_for 40 reconciled
t_diag "$(cat "$T_TMP/rec.out")"
t_ok "every exchange matches proto/ledger-api.openapi.yaml" la_openapi
t_is "ledger-api connected as its role's user" \
    "$(sql "SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = '${LA_P}u_api'")" t
t_like "its user cannot change the clients" \
    "$(psql "$LA_PG" -XqtA -c "UPDATE api_client SET revoked_at = now()" 2>&1)" 'permission denied'
t_ok "ledger-api (role ledger_api) logged no permission error" la_no_denied api
t_ok "ledger-api stops on SIGTERM" t_kill api
t_done
