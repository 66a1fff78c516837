#!/usr/bin/env bash
# tests/chaos/run.sh — the chaos suite: the whole stack on the real broker
# under continuous work while a seeded scheduler kills and restarts things.
#
# Usage: tests/chaos/run.sh [--profile short|long] [--seed N] [--seconds N]
#   (or CHAOS_PROFILE, CHAOS_SEED, CHAOS_SECONDS; `make chaos` passes them)
#
# Starts Postgres, Redis and Kafka (tests/harness/lib.sh) unless it runs
# under tests/run.sh (OMNISYNC_PG set), then two store-sims, two stores, and
# every service: outbox-relay, catalog-publisher, two image-uploaders,
# stock-publisher, two order-ingestors.  Work runs all along: catalog
# re-imports with changed names and prices, shop sales and receipts,
# shoppers' orders in both stores with duplicated and dropped webhooks;
# a few known bad inputs are injected.  Meanwhile the scheduler (bash
# $RANDOM seeded with the seed) kills -9 and restarts services, restarts
# Postgres or Redis (and, in the long profile, the Kafka broker), resets
# the rate-limit counters (Redis FLUSHALL), and sets store-sim faults (5xx
# bursts, latency, timeouts) on one store at a time.
# Then the faults are cleared, the run waits for quiescence (bounded) and
# checks the invariants (docs/chaos.md).  Every fault is printed with its
# time; each invariant as PASS/FAIL (and as TAP for tests/run.sh).  Exit 1
# on any failure, with the seed to replay.  Logs are kept in
# build/chaos/<seed>-<time>/ (or $TEST_TMPDIR under tests/run.sh).
set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export OMNISYNC_ROOT

PROFILE=${CHAOS_PROFILE:-short}
SEED=${CHAOS_SEED:-}
CHAOS_SECS=${CHAOS_SECONDS:-}
while [ $# -gt 0 ]; do
    case "$1" in
    --profile) PROFILE=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --seconds) CHAOS_SECS=$2; shift ;;
    -h | --help)
        sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "chaos: unknown argument $1 (see --help)" >&2
        exit 2
        ;;
    esac
    shift
done
case "$PROFILE" in
short)
    : "${CHAOS_SECS:=60}"
    QUIET_SECS=150 NPROD=12 NVAR=36 NPHOTO=12 GAP_MAX=3 KAFKA_RESTARTS=0
    ;;
long)
    : "${CHAOS_SECS:=900}"
    QUIET_SECS=300 NPROD=40 NVAR=120 NPHOTO=40 GAP_MAX=10 KAFKA_RESTARTS=1
    ;;
*)
    echo "chaos: --profile is short or long, not '$PROFILE'" >&2
    exit 2
    ;;
esac
[ -n "$SEED" ] || SEED=$(($(date +%s) % 100000))
[[ "$SEED" =~ ^[0-9]+$ ]] && [[ "$CHAOS_SECS" =~ ^[0-9]+$ ]] || {
    echo "chaos: --seed and --seconds are whole numbers" >&2
    exit 2
}

if [ -z "${TEST_TMPDIR:-}" ]; then
    TEST_TMPDIR=$OMNISYNC_ROOT/build/chaos/$SEED-$(date -u +%Y%m%dT%H%M%S)
    mkdir -p "$TEST_TMPDIR"
    export TEST_TMPDIR
fi
IMG_NPH=$NPHOTO
# ord_compare from the orders helpers; the catalog and images helpers
# (sourced second) define sql and sim_get for this one store-sim.
# shellcheck source=../integration/orders/orders-lib.bash
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"
# shellcheck source=../integration/images/images-lib.bash
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
CAT_STORE=chaos1
STORE2=chaos2


if [ -z "${OMNISYNC_PG:-}" ]; then

    harness_start pg redis kafka || {
        echo "chaos: cannot start the harness (logs in ${HARNESS_LOGDIR:-?})" >&2
        exit 3
    }
fi

T0=$SECONDS
echo "# chaos: profile $PROFILE, seed $SEED, $CHAOS_SECS s of chaos," \
    "Kafka: ${HARNESS_KAFKA:-?}; logs in $T_TMP"
echo "# replay: tests/chaos/run.sh --profile $PROFILE --seed $SEED --seconds $CHAOS_SECS"
harness_kafka_is_real || t_bail "the chaos suite needs the real broker (HARNESS_KAFKA=${HARNESS_KAFKA:-})"

FAULTS=0
# fault MSG: one applied fault, with its time since the start of chaos.
fault() {
    FAULTS=$((FAULTS + 1))
    printf '# fault %3d  t=%4ds  %s\n' "$FAULTS" $((SECONDS - CHAOS_T0)) "$*"
    echo "$*" >>"$T_TMP/faults.txt"
}
# sim_faults JSON [PORT]: set faults on a store-sim (the first by default).
sim_faults() {
    curl -sf -X POST -H 'Content-Type: application/json' -d "$1" \
        "http://127.0.0.1:${2:-$CAT_SIM_PORT}/_sim/faults" >/dev/null
}

# sim_fault_for SECONDS SET CLEAR MSG: a store-sim fault for a while, on
# the store the scheduler drew ($FSTORE on port $FPORT).
sim_fault_for() {
    fault "$4 for $1 s on $FSTORE"
    sim_faults "$2" "$FPORT"
    sleep "$1"
    sim_faults "$3" "$FPORT"
}
# counter_reset: the API budget's counters are lost now (epoch seconds
# noted: a 429 from a store within its window after it is explained).
counter_reset() { date +%s >>"$T_TMP/resets.txt"; }

# ---- least privilege: every service connects as a login user in the
# role `omnisync db roles` made for it (a prefix of this run: roles are
# cluster-wide), so the chaos also runs the paths the happy path does not
# (dead letters, parked work, held orders) under the services' grants.
ADMIN_PG=$OMNISYNC_PG
RP="ch${SEED}x$$_"
declare -A ROLE_OF=([relay]=outbox_relay [catpub]=catalog_publisher
    [imgup]=image_uploader [imgup2]=image_uploader [stockpub]=stock_publisher
    [ingest]=order_ingestor [ingest2]=order_ingestor)
roles_drop() {
    local r
    for r in outbox_relay catalog_publisher stock_publisher image_uploader \
        order_ingestor ledger_api operator viewer; do
        OMNISYNC_PG=$ADMIN_PG sql "DROP ROLE IF EXISTS ${RP}u_$r" >/dev/null 2>&1
        OMNISYNC_PG=$ADMIN_PG sql "DROP OWNED BY ${RP}$r" >/dev/null 2>&1
        OMNISYNC_PG=$ADMIN_PG sql "DROP ROLE IF EXISTS ${RP}$r" >/dev/null 2>&1
    done
}
t_cleanup_add roles_drop
omnisync db migrate >/dev/null || t_bail "db migrate"
omnisync db roles --prefix "$RP" >/dev/null || t_bail "db roles"
for r in $(printf '%s\n' "${ROLE_OF[@]}" | sort -u); do
    sql "CREATE ROLE ${RP}u_$r LOGIN IN ROLE ${RP}$r" >/dev/null || t_bail "login user $r"
done
# t_bg NAME ...: a service NAME starts as its role's user.
eval "t_bg_as_admin() $(declare -f t_bg | tail -n +2)"
t_bg() {
    local r=${ROLE_OF[$1]:-}
    if [ -n "$r" ]; then
        OMNISYNC_PG="$ADMIN_PG user=${RP}u_$r" t_bg_as_admin "$@"
    else
        t_bg_as_admin "$@"
    fi
}

# ---- the stack
img_setup "$NPROD" "$NVAR" "$NPHOTO" # store-sim, store, relay, catpub, imgup
# The second store: its own store-sim, online location and warehouse.
SIM2_PORT=$(free_port)
t_bg sim2 store-sim --port "$SIM2_PORT" --login "$CAT_LOGIN" --password "$CAT_PW" \
    --limit 500 --window 10 ${CAT_SIM_EXTRA:-}
sim2_up() { curl -sf "http://127.0.0.1:$SIM2_PORT/_sim/health" >/dev/null; }
wait_for 10 sim2_up || t_bail "store-sim 2 did not start"
omnisync location add WH2 --kind warehouse >/dev/null || t_bail "location WH2"
omnisync location add WEB2 --kind online --price-list ONLINE >/dev/null || t_bail "location WEB2"
CAT_PW_ENV=$CAT_PW omnisync store add "$STORE2" --platform insales \
    --url "http://127.0.0.1:$SIM2_PORT" --login "$CAT_LOGIN" --password-env CAT_PW_ENV \
    --online-location WEB2 --source-locations WH2 --price-list ONLINE \
    --delivery-sku ART-00001-1 --api-limit 500 --api-window 10 >/dev/null ||
    t_bail "store add $STORE2"
img_uploader_start imgup2
KOPTS=(-o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500)
t_bg stockpub stock-publisher -o log.level=info "${KOPTS[@]}"
ORD_PORT=$(free_port)
ORD_PORT2=$(free_port)
# Two order-ingestor replicas behind one public URL (the first's port):
# webhooks reach the first; both poll and apply (one consumer group).
ingest_start() { # NAME PORT
    t_bg "$1" order-ingestor -o log.level=info \
        -o intake.listen="127.0.0.1:$2" \
        -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
        -o poll.interval.ms=2000 -o stores.refresh.ms=2000 "${KOPTS[@]}"
}
ingest_start ingest "$ORD_PORT"
ingest_start ingest2 "$ORD_PORT2"

# start_svc NAME: (re)start the t_bg process NAME.
start_svc() {
    case "$1" in
    relay) t_bg relay outbox-relay -o relay.poll.ms=200 -o relay.standby.ms=200 ;;
    catpub) cat_publisher_start catpub ;;
    imgup | imgup2) img_uploader_start "$1" ;;
    stockpub) t_bg stockpub stock-publisher -o log.level=info "${KOPTS[@]}" ;;
    ingest) ingest_start ingest "$ORD_PORT" ;;
    ingest2) ingest_start ingest2 "$ORD_PORT2" ;;
    esac
}
SERVICES=(relay catpub imgup imgup2 stockpub ingest ingest2)

mapfile -t SKUS < <(sql "SELECT sku FROM variant WHERE sku NOT LIKE 'ART-00001-%' ORDER BY sku")
for s in "${SKUS[@]}"; do
    omnisync stock receipt WH1 "$s" 1000 --ref "init-$s" >/dev/null || t_bail "receipt $s"
    omnisync stock receipt WH2 "$s" 1000 --ref "init2-$s" >/dev/null || t_bail "receipt $s"
done
t_ok "setup: sync initial maps the catalog and uploads the photos ($CAT_STORE)" \
    omnisync sync initial "$CAT_STORE" --timeout 180
t_ok "setup: sync initial ($STORE2)" omnisync sync initial "$STORE2" --timeout 180
hooks_ok() { # PORT
    [ "$(curl -sf -u "$CAT_LOGIN:$CAT_PW" "http://127.0.0.1:$1/admin/webhooks.json" | jq length)" -ge 2 ]
}
t_ok "setup: order-ingestor registered its webhooks (both stores)" \
    wait_for 30 eval "hooks_ok $CAT_SIM_PORT && hooks_ok $SIM2_PORT"
for port in "$CAT_SIM_PORT" "$SIM2_PORT"; do
    sim_faults '{"webhook_dup_rate":0.3,"webhook_drop_rate":0.2,"seed":'"$SEED"'}' "$port" ||
        t_bail "store-sim faults"
done
hook_secret() { omnisync store show "$1" --webhook-secret --json | jq -r .webhook_secret; }
HOOK_SECRETS=("$(hook_secret "$CAT_STORE")" "$(hook_secret "$STORE2")")

# The injected bad inputs (all known, checked at the end): one undecodable
# order event (dead-lettered), and two webhooks the intake accepts whose
# orders cannot be reserved (kept as needs-attention orders): an unknown
# SKU to the first store, a quantity of 1.5 to the second.
JUNK_KEY=chaos-junk-$SEED
printf 'not json {' | kcat -b "$OMNISYNC_KAFKA" -P -t omnisync.orders.v1 \
    -k "$JUNK_KEY" -X acks=all 2>/dev/null || t_bail "cannot produce the junk event"
BAD1=$((900000000 + SEED)) BAD2=$((950000000 + SEED))
bad_hook() { # SECRET ID SKU QTY
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data "{\"id\": $2, \"updated_at\": \"2030-01-01T00:00:00Z\", \"delivery_price\": \"0\",
                 \"order_lines\": [{\"id\": 1, \"sku\": \"$3\", \"quantity\": $4, \"sale_price\": \"10\"}]}" \
        "http://127.0.0.1:$ORD_PORT/hooks/$1/orders")" = 200 ]
}
t_ok "setup: injected an order of an unknown SKU ($BAD1, $CAT_STORE)" \
    wait_for 20 bad_hook "${HOOK_SECRETS[0]}" "$BAD1" CHAOS-GHOST-1 1
t_ok "setup: injected an order with quantity 1.5 ($BAD2, $STORE2)" \
    wait_for 20 bad_hook "${HOOK_SECRETS[1]}" "$BAD2" "${SKUS[0]}" 1.5
BAD_IDS="$BAD1,$BAD2"

# ---- continuous work (background loops, stopped by a flag file)
STOP=$T_TMP/work.stop
rm -f "$STOP"
catalog_editor() {
    local k=0
    while [ ! -e "$STOP" ]; do
        k=$((k + 1))
        # Changed names and prices ("Товар N" -> "Товар N vK", price +K);
        # one product's first photo replaced by a new one each edit.
        python3 - "$T_TMP/cat" "$k" "$OMNISYNC_ROOT/tests/fixtures/catalog/photos/red.png" \
            "${CHAOS_PHOTO_EDITS:-1}" <<'PY'
import struct, sys, zlib
d, k, fix, photo_edits = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
rows = open(d + "/catalog.csv", newline="").read().split("\r\n")
png = open(fix, "rb").read()
body = b"tEXt" + b"Comment\0" + ("chaos edit %d" % k).encode()
chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)
open(d + "/photos/edit-%d.png" % k, "wb").write(png[:33] + chunk + png[33:])
out, firsts = [rows[0]], 0
for r in rows[1:]:
    if not r: continue
    c = r.split(";")
    if c[2]:
        c[2] = "%s v%d" % (c[2], k)
        firsts += 1
        if photo_edits and firsts == 1 + k % 7 and c[10]:
            c[10] = "|".join(["photos/edit-%d.png" % k] + c[10].split("|")[1:])
    whole, frac = c[8].split(",")
    c[8] = "%d,%s" % (int(whole) + k, frac)
    out.append(";".join(c))
open(d + "/edit.csv", "w", newline="").write("\r\n".join(out) + "\r\n")
PY
        if omnisync import catalog "$T_TMP/cat/edit.csv" --price-list ONLINE \
            >>"$T_TMP/edits.log" 2>&1; then
            echo ok >>"$T_TMP/edits.count"
        fi
        sleep 7
    done
}
stock_mover() {
    local n=0 s
    while [ ! -e "$STOP" ]; do
        n=$((n + 1))
        s=${SKUS[$((n * 7 % ${#SKUS[@]}))]}
        loc=WH$((1 + n % 2))
        if [ $((n % 3)) = 0 ]; then
            omnisync stock receipt "$loc" "$s" 3 --ref "chaos-r-$n" >/dev/null 2>&1
        else
            omnisync stock sale "$loc" "$s" 1 --ref "chaos-s-$n" >/dev/null 2>&1
        fi && echo ok >>"$T_TMP/moves.count"
        sleep 0.3
    done
}
shoppers() { # PORT SEED
    python3 - "$1" "$2" "$STOP" "$T_TMP/orders.jsonl" "${SKUS[@]}" <<'PY'
import http.client, json, os, random, sys, time
port, seed, stop, out, skus = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
rnd = random.Random(seed)
i = 0
with open(out, "a") as f:
    while not os.path.exists(stop):
        i += 1
        lines = [{"sku": s, "quantity": rnd.randint(1, 2)} for s in rnd.sample(skus, rnd.randint(1, 2))]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/_sim/orders", json.dumps({"lines": lines,
                "delivery_title": "Courier", "delivery_price": "300.0",
                "client": {"name": "Chaos buyer %d" % i}}), {"Content-Type": "application/json"})
            r = conn.getresponse(); body = r.read()
            if r.status == 201:
                f.write(body.decode() + "\n"); f.flush()
        except OSError:
            pass
        time.sleep(0.3)
PY
}
catalog_editor >/dev/null 2>&1 &
W1=$!
stock_mover >/dev/null 2>&1 &
W2=$!
shoppers "$CAT_SIM_PORT" "$SEED" >/dev/null 2>&1 &
W3=$!
shoppers "$SIM2_PORT" "$((SEED + 1))" >/dev/null 2>&1 &
W4=$!
t_cleanup_add "touch '$STOP'; kill $W1 $W2 $W3 $W4 2>/dev/null"

# ---- the scheduler
FAULT_STORES=("$CAT_STORE" "$STORE2")
FAULT_PORTS=("$CAT_SIM_PORT" "$SIM2_PORT")
RANDOM=$SEED
CHAOS_T0=$SECONDS
kafka_left=$KAFKA_RESTARTS
# Every step draws the same numbers in the same order, in this shell (a
# $(...) subshell would draw from a reseeded generator), so a seed gives
# the same sequence of faults whatever each one turned out to be.
pick() { P=$((RANDOM % $1)); }
draw() {
    pick "$GAP_MAX" && GAP=$((1 + P))
    pick 11 && KIND=$P
    pick ${#SERVICES[@]} && SVC=${SERVICES[$P]}
    pick 3 && PAUSE=$P
    pick 6 && D6=$((2 + P))
    pick 4 && ST=$((500 + P))
    pick 400 && MS=$((100 + P))
    pick 8 && D8=$((3 + P))
    pick 2 && FSTORE=${FAULT_STORES[$P]} FPORT=${FAULT_PORTS[$P]}
}
while [ $((SECONDS - CHAOS_T0)) -lt "$CHAOS_SECS" ]; do
    draw
    sleep "$GAP"
    case $KIND in
    0 | 1 | 2 | 3)
        fault "kill -9 $SVC"
        kill -KILL "$(t_pid "$SVC")" 2>/dev/null
        t_wait "$SVC" 10 >/dev/null
        sleep "$PAUSE"
        start_svc "$SVC"
        ;;
    4)
        if [ -n "${OMNISYNC_TEST_PG:-}" ]; then continue; fi
        fault "Postgres stopped (immediate) for $D6 s"
        harness_pg_stop immediate >/dev/null 2>&1
        sleep "$D6"
        harness_pg_start >/dev/null 2>&1 || t_bail "Postgres does not restart"
        ;;
    5)
        if [ -n "${OMNISYNC_TEST_REDIS:-}" ]; then continue; fi
        fault "Redis killed for $D6 s (comes back empty: rate-limit counters reset)"
        harness_redis_stop KILL >/dev/null 2>&1
        counter_reset
        sleep "$D6"
        harness_redis_start >/dev/null 2>&1 || t_bail "Redis does not restart"
        counter_reset
        ;;
    10)
        if [ -n "${OMNISYNC_TEST_REDIS:-}" ]; then continue; fi
        fault "rate-limit counter reset: Redis FLUSHALL"
        redis-cli -h 127.0.0.1 -p "$HARNESS_REDIS_PORT" FLUSHALL >/dev/null 2>&1
        counter_reset
        ;;
    6)
        sim_fault_for "$((D6 + 1))" '{"error_rate":0.5,"error_status":'"$ST"'}' \
            '{"error_rate":0}' "store-sim 5xx burst: error_rate 0.5 status $ST"
        ;;
    7)
        sim_fault_for "$D8" '{"latency_ms":'"$MS"'}' '{"latency_ms":0}' \
            "store-sim latency $MS ms"
        ;;
    8)
        sim_fault_for "$((D6 + 1))" '{"timeout_rate":0.2,"timeout_ms":3000}' \
            '{"timeout_rate":0}' "store-sim timeouts: timeout_rate 0.2 timeout_ms 3000"
        ;;
    9)
        if [ "$kafka_left" -gt 0 ]; then
            kafka_left=$((kafka_left - 1))
            fault "Kafka broker kill -9, restarted"
            harness_kafka_stop KILL >/dev/null 2>&1
            harness_kafka_start >/dev/null 2>&1 || t_bail "Kafka does not restart"
        else
            sim_fault_for 3 '{"error_rate":1,"error_status":503}' '{"error_rate":0}' \
                "store-sim 5xx burst: error_rate 1 status 503"
        fi
        ;;
    esac
done
CHAOS_END=$SECONDS
touch "$STOP"
wait "$W1" "$W2" "$W3" "$W4" 2>/dev/null
for port in "$CAT_SIM_PORT" "$SIM2_PORT"; do
    sim_faults '{"error_rate":0,"latency_ms":0,"timeout_rate":0,"webhook_dup_rate":0,"webhook_drop_rate":0}' "$port" ||
        t_fail "clear the store-sim faults"
done
echo "# chaos over after $((CHAOS_END - CHAOS_T0)) s: $FAULTS faults;" \
    "$(wc -l <"$T_TMP/edits.count" 2>/dev/null || echo 0) catalog edits," \
    "$(wc -l <"$T_TMP/moves.count" 2>/dev/null || echo 0) stock movements," \
    "$(wc -l <"$T_TMP/orders.jsonl" 2>/dev/null || echo 0) orders placed"
n_edits=$(grep -cE '[1-9][0-9]* changed' "$T_TMP/edits.log" 2>/dev/null)
t_ok "work: catalog edits changed the ledger ($n_edits imports with changes)" \
    [ "${n_edits:-0}" -gt 0 ]
worked() { [ -s "$T_TMP/moves.count" ] && [ -s "$T_TMP/orders.jsonl" ]; }
t_ok "work: stock movements and orders happened" worked
# Every service up again (one may have died of a fault rather than a kill).
for s in "${SERVICES[@]}"; do
    pid=$(t_pid "$s")
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        t_diag "$s was not running after the chaos: restarted"
        start_svc "$s"
    fi
done

# ---- quiescence (bounded), then the invariants
outbox_left() { sql "SELECT count(*) FROM outbox WHERE sent_at IS NULL"; }
drained() { [ "$(outbox_left)" = 0 ]; }
lag0() { omnisync lag >"$T_TMP/lag.out" 2>&1; }
ORD_DELIVERY_SKU=ART-00001-1
ORD_IGNORE_IDS=$BAD_IDS
STORES=("$CAT_STORE" "$STORE2")
SIM_PORTS=("$CAT_SIM_PORT" "$SIM2_PORT")
SIM1_PORT=$CAT_SIM_PORT
# each_store CHECK: CHECK for both stores (the store-sim helpers follow
# CAT_SIM_PORT / CAT_STORE); outputs in $T_TMP/CHECK.out, one after the
# other.
each_store() {
    local i rc=0
    : >"$T_TMP/$1.out"
    for i in 0 1; do
        CAT_STORE=${STORES[$i]} ORD_STORE=${STORES[$i]}
        CAT_SIM_PORT=${SIM_PORTS[$i]} ORD_SIM_PORT=${SIM_PORTS[$i]}
        echo "-- ${STORES[$i]}" >>"$T_TMP/$1.out"
        "$1" >>"$T_TMP/$1.out" 2>&1 || rc=1
    done
    CAT_STORE=${STORES[0]} CAT_SIM_PORT=$SIM1_PORT
    return $rc
}
reconcile_store() { omnisync reconcile "$CAT_STORE"; }
reconciled() { each_store reconcile_store; }
orders_once() { each_store ord_compare; }
cat_img() { cat_compare && img_compare; }
catalog_same() { each_store cat_img; }
quiet() { drained && lag0 && orders_once && reconciled && catalog_same; }
q0=$SECONDS
QUIET=0
if wait_for "$QUIET_SECS" quiet; then QUIET=1; fi
echo "# quiescence: $([ $QUIET = 1 ] && echo reached || echo NOT reached) after $((SECONDS - q0)) s"

RESULTS=()
# inv NAME CMD...: one invariant, PASS/FAIL and TAP.
inv() {
    local name=$1
    shift
    if "$@"; then
        RESULTS+=("PASS  $name")
        t_pass "invariant: $name"
    else
        RESULTS+=("FAIL  $name")
        t_fail "invariant: $name"
        return 1
    fi
}
inv "every store-sim order exactly once in the ledger, reservations = open orders' lines (both stores)" orders_once
t_diag "$(cat "$T_TMP/ord_compare.out")"
inv "store quantities and prices equal the ledger's (omnisync reconcile exits 0, both stores)" reconciled
t_diag "$(grep -E '^-- |^store ' "$T_TMP/reconcile_store.out")"
inv "no duplicate product or variant; names and prices equal the ledger's (both stores)" each_store cat_compare
t_diag "$(cat "$T_TMP/cat_compare.out")"
inv "no duplicate photo; every photo once (both stores)" each_store cat_img
t_diag "$(cat "$T_TMP/cat_img.out")"
inv "outbox drained" drained
inv "omnisync lag is 0" lag0
[ -s "$T_TMP/lag.out" ] && ! lag0 && t_diag "$(cat "$T_TMP/lag.out")"
# no429: every 429 a store-sim answered came within its window (10 s, and
# 2 s of slack) after an injected counter reset (Redis restarted empty or
# FLUSHALL): a fleet that lost its counts may spend a window again, which
# the reset explains; any other 429 is omnisync over the limit.
# explained TIMES RESETS: 0 when every 429 time in TIMES (RFC 3339 or
# epoch) is within a window after a reset in RESETS (epoch seconds).
explained() {
    python3 - "$1" "$2" <<'PY'
import sys, datetime
def t(x):
    try: return float(x)
    except ValueError: return datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
hits = [t(l.strip()) for l in open(sys.argv[1]) if l.strip()]
try: resets = [float(l) for l in open(sys.argv[2]) if l.strip()]
except OSError: resets = []
unexplained = [h for h in hits if not any(r - 1 <= h <= r + 12 for r in resets)]
print("store-sim 429 answers: %d, after an injected counter reset: %d, unexplained: %d (%d resets)"
      % (len(hits), len(hits) - len(unexplained), len(unexplained), len(resets)))
sys.exit(1 if unexplained else 0)
PY
}
no429() {
    local port
    for port in "${SIM_PORTS[@]}"; do
        curl -sf -u "$CAT_LOGIN:$CAT_PW" "http://127.0.0.1:$port/_sim/requests?since=0" |
            jq -r '.[] | select(.status == 429) | .time'
    done >"$T_TMP/429.times"
    explained "$T_TMP/429.times" "$T_TMP/resets.txt" >"$T_TMP/429.out"
}
# The check can fail: a 429 30 s after the last reset (or with none) is
# not explained; one 3 s after a reset is.
check429() {
    local now
    now=$(date +%s)
    echo "$now" >"$T_TMP/r.txt"
    date -u -d "@$((now + 3))" +%Y-%m-%dT%H:%M:%S.000+00:00 >"$T_TMP/t.txt"
    explained "$T_TMP/t.txt" "$T_TMP/r.txt" >/dev/null || return 1
    date -u -d "@$((now + 30))" +%Y-%m-%dT%H:%M:%S.000+00:00 >"$T_TMP/t.txt"
    ! explained "$T_TMP/t.txt" "$T_TMP/r.txt" >/dev/null &&
        ! explained "$T_TMP/t.txt" "$T_TMP/none.txt" >/dev/null
}
t_ok "the 429 check tells an explained 429 from an unexplained one" check429
inv "0 rate-limit rejections (429) not explained by an injected counter reset" no429
t_diag "$(cat "$T_TMP/429.out")"
dlq_only_injected() {
    omnisync dlq list --all --json >"$T_TMP/dlq.json" 2>"$T_TMP/dlq.err" || return 1
    jq -r '.[] | "\(.key)  \(.topic)  \(.reason)"' "$T_TMP/dlq.json" >"$T_TMP/dlq.txt"
    [ "$(jq -r '[.[] | .key] | join(",")' "$T_TMP/dlq.json")" = "$JUNK_KEY" ]
}
inv "the DLQ holds only the injected bad input ($JUNK_KEY)" dlq_only_injected
t_diag "$(head -10 "$T_TMP/dlq.txt" 2>/dev/null)"
attention_only_injected() {
    sql "SELECT remote_id || '  ' || attention_reason FROM customer_order
          WHERE status = 'needs_attention' OR attention_reason IS NOT NULL
          ORDER BY remote_id" >"$T_TMP/attention.txt"
    [ "$(cut -d' ' -f1 "$T_TMP/attention.txt" | paste -sd,)" = "$BAD_IDS" ] &&
        grep -q "^$BAD1 .*CHAOS-GHOST-1" "$T_TMP/attention.txt" &&
        grep -q "^$BAD2 .*quantity" "$T_TMP/attention.txt"
}
inv "needs-attention orders are exactly the injected bad orders ($BAD_IDS)" attention_only_injected
t_diag "$(head -10 "$T_TMP/attention.txt" 2>/dev/null)"
# secrets_in DIR: the known test secrets found in DIR/*.log (names the
# files); 0 when none is there.
secrets_in() {
    local found=0 s
    for s in "$CAT_PW" "${HOOK_SECRETS[@]}" "$OMNISYNC_SECRET_KEY"; do
        [ -n "$s" ] || continue
        if grep -lF -- "$s" "$1"/*.log >"$T_TMP/secret-hits.txt" 2>/dev/null; then
            found=1
            t_diag "a secret (${#s} chars) appears in: $(tr '\n' ' ' <"$T_TMP/secret-hits.txt")"
        fi
    done
    return $found
}
HOOK_SECRET=$(sim_get /admin/webhooks.json | jq -r '.[0].address' |
    sed -n 's|.*/hooks/\([^/]*\)/.*|\1|p')
t_is "the webhook secret the store calls is the one the ledger seals" \
    "$HOOK_SECRET" "${HOOK_SECRETS[0]}"
planted() {
    mkdir -p "$T_TMP/planted"
    printf 'x=%s\n' "${HOOK_SECRETS[1]}" >"$T_TMP/planted/p.log"
    [ -n "${HOOK_SECRETS[1]}" ] && ! secrets_in "$T_TMP/planted" >/dev/null
}
t_ok "the secret check finds a webhook secret planted in a log" planted
rm -rf "$T_TMP/planted"
no_secrets() { secrets_in "$T_TMP"; }
inv "no secret (store password, both webhook secrets, secret key) in any log" no_secrets
as_roles() {
    OMNISYNC_PG=$ADMIN_PG sql "SELECT count(DISTINCT usename) FROM pg_stat_activity
                                WHERE usename LIKE '${RP}u_%'" >"$T_TMP/roles.out"
    grep -l 'permission denied' "$T_TMP"/*.log >>"$T_TMP/roles.out" 2>/dev/null
    [ "$(cat "$T_TMP/roles.out")" = 5 ]
}
inv "every service ran as its role's user (5 users connected), no permission error in any log" as_roles
t_diag "$(cat "$T_TMP/roles.out")"

echo "# ---- chaos summary: profile $PROFILE, seed $SEED"
echo "# faults applied: $FAULTS ($(sort "$T_TMP/faults.txt" 2>/dev/null |
    sed -E 's/ for [0-9]+ s.*//; s/[0-9]+ ms/N ms/; s/status [0-9]+/status N/' |
    sort | uniq -c | awk '{c=$1; $1=""; printf "%s%s x%d", sep, $0, c; sep=";"}'))"
for r in "${RESULTS[@]}"; do echo "# $r"; done
echo "# run took $((SECONDS - T0)) s (chaos $((CHAOS_END - CHAOS_T0)) s)"
if [ "$T_FAIL" -gt 0 ]; then
    echo "# CHAOS FAILED — replay: tests/chaos/run.sh --profile $PROFILE --seed $SEED --seconds $CHAOS_SECS"
    echo "# logs: $T_TMP"
fi
t_done
