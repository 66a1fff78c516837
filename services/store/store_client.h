/*
 * store_client — the platform-neutral client of an online store's admin API.
 *
 * One libcurl easy handle per client keeps connections alive between calls.
 * TLS is verified; credentials go through CURLOPT_USERNAME/PASSWORD (never
 * the URL) and are never logged or copied into results.  The platform's
 * paths, payload wrapping, usage header and limit model sit behind struct
 * store_adapter, which a platform's folder provides (platform.h).
 *
 * Every answer maps onto one enum outcome (lib/outcome.h), so callers
 * decide what happens next:
 *   OUTCOME_OK        2xx
 *   OUTCOME_PAUSED    429/503 (the store's rate limit): retry_after_s
 *   OUTCOME_REJECTED  other 4xx (401, 404, 422 ...), bad URL: dead-letter
 *   OUTCOME_RETRY     other 5xx, 504, 408, timeouts, connection errors
 *
 * store_call_run() is the one path platform operations use: budget token
 * -> call -> usage header fed back -> fleet pause on 429/503 -> outcome.
 *
 * @locality a client belongs to one thread at a time (libcurl easy handles
 *           are not thread-safe); make one client per worker thread.  Call
 *           curl_global_init() once in main() before any thread starts.
 */
#ifndef OMNI_STORE_CLIENT_H
#define OMNI_STORE_CLIENT_H

#include "lib/outcome.h"
#include "store/budget.h"

#include <jansson.h>
#include <stddef.h>

/* Operations every adapter implements.  Arguments: struct store_req_args. */
enum store_op {
    STORE_OP_ACCOUNT_GET = 0,
    STORE_OP_PRODUCTS_LIST,         /* updated_since, from_id, page, per_page */
    STORE_OP_PRODUCT_GET,           /* id */
    STORE_OP_PRODUCT_CREATE,        /* payload */
    STORE_OP_PRODUCT_UPDATE,        /* id, payload */
    STORE_OP_PRODUCT_DELETE,        /* id */
    STORE_OP_VARIANTS_LIST,         /* id (product) */
    STORE_OP_VARIANT_GET,           /* id (product), sub_id (variant) */
    STORE_OP_VARIANT_CREATE,        /* id (product), payload */
    STORE_OP_VARIANT_UPDATE,        /* id (product), sub_id, payload */
    STORE_OP_VARIANT_DELETE,        /* id (product), sub_id */
    STORE_OP_VARIANTS_GROUP_UPDATE, /* payload: array of {id, ...} */
    STORE_OP_IMAGES_LIST,           /* id (product) */
    STORE_OP_IMAGE_CREATE,          /* id (product), payload */
    STORE_OP_CATEGORIES_LIST,       /* none */
    STORE_OP_CATEGORY_CREATE,       /* payload */
    STORE_OP_ORDERS_LIST,           /* updated_since, from_id, page, per_page */
    STORE_OP_ORDER_GET,             /* id */
    STORE_OP_ORDER_UPDATE,          /* id, payload */
    STORE_OP_WEBHOOKS_LIST,         /* none */
    STORE_OP_WEBHOOK_CREATE,        /* payload */
    STORE_OP_WEBHOOK_DELETE,        /* id */
    STORE_OP_PRODUCT_RECOVER,       /* id: un-archive (body {}) */
    STORE_OP_IMAGE_DELETE,          /* id (product), sub_id (image) */
    STORE_OP_IMAGE_UPDATE,          /* id (product), sub_id (image), payload */
    STORE_OP_CATEGORY_UPDATE,       /* id, payload */
    STORE_OP_CATEGORY_DELETE,       /* id */
    STORE_OP__COUNT
};

/* Platform-neutral arguments of an operation (unused fields stay 0/NULL). */
struct store_req_args {
    long long id;              /* product, order or webhook id */
    long long sub_id;          /* variant or image id */
    const char *updated_since; /* ISO-8601 with offset (may be NULL) */
    long long from_id;         /* with updated_since: skip ids <= this */
    long page;                 /* 1-based, 0 = platform default */
    long per_page;             /* 0 = platform default */
    json_t *payload;           /* (borrowed) entity fields, unwrapped */
};

/* A request as the adapter builds it. */
struct store_http_req {
    const char *method; /* "GET", "POST", "PUT", "DELETE" (static) */
    char path[1024];    /* path and query, relative to the base URL */
    json_t *body;       /* (owned) request body or NULL */
};

/* The platform's rate-limit model. */
enum store_limit_kind {
    STORE_LIMIT_FIXED_WINDOW = 0, /* limit per window, from first request */
    STORE_LIMIT_LEAKY_BUCKET = 1, /* capacity, drains leak_per_s */
};

struct store_limit_model {
    enum store_limit_kind kind;
    long limit;        /* window: requests per window; bucket: capacity */
    long window_s;     /* window length (fixed window) */
    double leak_per_s; /* drain rate (leaky bucket) */
    const char *usage_header; /* header carrying "used/limit" */
};

/*
 * The adapter: the platform's transport (paths, bodies, usage header,
 * limit model).  Each platform's folder defines one; only that platform's
 * operations (platform.h) name enum store_op values.
 */
struct store_adapter {
    const char *name; /* the platform's name */
    struct store_limit_model limit;
    long retry_after_default_s; /* a 429/503 without Retry-After: wait
                                   this long (0: 150 s) */
    /**
     * Build method, path and body of @p op.  Returns 0, or -1 with errstr
     * filled when the arguments do not fit the operation.
     */
    int (*build)(enum store_op op, const struct store_req_args *a,
                 struct store_http_req *out, char *errstr, size_t errstr_size);
    /** Parse the usage header value: 0 with used/limit, or -1. */
    int (*parse_usage)(const char *value, long *used, long *limit);
};

/* Plain settings of one store (copied by store_client_new). */
struct store_settings {
    const char *store_id; /* budget key; e.g. the ledger's store code */
    const char *url;      /* base, e.g. "https://shop.example.com" */
    const char *login;
    const char *password;       /* never logged; wiped from memory on destroy */
    long api_limit;             /* 0: the adapter's default */
    long api_window_s;          /* 0: the adapter's default */
    long connect_timeout_ms;    /* 0: 10000 */
    long timeout_ms;            /* 0: 55000 (the store gives up at 50 s) */
    long retry_after_default_s; /* no Retry-After header: 0 means the
                                   adapter's default, and never longer
                                   than one window */
    long retry_after_max_s;     /* cap on Retry-After, 0: 600 */
    long budget_max_wait_ms;    /* store_call_run: longest token wait, 0:
                                   no bound (shutdown still interrupts) */
    const char *ca_file;        /* (may be NULL) extra CA bundle for TLS */
};

/* Typed result of one call.  Free with store_result_clear(). */
struct store_result {
    enum outcome res;
    long status;        /* HTTP status, 0 when no response */
    long retry_after_s; /* OUTCOME_PAUSED: seconds to wait */
    long usage_used;    /* usage header, -1 when absent */
    long usage_limit;   /* usage header, -1 when absent */
    json_t *body;       /* (owned) parsed JSON body, or NULL */
    char excerpt[200];  /* start of a non-JSON body, printable chars only */
    char reason[256];   /* short reason; never credentials */
    long wait_ms;       /* store_call_run: time waited for the token */
};

struct store_client;

/*
 * One metered call's context, as every platform operation takes it
 * (platform.h): the store's client, the shared budget and the class it
 * spends, an optional drain deadline, and what the last call got.  Start
 * it with store_call_init(); release it with store_call_clear().
 */
struct store_call {
    struct store_client *sc; /* borrowed */
    struct budget *b;        /* borrowed */
    enum budget_class cls;
    /* 0: wait for a token as the client allows (budget_max_wait_ms),
     * giving up on shutdown.  Else a CLOCK_MONOTONIC time in ms: wait for
     * tokens until then even after a stop request (a drain after SIGTERM
     * flushes what is pending). */
    long long deadline_ms;
    struct store_result last; /* the last answer */
    char why[800];            /* what failed: operation, HTTP status,
                                 reason, the store's answer (for logs and
                                 dead letters); "" after a success */
    unsigned long long calls; /* requests that reached the store */
};

/**
 * @brief New client for one store.
 * @param ad adapter (borrowed, must outlive the client).
 * @param s  settings, copied (strings included).
 * @returns the client, or NULL with @p errstr filled (no password in it).
 */
struct store_client *store_client_new(const struct store_adapter *ad,
                                      const struct store_settings *s,
                                      char *errstr, size_t errstr_size);

/** @brief Free; wipes the stored password.  NULL-safe. */
void store_client_destroy(struct store_client *sc);

/** @returns the adapter of @p sc (borrowed). */
const struct store_adapter *store_client_adapter(const struct store_client *sc);

/**
 * @brief The budget key (store id) and the limit and window the client's
 *        calls take tokens with (after the adapter's defaults).
 * @returns the store id (borrowed).
 */
const char *store_client_budget(const struct store_client *sc, long *limit,
                                long *window_s);

/**
 * @brief Start @p c for calls of class @p cls to @p sc through @p b (both
 *        borrowed); no deadline, nothing answered yet.
 */
void store_call_init(struct store_call *c, struct store_client *sc,
                     struct budget *b, enum budget_class cls);

/**
 * @brief One unmetered call.  Platform operations use store_call_run().
 * @param out filled on every path; release with store_result_clear().
 * @returns out->res.
 */
enum outcome store_client_do(struct store_client *sc, enum store_op op,
                             const struct store_req_args *a,
                             struct store_result *out);

/**
 * @brief One metered call end to end: take a token of class @p c->cls
 *        from @p c->b (see deadline_ms for how long it waits), call, feed
 *        the usage header back, pause the fleet on 429/503.  The answer
 *        replaces @p c->last; @p c->why says what failed.
 *
 * No token means no call: a budget wait beyond the bound or the deadline
 * is OUTCOME_PAUSED (status 0); Redis down beyond the bound or a shutdown
 * is OUTCOME_RETRY (status 0).
 *
 * @returns c->last.res.
 */
enum outcome store_call_run(struct store_call *c, enum store_op op,
                            const struct store_req_args *a);

/**
 * @brief Record a failure found in an answer (a 2xx the operation cannot
 *        use: no id, not the expected shape) in @p c->why.
 * @returns @p o.
 */
enum outcome store_call_fail(struct store_call *c, enum outcome o,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** @brief Release @p c->last and clear why (the borrowed fields stay). */
void store_call_clear(struct store_call *c);

/** @brief Release the body of @p r and reset it.  NULL-safe. */
void store_result_clear(struct store_result *r);

/**
 * @brief Map a finished transfer to a result (pure; exposed for tests).
 * @param curl_code   CURLcode of the transfer (0 = a response arrived).
 * @param status      HTTP status (ignored when curl_code != 0).
 * @param retry_after Retry-After header value (may be NULL).
 * @param def_retry_s seconds to use when a 429/503 has no Retry-After.
 * @param max_retry_s cap applied to Retry-After.
 * @param out         res, status, retry_after_s and reason are set.
 */
void store_result_classify(struct store_result *out, int curl_code, long status,
                           const char *retry_after, long def_retry_s,
                           long max_retry_s);

/** @returns a short name of @p op, e.g. "product_update". */
const char *store_op_name(enum store_op op);

#endif
