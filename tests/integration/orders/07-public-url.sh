#!/usr/bin/env bash
# The webhooks' base URL: without intake.public_url, order-ingestor gives
# the store its intake's own address, with the port the socket got
# (intake.listen port 0), and an order reaches the ledger through that
# webhook (polling is off after the first round); with intake.public_url
# set, that is the address registered.
. "$(dirname "$0")/orders-lib.bash"

ord_setup
# registered: the addresses store-sim holds for the store's webhooks.
registered() {
    sim_get /admin/webhooks.json |
        python3 -c 'import json,sys; print(" ".join(sorted({w["address"] for w in json.load(sys.stdin)})))'
}

t_bg ing1 order-ingestor -o log.level=info -o intake.listen=127.0.0.1:0 \
    -o poll.interval.ms=600000 -o stores.refresh.ms=1000 \
    ${HARNESS_KAFKA_OPTS:-}
t_ok "the intake says where the webhooks go" \
    wait_for 20 grep -q 'webhooks under http://127\.0\.0\.1:[1-9]' "$T_TMP/ing1.log"
port=$(sed -n 's#.*intake listening on 127\.0\.0\.1:0 (webhooks under http://127\.0\.0\.1:\([0-9]*\)).*#\1#p' "$T_TMP/ing1.log" | head -1)
t_like "the bound port, not 0" "$port" '^[1-9][0-9]*$'
t_unlike "no warning for a loopback listener" "$(grep -i 'public_url' "$T_TMP/ing1.log" | grep -i warn)" .
t_ok "the store's webhooks are registered" wait_for 20 sh -c "[ -n \"\$(curl -sf -u '$ORD_LOGIN:$ORD_PW' http://127.0.0.1:$ORD_SIM_PORT/admin/webhooks.json | tr -d '[]')\" ]"
t_is "at the intake's own address" "$(registered)" \
    "http://127.0.0.1:$port/hooks/$ORD_SECRET/orders"
sleep 1 # the first poll round is over
id=$(place1 ART-00001-1 1)
# Polling runs once at start (before this order) and then every 10 min:
# the order can only come through the webhook.
t_ok "an order arrives through that webhook" \
    wait_for 20 sh -c "[ \"\$(psql '$OMNISYNC_PG' -XqtA -c \"SELECT count(*) FROM customer_order WHERE remote_id = $id\")\" = 1 ]"
t_kill ing1

# A set intake.public_url is what the store is given.
sql "DELETE FROM order_poll_cursor" >/dev/null
ORD_PORT=$(free_port)
t_bg ing2 order-ingestor -o log.level=info -o intake.listen="127.0.0.1:$ORD_PORT" \
    -o intake.public_url="http://localhost:$ORD_PORT" \
    -o poll.interval.ms=600000 -o stores.refresh.ms=1000 \
    ${HARNESS_KAFKA_OPTS:-}
t_ok "with intake.public_url set, that address is registered" \
    wait_for 20 sh -c "curl -sf -u '$ORD_LOGIN:$ORD_PW' http://127.0.0.1:$ORD_SIM_PORT/admin/webhooks.json | grep -q 'http://localhost:$ORD_PORT/hooks/'"
t_kill ing2
t_done
