#!/usr/bin/env bash
# outbox-relay: per-key order and the event contract.
#  - Per key, events reach Kafka in outbox id order even when concurrent
#    transactions commit out of id order (each transaction locks its
#    entity row before writing the outbox row, as DESIGN.md prescribes).
#  - What the relay puts on Kafka validates against proto/ (envelope and
#    per-type data schemas) with tests/tools/validate-events.py: realistic
#    catalog.product and stock.available rows, plus the events the omnisync
#    CLI emits when its import/stock commands are available.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
. "$OMNISYNC_ROOT/tests/integration/relay/relay-lib.bash"

STORE="ord$$x$RANDOM"
SESSIONS=4
TXNS=60
KEYS=3
PID0=$((900000000 + ($$ * 32768 + RANDOM) % 90000000)) # product ids of ours

t_ok "ledger schema applied" relay_migrate || t_bail "no schema"
relay_sql "CREATE TABLE t_entity (k int PRIMARY KEY, n int NOT NULL)"
relay_sql "INSERT INTO t_entity SELECT g, 0 FROM generate_series(1, $KEYS) g"

relay_start r -o relay.batch=50

# ---- (c) per-key order under concurrent, out-of-order commits
for ((s = 0; s < SESSIONS; s++)); do
    awk -v s="$s" -v txns="$TXNS" -v keys="$KEYS" -v store="$STORE" '
    BEGIN {
        print "\\set ON_ERROR_STOP 1"
        srand(s + 1)
        for (t = 0; t < txns; t++) {
            k = int(rand() * keys) + 1
            print "BEGIN;"
            printf "WITH u AS (UPDATE t_entity SET n = n + 1 WHERE k = %d RETURNING k, n) ", k
            printf "INSERT INTO outbox (topic, type, key, store, data) SELECT "
            printf "'\''omnisync.stock.v1'\'', '\''stock.available'\'', '\''%s:'\'' || k, ", store
            printf "'\''%s'\'', jsonb_build_object('\''variant_id'\'', k, ", store
            printf "'\''sku'\'', '\''SKU-'\'' || k, '\''available'\'', n, '\''on_hand'\'', n, "
            printf "'\''reserved'\'', 0, '\''safety_stock'\'', 0, '\''price'\'', NULL, '\''old_price'\'', NULL) FROM u;\n"
            print "SELECT pg_sleep(random() * 0.02);"
            print "COMMIT;"
        }
    }' >"$T_TMP/order$s.sql"
done
for ((s = 0; s < SESSIONS; s++)); do
    t_bg "order$s" psql "$OMNISYNC_PG" -XqtA -o /dev/null -f "$T_TMP/order$s.sql"
done
rc=0
for ((s = 0; s < SESSIONS; s++)); do
    t_wait "order$s" 120 || rc=1
done
t_is "the concurrent writers committed" "$rc" 0

# ---- (d) realistic rows of both types, copied from proto/examples
python3 - "$OMNISYNC_ROOT/proto/examples" "$PID0" "$STORE" >"$T_TMP/examples.sql" <<'PY'
import json, sys
ex, pid0, store = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cat = json.load(open(ex + "/catalog.product.json"))["data"]
st = json.load(open(ex + "/stock.available.json"))["data"]
def q(s):
    return "'" + s.replace("'", "''") + "'"
for i in range(20):
    d = dict(cat, product_id=pid0 + i, article="EX-%d" % i, name="Example %d" % i)
    d["variants"] = [dict(v, variant_id=v["variant_id"] + 10 * i,
                          sku="%s-%d" % (v["sku"], i)) for v in cat["variants"]]
    print("INSERT INTO outbox (topic, type, key, store, data) VALUES "
          "('omnisync.catalog.v1', 'catalog.product', %s, NULL, %s);"
          % (q(str(pid0 + i)), q(json.dumps(d, ensure_ascii=False))))
for i in range(20):
    d = dict(st, variant_id=100 + i, sku="SKU-EX-%d" % i, available=i)
    print("INSERT INTO outbox (topic, type, key, store, data) VALUES "
          "('omnisync.stock.v1', 'stock.available', %s, %s, %s);"
          % (q("%s:%d" % (store, 100 + i)), q(store), q(json.dumps(d))))
PY
t_ok "example rows inserted" "${RELAY_PSQL[@]}" -f "$T_TMP/examples.sql"

# ---- the CLI's own events, when its commands exist yet
cli=0
cat >"$T_TMP/catalog.csv" <<'CSV'
group,article,name,description,sku,barcode,color,size,price,old_price
Одежда/Мужская,SH-1,Рубашка,"Хлопок, прямой крой",SH-1-RED-M,4600000000017,red,M,1500.00,
Одежда/Мужская,SH-1,Рубашка,"Хлопок, прямой крой",SH-1-RED-L,4600000000024,red,L,"1 500,00",1700.00
,DLV,Delivery,,DELIVERY,,,,300.00,
CSV
if omnisync pricelist add WEB >"$T_TMP/cli.log" 2>&1 &&
    omnisync location add WH1 --kind warehouse >>"$T_TMP/cli.log" 2>&1 &&
    omnisync location add SHOP --kind online --price-list WEB >>"$T_TMP/cli.log" 2>&1 &&
    omnisync import catalog "$T_TMP/catalog.csv" --price-list WEB >>"$T_TMP/cli.log" 2>&1 &&
    PW=secret omnisync store add "$STORE-cli" --platform insales --url http://127.0.0.1:9 \
        --login api --password-env PW --online-location SHOP --source-locations WH1 \
        --price-list WEB --delivery-sku DELIVERY >>"$T_TMP/cli.log" 2>&1 &&
    omnisync stock receipt WH1 SH-1-RED-M 10 >>"$T_TMP/cli.log" 2>&1; then
    cli=1
else
    t_diag "omnisync CLI not ready: $(tail -1 "$T_TMP/cli.log")"
fi

t_ok "the outbox is drained" wait_for 60 relay_drained
relay_sql "SELECT event_id, key, type FROM outbox ORDER BY id" >"$T_TMP/outbox.tsv"
relay_consume omnisync.stock.v1 "$T_TMP/stock.tsv"
relay_consume omnisync.catalog.v1 "$T_TMP/catalog.tsv"
cat "$T_TMP/stock.tsv" "$T_TMP/catalog.tsv" >"$T_TMP/kafka.tsv"

# Per key: the sequence of ids on Kafka (in partition order) is the
# outbox's id order, and "available" (the entity's counter) only grows.
order=$(python3 - "$T_TMP/outbox.tsv" "$T_TMP/stock.tsv" "$STORE" "$KEYS" <<'PY'
import json, sys
outbox, kafka, store, keys = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
want = {}
for l in open(outbox, encoding="utf-8"):
    eid, key, _ = l.rstrip("\n").split("\t")
    want.setdefault(key, []).append(eid)
got, avail = {}, {}
for l in open(kafka, encoding="utf-8"):
    key, _, value = l.rstrip("\n").split("\t", 2)
    if key in want:
        ev = json.loads(value)
        got.setdefault(key, []).append(ev["id"])
        avail.setdefault(key, []).append(ev["data"]["available"])
bad = []
total = 0
for k in range(1, keys + 1):
    key = "%s:%d" % (store, k)
    total += len(want.get(key, []))
    if got.get(key) != want.get(key):
        bad.append("%s: kafka order differs from outbox id order" % key)
    a = avail.get(key, [])
    if a != list(range(1, len(a) + 1)):
        bad.append("%s: available not 1..n in order: %s" % (key, a[:20]))
print("keys=%d events=%d %s" % (keys, total, "; ".join(bad) or "in order"))
sys.exit(1 if bad else 0)
PY
)
rc=$?
t_diag "$order"
t_is "per key, Kafka order is outbox id order (= commit order of the key's entity)" "$rc" 0
t_like "all $((SESSIONS * TXNS)) ordered events checked" "$order" "events=$((SESSIONS * TXNS)) "

relay_values_of "$T_TMP/outbox.tsv" "$T_TMP/kafka.tsv" >"$T_TMP/events.jsonl"
n=$(($(wc -l <"$T_TMP/outbox.tsv")))
t_is "every outbox event was consumed once" "$(wc -l <"$T_TMP/events.jsonl")" "$n"
t_ok "the published events validate against proto/ schemas" \
    python3 "$OMNISYNC_ROOT/tests/tools/validate-events.py" --min "$n" <"$T_TMP/events.jsonl"
t_is "catalog.product events among them" \
    "$(grep -c '"type":"catalog.product"' "$T_TMP/events.jsonl")" \
    "$(grep -c 'catalog.product$' "$T_TMP/outbox.tsv")"
if [ $cli -eq 1 ]; then
    t_ok "the CLI emitted events (import, stock)" test \
        "$(relay_sql "SELECT count(DISTINCT type) FROM outbox WHERE key NOT LIKE '$STORE:%' AND key::text !~ '^9[0-9]{8}$'")" -ge 1
else
    t_skip "events emitted by the omnisync CLI validate" "omnisync import/store/stock not ready"
fi
# The envelope's ts is the row's created_at, RFC 3339 in UTC with ms.
t_like "ts has milliseconds and an offset" "$(head -1 "$T_TMP/events.jsonl")" \
    '"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+00:00"'
t_like "headers carry event-id and event-type" "$(head -1 "$T_TMP/kafka.tsv")" \
    'event-id=[0-9a-f-]{36},event-type=[a-z.]+'

rc=0
t_kill r TERM || rc=$?
t_is "relay exits 0 on SIGTERM" "$rc" 0
t_done
