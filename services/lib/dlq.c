#include "lib/dlq.h"

#include "lib/clock.h"
#include "lib/kafka.h"
#include "lib/metrics.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dlq {
    struct kafka_producer *p;
    const char *service;
    atomic_uint_fast64_t sent;
    struct metrics_family *dead; /* (may be NULL) per original topic */
    struct dlq_ref last;         /* the last acknowledged record */
    int has_last;
};

/* Delivery state of one record.  Reports are served by
 * kafka_producer_poll() in the calling thread; a record given up on is
 * marked abandoned and freed by its report when that comes. */
struct dlq_wait {
    int done;
    int abandoned;
    rd_kafka_resp_err_t err;
    int32_t partition; /* where it landed */
    int64_t offset;
};

static void dlq_on_delivery(void *msg_opaque, rd_kafka_resp_err_t err,
                            int32_t partition, int64_t offset, void *opaque)
{
    struct dlq_wait *w = msg_opaque;

    (void)opaque;
    if (!w)
        return;
    if (w->abandoned) {
        free(w);
        return;
    }
    w->err = err;
    w->partition = partition;
    w->offset = offset;
    w->done = 1;
}

struct dlq *dlq_new(const char *bootstrap, const struct cfg *passthru,
                    const char *service, char *errstr, size_t errstr_size)
{
    struct dlq *d = calloc(1, sizeof(*d));

    if (!d) {
        snprintf(errstr, errstr_size, "dlq: out of memory");
        return NULL;
    }
    d->service = service ? service : "omnisync";
    atomic_init(&d->sent, 0);
    d->p = kafka_producer_new(bootstrap, passthru, dlq_on_delivery, d, errstr,
                              errstr_size);
    if (!d->p) {
        free(d);
        return NULL;
    }
    return d;
}

/* One message of @p d's producer to @p topic, waited for up to
 * @p timeout_ms; @p at receives where it landed.  Returns 0 when the
 * broker acknowledged it, -1 with errstr. */
static int dlq_produce_wait(struct dlq *d, const char *topic, const void *key,
                            size_t key_len, const void *value, size_t value_len,
                            const struct kafka_header *h, size_t nh,
                            int timeout_ms, struct dlq_wait *at, char *errstr,
                            size_t errstr_size)
{
    struct dlq_wait *w = calloc(1, sizeof(*w));
    int waited = 0, rc = -1;

    if (!w) {
        snprintf(errstr, errstr_size, "dlq: out of memory");
        return -1;
    }
    if (kafka_produce(d->p, topic, key, key_len, value, value_len, h, nh, w,
                      timeout_ms, errstr, errstr_size) < 0) {
        free(w);
        return -1;
    }
    /* The record must be acknowledged before the caller commits the
     * original offset; dead letters are rare, so waiting here is fine. */
    while (!w->done && waited < timeout_ms) {
        kafka_producer_poll(d->p, 50);
        waited += 50;
    }
    if (!w->done) {
        w->abandoned = 1; /* its report frees it */
        snprintf(errstr, errstr_size, "%s: no delivery report within %d ms",
                 topic, timeout_ms);
        return -1;
    }
    if (w->err) {
        snprintf(errstr, errstr_size, "%s: delivery failed: %s", topic,
                 rd_kafka_err2str(w->err));
        goto out;
    }
    *at = *w;
    rc = 0;
out:
    free(w);
    return rc;
}

static int dlq_produce(struct dlq *d, const char *topic, int32_t partition,
                       int64_t offset, const char *source, const void *key,
                       size_t key_len, const void *value, size_t value_len,
                       const char *reason, int timeout_ms, char *errstr,
                       size_t errstr_size)
{
    char part[16], off[24], ts[24];
    struct kafka_header h[7];
    struct dlq_wait at;
    size_t nh = 0;

    snprintf(part, sizeof(part), "%" PRId32, partition);
    snprintf(off, sizeof(off), "%" PRId64, offset);
    snprintf(ts, sizeof(ts), "%lld", (long long)clock_wall_ms());
    h[nh].name = DLQ_HDR_TOPIC;
    h[nh++].value = topic ? topic : "";
    h[nh].name = DLQ_HDR_PARTITION;
    h[nh++].value = part;
    h[nh].name = DLQ_HDR_OFFSET;
    h[nh++].value = off;
    h[nh].name = DLQ_HDR_REASON;
    h[nh++].value = reason ? reason : "unknown";
    h[nh].name = DLQ_HDR_TIMESTAMP;
    h[nh++].value = ts;
    h[nh].name = DLQ_HDR_SERVICE;
    h[nh++].value = d->service;
    if (source) {
        h[nh].name = DLQ_HDR_SOURCE;
        h[nh++].value = source;
    }
    if (dlq_produce_wait(d, DLQ_TOPIC, key, key_len, value, value_len, h, nh,
                         timeout_ms, &at, errstr, errstr_size) < 0)
        return -1;
    atomic_fetch_add(&d->sent, 1);
    d->last.partition = at.partition;
    d->last.offset = at.offset;
    snprintf(d->last.topic, sizeof(d->last.topic), "%s", topic ? topic : "");
    d->last.orig_partition = partition;
    d->last.orig_offset = offset;
    snprintf(d->last.source, sizeof(d->last.source), "%s",
             source ? source : "");
    d->last.service = d->service;
    d->has_last = 1;
    metrics_inc(d->dead,
                (const char *const[]){topic && *topic ? topic : "none"});
    return 0;
}

int dlq_replay(struct dlq *d, const rd_kafka_message_t *rec, const char *topic,
               long long count, int timeout_ms, int32_t *partition,
               int64_t *offset, char *errstr, size_t errstr_size)
{
    char n[24], from[64];
    const struct kafka_header h[2] = {{DLQ_HDR_REPLAY_COUNT, n},
                                      {DLQ_HDR_REPLAYED_FROM, from}};
    struct dlq_wait at;

    snprintf(n, sizeof(n), "%lld", count);
    snprintf(from, sizeof(from), "%s/%" PRId32 "/%" PRId64, DLQ_TOPIC,
             rec->partition, rec->offset);
    if (dlq_produce_wait(d, topic, rec->key, rec->key_len, rec->payload,
                         rec->len, h, 2, timeout_ms, &at, errstr,
                         errstr_size) < 0)
        return -1;
    *partition = at.partition;
    *offset = at.offset;
    return 0;
}

int dlq_send(struct dlq *d, const rd_kafka_message_t *orig, const char *reason,
             int timeout_ms, char *errstr, size_t errstr_size)
{
    return dlq_produce(d, rd_kafka_topic_name(orig->rkt), orig->partition,
                       orig->offset, NULL, orig->key, orig->key_len,
                       orig->payload, orig->len, reason, timeout_ms, errstr,
                       errstr_size);
}

int dlq_send_raw(struct dlq *d, const char *source, const void *key,
                 size_t key_len, const void *value, size_t value_len,
                 const char *reason, int timeout_ms, char *errstr,
                 size_t errstr_size)
{
    return dlq_produce(d, "", -1, -1, source ? source : "", key, key_len, value,
                       value_len, reason, timeout_ms, errstr, errstr_size);
}

int dlq_metrics_register(struct dlq *d, struct metrics *m)
{
    d->dead = metrics_counter_new(
        m, "omnisync_messages_dead_lettered_total",
        "Messages written to omnisync.dlq.v1 and acknowledged, by the topic "
        "they came from.",
        (const char *const[]){"topic", NULL});
    return d->dead ? 0 : -1;
}

const struct dlq_ref *dlq_last(const struct dlq *d)
{
    return d && d->has_last ? &d->last : NULL;
}

const char *dlq_header(const rd_kafka_message_t *m, const char *name, char *buf,
                       size_t buf_size)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t len = 0;

    if (rd_kafka_message_headers(m, &h) || !h ||
        rd_kafka_header_get_last(h, name, &v, &len))
        return NULL;
    if (len >= buf_size)
        len = buf_size - 1;
    memcpy(buf, v ? v : "", v ? len : 0);
    buf[v ? len : 0] = '\0';
    return buf;
}

/* A consumer that joins no group and commits nothing, for reading one
 * record by offset. */
static rd_kafka_t *dlq_reader_new(const char *bootstrap, int timeout_ms,
                                  char *errstr, size_t errstr_size)
{
    char tmo[16], e[256];
    const char *const kv[][2] = {
        {"bootstrap.servers", bootstrap},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "error"},
        {"socket.timeout.ms", tmo},
        {"log.connection.close", "false"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    size_t i;

    snprintf(tmo, sizeof(tmo), "%d", timeout_ms < 10 ? 10 : timeout_ms);
    for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], e, sizeof(e)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "kafka %s: %s", kv[i][0], e);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!rk)
        snprintf(errstr, errstr_size, "kafka: %s", e);
    return rk;
}

/* Consume from @p offset until that record (or an error) comes. */
static enum dlq_fetch_res dlq_read_at(rd_kafka_t *rk, int32_t partition,
                                      int64_t offset, int timeout_ms,
                                      dlq_fetch_fn *fn, void *ctx, char *errstr,
                                      size_t errstr_size)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, DLQ_TOPIC, NULL);
    enum dlq_fetch_res res = DLQ_FETCH_UNREACHABLE;
    int64_t end = clock_mono_ms() + timeout_ms;

    snprintf(errstr, errstr_size, "%s [%d] @%lld: not read within %d ms",
             DLQ_TOPIC, (int)partition, (long long)offset, timeout_ms);
    if (!rkt || rd_kafka_consume_start(rkt, partition, offset) == -1) {
        snprintf(errstr, errstr_size, "%s [%d]: %s", DLQ_TOPIC, (int)partition,
                 rd_kafka_err2str(rd_kafka_last_error()));
        res = DLQ_FETCH_FAILED;
        goto out;
    }
    while (clock_mono_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consume(rkt, partition, 100);

        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
            m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
            (!m->err && m->offset != offset)) {
            snprintf(errstr, errstr_size, "%s [%d] @%lld: no such record",
                     DLQ_TOPIC, (int)partition, (long long)offset);
            res = DLQ_FETCH_GONE;
        } else if (m->err) {
            snprintf(errstr, errstr_size, "%s [%d] @%lld: %s", DLQ_TOPIC,
                     (int)partition, (long long)offset,
                     rd_kafka_message_errstr(m));
            res = DLQ_FETCH_FAILED;
        } else {
            res = fn(ctx, m, errstr, errstr_size) == 0 ? DLQ_FETCH_OK
                                                       : DLQ_FETCH_FAILED;
        }
        rd_kafka_message_destroy(m);
        break;
    }
    rd_kafka_consume_stop(rkt, partition);
out:
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return res;
}

enum dlq_fetch_res dlq_fetch(const char *bootstrap, int32_t partition,
                             int64_t offset, int timeout_ms, dlq_fetch_fn *fn,
                             void *ctx, char *errstr, size_t errstr_size)
{
    rd_kafka_t *rk = dlq_reader_new(bootstrap, timeout_ms, errstr, errstr_size);
    enum dlq_fetch_res res;
    rd_kafka_resp_err_t err;
    int64_t lo = -1, hi = -1;

    if (!rk)
        return DLQ_FETCH_FAILED;
    /* The watermarks tell a record deleted by retention (or never there)
     * from a broker that does not answer. */
    err = rd_kafka_query_watermark_offsets(rk, DLQ_TOPIC, partition, &lo, &hi,
                                           timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
        err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
        (!err && (offset < lo || offset >= hi))) {
        snprintf(errstr, errstr_size,
                 "%s [%d] @%lld: no such record (the partition holds "
                 "%lld..%lld; deleted by retention?)",
                 DLQ_TOPIC, (int)partition, (long long)offset, (long long)lo,
                 (long long)hi - 1);
        res = DLQ_FETCH_GONE;
    } else if (err) {
        snprintf(errstr, errstr_size, "kafka %s: %s", bootstrap,
                 rd_kafka_err2str(err));
        res = DLQ_FETCH_UNREACHABLE;
    } else {
        res = dlq_read_at(rk, partition, offset, timeout_ms, fn, ctx, errstr,
                          errstr_size);
    }
    rd_kafka_destroy(rk);
    return res;
}

uint64_t dlq_sent_count(const struct dlq *d)
{
    return d ? (uint64_t)atomic_load(&((struct dlq *)d)->sent) : 0;
}

void dlq_destroy(struct dlq *d)
{
    if (!d)
        return;
    kafka_producer_flush(d->p, 10 * 1000 /* ms */);
    kafka_producer_destroy(d->p);
    free(d);
}
