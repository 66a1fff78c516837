/*
 * topics — the single table of omnisync's Kafka topics (DESIGN.md, Events).
 *
 * Every program that names a topic, creates topics or checks their configs
 * uses this table, so a topic's name and cleanup policy live in one place.
 * topics_create() creates them on a real broker through the admin API;
 * topics_mock_create() pre-creates them on librdkafka's mock cluster, which
 * has no admin API (KAFKA.md §2).
 */
#ifndef OMNI_TOPICS_H
#define OMNI_TOPICS_H

#include <stddef.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define TOPICS_CATALOG "omnisync.catalog.v1"
#define TOPICS_STOCK "omnisync.stock.v1"
#define TOPICS_IMAGES "omnisync.images.v1"
#define TOPICS_ORDERS "omnisync.orders.v1"
#define TOPICS_DLQ "omnisync.dlq.v1"
/* The back office's movement intake (ledger-api, docs/ledger-api.md). */
#define TOPICS_MOVEMENTS_IN "omnisync.movements.in.v1"

#define TOPICS_DEFAULT_PARTITIONS 6
#define TOPICS_DEFAULT_REPLICATION 1

/* One topic of the project and the configs it is created with. */
struct topic_def {
    const char *name;                /* "omnisync.catalog.v1" */
    const char *cleanup_policy;      /* "compact" or "delete" */
    long long retention_ms;          /* -1: broker default */
    long long min_compaction_lag_ms; /* -1: broker default (compact only) */
    const char *key;     /* what the message key is (documentation) */
    const char *carries; /* what the value is (documentation) */
};

/** @returns the number of topics in the table. */
size_t topics_count(void);

/**
 * @brief The @p i-th topic of the table.
 * @returns a pointer into the static table, or NULL when @p i is out of
 *          range.
 */
const struct topic_def *topics_get(size_t i);

/**
 * @brief Look a topic up by name.
 * @param name topic name (may be NULL).
 * @returns the table entry, or NULL when @p name is not a project topic.
 */
const struct topic_def *topics_find(const char *name);

/**
 * @brief Create every project topic on a real broker with its configs
 *        (cleanup.policy, retention.ms, min.compaction.lag.ms), using the
 *        admin API.  A topic that already exists counts as created, so the
 *        call is idempotent; existing topics' configs are left unchanged.
 *
 * @param bootstrap   bootstrap servers, e.g. "127.0.0.1:9092".
 * @param partitions  partitions per topic; <= 0 means
 *                    TOPICS_DEFAULT_PARTITIONS.
 * @param replication replication factor; <= 0 means
 *                    TOPICS_DEFAULT_REPLICATION.
 * @param errstr      receives a message naming the failing topic on error.
 * @param errstr_size size of @p errstr.
 * @returns 0 when every topic exists afterwards, -1 otherwise.
 */
int topics_create(const char *bootstrap, int partitions, int replication,
                  char *errstr, size_t errstr_size);

/* What topics_ensure() does. */
struct topics_create_opts {
    const char *bootstrap; /* bootstrap servers */
    int partitions;        /* per new topic; <= 0: TOPICS_DEFAULT_PARTITIONS */
    int replication;       /* <= 0: TOPICS_DEFAULT_REPLICATION */
    int dry_run;    /* 1: the broker only validates the creation requests */
    int connect_ms; /* > 0: first ask the broker which topics exist,
                     * within this bound (else TOPICS_UNREACHABLE);
                     * 0: skip that, send every topic */
};

/* How one topic fared in topics_ensure(). */
enum topics_state {
    TOPICS_CREATED,      /* created with the table's configs */
    TOPICS_WOULD_CREATE, /* dry run: the broker accepted the request */
    TOPICS_EXISTS,       /* already there: left as it is */
};

struct topics_result {
    enum topics_state state;
    int partitions; /* the new topic's; an existing one's as the broker
                     * reports it (-1: unknown, created meanwhile) */
};

#define TOPICS_UNREACHABLE (-2)

/**
 * @brief Create the project topics the broker does not have yet, with
 *        their configs (cleanup.policy, retention.ms,
 *        min.compaction.lag.ms); existing topics are reported and left
 *        unchanged (idempotent).
 * @param res receives one result per table row (topics_count() entries;
 *            may be NULL).
 * @returns 0; TOPICS_UNREACHABLE when the broker did not answer within
 *          o->connect_ms; -1 when a request failed (errstr names the
 *          topic).
 */
int topics_ensure(const struct topics_create_opts *o, struct topics_result *res,
                  char *errstr, size_t errstr_size);

/**
 * @brief Print, for every project topic, one line
 *        "NAME cleanup.policy=P retention.ms=R min.compaction.lag.ms=L"
 *        with the values the broker reports (admin API DescribeConfigs).
 *        Does not work on the mock cluster, which has no admin API.
 *
 * @param bootstrap   bootstrap servers.
 * @param out         stream the lines are written to.
 * @param errstr      receives the reason on error.
 * @param errstr_size size of @p errstr.
 * @returns 0 on success, -1 on error.
 */
int topics_describe(const char *bootstrap, FILE *out, char *errstr,
                    size_t errstr_size);

/**
 * @brief Pre-create every project topic on a librdkafka mock cluster.
 *        The mock cluster ignores topic configs; only names and partition
 *        counts matter there.
 *
 * @param mcluster   the mock cluster (borrowed).
 * @param partitions partitions per topic; <= 0 means
 *                   TOPICS_DEFAULT_PARTITIONS.
 * @returns 0 on success, -1 when a topic could not be created.
 */
int topics_mock_create(rd_kafka_mock_cluster_t *mcluster, int partitions);

#endif
