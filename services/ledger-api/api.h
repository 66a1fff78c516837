/*
 * api — ledger-api's HTTP surface on api.listen (docs/ledger-api.md):
 *
 *   POST /v1/movements        a batch of movements (movements:write)
 *   GET  /v1/stock            levels, ?location=&sku= (stock:read)
 *   PUT  /v1/prices/{list}    a batch of prices (prices:write)
 *
 * Every request carries "Authorization: Bearer <token>"; the token's
 * SHA-256 names an active client (ledger/clients.h) holding the route's
 * scope (401 / 403 otherwise).  Bodies are capped (413).  A batch with any
 * bad item answers 422 with every bad item and applies nothing; a
 * repeated idempotency key answers the first movement.
 *
 * @locality requests run on the server's connection threads, each with a
 *           ledger connection of its own from the pool.
 */
#ifndef OMNI_API_H
#define OMNI_API_H

#include <stddef.h>

struct api;
struct api_cfg;
struct metrics_family;
struct ops;

/**
 * @brief Start serving on @p c->api_listen.
 * @param c   borrowed: must outlive the API.
 * @param ops (may be NULL) where the API's metrics and checks go.
 * @returns the API, or NULL with errstr.
 */
struct api *api_new(const struct api_cfg *c, struct ops *ops, char *errstr,
                    size_t errstr_size);

/** @returns omnisync_api_items_total{entry,status} (may be NULL), which
 *  the Kafka intake counts in too. */
struct metrics_family *api_items_family(struct api *a);

/** @brief Stop accepting; requests in flight finish.  NULL-safe. */
void api_stop(struct api *a);

/** @brief Stop, then free.  NULL-safe. */
void api_destroy(struct api *a);

#endif
