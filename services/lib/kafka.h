/*
 * kafka — thin producer and consumer wrappers over librdkafka.
 *
 * The producer is always idempotent (enable.idempotence=true, acks=all):
 * the broker de-duplicates librdkafka's internal retries and keeps order per
 * partition, so a message is either delivered once, in order, or reported
 * failed.  Delivery reports reach the caller through a callback served by
 * kafka_producer_poll()/kafka_producer_flush() on the calling thread.
 *
 * The consumer never commits on its own (enable.auto.commit=false): the
 * caller commits a message's offset + 1 after it has applied the message.
 *
 * librdkafka's own log lines are routed to log.h; error_cb treats only
 * RD_KAFKA_RESP_ERR__FATAL as fatal (see kafka_producer_fatal()).
 *
 * The "kafka.*" passthrough keys reach only the clients they are for: a
 * producer is not given consumer properties (session.timeout.ms, ...) and
 * a consumer not producer ones (linger.ms, ...), as librdkafka's property
 * table scopes them; keys for both, and keys librdkafka does not know
 * (reported as errors), go to every client.
 *
 * A consumer emits librdkafka statistics every statistics.interval.ms
 * (default KAFKA_STATS_MS_DEFAULT; "kafka.statistics.interval.ms"
 * changes it, 0 turns them off); the latest is kept for metrics
 * (kafka_consumer_metrics_register(), lib/kstats.h).
 */
#ifndef OMNI_KAFKA_H
#define OMNI_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

struct cfg;
struct metrics;

/* Poll timeout every consumer loop uses (STYLE.md §7). */
#define KAFKA_POLL_MS 100
/* A consumer's statistics interval unless kafka.statistics.interval.ms. */
#define KAFKA_STATS_MS_DEFAULT "5000"

/* One message header; both strings are borrowed for the call only. */
struct kafka_header {
    const char *name;
    const char *value;
};

/*
 * Delivery report: @p msg_opaque is the value given to kafka_produce(),
 * @p err is RD_KAFKA_RESP_ERR_NO_ERROR when the broker acknowledged the
 * message (acks=all), @p partition/@p offset where it landed (-1 when
 * unknown), @p opaque the value given to kafka_producer_new().
 */
typedef void(kafka_dr_fn)(void *msg_opaque, rd_kafka_resp_err_t err,
                          int32_t partition, int64_t offset, void *opaque);

struct kafka_producer;
struct kafka_consumer;

/**
 * @brief Create an idempotent producer.
 *
 * Settings, in order: bootstrap.servers, then every "kafka.*" passthrough
 * key of @p passthru verbatim (prefix stripped), then the settings this
 * wrapper owns: enable.idempotence=true and acks=all (a passthrough value
 * for these two is overridden).
 *
 * @param bootstrap   bootstrap servers (may be NULL when a passthrough key
 *                    such as test.mock.num.brokers provides a cluster).
 * @param passthru    config handle whose "kafka." keys are applied (may be
 *                    NULL; borrowed for the call only).
 * @param dr          delivery report callback (may be NULL).
 * @param opaque      passed to @p dr (may be NULL).
 * @param errstr      receives the reason on failure; a bad passthrough key
 *                    is reported as "kafka.<key>: <librdkafka reason>".
 * @param errstr_size size of @p errstr.
 * @returns the producer (free with kafka_producer_destroy()), or NULL.
 */
struct kafka_producer *kafka_producer_new(const char *bootstrap,
                                          const struct cfg *passthru,
                                          kafka_dr_fn *dr, void *opaque,
                                          char *errstr, size_t errstr_size);

/**
 * @brief Enqueue one message.  Waits (serving delivery reports) while the
 *        local queue is full, up to @p block_ms.
 *
 * @param topic      topic name (borrowed).
 * @param key        message key (may be NULL), @p key_len bytes.
 * @param value      message value, @p value_len bytes, copied.
 * @param hdrs       @p nhdrs headers (may be NULL when @p nhdrs is 0).
 * @param msg_opaque handed back in the delivery report.
 * @param block_ms   how long to wait for queue space.
 * @returns 0 when queued (exactly one delivery report will follow), -1
 *          with errstr (no report will follow), or -2 when this message
 *          can never be produced (kafka_err_message_bad(): too large, ...).
 */
int kafka_produce(struct kafka_producer *p, const char *topic, const void *key,
                  size_t key_len, const void *value, size_t value_len,
                  const struct kafka_header *hdrs, size_t nhdrs,
                  void *msg_opaque, int block_ms, char *errstr,
                  size_t errstr_size);

/**
 * @brief Whether @p err condemns the message itself (too large, invalid),
 *        so producing it again can never succeed, as opposed to the
 *        cluster's trouble, which a retry outlives.
 */
int kafka_err_message_bad(rd_kafka_resp_err_t err);

/**
 * @brief Serve delivery reports and error callbacks for up to
 *        @p timeout_ms (0: non-blocking).
 * @returns the number of events served.
 */
int kafka_producer_poll(struct kafka_producer *p, int timeout_ms);

/**
 * @brief Wait until every queued message has a delivery report, serving
 *        the reports, for at most @p timeout_ms.
 * @returns 0 when nothing is left in flight, -1 on timeout.
 */
int kafka_producer_flush(struct kafka_producer *p, int timeout_ms);

/** @returns messages queued or in flight (without a delivery report). */
int kafka_producer_outq_len(struct kafka_producer *p);

/**
 * @brief Whether the producer hit a fatal error (e.g. the idempotence
 *        sequence broke).  A fatal producer cannot send any more: the
 *        caller must stop, and a restart re-sends what was not reported.
 * @param errstr receives the fatal reason when one occurred (may be NULL).
 * @returns 1 when fatal, 0 otherwise.
 */
int kafka_producer_fatal(struct kafka_producer *p, char *errstr,
                         size_t errstr_size);

/**
 * @brief The underlying handle, borrowed, valid until
 *        kafka_producer_destroy() (e.g. for rd_kafka_handle_mock_cluster()).
 */
rd_kafka_t *kafka_producer_handle(struct kafka_producer *p);

/**
 * @brief Learn the partitions of the topics @p names now (one metadata
 *        request, waiting up to @p timeout_ms): librdkafka asks for a topic
 *        it has not produced to only on its next periodic scan, so the
 *        first message to each would wait up to a second.  The topics
 *        found stay known until kafka_producer_destroy(); one the cluster
 *        does not have is looked up when first used.  Optional: without
 *        it (or when it fails) producing works, only the first message of
 *        each topic waits.
 * @returns 0, or -1 with errstr (e.g. no broker answered in time).
 */
int kafka_producer_topics(struct kafka_producer *p, const char *const *names,
                          size_t n, int timeout_ms, char *errstr,
                          size_t errstr_size);

/**
 * @brief Destroy the producer.  Messages still queued are dropped without
 *        a delivery report: call kafka_producer_flush() first.  NULL-safe.
 */
void kafka_producer_destroy(struct kafka_producer *p);

/**
 * @brief Create a consumer in group @p group_id with
 *        enable.auto.commit=false and auto.offset.reset=earliest (both may
 *        be overridden by a passthrough key).
 *
 * @param bootstrap   bootstrap servers.
 * @param group_id    consumer group.
 * @param passthru    config handle whose "kafka." keys are applied (may be
 *                    NULL; borrowed for the call only).
 * @param errstr      receives the reason on failure.
 * @param errstr_size size of @p errstr.
 * @returns the consumer (free with kafka_consumer_destroy()), or NULL.
 */
struct kafka_consumer *kafka_consumer_new(const char *bootstrap,
                                          const char *group_id,
                                          const struct cfg *passthru,
                                          char *errstr, size_t errstr_size);

/**
 * @brief Subscribe to @p ntopics topics (names borrowed for the call).
 * @returns 0, or -1 with errstr.
 */
int kafka_consumer_subscribe(struct kafka_consumer *c,
                             const char *const *topics, size_t ntopics,
                             char *errstr, size_t errstr_size);

/**
 * @brief Wait up to @p timeout_ms (use KAFKA_POLL_MS) for one message.
 *
 * Consumer errors and partition-EOF events are logged and reported as
 * "no message"; a fatal consumer error is remembered (see
 * kafka_consumer_fatal()).
 *
 * @returns a message with err == 0 (owned: free with
 *          rd_kafka_message_destroy()), or NULL when none arrived.
 */
rd_kafka_message_t *kafka_consumer_poll(struct kafka_consumer *c,
                                        int timeout_ms);

/**
 * @brief Commit @p msg's offset + 1 for its partition.
 * @param msg   a message from kafka_consumer_poll() (borrowed).
 * @param async 0: wait for the broker's answer; 1: send and return.
 * @returns 0, or -1 with errstr (synchronous commits only).
 */
int kafka_consumer_commit(struct kafka_consumer *c,
                          const rd_kafka_message_t *msg, int async,
                          char *errstr, size_t errstr_size);

/** @returns 1 when the consumer hit a fatal error, 0 otherwise. */
int kafka_consumer_fatal(struct kafka_consumer *c);

/**
 * @brief The underlying handle, borrowed, valid until
 *        kafka_consumer_destroy().
 */
rd_kafka_t *kafka_consumer_handle(struct kafka_consumer *c);

/**
 * @brief Leave the group (revokes partitions, commits nothing on its own).
 *        Idempotent.
 * @returns 0, or -1 when the close reported an error (logged).
 */
int kafka_consumer_close(struct kafka_consumer *c);

/** @brief Close (if not closed yet) and free.  NULL-safe. */
void kafka_consumer_destroy(struct kafka_consumer *c);

/**
 * @brief Report the consumer's lag per partition and its assignment size
 *        in @p m, from its latest statistics (lib/kstats.h).
 * @param group the consumer group, the families' "group" label (copied).
 * @returns 0, or -1 when the families could not be registered (logged).
 */
int kafka_consumer_metrics_register(struct kafka_consumer *c, struct metrics *m,
                                    const char *group);

/**
 * @brief How many partitions the consumer has assigned now
 *        (rd_kafka_assignment()).
 * @returns the count, or -1 when librdkafka could not tell.
 * @locality any thread.
 */
int kafka_consumer_assigned(struct kafka_consumer *c);

/**
 * @brief Whether client @p rk can reach Kafka: it has no fatal error and a
 *        broker answers a metadata request within @p timeout_ms.  For
 *        readiness checks.
 * @returns 0, or -1 with a short @p reason.
 * @locality any thread (librdkafka handles are thread-safe).
 */
int kafka_check(rd_kafka_t *rk, int timeout_ms, char *reason,
                size_t reason_size);

#endif
