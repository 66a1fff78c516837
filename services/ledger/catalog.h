/*
 * catalog — the product snapshot every `catalog.product` event carries, and
 * emitting it into the outbox.
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
 *    "photos":   [{"position","path","sha256"}] ordered by position}
 *
 * Money is a string with two decimals, read as text from Postgres (never
 * through a double).  Serialise with JSON_COMPACT | JSON_SORT_KEYS to get
 * a canonical text that can be compared to detect a change.
 *
 * Snapshots are built set-based: catalog_snapshot_many() costs six queries
 * whatever the number of products, so callers with many products should
 * use it rather than calling catalog_snapshot() in a loop.
 */
#ifndef OMNI_CATALOG_H
#define OMNI_CATALOG_H

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

/* A product photo and what one store holds of it. */
struct catalog_photo_map {
    long long photo_id;
    long long position;
    char sha256[72];
    long long remote_id;  /* the store's image id (remote_map), 0: none */
    char remote_hash[72]; /* the content recorded with it, "" when none */
};

/**
 * @brief The photos of product @p product_id with their remote_map
 *        'image' rows of store @p store_id.
 * @param out receives a malloc()ed array (free() it), @p n its length.
 * @returns 0, or -1 with @p errstr.
 */
int catalog_photos_mapped(PGconn *pg, long long store_id, long long product_id,
                          struct catalog_photo_map **out, size_t *n,
                          char *errstr, size_t errstr_size);

/**
 * @brief Every variant with its product: [{"sku","variant_id",
 *        "product_id","article"}...] ordered by SKU (the database's
 *        collation).
 * @returns a new array, or NULL with @p errstr.
 */
json_t *catalog_variant_skus(PGconn *pg, char *errstr, size_t errstr_size);

/**
 * @brief The active products store @p store_id has no mapping for
 *        (remote_map 'product' with a real id): [{"product_id","article",
 *        "name"}...] ordered by id.
 * @returns a new array, or NULL with @p errstr.
 */
json_t *catalog_products_unmapped(PGconn *pg, long long store_id, char *errstr,
                                  size_t errstr_size);

#endif
