#!/usr/bin/env bash
# harness: fresh-kafka
# A mixed run through every intake entry point — a stock file (import
# stock), HTTP batches (movements and prices, with replays and a refused
# batch), till receipts on the Kafka intake (with a redelivery and a
# malformed one) — reaches the store through the usual path (outbox,
# relay, stock-publisher), and afterwards the store equals the ledger:
# `omnisync reconcile` exits 0.  ledger-api runs as a login user in the
# ledger_api role of `omnisync db roles`.
. "$(dirname "$0")/intake-lib.bash"
LA_AS_ROLE=1 # ledger-api as a user in the ledger_api role of db roles

STORE="s3m$$"
st_ledger 10 4 # STK-0001-01 .. STK-0010-04
omnisync location add R001 --kind outlet >/dev/null || t_bail "location"
st_sim sim
st_store "$STORE" sim WEB1 WH1,R001
st_prefill "$STORE" sim '%'
st_relay relay
st_pub pub
la_start api
TOK=$(la_token bo movements:write,stock:read,prices:write)

# A stock count at WH1 from a file.
{ echo "sku;qty"; for p in $(seq -w 1 10); do for v in 01 02 03 04; do
    echo "STK-00$p-$v;$((10#$p * 3 + 10#$v))"; done; done; } >"$T_TMP/count.csv"
t_ok "import stock (count)" omnisync import stock "$T_TMP/count.csv" --location WH1 --mode count --ref C1

# HTTP: transfers to the outlet, sales, a replay, a refused batch.
body='{"movements":['
for p in $(seq -w 1 10); do
    body+="{\"key\":\"t$p\",\"kind\":\"transfer\",\"location\":\"WH1\",\"to_location\":\"R001\",\"sku\":\"STK-00$p-01\",\"qty\":2},"
    body+="{\"key\":\"s$p\",\"kind\":\"sale\",\"location\":\"WH1\",\"sku\":\"STK-00$p-02\",\"qty\":1},"
done
body="${body%,}]}"
api POST /v1/movements "$TOK" "$body"
t_is "HTTP batch: 20 applied" "$CODE $(jq .applied <<<"$BODY_OUT")" "200 20"
api POST /v1/movements "$TOK" "$body"
t_is "HTTP replay: 20 duplicates" "$CODE $(jq .duplicate <<<"$BODY_OUT")" "200 20"
api POST /v1/movements "$TOK" '{"movements":[{"key":"x1","kind":"receipt","location":"WH1","sku":"STK-0001-03","qty":50},{"key":"x2","kind":"receipt","location":"WH1","sku":"NOPE","qty":1}]}'
t_is "a refused batch: 422" "$CODE" 422
api PUT /v1/prices/ONLINE "$TOK" '{"prices":[{"sku":"STK-0003-01","price":"77.70"},{"sku":"STK-0004-01","price":88,"old_price":"99"}]}'
t_is "HTTP prices: 200" "$CODE" 200

# Kafka: till receipts at R001, one redelivered, one malformed.
produce() { printf '%s\n' "$2" | kcat -P -b "$OMNISYNC_KAFKA" -t omnisync.movements.in.v1 -k "$1" 2>/dev/null; }
for i in 1 2 3 4 5; do
    produce R001 "{\"receipt\":\"K$i\",\"outlet\":\"R001\",\"lines\":[{\"sku\":\"STK-000$i-01\",\"qty\":1}]}"
done
produce R001 '{"receipt":"K1","outlet":"R001","lines":[{"sku":"STK-0001-01","qty":1}]}'
produce R001 '{"receipt":"K6","outlet":"R001"}'
produce R001 '{"receipt":"K7","outlet":"R001","lines":[{"sku":"STK-0007-01","qty":1,"kind":"return"}]}'
k7() { [ "$(onhand R001 STK-0007-01)" = 3 ]; }
t_ok "the Kafka receipts are applied" wait_for 60 k7
t_is "K1 once: R001 STK-0001-01 = 2 - 1" "$(onhand R001 STK-0001-01)" 1
t_is "the refused batch applied nothing" "$(sql "SELECT count(*) FROM stock_movement WHERE idem_key IN ('x1', 'x2')")" 0

t_ok "the relay drained the outbox" wait_for 60 st_drained
t_ok "the store converges to the ledger" wait_for 90 st_compare "$STORE" sim
t_diag "$(st_compare "$STORE" sim)"
omnisync reconcile "$STORE" >"$T_TMP/rec.out" 2>"$T_TMP/rec.err"
t_is "omnisync reconcile exits 0" "$?" 0
t_like "no drift" "$(cat "$T_TMP/rec.out")" ' 0 differ \(0 rows\), 0 missing in store, 0 unknown in store'
t_ok "ledger-api (role ledger_api) logged no permission error" la_no_denied api
t_ok "ledger-api stops on SIGTERM" t_kill api
t_ok "stock-publisher stops on SIGTERM" t_kill pub
t_done
