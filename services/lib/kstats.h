/*
 * kstats — what a Kafka consumer's librdkafka statistics say about its
 * progress: the consumer lag of each partition it is fetching and the size
 * of its assignment (docs/metrics.md, "Kafka consumers").
 *
 * librdkafka emits a statistics JSON document every
 * statistics.interval.ms through the consumer's stats_cb (lib/kafka sets
 * both); kstats_update() keeps the latest one as a small snapshot, and the
 * metrics collectors registered by kstats_register() report that snapshot
 * at scrape time, so a scrape never waits for Kafka.
 *
 *   topics.<t>.partitions.<p>.consumer_lag   the high watermark minus the
 *                                             committed offset (-1 unknown)
 *   cgrp.assignment_size                      partitions assigned
 *
 * @locality kstats_update() on the consumer's thread (stats_cb runs inside
 *           the consumer's poll), the collectors on the scraping thread:
 *           the snapshot has its own mutex.
 */
#ifndef OMNI_KSTATS_H
#define OMNI_KSTATS_H

#include <stddef.h>
#include <stdint.h>

#define KSTATS_PARTS_MAX 1024 /* partitions kept per snapshot */
#define KSTATS_TOPIC_MAX 128  /* longest topic name kept, NUL included */

struct metrics;
struct kstats;

/* One fetched partition's lag. */
struct kstats_part {
    char topic[KSTATS_TOPIC_MAX];
    int32_t partition;
    int64_t lag; /* messages */
};

/** @returns an empty snapshot (no statistics yet), or NULL (no memory). */
struct kstats *kstats_new(void);

/** @brief Free.  No collector may run any more.  NULL-safe. */
void kstats_destroy(struct kstats *s);

/**
 * @brief Replace the snapshot with librdkafka statistics document
 *        @p json (@p len bytes).  Partitions are kept when they are
 *        being fetched (fetch_state not none, stopping or stopped) and
 *        their consumer_lag is known (>= 0); the internal partition -1 is
 *        skipped.
 * @returns 0, or -1 when @p json is not a statistics document (the old
 *          snapshot stays).
 */
int kstats_update(struct kstats *s, const char *json, size_t len);

/**
 * @brief Copy the snapshot: up to @p max partitions into @p out.
 * @param assigned receives cgrp.assignment_size, or -1 when no statistics
 *                 arrived yet (may be NULL).
 * @returns the number of partitions copied.
 */
size_t kstats_get(struct kstats *s, struct kstats_part *out, size_t max,
                  long *assigned);

/**
 * @brief Register the collectors omnisync_kafka_consumer_lag_messages
 *        {group,topic,partition} and omnisync_kafka_assigned_partitions
 *        {group} in @p m, reading this snapshot.  Once per snapshot,
 *        and one consumer per registry.
 * @param group the consumer group (copied).
 * @returns 0, or -1 when a family could not be registered (logged).
 */
int kstats_register(struct kstats *s, struct metrics *m, const char *group);

#endif
