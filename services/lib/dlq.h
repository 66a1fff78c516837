/*
 * dlq — dead-letter records on omnisync.dlq.v1.
 *
 * A message that cannot be processed goes to the DLQ with its reason and
 * the consumer moves on (DESIGN.md).  The record keeps the original key
 * and value; the reason and origin travel in headers named as Kafka
 * Connect names them, so the usual tooling reads them:
 *   __connect.errors.topic              original topic ("" when the input
 *                                       did not come from Kafka)
 *   __connect.errors.partition          original partition (-1 if none)
 *   __connect.errors.offset             original offset (-1 if none)
 *   __connect.errors.exception.message  the reason
 *   __connect.errors.timestamp          ms since the epoch, when dead-lettered
 *   omnisync.errors.service             the service that gave up
 *   omnisync.errors.source              free-form origin when not from Kafka
 *                                       (e.g. "webhook", a file path)
 *
 * dlq_send() returns only once the broker acknowledged the record, so a
 * caller may commit the original offset right after it.
 *
 * @locality a struct dlq may be used from one thread at a time.
 */
#ifndef OMNI_DLQ_H
#define OMNI_DLQ_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#define DLQ_TOPIC "omnisync.dlq.v1"

struct cfg;
struct dlq;
struct metrics;

/**
 * @brief New DLQ writer with its own idempotent producer.
 * @param service  name put in omnisync.errors.service (borrowed, must
 *                 outlive the writer).
 * @param passthru config whose "kafka." keys apply (may be NULL).
 * @returns the writer, or NULL with errstr.
 */
struct dlq *dlq_new(const char *bootstrap, const struct cfg *passthru,
                    const char *service, char *errstr, size_t errstr_size);

/**
 * @brief Dead-letter a consumed message with @p reason; waits up to
 *        @p timeout_ms for the broker's acknowledgement.
 * @returns 0 when acknowledged, -1 with errstr otherwise (the caller must
 *          not commit the original then; retry later).
 */
int dlq_send(struct dlq *d, const rd_kafka_message_t *orig, const char *reason,
             int timeout_ms, char *errstr, size_t errstr_size);

/**
 * @brief Dead-letter input that did not come from Kafka (a webhook body,
 *        a file): @p source says where it came from.
 * @returns as dlq_send().
 */
int dlq_send_raw(struct dlq *d, const char *source, const void *key,
                 size_t key_len, const void *value, size_t value_len,
                 const char *reason, int timeout_ms, char *errstr,
                 size_t errstr_size);

/**
 * @brief Count every acknowledged record in
 *        omnisync_messages_dead_lettered_total{topic} of @p m (the
 *        original topic; "none" for dlq_send_raw()).  Once per registry.
 * @returns 0, or -1 when the family could not be registered (logged).
 */
int dlq_metrics_register(struct dlq *d, struct metrics *m);

/** @returns records acknowledged so far (for stats and metrics). */
uint64_t dlq_sent_count(const struct dlq *d);

/** @brief Flush what is in flight (bounded) and free.  NULL-safe. */
void dlq_destroy(struct dlq *d);

#endif
