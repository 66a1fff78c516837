/*
 * lathist — a fixed-bucket latency histogram (ledger commit -> store
 * accepted), Prometheus-style: cumulative buckets with upper bounds in
 * milliseconds, plus count, sum and max.
 * @locality one thread (copy with lathist_snapshot() for readers).
 */
#ifndef OMNI_LATHIST_H
#define OMNI_LATHIST_H

#include <stddef.h>
#include <stdint.h>

/* Upper bounds (ms) of the finite buckets; one more bucket is +Inf. */
#define LATHIST_BOUNDS                                                         \
    {                                                                          \
        10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000,   \
            20000, 30000, 60000                                                \
    }
#define LATHIST_NBOUNDS 16

struct lathist {
    uint64_t buckets[LATHIST_NBOUNDS + 1]; /* not cumulative; last = +Inf */
    uint64_t count;
    double sum_ms;
    int64_t max_ms;
};

/** @brief Add one observation (negative values count as 0). */
void lathist_add(struct lathist *h, int64_t ms);

/**
 * @brief The upper bound of the bucket holding quantile @p q (0..1), in
 *        ms; the largest observation when it falls in +Inf; 0 when empty.
 */
int64_t lathist_quantile(const struct lathist *h, double q);

/** @returns the upper bound of finite bucket @p i (ms), or -1 (+Inf). */
long lathist_bound(size_t i);

#endif
