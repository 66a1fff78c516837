# shellcheck shell=bash
# tests/integration/relay/relay-lib.bash — helpers shared by the relay's
# integration scripts (not a test itself: tests/run.sh runs only *.sh).
#
#   . "$OMNISYNC_ROOT/tests/integration/relay/relay-lib.bash"
#   relay_migrate                      # ledger schema into $OMNISYNC_PG
#   relay_start NAME [-o K=V]...       # bin/outbox-relay in the background
#   relay_unsent                       # unsent outbox rows
#   relay_consume TOPIC FILE           # whole topic as "key\theaders\tvalue"
#   relay_check_ids OUTBOX_TSV KAFKA_TSV   # python check, see below

RELAY_PSQL=(psql "${OMNISYNC_PG:-}" -XqtA -F $'\t' -v ON_ERROR_STOP=1)

relay_sql() { "${RELAY_PSQL[@]}" -c "$1"; }

# The ledger schema: `omnisync db migrate` when the CLI is built, else the
# migration files applied in order with psql.
relay_migrate() {
    if command -v omnisync >/dev/null 2>&1 &&
        OMNISYNC_SQL_DIR=${OMNISYNC_SQL_DIR:-$OMNISYNC_ROOT/deploy/sql} \
            omnisync db migrate >"$T_TMP/migrate.log" 2>&1; then
        return 0
    fi
    local f
    for f in "$OMNISYNC_ROOT"/deploy/sql/[0-9]*.sql; do
        "${RELAY_PSQL[@]}" -f "$f" >>"$T_TMP/migrate.log" 2>&1 || return 1
    done
}

# relay_start NAME [ARGS...]: outbox-relay with fast stats and standby
# retries; log in $T_TMP/NAME.log.
relay_start() {
    local name=$1
    shift
    : >"$T_TMP/$name.log" # a fresh log even when TEST_TMPDIR is reused
    t_bg "$name" outbox-relay -o stats.ms=500 -o relay.standby.ms=200 \
        -o relay.poll.ms=500 "$@"
}

relay_log() { cat "$T_TMP/$1.log" 2>/dev/null; }

relay_log_has() { grep -q -- "$2" "$T_TMP/$1.log" 2>/dev/null; }

relay_unsent() { relay_sql "SELECT count(*) FROM outbox WHERE sent_at IS NULL"; }

relay_drained() { [ "$(relay_unsent)" = 0 ]; }

# relay_consume TOPIC FILE: every message of TOPIC, from the beginning, as
# "key<TAB>headers<TAB>value" lines.
relay_consume() {
    kcat -C -b "$OMNISYNC_KAFKA" -t "$1" -o beginning -e -q \
        -f '%k\t%h\t%s\n' >"$2" 2>"$2.err"
}

# relay_check_ids OUTBOX KAFKA PREFIX: OUTBOX holds "event_id\tkey" rows
# of this test, KAFKA the consumed topic; messages whose key starts with
# PREFIX are this test's.  Prints "distinct=N dups=N missing=N extra=N
# mismatched=N" and exits 1 unless missing, extra and mismatched are 0.
relay_check_ids() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
outbox = {}
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line:
        eid, key = line.split("\t", 1)
        outbox[eid] = key
seen, dups, extra, mismatched = {}, 0, 0, 0
for line in open(sys.argv[2], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        continue
    key, hdrs, value = line.split("\t", 2)
    if not key.startswith(sys.argv[3]):
        continue
    ev = json.loads(value)
    eid = ev["id"]
    if ("event-id=%s" % eid) not in hdrs or ev["key"] != key:
        mismatched += 1
    if eid not in outbox:
        extra += 1
        continue
    if outbox[eid] != key:
        mismatched += 1
    if eid in seen:
        dups += 1
    seen[eid] = 1
missing = len(set(outbox) - set(seen))
print("outbox=%d distinct=%d dups=%d missing=%d extra=%d mismatched=%d"
      % (len(outbox), len(seen), dups, missing, extra, mismatched))
sys.exit(1 if missing or extra or mismatched else 0)
PY
}

# relay_values_of OUTBOX KAFKA: the values (envelopes) of the messages in
# KAFKA whose id is in the first column of OUTBOX, in topic order.
relay_values_of() {
    python3 - "$1" "$2" <<'PY'
import json, sys
ids = set(l.split("\t", 1)[0].strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip())
for line in open(sys.argv[2], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        continue
    value = line.split("\t", 2)[2]
    try:
        eid = json.loads(value).get("id")
    except ValueError:
        continue
    if eid in ids:
        print(value)
PY
}
