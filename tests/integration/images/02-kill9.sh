#!/usr/bin/env bash
# harness: fresh-kafka
# kill -9 of image-uploader (two instances share the work) and of
# catalog-publisher at random moments during an initial sync of 300
# products / 1,000 variants / 900 photos, restarted: the same end state,
# no duplicate photo, product or variant.  Then the crash window itself,
# made deterministic: a photo uploaded but recorded only as in flight is
# found by its filename and not uploaded again.
. "$OMNISYNC_ROOT/tests/integration/images/images-lib.bash"
NP=${IMG_NP:-300}
NV=${IMG_NV:-1000}
NPH=${IMG_NPH_ALL:-900}

img_setup "$NP" "$NV" "$NPH"
img_uploader_start imgup2
# Slow the store down so the kills land in the middle of the sync.
curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"latency_ms":15}' "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null
t_bg sync omnisync sync initial "$CAT_STORE" --timeout 500
state() { sim_get /_sim/state | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
at_least() { [ "$(state "$1")" -ge "$2" ]; }

kill_p=$((NP / 4 + RANDOM % (NP / 2)))
t_ok "publisher creates products" wait_for 200 at_least products "$kill_p"
t_kill catpub KILL
t_diag "killed catalog-publisher with -9 after $kill_p+ products"
cat_publisher_start catpub2

kill_i=$((NPH / 5 + RANDOM % (NPH / 3)))
t_ok "uploaders upload photos" wait_for 300 at_least images "$kill_i"
t_kill imgup KILL
t_diag "killed image-uploader #1 with -9 after $kill_i+ images"
img_uploader_start imgup3

kill_j=$((kill_i + 50 + RANDOM % 100))
t_ok "uploads go on" wait_for 300 at_least images "$kill_j"
t_kill imgup2 KILL
t_diag "killed image-uploader #2 with -9 after $kill_j+ images"
t_unlike "killed uploaders did not shut down cleanly" \
    "$(cat "$T_TMP/imgup.log" "$T_TMP/imgup2.log")" 'stopped \(exit'
img_uploader_start imgup4

t_wait sync 500
t_is "sync initial completes after the restarts" "$?" 0 ||
    t_diag "$(tail -5 "$T_TMP/sync.log")" "$(tail -20 "$T_TMP/imgup4.log")"
t_diag "$(tail -2 "$T_TMP/sync.log")"
t_ok "store-sim equals the ledger, no duplicate product or variant" cat_compare
t_diag "$(cat_compare)"
t_ok "every photo once, no duplicate image" img_compare
t_diag "$(img_compare)"
found=$(cat "$T_TMP"/imgup*.log | grep -c 'not uploaded again')
t_diag "uploads found by filename after a crash: $found"

# The crash window, deterministic: photo X was uploaded, then the process
# died before recording the id (the in-flight marker stays).
curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"latency_ms":0}' "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null
pid=$(sql "SELECT local_id FROM remote_map WHERE entity = 'image' ORDER BY local_id LIMIT 1")
sql "UPDATE remote_map SET remote_id = -local_id, payload_hash = 'inflight'
      WHERE entity = 'image' AND local_id = $pid" >/dev/null
seq=$(sim_seq)
out=$(omnisync sync resync "$CAT_STORE" --images --timeout 60 2>&1)
t_is "resync --images completes" "$?" 0 || t_diag "$out"
t_like "it queues the one product" "$out" ' 1 catalog.product'
t_is "the photo is found in the store, not uploaded again" \
    "$(sim_changes "$seq" | wc -l)" 0
t_like "the uploader listed the product's images" \
    "$(sim_get "/_sim/requests?since=$seq")" '"GET","path":"/admin/products/[0-9]+/images.json"'
t_is "its id is recorded again" \
    "$(sql "SELECT count(*) FROM remote_map WHERE entity = 'image' AND local_id = $pid AND remote_id > 0")" 1
t_ok "still every photo once" img_compare

t_kill catpub2 TERM
t_kill imgup3 TERM
t_kill imgup4 TERM
t_done
