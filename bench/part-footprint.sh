#!/usr/bin/env bash
# bench/part-footprint.sh — per service: start-to-ready (exec until its
# /readyz answers 200) and resident memory idle (VmRSS 2 s after ready)
# and its peak (VmHWM) against the harness's Postgres, Redis and Kafka
# with an imported catalog.  Baselines: a bare `sleep` process's RSS on
# this machine (the floor of any process) and the time `omnisync
# --version` takes to run (exec and dynamic linking of the same
# libraries).  RSS under load: part pipeline.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export OMNISYNC_ROOT=$ROOT
. "$ROOT/bench/lib.sh"
. "$ROOT/tests/harness/lib.sh"
harness_start >/dev/null || { echo "bench: harness failed" >&2; exit 1; }
PATH=$ROOT/bin:$PATH
W=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$W"; harness_cleanup; }
trap cleanup EXIT
omnisync db migrate >/dev/null || exit 1
omnisync pricelist add ONLINE >/dev/null
bash "$ROOT/tests/integration/import/gen-catalog.bash" "$W/c" 100 4 >/dev/null
omnisync import catalog "$W/c/catalog.csv" --price-list ONLINE >/dev/null || exit 1
ms() { echo $(($(date +%s%N) / 1000000)); }
rss_kb() { sed -nE "s/^$2:[[:space:]]+([0-9]+) kB/\1/p" "/proc/$1/status"; }
sleep 30 & sp=$!
sleep 0.5
base_rss=$(rss_kb $sp VmRSS)
kill $sp
t=$(ms); omnisync --version >/dev/null 2>&1; base_start=$(($(ms) - t))
[ "$base_start" -gt 0 ] || base_start=1
for svc in outbox-relay stock-publisher catalog-publisher image-uploader order-ingestor; do
    port=$(harness_free_port)
    extra=()
    [ $svc = order-ingestor ] && extra=(-o "intake.listen=127.0.0.1:$(harness_free_port)")
    t=$(ms)
    # shellcheck disable=SC2086
    "$svc" -o "http.listen=127.0.0.1:$port" -o log.level=warn ${HARNESS_KAFKA_OPTS:-} \
        "${extra[@]}" >"$W/$svc.log" 2>&1 &
    p=$!
    pids+=($p)
    ready=
    for _ in $(seq 600); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
            ready=$(($(ms) - t))
            break
        fi
        kill -0 $p 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$ready" ]; then
        echo "bench: $svc did not become ready: $(tail -3 "$W/$svc.log")" >&2
        bench_result footprint "$svc start-to-ready ms" - "$base_start" ms "ready" no
        continue
    fi
    sleep 2
    rss=$(rss_kb $p VmRSS)
    bench_result footprint "$svc start-to-ready ms (baseline: omnisync --version)" "$ready" "$base_start" ms
    bench_result footprint "$svc RSS idle MB (baseline: sleep)" \
        "$(python3 -c "print(round($rss / 1024, 1))")" "$(python3 -c "print(round($base_rss / 1024, 1))")" MB \
        "< 30 MB" "$(python3 -c "print('yes' if $rss < 30 * 1024 else 'no')")"
    kill $p
    wait $p 2>/dev/null
done
bench_result footprint "RSS under load" - - MB "in part pipeline" -
