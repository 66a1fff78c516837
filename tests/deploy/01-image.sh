#!/usr/bin/env bash
# harness: fresh-kafka
# The real image: deploy/Dockerfile is built with podman from Debian base
# images made with mmdebstrap from Debian's archive (nothing pulled), and
# every service runs from it (--network=host) against the harness's
# Postgres, Redis and Kafka: outbox-relay, catalog-publisher,
# stock-publisher, two image-uploaders and two order-ingestors, store-sim
# from its own target.  A catalog with photos, stock changes and store
# orders go through; the store converges (`omnisync reconcile`, run from the
# image), each order lands once, both uploader replicas upload, both
# ingestors take webhooks, and `podman stop` ends every container cleanly.
# Where podman cannot run, one SKIP line says why.
set -uo pipefail
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# The photos generator, sql, sim_get and the store's login (CAT_*).
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
. "$OMNISYNC_ROOT/tests/deploy/lib.sh"
trap 'exit 143' TERM # the runner's timeout: still remove the containers

SERVICES=(outbox-relay catalog-publisher stock-publisher image-uploader
    order-ingestor)
SIZE_MAX=120000000 # bytes (podman's MB): the service images' size target

if ! dep_podman_ready; then
    t_skip "the image builds and its services run" "podman cannot run here: $DEP_WHY"
    t_done
fi
t_cleanup_add dep_cleanup
DEP_LOGDIR=$T_TMP

t0=$SECONDS
t_ok "debian:12 and debian:12-slim from Debian's archive (mmdebstrap, cache $DEP_IMAGES)" \
    dep_base_images || t_bail "no base images"
t_diag "base images ready in $((SECONDS - t0)) s"
declare -A IMG
t1=$SECONDS
# The build stages too: their tags keep their layers for the next run.
for t in build build-store-sim omnisync "${SERVICES[@]}" store-sim; do
    IMG[$t]=$(dep_build "$t" "$T_TMP/build.log") || {
        tail -30 "$T_TMP/build.log" | t_diag "$(cat)"
        t_bail "podman build --target $t failed (log: $T_TMP/build.log)"
    }
done
t_pass "deploy/Dockerfile builds with podman build --pull=never (every target)"
t_diag "images built in $((SECONDS - t1)) s"
dep_prune_old

# ------------------------------------------------------------- the image
size=$(dep_image_size "${IMG[omnisync]}")
t_diag "image size: $size bytes ($((size / 1000000)) MB; target <= $((SIZE_MAX / 1000000)) MB)"
t_ok "the image is at most $((SIZE_MAX / 1000000)) MB ($((size / 1000000)) MB)" \
    test "$size" -le "$SIZE_MAX"
inside() { podman run --rm --entrypoint /bin/sh "${IMG[omnisync]}" -c "$1" 2>&1; }
t_isnt "it runs as a non-root user" "$(inside 'id -u')" 0
want_bins=$(for d in "$OMNISYNC_ROOT"/services/*/main.c; do
    basename "$(dirname "$d")"
done | sort | tr '\n' ' ')
t_is "it holds the production binaries and the CLI, nothing else" \
    "$(inside 'ls /opt/omnisync/bin' | sort | tr '\n' ' ')" "$want_bins"
t_is "no compiler, no curl, no dev package" \
    "$(inside 'command -v cc gcc curl wget; dpkg-query -W -f "\${Package}\n" | grep -e "-dev$"')" ""
t_like "the migrations are in it" "$(inside 'ls $OMNISYNC_SQL_DIR')" '0001_ledger\.sql'
for s in "${SERVICES[@]}"; do
    t_is "$s's HEALTHCHECK runs its own --probe" \
        "$(podman image inspect --format '{{json .Config.Healthcheck.Test}}' "${IMG[$s]}")" \
        "[\"CMD\",\"/opt/omnisync/bin/$s\",\"--probe\"]"
done

# ----------------------------------------------------------- the ledger
CAT=$(realpath "$T_TMP")/cat
IMG_NPH=24 # photos, two per product
mkdir -p "$CAT" && cat_gen "$CAT" 12 24 || t_bail "cannot write the catalog"
chmod -R a+rX "$CAT"
# The catalog and its photos are mounted for the import only: it stores
# each photo's bytes in the ledger, and the services never see the files.
omni() { dep_oneshot "${IMG[omnisync]}" omnisync "$@"; }
t_ok "omnisync db migrate (from the image)" omni db migrate
# The harness created the topics; the compose file's `topics` job runs this.
t_like "omnisync topics create (from the image): the topics exist, a rerun is harmless" \
    "$(omni topics create 2>&1)" 'omnisync\.orders\.v1 +exists'
omni pricelist add ONLINE --name Online >/dev/null || t_bail "pricelist"
omni location add WH1 --kind warehouse >/dev/null || t_bail "location WH1"
omni location add WEB1 --kind online --price-list ONLINE >/dev/null ||
    t_bail "location WEB1"
t_ok "omnisync import catalog with photos (from the image)" \
    dep_oneshot -v "$CAT:$CAT:ro" "${IMG[omnisync]}" omnisync import catalog \
    "$CAT/catalog.csv" --price-list ONLINE
rm -rf "$CAT/photos" # no container reads them: the uploaders read the ledger

# ------------------------------------------------------------ the store
CAT_SIM_PORT=$(free_port)
dep_run sim "${IMG[store-sim]}" --port "$CAT_SIM_PORT" --login "$CAT_LOGIN" \
    --password "$CAT_PW" --limit 500 --window 5 --image-processing-ms 0 ||
    t_bail "store-sim container"
wait_for 20 sim_get /_sim/health || t_bail "store-sim did not start: $(dep_logs sim)"
t_pass "store-sim runs from its own target"
t_is "its --data-dir home /var/lib/store-sim is its user's (compose's named volume starts as a copy)" \
    "$(podman run --rm --entrypoint /bin/sh "${IMG[store-sim]}" -c 'stat -c %u:%a /var/lib/store-sim' 2>&1)" \
    "10001:755"
t_ok "omnisync store add (from the image)" \
    dep_oneshot -e CAT_PW_ENV="$CAT_PW" "${IMG[omnisync]}" omnisync store add \
    "$CAT_STORE" --platform insales --url "http://127.0.0.1:$CAT_SIM_PORT" \
    --login "$CAT_LOGIN" --password-env CAT_PW_ENV --online-location WEB1 \
    --source-locations WH1 --price-list ONLINE --delivery-sku ART-00001-1 \
    --api-limit 500 --api-window 5
# Only the sync's events matter: the import's store-less ones are sent.
sql "UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL" >/dev/null

# ---------------------------------------------------------- the services
# Each replica has its own ports (host network): the health endpoint's
# (http.listen, once the services serve it) and the intake's.  Consumers
# get the harness's Kafka options.
read -ra KOPTS <<<"${HARNESS_KAFKA_OPTS:-}"
svc() {
    local name=$1
    shift
    dep_run "$name" -e OMNISYNC_HTTP_LISTEN="127.0.0.1:$(free_port)" \
        -e OMNISYNC_LOG_LEVEL=info "$@"
}
svc relay "${IMG[outbox-relay]}" -o relay.poll.ms=200 -o relay.standby.ms=200
svc catpub "${IMG[catalog-publisher]}" "${KOPTS[@]}"
svc stockpub "${IMG[stock-publisher]}" "${KOPTS[@]}"
svc imgup1 "${IMG[image-uploader]}" "${KOPTS[@]}"
svc imgup2 "${IMG[image-uploader]}" "${KOPTS[@]}"
INGEST=()
for i in 1 2; do
    p=$(free_port)
    svc "ingest$i" -e OMNISYNC_INTAKE_LISTEN="127.0.0.1:$p" \
        -e OMNISYNC_INTAKE_PUBLIC_URL="http://127.0.0.1:$p" \
        -e OMNISYNC_POLL_INTERVAL_MS=2000 -e OMNISYNC_STORES_REFRESH_MS=2000 \
        "${IMG[order-ingestor]}" "${KOPTS[@]}"
    INGEST+=("ingest$i")
done
NAMES=(relay catpub stockpub imgup1 imgup2 "${INGEST[@]}")
listening() { dep_logs "$1" | grep -q 'intake listening on'; }
for n in "${INGEST[@]}"; do
    t_ok "$n's intake listens on its own address" wait_for 30 listening "$n"
done
hooks() { sim_get /admin/webhooks.json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
hooks_ok() { [ "$(hooks)" -ge 4 ]; }
t_ok "both order-ingestors register their webhooks" wait_for 30 hooks_ok
running() { [ "$(podman inspect --format '{{.State.Running}}' "$DEP_PREFIX-$1")" = true ]; }
for n in "${NAMES[@]}"; do
    t_ok "$n runs from the image" running "$n" || t_diag "$(dep_logs "$n" | tail -5)"
done

# --------------------------------------------------- catalog, photos, stock
mapfile -t SKUS < <(sql "SELECT sku FROM variant WHERE sku NOT LIKE 'ART-00001-%' ORDER BY sku")
for s in "${SKUS[@]:0:8}"; do
    omni stock receipt WH1 "$s" 40 --ref "rcpt-$s" >/dev/null || t_bail "receipt $s"
done
t_ok "sync initial: the catalog and its photos reach the store" \
    omni sync initial "$CAT_STORE" --timeout 180
for s in "${SKUS[@]:8}"; do
    omni stock receipt WH1 "$s" 40 --ref "rcpt-$s" >/dev/null || t_bail "receipt $s"
done
omni stock writeoff WH1 "${SKUS[0]}" 5 --ref "wo-1" >/dev/null || t_bail "writeoff"
t_ok "the store holds the ledger's catalog" cat_compare
t_ok "and every photo once" img_compare
uploads() { dep_logs "$1" | grep -c 'uploaded as image'; }
for n in imgup1 imgup2; do
    t_ok "$n uploaded photos ($(uploads "$n"))" test "$(uploads "$n")" -gt 0
done

# The store converges when `omnisync reconcile` (from the image) finds no
# drift: every variant's quantity, price and old price as the ledger says.
t_ok "the store shows the ledger's stock (omnisync reconcile exits 0)" \
    wait_for 90 omni reconcile "$CAT_STORE"

# ------------------------------------------------------------------ orders
# Shoppers: 40 orders of one or two lines, one or two of each SKU.
: >"$T_TMP/orders.jsonl"
RANDOM=13
ordered=0
for ((i = 0; i < 40; i++)); do
    lines=
    for s in "${SKUS[RANDOM % ${#SKUS[@]}]}" "${SKUS[RANDOM % ${#SKUS[@]}]}"; do
        [[ "$lines" == *"\"$s\""* ]] && continue
        q=$((RANDOM % 2 + 1))
        ordered=$((ordered + q))
        lines+="${lines:+,}{\"sku\":\"$s\",\"quantity\":$q}"
        [ $((i % 3)) -eq 0 ] && break
    done
    body="{\"lines\":[$lines],\"delivery_title\":\"Courier\",\"delivery_price\":\"300.0\",\"client\":{\"name\":\"Buyer $i\"}}"
    curl -sf -X POST -H 'Content-Type: application/json' --data "$body" \
        "http://127.0.0.1:$CAT_SIM_PORT/_sim/orders" >>"$T_TMP/orders.jsonl" &&
        echo >>"$T_TMP/orders.jsonl"
done
placed=$(grep -c . "$T_TMP/orders.jsonl")
t_ok "shoppers placed 40 orders" test "$placed" -eq 40
orders_in() { test "$(sql "SELECT count(*) FROM customer_order")" -ge "$placed"; }
t_ok "the orders reach the ledger" wait_for 90 orders_in
sleep 3 # duplicates (two intakes, polls) still in flight must change nothing
t_is "each order landed once" \
    "$(sql "SELECT count(*) || '/' || count(DISTINCT remote_id) FROM customer_order")" \
    "$placed/$placed"
t_is "reserved = the ordered quantities" \
    "$(sql "SELECT coalesce(sum(reserved), 0) FROM stock_level")" "$ordered"
t_ok "the store converges after the orders (omnisync reconcile exits 0)" \
    wait_for 90 omni reconcile "$CAT_STORE"

# ------------------------------------------------------------ healthchecks
probe_help=$(podman run --rm "${IMG[outbox-relay]}" --help 2>&1)
if [[ "$probe_help" == *--probe* ]]; then
    for n in "${NAMES[@]}"; do
        t_ok "$n: podman healthcheck run passes" podman healthcheck run "$DEP_PREFIX-$n"
    done
else
    t_skip "podman healthcheck run passes in every container" \
        "the services have no --probe yet (outbox-relay --help does not list it)"
fi

# -------------------------------------------------------------------- stop
STOP_TIMEOUT=30
for n in "${NAMES[@]}" sim; do
    ts=$SECONDS
    podman stop -t "$STOP_TIMEOUT" "$DEP_PREFIX-$n" >/dev/null 2>&1
    took=$((SECONDS - ts))
    code=$(podman inspect --format '{{.State.ExitCode}}' "$DEP_PREFIX-$n")
    t_is "podman stop ends $n with exit 0 (in $took s < $STOP_TIMEOUT s)" \
        "$code/$((took < STOP_TIMEOUT))" "0/1"
done
accepted() { dep_logs "$1" | sed -n 's/.*intake: accepted=\([0-9]*\).*/\1/p' | tail -1; }
for n in "${INGEST[@]}"; do
    t_ok "$n took webhooks (accepted=$(accepted "$n"))" test "$(accepted "$n")" -gt 0
done
t_diag "total $((SECONDS - t0)) s"
t_done
