#!/usr/bin/env bash
# `omnisync topics create` against a real, empty Apache Kafka broker of its
# own (the harness's broker has the topics already): --dry-run creates
# nothing, a run creates the six topics with the partitions asked for and
# each one's cleanup policy, retention and compaction lag, a rerun reports
# them as existing and changes nothing (exit 0), --json, and exit 3 for an
# unreachable broker, 2 for bad usage.
set -uo pipefail
. "$OMNISYNC_ROOT/tests/harness/lib.sh"
. "$OMNISYNC_ROOT/tests/harness/tap.sh"
export PATH=$OMNISYNC_ROOT/bin:$PATH

if [ "${HARNESS_KAFKA:-}" != real ]; then
    t_skip "omnisync topics create" \
        "needs the harness's real broker (java >= 17, cached jars) to start an empty one; HARNESS_KAFKA=${HARNESS_KAFKA:-unset}"
    t_done
fi

# An empty broker of this test: its own directory, ports and pid file.
export HARNESS_KAFKA_DIR=$T_TMP/kafka HARNESS_PIDDIR=$T_TMP/pids \
    HARNESS_LOGDIR=$T_TMP/log
t_cleanup_add 'harness_stop_pidfile "$HARNESS_PIDDIR/kafka.pid" KILL 10 kafka.Kafka'
harness_broker=$OMNISYNC_KAFKA
# Not under t_ok: that runs it in a subshell, and it sets OMNISYNC_KAFKA.
harness_kafka_start || t_bail "the test's own broker did not start"
t_isnt "an empty broker of this test runs (not the harness's)" \
    "$OMNISYNC_KAFKA" "$harness_broker"

run() {
    RC=0
    OUT=$("$@" 2>"$T_TMP/run.err") || RC=$?
    ERR=$(cat "$T_TMP/run.err")
}
# topic_count: project topics the broker has.
topic_count() {
    kcat -b "$OMNISYNC_KAFKA" -L -J 2>/dev/null |
        jq '[.topics[].topic | select(startswith("omnisync."))] | length'
}

# ---- usage
run omnisync topics create --partitions 0
t_is "--partitions 0: exit 2" "$RC" 2
t_like "and says the range" "$ERR" "--partitions: expected 1\.\.10000, got '0'"
OMNISYNC_KAFKA= run omnisync topics create
t_is "no OMNISYNC_KAFKA: exit 2" "$RC" 2
t_like "and names it" "$ERR" "OMNISYNC_KAFKA"
run omnisync topics create extra
t_is "a stray argument: exit 2" "$RC" 2
run omnisync topics --help
t_like "topics --help shows create's usage" "$OUT" "topics create \[--partitions N\]"

# ---- --dry-run: the broker validates, nothing is created
# Right after start the controller may not take requests yet: retry.
for _ in 1 2 3 4 5 6 7 8 9 10; do
    run omnisync topics create --dry-run --json --partitions 3
    [ "$RC" = 0 ] && break
    sleep 1
done
t_is "--dry-run exits 0" "$RC" 0
t_is "--dry-run: six topics would be created" \
    "$(jq -c '[.dry_run, ([.topics[] | select(.state == "would_create")] | length)]' <<<"$OUT")" '[true,6]'
t_is "--dry-run: nothing created" "$(topic_count)" 0

# ---- create
run omnisync topics create --partitions 3
t_is "create exits 0" "$RC" 0
t_is "six topics created" "$(grep -c ' created ' <<<"$OUT")" 6
t_like "the table shows cleanup and retention" "$OUT" \
    'omnisync\.orders\.v1 +created +3 +delete +30d'
t_is "the broker has the six topics" "$(topic_count)" 6
t_is "each with 3 partitions" \
    "$(kcat -b "$OMNISYNC_KAFKA" -L -J | jq -c '[.topics[] | select(.topic | startswith("omnisync.")) | (.partitions | length)] | unique')" '[3]'
desc=$(devkafka --describe-topics --bootstrap "$OMNISYNC_KAFKA" 2>&1)
t_like "catalog: compacted, compaction lag 60 s" "$desc" \
    'omnisync\.catalog\.v1 cleanup\.policy=compact retention\.ms=[0-9-]+ min\.compaction\.lag\.ms=60000'
t_like "stock: compacted" "$desc" 'omnisync\.stock\.v1 cleanup\.policy=compact '
t_like "images: deleted after 7 days" "$desc" \
    'omnisync\.images\.v1 cleanup\.policy=delete retention\.ms=604800000 '
t_like "orders: deleted after 30 days" "$desc" \
    'omnisync\.orders\.v1 cleanup\.policy=delete retention\.ms=2592000000 '
t_like "dlq: deleted after 30 days" "$desc" \
    'omnisync\.dlq\.v1 cleanup\.policy=delete retention\.ms=2592000000 '

# ---- rerun: idempotent, existing topics reported with their partitions
run omnisync topics create --json --partitions 8
t_is "a rerun exits 0" "$RC" 0
t_is "every topic exists, with its 3 partitions (not 8)" \
    "$(jq -c '[.topics[] | [.state, .partitions]] | unique' <<<"$OUT")" '[["exists",3]]'
t_is "still 3 partitions each" \
    "$(kcat -b "$OMNISYNC_KAFKA" -L -J | jq -c '[.topics[] | select(.topic | startswith("omnisync.")) | (.partitions | length)] | unique')" '[3]'
run omnisync topics create --dry-run
t_is "--dry-run on existing topics exits 0" "$RC" 0
t_is "and says exists six times" "$(grep -c ' exists ' <<<"$OUT")" 6

# ---- unreachable
port=$(harness_free_port)
t0=$SECONDS
OMNISYNC_KAFKA=127.0.0.1:$port run omnisync topics create
t_is "unreachable broker: exit 3" "$RC" 3
t_like "and says so" "$ERR" "Kafka not reachable within 10000 ms.*127\.0\.0\.1:$port"
t_ok "within 20 s" test $((SECONDS - t0)) -le 20
t_done
