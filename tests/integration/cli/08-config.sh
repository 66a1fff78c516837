#!/usr/bin/env bash
# The CLI's settings go through cfg.h like the services': -o and -c before
# the command, --dump-config with secrets masked, a bad key exits 2, and
# without OMNISYNC_PG (pg.dsn) libpq's PG* variables name the ledger.
. "$(dirname "$0")/cli-lib.bash"

run omnisync db migrate
t_is "migrate exits 0" "$RC" 0

# ---- --dump-config: every key with its source, secrets masked
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
OMNISYNC_SECRET_KEY=$key run omnisync -o sql.dir=/nowhere --dump-config
t_is "--dump-config exits 0" "$RC" 0
t_like "pg.dsn comes from OMNISYNC_PG, masked" "$OUT" 'pg\.dsn = \*+[[:space:]]+# OMNISYNC_PG'
t_like "secret.key comes from OMNISYNC_SECRET_KEY, masked" "$OUT" \
    'secret\.key = \*+[[:space:]]+# OMNISYNC_SECRET_KEY'
t_unlike "the key is not printed" "$OUT" "$key"
t_like "-o is the source of sql.dir" "$OUT" 'sql\.dir = /nowhere[[:space:]]+# -o'
t_like "log.level defaults to warn" "$OUT" 'log\.level = warn[[:space:]]+# default'

# ---- -o and -c reach the command
OMNISYNC_SQL_DIR= run omnisync -o sql.dir="$T_TMP/nowhere" db migrate
t_is "-o sql.dir: a missing directory exits 2 (a bad setting)" "$RC" 2
t_like "and names it" "$ERR" "nowhere"
printf 'sql.dir = %s\n' "$T_TMP/elsewhere" >"$T_TMP/cli.conf"
OMNISYNC_SQL_DIR= run omnisync -c "$T_TMP/cli.conf" db migrate
t_is "-c FILE: sql.dir from the file" "$RC" 2
t_like "and names its directory" "$ERR" "elsewhere"
OMNISYNC_SQL_DIR=$T_TMP/fromenv run omnisync -c "$T_TMP/cli.conf" db migrate
t_like "the environment beats the file" "$ERR" "fromenv"

# ---- bad settings: exit 2, naming the key
run omnisync -o no.such.key=1 db migrate
t_is "an unknown key exits 2" "$RC" 2
t_like "naming it" "$ERR" 'config: no\.such\.key \(-o\): unknown key'
run omnisync -o log.level=loud status
t_is "a bad log.level exits 2" "$RC" 2
run omnisync -o kafka.acks=all status
t_is "the CLI passes no kafka.* keys" "$RC" 2
run omnisync -c
t_is "-c without a file exits 2" "$RC" 2
run omnisync -o sql.dir=/x
t_is "options but no command: exit 2" "$RC" 2
t_like "with the usage" "$ERR" 'usage: omnisync'

# ---- pg.dsn unset: libpq's own variables
pgenv=()
for kv in $OMNISYNC_PG; do
    case $kv in
    host=*) pgenv+=("PGHOST=${kv#host=}") ;;
    port=*) pgenv+=("PGPORT=${kv#port=}") ;;
    user=*) pgenv+=("PGUSER=${kv#user=}") ;;
    dbname=*) pgenv+=("PGDATABASE=${kv#dbname=}") ;;
    password=*) pgenv+=("PGPASSWORD=${kv#password=}") ;;
    esac
done
run env -u OMNISYNC_PG "${pgenv[@]}" omnisync db migrate
t_is "no OMNISYNC_PG, PG* set: migrate exits 0" "$RC" 0
t_is "on the same database: up to date" "$OUT" "up to date"
run env -u OMNISYNC_PG "${pgenv[@]}" omnisync location list
t_is "location list works too" "$RC" 0
run env -u OMNISYNC_PG PGHOST=127.0.0.1 PGPORT=1 PGCONNECT_TIMEOUT=2 omnisync db migrate
t_is "PG* naming nothing: exit 3 (a dependency)" "$RC" 3
t_like "the error is libpq's, for PGPORT" "$ERR" 'cannot connect to Postgres.*port 1'
t_done
