# shellcheck shell=bash
# tests/integration/intake/intake-lib.bash — helpers of the intake scripts
# (ledger-api, the Kafka intake; not a test itself: tests/run.sh runs only
# *.sh).  Builds on stock-lib.bash (st_ledger, st_sim, st_store, ...).
#
#   la_start NAME [ARGS]     ledger-api on a free port (LA_URL), own group;
#                            with LA_AS_ROLE=1 as a login user in the
#                            ledger_api role of `omnisync db roles`
#   la_no_denied NAME        ledger-api NAME logged no permission error
#   la_token NAME SCOPES     omnisync client add; prints the token
#   api METHOD PATH TOKEN [BODY]   curl; sets CODE and BODY_OUT
#   onhand LOC SKU           the ledger's on hand
#   la_openapi               the recorded exchanges vs the OpenAPI file
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

LA_GROUP="ledger-intake-$$-$RANDOM"

# la_as_role: the roles of `omnisync db roles` under a prefix of this
# script (roles are cluster-wide; dropped at exit) and a login user in
# ledger_api; LA_PG is its connection string.
la_as_role() {
    [ -n "${LA_PG:-}" ] && return 0
    LA_P="t${RANDOM}x$$_"
    t_cleanup_add la_roles_drop
    omnisync db roles --prefix "$LA_P" >/dev/null || t_bail "db roles"
    sql "CREATE ROLE ${LA_P}u_api LOGIN IN ROLE ${LA_P}ledger_api" >/dev/null ||
        t_bail "login user"
    LA_PG="$OMNISYNC_PG user=${LA_P}u_api"
}

la_roles_drop() {
    local r
    sql "DROP ROLE IF EXISTS ${LA_P}u_api" >/dev/null 2>&1
    for r in $(sql "SELECT rolname FROM pg_roles WHERE starts_with(rolname, '$LA_P')"); do
        sql "DROP OWNED BY $r" >/dev/null 2>&1
        sql "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
    done
}

la_no_denied() {
    ! grep -i 'permission denied' "$T_TMP/$1.log"
}

la_start() {
    local name=$1 port pg=$OMNISYNC_PG
    shift
    if [ "${LA_AS_ROLE:-0}" = 1 ]; then
        la_as_role
        pg=$LA_PG
    fi
    port=$(free_port)
    LA_URL="http://127.0.0.1:$port"
    # shellcheck disable=SC2086
    OMNISYNC_PG=$pg t_bg "$name" ledger-api -o api.listen="127.0.0.1:$port" \
        -o http.listen=127.0.0.1:0 -o group.id="$LA_GROUP" \
        ${HARNESS_KAFKA_OPTS:-} -o kafka.session.timeout.ms=6000 \
        -o kafka.heartbeat.interval.ms=500 "$@"
    wait_for 20 curl -s -o /dev/null "$LA_URL/v1/stock" ||
        t_bail "ledger-api $name did not start: $(tail -5 "$T_TMP/$name.log")"
}

la_token() {
    omnisync client add "$1" --scopes "$2" --json | jq -r .token
}

api() {
    local method=$1 path=$2 token=$3 body=${4:-}
    local args=(-s -o "$T_TMP/api.out" -w '%{http_code}' -X "$method")
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    CODE=$(curl "${args[@]}" "$LA_URL$path")
    BODY_OUT=$(cat "$T_TMP/api.out")
    la_record "$method" "$path" "$body"
}

# la_record METHOD PATH BODY: the exchange as a line of
# $T_TMP/exchanges.jsonl (tests/tools/openapi_check.py reads it); a body
# that is not JSON (or a file) is recorded as null.
la_record() {
    local req=null
    case "$3" in @* | "") ;; *) jq -e . >/dev/null 2>&1 <<<"$3" && req=$3 ;; esac
    jq -cn --arg m "$1" --arg p "$2" --argjson s "$CODE" --argjson q "$req" \
        --slurpfile r "$T_TMP/api.out" \
        '{method: $m, path: $p, status: $s, request: $q, response: $r[0]}' \
        >>"$T_TMP/exchanges.jsonl" 2>/dev/null ||
        echo "{\"method\":\"$1\",\"path\":\"$2\",\"status\":$CODE,\"request\":null,\"response\":\"not JSON\"}" \
            >>"$T_TMP/exchanges.jsonl"
}

# la_openapi: every recorded exchange matches proto/ledger-api.openapi.yaml.
la_openapi() {
    python3 "$OMNISYNC_ROOT/tests/tools/openapi_check.py" \
        "$OMNISYNC_ROOT/proto/ledger-api.openapi.yaml" "$T_TMP/exchanges.jsonl"
}

onhand() {
    sql "SELECT coalesce((SELECT on_hand FROM stock_level s JOIN variant v ON v.id = s.variant_id JOIN location l ON l.id = s.location_id WHERE l.code = '$1' AND v.sku = '$2'), 0)"
}
