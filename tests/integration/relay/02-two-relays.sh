#!/usr/bin/env bash
# outbox-relay: two relays on one ledger.  Only the one holding the
# advisory lock publishes; the other logs "standby" and publishes nothing
# (both logs' stats lines say so).  kill -9 of the active one ends its
# Postgres session, which releases the lock: the standby takes over within
# a couple of seconds and drains the rows written after the kill.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
. "$OMNISYNC_ROOT/tests/integration/relay/relay-lib.bash"

TOPIC=omnisync.stock.v1
STORE="pair$$x$RANDOM"

# insert_rows FROM TO: stock.available rows for variants FROM..TO.
insert_rows() {
    relay_sql "INSERT INTO outbox (topic, type, key, store, data)
        SELECT '$TOPIC', 'stock.available', '$STORE:' || g, '$STORE',
               jsonb_build_object('variant_id', g, 'sku', 'SKU-' || g,
                   'available', 3, 'on_hand', 5, 'reserved', 1,
                   'safety_stock', 1, 'price', NULL, 'old_price', NULL)
        FROM generate_series($1, $2) g"
}

# last_stat NAME FIELD: the value of FIELD in NAME's last stats line.
last_stat() {
    grep 'stats: ' "$T_TMP/$1.log" | tail -1 | sed -nE "s/.* $2=([^ ]+).*/\1/p"
}

t_ok "ledger schema applied" relay_migrate || t_bail "no schema"

relay_start a
t_ok "relay a becomes active" wait_for 30 relay_log_has a 'active: holding advisory lock'
relay_start b
t_ok "relay b logs standby" \
    wait_for 30 relay_log_has b 'standby: another relay holds the lock'
t_is "relay b logs standby once" \
    "$(grep -c 'standby: another relay holds the lock' "$T_TMP/b.log")" 1

insert_rows 1 500
t_ok "the first 500 rows are published" wait_for 30 relay_drained
sleep 1.2 # a fresh stats line from each (stats.ms=500)
t_is "a's stats: 500 published" "$(last_stat a published)" 500
t_is "a's stats: active" "$(last_stat a state)" active
t_is "b's stats: nothing published" "$(last_stat b published)" 0
t_is "b's stats: standby" "$(last_stat b state)" standby
t_unlike "b never became active" "$(relay_log b)" 'active: holding'

t0=$(date +%s%N)
t_kill a KILL
t_ok "b takes over after kill -9 of a" \
    wait_for 15 relay_log_has b 'active: holding advisory lock'
took=$((($(date +%s%N) - t0) / 1000000))
t_diag "takeover after $took ms"
t_ok "takeover within 5 s" test "$took" -lt 5000

insert_rows 501 800
t_ok "b drains the rows written after the kill" wait_for 30 relay_drained
sleep 1.2
t_is "b's stats: 300 published" "$(last_stat b published)" 300

relay_sql "SELECT event_id, key FROM outbox" >"$T_TMP/outbox.tsv"
relay_consume "$TOPIC" "$T_TMP/kafka.tsv"
res=$(relay_check_ids "$T_TMP/outbox.tsv" "$T_TMP/kafka.tsv" "$STORE:")
rc=$?
t_diag "$res"
t_is "all 800 events are on Kafka" "$rc" 0
t_like "exactly once each here (a's batches were all marked)" "$res" \
    'outbox=800 distinct=800 dups=0 '

# A third relay started now stands by behind b.
relay_start c
t_ok "relay c stands by behind b" \
    wait_for 30 relay_log_has c 'standby: another relay holds the lock'
rc=0
t_kill b TERM || rc=$?
t_is "b exits 0 on SIGTERM" "$rc" 0
t_ok "b's clean exit released the lock: c takes over" \
    wait_for 10 relay_log_has c 'active: holding advisory lock'
rc=0
t_kill c TERM || rc=$?
t_is "c exits 0 on SIGTERM" "$rc" 0
t_done
