/*
 * movebatch — many stock movements, named the way the back office names
 * them (location codes, SKUs), applied in one transaction with one burst
 * of outbox events: all or nothing.
 *
 * The one write path of the bulk intake: `omnisync import stock`, the
 * ledger-api's POST /v1/movements (docs/ledger-api.md).  Each item is one
 * movement (receipt, sale, return, writeoff, transfer, count) with an
 * optional idempotency key; a key already in the ledger (or earlier in the
 * same batch) applies nothing and answers the first movement's id.  Every
 * item is checked first (kind, quantity, codes, SKUs); when any is bad,
 * each bad one carries its reason and nothing is written.
 *
 * Locking and events are the stock module's (ledger.h,
 * ledger_moves_apply()): the batch's locations and variants are locked in
 * ascending order before any movement is written, so concurrent batches
 * serialise per variant and do not deadlock.
 */
#ifndef OMNI_MOVEBATCH_H
#define OMNI_MOVEBATCH_H

#include <libpq-fe.h>
#include <stddef.h>

/* The largest quantity of one item (a count's on hand included). */
#define MOVEBATCH_QTY_MAX 1000000000LL
/* The longest idempotency key, location code, SKU or note, in bytes. */
#define MOVEBATCH_KEY_MAX 200
#define MOVEBATCH_NOTE_MAX 1000

/* movebatch_item.status */
enum movebatch_status {
    MOVEBATCH_PENDING = 0,   /* not applied (the batch failed or was bad) */
    MOVEBATCH_APPLIED = 1,   /* written now */
    MOVEBATCH_DUPLICATE = 2, /* its key was applied before: nothing now */
    MOVEBATCH_INVALID = 3,   /* bad: see field and error */
};

/* One movement of a batch.  The inputs are borrowed. */
struct movebatch_item {
    const char *kind;        /* receipt sale return writeoff transfer count */
    const char *key;         /* idempotency key (may be NULL) */
    const char *location;    /* location code (a transfer's source) */
    const char *to_location; /* a transfer's destination (else NULL) */
    const char *sku;
    long long qty;         /* > 0; a count: the on hand wanted, >= 0 */
    const char *note;      /* (may be NULL) */
    int key_required;      /* 1: a missing key is an error (the API's items) */
    long long document_id; /* the document it is a line of (0: none) */
    /* Results. */
    enum movebatch_status status;
    long long move_id; /* the movement (a duplicate: the first one) */
    long long delta;   /* on hand change at location (applied only) */
    long long on_hand; /* on hand at location after it (applied only) */
    const char *field; /* INVALID: the input field at fault */
    char error[160];   /* INVALID: the reason */
};

struct movebatch_summary {
    size_t applied;
    size_t duplicate;
    size_t invalid;
    long long events; /* stock.available events written */
};

#define MOVEBATCH_OK 0
#define MOVEBATCH_BAD 1 /* some items are invalid: nothing written */

/**
 * @brief Check, resolve and apply @p n items in one transaction of its own
 *        (BEGIN .. COMMIT; ROLLBACK when @p dry_run).
 * @param sum receives the counts (may be NULL).
 * @returns MOVEBATCH_OK, MOVEBATCH_BAD (items[i].status INVALID on the bad
 *          ones), or -1 with errstr (and @p sqlstate, 6 bytes, may be
 *          NULL) on a database failure: nothing written.
 */
int movebatch_apply(PGconn *pg, struct movebatch_item *items, size_t n,
                    int dry_run, struct movebatch_summary *sum, char *errstr,
                    size_t errstr_size, char *sqlstate);

/**
 * @brief movebatch_apply() inside the caller's open transaction (a
 *        document writes its row first, then its lines through this).
 *        After -1 the transaction is aborted: roll it back; after
 *        MOVEBATCH_BAD nothing was written by this call.
 * @param sum receives the counts.
 */
int movebatch_apply_tx(PGconn *pg, struct movebatch_item *items, size_t n,
                       struct movebatch_summary *sum, char *errstr,
                       size_t errstr_size, char *sqlstate);

/**
 * @brief Check one item's fields alone (no database): kind, quantity,
 *        non-empty codes, lengths.
 * @returns 0, or -1 with the item INVALID (field and error set).
 */
int movebatch_item_check(struct movebatch_item *it);

/** @returns the status as a word: "applied", "duplicate", "invalid",
 *  "pending". */
const char *movebatch_status_name(enum movebatch_status st);

#endif
