#!/usr/bin/env bash
# deploy/stack.sh up|down|status|restart NAME... — the local development
# stack (`make up`, `make down`, `make status`, `make restart SVC=NAME`).
# docs/harness.md "Local stack" is the manual.
#
# Everything lives in the run directory, $OMNISYNC_RUN_DIR (default ./run):
#   pg/            Postgres (data; owned by the postgres user when root)
#   kafka/         Apache Kafka 3.9.1 (KRaft, from the cached jars) with its
#                  log in kafka/data: topics and committed offsets stay;
#                  without Java >= 17 and the jars, librdkafka's mock
#                  cluster (devkafka/, loses everything at down; a warning)
#   store-sim/     the emulated store's shop (store-sim --data-dir)
#   log/NAME.log   pids/NAME.pid   ports   secret.key   store.password   env
# Components, in start order: postgres redis kafka store-sim, then
# `omnisync db migrate`, then every built service among outbox-relay
# catalog-publisher stock-publisher image-uploader order-ingestor
# ledger-api.
#
# up:      start whatever is not running and wait (OMNISYNC_STACK_READY_TIMEOUT,
#          60 s) until each is ready; exit 1 naming what is not, with the
#          tail of its log.  When everything already runs: list it, exit 0.
# down:    stop exactly what up started (pidfiles, command lines checked),
#          in reverse order; the data stays.
# status:  list name, pid, address, ready or not; exit 0 when all are ready.
# restart: stop and start the named components, wait until they are ready.
#
# Ports are chosen free once, kept in RUN/ports and reserved machine-wide
# (a registry in $XDG_RUNTIME_DIR or /tmp), so they are the same after
# down/up and two stacks (two clones, or two OMNISYNC_RUN_DIRs) never
# share one.  A service's /healthz, /readyz and /metrics listen on its
# http port (OMNISYNC_HTTP_LISTEN); readiness is /readyz = 200 when the
# binary has it (`--probe` in its --help), else "alive for 2 s" (and, for
# order-ingestor, its webhook intake answering).  OMNISYNC_* variables set
# when calling reach the services (e.g. OMNISYNC_LOG_LEVEL=debug).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=${OMNISYNC_RUN_DIR:-$ROOT/run}
case "$RUN" in /*) ;; *) RUN=$PWD/$RUN ;; esac
RUN=${RUN%/}
SERVICES=(outbox-relay catalog-publisher stock-publisher image-uploader order-ingestor ledger-api)
COMPONENTS=(postgres redis kafka store-sim "${SERVICES[@]}")
READY_TIMEOUT=${OMNISYNC_STACK_READY_TIMEOUT:-60}
REGISTRY=${OMNISYNC_STACK_REGISTRY:-${XDG_RUNTIME_DIR:-/tmp}/omnisync-stack-ports.$(id -u)}
KAFKA_CONSUMER_OPTS=(-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500)

# One stack.sh at a time per run directory (status only reads).  flock -o:
# the services started below do not inherit the lock.
CMD=${1:-}
if [ "$CMD" != status ] && [ "${STACK_LOCKED_RUN:-}" != "$RUN" ] &&
    { [ "$CMD" = up ] || [ -d "$RUN" ]; }; then
    mkdir -p "$RUN"
    STACK_LOCKED_RUN=$RUN exec flock -o -w 900 "$RUN/.lock" \
        "$BASH" "${BASH_SOURCE[0]}" "$@"
fi
unset STACK_LOCKED_RUN

# Nothing of a calling test harness (tests/run.sh exports its state).
for v in $(compgen -v HARNESS_); do
    case "$v" in HARNESS_KAFKA_JARS | HARNESS_KAFKA_TIMEOUT) ;; *) unset "$v" ;; esac
done
export OMNISYNC_ROOT=$ROOT
# shellcheck source=../tests/harness/lib.sh
. "$ROOT/tests/harness/lib.sh"
HARNESS_DIR=$RUN
HARNESS_PIDDIR=$RUN/pids
HARNESS_LOGDIR=$RUN/log
HARNESS_KAFKA_DIR=$RUN/kafka
export HARNESS_DIR HARNESS_PIDDIR HARNESS_LOGDIR HARNESS_KAFKA_DIR
# A development broker: quick to start (C1 only, serial GC) rather than fast.
HARNESS_KAFKA_JVM="-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"
OMNISYNC_TEST_PARTITIONS=${OMNISYNC_STACK_PARTITIONS:-6}

say() { echo "stack: $*"; }
warn() { echo "stack: WARNING: $*" >&2; }

# rel PATH: PATH relative to the repository when inside it.
rel() {
    case "$1" in "$ROOT"/*) echo "${1#"$ROOT"/}" ;; *) echo "$1" ;; esac
}

# ------------------------------------------------------------ components

is_service() {
    case " ${SERVICES[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

# built NAME: the component can run here.
built() {
    case "$1" in
    postgres | redis | kafka) return 0 ;;
    *) [ -x "$ROOT/bin/$1" ] ;;
    esac
}

kafka_mode() {
    cat "$RUN/kafka.mode" 2>/dev/null || echo real
}

# pidname NAME: its pidfile's name (the mock broker is "devkafka").
pidname() {
    if [ "$1" = kafka ] && [ "$(kafka_mode)" = mock ]; then
        echo devkafka
    else
        echo "$1"
    fi
}

# pattern NAME: what its live process's command line holds (a reused pid
# is not taken for it).
pattern() {
    case "$1" in
    postgres) echo "$RUN/pg/data" ;;
    redis) echo "redis-server 127.0.0.1:${REDIS_PORT:-}" ;;
    kafka) if [ "$(kafka_mode)" = mock ]; then echo "$RUN/devkafka/bootstrap"; else echo "$RUN/kafka/server.properties"; fi ;;
    store-sim) echo "--data-dir $RUN/store-sim" ;;
    *) echo "$ROOT/bin/$1" ;;
    esac
}

# pid_of NAME: the pid its pidfile (Postgres: postmaster.pid) names.
pid_of() {
    if [ "$1" = postgres ]; then
        head -1 "$RUN/pg/data/postmaster.pid" 2>/dev/null
    else
        head -1 "$HARNESS_PIDDIR/$(pidname "$1").pid" 2>/dev/null
    fi
}

# alive NAME: its pidfile names a live process with the right command line.
alive() {
    local pid
    pid=$(pid_of "$1") || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(pattern "$1")"
}

declare -A HTTP_SUPPORT=()
# has_http NAME: the service serves /healthz and /readyz on http.listen.
has_http() {
    if [ -z "${HTTP_SUPPORT[$1]:-}" ]; then
        HTTP_SUPPORT[$1]=0
        if "$ROOT/bin/$1" --help 2>&1 | grep -q -- --probe; then
            HTTP_SUPPORT[$1]=1
        fi
    fi
    [ "${HTTP_SUPPORT[$1]}" = 1 ]
}

upper() {
    local s=${1//-/_}
    echo "${s^^}"
}

http_var() { echo "HTTP_PORT_$(upper "$1")"; }

# port_vars NAME: the run/ports variables NAME listens on.
port_vars() {
    case "$1" in
    postgres) echo PG_PORT ;;
    redis) echo REDIS_PORT ;;
    kafka) echo KAFKA_PORT KAFKA_CPORT ;;
    store-sim) echo STORE_PORT ;;
    order-ingestor) echo "$(http_var "$1") INTAKE_PORT" ;;
    ledger-api) echo "$(http_var "$1") API_PORT" ;;
    *) http_var "$1" ;;
    esac
}

kafka_bootstrap() {
    if [ "$(kafka_mode)" = mock ]; then
        head -1 "$RUN/devkafka/bootstrap" 2>/dev/null
    else
        echo "127.0.0.1:${KAFKA_PORT:-}"
    fi
}

# address NAME: where it listens, for the listing.
address() {
    local n=$1 v s
    case "$n" in
    postgres) echo "127.0.0.1:${PG_PORT:-}" ;;
    redis) echo "127.0.0.1:${REDIS_PORT:-}" ;;
    kafka) kafka_bootstrap ;;
    store-sim) echo "http://127.0.0.1:${STORE_PORT:-}" ;;
    *)
        s=-
        if has_http "$n"; then
            v=$(http_var "$n")
            s="http://127.0.0.1:${!v:-}"
        fi
        if [ "$n" = order-ingestor ]; then
            if [ "$s" = - ]; then s=''; else s="$s, "; fi
            s="${s}intake http://127.0.0.1:${INTAKE_PORT:-}"
        fi
        if [ "$n" = ledger-api ]; then
            if [ "$s" = - ]; then s=''; else s="$s, "; fi
            s="${s}api http://127.0.0.1:${API_PORT:-}"
        fi
        echo "$s"
        ;;
    esac
}

# ready NAME: one readiness check, no waiting.
ready() {
    local n=$1 v since
    alive "$n" || return 1
    case "$n" in
    postgres) pg_isready -q -h 127.0.0.1 -p "$PG_PORT" ;;
    redis) [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] ;;
    kafka) kcat -b "$(kafka_bootstrap)" -L -m 3 >/dev/null 2>&1 ;;
    store-sim) curl -sf -o /dev/null --max-time 3 "http://127.0.0.1:$STORE_PORT/_sim/health" ;;
    *)
        if has_http "$n"; then
            v=$(http_var "$n")
            curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:${!v}/readyz"
            return
        fi
        # Without /readyz: alive for 2 s after its start ...
        since=$(cat "$HARNESS_PIDDIR/$n.started" 2>/dev/null || echo 0)
        [ $(($(date +%s) - since)) -ge 2 ] || return 1
        # ... and order-ingestor's intake answers HTTP.
        if [ "$n" = order-ingestor ]; then
            [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
                "http://127.0.0.1:$INTAKE_PORT/")" != 000 ]
        fi
        ;;
    esac
}

# not_ready NAME WHY: say so with the tail of its log.
not_ready() {
    local n=$1 why=$2 log v
    log=$HARNESS_LOGDIR/$(pidname "$n").log
    echo "stack: $n is not ready: $why" >&2
    if is_service "$n" && has_http "$n" && alive "$n"; then
        v=$(http_var "$n")
        echo "  /readyz: $(curl -s --max-time 5 "http://127.0.0.1:${!v}/readyz" | head -c 600)" >&2
    fi
    echo "  tail of $(rel "$log"):" >&2
    tail -20 "$log" 2>/dev/null | sed 's/^/    /' >&2
}

# wait_ready NAME: until ready (0), or dead or READY_TIMEOUT (1, said).
wait_ready() {
    local n=$1 end=$((SECONDS + READY_TIMEOUT))
    while ! ready "$n"; do
        if ! alive "$n"; then
            not_ready "$n" "it exited"
            return 1
        fi
        if [ "$SECONDS" -ge "$end" ]; then
            not_ready "$n" "still not ready after $READY_TIMEOUT s"
            return 1
        fi
        sleep 0.5
    done
}

# ----------------------------------------------------------------- ports

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

load_ports() {
    if [ -f "$RUN/ports" ]; then
        # shellcheck source=/dev/null
        . "$RUN/ports"
    fi
}

all_port_vars() {
    local n
    for n in "${COMPONENTS[@]}"; do
        port_vars "$n"
    done | tr ' ' '\n'
}

# registry_taken PORT: a stack keeps PORT: this one, or another whose run
# directory still exists and lists it in its ports file.
registry_taken() {
    local p d
    while read -r p d; do
        [ "$p" = "$1" ] || continue
        [ "$d" = "$RUN" ] && return 0
        [ -f "$d/ports" ] && grep -q "=$1\$" "$d/ports" && return 0
    done <"$REGISTRY"
    return 1
}

# pick_port: a free port no stack keeps.
pick_port() {
    local p i
    for ((i = 0; i < 50; i++)); do
        p=$(HARNESS_DIR='' harness_free_port) || return 1
        registry_taken "$p" || {
            echo "$p"
            return 0
        }
    done
    harness_err "no free port that no other stack keeps"
    return 1
}

# assign_ports: every port variable set (new ones picked free) and saved
# in RUN/ports and the machine-wide registry.
assign_ports() {
    local fd v p d tmp
    touch "$REGISTRY" "$REGISTRY.lock"
    exec {fd}>>"$REGISTRY.lock"
    flock "$fd"
    load_ports
    tmp=$RUN/ports.tmp
    : >"$tmp"
    for v in $(all_port_vars); do
        if [ -z "${!v:-}" ]; then
            p=$(pick_port) || {
                exec {fd}>&-
                return 1
            }
            printf -v "$v" '%s' "$p"
            echo "$p $RUN" >>"$REGISTRY"
        fi
        echo "$v=${!v}" >>"$tmp"
    done
    mv "$tmp" "$RUN/ports"
    # The registry: other run directories that still exist, and ours.
    {
        while read -r p d; do
            if [ "$d" != "$RUN" ] && [ -f "$d/ports" ]; then echo "$p $d"; fi
        done <"$REGISTRY"
        for v in $(all_port_vars); do
            echo "${!v} $RUN"
        done
    } >"$REGISTRY.new"
    mv "$REGISTRY.new" "$REGISTRY"
    exec {fd}>&-
}

# ports_free NAME: its ports are not taken by another program.
ports_free() {
    local v
    for v in $(port_vars "$1"); do
        [ "$1" = kafka ] && [ "$(kafka_mode)" = mock ] && continue
        if port_in_use "${!v}"; then
            echo "stack: $1 cannot start: port ${!v} ($v in $(rel "$RUN")/ports) is taken by another program; stop it, or delete that line to pick a new port" >&2
            return 1
        fi
    done
}

# ------------------------------------------------------------ environment

load_secret() {
    if [ ! -s "$RUN/secret.key" ]; then
        (
            umask 077
            harness_random_key >"$RUN/secret.key"
        )
    fi
    OMNISYNC_SECRET_KEY=$(head -1 "$RUN/secret.key")
    if [ ! -s "$RUN/store.password" ]; then
        (
            umask 077
            od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$RUN/store.password"
        )
    fi
    STORE_PASSWORD=$(cat "$RUN/store.password")
}

# The servers' addresses as the services read them.
set_env() {
    OMNISYNC_PG="host=127.0.0.1 port=$PG_PORT user=postgres dbname=omnisync"
    OMNISYNC_REDIS=127.0.0.1:$REDIS_PORT
    OMNISYNC_KAFKA=$(kafka_bootstrap)
    export OMNISYNC_PG OMNISYNC_REDIS OMNISYNC_KAFKA OMNISYNC_SECRET_KEY
}

# q VALUE: VALUE single-quoted for sh.
q() {
    local v=${1//\'/\'\\\'\'}
    printf "'%s'" "$v"
}

write_env() {
    local f=$RUN/env.tmp n v
    {
        echo "# omnisync local stack in $RUN ($(date -u +%FT%TZ)); source it: . $(rel "$RUN")/env"
        echo "export OMNISYNC_PG=$(q "$OMNISYNC_PG")"
        echo "export OMNISYNC_KAFKA=$(q "$OMNISYNC_KAFKA")"
        echo "export OMNISYNC_REDIS=$(q "$OMNISYNC_REDIS")"
        echo "export OMNISYNC_SECRET_KEY=$(q "$OMNISYNC_SECRET_KEY")"
        echo "case \":\$PATH:\" in *$(q ":$ROOT/bin:")*) ;; *) export PATH=$(q "$ROOT/bin")\":\$PATH\" ;; esac"
        if built store-sim; then
            echo "export OMNISYNC_STORE_URL=$(q "http://127.0.0.1:$STORE_PORT")"
            echo "export OMNISYNC_STORE_LOGIN=$(q demo)"
            echo "export OMNISYNC_STORE_PASSWORD=$(q "$STORE_PASSWORD")"
        fi
        echo "# This stack's ports (also in $(rel "$RUN")/ports): the webhook intake,"
        echo "# and each service's /healthz /readyz /metrics."
        echo "export OMNISYNC_STACK_RUN=$(q "$RUN")"
        echo "export OMNISYNC_STACK_INTAKE=$(q "http://127.0.0.1:$INTAKE_PORT")"
        echo "export OMNISYNC_STACK_API=$(q "http://127.0.0.1:$API_PORT")"
        for n in "${SERVICES[@]}"; do
            v=$(http_var "$n")
            echo "export OMNISYNC_STACK_$v=${!v}"
        done
    } >"$f"
    chmod 600 "$f"
    mv "$f" "$RUN/env"
}

# ----------------------------------------------------------- start / stop

start_postgres() {
    harness_pg_init "$RUN/pg" >/dev/null || return 1
    HARNESS_PG_PORT=$PG_PORT
    harness_pg_start || return 1
}

start_redis() {
    HARNESS_REDIS_DIR=$RUN/redis
    HARNESS_REDIS_PORT=$REDIS_PORT
    harness_redis_start
}

# choose_kafka: real (Java >= 17 and the jars, cached or fetched by mvn)
# unless OMNISYNC_STACK_KAFKA=mock; the mock only with a warning.
choose_kafka() {
    local mode=${OMNISYNC_STACK_KAFKA:-}
    case "$mode" in
    real | mock) ;;
    "")
        mode=mock
        if harness_java_ok && { harness_kafka_jars_ok || command -v mvn >/dev/null 2>&1; }; then
            mode=real
        fi
        ;;
    *)
        echo "stack: OMNISYNC_STACK_KAFKA must be real or mock, not '$mode'" >&2
        return 1
        ;;
    esac
    if [ "$mode" = mock ]; then
        warn "using librdkafka's mock cluster (bin/devkafka)${OMNISYNC_STACK_KAFKA:+ (OMNISYNC_STACK_KAFKA=mock)}: its topics and committed offsets are lost at 'make down' and its port changes at every up. The real broker needs Java >= 17 and the Kafka jars (deploy/install-deps.sh --fetch-kafka)."
    fi
    echo "$mode" >"$RUN/kafka.mode"
}

start_kafka() {
    if [ "$(kafka_mode)" = mock ]; then
        harness_devkafka_start "$RUN/devkafka" || return 1
    else
        harness_kafka_fetch >/dev/null || return 1
        harness_kafka_configure "$RUN/kafka" "$KAFKA_PORT" "$KAFKA_CPORT" || return 1
        rm -f "$HARNESS_PIDDIR/kafka.pid"
        harness_kafka_start || return 1
        harness_kafka_create_topics || return 1
    fi
    OMNISYNC_KAFKA=$(kafka_bootstrap)
}

start_store_sim() {
    # OMNISYNC_STORE_SIM_ARGS: more store-sim flags (make demo: --window).
    # shellcheck disable=SC2086
    harness_spawn store-sim "$ROOT/bin/store-sim" --port "$STORE_PORT" \
        --data-dir "$RUN/store-sim" --login demo --password "$STORE_PASSWORD" \
        ${OMNISYNC_STORE_SIM_ARGS:-}
}

start_service() {
    local n=$1 v args=()
    v=$(http_var "$n")
    case "$n" in
    outbox-relay) ;;
    order-ingestor)
        args=(-o "intake.listen=127.0.0.1:$INTAKE_PORT"
            -o "intake.public_url=http://127.0.0.1:$INTAKE_PORT"
            "${KAFKA_CONSUMER_OPTS[@]}")
        ;;
    ledger-api)
        args=(-o "api.listen=127.0.0.1:$API_PORT" "${KAFKA_CONSUMER_OPTS[@]}")
        ;;
    *) args=("${KAFKA_CONSUMER_OPTS[@]}") ;;
    esac
    [ "$(kafka_mode)" = mock ] && [ "$n" != outbox-relay ] &&
        args+=(-o kafka.fetch.wait.max.ms=100)
    date +%s >"$HARNESS_PIDDIR/$n.started"
    harness_spawn "$n" env "OMNISYNC_HTTP_LISTEN=127.0.0.1:${!v}" \
        "$ROOT/bin/$n" "${args[@]}"
}

# start NAME: start it (it is not running); a server is waited for until
# it is ready, a service not (the caller waits, so services start at once).
start() {
    local n=$1
    if [ "$n" = kafka ]; then
        choose_kafka || return 1
    fi
    ports_free "$n" || return 1
    echo "---- $(date -u +%FT%TZ) deploy/stack.sh starts $n" >>"$HARNESS_LOGDIR/$(pidname "$n").log"
    case "$n" in
    postgres) start_postgres || return 1 ;;
    redis) start_redis || return 1 ;;
    kafka) start_kafka || return 1 ;;
    store-sim) start_store_sim ;;
    *) start_service "$n" ;;
    esac
    echo "---- $(date -u +%FT%TZ) deploy/stack.sh started $n (pid $(pid_of "$n"))" >>"$HARNESS_LOGDIR/$(pidname "$n").log"
    is_service "$n" || wait_ready "$n"
}

# stop NAME: stop it (when running).
stop() {
    local n=$1 pf
    pf=$HARNESS_PIDDIR/$(pidname "$n").pid
    if ! alive "$n"; then
        rm -f "$pf" "$HARNESS_PIDDIR/$n.started"
        return 1
    fi
    case "$n" in
    postgres)
        HARNESS_PG_DIR=$RUN/pg
        HARNESS_PG_DATA=$RUN/pg/data
        HARNESS_PG_BIN=$(harness_pg_bindir)
        harness_pg_stop fast
        ;;
    kafka) harness_stop_pidfile "$pf" TERM 60 "$(pattern "$n")" ;;
    *) harness_stop_pidfile "$pf" TERM 30 "$(pattern "$n")" ;;
    esac
    rm -f "$pf" "$HARNESS_PIDDIR/$n.started"
}

migrate() {
    if [ ! -x "$ROOT/bin/omnisync" ]; then
        warn "bin/omnisync not built: the ledger is not migrated"
        return 0
    fi
    if ! "$ROOT/bin/omnisync" db migrate >>"$HARNESS_LOGDIR/migrate.log" 2>&1; then
        echo "stack: the ledger migration (omnisync db migrate) failed; tail of $(rel "$HARNESS_LOGDIR")/migrate.log:" >&2
        tail -10 "$HARNESS_LOGDIR/migrate.log" | sed 's/^/    /' >&2
        return 1
    fi
}

# ---------------------------------------------------------------- commands

# list: one line per component: name, pid, address, state.
list() {
    local n st pid all=0
    printf '%-18s %-8s %-56s %s\n' NAME PID ADDRESS STATE
    for n in "${COMPONENTS[@]}"; do
        if ! built "$n"; then
            printf '%-18s %-8s %-56s %s\n' "$n" - - "not built"
            continue
        fi
        pid=-
        if alive "$n"; then
            pid=$(pid_of "$n")
            if ready "$n"; then st=ready; else st="NOT READY" all=1; fi
        else
            st=stopped all=1
        fi
        [ "$n" = kafka ] && [ "$st" != stopped ] &&
            st="$st ($([ "$(kafka_mode)" = mock ] && echo "mock cluster" || echo "Apache Kafka $HARNESS_KAFKA_VERSION"))"
        printf '%-18s %-8s %-56s %s\n' "$n" "$pid" "$(address "$n")" "$st"
    done
    return $all
}

prepare_run() {
    mkdir -p "$RUN" "$HARNESS_PIDDIR" "$HARNESS_LOGDIR"
    chmod 755 "$RUN"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$RUN"; then
        echo "stack: the postgres user cannot reach $RUN (a parent directory is not searchable)" >&2
        return 1
    fi
    assign_ports
    load_secret
    set_env
}

up() {
    local n want=() missing=() started=() failed=()
    prepare_run
    for n in "${COMPONENTS[@]}"; do
        built "$n" || continue
        want+=("$n")
        alive "$n" || missing+=("$n")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "already up in $(rel "$RUN"):"
        list || true
        say "env: . $(rel "$RUN")/env   stop: make down   one service: make restart SVC=NAME"
        return 0
    fi
    [ ${#missing[@]} -lt ${#want[@]} ] && say "starting what is not running: ${missing[*]}"
    for n in postgres redis kafka store-sim; do
        case " ${missing[*]} " in *" $n "*) ;; *) continue ;; esac
        if ! start "$n"; then
            say "up FAILED at $n; what started still runs ('make status', 'make down')"
            return 1
        fi
        say "$n ready at $(address "$n")"
    done
    set_env
    write_env
    migrate || return 1
    for n in "${SERVICES[@]}"; do
        case " ${missing[*]} " in *" $n "*) ;; *) continue ;; esac
        start "$n" || {
            failed+=("$n")
            continue
        }
        started+=("$n")
    done
    for n in "${started[@]}"; do
        wait_ready "$n" || failed+=("$n")
    done
    list || true
    if [ ${#failed[@]} -gt 0 ]; then
        say "up FAILED: not ready: ${failed[*]} (logs in $(rel "$HARNESS_LOGDIR")/; the rest runs: 'make restart SVC=NAME' after a fix, or 'make down')"
        return 1
    fi
    say "up. env: . $(rel "$RUN")/env   stop: make down   one service: make restart SVC=NAME"
}

down() {
    local i n stopped=0
    set +e
    load_ports
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
        n=${COMPONENTS[$i]}
        if stop "$n"; then
            say "$n stopped"
            stopped=1
        fi
    done
    # The mock is "kafka" only while kafka.mode says so.
    harness_stop_pidfile "$HARNESS_PIDDIR/devkafka.pid" TERM 10 bin/devkafka
    if [ $stopped -eq 1 ]; then
        say "down (the data stays in $(rel "$RUN"))"
    else
        say "nothing running in $(rel "$RUN")"
    fi
    return 0
}

restart() {
    local n rc=0
    [ $# -gt 0 ] || usage
    for n in "$@"; do
        case " ${COMPONENTS[*]} " in
        *" $n "*)
            if ! built "$n"; then
                echo "stack: $n is not built (make -j2)" >&2
                return 2
            fi
            ;;
        *)
            echo "stack: restart: unknown component '$n' (one of: ${COMPONENTS[*]})" >&2
            return 2
            ;;
        esac
    done
    [ -f "$RUN/ports" ] || {
        echo "stack: no stack in $(rel "$RUN") yet: make up" >&2
        return 1
    }
    prepare_run
    for n in "$@"; do
        stop "$n" && say "$n stopped"
        if start "$n" && { ! is_service "$n" || wait_ready "$n"; }; then
            say "$n ready (pid $(pid_of "$n"))"
        else
            rc=1
        fi
        set_env
    done
    write_env # the mock broker's address changes with it
    [ "$rc" -eq 0 ] || say "restart FAILED"
    return $rc
}

status() {
    if [ ! -f "$RUN/ports" ]; then
        say "no stack in $(rel "$RUN") (make up)"
        return 1
    fi
    load_ports
    list
}

usage() {
    echo "usage: deploy/stack.sh up|down|status|restart NAME...   (run dir: \$OMNISYNC_RUN_DIR, default ./run)" >&2
    exit 2
}

case "$CMD" in
up) up ;;
down) down ;;
status) status ;;
restart)
    shift
    restart "$@"
    ;;
*) usage ;;
esac
