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
 * caller may commit the original offset right after it; dlq_last() then
 * says where the record landed, for the ledger's note of it
 * (ledger/dlq_record.h), which `omnisync dlq` lists and replays from.
 *
 * A replayed message (`omnisync dlq replay`) is the original key and value
 * produced again to the original topic with two more headers
 * (docs/events.md):
 *   omnisync-replay-count   how many times it was replayed, "1" first
 *   omnisync-replayed-from  omnisync.dlq.v1/<partition>/<offset>
 * Consumers ignore headers, so a replay is processed like the original.
 *
 * @locality a struct dlq may be used from one thread at a time.
 */
#ifndef OMNI_DLQ_H
#define OMNI_DLQ_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#define DLQ_TOPIC "omnisync.dlq.v1"
#define DLQ_HDR_REPLAY_COUNT "omnisync-replay-count"
#define DLQ_HDR_REPLAYED_FROM "omnisync-replayed-from"
/* The headers dlq_produce() writes (the original topic, ...). */
#define DLQ_HDR_TOPIC "__connect.errors.topic"
#define DLQ_HDR_PARTITION "__connect.errors.partition"
#define DLQ_HDR_OFFSET "__connect.errors.offset"
#define DLQ_HDR_REASON "__connect.errors.exception.message"
#define DLQ_HDR_TIMESTAMP "__connect.errors.timestamp"
#define DLQ_HDR_SERVICE "omnisync.errors.service"
#define DLQ_HDR_SOURCE "omnisync.errors.source"

/* Where the last acknowledged record of a writer landed and what it
 * carried: the origin the headers name. */
struct dlq_ref {
    int32_t partition;      /* in DLQ_TOPIC */
    int64_t offset;         /* in DLQ_TOPIC */
    char topic[256];        /* original topic, "" when not from Kafka */
    int32_t orig_partition; /* -1 when not from Kafka */
    int64_t orig_offset;    /* -1 when not from Kafka */
    char source[256];       /* free-form origin, "" when from Kafka */
    const char *service;    /* the writer's service name (borrowed) */
};

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

/**
 * @brief Produce DLQ record @p rec (from dlq_fetch()) again to @p topic:
 *        its key and value, with omnisync-replay-count @p count and
 *        omnisync-replayed-from "omnisync.dlq.v1/<partition>/<offset>";
 *        waits up to @p timeout_ms for the broker's acknowledgement.
 * @param partition, offset receive where it landed in @p topic.
 * @returns 0 when acknowledged, -1 with errstr (a record not acknowledged
 *          in time may still arrive: dlq_destroy() flushes).
 */
int dlq_replay(struct dlq *d, const rd_kafka_message_t *rec, const char *topic,
               long long count, int timeout_ms, int32_t *partition,
               int64_t *offset, char *errstr, size_t errstr_size);

/**
 * @brief Where the last record dlq_send()/dlq_send_raw() had acknowledged
 *        landed.
 * @returns a view valid until the next send on @p d, or NULL when none was
 *          acknowledged yet.
 */
const struct dlq_ref *dlq_last(const struct dlq *d);

/*
 * Called by dlq_fetch() with the record it read (borrowed: valid during
 * the call only).  Returns 0, or -1 with errstr to fail the fetch.
 */
typedef int(dlq_fetch_fn)(void *ctx, const rd_kafka_message_t *m, char *errstr,
                          size_t errstr_size);

/* How dlq_fetch() ended. */
enum dlq_fetch_res {
    DLQ_FETCH_OK,          /* @p fn was called and returned 0 */
    DLQ_FETCH_GONE,        /* no such record (deleted by retention?) */
    DLQ_FETCH_UNREACHABLE, /* the broker did not answer in time */
    DLQ_FETCH_FAILED       /* @p fn failed, or another error */
};

/**
 * @brief Read the record at @p partition / @p offset of DLQ_TOPIC with a
 *        throwaway consumer that joins no group, and hand it to @p fn.
 *        Every broker request is bounded by @p timeout_ms.
 * @returns how it ended; errstr says why unless DLQ_FETCH_OK.
 */
enum dlq_fetch_res dlq_fetch(const char *bootstrap, int32_t partition,
                             int64_t offset, int timeout_ms, dlq_fetch_fn *fn,
                             void *ctx, char *errstr, size_t errstr_size);

/**
 * @brief The value of header @p name of @p m (the last one when repeated),
 *        copied NUL-terminated into @p buf.
 * @returns @p buf, or NULL when @p m has no such header.
 */
const char *dlq_header(const rd_kafka_message_t *m, const char *name, char *buf,
                       size_t buf_size);

/** @returns records acknowledged so far (for stats and metrics). */
uint64_t dlq_sent_count(const struct dlq *d);

/** @brief Flush what is in flight (bounded) and free.  NULL-safe. */
void dlq_destroy(struct dlq *d);

#endif
