#!/usr/bin/env bash
# The libFuzzer targets (tests/fuzz/, docs/development.md "Fuzzing") build
# with clang and each runs OMNISYNC_FUZZ_SECONDS (default 10) from its
# committed seeds — which include every crash ever fixed — without a crash.
# A crash fails the test and names the input (build/fuzz/crashes/...).
# Without clang or its libFuzzer runtime the test is a SKIP saying so,
# never a pass.  Needs no servers.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

SECS=${OMNISYNC_FUZZ_SECONDS:-10}
CC_FUZZ=${FUZZ_CC:-clang}
cd "$OMNISYNC_ROOT" || t_bail "no $OMNISYNC_ROOT"

# Can clang link a libFuzzer program with ASan and UBSan?
why=
if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
    why="$CC_FUZZ not installed (apt-get install clang libclang-rt-14-dev)"
else
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
        '{ (void)d; (void)n; return 0; }' >"$T_TMP/probe.c"
    if ! "$CC_FUZZ" -fsanitize=fuzzer,address,undefined -o "$T_TMP/probe" \
        "$T_TMP/probe.c" >"$T_TMP/probe.log" 2>&1; then
        why="$CC_FUZZ cannot link -fsanitize=fuzzer,address,undefined"
        why="$why (libFuzzer runtime missing: apt-get install libclang-rt-14-dev):"
        why="$why $(head -1 "$T_TMP/probe.log")"
    fi
fi
if [ -n "$why" ]; then
    t_skip "fuzz targets" "$why"
    t_done
fi

TARGETS=()
for f in tests/fuzz/fuzz_*.c; do
    t=${f##*/fuzz_}
    TARGETS+=("${t%.c}")
done
t_ok "${#TARGETS[@]} targets (${TARGETS[*]}) build" \
    make -s -j2 FUZZ_CC="$CC_FUZZ" fuzz-build || t_done

for t in "${TARGETS[@]}"; do
    t_ok "fuzz target has seeds: $t" test -n "$(ls -A "tests/fuzz/corpus/$t" 2>/dev/null)" || true
    rc=0
    out=$(tests/fuzz/run.sh --seconds "$SECS" "$t" 2>&1) || rc=$?
    printf '%s\n' "$out" | grep -E '^fuzz ' | sed 's/^/# /'
    if [ "$rc" -eq 0 ]; then
        t_pass "fuzz $t: ${SECS} s, no crash"
    else
        t_fail "fuzz $t: ${SECS} s, no crash" "$out" "log: build/fuzz/logs/$t.log" || true
    fi
done
t_done
