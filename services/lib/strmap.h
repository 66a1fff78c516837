/*
 * strmap — a string -> index hash map for in-memory lookups over a file's
 * rows (open addressing, FNV-1a).  Keys are borrowed: each must stay
 * valid and unchanged while the map holds it.  No allocation per entry,
 * so a 10,000-key map costs a few allocations to build and one free.
 * A zeroed struct strmap is an empty map.
 */
#ifndef OMNI_STRMAP_H
#define OMNI_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
    const char *key; /* NULL: empty slot */
    uint64_t hash;
    long long value;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap; /* 0 or a power of two */
    size_t n;   /* keys held */
};

/**
 * @brief Map @p key (NUL-ended, borrowed) to @p value, replacing the
 *        value of an equal key already there (the first key is kept).
 * @returns 0, or -1 when out of memory (the map is unchanged).
 */
int strmap_put(struct strmap *m, const char *key, long long value);

/** @returns the value of @p key, or -1 when absent. */
long long strmap_get(const struct strmap *m, const char *key);

/** @brief Free the slots (not the keys); @p m is an empty map after. */
void strmap_free(struct strmap *m);

#endif
