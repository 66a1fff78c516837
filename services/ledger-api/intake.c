#include "intake.h"

#include "apicfg.h"
#include "app/ops.h"
#include "events/topics.h"
#include "ledger/dlq_record.h"
#include "ledger/movebatch.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/httpd.h"
#include "lib/metrics.h"
#include "lib/sig.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTAKE_LINES_MAX 1000 /* lines of one receipt */
/* Receipts taken from the consumer at once and applied in one
 * transaction (when all of them are valid). */
#define INTAKE_BATCH_MAX 500

struct movements_intake {
    const struct api_cfg *c;
    PGconn *pg;
    struct kafka_consumer *kc;
    struct dlq *dlq;
    struct consume_loop loop;
    struct metrics_family *mx_items; /* omnisync_api_items_total */
    unsigned long long n_receipts, n_dup, n_dlq;
};

/* One receipt as a batch: the items and their keys. */
struct intake_receipt {
    json_t *root;
    const char *outlet, *receipt;
    struct movebatch_item *items;
    char (*keys)[MOVEBATCH_KEY_MAX + 1];
    size_t n;
};

static void intake_receipt_free(struct intake_receipt *r)
{
    json_decref(r->root);
    free(r->items);
    free(r->keys);
}

/* A code-like string member, or NULL. */
static const char *intake_str(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));

    return s && *s && strlen(s) <= 100 ? s : NULL;
}

/* Line @p i of the receipt as an item; -1 with @p why. */
static int intake_line(struct intake_receipt *r, size_t i, const json_t *l,
                       char *why, size_t why_size)
{
    struct movebatch_item *it = &r->items[i];
    const json_t *qty = json_object_get(l, "qty");

    it->kind = json_string_value(json_object_get(l, "kind"));
    if (!it->kind)
        it->kind = "sale";
    if (strcmp(it->kind, "sale") != 0 && strcmp(it->kind, "return") != 0) {
        snprintf(why, why_size, "lines[%zu].kind: not sale or return", i);
        return -1;
    }
    it->sku = json_string_value(json_object_get(l, "sku"));
    it->qty = json_is_integer(qty) ? json_integer_value(qty) : -1;
    it->location = r->outlet;
    snprintf(r->keys[i], sizeof(r->keys[i]), "till:%s:%s:%zu", r->outlet,
             r->receipt, i + 1);
    it->key = r->keys[i];
    return 0;
}

/* Parse message @p m into @p r; -1 with @p why (dead-letter it). */
static int intake_parse(const rd_kafka_message_t *m, struct intake_receipt *r,
                        char *why, size_t why_size)
{
    json_error_t jerr;
    const json_t *lines, *l;
    size_t i;

    memset(r, 0, sizeof(*r));
    r->root = json_loadb(m->payload, m->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!r->root || !json_is_object(r->root)) {
        snprintf(why, why_size, "not a JSON object: %s",
                 r->root ? "another JSON type" : jerr.text);
        return -1;
    }
    r->outlet = intake_str(r->root, "outlet");
    r->receipt = intake_str(r->root, "receipt");
    lines = json_object_get(r->root, "lines");
    if (!r->outlet || !r->receipt) {
        snprintf(why, why_size, "\"%s\" missing or not a string of 1-100 bytes",
                 r->outlet ? "receipt" : "outlet");
        return -1;
    }
    r->n = json_array_size(lines);
    if (!json_is_array(lines) || r->n == 0 || r->n > INTAKE_LINES_MAX) {
        snprintf(why, why_size, "\"lines\" must be an array of 1-%d lines",
                 INTAKE_LINES_MAX);
        return -1;
    }
    r->items = calloc(r->n, sizeof(*r->items));
    r->keys = calloc(r->n, sizeof(*r->keys));
    if (!r->items || !r->keys) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    json_array_foreach(lines, i, l)
    {
        if (intake_line(r, i, l, why, why_size) < 0)
            return -1;
    }
    return 0;
}

/* The first bad line's reason. */
static void intake_bad_reason(const struct intake_receipt *r, char *why,
                              size_t why_size)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (r->items[i].status == MOVEBATCH_INVALID) {
            snprintf(why, why_size, "lines[%zu].%s: %s", i, r->items[i].field,
                     r->items[i].error);
            return;
        }
    snprintf(why, why_size, "invalid lines");
}

/* A usable ledger connection, or NULL (logged). */
static PGconn *intake_pg(struct movements_intake *in)
{
    char err[512];

    if (in->pg && PQstatus(in->pg) != CONNECTION_OK) {
        PQfinish(in->pg);
        in->pg = NULL;
    }
    if (!in->pg) {
        in->pg =
            db_connect(in->c->pg_dsn, "ledger-api-intake", err, sizeof(err));
        if (!in->pg)
            log_warn("intake: ledger: %s", err);
    }
    return in->pg;
}

/* Dead-letter @p m with @p why, note it in the ledger.  OUTCOME_OK when
 * the DLQ acknowledged it. */
static enum outcome intake_reject(struct movements_intake *in,
                                  const rd_kafka_message_t *m, const char *why,
                                  char *reason, size_t reason_size)
{
    char key[256], err[512];

    snprintf(key, sizeof(key), "%.*s", m->key ? (int)m->key_len : 0,
             m->key ? (const char *)m->key : "");
    if (dlq_send(in->dlq, m, why, 30 * 1000 /* ms */, err, sizeof(err)) != 0) {
        snprintf(reason, reason_size, "dlq: %s", err);
        return OUTCOME_REJECTED;
    }
    in->n_dlq++;
    log_warn("intake: %s [%d] @%lld key %s dead-lettered: %s",
             TOPICS_MOVEMENTS_IN, (int)m->partition, (long long)m->offset, key,
             why);
    if (!intake_pg(in) ||
        dlq_record_add(in->pg,
                       &(struct dlq_record_note){.service = "ledger-api",
                                                 .key = key,
                                                 .reason = why,
                                                 .ref = dlq_last(in->dlq)},
                       err, sizeof(err)) != 0)
        log_warn("dlq_record: %s (status will not count it)",
                 in->pg ? err : "ledger unreachable");
    return OUTCOME_OK;
}

static void intake_count(struct movements_intake *in,
                         const struct intake_receipt *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        metrics_inc(in->mx_items,
                    (const char *const[]){
                        "kafka", movebatch_status_name(r->items[i].status)});
}

/* consume_fn: one receipt. */
static enum outcome intake_consume(void *ctx, const rd_kafka_message_t *m,
                                   char *reason, size_t reason_size)
{
    struct movements_intake *in = ctx;
    struct movebatch_summary sum;
    struct intake_receipt r;
    char why[600], err[1024];
    enum outcome o = OUTCOME_OK;
    int rc;

    if (intake_parse(m, &r, why, sizeof(why)) < 0) {
        o = intake_reject(in, m, why, reason, reason_size);
        goto out;
    }
    if (!intake_pg(in)) {
        snprintf(reason, reason_size, "ledger unreachable");
        o = OUTCOME_RETRY;
        goto out;
    }
    rc = movebatch_apply(in->pg, r.items, r.n, 0, &sum, err, sizeof(err), NULL);
    if (rc < 0) {
        snprintf(reason, reason_size, "ledger: %s", err);
        o = OUTCOME_RETRY;
        goto out;
    }
    intake_count(in, &r);
    if (rc == MOVEBATCH_BAD) {
        intake_bad_reason(&r, why, sizeof(why));
        o = intake_reject(in, m, why, reason, reason_size);
        goto out;
    }
    in->n_receipts++;
    in->n_dup += sum.duplicate ? 1 : 0;
    log_debug("intake: receipt %s at %s: %zu applied, %zu duplicate", r.receipt,
              r.outlet, sum.applied, sum.duplicate);
out:
    intake_receipt_free(&r);
    return o;
}

struct movements_intake *movements_intake_new(const struct api_cfg *c,
                                              const struct cfg *passthru,
                                              struct ops *ops,
                                              struct metrics_family *items,
                                              char *errstr, size_t errstr_size)
{
    struct movements_intake *in = calloc(1, sizeof(*in));
    const char *topics[1] = {TOPICS_MOVEMENTS_IN};

    if (!in) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    in->c = c;
    in->mx_items = items;
    in->kc = kafka_consumer_new(c->kafka_bootstrap, c->group_id, passthru,
                                errstr, errstr_size);
    if (!in->kc)
        goto fail;
    in->dlq = dlq_new(c->kafka_bootstrap, passthru, "ledger-api", errstr,
                      errstr_size);
    if (!in->dlq ||
        kafka_consumer_subscribe(in->kc, topics, 1, errstr, errstr_size) < 0)
        goto fail;
    in->loop.kc = in->kc;
    in->loop.fn = intake_consume;
    in->loop.ctx = in;
    in->loop.backoff_max_ms = (long)c->backoff_max_ms;
    if (ops) {
        ops_wire_consumer(
            ops, &(struct ops_consumer){c->pg_dsn, NULL, c->group_id, in->kc,
                                        in->dlq, NULL, &in->loop.mx});
        in->loop.beat = ops_httpd(ops);
    }
    log_info("intake: consuming %s as group %s", TOPICS_MOVEMENTS_IN,
             c->group_id);
    return in;
fail:
    movements_intake_destroy(in);
    return NULL;
}

/* Commit @p m and count it done. */
static void intake_done(struct movements_intake *in,
                        const rd_kafka_message_t *m, int async)
{
    char err[512];

    if (kafka_consumer_commit(in->kc, m, async, err, sizeof(err)) != 0)
        log_warn("commit: %s (the message may be redelivered; harmless)", err);
    consume_count_done(&in->loop.mx, TOPICS_MOVEMENTS_IN);
}

/* One message alone, retried until done or a stop request (then left
 * uncommitted).  Returns 0, or 1 when stopped. */
static int intake_one(struct movements_intake *in, const rd_kafka_message_t *m)
{
    char reason[512];
    long backoff = 0;

    for (;;) {
        httpd_heartbeat(in->loop.beat);
        reason[0] = '\0';
        if (intake_consume(in, m, reason, sizeof(reason)) == OUTCOME_OK)
            break;
        in->loop.n_retries++;
        consume_count_failed(&in->loop.mx, TOPICS_MOVEMENTS_IN);
        if (sig_stop_requested())
            return 1;
        backoff = backoff ? backoff * 2 : 500 /* ms */;
        if (backoff > in->loop.backoff_max_ms)
            backoff = in->loop.backoff_max_ms;
        log_warn("intake: retry in %ld ms: %s", backoff, reason);
        sig_sleep_ms(backoff);
    }
    intake_done(in, m, 0);
    return 0;
}

/*
 * Several messages: the well-formed receipts as one batch (one
 * transaction).  Returns 1 when it applied them (the malformed ones are
 * dead-lettered after), 0 when the caller must take the messages one by
 * one (a bad line somewhere, a ledger failure).
 */
static int intake_many(struct movements_intake *in, rd_kafka_message_t **ms,
                       size_t n, int *bad)
{
    struct intake_receipt *rs = calloc(n, sizeof(*rs));
    struct movebatch_item *items = NULL;
    struct movebatch_summary sum;
    size_t i, total = 0, k = 0;
    char why[600], err[1024];
    int ok = 0;

    for (i = 0; rs && i < n; i++) {
        bad[i] = intake_parse(ms[i], &rs[i], why, sizeof(why)) < 0;
        total += bad[i] ? 0 : rs[i].n;
    }
    items = rs ? calloc(total ? total : 1, sizeof(*items)) : NULL;
    for (i = 0; items && i < n; i++)
        if (!bad[i]) {
            memcpy(items + k, rs[i].items, rs[i].n * sizeof(*items));
            k += rs[i].n;
        }
    if (items && intake_pg(in) &&
        movebatch_apply(in->pg, items, total, 0, &sum, err, sizeof(err),
                        NULL) == MOVEBATCH_OK) {
        ok = 1;
        for (i = 0, k = 0; i < n; i++)
            if (!bad[i]) {
                memcpy(rs[i].items, items + k, rs[i].n * sizeof(*items));
                k += rs[i].n;
                intake_count(in, &rs[i]);
                in->n_receipts++;
            }
    }
    for (i = 0; rs && i < n; i++)
        intake_receipt_free(&rs[i]);
    free(rs);
    free(items);
    return ok;
}

int movements_intake_poll(struct movements_intake *in)
{
    rd_kafka_message_t *ms[INTAKE_BATCH_MAX];
    int bad[INTAKE_BATCH_MAX];
    size_t n = 0, i;
    int stopped = 0;

    if (in->loop.fatal)
        return -1;
    ms[n] = kafka_consumer_poll(in->kc, KAFKA_POLL_MS);
    while (ms[n] && ++n < INTAKE_BATCH_MAX)
        ms[n] = kafka_consumer_poll(in->kc, 0);
    if (kafka_consumer_fatal(in->kc))
        in->loop.fatal = 1;
    in->loop.n_msgs += n;
    if (n > 1 && !in->loop.fatal && intake_many(in, ms, n, bad)) {
        /* Applied; what remains is dead-lettering the malformed ones
         * (their lines were not in the batch) and the commits. */
        for (i = 0; i < n && !stopped; i++) {
            if (bad[i])
                stopped = intake_one(in, ms[i]);
            else
                intake_done(in, ms[i], i + 1 < n);
        }
    } else {
        for (i = 0; i < n && !in->loop.fatal; i++)
            stopped = stopped || intake_one(in, ms[i]);
    }
    for (i = 0; i < n; i++)
        rd_kafka_message_destroy(ms[i]);
    (void)stopped;
    return in->loop.fatal ? -1 : 0;
}

int movements_intake_drain(struct movements_intake *in)
{
    if (!in)
        return 0;
    kafka_consumer_close(in->kc);
    log_info("intake: receipts=%llu with-duplicates=%llu dlq=%llu "
             "retries=%llu",
             in->n_receipts, in->n_dup, in->n_dlq,
             (unsigned long long)in->loop.n_retries);
    return in->loop.fatal ? 1 : 0;
}

void movements_intake_destroy(struct movements_intake *in)
{
    if (!in)
        return;
    kafka_consumer_destroy(in->kc);
    dlq_destroy(in->dlq);
    if (in->pg)
        PQfinish(in->pg);
    free(in);
}
