/*
 * kraw — the broker's raw throughput, the pipeline benchmark's baseline:
 * create a topic, produce --count messages of --size bytes (acks=all,
 * idempotent, as outbox-relay produces), then consume them all back in a
 * fresh group that joined before the first message (the time runs from
 * the first produce to the last message consumed).  Only librdkafka, nothing of
 * omnisync.
 *
 *   kraw --bootstrap 127.0.0.1:9092 --count 20000 --size 400
 *        [--topic T] [--partitions 6]
 *
 * Prints one JSON line: count, size, produce_s, consume_s, total_s,
 * msgs_per_s (count / total_s).
 */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *arg(int argc, char **argv, const char *name, const char *d)
{
    int i;

    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return d;
}

static rd_kafka_conf_t *conf_new(const char *bootstrap)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[256];

    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err));
    return c;
}

static int topic_create(const char *bootstrap, const char *topic, int parts)
{
    char err[256];
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf_new(bootstrap), err, sizeof(err));
    rd_kafka_NewTopic_t *nt;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;

    if (!rk)
        return -1;
    nt = rd_kafka_NewTopic_new(topic, parts, 1, err, sizeof(err));
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, 30000);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}

static int produce(const char *bootstrap, const char *topic, long n,
                   size_t size)
{
    char err[256], key[32];
    rd_kafka_conf_t *c = conf_new(bootstrap);
    rd_kafka_t *rk;
    char *buf = malloc(size);
    long i;

    if (!buf)
        return -1;
    memset(buf, 'x', size);
    rd_kafka_conf_set(c, "acks", "all", err, sizeof(err));
    rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof(err));
    rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
    if (!rk) {
        free(buf);
        return -1;
    }
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%ld", i % 1000);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                 RD_KAFKA_V_KEY(key, strlen(key)),
                                 RD_KAFKA_V_VALUE(buf, size),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    rd_kafka_destroy(rk);
    free(buf);
    return 0;
}

/* A consumer of @p topic in a fresh group, joined (partitions assigned)
 * before it returns, so the timing excludes the group join. */
static rd_kafka_t *consumer_join(const char *bootstrap, const char *topic)
{
    char err[256], group[64];
    rd_kafka_conf_t *c = conf_new(bootstrap);
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_message_t *m;
    rd_kafka_t *rk;
    double deadline = now_s() + 60;

    snprintf(group, sizeof(group), "kraw-%ld", (long)time(NULL));
    rd_kafka_conf_set(c, "group.id", group, err, sizeof(err));
    rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    if (!rk)
        return NULL;
    rd_kafka_poll_set_consumer(rk);
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    while (now_s() < deadline) {
        m = rd_kafka_consumer_poll(rk, 100);
        if (m)
            rd_kafka_message_destroy(m);
        l = NULL;
        if (!rd_kafka_assignment(rk, &l) && l && l->cnt > 0) {
            rd_kafka_topic_partition_list_destroy(l);
            break;
        }
        if (l)
            rd_kafka_topic_partition_list_destroy(l);
    }
    return rk;
}

static long consume(rd_kafka_t *rk, long n)
{
    rd_kafka_message_t *m;
    long got = 0;
    double deadline = now_s() + 120;

    while (got < n && now_s() < deadline) {
        m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err)
            got++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got;
}

int main(int argc, char **argv)
{
    const char *bootstrap = arg(argc, argv, "--bootstrap", "127.0.0.1:9092");
    const char *topic = arg(argc, argv, "--topic", "kraw.bench");
    long n = atol(arg(argc, argv, "--count", "20000"));
    size_t size = (size_t)atol(arg(argc, argv, "--size", "400"));
    int parts = atoi(arg(argc, argv, "--partitions", "6"));
    double t0, t1, t2;
    rd_kafka_t *rk;
    long got;

    if (n < 1 || size < 1 || topic_create(bootstrap, topic, parts) < 0)
        return 2;
    rk = consumer_join(bootstrap, topic);
    if (!rk)
        return 2;
    t0 = now_s();
    if (produce(bootstrap, topic, n, size) < 0)
        return 3;
    t1 = now_s();
    got = consume(rk, n);
    t2 = now_s();
    printf("{\"count\":%ld,\"consumed\":%ld,\"size\":%zu,\"produce_s\":%.3f,"
           "\"consume_s\":%.3f,\"total_s\":%.3f,\"msgs_per_s\":%.0f}\n",
           n, got, size, t1 - t0, t2 - t1, t2 - t0, (double)n / (t2 - t0));
    return got == n ? 0 : 1;
}
