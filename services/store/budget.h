/*
 * budget — one API budget per store, shared by every process of the fleet.
 *
 * The budget lives in Redis as the hash "omnisync:budget:{<store>}" and is
 * changed only by one Lua script (BUDGET_LUA in budget.c) that reads Redis's
 * own clock (TIME), so every process sees the same window whatever its own
 * clock says.  The script models the store's limit as a fixed window of
 * `limit` requests per `window` seconds that starts at the first request
 * (a leaky bucket maps onto it, store_client.h; see docs/budget.md for the
 * full model).
 *
 * Priority classes: orders > stock > catalog > images.  A class may take a
 * token only while more than its reserve (a share of the limit held back for
 * the classes above it) remains in the window.
 *
 * Fail closed: when Redis cannot be reached no token is granted; callers wait
 * and retry with a capped backoff.  The outage is logged once when it starts
 * and once when it ends.
 *
 * @locality one struct budget per process, shared by all its threads: calls
 *           are serialised by an internal mutex (one Redis round trip each).
 */
#ifndef OMNI_BUDGET_H
#define OMNI_BUDGET_H

#include <stddef.h>
#include <stdint.h>

/* Priority classes, highest first. */
enum budget_class {
    BUDGET_ORDERS = 0,
    BUDGET_STOCK = 1,
    BUDGET_CATALOG = 2,
    BUDGET_IMAGES = 3,
    BUDGET_CLASS_COUNT
};

/* Outcome of a take or an acquire. */
enum budget_res {
    BUDGET_GRANTED = 0,     /* a token was taken: call the store now */
    BUDGET_WAIT = 1,        /* no token; *wait_ms says for how long */
    BUDGET_UNAVAILABLE = 2, /* Redis unreachable: fail closed, retry later */
    BUDGET_STOPPED = 3,     /* acquire only: shutdown was requested */
};

/* Tunables; budget_config_default() fills the defaults shown. */
struct budget_config {
    /* Percent of the limit a class leaves for the classes above it.
     * Defaults: orders 0, stock 5, catalog 15, images 30. */
    int reserve_pct[BUDGET_CLASS_COUNT];
    /* Orders first: every class below orders also leaves the orders'
     * projected need for the rest of the window, this percent of the
     * larger of the window before's orders tokens and this window's
     * orders rate (default 125; 0: static reserves only). */
    int orders_headroom_pct;
    /* 1 (default): catalog and images take their share of a window
     * spread over it (a tenth at once, then evenly), so a bulk upload
     * never empties a window's start ahead of orders; 0: as fast as the
     * reserves allow. */
    int pace_bulk;
    /* Our window outlasts the store's by this much (default 500 ms): the
     * store starts its window when the first request *arrives*, slightly
     * after we granted it. */
    long guard_ms;
    /* After a window opens, classes below orders wait (up to this long,
     * default 1000 ms) until the first response's usage header confirmed
     * the store's count, so a store that counted more than we did is seen
     * before a burst, not after. */
    long probe_ms;
    long backoff_min_ms;   /* Redis down: first retry delay (100 ms) */
    long backoff_max_ms;   /* Redis down: retry delay cap (2000 ms) */
    long redis_timeout_ms; /* connect and command timeout (1000 ms) */
};

/* Counters, monotonic since budget_new(); see budget_metrics_get(). */
struct budget_metrics {
    unsigned long long taken[BUDGET_CLASS_COUNT];   /* tokens granted */
    unsigned long long waits[BUDGET_CLASS_COUNT];   /* acquires that waited */
    unsigned long long wait_ms[BUDGET_CLASS_COUNT]; /* total time waited */
    unsigned long long seen_429;                    /* store answered 429 */
    unsigned long long seen_503;                    /* store answered 503 */
    unsigned long long pauses;         /* fleet pauses set by this process */
    unsigned long long adopted;        /* server counts adopted */
    unsigned long long redis_errors;   /* failed Redis round trips */
    unsigned long long outages;        /* Redis outages (logged once each) */
    unsigned long long script_reloads; /* NOSCRIPT answered by EVAL */
};

/* What a granted token knows; pass it back to budget_feedback(). */
struct budget_token {
    int64_t window_start_ms; /* Redis time the window opened */
    long used;               /* tokens used in the window after this one */
    long limit;              /* effective limit of the window */
};

struct budget;
struct metrics;

/** @brief Fill @p c with the documented defaults. */
void budget_config_default(struct budget_config *c);

/** @returns "orders", "stock", "catalog", "images" or "?". */
const char *budget_class_name(enum budget_class cls);

/** @returns the class named @p name, or -1. */
int budget_class_parse(const char *name);

/**
 * @brief Create a budget client for the Redis at @p redis_addr ("host:port").
 *
 * Connects lazily: a Redis that is down now is not an error (the budget is
 * closed until it comes back).
 *
 * @param cfg (may be NULL) tunables, copied; NULL means the defaults.
 * @returns the budget, or NULL with @p errstr filled when the address or the
 *          config is invalid.
 */
struct budget *budget_new(const char *redis_addr,
                          const struct budget_config *cfg, char *errstr,
                          size_t errstr_size);

/** @brief Close the connection and free.  NULL-safe. */
void budget_destroy(struct budget *b);

/**
 * @brief Try to take one token, without waiting.
 *
 * @param store    store id (the key is "omnisync:budget:{<store>}").
 * @param limit    requests per window from the store's settings.
 * @param window_s window length in seconds from the store's settings.
 * @param wait_ms  (out) on BUDGET_WAIT: ms until a token may be available.
 * @param tok      (out, may be NULL) on BUDGET_GRANTED: the token.
 * @returns BUDGET_GRANTED, BUDGET_WAIT or BUDGET_UNAVAILABLE.
 * @locality any thread.
 */
enum budget_res budget_take(struct budget *b, const char *store,
                            enum budget_class cls, long limit, long window_s,
                            long *wait_ms, struct budget_token *tok);

/**
 * @brief Take a token, sleeping in steps of at most 100 ms until one is
 *        granted, shutdown is requested (sig_stop_requested()) or waiting
 *        longer would exceed @p max_wait_ms.
 *
 * While Redis is down it retries with a backoff from backoff_min_ms doubling
 * to backoff_max_ms; it never grants a token without Redis.
 *
 * @param max_wait_ms give up instead of waiting beyond this (-1: no bound).
 * @param wait_ms     (out, may be NULL) on BUDGET_WAIT: the wait that would
 *                    have exceeded the bound; on BUDGET_GRANTED: time waited.
 * @returns BUDGET_GRANTED, BUDGET_WAIT (bound exceeded), BUDGET_UNAVAILABLE
 *          (Redis still down when the bound ran out) or BUDGET_STOPPED.
 * @locality any thread; blocks the calling thread only.
 */
enum budget_res budget_acquire(struct budget *b, const char *store,
                               enum budget_class cls, long limit, long window_s,
                               long max_wait_ms, long *wait_ms,
                               struct budget_token *tok);

/**
 * @brief Feed the store's usage header back after a response.
 *
 * If the token's window is still the current one, the first feedback ends the
 * window's probe phase, and when the store counted more than the budget
 * (another app, a store restart, a lost Redis) the budget adopts the store's
 * count; a lower store limit is adopted too.  Feedback for an older window is
 * ignored.
 *
 * @param tok         the token the call was made with.
 * @param server_used used count from the header, or -1 when absent.
 * @param server_limit limit from the header, or -1 when absent.
 * @returns 1 when the store's count was adopted, 0 when not, -1 on a Redis
 *          error.
 */
int budget_feedback(struct budget *b, const char *store,
                    const struct budget_token *tok, long server_used,
                    long server_limit);

/**
 * @brief Pause the whole fleet for @p store: nobody gets a token for
 *        @p retry_after_s seconds (Redis time); the current window counts as
 *        exhausted and a fresh one opens after the pause.
 * @param http_status the store's answer that caused it (429, 503), kept
 *        for `omnisync status`.
 * @returns 0, or -1 on a Redis error.
 */
int budget_pause(struct budget *b, const char *store, long retry_after_s,
                 long http_status);

/* A store's budget as Redis holds it now (budget_state_read()). */
struct budget_state {
    long long now_ms;      /* Redis time of the read */
    long long used, limit; /* the current window (used 0: none open) */
    long long used_by[BUDGET_CLASS_COUNT]; /* tokens of each class */
    long long window_end_ms;  /* Redis time it ends (0: none open) */
    long long pause_until_ms; /* fleet pause end (0: not paused) */
    long pause_status;        /* the answer that paused it (429, 503) */
};

/**
 * @brief Read store @p store's budget hash (read only; never takes a
 *        token), on a connection of its own to the Redis at
 *        @p redis_addr ("host:port"): for `omnisync status`.
 * @returns 0, or -1 with a short @p reason (Redis unreachable).
 */
int budget_state_read(const char *redis_addr, const char *store,
                      long timeout_ms, struct budget_state *st, char *reason,
                      size_t reason_size);

/**
 * @brief Read store @p store's budget like budget_state_read(), on this
 *        process's budget connection (no token taken): for policies that
 *        look at the window before they spend (stock-publisher's flush
 *        pacing, docs/stock-publisher.md).
 * @returns 0, or -1 when Redis cannot be reached (the budget is closed).
 * @locality any thread (serialised with the takes).
 */
int budget_peek(struct budget *b, const char *store, struct budget_state *st);

/** @brief Count a 429/503 answer from the store (metrics only). */
void budget_note_status(struct budget *b, long http_status);

/**
 * @brief Report the budget in @p m (docs/metrics.md): tokens taken, the
 *        window's used/limit/left as the last answer showed it, token
 *        waits, pauses, Redis refusals, and the store API calls
 *        (budget_note_call()).  Once per registry.
 * @returns 0, or -1 when a family could not be registered (logged).
 */
int budget_metrics_register(struct budget *b, struct metrics *m);

/**
 * @brief Let @p b count into the metric families @p from registered (a
 *        service's store workers, each with a budget of its own, report
 *        in the process's one /metrics).  Families are thread-safe; @p from
 *        must outlive @p b.
 */
void budget_metrics_share(struct budget *b, const struct budget *from);

/**
 * @brief Count one store call made with a token of class @p cls:
 *        omnisync_store_api_calls_total{store,class,status} (status the
 *        HTTP code, or "error" when @p http_status is 0: no answer) and
 *        the token wait @p waited_ms in
 *        omnisync_budget_token_wait_seconds.  store_call_run() calls it.
 */
void budget_note_call(struct budget *b, const char *store,
                      enum budget_class cls, long waited_ms, long http_status);

/**
 * @brief Whether the Redis at @p redis_addr ("host:port") answers PING
 *        within @p timeout_ms, on a connection of its own (never the
 *        budget's): for readiness checks.
 * @returns 0, or -1 with a short @p reason.
 * @locality any thread.
 */
int budget_redis_ping(const char *redis_addr, long timeout_ms, char *reason,
                      size_t reason_size);

/** @brief Copy the counters (each read atomically).  @locality any thread. */
void budget_metrics_get(const struct budget *b, struct budget_metrics *out);

#endif
