#include "apply.h"

#include "app/ops.h"
#include "events/event.h"
#include "events/order.h"
#include "events/topics.h"
#include "ledger/dlq_record.h"
#include "ledger/orders.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/httpd.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/sig.h"
#include "oicfg.h"
#include "store/platform.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct order_apply {
    const struct oi_cfg *c;
    PGconn *pg;
    struct kafka_consumer *kc;
    struct dlq *dlq;
    int fatal;
    unsigned long long n_applied, n_stale, n_dlq, n_retries;
    struct consume_metrics mx;
    struct metrics_family *mx_dups; /* (may be NULL) {source} */
    struct httpd *beat;             /* (may be NULL) beaten while retrying */
};

/* The applier's metrics and readiness checks, with @p ops (may be NULL). */
static void oa_ops(struct order_apply *a, struct ops *ops)
{
    if (!ops)
        return;
    ops_wire_consumer(ops,
                      &(struct ops_consumer){a->c->pg_dsn, NULL, a->c->group_id,
                                             a->kc, a->dlq, NULL, &a->mx});
    a->mx_dups = metrics_counter_new(
        ops_metrics(ops), "omnisync_orders_duplicates_dropped_total",
        "Raw orders dropped because the ledger already had that order at "
        "that version (webhook and poll see the same orders).",
        (const char *const[]){"source", NULL});
    a->beat = ops_httpd(ops);
}

struct order_apply *order_apply_new(const struct oi_cfg *c,
                                    const struct cfg *passthru, struct ops *ops,
                                    char *errstr, size_t errstr_size)
{
    struct order_apply *a = calloc(1, sizeof(*a));
    const char *topics[1] = {TOPICS_ORDERS};

    if (!a) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    a->c = c;
    a->kc = kafka_consumer_new(c->kafka_bootstrap, c->group_id, passthru,
                               errstr, errstr_size);
    if (!a->kc)
        goto fail;
    a->dlq = dlq_new(c->kafka_bootstrap, passthru, "order-ingestor", errstr,
                     errstr_size);
    if (!a->dlq)
        goto fail;
    if (kafka_consumer_subscribe(a->kc, topics, 1, errstr, errstr_size) < 0)
        goto fail;
    oa_ops(a, ops);
    log_info("apply: consuming %s as group %s", TOPICS_ORDERS, c->group_id);
    return a;
fail:
    order_apply_destroy(a);
    return NULL;
}

/* A usable ledger connection, or 0 (logged). */
static int oa_pg_ok(struct order_apply *a)
{
    char err[512];

    if (a->pg && PQstatus(a->pg) == CONNECTION_OK)
        return 1;
    if (a->pg) {
        PQreset(a->pg);
        if (PQstatus(a->pg) == CONNECTION_OK)
            return 1;
        PQfinish(a->pg);
        a->pg = NULL;
    }
    a->pg = db_connect(a->c->pg_dsn, "order-ingestor-apply", err, sizeof(err));
    if (!a->pg)
        log_warn("ledger: %s", err);
    return a->pg != NULL;
}

/* Dead-letter @p m (retrying until acknowledged or stopped). */
static int oa_dlq(struct order_apply *a, const rd_kafka_message_t *m,
                  const char *reason)
{
    char err[512];
    long backoff = 200;

    log_warn("dlq: %s [%d] @%lld: %s", rd_kafka_topic_name(m->rkt),
             (int)m->partition, (long long)m->offset, reason);
    while (dlq_send(a->dlq, m, reason, 10000 /* ms */, err, sizeof(err)) < 0) {
        log_warn("dlq: %s", err);
        if (sig_stop_requested())
            return -1;
        sig_sleep_ms(backoff);
        if (backoff < a->c->backoff_max_ms)
            backoff *= 2;
    }
    a->n_dlq++;
    return 0;
}

/* The ledger's note of the dead letter just written, for status and
 * `omnisync dlq` (logged when it cannot be written: the DLQ record itself
 * is safe). */
static void oa_dlq_note(struct order_apply *a, const rd_kafka_message_t *m,
                        const char *store, const char *reason)
{
    char err[512], key[512];

    snprintf(key, sizeof(key), "%.*s", m->key ? (int)m->key_len : 0,
             m->key ? (const char *)m->key : "");
    if (!oa_pg_ok(a) ||
        dlq_record_add(a->pg,
                       &(struct dlq_record_note){.store = store,
                                                 .service = "order-ingestor",
                                                 .key = key,
                                                 .reason = reason,
                                                 .ref = dlq_last(a->dlq)},
                       err, sizeof(err)) != 0)
        log_warn("dlq_record: %s (status and `omnisync dlq` will not list it)",
                 a->pg ? err : "ledger unreachable");
}

static int oa_commit(struct order_apply *a, const rd_kafka_message_t *m);

/* Dead-letter, then commit and count it consumed.  @p store is the store
 * the message named (NULL when unreadable). */
static void oa_dead_letter(struct order_apply *a, const rd_kafka_message_t *m,
                           const char *store, const char *reason)
{
    if (oa_dlq(a, m, reason) == 0) {
        oa_dlq_note(a, m, store, reason);
        oa_commit(a, m);
        consume_count_done(&a->mx, TOPICS_ORDERS);
    }
}

static int oa_commit(struct order_apply *a, const rd_kafka_message_t *m)
{
    char err[512];

    if (kafka_consumer_commit(a->kc, m, 0, err, sizeof(err)) < 0) {
        /* Not fatal: the message is applied; a replay is a no-op. */
        log_warn("commit %s [%d] @%lld: %s", rd_kafka_topic_name(m->rkt),
                 (int)m->partition, (long long)m->offset, err);
        return -1;
    }
    return 0;
}

/* A version that cannot be applied (@p err says why) is kept as a
 * needs-attention order, so an operator sees it; only what names no order
 * of a known store is left to the dead-letter topic (ORDERS_REJECT). */
static enum orders_res oa_hold(struct order_apply *a, const struct event *ev,
                               const json_t *raw,
                               struct orders_apply_info *info, char *err,
                               size_t err_size)
{
    const json_t *id = json_object_get(raw, "id");
    char reason[600];
    long long us;

    if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
        order_ts_parse(json_string_value(json_object_get(raw, "updated_at")),
                       &us) < 0)
        return ORDERS_REJECT;
    snprintf(reason, sizeof(reason), "cannot apply: %s", err);
    return orders_hold(a->pg, ev->store, json_integer_value(id), us, raw,
                       reason, ev->ts, info, err, err_size);
}

/* One attempt: the store's platform parses the raw order, the ledger
 * applies it. */
static enum orders_res oa_apply(struct order_apply *a, const struct event *ev,
                                const json_t *raw,
                                struct orders_apply_info *info, char *err,
                                size_t err_size)
{
    const struct store_platform *p;
    char name[64];
    struct order o;
    enum orders_res res;
    int rc;

    if (!oa_pg_ok(a)) {
        snprintf(err, err_size, "ledger unreachable");
        return ORDERS_RETRY;
    }
    rc = orders_store_platform(a->pg, ev->store, name, sizeof(name), err,
                               err_size);
    if (rc < 0)
        return ORDERS_RETRY;
    if (rc > 0) {
        snprintf(err, err_size, "unknown store '%s'", ev->store);
        return ORDERS_REJECT;
    }
    p = store_platform_find(name);
    if (!p) {
        snprintf(err, err_size, "store '%s': unknown platform '%s'", ev->store,
                 name);
        return ORDERS_REJECT;
    }
    if (p->order_parse(raw, &o, err, err_size) < 0)
        return oa_hold(a, ev, raw, info, err, err_size);
    res = orders_apply(a->pg, ev->store, &o, raw, ev->ts, info, err, err_size);
    order_clear(&o);
    if (res == ORDERS_REJECT)
        return oa_hold(a, ev, raw, info, err, err_size);
    return res;
}

/* Apply until done or stopped (then 1: leave the message uncommitted). */
static int oa_apply_retrying(struct order_apply *a, const struct event *ev,
                             struct orders_apply_info *info,
                             enum orders_res *res, char *err, size_t err_size)
{
    const json_t *raw = json_object_get(ev->data, "order");
    long backoff = 100;

    for (;;) {
        httpd_heartbeat(a->beat);
        *res = oa_apply(a, ev, raw, info, err, err_size);
        if (*res != ORDERS_RETRY)
            return 0;
        a->n_retries++;
        consume_count_failed(&a->mx, TOPICS_ORDERS);
        log_warn("apply %s: %s (retry in %ld ms)", ev->key, err, backoff);
        if (sig_sleep_ms(backoff) != 0 || sig_stop_requested())
            return 1;
        if (backoff < a->c->backoff_max_ms)
            backoff = backoff * 2 > a->c->backoff_max_ms
                          ? (long)a->c->backoff_max_ms
                          : backoff * 2;
    }
}

/* The raw order's source for labels: webhook, poll, or other. */
static const char *oa_source(const struct event *ev)
{
    const char *s = json_string_value(json_object_get(ev->data, "source"));

    if (s && (strcmp(s, "webhook") == 0 || strcmp(s, "poll") == 0))
        return s;
    return "other";
}

/* Dead-letter the message (then commit) when it cannot apply; count and
 * log it otherwise, then commit. */
static void oa_finish(struct order_apply *a, const rd_kafka_message_t *m,
                      const struct event *ev, enum orders_res res,
                      const struct orders_apply_info *info, const char *err)
{
    char reason[1200];

    if (res == ORDERS_REJECT) {
        snprintf(reason, sizeof(reason), "cannot apply: %s", err);
        oa_dead_letter(a, m, ev->store, reason);
        return;
    }
    if (res == ORDERS_APPLIED) {
        a->n_applied++;
        log_info("order %s (%s) %s: status=%s%s%s", ev->key,
                 json_string_value(json_object_get(ev->data, "source")),
                 info->created ? "created" : "updated", info->status,
                 info->attention ? " attention: " : "",
                 info->attention ? info->reason : "");
    } else {
        a->n_stale++;
        metrics_inc(a->mx_dups, (const char *const[]){oa_source(ev)});
        log_debug("order %s: same or older version, skipped", ev->key);
    }
    oa_commit(a, m);
    consume_count_done(&a->mx, TOPICS_ORDERS);
}

int order_apply_poll(struct order_apply *a)
{
    rd_kafka_message_t *m = kafka_consumer_poll(a->kc, KAFKA_POLL_MS);
    struct event ev;
    struct orders_apply_info info;
    char err[1024], reason[1200];
    enum orders_res res;

    if (kafka_consumer_fatal(a->kc)) {
        a->fatal = 1;
        if (m)
            rd_kafka_message_destroy(m);
        return -1;
    }
    if (!m)
        return 0;
    if (event_decode(&ev, m->payload, m->len, err, sizeof(err)) < 0) {
        snprintf(reason, sizeof(reason), "undecodable: %s", err);
        oa_dead_letter(a, m, NULL, reason);
        goto out;
    }
    if (strcmp(ev.type, ORDER_EVENT_RAW) != 0) {
        snprintf(reason, sizeof(reason), "unexpected event type '%s'", ev.type);
        oa_dead_letter(a, m, ev.store, reason);
    } else if (oa_apply_retrying(a, &ev, &info, &res, err, sizeof(err)) == 0) {
        oa_finish(a, m, &ev, res, &info, err);
    } /* else stopped: left uncommitted, the next run applies it */
    event_clear(&ev);
out:
    rd_kafka_message_destroy(m);
    return 0;
}

int order_apply_drain(struct order_apply *a)
{
    if (!a)
        return 0;
    kafka_consumer_close(a->kc);
    log_info("apply: applied=%llu stale=%llu dlq=%llu retries=%llu",
             a->n_applied, a->n_stale, a->n_dlq, a->n_retries);
    return a->fatal ? 1 : 0;
}

void order_apply_destroy(struct order_apply *a)
{
    if (!a)
        return;
    kafka_consumer_destroy(a->kc);
    dlq_destroy(a->dlq);
    if (a->pg)
        PQfinish(a->pg);
    free(a);
}
