/*
 * moves — movements as JSON, for both ledger-api entry points (HTTP
 * POST /v1/movements and the omnisync.movements.in.v1 topic): the items of
 * a batch from a JSON array, and the per-item results and errors as JSON
 * (docs/ledger-api.md).  Both then apply through ledger/movebatch.h.
 */
#ifndef OMNI_MOVES_H
#define OMNI_MOVES_H

#include "ledger/movebatch.h"

#include <jansson.h>
#include <stddef.h>

/**
 * @brief The items of @p arr (an array of movement objects: key, kind,
 *        location, to_location, sku, qty, note).  A field of the wrong
 *        type reads as missing, so movebatch's checks name it.
 * @param arr borrowed: the items' strings live as long as it.
 * @param key_required each item must carry a key.
 * @returns a calloc()ed array of json_array_size(arr) items (free() it;
 *          room for one when empty), or NULL when out of memory.
 */
struct movebatch_item *moves_from_json(const json_t *arr, int key_required);

/**
 * @brief The results of an applied batch: {"applied", "duplicate",
 *        "events", "results": [{"index", "key", "status", "movement_id",
 *        "delta", "on_hand"}]} ("delta" and "on_hand" only when applied).
 * @returns a new reference, or NULL when out of memory.
 */
json_t *moves_results_json(const struct movebatch_item *items, size_t n,
                           const struct movebatch_summary *sum);

/**
 * @brief The errors of a refused batch: {"error", "errors": [{"index",
 *        "key", "field", "error"}]}.
 * @returns a new reference, or NULL when out of memory.
 */
json_t *moves_errors_json(const struct movebatch_item *items, size_t n);

#endif
