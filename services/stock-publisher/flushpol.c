#include "flushpol.h"

long long flushpol_calls(size_t pending, size_t batch)
{
    if (batch == 0)
        batch = 1;
    return (long long)((pending + batch - 1) / batch);
}

long long flushpol_ahead(const struct flushpol_in *in)
{
    int pct = in->pace_pct < 1 ? 1 : in->pace_pct > 100 ? 100 : in->pace_pct;
    double share = (double)in->share * pct / 100.0, a;
    long long time_left = in->time_left_ms;

    if (!in->known || in->window_ms <= 0)
        return flushpol_calls(in->pending, in->batch);
    if (in->tokens_left <= 0)
        return 0;
    if (time_left > in->window_ms)
        time_left = in->window_ms;
    a = share * (double)(in->window_ms - time_left) / (double)in->window_ms +
        share / 10.0 - (double)in->used_stock;
    if (a > (double)in->tokens_left)
        a = (double)in->tokens_left;
    return a < 0 ? 0 : (long long)a;
}

long long flushpol_now(const struct flushpol_in *in)
{
    long long k = flushpol_calls(in->pending, in->batch), a;

    /* Still changing and not held too long: only urgent changes go (at
     * most a round per urgent_ms), as long as any token is left (not
     * paced). */
    if (in->newest_age_ms < in->flush_ms &&
        in->oldest_age_ms < in->hold_max_ms) {
        k = in->since_round_ms < in->urgent_ms
                ? 0
                : flushpol_calls(in->urgent, in->batch);
        a = in->known ? in->tokens_left : k;
    } else {
        a = flushpol_ahead(in);
    }
    if (k == 0)
        return 0;
    return a < k ? (a > 0 ? a : 0) : k;
}
