#!/usr/bin/env bash
# harness: fresh-kafka
# Per-store isolation in image-uploader (docs/isolation.md): the photo
# jobs of one product for S1 and S2 wait in one partition, S1's first;
# S1 then answers every call with 500.  S1's job is parked for
# (S1, photo) and S2's photo is uploaded within seconds (before, S2's job
# waited behind S1's retries until S1 recovered); once S1 answers again
# its parked job is uploaded and both stores converge.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/isolation/iso-lib.bash"

iso_setup
t_kill imgup TERM
t_is "image-uploader stopped (the jobs wait in Kafka)" "$?" 0

# A new second photo for ART-00010: one job per store.
python3 - "$OMNISYNC_ROOT/tests/fixtures/catalog/photos/red.png" \
    "$T_TMP/cat/photos/new10.png" <<'PY'
import struct, sys, zlib
png = open(sys.argv[1], "rb").read()
body = b"tEXt" + b"Comment\0isolation new10"
chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)
open(sys.argv[2], "wb").write(png[:33] + chunk + png[33:])
PY
sha=$(sha256sum "$T_TMP/cat/photos/new10.png" | cut -d' ' -f1)
sed -i 's#600,00;photos/grey.jpg|photos/red.png#600,00;photos/grey.jpg|photos/new10.png#' \
    "$T_TMP/cat/catalog.csv"
t_ok "import the new photo" \
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE
jobs() {
    [ "$(kcat -C -b "$OMNISYNC_KAFKA" -t omnisync.images.v1 -o beginning -e -q \
        2>/dev/null | grep -c "$sha")" -ge 2 ]
}
t_ok "catalog-publisher queued a job for each store" wait_for 60 jobs

rid2=$(sql "SELECT rm.remote_id FROM remote_map rm JOIN store s ON s.id = rm.store_id
             WHERE s.name = '$S2' AND rm.entity = 'product'
               AND rm.local_id = (SELECT id FROM product WHERE article = 'ART-00010')")
s2_photo() { sim2_get "/_sim/products/$rid2/images" | grep -q "$sha"; }
t_nok "S2 does not have it yet" s2_photo

t_ok "S1 answers 500 from now on" faults1 '{"error_rate":1,"error_status":500}'
t0=$(now_ms)
t_bg imgup image-uploader -o log.level=info ${HARNESS_KAFKA_OPTS:-}
if wait_for 30 s2_photo; then took=$(($(now_ms) - t0)); else took=timeout; fi
t_diag "S2 got the photo ${took} ms after image-uploader started, S1 failing"
t_like "S2's photo arrives while S1 fails" "$took" '^[0-9]+$'
t_ok "within 10 s" test "${took/timeout/999999}" -le 10000
parked=$(parked_rows "$S1" image)
t_is "S1's job is parked for (S1, photo)" "$parked" 1

iso_converge
rid1=$(sql "SELECT rm.remote_id FROM remote_map rm JOIN store s ON s.id = rm.store_id
             WHERE s.name = '$S1' AND rm.entity = 'product'
               AND rm.local_id = (SELECT id FROM product WHERE article = 'ART-00010')")
t_ok "S1 has the photo after it recovered" \
    bash -c "curl -sf -u '$CAT_LOGIN:$CAT_PW' 'http://127.0.0.1:$CAT_SIM_PORT/_sim/products/$rid1/images' | grep -q $sha"
t_done
