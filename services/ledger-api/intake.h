/*
 * intake — ledger-api's Kafka intake: the omnisync.movements.in.v1 topic,
 * one message per till receipt, keyed by outlet (docs/ledger-api.md
 * "Kafka intake"):
 *
 *   {"receipt": "R001-000123", "outlet": "R001", "ts": "...",
 *    "lines": [{"sku": "SKU-1", "qty": 2, "kind": "sale"}, ...]}
 *
 * Each line is one movement at the outlet (kind sale by default, or
 * return) with the idempotency key "till:OUTLET:RECEIPT:N", applied as one
 * batch through ledger/movebatch.h (the HTTP API's path) and committed
 * after the ledger's COMMIT: a redelivered receipt applies nothing again.
 * A malformed message (not JSON, missing fields, an unknown SKU or
 * outlet, a bad quantity) goes to omnisync.dlq.v1 with the reason and the
 * next one is applied; a ledger failure is retried.
 *
 * @locality the main thread.
 */
#ifndef OMNI_INTAKE_H
#define OMNI_INTAKE_H

#include <stddef.h>

struct api_cfg;
struct cfg;
struct metrics_family;
struct movements_intake;
struct ops;

/**
 * @brief Subscribe to the intake topic as group.id.
 * @param items (may be NULL) omnisync_api_items_total, counted with
 *              entry "kafka".
 * @returns the intake, or NULL with errstr.
 */
struct movements_intake *movements_intake_new(const struct api_cfg *c,
                                              const struct cfg *passthru,
                                              struct ops *ops,
                                              struct metrics_family *items,
                                              char *errstr, size_t errstr_size);

/**
 * @brief Poll and apply one message (up to 100 ms).
 * @returns 0, or -1 on a fatal consumer error.
 */
int movements_intake_poll(struct movements_intake *in);

/** @brief Close the consumer (commits).  @returns 0, 1 when it failed
 *  fatally.  NULL-safe (0). */
int movements_intake_drain(struct movements_intake *in);

/** @brief Free.  NULL-safe. */
void movements_intake_destroy(struct movements_intake *in);

#endif
