#!/usr/bin/env bash
# harness: fresh-kafka
# kill -9 of catalog-publisher during an initial sync, then a restart: the
# same end state, no duplicate product or variant in store-sim (in-flight
# markers + look-up by SKU before re-creating).
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
CAT_IMGUP=1 # photos are part of a sync
NP=${CAT_NP:-300}
NV=${CAT_NV:-4}

cat_setup "$NP" "$NV"
# Slow the store down so the kill lands in the middle of the sync.
curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"latency_ms":30}' "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults" >/dev/null
t_bg sync omnisync sync initial "$CAT_STORE" --timeout 300
created() { [ "$(sim_get /_sim/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["products"])')" -ge "$1" ]; }
kill_at=$((NP / 4 + RANDOM % (NP / 2)))
t_ok "publisher creates products" wait_for 120 created "$kill_at"
t_kill catpub KILL
t_diag "killed catalog-publisher with -9 after $kill_at+ products"
t_unlike "it did not shut down cleanly" "$(cat "$T_TMP/catpub.log")" 'stopped \(exit'
cat_publisher_start catpub2
t_wait sync 300
t_is "sync initial completes after the restart" "$?" 0
t_diag "$(tail -2 "$T_TMP/sync.log")"
t_ok "store-sim equals the ledger, no duplicates" cat_compare
t_diag "$(cat_compare)"
t_kill catpub2 TERM
t_done
