/*
 * idarray — ids as a Postgres bigint array literal, "{1,2,3}", the text a
 * `= ANY($1::bigint[])` parameter takes.  An empty list is "{}".
 */
#ifndef OMNI_IDARRAY_H
#define OMNI_IDARRAY_H

#include <stddef.h>

/* idarray_text() options. */
#define IDARRAY_SORTED_DISTINCT 0x1 /* ascending, each id once */

/**
 * @brief Sort @p ids ascending in place and drop repeats.
 * @param ids  (may be NULL when @p n is 0).
 * @returns the number of distinct ids now at the front of @p ids.
 */
size_t idarray_sort_distinct(long long *ids, size_t n);

/**
 * @brief Build the array literal of @p n ids, in their order or (with
 *        IDARRAY_SORTED_DISTINCT) ascending without repeats; @p ids itself
 *        is left as it is.
 * @param ids    (may be NULL when @p n is 0).
 * @param count  (may be NULL) receives the number of ids in the literal.
 * @returns the literal (owned: free()), or NULL when out of memory.
 */
char *idarray_text(const long long *ids, size_t n, unsigned flags,
                   size_t *count);

#endif
