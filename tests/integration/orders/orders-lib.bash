# shellcheck shell=bash
# tests/integration/orders/orders-lib.bash — helpers of the order-ingestor
# scripts (not a test itself: tests/run.sh runs only *.sh).
#
#   . "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"
#   ord_setup [QTY_WEB QTY_WH1 QTY_WH2]   ledger (5 products x 3 variants,
#                         ART-00005-3 is the delivery item), stock at WEB1,
#                         WH1, WH2 per SKU, store-sim pre-filled with the same
#                         SKUs (quantity = the sum), store $ORD_STORE
#   ord_start NAME [-o K=V]...   order-ingestor on $ORD_PORT (poll 2 s)
#   ord_place N SEED OUT         N shopper orders via /_sim/orders (python)
#   ord_compare                  store-sim orders vs ledger (python)
#   sim_post PATH JSON, sim_get PATH, sql SQL, hook_post SECRET BODY
#   lvl SKU              "on_hand|reserved" summed over locations
#   state ID, is_state ID STATE   the order's stock_state
#   place1 SKU QTY       one order of one line via /_sim/orders; prints its id
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
export PATH=$OMNISYNC_ROOT/bin:$PATH
. "$OMNISYNC_ROOT/tests/integration/orders/order-helpers.bash"

ORD_STORE=${ORD_STORE:-"os$$r$RANDOM"}
ORD_LOGIN=ordlogin
ORD_PW='ord-pw-secret'
ORD_DELIVERY_SKU=ART-00005-3
# SKUs shoppers buy (all but the delivery item).
ORD_SKUS=(ART-00001-1 ART-00001-2 ART-00001-3 ART-00002-1 ART-00002-2
    ART-00002-3 ART-00003-1 ART-00003-2 ART-00003-3 ART-00004-1)

sql() { psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -c "$1"; }

sim_get() {
    curl -sf -u "$ORD_LOGIN:$ORD_PW" "http://127.0.0.1:$ORD_SIM_PORT$1"
}

sim_post() {
    curl -s -u "$ORD_LOGIN:$ORD_PW" -H 'Content-Type: application/json' \
        -X POST --data-binary "$2" "http://127.0.0.1:$ORD_SIM_PORT$1"
}

# The store's webhook secret (sealed in the ledger: opened by the CLI).
ord_secret() {
    omnisync store show "$ORD_STORE" --webhook-secret --json | jq -r .webhook_secret
}

# ord_setup [WEB WH1 WH2]: per-SKU stock at the three sources.
ord_setup() {
    local qweb=${1:-100} qwh1=${2:-500} qwh2=${3:-400} sku
    omnisync db migrate >/dev/null || t_bail "db migrate"
    omnisync pricelist add ONLINE --name Online >/dev/null || t_bail "pricelist"
    omnisync location add WH1 --kind warehouse >/dev/null || t_bail "location"
    omnisync location add WH2 --kind warehouse >/dev/null || t_bail "location"
    omnisync location add WEB1 --kind online --price-list ONLINE >/dev/null ||
        t_bail "location"
    mkdir -p "$T_TMP/cat"
    bash "$OMNISYNC_ROOT/tests/integration/import/gen-catalog.bash" \
        "$T_TMP/cat" 5 3 || t_bail "gen-catalog"
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE \
        >"$T_TMP/import.log" 2>&1 || t_bail "import: $(cat "$T_TMP/import.log")"
    for sku in "${ORD_SKUS[@]}"; do
        [ "$qweb" -gt 0 ] && { omnisync stock receipt WEB1 "$sku" "$qweb" >/dev/null || t_bail "receipt"; }
        [ "$qwh1" -gt 0 ] && { omnisync stock receipt WH1 "$sku" "$qwh1" >/dev/null || t_bail "receipt"; }
        [ "$qwh2" -gt 0 ] && { omnisync stock receipt WH2 "$sku" "$qwh2" >/dev/null || t_bail "receipt"; }
    done
    ORD_SIM_PORT=$(free_port)
    t_bg sim store-sim --port "$ORD_SIM_PORT" --login "$ORD_LOGIN" \
        --password "$ORD_PW" --limit 0
    wait_for 10 sim_get /_sim/health || t_bail "store-sim did not start"
    # The store's shop: the same SKUs, quantity = what the ledger has.
    python3 - "$((qweb + qwh1 + qwh2))" "${ORD_SKUS[@]}" >"$T_TMP/prefill.json" <<'PY'
import json, sys
q = int(sys.argv[1])
prods = {}
for sku in sys.argv[2:]:
    art = sku.rsplit("-", 1)[0]
    prods.setdefault(art, []).append({"sku": sku, "price": 1000 + len(prods), "quantity": q})
# A product the ledger does not know (unknown SKU orders).
prods["GHOST"] = [{"sku": "GHOST-1", "price": 500, "quantity": 1000}]
print(json.dumps({"products": [{"title": a, "variants_attributes": v} for a, v in prods.items()]}))
PY
    sim_post /_sim/products "@$T_TMP/prefill.json" >/dev/null || t_bail "prefill"
    ORD_PW_ENV=$ORD_PW omnisync store add "$ORD_STORE" --platform insales \
        --url "http://127.0.0.1:$ORD_SIM_PORT" --login "$ORD_LOGIN" \
        --password-env ORD_PW_ENV --online-location WEB1 \
        --source-locations WH1,WH2 --price-list ONLINE \
        --delivery-sku "$ORD_DELIVERY_SKU" >/dev/null || t_bail "store add"
    ORD_PORT=$(free_port)
    ORD_SECRET=$(ord_secret)
}

# ord_start NAME [ARGS...]: the ingestor, log in $T_TMP/NAME.log.
ord_start() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    t_bg "$name" order-ingestor -o log.level=info \
        -o intake.listen="127.0.0.1:$ORD_PORT" \
        -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
        -o poll.interval.ms=2000 -o stores.refresh.ms=2000 \
        ${HARNESS_KAFKA_OPTS:-} "$@"
}

place1() {
    sim_post /_sim/orders "{\"lines\":[{\"sku\":\"$1\",\"quantity\":$2}],\"delivery_price\":\"0.0\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

ord_healthy() { curl -sf "http://127.0.0.1:$ORD_PORT/healthz" >/dev/null; }

ord_count() { sql "SELECT count(*) FROM customer_order"; }

# ord_place N SEED OUT [SKU...]: N orders of 1-3 lines (qty 1-2) over the
# SKUs, each with a delivery price; the store's answers go to OUT (JSON
# lines); prints "placed=N refused=N".
ord_place() {
    local n=$1 seed=$2 out=$3
    shift 3
    local skus=("$@")
    [ ${#skus[@]} -eq 0 ] && skus=("${ORD_SKUS[@]}")
    python3 - "$ORD_SIM_PORT" "$n" "$seed" "$out" "${skus[@]}" <<'PY'
import http.client, json, os, random, sys, time
delay = float(os.environ.get("ORD_PLACE_DELAY", "0"))
port, n, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
skus = sys.argv[5:]
rnd = random.Random(seed)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
placed = refused = 0
with open(out, "a") as f:
    for i in range(n):
        lines = [{"sku": s, "quantity": rnd.randint(1, 2)}
                 for s in rnd.sample(skus, rnd.randint(1, min(3, len(skus))))]
        body = json.dumps({"lines": lines, "delivery_title": "Courier",
                           "delivery_price": "%d.0" % rnd.choice([0, 300, 450]),
                           "client": {"name": "Buyer %d" % i, "email": "b%d@example.com" % i}})
        conn.request("POST", "/_sim/orders", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status == 201:
            placed += 1
            f.write(data.decode() + "\n")
        else:
            refused += 1
        if delay:
            time.sleep(delay)
print("placed=%d refused=%d" % (placed, refused))
PY
}

# ord_kill9_run N KILLS DELAY SEED: place N orders (ord_place, DELAY s
# apart, into $T_TMP/placed.jsonl) while order-ingestor "oi" is killed -9
# KILLS times, each after the ledger's orders grew, at a random moment,
# and restarted; then asserts store-sim accepted all N.
ord_kill9_run() {
    local n=$1 kills=$2 delay=$3 seed=$4 placer k
    (ORD_PLACE_DELAY=$delay ord_place "$n" "$seed" "$T_TMP/placed.jsonl" >"$T_TMP/place.out") &
    placer=$!
    for ((k = 1; k <= kills; k++)); do
        wait_for 20 ord_grew "$(ord_count)"
        sleep "0.$((RANDOM % 9))"
        kill -KILL "$(t_pid oi)" 2>/dev/null
        t_wait oi 10 >/dev/null
        t_diag "kill -9 #$k at $(ord_count) orders"
        sleep "0.$((RANDOM % 5))"
        ord_start oi
        wait_for 20 ord_healthy
    done
    wait "$placer"
    t_is "store-sim accepted all $n orders" "$(cat "$T_TMP/place.out")" "placed=$n refused=0"
}
ord_grew() { [ "$(ord_count)" -gt "$1" ]; }

# ord_compare: every store-sim order is in the ledger exactly once with the
# same item lines (SKU, quantity), a delivery line of the delivery item
# with the order's delivery price, and a reservation equal to its items;
# per SKU, the ledger's reserved at the store's source locations equals
# the open orders' quantities.  ORD_IGNORE_IDS: remote ids (comma list) of
# orders injected past the store (bad inputs checked apart) to leave out.
ord_compare() {
    local page=1
    : >"$T_TMP/sim-orders.jsonl"
    while :; do
        sim_get "/admin/orders.json?per_page=250&page=$page" >"$T_TMP/page.json" || return 1
        python3 -c 'import json,sys; [print(json.dumps(o)) for o in json.load(open(sys.argv[1]))]' \
            "$T_TMP/page.json" >>"$T_TMP/sim-orders.jsonl"
        [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T_TMP/page.json")" -lt 250 ] && break
        page=$((page + 1))
    done
    sql "SELECT coalesce(json_agg(x), '[]') FROM (
           SELECT o.remote_id, o.status, o.stock_state, o.delivery_price::text AS dp,
             (SELECT json_agg(json_build_object('sku', l.sku, 'qty', l.quantity,
                     'price', l.price::text, 'delivery', l.is_delivery,
                     'variant', l.variant_id) ORDER BY l.line_no)
                FROM customer_order_line l WHERE l.order_id = o.id) AS lines,
             (SELECT json_agg(json_build_object('kind', m.kind, 'key', m.idem_key,
                     'sku', v.sku, 'loc', lo.code, 'oh', ml.on_hand_delta,
                     'rs', ml.reserved_delta))
                FROM stock_movement m JOIN stock_movement_line ml ON ml.movement_id = m.id
                JOIN variant v ON v.id = ml.variant_id JOIN location lo ON lo.id = ml.location_id
               WHERE m.order_id = o.id) AS moves
             FROM customer_order o JOIN store s ON s.id = o.store_id
            WHERE s.name = '$ORD_STORE'
              AND NOT o.remote_id = ANY ('{${ORD_IGNORE_IDS:-}}'::bigint[])) x" >"$T_TMP/ledger-orders.json"
    sql "SELECT coalesce(json_object_agg(v.sku, r), '{}') FROM (
           SELECT l.variant_id, sum(l.reserved) AS r FROM stock_level l
             JOIN store_source ss ON ss.location_id = l.location_id
             JOIN store st ON st.id = ss.store_id AND st.name = '$ORD_STORE'
            GROUP BY 1) s
           JOIN variant v ON v.id = s.variant_id" >"$T_TMP/reserved.json"
    python3 - "$T_TMP" "$ORD_DELIVERY_SKU" <<'PY'
import json, sys
from collections import Counter, defaultdict
from decimal import Decimal
d, dsku = sys.argv[1], sys.argv[2]
sim = [json.loads(l) for l in open(d + "/sim-orders.jsonl")]
led = json.load(open(d + "/ledger-orders.json"))
reserved = json.load(open(d + "/reserved.json"))
by_id = {}
dups = 0
for o in led:
    if o["remote_id"] in by_id: dups += 1
    by_id[o["remote_id"]] = o
bad, missing = [], 0
want_reserved = Counter()
for s in sim:
    o = by_id.get(s["id"])
    if not o:
        missing += 1; continue
    items = [l for l in o["lines"] if not l["delivery"]]
    dl = [l for l in o["lines"] if l["delivery"]]
    if sorted((l["sku"], l["qty"]) for l in items) != sorted((l["sku"], l["quantity"]) for l in s["order_lines"]):
        bad.append("%d: lines differ" % s["id"])
    if len(dl) != 1 or dl[0]["sku"] != dsku or Decimal(dl[0]["price"]) != Decimal(str(s["delivery_price"])):
        bad.append("%d: delivery line %r vs %s" % (s["id"], dl, s["delivery_price"]))
    moves = o["moves"] or []
    res = Counter()
    for m in moves:
        if m["kind"] == "reserve": res[m["sku"]] += m["rs"]
    keys = Counter(m["key"] for m in moves if m["kind"] == "reserve")
    want = Counter()
    for l in s["order_lines"]: want[l["sku"]] += l["quantity"]
    open_ = s["fulfillment_status"] not in ("declined", "returned", "dispatched", "delivered")
    if s["fulfillment_status"] in ("new", "accepted", "approved") and o["stock_state"] != "reserved":
        bad.append("%d: stock_state %s" % (s["id"], o["stock_state"]))
    if res != want:
        bad.append("%d: reserved %s want %s" % (s["id"], dict(res), dict(want)))
    if open_:
        want_reserved.update(want)
levels = [k for k in set(want_reserved) | {k for k, v in reserved.items() if v}
          if want_reserved.get(k, 0) != reserved.get(k, 0)]
print("store=%d ledger=%d missing=%d dups=%d extra=%d mismatches=%d reserved_mismatch=%d"
      % (len(sim), len(led), missing, dups, len(set(by_id) - {s["id"] for s in sim}), len(bad), len(levels)))
for b in bad[:10]: print("  " + b)
for k in levels[:10]: print("  %s: ledger reserved %s, open orders %s" % (k, reserved.get(k), want_reserved.get(k)))
sys.exit(1 if missing or dups or bad or levels or len(sim) != len(led) else 0)
PY
}
