# shellcheck shell=bash
# tests/harness/lib.sh — start real Postgres, Redis and Kafka for tests.
#
# Source it; sourcing starts nothing.  Then:
#   harness_start            # all three servers, `trap harness_cleanup EXIT`
#   harness_start pg redis   # only some
# Everything listens on 127.0.0.1 with free ports, under a temp dir
# ($HARNESS_DIR) removed at exit (HARNESS_KEEP=1 keeps it).
#
# Exported after harness_start (the contract tests rely on):
#   OMNISYNC_PG          libpq conninfo of database "omnisync"
#   OMNISYNC_REDIS       host:port
#   OMNISYNC_KAFKA       bootstrap servers (topics created)
#   OMNISYNC_SECRET_KEY  64 hex chars, random per run
#   OMNISYNC_ROOT        repository root; $OMNISYNC_ROOT/bin is first on PATH
#   HARNESS_KAFKA        real | mock | external
#   HARNESS_KAFKA_OPTS   "-o kafka.session.timeout.ms=6000 ..." for services
#   HARNESS_DIR, HARNESS_PG_PORT, HARNESS_REDIS_PORT, ... (state for the
#   functions below, so a test script that sources this file can use them)
#
# Functions for test scripts (they work in any process that has the
# exported HARNESS_* variables and sourced this file):
#   harness_new_db NAME        create a fresh database, print its conninfo
#   harness_redis_stop [SIG]   stop Redis (TERM, or e.g. KILL)
#   harness_redis_start        start it again on the same port
#   harness_pg_stop [MODE]     stop Postgres (pg_ctl mode: fast|immediate)
#   harness_pg_start           start it again on the same port and data
#   harness_kafka_stop [SIG]   stop the real broker (real mode only)
#   harness_kafka_start        start it again, same ports and data
#   harness_kafka_is_real      true for a real broker (real or external)
#   harness_kafka_configure DIR PORT CPORT   a broker's config and formatted
#                              storage in DIR; harness_kafka_start then runs
#                              it with HARNESS_KAFKA_DIR=DIR (deploy/stack.sh)
#
# External servers instead of started ones:
#   OMNISYNC_TEST_PG="host=... port=... user=... dbname=..."  (key=value form)
#   OMNISYNC_TEST_REDIS=host:port
#   OMNISYNC_TEST_KAFKA=external KAFKA_BOOTSTRAP=host:port
# OMNISYNC_TEST_KAFKA=real|mock|external picks the broker (default: real when
# java >= 17 and the Kafka jars are cached or mvn can fetch them, else mock).

HARNESS_KAFKA_VERSION=3.9.1
HARNESS_KAFKA_JVM='-Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true'
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export OMNISYNC_ROOT
HARNESS_KAFKA_JARS=${HARNESS_KAFKA_JARS:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/omnisync/kafka-$HARNESS_KAFKA_VERSION}
export HARNESS_KAFKA_JARS

# ---------------------------------------------------------------- utilities

harness_log() {
    echo "$*"
}

harness_err() {
    echo "harness: error: $*" >&2
}

# harness_free_port: print a TCP port on 127.0.0.1 nothing listens on.
# Ports come from 20000-32767, below the kernel's ephemeral range, so an
# outgoing connection cannot take one in the meantime; ports handed out
# before (in $HARNESS_DIR/ports.used) are never handed out again.
harness_free_port() {
    local p i used=${HARNESS_DIR:+$HARNESS_DIR/ports.used}
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
        if [ -n "$used" ] && grep -qx "$p" "$used" 2>/dev/null; then
            continue
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            continue # something answers
        fi
        [ -n "$used" ] && echo "$p" >>"$used"
        echo "$p"
        return 0
    done
    harness_err "no free port found"
    return 1
}

# harness_wait SECONDS CMD...: run CMD every 0.2 s until it succeeds.
harness_wait() {
    local secs=$1 end
    shift
    end=$((SECONDS + secs))
    while ! "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
    return 0
}

# harness_pid_alive PIDFILE: true when the pid in PIDFILE runs.
harness_pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(head -1 "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# harness_zombie PID: true when PID is a zombie (no fork; see tap.sh).
harness_zombie() {
    local _a _b st
    read -r _a _b st _ <"/proc/$1/stat" 2>/dev/null || return 1
    [ "$st" = Z ]
}

# harness_stop_pidfile PIDFILE [SIG] [WAIT_SECONDS] [CMDLINE_PATTERN]:
# send SIG (default TERM) to the pid in PIDFILE, wait for it to go (KILL
# after WAIT_SECONDS, default 10), remove PIDFILE.  With a pattern, the
# process is only signalled when its command line matches it (a reused pid
# is left alone).
harness_stop_pidfile() {
    local pf=$1 sig=${2:-TERM} wait=${3:-10} pat=${4:-} pid end
    [ -s "$pf" ] || return 0
    pid=$(head -1 "$pf")
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pf"
        return 0
    fi
    if [ -n "$pat" ] &&
        ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pat"; then
        echo "harness: pid $pid from $pf is not '$pat' any more; left alone" >&2
        rm -f "$pf"
        return 0
    fi
    kill -s "$sig" "$pid" 2>/dev/null || true
    end=$((SECONDS + wait))
    while kill -0 "$pid" 2>/dev/null; do
        # A zombie child of this shell counts as gone.
        if harness_zombie "$pid"; then
            wait "$pid" 2>/dev/null || true
            break
        fi
        if [ "$SECONDS" -ge "$end" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.1
            break
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || true
    rm -f "$pf"
    return 0
}

# harness_spawn NAME CMD...: start CMD detached (own session, stdin
# /dev/null, output to $HARNESS_LOGDIR/NAME.log), pid in
# $HARNESS_PIDDIR/NAME.pid.
harness_spawn() {
    local name=$1
    shift
    mkdir -p "$HARNESS_LOGDIR" "$HARNESS_PIDDIR"
    # From a subshell, so the server is nobody's job here (no "Killed"
    # notices, no zombies) and is reparented when the subshell ends.
    (
        setsid "$@" </dev/null >>"$HARNESS_LOGDIR/$name.log" 2>&1 &
        echo $! >"$HARNESS_PIDDIR/$name.pid"
    )
}

harness_random_key() {
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

# harness_java_ok: true when `java` on PATH is version 17 or later.
harness_java_ok() {
    local v
    command -v java >/dev/null 2>&1 || return 1
    v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)[."].*/\1/p' | head -1)
    [ -n "$v" ] && [ "$v" -ge 17 ]
}

# harness_as_pg CMD...: run CMD as the postgres user when we are root
# (initdb refuses root), as ourselves otherwise.
harness_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

harness_need_bin() {
    local b=$1
    if [ ! -x "$OMNISYNC_ROOT/bin/$b" ]; then
        make -s -C "$OMNISYNC_ROOT" "bin/$b" >&2 || {
            harness_err "cannot build bin/$b"
            return 1
        }
    fi
}

# ----------------------------------------------------------------- postgres

harness_pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        harness_err "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (run deploy/install-deps.sh)"
        return 1
    fi
    echo "$d"
}

# harness_pg_init DIR: create a cluster in DIR/data (owned by postgres when
# root) unless one is there.  Sets HARNESS_PG_DIR and HARNESS_PG_DATA.
harness_pg_init() {
    HARNESS_PG_DIR=$1
    HARNESS_PG_DATA=$HARNESS_PG_DIR/data
    HARNESS_PG_BIN=${HARNESS_PG_BIN:-$(harness_pg_bindir)} || return 1
    export HARNESS_PG_DIR HARNESS_PG_DATA HARNESS_PG_BIN
    mkdir -p "$HARNESS_PG_DIR/sock"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$HARNESS_PG_DIR"
    [ -s "$HARNESS_PG_DATA/PG_VERSION" ] && return 0
    mkdir -p "$HARNESS_LOGDIR"
    if ! (cd "$HARNESS_PG_DIR" && harness_as_pg "$HARNESS_PG_BIN/initdb" \
        -D "$HARNESS_PG_DATA" -U postgres -A trust -E UTF8 --no-locale \
        --no-sync) >"$HARNESS_LOGDIR/initdb.log" 2>&1; then
        harness_err "initdb failed:"
        tail -20 "$HARNESS_LOGDIR/initdb.log" >&2
        return 1
    fi
}

# harness_pg_start: start the cluster of harness_pg_init on
# $HARNESS_PG_PORT (picked when unset), create database "omnisync" if
# missing and set HARNESS_PG_BASE.  OMNISYNC_PG is left alone (a test that
# restarts Postgres keeps its own database).
harness_pg_start() {
    local log=$HARNESS_LOGDIR/postgres.log
    [ -n "${HARNESS_PG_PORT:-}" ] || HARNESS_PG_PORT=$(harness_free_port) || return 1
    export HARNESS_PG_PORT
    touch "$log" && [ "$(id -u)" -eq 0 ] && chown postgres: "$log"
    # fsync and full_page_writes off: test data is disposable and they only
    # matter when the machine crashes.  synchronous_commit stays on: with it
    # off, a kill -9 / "immediate" stop loses the last committed
    # transactions, which would break the crash-and-restart tests (with
    # fsync off a synchronous commit costs only a write()).
    # setsid: the server is in no test script's process group (the runner
    # kills a finished script's group).
    if ! (cd "$HARNESS_PG_DIR" && harness_as_pg setsid "$HARNESS_PG_BIN/pg_ctl" \
        -D "$HARNESS_PG_DATA" -l "$log" -w -t 60 -o "-p $HARNESS_PG_PORT \
        -k $HARNESS_PG_DIR/sock -c listen_addresses=127.0.0.1 \
        -c fsync=off -c full_page_writes=off \
        -c max_connections=200 -c shared_buffers=128MB" start) >/dev/null 2>&1; then
        harness_err "postgres did not start on port $HARNESS_PG_PORT:"
        tail -20 "$log" >&2
        return 1
    fi
    mkdir -p "$HARNESS_PIDDIR"
    head -1 "$HARNESS_PG_DATA/postmaster.pid" >"$HARNESS_PIDDIR/postgres.pid"
    if [ "$(harness_psql postgres -qtAc \
        "SELECT 1 FROM pg_database WHERE datname = 'omnisync'")" != 1 ]; then
        harness_psql postgres -qc "CREATE DATABASE omnisync" >/dev/null || return 1
    fi
    HARNESS_PG_BASE="host=127.0.0.1 port=$HARNESS_PG_PORT user=postgres"
    export HARNESS_PG_BASE
}

# harness_pg_stop [fast|immediate|smart]
harness_pg_stop() {
    if [ -z "${HARNESS_PG_DATA:-}" ]; then
        harness_err "harness_pg_stop: Postgres is external or not started"
        return 1
    fi
    [ -s "$HARNESS_PG_DATA/postmaster.pid" ] || return 0
    if ! (cd "$HARNESS_PG_DIR" && harness_as_pg "$HARNESS_PG_BIN/pg_ctl" \
        -D "$HARNESS_PG_DATA" -m "${1:-fast}" -w -t 30 stop) >/dev/null 2>&1; then
        harness_err "pg_ctl stop failed for $HARNESS_PG_DATA"
        return 1
    fi
    rm -f "$HARNESS_PIDDIR/postgres.pid"
}

# harness_psql DBNAME ARGS...: psql as postgres on the harness server.
harness_psql() {
    local db=$1
    shift
    PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
        psql "${HARNESS_PG_BASE:-host=127.0.0.1 port=$HARNESS_PG_PORT user=postgres} dbname=$db" \
        -X -v ON_ERROR_STOP=1 "$@"
}

# harness_new_db NAME: (re)create database NAME (lowercased, other chars
# than [a-z0-9_] become _) and print its conninfo.
harness_new_db() {
    local name
    name=$(printf '%s' "$1" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_' '_' | cut -c1-60)
    [ -n "$name" ] || {
        harness_err "harness_new_db: empty name"
        return 1
    }
    harness_psql postgres -q -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
        -c "CREATE DATABASE \"$name\" TEMPLATE template0" >/dev/null || return 1
    echo "$HARNESS_PG_BASE dbname=$name"
}

harness_start_pg() {
    if [ -n "${OMNISYNC_TEST_PG:-}" ]; then
        OMNISYNC_PG=$OMNISYNC_TEST_PG
        HARNESS_PG_BASE=$OMNISYNC_TEST_PG # later dbname= overrides
        export OMNISYNC_PG HARNESS_PG_BASE
        psql "$OMNISYNC_PG" -X -qtAc 'SELECT 1' >/dev/null || {
            harness_err "external Postgres OMNISYNC_TEST_PG='$OMNISYNC_TEST_PG' does not answer"
            return 1
        }
        harness_log "postgres: external ($OMNISYNC_PG)"
        return 0
    fi
    harness_pg_init "$HARNESS_DIR/pg" || return 1
    harness_pg_start || return 1
    OMNISYNC_PG="$HARNESS_PG_BASE dbname=omnisync"
    export OMNISYNC_PG
    harness_log "postgres: $("$HARNESS_PG_BIN/postgres" --version | awk '{print $3}') at 127.0.0.1:$HARNESS_PG_PORT ($OMNISYNC_PG)"
}

# -------------------------------------------------------------------- redis

harness_redis_start() {
    if [ -n "${OMNISYNC_TEST_REDIS:-}" ] && [ -z "${HARNESS_REDIS_DIR:-}" ]; then
        harness_err "harness_redis_start: Redis is external"
        return 1
    fi
    HARNESS_REDIS_DIR=${HARNESS_REDIS_DIR:-$HARNESS_DIR/redis}
    [ -n "${HARNESS_REDIS_PORT:-}" ] || HARNESS_REDIS_PORT=$(harness_free_port) || return 1
    export HARNESS_REDIS_DIR HARNESS_REDIS_PORT
    mkdir -p "$HARNESS_REDIS_DIR"
    if harness_pid_alive "$HARNESS_PIDDIR/redis.pid"; then
        return 0
    fi
    harness_spawn redis redis-server --port "$HARNESS_REDIS_PORT" \
        --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --dir "$HARNESS_REDIS_DIR"
    if ! harness_wait 20 harness_redis_ping; then
        harness_err "redis did not start on port $HARNESS_REDIS_PORT:"
        tail -20 "$HARNESS_LOGDIR/redis.log" >&2
        return 1
    fi
    OMNISYNC_REDIS=127.0.0.1:$HARNESS_REDIS_PORT
    export OMNISYNC_REDIS
}

harness_redis_ping() {
    [ "$(redis-cli -h 127.0.0.1 -p "$HARNESS_REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

# harness_redis_stop [SIG]: TERM (default) or KILL etc.; waits until gone.
harness_redis_stop() {
    if [ -z "${HARNESS_REDIS_DIR:-}" ]; then
        harness_err "harness_redis_stop: Redis is external or not started"
        return 1
    fi
    harness_stop_pidfile "$HARNESS_PIDDIR/redis.pid" "${1:-TERM}" 10 redis-server
}

harness_start_redis() {
    if [ -n "${OMNISYNC_TEST_REDIS:-}" ]; then
        OMNISYNC_REDIS=$OMNISYNC_TEST_REDIS
        export OMNISYNC_REDIS
        harness_log "redis: external ($OMNISYNC_REDIS)"
        return 0
    fi
    harness_redis_start || return 1
    harness_log "redis: $(redis-server --version | awk '{sub("v=", "", $3); print $3}') at $OMNISYNC_REDIS"
}

# -------------------------------------------------------------------- kafka

# harness_kafka_jars_ok: the cached jar dir holds a complete broker.
harness_kafka_jars_ok() {
    local d=$HARNESS_KAFKA_JARS
    [ -f "$d/kafka_2.13-$HARNESS_KAFKA_VERSION.jar" ] &&
        [ -f "$d/kafka-clients-$HARNESS_KAFKA_VERSION.jar" ] &&
        [ -f "$d/kafka-server-$HARNESS_KAFKA_VERSION.jar" ] &&
        [ -f "$d/slf4j-reload4j-1.7.36.jar" ] &&
        [ -f "$d/scala-library-2.13.15.jar" ]
}

# harness_kafka_fetch: fetch Apache Kafka's jars from Maven Central into
# $HARNESS_KAFKA_JARS unless they are cached.
harness_kafka_fetch() {
    local tmp rc
    if harness_kafka_jars_ok; then
        harness_log "kafka: jars cached in $HARNESS_KAFKA_JARS"
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || {
        harness_err "kafka: no cached jars in $HARNESS_KAFKA_JARS and no mvn to fetch them"
        return 1
    }
    harness_log "kafka: fetching Apache Kafka $HARNESS_KAFKA_VERSION jars into $HARNESS_KAFKA_JARS"
    mkdir -p "$(dirname "$HARNESS_KAFKA_JARS")"
    tmp=$(mktemp -d "$HARNESS_KAFKA_JARS.tmp.XXXXXX")
    mvn -q -B -f "$OMNISYNC_ROOT/tests/harness/kafka/pom.xml" \
        dependency:copy-dependencies -DoutputDirectory="$tmp" \
        -DincludeScope=runtime </dev/null >"$tmp.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        harness_err "kafka: mvn failed ($rc):"
        tail -30 "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        return 1
    fi
    rm -f "$tmp.log"
    rm -rf "$HARNESS_KAFKA_JARS"
    mv "$tmp" "$HARNESS_KAFKA_JARS"
    harness_kafka_jars_ok || {
        harness_err "kafka: fetched jars are incomplete in $HARNESS_KAFKA_JARS"
        return 1
    }
}

# harness_kafka_mode: print the broker kind to use (real, mock, external).
harness_kafka_mode() {
    case "${OMNISYNC_TEST_KAFKA:-}" in
    real | mock | external)
        echo "$OMNISYNC_TEST_KAFKA"
        return 0
        ;;
    "") ;;
    *)
        harness_err "OMNISYNC_TEST_KAFKA must be real, mock or external (not '$OMNISYNC_TEST_KAFKA')"
        return 1
        ;;
    esac
    if [ "${CI:-}" = true ]; then
        echo real # CI tests the real broker or fails
    elif harness_java_ok && { harness_kafka_jars_ok || command -v mvn >/dev/null 2>&1; }; then
        echo real
    else
        echo mock
    fi
}

harness_kafka_is_real() {
    [ "${HARNESS_KAFKA:-}" = real ] || [ "${HARNESS_KAFKA:-}" = external ]
}

harness_kafka_ready() {
    kcat -b "$OMNISYNC_KAFKA" -L -m 3 >/dev/null 2>&1
}

# harness_kafka_create_topics: the project's topics, with their configs,
# through the project's own admin code (bin/devkafka --create-topics).
harness_kafka_create_topics() {
    local i out
    harness_need_bin devkafka || return 1
    # Right after start the controller may not take CreateTopics yet.
    for i in 1 2 3 4 5; do
        if out=$("$OMNISYNC_ROOT/bin/devkafka" --create-topics \
            --bootstrap "$OMNISYNC_KAFKA" \
            --partitions "${OMNISYNC_TEST_PARTITIONS:-6}" 2>&1); then
            return 0
        fi
        sleep 1
    done
    harness_err "kafka: cannot create topics on $OMNISYNC_KAFKA: $out"
    return 1
}

# harness_kafka_configure DIR PORT CPORT: (re)write DIR/server.properties
# and DIR/log4j.properties for a broker on 127.0.0.1:PORT (controller
# CPORT) with its log in DIR/data, and format that storage unless it holds
# a formatted log already (deploy/stack.sh keeps its broker this way).
harness_kafka_configure() {
    local d=$1 port=$2 cport=$3 log=$HARNESS_LOGDIR/kafka.log id
    mkdir -p "$d/data" "$HARNESS_LOGDIR"
    sed -e "s#@PORT@#$port#g" \
        -e "s#@CPORT@#$cport#g" \
        -e "s#@LOGDIR@#$d/data#g" \
        "$OMNISYNC_ROOT/tests/harness/kafka/server.properties" >"$d/server.properties"
    cp "$OMNISYNC_ROOT/tests/harness/kafka/log4j.properties" "$d/log4j.properties"
    [ -f "$d/data/meta.properties" ] && return 0
    id=$(java -Dlog4j.configuration="file:$d/log4j.properties" \
        -cp "$HARNESS_KAFKA_JARS/*" kafka.tools.StorageTool random-uuid 2>>"$log") &&
        java $HARNESS_KAFKA_JVM -Dlog4j.configuration="file:$d/log4j.properties" \
            -cp "$HARNESS_KAFKA_JARS/*" kafka.tools.StorageTool format \
            -t "$id" -c "$d/server.properties" --ignore-formatted >>"$log" 2>&1 || {
        harness_err "kafka: formatting storage failed:"
        tail -20 "$log" >&2
        return 1
    }
}

# harness_kafka_start: start (or restart) the real broker of this harness
# in $HARNESS_KAFKA_DIR (default $HARNESS_DIR/kafka); the first call picks
# ports and formats storage.
harness_kafka_start() {
    local d=${HARNESS_KAFKA_DIR:-$HARNESS_DIR/kafka} log=$HARNESS_LOGDIR/kafka.log t0
    harness_java_ok || {
        harness_err "kafka: java >= 17 is needed for the real broker"
        return 1
    }
    harness_kafka_fetch >/dev/null || return 1
    mkdir -p "$d/data" "$HARNESS_LOGDIR"
    if [ ! -f "$d/server.properties" ]; then
        HARNESS_KAFKA_PORT=$(harness_free_port) || return 1
        HARNESS_KAFKA_CPORT=$(harness_free_port) || return 1
        harness_kafka_configure "$d" "$HARNESS_KAFKA_PORT" "$HARNESS_KAFKA_CPORT" ||
            return 1
    fi
    HARNESS_KAFKA_PORT=$(sed -n 's#^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*#\1#p' "$d/server.properties")
    export HARNESS_KAFKA_PORT
    OMNISYNC_KAFKA=127.0.0.1:$HARNESS_KAFKA_PORT
    export OMNISYNC_KAFKA
    harness_pid_alive "$HARNESS_PIDDIR/kafka.pid" && return 0
    t0=$SECONDS
    (cd "$d" && harness_spawn kafka java $HARNESS_KAFKA_JVM \
        -Dlog4j.configuration="file:$d/log4j.properties" \
        -cp "$HARNESS_KAFKA_JARS/*" kafka.Kafka "$d/server.properties")
    while ! harness_kafka_ready; do
        if ! harness_pid_alive "$HARNESS_PIDDIR/kafka.pid"; then
            harness_err "kafka: the broker exited during start-up; log tail:"
            tail -40 "$log" >&2
            return 1
        fi
        if [ $((SECONDS - t0)) -ge "${HARNESS_KAFKA_TIMEOUT:-60}" ]; then
            harness_err "kafka: broker not ready on $OMNISYNC_KAFKA after ${HARNESS_KAFKA_TIMEOUT:-60} s; log tail:"
            tail -40 "$log" >&2
            harness_stop_pidfile "$HARNESS_PIDDIR/kafka.pid" KILL
            return 1
        fi
        sleep 0.5
    done
    HARNESS_KAFKA_START_SECONDS=$((SECONDS - t0))
    export HARNESS_KAFKA_START_SECONDS
}

# harness_kafka_stop [SIG]: stop the real broker (TERM: controlled
# shutdown; KILL: a crash).
harness_kafka_stop() {
    if [ "${HARNESS_KAFKA:-}" != real ]; then
        harness_err "harness_kafka_stop: only a harness-started real broker can be stopped (HARNESS_KAFKA=${HARNESS_KAFKA:-})"
        return 1
    fi
    harness_stop_pidfile "$HARNESS_PIDDIR/kafka.pid" "${1:-TERM}" 30 kafka.Kafka
}

# harness_devkafka_start [DIR]: host the mock cluster; sets OMNISYNC_KAFKA.
harness_devkafka_start() {
    local d=${1:-$HARNESS_DIR/kafka}
    harness_need_bin devkafka || return 1
    mkdir -p "$d"
    rm -f "$d/bootstrap"
    harness_spawn devkafka "$OMNISYNC_ROOT/bin/devkafka" \
        --bootstrap-file "$d/bootstrap" --partitions "${OMNISYNC_TEST_PARTITIONS:-6}"
    if ! harness_wait 20 test -s "$d/bootstrap"; then
        harness_err "devkafka did not start:"
        tail -20 "$HARNESS_LOGDIR/devkafka.log" >&2
        return 1
    fi
    OMNISYNC_KAFKA=$(head -1 "$d/bootstrap")
    export OMNISYNC_KAFKA
}

# harness_kafka_reset: a fresh, empty broker with the project's topics
# (real: new storage and ports; mock: a new devkafka).  Sets OMNISYNC_KAFKA.
# tests/run.sh calls it before a script whose header has the line
# "# harness: fresh-kafka".
harness_kafka_reset() {
    case "${HARNESS_KAFKA:-}" in
    real)
        harness_stop_pidfile "$HARNESS_PIDDIR/kafka.pid" KILL 10 kafka.Kafka
        rm -rf "$HARNESS_DIR/kafka"
        : >"$HARNESS_LOGDIR/kafka.log"
        harness_kafka_start && harness_kafka_create_topics
        ;;
    mock)
        harness_stop_pidfile "$HARNESS_PIDDIR/devkafka.pid" TERM 5 devkafka
        harness_devkafka_start
        ;;
    *)
        harness_err "harness_kafka_reset: not possible with HARNESS_KAFKA=${HARNESS_KAFKA:-}"
        return 1
        ;;
    esac
}

harness_start_kafka() {
    local mode
    mode=$(harness_kafka_mode) || return 1
    HARNESS_KAFKA_OPTS="-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500 -o kafka.fetch.wait.max.ms=100"
    export HARNESS_KAFKA_OPTS
    case "$mode" in
    external)
        [ -n "${KAFKA_BOOTSTRAP:-}" ] || {
            harness_err "OMNISYNC_TEST_KAFKA=external needs KAFKA_BOOTSTRAP=host:port"
            return 1
        }
        OMNISYNC_KAFKA=$KAFKA_BOOTSTRAP
        export OMNISYNC_KAFKA
        harness_wait 30 harness_kafka_ready || {
            harness_err "kafka: external broker $KAFKA_BOOTSTRAP does not answer"
            return 1
        }
        harness_kafka_create_topics || return 1
        HARNESS_KAFKA=external
        harness_log "kafka: external broker at $OMNISYNC_KAFKA"
        ;;
    real)
        HARNESS_KAFKA=real
        export HARNESS_KAFKA
        if harness_kafka_start && harness_kafka_create_topics; then
            harness_log "kafka: real Apache Kafka $HARNESS_KAFKA_VERSION at $OMNISYNC_KAFKA (ready in ${HARNESS_KAFKA_START_SECONDS} s)"
        elif [ "${CI:-}" = true ] || [ "${OMNISYNC_TEST_KAFKA:-}" = real ]; then
            harness_err "kafka: the real broker is required (CI=${CI:-} OMNISYNC_TEST_KAFKA=${OMNISYNC_TEST_KAFKA:-}); not falling back to the mock"
            return 1
        else
            harness_stop_pidfile "$HARNESS_PIDDIR/kafka.pid" KILL
            echo "harness: WARNING: the real Kafka broker failed; falling back to the mock cluster" >&2
            mode=mock
        fi
        ;;
    esac
    if [ "$mode" = mock ]; then
        harness_devkafka_start || return 1
        HARNESS_KAFKA=mock
        harness_log "kafka: mock cluster (librdkafka $(pkg-config --modversion rdkafka 2>/dev/null)) at $OMNISYNC_KAFKA"
    fi
    export HARNESS_KAFKA
}

# ------------------------------------------------------------ start / stop

# harness_setup_env: the variables every test gets, without servers.
harness_setup_env() {
    [ -n "${OMNISYNC_SECRET_KEY:-}" ] || OMNISYNC_SECRET_KEY=$(harness_random_key)
    export OMNISYNC_SECRET_KEY
    # Every service serves /healthz, /readyz and /metrics on http.listen;
    # its fixed default port would clash between two instances of a
    # service (and between runs on one machine): any free port, logged.
    [ -n "${OMNISYNC_HTTP_LISTEN:-}" ] || OMNISYNC_HTTP_LISTEN=127.0.0.1:0
    export OMNISYNC_HTTP_LISTEN
    case ":$PATH:" in
    "$OMNISYNC_ROOT/bin:"*) ;;
    *) PATH="$OMNISYNC_ROOT/bin:$PATH" ;;
    esac
    export PATH
}

# harness_start [pg] [redis] [kafka]: start the servers (all by default) in
# a new temp dir and clean them up at exit.
harness_start() {
    local what=("$@") w
    [ ${#what[@]} -eq 0 ] && what=(pg redis kafka)
    if [ -n "${HARNESS_OWNER:-}" ] && [ "$HARNESS_OWNER" = "$BASHPID" ]; then
        harness_err "harness_start: already started in this shell"
        return 1
    fi
    HARNESS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/omnisync-harness.XXXXXX") || return 1
    chmod 755 "$HARNESS_DIR" # the postgres user must reach its dir
    HARNESS_PIDDIR=$HARNESS_DIR/pids
    HARNESS_LOGDIR=$HARNESS_DIR/log
    HARNESS_OWNER=$BASHPID
    mkdir -p "$HARNESS_PIDDIR" "$HARNESS_LOGDIR"
    # Not inherited: a child's own harness must not reuse our state.
    unset HARNESS_PG_PORT HARNESS_PG_DATA HARNESS_PG_DIR HARNESS_PG_BASE \
        HARNESS_REDIS_PORT HARNESS_REDIS_DIR HARNESS_KAFKA_PORT HARNESS_KAFKA \
        HARNESS_KAFKA_CPORT HARNESS_KAFKA_DIR
    export HARNESS_DIR HARNESS_PIDDIR HARNESS_LOGDIR
    # Keep an EXIT trap set before (e.g. tap.sh's): run it after ours.
    local prev
    prev=$(trap -p EXIT | sed -n "s/^trap -- '\(.*\)' EXIT\$/\1/p")
    trap "harness_cleanup${prev:+; $prev}" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    harness_setup_env
    for w in "${what[@]}"; do
        case "$w" in
        pg | postgres) harness_start_pg || return 1 ;;
        redis) harness_start_redis || return 1 ;;
        kafka) harness_start_kafka || return 1 ;;
        *)
            harness_err "harness_start: unknown server '$w'"
            return 1
            ;;
        esac
    done
}

# harness_ensure: restart whatever a test left stopped (between scripts).
harness_ensure() {
    if [ -n "${HARNESS_PG_DATA:-}" ] && ! harness_pid_alive "$HARNESS_PG_DATA/postmaster.pid"; then
        echo "harness: postgres was down; restarting" >&2
        harness_pg_start >/dev/null || return 1
    fi
    if [ -n "${HARNESS_REDIS_DIR:-}" ] && ! harness_redis_ping; then
        echo "harness: redis was down; restarting" >&2
        harness_redis_stop KILL
        harness_redis_start || return 1
    fi
    if [ "${HARNESS_KAFKA:-}" = real ] && ! harness_pid_alive "$HARNESS_PIDDIR/kafka.pid"; then
        echo "harness: kafka was down; restarting" >&2
        harness_kafka_start || return 1
    fi
    if [ "${HARNESS_KAFKA:-}" = mock ] && ! harness_pid_alive "$HARNESS_PIDDIR/devkafka.pid"; then
        echo "harness: devkafka was down; restarting (new port)" >&2
        harness_devkafka_start || return 1
    fi
    return 0
}

harness_cleanup() {
    local rc=$?
    [ -n "${HARNESS_DIR:-}" ] && [ "${HARNESS_OWNER:-}" = "$BASHPID" ] || return $rc
    local had_e=
    case $- in *e*) had_e=1 ;; esac
    set +e # clean up everything, whatever fails
    harness_stop_pidfile "$HARNESS_PIDDIR/kafka.pid" TERM 5 kafka.Kafka
    harness_stop_pidfile "$HARNESS_PIDDIR/devkafka.pid" TERM 5 devkafka
    harness_stop_pidfile "$HARNESS_PIDDIR/redis.pid" TERM 5 redis-server
    if [ -n "${HARNESS_PG_DATA:-}" ]; then
        harness_pg_stop immediate
    fi
    if [ "${HARNESS_KEEP:-0}" = 1 ]; then
        echo "harness: kept $HARNESS_DIR" >&2
    else
        rm -rf "$HARNESS_DIR"
    fi
    HARNESS_DIR=
    [ -n "$had_e" ] && set -e
    return $rc
}
