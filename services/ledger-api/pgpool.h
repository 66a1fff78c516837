/*
 * pgpool — a few ledger connections shared by ledger-api's request
 * threads (each request takes one for its transaction and gives it back).
 * A connection found broken is reconnected when next taken.
 *
 * @locality any thread.
 */
#ifndef OMNI_PGPOOL_H
#define OMNI_PGPOOL_H

#include <libpq-fe.h>
#include <stddef.h>

struct pgpool;

/**
 * @brief A pool of @p n connections to @p dsn (copied), connected lazily.
 * @returns the pool, or NULL when out of memory.
 */
struct pgpool *pgpool_new(const char *dsn, size_t n, const char *app);

/**
 * @brief Take a connection, waiting for one to be free.
 * @returns the connection (give it back with pgpool_put()), or NULL with
 *          errstr when the ledger cannot be reached.
 */
PGconn *pgpool_get(struct pgpool *p, char *errstr, size_t errstr_size);

/** @brief Give @p pg back (NULL: no-op). */
void pgpool_put(struct pgpool *p, PGconn *pg);

/** @brief Close every connection and free.  NULL-safe. */
void pgpool_destroy(struct pgpool *p);

#endif
