#!/usr/bin/env bash
# Runs every benchmark script in bench/ (make bench).  Each prints its own
# figures, as ratios against a baseline measured in the same run where the
# benchmark has one.  Benchmarks are bounded in count and time and only
# talk to servers they start on loopback.
set -u
cd "$(dirname "$0")/.." || exit 1
rc=0
for b in bench/*.sh; do
    [ "$b" = bench/run.sh ] && continue
    [ -n "${1:-}" ] && [[ "$b" != *"$1"* ]] && continue
    echo "== $b"
    bash "$b" || { echo "bench: $b failed" >&2; rc=1; }
done
exit $rc
