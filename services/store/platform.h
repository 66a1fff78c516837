/*
 * platform — the seam between omnisync and an online store platform.
 *
 * One const struct store_platform per platform, defined in the platform's
 * folder under services/store/ and registered by name in platform.c's
 * table.  Services and the CLI call only these operations and the neutral
 * types below; every platform payload, path, status name and response
 * shape stays behind them.  Adding a platform is a new folder under
 * services/store/, one line in the registry and a store-sim mode
 * (docs/architecture.md).
 *
 * Every operation that calls the store takes a struct store_call
 * (store_client.h): the store's client, the shared budget and the budget
 * class it spends, and an optional drain deadline.  It returns one enum
 * outcome (lib/outcome.h); the last HTTP answer (status, Retry-After,
 * reason) stays in call->last and call->why says what failed, for the
 * caller's decisions, logs and dead letters.  An answer the operation
 * cannot use (no id, an unexpected shape) is OUTCOME_RETRY.  Neutral
 * results are owned by the caller and released with the matching clear
 * function; money is text as the store shows it (e.g. "1500.0"), compared
 * numerically by the caller.
 */
#ifndef OMNI_STORE_PLATFORM_H
#define OMNI_STORE_PLATFORM_H

#include "events/order.h"
#include "lib/outcome.h"
#include "store/budget.h"
#include "store/store_client.h"

#include <jansson.h>
#include <stddef.h>

/* ---- catalog ----------------------------------------------------------- */

/* A category as the store shows it (title owned). */
struct store_category {
    long long id;
    long long parent_id; /* 0: a root category; -1: not said */
    char *title;
};

struct store_categories {
    struct store_category *v;
    size_t n, cap;
};

/* A variant as the store shows it (strings owned, may be NULL). */
struct store_variant {
    long long id;
    long long product_id;
    char *sku;
    int has_quantity; /* 0: quantity is not tracked (null) */
    long long quantity;
    char *price;
    char *old_price;
};

struct store_variants {
    struct store_variant *v;
    size_t n, cap;
};

/* A product as the store shows it, with its variants (title owned). */
struct store_product {
    long long id;
    char *title;
    struct store_variants variants;
};

struct store_products {
    struct store_product *v;
    size_t n, cap;
};

/* Where a read of the store's products stands (products_page). */
struct store_page {
    const char *updated_since; /* (may be NULL) RFC 3339: only products
                                  updated since then */
    char cursor[256];          /* the platform's position of the next page,
                                  "" before the first */
    int done;                  /* set when the page read was the last */
};

/* What a variant document builder decided. */
enum store_doc_res {
    STORE_DOC_OK = 0,       /* *out is the document to publish */
    STORE_DOC_SKIP = 1,     /* archived, or no price in the list: the
                               variant must not exist in the store */
    STORE_DOC_INVALID = -1, /* the snapshot is malformed: errstr */
};

/* ---- stock and prices -------------------------------------------------- */

/* One variant's stock and price to push. */
struct store_stock_item {
    long long variant_id;  /* the store's variant id */
    long long quantity;    /* what the store may sell */
    const char *price;     /* (may be NULL) NULL: only the quantity; the
                              store keeps its price */
    const char *old_price; /* (may be NULL) with a price: NULL clears it */
};

/* What the store did with one item of a push. */
enum store_item_res {
    STORE_ITEM_PENDING = 0,  /* not settled: send it again later */
    STORE_ITEM_ACCEPTED = 1, /* the store took it */
    STORE_ITEM_REJECTED = 2, /* the store refused it: dead-letter */
};

struct store_item_result {
    enum store_item_res res;
    char reason[240]; /* REJECTED: why */
};

/* ---- images ------------------------------------------------------------ */

/* An image of a product as the store shows it (filename owned). */
struct store_image {
    long long id;
    char *filename; /* the name it was uploaded with (may be NULL) */
    long position;
};

struct store_images {
    struct store_image *v;
    size_t n, cap;
};

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
    size_t stock_batch_max; /* items per stock_push call */

    /* ---- catalog: documents (pure; hashed by the caller to skip
     * unchanged payloads, store/doc_hash.h) ---- */

    /**
     * The product document of a catalog snapshot (events: catalog.product)
     * without its variants.  @p category_id: the store's category of the
     * product's group (the root category when ungrouped), > 0.  Returns a
     * new reference, or NULL with errstr (a malformed snapshot).
     */
    json_t *(*product_doc)(const json_t *snap, long long category_id,
                           char *errstr, size_t errstr_size);
    /**
     * The document of one variant (an element of snap.variants) with its
     * price in @p price_list.  On STORE_DOC_OK *out receives a new
     * reference.
     */
    enum store_doc_res (*variant_doc)(const json_t *snap, const json_t *variant,
                                      const char *price_list, json_t **out,
                                      char *errstr, size_t errstr_size);

    /* ---- catalog: calls ---- */

    /** Every category of the store, appended to @p out. */
    enum outcome (*categories_list)(struct store_call *c,
                                    struct store_categories *out);
    /** Create a category under @p parent_id; *id receives its id. */
    enum outcome (*category_create)(struct store_call *c, const char *title,
                                    long long parent_id, long long *id);
    /** Rename category @p id to @p title and move it under @p parent_id. */
    enum outcome (*category_update)(struct store_call *c, long long id,
                                    const char *title, long long parent_id);
    /** Remove category @p id (the store refuses one with products or
     * subcategories: OUTCOME_REJECTED). */
    enum outcome (*category_delete)(struct store_call *c, long long id);
    /**
     * Create a product from its document with the @p n variant documents;
     * @p out receives the product as created (id, variants with ids and
     * SKUs).
     */
    enum outcome (*product_create)(struct store_call *c, const json_t *doc,
                                   json_t *const *variant_docs, size_t n,
                                   struct store_product *out);
    /** Replace a product's own fields with @p doc. */
    enum outcome (*product_update)(struct store_call *c, long long id,
                                   const json_t *doc);
    /** Archive a product (it leaves the storefront; recoverable). */
    enum outcome (*product_archive)(struct store_call *c, long long id);
    /** Bring an archived product back. */
    enum outcome (*product_recover)(struct store_call *c, long long id);
    /**
     * One page of the store's products with their variants, appended to
     * @p out; @p pg says where to start and receives where the next page
     * starts (pg->done after the last).
     */
    enum outcome (*products_page)(struct store_call *c, struct store_page *pg,
                                  struct store_products *out);
    /** The variants of product @p product_id, appended to @p out. */
    enum outcome (*variants_list)(struct store_call *c, long long product_id,
                                  struct store_variants *out);
    /** Add a variant to a product; *id receives its id. */
    enum outcome (*variant_create)(struct store_call *c, long long product_id,
                                   const json_t *doc, long long *id);
    /** Replace a variant's fields with @p doc. */
    enum outcome (*variant_update)(struct store_call *c, long long product_id,
                                   long long id, const json_t *doc);
    /** Remove a variant from a product. */
    enum outcome (*variant_delete)(struct store_call *c, long long product_id,
                                   long long id);

    /* ---- stock and prices ---- */

    /**
     * Push up to stock_batch_max items in one call.  OUTCOME_OK: every
     * out[i] is ACCEPTED or REJECTED.  OUTCOME_REJECTED with every out[i]
     * REJECTED: the store refused the batch as a whole for its content
     * (one bad item spoils it; split it to find which).  OUTCOME_REJECTED
     * with out[] PENDING: the store refused the call itself (credentials,
     * settings).  Otherwise nothing is known: out[] stays PENDING.
     */
    enum outcome (*stock_push)(struct store_call *c,
                               const struct store_stock_item *items, size_t n,
                               struct store_item_result *out);

    /* ---- images ---- */

    /** The images of product @p product_id, appended to @p out. */
    enum outcome (*images_list)(struct store_call *c, long long product_id,
                                struct store_images *out);
    /**
     * Upload @p len bytes as an image of product @p product_id named
     * @p filename at @p position; *id receives the image's id.
     */
    enum outcome (*image_upload)(struct store_call *c, long long product_id,
                                 const unsigned char *bytes, size_t len,
                                 const char *filename, long position,
                                 long long *id);
    /** Remove image @p id of product @p product_id. */
    enum outcome (*image_delete)(struct store_call *c, long long product_id,
                                 long long id);
    /** Move image @p id of product @p product_id to @p position. */
    enum outcome (*image_position)(struct store_call *c, long long product_id,
                                   long long id, long position);

    /* ---- orders and webhooks ---- */

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

/**
 * @brief Append copies of @p v (strings copied) to an array.
 * @returns 0, or -1 when out of memory (the array is unchanged).
 */
int store_categories_add(struct store_categories *a,
                         const struct store_category *v);
int store_variants_add(struct store_variants *a, const struct store_variant *v);
int store_images_add(struct store_images *a, const struct store_image *v);

/**
 * @brief Append @p p to @p a, taking over its strings and variants
 *        (@p p is zeroed).
 * @returns 0, or -1 when out of memory (@p p is unchanged).
 */
int store_products_take(struct store_products *a, struct store_product *p);

/** @brief Free the elements and the array, zero @p a.  NULL-safe. */
void store_categories_clear(struct store_categories *a);
void store_variants_clear(struct store_variants *a);
void store_products_clear(struct store_products *a);
void store_images_clear(struct store_images *a);

/** @brief Free the title and variants of @p p, zero it.  NULL-safe. */
void store_product_clear(struct store_product *p);

/** @returns the variant of @p a with SKU @p sku, or NULL (borrowed). */
const struct store_variant *
store_variants_by_sku(const struct store_variants *a, const char *sku);

#endif
