/*
 * dlq_record — the ledger's note of a dead-lettered message (table
 * dlq_record, migrations 0003 and 0007), written by a service after
 * dlq_send() succeeded.  It says where the record is in omnisync.dlq.v1,
 * where the message came from and what an operator did with it (state
 * open / replayed / dropped), so `omnisync status` counts the open ones
 * as failed, `omnisync sync` stops waiting for what was dead-lettered, and
 * `omnisync dlq` lists, shows, replays and drops them (docs/cli.md).
 */
#ifndef OMNI_DLQ_RECORD_H
#define OMNI_DLQ_RECORD_H

#include <libpq-fe.h>
#include <stddef.h>

struct dlq_ref;

/* One dead letter to note. */
struct dlq_record_note {
    long long store_id;        /* the store's ledger id, 0: none (NULL) */
    const char *store;         /* the store the message named, as named
                                  (may be NULL: none or unreadable) */
    const char *service;       /* the service that gave up */
    const char *entity;        /* "product", "image", ... (may be NULL) */
    long long local_id;        /* the ledger id of entity (if entity) */
    const char *key;           /* the message key (may be NULL) */
    const char *reason;        /* why */
    const struct dlq_ref *ref; /* dlq_last() after the send (may be NULL:
                                  the row cannot be shown or replayed) */
};

/**
 * @brief Insert one row; a row for the same DLQ record is kept as it is.
 * @returns 0, or -1 with errstr (callers log it: the DLQ record itself is
 *          already safe).
 */
int dlq_record_add(PGconn *pg, const struct dlq_record_note *n, char *errstr,
                   size_t errstr_size);

/**
 * @brief How many messages of store @p store_id were dead-lettered and
 *        are still open (neither replayed nor dropped); @p store_id <= 0
 *        counts those that named no known store.
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

/*
 * The columns of every row dlq_record_list() and dlq_record_get() return,
 * in this order, with their JSON types: 'i' integer, 'I' integer or null,
 * 's' string, 'n' string or null.  Times are RFC 3339 UTC text.
 */
#define DLQ_RECORD_NCOLS 18
extern const char *const dlq_record_cols[DLQ_RECORD_NCOLS];
extern const char dlq_record_types[DLQ_RECORD_NCOLS + 1];

/* What dlq_record_list() selects; NULL fields match everything. */
struct dlq_record_filter {
    const char *state;   /* "open", "replayed", "dropped"; NULL: any */
    const char *topic;   /* original topic (or source) */
    const char *store;   /* store name (known, or as the message named) */
    const char *since;   /* timestamptz text */
    const char *since_s; /* or: seconds before now() */
};

/**
 * @brief The rows matching @p f, oldest first.
 * @returns the result (caller PQclear()s it), or NULL with errstr;
 *          @p sqlstate (may be NULL; 6 bytes) tells a bad --since (22xxx)
 *          from a lost connection.
 */
PGresult *dlq_record_list(PGconn *pg, const struct dlq_record_filter *f,
                          char *errstr, size_t errstr_size, char *sqlstate);

/**
 * @brief Row @p id (no row when there is none); with @p lock, FOR UPDATE
 *        (inside the caller's transaction).
 * @returns as dlq_record_list().
 */
PGresult *dlq_record_get(PGconn *pg, long long id, int lock, char *errstr,
                         size_t errstr_size);

/**
 * @brief Mark row @p id replayed once more (state replayed, replay_count
 *        + 1, replayed_at now()).
 * @returns the new replay_count, or -1 with errstr.
 */
long long dlq_record_mark_replayed(PGconn *pg, long long id, char *errstr,
                                   size_t errstr_size);

/**
 * @brief Mark row @p id dropped (state dropped, dropped_at now()) unless it
 *        is already.
 * @returns 1 when marked, 0 when it was dropped already or has no row, -1
 *          with errstr.
 */
int dlq_record_mark_dropped(PGconn *pg, long long id, char *errstr,
                            size_t errstr_size);

#endif
