#!/usr/bin/env bash
# harness: fresh-kafka
# Malformed, oversized, misrouted requests get 4xx and one log line; the
# intake keeps working; an unknown secret is 404.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

ord_setup 10 0 0
ord_start oi -o intake.max_body=65536
t_ok "intake up" wait_for 20 ord_healthy
url="http://127.0.0.1:$ORD_PORT/hooks/$ORD_SECRET/orders"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
t_is "malformed JSON: 400" "$(code -X POST --data-binary '{"id": 1, ' "$url")" 400
t_is "not an object: 422" "$(code -X POST --data-binary '[1,2]' "$url")" 422
t_is "no updated_at: 422" "$(code -X POST --data-binary '{"id": 5}' "$url")" 422
t_is "bad updated_at: 422" "$(code -X POST --data-binary '{"id": 5, "updated_at": "soon"}' "$url")" 422
t_is "no id: 422" "$(code -X POST --data-binary '{"updated_at": "2030-01-01T00:00:00Z"}' "$url")" 422
head -c 100000 /dev/zero | tr '\0' 'x' >"$T_TMP/big"
t_is "oversized body (Content-Length): 413" "$(code -X POST --data-binary "@$T_TMP/big" "$url")" 413
t_is "oversized body (chunked): 413" \
    "$(code -X POST -H 'Transfer-Encoding: chunked' --data-binary "@$T_TMP/big" "$url")" 413
t_is "GET: 405" "$(code "$url")" 405
t_is "unknown secret: 404" "$(code -X POST --data-binary '{}' "http://127.0.0.1:$ORD_PORT/hooks/0123456789abcdef0123456789abcdef/orders")" 404
t_is "other path: 404" "$(code -X POST --data-binary '{}' "http://127.0.0.1:$ORD_PORT/hooks/x")" 404
t_is "one log line per rejection" "$(grep -c 'webhook rejected' "$T_TMP/oi.log")" 10
cat >"$T_TMP/ok.json" <<JSON
{"id": 499999200, "updated_at": "2030-01-01T00:00:00.000+03:00", "delivery_price": "0",
 "order_lines": [{"sku": "ART-00001-1", "quantity": 1, "sale_price": "1"}]}
JSON
t_is "a valid body afterwards: 200" "$(hook_post "$ORD_SECRET" "$T_TMP/ok.json")" 200
got() { [ "$(sql "SELECT stock_state FROM customer_order WHERE remote_id = 499999200")" = reserved ]; }
t_ok "and it is applied" wait_for 30 got
t_ok "the process is still alive" kill -0 "$(t_pid oi)"
t_kill oi TERM
t_is "order-ingestor exits 0 on SIGTERM" "$?" 0
t_done
