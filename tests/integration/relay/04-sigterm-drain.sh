#!/usr/bin/env bash
# outbox-relay: shutdown and failure paths.
#  - SIGTERM while idle, while standing by, and in the middle of a large
#    backlog: exit 0, every row marked sent is on Kafka, the rest is
#    published by the next relay, and no event is on Kafka twice.
#  - Kafka unreachable: nothing is marked sent without a delivery report;
#    SIGTERM gives up after drain.ms and exits 1, rows stay unsent.
#  - Config: --dump-config masks pg.dsn and library properties off its
#    allow-list; a missing required key exits 2.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
. "$OMNISYNC_ROOT/tests/integration/relay/relay-lib.bash"

TOPIC=omnisync.stock.v1
STORE="term$$x$RANDOM"
N=50000

insert_rows() {
    relay_sql "INSERT INTO outbox (topic, type, key, store, data)
        SELECT '$TOPIC', 'stock.available', '$STORE:' || g, '$STORE',
               jsonb_build_object('variant_id', g, 'sku', 'SKU-' || g,
                   'available', 3, 'on_hand', 5, 'reserved', 1,
                   'safety_stock', 1, 'price', NULL, 'old_price', NULL)
        FROM generate_series($1, $2) g"
}
sent() { relay_sql "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"; }
sent_at_least() { [ "$(sent)" -ge "$1" ]; }

# timed_kill NAME SIG: t_kill; sets rc (exit status) and ms (time taken).
timed_kill() {
    local t0
    t0=$(date +%s%N)
    rc=0
    t_kill "$1" "$2" || rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
}

t_ok "ledger schema applied" relay_migrate || t_bail "no schema"

# ---- config
out=$(outbox-relay --dump-config 2>&1)
t_like "--dump-config lists the relay's keys" "$out" 'relay\.batch = 2000'
t_unlike "--dump-config masks pg.dsn" "$out" "pg\.dsn = [^*]"
out=$(outbox-relay -o kafka.ssl.key.pem=PEMSECRET \
    -o kafka.sasl.oauthbearer.config=principal=OAUTHSECRET \
    -o kafka.socket.timeout.ms=5000 --dump-config 2>&1)
t_unlike "--dump-config masks properties off the allow-list" "$out" \
    "PEMSECRET|OAUTHSECRET"
t_like "--dump-config prints an allow-listed property" "$out" \
    "kafka\.socket\.timeout\.ms = 5000"
rc=0
env -u OMNISYNC_PG outbox-relay >"$T_TMP/nocfg.log" 2>&1 || rc=$?
t_is "missing pg.dsn exits 2" "$rc" 2
t_like "and names the key" "$(cat "$T_TMP/nocfg.log")" 'config: pg\.dsn'
rc=0
outbox-relay -o kafka.no.such.thing=1 >"$T_TMP/badkafka.log" 2>&1 || rc=$?
t_is "a bad kafka.* key fails at start" "$rc" 1
t_like "naming the key" "$(cat "$T_TMP/badkafka.log")" 'kafka\.no\.such\.thing'

# ---- idle and standby
relay_start idle
t_ok "relay becomes active" wait_for 30 relay_log_has idle 'active: holding advisory lock'
relay_start standby
t_ok "a second relay stands by" wait_for 30 relay_log_has standby 'standby: another relay'
timed_kill standby TERM
t_is "SIGTERM of a standby: exit 0" "$rc" 0
t_ok "promptly ($ms ms)" test "$ms" -lt 3000
timed_kill idle TERM
t_is "SIGTERM of an idle active relay: exit 0" "$rc" 0
t_ok "promptly ($ms ms)" test "$ms" -lt 3000
t_like "it says so" "$(relay_log idle)" 'stopped \(exit 0\)'

# ---- SIGTERM in the middle of a backlog
insert_rows 1 "$N"
relay_start busy -o relay.batch=1000
t_ok "the relay starts publishing the backlog" wait_for 60 sent_at_least 1
timed_kill busy TERM
t_is "SIGTERM mid-backlog: exit 0" "$rc" 0
t_ok "within the drain deadline ($ms ms)" test "$ms" -lt 12000
s1=$(sent)
t_diag "sent at SIGTERM: $s1 of $N"
t_ok "it stopped selecting new batches" test "$s1" -lt "$N"
relay_sql "SELECT event_id, key FROM outbox WHERE sent_at IS NOT NULL" >"$T_TMP/sent.tsv"
relay_consume "$TOPIC" "$T_TMP/kafka1.tsv"
res=$(relay_check_ids "$T_TMP/sent.tsv" "$T_TMP/kafka1.tsv" "$STORE:")
t_diag "$res"
t_like "every row marked sent is on Kafka" "$res" 'missing=0 .*mismatched=0'

relay_start next
t_ok "the next relay drains the rest" wait_for 60 relay_drained
relay_sql "SELECT event_id, key FROM outbox" >"$T_TMP/outbox.tsv"
relay_consume "$TOPIC" "$T_TMP/kafka2.tsv"
res=$(relay_check_ids "$T_TMP/outbox.tsv" "$T_TMP/kafka2.tsv" "$STORE:")
rc=$?
t_diag "$res"
t_is "all $N events are on Kafka" "$rc" 0
t_like "each of them once" "$res" ' dups=0 '
timed_kill next TERM
t_is "exit 0" "$rc" 0

# ---- Kafka unreachable: no delivery report, nothing marked
dead=$(free_port)
relay_sql "UPDATE outbox SET sent_at = now()" # clean slate (all published)
insert_rows $((N + 1)) $((N + 100))
relay_start nokafka -o kafka.bootstrap="127.0.0.1:$dead" -o drain.ms=1000
t_ok "relay with no broker becomes active" \
    wait_for 30 relay_log_has nokafka 'active: holding advisory lock'
sleep 2
t_is "no row is marked sent without a delivery report" "$(relay_unsent)" 100
timed_kill nokafka TERM
t_is "SIGTERM with undelivered messages: exit 1" "$rc" 1
t_ok "after the drain deadline ($ms ms)" test "$ms" -lt 5000
t_like "it says what stays unsent" "$(relay_log nokafka)" 'stay unsent'
t_is "the rows are still unsent" "$(relay_unsent)" 100
relay_start recover
t_ok "a relay with a broker publishes them" wait_for 60 relay_drained
timed_kill recover TERM
t_is "exit 0" "$rc" 0
t_done
