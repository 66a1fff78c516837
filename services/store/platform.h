/*
 * platform — the seam between omnisync and an online store platform.
 *
 * One const struct store_platform per platform (inSales:
 * store/insales/insales.h), registered by name in platform.c's table.
 * Services and the CLI call only these operations and the neutral types
 * below; every platform payload, path, status name and response shape stays
 * behind them.  Adding a platform is a new folder under services/store/,
 * one line in the registry and a store-sim mode (docs/architecture.md).
 *
 * Every operation that calls the store takes a struct store_call: the
 * store's client, the shared budget and the budget class it spends, and an
 * optional drain deadline.  It returns one enum outcome (lib/outcome.h);
 * the last HTTP answer (status, Retry-After, reason) stays in call->last
 * for the caller's decisions and logs.  Neutral results are owned by the
 * caller and released with the matching clear or free function.
 *
 * STATUS: contract draft; the sections are filled in by the platform seam
 * work of issue 10 (catalog, stock, images, reconcile reads: one worker;
 * orders and webhooks: another).
 */
#ifndef OMNI_STORE_PLATFORM_H
#define OMNI_STORE_PLATFORM_H

#include "store/budget.h"
#include "store/store_client.h"

#include <jansson.h>
#include <stddef.h>

struct store_call {
    struct store_client *sc; /* borrowed */
    struct budget *b;        /* borrowed */
    enum budget_class cls;
    long long deadline_ms;    /* clock_mono_ms() bound on token waits, 0 none */
    struct store_result last; /* the last answer; store_call_clear() */
    unsigned long long calls; /* HTTP calls made through this struct */
};

/* ---- catalog ----------------------------------------------------------- */
/* categories: list, create, update (rename / re-parent), delete
 * products:   create with variants, update, archive, recover, list pages
 *             (updated since, with variants: id, sku, quantity, prices)
 * variants:   list, create, update, delete
 * payloads:   the platform's product / variant documents built from the
 *             neutral catalog snapshot (events), hashed by the caller to
 *             skip unchanged payloads */

/* ---- stock and prices -------------------------------------------------- */
/* a batch of {remote variant id, quantity, price, old price} with per-item
 * results; the platform's batch size */

/* ---- images ------------------------------------------------------------ */
/* list (id, filename, position), upload (bytes, filename, position),
 * delete, reposition */

/* ---- orders ------------------------------------------------------------ */
/* a page of raw orders since a cursor; identify one raw order (id and
 * version); parse one raw order into the neutral struct order
 * (events/order.h); change an order's status */

/* ---- webhooks ---------------------------------------------------------- */
/* register the order webhooks at an address; authenticate an incoming
 * request (which store sent it) */

/* ---- the platform ------------------------------------------------------ */
struct store_platform {
    const char *name;                    /* "--platform" value */
    const struct store_adapter *adapter; /* transport: paths, usage header */
    long default_limit;                  /* API calls per window */
    long default_window_s;
    /* operations: one function pointer per operation listed above */
};

/** @returns the platform named @p name, or NULL. */
const struct store_platform *store_platform_find(const char *name);

/** @returns the registered platforms' names, comma separated (static). */
const char *store_platform_names(void);

#endif
