/* Unit tests of store-sim's fixed-window rate limit arithmetic. */
#include <string.h>

#include "devtools/store-sim/sim_limit.h"
#include "t.h"

int main(void)
{
    struct sim_limit_win w;
    struct sim_limit_res r;
    struct sim_limiter *l;
    int64_t t0 = 1000000;

    memset(&w, 0, sizeof(w));
    /* 500 requests inside the window pass; the window starts at the
     * first one. */
    for (int i = 1; i <= 500; i++) {
        sim_limit_take(&w, 500, 300000, t0 + i * 10, &r);
        if (!r.allowed || r.used != i)
            break;
    }
    T_ASSERT(r.allowed);
    T_ASSERT_EQ(r.used, 500);
    T_ASSERT_EQ(w.start_ms, t0 + 10);

    /* The 501st is rejected; Retry-After rounds up to the window end. */
    sim_limit_take(&w, 500, 300000, t0 + 10 + 100500, &r);
    T_ASSERT(!r.allowed);
    T_ASSERT_EQ(r.used, 501);
    T_ASSERT_EQ(r.retry_after, 200); /* 199.5 s -> 200 */

    /* Rejected requests count too. */
    sim_limit_take(&w, 500, 300000, t0 + 10 + 299999, &r);
    T_ASSERT(!r.allowed);
    T_ASSERT_EQ(r.used, 502);
    T_ASSERT_EQ(r.retry_after, 1); /* 1 ms left -> 1 s */

    /* At the window's end a new window starts with this request. */
    sim_limit_take(&w, 500, 300000, t0 + 10 + 300000, &r);
    T_ASSERT(r.allowed);
    T_ASSERT_EQ(r.used, 1);
    T_ASSERT_EQ(w.start_ms, t0 + 10 + 300000);

    /* Limit 0 means off. */
    memset(&w, 0, sizeof(w));
    for (int i = 0; i < 1000; i++)
        sim_limit_take(&w, 0, 1000, t0, &r);
    T_ASSERT(r.allowed);

    /* Exact boundary: retry_after is exactly the remaining seconds. */
    memset(&w, 0, sizeof(w));
    sim_limit_take(&w, 1, 3000, t0, &r);
    T_ASSERT(r.allowed);
    sim_limit_take(&w, 1, 3000, t0, &r);
    T_ASSERT(!r.allowed);
    T_ASSERT_EQ(r.retry_after, 3);

    /* The limiter keeps one window per login. */
    l = sim_limiter_new(2, 10000);
    T_ASSERT(l != NULL);
    sim_limiter_take(l, "a", t0, &r);
    sim_limiter_take(l, "a", t0 + 1, &r);
    sim_limiter_take(l, "a", t0 + 2, &r);
    T_ASSERT(!r.allowed);
    sim_limiter_take(l, "b", t0 + 3, &r);
    T_ASSERT(r.allowed);
    T_ASSERT_EQ(r.used, 1);
    sim_limiter_reset(l);
    sim_limiter_take(l, "a", t0 + 4, &r);
    T_ASSERT(r.allowed);
    T_ASSERT_EQ(sim_limiter_limit(l), 2);
    sim_limiter_destroy(l);
    sim_limiter_destroy(NULL);
    T_DONE();
}
