/*
 * prices — ledger-api's PUT /v1/prices/{price_list}: a batch of
 * {"sku", "price", "old_price"} into one price list, in one transaction
 * (docs/ledger-api.md).  Prices are strings or numbers with at most 2
 * decimals, as in the prices import (docs/import.md); a bad item or an
 * unknown SKU answers 422 and applies nothing.  Each product whose price
 * changed emits catalog.product, each store selling the list
 * stock.available (the prices import's events).
 */
#ifndef OMNI_PRICES_H
#define OMNI_PRICES_H

#include <jansson.h>
#include <libpq-fe.h>

/**
 * @brief Apply @p items (borrowed) to price list @p list.
 * @param answer receives the response body (a new reference).
 * @returns the HTTP status: 200, 404 (no such price list), 422, 500/503.
 */
unsigned prices_put(PGconn *pg, const char *list, const json_t *items,
                    json_t **answer);

#endif
