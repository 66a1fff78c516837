/*
 * test_idarray — lib/idarray: bigint array literals in the given order and
 * sorted without repeats, the extremes of bigint, the empty list, and the
 * in-place sort.
 */
#include "lib/idarray.h"
#include "t.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 8

static const struct {
    size_t n;
    long long ids[MAXN];
    const char *as_is;  /* flags 0 */
    const char *sorted; /* IDARRAY_SORTED_DISTINCT */
    size_t distinct;
} cases[] = {
    {0, {0}, "{}", "{}", 0},
    {1, {7}, "{7}", "{7}", 1},
    {3, {1, 2, 3}, "{1,2,3}", "{1,2,3}", 3},
    {3, {3, 2, 1}, "{3,2,1}", "{1,2,3}", 3},
    {4, {5, 5, 5, 5}, "{5,5,5,5}", "{5}", 1},
    {6, {9, 1, 9, 3, 1, 3}, "{9,1,9,3,1,3}", "{1,3,9}", 3},
    {3, {-1, 0, -2}, "{-1,0,-2}", "{-2,-1,0}", 3},
    {4,
     {LLONG_MAX, LLONG_MIN, 0, LLONG_MAX},
     "{9223372036854775807,-9223372036854775808,0,9223372036854775807}",
     "{-9223372036854775808,0,9223372036854775807}",
     3},
    {8,
     {2176487279LL, 42, 2176487279LL, 1, 100000000000LL, 42, 7, 1},
     "{2176487279,42,2176487279,1,100000000000,42,7,1}",
     "{1,7,42,2176487279,100000000000}",
     5},
};

static void test_text(void)
{
    long long copy[MAXN];
    size_t i, k;
    char *s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(copy, cases[i].ids, sizeof(copy));
        k = 999;
        s = idarray_text(copy, cases[i].n, 0, &k);
        T_CHECK(s && strcmp(s, cases[i].as_is) == 0 && k == cases[i].n,
                "as is: \"%s\" (%zu), want \"%s\"", s ? s : "(null)", k,
                cases[i].as_is);
        free(s);
        k = 999;
        s = idarray_text(copy, cases[i].n, IDARRAY_SORTED_DISTINCT, &k);
        T_CHECK(s && strcmp(s, cases[i].sorted) == 0 && k == cases[i].distinct,
                "sorted: \"%s\" (%zu), want \"%s\" (%zu)", s ? s : "(null)", k,
                cases[i].sorted, cases[i].distinct);
        free(s);
        /* The input is left alone. */
        T_CHECK(memcmp(copy, cases[i].ids, sizeof(copy)) == 0,
                "case %zu: ids changed", i);
    }
    s = idarray_text(NULL, 0, IDARRAY_SORTED_DISTINCT, NULL);
    T_ASSERT_STR_EQ(s, "{}");
    free(s);
    /* Too many ids to size the text: NULL, not an overflow. */
    T_ASSERT(idarray_text(cases[2].ids, SIZE_MAX / 2, 0, NULL) == NULL);
}

static void test_sort_distinct(void)
{
    long long ids[MAXN];
    size_t i, k, j;
    char *s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(ids, cases[i].ids, sizeof(ids));
        k = idarray_sort_distinct(ids, cases[i].n);
        T_CHECK(k == cases[i].distinct, "case %zu: %zu distinct, want %zu", i,
                k, cases[i].distinct);
        for (j = 1; j < k; j++)
            T_CHECK(ids[j - 1] < ids[j], "case %zu: not ascending at %zu", i,
                    j);
        /* The front of the array is what the sorted literal shows. */
        s = idarray_text(ids, k, 0, NULL);
        T_CHECK(s && strcmp(s, cases[i].sorted) == 0, "case %zu: \"%s\"", i,
                s ? s : "(null)");
        free(s);
    }
    T_ASSERT_EQ(idarray_sort_distinct(NULL, 0), 0);
}

/* A long list: every id once, in order, whatever the input order. */
static void test_many(void)
{
    enum { N = 5000 };
    long long *ids = malloc(N * sizeof(*ids));
    char *s, *p, *end;
    size_t k = 0, i;
    long long want = 0;

    T_ASSERT(ids != NULL);
    if (!ids)
        return;
    for (i = 0; i < N; i++)
        ids[i] = (long long)((i * 7919) % 1000) * 1000000007LL;
    s = idarray_text(ids, N, IDARRAY_SORTED_DISTINCT, &k);
    T_ASSERT(s != NULL);
    T_ASSERT_EQ(k, 1000);
    for (p = s ? s + 1 : NULL, i = 0; p && *p && *p != '}'; i++) {
        T_CHECK(strtoll(p, &end, 10) == want, "id %zu", i);
        want += 1000000007LL;
        p = *end == ',' ? end + 1 : end;
    }
    T_ASSERT_EQ(i, 1000);
    free(s);
    free(ids);
}

int main(void)
{
    test_text();
    test_sort_distinct();
    test_many();
    T_DONE();
}
