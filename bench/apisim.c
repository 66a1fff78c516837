/*
 * apisim — API efficiency of stock-publisher's flush policy (flushpol.h)
 * on its real pending map (pendmap.h), driven on a virtual clock under a
 * store limit of --limit calls per --window seconds (default inSales's
 * 500 per 300 s) with the stock class's 5 % reserve.
 *
 *   apisim --moves 10000 --variants 1000 --rate 500 [--pace 100]
 *          [--limit 500] [--window 300] [--flush-ms 500]
 *          [--hold-max-ms 300000] [--sellout-permille 0]
 *
 * --rate 0 is a burst read as a backlog (every movement pending before the
 * first flush); otherwise movements arrive at --rate per second, each on a
 * uniformly random variant; --sellout-permille of them (per 1,000) sell
 * their variant out: an urgent change (stockpub.urgent.at).  Prints one
 * JSON line: calls, the minimum (the sum over windows — consecutive
 * window-long periods from the stream's start — of ceil(distinct variants
 * changed in the window / 100)), the naive one-call-per-change count (=
 * movements), and the hold (change -> push) p50/p99/max in ms.  The time is
 * virtual: a run of minutes of store time takes milliseconds.
 */
#include "stock-publisher/flushpol.h"
#include "stock-publisher/pendmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_STEP_MS 10
#define SIM_BATCH 100

struct sim {
    long long moves, variants, rate, pace, limit, window_ms, flush_ms;
    long long hold_max_ms, sellout_pm;
    long long ws, used; /* the store's window: start (-1: none) */
    long long calls, minimum, sellouts;
    unsigned char *seen; /* variants changed in the current window */
    long long seen_n;    /* distinct in the current window */
    long long *holds;    /* per pushed variant: ms its change waited */
    long long nholds, capholds;
};

static long long sim_arg(int argc, char **argv, const char *name, long long d)
{
    int i;

    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atoll(argv[i + 1]);
    return d;
}

static void sim_window_close(struct sim *s)
{
    s->minimum += (s->seen_n + SIM_BATCH - 1) / SIM_BATCH;
    memset(s->seen, 0, (size_t)s->variants);
    s->seen_n = 0;
}

/* The store's fixed window: opens at the first call after the last one
 * ended.  Returns 1 when a stock token is granted. */
static int sim_take(struct sim *s, long long now)
{
    long long reserve = (s->limit * 5 + 99) / 100;

    if (s->ws < 0 || now >= s->ws + s->window_ms) {
        s->ws = now;
        s->used = 0;
    }
    if (s->limit - s->used <= reserve)
        return 0;
    s->used++;
    return 1;
}

static void sim_hold(struct sim *s, long long ms)
{
    if (s->nholds == s->capholds) {
        s->capholds = s->capholds ? s->capholds * 2 : 1024;
        s->holds = realloc(s->holds, (size_t)s->capholds * sizeof(*s->holds));
        if (!s->holds)
            exit(3);
    }
    s->holds[s->nholds++] = ms;
}

/* One round: @p k calls of the oldest SIM_BATCH variants, while tokens
 * last. */
static void sim_round(struct sim *s, struct pendmap *pm, struct pend_store *st,
                      long long now, long long k)
{
    struct pend_item *items[SIM_BATCH];
    size_t n;

    st->round_ms = now;
    while (k-- > 0 && st->count && sim_take(s, now)) {
        n = pendmap_batch(st, items, SIM_BATCH);
        s->calls++;
        while (n) {
            n--;
            sim_hold(s, now - items[n]->first_ms);
            pendmap_done(pm, items[n]);
        }
    }
}

static long long sim_due(struct sim *s, struct pend_store *st, long long now)
{
    struct flushpol_in in;
    long long reserve = (s->limit * 5 + 99) / 100;
    int fresh = s->ws < 0 || now >= s->ws + s->window_ms;

    memset(&in, 0, sizeof(in));
    in.pending = st->count;
    in.urgent = st->urgent;
    in.oldest_age_ms = now - st->head->first_ms;
    in.newest_age_ms = now - st->last_ms;
    in.flush_ms = (long)s->flush_ms;
    in.hold_max_ms = (long)s->hold_max_ms;
    in.since_round_ms = now - st->round_ms;
    in.urgent_ms = 1000; /* stockpub.urgent.ms */
    in.batch = SIM_BATCH;
    in.known = 1;
    in.share = s->limit - reserve;
    in.window_ms = s->window_ms;
    in.tokens_left = in.share - (fresh ? 0 : s->used);
    in.used_stock = fresh ? 0 : s->used;
    in.time_left_ms = fresh ? s->window_ms : s->ws + s->window_ms - now;
    in.pace_pct = (int)s->pace;
    return flushpol_now(&in);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

static void sim_put(struct sim *s, struct pendmap *pm, long long i,
                    unsigned *seed, long long now)
{
    struct pend_value v;
    long long vid;

    *seed = *seed * 1103515245u + 12345u;
    vid = (long long)((*seed >> 4) % (unsigned)s->variants);
    memset(&v, 0, sizeof(v));
    v.store = "s";
    v.variant_id = vid;
    v.available = i;
    v.urgent =
        (long long)(((unsigned)i * 2654435761u >> 8) % 1000) < s->sellout_pm;
    if (v.urgent) {
        v.available = 0;
        s->sellouts++;
    }
    v.offset = i;
    v.raw = "{}";
    v.raw_len = 2;
    if (pendmap_put(pm, &v, now) < 0)
        exit(3);
    if (!s->seen[vid]) {
        s->seen[vid] = 1;
        s->seen_n++;
    }
}

int main(int argc, char **argv)
{
    struct sim s;
    struct pendmap *pm = pendmap_new();
    struct pend_store *st;
    long long now = 0, i = 0, k;
    unsigned seed = 12345;

    memset(&s, 0, sizeof(s));
    s.moves = sim_arg(argc, argv, "--moves", 10000);
    s.variants = sim_arg(argc, argv, "--variants", 1000);
    s.rate = sim_arg(argc, argv, "--rate", 500);
    s.pace = sim_arg(argc, argv, "--pace", 100);
    s.limit = sim_arg(argc, argv, "--limit", 500);
    s.window_ms = sim_arg(argc, argv, "--window", 300) * 1000;
    s.flush_ms = sim_arg(argc, argv, "--flush-ms", 500);
    s.hold_max_ms = sim_arg(argc, argv, "--hold-max-ms", 300000);
    s.sellout_pm = sim_arg(argc, argv, "--sellout-permille", 0);
    s.ws = -1;
    s.seen = calloc((size_t)s.variants, 1);
    if (!pm || !s.seen || s.variants < 1 || s.moves < 1)
        return 2;
    if (s.rate == 0)
        for (; i < s.moves; i++)
            sim_put(&s, pm, i, &seed, 0);
    for (;; now += SIM_STEP_MS) {
        if (now > 0 && now % s.window_ms == 0)
            sim_window_close(&s); /* the minimum's period */
        for (; i < s.moves && i * 1000 <= now * s.rate; i++)
            sim_put(&s, pm, i, &seed, now);
        st = pendmap_store(pm, "s");
        if (st && st->count && (k = sim_due(&s, st, now)) > 0)
            sim_round(&s, pm, st, now, k);
        if (i >= s.moves && pendmap_count(pm) == 0)
            break;
    }
    sim_window_close(&s);
    qsort(s.holds, (size_t)s.nholds, sizeof(*s.holds), cmp_ll);
    printf("{\"moves\":%lld,\"variants\":%lld,\"rate\":%lld,\"pace\":%lld,"
           "\"sellouts\":%lld,\"calls\":%lld,\"minimum\":%lld,"
           "\"naive\":%lld,"
           "\"hold_p50_ms\":%lld,\"hold_p99_ms\":%lld,\"hold_max_ms\":%lld,"
           "\"sim_s\":%lld}\n",
           s.moves, s.variants, s.rate, s.pace, s.sellouts, s.calls, s.minimum,
           s.moves, s.holds[s.nholds / 2], s.holds[s.nholds * 99 / 100],
           s.holds[s.nholds - 1], now / 1000);
    pendmap_destroy(pm);
    free(s.seen);
    free(s.holds);
    return 0;
}
