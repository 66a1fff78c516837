# shellcheck shell=bash
# tests/integration/stock/stock-lib.bash — helpers of the stock-publisher
# scripts (not a test itself: tests/run.sh runs only *.sh).
#
#   . "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"
#   st_ledger NPRODUCTS NVARIANTS     # price list, WH1, WEB1, catalog STK-*
#   st_sim NAME [ARGS]                # store-sim (queued group updates);
#                                     # port in ST_PORT[NAME]
#   st_store STORE SIM WEBLOC SOURCES [ARGS]  # omnisync store add
#   st_prefill STORE SIM [LIKE]       # products into store-sim + remote_map
#   st_relay / st_pub NAME [ARGS]     # outbox-relay / stock-publisher
#   st_calls SIM SINCE                # group-update PUTs after seq SINCE
#   st_seq SIM                        # last request seq
#   st_compare STORE SIM              # store-sim vs ledger (exit 0: equal)
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
export PATH=$OMNISYNC_ROOT/bin:$OMNISYNC_ROOT/build/std/tools:$PATH

ST_LOGIN=stlogin
ST_PW='st-pw-secret'
ST_GROUP="stockpub-$$-$RANDOM"
declare -A ST_PORT=()

sql() { psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -c "$1"; }

sim_get() { # SIM PATH
    curl -sf -u "$ST_LOGIN:$ST_PW" "http://127.0.0.1:${ST_PORT[$1]}$2"
}

# st_ledger NP NV: products STK-%04d with NV variants STK-%04d-%02d, price
# 100+p, old price 200+p on every other product; a DELIVERY service item.
st_ledger() {
    local np=$1 nv=$2
    omnisync db migrate >/dev/null || t_bail "db migrate"
    omnisync pricelist add ONLINE --name Online >/dev/null || t_bail "pricelist"
    omnisync location add WH1 --kind warehouse >/dev/null || t_bail "location"
    omnisync location add WEB1 --kind online --price-list ONLINE >/dev/null ||
        t_bail "location"
    awk -v np="$np" -v nv="$nv" 'BEGIN {
        print "article,name,sku,price,old_price"
        print "DLV,Delivery,DELIVERY,300.00,"
        for (p = 1; p <= np; p++)
            for (v = 1; v <= nv; v++)
                printf "STK-%04d,Product %d,STK-%04d-%02d,%d.00,%s\n", p, p, p, v,
                    100 + p, (p % 2 ? "" : (200 + p) ".00")
    }' >"$T_TMP/catalog.csv"
    omnisync import catalog "$T_TMP/catalog.csv" --price-list ONLINE \
        >"$T_TMP/import.log" 2>&1 || t_bail "import: $(cat "$T_TMP/import.log")"
}

# st_sim NAME [ARGS]: a store-sim with queued group updates (200 ms).
st_sim() {
    local name=$1 port
    shift
    port=$(free_port)
    ST_PORT[$name]=$port
    t_bg "$name" store-sim --port "$port" --login "$ST_LOGIN" --password "$ST_PW" \
        --limit 500 --window 300 --group-update queued \
        --group-update-delay-ms 200 "$@"
    wait_for 10 sim_get "$name" /_sim/health || t_bail "store-sim $name did not start"
}

# st_store STORE SIM WEBLOC SOURCES [ARGS]
st_store() {
    local store=$1 sim=$2 web=$3 src=$4
    shift 4
    ST_PW_ENV=$ST_PW omnisync store add "$store" --platform insales \
        --url "http://127.0.0.1:${ST_PORT[$sim]}" --login "$ST_LOGIN" \
        --password-env ST_PW_ENV --online-location "$web" \
        --source-locations "$src" --price-list ONLINE \
        --delivery-sku DELIVERY "$@" >/dev/null || t_bail "store add $store"
}

# st_prefill STORE SIM [LIKE]: every product whose article matches LIKE
# (default 'STK-%') into store-sim (quantity 0, ledger prices) without API
# budget, and the remote_map rows (entity 'product' and 'variant') from the
# ids store-sim returns.  This stands in for catalog-publisher so these
# tests depend only on stock-publisher.
st_prefill() {
    local store=$1 sim=$2 like=${3:-STK-%} sid
    sid=$(sql "SELECT id FROM store WHERE name = '$store'")
    sql "SELECT json_build_object('products', json_agg(x.p ORDER BY x.article))
           FROM (SELECT pr.article, json_build_object('title', pr.name,
                   'variants_attributes', json_agg(json_build_object(
                     'sku', v.sku, 'quantity', 0, 'price', pc.price::text,
                     'old_price', pc.old_price::text) ORDER BY v.id)) AS p
                   FROM product pr JOIN variant v ON v.product_id = pr.id
                   JOIN price pc ON pc.variant_id = v.id
                  WHERE pr.article LIKE '$like'
                  GROUP BY pr.article, pr.name) x(article, p)" \
        >"$T_TMP/prefill-$sim.json"
    curl -sf -X POST -H 'Content-Type: application/json' \
        --data-binary @"$T_TMP/prefill-$sim.json" \
        "http://127.0.0.1:${ST_PORT[$sim]}/_sim/products" >/dev/null ||
        t_bail "prefill $sim"
    local page=1
    : >"$T_TMP/map-$sim.sql"
    while :; do
        sim_get "$sim" "/admin/products.json?per_page=250&page=$page" \
            >"$T_TMP/page.json" || t_bail "list $sim"
        python3 - "$T_TMP/page.json" "$sid" >>"$T_TMP/map-$sim.sql" <<'PY' || break
import json, sys
ps = json.load(open(sys.argv[1])); sid = sys.argv[2]
for p in ps:
    print("INSERT INTO remote_map (store_id, entity, local_id, remote_id) "
          "SELECT %s, 'product', product_id, %d FROM variant WHERE sku = '%s';"
          % (sid, p["id"], p["variants"][0]["sku"]))
    for v in p["variants"]:
        print("INSERT INTO remote_map (store_id, entity, local_id, remote_id) "
              "SELECT %s, 'variant', id, %d FROM variant WHERE sku = '%s';"
              % (sid, v["id"], v["sku"]))
sys.exit(0 if len(ps) == 250 else 1)
PY
        page=$((page + 1))
    done
    psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -f "$T_TMP/map-$sim.sql" \
        >/dev/null || t_bail "remote_map rows"
}

st_relay() {
    t_bg "${1:-relay}" outbox-relay -o relay.poll.ms=100 -o relay.standby.ms=200
}

# st_pub NAME [ARGS]: stock-publisher in this script's own consumer group.
st_pub() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    t_bg "$name" stock-publisher -o group.id="$ST_GROUP" -o stats.ms=1000 \
        -o stores.refresh.ms=1000 ${HARNESS_KAFKA_OPTS:-} \
        -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500 "$@"
}

st_drained() { [ "$(sql "SELECT count(*) FROM outbox WHERE sent_at IS NULL")" = 0 ]; }

st_seq() {
    sim_get "$1" "/_sim/requests?since=0" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r[-1]["seq"] if r else 0)'
}

# st_calls SIM SINCE: variants_group_update calls after SINCE.
st_calls() {
    sim_get "$1" "/_sim/requests?since=$2" | python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "PUT"
          and r["path"].endswith("variants_group_update.json")))'
}

# st_expect STORE: "sku quantity price old_price" of every mapped variant
# as the ledger says the store should show it.
st_expect() {
    sql "SELECT v.sku, greatest(0, coalesce(sum(l.on_hand), 0)
                 - coalesce(sum(l.reserved), 0) - s.safety_stock),
                coalesce(pc.price::text, '-'), coalesce(pc.old_price::text, '-')
           FROM store s JOIN remote_map m ON m.store_id = s.id
                AND m.entity = 'variant'
           JOIN variant v ON v.id = m.local_id
           JOIN store_source ss ON ss.store_id = s.id
           LEFT JOIN stock_level l ON l.location_id = ss.location_id
                AND l.variant_id = v.id
           LEFT JOIN price pc ON pc.price_list_id = s.price_list_id
                AND pc.variant_id = v.id
          WHERE s.name = '$1'
          GROUP BY v.sku, s.safety_stock, pc.price, pc.old_price ORDER BY v.sku"
}

# st_compare STORE SIM: 0 when every mapped variant shows the ledger's
# quantity, price and old price; prints "mismatches=N of M" (and a few).
st_compare() {
    st_expect "$1" >"$T_TMP/expect-$2.txt" || return 1
    sim_get "$2" "/_sim/state?skus=1" >"$T_TMP/state-$2.json" || return 1
    python3 - "$T_TMP/expect-$2.txt" "$T_TMP/state-$2.json" <<'PY'
import json, sys
from decimal import Decimal
st = json.load(open(sys.argv[2]))["variants_by_sku"]
def m(x): return None if x in (None, "-") else Decimal(str(x))
bad, n = [], 0
for line in open(sys.argv[1]):
    sku, q, p, o = line.rstrip("\n").split("|")
    n += 1
    v = st.get(sku)
    if v is None:
        bad.append("%s: not in the store" % sku); continue
    if (v["quantity"] or 0) != int(q):
        bad.append("%s: quantity %s != %s" % (sku, v["quantity"], q))
    if p != "-" and (m(v["price"]) != m(p) or m(v["old_price"]) != m(o)):
        bad.append("%s: price %s/%s != %s/%s" % (sku, v["price"], v["old_price"], p, o))
print("mismatches=%d of %d %s" % (len(bad), n, "; ".join(bad[:5])))
sys.exit(1 if bad or n == 0 else 0)
PY
}

# st_stat NAME FIELD: FIELD of the last stats line of t_bg process NAME.
st_stat() {
    grep 'stats: ' "$T_TMP/$1.log" | tail -1 | sed -nE "s/.* $2=([^ ]+).*/\1/p"
}
