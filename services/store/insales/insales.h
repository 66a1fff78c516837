/*
 * insales — the inSales platform: the platform.h operations (catalog:
 * insales_catalog.h, stock: insales_stock.h, images: insales_images.h)
 * and the admin API adapter for store_client.
 *
 * Paths are "/admin/<resource>.json"; request bodies are wrapped in the
 * resource's root key ({"product": {...}}); lists come back as bare arrays.
 * The limit is a fixed window of 500 requests per 300 s starting at the
 * first request, reported in "API-Usage-Limit: used/limit" (../shared/
 * INSALES.md §1, §7).
 */
#ifndef OMNI_INSALES_H
#define OMNI_INSALES_H

#include "store/platform.h"
#include "store/store_client.h"

#define INSALES_NAME "insales" /* the --platform value */
#define INSALES_LIMIT 500      /* requests per window */
#define INSALES_WINDOW_S 300   /* the window, from the first request */

/* The platform (static storage, valid for the whole program). */
extern const struct store_platform insales_platform;

/* The adapter (static storage, valid for the whole program). */
extern const struct store_adapter insales_adapter;

/**
 * @brief Parse an API-Usage-Limit value "used/limit" (spaces allowed around
 *        the numbers).
 * @returns 0 with @p used and @p limit set, or -1 when the value is missing,
 *          malformed, out of range or has a limit below 1.
 */
int insales_usage_parse(const char *value, long *used, long *limit);

/**
 * @brief Build method, path and body of @p op for inSales.
 * @returns 0, or -1 with @p errstr filled (missing id or payload).
 */
int insales_request_build(enum store_op op, const struct store_req_args *a,
                          struct store_http_req *out, char *errstr,
                          size_t errstr_size);

#endif
