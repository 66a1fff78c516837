#!/bin/sh
# deploy/compose-db-users.sh — the `db-users` one-shot of docker-compose.yml
# (docs/deploy.md "Database roles"): after `omnisync db roles` made the
# NOLOGIN group roles, give each service and the operator a login user in
# its group, with the password from the environment.  Runs in the
# postgres image (psql >= 15 for \getenv) as the tables' owner (PGHOST,
# PGUSER, PGPASSWORD, PGDATABASE).  Idempotent: an existing user gets its
# password set again and its membership granted again.
#
#   OMNISYNC_ROLE_PREFIX           the groups' prefix (omnisync_)
#   OMNISYNC_PG_PASSWORD_<GROUP>   the password of <prefix><group>_login,
#                                  GROUP one of OUTBOX_RELAY,
#                                  CATALOG_PUBLISHER, STOCK_PUBLISHER,
#                                  IMAGE_UPLOADER, ORDER_INGESTOR,
#                                  LEDGER_API, OPERATOR
#
# Passwords go from the environment to psql (\getenv) and into one ALTER
# ROLE statement; they are never on a command line or printed.
set -eu
PREFIX=${OMNISYNC_ROLE_PREFIX:-omnisync_}

for group in outbox_relay catalog_publisher stock_publisher image_uploader \
    order_ingestor ledger_api operator; do
    var=OMNISYNC_PG_PASSWORD_$(printf '%s' "$group" | tr a-z A-Z)
    eval "pw=\${$var:-}"
    if [ -z "$pw" ]; then
        printf 'db-users: %s is not set\n' "$var" >&2
        exit 2
    fi
    DB_USER_PW=$pw psql -X -q -v ON_ERROR_STOP=1 -v u="${PREFIX}${group}_login" \
        -v g="${PREFIX}${group}" <<'SQL'
\getenv pw DB_USER_PW
SELECT format('CREATE ROLE %I LOGIN', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'u', :'pw') \gexec
SELECT format('GRANT %I TO %I', :'g', :'u') \gexec
SQL
    printf 'db-users: %s%s_login in %s%s\n' "$PREFIX" "$group" "$PREFIX" "$group"
done
