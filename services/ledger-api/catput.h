/*
 * catput — ledger-api's PUT /v1/catalog: a batch of product and variant
 * upserts (docs/ledger-api.md), applied through `omnisync import
 * catalog`'s own path (ledger/catalog_import.h): the products become the
 * import's rows (one per variant, columns article, name, group,
 * description, sku, barcode, price, old_price, option:<Name>), checked by
 * the import's rules and written in its one transaction with its
 * catalog.product events.  A bad item answers 422 with every bad item
 * (product index, variant index, field) and applies nothing.  A batch's
 * idempotency key (the Idempotency-Key header or "key" in the body) is
 * recorded in the same transaction (ledger/clients.h): a repeat answers
 * the first result.
 */
#ifndef OMNI_CATPUT_H
#define OMNI_CATPUT_H

#include <jansson.h>
#include <libpq-fe.h>

/** The request as ledger-api received it. */
struct catput_req {
    const char *client; /* the authenticated client's name */
    const char *key;    /* (may be NULL) the Idempotency-Key header */
    const char *body;   /* the raw body (hashed to tell repeats apart) */
    size_t body_len;
    const json_t *root;  /* borrowed: the body, a JSON object */
    long long max_items; /* api.max_items: products, and variants */
};

/**
 * @brief Apply the batch in @p r.
 * @param answer receives the response body (a new reference).
 * @returns the HTTP status: 200, 409 (the key was used for another body),
 *          413, 422, 500/503.
 */
unsigned catput_put(PGconn *pg, const struct catput_req *r, json_t **answer);

#endif
