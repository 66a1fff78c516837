# shellcheck shell=bash
# tests/integration/isolation/iso-lib.bash — two stores on two store-sims
# with every publisher running (not a test itself: tests/run.sh runs only
# *.sh).
#
#   . "$OMNISYNC_ROOT/tests/integration/isolation/iso-lib.bash"
#   iso_setup            # ledger (12 products, photos on ART-00005 and
#                        # ART-00010), S1 (catalog-lib's store-sim) and S2
#                        # (a second one), relay, catalog-publisher (ops
#                        # port $CP_HTTP), stock-publisher "stockpub",
#                        # image-uploader "imgup", both stores synced
#   faults1 JSON         # POST /_sim/faults on S1's store-sim
#   sim2_get PATH        # GET on S2's store-sim
#   edit N / move N      # a catalog edit of ART-0000N / a receipt of
#                        # ART-0000N-2: print the ms until S2 shows it
#   iso_baseline         # B_CAT, B_STK: edit 2 and move 2, both healthy
#   iso_measure N...     # WORST_CAT, WORST_STK over edits and moves N...,
#                        # checked against 2x the baseline + 2 s
#   parked_rows STORE [KIND]
#   iso_converge         # S1 answers again: nothing stays parked, S1's
#                        # catalog equals the ledger, reconcile exits 0 for
#                        # both stores, the publishers exit 0 on SIGTERM
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
export PATH=$OMNISYNC_ROOT/bin:$PATH

CP_HTTP=$(free_port)
cat_publisher_start() {
    t_bg "${1:-catpub}" catalog-publisher -o log.level=info \
        -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500 \
        -o http.listen="127.0.0.1:$CP_HTTP"
}
CAT_SIM_EXTRA="--group-update queued --group-update-delay-ms 200 --image-processing-ms 0"

sim2_get() { curl -sf -u "$CAT_LOGIN:$CAT_PW" "http://127.0.0.1:$SIM2_PORT$1"; }

iso_setup() {
    cat_setup 12 2
    S1=$CAT_STORE
    S2="${CAT_STORE}b"
    SIM2_PORT=$(free_port)
    t_bg sim2 store-sim --port "$SIM2_PORT" --login "$CAT_LOGIN" \
        --password "$CAT_PW" --limit 500 --window 10 \
        --group-update queued --group-update-delay-ms 200 \
        --image-processing-ms 0
    wait_for 10 sim2_get /_sim/health || t_bail "store-sim 2 did not start"
    omnisync location add WEB2 --kind online --price-list ONLINE >/dev/null ||
        t_bail "location WEB2"
    CAT_PW_ENV=$CAT_PW omnisync store add "$S2" --platform insales \
        --url "http://127.0.0.1:$SIM2_PORT" --login "$CAT_LOGIN" \
        --password-env CAT_PW_ENV --online-location WEB2 \
        --source-locations WH1 --price-list ONLINE \
        --delivery-sku ART-00001-1 --api-limit 500 --api-window 10 \
        >/dev/null || t_bail "store add $S2"
    t_bg imgup image-uploader -o log.level=info ${HARNESS_KAFKA_OPTS:-}
    t_bg stockpub stock-publisher -o log.level=info -o stockpub.flush.ms=200 \
        ${HARNESS_KAFKA_OPTS:-}
    t_ok "sync initial $S1" omnisync sync initial "$S1" --timeout 180
    t_ok "sync initial $S2" omnisync sync initial "$S2" --timeout 180
}

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
          WHERE v.sku = '$1'
            AND l.location_id = (SELECT id FROM location WHERE code = 'WH1')"
}
# edit N: change ART-0000N's description and import it.
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
# move N: receive 5 of ART-0000N-2.
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

iso_baseline() {
    B_CAT=$(edit 2)
    B_STK=$(move 2)
    t_diag "baseline: catalog edit -> S2 ${B_CAT} ms, stock movement -> S2 ${B_STK} ms"
    t_like "baseline catalog latency measured" "$B_CAT" '^[0-9]+$'
    t_like "baseline stock latency measured" "$B_STK" '^[0-9]+$'
}

iso_measure() {
    local n c s lim_cat lim_stk
    WORST_CAT=0
    WORST_STK=0
    for n in "$@"; do
        c=$(edit "$n")
        s=$(move "$n")
        t_diag "S1 failing: ART-0000$n catalog -> S2 ${c} ms, stock -> S2 ${s} ms"
        [[ $c =~ ^[0-9]+$ ]] || c=999999
        [[ $s =~ ^[0-9]+$ ]] || s=999999
        [ "$c" -gt "$WORST_CAT" ] && WORST_CAT=$c
        [ "$s" -gt "$WORST_STK" ] && WORST_STK=$s
    done
    lim_cat=$((2 * B_CAT + 2000))
    lim_stk=$((2 * B_STK + 2000))
    t_diag "worst while S1 fails: catalog ${WORST_CAT} ms (limit ${lim_cat}), stock ${WORST_STK} ms (limit ${lim_stk})"
    t_ok "S2's catalog latency unchanged (<= 2x baseline + 2 s)" \
        test "$WORST_CAT" -le "$lim_cat"
    t_ok "S2's stock latency unchanged (<= 2x baseline + 2 s)" \
        test "$WORST_STK" -le "$lim_stk"
}

parked_rows() { # STORE [KIND]
    sql "SELECT count(*) FROM parked p JOIN store s ON s.id = p.store_id
          WHERE s.name = '$1' AND p.kind LIKE '${2:-%}'"
}

iso_converge() {
    local n
    t_ok "S1 answers again" faults1 '{"error_rate":0}'
    none_parked() { [ "$(sql "SELECT count(*) FROM parked")" = 0 ]; }
    t_ok "S1's parked work is published" wait_for 120 none_parked
    t_ok "S1's catalog equals the ledger" wait_for 60 cat_compare
    t_ok "reconcile $S1 exits 0" wait_for 90 omnisync reconcile "$S1"
    t_ok "reconcile $S2 exits 0" omnisync reconcile "$S2"
    for n in catpub stockpub imgup; do
        t_kill "$n" TERM
        t_is "$n exits 0 on SIGTERM" "$?" 0
    done
}
