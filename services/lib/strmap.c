#include "lib/strmap.h"

#include "lib/hash.h"

#include <stdlib.h>
#include <string.h>

#define STRMAP_MIN_CAP 64

/* The slot of @p key (hash @p h): its own, or the empty one it would go
 * in.  The table always has an empty slot (load <= 3/4). */
static struct strmap_slot *slot_of(const struct strmap *m, const char *key,
                                   uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;

    while (m->slots[i].key &&
           (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
        i = (i + 1) & mask;
    return &m->slots[i];
}

static int grow(struct strmap *m)
{
    struct strmap old = *m;
    size_t cap = m->cap ? m->cap * 2 : STRMAP_MIN_CAP;

    m->slots = calloc(cap, sizeof(*m->slots));
    if (!m->slots) {
        *m = old;
        return -1;
    }
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            *slot_of(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
    free(old.slots);
    return 0;
}

int strmap_put(struct strmap *m, const char *key, long long value)
{
    uint64_t h = hash_fnv1a(key);
    struct strmap_slot *s;

    if ((m->n + 1) * 4 > m->cap * 3 && grow(m) < 0)
        return -1;
    s = slot_of(m, key, h);
    if (!s->key) {
        s->key = key;
        s->hash = h;
        m->n++;
    }
    s->value = value;
    return 0;
}

long long strmap_get(const struct strmap *m, const char *key)
{
    const struct strmap_slot *s;

    if (m->n == 0)
        return -1;
    s = slot_of(m, key, hash_fnv1a(key));
    return s->key ? s->value : -1;
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
