#!/usr/bin/env bash
# harness: fresh-kafka
# /readyz follows what each service depends on (docs/metrics.md): 200 with
# the stack up; 503 naming postgres while Postgres is stopped, and 200
# again after it is back; 503 naming redis while Redis is stopped (the
# services that spend a store's budget); 503 naming kafka while the broker
# is stopped (real broker only).  /healthz stays 200 through all of it:
# the main loops keep turning.  `--probe` answers for a container
# healthcheck: 0 on 200, 1 otherwise; --help lists it.  The intake's
# public port serves no /metrics.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
. "$OMNISYNC_ROOT/tests/integration/ops/ops-lib.bash"
export PATH=$OMNISYNC_ROOT/bin:$PATH

omnisync db migrate >/dev/null || t_bail "db migrate"
SVCS=(relay catpub stockpub imgup ingest)
declare -A PORT BIN=([relay]=outbox-relay [catpub]=catalog-publisher
    [stockpub]=stock-publisher [imgup]=image-uploader [ingest]=order-ingestor)
for s in "${SVCS[@]}"; do PORT[$s]=$(free_port); done
INTAKE=$(free_port)
# shellcheck disable=SC2086
for s in "${SVCS[@]}"; do
    extra=()
    [ "$s" = ingest ] && extra=(-o intake.listen="127.0.0.1:$INTAKE"
        -o intake.public_url="http://127.0.0.1:$INTAKE")
    t_bg "$s" "${BIN[$s]}" -o http.listen="127.0.0.1:${PORT[$s]}" \
        -o http.ready.timeout.ms=3000 "${extra[@]}" ${HARNESS_KAFKA_OPTS:-}
done

# failing SVC: the names of /readyz's failing checks, sorted, or "ready".
failing() {
    ops_get "${PORT[$1]}" /readyz | jq -r 'if .ready then "ready" else .failing | keys | join(",") end'
}
is_failing() { [ "$(failing "$1")" = "$2" ]; }
all_healthy() {
    local s
    for s in "${SVCS[@]}"; do
        [ "$(ops_code "${PORT[$s]}" /healthz)" = 200 ] || return 1
    done
}

for s in "${SVCS[@]}"; do
    t_ok "$s: /readyz 200 with the stack up" wait_for 60 is_failing "$s" ready
done
t_is "order-ingestor: its checks" \
    "$(ops_get "${PORT[ingest]}" /readyz | jq -c .)" '{"ready":true}'
t_ok "every /healthz 200" all_healthy

# ---- Postgres
harness_pg_stop fast || t_bail "pg stop"
for s in "${SVCS[@]}"; do
    t_ok "$s: /readyz names postgres while it is stopped" wait_for 15 is_failing "$s" postgres
done
body=$(ops_get "${PORT[relay]}" /readyz)
t_like "the answer says why" "$body" '"failing":\{"postgres":"[^"]+"\}'
t_is "and is a 503" "$(ops_code "${PORT[relay]}" /readyz)" 503
start=$SECONDS
ops_code "${PORT[catpub]}" /readyz >/dev/null
t_ok "within its bound (http.ready.timeout.ms 3 s)" [ $((SECONDS - start)) -le 4 ]
sleep 3
t_ok "every /healthz stays 200 while Postgres is down" all_healthy
harness_pg_start >/dev/null || t_bail "pg start"
for s in "${SVCS[@]}"; do
    t_ok "$s: /readyz 200 after Postgres is back" wait_for 30 is_failing "$s" ready
done

# ---- Redis (the budget: every service that calls a store)
harness_redis_stop || t_bail "redis stop"
for s in catpub stockpub imgup ingest; do
    t_ok "$s: /readyz names redis while it is stopped" wait_for 15 is_failing "$s" redis
done
t_is "outbox-relay does not use Redis: still ready" "$(failing relay)" ready
harness_redis_start >/dev/null || t_bail "redis start"
for s in catpub stockpub imgup ingest; do
    t_ok "$s: ready after Redis is back" wait_for 30 is_failing "$s" ready
done

# ---- Kafka
if harness_kafka_is_real; then
    harness_kafka_stop || t_bail "kafka stop"
    names_kafka() { ops_get "${PORT[$1]}" /readyz | jq -e '.failing.kafka' >/dev/null; }
    for s in "${SVCS[@]}"; do
        t_ok "$s: /readyz names kafka while the broker is stopped" wait_for 30 names_kafka "$s"
    done
    t_ok "every /healthz stays 200 while Kafka is down" all_healthy
    harness_kafka_start >/dev/null || t_bail "kafka start"
    for s in "${SVCS[@]}"; do
        t_ok "$s: ready after the broker is back" wait_for 90 is_failing "$s" ready
    done
else
    t_skip "/readyz names kafka while the broker is stopped" "the mock cluster cannot be stopped and restarted on its port"
fi

# ---- the intake's public port, --probe
t_is "the intake's port serves no /metrics" "$(ops_code "$INTAKE" /metrics)" 404
t_is "the ops port does" "$(ops_code "${PORT[ingest]}" /metrics)" 200
for s in "${SVCS[@]}"; do
    t_like "${BIN[$s]} --help lists --probe" "$("${BIN[$s]}" --help)" '--probe \[URL\]'
    t_ok "${BIN[$s]} --probe (http.listen from the environment): 0" \
        env OMNISYNC_HTTP_LISTEN="0.0.0.0:${PORT[$s]}" "${BIN[$s]}" --probe
done
t_ok "--probe URL: 0 on 200" outbox-relay --probe "http://127.0.0.1:${PORT[relay]}/healthz"
t_nok "--probe URL: 1 on a 404" outbox-relay --probe "http://127.0.0.1:${PORT[relay]}/nothing"
dead=$(free_port)
rc=0
OMNISYNC_HTTP_LISTEN="127.0.0.1:$dead" outbox-relay --probe 2>"$T_TMP/probe.err" || rc=$?
t_is "--probe: 1 when nothing listens" "$rc" 1
t_like "and says why" "$(cat "$T_TMP/probe.err")" "outbox-relay: probe: .*127.0.0.1:$dead"
rc=0
OMNISYNC_HTTP_LISTEN="127.0.0.1:0" outbox-relay --probe 2>"$T_TMP/probe.err" || rc=$?
t_is "--probe: 1 for port 0 (not known outside)" "$rc" 1
t_like "and says to give the URL" "$(cat "$T_TMP/probe.err")" 'port 0'
t_ok "--probe reads -c FILE" sh -c "printf 'http.listen = 127.0.0.1:%s\n' ${PORT[relay]} >'$T_TMP/relay.conf' &&
    env -u OMNISYNC_HTTP_LISTEN outbox-relay -c '$T_TMP/relay.conf' --probe"

for s in "${SVCS[@]}"; do
    t_kill "$s" TERM
    t_is "$s exits 0 on SIGTERM" "$?" 0
done
t_done
