#!/usr/bin/env bash
# outbox-relay: Postgres and Kafka restarts under a running relay.
#  - Postgres stops (its session and lock vanish): the relay reconnects
#    with backoff, re-acquires the advisory lock, LISTENs again and
#    publishes rows written after the restart.
#  - The Kafka broker stops: rows written meanwhile stay unsent (no
#    delivery report, nothing marked); once the broker is back,
#    librdkafka's retries deliver them and the outbox drains.  Should the
#    idempotent producer hit a fatal error instead, the relay exits 1 and a
#    restarted relay re-sends with the same event ids.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
. "$OMNISYNC_ROOT/tests/integration/relay/relay-lib.bash"

TOPIC=omnisync.stock.v1
STORE="rst$$x$RANDOM"

insert_rows() {
    relay_sql "INSERT INTO outbox (topic, type, key, store, data)
        SELECT '$TOPIC', 'stock.available', '$STORE:' || g, '$STORE',
               jsonb_build_object('variant_id', g, 'sku', 'SKU-' || g,
                   'available', 3, 'on_hand', 5, 'reserved', 1,
                   'safety_stock', 1, 'price', NULL, 'old_price', NULL)
        FROM generate_series($1, $2) g"
}
active_count() { grep -c 'active: holding advisory lock' "$T_TMP/$1.log"; }
active_at_least() { [ "$(active_count "$1")" -ge "$2" ]; }
alive() { kill -0 "$(t_pid "$1")" 2>/dev/null; }

t_ok "ledger schema applied" relay_migrate || t_bail "no schema"
relay_start r -o kafka.message.timeout.ms=120000
t_ok "relay becomes active" wait_for 30 relay_log_has r 'active: holding advisory lock'
insert_rows 1 200
t_ok "first rows published" wait_for 30 relay_drained

# ---- Postgres restart
if [ -n "${HARNESS_PG_DATA:-}" ]; then
    t_ok "postgres stops" harness_pg_stop fast
    sleep 1.5
    t_ok "postgres starts again" harness_pg_start
    t_ok "the relay reconnects and takes the lock again" wait_for 30 active_at_least r 2
    t_like "it logged the lost session" "$(relay_log r)" 'postgres: .*reconnecting'
    insert_rows 201 400
    t_ok "rows written after the restart are published" wait_for 30 relay_drained
else
    t_skip "postgres restart" "external Postgres"
    insert_rows 201 400
fi

# ---- Kafka restart
if [ "${HARNESS_KAFKA:-}" = real ]; then
    t_ok "kafka stops" harness_kafka_stop TERM
    insert_rows 401 700
    sleep 3
    t_is "nothing is marked sent while the broker is down" "$(relay_unsent)" 300
    t_ok "kafka starts again" harness_kafka_start
    if wait_for 120 relay_drained; then
        t_pass "the rows are delivered once the broker is back"
    elif ! alive r; then
        t_diag "relay exited: $(grep -E 'fatal|stopped' "$T_TMP/r.log" | tail -2)"
        relay_start r2
        t_ok "a restarted relay re-sends them" wait_for 60 relay_drained
    else
        t_fail "the rows are delivered once the broker is back" "$(tail -5 "$T_TMP/r.log")"
    fi
else
    t_skip "kafka restart" "needs the real broker (HARNESS_KAFKA=${HARNESS_KAFKA:-})"
    insert_rows 401 700
    t_ok "rows published" wait_for 30 relay_drained
fi

relay_sql "SELECT event_id, key FROM outbox" >"$T_TMP/outbox.tsv"
relay_consume "$TOPIC" "$T_TMP/kafka.tsv"
res=$(relay_check_ids "$T_TMP/outbox.tsv" "$T_TMP/kafka.tsv" "$STORE:")
rc=$?
t_diag "$res"
t_is "all 700 events are on Kafka, duplicates only with the same id" "$rc" 0
if alive r; then
    rc=0
    t_kill r TERM || rc=$?
    t_is "relay exits 0 on SIGTERM" "$rc" 0
fi
t_done
