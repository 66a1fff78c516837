#!/usr/bin/env bash
# bench/store-sim.sh — requests/second of store-sim with the limit off.
#
# Starts store-sim on a free loopback port, pre-fills products through the
# control API, then drives GETs (single product, variants, a list page,
# orders) with bench/simload.c.  Bounded: BENCH_REQUESTS requests or
# BENCH_SECONDS seconds per run, whichever comes first.
#
#   bench/store-sim.sh            # defaults: 4 threads, 40000 req, 20 s
#   BENCH_THREADS=8 bench/store-sim.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
THREADS=${BENCH_THREADS:-4}
REQUESTS=${BENCH_REQUESTS:-40000}
SECONDS_MAX=${BENCH_SECONDS:-20}
PRODUCTS=${BENCH_PRODUCTS:-1000}
SIM=${STORE_SIM_BIN:-$ROOT/bin/store-sim}
LOAD=${SIMLOAD_BIN:-$ROOT/build/std/tools/simload}

make -s -C "$ROOT" bin/store-sim build/std/tools/simload
TMP=$(mktemp -d)
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

"$SIM" --port 0 --login bench --password bench --limit 0 2>"$TMP/sim.log" &
PID=$!
for _ in $(seq 1 100); do
    grep -q 'listening on' "$TMP/sim.log" && break
    sleep 0.05
done
PORT=$(grep -m1 'listening on' "$TMP/sim.log" | sed 's/.*://')
URL=http://127.0.0.1:$PORT

jq -nc --argjson n "$PRODUCTS" '{products: [range(0; $n) | {title: "Bench \(.)",
    variants_attributes: [{sku: "BENCH-\(.)", price: 1000, quantity: 100}]}]}' >"$TMP/products.json"
curl -sf -H 'Content-Type: application/json' --data-binary @"$TMP/products.json" \
    "$URL/_sim/products" >/dev/null
for i in $(seq 0 9); do
    curl -sf -H 'Content-Type: application/json' \
        -d "{\"lines\":[{\"sku\":\"BENCH-$i\",\"quantity\":1}]}" "$URL/_sim/orders" >/dev/null
done

# Paths: 40 distinct products, their variants, a list page, an order list.
PATHS=()
for i in $(seq 0 39); do
    PATHS+=("/admin/products/$((100000000 + i * 25)).json")
done
PATHS+=("/admin/products/100000007/variants.json" "/admin/products.json?per_page=10&page=3"
    "/admin/orders.json?per_page=10" "/admin/products/count.json")

echo "store-sim bench: $PRODUCTS products, $THREADS threads, ≤$REQUESTS requests, ≤${SECONDS_MAX}s, $(nproc) cores"
"$LOAD" --base "$URL" --user bench:bench --threads "$THREADS" \
    --requests "$REQUESTS" --seconds "$SECONDS_MAX" "${PATHS[@]}"
