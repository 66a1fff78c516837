/*
 * catalog — the catalog tables (price lists, groups, options, products,
 * variants, their options and photos, prices): the product snapshot every
 * `catalog.product` event carries and emitting it into the outbox; the
 * lookups, locks and counts other modules ask of the catalog; and the
 * set-based writes of the staged CSV import (catalog_import.h parses and
 * validates the file, then writes through the catalog_stage_*() and
 * catalog_price_stage_*() functions below in one transaction).
 *
 * The snapshot (docs/events.md) is the full state of one product as the
 * ledger holds it inside the caller's transaction:
 *
 *   {"product_id", "article", "name", "description", "archived",
 *    "groups":   [{"id","name"}...]            root first; [] if ungrouped
 *    "options":  ["color","size",...]          option names the variants
 *                                              use, in dictionary order
 *                                              (option_name.id)
 *    "variants": [{"variant_id","sku","barcode" (null if none),"archived",
 *                  "options": {"<name>": "<value>"...},
 *                  "prices":  {"<price list code>":
 *                              {"price": "1500.00", "old_price": null}}}]
 *                                              ordered by position, id;
 *                                              archived variants included
 *    "photos":   [{"position","path","sha256"}] ordered by position;
 *                path: where the import read it (for messages), sha256:
 *                the key of its bytes in photo_blob (blob.h)}
 *
 * Money is a string with two decimals, read as text from Postgres (never
 * through a double).  catalog_snapshot_texts() writes the canonical text
 * (the one JSON_COMPACT | JSON_SORT_KEYS gives) straight from the rows;
 * it can be compared to detect a change.
 *
 * Snapshots are built set-based: catalog_snapshot_texts() and
 * catalog_snapshot_many() cost six queries for each 1,000 products, sent
 * as one pipeline (the next 1,000's go out before this 1,000's texts are
 * written), so callers with many products should use them rather than
 * calling catalog_snapshot() in a loop.
 */
#ifndef OMNI_CATALOG_H
#define OMNI_CATALOG_H

#include "lib/db.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#define CATALOG_TOPIC "omnisync.catalog.v1"
#define CATALOG_EVENT_PRODUCT "catalog.product"

/**
 * @brief Build the snapshot of one product.
 * @returns a new reference (json_decref() it), or NULL with @p errstr (a
 *          query failed, or "product N not found").
 */
json_t *catalog_snapshot(PGconn *pg, long long product_id, char *errstr,
                         size_t errstr_size);

/**
 * @brief Build the snapshots of @p n products with a fixed number of
 *        queries.
 * @param ids  product ids (duplicates allowed).
 * @param out  @p n slots: out[i] receives a new reference to the snapshot
 *             of ids[i], or NULL when no such product exists.  On failure
 *             every slot is NULL.
 * @returns 0, or -1 with @p errstr.
 */
int catalog_snapshot_many(PGconn *pg, const long long *ids, size_t n,
                          json_t **out, char *errstr, size_t errstr_size);

/**
 * @brief The canonical texts of @p n products' snapshots (compact JSON,
 *        keys sorted: the text json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 *        gives), written straight from the query rows.  Equal texts mean
 *        equal snapshots.
 * @param ids  product ids (duplicates allowed).
 * @param out  @p n slots: out[i] receives a malloc()ed text of ids[i], or
 *             NULL when no such product exists.  On failure every slot is
 *             NULL.
 * @returns 0, or -1 with @p errstr.
 */
int catalog_snapshot_texts(PGconn *pg, const long long *ids, size_t n,
                           char **out, char *errstr, size_t errstr_size);

/**
 * @brief Emit catalog.product events for @p n products at once, @p snaps
 *        their canonical snapshot texts (compact JSON, as
 *        catalog_snapshot_many() gives them dumped), keyed by @p ids.
 * @returns 0, or -1 with errstr.
 */
int catalog_emit_many(PGconn *pg, const long long *ids,
                      const char *const *snaps, size_t n, char *errstr,
                      size_t errstr_size);

/**
 * @brief Insert one `catalog.product` outbox row (topic CATALOG_TOPIC, key
 *        the product id in decimal, store NULL) carrying @p snap.
 * @param snap  a snapshot from catalog_snapshot*() (borrowed).
 * @returns 0, or -1 with @p errstr.  Call inside the transaction that
 *          changed the product, after its rows are written.
 */
int catalog_emit_snapshot(PGconn *pg, const json_t *snap, char *errstr,
                          size_t errstr_size);

/**
 * @brief Snapshot product @p product_id and emit it (catalog_snapshot()
 *        then catalog_emit_snapshot()).
 * @returns 0, or -1 with @p errstr.
 */
int catalog_emit(PGconn *pg, long long product_id, char *errstr,
                 size_t errstr_size);

/* ---- lookups, locks, lists ------------------------------------------------
 *
 * Functions that take @p sqlstate fill it (6 bytes; may be NULL) with the
 * SQLSTATE of a failed statement. */

/**
 * @brief The ids of @p n SKUs in one statement: ids[i] is the variant id
 *        of skus[i], 0 when no variant has it.
 * @returns 0, or -1 with errstr (and @p sqlstate, may be NULL).
 */
int catalog_variant_ids(PGconn *pg, const char *const *skus, size_t n,
                        long long *ids, char *errstr, size_t errstr_size,
                        char *sqlstate);

/**
 * @brief The id of the variant with SKU @p sku.
 * @returns 1 (*id set), 0 when there is none, -1 with errstr.
 */
int catalog_variant_find(PGconn *pg, const char *sku, long long *id,
                         char *errstr, size_t errstr_size, char *sqlstate);

/**
 * @brief Lock variant @p id FOR UPDATE in the caller's transaction (the
 *        stock module's lock order, ledger.h).
 * @returns 1 locked, 0 when there is no such variant, -1 with errstr.
 */
int catalog_variant_lock(PGconn *pg, long long id, char *errstr,
                         size_t errstr_size, char *sqlstate);

/**
 * @brief Lock the variants @p ids (repeats allowed) FOR UPDATE in
 *        ascending id order, in the caller's transaction.
 * @returns the number of rows locked (unknown ids lock nothing), or -1
 *          with errstr.
 */
long long catalog_variants_lock(PGconn *pg, const long long *ids, size_t n,
                                char *errstr, size_t errstr_size,
                                char *sqlstate);

/**
 * @brief The id of price list @p code.
 * @returns 1 (*id set), 0 when there is none, -1 with errstr.
 */
int catalog_price_list_find(PGconn *pg, const char *code, long long *id,
                            char *errstr, size_t errstr_size);

/**
 * @brief Add a price list.
 * @returns its id, or -1 with errstr (@p sqlstate DB_UNIQUE_VIOLATION when
 *          the code is taken).
 */
long long catalog_price_list_add(PGconn *pg, const char *code, const char *name,
                                 char *errstr, size_t errstr_size,
                                 char *sqlstate);

/**
 * @brief The price lists `pricelist list` prints, by code (bytewise).
 * @returns the rows (PQclear() them), columns: code, name; or NULL with
 *          errstr.
 */
PGresult *catalog_price_list_list(PGconn *pg, char *errstr, size_t errstr_size);

/**
 * @brief The ids of every product not archived, ascending.
 * @param ids receives a malloc()ed array (caller frees).
 * @returns 0, or -1 with errstr.
 */
int catalog_products_active(PGconn *pg, long long **ids, size_t *n,
                            char *errstr, size_t errstr_size);

/* A variant with its product, as `store adopt` matches them (strings
 * owned; catalog_variant_refs_free()). */
struct catalog_variant_ref {
    long long id;
    long long product_id;
    char *sku;
    char *article; /* the product's */
};

/**
 * @brief Every variant (archived ones too) with its product, by SKU in
 *        the database's collation.
 * @param refs receives a malloc()ed array.
 * @returns 0, or -1 with errstr.
 */
int catalog_variant_refs(PGconn *pg, struct catalog_variant_ref **refs,
                         size_t *n, char *errstr, size_t errstr_size);

/** @brief Free @p n refs and the array.  NULL-safe. */
void catalog_variant_refs_free(struct catalog_variant_ref *refs, size_t n);

/**
 * @brief The products not archived that store @p store_id has no real
 *        mapping of (remote_map "product", remote id > 0), by id.
 * @returns the rows (PQclear() them), columns: id, article, name; or
 *          NULL with errstr.
 */
PGresult *catalog_products_unmapped(PGconn *pg, long long store_id,
                                    char *errstr, size_t errstr_size);

/**
 * @brief The photos whose bytes the ledger does not hold (rows imported
 *        before migration 0005 recorded only a host path), by id.
 * @param sqlstate  (may be NULL) receives the SQLSTATE on failure.
 * @returns the rows (PQclear() them), columns: id, sha256, path; or NULL
 *          with errstr.
 */
PGresult *catalog_photos_unstored(PGconn *pg, char *errstr, size_t errstr_size,
                                  char *sqlstate);

/* A product photo with what a store holds of it (its remote_map "image"
 * row). */
struct catalog_photo_remote {
    long long product_id;
    long long id; /* product_photo.id, the image's local id */
    long long position;
    char sha256[72];
    long long remote_id; /* the image's id in the store, 0 when none */
    char hash[72];       /* the content hash recorded, "" when none */
};

/**
 * @brief The photos of product @p product_id (0: of every product) with
 *        the store's mapping of each, by product id then photo id.  A
 *        photo is in the store with its current content when remote_id >
 *        0 and hash equals sha256.
 * @param rows receives a malloc()ed array (caller frees).
 * @returns 0, or -1 with errstr.
 */
int catalog_photo_remote_list(PGconn *pg, long long store_id,
                              long long product_id,
                              struct catalog_photo_remote **rows, size_t *n,
                              char *errstr, size_t errstr_size);

/* What `omnisync status` counts of the catalog: every row. */
struct catalog_counts {
    long long price_lists;
    long long products;
    long long variants;
};

/** @brief Fill @p c.  @returns 0, or -1 with errstr. */
int catalog_counts(PGconn *pg, struct catalog_counts *c, char *errstr,
                   size_t errstr_size);

/* What a store selling from one price list publishes of the catalog. */
struct catalog_publishable {
    long long products; /* not archived, with a variant not archived
                           priced in the list */
    long long variants; /* not archived, of a product not archived, priced
                           in the list */
    long long photos;   /* of products not archived */
};

/** @brief Fill @p c for price list @p price_list_id.  @returns 0 or -1. */
int catalog_publishable_count(PGconn *pg, long long price_list_id,
                              struct catalog_publishable *c, char *errstr,
                              size_t errstr_size);

/* ---- the staged import ------------------------------------------------------
 *
 * catalog_import.c hands the file's rows over as COPY text rows (struct
 * db_copy, lib/db.h); they are copied into temporary tables that live
 * until the transaction ends, and the catalog_stage_apply_*() statements
 * write the catalog from them, set-based, parents before children.  Call
 * everything inside one transaction. */

/* The file's rows, each buffer's fields in this order: */
struct catalog_stage {
    struct db_copy products; /* article, name, description (or NULL),
                                group_path (or NULL), ord (file order) */
    struct db_copy variants; /* sku, article, barcode (or NULL), position
                                (1-based in its product), price, old_price
                                (money text or NULL), ord */
    struct db_copy options;  /* sku, name (the option's dictionary name),
                                value */
    struct db_copy photos;   /* article, position (1-based), path, sha256 */
    struct db_copy groups;   /* path, parent_path (or NULL), name, depth (0
                                for a root): every prefix of every group
                                path, once */
    int pending;             /* a load's answer is still to be read */
    const char *pending_what;
};

/**
 * @brief Refresh the planner's statistics of the catalog tables inside
 *        the import's transaction (its own new rows count), so the
 *        snapshots after a large import are read with good plans.
 *        Nothing when the session's role does not own them (only an
 *        owner may ANALYZE).
 * @returns 0, or -1 with errstr.
 */
int catalog_analyze(PGconn *pg, char *errstr, size_t errstr_size);

/**
 * @brief Create the staging tables (temporary, dropped at commit).
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_begin(PGconn *pg, char *errstr, size_t errstr_size);

/**
 * @brief Copy the rows of @p st's buffers (each may be empty) into the
 *        staging tables and empty the buffers (their memory is kept for
 *        the next chunk), so an import stages its file in chunks with
 *        bounded memory.  The last load's answer is read by the next
 *        call or catalog_stage_end(): the server loads it while the
 *        caller builds the next chunk.
 * @returns 0, or -1 with errstr (the caller rolls back).
 */
int catalog_stage_append(PGconn *pg, struct catalog_stage *st, char *errstr,
                         size_t errstr_size);

/**
 * @brief Free @p st's buffers (after the last catalog_stage_append() or
 *        a failure), reading a load's answer still pending on @p pg.
 */
void catalog_stage_free(PGconn *pg, struct catalog_stage *st);

/**
 * @brief Done staging: read the last load's answer, refresh the staging
 *        tables' statistics.
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_end(PGconn *pg, struct catalog_stage *st, char *errstr,
                      size_t errstr_size);

/**
 * @brief The ids of the staged products the ledger has, in file order.
 * @returns a malloc()ed array (caller frees; *n its length), or NULL with
 *          errstr.
 */
long long *catalog_stage_product_ids(PGconn *pg, size_t *n, char *errstr,
                                     size_t errstr_size);

/**
 * @brief Call @p each for every product not archived that the stage does
 *        not list, by id; @p delivery is 1 when one of its variants is a
 *        store's delivery item.
 * @returns the number of such products, or -1 with errstr.
 */
long long catalog_stage_missing(PGconn *pg,
                                void (*each)(void *arg, long long id,
                                             const char *article, int delivery),
                                void *arg, char *errstr, size_t errstr_size);

/**
 * @brief Insert the staged groups missing from the ledger, level by level
 *        (@p depth levels: the deepest group's depth + 1).
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_apply_groups(PGconn *pg, int depth, char *errstr,
                               size_t errstr_size);

/**
 * @brief Insert the option names @p names (the file's option columns, in
 *        column order, so a new dictionary's ids follow it) and the staged
 *        option values missing from the ledger.
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_apply_options(PGconn *pg, const char *const *names, size_t n,
                                char *errstr, size_t errstr_size);

/**
 * @brief Insert the new staged products and update the ones that differ
 *        (un-archiving them); the description and the group only when the
 *        file has that column (@p has_description, @p has_group).
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_apply_products(PGconn *pg, int has_description, int has_group,
                                 char *errstr, size_t errstr_size);

/**
 * @brief Insert the new staged variants, update the ones that differ (the
 *        barcode only when @p has_barcode), and archive the variants of
 *        the staged products the stage does not list, except a store's
 *        delivery item: @p kept (may be NULL) is called with the SKU of
 *        each such variant left active.
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_apply_variants(PGconn *pg, int has_barcode,
                                 void (*kept)(void *arg, const char *sku),
                                 void *arg, char *errstr, size_t errstr_size);

/**
 * @brief Set the staged variants' options for the option columns
 *        @p names: remove the values the stage no longer gives, insert or
 *        change the others.  @p fresh: none of the staged variants
 *        existed before this transaction (none has options yet), so the
 *        options are only inserted; a row that existed fails the insert.
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_apply_variant_options(PGconn *pg, const char *const *names,
                                        size_t n, int fresh, char *errstr,
                                        size_t errstr_size);

/**
 * @brief Upsert the staged variants' prices in price list
 *        @p price_list_id (rows whose price differs; the old price only
 *        when @p has_old_price).  A written row's updated_at is the
 *        transaction's now() (catalog_prices_changed()).
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_apply_prices(PGconn *pg, long long price_list_id,
                               int has_old_price, char *errstr,
                               size_t errstr_size);

/**
 * @brief Replace the photos of each staged product whose photo set differs
 *        from the stage's.
 * @returns 0, or -1 with errstr.
 */
int catalog_stage_apply_photos(PGconn *pg, char *errstr, size_t errstr_size);

/**
 * @brief Archive the products @p ids.
 * @returns 0, or -1 with errstr.
 */
int catalog_products_archive(PGconn *pg, const long long *ids, size_t n,
                             char *errstr, size_t errstr_size);

/**
 * @brief The variants whose price in list @p price_list_id this
 *        transaction wrote (updated_at is its now()), ascending.
 * @param ids receives a malloc()ed array (caller frees).
 * @returns 0, or -1 with errstr.
 */
int catalog_prices_changed(PGconn *pg, long long price_list_id, long long **ids,
                           size_t *n, char *errstr, size_t errstr_size);

/**
 * @brief Call @p other for each row of @p rows whose SKU belongs to
 *        another article in the ledger.
 * @param rows COPY rows (i, sku, article), sent and emptied here; i is
 *             the caller's index, handed back to @p other with the
 *             ledger's article.
 * @returns 0, or -1 with errstr.
 */
int catalog_skus_check(PGconn *pg, struct db_copy *rows,
                       void (*other)(void *arg, size_t i, const char *article),
                       void *arg, char *errstr, size_t errstr_size);

/**
 * @brief Create the prices import's staging table and load @p rows.
 * @param rows (stolen) [{"i", "sku", "price", "old_price" (or null)}...],
 *             each SKU once; i is the caller's index.
 * @returns 0, or -1 with errstr.
 */
int catalog_price_stage_load(PGconn *pg, json_t *rows, char *errstr,
                             size_t errstr_size);

/**
 * @brief Call @p each with the index of every staged price whose SKU the
 *        ledger does not know, in index order.
 * @returns 0, or -1 with errstr.
 */
int catalog_price_stage_unknown(PGconn *pg, void (*each)(void *arg, size_t i),
                                void *arg, char *errstr, size_t errstr_size);

/**
 * @brief Upsert the staged prices into list @p price_list_id (rows whose
 *        price differs; the old price only when @p has_old_price).
 * @param product_ids receives the products of the prices written,
 *                    ascending (malloc()ed; caller frees).
 * @param changed     receives the number of price rows written.
 * @returns 0, or -1 with errstr.
 */
int catalog_price_stage_apply(PGconn *pg, long long price_list_id,
                              int has_old_price, long long **product_ids,
                              size_t *n, long long *changed, char *errstr,
                              size_t errstr_size);

/* ---- groups (docs/cli.md "group") ------------------------------------------
 */

/**
 * @brief Every product group by path: columns path, name, parent (its
 *        path, "" at the top), products (not archived, directly in it),
 *        subgroups.  @returns the rows (PQclear() them), or NULL with errstr.
 */
PGresult *catalog_groups_list(PGconn *pg, char *errstr, size_t errstr_size);

/* What a group change did. */
struct catalog_group_change {
    char path[1024];    /* the group's new path */
    long long groups;   /* groups whose path changed (it and below) */
    long long products; /* catalog.product events queued */
};

/**
 * @brief Rename the group at @p path to @p name (its path and those below
 *        change), or move it under the group at @p parent_path ("" or "/":
 *        to the top) when @p move, in one transaction that also queues one
 *        catalog.product event per product (not archived) in it or below,
 *        serialised with imports.
 * @returns 0 (@p out filled), 1 when the input is refused (no such group,
 *          a bad name, the new path taken, a group moved under itself:
 *          errstr says which), -1 with errstr (the ledger).
 */
int catalog_group_change(PGconn *pg, const char *path, const char *arg,
                         int move, struct catalog_group_change *out,
                         char *errstr, size_t errstr_size);

/* A store category nothing of the ledger references any more. */
struct catalog_group_unused {
    long long group_id;
    long long remote_id; /* the store's category */
};

/**
 * @brief The groups store @p store_id has a category for (remote_map
 *        "category") that no product (archived ones included) and no
 *        subgroup references.
 * @param rows receives a malloc()ed array (caller frees).
 * @returns 0, or -1 with errstr.
 */
int catalog_groups_unused(PGconn *pg, long long store_id,
                          struct catalog_group_unused **rows, size_t *n,
                          char *errstr, size_t errstr_size);

#endif
