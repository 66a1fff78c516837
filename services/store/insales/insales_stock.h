/*
 * insales_stock — stock and prices for inSales (platform.h stock_push):
 * one PUT /admin/products/variants_group_update.json of up to 100
 * variants {"id", "quantity"[, "price", "old_price"]} (../shared/
 * INSALES.md §3.1).  The store answers either [] (queued) or per-item
 * statuses [{"id", "status", "errors"}]; an item whose status is not "ok"
 * is rejected.  A 400/413/422 refuses the batch as a whole.
 */
#ifndef OMNI_INSALES_STOCK_H
#define OMNI_INSALES_STOCK_H

#include "store/platform.h"

#include <jansson.h>
#include <stddef.h>

#define INSALES_GROUP_MAX 100 /* variants per group update */

/**
 * @brief The group update document: one object per item.
 * @returns a new array, or NULL when out of memory.
 */
json_t *insales_stock_doc(const struct store_stock_item *items, size_t n);

/**
 * @brief Settle @p n items from a group update's 2xx answer: ACCEPTED,
 *        except those whose status in [{"id","status"}] is not "ok"
 *        (REJECTED with the status and errors as reason).
 */
void insales_stock_results(const json_t *body,
                           const struct store_stock_item *items, size_t n,
                           struct store_item_result *out);

/** @brief platform.h stock_push. */
enum outcome insales_stock_push(struct store_call *c,
                                const struct store_stock_item *items, size_t n,
                                struct store_item_result *out);

#endif
