#include "lib/idarray.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room per id: "-9223372036854775808" and a comma. */
#define IDARRAY_ID_ROOM 21

static int idarray_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

size_t idarray_sort_distinct(long long *ids, size_t n)
{
    size_t i, k = 0;

    if (n == 0)
        return 0;
    qsort(ids, n, sizeof(*ids), idarray_cmp);
    for (i = 0; i < n; i++)
        if (k == 0 || ids[k - 1] != ids[i])
            ids[k++] = ids[i];
    return k;
}

char *idarray_text(const long long *ids, size_t n, unsigned flags,
                   size_t *count)
{
    long long *sorted = NULL;
    size_t cap, len = 0, i;
    char *s = NULL;
    int w;

    if (n > (SIZE_MAX - 3) / IDARRAY_ID_ROOM)
        return NULL;
    if ((flags & IDARRAY_SORTED_DISTINCT) && n > 0) {
        sorted = malloc(n * sizeof(*sorted));
        if (!sorted)
            return NULL;
        memcpy(sorted, ids, n * sizeof(*sorted));
        n = idarray_sort_distinct(sorted, n);
        ids = sorted;
    }
    cap = n * IDARRAY_ID_ROOM + 3;
    s = malloc(cap);
    if (!s)
        goto out;
    s[len++] = '{';
    for (i = 0; i < n; i++) {
        w = snprintf(s + len, cap - len, "%s%lld", i ? "," : "", ids[i]);
        if (w < 0 || (size_t)w >= cap - len) {
            free(s);
            s = NULL;
            goto out;
        }
        len += (size_t)w;
    }
    s[len++] = '}';
    s[len] = '\0';
    if (count)
        *count = n;
out:
    free(sorted);
    return s;
}
