#!/usr/bin/env bash
# harness: fresh-kafka
# omnisync reconcile: 25 variants altered behind omnisync's back (direct
# variant PUTs to store-sim) are reported exactly (exit 1, --json and the
# table); --repair fixes them through stock-publisher and a second
# reconcile reports nothing (exit 0).  A store variant unknown to the
# ledger and a ledger variant missing in the store are reported, and
# --repair cannot fix them (exit 1).  Usage errors exit 2.
. "$OMNISYNC_ROOT/tests/integration/stock/stock-lib.bash"

STORE="s3r$$"
st_ledger 20 5 # 100 variants STK-0001-01 .. STK-0020-05
st_sim sim
st_store "$STORE" sim WEB1 WH1 --safety-stock 1
st_prefill "$STORE" sim '%' # the DELIVERY item too: it is a priced variant
move-burst --location WH1 --sku-like 'STK-%' --variants 100 --moves 400 \
    --kinds receipt,receipt,sale,reserve --max-qty 5 --seed 3 >/dev/null ||
    t_bail "movements"
st_relay relay
st_pub pub
t_ok "the store converges to the ledger" wait_for 60 st_compare "$STORE" sim

rec() { # rec ARGS...: reconcile's stdout in $T_TMP/rec.out, exit status in REC_RC
    omnisync reconcile "$@" >"$T_TMP/rec.out" 2>"$T_TMP/rec.err"
    REC_RC=$?
}

rec "$STORE"
t_is "reconcile of an equal store exits 0" "$REC_RC" 0
t_like "summary: 101 variants, none differ" "$(cat "$T_TMP/rec.out")" \
    "101 store variants, 101 ledger variants, 0 differ \(0 rows\), 0 missing in store, 0 unknown in store"
t_like "progress on stderr" "$(cat "$T_TMP/rec.err")" 'page 1: 21 products, 101 variants so far'
seq_rec=$(st_seq sim)
rec "$STORE" --json
t_is "--json of an equal store exits 0" "$REC_RC" 0
t_is "--json: empty drift" "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
print(d["store"] == sys.argv[2], d["drift"], d["missing_in_store"], d["unknown_in_store"])' "$T_TMP/rec.out" "$STORE")" \
    "True [] [] []"
t_is "one product list call a page (21 products, per_page 250)" \
    "$(sim_get sim "/_sim/requests?since=$seq_rec" | python3 -c '
import json,sys; r=json.load(sys.stdin)
print(sum(1 for x in r if x["path"] == "/admin/products.json" and "per_page=250" in x["query"] and "page=1" in x["query"]), len(r))')" "1 1"

# ---- 25 variants altered behind omnisync's back
sim_get sim "/admin/products.json?per_page=250&page=1" >"$T_TMP/products.json"
python3 - "$T_TMP/products.json" >"$T_TMP/alter.txt" <<'PY'
import json, sys
vs = [v for p in json.load(open(sys.argv[1])) for v in p["variants"]
      if v["sku"].startswith("STK-")]
vs.sort(key=lambda v: v["sku"])
# every 4th variant: 13 quantity changes, 12 price changes
for i, v in enumerate(vs[::4][:25]):
    if i % 2 == 0:
        body = {"variant": {"quantity": (v["quantity"] or 0) + 1000}}
        field = "quantity"
    else:
        body = {"variant": {"price": "%.2f" % (float(v["price"]) + 0.5)}}
        field = "price"
    print(v["product_id"], v["id"], v["sku"], field, json.dumps(body))
PY
t_is "25 variants picked" "$(wc -l <"$T_TMP/alter.txt")" 25
altered=0
while read -r pid vid sku field body; do
    curl -sf -X PUT -u "$ST_LOGIN:$ST_PW" -H 'Content-Type: application/json' \
        --data "$body" \
        "http://127.0.0.1:${ST_PORT[sim]}/admin/products/$pid/variants/$vid.json" \
        >/dev/null && altered=$((altered + 1))
done <"$T_TMP/alter.txt"
t_is "25 direct variant PUTs" "$altered" 25
awk '{print $3, $4}' "$T_TMP/alter.txt" | sort >"$T_TMP/expect-drift.txt"

rec "$STORE" --json
t_is "reconcile with drift exits 1" "$REC_RC" 1
python3 - "$T_TMP/rec.out" >"$T_TMP/got-drift.txt" <<'PY'
import json, sys
for d in json.load(open(sys.argv[1]))["drift"]:
    print(d["sku"], d["field"])
PY
sort -o "$T_TMP/got-drift.txt" "$T_TMP/got-drift.txt"
t_is "exactly the 25 altered SKUs and fields" \
    "$(diff "$T_TMP/expect-drift.txt" "$T_TMP/got-drift.txt" && echo same)" same
sku1=$(awk 'NR == 1 {print $3}' "$T_TMP/alter.txt")
sku2=$(awk 'NR == 2 {print $3}' "$T_TMP/alter.txt")
t_is "a quantity row has the store's and the ledger's value" \
    "$(python3 -c '
import json,sys
d=[x for x in json.load(open(sys.argv[1]))["drift"] if x["sku"] == sys.argv[2]][0]
print(int(d["store"]) - int(d["ledger"]))' "$T_TMP/rec.out" "$sku1")" 1000
t_is "a price row compares money numerically (x.50 vs x.00)" \
    "$(python3 -c '
import json,sys
from decimal import Decimal
d=[x for x in json.load(open(sys.argv[1]))["drift"] if x["sku"] == sys.argv[2]][0]
print(Decimal(d["store"]) - Decimal(d["ledger"]))' "$T_TMP/rec.out" "$sku2")" 0.50
rec "$STORE"
t_is "table mode exits 1 too" "$REC_RC" 1
t_like "table header" "$(head -1 "$T_TMP/rec.out")" '^SKU +FIELD +STORE +LEDGER'
t_is "table: 25 rows" "$(grep -c '^STK-' "$T_TMP/rec.out")" 25
t_like "table summary" "$(tail -1 "$T_TMP/rec.out")" '25 differ \(25 rows\), 0 missing in store, 0 unknown in store'

# ---- --repair: events through the relay and stock-publisher
t0=$(date +%s.%N)
rec "$STORE" --repair
t_is "reconcile --repair exits 0" "$REC_RC" 0
t_diag "repair took $(echo "$(date +%s.%N) - $t0" | bc) s; $(tail -1 "$T_TMP/rec.out")"
t_like "--repair says what it emitted" "$(cat "$T_TMP/rec.out")" 'repair: 25 events emitted; 0 variants left to repair'
t_is "25 stock.available events from the repair" \
    "$(sql "SELECT count(*) FROM outbox WHERE type = 'stock.available' AND created_at > to_timestamp($t0)")" 25
rec "$STORE"
t_is "a second reconcile exits 0" "$REC_RC" 0
t_like "and reports 0" "$(cat "$T_TMP/rec.out")" ' 0 differ \(0 rows\), 0 missing in store, 0 unknown in store'
t_ok "the store equals the ledger" st_compare "$STORE" sim

# ---- unknown in the store, missing in the store
curl -sf -X POST -H 'Content-Type: application/json' --data \
    '{"product":{"title":"Alien","variants_attributes":[{"sku":"ALIEN-1","price":"1.0","quantity":4}]}}' \
    "http://127.0.0.1:${ST_PORT[sim]}/_sim/products" >/dev/null || t_bail "alien product"
printf 'article,name,sku,price,old_price\nNEW-1,New product,NEW-1-01,50.00,\n' >"$T_TMP/new.csv"
omnisync import catalog "$T_TMP/new.csv" --price-list ONLINE >/dev/null 2>&1 || t_bail "import NEW-1"
omnisync stock receipt WH1 NEW-1-01 3 >/dev/null 2>&1 || t_bail "receipt NEW-1-01"
rec "$STORE" --json
t_is "unknown and missing: exit 1" "$REC_RC" 1
t_is "--json lists them" "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
print(len(d["drift"]), d["missing_in_store"], d["unknown_in_store"])' "$T_TMP/rec.out")" \
    "0 ['NEW-1-01'] ['ALIEN-1']"
rec "$STORE"
t_like "table: missing" "$(cat "$T_TMP/rec.out")" 'missing in store: NEW-1-01'
t_like "table: unknown" "$(cat "$T_TMP/rec.out")" 'unknown in store: ALIEN-1'
rec "$STORE" --repair --json
t_is "--repair cannot fix missing/unknown: exit 1" "$REC_RC" 1
t_is "--repair --json: no event, nothing left to repair by events" "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))["repair"]
print(d["events"], d["left"], d["missing_in_store"], d["unknown_in_store"])' "$T_TMP/rec.out")" "0 [] 1 1"

# ---- usage and input errors
rec nosuchstore
t_is "unknown store exits 2" "$REC_RC" 2
t_like "and says so" "$(cat "$T_TMP/rec.err")" "unknown store 'nosuchstore'"
rec
t_is "no store exits 2" "$REC_RC" 2
rec "$STORE" --bogus
t_is "unknown option exits 2" "$REC_RC" 2
rec "$STORE" --timeout abc
t_is "bad --timeout exits 2" "$REC_RC" 2
t_ok "stock-publisher stops cleanly" t_kill pub
t_done
