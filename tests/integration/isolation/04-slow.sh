#!/usr/bin/env bash
# harness: fresh-kafka
# Per-store isolation from a slow and from a hanging store
# (docs/isolation.md, "Slow stores: store workers"): two stores on two
# store-sims, every publisher running.  A baseline measures how long a
# catalog edit, a stock movement and a new photo take to reach store S2
# while both are healthy.  Then S1 answers every call only after 20 s
# (slow, but it succeeds: nothing fails, nothing is parked for a
# failure), and then S1 holds every call past the client's timeout
# (store.timeout.ms=25000 here: above the slow store's 20 s, so its calls
# succeed, and below the default 55 s, so the test stays short).  In both
# cases S2's worst latency must stay within 2x the baseline + 2 s (before,
# each of S1's calls held every store for its whole duration).  A SIGTERM
# of catalog-publisher while S1's call hangs exits 0 within drain.ms and
# leaves S1's work parked and unclaimed.  Once S1 is healthy all its work
# arrives: nothing stays parked, its catalog equals the ledger, it has the
# last photo, `omnisync reconcile` exits 0 for both stores and the
# publishers exit 0 on SIGTERM.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/isolation/iso-lib.bash"
# For every publisher this script starts (config from the environment).
export OMNISYNC_STORE_TIMEOUT_MS=25000
export OMNISYNC_DRAIN_MS=3000

iso_setup
rid_of() { # STORE ARTICLE: the store's product id
    sql "SELECT rm.remote_id FROM remote_map rm JOIN store s ON s.id = rm.store_id
          WHERE s.name = '$1' AND rm.entity = 'product'
            AND rm.local_id = (SELECT id FROM product WHERE article = '$2')"
}
RID2=$(rid_of "$S2" ART-00010)
RID2_5=$(rid_of "$S2" ART-00005)
declare -A CUR=([ART-00010]=red.png [ART-00005]=red.png)
declare -A CELL=([ART-00010]='600,00;' [ART-00005]='51,50;;')
NPHOTO=0
# new_photo ART: ART's second photo becomes a new one (distinct bytes;
# SHA: its sha256) and the catalog is imported.
new_photo() {
    local art=$1 new
    NPHOTO=$((NPHOTO + 1))
    new=p$NPHOTO.png
    python3 - "$OMNISYNC_ROOT/tests/fixtures/catalog/photos/red.png" \
        "$T_TMP/cat/photos/$new" "slow $NPHOTO $RANDOM" <<'PY'
import struct, sys, zlib
png = open(sys.argv[1], "rb").read()
body = b"tEXt" + b"Comment\0" + sys.argv[3].encode()
chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)
open(sys.argv[2], "wb").write(png[:33] + chunk + png[33:])
PY
    SHA=$(sha256sum "$T_TMP/cat/photos/$new" | cut -d' ' -f1)
    sed -i "s#${CELL[$art]}photos/grey.jpg|photos/${CUR[$art]}#${CELL[$art]}photos/grey.jpg|photos/$new#" \
        "$T_TMP/cat/catalog.csv"
    CUR[$art]=$new
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE \
        >/dev/null 2>&1
}
# photo: a new photo of ART-00010 (catalog-publisher, then
# image-uploader); PH_MS: the ms until S2 has it (or "timeout").
photo() {
    local t0
    t0=$(now_ms)
    PH_MS=import-failed
    new_photo ART-00010 || return
    s2_photo() { sim2_get "/_sim/products/$RID2/images" | grep -q "$SHA"; }
    PH_MS=timeout
    wait_for 60 s2_photo || return
    PH_MS=$(($(now_ms) - t0))
}
# queue_photo: image-uploader stops, a new photo of ART-00005 is imported
# and its jobs for both stores wait in one partition, S1's first.
queue_photo() {
    t_kill imgup TERM
    t_is "image-uploader stopped (the jobs wait in Kafka)" "$?" 0
    new_photo ART-00005
    t_is "import a new photo of ART-00005" "$?" 0
    jobs() {
        [ "$(kcat -C -b "$OMNISYNC_KAFKA" -t omnisync.images.v1 -o beginning \
            -e -q 2>/dev/null | grep -c "$SHA")" -ge 2 ]
    }
    t_ok "catalog-publisher queued a job for each store" wait_for 60 jobs
}
# imgup_start: PH_MS, the ms from image-uploader's start until S2 has the
# queued photo.
imgup_start() {
    local t0
    t0=$(now_ms)
    t_bg imgup image-uploader -o log.level=info ${HARNESS_KAFKA_OPTS:-}
    s2_queued() { sim2_get "/_sim/products/$RID2_5/images" | grep -q "$SHA"; }
    PH_MS=timeout
    wait_for 60 s2_queued || return
    PH_MS=$(($(now_ms) - t0))
}

iso_baseline
photo
B_IMG=$PH_MS
t_diag "baseline: new photo -> S2 ${B_IMG} ms"
t_like "baseline photo latency measured" "$B_IMG" '^[0-9]+$'
queue_photo
imgup_start
B_IMGQ=$PH_MS
t_diag "baseline: queued photo -> S2 ${B_IMGQ} ms after image-uploader started"
t_like "baseline queued photo latency measured" "$B_IMGQ" '^[0-9]+$'

# imgup_phase NAME FAULT: S1 gets FAULT with a photo job queued ahead of
# S2's; S2's photo must arrive within 2x the baseline + 2 s.
imgup_phase() {
    queue_photo
    t_ok "S1 is $1" faults1 "$2"
    imgup_start
    t_diag "S1 $1: queued photo -> S2 ${PH_MS} ms after image-uploader started (limit $((2 * B_IMGQ + 2000)))"
    [[ $PH_MS =~ ^[0-9]+$ ]] || PH_MS=999999
    t_ok "S1 $1: S2's queued photo latency unchanged (<= 2x baseline + 2 s)" \
        test "$PH_MS" -le $((2 * B_IMGQ + 2000))
    s1_image_parked() { [ "$(parked_rows "$S1" image)" -ge 1 ]; }
    t_ok "S1 $1: its photo job is parked (in flight or behind)" \
        wait_for 5 s1_image_parked
}

# phase NAME N...: edits, receipts and a photo while S1 is NAME; S2's
# worst of each must stay within 2x its baseline + 2 s.
phase() {
    local name=$1 n c s p wc=0 ws=0 wp
    shift
    for n in "$@"; do
        c=$(edit "$n")
        s=$(move "$n")
        t_diag "S1 $name: ART-0000$n catalog -> S2 ${c} ms, stock -> S2 ${s} ms"
        [[ $c =~ ^[0-9]+$ ]] || c=999999
        [[ $s =~ ^[0-9]+$ ]] || s=999999
        [ "$c" -gt "$wc" ] && wc=$c
        [ "$s" -gt "$ws" ] && ws=$s
    done
    photo
    wp=$PH_MS
    t_diag "S1 $name: new photo -> S2 ${wp} ms"
    [[ $wp =~ ^[0-9]+$ ]] || wp=999999
    t_diag "worst while S1 is $name: catalog ${wc} ms (limit $((2 * B_CAT + 2000))), stock ${ws} ms (limit $((2 * B_STK + 2000))), photo ${wp} ms (limit $((2 * B_IMG + 2000)))"
    t_ok "S1 $name: S2's catalog latency unchanged (<= 2x baseline + 2 s)" \
        test "$wc" -le $((2 * B_CAT + 2000))
    t_ok "S1 $name: S2's stock latency unchanged (<= 2x baseline + 2 s)" \
        test "$ws" -le $((2 * B_STK + 2000))
    t_ok "S1 $name: S2's photo latency unchanged (<= 2x baseline + 2 s)" \
        test "$wp" -le $((2 * B_IMG + 2000))
}

imgup_phase slow '{"latency_ms":20000}'
phase slow 3 4
inflight() { [ "$(parked_rows "$S1" catalog)" -ge 1 ]; }
t_ok "S1's slow work is parked in flight (nothing lost meanwhile)" \
    wait_for 10 inflight
t_is "nothing parked for S2" "$(parked_rows "$S2")" 0

t_ok "S1 answers at once again (its backlog drains)" faults1 '{"latency_ms":0}'
imgup_phase hanging '{"timeout_rate":1,"timeout_ms":60000}'
phase hanging 5 6
t_is "nothing parked for S2" "$(parked_rows "$S2")" 0

# SIGTERM while S1's calls hang: catalog-publisher waits drain.ms (3 s)
# for them, leaves them parked and unclaimed, and exits 0.
t0=$(now_ms)
t_kill catpub TERM
t_is "catalog-publisher exits 0 on SIGTERM while S1 hangs" "$?" 0
took=$(($(now_ms) - t0))
t_diag "catalog-publisher stopped in ${took} ms"
t_ok "... within drain.ms + 5 s" test "$took" -le 8000
t_ok "S1's catalog work stays parked" test "$(parked_rows "$S1" catalog)" -ge 1
t_is "... and unclaimed (a restart takes it at once)" \
    "$(sql "SELECT count(*) FROM parked WHERE kind = 'catalog' AND claimed_until > now()")" 0
cat_publisher_start catpub

t_ok "S1 is healthy again" faults1 '{"timeout_rate":0}'
iso_converge
rid1=$(rid_of "$S1" ART-00010)
t_ok "S1 has the last photo" \
    bash -c "curl -sf -u '$CAT_LOGIN:$CAT_PW' 'http://127.0.0.1:$CAT_SIM_PORT/_sim/products/$rid1/images' | grep -q $SHA"
t_done
