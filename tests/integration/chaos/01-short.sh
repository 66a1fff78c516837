#!/usr/bin/env bash
# harness: fresh-kafka
# The chaos suite's short profile (docs/chaos.md): ~100 s of kills,
# restarts and store faults over the whole stack under continuous work,
# then every invariant.  The seed is derived from the date (one seed a
# day, the same all day) unless CHAOS_SEED is set; it is printed first, and
# a failure prints the command that replays it.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
seed=${CHAOS_SEED:-$(($(date -u +%Y%m%d) % 100000))}
echo "# chaos seed: $seed"
exec bash "$OMNISYNC_ROOT/tests/chaos/run.sh" --profile short --seed "$seed" \
    ${CHAOS_SECONDS:+--seconds "$CHAOS_SECONDS"}
