/*
 * apply — the order-ingestor's back half: consumes omnisync.orders.v1
 * (group.id, default omnisync-order-apply), has the store's
 * platform parse each raw order (store/platform.h, order_parse) and writes
 * that version into the ledger with orders_apply() (ledger/orders.h), one
 * Postgres transaction per message.  The offset is committed only after that
 * transaction committed (or the message was found stale, or
 * dead-lettered), so a replay after a crash changes nothing.  A message
 * that cannot be decoded, or an order that can never apply, goes to
 * omnisync.dlq.v1 with its topic/partition/offset and reason, then its
 * offset is committed.  Transient failures retry the same message with
 * a capped backoff.
 */
#ifndef OMNI_APPLY_H
#define OMNI_APPLY_H

#include <stddef.h>

struct cfg;
struct oi_cfg;
struct order_apply;

/**
 * @brief Create the consumer and the DLQ writer and subscribe; Postgres is
 *        connected lazily (with backoff).
 * @returns the applier, or NULL with errstr.
 */
struct order_apply *order_apply_new(const struct oi_cfg *c,
                                    const struct cfg *passthru, char *errstr,
                                    size_t errstr_size);

/**
 * @brief Wait up to 100 ms for one message and handle it completely
 *        (apply + commit, dead-letter + commit, or retry until done or
 *        stopped: then it stays uncommitted).
 * @returns 0, or -1 on a fatal error (the caller stops).
 */
int order_apply_poll(struct order_apply *a);

/**
 * @brief Leave the group.
 * @returns 0 clean, 1 when a fatal error happened.
 */
int order_apply_drain(struct order_apply *a);

/** @brief Free.  NULL-safe. */
void order_apply_destroy(struct order_apply *a);

#endif
