/*
 * insales_catalog — the catalog operations of the inSales platform
 * (platform.h): product and variant documents built from a ledger product
 * snapshot (docs/events.md), categories, products and variants calls, and
 * the parsing of their answers into the neutral types.
 *
 * Documents (unwrapped; the adapter adds {"product": ...}):
 *   product: {"title", "description", "category_id",
 *             "options": [{"title": "<option name>"}...]}  (options only
 *             when the product has option names)
 *   variant: {"sku", "barcode" (string or null), "price", "old_price"
 *             (string or null), "options": [{"title","value"}...]}
 *   create:  product + "variants_attributes": [variant...]
 *
 * Answers are bare arrays or objects (../shared/INSALES.md §1, §2); a
 * category with "parent_id": null is the root ("Склад").  Product lists are
 * read 250 a page (the largest page, §2.2), page numbers as the cursor.
 */
#ifndef OMNI_INSALES_CATALOG_H
#define OMNI_INSALES_CATALOG_H

#include "store/platform.h"

#include <jansson.h>
#include <stddef.h>

#define INSALES_PAGE_MAX 250 /* products per list page */

/* Option value sent for a product option a variant has no value for. */
#define INSALES_NO_OPTION_VALUE "-"

/**
 * @brief Check a money string as the ledger writes it: digits, a '.', two
 *        digits ("1500.00"); no sign, no exponent, no spaces.
 * @returns 1 when @p s is such a string, 0 otherwise (NULL included).
 */
int insales_catalog_money_ok(const char *s);

/** @brief platform.h product_doc. */
json_t *insales_catalog_product_doc(const json_t *snap, long long category_id,
                                    char *errstr, size_t errstr_size);

/** @brief platform.h variant_doc. */
enum store_doc_res insales_catalog_variant_doc(const json_t *snap,
                                               const json_t *variant,
                                               const char *price_list,
                                               json_t **out, char *errstr,
                                               size_t errstr_size);

/**
 * @brief The create document: @p product plus "variants_attributes"
 *        holding copies of the @p n variant documents.
 * @returns a new reference, or NULL when out of memory.
 */
json_t *insales_catalog_create_doc(const json_t *product,
                                   json_t *const *variants, size_t n);

/**
 * @brief Parse one product of an answer (an object with an integer "id",
 *        a "title" and "variants").
 * @param out filled (owned strings); release with store_product_clear().
 * @returns 0, or -1 with errstr (no id, variants not an array or without
 *          an integer id, out of memory; @p out is cleared).
 */
int insales_catalog_product_parse(const json_t *p, struct store_product *out,
                                  char *errstr, size_t errstr_size);

/**
 * @brief Append every product of a product list page (a JSON array) to
 *        @p out.
 * @returns the number of products on the page, or -1 with errstr.
 */
int insales_catalog_products_parse(const json_t *page,
                                   struct store_products *out, char *errstr,
                                   size_t errstr_size);

/**
 * @brief Append the categories of a categories list (a JSON array).
 * @returns 0, or -1 with errstr (not an array, out of memory).
 */
int insales_catalog_categories_parse(const json_t *list,
                                     struct store_categories *out, char *errstr,
                                     size_t errstr_size);

/* The calls: platform.h documents each operation. */

/** @brief platform.h categories_list (GET /admin/categories.json). */
enum outcome insales_catalog_categories_list(struct store_call *c,
                                             struct store_categories *out);

/** @brief platform.h category_update (PUT /admin/categories/{id}.json
 *         with {"category":{"title","parent_id"}}). */
enum outcome insales_catalog_category_update(struct store_call *c, long long id,
                                             const char *title,
                                             long long parent_id);

/** @brief platform.h category_delete (DELETE /admin/categories/{id}.json). */
enum outcome insales_catalog_category_delete(struct store_call *c,
                                             long long id);

/** @brief platform.h category_create (POST /admin/categories.json). */
enum outcome insales_catalog_category_create(struct store_call *c,
                                             const char *title,
                                             long long parent_id,
                                             long long *id);

/** @brief platform.h product_create (POST /admin/products.json). */
enum outcome insales_catalog_product_create(struct store_call *c,
                                            const json_t *doc,
                                            json_t *const *variant_docs,
                                            size_t n,
                                            struct store_product *out);

/** @brief platform.h product_update (PUT /admin/products/{id}.json). */
enum outcome insales_catalog_product_update(struct store_call *c, long long id,
                                            const json_t *doc);

/** @brief platform.h product_archive (DELETE /admin/products/{id}.json). */
enum outcome insales_catalog_product_archive(struct store_call *c,
                                             long long id);

/** @brief platform.h product_recover (POST .../{id}/recover.json). */
enum outcome insales_catalog_product_recover(struct store_call *c,
                                             long long id);

/** @brief platform.h products_page (GET /admin/products.json?page=). */
enum outcome insales_catalog_products_page(struct store_call *c,
                                           struct store_page *pg,
                                           struct store_products *out);

/** @brief platform.h variants_list (GET .../{id}/variants.json). */
enum outcome insales_catalog_variants_list(struct store_call *c,
                                           long long product_id,
                                           struct store_variants *out);

/** @brief platform.h variant_create (POST .../{id}/variants.json). */
enum outcome insales_catalog_variant_create(struct store_call *c,
                                            long long product_id,
                                            const json_t *doc, long long *id);

/** @brief platform.h variant_update (PUT .../variants/{id}.json). */
enum outcome insales_catalog_variant_update(struct store_call *c,
                                            long long product_id, long long id,
                                            const json_t *doc);

/** @brief platform.h variant_delete (DELETE .../variants/{id}.json). */
enum outcome insales_catalog_variant_delete(struct store_call *c,
                                            long long product_id, long long id);

#endif
