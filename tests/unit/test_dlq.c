/*
 * test_dlq — dead-letter records land on omnisync.dlq.v1 with the
 * original key and value and the Kafka Connect style reason headers
 * (against librdkafka's mock cluster).
 */
#include "lib/cfg.h"
#include "lib/dlq.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "t.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdint.h>
#include <string.h>

static const struct cfg_opt no_opts[] = {{NULL}};
static const char *const passthru[] = {"kafka.", NULL};
static int dummy_target;

static struct cfg *cfg_mock(void)
{
    char *argv[] = {(char *)(uintptr_t) "test_dlq", (char *)(uintptr_t) "-o",
                    (char *)(uintptr_t) "kafka.test.mock.num.brokers=1", NULL};

    return cfg_load(no_opts, &dummy_target, passthru, "test_dlq", "", 3, argv);
}

/* Header @p name of @p m (NULL when none), in a rotating buffer. */
static const char *header(const rd_kafka_message_t *m, const char *name)
{
    static char buf[4][256];
    static int slot;

    slot = (slot + 1) % 4;
    return dlq_header(m, name, buf[slot], sizeof(buf[slot]));
}

static rd_kafka_message_t *next_msg(struct kafka_consumer *c)
{
    rd_kafka_message_t *m = NULL;
    int i;

    for (i = 0; i < 100 && !m; i++)
        m = kafka_consumer_poll(c, 100);
    return m;
}

/* dlq_fetch() callback: produce the record again to "replayed". */
static int replay_cb(void *ctx, const rd_kafka_message_t *m, char *errstr,
                     size_t errstr_size)
{
    int32_t part;
    int64_t off;

    return dlq_replay(ctx, m, "replayed", 2, 5000, &part, &off, errstr,
                      errstr_size);
}

/* Offset 0 of the DLQ is read back by offset and replayed with the replay
 * headers; an offset past the end is gone, not an error of the broker. */
static void fetch_and_replay(rd_kafka_mock_cluster_t *mc, struct dlq *d)
{
    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    const char *topics[] = {"replayed"};
    struct kafka_consumer *c;
    rd_kafka_message_t *m;
    char err[512];

    T_ASSERT_EQ(rd_kafka_mock_topic_create(mc, "replayed", 1, 1), 0);
    T_ASSERT_EQ(dlq_fetch(bs, 0, 0, 5000, replay_cb, d, err, sizeof(err)),
                DLQ_FETCH_OK);
    T_ASSERT_EQ(dlq_fetch(bs, 0, 99, 5000, replay_cb, d, err, sizeof(err)),
                DLQ_FETCH_GONE);
    T_ASSERT_STR_CONTAINS(err, "no such record");
    c = kafka_consumer_new(bs, "dlq-test-replayed", NULL, err, sizeof(err));
    T_ASSERT(c != NULL);
    if (!c)
        return;
    T_ASSERT_EQ(kafka_consumer_subscribe(c, topics, 1, err, sizeof(err)), 0);
    m = next_msg(c);
    T_ASSERT(m != NULL);
    if (m) {
        T_ASSERT(m->key_len == 2 && memcmp(m->key, "k1", 2) == 0);
        T_ASSERT(m->len == 4 && memcmp(m->payload, "{bad", 4) == 0);
        T_ASSERT_STR_EQ(header(m, DLQ_HDR_REPLAY_COUNT), "2");
        T_ASSERT_STR_EQ(header(m, DLQ_HDR_REPLAYED_FROM), DLQ_TOPIC "/0/0");
        rd_kafka_message_destroy(m);
    }
    kafka_consumer_destroy(c);
}

int main(void)
{
    char err[512];
    struct cfg *mc_cfg = cfg_mock();
    struct kafka_producer *host;
    struct kafka_consumer *c;
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_message_t *m;
    const char *topics[] = {DLQ_TOPIC};
    const struct dlq_ref *last;
    struct dlq *d;

    log_level = LOG_WARN;
    /* A producer whose only job is to host the mock cluster. */
    host = kafka_producer_new("", mc_cfg, NULL, NULL, err, sizeof(err));
    T_ASSERT(host != NULL);
    if (!host)
        T_DONE();
    mc = rd_kafka_handle_mock_cluster(kafka_producer_handle(host));
    T_ASSERT(mc != NULL);
    T_ASSERT_EQ(rd_kafka_mock_topic_create(mc, DLQ_TOPIC, 1, 1), 0);

    d = dlq_new(rd_kafka_mock_cluster_bootstraps(mc), NULL, "test-svc", err,
                sizeof(err));
    T_ASSERT(d != NULL);
    if (!d)
        T_DONE();
    T_ASSERT_EQ(dlq_send_raw(d, "webhook", "k1", 2, "{bad", 4,
                             "malformed JSON at 1:5", 5000, err, sizeof(err)),
                0);
    T_ASSERT_EQ(dlq_sent_count(d), 1);

    c = kafka_consumer_new(rd_kafka_mock_cluster_bootstraps(mc), "dlq-test",
                           NULL, err, sizeof(err));
    T_ASSERT(c != NULL);
    if (!c)
        T_DONE();
    T_ASSERT_EQ(kafka_consumer_subscribe(c, topics, 1, err, sizeof(err)), 0);
    m = next_msg(c);
    T_ASSERT(m != NULL);
    if (m) {
        T_ASSERT_EQ(m->key_len, 2);
        T_ASSERT(m->key_len == 2 && memcmp(m->key, "k1", 2) == 0);
        T_ASSERT(m->len == 4 && memcmp(m->payload, "{bad", 4) == 0);
        T_ASSERT_STR_EQ(header(m, "__connect.errors.exception.message"),
                        "malformed JSON at 1:5");
        T_ASSERT_STR_EQ(header(m, "__connect.errors.partition"), "-1");
        T_ASSERT_STR_EQ(header(m, "omnisync.errors.service"), "test-svc");
        T_ASSERT_STR_EQ(header(m, "omnisync.errors.source"), "webhook");
        T_ASSERT(header(m, "__connect.errors.timestamp") != NULL);

        /* Dead-lettering a consumed message keeps its origin. */
        T_ASSERT_EQ(dlq_send(d, m, "second", 5000, err, sizeof(err)), 0);
        last = dlq_last(d);
        T_ASSERT(last != NULL);
        if (last) {
            T_ASSERT_EQ(last->partition, 0);
            T_ASSERT_EQ(last->offset, 1);
            T_ASSERT_STR_EQ(last->topic, DLQ_TOPIC);
            T_ASSERT_EQ(last->orig_offset, 0);
            T_ASSERT_STR_EQ(last->source, "");
        }
        rd_kafka_message_destroy(m);
        m = next_msg(c);
        T_ASSERT(m != NULL);
        if (m) {
            T_ASSERT_STR_EQ(header(m, "__connect.errors.topic"), DLQ_TOPIC);
            T_ASSERT_STR_EQ(header(m, "__connect.errors.offset"), "0");
            T_ASSERT_STR_EQ(header(m, "__connect.errors.exception.message"),
                            "second");
            rd_kafka_message_destroy(m);
        }
    }
    kafka_consumer_destroy(c);
    fetch_and_replay(mc, d);
    dlq_destroy(d);
    kafka_producer_destroy(host);
    cfg_destroy(mc_cfg);
    T_DONE();
}
