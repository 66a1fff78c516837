# shellcheck shell=bash
# tests/integration/catalog/catalog-lib.bash — helpers of the
# catalog-publisher scripts (not a test itself: tests/run.sh runs only *.sh).
#
#   . "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"
#   cat_setup NPRODUCTS NVARIANTS   # ledger, catalog CSV, store-sim, store,
#                                   # outbox-relay, catalog-publisher,
#                                   # image-uploader "imgup" if CAT_IMGUP=1
#                                   # (CAT_LIMIT/CAT_WINDOW: the API limit,
#                                   # 500 calls per 10 s by default so the
#                                   # suite does not wait out 5-minute windows;
#                                   # CAT_SIM_LIMIT: store-sim's own limit,
#                                   # CAT_SIM_EXTRA: more store-sim flags,
#                                   # CAT_STORE_ARGS: more store add flags,
#                                   # cat_gen: the catalog generator)
#   sim_get PATH                    # GET on store-sim (admin paths: basic auth)
#   sim_seq                         # last request sequence number
#   sim_changes SINCE               # POST/PUT/DELETE /admin requests after SINCE
#   cat_compare                     # store-sim state vs the ledger (python)
#   cat_reconciled [SECONDS]        # `omnisync reconcile STORE` exits 0
#                                   # (retried each 2 s, default 40 s; needs
#                                   # CAT_STOCKPUB=1 for the quantities)
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
export PATH=$OMNISYNC_ROOT/bin:$PATH

CAT_STORE="cs$$r$RANDOM"
CAT_LOGIN=catlogin
CAT_PW='cat-pw-secret'

sql() { psql "$OMNISYNC_PG" -XqtA -v ON_ERROR_STOP=1 -c "$1"; }

sim_get() {
    curl -sf -u "$CAT_LOGIN:$CAT_PW" "http://127.0.0.1:$CAT_SIM_PORT$1"
}

sim_seq() {
    sim_get "/_sim/requests?since=0" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r[-1]["seq"] if r else 0)'
}

# sim_changes SINCE [METHOD]: changing /admin requests after SINCE as
# "METHOD PATH STATUS" lines.
sim_changes() {
    sim_get "/_sim/requests?since=$1" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["method"] in ("POST", "PUT", "DELETE") and r["path"].startswith("/admin"):
        print(r["method"], r["path"], r["status"])'
}

cat_publisher_start() {
    t_bg "${1:-catpub}" catalog-publisher -o log.level=info \
        -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500
}

# cat_gen DIR NP NV: write DIR/catalog.csv (scripts may redefine it).
cat_gen() {
    bash "$OMNISYNC_ROOT/tests/integration/import/gen-catalog.bash" "$@"
}

# cat_setup NP NV: product p has NV variants ART-%05d-v (gen-catalog.bash).
cat_setup() {
    local np=$1 nv=$2
    omnisync db migrate >/dev/null || t_bail "db migrate"
    omnisync pricelist add ONLINE --name Online >/dev/null || t_bail "pricelist"
    omnisync location add WH1 --kind warehouse >/dev/null || t_bail "location"
    omnisync location add WEB1 --kind online --price-list ONLINE >/dev/null ||
        t_bail "location"
    mkdir -p "$T_TMP/cat"
    cat_gen "$T_TMP/cat" "$np" "$nv" || t_bail "gen-catalog"
    omnisync import catalog "$T_TMP/cat/catalog.csv" --price-list ONLINE \
        >"$T_TMP/import.log" 2>&1 || t_bail "import: $(cat "$T_TMP/import.log")"
    CAT_SIM_PORT=$(free_port)
    # shellcheck disable=SC2086 # word splitting of the extra flags wanted
    t_bg sim store-sim --port "$CAT_SIM_PORT" --login "$CAT_LOGIN" \
        --password "$CAT_PW" --limit "${CAT_SIM_LIMIT:-${CAT_LIMIT:-500}}" \
        --window "${CAT_WINDOW:-10}" ${CAT_SIM_EXTRA:-}
    wait_for 10 sim_get /_sim/health || t_bail "store-sim did not start"
    CAT_PW_ENV=$CAT_PW omnisync store add "$CAT_STORE" --platform insales \
        --url "http://127.0.0.1:$CAT_SIM_PORT" --login "$CAT_LOGIN" \
        --password-env CAT_PW_ENV --online-location WEB1 \
        --source-locations WH1 --price-list ONLINE \
        --delivery-sku ART-00001-1 --api-limit "${CAT_LIMIT:-500}" \
        --api-window "${CAT_WINDOW:-10}" ${CAT_STORE_ARGS:-} >/dev/null ||
        t_bail "store add"
    # Only the sync's events matter here: the import's store-less events
    # are marked sent so the relay does not publish them.
    sql "UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL" >/dev/null
    t_bg relay outbox-relay -o relay.poll.ms=200 -o relay.standby.ms=200
    cat_publisher_start catpub
    # Photos follow their products and `sync` waits for them too: with
    # CAT_IMGUP=1 an image-uploader "imgup" is started here.
    if [ "${CAT_STOCKPUB:-0}" = 1 ]; then
        t_bg stockpub stock-publisher -o log.level=info \
            -o stockpub.flush.ms=200 ${HARNESS_KAFKA_OPTS:-}
    fi
    if [ "${CAT_IMGUP:-0}" = 1 ]; then
        t_bg imgup image-uploader -o log.level=info \
            -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500
    fi
}

# cat_reconciled [SECONDS]: `omnisync reconcile STORE` exits 0 within
# SECONDS (default 40), tried every 2 s (each try spends store calls); the
# last output is in $T_TMP/reconcile.out.
cat_reconciled() {
    local end=$(($(date +%s) + ${1:-40}))
    while :; do
        omnisync reconcile "$CAT_STORE" >"$T_TMP/reconcile.out" 2>&1 && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 2
    done
}

# cat_compare: exit 0 when store-sim holds every active ledger product
# (title, category path, description, SKUs, price/old_price of ONLINE) and
# no duplicate product or SKU; prints a summary line.
cat_compare() {
    sql "SELECT json_agg(x) FROM (
           SELECT p.article, p.name, p.description,
                  coalesce(g.path, '') AS path,
                  (SELECT json_agg(json_build_object('sku', v.sku,
                          'price', pr.price::text, 'old', pr.old_price::text))
                     FROM variant v JOIN price pr ON pr.variant_id = v.id
                     JOIN price_list pl ON pl.id = pr.price_list_id
                    WHERE v.product_id = p.id AND NOT v.archived
                      AND pl.code = 'ONLINE') AS variants
             FROM product p LEFT JOIN product_group g ON g.id = p.group_id
            WHERE NOT p.archived) x" >"$T_TMP/ledger.json"
    sim_get "/_sim/state?skus=1" >"$T_TMP/state.json" || return 1
    sim_get "/admin/categories.json" >"$T_TMP/cats.json" || return 1
    local page=1
    : >"$T_TMP/products.jsonl"
    while :; do
        sim_get "/admin/products.json?per_page=250&page=$page" >"$T_TMP/page.json" || return 1
        python3 -c 'import json,sys; [print(json.dumps(p)) for p in json.load(open(sys.argv[1]))]' \
            "$T_TMP/page.json" >>"$T_TMP/products.jsonl"
        [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T_TMP/page.json")" -lt 250 ] && break
        page=$((page + 1))
    done
    python3 - "$T_TMP" <<'PY'
import json, sys
from decimal import Decimal
d = sys.argv[1]
ledger = json.load(open(d + "/ledger.json")) or []
state = json.load(open(d + "/state.json"))
cats = {c["id"]: c for c in json.load(open(d + "/cats.json"))}
prods = [json.loads(l) for l in open(d + "/products.jsonl")]
def path(cid):
    out = []
    while cid in cats and cats[cid]["parent_id"] is not None:
        out.append(cats[cid]["title"]); cid = cats[cid]["parent_id"]
    return "/".join(reversed(out))
by_sku, dup_sku = {}, 0
for p in prods:
    for v in p["variants"]:
        if v["sku"] in by_sku: dup_sku += 1
        by_sku[v["sku"]] = (p, v)
bad = []
def money(x): return None if x is None else Decimal(str(x))
nvar = 0
for lp in ledger:
    vs = lp["variants"] or []
    if not vs: continue
    found = {by_sku[v["sku"]][0]["id"] for v in vs if v["sku"] in by_sku}
    if len(found) != 1: bad.append("%s: in %d store products" % (lp["article"], len(found))); continue
    sp = by_sku[vs[0]["sku"]][0]
    if sp["title"] != lp["name"]: bad.append("%s: title %r" % (lp["article"], sp["title"]))
    if (sp.get("description") or "") != lp["description"]: bad.append("%s: description" % lp["article"])
    if path(sp["category_id"]) != lp["path"]: bad.append("%s: category %r != %r" % (lp["article"], path(sp["category_id"]), lp["path"]))
    if len(sp["variants"]) != len(vs): bad.append("%s: %d variants, ledger %d" % (lp["article"], len(sp["variants"]), len(vs)))
    for v in vs:
        nvar += 1
        st = state["variants_by_sku"].get(v["sku"])
        if not st: bad.append(v["sku"] + ": missing"); continue
        if money(st["price"]) != money(v["price"]) or money(st["old_price"]) != money(v["old"]):
            bad.append("%s: price %s/%s != %s/%s" % (v["sku"], st["price"], st["old_price"], v["price"], v["old"]))
n_active = sum(1 for p in prods if not p.get("archived"))
print("ledger products=%d variants=%d store products=%d variants=%d dup_skus=%d mismatches=%d"
      % (len(ledger), nvar, len(prods), state["variants"], dup_sku, len(bad)))
for b in bad[:10]: print("  " + b)
sys.exit(1 if bad or dup_sku or len(prods) != len(ledger) else 0)
PY
}
