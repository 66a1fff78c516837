#!/usr/bin/env bash
# The harness's servers answer and are set up as the tests expect:
# Postgres (fresh database per script), Redis (stop/start), Kafka (the five
# project topics with their cleanup policies), and the exported env.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

# ---- environment
t_like "OMNISYNC_SECRET_KEY is 64 hex chars" "${OMNISYNC_SECRET_KEY:-}" '^[0-9a-f]{64}$'
t_is "bin/ is first on PATH" "${PATH%%:*}" "$OMNISYNC_ROOT/bin"
t_is "cwd is the repository root" "$(pwd)" "$OMNISYNC_ROOT"
t_like "HARNESS_KAFKA says which broker" "${HARNESS_KAFKA:-}" '^(real|mock|external)$'
if [ "${CI:-}" = true ]; then
    t_is "CI runs against the real broker" "$HARNESS_KAFKA" real
fi

# ---- postgres
t_is "postgres answers on OMNISYNC_PG" \
    "$(psql "$OMNISYNC_PG" -XtAc 'SELECT 1' 2>&1)" 1
t_like "each script gets its own database" \
    "$(psql "$OMNISYNC_PG" -XtAc 'SELECT current_database()')" '^t_harness_02_servers$'
t_ok "the database is empty" test "$(psql "$OMNISYNC_PG" -XtAc \
    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0
db=$(harness_new_db t_harness_extra)
t_is "harness_new_db gives a usable database" \
    "$(psql "$db" -XtAc 'SELECT current_database()' 2>&1)" t_harness_extra
t_is "it connects as postgres" "$(psql "$db" -XtAc 'SELECT current_user')" postgres
t_ok "max_connections is at least 200" test \
    "$(psql "$OMNISYNC_PG" -XtAc 'SHOW max_connections')" -ge 200
harness_psql postgres -qc 'DROP DATABASE t_harness_extra' >/dev/null

# ---- redis
rhost=${OMNISYNC_REDIS%:*}
rport=${OMNISYNC_REDIS##*:}
t_is "redis answers on OMNISYNC_REDIS" "$(redis-cli -h "$rhost" -p "$rport" ping)" PONG
redis-cli -h "$rhost" -p "$rport" set harness:test 42 >/dev/null
t_is "redis stores values" "$(redis-cli -h "$rhost" -p "$rport" get harness:test)" 42
if [ -n "${OMNISYNC_TEST_REDIS:-}" ]; then
    t_skip "redis stop/start" "external Redis"
else
    harness_redis_stop KILL
    t_nok "harness_redis_stop KILL stops it" redis-cli -h "$rhost" -p "$rport" ping
    harness_redis_start
    t_is "harness_redis_start brings it back on the same port" \
        "$(redis-cli -h "$rhost" -p "$rport" ping)" PONG
    t_is "a restarted Redis starts empty (no persistence)" \
        "$(redis-cli -h "$rhost" -p "$rport" exists harness:test)" 0
fi

# ---- kafka
meta=$(kcat -b "$OMNISYNC_KAFKA" -L -m 10 2>&1)
t_ok "kafka answers on OMNISYNC_KAFKA" test -n "$meta"
parts=${OMNISYNC_TEST_PARTITIONS:-6}
for t in omnisync.catalog.v1 omnisync.stock.v1 omnisync.images.v1 \
    omnisync.orders.v1 omnisync.dlq.v1 omnisync.movements.in.v1; do
    t_like "topic $t exists with $parts partitions" "$meta" \
        "topic \"$t\" with $parts partitions"
done
t_is "exactly the 6 project topics" \
    "$(printf '%s\n' "$meta" | grep -c 'topic "omnisync\.')" 6

key=harness-$RANDOM-$$
printf 'hello\n' | kcat -b "$OMNISYNC_KAFKA" -P -t omnisync.dlq.v1 -k "$key" 2>/dev/null
got=$(timeout 30 kcat -b "$OMNISYNC_KAFKA" -C -t omnisync.dlq.v1 -o beginning -e -q \
    -f '%k=%s\n' 2>/dev/null | grep "^$key=")
t_is "a message produced is consumed back" "$got" "$key=hello"

if harness_kafka_is_real; then
    cfg=$(bin/devkafka --describe-topics --bootstrap "$OMNISYNC_KAFKA" 2>&1)
    for t in omnisync.catalog.v1 omnisync.stock.v1; do
        t_like "$t is compacted" "$cfg" "$t cleanup.policy=compact "
    done
    for t in omnisync.images.v1 omnisync.orders.v1 omnisync.dlq.v1 \
        omnisync.movements.in.v1; do
        t_like "$t is delete" "$cfg" "$t cleanup.policy=delete "
    done
    t_like "omnisync.orders.v1 keeps 30 days" "$cfg" \
        "omnisync.orders.v1 [^ ]* retention.ms=2592000000 "
    t_ok "creating the topics again is a no-op" \
        bin/devkafka --create-topics --bootstrap "$OMNISYNC_KAFKA"
else
    t_skip "topic configs" "the mock cluster has no admin API"
fi
t_done
