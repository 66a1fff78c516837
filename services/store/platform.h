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

#include "events/order.h"
#include "lib/outcome.h"
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
/* A raw order is one order exactly as the platform sent it (a JSON
 * object): it travels on Kafka and into the ledger as it is, and only the
 * platform's order_identify and order_parse read its fields.  Parsed, it
 * is the neutral struct order (events/order.h). */

/* Where an order poll resumes: orders the store changed at or after
 * @c since, skipping those changed exactly at @c since whose ids are not
 * above @c after_id.  The platform fills it (order_identify); the caller
 * keeps it between polls (the ledger's order_poll_cursor). */
struct order_cursor {
    char since[128];    /* RFC 3339, as the platform wrote it */
    long long after_id; /* 0: none */
};

/* One raw order's identity. */
struct order_ref {
    long long remote_id;      /* the store's order id, > 0 */
    long long updated_us;     /* its version, µs since the epoch */
    struct order_cursor next; /* a poll from here starts after it */
};

/* ---- webhooks ---------------------------------------------------------- */
/* Each store has one secret (store_conf.webhook_secret, 32 hex chars).  A
 * platform that cannot sign its webhooks puts the secret in the address it
 * registers and finds it in the request's path; one that signs bodies
 * (HMAC) registers a plain address and checks the signature header with
 * the secret.  Either way the intake offers a request to the platform of
 * each store it knows, with that store's secret, until one authenticates
 * it. */

/* An incoming webhook request (everything borrowed for the call). */
struct webhook_request {
    const char *method; /* "POST" */
    const char *path;   /* path and query as requested */
    const char *body;   /* (may be NULL when empty) */
    size_t body_len;
    /* a request header's value, or NULL when absent */
    const char *(*header)(void *ctx, const char *name);
    void *ctx; /* for header() */
};

/* ---- the platform ------------------------------------------------------ */
struct store_platform {
    const char *name;                    /* "--platform" value */
    const struct store_adapter *adapter; /* transport: paths, usage header */
    long default_limit;                  /* API calls per window */
    long default_window_s;
    /* operations: one function pointer per operation listed above */

    /* orders and webhooks */

    /**
     * A page of raw orders changed since @p since, oldest first, at most
     * @p limit of them (0: the platform's default).  Spends one call.
     * @param page receives a JSON array of raw orders (owned: json_decref),
     *             NULL unless OUTCOME_OK; an empty array ends the poll.
     */
    enum outcome (*orders_page)(struct store_call *call,
                                const struct order_cursor *since, long limit,
                                json_t **page);
    /**
     * Identify @p raw (pure): its id, its version and the cursor just
     * past it.  @returns 0, or -1 with errstr when it is not an order.
     */
    int (*order_identify)(const json_t *raw, struct order_ref *ref,
                          char *errstr, size_t errstr_size);
    /**
     * Parse @p raw (pure) into @p o (clear it with order_clear(); it is
     * zeroed on failure).  @returns 0, or -1 with errstr naming the field.
     */
    int (*order_parse)(const json_t *raw, struct order *o, char *errstr,
                       size_t errstr_size);
    /**
     * Set the status of order @p remote_id in the store.  A status the
     * platform cannot set (ORDER_STATUS_OTHER) is OUTCOME_REJECTED without
     * a call.
     */
    enum outcome (*order_status_set)(struct store_call *call,
                                     long long remote_id,
                                     enum order_status status);
    /**
     * Make sure the store sends its order webhooks (created and updated
     * orders) to the intake at @p base_url for the store holding
     * @p secret; existing registrations are kept.  Spends one call to
     * list and one per webhook created.
     * @param created receives the number of webhooks created (may be NULL).
     */
    enum outcome (*webhooks_register)(struct store_call *call,
                                      const char *base_url, const char *secret,
                                      int *created);
    /** @returns 1 when @p path is one of the platform's webhook paths (pure;
     *           decides 404 before anything else is looked at). */
    int (*webhook_route)(const char *path);
    /**
     * @returns 1 when @p req was sent by the store holding @p secret, 0
     *          otherwise (pure; constant time in the secret).
     */
    int (*webhook_authenticate)(const struct webhook_request *req,
                                const char *secret);
};

/** @returns the platform named @p name, or NULL. */
const struct store_platform *store_platform_find(const char *name);

/** @returns the registered platforms' names, comma separated (static). */
const char *store_platform_names(void);

#endif
