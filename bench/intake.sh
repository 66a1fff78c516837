#!/usr/bin/env bash
# bench/intake.sh — the back office's intake at chain scale: a 500-outlet
# chain's sales through ledger-api's HTTP API and its Kafka intake
# (docs/ledger-api.md), a steady 10 sales/s with a burst of 500 sales/s,
# while outbox-relay and stock-publisher carry the changes to a store-sim
# at its real limit shape (500 calls / 300 s, queued group updates).
#
# Starts Postgres, Redis and Kafka (tests/harness/lib.sh), store-sim,
# outbox-relay, stock-publisher and ledger-api on loopback.  Ledger: 1,000
# variants, WH1, 500 outlets R001..R500; the online store sells from WH1
# and 63 of them (pick-up shops; store add allows 64 sources), so about
# one sale in eight changes what the store may sell.  Phases (BENCH_STEADY_S=20, BENCH_BURST_S=10):
#   http    10 sales/s (a request per till receipt) for STEADY_S, 500/s
#           (requests of 50) for BURST_S, 10/s for STEADY_S/2
#   kafka   the same shape, one message per receipt (kcat)
#   max     BENCH_MAX_MOVES (20000) movements in batches of 500 from 2
#           connections, as fast as ledger-api answers: movements/s
#   plain   the baseline in the same run, same Postgres: the same number of
#           single-row INSERTs into a plain indexed table, 500 a
#           transaction (psql), rows/s
# Then: ledger-to-store p95 (stock-publisher's omnisync_ledger_to_store_
# seconds histogram over the whole run; bucket bounds), the time until the
# store equals the ledger, and `omnisync reconcile` (exit 0 expected).
# Prints a table and writes bench/out/intake.json (cores, CPU, broker).
#
#   bench/intake.sh
#   BENCH_MAX_MOVES=50000 BENCH_BURST_S=20 bench/intake.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
STEADY=${BENCH_STEADY_S:-20}
BURST=${BENCH_BURST_S:-10}
MAXN=${BENCH_MAX_MOVES:-20000}
OUTLETS=500
make -s -C "$ROOT" bin/omnisync bin/stock-publisher bin/outbox-relay \
    bin/store-sim bin/ledger-api >/dev/null || exit 1
. "$ROOT/tests/harness/lib.sh"
HLOG=$(mktemp)
harness_start >"$HLOG" || { echo "bench: harness failed" >&2; exit 1; }
HSTART=$(cat "$HLOG")
rm -f "$HLOG"
. "$ROOT/tests/integration/intake/intake-lib.bash"
LOAD="python3 $ROOT/bench/intake_load.py"
note() { echo "bench: $*" >&2; }

STORE="bench$$"
st_ledger 100 10 >/dev/null
sql "INSERT INTO location (code, name, kind) SELECT 'R' || lpad(g::text, 3, '0'), 'Outlet ' || g, 'outlet' FROM generate_series(1, $OUTLETS) g" >/dev/null
# The store sells from WH1 and 63 pick-up shops (store add allows 64
# sources): a sale at R001..R063 changes what the store may sell.
SRC="WH1,$(sql "SELECT string_agg(code, ',' ORDER BY code) FROM location WHERE kind = 'outlet' AND code <= 'R063'")"
SKUS=$(sql "SELECT string_agg(sku, ',') FROM variant WHERE sku LIKE 'STK-%'")
# Opening stock: 100,000 of each variant at WH1 (outlets start at 0 and go
# negative with their sales: the store's available, summed over WH1 and
# the outlets, still changes with every sale).
{ echo "sku,qty"; tr ',' '\n' <<<"$SKUS" | sed 's/$/,100000/'; } >"$T_TMP/open.csv"
omnisync import stock "$T_TMP/open.csv" --location WH1 --mode count >/dev/null ||
    { note "opening stock failed"; exit 1; }
st_sim sim
st_store "$STORE" sim WEB1 "$SRC"
st_prefill "$STORE" sim %
st_relay relay
MPORT=$(free_port)
st_pub pub -o http.listen="127.0.0.1:$MPORT"
la_start api -o api.pg.pool=4
TOK=$(la_token bench movements:write,stock:read)
wait_for 120 st_compare "$STORE" sim >/dev/null || note "the store did not converge before the load"

t_kill pub >/dev/null
st_pub pub2 -o http.listen="127.0.0.1:$MPORT" # a fresh histogram for the load
sleep 3

SH="10:$STEADY:1,500:$BURST:50,10:$((STEADY / 2)):1"
note "http: $SH"
HTTP=$($LOAD http "$LA_URL/v1/movements" "$TOK" "$SH" "$OUTLETS" "$SKUS" h)

note "kafka: same shape"
n0=$(sql "SELECT count(*) FROM stock_movement WHERE idem_key LIKE 'till:%'")
KSH="10:$STEADY,500:$BURST,10:$((STEADY / 2))"
t0=$(date +%s.%N)
$LOAD kafka "$KSH" "$OUTLETS" "$SKUS" k | tee "$T_TMP/kafka.txt" |
    kcat -P -b "$OMNISYNC_KAFKA" -t omnisync.movements.in.v1 -K $'\t' 2>/dev/null
t_prod=$(date +%s.%N)
kn=$(wc -l <"$T_TMP/kafka.txt")
kdone() { [ "$(sql "SELECT count(*) FROM stock_movement WHERE idem_key LIKE 'till:%'")" -ge $((n0 + kn)) ]; }
wait_for 300 kdone || note "kafka: not all receipts applied"
t_app=$(date +%s.%N)
kgot=$(($(sql "SELECT count(*) FROM stock_movement WHERE idem_key LIKE 'till:%'") - n0))
KAFKA=$(python3 -c "import json,sys; t0,tp,ta=map(float,sys.argv[1:4]); n=int(sys.argv[4]); print(json.dumps({'produced': int(sys.argv[5]), 'applied': n, 'produce_s': round(tp-t0,2), 'apply_s': round(ta-t0,2), 'lag_after_last_s': round(ta-tp,2)}))" \
    "$t0" "$t_prod" "$t_app" "$kgot" "$kn")

note "max: $MAXN movements in batches of 500"
MAX=$($LOAD httpmax "$LA_URL/v1/movements" "$TOK" "$MAXN" 500 2 "$OUTLETS" "$SKUS" m)

note "plain: $MAXN single-row INSERTs, 500 a transaction"
sql "CREATE TABLE bench_plain (id bigserial PRIMARY KEY, idem_key text UNIQUE, location_id bigint, variant_id bigint, qty bigint, created_at timestamptz DEFAULT now())" >/dev/null
python3 -c "
n=$MAXN
for b in range(0, n, 500):
    print('BEGIN;')
    for i in range(b, min(n, b + 500)):
        print(\"INSERT INTO bench_plain (idem_key, location_id, variant_id, qty) VALUES ('p-%d', %d, %d, -1);\" % (i, 1 + i % 500, 1 + i % 1000))
    print('COMMIT;')" >"$T_TMP/plain.sql"
p0=$(date +%s.%N)
psql "$OMNISYNC_PG" -Xq -f "$T_TMP/plain.sql" >/dev/null
p1=$(date +%s.%N)
PLAIN=$(python3 -c "print('%.1f' % ($MAXN / ($p1 - $p0)))")

note "waiting for the store to equal the ledger"
c0=$(date +%s.%N)
conv=timeout
wait_for 300 st_compare "$STORE" sim >/dev/null && conv=$(python3 -c "print('%.1f' % ($(date +%s.%N) - $c0))")
omnisync reconcile "$STORE" >"$ROOT/bench/out/intake-reconcile.txt" 2>&1
REC=$?
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T_TMP/metrics.txt"
L2S=$(python3 - "$T_TMP/metrics.txt" <<'PY'
import json, re, sys
b = {}
for line in open(sys.argv[1]):
    m = re.match(r'omnisync_ledger_to_store_seconds_bucket\{.*kind="stock".*le="([^"]+)"\} (\S+)', line)
    if m:
        le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
        b[le] = b.get(le, 0) + float(m.group(2))
n = b.get(float("inf"), 0)
def q(p):
    for le in sorted(b):
        if b[le] >= p * n:
            return le
print(json.dumps({"observations": int(n), "p50_le_s": q(0.5), "p95_le_s": q(0.95), "p99_le_s": q(0.99)}))
PY
)
calls=$(st_calls sim 0)
t_kill api >/dev/null
t_kill pub2 >/dev/null

CPU=$(lscpu | sed -nE 's/^Model name: +//p' | head -1)
CORES=$(nproc)
BROKER=$(sed -nE 's/^kafka: ([^(]*) at .*/\1/p' <<<"$HSTART" | head -1)
[ -n "$BROKER" ] || BROKER="Kafka ($(harness_kafka_mode 2>/dev/null || echo '?'))"
BROKER="$BROKER, 1 broker on loopback"
mkdir -p "$ROOT/bench/out"
python3 - "$HTTP" "$KAFKA" "$MAX" "$PLAIN" "$L2S" "$conv" "$REC" "$CORES" "$CPU" "$BROKER" "$calls" "$ROOT/bench/out/intake.json" <<'PY'
import json, sys
http, kafka, mx, plain, l2s = (json.loads(x) for x in sys.argv[1:4] + [sys.argv[4]] + [sys.argv[5]])
conv, rec, cores, cpu, broker, calls, out = sys.argv[6:13]
res = {"bench": "intake", "cores": int(cores), "cpu": cpu, "broker": broker,
       "outlets": 500, "variants": 1000,
       "http": http, "kafka": kafka, "max": mx, "plain_insert_rows_per_s": plain,
       "ratio_max_to_plain": round(mx["rate"] / plain, 3) if plain else None,
       "ledger_to_store": l2s, "store_group_update_calls": int(calls),
       "converged_after_s": conv, "reconcile_exit": int(rec)}
json.dump(res, open(out, "w"), indent=2)
print("intake bench — %s cores, %s, %s" % (cores, cpu, broker))
print("%-44s %s" % ("phase", "result"))
print("%-44s %d sent, %d applied in %.1f s; request p50 %.1f ms p95 %.1f ms; %d errors" % (
    "http: 10/s, burst 500/s (requests of 50)", http["sent"], http["applied"], http["seconds"],
    http["lat_p50_ms"], http["lat_p95_ms"], http["errors"]))
print("%-44s %d produced in %.1f s, %d applied, last applied %.1f s after the last produced" % (
    "kafka: 10/s, burst 500/s (a message each)", kafka["produced"], kafka["produce_s"], kafka["applied"],
    kafka["lag_after_last_s"]))
print("%-44s %d movements in %.1f s = %.0f movements/s (batch p50 %.0f ms, p95 %.0f ms)" % (
    "max: batches of 500, 2 connections", mx["movements"], mx["seconds"], mx["rate"], mx["batch_p50_ms"], mx["batch_p95_ms"]))
print("%-44s %.0f rows/s; ledger-api/plain = %.2f" % ("plain single-row INSERTs, 500 a tx", plain, res["ratio_max_to_plain"] or 0))
print("%-44s p50 <= %s s, p95 <= %s s, p99 <= %s s (%d observations, %s group updates)" % (
    "ledger -> store (stock-publisher histogram)", l2s["p50_le_s"], l2s["p95_le_s"], l2s["p99_le_s"], l2s["observations"], calls))
print("%-44s %s s; reconcile exit %s" % ("store equal to the ledger after the load", conv, rec))
print("JSON: %s" % out)
PY
T_DONE=1
