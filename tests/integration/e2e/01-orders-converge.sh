#!/usr/bin/env bash
# harness: fresh-kafka
# The whole loop, every service running: the catalog goes to the store
# (catalog-publisher), stock follows (stock-publisher), shoppers order in
# the store while webhooks are duplicated and dropped, the orders come back
# into the ledger exactly once with their reservations (order-ingestor),
# and the store's quantities converge to what the ledger says the channel
# may sell.  Declining an order in the store releases its reservation and
# the store's quantity goes back up; dispatching one ships it.
OMNISYNC_ROOT=${OMNISYNC_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$OMNISYNC_ROOT/tests/integration/catalog/catalog-lib.bash"

CAT_SIM_EXTRA="--group-update queued --group-update-delay-ms 200"
cat_setup 20 3
rm -rf "$T_TMP/cat/photos" # the import stored them: no service reads files
t_bg imgup image-uploader -o log.level=info ${HARNESS_KAFKA_OPTS:-}
t_bg stockpub stock-publisher -o log.level=info ${HARNESS_KAFKA_OPTS:-}

# ART-00001-1 is the store's delivery item: shoppers do not buy it.  Part
# of the stock arrives before the catalog is in the store: its events find
# no mapped variant and are skipped, and catalog-publisher re-emits them
# once it maps each variant (DESIGN.md "Ordering dependencies").
mapfile -t SKUS < <(sql "SELECT sku FROM variant WHERE sku NOT LIKE 'ART-00001-%' ORDER BY sku")
for s in "${SKUS[@]:0:10}"; do
    omnisync stock receipt WH1 "$s" 60 --ref "rcpt-$s" >/dev/null ||
        t_bail "receipt $s"
done
t_ok "sync initial maps the catalog and uploads the photos" \
    omnisync sync initial "$CAT_STORE" --timeout 180
for s in "${SKUS[@]:10}"; do
    omnisync stock receipt WH1 "$s" 60 --ref "rcpt-$s" >/dev/null ||
        t_bail "receipt $s"
done

# converged: every SKU's store quantity equals the ledger's available.
converged() {
    sql "SELECT json_object_agg(v.sku, GREATEST(0, coalesce(
                  (SELECT sum(l.on_hand - l.reserved) FROM stock_level l
                     JOIN store_source ss ON ss.location_id = l.location_id
                     JOIN store st ON st.id = ss.store_id
                    WHERE l.variant_id = v.id AND st.name = '$CAT_STORE'), 0)
                  - (SELECT safety_stock FROM store WHERE name = '$CAT_STORE')))
           FROM variant v WHERE v.sku NOT LIKE 'ART-00001-%'" >"$T_TMP/ledger-avail.json"
    sim_get "/_sim/state?skus=1" >"$T_TMP/sim-state.json" || return 1
    python3 - "$T_TMP/ledger-avail.json" "$T_TMP/sim-state.json" <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))
have = json.load(open(sys.argv[2]))["variants_by_sku"]
bad = [(s, have.get(s, {}).get("quantity"), q) for s, q in want.items()
       if have.get(s, {}).get("quantity") != q]
if bad:
    print("drift: %d, e.g. %s" % (len(bad), bad[:3]), file=sys.stderr)
    sys.exit(1)
PY
}
t_ok "the store shows the received stock" wait_for 60 converged

ORD_PORT=$(free_port)
t_bg ingest order-ingestor -o log.level=info \
    -o intake.listen="127.0.0.1:$ORD_PORT" \
    -o intake.public_url="http://127.0.0.1:$ORD_PORT" \
    -o poll.interval.ms=2000 -o stores.refresh.ms=2000 ${HARNESS_KAFKA_OPTS:-}
hooks() { sim_get /admin/webhooks.json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
hooks_ok() { [ "$(hooks)" -ge 2 ]; }
t_ok "order-ingestor registers its webhooks" wait_for 30 hooks_ok
t_ok "webhook faults on" curl -sf -X POST -H 'Content-Type: application/json' \
    --data '{"webhook_dup_rate":0.5,"webhook_drop_rate":0.3,"seed":7}' \
    "http://127.0.0.1:$CAT_SIM_PORT/_sim/faults"

# Shoppers: 1,000 orders of 1-2 lines over the SKUs; the store refuses what
# exceeds its stock (409), like a shop that limits sales to stock.
python3 - "$CAT_SIM_PORT" "$T_TMP/orders.jsonl" "${SKUS[@]}" <<'PY' >"$T_TMP/place.out"
import http.client, json, random, sys
port, out, skus = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
rnd = random.Random(11)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
placed = 0
with open(out, "w") as f:
    for i in range(1000):
        lines = [{"sku": s, "quantity": rnd.randint(1, 2)} for s in rnd.sample(skus, rnd.randint(1, 2))]
        conn.request("POST", "/_sim/orders", json.dumps({"lines": lines,
            "delivery_title": "Courier", "delivery_price": "300.0",
            "client": {"name": "Buyer %d" % i}}), {"Content-Type": "application/json"})
        r = conn.getresponse(); body = r.read()
        if r.status == 201:
            placed += 1
            f.write(body.decode() + "\n")
print(placed)
PY
placed=$(cat "$T_TMP/place.out")
t_ok "shoppers placed 1,000 orders" test "$placed" -eq 1000
orders_in() { test "$(sql "SELECT count(*) FROM customer_order")" -eq "$placed"; }
t_ok "every order reaches the ledger (dropped webhooks: polling)" wait_for 180 orders_in
sleep 3 # duplicates still in flight must change nothing
t_is "exactly once: $placed orders" "$(sql "SELECT count(*) FROM customer_order")" "$placed"
t_is "no order needs attention" \
    "$(sql "SELECT count(*) FROM customer_order WHERE attention_reason IS NOT NULL")" 0
want_reserved=$(python3 -c '
import json, sys
print(sum(l["quantity"] for o in map(json.loads, open(sys.argv[1]))
          for l in o["order_lines"]))' "$T_TMP/orders.jsonl")
t_is "reserved = ordered quantities" \
    "$(sql "SELECT coalesce(sum(reserved), 0) FROM stock_level")" "$want_reserved"
t_is "one delivery line per order" \
    "$(sql "SELECT count(*) FROM customer_order_line WHERE is_delivery")" "$placed"
t_ok "the store's quantities converge to the ledger" wait_for 120 converged

# Decline one order in the store: its reservation is released and the
# store's quantity goes back up (store-sim itself never restores stock on
# a decline, so only stock-publisher's push can raise it).
first=$(head -1 "$T_TMP/orders.jsonl")
oid=$(printf '%s' "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
osku=$(printf '%s' "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["order_lines"][0]["sku"])')
qty_of() { sim_get "/_sim/state?skus=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['variants_by_sku']['$1']['quantity'])"; }
before=$(qty_of "$osku")
t_ok "decline in the store" curl -sf -X POST -H 'Content-Type: application/json' \
    --data '{"fulfillment_status":"declined"}' \
    "http://127.0.0.1:$CAT_SIM_PORT/_sim/orders/$oid/status"
declined() { test "$(sql "SELECT fulfillment_status FROM customer_order WHERE remote_id = $oid")" = declined; }
t_ok "the ledger sees the decline" wait_for 30 declined
t_is "its reservation is released" \
    "$(sql "SELECT count(*) FROM stock_movement WHERE order_id = (SELECT id FROM customer_order WHERE remote_id = $oid) AND kind = 'release'")" 1
went_up() { test "$(qty_of "$osku")" -gt "$before"; }
t_ok "the store's quantity of $osku goes back up" wait_for 30 went_up
t_ok "and converges" wait_for 60 converged

# Dispatch another: the reservation becomes a shipped sale.
second=$(sed -n 2p "$T_TMP/orders.jsonl")
oid2=$(printf '%s' "$second" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
onhand() { sql "SELECT sum(on_hand) FROM stock_level"; }
oh_before=$(onhand)
t_ok "dispatch in the store" curl -sf -X POST -H 'Content-Type: application/json' \
    --data '{"fulfillment_status":"dispatched"}' \
    "http://127.0.0.1:$CAT_SIM_PORT/_sim/orders/$oid2/status"
shipped() { test "$(sql "SELECT count(*) FROM stock_movement WHERE order_id = (SELECT id FROM customer_order WHERE remote_id = $oid2) AND kind = 'ship'")" = 1; }
t_ok "the reservation is shipped" wait_for 30 shipped
t_ok "on hand went down" test "$(onhand)" -lt "$oh_before"
t_ok "still converged after the shipment" wait_for 60 converged
t_done
