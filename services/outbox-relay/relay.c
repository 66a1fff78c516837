#include "relay.h"

#include "app/ops.h"
#include "events/event.h"
#include "events/outbox.h"
#include "events/topics.h"
#include "ledger/dlq_record.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/kafka.h"
#include "lib/metrics.h"
#include "lib/log.h"
#include "lib/sig.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELAY_APP "outbox-relay"
#define RELAY_CHANNEL "omnisync_outbox"
#define RELAY_PRUNE_EVERY_MS (60 * 1000)
#define RELAY_PRUNE_MAX_STMTS 20 /* statements per prune pass */
#define RELAY_BACKOFF_MIN_MS 250
#define RELAY_BACKOFF_MAX_MS 5000
#define RELAY_RETRY_MIN_MS 500 /* after failed deliveries */
#define RELAY_RETRY_MAX_MS 10000
#define RELAY_BACKLOG_EVERY_MS 5000 /* refresh of the backlog gauges */
#define RELAY_AHEAD_MAX_MS 1000     /* longest run of read-ahead rounds */
#define RELAY_TOPICS_MS 1000        /* wait for the topics' metadata at start */

enum relay_state {
    RELAY_DISCONNECTED,
    RELAY_STANDBY,
    RELAY_ACTIVE,
};

enum slot_state {
    SLOT_PENDING,   /* produced, no delivery report yet */
    SLOT_DELIVERED, /* acknowledged by the broker (acks=all) */
    SLOT_FAILED,    /* not produced or delivery failed: stays unsent */
    SLOT_DEAD,      /* can never be produced (too large...): set aside */
};

struct relay_batch;

/* One outbox row of a batch in flight. */
struct relay_slot {
    struct relay_batch *b; /* its batch */
    long long id;          /* outbox.id */
    const char *key;       /* borrowed from the batch */
    const char *topic;     /* borrowed likewise */
    const char *store;     /* likewise, NULL when the row names none */
    enum slot_state state;
    int marked;       /* in the batch's mark-sent statement */
    char reason[256]; /* why a SLOT_DEAD row can never be published */
};

/* A batch in flight: its rows and their delivery state. */
struct relay_batch {
    struct outbox_batch rows;
    struct relay_slot *slots;
    int nslots;
    int pending; /* slots still without a delivery report */
};

/* Where a round's time goes (µs): the SELECT, building and producing the
 * events, waiting for the delivery reports, marking them sent. */
enum relay_phase { PHASE_READ, PHASE_PRODUCE, PHASE_WAIT, PHASE_MARK, PHASE_N };

/* Rounds and their phases' time, since start and since the current run of
 * full batches (a backlog) began. */
struct relay_timing {
    unsigned long long rounds, rows;
    int64_t us[PHASE_N];
};

/* The relay's metric families (docs/metrics.md "Outbox relay"). */
struct relay_mx {
    struct metrics_family *published, *failed, *backlog, *oldest, *active;
};

struct relay {
    const struct relay_cfg *rc;
    struct kafka_producer *prod;
    PGconn *pg;
    enum relay_state state;
    int standby_logged;
    long backoff_ms; /* Postgres reconnect backoff */
    long retry_ms;   /* delay after a round with failed deliveries */
    /* The batches in flight: fl[cur] is marked first; fl[!cur], when it
     * has rows, was read ahead (the rows after fl[cur]'s last id). */
    struct relay_batch fl[2];
    int cur;
    int64_t ahead_since_ms; /* when the current run of read-aheads began */
    /* Counters for the stats line. */
    unsigned long long published, failed, held, pruned, dead;
    long long next_stats_ms, next_prune_ms, next_backlog_ms;
    long long backlog; /* unsent rows at the last look, -1 unknown */
    struct relay_mx mx;
    struct relay_timing total, backlog_t; /* backlog_t: this backlog's */
    int64_t backlog_start_us;             /* 0: not in a backlog */
    int fatal;
};

static const struct cfg_opt relay_opts[] = {
    CFG_ROW_PG_DSN(struct relay_cfg, pg_dsn, CFG_REQUIRED),
    CFG_ROW_KAFKA_BOOTSTRAP(struct relay_cfg, kafka_bootstrap, CFG_REQUIRED),
    {"relay.batch", CFG_INT, "2000", 1, 100000, 0,
     offsetof(struct relay_cfg, batch), "outbox rows published per round"},
    {"relay.poll.ms", CFG_INT, "1000", 10, 600000, 0,
     offsetof(struct relay_cfg, poll_ms),
     "fallback polling interval when no NOTIFY arrives"},
    {"relay.lock.key", CFG_INT, "1869442665", -9223372036854775807LL,
     9223372036854775807LL, 0, offsetof(struct relay_cfg, lock_key),
     "pg_try_advisory_lock key; one active relay per key"},
    {"relay.retention.hours", CFG_INT, "24", 0, 24 * 365 * 10, 0,
     offsetof(struct relay_cfg, retention_hours),
     "hours sent rows are kept before pruning"},
    {"relay.standby.ms", CFG_INT, "1000", 10, 600000, 0,
     offsetof(struct relay_cfg, standby_ms),
     "how often a standby retries the lock"},
    CFG_ROW_STATS_MS(struct relay_cfg, stats_ms),
    CFG_ROW_DRAIN_MS(struct relay_cfg, drain_ms),
    CFG_ROW_LOG_LEVEL(struct relay_cfg, log_level, "info"),
    CFG_ROWS_HTTP(struct relay_cfg, RELAY_HTTP_LISTEN),
    {NULL},
};

const struct cfg_opt *relay_cfg_table(void)
{
    return relay_opts;
}

static const char *relay_state_name(enum relay_state s)
{
    return s == RELAY_ACTIVE    ? "active"
           : s == RELAY_STANDBY ? "standby"
                                : "disconnected";
}

/* Delivery report: runs on this thread, inside kafka_producer_poll(). */
static void relay_dr(void *msg_opaque, rd_kafka_resp_err_t err,
                     int32_t partition, int64_t offset, void *opaque)
{
    struct relay_slot *s = msg_opaque;

    (void)opaque;
    (void)partition;
    (void)offset;
    if (!s->b->rows.res || s->state != SLOT_PENDING)
        return; /* a late report for a batch already given up on */
    if (err && kafka_err_message_bad(err)) {
        s->state = SLOT_DEAD;
        snprintf(s->reason, sizeof(s->reason), "delivery to %s: %s", s->topic,
                 rd_kafka_err2str(err));
    } else if (err) {
        s->state = SLOT_FAILED;
        log_warn("delivery of outbox row %lld failed: %s", s->id,
                 rd_kafka_err2str(err));
    } else {
        s->state = SLOT_DELIVERED;
    }
    s->b->pending--;
}

/* Register the families and the readiness checks with @p ops. */
static void relay_ops(struct relay *r, struct ops *ops)
{
    struct metrics *m = ops_metrics(ops);
    const char *const topic[] = {"topic", NULL};

    if (!ops)
        return;
    r->mx.published = metrics_counter_new(
        m, "omnisync_outbox_published_total",
        "Outbox rows published, acknowledged and marked sent.", topic);
    r->mx.failed = metrics_counter_new(
        m, "omnisync_outbox_failed_total",
        "Outbox deliveries that failed (the rows stay unsent and are "
        "retried).",
        topic);
    r->mx.backlog =
        metrics_gauge_new(m, "omnisync_outbox_backlog_messages",
                          "Unsent outbox rows (0 on a standby relay).", NULL);
    r->mx.oldest = metrics_gauge_new(
        m, "omnisync_outbox_oldest_age_seconds",
        "Age of the oldest unsent outbox row (0 when none, or on standby).",
        NULL);
    r->mx.active = metrics_gauge_new(
        m, "omnisync_relay_active",
        "1 while this relay holds the advisory lock and publishes.", NULL);
    ops_check_postgres(ops, r->rc->pg_dsn);
    ops_check_kafka(ops, kafka_producer_handle(r->prod));
}

/* The event topics' partitions before the first round: otherwise the first
 * event to each waits for librdkafka's next metadata scan (~1 s). */
static void relay_topics(struct relay *r)
{
    size_t i, n = topics_count();
    const char **names = malloc((n + 1) * sizeof(*names));
    char errstr[256];

    if (!names)
        return;
    for (i = 0; i < n; i++)
        names[i] = topics_get(i)->name;
    if (kafka_producer_topics(r->prod, names, n, RELAY_TOPICS_MS, errstr,
                              sizeof(errstr)) < 0)
        log_info("%s: the first event of each topic may wait up to 1 s",
                 errstr);
    free(names);
}

struct relay *relay_new(const struct relay_cfg *rc, const struct cfg *passthru,
                        struct ops *ops, char *errstr, size_t errstr_size)
{
    struct relay *r = calloc(1, sizeof(*r));

    if (!r) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    r->rc = rc;
    r->state = RELAY_DISCONNECTED;
    r->backoff_ms = RELAY_BACKOFF_MIN_MS;
    r->fl[0].slots = calloc((size_t)rc->batch, sizeof(*r->fl[0].slots));
    r->fl[1].slots = calloc((size_t)rc->batch, sizeof(*r->fl[1].slots));
    if (!r->fl[0].slots || !r->fl[1].slots) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    r->prod = kafka_producer_new(rc->kafka_bootstrap, passthru, relay_dr, r,
                                 errstr, errstr_size);
    if (!r->prod)
        goto fail;
    relay_topics(r);
    r->next_stats_ms = clock_mono_ms() + rc->stats_ms;
    r->next_prune_ms = 0;
    r->backlog = -1;
    relay_ops(r, ops);
    log_info("starting: batch=%lld poll.ms=%lld lock.key=%lld "
             "retention.hours=%lld",
             rc->batch, rc->poll_ms, rc->lock_key, rc->retention_hours);
    return r;
fail:
    relay_destroy(r);
    return NULL;
}

/* Drop the Postgres session (and with it the advisory lock). */
static void relay_disconnect(struct relay *r, const char *why)
{
    if (r->pg) {
        log_warn("postgres: %s; reconnecting (lock %s)", why,
                 r->state == RELAY_ACTIVE ? "lost" : "not held");
        PQfinish(r->pg);
        r->pg = NULL;
    }
    r->state = RELAY_DISCONNECTED;
}

/* After a failed statement: reconnect when the session is gone. */
static void relay_db_error(struct relay *r, const char *errstr)
{
    if (db_conn_lost(r->pg)) {
        relay_disconnect(r, errstr);
        return;
    }
    log_error("%s", errstr);
}

/* Look at the backlog (active only: a standby reports none, so the sum
 * over relays is the backlog) and set the gauges. */
static void relay_backlog(struct relay *r)
{
    char errstr[256];
    double age = 0;
    long long rows = 0;

    r->backlog = -1;
    if (r->pg && r->state == RELAY_ACTIVE) {
        if (outbox_backlog(r->pg, &rows, &age, errstr, sizeof(errstr)) < 0) {
            relay_db_error(r, errstr);
            return;
        }
        r->backlog = rows;
    }
    metrics_set(r->mx.backlog, NULL, (double)rows);
    metrics_set(r->mx.oldest, NULL, age);
}

/* Add @p us to phase @p ph of both timings; @returns now (µs). */
static int64_t relay_phase(struct relay *r, enum relay_phase ph, int64_t since)
{
    int64_t now = clock_mono_us();

    r->total.us[ph] += now - since;
    r->backlog_t.us[ph] += now - since;
    return now;
}

static void relay_stats(struct relay *r)
{
    const int64_t *us = r->total.us;

    relay_backlog(r);
    log_info("stats: state=%s published=%llu failed=%llu held=%llu "
             "set_aside=%llu pending=%lld in_flight=%d pruned=%llu "
             "rounds=%llu read_ms=%lld produce_ms=%lld wait_ms=%lld "
             "mark_ms=%lld",
             relay_state_name(r->state), r->published, r->failed, r->held,
             r->dead, r->backlog, r->fl[0].pending + r->fl[1].pending,
             r->pruned, r->total.rounds, (long long)(us[PHASE_READ] / 1000),
             (long long)(us[PHASE_PRODUCE] / 1000),
             (long long)(us[PHASE_WAIT] / 1000),
             (long long)(us[PHASE_MARK] / 1000));
}

/* Count a round of @p n rows; a backlog (a run of full batches) that ends
 * with it is logged with where its time went. */
static void relay_timing_round(struct relay *r, int n, int64_t start_us)
{
    const int64_t *us = r->backlog_t.us;

    r->total.rounds++;
    r->total.rows += (unsigned long long)n;
    r->backlog_t.rounds++;
    r->backlog_t.rows += (unsigned long long)n;
    if (n >= r->rc->batch) {
        if (!r->backlog_start_us)
            r->backlog_start_us = start_us;
        return;
    }
    if (r->backlog_start_us)
        log_info("caught up: %llu rows in %llu rounds, %lld ms (read %lld, "
                 "produce %lld, wait %lld, mark %lld ms)",
                 r->backlog_t.rows, r->backlog_t.rounds,
                 (long long)((clock_mono_us() - r->backlog_start_us) / 1000),
                 (long long)(us[PHASE_READ] / 1000),
                 (long long)(us[PHASE_PRODUCE] / 1000),
                 (long long)(us[PHASE_WAIT] / 1000),
                 (long long)(us[PHASE_MARK] / 1000));
    memset(&r->backlog_t, 0, sizeof(r->backlog_t));
    r->backlog_start_us = 0;
}

/* Connect, then try the advisory lock; LISTEN once it is ours. */
static void relay_acquire(struct relay *r)
{
    char errstr[512], key[32];
    const char *vals[1];
    PGresult *res;
    int got;

    if (!r->pg) {
        r->pg = db_connect(r->rc->pg_dsn, RELAY_APP, errstr, sizeof(errstr));
        if (!r->pg) {
            log_warn("%s; retrying in %ld ms", errstr, r->backoff_ms);
            sig_sleep_ms(r->backoff_ms);
            r->backoff_ms *= 2;
            if (r->backoff_ms > RELAY_BACKOFF_MAX_MS)
                r->backoff_ms = RELAY_BACKOFF_MAX_MS;
            return;
        }
        r->backoff_ms = RELAY_BACKOFF_MIN_MS;
        r->state = RELAY_STANDBY;
        log_info("postgres: connected");
        /* Right after a burst the statistics still see a few unsent rows,
         * and the planner reads the unsent rows with a bitmap scan and a
         * sort: every round would format and sort the whole backlog.  The
         * index scan of outbox_unsent_idx stops after relay.batch rows. */
        if (db_cmd(r->pg, "SET enable_bitmapscan = off", 0, NULL,
                   "session settings", errstr, sizeof(errstr)) < 0) {
            relay_disconnect(r, errstr);
            return;
        }
    }
    snprintf(key, sizeof(key), "%lld", r->rc->lock_key);
    vals[0] = key;
    res = db_exec(r->pg, "SELECT pg_try_advisory_lock($1::bigint)", 1, vals,
                  "advisory lock", errstr, sizeof(errstr), NULL);
    if (!res) {
        relay_db_error(r, errstr);
        sig_sleep_ms(r->rc->standby_ms);
        return;
    }
    got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!got) {
        if (!r->standby_logged)
            log_info("standby: another relay holds the lock (key %s)", key);
        r->standby_logged = 1;
        sig_sleep_ms(r->rc->standby_ms);
        return;
    }
    if (db_cmd(r->pg, "LISTEN " RELAY_CHANNEL, 0, NULL, "listen", errstr,
               sizeof(errstr)) < 0) {
        /* Leave the session: that also releases the lock. */
        relay_disconnect(r, errstr);
        return;
    }
    r->state = RELAY_ACTIVE;
    r->standby_logged = 0;
    log_info("active: holding advisory lock %s, listening on %s", key,
             RELAY_CHANNEL);
}

/* Release the batch's result; its slots are kept for the next one (a
 * late delivery report for it finds no result and is ignored). */
static void relay_batch_clear(struct relay_batch *b)
{
    outbox_batch_clear(&b->rows);
    b->nslots = 0;
    b->pending = 0;
}

/* Select the first unsent rows with an id above @p after_id into @p b and
 * produce them in id order. */
static int relay_batch_send(struct relay *r, struct relay_batch *b,
                            long long after_id)
{
    char errstr[512];
    int i, n, rc;
    int64_t t = clock_mono_us();

    if (outbox_unsent_read(r->pg, r->rc->batch, after_id, &b->rows, errstr,
                           sizeof(errstr)) < 0) {
        relay_db_error(r, errstr);
        return -1;
    }
    t = relay_phase(r, PHASE_READ, t);
    n = (int)b->rows.n;
    b->nslots = n;
    b->pending = 0;
    for (i = 0; i < n; i++) {
        struct relay_slot *s = &b->slots[i];
        const struct outbox_row *row = &b->rows.rows[i];
        struct kafka_header hdrs[2] = {{"event-id", row->event_id},
                                       {"event-type", row->type}};
        char *env;

        s->b = b;
        s->id = row->id;
        s->key = row->key;
        s->topic = row->topic;
        s->store = row->store;
        s->marked = 0;
        s->state = SLOT_FAILED;
        env = event_build(row->type, row->event_id, row->created_at, row->store,
                          s->key, row->data, errstr, sizeof(errstr));
        if (!env) {
            s->state = SLOT_DEAD;
            snprintf(s->reason, sizeof(s->reason), "%.255s", errstr);
            continue;
        }
        s->state = SLOT_PENDING;
        b->pending++;
        rc = kafka_produce(r->prod, row->topic, s->key, strlen(s->key), env,
                           strlen(env), hdrs, 2, s, 1000 /* ms */, errstr,
                           sizeof(errstr));
        if (rc < 0) {
            s->state = rc == -2 ? SLOT_DEAD : SLOT_FAILED;
            snprintf(s->reason, sizeof(s->reason), "%.255s", errstr);
            b->pending--;
            log_warn_ctx(row->event_id, "outbox row %lld: %s", s->id, errstr);
        }
        free(env);
    }
    relay_phase(r, PHASE_PRODUCE, t);
    return n;
}

/* Count the batch's rows by topic: published when marked sent
 * (@p marked_ok), failed when not delivered. */
static void relay_mx_count(struct relay *r, const struct relay_batch *b,
                           int marked_ok)
{
    int i;

    for (i = 0; i < b->nslots; i++) {
        const struct relay_slot *s = &b->slots[i];

        if (s->state != SLOT_DELIVERED)
            metrics_inc(r->mx.failed, (const char *const[]){s->topic});
        else if (marked_ok && s->marked)
            metrics_inc(r->mx.published, (const char *const[]){s->topic});
    }
}

/* A row Kafka can never take (too large, not encodable): set aside in the
 * outbox and noted in dlq_record, so it neither blocks the outbox nor is
 * lost from sight.  @returns 0, or -1 when Postgres failed. */
static int relay_set_aside(struct relay *r, struct relay_slot *s)
{
    char errstr[512];

    log_error("outbox row %lld (%s, key %s) can never be published, set "
              "aside: %s",
              s->id, s->topic, s->key, s->reason);
    if (outbox_dead_mark(r->pg, s->id, s->reason, errstr, sizeof(errstr)) < 0 ||
        dlq_record_add(r->pg,
                       &(struct dlq_record_note){.store = s->store,
                                                 .service = "outbox-relay",
                                                 .entity = "outbox",
                                                 .local_id = s->id,
                                                 .key = s->key,
                                                 .reason = s->reason},
                       errstr, sizeof(errstr)) < 0) {
        relay_db_error(r, errstr);
        return -1;
    }
    s->marked = 1;
    r->dead++;
    return 0;
}

/*
 * Mark the delivered rows of the batch sent.  A delivered row is held back
 * (left unsent, so re-sent with the same id) when an earlier row of the
 * same key failed: the re-sent earlier row must not be the key's last
 * message on the topic (compaction keeps the last one).
 * @returns 0, or -1 when Postgres failed (rows stay unsent: re-sent later).
 */
static int relay_batch_mark(struct relay *r, struct relay_batch *b,
                            int *nfailed)
{
    char errstr[512];
    long long *ids;
    int i, j, marked = 0, rc = -1;

    *nfailed = 0;
    ids = malloc(((size_t)b->nslots + 1) * sizeof(*ids));
    if (!ids) {
        log_error("mark sent: out of memory");
        return -1;
    }
    for (i = 0; i < b->nslots; i++) {
        struct relay_slot *s = &b->slots[i];
        int held = 0;

        if (s->state == SLOT_DEAD && relay_set_aside(r, s) < 0)
            goto out;
        if (s->state != SLOT_DELIVERED) {
            *nfailed += s->state == SLOT_FAILED;
            continue;
        }
        /* Only after a failure in this batch: scan its earlier rows. */
        for (j = 0; *nfailed && j < i && !held; j++)
            held = b->slots[j].state == SLOT_FAILED &&
                   strcmp(b->slots[j].key, s->key) == 0;
        if (held) {
            r->held++;
            continue;
        }
        ids[marked++] = s->id;
        s->marked = 1;
    }
    if (marked == 0) {
        rc = 0;
        goto out;
    }
    if (outbox_sent_mark(r->pg, ids, (size_t)marked, errstr, sizeof(errstr)) <
        0) {
        relay_db_error(r, errstr);
        goto out;
    }
    r->published += (unsigned long long)marked;
    rc = 0;
out:
    relay_mx_count(r, b, rc == 0);
    r->failed += (unsigned long long)*nfailed;
    free(ids);
    return rc;
}

/*
 * Wait up to @p ms for a NOTIFY on the session's socket.
 * @returns 1 when notified, 0 on timeout or stop request, -1 when the
 *          session broke.
 */
static int relay_wait_notify(struct relay *r, long ms)
{
    long long deadline = clock_mono_ms() + ms;

    while (!sig_stop_requested()) {
        struct pollfd pfd;
        PGnotify *nfy;
        long long left;
        int got = 0;

        if (!PQconsumeInput(r->pg))
            return -1;
        while ((nfy = PQnotifies(r->pg)) != NULL) {
            got = 1;
            PQfreemem(nfy);
        }
        if (got)
            return 1;
        kafka_producer_poll(r->prod, 0); /* serve error/log callbacks */
        left = deadline - clock_mono_ms();
        if (left <= 0)
            return 0;
        pfd.fd = PQsocket(r->pg);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (pfd.fd < 0)
            return -1;
        poll(&pfd, 1, left > 100 ? 100 : (int)left);
    }
    return 0;
}

static void relay_prune(struct relay *r)
{
    char errstr[512];
    int i;

    /* Small statements so no long lock or transaction holds the table. */
    for (i = 0; i < RELAY_PRUNE_MAX_STMTS && !sig_stop_requested(); i++) {
        long long n =
            outbox_prune(r->pg, r->rc->retention_hours, errstr, sizeof(errstr));

        if (n < 0) {
            relay_db_error(r, errstr);
            return;
        }
        r->pruned += (unsigned long long)n;
        if (n < OUTBOX_PRUNE_ROWS)
            break;
    }
}

/* Wait for every delivery report of @p b, up to @p deadline_ms
 * (monotonic; 0: no deadline but return on a stop request). */
static void relay_batch_wait(struct relay *r, struct relay_batch *b,
                             long long deadline_ms)
{
    while (b->pending > 0) {
        if (kafka_producer_fatal(r->prod, NULL, 0))
            break;
        if (deadline_ms ? clock_mono_ms() >= deadline_ms : sig_stop_requested())
            break;
        kafka_producer_poll(r->prod, 100 /* ms */);
    }
}

/* Give up on @p b: its rows stay unsent (a later round re-sends them).  Its
 * reports are awaited first, so none reaches its slots once reused. */
static void relay_batch_drop(struct relay *r, struct relay_batch *b)
{
    relay_batch_wait(r, b, 0);
    relay_batch_clear(b);
}

/* While @p fl's reports come in, read the rows after its last id into the
 * other batch and produce them: only when fl was full, nothing is read
 * ahead yet, and the run of read-aheads began less than
 * RELAY_AHEAD_MAX_MS ago (a row that committed late below the ids read
 * waits at most that long: the round after the run reads from the
 * start). */
static void relay_read_ahead(struct relay *r, struct relay_batch *fl)
{
    struct relay_batch *nx = &r->fl[!r->cur];

    if (nx->rows.res || fl->nslots < r->rc->batch || sig_stop_requested() ||
        clock_mono_ms() - r->ahead_since_ms >= RELAY_AHEAD_MAX_MS)
        return;
    if (relay_batch_send(r, nx, fl->slots[fl->nslots - 1].id) <= 0)
        relay_batch_clear(nx); /* an error, or nothing there */
}

/* After batch @p n rows long was marked (@p nfailed not delivered): back
 * off after failures, go on while rows wait, else wait for a NOTIFY. */
static void relay_round_end(struct relay *r, int n, int nfailed)
{
    char errstr[512];
    struct relay_batch *next = &r->fl[r->cur];

    /* Rows read ahead may be newer rows of a failed row's key: none is
     * marked (not even by relay_drain() after a fatal error), so they are
     * re-sent after it. */
    if (nfailed)
        relay_batch_drop(r, next);
    if (kafka_producer_fatal(r->prod, errstr, sizeof(errstr))) {
        r->fatal = 1;
        return;
    }
    if (nfailed) {
        /* Kafka trouble: librdkafka already retried within
         * message.timeout.ms; back off before re-sending. */
        log_warn("%d of %d rows not delivered; retrying in %ld ms", nfailed, n,
                 r->retry_ms);
        sig_sleep_ms(r->retry_ms);
        r->retry_ms *= 2;
        if (r->retry_ms > RELAY_RETRY_MAX_MS)
            r->retry_ms = RELAY_RETRY_MAX_MS;
        return;
    }
    r->retry_ms = RELAY_RETRY_MIN_MS;
    if (next->rows.res || n >= r->rc->batch || sig_stop_requested())
        return; /* more rows are waiting, or read ahead */
    if (relay_wait_notify(r, r->rc->poll_ms) < 0)
        relay_disconnect(r, PQerrorMessage(r->pg));
}

/* One active round: send a batch (unless it was read ahead), read the next
 * one ahead, wait for the first one's reports, mark them. */
static void relay_round(struct relay *r)
{
    struct relay_batch *fl = &r->fl[r->cur];
    int n, nfailed = 0;
    int64_t start = clock_mono_us(), t;

    if (!fl->rows.res) {
        /* Nothing in flight: from the start. */
        r->ahead_since_ms = clock_mono_ms();
        if (relay_batch_send(r, fl, 0) < 0) {
            relay_batch_clear(fl);
            if (r->state == RELAY_ACTIVE)
                sig_sleep_ms(r->rc->poll_ms); /* SQL error: do not spin */
            return;
        }
    }
    n = fl->nslots;
    relay_read_ahead(r, fl);
    if (r->state != RELAY_ACTIVE) { /* the read-ahead lost the session */
        relay_batch_drop(r, fl);
        return;
    }
    t = clock_mono_us();
    relay_batch_wait(r, fl, 0);
    t = relay_phase(r, PHASE_WAIT, t);
    if (fl->pending > 0 && !kafka_producer_fatal(r->prod, NULL, 0))
        return; /* stop requested: relay_drain() finishes the batches */
    if (relay_batch_mark(r, fl, &nfailed) < 0) {
        relay_batch_clear(fl);
        relay_batch_drop(r, &r->fl[!r->cur]);
        return;
    }
    relay_phase(r, PHASE_MARK, t);
    relay_timing_round(r, n, start);
    nfailed += fl->pending; /* after a fatal error: never delivered */
    relay_batch_clear(fl);
    r->cur = !r->cur; /* the batch read ahead, if any, is next */
    relay_round_end(r, n, nfailed);
}

int relay_poll(struct relay *r)
{
    long long now = clock_mono_ms();

    if (r->fatal)
        return -1;
    metrics_set(r->mx.active, NULL, r->state == RELAY_ACTIVE);
    if (now >= r->next_stats_ms) {
        relay_stats(r);
        r->next_stats_ms = now + r->rc->stats_ms;
        r->next_backlog_ms = now + RELAY_BACKLOG_EVERY_MS;
    } else if (now >= r->next_backlog_ms) {
        relay_backlog(r);
        r->next_backlog_ms = now + RELAY_BACKLOG_EVERY_MS;
    }
    if (r->state != RELAY_ACTIVE) {
        relay_acquire(r);
        if (r->state == RELAY_ACTIVE)
            r->retry_ms = RELAY_RETRY_MIN_MS;
        return 0;
    }
    if (now >= r->next_prune_ms) {
        relay_prune(r);
        r->next_prune_ms = now + RELAY_PRUNE_EVERY_MS;
        if (r->state != RELAY_ACTIVE)
            return 0;
    }
    relay_round(r);
    return r->fatal ? -1 : 0;
}

/* Finish the batches in flight at a stop: wait for their reports until
 * @p deadline_ms, mark the delivered rows; the batch read ahead only when
 * every row before it was delivered and marked.  @returns 0, or 1 when
 * something stayed undelivered or unmarked. */
static int relay_drain_batches(struct relay *r, long long deadline_ms)
{
    int i, nfailed = 0, status = 0;

    for (i = 0; i < 2; i++) {
        struct relay_batch *b = &r->fl[(r->cur + i) % 2];

        if (b->nslots > 0 && !status) {
            log_info("draining: %d messages in flight, waiting up to %lld ms",
                     b->pending, deadline_ms - clock_mono_ms());
            relay_batch_wait(r, b, deadline_ms);
            if (b->pending > 0) {
                log_warn("drain: %d messages still without a delivery "
                         "report; their rows stay unsent and will be re-sent",
                         b->pending);
                status = 1;
            }
            if (!r->pg || relay_batch_mark(r, b, &nfailed) < 0 || nfailed)
                status = 1;
        }
        relay_batch_clear(b);
    }
    return status;
}

int relay_drain(struct relay *r, int timeout_ms)
{
    char errstr[512];
    int status = relay_drain_batches(r, clock_mono_ms() + timeout_ms);
    if (kafka_producer_fatal(r->prod, errstr, sizeof(errstr))) {
        log_error("exiting after fatal producer error: %s", errstr);
        status = 1;
    }
    /* Only the batch is ever queued: whatever is left was reported above
     * and is dropped with the producer (its rows stay unsent). */
    if (kafka_producer_outq_len(r->prod) > 0)
        log_warn("drain: %d messages left in the producer queue",
                 kafka_producer_outq_len(r->prod));
    relay_stats(r);
    if (r->pg && r->state == RELAY_ACTIVE) {
        char key[32];
        const char *vals[1];

        snprintf(key, sizeof(key), "%lld", r->rc->lock_key);
        vals[0] = key;
        if (db_cmd(r->pg, "SELECT pg_advisory_unlock($1::bigint)", 1, vals,
                   "advisory unlock", errstr, sizeof(errstr)) < 0)
            log_warn("%s", errstr);
    }
    log_info("stopped (exit %d)", status);
    return status;
}

void relay_destroy(struct relay *r)
{
    if (!r)
        return;
    /* The producer first: no delivery report may reach freed slots. */
    kafka_producer_destroy(r->prod);
    relay_batch_clear(&r->fl[0]);
    relay_batch_clear(&r->fl[1]);
    free(r->fl[0].slots);
    free(r->fl[1].slots);
    if (r->pg)
        PQfinish(r->pg);
    free(r);
}
