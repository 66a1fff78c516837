/*
 * topics — the table of omnisync's Kafka topics and their creation.
 */
#include "events/topics.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

static const struct topic_def topic_table[] = {
    {TOPICS_CATALOG, "compact", -1, 60LL * 1000 /* ms */, "product id",
     "full product snapshot"},
    {TOPICS_STOCK, "compact", -1, 60LL * 1000 /* ms */, "store:variant",
     "available quantity for a store's channel"},
    {TOPICS_IMAGES, "delete", 7 * DAY_MS, -1, "product id", "photo upload job"},
    {TOPICS_ORDERS, "delete", 30 * DAY_MS, -1, "store:order id",
     "raw order as received from the store"},
    {TOPICS_DLQ, "delete", 30 * DAY_MS, -1, "original key",
     "the original message plus reason headers"},
    {TOPICS_MOVEMENTS_IN, "delete", 7 * DAY_MS, -1, "outlet code",
     "one till receipt: its stock movements (ledger-api applies it)"},
};

#define TOPIC_N (sizeof(topic_table) / sizeof(topic_table[0]))

/* Admin requests against a broker that just started may wait for the
 * controller; keep the whole call bounded. */
#define ADMIN_TIMEOUT_MS (30 * 1000)

size_t topics_count(void)
{
    return TOPIC_N;
}

const struct topic_def *topics_get(size_t i)
{
    return i < TOPIC_N ? &topic_table[i] : NULL;
}

const struct topic_def *topics_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < TOPIC_N; i++)
        if (strcmp(topic_table[i].name, name) == 0)
            return &topic_table[i];
    return NULL;
}

/* Build a handle used only for admin requests. */
static rd_kafka_t *admin_new(const char *bootstrap, char *errstr,
                             size_t errstr_size)
{
    char e[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof(e)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", e, sizeof(e)) !=
            RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "kafka config: %s", e);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!rk) {
        snprintf(errstr, errstr_size, "kafka handle: %s", e);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return rk;
}

/* Wait for the admin result of type @p type on @p q; NULL on timeout. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q,
                                    rd_kafka_event_type_t type, char *errstr,
                                    size_t errstr_size)
{
    rd_kafka_event_t *ev =
        rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5 * 1000 /* ms */);
    if (!ev) {
        snprintf(errstr, errstr_size, "admin request timed out");
        return NULL;
    }
    if (rd_kafka_event_type(ev) != type || rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "admin request failed: %s",
                 rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
                                          : "unexpected event");
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static int set_ll_config(rd_kafka_NewTopic_t *nt, const char *key, long long v)
{
    char buf[32];

    if (v < 0)
        return 0;
    snprintf(buf, sizeof(buf), "%lld", v);
    return rd_kafka_NewTopic_set_config(nt, key, buf) ? -1 : 0;
}

/* The NewTopic of table row @p t with its configs; NULL with errstr. */
static rd_kafka_NewTopic_t *topic_new(const struct topic_def *t, int partitions,
                                      int replication, char *errstr,
                                      size_t errstr_size)
{
    char e[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(t->name, partitions, replication, e, sizeof(e));

    if (!nt) {
        snprintf(errstr, errstr_size, "%s: %s", t->name, e);
        return NULL;
    }
    if (rd_kafka_NewTopic_set_config(nt, "cleanup.policy", t->cleanup_policy) ||
        set_ll_config(nt, "retention.ms", t->retention_ms) ||
        set_ll_config(nt, "min.compaction.lag.ms", t->min_compaction_lag_ms)) {
        snprintf(errstr, errstr_size, "%s: cannot set configs", t->name);
        rd_kafka_NewTopic_destroy(nt);
        return NULL;
    }
    return nt;
}

/* Which table topics the broker has (metadata within @p connect_ms), with
 * their partition counts in res[].  0, or -1 when the broker could not be
 * reached. */
static int topics_existing(rd_kafka_t *rk, int connect_ms,
                           struct topics_result *res, char *errstr,
                           size_t errstr_size)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t err;

    err = rd_kafka_metadata(rk, 1 /* all topics */, NULL, &md, connect_ms);
    if (err) {
        snprintf(errstr, errstr_size, "Kafka not reachable within %d ms: %s",
                 connect_ms, rd_kafka_err2str(err));
        return -1;
    }
    for (int t = 0; t < md->topic_cnt; t++) {
        for (size_t i = 0; i < TOPIC_N; i++) {
            if (strcmp(md->topics[t].topic, topic_table[i].name) != 0 ||
                md->topics[t].err)
                continue;
            res[i].state = TOPICS_EXISTS;
            res[i].partitions = md->topics[t].partition_cnt;
        }
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

/* CreateTopics (validate only when @p o->dry_run) for the @p n topics of
 * @p nt, table rows @p row[]; records each outcome in res[]. */
static int topics_create_request(rd_kafka_t *rk,
                                 const struct topics_create_opts *o,
                                 rd_kafka_NewTopic_t **nt, const size_t *row,
                                 size_t n, struct topics_result *res,
                                 char *errstr, size_t errstr_size)
{
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_topic_result_t **tr;
    size_t got = 0;
    char e[512];
    int rc = -1;

    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (rd_kafka_AdminOptions_set_request_timeout(opts, ADMIN_TIMEOUT_MS, e,
                                                  sizeof(e)) ||
        rd_kafka_AdminOptions_set_operation_timeout(
            opts, ADMIN_TIMEOUT_MS - 5 * 1000 /* ms */, e, sizeof(e)) ||
        rd_kafka_AdminOptions_set_validate_only(opts, o->dry_run, e,
                                                sizeof(e))) {
        snprintf(errstr, errstr_size, "admin options: %s", e);
        goto out;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, n, opts, q);
    ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, errstr, errstr_size);
    if (!ev)
        goto out;
    tr = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(ev), &got);
    if (got != n) {
        snprintf(errstr, errstr_size, "CreateTopics: %zu results for %zu", got,
                 n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[i]);
        const char *msg = rd_kafka_topic_result_error_string(tr[i]);

        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            res[row[i]].state = TOPICS_EXISTS; /* created meanwhile */
            res[row[i]].partitions = -1;
        } else if (err) {
            snprintf(errstr, errstr_size, "%s: %s",
                     rd_kafka_topic_result_name(tr[i]),
                     msg ? msg : rd_kafka_err2str(err));
            goto out;
        }
    }
    rc = 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    return rc;
}

int topics_ensure(const struct topics_create_opts *o, struct topics_result *res,
                  char *errstr, size_t errstr_size)
{
    struct topics_result own[TOPIC_N];
    rd_kafka_NewTopic_t *nt[TOPIC_N] = {0};
    size_t row[TOPIC_N], n = 0;
    int partitions =
        o->partitions > 0 ? o->partitions : TOPICS_DEFAULT_PARTITIONS;
    int replication =
        o->replication > 0 ? o->replication : TOPICS_DEFAULT_REPLICATION;
    rd_kafka_t *rk;
    int rc = -1;

    if (!res)
        res = own;
    for (size_t i = 0; i < TOPIC_N; i++) {
        res[i].state = o->dry_run ? TOPICS_WOULD_CREATE : TOPICS_CREATED;
        res[i].partitions = partitions;
    }
    rk = admin_new(o->bootstrap, errstr, errstr_size);
    if (!rk)
        return -1;
    if (o->connect_ms > 0 &&
        topics_existing(rk, o->connect_ms, res, errstr, errstr_size) < 0) {
        rc = TOPICS_UNREACHABLE;
        goto out;
    }
    for (size_t i = 0; i < TOPIC_N; i++) {
        if (res[i].state == TOPICS_EXISTS)
            continue;
        nt[n] = topic_new(&topic_table[i], partitions, replication, errstr,
                          errstr_size);
        if (!nt[n])
            goto out;
        row[n++] = i;
    }
    rc = n ? topics_create_request(rk, o, nt, row, n, res, errstr, errstr_size)
           : 0;
out:
    for (size_t i = 0; i < n; i++)
        rd_kafka_NewTopic_destroy(nt[i]);
    rd_kafka_destroy(rk);
    return rc;
}

int topics_create(const char *bootstrap, int partitions, int replication,
                  char *errstr, size_t errstr_size)
{
    struct topics_create_opts o = {bootstrap, partitions, replication, 0, 0};

    return topics_ensure(&o, NULL, errstr, errstr_size) == 0 ? 0 : -1;
}

/* Value of config @p key in @p res, or "-" when absent. */
static const char *config_value(const rd_kafka_ConfigResource_t *res,
                                const char *key)
{
    size_t n = 0;
    const rd_kafka_ConfigEntry_t **ce =
        rd_kafka_ConfigResource_configs(res, &n);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(rd_kafka_ConfigEntry_name(ce[i]), key) == 0) {
            const char *v = rd_kafka_ConfigEntry_value(ce[i]);
            return v ? v : "-";
        }
    }
    return "-";
}

int topics_describe(const char *bootstrap, FILE *out, char *errstr,
                    size_t errstr_size)
{
    rd_kafka_ConfigResource_t *cr[TOPIC_N] = {0};
    rd_kafka_t *rk;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_event_t *ev = NULL;
    char e[512];
    int rc = -1;

    rk = admin_new(bootstrap, errstr, errstr_size);
    if (!rk)
        return -1;
    for (size_t i = 0; i < TOPIC_N; i++)
        cr[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC,
                                            topic_table[i].name);
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    if (rd_kafka_AdminOptions_set_request_timeout(opts, ADMIN_TIMEOUT_MS, e,
                                                  sizeof(e))) {
        snprintf(errstr, errstr_size, "admin options: %s", e);
        goto out;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, cr, TOPIC_N, opts, q);
    ev = admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, errstr,
                    errstr_size);
    if (!ev)
        goto out;

    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        if (rd_kafka_ConfigResource_error(res[i])) {
            snprintf(errstr, errstr_size, "%s: %s",
                     rd_kafka_ConfigResource_name(res[i]),
                     rd_kafka_ConfigResource_error_string(res[i]));
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++)
        fprintf(out,
                "%s cleanup.policy=%s retention.ms=%s "
                "min.compaction.lag.ms=%s\n",
                rd_kafka_ConfigResource_name(res[i]),
                config_value(res[i], "cleanup.policy"),
                config_value(res[i], "retention.ms"),
                config_value(res[i], "min.compaction.lag.ms"));
    rc = 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    for (size_t i = 0; i < TOPIC_N; i++)
        if (cr[i])
            rd_kafka_ConfigResource_destroy(cr[i]);
    rd_kafka_destroy(rk);
    return rc;
}

int topics_mock_create(rd_kafka_mock_cluster_t *mcluster, int partitions)
{
    if (!mcluster)
        return -1;
    if (partitions <= 0)
        partitions = TOPICS_DEFAULT_PARTITIONS;
    for (size_t i = 0; i < TOPIC_N; i++) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
            mcluster, topic_table[i].name, partitions, 1);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            return -1;
    }
    return 0;
}
