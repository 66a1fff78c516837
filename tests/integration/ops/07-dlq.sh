#!/usr/bin/env bash
# harness: fresh-kafka
# Dead letters as a tool.  An order for a store the ledger does not know
# yet is dead-lettered by order-ingestor (and so is a message that is not
# an event at all, which names no store); both are listed by `omnisync dlq
# list`, shown with their bytes and headers by `dlq show`.  The cause is
# fixed (the store is added), `dlq replay` re-publishes the order to
# omnisync.orders.v1 with the replay headers, and it is applied exactly
# once: a second replay is refused, a forced one changes nothing.  `dlq
# drop` hides the undecodable one.  Exit 2 for an unknown ID, 3 when Kafka
# or Postgres cannot be reached.
. "$OMNISYNC_ROOT/tests/integration/orders/orders-lib.bash"

ORDERS=omnisync.orders.v1
LATE="late$$"
RID=400000077

ord_setup 10 20 0
ord_start oi
t_ok "order-ingestor up" wait_for 20 ord_healthy

# dlq_json ARGS...: `omnisync dlq ARGS --json` into $OUT, exit status $RC.
dlq_json() {
    RC=0
    OUT=$(omnisync dlq "$@" --json 2>"$T_TMP/dlq.err") || RC=$?
}
jqv() { printf '%s' "$OUT" | jq -c "$1"; }
produce() { # KEY VALUE: one message on omnisync.orders.v1
    printf '%s\n' "$2" | kcat -P -b "$OMNISYNC_KAFKA" -t "$ORDERS" -k "$1" 2>/dev/null
}
late_order() {
    python3 - "$LATE" "$RID" <<'PY'
import json, sys, uuid
store, rid = sys.argv[1], int(sys.argv[2])
order = {"id": rid, "number": 77, "updated_at": "2030-01-01T00:00:00.000+03:00",
         "created_at": "2030-01-01T00:00:00.000+03:00",
         "fulfillment_status": "new", "financial_status": "pending",
         "delivery_price": "300.0", "total_price": "2300.0",
         "order_lines": [{"id": 500000077, "sku": "ART-00001-1", "quantity": 2,
                          "sale_price": "1000.0"}]}
print(json.dumps({"type": "orders.raw", "v": 1, "id": str(uuid.uuid4()),
                  "ts": "2030-01-01T00:00:00.000+00:00", "store": store,
                  "key": "%s:%d" % (store, rid),
                  "data": {"source": "webhook", "order": order}}))
PY
}

# ---- two messages that cannot be applied
produce "$LATE:$RID" "$(late_order)" || t_bail "kcat produce"
produce "junk$$" "this is not an event" || t_bail "kcat produce"
two() { dlq_json list && [ "$(jqv length)" = 2 ]; }
t_ok "dlq list shows both dead letters" wait_for 30 two
dlq_json list
t_is "dlq list exits 0" "$RC" 0
t_is "stable keys" "$(jqv '.[0] | keys')" \
    '["created_at","dlq_offset","dlq_partition","dropped_at","entity","id","key","local_id","offset","partition","reason","replay_count","replayed_at","service","source","state","store","topic"]'
late_id=$(jqv ".[] | select(.key == \"$LATE:$RID\") | .id")
junk_id=$(jqv ".[] | select(.key == \"junk$$\") | .id")
t_is "the order: open, from order-ingestor, naming the unknown store" \
    "$(jqv ".[] | select(.id == $late_id) | [.state, .service, .store, .topic, .replay_count]")" \
    "[\"open\",\"order-ingestor\",\"$LATE\",\"$ORDERS\",0]"
t_like "its reason" "$(jqv ".[] | select(.id == $late_id) | .reason")" "unknown store '$LATE'"
t_is "the junk names no store and is listed all the same" \
    "$(jqv ".[] | select(.id == $junk_id) | [.store, .topic]")" "[null,\"$ORDERS\"]"
t_like "its reason" "$(jqv ".[] | select(.id == $junk_id) | .reason")" undecodable
dlq_json list --store "$LATE"
t_is "--store selects by the name the message gave" "$(jqv '[.[].id]')" "[$late_id]"
dlq_json list --topic omnisync.stock.v1
t_is "--topic of another topic: none" "$(jqv length)" 0
dlq_json list --since 1h
t_is "--since 1h: both" "$(jqv length)" 2
dlq_json list --since 2999-01-01T00:00:00Z
t_is "--since the future: none" "$(jqv length)" 0
omnisync dlq list --since yesterdayish >/dev/null 2>&1
t_is "--since not a time: exit 2" "$?" 2
t_like "the table names the store and the reason" "$(omnisync dlq list)" \
    "$late_id +open .*order-ingestor +$LATE +$ORDERS +$LATE:$RID +0 +cannot apply: unknown store"

# ---- show: the ledger's record and the bytes from omnisync.dlq.v1
dlq_json show "$late_id"
t_is "dlq show exits 0" "$RC" 0
t_is "the message key" "$(jqv .message.key)" "\"$LATE:$RID\""
t_is "the message value is the order event" "$(jqv '.message.value | fromjson | .data.order.id')" "$RID"
t_like "the reason header" "$(jqv '.message.headers."__connect.errors.exception.message"')" "unknown store"
t_is "the origin headers" \
    "$(jqv '[.message.headers."__connect.errors.topic", .message.headers."omnisync.errors.service"]')" \
    "[\"$ORDERS\",\"order-ingestor\"]"
t_like "show as text" "$(omnisync dlq show "$late_id")" "value \([0-9]+ bytes\):"

# ---- exit codes
omnisync dlq show 999999999 >/dev/null 2>&1
t_is "show of an unknown ID: exit 2" "$?" 2
omnisync dlq replay "$late_id" 999999999 >/dev/null 2>"$T_TMP/unk.err"
t_is "replay naming an unknown ID: exit 2" "$?" 2
t_like "and nothing done" "$(cat "$T_TMP/unk.err")" "no dead letter 999999999 \(nothing done\)"
start=$(date +%s)
OMNISYNC_KAFKA=127.0.0.1:1 omnisync dlq show "$late_id" >/dev/null 2>"$T_TMP/k.err"
t_is "Kafka unreachable: exit 3" "$?" 3
t_ok "within 30 s" test $(($(date +%s) - start)) -le 30
OMNISYNC_PG="postgresql://127.0.0.1:1/x?connect_timeout=2" omnisync dlq list >/dev/null 2>&1
t_is "Postgres unreachable: exit 3" "$?" 3

# ---- fix the cause: the store exists now
omnisync location add WEB2 --kind online --price-list ONLINE >/dev/null || t_bail "location"
ORD_PW_ENV=$ORD_PW omnisync store add "$LATE" --platform insales \
    --url "http://127.0.0.1:$ORD_SIM_PORT" --login "$ORD_LOGIN" \
    --password-env ORD_PW_ENV --online-location WEB2 \
    --source-locations WH1 --price-list ONLINE \
    --delivery-sku "$ORD_DELIVERY_SKU" >/dev/null || t_bail "store add"
orders() { sql "SELECT count(*) FROM customer_order WHERE remote_id = $RID"; }
moves() { sql "SELECT count(*) FROM stock_movement m JOIN customer_order o ON o.id = m.order_id WHERE o.remote_id = $RID"; }
t_is "no order yet" "$(orders)" 0

dlq_json replay "$late_id"
t_is "replay exits 0" "$RC" 0 || t_diag "$(cat "$T_TMP/dlq.err")"
t_is "replay result" "$(jqv '.[0] | [.id, .result, .topic, .replay_count]')" \
    "[$late_id,\"replayed\",\"$ORDERS\",1]"
one() { [ "$(orders)" = 1 ]; }
t_ok "the replayed order is applied" wait_for 30 one
t_is "reserved once: ART-00001-1 at WH1" \
    "$(sql "SELECT reserved FROM stock_level l JOIN variant v ON v.id = l.variant_id JOIN location lo ON lo.id = l.location_id WHERE v.sku = 'ART-00001-1' AND lo.code = 'WH1'")" 2
rec=$(kcat -C -b "$OMNISYNC_KAFKA" -t "$ORDERS" -e -q -f '%k\t%h\n' 2>/dev/null | grep "^$LATE:$RID" | tail -1)
dpos=$(omnisync dlq show "$late_id" --json | jq -r '"\(.dlq_partition)/\(.dlq_offset)"')
t_like "re-published with the replay headers" "$rec" \
    "omnisync-replay-count=1,omnisync-replayed-from=omnisync.dlq.v1/$dpos"
dlq_json list
t_is "the default list no longer has it" "$(jqv '[.[].id]')" "[$junk_id]"
dlq_json list --state replayed
t_is "--state replayed: it, once" "$(jqv '[.[] | [.id, .replay_count]]')" "[[$late_id,1]]"
t_is "not counted as an open dead letter of the store" \
    "$(sql "SELECT count(*) FROM dlq_record r JOIN store s ON s.id = r.store_id WHERE s.name = '$LATE' AND r.state = 'open'")" 0

# ---- again: refused; forced: applied at most once
moves0=$(moves)
dlq_json replay "$late_id"
t_is "a second replay is refused: exit 1" "$RC" 1
t_like "saying why" "$(jqv '.[0].detail')" "already replayed \(replays: 1\); --force"
dlq_json replay "$late_id" --force
t_is "--force replays again" "$RC" 0
dlq_json list --state replayed
t_is "counted: 2 replays" "$(jqv '.[0].replay_count')" 2
replayed2() { grep -c "omnisync-replay-count=2" <(kcat -C -b "$OMNISYNC_KAFKA" -t "$ORDERS" -e -q -f '%h\n' 2>/dev/null) | grep -q '^1$'; }
t_ok "the second replay is on the topic" wait_for 10 replayed2
sleep 3 # order-ingestor takes it (same order, same version)
t_is "still one order" "$(orders)" 1
t_is "no second reservation" "$(moves)" "$moves0"
t_is "no new dead letter" "$(sql "SELECT count(*) FROM dlq_record")" 2

# ---- drop
dlq_json drop --all-matching --topic omnisync.stock.v1
t_is "--all-matching of another topic: nothing" "$RC $(jqv length)" "0 0"
omnisync dlq drop "$junk_id" --all-matching >/dev/null 2>&1
t_is "IDs and --all-matching: exit 2" "$?" 2
omnisync dlq drop --store "$LATE" >/dev/null 2>&1
t_is "a filter without --all-matching: exit 2" "$?" 2
dlq_json drop "$junk_id"
t_is "drop exits 0" "$RC" 0
t_is "drop result" "$(jqv '.[0].result')" '"dropped"'
dlq_json list
t_is "the default list is empty" "$(jqv length)" 0
dlq_json list --all
t_is "--all: both, with their state" \
    "$(jqv "[length, (map({(.id | tostring): .state}) | add | .[\"$late_id\"], .[\"$junk_id\"])]")" \
    '[2,"replayed","dropped"]'
dlq_json drop "$junk_id"
t_is "dropping again: exit 0, unchanged" "$RC $(jqv '.[0].result')" '0 "unchanged"'
t_is "the Kafka record stays" \
    "$(kcat -C -b "$OMNISYNC_KAFKA" -t omnisync.dlq.v1 -e -q -f '%k\n' 2>/dev/null | grep -c "^junk$$\$")" 1
t_ok "order-ingestor stops cleanly" t_kill oi
t_done
