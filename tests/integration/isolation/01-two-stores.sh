#!/usr/bin/env bash
# harness: fresh-kafka
# Per-store isolation (docs/isolation.md): two stores on two store-sims,
# every publisher running.  A baseline measures how long a catalog edit
# and a stock movement take to reach store S2 while both stores are
# healthy; then S1 answers every call with 500 and the same is measured
# again: S2's latency must stay within 2x the baseline + 2 s (before, S2
# got no catalog change until S1 recovered).  S1's products are parked
# meanwhile (table parked, gauge omnisync_parked_items); once S1 answers
# again it converges: `omnisync reconcile` exits 0 for both stores, the
# catalog equals the ledger and nothing stays parked.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"

CP_HTTP=$(free_port)
cat_publisher_start() {
    t_bg "${1:-catpub}" catalog-publisher -o log.level=info \
        -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500 \
        -o http.listen="127.0.0.1:$CP_HTTP"
}
CAT_SIM_EXTRA="--group-update queued --group-update-delay-ms 200"
cat_setup 12 2
S1=$CAT_STORE
S2="${CAT_STORE}b"

# S2: a second store-sim and store, fed by the same warehouse.
SIM2_PORT=$(free_port)
t_bg sim2 store-sim --port "$SIM2_PORT" --login "$CAT_LOGIN" \
    --password "$CAT_PW" --limit 500 --window 10 \
    --group-update queued --group-update-delay-ms 200
sim2_get() { curl -sf -u "$CAT_LOGIN:$CAT_PW" "http://127.0.0.1:$SIM2_PORT$1"; }
wait_for 10 sim2_get /_sim/health || t_bail "store-sim 2 did not start"
omnisync location add WEB2 --kind online --price-list ONLINE >/dev/null ||
    t_bail "location WEB2"
CAT_PW_ENV=$CAT_PW omnisync store add "$S2" --platform insales \
    --url "http://127.0.0.1:$SIM2_PORT" --login "$CAT_LOGIN" \
    --password-env CAT_PW_ENV --online-location WEB2 \
    --source-locations WH1 --price-list ONLINE \
    --delivery-sku ART-00001-1 --api-limit 500 --api-window 10 >/dev/null ||
    t_bail "store add $S2"
t_bg imgup image-uploader -o log.level=info ${HARNESS_KAFKA_OPTS:-}
t_bg stockpub stock-publisher -o log.level=info -o stockpub.flush.ms=200 \
    ${HARNESS_KAFKA_OPTS:-}

t_ok "sync initial $S1" omnisync sync initial "$S1" --timeout 180
t_ok "sync initial $S2" omnisync sync initial "$S2" --timeout 180

faults1() {
    curl -sf -X POST -H 'Content-Type: application/json' -d "$1" \
        "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# s2_has TEXT: S2's products show TEXT (a description).
s2_has() { sim2_get "/admin/products.json?per_page=250" | grep -q "$1"; }
# s2_qty SKU N: S2's quantity of SKU is N.
s2_qty() {
    [ "$(sim2_get "/_sim/state?skus=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['variants_by_sku']['$1']['quantity'])")" = "$2" ]
}
ledger_avail() { # SKU: what the store may sell
    sql "SELECT GREATEST(0, coalesce(sum(l.on_hand - l.reserved), 0))
           FROM stock_level l JOIN variant v ON v.id = l.variant_id
          WHERE v.sku = '$1' AND l.location_id = (SELECT id FROM location WHERE code = 'WH1')"
}
# edit N: change ART-0000N's description, import; prints ms until S2 shows it.
edit() {
    local t0 art
    art=$(printf 'ART-%05d' "$1")
    t0=$(now_ms)
    sed -i "s/Описание товара $art;/Правка $art;/" "$T_TMP/cat/catalog.csv"
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE \
        >/dev/null 2>&1 || { echo import-failed; return; }
    wait_for 60 s2_has "Правка $art" || { echo timeout; return; }
    echo $(($(now_ms) - t0))
}
# move N: receive 5 of ART-0000N-2; prints ms until S2 shows the quantity.
move() {
    local t0 sku want
    sku=$(printf 'ART-%05d-2' "$1")
    t0=$(now_ms)
    omnisync stock receipt WH1 "$sku" 5 --ref "iso-$1-$RANDOM" >/dev/null ||
        { echo receipt-failed; return; }
    want=$(ledger_avail "$sku")
    wait_for 60 s2_qty "$sku" "$want" || { echo timeout; return; }
    echo $(($(now_ms) - t0))
}

# Baseline: both healthy.
b_cat=$(edit 2)
b_stk=$(move 2)
t_diag "baseline: catalog edit -> S2 ${b_cat} ms, stock movement -> S2 ${b_stk} ms"
t_like "baseline catalog latency measured" "$b_cat" '^[0-9]+$'
t_like "baseline stock latency measured" "$b_stk" '^[0-9]+$'

# S1 fails every call with 500.
t_ok "S1 answers 500 from now on" faults1 '{"error_rate":1,"error_status":500}'
worst_cat=0
worst_stk=0
for n in 3 4 5; do
    c=$(edit "$n")
    s=$(move "$n")
    t_diag "S1 failing: ART-0000$n catalog -> S2 ${c} ms, stock -> S2 ${s} ms"
    [[ $c =~ ^[0-9]+$ ]] || c=999999
    [[ $s =~ ^[0-9]+$ ]] || s=999999
    [ "$c" -gt "$worst_cat" ] && worst_cat=$c
    [ "$s" -gt "$worst_stk" ] && worst_stk=$s
done
lim_cat=$((2 * b_cat + 2000))
lim_stk=$((2 * b_stk + 2000))
t_diag "worst while S1 fails: catalog ${worst_cat} ms (limit ${lim_cat}), stock ${worst_stk} ms (limit ${lim_stk})"
t_ok "S2's catalog latency unchanged (<= 2x baseline + 2 s)" \
    test "$worst_cat" -le "$lim_cat"
t_ok "S2's stock latency unchanged (<= 2x baseline + 2 s)" \
    test "$worst_stk" -le "$lim_stk"
parked=$(sql "SELECT count(*) FROM parked p JOIN store s ON s.id = p.store_id
               WHERE s.name = '$S1' AND p.kind = 'catalog'")
t_diag "parked for $S1: $parked"
t_ok "S1's products are parked, not lost" test "$parked" -ge 3
t_is "nothing parked for S2" "$(sql "SELECT count(*) FROM parked p JOIN store s ON s.id = p.store_id WHERE s.name = '$S2'")" 0
gauge=$(curl -sf "http://127.0.0.1:$CP_HTTP/metrics" | grep "^omnisync_parked_items{store=\"$S1\",kind=\"catalog\"}")
t_diag "$gauge"
t_like "the gauge shows S1's parked products" "$gauge" ' [1-9][0-9]*$'

# S1 recovers and converges.
t_ok "S1 answers again" faults1 '{"error_rate":0}'
none_parked() { [ "$(sql "SELECT count(*) FROM parked")" = 0 ]; }
t_ok "S1's parked products are published" wait_for 120 none_parked
t_ok "S1's catalog equals the ledger" wait_for 60 cat_compare
t_ok "reconcile $S1 exits 0" wait_for 90 omnisync reconcile "$S1"
t_ok "reconcile $S2 exits 0" omnisync reconcile "$S2"
for n in catpub stockpub imgup; do
    t_kill "$n" TERM
    t_is "$n exits 0 on SIGTERM" "$?" 0
done
t_done
