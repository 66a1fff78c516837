#!/usr/bin/env bash
# deploy/stack.sh up|down|status — the local development stack in ./run/
# (`make up` / `make down`).
#
# up:   Postgres (data in run/pg, owned by the postgres user when root),
#       Redis, devkafka (librdkafka's mock cluster with the project topics),
#       store-sim when bin/store-sim exists, `omnisync db migrate` when
#       bin/omnisync exists, then every service binary that exists among
#       outbox-relay catalog-publisher stock-publisher image-uploader
#       order-ingestor.  Logs in run/log/<name>.log, pids in
#       run/pids/<name>.pid; writes run/env to be sourced:
#           . run/env
# down: stops exactly what up started (by pidfile, checking each pid's
#       command line), in reverse order; data stays in run/.
# Ports are picked once and kept in run/ports; the secret key is generated
# once and kept in run/secret.key.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=$ROOT/run
SERVICES=(outbox-relay catalog-publisher stock-publisher image-uploader order-ingestor)

export OMNISYNC_ROOT=$ROOT
# shellcheck source=../tests/harness/lib.sh
. "$ROOT/tests/harness/lib.sh"

HARNESS_DIR=$RUN
HARNESS_PIDDIR=$RUN/pids
HARNESS_LOGDIR=$RUN/log
export HARNESS_DIR HARNESS_PIDDIR HARNESS_LOGDIR

say() { echo "stack: $*"; }

# pattern a live process of NAME must match (pid reuse protection)
pattern_of() {
    case "$1" in
    postgres) echo "$RUN/pg/data" ;;
    redis) echo redis-server ;;
    devkafka) echo "bin/devkafka" ;;
    *) echo "bin/$1" ;;
    esac
}

# alive NAME: its pidfile names a live process with the right command line.
alive() {
    local pf=$HARNESS_PIDDIR/$1.pid pid
    [ -s "$pf" ] || return 1
    pid=$(head -1 "$pf")
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(pattern_of "$1")"
}

load_ports() {
    if [ -f "$RUN/ports" ]; then
        # shellcheck source=/dev/null
        . "$RUN/ports"
    fi
    PG_PORT=${PG_PORT:-$(harness_free_port)}
    REDIS_PORT=${REDIS_PORT:-$(harness_free_port)}
    STORE_PORT=${STORE_PORT:-$(harness_free_port)}
    printf 'PG_PORT=%s\nREDIS_PORT=%s\nSTORE_PORT=%s\n' \
        "$PG_PORT" "$REDIS_PORT" "$STORE_PORT" >"$RUN/ports"
}

load_secret() {
    if [ ! -s "$RUN/secret.key" ]; then
        (
            umask 077
            harness_random_key >"$RUN/secret.key"
        )
    fi
    OMNISYNC_SECRET_KEY=$(head -1 "$RUN/secret.key")
    export OMNISYNC_SECRET_KEY
    if [ ! -s "$RUN/store.password" ]; then
        (
            umask 077
            od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$RUN/store.password"
        )
    fi
}

# q VALUE: VALUE single-quoted for sh.
q() {
    local v=${1//\'/\'\\\'\'}
    printf "'%s'" "$v"
}

write_env() {
    local f=$RUN/env.tmp
    {
        echo "# omnisync local stack ($(date -u +%FT%TZ)); source it: . run/env"
        echo "export OMNISYNC_PG=$(q "$OMNISYNC_PG")"
        echo "export OMNISYNC_KAFKA=$(q "$OMNISYNC_KAFKA")"
        echo "export OMNISYNC_REDIS=$(q "$OMNISYNC_REDIS")"
        echo "export OMNISYNC_SECRET_KEY=$(q "$OMNISYNC_SECRET_KEY")"
        echo "case \":\$PATH:\" in *$(q ":$ROOT/bin:")*) ;; *) export PATH=$(q "$ROOT/bin")\":\$PATH\" ;; esac"
        if alive store-sim; then
            echo "export OMNISYNC_STORE_URL=$(q "http://127.0.0.1:$STORE_PORT")"
            echo "export OMNISYNC_STORE_LOGIN=$(q demo)"
            echo "export OMNISYNC_STORE_PASSWORD=$(q "$(cat "$RUN/store.password")")"
        fi
    } >"$f"
    chmod 600 "$f"
    mv "$f" "$RUN/env"
}

# start_service NAME CMD...: detached, logged, checked one second later.
start_service() {
    local name=$1
    shift
    : >>"$HARNESS_LOGDIR/$name.log"
    harness_spawn "$name" "$@"
    sleep 1
    if alive "$name"; then
        say "$name started (pid $(cat "$HARNESS_PIDDIR/$name.pid"), log run/log/$name.log)"
    else
        say "WARNING: $name exited at start; tail of run/log/$name.log:"
        tail -5 "$HARNESS_LOGDIR/$name.log" | sed 's/^/    /'
        rm -f "$HARNESS_PIDDIR/$name.pid"
    fi
}

up() {
    local running=() n
    for n in postgres redis devkafka store-sim "${SERVICES[@]}"; do
        alive "$n" && running+=("$n")
    done
    if [ ${#running[@]} -gt 0 ]; then
        say "already up (${running[*]}); 'make down' first to restart. Env: . run/env"
        return 0
    fi
    mkdir -p "$RUN" "$HARNESS_PIDDIR" "$HARNESS_LOGDIR"
    chmod 755 "$RUN"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$RUN"; then
        say "the postgres user cannot reach $RUN (a parent directory is not searchable)"
        return 1
    fi
    load_ports
    load_secret
    trap 'say "start failed; stopping what started"; down' EXIT

    harness_pg_init "$RUN/pg"
    HARNESS_PG_PORT=$PG_PORT
    harness_pg_start
    OMNISYNC_PG="$HARNESS_PG_BASE dbname=omnisync"
    export OMNISYNC_PG
    say "postgres at 127.0.0.1:$PG_PORT (data run/pg)"
    HARNESS_REDIS_DIR=$RUN/redis
    HARNESS_REDIS_PORT=$REDIS_PORT
    harness_redis_start
    say "redis at $OMNISYNC_REDIS"
    harness_devkafka_start "$RUN/kafka"
    HARNESS_KAFKA=mock
    say "kafka: mock cluster (devkafka) at $OMNISYNC_KAFKA"

    if [ -x "$ROOT/bin/store-sim" ]; then
        # OMNISYNC_STORE_SIM_ARGS: more store-sim flags (make demo: --window).
        # shellcheck disable=SC2086
        start_service store-sim "$ROOT/bin/store-sim" --port "$STORE_PORT" \
            --login demo --password "$(cat "$RUN/store.password")" \
            ${OMNISYNC_STORE_SIM_ARGS:-}
        alive store-sim && harness_wait 10 curl -s -o /dev/null "http://127.0.0.1:$STORE_PORT/" || true
    else
        say "bin/store-sim not built; skipped"
    fi
    write_env

    if [ -x "$ROOT/bin/omnisync" ]; then
        if "$ROOT/bin/omnisync" db migrate >>"$HARNESS_LOGDIR/migrate.log" 2>&1; then
            say "ledger migrated (omnisync db migrate)"
        else
            say "WARNING: omnisync db migrate failed; see run/log/migrate.log"
            tail -5 "$HARNESS_LOGDIR/migrate.log" | sed 's/^/    /'
        fi
    else
        say "bin/omnisync not built; ledger not migrated"
    fi

    for n in "${SERVICES[@]}"; do
        if [ -x "$ROOT/bin/$n" ]; then
            if [ "$n" = outbox-relay ]; then
                start_service "$n" "$ROOT/bin/$n"
            else
                # Consumers on the mock cluster need short sessions (KAFKA.md).
                # shellcheck disable=SC2086
                start_service "$n" "$ROOT/bin/$n" $HARNESS_KAFKA_MOCK_OPTS
            fi
        fi
    done
    trap - EXIT
    say "up. Use: . run/env   (stop with: make down)"
}

HARNESS_KAFKA_MOCK_OPTS="-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500 -o kafka.fetch.wait.max.ms=100"

down() {
    local n stopped=0
    set +e
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        n=${SERVICES[$i]}
        if alive "$n"; then
            harness_stop_pidfile "$HARNESS_PIDDIR/$n.pid" TERM 20 "$(pattern_of "$n")"
            say "$n stopped"
            stopped=1
        fi
        rm -f "$HARNESS_PIDDIR/$n.pid"
    done
    for n in store-sim devkafka redis; do
        if alive "$n"; then
            harness_stop_pidfile "$HARNESS_PIDDIR/$n.pid" TERM 10 "$(pattern_of "$n")"
            say "$n stopped"
            stopped=1
        fi
        rm -f "$HARNESS_PIDDIR/$n.pid"
    done
    if alive postgres; then
        HARNESS_PG_DIR=$RUN/pg
        HARNESS_PG_DATA=$RUN/pg/data
        HARNESS_PG_BIN=$(harness_pg_bindir)
        harness_pg_stop fast && say "postgres stopped (data kept in run/pg)"
        stopped=1
    fi
    rm -f "$HARNESS_PIDDIR/postgres.pid"
    [ $stopped -eq 1 ] || say "nothing running"
    return 0
}

status() {
    local n
    for n in postgres redis devkafka store-sim "${SERVICES[@]}"; do
        if alive "$n"; then
            echo "$n: running (pid $(head -1 "$HARNESS_PIDDIR/$n.pid"))"
        else
            echo "$n: stopped"
        fi
    done
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*)
    echo "usage: deploy/stack.sh up|down|status" >&2
    exit 2
    ;;
esac
