#!/usr/bin/env bash
# harness: fresh-kafka
# Per-store isolation (docs/isolation.md): two stores on two store-sims,
# every publisher running.  A baseline measures how long a catalog edit
# and a stock movement take to reach store S2 while both stores are
# healthy; then S1 answers every call with 500 and the same is measured
# again: S2's latency must stay within 2x the baseline + 2 s (before, S2
# got no catalog change until S1 recovered).  S1's products are parked
# meanwhile (table parked, gauge omnisync_parked_items) and survive a
# kill -9 of catalog-publisher; once S1 answers again it converges: `omnisync reconcile` exits 0 for both stores, the
# catalog equals the ledger and nothing stays parked.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/isolation/iso-lib.bash"

iso_setup
iso_baseline
t_ok "S1 answers 500 from now on" faults1 '{"error_rate":1,"error_status":500}'
iso_measure 3 4 5
parked=$(parked_rows "$S1" catalog)
t_diag "parked for $S1: $parked"
t_ok "S1's products are parked, not lost" test "$parked" -ge 3
t_is "nothing parked for S2" "$(parked_rows "$S2")" 0
gauge() {
    curl -sf "http://127.0.0.1:$CP_HTTP/metrics" |
        grep "^omnisync_parked_items{store=\"$S1\",kind=\"catalog\"}"
}
gauge_up() { gauge | grep -Eq ' [1-9][0-9]*$'; }
t_ok "the gauge shows S1's parked products (refreshed every 5 s)" \
    wait_for 10 gauge_up
t_diag "$(gauge)"
# Parked work lives in the ledger: a kill -9 loses nothing.
t_kill catpub KILL
cat_publisher_start catpub
iso_converge
t_done
