/*
 * kgroups — how far Kafka consumer groups are behind, asked of the broker
 * (librdkafka's admin API; the mock cluster has none): per group, topic
 * and partition the committed offset, the log-end offset, the lag and the
 * age of the oldest unconsumed message, like `kafka-consumer-groups
 * --describe`.  `omnisync lag` prints it; `omnisync status` judges each
 * store by the publishers' groups.
 *
 * A partition without a committed offset counts from the log start.
 */
#ifndef OMNI_KGROUPS_H
#define OMNI_KGROUPS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* One partition a group consumes (strings owned). */
struct kgroups_row {
    char *topic;
    int32_t partition;
    int64_t committed; /* -1: none */
    int64_t lo, hi;    /* log start and end; -1: unknown */
    int64_t lag;       /* -1: unknown */
    double age_s;      /* the oldest unconsumed message's age; < 0:
                          nothing waiting, or unknown */
    char *client_id;   /* the member it is assigned to (may be NULL) */
};

struct kgroups_group {
    char *id;
    const char *state; /* static, from librdkafka */
    int members;
    struct kgroups_row *rows; /* sorted by topic, partition */
    size_t nrows, cap;
};

/* What kgroups_collect() found; kgroups_report_clear() frees it. */
struct kgroups_report {
    struct kgroups_group *groups; /* sorted by id */
    size_t ngroups;
};

/* A group to describe, and the topic it consumes (may be NULL): a group
 * that committed nothing yet lags by everything on that topic. */
struct kgroups_want {
    const char *group;
    const char *topic;
};

/* Which groups (everything borrowed). */
struct kgroups_query {
    const char *bootstrap;           /* for the oldest-message reader */
    const struct kgroups_want *want; /* these groups; or, when nwant is
                                        0, every group the broker lists */
    size_t nwant;
    int must_exist;     /* a wanted group with no members and no
                           committed offsets is an error */
    const char *prefix; /* listing: only groups named prefix* (may be
                           NULL: all) */
    int all;            /* listing: every group, whatever its name */
};

/**
 * @brief The client kgroups_collect() asks through (an idle producer).
 * @returns it (rd_kafka_destroy()), or NULL with errstr.
 */
rd_kafka_t *kgroups_client_new(const char *bootstrap, char *errstr,
                               size_t errstr_size);

/**
 * @brief Describe the groups of @p o into @p rep (zeroed by the caller).
 *        Ages are read within a few seconds in all; rows not reached keep
 *        an unknown age.
 * @returns 0, -1 with errstr ("cannot reach the broker at ...", an
 *          admin request that failed), or -2 with errstr when a wanted
 *          group is not found (must_exist).
 */
int kgroups_collect(rd_kafka_t *rk, const struct kgroups_query *o,
                    struct kgroups_report *rep, char *errstr,
                    size_t errstr_size);

/** @returns the largest lag of any row (-1 when no row has a known lag). */
int64_t kgroups_report_max(const struct kgroups_report *rep);

/** @brief Free the report's contents and zero it. */
void kgroups_report_clear(struct kgroups_report *r);

/**
 * @brief An age in seconds for people: "4.2s", "12m05s", "3h07m",
 *        "2d04h"; "-" when @p s < 0 (unknown, or nothing waits).
 */
void kgroups_age_fmt(double s, char *out, size_t size);

#endif
