#!/usr/bin/env bash
# outbox-relay: kill -9 in the middle of a 20,000-event burst, then a
# restart.  The burst comes from 8 concurrent sessions whose transactions
# sleep before COMMIT, so outbox ids commit out of order (a relay that
# remembered "sent up to id N" would skip rows for good).  Afterwards every
# event is on Kafka (each event id at least once; duplicates only with the
# same id, key and headers) and the outbox is drained.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
. "$OMNISYNC_ROOT/tests/integration/relay/relay-lib.bash"

TOPIC=omnisync.stock.v1
STORE="burst$$x$RANDOM"
SESSIONS=8
TXNS=250 # per session
ROWS=10  # per transaction
TOTAL=$((SESSIONS * TXNS * ROWS))

t_ok "ledger schema applied" relay_migrate || t_bail "no schema"

# One SQL script per session: small transactions that sleep before COMMIT.
for ((s = 0; s < SESSIONS; s++)); do
    awk -v s="$s" -v txns="$TXNS" -v rows="$ROWS" -v store="$STORE" '
    BEGIN {
        print "\\set ON_ERROR_STOP 1"
        for (t = 0; t < txns; t++) {
            a = (s * txns + t) * rows + 1; b = a + rows - 1
            print "BEGIN;"
            printf "INSERT INTO outbox (topic, type, key, store, data) SELECT "
            printf "'\''omnisync.stock.v1'\'', '\''stock.available'\'', "
            printf "'\''%s:'\'' || g, '\''%s'\'', jsonb_build_object(", store, store
            printf "'\''variant_id'\'', g, '\''sku'\'', '\''SKU-'\'' || g, "
            printf "'\''available'\'', g %% 7, '\''on_hand'\'', g %% 7 + 2, "
            printf "'\''reserved'\'', 1, '\''safety_stock'\'', 1, '\''price'\'', NULL, '\''old_price'\'', NULL) "
            printf "FROM generate_series(%d, %d) g;\n", a, b
            print "SELECT pg_sleep(random() * 0.03);"
            print "COMMIT;"
        }
    }' >"$T_TMP/burst$s.sql"
done

relay_start r1 -o relay.batch=200
t_ok "relay r1 becomes active" wait_for 30 relay_log_has r1 'active: holding advisory lock'

t0=$(date +%s)
for ((s = 0; s < SESSIONS; s++)); do
    t_bg "burst$s" psql "$OMNISYNC_PG" -XqtA -o /dev/null -f "$T_TMP/burst$s.sql"
done

sent_at_least() {
    [ "$(relay_sql "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")" -ge "$1" ]
}
t_ok "r1 publishes during the burst" wait_for 60 sent_at_least 3000
inserted=$(relay_sql "SELECT count(*) FROM outbox")
t_kill r1 KILL
t_diag "kill -9 after $(($(date +%s) - t0)) s with $inserted of $TOTAL rows committed"
t_ok "the relay was killed in the middle of the burst" test "$inserted" -lt "$TOTAL"
t_unlike "r1 did not shut down cleanly (killed)" "$(relay_log r1)" 'stopped \(exit'

relay_start r2 -o relay.batch=200
t_ok "relay r2 becomes active after the kill" \
    wait_for 30 relay_log_has r2 'active: holding advisory lock'

burst_ok=0
for ((s = 0; s < SESSIONS; s++)); do
    t_wait "burst$s" 120 || burst_ok=1
done
t_is "all burst sessions committed" "$burst_ok" 0
t_is "the outbox holds the whole burst" "$(relay_sql "SELECT count(*) FROM outbox")" "$TOTAL"
t_ok "the outbox is drained" wait_for 120 relay_drained
t_diag "burst drained $(($(date +%s) - t0)) s after it started"
t_is "0 unsent rows" "$(relay_unsent)" 0

relay_sql "SELECT event_id, key FROM outbox" >"$T_TMP/outbox.tsv"
relay_consume "$TOPIC" "$T_TMP/kafka.tsv"
res=$(relay_check_ids "$T_TMP/outbox.tsv" "$T_TMP/kafka.tsv" "$STORE:")
rc=$?
t_diag "$res"
t_is "every outbox event is on Kafka; duplicates only with the same id" "$rc" 0
t_like "the distinct ids on Kafka are the outbox's" "$res" "outbox=$TOTAL distinct=$TOTAL .*missing=0 extra=0 mismatched=0"

rc=0
t_kill r2 TERM || rc=$?
t_is "r2 exits 0 on SIGTERM" "$rc" 0
t_done
