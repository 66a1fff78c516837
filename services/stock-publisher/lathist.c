#include "lathist.h"

static const long lathist_bounds[LATHIST_NBOUNDS] = LATHIST_BOUNDS;

void lathist_add(struct lathist *h, int64_t ms)
{
    size_t i;

    if (ms < 0)
        ms = 0;
    for (i = 0; i < LATHIST_NBOUNDS; i++)
        if (ms <= lathist_bounds[i])
            break;
    h->buckets[i]++;
    h->count++;
    h->sum_ms += (double)ms;
    if (ms > h->max_ms)
        h->max_ms = ms;
}

int64_t lathist_quantile(const struct lathist *h, double q)
{
    uint64_t rank, seen = 0;
    size_t i;

    if (!h->count)
        return 0;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    rank = (uint64_t)(q * (double)h->count + 0.999999);
    if (rank < 1)
        rank = 1;
    for (i = 0; i < LATHIST_NBOUNDS; i++) {
        seen += h->buckets[i];
        if (seen >= rank)
            return lathist_bounds[i] < h->max_ms ? lathist_bounds[i]
                                                 : h->max_ms;
    }
    return h->max_ms;
}

long lathist_bound(size_t i)
{
    return i < LATHIST_NBOUNDS ? lathist_bounds[i] : -1;
}
