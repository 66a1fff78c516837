#include "lib/kafka.h"

#include "lib/cfg.h"
#include "lib/kstats.h"
#include "lib/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KAFKA_PROPS_MAX 512 /* librdkafka 2.0 has about 250 */

struct kafka_producer {
    rd_kafka_t *rk;
    kafka_dr_fn *dr;
    void *opaque;
    int fatal;
    char fatal_reason[512];
    rd_kafka_topic_t **topics; /* kafka_producer_topics(): held to the end */
    size_t ntopics;
};

struct kafka_consumer {
    rd_kafka_t *rk;
    int closed;
    int fatal;
    struct kstats *stats; /* the latest statistics (lag, assignment) */
};

/* State shared by the conf-building helpers. */
struct kafka_conf_ctx {
    rd_kafka_conf_t *conf;
    char skip; /* passthrough keys of this scope are not for this client */
    const char *client;
    char *errstr;
    size_t errstr_size;
};

/*
 * Which client a librdkafka property is for: 'C' consumer, 'P' producer,
 * '*' both, read once from librdkafka's own table
 * (rd_kafka_conf_properties_show()), so the passthrough keys a service
 * is given reach only the clients they mean something to (a consumer
 * property on a producer is a CONFWARN at every start).
 */
static struct kafka_prop {
    char name[64];
    char scope;
} kafka_props[KAFKA_PROPS_MAX];
static size_t kafka_nprops;
static pthread_once_t kafka_props_once = PTHREAD_ONCE_INIT;

static void kafka_props_load(void)
{
    char *buf = NULL, *line, *nl;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    if (!fp)
        return;
    rd_kafka_conf_properties_show(fp);
    fclose(fp);
    for (line = buf; line && *line && kafka_nprops < KAFKA_PROPS_MAX;
         line = nl ? nl + 1 : NULL) {
        struct kafka_prop *p = &kafka_props[kafka_nprops];

        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        /* "name | C/P | range | default | ..." */
        if (sscanf(line, "%63s | %c", p->name, &p->scope) == 2 &&
            strchr("CP*", p->scope) && strcmp(p->name, "Property") != 0)
            kafka_nprops++;
    }
    free(buf);
}

/* The scope of property @p key, or 0 when librdkafka does not list it. */
static char kafka_prop_scope(const char *key)
{
    size_t i;

    pthread_once(&kafka_props_once, kafka_props_load);
    for (i = 0; i < kafka_nprops; i++)
        if (strcmp(kafka_props[i].name, key) == 0)
            return kafka_props[i].scope;
    return 0;
}

/*
 * librdkafka logs with syslog levels; map them onto log.h.  This runs on
 * librdkafka's threads: log_write() writes one line with one call.
 */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
    const char *name = rk ? rd_kafka_name(rk) : "rdkafka";

    if (level <= 3)
        log_error("rdkafka %s %s: %s", name, fac, buf);
    else if (level == 4)
        log_warn("rdkafka %s %s: %s", name, fac, buf);
    else if (level <= 6)
        log_info("rdkafka %s %s: %s", name, fac, buf);
    else
        log_debug("rdkafka %s %s: %s", name, fac, buf);
}

static void kafka_producer_error_cb(rd_kafka_t *rk, int err, const char *reason,
                                    void *opaque)
{
    struct kafka_producer *p = opaque;
    char fatal[256];
    rd_kafka_resp_err_t orig;

    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        /* Everything else is transient: librdkafka retries by itself. */
        log_warn("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
                 reason);
        return;
    }
    orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    p->fatal = 1;
    snprintf(p->fatal_reason, sizeof(p->fatal_reason), "%s: %s",
             rd_kafka_err2name(orig), fatal);
    log_error("kafka: fatal producer error: %s", p->fatal_reason);
}

static void kafka_consumer_error_cb(rd_kafka_t *rk, int err, const char *reason,
                                    void *opaque)
{
    struct kafka_consumer *c = opaque;
    char fatal[256];
    rd_kafka_resp_err_t orig;

    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        log_warn("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
                 reason);
        return;
    }
    orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    c->fatal = 1;
    log_error("kafka: fatal consumer error: %s: %s", rd_kafka_err2name(orig),
              fatal);
}

static void kafka_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                            void *opaque)
{
    struct kafka_producer *p = opaque;

    (void)rk;
    if (p->dr)
        p->dr(m->_private, m->err, m->partition,
              m->err ? -1 : (int64_t)m->offset, p->opaque);
}

static int kafka_conf_set1(struct kafka_conf_ctx *x, const char *key,
                           const char *val, const char *shown_prefix)
{
    char err[512];

    if (rd_kafka_conf_set(x->conf, key, val, err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(x->errstr, x->errstr_size, "%s%s: %s", shown_prefix, key, err);
        return -1;
    }
    return 0;
}

static int kafka_conf_passthru_cb(const char *key, const char *val,
                                  void *opaque)
{
    struct kafka_conf_ctx *x = opaque;

    if (kafka_prop_scope(key) == x->skip) {
        log_debug("kafka.%s: not a %s property, not given to it", key,
                  x->client);
        return 0;
    }
    return kafka_conf_set1(x, key, val, "kafka.");
}

/*
 * Build a conf for a @p type client with bootstrap (may be NULL), the
 * @p defaults, the "kafka." passthrough keys of @p passthru (may be NULL)
 * that are meant for that type of client, then @p forced key/value pairs
 * (NULL-ended).
 * @returns the conf, or NULL with errstr.
 */
static rd_kafka_conf_t *
kafka_conf_build(rd_kafka_type_t type, const char *bootstrap,
                 const struct cfg *passthru, const char *const *defaults,
                 const char *const *forced, char *errstr, size_t errstr_size)
{
    struct kafka_conf_ctx x;
    size_t i;

    x.conf = rd_kafka_conf_new();
    x.skip = type == RD_KAFKA_PRODUCER ? 'C' : 'P';
    x.client = type == RD_KAFKA_PRODUCER ? "producer" : "consumer";
    x.errstr = errstr;
    x.errstr_size = errstr_size;
    if (!x.conf) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(x.conf, kafka_log_cb);
    if (bootstrap && *bootstrap &&
        kafka_conf_set1(&x, "bootstrap.servers", bootstrap, "") < 0)
        goto fail;
    for (i = 0; defaults && defaults[i]; i += 2)
        if (kafka_conf_set1(&x, defaults[i], defaults[i + 1], "") < 0)
            goto fail;
    if (passthru &&
        cfg_passthru_foreach(passthru, "kafka.", kafka_conf_passthru_cb, &x))
        goto fail;
    for (i = 0; forced && forced[i]; i += 2)
        if (kafka_conf_set1(&x, forced[i], forced[i + 1], "") < 0)
            goto fail;
    return x.conf;
fail:
    rd_kafka_conf_destroy(x.conf);
    return NULL;
}

struct kafka_producer *kafka_producer_new(const char *bootstrap,
                                          const struct cfg *passthru,
                                          kafka_dr_fn *dr, void *opaque,
                                          char *errstr, size_t errstr_size)
{
    static const char *const forced[] = {"enable.idempotence", "true", "acks",
                                         "all", NULL};
    struct kafka_producer *p = calloc(1, sizeof(*p));
    rd_kafka_conf_t *conf = NULL;
    char err[512];

    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->dr = dr;
    p->opaque = opaque;
    conf = kafka_conf_build(RD_KAFKA_PRODUCER, bootstrap, passthru, NULL,
                            forced, errstr, errstr_size);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_error_cb(conf, kafka_producer_error_cb);
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_msg_cb);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!p->rk) {
        snprintf(errstr, errstr_size, "kafka producer: %s", err);
        goto fail;
    }
    conf = NULL; /* owned by p->rk now */
    return p;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    kafka_producer_destroy(p);
    return NULL;
}

int kafka_produce(struct kafka_producer *p, const char *topic, const void *key,
                  size_t key_len, const void *value, size_t value_len,
                  const struct kafka_header *hdrs, size_t nhdrs,
                  void *msg_opaque, int block_ms, char *errstr,
                  size_t errstr_size)
{
    rd_kafka_resp_err_t err;
    rd_kafka_headers_t *h;
    int waited = 0;
    size_t i;

    for (;;) {
        h = NULL;
        if (nhdrs) {
            h = rd_kafka_headers_new(nhdrs);
            for (i = 0; i < nhdrs; i++)
                rd_kafka_header_add(h, hdrs[i].name, -1, hdrs[i].value, -1);
        }
        /* The const casts are librdkafka's API: it only reads (and copies,
         * RD_KAFKA_MSG_F_COPY) the key and value. */
        err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_KEY((void *)(uintptr_t)key, key_len),
            RD_KAFKA_V_VALUE((void *)(uintptr_t)value, value_len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
        if (!err)
            return 0; /* the headers belong to the message now */
        if (h)
            rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || waited >= block_ms)
            break;
        /* Queue full: serve delivery reports to make room. */
        rd_kafka_poll(p->rk, 10 /* ms */);
        waited += 10;
    }
    snprintf(errstr, errstr_size, "produce to %s: %s", topic,
             rd_kafka_err2str(err));
    return kafka_err_message_bad(err) ? -2 : -1;
}

int kafka_err_message_bad(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
           err == RD_KAFKA_RESP_ERR_INVALID_MSG ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_RECORD;
}

int kafka_producer_poll(struct kafka_producer *p, int timeout_ms)
{
    return rd_kafka_poll(p->rk, timeout_ms);
}

int kafka_producer_flush(struct kafka_producer *p, int timeout_ms)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);

    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

int kafka_producer_outq_len(struct kafka_producer *p)
{
    return rd_kafka_outq_len(p->rk);
}

int kafka_producer_fatal(struct kafka_producer *p, char *errstr,
                         size_t errstr_size)
{
    if (!p->fatal)
        return 0;
    if (errstr && errstr_size)
        snprintf(errstr, errstr_size, "%s", p->fatal_reason);
    return 1;
}

rd_kafka_t *kafka_producer_handle(struct kafka_producer *p)
{
    return p->rk;
}

/* Whether topic @p name is in @p md, without error. */
static int kafka_md_has(const struct rd_kafka_metadata *md, const char *name)
{
    int i;

    for (i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0)
            return md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR;
    return 0;
}

int kafka_producer_topics(struct kafka_producer *p, const char *const *names,
                          size_t n, int timeout_ms, char *errstr,
                          size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t **t =
        realloc(p->topics, (p->ntopics + n + 1) * sizeof(*t)); /* n may be 0 */
    rd_kafka_resp_err_t err;
    size_t i;

    if (!t) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    p->topics = t;
    /* All topics: the answer fills librdkafka's metadata cache, from which
     * a topic handle made after it takes its partitions.  A topic missing
     * from the cluster is left alone: it is looked up when first used, as
     * without this call (it may be created meanwhile). */
    err = rd_kafka_metadata(p->rk, 1, NULL, &md, timeout_ms);
    if (err) {
        snprintf(errstr, errstr_size, "kafka metadata: %s",
                 rd_kafka_err2str(err));
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (!kafka_md_has(md, names[i]))
            continue;
        t[p->ntopics] = rd_kafka_topic_new(p->rk, names[i], NULL);
        if (t[p->ntopics])
            p->ntopics++;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

void kafka_producer_destroy(struct kafka_producer *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->ntopics; i++)
        rd_kafka_topic_destroy(p->topics[i]);
    free(p->topics);
    if (p->rk)
        rd_kafka_destroy(p->rk);
    free(p);
}

/* Statistics: runs inside the consumer's poll, on its thread. */
static int kafka_consumer_stats_cb(rd_kafka_t *rk, char *json, size_t json_len,
                                   void *opaque)
{
    struct kafka_consumer *c = opaque;

    (void)rk;
    if (kstats_update(c->stats, json, json_len) < 0)
        log_debug("kafka: statistics not understood");
    return 0; /* librdkafka frees json */
}

struct kafka_consumer *kafka_consumer_new(const char *bootstrap,
                                          const char *group_id,
                                          const struct cfg *passthru,
                                          char *errstr, size_t errstr_size)
{
    const char *defaults[] = {"group.id",
                              group_id,
                              "enable.auto.commit",
                              "false",
                              "auto.offset.reset",
                              "earliest",
                              "statistics.interval.ms",
                              KAFKA_STATS_MS_DEFAULT,
                              NULL};
    struct kafka_consumer *c = calloc(1, sizeof(*c));
    rd_kafka_conf_t *conf = NULL;
    char err[512];

    if (!c || !(c->stats = kstats_new())) {
        snprintf(errstr, errstr_size, "out of memory");
        free(c);
        return NULL;
    }
    if (!group_id || !*group_id) {
        snprintf(errstr, errstr_size, "kafka consumer: no group id");
        goto fail;
    }
    conf = kafka_conf_build(RD_KAFKA_CONSUMER, bootstrap, passthru, defaults,
                            NULL, errstr, errstr_size);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, kafka_consumer_error_cb);
    rd_kafka_conf_set_stats_cb(conf, kafka_consumer_stats_cb);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!c->rk) {
        snprintf(errstr, errstr_size, "kafka consumer: %s", err);
        goto fail;
    }
    conf = NULL; /* owned by c->rk now */
    /* Serve everything (rebalances, errors) from the consumer queue. */
    rd_kafka_poll_set_consumer(c->rk);
    return c;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    kafka_consumer_destroy(c);
    return NULL;
}

int kafka_consumer_subscribe(struct kafka_consumer *c,
                             const char *const *topics, size_t ntopics,
                             char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)ntopics);
    rd_kafka_resp_err_t err;
    size_t i;

    for (i = 0; i < ntopics; i++)
        rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

rd_kafka_message_t *kafka_consumer_poll(struct kafka_consumer *c,
                                        int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);

    if (!m || !m->err)
        return m;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        log_debug("kafka: end of %s [%d] at offset %lld",
                  m->rkt ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition,
                  (long long)m->offset);
    else
        log_warn("kafka: consume: %s", rd_kafka_message_errstr(m));
    rd_kafka_message_destroy(m);
    return NULL;
}

int kafka_consumer_commit(struct kafka_consumer *c,
                          const rd_kafka_message_t *msg, int async,
                          char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err;

    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(msg->rkt),
                                      msg->partition)
        ->offset = msg->offset + 1;
    err = rd_kafka_commit(c->rk, l, async);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        snprintf(errstr, errstr_size, "commit %s [%d] offset %lld: %s",
                 rd_kafka_topic_name(msg->rkt), (int)msg->partition,
                 (long long)msg->offset + 1, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int kafka_consumer_fatal(struct kafka_consumer *c)
{
    return c->fatal;
}

rd_kafka_t *kafka_consumer_handle(struct kafka_consumer *c)
{
    return c->rk;
}

int kafka_consumer_close(struct kafka_consumer *c)
{
    rd_kafka_resp_err_t err;

    if (!c || !c->rk || c->closed)
        return 0;
    c->closed = 1;
    err = rd_kafka_consumer_close(c->rk);
    if (err) {
        log_warn("kafka: consumer close: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

void kafka_consumer_destroy(struct kafka_consumer *c)
{
    if (!c)
        return;
    if (c->rk) {
        kafka_consumer_close(c);
        rd_kafka_destroy(c->rk);
    }
    kstats_destroy(c->stats);
    free(c);
}

int kafka_consumer_metrics_register(struct kafka_consumer *c, struct metrics *m,
                                    const char *group)
{
    return kstats_register(c->stats, m, group);
}

int kafka_consumer_assigned(struct kafka_consumer *c)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    int n;

    if (rd_kafka_assignment(c->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    n = l ? l->cnt : 0;
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    return n;
}

int kafka_check(rd_kafka_t *rk, int timeout_ms, char *reason,
                size_t reason_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;
    char fatal[256];

    if (rd_kafka_fatal_error(rk, fatal, sizeof(fatal))) {
        snprintf(reason, reason_size, "fatal error: %s", fatal);
        return -1;
    }
    /* Brokers only (no topic list): answered by any broker that is up. */
    err = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (err) {
        snprintf(reason, reason_size, "no broker answers: %s",
                 rd_kafka_err2str(err));
        return -1;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}
