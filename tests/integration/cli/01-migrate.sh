#!/usr/bin/env bash
# omnisync db migrate: applies deploy/sql in order, is idempotent, refuses
# a changed migration by name, warns about a missing one, survives
# concurrent runs, and reports a broken migration without recording it.
. "$(dirname "$0")/cli-lib.bash"

run omnisync db migrate
t_is "first migrate exits 0" "$RC" 0
t_like "it names what it applied" "$OUT" '^applied 0001_ledger\.sql'
run omnisync db migrate
t_is "second migrate exits 0" "$RC" 0
t_is "second migrate is up to date" "$OUT" "up to date"
t_is "no noise on stderr" "$ERR" ""

t_is "every file is recorded" \
    "$(sql "SELECT count(*) FROM schema_migrations")" \
    "$(ls "$OMNISYNC_ROOT"/deploy/sql/[0-9][0-9][0-9][0-9]_*.sql | wc -l)"
t_is "the checksum is the file's sha256" \
    "$(sql "SELECT checksum FROM schema_migrations WHERE version = '0001_ledger.sql'")" \
    "$(sha256sum "$OMNISYNC_ROOT/deploy/sql/0001_ledger.sql" | cut -d' ' -f1)"
t_is "the ledger tables exist" \
    "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN
            ('location','price_list','product','variant','stock_movement',
             'stock_movement_line','stock_level','store','store_source','outbox',
             'customer_order','remote_map')")" 12

# ---- a copy of the migrations in a temp dir (OMNISYNC_SQL_DIR)
dir=$T_TMP/sql
mkdir -p "$dir"
cp "$OMNISYNC_ROOT"/deploy/sql/*.sql "$dir"/
export OMNISYNC_SQL_DIR=$dir
printf 'CREATE TABLE t_extra (id int);\n' >"$dir/9001_extra.sql"
run omnisync db migrate
t_is "a new migration applies" "$OUT" "applied 9001_extra.sql"
t_is "new migration exit 0" "$RC" 0

printf -- '-- edited after the fact\n' >>"$dir/0001_ledger.sql"
run omnisync db migrate
t_is "a changed migration: exit 2" "$RC" 2
t_like "the refusal names the file" "$ERR" \
    '^omnisync: migration 0001_ledger\.sql was changed after it was applied \(checksum [0-9a-f]{64} != [0-9a-f]{64}\)'
cp "$OMNISYNC_ROOT/deploy/sql/0001_ledger.sql" "$dir/"

printf 'CREATE TABLE t_later (id int);\n' >"$dir/9003_later.sql"
printf 'CREATE TABLE t_bad (id int);\nSELECT no_such_column FROM t_bad;\n' \
    >"$dir/9002_bad.sql"
run omnisync db migrate
t_is "a broken migration: exit 2" "$RC" 2
t_like "its error names the file and line" "$ERR" \
    '^omnisync: migration 9002_bad\.sql:2: column "no_such_column" does not exist'
t_is "a broken migration is not recorded" \
    "$(sql "SELECT count(*) FROM schema_migrations WHERE version = '9002_bad.sql'")" 0
t_is "nor is anything of it kept (own transaction)" \
    "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 't_bad'")" 0
t_is "nor is a later one applied" \
    "$(sql "SELECT count(*) FROM schema_migrations WHERE version = '9003_later.sql'")" 0
rm "$dir/9002_bad.sql"
run omnisync db migrate
t_is "after the fix the rest applies" "$OUT" "applied 9003_later.sql"

rm "$dir/9001_extra.sql"
run omnisync db migrate
t_is "a missing applied file: still exit 0" "$RC" 0
t_like "and a warning names it" "$ERR" 'warning: migration 9001_extra\.sql is applied but its file is missing'
t_is "and nothing else to do" "$OUT" "up to date"

printf 'not a migration\n' >"$dir/README"
printf 'SELECT 1;\n' >"$dir/12_short.sql"
run omnisync db migrate
t_is "files not named NNNN_name.sql are ignored" "$OUT" "up to date"

# ---- concurrent runs on a fresh database: each file applied once
db2=$(psql "$OMNISYNC_PG" -XtAc "SELECT current_database()")_mig2
psql "$OMNISYNC_PG" -Xqc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db2" -c "CREATE DATABASE $db2"
# A later dbname= overrides the earlier one in a key=value conninfo.
pg2="$OMNISYNC_PG dbname=$db2"
unset OMNISYNC_SQL_DIR
pids=()
for i in 1 2 3 4; do
    OMNISYNC_PG=$pg2 omnisync db migrate >"$T_TMP/c$i.out" 2>&1 &
    pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
t_is "4 concurrent migrates all exit 0" "$fails" 0
t_is "exactly one of them applied 0001" \
    "$(cat "$T_TMP"/c?.out | grep -c 'applied 0001_ledger.sql')" 1
t_is "recorded once" \
    "$(psql "$pg2" -XtAc "SELECT count(*) FROM schema_migrations")" \
    "$(ls "$OMNISYNC_ROOT"/deploy/sql/[0-9][0-9][0-9][0-9]_*.sql | wc -l)"
psql "$OMNISYNC_PG" -Xqc "DROP DATABASE IF EXISTS $db2"

OMNISYNC_SQL_DIR=$T_TMP/nowhere run omnisync db migrate
t_is "a missing directory: exit 2" "$RC" 2
t_like "it says which and how to set it" "$ERR" "nowhere.*OMNISYNC_SQL_DIR"

OMNISYNC_PG="host=127.0.0.1 port=1 dbname=x connect_timeout=2" run omnisync db migrate
t_is "no Postgres: exit 3" "$RC" 3
t_like "and says so" "$ERR" "cannot connect to Postgres"

run omnisync db migrate extra
t_is "db migrate with an argument: exit 2" "$RC" 2
run omnisync db frobnicate
t_is "db unknown subcommand: exit 2" "$RC" 2
t_done
