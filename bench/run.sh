#!/usr/bin/env bash
# bench/run.sh [PART...] — `make bench` (PART=api, ...: make bench PART=api).
#
# Parts (each bench/part-NAME.sh, runnable alone): api sync ledger budget
# orders pipeline scale footprint; plus bench/intake.sh (a 500-outlet chain's
# sales through ledger-api's HTTP and Kafka intake) when all parts run.  Each part starts its own servers on
# loopback (tests/harness/lib.sh) and writes its results to
# bench/out/NAME.jsonl; this script then prints one table and writes
# bench/out/bench.json (machine, broker, date, commit, every result).
# BENCH_SIZE=tiny shrinks every part (tests/integration/bench/01-smoke.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
ALL="api sync ledger budget orders pipeline scale footprint"
parts=${*:-${PART:-$ALL}}
. bench/lib.sh
make -s -j2 all >/dev/null || { echo "bench: build failed" >&2; exit 1; }
rc=0
start=$(date +%s)
for p in $parts; do
    rm -f "$BENCH_OUT/$p.jsonl"
    if [ ! -f "bench/part-$p.sh" ]; then
        echo "bench: no part '$p' (parts: $ALL)" >&2
        rc=2
        continue
    fi
    echo "== part $p"
    t=$(date +%s)
    bash "bench/part-$p.sh" || { echo "bench: part $p failed" >&2; rc=1; }
    echo "== part $p: $(($(date +%s) - t)) s"
done
if [ -z "${*:-${PART:-}}" ] && [ -f bench/intake.sh ]; then
    echo "== bench/intake.sh (ledger-api intake at chain scale)"
    bash bench/intake.sh || { echo "bench: intake.sh failed" >&2; rc=1; }
fi
python3 - "$BENCH_OUT" "$(($(date +%s) - start))" "$(git rev-parse --short HEAD 2>/dev/null)" \
    "$(bench_cores)" "$(bench_cpu)" "$(bench_broker)" $parts <<'PY'
import json, sys, os, datetime
out, secs, commit, cores, cpu, broker = sys.argv[1:7]
parts = sys.argv[7:]
res = []
for p in parts:
    f = os.path.join(out, p + ".jsonl")
    if os.path.exists(f):
        res += [json.loads(l) for l in open(f) if l.strip()]
doc = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
       "commit": commit, "seconds": int(secs), "cores": int(cores),
       "cpu": cpu, "broker": broker, "results": res}
with open(os.path.join(out, "bench.json"), "w") as f:
    json.dump(doc, f, indent=1)
print()
print("omnisync bench %s, commit %s, %s s; %s cores, %s; broker %s" % (
    doc["date"], commit, secs, cores, cpu, broker))
print("| part | measure | value | baseline | ratio | unit | target | met |")
print("|---|---|---|---|---|---|---|---|")
fmt = lambda x: "-" if x is None else ("%g" % x)
for r in res:
    print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["part"], r["name"], fmt(r["value"]), fmt(r["baseline"]),
        fmt(r["ratio"]), r["unit"], r["target"], r["met"]))
PY
exit $rc
