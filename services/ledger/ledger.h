/*
 * ledger — the stock module: locations, stock movements (the one way
 * stock levels change) and stock levels.
 *
 * A movement (receipt, sale, transfer, count, reserve, ...) is appended to
 * the movement ledger with its lines, the stock_level rows are updated,
 * and for every store selling from an affected location a
 * "stock.available" outbox event is written per affected variant
 * (docs/events.md), all in the caller's transaction.  The event carries
 * the store's available quantity and the variant's price and old price in
 * the store's price list (read by the availability query, stores.h), so
 * one compacted event per store:variant holds everything stock-publisher
 * pushes.
 *
 * Concurrency (DESIGN.md "Availability races"): the variant rows of a
 * movement are locked FOR UPDATE in ascending id order before any level
 * is read, so two movements of one variant are serialised and each event
 * carries the value after the latest commit.  Locations are locked FOR KEY
 * SHARE first (ascending), which lets a store setting change lock its
 * source locations FOR UPDATE and see no movement in flight.
 */
#ifndef OMNI_LEDGER_H
#define OMNI_LEDGER_H

#include <libpq-fe.h>
#include <stddef.h>

/* Movement kinds (stock_movement.kind). */
#define LEDGER_RECEIPT "receipt"
#define LEDGER_SALE "sale"
#define LEDGER_RETURN "return"
#define LEDGER_WRITEOFF "writeoff"
#define LEDGER_TRANSFER "transfer"
#define LEDGER_COUNT "count"
#define LEDGER_RESERVE "reserve"
#define LEDGER_RELEASE "release"
#define LEDGER_SHIP "ship"

/* One line of a movement: a change at one location of one variant. */
struct ledger_line {
    long long location_id;
    long long variant_id;
    /* Change of on hand; when on_hand_absolute is set, the on-hand value
     * wanted instead (a count): ledger_move_apply() replaces it with the
     * delta computed under the variant lock. */
    long long on_hand_delta;
    long long reserved_delta;
    int on_hand_absolute;
    /* Filled by ledger_move_apply(): the level after this line. */
    long long on_hand_after;
    long long reserved_after;
};

/* A movement to apply. */
struct ledger_move {
    const char *kind;      /* LEDGER_* */
    const char *idem_key;  /* idempotency key (may be NULL) */
    long long order_id;    /* customer_order id, 0 for none */
    const char *note;      /* free text (may be NULL) */
    long long document_id; /* the document it is a line of, 0 for none */
    struct ledger_line *lines;
    size_t nlines;
};

enum ledger_res {
    LEDGER_ERR = -1,      /* failed: roll the transaction back */
    LEDGER_APPLIED = 0,   /* movement written */
    LEDGER_DUPLICATE = 1, /* idem_key already applied: nothing changed */
};

/**
 * @brief Apply a movement inside the caller's open transaction.
 *
 * Inserts the movement (ON CONFLICT on idem_key: LEDGER_DUPLICATE, nothing
 * else happens), locks locations and variants, inserts the lines, upserts
 * stock_level, then writes the stock.available outbox events.
 *
 * @param m       the movement; its lines' *_after fields (and a count
 *                line's on_hand_delta) are filled in.
 * @param move_id receives the new movement's id (may be NULL).
 * @returns LEDGER_APPLIED, LEDGER_DUPLICATE, or LEDGER_ERR with errstr
 *          (and @p sqlstate, 6 bytes, may be NULL) set; after LEDGER_ERR
 *          the transaction is aborted and must be rolled back.
 */
enum ledger_res ledger_move_apply(PGconn *pg, struct ledger_move *m,
                                  long long *move_id, char *errstr,
                                  size_t errstr_size, char *sqlstate);

/**
 * @brief Apply @p n movements inside the caller's open transaction, with
 *        one burst of stock.available events after all of them.
 *
 * Locks every location and variant of the batch first (ascending), then
 * inserts each movement (a repeated idempotency key, also one repeated
 * inside the batch, is LEDGER_DUPLICATE: nothing written, ids[i] the
 * first movement's id) and its lines, then writes the events of the
 * applied ones.  Lines' *_after fields are filled as ledger_move_apply()
 * does.
 * @param res receives @p n results (LEDGER_APPLIED or LEDGER_DUPLICATE).
 * @param ids receives @p n movement ids.
 * @returns the number of events written, or -1 with errstr (and
 *          @p sqlstate, may be NULL): roll the transaction back.
 */
long long ledger_moves_apply(PGconn *pg, struct ledger_move *ms, size_t n,
                             enum ledger_res *res, long long *ids, char *errstr,
                             size_t errstr_size, char *sqlstate);

/**
 * @brief The movement with idempotency key @p idem_key.
 * @returns 1 (*id set), 0 when there is none, -1 with errstr.
 */
int ledger_move_find(PGconn *pg, const char *idem_key, long long *id,
                     char *errstr, size_t errstr_size);

/**
 * @brief ledger_move_apply() in a transaction of its own (BEGIN ..
 *        COMMIT, rolled back on error).
 */
enum ledger_res ledger_move_apply_tx(PGconn *pg, struct ledger_move *m,
                                     long long *move_id, char *errstr,
                                     size_t errstr_size, char *sqlstate);

/**
 * @brief Lock locations FOR UPDATE in ascending id order, waiting for
 *        every movement in flight at them (store setting changes call this
 *        before writing rows that reference the locations).
 * @returns 0, or -1 with errstr (also when an id does not exist).
 */
int ledger_locations_lock(PGconn *pg, const long long *ids, size_t n,
                          char *errstr, size_t errstr_size);

/**
 * @brief Emit stock.available for every variant with stock (on hand or
 *        reserved not zero) at any source location of store @p store_id,
 *        in the caller's transaction.  Use after a store's settings
 *        change.  Locks the store's source locations FOR UPDATE first, so
 *        no movement at them is in flight while the values are read.
 * @returns the number of events written, or -1 with errstr.
 */
long long ledger_store_available_emit(PGconn *pg, long long store_id,
                                      char *errstr, size_t errstr_size);

/**
 * @brief Emit stock.available with the current values of one store's
 *        variant (available, levels, and its price in the store's price
 *        list), in the caller's transaction, whether or not it has stock.
 *
 * Used when something other than a movement makes the store's copy stale:
 * catalog-publisher after it records a variant's remote id (a push parked
 * for the unmapped variant is released), `omnisync reconcile --repair`.
 * Locks the variant row FOR UPDATE first (as movements do), so the event
 * carries the value after the latest commit.
 * @returns the number of events written (0 when the store or variant does
 *          not exist, else 1), or -1 with errstr.
 */
long long ledger_variant_available_emit(PGconn *pg, long long store_id,
                                        long long variant_id, char *errstr,
                                        size_t errstr_size);

/**
 * @brief Emit stock.available for every store whose price list is
 *        @p price_list_id, for each of the @p n variants (a price change),
 *        in the caller's transaction, after the price rows are written.
 *        Locks the variant rows FOR UPDATE (ascending) first.
 * @param variant_ids the changed variants (duplicates allowed).
 * @returns the number of events written, or -1 with errstr.
 */
long long ledger_price_available_emit(PGconn *pg, long long price_list_id,
                                      const long long *variant_ids, size_t n,
                                      char *errstr, size_t errstr_size);

/* What a store shows of each variant (stocked at its sources or priced in
 * its list), taken before its settings change. */
struct ledger_avail_snap;

/**
 * @brief Take what store @p store_id shows now (availability, price, old
 *        price of every variant stocked at its sources or sellable in its
 *        price list), in the caller's transaction, before its settings
 *        change.  Lock the old and new source locations first
 *        (ledger_locations_lock()).
 * @returns the snapshot (ledger_avail_snap_free()), or NULL with errstr.
 */
struct ledger_avail_snap *ledger_avail_snap_take(PGconn *pg, long long store_id,
                                                 char *errstr,
                                                 size_t errstr_size);

/** @brief Free a snapshot.  NULL-safe. */
void ledger_avail_snap_free(struct ledger_avail_snap *s);

/**
 * @brief After the store's settings changed (same transaction): emit
 *        stock.available for exactly the variants whose availability,
 *        price or old price in the store now differs from @p before (or
 *        that the store shows only now), so the store gets the new values
 *        with the fewest pushes.
 * @returns the number of events written, or -1 with errstr.
 */
long long ledger_avail_changed_emit(PGconn *pg, long long store_id,
                                    const struct ledger_avail_snap *before,
                                    char *errstr, size_t errstr_size);

/**
 * @brief What a store may sell: @p on_hand - @p reserved - @p safety
 *        (sums over the store's source locations), never below 0.
 */
long long ledger_available_calc(long long on_hand, long long reserved,
                                long long safety);

/**
 * @brief Lock in the ledger's order, in the caller's transaction: the
 *        locations FOR KEY SHARE, then the variants FOR UPDATE, each in
 *        ascending id order, so the levels read next under the lock are
 *        the latest committed ones (an order's reservation reads them
 *        before it moves stock).  Unknown ids lock nothing.
 * @returns 0, or -1 with errstr (and @p sqlstate, may be NULL).
 */
int ledger_stock_lock(PGconn *pg, const long long *location_ids, size_t nloc,
                      const long long *variant_ids, size_t nvar, char *errstr,
                      size_t errstr_size, char *sqlstate);

/**
 * @brief What each of the @p n locations has available of variant
 *        @p variant_id: avail[i] = on hand - reserved at location_ids[i]
 *        (0 when it has no level).
 * @returns 0, or -1 with errstr (and @p sqlstate, may be NULL).
 */
int ledger_level_available(PGconn *pg, long long variant_id,
                           const long long *location_ids, size_t n,
                           long long *avail, char *errstr, size_t errstr_size,
                           char *sqlstate);

/**
 * @brief The stock levels `stock show` prints, by location code then SKU
 *        (bytewise).
 * @param location a location code to keep (may be NULL: all).
 * @param sku      a SKU to keep (may be NULL: all).
 * @returns the rows (PQclear() them), columns: location code, sku,
 *          on_hand, reserved; or NULL with errstr.
 */
PGresult *ledger_level_list(PGconn *pg, const char *location, const char *sku,
                            char *errstr, size_t errstr_size);

/**
 * @brief The lines of the movement with idempotency key @p idem_key,
 *        summed per location and variant, ordered by variant then
 *        location: each line's on_hand_delta and reserved_delta hold the
 *        sums (none when no such movement).
 * @param lines receives a malloc()ed array (caller frees; NULL when none).
 * @returns 0, or -1 with errstr (and @p sqlstate, may be NULL).
 */
int ledger_move_sums(PGconn *pg, const char *idem_key,
                     struct ledger_line **lines, size_t *n, char *errstr,
                     size_t errstr_size, char *sqlstate);

/**
 * @brief What every movement of customer order @p order_id did, summed
 *        per location and variant (as ledger_move_sums()): the order's net
 *        reservation (reserved_delta) and net shipment (-on_hand_delta)
 *        at each location.
 * @returns 0, or -1 with errstr (and @p sqlstate, may be NULL).
 */
int ledger_order_sums(PGconn *pg, long long order_id,
                      struct ledger_line **lines, size_t *n, char *errstr,
                      size_t errstr_size, char *sqlstate);

/**
 * @brief The movements of document @p document_id, line by line, as
 *        `doc show` prints them: movement id, kind, location code, sku,
 *        on_hand_delta; by movement id, then line.
 * @returns the rows (PQclear() them), or NULL with errstr.
 */
PGresult *ledger_document_moves(PGconn *pg, long long document_id, char *errstr,
                                size_t errstr_size);

/**
 * @brief How many locations and stock movements the ledger holds.
 * @returns 0, or -1 with errstr.
 */
int ledger_counts(PGconn *pg, long long *locations, long long *movements,
                  char *errstr, size_t errstr_size);

/* ---- locations: where stock lives ---------------------------------------
 */

/* location.kind values. */
#define LEDGER_LOCATION_WAREHOUSE "warehouse"
#define LEDGER_LOCATION_OUTLET "outlet"
#define LEDGER_LOCATION_ONLINE "online"

/**
 * @brief Add a location.
 * @param kind          a LEDGER_LOCATION_* value.
 * @param price_list_id its price list, 0 for none.
 * @returns the new id, or -1 with errstr and @p sqlstate (may be NULL;
 *          DB_UNIQUE_VIOLATION when the code is taken).
 */
long long ledger_location_add(PGconn *pg, const char *code, const char *name,
                              const char *kind, long long price_list_id,
                              char *errstr, size_t errstr_size, char *sqlstate);

/**
 * @brief Find location @p code.
 * @param kind receives its kind (may be NULL).
 * @returns 1 (*id set), 0 when there is none, -1 with errstr.
 */
int ledger_location_find(PGconn *pg, const char *code, long long *id,
                         char *kind, size_t kind_size, char *errstr,
                         size_t errstr_size);

/**
 * @brief The ids of @p n location codes in one statement: ids[i] is 0
 *        when there is no location @p codes[i].
 * @returns 0, or -1 with errstr.
 */
int ledger_location_ids(PGconn *pg, const char *const *codes, size_t n,
                        long long *ids, char *errstr, size_t errstr_size);

/**
 * @brief The locations `location list` prints, by code (bytewise).
 * @returns the rows (PQclear() them), columns: code, name, kind, price
 *          list code (NULL when none); or NULL with errstr.
 */
PGresult *ledger_location_list(PGconn *pg, char *errstr, size_t errstr_size);

#endif
