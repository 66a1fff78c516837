/*
 * test_topics — the topic table: names unique and as DESIGN.md lists them,
 * cleanup policies and retentions right, lookups, and pre-creation on a
 * mock cluster.
 */
#include <string.h>

#include "t.h"
#include "events/topics.h"

static void test_table(void)
{
    T_ASSERT_EQ(topics_count(), 6);
    T_ASSERT(topics_get(topics_count()) == NULL);
    for (size_t i = 0; i < topics_count(); i++) {
        const struct topic_def *t = topics_get(i);
        T_ASSERT(t != NULL);
        if (!t)
            continue;
        T_ASSERT(strncmp(t->name, "omnisync.", 9) == 0);
        T_ASSERT(strstr(t->name, ".v1") != NULL);
        T_ASSERT(strcmp(t->cleanup_policy, "compact") == 0 ||
                 strcmp(t->cleanup_policy, "delete") == 0);
        T_ASSERT(t->key && *t->key);
        /* Compaction lag only makes sense on compacted topics. */
        if (strcmp(t->cleanup_policy, "delete") == 0)
            T_ASSERT_EQ(t->min_compaction_lag_ms, -1);
        for (size_t j = i + 1; j < topics_count(); j++)
            T_ASSERT(strcmp(t->name, topics_get(j)->name) != 0);
        T_ASSERT(topics_find(t->name) == t);
    }
}

/* Cleanup policy of @p name, or "" when it is not a project topic. */
static const char *policy(const char *name)
{
    const struct topic_def *t = topics_find(name);
    return t ? t->cleanup_policy : "";
}

static void test_policies(void)
{
    const struct topic_def *orders = topics_find(TOPICS_ORDERS);

    T_ASSERT(strcmp(policy(TOPICS_CATALOG), "compact") == 0);
    T_ASSERT(strcmp(policy(TOPICS_STOCK), "compact") == 0);
    T_ASSERT(strcmp(policy(TOPICS_IMAGES), "delete") == 0);
    T_ASSERT(strcmp(policy(TOPICS_ORDERS), "delete") == 0);
    T_ASSERT(strcmp(policy(TOPICS_DLQ), "delete") == 0);
    T_ASSERT(orders != NULL);
    if (orders)
        T_ASSERT_EQ(orders->retention_ms, 30LL * 24 * 3600 * 1000);
    T_ASSERT(strcmp(policy("omnisync.catalog.v1"), "compact") == 0);
    T_ASSERT(topics_find("omnisync.nope.v1") == NULL);
    T_ASSERT(topics_find(NULL) == NULL);
}

static void test_mock_create(void)
{
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", e, sizeof(e));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    T_ASSERT(rk != NULL);
    if (!rk)
        return;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    T_ASSERT(mc != NULL);
    if (mc) {
        T_ASSERT_EQ(topics_mock_create(mc, 3), 0);
        /* A second call finds them there and still succeeds. */
        T_ASSERT_EQ(topics_mock_create(mc, 3), 0);
        rd_kafka_mock_cluster_destroy(mc);
    }
    T_ASSERT_EQ(topics_mock_create(NULL, 3), -1);
    rd_kafka_destroy(rk);
}

int main(void)
{
    test_table();
    test_policies();
    test_mock_create();
    T_DONE();
}
