#!/usr/bin/env bash
# tests/run-unit.sh DIR — run the unit test binaries DIR/test_* (one per
# tests/unit/test_*.c) and print the total "N passed, N failed" last.
# Used by `make unit` (DIR = build/std/tests or build/san/tests).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:?usage: tests/run-unit.sh DIR}
cd "$ROOT" || exit 1
passed=0
failed=0
for src in tests/unit/test_*.c; do
    [ -e "$src" ] || continue
    n=$(basename "$src" .c)
    bin=$dir/$n
    if [ ! -x "$bin" ]; then
        echo "not ok - $n: not built ($bin)"
        failed=$((failed + 1))
        continue
    fi
    rc=0
    out=$(timeout -k 10 "${OMNISYNC_UNIT_TIMEOUT:-300}" "$bin" </dev/null 2>&1) || rc=$?
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
    p=$(printf '%s' "$line" | sed -nE 's/.*(^|[^0-9])([0-9]+) passed, ([0-9]+) failed.*/\2/p')
    f=$(printf '%s' "$line" | sed -nE 's/.*(^|[^0-9])([0-9]+) passed, ([0-9]+) failed.*/\3/p')
    p=${p:-0}
    f=${f:-0}
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        echo "not ok - $n: $p passed, $f failed (exit $rc)"
        printf '%s\n' "$out" | tail -40 | sed 's/^/#   /'
    else
        echo "ok - $n: $p passed"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
