/*
 * grow — room in a growing heap buffer: the one doubling rule behind every
 * text buffer in lib (csv records, COPY rows, jtext, request bodies,
 * metrics pages).
 */
#ifndef OMNI_GROW_H
#define OMNI_GROW_H

#include <stddef.h>

/**
 * @brief Make *@p buf (capacity *@p cap bytes, NULL when 0) hold at least
 *        @p need bytes: the capacity doubles from @p first until it does.
 * @returns 0, or -1 out of memory or @p need beyond SIZE_MAX / 2 (the
 *          buffer and *@p cap unchanged).
 */
int grow_to(char **buf, size_t *cap, size_t need, size_t first);

#endif /* OMNI_GROW_H */
