#!/usr/bin/env bash
# deploy/demo.sh — a retail chain's day through omnisync (issue 17; `make demo`).
#
# Usage:
#   deploy/demo.sh              the scenario, against a running stack (run/env)
#   deploy/demo.sh check        reconcile and the summary again, on the
#                               stack as it is now (after a demo run)
#   deploy/demo.sh fresh        stop the stack and remove ./run/ (the demo
#                               starts from an empty ledger and shop)
#   deploy/demo.sh stack-env    print the demo's stack settings as shell
#                               `export` lines (make demo: eval, then
#                               deploy/stack.sh up)
#
# The scenario: loads the sample chain of deploy/sample/ (locations, catalog
# with groups, options and photos, the shops' and the online price lists,
# opening stock), adds the online store (store-sim), runs `omnisync sync
# initial` with its progress bar and ETA, waits until the store shows the
# ledger's stock, plays a trading day (supplier receipts, shop sales, a
# transfer, a price change, shoppers' online orders with webhooks dropped
# and duplicated, one order declined and one dispatched, a photo replaced),
# waits for everything to settle, and prints a summary. It exits 0 only when
# the store holds what the ledger says (products, variants, photos), every
# order placed is in the ledger once, reservations match the open orders,
# no API window went over the limit, store-sim answered no 429, nothing was
# dead-lettered, and `omnisync reconcile` finds no drift; otherwise 1,
# naming each failed field.
#
# Environment:
#   DEMO_SPEED    the store's API limit (inSales: 500 requests per 300 s)
#                 runs DEMO_SPEED times faster: 500 per 300/DEMO_SPEED s,
#                 in store-sim (--window) and in the store's budget
#                 (store add --api-window), so the budget model stays exact.
#                 Must divide 300. Default 10 (500 per 30 s).
#   DEMO_SAMPLE   full (about 300 products, default) or small (20)
#   DEMO_STORE    the online store's name (default demo-shop)
#   DEMO_ENV      the stack's env file (default run/env; "-" = the
#                 environment is already set: OMNISYNC_PG, OMNISYNC_KAFKA,
#                 OMNISYNC_REDIS, OMNISYNC_SECRET_KEY, OMNISYNC_STORE_URL,
#                 OMNISYNC_STORE_LOGIN, OMNISYNC_STORE_PASSWORD)
#   DEMO_LOG_DIR  where the services log (default run/log; NAME.log)
#   DEMO_WORK     scratch dir (default run/demo)
#   DEMO_SUMMARY_JSON  also write the summary as JSON to this file
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAMPLE_ROOT=$ROOT/deploy/sample
DEMO_SPEED=${DEMO_SPEED:-10}
DEMO_SAMPLE=${DEMO_SAMPLE:-full}
STORE=${DEMO_STORE:-demo-shop}
LIMIT=500
T0=$SECONDS

say() { printf 'demo: %s\n' "$*"; }
step() { printf '\n== demo %s (at %s)\n' "$*" "$(elapsed)"; }
elapsed() { printf '%dm%02ds' $(((SECONDS - T0) / 60)) $(((SECONDS - T0) % 60)); }
die() {
    printf 'demo: FAILED: %s\n' "$*" >&2
    exit 1
}

check_speed() {
    case "$DEMO_SPEED" in
    '' | *[!0-9]*) die "DEMO_SPEED must be a whole number dividing 300, not '$DEMO_SPEED'" ;;
    esac
    if [ "$DEMO_SPEED" -lt 1 ] || [ $((300 % DEMO_SPEED)) -ne 0 ]; then
        die "DEMO_SPEED must divide 300 (1 2 3 4 5 6 10 12 15 20 25 30 50 60 ...), not $DEMO_SPEED"
    fi
    WINDOW=$((300 / DEMO_SPEED))
    # The order-ingestor's polling backstop (60 s in production), scaled.
    POLL_MS=$((60000 / DEMO_SPEED))
    [ $POLL_MS -ge 1000 ] || POLL_MS=1000
}

# ------------------------------------------------------------- subcommands

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The stack's settings for the demo: store-sim's window, the services'
# timers scaled with it (order polling, store refresh, stats lines), and
# free ports for the webhook intake and the services' HTTP endpoints (so a
# second stack on the machine does not clash with 8081 and 9401-9405).
stack_env() {
    local intake
    check_speed
    intake=$(free_port)
    echo "export OMNISYNC_STORE_SIM_ARGS='--limit $LIMIT --window $WINDOW'"
    echo "export OMNISYNC_POLL_INTERVAL_MS=$POLL_MS"
    echo "export OMNISYNC_STORES_REFRESH_MS=2000"
    echo "export OMNISYNC_STATS_MS=5000"
    echo "export OMNISYNC_INTAKE_LISTEN=127.0.0.1:$intake"
    echo "export OMNISYNC_INTAKE_PUBLIC_URL=http://127.0.0.1:$intake"
    echo "export OMNISYNC_HTTP_LISTEN=127.0.0.1:0"
}

fresh() {
    check_speed
    "$ROOT/deploy/stack.sh" down
    if [ -d "$ROOT/run" ]; then
        say "removing ./run/ (the last stack's ledger, shop and logs): the demo starts empty"
        rm -rf "$ROOT/run"
    fi
}

MODE=run
case "${1:-}" in
check) MODE=check ;;
fresh)
    fresh
    exit 0
    ;;
stack-env)
    stack_env
    exit 0
    ;;
-h | --help)
    sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
'') ;;
*)
    echo "usage: deploy/demo.sh [check|fresh|stack-env]" >&2
    exit 2
    ;;
esac

check_speed
case "$DEMO_SAMPLE" in
full | small) ;;
*) die "DEMO_SAMPLE must be full or small, not '$DEMO_SAMPLE'" ;;
esac
SAMPLE=$SAMPLE_ROOT/$DEMO_SAMPLE
DAY=$SAMPLE/day
DEMO_ENV=${DEMO_ENV:-$ROOT/run/env}
if [ "$DEMO_ENV" != - ]; then
    [ -f "$DEMO_ENV" ] || die "no $DEMO_ENV: start the stack first (make demo does: deploy/stack.sh up)"
    # shellcheck source=/dev/null
    . "$DEMO_ENV"
fi
LOGS=${DEMO_LOG_DIR:-$ROOT/run/log}
WORK=${DEMO_WORK:-$ROOT/run/demo}
mkdir -p "$WORK"
export PATH=$ROOT/bin:$PATH
for v in OMNISYNC_PG OMNISYNC_KAFKA OMNISYNC_REDIS OMNISYNC_SECRET_KEY \
    OMNISYNC_STORE_URL OMNISYNC_STORE_LOGIN OMNISYNC_STORE_PASSWORD; do
    [ -n "${!v:-}" ] || die "$v is not set (is store-sim running? deploy/stack.sh status)"
done
SIM=$OMNISYNC_STORE_URL

sim() { curl -sf "$SIM$1"; }
sim_post() { curl -sf -X POST -H 'Content-Type: application/json' --data "$2" "$SIM$1"; }
rows() { tail -n +2 "$1" | tr -d '\r'; } # a sample CSV's data rows
# wait_until SECONDS WHAT CMD...: run CMD every second until it succeeds
# (0) or SECONDS have passed (1); says every 10 s what it waits for.
wait_until() {
    local limit=$1 what=$2 t0=$SECONDS next=10
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $((SECONDS - t0)) -lt "$limit" ] || return 1
        if [ $((SECONDS - t0)) -ge $next ]; then
            say "waiting for $what ($((SECONDS - t0)) s)"
            next=$((next + 10))
        fi
        sleep 1
    done
}

# receipts_from CSV REFPREFIX: `omnisync stock receipt` per row
# (location;sku;qty), 4 at a time, saying how far it got every 500; the
# --ref keys make a re-run harmless.
receipts_from() {
    local total i=0 step=500
    total=$(rows "$1" | wc -l)
    while [ $i -lt "$total" ]; do
        rows "$1" | sed -n "$((i + 1)),$((i + step))p" |
            awk -F';' -v p="$2" '{print $1, $2, $3, p "-" $1 "-" $2}' |
            xargs -P 4 -n 4 sh -c 'omnisync stock receipt "$0" "$1" "$2" --ref "$3" >/dev/null' ||
            return 1
        i=$((i + step))
        [ $i -ge "$total" ] || say "  $i of $total"
    done
}

# store_stock_check: exit 0 when every store variant's quantity is what the
# ledger says the store may sell (sum over its sources of on hand minus
# reserved, minus the safety stock, not below 0); prints the difference.
store_stock_check() {
    omnisync store show "$STORE" --json >"$WORK/store.json" &&
        omnisync stock show --json >"$WORK/levels.json" &&
        sim "/_sim/state?skus=1" >"$WORK/sim-state.json" || return 1
    python3 - "$WORK" <<'PY'
import json, sys
d = sys.argv[1]
store = json.load(open(d + "/store.json"))
levels = json.load(open(d + "/levels.json"))
state = json.load(open(d + "/sim-state.json"))["variants_by_sku"]
src = {store["online_location"], *store["source_locations"]}
avail = {}
for l in levels:
    if l["location"] in src:
        avail[l["sku"]] = avail.get(l["sku"], 0) + l["on_hand"] - l["reserved"]
safety = int(store.get("safety_stock") or 0)
bad = [(s, v["quantity"], max(0, avail.get(s, 0) - safety))
       for s, v in state.items()
       if not v["archived"] and v["quantity"] != max(0, avail.get(s, 0) - safety)]
print("%d variants, %d differ%s" % (len(state), len(bad),
      (": e.g. %s store %s ledger %s" % bad[0]) if bad else ""))
sys.exit(1 if bad else 0)
PY
}

# ================================================================= 1. chain
load_chain() {
    local n out
    step "1/6: the chain ($DEMO_SAMPLE sample, deploy/sample/$DEMO_SAMPLE/)"
    if [ "$(omnisync store list --json | jq --arg s "$STORE" '[.[] | select(.name == $s)] | length')" != 0 ]; then
        die "the ledger already has store $STORE: the demo starts from an empty stack (make down; make demo)"
    fi
    omnisync pricelist add RETAIL --name "Розница (магазины)" >/dev/null
    omnisync pricelist add ONLINE --name "Интернет-магазин" >/dev/null
    while IFS=';' read -r code name kind pl; do
        omnisync location add "$code" --kind "$kind" --name "$name" ${pl:+--price-list "$pl"} >/dev/null
    done < <(rows "$SAMPLE_ROOT/locations.csv")
    say "locations: $(omnisync location list --json | jq -r '[.[] | "\(.code) \(.kind)"] | join(", ")')"
    out=$(omnisync import catalog "$SAMPLE/catalog.csv" --price-list RETAIL) || die "catalog import failed"
    say "$out (price list RETAIL, the shops')"
    out=$(omnisync import prices "$SAMPLE/prices-online.csv" --price-list ONLINE) || die "price import failed"
    say "$out (price list ONLINE, the online store's)"
    n=$(rows "$SAMPLE/stock.csv" | wc -l)
    say "opening stock: $n receipts at WH1, WH2 and the shops ..."
    receipts_from "$SAMPLE/stock.csv" open || die "opening stock: a receipt failed"
    omnisync stock show --json >"$WORK/levels.json"
    say "opening stock: $(jq '[.[].on_hand] | add' "$WORK/levels.json") units in $(jq length "$WORK/levels.json") stock levels"
}

# ================================================================= 2. store
add_store() {
    local t
    step "2/6: the online store $STORE (store-sim) and its initial sync"
    say "store-sim at $SIM: $LIMIT API requests per $WINDOW s (inSales: 500 per 300 s; DEMO_SPEED=$DEMO_SPEED)"
    omnisync store add "$STORE" --platform insales --url "$SIM" \
        --login "$OMNISYNC_STORE_LOGIN" --password-env OMNISYNC_STORE_PASSWORD \
        --online-location WEB --source-locations WH1,WH2 --price-list ONLINE \
        --delivery-sku DELIVERY --api-limit "$LIMIT" --api-window "$WINDOW" >/dev/null
    say "store added: sells the stock of WEB, WH1, WH2 at ONLINE prices, delivery as DELIVERY, budget $LIMIT per $WINDOW s"
    say "omnisync sync initial $STORE (the ETA is the budget's until a rate is observed)"
    t=$SECONDS
    omnisync sync initial "$STORE" --timeout $((WINDOW * 20 + 120)) || die "sync initial did not finish"
    say "initial sync done in $((SECONDS - t)) s"
    wait_until $((WINDOW * 4 + 60)) "the store to show the ledger's stock" store_stock_check ||
        die "the store's stock did not reach the ledger's: $(store_stock_check)"
    say "the store shows the ledger's stock: $(store_stock_check)"
}

# ================================================================= 3. day
# place_orders CSV OUT: the shoppers' orders through store-sim's shop
# (POST /_sim/orders), one every 0.2 s; the store's answers go to OUT (JSON
# lines); prints "PLACED REFUSED".
place_orders() {
    python3 - "$SIM" "$1" "$2" <<'PY'
import csv, http.client, json, sys, time, urllib.parse
url, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
u = urllib.parse.urlsplit(url)
orders = {}
with open(src, encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f, delimiter=";"):
        o = orders.setdefault(r["order"], {"lines": [], "customer": r["customer"],
                                          "delivery": r["delivery_price"]})
        o["lines"].append({"sku": r["sku"], "quantity": int(r["qty"])})
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
placed = refused = 0
with open(out, "w") as f:
    for n, o in orders.items():
        dp = o["delivery"].replace(" ", "").replace(",", ".")
        body = {"lines": o["lines"], "delivery_title": "Курьер", "delivery_price": dp,
                "client": {"name": o["customer"], "email": "shopper%s@example.com" % n}}
        conn.request("POST", "/_sim/orders", json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status == 201:
            placed += 1
            f.write(data.decode() + "\n")
        else:
            refused += 1
            print("refused order %s: %s" % (n, data.decode()), file=sys.stderr)
        time.sleep(0.2)
print(placed, refused)
PY
}

trading_day() {
    local i=0 loc sku qty from to placed refused first second out
    step "3/6: a trading day"
    receipts_from "$DAY/receipts.csv" day1-rcpt || die "a supplier receipt failed"
    say "supplier receipts: $(rows "$DAY/receipts.csv" | wc -l) deliveries to WH1/WH2, $(rows "$DAY/receipts.csv" | awk -F';' '{s += $3} END {print s}') units"
    while IFS=';' read -r loc sku qty; do
        i=$((i + 1))
        omnisync stock sale "$loc" "$sku" "$qty" --ref "day1-sale-$i" >/dev/null 2>>"$WORK/warnings.log" ||
            die "sale $loc $sku $qty"
    done < <(rows "$DAY/sales.csv")
    say "shop sales: $i sales in SHOP1..SHOP3, $(rows "$DAY/sales.csv" | awk -F';' '{s += $3} END {print s}') units"
    while IFS=';' read -r from to sku qty; do
        out=$(omnisync stock transfer "$from" "$to" "$sku" "$qty" --ref "day1-tr-$sku") ||
            die "transfer $from $to $sku $qty failed"
        say "$out"
    done < <(rows "$DAY/transfers.csv")
    out=$(omnisync import prices "$DAY/prices-online.csv" --price-list ONLINE) || die "the price change failed"
    say "price change: $out"
    say "shoppers order online; store-sim now drops 20 % of the webhooks and sends 30 % twice (polling every $((POLL_MS / 1000)) s is the backstop)"
    sim_post /_sim/faults '{"webhook_drop_rate":0.2,"webhook_dup_rate":0.3,"seed":17}' >/dev/null ||
        die "store-sim: setting the webhook faults failed"
    read -r placed refused < <(place_orders "$DAY/orders.csv" "$WORK/orders.jsonl") ||
        die "placing the orders failed"
    say "online orders: $placed placed, $refused refused by the store"
    first=$(sed -n 1p "$WORK/orders.jsonl" | jq .id)
    second=$(sed -n 2p "$WORK/orders.jsonl" | jq .id)
    sleep 2
    sim_post "/_sim/orders/$first/status" '{"fulfillment_status":"declined"}' >/dev/null ||
        die "declining order $first failed"
    say "order $(sed -n 1p "$WORK/orders.jsonl" | jq .number) declined by the shop's manager"
    sim_post "/_sim/orders/$second/status" '{"fulfillment_status":"dispatched"}' >/dev/null ||
        die "dispatching order $second failed"
    say "order $(sed -n 2p "$WORK/orders.jsonl" | jq .number) dispatched"
    # (The import notes that the file holds one product of many: expected.)
    out=$(omnisync import catalog "$DAY/photo.csv" 2>/dev/null) || die "the photo's import failed"
    say "photo replaced: $out"
    printf 'STORE=%q\nPLACED=%s\nDECLINED=%s\nDISPATCHED=%s\n' "$STORE" "$placed" "$first" "$second" >"$WORK/day.env"
}

# ================================================================= 4. settle
orders_in() {
    [ "$(omnisync orders list --store "$STORE" --json | jq length)" -eq "$PLACED" ]
}
stock_state() { # REMOTE_ID: the order's stock state in the ledger
    omnisync orders list --store "$STORE" --json |
        jq -r --argjson id "$1" '.[] | select(.remote_id == $id) | .stock_state'
}
stock_state_is() { [ "$(stock_state "$1")" = "$2" ]; }
synced() { # (status exits 1 while a store is not in sync: read it anyway)
    local rc=0
    omnisync status --json >"$WORK/status.json" || rc=$?
    [ "$rc" -le 1 ] || return 1
    jq -e --arg s "$STORE" '.outbox.pending == 0 and (.store_sync[] | select(.store == $s) |
        .products.synced == .products.total and .variants.synced == .variants.total and
        .photos.synced == .photos.total and .queued.outbox == 0 and .queued.image_jobs == 0)' \
        "$WORK/status.json" >/dev/null
}
# The store API is quiet when no request changed anything for 3 s (a
# queued group update shows 2 s after its call; polls only read).
sim_quiet() {
    local seq
    seq=$(sim "/_sim/requests?since=0" | jq '.[-1].seq // 0')
    sleep 3
    [ "$(sim "/_sim/requests?since=$seq" | jq '[.[] | select(.method != "GET")] | length')" = 0 ]
}

settle() {
    local limit=$((WINDOW * 4 + 90))
    step "4/6: everything finds its place"
    # shellcheck source=/dev/null
    . "$WORK/day.env"
    wait_until $limit "every order in the ledger" orders_in ||
        say "after $limit s $(omnisync orders list --store "$STORE" --json | jq length) of $PLACED orders are in the ledger"
    wait_until $limit "the declined order's reservation to be released" stock_state_is "$DECLINED" released ||
        say "the declined order's stock state: $(stock_state "$DECLINED")"
    wait_until $limit "the dispatched order to be shipped" stock_state_is "$DISPATCHED" shipped ||
        say "the dispatched order's stock state: $(stock_state "$DISPATCHED")"
    wait_until $limit "the catalog, prices and photos in the store" synced ||
        say "not synced after $limit s (omnisync status)"
    wait_until $limit "the store's stock" store_stock_check || say "stock: $(store_stock_check)"
    sim_post /_sim/faults '{"webhook_drop_rate":0,"webhook_dup_rate":0}' >/dev/null || true
    wait_until 60 "the store API to go quiet" sim_quiet || true
    say "settled"
}

# ================================================================= 5-6. check
check() {
    local rc=0 drift dlq ok=0
    # shellcheck source=/dev/null
    . "$WORK/day.env" 2>/dev/null || die "no $WORK/day.env: run the whole demo first"
    step "5/6: omnisync reconcile $STORE"
    omnisync reconcile "$STORE" --json >"$WORK/reconcile.json" 2>"$WORK/reconcile.err" || rc=$?
    if ! jq -e .drift "$WORK/reconcile.json" >/dev/null 2>&1; then
        cat "$WORK/reconcile.err" >&2
        die "omnisync reconcile failed (exit $rc)"
    fi
    drift=$(jq '(.drift | length) + (.missing_in_store | length) + (.unknown_in_store | length)' "$WORK/reconcile.json")
    say "exit $rc: $(jq -r '"\(.drift | length) fields differ, \(.missing_in_store | length) variants missing in the store, \(.unknown_in_store | length) unknown to the ledger"' "$WORK/reconcile.json")"

    step "6/6: summary"
    sim "/_sim/state" >"$WORK/sim-state.json" &&
        sim "/_sim/requests?since=0" >"$WORK/sim-requests.json" &&
        { omnisync status --json >"$WORK/status.json" || [ $? = 1 ]; } &&
        omnisync orders list --store "$STORE" --json >"$WORK/orders-ledger.json" &&
        omnisync stock show --json >"$WORK/levels.json" ||
        die "reading the store or the ledger failed"
    # Every dead letter the services noted, open or not (omnisync dlq).
    dlq=$(omnisync dlq list --all --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') || dlq=
    summary "$rc" "$drift" "$dlq" || ok=$?
    say "took $(elapsed)"
    return $ok
}

# summary RECONCILE_EXIT DIFFERENCES DLQ_MESSAGES: the summary table from
# the files check() wrote; exit 1 naming every field that does not hold.
summary() {
    python3 - "$WORK" "$STORE" "$LIMIT" "$WINDOW" "$PLACED" "$DECLINED" "$DISPATCHED" \
        "$1" "$2" "$3" "$LOGS" "${DEMO_SUMMARY_JSON:-}" <<'PY'
import json, re, sys, urllib.request
from datetime import datetime

(d, store, limit, window, placed, declined, dispatched, rc, drift, dlq,
 logs, out) = sys.argv[1:]
limit, window, placed, rc, drift = int(limit), int(window), int(placed), int(rc), int(drift)
dead = int(dlq) if dlq != "" else None


def load(name):
    with open(d + "/" + name) as f:
        return json.load(f)


state = load("sim-state.json")
ss = next(s for s in load("status.json")["store_sync"] if s["store"] == store)
ledger_orders = load("orders-ledger.json")
levels = load("levels.json")
with open(d + "/orders.jsonl") as f:
    placed_orders = [json.loads(x) for x in f]

# API windows as store-sim counts them: the first request opens a window of
# `window` seconds; the first request after its end opens the next.
windows, start = [], None
for r in load("sim-requests.json"):
    t = datetime.fromisoformat(r["time"]).timestamp()
    if start is None or t >= start + window:
        start = t
        windows.append(0)
    windows[-1] += 1
busiest = max(windows or [0])

# Reservations: what the open orders hold (all but the declined and the
# dispatched one).
want_reserved = sum(x["quantity"] for o in placed_orders
                    if str(o["id"]) not in (declined, dispatched) for x in o["order_lines"])
reserved = sum(x["reserved"] for x in levels)
ids = [o["remote_id"] for o in ledger_orders]
ingested = len(set(ids))


def latency():
    """Ledger-to-store latency of stock updates: stock-publisher's histogram
    omnisync_ledger_to_store_seconds from /metrics when it serves one (at
    the address it logged), else its stats line; bucket upper bounds."""
    try:
        with open(logs + "/stock-publisher.log", errors="replace") as f:
            log = f.read()
    except OSError:
        return {"n": 0, "text": "not measured (no %s/stock-publisher.log)" % logs}
    addr = re.findall(r"http listening on ([0-9.]+:[0-9]+)", log)
    if addr:
        try:
            with urllib.request.urlopen("http://%s/metrics" % addr[-1], timeout=5) as r:
                text = r.read().decode()
            cum = {}
            for m in re.finditer(r'^omnisync_ledger_to_store_seconds_bucket\{([^}]*)\} (\S+)$',
                                 text, re.M):
                if 'kind="stock"' in m.group(1):
                    le = re.search(r'le="([^"]+)"', m.group(1)).group(1)
                    le = float("inf") if le == "+Inf" else float(le)
                    cum[le] = cum.get(le, 0) + float(m.group(2))
            n = cum.get(float("inf"), 0)
            if n:
                q = lambda p: next(le for le in sorted(cum) if cum[le] >= p * n) * 1000
                return {"n": int(n), "p50_ms": int(q(0.5)), "p95_ms": int(q(0.95)),
                        "source": "/metrics omnisync_ledger_to_store_seconds{kind=stock}",
                        "text": "p50 %.0f ms, p95 %.0f ms (%d stock updates)" % (q(0.5), q(0.95), n)}
        except (OSError, ValueError, StopIteration):
            pass  # the stats line below
    st = re.findall(r"latency_n=(\d+) p50_ms=(\d+) p99_ms=(\d+)", log)
    if not st:
        return {"n": 0, "text": "not measured (no stats line in stock-publisher.log)"}
    n, p50, p99 = map(int, st[-1])
    return {"n": n, "p50_ms": p50, "p99_ms": p99, "source": "stock-publisher stats line",
            "text": "p50 %d ms, p99 %d ms (%d stock updates; p95 once /metrics is served)"
                    % (p50, p99, n)}


lat = latency()
s429 = int(state["status_counts"].get("429", 0))
failed = int(ss["failed"])
hooks = state["webhooks"]


def pair(what, store_n, key):
    led = ss[key]
    return (what, "store %d / ledger %d (synced %d)" % (store_n, led["total"], led["synced"]),
            store_n == led["total"] == led["synced"])


rows = [  # (field, what it shows, holds)
    pair("products", state["products"], "products"),
    pair("variants", state["variants"], "variants"),
    pair("photos", state["images"], "photos"),
    ("orders", "placed %d / ingested %d, %s (webhooks: %d delivered, %d dropped)"
     % (placed, ingested, "each once" if len(ids) == ingested else "%d rows" % len(ids),
        hooks["delivered"], hooks["dropped"]),
     placed == ingested == len(ids) == len(placed_orders)),
    ("reservations", "ledger %d / open orders %d units" % (reserved, want_reserved),
     reserved == want_reserved),
    ("api_calls", "%d in %d windows; busiest window %d of the budget's %d per %d s"
     % (state["requests"], len(windows), busiest, limit, window), busiest <= limit),
    ("http_429", "%d" % s429, s429 == 0),
    ("dead_letters", "%s listed by omnisync dlq, %d failed in status"
     % ("?" if dead is None else dead, failed), dead == 0 and failed == 0),
    ("latency", "ledger to store " + lat["text"], lat["n"] > 0),
    ("drift", "%d (omnisync reconcile exit %d)" % (drift, rc), drift == 0 and rc == 0),
]
bad = [f for f, _, ok in rows if not ok]
for f, shown, ok in rows:
    print("  %-13s %-78s %s" % (f, shown, "ok" if ok else "FAILED"))
if out:
    summary = {f: {"text": shown, "ok": ok} for f, shown, ok in rows}
    summary["numbers"] = {
        "store_products": state["products"], "ledger_products": ss["products"]["total"],
        "store_variants": state["variants"], "ledger_variants": ss["variants"]["total"],
        "store_photos": state["images"], "ledger_photos": ss["photos"]["total"],
        "orders_placed": placed, "orders_ingested": ingested, "order_rows": len(ids),
        "reserved": reserved, "reserved_expected": want_reserved,
        "api_calls": state["requests"], "api_windows": len(windows),
        "api_busiest_window": busiest, "api_limit": limit, "api_window_s": window,
        "http_429": s429, "dead_letters": dead, "dead_letters_ledger": failed,
        "latency": lat, "drift": drift, "reconcile_exit": rc, "webhooks": hooks}
    summary["failed"] = bad
    with open(out, "w") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
if bad:
    print("demo: FAILED: " + ", ".join(bad))
sys.exit(1 if bad else 0)
PY
}

next_steps() {
    cat <<EOF

demo: every check holds. The stack keeps running; try:
  . run/env                               # the stack's settings, bin/ on PATH
  omnisync status                         # ledger, outbox, the store's sync and API budget
  omnisync lag                            # the consumers' lag (needs a real Kafka broker)
  omnisync orders list --store $STORE
  omnisync reconcile $STORE
  curl -s $SIM/_sim/state | jq            # store-sim: the shop's counters (its API: $SIM/admin/)
  deploy/demo.sh check                    # reconcile and this summary again
  make down                               # stop everything; make demo starts afresh
EOF
}

if [ "$MODE" = check ]; then
    check
    exit $?
fi
load_chain
add_store
trading_day
settle
check || exit 1
next_steps
