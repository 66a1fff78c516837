/*
 * outbox — write events into the ledger's transactional outbox.
 *
 * Call inside the transaction that makes the change, after the entity
 * row is written (that row lock keeps per-key order; see DESIGN.md).
 */
#ifndef OMNI_OUTBOX_H
#define OMNI_OUTBOX_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

/**
 * @brief Insert one outbox row.
 * @param topic  Kafka topic (e.g. "omnisync.catalog.v1").
 * @param type   envelope type (e.g. "catalog.product").
 * @param key    partition key (DESIGN.md: product id, "store:variant", ...).
 * @param store  store name (may be NULL for store-independent events).
 * @param data   event payload (borrowed; serialised compactly).
 * @returns 0, or -1 with errstr.
 */
int outbox_add(PGconn *pg, const char *topic, const char *type, const char *key,
               const char *store, const json_t *data, char *errstr,
               size_t errstr_size);

/**
 * @brief The relay's backlog: unsent rows (sent_at IS NULL) and the age
 *        of the oldest one in seconds (0 when none), by the server's
 *        clock.
 * @returns 0, or -1 with errstr.
 */
int outbox_backlog(PGconn *pg, long long *rows, double *oldest_age_s,
                   char *errstr, size_t errstr_size);

#endif
