# shellcheck shell=bash
# bench/lib.sh — sourced by the parts of `make bench` (bench/part-*.sh).
#
#   . "$(dirname "$0")/lib.sh"
#   bench_result PART NAME VALUE BASELINE UNIT [TARGET MET]
#
# Appends one JSON result to $BENCH_OUT/PART.jsonl (bench/out by default)
# and prints it as a table row.  Every figure carries the baseline measured
# in the same run and value/baseline; each result names the machine (cores,
# CPU model) and the broker.  BENCH_SIZE=tiny (the smoke test) shrinks
# every part.
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/bench/out}
BENCH_SIZE=${BENCH_SIZE:-full}
mkdir -p "$BENCH_OUT"

bench_cores() { nproc; }
bench_cpu() { sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1; }
bench_broker() {
    case "${OMNISYNC_TEST_KAFKA:-real}" in
    mock) echo "devkafka (mock)" ;;
    external) echo "external Kafka at ${KAFKA_BOOTSTRAP:-?}" ;;
    *) echo "Apache Kafka ${HARNESS_KAFKA_VERSION:-3.9.1} (1 broker, KRaft, loopback)" ;;
    esac
}

# bench_tiny FULL TINY: FULL, or TINY under BENCH_SIZE=tiny.
bench_tiny() { if [ "$BENCH_SIZE" = tiny ]; then echo "$2"; else echo "$1"; fi; }

# bench_result PART NAME VALUE BASELINE UNIT [TARGET MET]
#   VALUE, BASELINE numbers (BASELINE 0 or "-": no ratio); TARGET a short
#   text ("<= 1.1x min"), MET yes|no|- .
bench_result() {
    python3 - "$BENCH_OUT/$1.jsonl" "$@" "$(bench_cores)" "$(bench_cpu)" "$(bench_broker)" <<'PY'
import json, sys
out, part, name, value, base, unit = sys.argv[1:7]
rest = sys.argv[7:]
cores, cpu, broker = rest[-3:]
target, met = (rest[0], rest[1]) if len(rest) >= 5 else ("-", "-")
def num(s):
    try:
        return float(s)
    except ValueError:
        return None
v, b = num(value), num(base)
ratio = round(v / b, 3) if v is not None and b else None
r = {"part": part, "name": name, "value": v, "baseline": b, "ratio": ratio,
     "unit": unit, "target": target, "met": met, "cores": int(cores),
     "cpu": cpu, "broker": broker}
with open(out, "a") as f:
    f.write(json.dumps(r) + "\n")
print("BENCH %-9s %-58s %12s %12s %8s  %s  %s %s" % (
    part, name, value, base, "-" if ratio is None else "%.2f" % ratio, unit,
    target, met))
PY
}

# bench_sim_start PASSWORD LIMIT WINDOW: a store-sim on a free port
# (BENCH_SIM_PORT; login "bench"), stopped by bench_sim_stop; waits until
# it answers.
bench_sim_start() {
    BENCH_SIM_PORT=$(harness_free_port)
    "$BENCH_ROOT/bin/store-sim" --port "$BENCH_SIM_PORT" --login bench \
        --password "$1" --limit "$2" --window "$3" >/dev/null 2>&1 &
    BENCH_SIM_PID=$!
    for _ in $(seq 50); do
        curl -sf "http://127.0.0.1:$BENCH_SIM_PORT/_sim/state" >/dev/null && return 0
        sleep 0.2
    done
    return 1
}
bench_sim_stop() { [ -n "${BENCH_SIM_PID:-}" ] && kill "$BENCH_SIM_PID" 2>/dev/null; }
