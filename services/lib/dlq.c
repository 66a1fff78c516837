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
};

/* Delivery state of one record.  Reports are served by
 * kafka_producer_poll() in the calling thread; a record given up on is
 * marked abandoned and freed by its report when that comes. */
struct dlq_wait {
    int done;
    int abandoned;
    rd_kafka_resp_err_t err;
};

static void dlq_on_delivery(void *msg_opaque, rd_kafka_resp_err_t err,
                            int32_t partition, int64_t offset, void *opaque)
{
    struct dlq_wait *w = msg_opaque;

    (void)partition;
    (void)offset;
    (void)opaque;
    if (!w)
        return;
    if (w->abandoned) {
        free(w);
        return;
    }
    w->err = err;
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

static int dlq_produce(struct dlq *d, const char *topic, int32_t partition,
                       int64_t offset, const char *source, const void *key,
                       size_t key_len, const void *value, size_t value_len,
                       const char *reason, int timeout_ms, char *errstr,
                       size_t errstr_size)
{
    char part[16], off[24], ts[24];
    struct kafka_header h[7];
    struct dlq_wait *w = calloc(1, sizeof(*w));
    size_t nh = 0;
    int waited = 0, rc = -1;

    if (!w) {
        snprintf(errstr, errstr_size, "dlq: out of memory");
        return -1;
    }

    snprintf(part, sizeof(part), "%" PRId32, partition);
    snprintf(off, sizeof(off), "%" PRId64, offset);
    snprintf(ts, sizeof(ts), "%lld", (long long)clock_wall_ms());
    h[nh].name = "__connect.errors.topic";
    h[nh++].value = topic ? topic : "";
    h[nh].name = "__connect.errors.partition";
    h[nh++].value = part;
    h[nh].name = "__connect.errors.offset";
    h[nh++].value = off;
    h[nh].name = "__connect.errors.exception.message";
    h[nh++].value = reason ? reason : "unknown";
    h[nh].name = "__connect.errors.timestamp";
    h[nh++].value = ts;
    h[nh].name = "omnisync.errors.service";
    h[nh++].value = d->service;
    if (source) {
        h[nh].name = "omnisync.errors.source";
        h[nh++].value = source;
    }
    if (kafka_produce(d->p, DLQ_TOPIC, key, key_len, value, value_len, h, nh, w,
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
        snprintf(errstr, errstr_size, "dlq: no delivery report within %d ms",
                 timeout_ms);
        return -1;
    }
    if (w->err) {
        snprintf(errstr, errstr_size, "dlq: delivery failed: %s",
                 rd_kafka_err2str(w->err));
        goto out;
    }
    atomic_fetch_add(&d->sent, 1);
    metrics_inc(d->dead,
                (const char *const[]){topic && *topic ? topic : "none"});
    rc = 0;
out:
    free(w);
    return rc;
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
