/*
 * catalog_map — pure mapping of a ledger product snapshot (catalog.h,
 * docs/events.md) onto the store's product, variant and category payloads,
 * and the hashes that let catalog-publisher skip unchanged payloads.
 *
 * No I/O: the caller supplies the remote category id and the price list
 * code.  Payloads are platform-neutral field sets as store_client expects
 * them (unwrapped; the adapter adds {"product": ...}).
 *
 *   product: {"title", "description", "category_id",
 *             "options": [{"title": "<option name>"}...]}  (options only
 *             when the product has option names)
 *   variant: {"sku", "barcode" (string or null), "price", "old_price"
 *             (string or null), "options": [{"title","value"}...]}
 *   create:  product + "variants_attributes": [variant...]
 *
 * Hashes are the SHA-256 (hex) of the payload serialised with
 * JSON_COMPACT | JSON_SORT_KEYS, so equal payloads hash equal whatever the
 * key order.  An archived product hashes as CATALOG_MAP_ARCHIVED_DOC.
 */
#ifndef OMNI_CATALOG_MAP_H
#define OMNI_CATALOG_MAP_H

#include <jansson.h>
#include <stddef.h>

#define CATALOG_MAP_HASH_LEN 64 /* hex chars, without the NUL */

/* Option value sent for a product option a variant has no value for. */
#define CATALOG_MAP_NO_VALUE "-"

/* The document an archived product's hash is computed from. */
#define CATALOG_MAP_ARCHIVED_DOC "{\"archived\":true}"

/* What catalog_map_variant() decided. */
enum catalog_map_vres {
    CATALOG_MAP_V_OK = 0,       /* *out is the payload to publish */
    CATALOG_MAP_V_SKIP = 1,     /* archived, or no price in the list: the
                                   variant must not exist in the store */
    CATALOG_MAP_V_INVALID = -1, /* the snapshot is malformed: errstr */
};

/**
 * @brief Check a money string as the ledger writes it: digits, a '.', two
 *        digits ("1500.00"); no sign, no exponent, no spaces.
 * @returns 1 when @p s is such a string, 0 otherwise (NULL included).
 */
int catalog_map_money_ok(const char *s);

/**
 * @brief The product-level payload (no variants).
 * @param snap        product snapshot (borrowed).
 * @param category_id the store's category id of the product's group (the
 *                    root category when ungrouped); > 0.
 * @returns a new object, or NULL with @p errstr (malformed snapshot).
 */
json_t *catalog_map_product(const json_t *snap, long long category_id,
                            char *errstr, size_t errstr_size);

/**
 * @brief The payload of one variant of @p snap.
 * @param snap       product snapshot (borrowed; gives the option names).
 * @param variant    one element of snap.variants (borrowed).
 * @param price_list the store's price list code.
 * @param out        on CATALOG_MAP_V_OK receives a new object.
 * @returns enum catalog_map_vres.
 */
enum catalog_map_vres catalog_map_variant(const json_t *snap,
                                          const json_t *variant,
                                          const char *price_list, json_t **out,
                                          char *errstr, size_t errstr_size);

/**
 * @brief The create payload: @p product plus "variants_attributes" holding
 *        the @p n variant payloads (each borrowed, copied in).
 * @returns a new object, or NULL on allocation failure.
 */
json_t *catalog_map_create_payload(const json_t *product,
                                   json_t *const *variants, size_t n);

/**
 * @brief SHA-256 hex of @p doc serialised canonically.
 * @param out receives CATALOG_MAP_HASH_LEN hex chars and a NUL.
 * @returns 0, or -1 when @p doc cannot be serialised.
 */
int catalog_map_hash(const json_t *doc, char out[CATALOG_MAP_HASH_LEN + 1]);

/** @brief The hash recorded for an archived product. */
void catalog_map_archived_hash(char out[CATALOG_MAP_HASH_LEN + 1]);

/**
 * @brief The store-side category chain of @p snap: its "groups" array
 *        (root first; empty when ungrouped), borrowed from @p snap.
 * @returns the array, or NULL when missing or malformed.
 */
const json_t *catalog_map_groups(const json_t *snap);

#endif
