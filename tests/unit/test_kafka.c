/*
 * test_kafka — the producer/consumer wrappers against librdkafka's mock
 * cluster (test.mock.num.brokers, passed as a "kafka." passthrough key).
 */
#include "lib/cfg.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "t.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>

struct dr_seen {
    int n;
    int ok;
    rd_kafka_resp_err_t last_err;
    int64_t offset;
    void *opaque;
};

static void on_dr(void *msg_opaque, rd_kafka_resp_err_t err, int32_t partition,
                  int64_t offset, void *opaque)
{
    struct dr_seen *s = opaque;

    (void)partition;
    s->n++;
    s->last_err = err;
    if (!err)
        s->ok++;
    s->offset = offset;
    s->opaque = msg_opaque;
}

static const struct cfg_opt no_opts[] = {{NULL}};
static const char *const passthru[] = {"kafka.", NULL};
static int dummy_target;

/* A config handle holding the given -o KEY=VALUE pairs. */
static struct cfg *cfg_with(const char *a, const char *b)
{
    char *argv[6];
    int argc = 0;

    argv[argc++] = (char *)(uintptr_t) "test_kafka";
    argv[argc++] = (char *)(uintptr_t) "-o";
    argv[argc++] = (char *)(uintptr_t)a;
    if (b) {
        argv[argc++] = (char *)(uintptr_t) "-o";
        argv[argc++] = (char *)(uintptr_t)b;
    }
    argv[argc] = NULL;
    return cfg_load(no_opts, &dummy_target, passthru, "test_kafka", "", argc,
                    argv);
}

static const char *header(const rd_kafka_message_t *m, const char *name)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t len = 0;

    if (rd_kafka_message_headers(m, &h) || !h ||
        rd_kafka_header_get_last(h, name, &v, &len))
        return NULL;
    return v;
}

/* 1 when @p got (may be NULL) equals @p want. */
static int str_is(const char *got, const char *want)
{
    return got && strcmp(got, want) == 0;
}

static void test_bad_passthru(void)
{
    char errbuf[512];
    char *err = errbuf;
    struct cfg *c = cfg_with("kafka.no.such.property=1", NULL);
    struct kafka_producer *p = kafka_producer_new("127.0.0.1:1", c, NULL, NULL,
                                                  errbuf, sizeof(errbuf));

    T_ASSERT(p == NULL);
    T_ASSERT_STR_CONTAINS(err, "kafka.no.such.property");
    kafka_producer_destroy(p);
    cfg_destroy(c);
}

/* rd_kafka_conf_get() of @p rk's conf for @p key, or "?". */
static const char *conf_of(rd_kafka_t *rk, const char *key, char *buf,
                           size_t size)
{
    size_t n = size;

    if (rd_kafka_conf_get(rd_kafka_conf(rk), key, buf, &n) != RD_KAFKA_CONF_OK)
        snprintf(buf, size, "?");
    return buf;
}

/* Passthrough keys reach only the clients they are for: a consumer
 * property is not given to a producer (no CONFWARN), a producer property
 * not to a consumer; a consumer emits statistics by default. */
static void test_scoped_passthru(void)
{
    struct cfg *pt =
        cfg_with("kafka.session.timeout.ms=6000", "kafka.linger.ms=7");
    struct kafka_producer *p;
    struct kafka_consumer *c;
    char err[512], v[64];

    p = kafka_producer_new("127.0.0.1:1", pt, NULL, NULL, err, sizeof(err));
    c = kafka_consumer_new("127.0.0.1:1", "scope-test", pt, err, sizeof(err));
    T_ASSERT(p != NULL && c != NULL);
    if (p && c) {
        rd_kafka_t *prk = kafka_producer_handle(p);
        rd_kafka_t *crk = kafka_consumer_handle(c);

        T_ASSERT_STR_EQ(conf_of(prk, "linger.ms", v, sizeof(v)), "7");
        T_ASSERT_STR_EQ(conf_of(crk, "session.timeout.ms", v, sizeof(v)),
                        "6000");
        T_ASSERT_STR_EQ(conf_of(prk, "session.timeout.ms", v, sizeof(v)),
                        "45000"); /* librdkafka's default: not given */
        T_ASSERT_STR_EQ(conf_of(crk, "linger.ms", v, sizeof(v)), "5");
        T_ASSERT_STR_EQ(conf_of(crk, "statistics.interval.ms", v, sizeof(v)),
                        KAFKA_STATS_MS_DEFAULT);
        T_ASSERT_STR_EQ(conf_of(prk, "statistics.interval.ms", v, sizeof(v)),
                        "0");
        /* Nothing listens on port 1: not ready, and says why. */
        T_ASSERT_EQ(kafka_check(prk, 300, err, sizeof(err)), -1);
        T_ASSERT_STR_CONTAINS(err, "no broker answers");
        T_ASSERT_EQ(kafka_consumer_assigned(c), 0);
    }
    kafka_consumer_destroy(c);
    kafka_producer_destroy(p);
    cfg_destroy(pt);
}

/* kafka_producer_topics(): the cluster's topics are learnt in one request
 * (a name the cluster lacks is skipped, not an error), the producer works
 * after it; no broker: -1 within the timeout, saying so. */
static void test_producer_topics(void)
{
    char err[512];
    const char *names[] = {"omnisync.warm.v1", "omnisync.absent.v1"};
    struct cfg *pc = cfg_with("kafka.test.mock.num.brokers=1", NULL);
    struct dr_seen seen = {0};
    struct kafka_producer *p =
        kafka_producer_new(NULL, pc, on_dr, &seen, err, sizeof(err));
    rd_kafka_mock_cluster_t *mc =
        p ? rd_kafka_handle_mock_cluster(kafka_producer_handle(p)) : NULL;

    T_ASSERT(mc != NULL);
    if (mc) {
        T_ASSERT_EQ(rd_kafka_mock_topic_create(mc, names[0], 3, 1), 0);
        T_CHECK(kafka_producer_topics(p, names, 2, 5000, err, sizeof(err)) == 0,
                "topics: %s", err);
        T_ASSERT_EQ(kafka_produce(p, names[0], "k", 1, "{}", 2, NULL, 0, NULL,
                                  1000, err, sizeof(err)),
                    0);
        T_ASSERT_EQ(kafka_producer_flush(p, 10000), 0);
        T_ASSERT_EQ(seen.ok, 1);
    }
    kafka_producer_destroy(p);
    cfg_destroy(pc);
    p = kafka_producer_new("127.0.0.1:1", NULL, on_dr, &seen, err, sizeof(err));
    T_ASSERT(p != NULL);
    if (p) {
        const char *e = err;

        T_ASSERT_EQ(kafka_producer_topics(p, names, 1, 300, err, sizeof(err)),
                    -1);
        T_ASSERT_STR_CONTAINS(e, "kafka metadata");
    }
    kafka_producer_destroy(p);
}

int main(void)
{
    char errbuf[512];
    char *err = errbuf;
    struct cfg *pc = cfg_with("kafka.test.mock.num.brokers=1", NULL);
    struct cfg *cc = cfg_with("kafka.session.timeout.ms=6000",
                              "kafka.heartbeat.interval.ms=500");
    struct dr_seen seen = {0};
    struct kafka_producer *p;
    struct kafka_consumer *c = NULL;
    rd_kafka_mock_cluster_t *mc;
    const char *bootstrap;
    const char *topics[] = {"omnisync.test.v1"};
    struct kafka_header hdrs[2] = {{"event-id", "abc-1"},
                                   {"event-type", "stock.available"}};
    rd_kafka_message_t *m = NULL;
    int marker = 42, i;

    log_init("test_kafka", "warn");
    test_bad_passthru();
    test_scoped_passthru();
    test_producer_topics();

    p = kafka_producer_new(NULL, pc, on_dr, &seen, errbuf, sizeof(errbuf));
    T_CHECK(p != NULL, "producer: %s", errbuf);
    if (!p)
        goto out;
    mc = rd_kafka_handle_mock_cluster(kafka_producer_handle(p));
    T_ASSERT(mc != NULL);
    if (!mc)
        goto out;
    T_ASSERT_EQ(rd_kafka_mock_topic_create(mc, topics[0], 1, 1), 0);
    bootstrap = rd_kafka_mock_cluster_bootstraps(mc);

    /* The producer is idempotent with acks=all, whatever passthru says. */
    {
        char val[64];
        size_t vlen = sizeof(val);
        const rd_kafka_conf_t *conf = rd_kafka_conf(kafka_producer_handle(p));

        T_ASSERT_EQ(rd_kafka_conf_get(conf, "enable.idempotence", val, &vlen),
                    RD_KAFKA_CONF_OK);
        T_CHECK(strcmp(val, "true") == 0, "enable.idempotence=%s", val);
        vlen = sizeof(val);
        T_ASSERT_EQ(rd_kafka_conf_get(conf, "acks", val, &vlen),
                    RD_KAFKA_CONF_OK);
        T_CHECK(strcmp(val, "-1") == 0, "acks=%s", val);
    }

    T_ASSERT_EQ(kafka_produce(p, topics[0], "k1", 2, "{\"v\":1}", 7, hdrs, 2,
                              &marker, 1000, errbuf, sizeof(errbuf)),
                0);
    T_ASSERT_EQ(kafka_producer_flush(p, 10000), 0);
    T_ASSERT_EQ(seen.n, 1);
    T_ASSERT_EQ(seen.ok, 1);
    T_ASSERT_EQ(seen.offset, 0);
    T_ASSERT(seen.opaque == &marker);
    T_ASSERT_EQ(kafka_producer_outq_len(p), 0);
    T_ASSERT_EQ(kafka_producer_fatal(p, errbuf, sizeof(errbuf)), 0);

    /* A non-retriable broker error reaches the delivery report. */
    rd_kafka_mock_push_request_errors(mc, 0 /* ApiKey Produce */, 1,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    T_ASSERT_EQ(kafka_produce(p, topics[0], "k2", 2, "x", 1, NULL, 0, NULL,
                              1000, errbuf, sizeof(errbuf)),
                0);
    kafka_producer_flush(p, 10000);
    T_ASSERT_EQ(seen.n, 2);
    T_ASSERT_EQ(seen.last_err, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);

    c = kafka_consumer_new(bootstrap, "test-group", cc, errbuf, sizeof(errbuf));
    T_CHECK(c != NULL, "consumer: %s", errbuf);
    if (!c)
        goto out;
    T_ASSERT_EQ(kafka_consumer_subscribe(c, topics, 1, errbuf, sizeof(errbuf)),
                0);
    for (i = 0; i < 200 && !m; i++) /* up to 20 s */
        m = kafka_consumer_poll(c, KAFKA_POLL_MS);
    T_ASSERT(m != NULL);
    if (m) {
        T_ASSERT_EQ(m->key_len, 2);
        T_ASSERT(m->key && memcmp(m->key, "k1", 2) == 0);
        T_ASSERT_EQ(m->len, 7);
        T_ASSERT(memcmp(m->payload, "{\"v\":1}", 7) == 0);
        T_CHECK(str_is(header(m, "event-id"), "abc-1"), "event-id header");
        T_CHECK(str_is(header(m, "event-type"), "stock.available"),
                "event-type header");
        T_ASSERT_EQ(kafka_consumer_commit(c, m, 0, errbuf, sizeof(errbuf)), 0);
        T_ASSERT_EQ(kafka_consumer_commit(c, m, 1, errbuf, sizeof(errbuf)), 0);
        {
            rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(1);

            rd_kafka_topic_partition_list_add(l, topics[0], 0);
            T_ASSERT_EQ(rd_kafka_committed(kafka_consumer_handle(c), l, 5000),
                        0);
            T_ASSERT_EQ(l->elems[0].offset, 1); /* offset + 1 */
            rd_kafka_topic_partition_list_destroy(l);
        }
        rd_kafka_message_destroy(m);
    }
    T_ASSERT_EQ(kafka_consumer_fatal(c), 0);
    /* Readiness: the cluster answers, the consumer has its partition. */
    T_ASSERT_EQ(
        kafka_check(kafka_consumer_handle(c), 5000, errbuf, sizeof(errbuf)), 0);
    T_ASSERT_EQ(kafka_consumer_assigned(c), 1);
    T_ASSERT_EQ(kafka_consumer_close(c), 0);
    T_ASSERT_EQ(kafka_consumer_close(c), 0); /* idempotent */

    /* Constructor errors. */
    T_ASSERT(kafka_consumer_new(bootstrap, "", NULL, errbuf, sizeof(errbuf)) ==
             NULL);
    T_ASSERT_STR_CONTAINS(err, "group");
out:
    kafka_consumer_destroy(c);
    kafka_producer_destroy(p);
    cfg_destroy(pc);
    cfg_destroy(cc);
    T_DONE();
}
