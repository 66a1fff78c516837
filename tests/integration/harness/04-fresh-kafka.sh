#!/usr/bin/env bash
# harness: fresh-kafka
# A script whose header asks for "harness: fresh-kafka" gets an empty broker
# with the project's topics (earlier scripts produced to them).
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

meta=$(kcat -b "$OMNISYNC_KAFKA" -L -m 10 2>&1)
t_is "the 6 project topics exist" \
    "$(printf '%s\n' "$meta" | grep -c 'topic "omnisync\.')" 6
n=0
for t in omnisync.catalog.v1 omnisync.stock.v1 omnisync.images.v1 \
    omnisync.orders.v1 omnisync.dlq.v1; do
    c=$(timeout 60 kcat -b "$OMNISYNC_KAFKA" -C -t "$t" -o beginning -e -q \
        -f '%o\n' 2>/dev/null | wc -l)
    n=$((n + c))
done
t_is "every topic is empty" "$n" 0
t_done
