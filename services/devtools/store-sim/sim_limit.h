/*
 * sim_limit — the inSales API rate limit: per login, a fixed window that
 * starts at the first request of a series; rejected requests count too.
 */
#ifndef SIM_LIMIT_H
#define SIM_LIMIT_H

#include <stdint.h>

/* One login's window. */
struct sim_limit_win {
    int64_t start_ms; /* first request of the current window */
    long count;       /* requests in the window, rejected ones included */
};

/* Outcome of one request. */
struct sim_limit_res {
    int allowed;      /* 1 = serve, 0 = reject with 429/503 */
    long used;        /* value for API-Usage-Limit: used/limit */
    long retry_after; /* seconds until the window ends (rejections) */
};

/**
 * @brief Count one request against @p w (pure, no locking).
 *
 * A window opens at the first request when none is active and lasts
 * @p window_ms; every request in it, allowed or not, increments the count;
 * the request numbered limit+1 and later ones are rejected with
 * Retry-After = ceil((start + window - now) / 1000 s), at least 1.
 * @p limit 0 disables the limit (always allowed).
 */
void sim_limit_take(struct sim_limit_win *w, long limit, int64_t window_ms,
                    int64_t now_ms, struct sim_limit_res *res);

struct sim_limiter;

/** @brief New limiter; @p limit 0 disables it. */
struct sim_limiter *sim_limiter_new(long limit, int64_t window_ms);

/** @brief Free; NULL-safe. */
void sim_limiter_destroy(struct sim_limiter *l);

/**
 * @brief Count one request of @p login at @p now_ms.
 * @locality any thread (own mutex).
 */
void sim_limiter_take(struct sim_limiter *l, const char *login, int64_t now_ms,
                      struct sim_limit_res *res);

/** @brief Forget every window (control API reset). */
void sim_limiter_reset(struct sim_limiter *l);

/** @returns the configured limit (0 = off). */
long sim_limiter_limit(const struct sim_limiter *l);

#endif
