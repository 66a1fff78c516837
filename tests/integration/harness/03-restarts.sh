#!/usr/bin/env bash
# Tests can stop and restart the harness's servers (what the crash and
# restart scenarios of DESIGN.md need): Postgres keeps its data, the real
# Kafka broker keeps its messages across kill -9, Redis comes back empty.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

mydb=$OMNISYNC_PG
if [ -n "${OMNISYNC_TEST_PG:-}" ]; then
    t_skip "postgres restart" "external Postgres"
else
    psql "$OMNISYNC_PG" -Xq -c 'CREATE TABLE t (v int)' -c 'INSERT INTO t VALUES (7)'
    harness_pg_stop immediate
    t_nok "harness_pg_stop immediate stops Postgres" psql "$OMNISYNC_PG" -XtAc 'SELECT 1'
    harness_pg_start
    t_is "harness_pg_start keeps OMNISYNC_PG on this script's database" \
        "$OMNISYNC_PG" "$mydb"
    t_is "after a crash and restart the data is there" \
        "$(psql "$OMNISYNC_PG" -XtAc 'SELECT v FROM t' 2>&1)" 7
fi

if [ "${HARNESS_KAFKA:-}" = real ]; then
    key=restart-$RANDOM-$$
    printf 'kept\n' | kcat -b "$OMNISYNC_KAFKA" -P -t omnisync.orders.v1 -k "$key" \
        -X acks=all 2>/dev/null
    bs=$OMNISYNC_KAFKA
    harness_kafka_stop KILL
    t_nok "harness_kafka_stop KILL stops the broker" \
        kcat -b "$OMNISYNC_KAFKA" -L -m 2
    t0=$SECONDS
    t_ok "harness_kafka_start restarts it" harness_kafka_start
    t_diag "broker restarted in $((SECONDS - t0)) s"
    t_is "on the same bootstrap servers" "$OMNISYNC_KAFKA" "$bs"
    got=$(timeout 60 kcat -b "$OMNISYNC_KAFKA" -C -t omnisync.orders.v1 \
        -o beginning -e -q -f '%k=%s\n' 2>/dev/null | grep "^$key=")
    t_is "a message acknowledged before kill -9 is still there" "$got" "$key=kept"
else
    t_skip "kafka stop/start" "needs the real broker (HARNESS_KAFKA=${HARNESS_KAFKA:-})"
fi
t_done
