#!/usr/bin/env bash
# harness: fresh-kafka
# Every service serves /metrics (docs/metrics.md): the whole stack runs
# against store-sim, each service is scraped before and after catalog,
# photos, stock and orders went through, and the series that measure that
# work move with it: messages consumed and consumer lag per topic, store
# API calls by store and class, ledger-to-store latency per kind, token
# waits, orders ingested, the relay's published rows and backlog.
# `promtool check metrics` passes on every scrape, /readyz is 200 once the
# consumers have their partitions, and no service logs a CONFWARN at start
# (producers are given no consumer properties).
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
. "$OMNISYNC_ROOT/tests/integration/ops/ops-lib.bash"

command -v promtool >/dev/null || t_bail "promtool missing (deploy/install-deps.sh)"
KOPTS="${HARNESS_KAFKA_OPTS:-} -o kafka.statistics.interval.ms=1000"
SVCS=(relay catpub imgup stockpub ingest)

# relay, catalog-publisher, image-uploader (on free ports, from their logs)
CAT_IMGUP=1 cat_setup 10 2
# shellcheck disable=SC2086
t_bg stockpub stock-publisher -o log.level=info -o stockpub.flush.ms=3000 $KOPTS
ORD_PORT=$(free_port)
OI_HTTP=$(free_port)
# shellcheck disable=SC2086
t_bg ingest order-ingestor -o log.level=info \
    -o http.listen="127.0.0.1:$OI_HTTP" \
    -o intake.listen="127.0.0.1:$ORD_PORT" \
    -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
    -o poll.interval.ms=2000 -o stores.refresh.ms=2000 $KOPTS

declare -A PORT
for s in "${SVCS[@]}"; do
    ops_wait_port "$s" || t_bail "$s logged no 'http listening on'"
    PORT[$s]=$OPS_PORT
done
t_is "order-ingestor's ops port is http.listen, not the intake's" \
    "${PORT[ingest]}" "$OI_HTTP"
t_diag "ops ports: $(for s in "${SVCS[@]}"; do printf '%s=%s ' "$s" "${PORT[$s]}"; done)"
ready() { [ "$(ops_code "${PORT[$1]}" /readyz)" = 200 ]; }
for s in "${SVCS[@]}"; do
    t_ok "$s: /readyz 200 (its servers up, partitions assigned)" wait_for 60 ready "$s"
    t_is "$s: /healthz 200" "$(ops_code "${PORT[$s]}" /healthz)" 200
done
t_ok "no service logged a CONFWARN at start" ops_no_confwarn "${SVCS[@]}"

# ---- before
for s in "${SVCS[@]}"; do
    ops_scrape "${PORT[$s]}" "$T_TMP/$s.before.prom" || t_bail "scrape $s"
    t_ok "$s: promtool check metrics (before)" ops_promtool "$T_TMP/$s.before.prom"
done

# ---- the work: catalog and photos, stock twice, orders
t_ok "sync initial: catalog and photos reach the store" \
    omnisync sync initial "$CAT_STORE" --timeout 180
mapfile -t SKUS < <(sql "SELECT sku FROM variant WHERE sku NOT LIKE 'ART-00001-%' ORDER BY sku")
qty_is() { # SKU QTY: the store shows QTY for SKU
    [ "$(sim_get "/_sim/state?skus=1" | jq -r --arg s "$1" '.variants_by_sku[$s].quantity')" = "$2" ]
}
for s in "${SKUS[@]}"; do
    omnisync stock receipt WH1 "$s" 50 --ref "m1-$s" >/dev/null || t_bail "receipt $s"
done
t_ok "stock reaches the store" wait_for 60 qty_is "${SKUS[-1]}" 50
# A second round while stock-publisher holds its flush (stockpub.flush.ms
# 3 s): its committed offsets trail the topic, and its lag shows it.
for s in "${SKUS[@]}"; do
    omnisync stock receipt WH1 "$s" 10 --ref "m2-$s" >/dev/null || t_bail "receipt $s"
done
stock_lag_seen() {
    ops_scrape "${PORT[stockpub]}" "$T_TMP/stockpub.during.prom" &&
        ops_gt "$(ops_sum "$T_TMP/stockpub.during.prom" \
            omnisync_kafka_consumer_lag_messages 'topic="omnisync.stock.v1"')" 0
}
t_ok "stock-publisher's lag rises above 0 while its flush waits" wait_for 30 stock_lag_seen
t_ok "the second round reaches the store" wait_for 60 qty_is "${SKUS[-1]}" 60
ops_shoppers "$CAT_SIM_PORT" 12 0 "$T_TMP/orders.jsonl" "${SKUS[@]}" >"$T_TMP/orders.out"
t_is "12 store orders placed" "$(cat "$T_TMP/orders.out")" 12
orders_in() { [ "$(sql "SELECT count(*) FROM customer_order")" -ge 12 ]; }
t_ok "the orders reach the ledger" wait_for 60 orders_in
lag_zero() { # SVC TOPIC: the service's lag on TOPIC is known and 0
    ops_scrape "${PORT[$1]}" "$T_TMP/$1.after.prom" &&
        [ "$(ops_count "$T_TMP/$1.after.prom" omnisync_kafka_consumer_lag_messages "topic=\"$2\"")" -gt 0 ] &&
        [ "$(ops_sum "$T_TMP/$1.after.prom" omnisync_kafka_consumer_lag_messages "topic=\"$2\"")" = 0.000000 ]
}
t_ok "catalog-publisher's lag settles at 0" wait_for 30 lag_zero catpub omnisync.catalog.v1
t_ok "image-uploader's lag settles at 0" wait_for 30 lag_zero imgup omnisync.images.v1
t_ok "stock-publisher's lag settles at 0" wait_for 30 lag_zero stockpub omnisync.stock.v1
t_ok "order-ingestor's lag settles at 0" wait_for 30 lag_zero ingest omnisync.orders.v1
sleep 6 # the relay's backlog gauges refresh every 5 s
ops_scrape "${PORT[relay]}" "$T_TMP/relay.after.prom" || t_bail "scrape relay"

# ---- after: promtool, then what moved
for s in "${SVCS[@]}"; do
    t_ok "$s: promtool check metrics (after)" ops_promtool "$T_TMP/$s.after.prom"
    for f in process_start_time_seconds process_resident_memory_bytes \
        process_cpu_seconds_total process_open_fds omnisync_http_requests_total; do
        t_ok "$s: $f" [ "$(ops_count "$T_TMP/$s.after.prom" "$f")" -gt 0 ]
    done
done

# moved NAME SVC METRIC MATCH: the sum after is above the sum before.
moved() {
    local b a
    b=$(ops_sum "$T_TMP/$2.before.prom" "$3" "${4:-}")
    a=$(ops_sum "$T_TMP/$2.after.prom" "$3" "${4:-}")
    if ops_gt "$a" "$b"; then
        t_pass "$1 ($b -> $a)"
    else
        t_fail "$1" "$3{$4}: before $b, after $a"
    fi
}
S="store=\"$CAT_STORE\""
for t in catpub:omnisync.catalog.v1 imgup:omnisync.images.v1 \
    stockpub:omnisync.stock.v1 ingest:omnisync.orders.v1; do
    s=${t%%:*} topic=${t#*:}
    moved "$s: messages consumed on $topic" "$s" omnisync_messages_consumed_total "topic=\"$topic\""
    t_is "$s: no lag series before its first commit on $topic" \
        "$(ops_count "$T_TMP/$s.before.prom" omnisync_kafka_consumer_lag_messages "topic=\"$topic\"")" 0
    t_ok "$s: lag series after the work on $topic" \
        [ "$(ops_count "$T_TMP/$s.after.prom" omnisync_kafka_consumer_lag_messages "topic=\"$topic\"")" -gt 0 ]
    t_ok "$s: partitions assigned" ops_gt \
        "$(ops_sum "$T_TMP/$s.after.prom" omnisync_kafka_assigned_partitions)" 0
done
for t in catpub:catalog imgup:images stockpub:stock ingest:orders; do
    s=${t%%:*} cls=${t#*:}
    moved "$s: store API calls ($cls, 2xx)" "$s" omnisync_store_api_calls_total "$S,class=\"$cls\",status=\"2"
    moved "$s: budget tokens taken ($cls)" "$s" omnisync_budget_tokens_total "$S,class=\"$cls\""
    moved "$s: token waits observed ($cls)" "$s" omnisync_budget_token_wait_seconds_count "$S,class=\"$cls\""
    t_ok "$s: budget used/limit/left reported" [ "$(ops_count "$T_TMP/$s.after.prom" omnisync_budget_left_requests "$S")" -eq 4 ]
done
for t in catpub:catalog imgup:image stockpub:stock; do
    s=${t%%:*} kind=${t#*:}
    moved "$s: ledger-to-store latency observed ($kind)" "$s" \
        omnisync_ledger_to_store_seconds_count "$S,kind=\"$kind\""
    t_ok "$s: latency +Inf bucket = count ($kind)" [ \
        "$(ops_sum "$T_TMP/$s.after.prom" omnisync_ledger_to_store_seconds_bucket "$S,kind=\"$kind\",le=\"+Inf\"")" = \
        "$(ops_sum "$T_TMP/$s.after.prom" omnisync_ledger_to_store_seconds_count "$S,kind=\"$kind\"")" ]
done
moved "order-ingestor: orders ingested" ingest omnisync_orders_ingested_total
moved "outbox-relay: rows published" relay omnisync_outbox_published_total
t_is "outbox-relay: active" "$(ops_sum "$T_TMP/relay.after.prom" omnisync_relay_active)" 1.000000
t_is "outbox-relay: backlog 0 once everything is sent" \
    "$(ops_sum "$T_TMP/relay.after.prom" omnisync_outbox_backlog_messages)" 0.000000
t_is "outbox-relay: no oldest unsent row" \
    "$(ops_sum "$T_TMP/relay.after.prom" omnisync_outbox_oldest_age_seconds)" 0.000000

for s in "${SVCS[@]}"; do
    t_kill "$s" TERM
    t_is "$s exits 0 on SIGTERM" "$?" 0
done
t_done
