#!/usr/bin/env bash
# omnisync db roles: least privilege.  Creates the group roles (under a
# prefix of this test: roles are cluster-wide and tests share the
# cluster), is idempotent and safe to run twice at once, --dry-run changes
# nothing; then LOGIN users in those roles run the work: the operator runs
# the CLI (locations, import, store add, a receipt), outbox-relay and
# stock-publisher run as their own users and carry a stock change to the
# store, and stock-publisher's user cannot write tables it does not own;
# the viewer reads and cannot write.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

run() {
    RC=0
    OUT=$("$@" 2>"$T_TMP/run.err") || RC=$?
    ERR=$(cat "$T_TMP/run.err")
}
P="t${RANDOM}x$$_"
ROLES="outbox_relay catalog_publisher stock_publisher image_uploader order_ingestor ledger_api operator viewer"
LOGINS="${P}op ${P}relay ${P}pub ${P}view"
# Drop what this test made: its grants live in this database only.
roles_drop() {
    local r
    for r in $LOGINS; do
        sql "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
    done
    for r in $ROLES; do
        sql "DROP OWNED BY ${P}$r" >/dev/null 2>&1
        sql "DROP ROLE IF EXISTS ${P}$r" >/dev/null 2>&1
    done
}
t_cleanup_add roles_drop
# as USER SQL: psql as a login user; prints its error on failure.
as() {
    psql "$OMNISYNC_PG user=$1" -XqtA -v ON_ERROR_STOP=1 -c "$2" 2>&1
}
nroles() {
    sql "SELECT count(*) FROM pg_roles WHERE rolname LIKE '${P}%' AND NOT rolcanlogin"
}

omnisync db migrate >/dev/null || t_bail "db migrate"

# ---- usage
run omnisync db roles --prefix 'Bad-Name'
t_is "a bad --prefix: exit 2" "$RC" 2
t_like "and says what a prefix may hold" "$ERR" "--prefix Bad-Name: 1 to 40"
run omnisync db roles --help
t_like "db roles --help" "$OUT" "db roles \[--prefix P\] \[--dry-run\] \[--json\]"

# ---- dry run, run, rerun, concurrent runs
run omnisync db roles --prefix "$P" --dry-run
t_is "--dry-run: exit 0" "$RC" 0
t_like "it prints what it would do" "$OUT" "CREATE ROLE ${P}stock_publisher NOLOGIN"
t_is "and creates nothing" "$(nroles)" 0
run omnisync db roles --prefix "$P"
t_is "db roles: exit 0" "$RC" 0
t_is "no noise on stderr" "$ERR" ""
t_is "eight NOLOGIN roles" "$(nroles)" 8
t_like "sequences get USAGE" "$OUT" "GRANT USAGE ON SEQUENCE dlq_record_id_seq TO ${P}stock_publisher"
run omnisync db roles --prefix "$P" --json
t_is "a rerun: exit 0" "$RC" 0
t_is "--json: eight roles, none created" \
    "$(jq -c '[(.roles | length), ([.roles[] | select(.created)] | length), .dry_run]' <<<"$OUT")" \
    "[8,0,false]"
omnisync db roles --prefix "$P" >"$T_TMP/c1.out" 2>&1 &
p1=$!
omnisync db roles --prefix "$P" >"$T_TMP/c2.out" 2>&1 &
p2=$!
rc1=0 rc2=0
wait $p1 || rc1=$?
wait $p2 || rc2=$?
t_is "two concurrent runs both exit 0" "$rc1 $rc2" "0 0"
t_diag "$(grep -v '^GRANT\|^REVOKE' "$T_TMP/c1.out" "$T_TMP/c2.out" | grep -v ' exists, ' | head -5)"

# ---- login users, members of the group roles
sql "CREATE ROLE ${P}op LOGIN IN ROLE ${P}operator;
     CREATE ROLE ${P}relay LOGIN IN ROLE ${P}outbox_relay;
     CREATE ROLE ${P}pub LOGIN IN ROLE ${P}stock_publisher;
     CREATE ROLE ${P}view LOGIN IN ROLE ${P}viewer" >/dev/null ||
    t_bail "login users"
ADMIN_PG=$OMNISYNC_PG
export OMNISYNC_PG="$ADMIN_PG user=${P}op"
t_is "the CLI now runs as the operator's user" \
    "$(as "${P}op" "SELECT current_user")" "${P}op"

# ---- the operator runs the CLI
st_ledger 3 2
t_is "as the operator: locations, price list, catalog import" \
    "$(as "${P}op" "SELECT count(*) FROM variant")" 7
st_sim sim
STORE="rl$$"
st_store "$STORE" sim WEB1 WH1
t_ok "as the operator: store add" omnisync store show "$STORE"
run omnisync db migrate
t_is "db migrate with nothing to apply runs as the operator" "$RC" 0
run as "${P}op" "CREATE TABLE ${P}x (id int)"
t_like "the operator cannot create a table" "$OUT" "permission denied"

# ---- outbox-relay and stock-publisher as their users
OMNISYNC_PG=$ADMIN_PG st_prefill "$STORE" sim
OMNISYNC_PG="$ADMIN_PG user=${P}relay" st_relay relay
OMNISYNC_PG="$ADMIN_PG user=${P}pub" st_pub pub
t_ok "the store add's events reach the store" wait_for 60 st_compare "$STORE" sim
t_ok "as the operator: a receipt" omnisync stock receipt WH1 STK-0001-01 7
t_ok "it reaches the store through relay and publisher" wait_for 60 st_compare "$STORE" sim
t_diag "$(st_compare "$STORE" sim)"
t_is "relay and publisher are connected as their users" \
    "$(OMNISYNC_PG=$ADMIN_PG sql "SELECT count(DISTINCT usename) FROM pg_stat_activity WHERE usename IN ('${P}pub', '${P}relay')")" 2
t_unlike "stock-publisher logged no permission error" \
    "$(cat "$T_TMP/pub.log")" "permission denied"
t_unlike "outbox-relay logged no permission error" \
    "$(cat "$T_TMP/relay.log")" "permission denied"

# ---- what stock-publisher's user may not do
t_like "stock-publisher cannot insert an order" \
    "$(as "${P}pub" "INSERT INTO customer_order (store_id, remote_id) VALUES (1, 1)")" \
    "permission denied for table customer_order"
t_like "nor change a store" \
    "$(as "${P}pub" "UPDATE store SET safety_stock = 5")" "permission denied for table store"
t_like "nor move stock" \
    "$(as "${P}pub" "UPDATE stock_level SET on_hand = 0")" "permission denied for table stock_level"
t_like "nor write the outbox" \
    "$(as "${P}pub" "DELETE FROM outbox")" "permission denied for table outbox"
t_is "it reads what it needs" \
    "$(as "${P}pub" "SELECT count(*) > 0 FROM remote_map")" t
t_like "outbox-relay cannot read the stores' settings (only id and name)" \
    "$(as "${P}relay" "SELECT password_box FROM store")" "permission denied for table store"

# ---- the viewer
t_is "the viewer reads" "$(as "${P}view" "SELECT count(*) FROM location")" 2
t_like "and cannot write" \
    "$(as "${P}view" "INSERT INTO location (code, name, kind) VALUES ('X', 'X', 'warehouse')")" \
    "permission denied for table location"
OMNISYNC_PG="$ADMIN_PG user=${P}view" run omnisync location add WH9 --kind warehouse
t_isnt "location add as the viewer fails" "$RC" 0
t_like "with permission denied" "$ERR" "permission denied"

t_ok "stock-publisher stops cleanly" t_kill pub
t_ok "outbox-relay stops cleanly" t_kill relay
t_done
