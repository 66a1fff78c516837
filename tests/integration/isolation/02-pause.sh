#!/usr/bin/env bash
# harness: fresh-kafka
# Per-store isolation under a rate-limit pause (docs/isolation.md): S1
# answers every call with 429, so the budget pauses S1 for the fleet
# until its Retry-After.  A call waits at most token.wait.ms for S1's
# token and S1's work is put aside, so S2's catalog and stock latency stay
# within 2x the baseline + 2 s; S1 converges after the pause.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/isolation/iso-lib.bash"

iso_setup
iso_baseline
t_ok "S1 answers 429 from now on" faults1 '{"error_rate":1,"error_status":429}'
iso_measure 3 4 5 6
t_ok "S1's products are parked, not lost" test "$(parked_rows "$S1" catalog)" -ge 4
t_is "nothing parked for S2" "$(parked_rows "$S2")" 0
iso_converge
t_done
