/*
 * test_stockpub — stock-publisher's pure parts: the pending map
 * (coalescing, per-store batches, flush triggers, offset tracking), the
 * split of a rejected batch, the latency histogram and the ts parser.
 */
#include "stock-publisher/flushpol.h"
#include "stock-publisher/soldset.h"
#include "stock-publisher/lathist.h"
#include "stock-publisher/pendmap.h"
#include "stock-publisher/stockpub.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

static void put(struct pendmap *pm, const char *store, long long vid,
                long long avail, int32_t part, int64_t off, int64_t now)
{
    struct pend_value v;

    memset(&v, 0, sizeof(v));
    v.store = store;
    v.variant_id = vid;
    v.available = avail;
    v.price = "100.00";
    v.partition = part;
    v.offset = off;
    v.commit_ms = 1000 + off;
    v.raw = "{}";
    v.raw_len = 2;
    T_ASSERT(pendmap_put(pm, &v, now) >= 0);
}

static void test_coalesce_and_triggers(void)
{
    struct pendmap *pm = pendmap_new();
    struct pend_item *items[100];
    struct pend_store *st;
    size_t n;
    int i;

    T_ASSERT(pm != NULL);
    if (!pm)
        return;
    /* 10 changes of one variant: one item holding the last value, the
     * first offset and the first arrival time. */
    for (i = 0; i < 10; i++)
        put(pm, "A", 7, i, 0, i, 100 + i);
    T_ASSERT_EQ(pendmap_count(pm), 1);
    st = pendmap_store(pm, "A");
    T_ASSERT(st != NULL);
    if (!st)
        return;
    T_ASSERT_EQ(st->head->available, 9);
    T_ASSERT_EQ(st->head->first_offset, 0);
    T_ASSERT_EQ(st->head->last_offset, 9);
    T_ASSERT_EQ(st->head->first_ms, 100);
    T_ASSERT_EQ(st->head->updates, 10);
    /* Not due before stockpub.flush.ms, due at it. */
    T_ASSERT(pendmap_due(pm, 599, 500, 100, 0) == NULL);
    T_ASSERT(pendmap_due(pm, 600, 500, 100, 0) == st);
    /* 100 distinct variants: due at once (size trigger). */
    for (i = 1; i < 100; i++)
        put(pm, "A", 100 + i, 1, 0, 10 + i, 200);
    T_ASSERT_EQ(st->count, 100);
    T_ASSERT(pendmap_due(pm, 201, 500, 100, 0) == st);
    n = pendmap_batch(st, items, 100);
    T_ASSERT_EQ(n, 100);
    T_ASSERT_EQ(items[0]->variant_id, 7); /* oldest first */
    /* Another store is independent. */
    put(pm, "B", 7, 5, 1, 0, 300);
    T_ASSERT_EQ(pendmap_count(pm), 101);
    T_ASSERT(pendmap_due(pm, 301, 500, 100, 0) == st);
    /* Backoff hides a store until it passes. */
    pendmap_backoff(st, 301, 0, 500, 30000);
    T_ASSERT(pendmap_due(pm, 302, 500, 100, 0) == NULL);
    T_ASSERT(pendmap_due(pm, 801, 500, 100, 0) == pendmap_store(pm, "B"));
    T_ASSERT(pendmap_due(pm, 801, 500, 100, 1) != NULL);
    pendmap_backoff(st, 801, 0, 500, 30000);
    T_ASSERT_EQ(st->backoff_ms, 1000); /* doubles */
    pendmap_backoff_clear(st);
    T_ASSERT_EQ(st->not_before_ms, 0);
    pendmap_destroy(pm);
}

static void test_offsets(void)
{
    struct pendmap *pm = pendmap_new();
    struct pend_commit pc[8];
    struct pend_store *a;
    size_t n;

    /* partition 0: offsets 0..4, variants 1,2,1,3,2 */
    put(pm, "A", 1, 1, 0, 0, 0);
    put(pm, "A", 2, 1, 0, 1, 0);
    put(pm, "A", 1, 2, 0, 2, 0);
    put(pm, "A", 3, 1, 0, 3, 0);
    put(pm, "A", 2, 2, 0, 4, 0);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 0);
    n = pendmap_commits(pm, pc, 8);
    T_ASSERT_EQ(n, 1);
    T_ASSERT_EQ(pc[0].offset, 0);
    T_ASSERT_EQ(pendmap_commits(pm, pc, 8), 0); /* nothing moved */
    a = pendmap_store(pm, "A");
    /* Variant 2 (first offset 1) accepted: variant 1 (offset 0) still
     * pends, so nothing moves. */
    pendmap_done(pm, a->head->next);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 0);
    /* Variant 1 accepted: variant 3 (offset 3) is the oldest pending. */
    pendmap_done(pm, a->head);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 3);
    pendmap_done(pm, a->head);
    T_ASSERT_EQ(pendmap_count(pm), 0);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 5); /* last consumed + 1 */
    /* An offset that left nothing pending (dead-lettered) moves it too;
     * a barrier holds it. */
    T_ASSERT_EQ(pendmap_offset_seen(pm, 0, 5), 0);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 6);
    T_ASSERT_EQ(pendmap_barrier(pm, 0, 6), 0);
    T_ASSERT_EQ(pendmap_offset_seen(pm, 0, 7), 0);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 6);
    /* Partitions are independent. */
    put(pm, "A", 9, 1, 3, 40, 0);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 3), 40);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 6);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 5), -1);
    n = pendmap_commits(pm, pc, 8);
    T_ASSERT_EQ(n, 2);
    pendmap_commits_reset(pm);
    T_ASSERT_EQ(pendmap_commits(pm, pc, 8), 2);
    pendmap_destroy(pm);
}

static void test_many(void)
{
    struct pendmap *pm = pendmap_new();
    struct pend_item *items[100];
    struct pend_store *st;
    int i;

    /* 10,000 changes over 1,000 variants: 1,000 items, 10 batches. */
    for (i = 0; i < 10000; i++)
        put(pm, "A", 1 + (i * 7919) % 1000, i, i % 6, i, i);
    T_ASSERT_EQ(pendmap_count(pm), 1000);
    st = pendmap_store(pm, "A");
    for (i = 0; i < 10; i++) {
        size_t n = pendmap_batch(st, items, 100), k;

        T_ASSERT_EQ(n, 100);
        for (k = 0; k < n; k++)
            pendmap_done(pm, items[k]);
    }
    T_ASSERT_EQ(pendmap_count(pm), 0);
    T_ASSERT_EQ(pendmap_commit_offset(pm, 0), 9997); /* last of p0 + 1 */
    pendmap_destroy(pm);
}

/* A fake store: refuses (as a batch) any batch holding a variant id in
 * bad[], answers RETRY when retry_at calls were made. */
struct fake {
    long long bad[4];
    size_t nbad;
    unsigned long calls, retry_at;
};

static enum outcome fake_send(void *opaque, struct pend_item **items, size_t n,
                              struct store_item_result *out)
{
    struct fake *f = opaque;
    size_t i, j;

    f->calls++;
    if (f->retry_at && f->calls >= f->retry_at)
        return OUTCOME_RETRY;
    for (i = 0; i < n; i++)
        for (j = 0; j < f->nbad; j++)
            if (items[i]->variant_id == f->bad[j]) {
                snprintf(out[0].reason, sizeof(out[0].reason), "bad %lld",
                         f->bad[j]);
                return OUTCOME_REJECTED;
            }
    for (i = 0; i < n; i++)
        out[i].res = STORE_ITEM_ACCEPTED;
    return OUTCOME_OK;
}

static void test_split(void)
{
    struct pendmap *pm = pendmap_new();
    struct pend_item *items[100];
    struct store_item_result out[100];
    struct fake f;
    unsigned long calls = 0;
    size_t n, i, acc = 0, rej = 0, pend = 0;
    int k;

    for (k = 1; k <= 100; k++)
        put(pm, "A", k, 1, 0, k, 0);
    n = pendmap_batch(pendmap_store(pm, "A"), items, 100);
    memset(&f, 0, sizeof(f));
    f.bad[0] = 17;
    f.bad[1] = 88;
    f.nbad = 2;
    T_ASSERT_EQ(stockpub_split_send(items, n, fake_send, &f, out, &calls),
                OUTCOME_OK);
    for (i = 0; i < n; i++) {
        acc += out[i].res == STORE_ITEM_ACCEPTED;
        rej += out[i].res == STORE_ITEM_REJECTED;
    }
    T_ASSERT_EQ(acc, 98);
    T_ASSERT_EQ(rej, 2);
    T_ASSERT_EQ(out[16].res, STORE_ITEM_REJECTED);
    T_ASSERT_STR_CONTAINS(out[16].reason, "bad 17");
    T_ASSERT_EQ(out[87].res, STORE_ITEM_REJECTED);
    T_ASSERT(calls <= 2 * 2 * 7 + 1); /* about 2k log2(n) */
    T_ASSERT_EQ(calls, f.calls);
    /* A RETRY midway leaves the rest pending and stops calling. */
    memset(&f, 0, sizeof(f));
    f.bad[0] = 3;
    f.nbad = 1;
    f.retry_at = 3;
    calls = 0;
    T_ASSERT_EQ(stockpub_split_send(items, n, fake_send, &f, out, &calls),
                OUTCOME_RETRY);
    T_ASSERT_EQ(calls, 3);
    for (i = 0; i < n; i++)
        pend += out[i].res == STORE_ITEM_PENDING;
    T_ASSERT_EQ(pend, 100);
    pendmap_destroy(pm);
}

static void test_hist(void)
{
    struct lathist h;
    int i;

    memset(&h, 0, sizeof(h));
    T_ASSERT_EQ(lathist_quantile(&h, 0.5), 0);
    for (i = 0; i < 98; i++)
        lathist_add(&h, 80);
    lathist_add(&h, 4000);
    lathist_add(&h, 90000);
    T_ASSERT_EQ(h.count, 100);
    T_ASSERT_EQ(lathist_quantile(&h, 0.5), 100);
    T_ASSERT_EQ(lathist_quantile(&h, 0.99), 5000);
    T_ASSERT_EQ(lathist_quantile(&h, 1.0), 90000);
    T_ASSERT_EQ(lathist_bound(0), 10);
    T_ASSERT_EQ(lathist_bound(LATHIST_NBOUNDS), -1);
}

/* @p pending variants of a store in a fresh inSales window (475 stock
 * tokens of 500 per 300 s), flush.ms 500, hold.max.ms 60 s. */
static struct flushpol_in flushpol_fresh(size_t pending)
{
    struct flushpol_in in = {.pending = pending,
                             .flush_ms = 500,
                             .hold_max_ms = 60000,
                             .urgent_ms = 1000,
                             .batch = 100,
                             .known = 1,
                             .share = 475,
                             .window_ms = 300000,
                             .tokens_left = 475,
                             .time_left_ms = 300000,
                             .pace_pct = 100};

    return in;
}

/* The settle rule: a stream still changing holds (urgent changes
 * excepted) until it is quiet for flush.ms or held for hold.max.ms. */
static void test_flushpol_settle(void)
{
    struct flushpol_in in = flushpol_fresh(1050);

    in.oldest_age_ms = 30000; /* changing: even full calls wait */
    T_ASSERT(flushpol_now(&in) == 0);
    in.newest_age_ms = 500; /* settled: all of it */
    T_ASSERT(flushpol_now(&in) == 11);
    in.newest_age_ms = 0;
    in.oldest_age_ms = 60000; /* held too long: all of it */
    T_ASSERT(flushpol_now(&in) == 11);
    in.oldest_age_ms = 10;
    in.urgent = 3; /* a sold-out variant: one call, at once */
    in.since_round_ms = 1000;
    T_ASSERT(flushpol_now(&in) == 1);
    in.since_round_ms = 999; /* a round went < urgent.ms ago: together */
    T_ASSERT(flushpol_now(&in) == 0);
    in.since_round_ms = 5000;
    in.pace_pct = 1; /* not paced, */
    in.used_stock = 400;
    in.tokens_left = 75;
    T_ASSERT(flushpol_now(&in) == 1);
    in.tokens_left = 0; /* but never without a token */
    T_ASSERT(flushpol_now(&in) == 0);
    in.known = 0;
    T_ASSERT(flushpol_now(&in) == 1);
}

/* Urgent items lead a batch; the rest follow oldest first. */
static void test_pendmap_urgent(void)
{
    struct pendmap *pm = pendmap_new();
    struct pend_item *items[3];
    struct pend_store *st;
    struct pend_value v;

    T_ASSERT(pm != NULL);
    put(pm, "s", 1, 5, 0, 0, 100);
    put(pm, "s", 2, 5, 0, 1, 200);
    memset(&v, 0, sizeof(v));
    v.store = "s";
    v.variant_id = 3;
    v.offset = 2;
    v.urgent = 1;
    T_ASSERT(pendmap_put(pm, &v, 300) == 1);
    st = pendmap_store(pm, "s");
    T_ASSERT(st->urgent == 1 && st->last_ms == 300 && st->count == 3);
    T_ASSERT(pendmap_batch(st, items, 2) == 2);
    T_ASSERT(items[0]->variant_id == 3 && items[1]->variant_id == 1);
    v.urgent = 0; /* restocked before it went: no longer urgent */
    v.offset = 3;
    T_ASSERT(pendmap_put(pm, &v, 400) == 0);
    T_ASSERT(st->urgent == 0 && st->last_ms == 400);
    T_ASSERT(pendmap_batch(st, items, 3) == 3);
    T_ASSERT(items[0]->variant_id == 1 && items[2]->variant_id == 3);
    v.urgent = 1;
    v.offset = 4;
    T_ASSERT(pendmap_put(pm, &v, 500) == 0 && st->urgent == 1);
    pendmap_done(pm, items[2]);
    T_ASSERT(st->urgent == 0 && st->count == 2);
    pendmap_destroy(pm);
}

/* What the stores were last sent as sold out, per store. */
static void test_soldset(void)
{
    struct soldset *ss = soldset_new();
    long long v;

    T_ASSERT(ss != NULL);
    T_ASSERT(!soldset_has(ss, "a", 1));
    T_ASSERT(soldset_set(ss, "a", 1, 1) == 0);
    T_ASSERT(soldset_set(ss, "a", 1, 1) == 0); /* twice: still one */
    T_ASSERT(soldset_has(ss, "a", 1) && !soldset_has(ss, "b", 1));
    T_ASSERT(soldset_set(ss, "a", 1, 0) == 0); /* restocked */
    T_ASSERT(!soldset_has(ss, "a", 1));
    T_ASSERT(soldset_set(ss, "a", 2, 0) == 0); /* never sold out: no-op */
    for (v = 0; v < 5000; v++) /* grows past its first buckets */
        T_ASSERT(soldset_set(ss, "b", v, 1) == 0);
    for (v = 0; v < 5000; v += 2)
        T_ASSERT(soldset_set(ss, "b", v, 0) == 0);
    for (v = 0; v < 5000; v++)
        if (soldset_has(ss, "b", v) != (v % 2 == 1))
            T_ASSERT(!"soldset lost or kept a variant");
    soldset_destroy(ss);
}

/* The schedule: spare tokens -> at once; a tight budget -> what the
 * schedule allows; unknown budget -> everything. */
static void test_flushpol(void)
{
    struct flushpol_in in = flushpol_fresh(50);

    T_ASSERT(flushpol_calls(0, 100) == 0);
    T_ASSERT(flushpol_calls(100, 100) == 1);
    T_ASSERT(flushpol_calls(101, 100) == 2);
    /* A fresh window: a tenth of the share at once. */
    T_ASSERT(flushpol_ahead(&in) == 47);
    T_ASSERT(flushpol_now(&in) == 0); /* still changing */
    in.oldest_age_ms = 500;
    in.newest_age_ms = 500;
    T_ASSERT(flushpol_now(&in) == 1);
    in.pending = 1000; /* a backlog of 1,000: 10 calls at once */
    T_ASSERT(flushpol_now(&in) == 10);
    in.pending = 10000; /* 100 calls: the burst now, the rest later */
    T_ASSERT(flushpol_now(&in) == 47);
    /* Half the window gone, 147 spent: 237.5 + 47.5 - 147 ahead. */
    in.tokens_left = 475 - 147;
    in.used_stock = 147;
    in.time_left_ms = 150000;
    T_ASSERT(flushpol_ahead(&in) == 138);
    in.used_stock = 100; /* photos took 47 of them: stock is not held */
    T_ASSERT(flushpol_ahead(&in) == 185);
    in.tokens_left = 475 - 300; /* ahead of the schedule: hold */
    in.used_stock = 300;
    T_ASSERT(flushpol_ahead(&in) == 0);
    T_ASSERT(flushpol_now(&in) == 0);
    in.tokens_left = 0;
    T_ASSERT(flushpol_now(&in) == 0);
    in.pace_pct = 10; /* a tenth: 4 at once in a fresh window */
    in.tokens_left = 475;
    in.used_stock = 0;
    in.time_left_ms = 300000;
    T_ASSERT(flushpol_ahead(&in) == 4);
    in.known = 0; /* Redis unreadable: the call itself still waits */
    T_ASSERT(flushpol_now(&in) == 100);
    in.known = 1;
    in.pace_pct = 100;
    in.time_left_ms = 1000; /* near the end: no more than is left */
    in.tokens_left = 3;
    in.used_stock = 472;
    T_ASSERT(flushpol_ahead(&in) == 3);
}

/* A live stream (10,000 movements over 1,000 variants at 500/s, 20 s;
 * the real limit shape 500 per 300 s, stock's 475): held until it
 * settles, it costs the minimum, 10 calls, at any pace. */
static long long flushpol_live(int pct)
{
    struct pendmap *pm = pendmap_new();
    struct pend_item *items[100];
    struct pend_store *st;
    struct flushpol_in in;
    long long used = 0, calls = 0, k;
    int64_t now;
    int i = 0;
    size_t n;
    unsigned seed = 7;

    T_ASSERT(pm != NULL);
    for (now = 0; now < 300000; now += 10) {
        for (; i < 10000 && i * 2 <= now; i++) {
            seed = seed * 1103515245u + 12345u;
            put(pm, "s", (long long)(seed >> 8) % 1000, i, 0, i, now);
        }
        st = pendmap_store(pm, "s");
        if (!st || !st->count)
            continue;
        memset(&in, 0, sizeof(in));
        in.pending = st->count;
        in.oldest_age_ms = now - st->head->first_ms;
        in.newest_age_ms = now - st->last_ms;
        in.flush_ms = 500;
        in.hold_max_ms = 60000;
        in.batch = 100;
        in.known = 1;
        in.share = 475;
        in.window_ms = 300000;
        in.tokens_left = 475 - used;
        in.used_stock = used;
        in.time_left_ms = 300000 - now;
        in.pace_pct = pct;
        for (k = flushpol_now(&in); k > 0 && st->count; k--) {
            n = pendmap_batch(st, items, 100);
            calls++;
            used++;
            while (n)
                pendmap_done(pm, items[--n]);
        }
    }
    T_ASSERT(pendmap_count(pm) == 0);
    printf("# live 10k/1k at pace %d%%: %lld calls, minimum 10\n", pct, calls);
    T_ASSERT(calls <= 11);
    pendmap_destroy(pm);
    return calls;
}

static void test_flushpol_live(void)
{
    long long full = flushpol_live(100), tenth = flushpol_live(10);

    /* Sent fresh (flush.ms after the oldest change) it cost ~85 calls. */
    T_ASSERT(full >= 10 && tenth >= 10);
}

int main(void)
{
    test_coalesce_and_triggers();
    test_offsets();
    test_many();
    test_split();
    test_hist();
    test_flushpol();
    test_flushpol_settle();
    test_pendmap_urgent();
    test_soldset();
    test_flushpol_live();
    T_DONE();
}
