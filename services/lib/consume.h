/*
 * consume — the per-message loop every consuming service runs: take one
 * message, hand it to the service until it is done, then commit its
 * offset.  The handler's enum outcome (lib/outcome.h) decides:
 *   OUTCOME_OK        processed, skipped or dead-lettered: commit
 *   OUTCOME_PAUSED    the store's limit: try again at once (the budget
 *                     already holds the call until the store's wait ends)
 *   OUTCOME_RETRY     transient: try again after a capped exponential
 *                     backoff that shutdown interrupts
 *   OUTCOME_REJECTED  the handler could not dead-letter it: as RETRY
 * A message is committed only after its handler said it is done, so a
 * crash at any point redelivers it; handlers are idempotent.
 *
 * @locality one thread: the consumer's.
 */
#ifndef OMNI_CONSUME_H
#define OMNI_CONSUME_H

#include "lib/kafka.h"
#include "lib/outcome.h"

#include <stddef.h>
#include <stdint.h>

/**
 * Handle one message.  @p reason (size @p reason_size) receives why a
 * retry is needed; it is logged by the loop.
 */
typedef enum outcome(consume_fn)(void *ctx, const rd_kafka_message_t *m,
                                 char *reason, size_t reason_size);

struct consume_loop {
    struct kafka_consumer *kc; /* borrowed */
    consume_fn *fn;
    void *ctx;
    long backoff_max_ms; /* cap of the doubling backoff (from 500 ms) */
    uint64_t n_msgs;     /* messages taken (for stats) */
    uint64_t n_retries;  /* handler retries (for stats) */
    int fatal;           /* the consumer hit a fatal error */
};

/**
 * @brief Poll one message (up to KAFKA_POLL_MS) and handle it to the end.
 * @returns 1 when a message was handled and committed, 0 when none came
 *          or a stop request left it uncommitted (redelivered on
 *          restart), -1 on a fatal consumer error.
 */
int consume_once(struct consume_loop *cl);

#endif
