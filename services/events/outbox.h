/*
 * outbox — the ledger's transactional outbox (table outbox).
 *
 * Writers: call outbox_add() inside the transaction that makes the change,
 * after the entity row is written (that row lock keeps per-key order; see
 * DESIGN.md).  The relay (docs/outbox-relay.md) reads the unsent rows in
 * id order, marks the delivered ones sent and prunes old sent rows;
 * `omnisync status` counts them.  Every statement on the table is here.
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
 * @brief Insert @p n outbox rows of one topic and type in one statement
 *        (a COPY), in array order (their ids ascend in that order).
 * @param keys   @p n partition keys.
 * @param datas  @p n payloads, each already a compact JSON text.
 * @returns 0, or -1 with errstr.
 */
int outbox_add_many(PGconn *pg, const char *topic, const char *type,
                    const char *const *keys, const char *const *datas, size_t n,
                    char *errstr, size_t errstr_size);

/**
 * @brief outbox_add_many() with a store name per row.
 * @param stores @p n store names (an entry or the whole array may be NULL:
 *               store-independent rows).  A key longer than 200 bytes
 *               is refused (nothing written).
 * @returns 0, or -1 with errstr.
 */
int outbox_add_rows(PGconn *pg, const char *topic, const char *type,
                    const char *const *keys, const char *const *stores,
                    const char *const *datas, size_t n, char *errstr,
                    size_t errstr_size);

/**
 * @brief The relay's backlog: unsent rows (sent_at IS NULL) and the age
 *        of the oldest one in seconds (0 when none), by the server's
 *        clock.
 * @returns 0, or -1 with errstr.
 */
int outbox_backlog(PGconn *pg, long long *rows, double *oldest_age_s,
                   char *errstr, size_t errstr_size);

/* One unsent row (strings borrowed from its batch). */
struct outbox_row {
    long long id;
    const char *event_id;
    const char *topic;
    const char *type;
    const char *key;
    const char *store;      /* NULL for store-independent events */
    const char *data;       /* the payload, JSON text */
    const char *created_at; /* RFC 3339 in UTC with milliseconds */
};

/* Rows read by outbox_unsent_read(); release with outbox_batch_clear(). */
struct outbox_batch {
    struct outbox_row *rows;
    size_t n;
    PGresult *res; /* holds the rows' strings */
};

/**
 * @brief Read the first @p limit unsent rows with an id above @p after_id
 *        in id order.  0 reads from the start: ids are not commit order,
 *        so a reader that goes on after an id must come back to the start
 *        to find rows that committed late.
 * @param b filled (zeroed on failure).
 * @returns 0, or -1 with errstr.
 */
int outbox_unsent_read(PGconn *pg, long long limit, long long after_id,
                       struct outbox_batch *b, char *errstr,
                       size_t errstr_size);

/** @brief Free a batch's rows and zero it.  NULL-safe; idempotent. */
void outbox_batch_clear(struct outbox_batch *b);

/**
 * @brief Mark the rows @p ids sent (now()).
 * @returns 0, or -1 with errstr.
 */
int outbox_sent_mark(PGconn *pg, const long long *ids, size_t n, char *errstr,
                     size_t errstr_size);

/* Rows outbox_prune() deletes at most per call. */
#define OUTBOX_PRUNE_ROWS 1000

/**
 * @brief Set aside row @p id, which can never be published (Kafka refuses
 *        the message itself): sent_at is set so the outbox moves on, and
 *        dead_reason keeps @p reason; the row is never pruned.
 * @returns 0, or -1 with errstr.
 */
int outbox_dead_mark(PGconn *pg, long long id, const char *reason, char *errstr,
                     size_t errstr_size);

/**
 * @brief Delete up to OUTBOX_PRUNE_ROWS rows sent more than
 *        @p retention_hours ago, oldest first (small statements, so no
 *        long lock holds the table).
 * @returns the number deleted, or -1 with errstr.
 */
long long outbox_prune(PGconn *pg, long long retention_hours, char *errstr,
                       size_t errstr_size);

/* What `omnisync status` shows of the outbox. */
struct outbox_counts {
    long long pending;
    int has_oldest;                 /* 0 when nothing is pending */
    long long oldest_pending_age_s; /* the oldest unsent row's age */
    long long sent;                 /* sent rows not pruned yet */
};

/** @brief Fill @p c.  @returns 0, or -1 with errstr. */
int outbox_counts(PGconn *pg, struct outbox_counts *c, char *errstr,
                  size_t errstr_size);

/**
 * @brief The unsent rows that concern store @p store (its own events and
 *        store-independent ones) into @p c: pending, the oldest's age
 *        (c->sent is not filled).
 * @returns 0, or -1 with errstr.
 */
int outbox_store_backlog(PGconn *pg, const char *store, struct outbox_counts *c,
                         char *errstr, size_t errstr_size);

#endif
