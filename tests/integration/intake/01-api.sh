#!/usr/bin/env bash
# ledger-api over HTTP: bearer tokens per client (stored hashed, scoped,
# revocable), POST /v1/movements with idempotency keys (a replay answers
# the first movement and applies nothing), a batch with a bad item answers
# 422 and applies nothing, bodies capped (413), GET /v1/stock, PUT
# /v1/prices/{list}; every exchange checked against the OpenAPI file.
. "$(dirname "$0")/intake-lib.bash"

st_ledger 2 3 # STK-0001-01..03, STK-0002-01..03; WH1, WEB1, ONLINE
omnisync location add R001 --kind outlet >/dev/null || t_bail "location"
la_start api -o kafka.bootstrap= -o api.max_body=65536

# ---- clients
TOK=$(la_token backoffice movements:write,stock:read,prices:write)
t_like "client add prints a token" "$TOK" '^osk_[0-9a-f]{64}$'
t_is "the ledger keeps only its hash" \
    "$(sql "SELECT count(*) FROM api_client WHERE token_hash = encode(sha256(convert_to('$TOK', 'UTF8')), 'hex') AND position('$TOK' in token_hash) = 0")" 1
RO=$(la_token reader stock:read)
run_rc() { "$@" >/dev/null 2>&1; echo $?; }
t_is "a taken name: exit 2" "$(run_rc omnisync client add reader --scopes stock:read)" 2
t_is "an unknown scope: exit 2" "$(run_rc omnisync client add x --scopes root)" 2
t_like "client list" "$(omnisync client list)" 'backoffice +movements:write,stock:read,prices:write'

# ---- movements
api POST /v1/movements "$TOK" '{"movements":[
 {"key":"k1","kind":"receipt","location":"WH1","sku":"STK-0001-01","qty":10},
 {"key":"k2","kind":"transfer","location":"WH1","to_location":"R001","sku":"STK-0001-01","qty":4},
 {"key":"k3","kind":"sale","location":"R001","sku":"STK-0001-01","qty":1}]}'
t_is "batch: 200" "$CODE" 200
t_is "batch: three applied" "$(jq -c '[.applied, .duplicate, [.results[].status]]' <<<"$BODY_OUT")" \
    '[3,0,["applied","applied","applied"]]'
t_is "WH1 on hand 6" "$(onhand WH1 STK-0001-01)" 6
t_is "R001 on hand 3" "$(onhand R001 STK-0001-01)" 3
first=$(jq -c '[.results[].movement_id]' <<<"$BODY_OUT")
n=$(sql "SELECT count(*) FROM stock_movement")
ev=$(sql "SELECT count(*) FROM outbox")

api POST /v1/movements "$TOK" '{"movements":[
 {"key":"k1","kind":"receipt","location":"WH1","sku":"STK-0001-01","qty":10},
 {"key":"k2","kind":"transfer","location":"WH1","to_location":"R001","sku":"STK-0001-01","qty":4},
 {"key":"k3","kind":"sale","location":"R001","sku":"STK-0001-01","qty":1}]}'
t_is "replay: 200" "$CODE" 200
t_is "replay: all duplicates" "$(jq -c '[.applied, .duplicate]' <<<"$BODY_OUT")" '[0,3]'
t_is "replay: the first movements answered" "$(jq -c '[.results[].movement_id]' <<<"$BODY_OUT")" "$first"
t_is "replay: no movement added" "$(sql "SELECT count(*) FROM stock_movement")" "$n"
t_is "replay: no event added" "$(sql "SELECT count(*) FROM outbox")" "$ev"
t_is "replay: on hand unchanged" "$(onhand WH1 STK-0001-01)" 6

# A key repeated inside one batch: applied once.
api POST /v1/movements "$TOK" '{"movements":[
 {"key":"k4","kind":"receipt","location":"WH1","sku":"STK-0001-02","qty":5},
 {"key":"k4","kind":"receipt","location":"WH1","sku":"STK-0001-02","qty":5}]}'
t_is "same key twice in a batch: applied once" \
    "$(jq -c '[.results[].status]' <<<"$BODY_OUT") $(onhand WH1 STK-0001-02)" '["applied","duplicate"] 5'

# Items of one batch apply in order: a count sees the receipt before it.
api POST /v1/movements "$TOK" '{"movements":[
 {"key":"q1","kind":"receipt","location":"WH1","sku":"STK-0002-02","qty":5},
 {"key":"q2","kind":"count","location":"WH1","sku":"STK-0002-02","qty":3},
 {"key":"q3","kind":"sale","location":"WH1","sku":"STK-0002-02","qty":1}]}'
t_is "in order: deltas +5 -2 -1, on hand 5 3 2" \
    "$(jq -c '[.results[] | [.delta, .on_hand]]' <<<"$BODY_OUT")" '[[5,5],[-2,3],[-1,2]]'
t_is "the level" "$(onhand WH1 STK-0002-02)" 2

# ---- 422: every bad item named, nothing applied
n=$(sql "SELECT count(*) FROM stock_movement")
api POST /v1/movements "$TOK" '{"movements":[
 {"key":"g1","kind":"receipt","location":"WH1","sku":"STK-0002-01","qty":7},
 {"key":"b1","kind":"receipt","location":"WH1","sku":"NOPE","qty":1},
 {"key":"b2","kind":"sale","location":"NOWHERE","sku":"STK-0002-01","qty":1},
 {"key":"b3","kind":"receipt","location":"WH1","sku":"STK-0002-01","qty":0},
 {"kind":"receipt","location":"WH1","sku":"STK-0002-01","qty":1},
 {"key":"b5","kind":"steal","location":"WH1","sku":"STK-0002-01","qty":1}]}'
t_is "a bad batch: 422" "$CODE" 422
t_is "each bad item named" "$(jq -c '[.errors[] | [.index, .field]]' <<<"$BODY_OUT")" \
    '[[1,"sku"],[2,"location"],[3,"qty"],[4,"key"],[5,"kind"]]'
t_like "with its reason" "$BODY_OUT" 'unknown SKU \\"NOPE\\"'
t_is "a bad batch applies nothing (not even its good item)" "$(sql "SELECT count(*) FROM stock_movement")" "$n"
t_is "STK-0002-01 untouched" "$(onhand WH1 STK-0002-01)" 0

api POST /v1/movements "$TOK" '{"movements": [1,'
t_is "not JSON: 400" "$CODE" 400
api POST /v1/movements "$TOK" '{"moves": []}'
t_is "no movements array: 400" "$CODE" 400
python3 -c 'import json; print(json.dumps({"movements": [{"key": "x%d" % i, "kind": "receipt", "location": "WH1", "sku": "STK-0001-01", "qty": 1} for i in range(2000)]}))' >"$T_TMP/big.json"
api POST /v1/movements "$TOK" "@$T_TMP/big.json"
t_is "a body over api.max_body: 413" "$CODE" 413
t_is "413 applies nothing" "$(sql "SELECT count(*) FROM stock_movement")" "$n"

# ---- tokens
api POST /v1/movements "" '{"movements":[]}'
t_is "no token: 401" "$CODE" 401
api POST /v1/movements "osk_0000" '{"movements":[]}'
t_is "unknown token: 401" "$CODE" 401
api POST /v1/movements "$RO" '{"movements":[{"key":"r1","kind":"receipt","location":"WH1","sku":"STK-0001-01","qty":1}]}'
t_is "a read-only client cannot write: 403" "$CODE" 403
api GET "/v1/stock?location=WH1&sku=STK-0001-01" "$RO"
t_is "stock: 200" "$CODE" 200
t_is "stock: the level" "$(jq -c .levels <<<"$BODY_OUT")" \
    '[{"location":"WH1","sku":"STK-0001-01","on_hand":6,"reserved":0}]'
t_ok "client revoke" omnisync client revoke reader
api GET "/v1/stock?location=WH1" "$RO"
t_is "a revoked token is refused: 401" "$CODE" 401
t_like "and told so" "$BODY_OUT" 'token revoked'
t_like "client list shows it revoked" "$(omnisync client list --json)" '"revoked_at": "20'
t_is "revoke an unknown client: exit 2" "$(run_rc omnisync client revoke nobody)" 2

# ---- prices
api PUT /v1/prices/ONLINE "$TOK" '{"prices":[{"sku":"STK-0001-01","price":"99,50","old_price":120},{"sku":"STK-0001-02","price":102}]}'
t_is "prices: 200" "$CODE" 200
t_is "prices: stored" "$(sql "SELECT price || '/' || coalesce(old_price::text, '-') FROM price r JOIN variant v ON v.id = r.variant_id WHERE v.sku = 'STK-0001-01'")" "99.50/120.00"
t_is "prices: one catalog event for the product" "$(jq -c '[.changed, .events]' <<<"$BODY_OUT")" '[2,1]'
sum=$(sql "SELECT md5(string_agg(r::text, ',' ORDER BY variant_id)) FROM price r")
api PUT /v1/prices/ONLINE "$TOK" '{"prices":[{"sku":"STK-0001-01","price":"1"},{"sku":"NOPE","price":"2"},{"sku":"STK-0001-03","price":"x"}]}'
t_is "prices with bad items: 422" "$CODE" 422
t_is "prices: nothing applied" "$(sql "SELECT md5(string_agg(r::text, ',' ORDER BY variant_id)) FROM price r")" "$sum"
api PUT /v1/prices/ONLINE "$TOK" '{"prices":[{"sku":"NOPE","price":"2"}]}'
t_is "prices: unknown SKU 422" "$(jq -c '[.errors[] | [.index, .field, .error]]' <<<"$BODY_OUT")" '[[0,"sku","unknown SKU"]]'
api PUT /v1/prices/NOLIST "$TOK" '{"prices":[]}'
t_is "prices: unknown list 404" "$CODE" 404
api GET /v1/nothing "$TOK"
t_is "unknown path: 404" "$CODE" 404

t_like "metrics count requests by route and code" \
    "$(curl -s "http://$(grep -o 'http listening on [0-9.:]*' "$T_TMP/api.log" | head -1 | awk '{print $4}')/metrics")" \
    'omnisync_api_requests_total\{route="movements",code="422"\} 1'
out=$(la_openapi 2>&1)
t_ok "every request and response matches proto/ledger-api.openapi.yaml" test $? = 0
t_diag "$out"
t_ok "ledger-api stops on SIGTERM" t_kill api
t_unlike "no token in the log" "$(cat "$T_TMP/api.log")" "$TOK"
t_done
