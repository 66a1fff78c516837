/*
 * dlq_record — the ledger's note of a dead-lettered message (table
 * dlq_record, migration 0003), written by a service after dlq_send()
 * succeeded, so `omnisync status` counts failures per store and
 * `omnisync sync` stops waiting for what was dead-lettered.
 */
#ifndef OMNI_DLQ_RECORD_H
#define OMNI_DLQ_RECORD_H

#include <libpq-fe.h>
#include <stddef.h>

/**
 * @brief Insert one row.
 * @param store_id the store's ledger id, 0 for none (SQL NULL).
 * @param entity   "product", "image", ... (may be NULL).
 * @param local_id the ledger id of @p entity (ignored when @p entity is
 *                 NULL).
 * @returns 0, or -1 with errstr (callers log it: the DLQ record itself is
 *          already safe).
 */
int dlq_record_add(PGconn *pg, long long store_id, const char *service,
                   const char *entity, long long local_id, const char *key,
                   const char *reason, char *errstr, size_t errstr_size);

/**
 * @brief How many messages of store @p store_id were dead-lettered.
 * @returns 0, or -1 with errstr.
 */
int dlq_record_count(PGconn *pg, long long store_id, long long *n, char *errstr,
                     size_t errstr_size);

/**
 * @brief The local ids of @p entity dead-lettered for store @p store_id
 *        since @p since (a timestamptz text, e.g. the ledger's now() at
 *        the start of a run), each once, ascending.
 * @param ids receives a malloc()ed array (caller frees).
 * @returns 0, or -1 with errstr.
 */
int dlq_record_local_ids(PGconn *pg, long long store_id, const char *entity,
                         const char *since, long long **ids, size_t *n,
                         char *errstr, size_t errstr_size);

/* What `omnisync status` shows of a store's dead letters. */
struct dlq_record_summary {
    long long count;  /* rows of the store */
    long long newest; /* the newest row's time, seconds since the epoch */
    char service[64]; /* the newest row's service ("" when none) */
    char reason[256]; /* its reason, cut to fit */
};

/**
 * @brief Count store @p store_id's rows and describe the newest.
 * @returns 0, or -1 with errstr.
 */
int dlq_record_summary(PGconn *pg, long long store_id,
                       struct dlq_record_summary *s, char *errstr,
                       size_t errstr_size);

#endif
