#!/usr/bin/env bash
# make bench, tiny (BENCH_SIZE=tiny, the end-to-end stock stream skipped):
# the api and ledger parts run to the end, print the table and write
# bench/out JSON where every result names the machine and the broker and
# every measured figure has its baseline and ratio; an unknown part is a
# usage error (exit 2).  Keeps `make bench` from rotting; the figures
# themselves are not asserted (a benchmark, not a test).
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/tap.sh"

OUT=$T_TMP/out
BENCH_OUT=$OUT BENCH_SIZE=tiny BENCH_E2E=0 make -s -C "$OMNISYNC_ROOT" bench \
    PART="api ledger" >"$T_TMP/bench.txt" 2>&1
t_is "make bench PART='api ledger' (tiny) exits 0" $? 0
t_ok "the table is printed" grep -q '^| part | measure | value | baseline | ratio' "$T_TMP/bench.txt"
t_ok "bench.json written" test -s "$OUT/bench.json"
t_ok "results of both parts, each with cores, CPU and broker, ratios where measured" \
    python3 - "$OUT/bench.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rs = d["results"]
assert {r["part"] for r in rs} == {"api", "ledger"}, rs
for r in rs:
    assert r["cores"] >= 1 and r["cpu"] and r["broker"], r
    if r["value"] is not None and r["baseline"]:
        assert r["ratio"] is not None, r
assert any(r["name"].startswith("catalog import") for r in rs)
assert any(r["name"].startswith("live 1000 over 100") for r in rs)
PY
BENCH_OUT=$OUT "$OMNISYNC_ROOT/bench/run.sh" nosuchpart >"$T_TMP/bad.txt" 2>&1
t_is "an unknown part is a usage error" $? 2
t_ok "and says which parts exist" grep -q "no part 'nosuchpart'" "$T_TMP/bad.txt"
t_diag "$(grep '^|' "$T_TMP/bench.txt" | head -8)"
t_done
