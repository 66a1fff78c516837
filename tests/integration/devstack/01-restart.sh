#!/usr/bin/env bash
# The local stack (deploy/stack.sh) behaves like the real thing: a catalog
# synced into store-sim, an order taken, then `down` and `up` again: the
# store still holds the shop, the broker its topics and committed offsets,
# the ports are the same, `omnisync reconcile` exits 0 and a new order
# lands in the ledger exactly once.  A second stack in another run
# directory runs at the same time on other ports and works too.  A second
# `up` lists what runs; `up` and `restart` fail naming a service that does
# not come up; `restart NAME` brings one back.
#
# Stack A runs from this checkout in a temporary run directory
# (OMNISYNC_RUN_DIR), stack B from a copy of the checkout (deploy/,
# tests/harness/, the built bin/) in that copy's default ./run, as a second
# clone would; both start at the same time.  They are stopped at exit
# whatever happens.
set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

for b in omnisync store-sim devkafka outbox-relay catalog-publisher \
    stock-publisher image-uploader order-ingestor; do
    [ -x "$OMNISYNC_ROOT/bin/$b" ] || t_bail "bin/$b is not built (make -j2)"
done

# Quick enough for a test: stores reloaded every second, orders polled
# every 2 s (both reach the services through the stack's environment).
export OMNISYNC_STORES_REFRESH_MS=1000 OMNISYNC_POLL_INTERVAL_MS=2000
unset OMNISYNC_STACK_KAFKA

# The postgres user (initdb refuses root) must reach the run directories.
A=$(mktemp -d /tmp/omnisync-devstack-A.XXXXXX)
TOP_B=$(mktemp -d /tmp/omnisync-devstack-B.XXXXXX)
chmod 755 "$A" "$TOP_B"
CLONE=$TOP_B/omnisync
B=$CLONE/run
mkdir -p "$CLONE/tests"
cp -a "$OMNISYNC_ROOT/deploy" "$OMNISYNC_ROOT/bin" "$CLONE/"
cp -a "$OMNISYNC_ROOT/tests/harness" "$CLONE/tests/"

stack() { # RUN ARGS...: the stack whose run directory is RUN
    local run=$1
    shift
    if [ "$run" = "$B" ]; then
        (
            unset OMNISYNC_RUN_DIR
            cd "$CLONE" && deploy/stack.sh "$@"
        )
    else
        OMNISYNC_RUN_DIR=$run "$OMNISYNC_ROOT/deploy/stack.sh" "$@"
    fi
}

cleanup() {
    local r
    for r in "$A" "$B"; do
        stack "$r" down >/dev/null 2>&1
        # Keep the logs with the test's results when something failed.
        [ "$T_FAIL" -gt 0 ] && cp -r "$r/log" "$T_TMP/log-$(basename "$(dirname "$r")")-$(basename "$r")" 2>/dev/null
    done
    rm -rf "$A" "$TOP_B"
}
t_cleanup_add cleanup

# in_stack RUN CMD...: CMD with the stack's run/env sourced.
in_stack() {
    local run=$1
    shift
    (
        # shellcheck source=/dev/null
        . "$run/env"
        "$@"
    )
}

sql_in() { # RUN SQL
    in_stack "$1" bash -c 'psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -c "$1"' _ "$2"
}

sim_in() { # RUN METHOD PATH [JSON]: store-sim's control API
    local port
    port=$(sed -n 's/^STORE_PORT=//p' "$1/ports")
    curl -sf -X "$2" -H 'Content-Type: application/json' ${4:+--data "$4"} \
        "http://127.0.0.1:$port$3"
}

# setup_catalog RUN STORE: locations, price list, a 5-product catalog with
# stock, the store on store-sim, `sync initial`.
setup_catalog() {
    local run=$1 store=$2
    in_stack "$run" bash -ec '
        store=$1 cat=$2
        omnisync pricelist add ONLINE --name Online >/dev/null
        omnisync location add WH1 --kind warehouse >/dev/null
        omnisync location add WEB1 --kind online --price-list ONLINE >/dev/null
        bash "$OMNISYNC_ROOT/tests/integration/import/gen-catalog.bash" "$cat" 5 2
        omnisync import catalog "$cat/catalog.csv" --price-list ONLINE >/dev/null
        for s in ART-00002-1 ART-00002-2 ART-00003-1 ART-00004-2; do
            omnisync stock receipt WH1 "$s" 40 --ref "rcpt-$s" >/dev/null
        done
        omnisync store add "$store" --platform insales --url "$OMNISYNC_STORE_URL" \
            --login "$OMNISYNC_STORE_LOGIN" --password-env OMNISYNC_STORE_PASSWORD \
            --online-location WEB1 --source-locations WH1 --price-list ONLINE \
            --delivery-sku ART-00001-1 >/dev/null
        omnisync sync initial "$store" --timeout 120
    ' _ "$store" "$T_TMP/cat-$store"
}

# place RUN SKU: a shopper's order in store-sim; prints its id.
place() {
    sim_in "$1" POST /_sim/orders \
        "{\"lines\":[{\"sku\":\"$2\",\"quantity\":1}],\"delivery_title\":\"Courier\",\"delivery_price\":\"300.0\",\"client\":{\"name\":\"Buyer\"}}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

orders_with() { # RUN REMOTE_ID: ledger orders of that store order
    sql_in "$1" "SELECT count(*) FROM customer_order WHERE remote_id = '$2'"
}
landed() { [ "$(orders_with "$1" "$2")" = 1 ]; }

reconciled() { in_stack "$1" omnisync reconcile "$2" >"$T_TMP/reconcile.out" 2>&1; }

catpub_offsets() { # RUN: committed offsets of catalog-publisher's group
    in_stack "$1" omnisync lag --group omnisync-catalog-publisher --json 2>/dev/null |
        python3 -c '
import json, sys
g = json.load(sys.stdin)["groups"][0]
print(sum(p["current_offset"] or 0 for p in g["partitions"]))'
}

# ------------------------------------------------------------- two stacks
stack "$A" up >"$T_TMP/up-A.out" 2>&1 &
up_a=$!
stack "$B" up >"$T_TMP/up-B.out" 2>&1 &
up_b=$!
wait "$up_a"
t_ok "stack A: up" test $? -eq 0 || sed 's/^/#   /' "$T_TMP/up-A.out"
wait "$up_b"
t_ok "stack B (a second clone): up at the same time" test $? -eq 0 ||
    sed 's/^/#   /' "$T_TMP/up-B.out"
t_ok "stack A: every component is ready (status)" stack "$A" status
t_ok "stack B: every component is ready (status)" stack "$B" status
ports_a=$(cut -d= -f2 "$A/ports" | sort)
ports_b=$(cut -d= -f2 "$B/ports" | sort)
t_is "every component has its port: 13 in each stack (ledger-api: http and api)" \
    "$(printf '%s\n%s\n' "$ports_a" "$ports_b" | sort -u | wc -l)" 26
t_like "the intake port is chosen and in run/env" "$(cat "$A/env")" \
    "OMNISYNC_STACK_INTAKE='http://127.0.0.1:$(sed -n 's/^INTAKE_PORT=//p' "$A/ports")'"
REAL=0
if [ "$(cat "$A/kafka.mode")" = real ]; then
    REAL=1
    t_pass "the broker is Apache Kafka from the cached jars"
elif harness_java_ok && harness_kafka_jars_ok; then
    t_fail "the broker is Apache Kafka from the cached jars (got the mock)"
else
    t_skip "the broker is Apache Kafka" "no Java >= 17 or no cached jars: the mock"
fi

out=$(stack "$A" up 2>&1)
t_is "a second up exits 0" "$?" 0
t_like "... and lists what runs" "$out" 'already up'
t_like "... with pid, address and state" "$out" \
    'order-ingestor +[0-9]+ .*intake http://127\.0\.0\.1:[0-9]+ +ready'

t_ok "stack A: catalog synced" setup_catalog "$A" shopa
t_ok "stack B: catalog synced" setup_catalog "$B" shopb
t_ok "stack A: store and ledger agree" wait_for 60 reconciled "$A" shopa
o1=$(place "$A" ART-00002-1)
t_ok "stack A: an order placed in store-sim lands in the ledger" \
    wait_for 60 landed "$A" "$o1"
t_ok "stack A: and the stock follows" wait_for 60 reconciled "$A" shopa
if [ $REAL = 1 ]; then
    off_before=$(catpub_offsets "$A")
    t_ok "catalog-publisher committed offsets" test "${off_before:-0}" -gt 0
fi
cp "$A/ports" "$T_TMP/ports-before"
kafka_before=$(in_stack "$A" printenv OMNISYNC_KAFKA)

# ------------------------------------------------------------ down and up
t_ok "stack A: down" stack "$A" down
t_ok "stack A: nothing of it runs" bash -c '! ls "$1"/pids/*.pid 2>/dev/null | grep -q .' _ "$A"
t_ok "stack B is untouched" stack "$B" status
t_ok "stack A: up again" stack "$A" up
t_ok "the ports are the same" diff "$T_TMP/ports-before" "$A/ports"
if [ $REAL = 1 ]; then
    t_is "the broker's address is the same" "$(in_stack "$A" printenv OMNISYNC_KAFKA)" "$kafka_before"
    t_is "the broker kept catalog-publisher's committed offsets" \
        "$(catpub_offsets "$A")" "$off_before"
else
    t_skip "the broker keeps its address and offsets" "mock cluster"
fi
t_is "store-sim kept its orders" "$(sim_in "$A" GET /_sim/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["orders"])')" 1
t_ok "omnisync reconcile exits 0 after down and up" reconciled "$A" shopa
t_is "the first order is still there once" "$(orders_with "$A" "$o1")" 1
o2=$(place "$A" ART-00003-1)
t_ok "a new order lands after the restart" wait_for 60 landed "$A" "$o2"
o3=$(place "$B" ART-00004-2)
t_ok "stack B: an order lands too" wait_for 60 landed "$B" "$o3"
sleep 3 # duplicate deliveries or polls still in flight must change nothing
t_is "the new order landed once" "$(orders_with "$A" "$o2")" 1
t_is "stack B's order landed once" "$(orders_with "$B" "$o3")" 1
t_is "each ledger holds only its own stack's orders" \
    "$(sql_in "$A" "SELECT count(*) FROM customer_order")/$(sql_in "$B" "SELECT count(*) FROM customer_order")" 2/1

# ------------------------------------------------- a service that is not up
kill -KILL "$(cat "$B/pids/catalog-publisher.pid")"
out=$(OMNISYNC_CATPUB_LOOKUP_SLACK_S=bogus stack "$B" up 2>&1)
t_is "up fails when a service does not come up" "$?" 1
t_like "... naming it" "$out" 'catalog-publisher is not ready: it exited'
t_like "... with the tail of its log" "$out" 'catpub\.lookup\.slack\.s \(OMNISYNC_CATPUB_LOOKUP_SLACK_S\)'
t_like "... and says what failed" "$out" 'up FAILED: not ready: catalog-publisher'
intake_b=$(sed -n 's/^INTAKE_PORT=//p' "$B/ports")
# order-ingestor goes (as after a crash) and another program takes its port.
pid=$(cat "$B/pids/order-ingestor.pid")
kill -TERM "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_for 30 gone || t_bail "order-ingestor did not stop"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(60)' "$intake_b" &
squatter=$!
t_cleanup_add "kill $squatter 2>/dev/null"
t_ok "another program listens on stack B's intake port" \
    wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$intake_b" 2>/dev/null
out=$(stack "$B" restart order-ingestor 2>&1)
t_is "restart fails when the intake port is taken" "$?" 1
t_like "... naming the service and the port" "$out" \
    "order-ingestor cannot start: port $intake_b \(INTAKE_PORT"
kill "$squatter" 2>/dev/null
wait "$squatter" 2>/dev/null
t_ok "restart order-ingestor once the port is free" stack "$B" restart order-ingestor
t_ok "up starts the one that is missing" stack "$B" up
t_ok "stack B: every component is ready again" stack "$B" status
o4=$(place "$B" ART-00004-2)
t_ok "stack B: an order lands after the restarts" wait_for 60 landed "$B" "$o4"
t_done
