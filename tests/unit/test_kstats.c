/*
 * test_kstats — a consumer's librdkafka statistics become the lag and
 * assignment gauges (lib/kstats): which partitions count, what a bad
 * document does, and the rendered families through promtool.
 */
#include "lib/kstats.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "t.h"
#include "t_promtool.h"

#include <stdlib.h>
#include <string.h>

/* Statistics as librdkafka writes them, cut to the fields kstats reads. */
static const char stats1[] =
    "{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\","
    "\"topics\":{"
    "\"omnisync.stock.v1\":{\"topic\":\"omnisync.stock.v1\",\"partitions\":{"
    "\"0\":{\"partition\":0,\"fetch_state\":\"active\",\"consumer_lag\":3},"
    "\"1\":{\"partition\":1,\"fetch_state\":\"active\",\"consumer_lag\":-1},"
    "\"2\":{\"partition\":2,\"fetch_state\":\"stopped\",\"consumer_lag\":9},"
    "\"-1\":{\"partition\":-1,\"fetch_state\":\"none\",\"consumer_lag\":-1}}},"
    "\"omnisync.dlq.v1\":{\"topic\":\"omnisync.dlq.v1\",\"partitions\":{"
    "\"4\":{\"partition\":4,\"fetch_state\":\"offset-query\","
    "\"consumer_lag\":0}}}},"
    "\"cgrp\":{\"state\":\"up\",\"assignment_size\":3}}";

static void test_parse(void)
{
    struct kstats *s = kstats_new();
    struct kstats_part p[8];
    long assigned = 0;
    size_t n;

    T_ASSERT(s != NULL);
    if (!s)
        return;
    n = kstats_get(s, p, 8, &assigned);
    T_ASSERT_EQ(n, 0);
    T_ASSERT_EQ(assigned, -1); /* no statistics yet */
    T_ASSERT_EQ(kstats_update(s, stats1, strlen(stats1)), 0);
    n = kstats_get(s, p, 8, &assigned);
    T_ASSERT_EQ(assigned, 3);
    T_ASSERT_EQ(n, 2); /* lag unknown, stopped and -1 left out */
    if (n == 2) {
        T_ASSERT_STR_EQ(p[0].topic, "omnisync.stock.v1");
        T_ASSERT_EQ(p[0].partition, 0);
        T_ASSERT_EQ(p[0].lag, 3);
        T_ASSERT_STR_EQ(p[1].topic, "omnisync.dlq.v1");
        T_ASSERT_EQ(p[1].partition, 4);
        T_ASSERT_EQ(p[1].lag, 0);
    }
    /* Not statistics: the snapshot stays. */
    T_ASSERT_EQ(kstats_update(s, "[1,2]", 5), -1);
    T_ASSERT_EQ(kstats_update(s, "{\"topics\":", 10), -1);
    T_ASSERT_EQ(kstats_get(s, p, 8, NULL), 2);
    /* Statistics without topics (not subscribed yet): no partitions. */
    {
        static const char empty[] = "{\"cgrp\":{\"assignment_size\":0}}";

        T_ASSERT_EQ(kstats_update(s, empty, strlen(empty)), 0);
    }
    T_ASSERT_EQ(kstats_get(s, p, 8, &assigned), 0);
    T_ASSERT_EQ(assigned, 0);
    kstats_destroy(s);
    kstats_destroy(NULL);
}

static void test_render(void)
{
    char err[256];
    struct metrics *m = metrics_new(0, err, sizeof(err));
    struct kstats *s = kstats_new();
    char *text;

    T_ASSERT(m != NULL && s != NULL);
    if (!m || !s)
        goto out;
    T_ASSERT_EQ(kstats_register(s, m, "omnisync-stock-publisher"), 0);
    text = metrics_render(m, NULL);
    T_ASSERT_STR_CONTAINS(text, "# TYPE omnisync_kafka_consumer_lag_messages "
                                "gauge\n");
    T_CHECK(!strstr(text, "omnisync_kafka_assigned_partitions{"),
            "no assignment sample before statistics");
    free(text);
    kstats_update(s, stats1, strlen(stats1));
    text = metrics_render(m, NULL);
    T_ASSERT_STR_CONTAINS(
        text, "omnisync_kafka_consumer_lag_messages{group=\"omnisync-"
              "stock-publisher\",topic=\"omnisync.stock.v1\","
              "partition=\"0\"} 3\n");
    T_ASSERT_STR_CONTAINS(text, "omnisync_kafka_assigned_partitions{group="
                                "\"omnisync-stock-publisher\"} 3\n");
    T_CHECK(!strstr(text, "partition=\"1\""), "unknown lag left out");
    T_ASSERT_EQ(t_promtool(text), 0);
    free(text);
    /* One consumer per registry: a second registration is refused. */
    T_ASSERT_EQ(kstats_register(s, m, "again"), -1);
out:
    kstats_destroy(s);
    metrics_destroy(m);
}

int main(void)
{
    log_init("test_kstats", "error");
    test_parse();
    test_render();
    T_DONE();
}
