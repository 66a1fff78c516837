#!/usr/bin/env bash
# An outbox row Kafka can never take (its event is larger than the
# producer's message.max.bytes) once made the relay log "Message size too
# large" every 10 s forever while every later row waited behind it.  Now it
# is set aside: sent_at and dead_reason set, noted in dlq_record, never
# pruned; the rows after it — including a later row of the same key — are
# published in order and the backlog drains.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
. "$OMNISYNC_ROOT/tests/integration/relay/relay-lib.bash"
export PATH=$OMNISYNC_ROOT/bin:$PATH

t_ok "ledger schema applied" relay_migrate || t_bail "no schema"
store="sa$$r$RANDOM"
row() { # KEY SIZE
    printf "INSERT INTO outbox (topic, type, key, store, data) VALUES ('omnisync.stock.v1', 'stock.available', '%s', '%s', jsonb_build_object('variant_id', 1, 'sku', 'SKU-1', 'available', 1, 'on_hand', 1, 'reserved', 0, 'safety_stock', 0, 'price', NULL, 'old_price', NULL, 'pad', repeat('x', %d)));" \
        "$1" "$store" "$2"
}
relay_sql "$(row "$store:1" 0)$(row "$store:2" 1500000)$(row "$store:2" 0)$(row "$store:3" 0)"
big=$(relay_sql "SELECT id FROM outbox WHERE length(data::text) > 1000000")

relay_start r1 -o relay.batch=2
t_ok "the outbox drains past the row" wait_for 30 relay_drained
t_like "the big row is set aside with the reason" \
    "$(relay_sql "SELECT dead_reason FROM outbox WHERE id = $big")" "too large"
t_is "the other rows are sent, not set aside" \
    "$(relay_sql "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND dead_reason IS NULL")" 3
t_like "dlq_record notes it" \
    "$(relay_sql "SELECT service || ' ' || entity || ' ' || local_id || ' ' || key FROM dlq_record")" \
    "^outbox-relay outbox $big $store:2\$"
t_ok "the log names the row" relay_log_has r1 "outbox row $big (omnisync.stock.v1, key $store:2) can never be published"
relay_consume omnisync.stock.v1 "$T_TMP/topic.tsv"
t_is "Kafka has the three other rows, once each (order is per key)" \
    "$(awk -F'\t' -v p="$store:" 'index($1, p) == 1 { print $1 }' "$T_TMP/topic.tsv" | sort | paste -sd,)" \
    "$store:1,$store:2,$store:3"
sleep 2
t_is "retried nothing: one log line for it" \
    "$(grep -c "outbox row $big .*can never be published" "$T_TMP/r1.log")" 1
relay_sql "UPDATE outbox SET sent_at = now() - interval '48 hours'" >/dev/null
t_kill r1 TERM
relay_start r2 -o relay.retention.hours=1
t_ok "r2 prunes the sent rows" wait_for 30 \
    bash -c "[ \"\$(psql '$OMNISYNC_PG' -XqtA -c 'SELECT count(*) FROM outbox WHERE dead_reason IS NULL')\" = 0 ]"
t_is "the set-aside row is kept" "$(relay_sql "SELECT count(*) FROM outbox WHERE id = $big")" 1
t_kill r2 TERM
t_is "the relay exits 0" "$?" 0
t_done
