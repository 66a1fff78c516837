#include "pendmap.h"

#include "lib/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDMAP_MAX_PARTITIONS 1024

/* Commit state of one partition. */
struct pend_part {
    int32_t partition;
    int64_t next;      /* last consumed offset + 1 */
    int64_t barrier;   /* -1: none */
    int64_t committed; /* last position returned by pendmap_commits() */
};

struct pendmap {
    struct pend_item **buckets;
    size_t nbuckets, nitems;
    struct pend_store *stores;
    struct pend_store *cursor; /* round-robin position of pendmap_due() */
    struct pend_part *parts;
    size_t nparts;
};

struct pendmap *pendmap_new(void)
{
    struct pendmap *pm = calloc(1, sizeof(*pm));

    if (!pm)
        return NULL;
    pm->nbuckets = 1024;
    pm->buckets = calloc(pm->nbuckets, sizeof(*pm->buckets));
    if (!pm->buckets) {
        free(pm);
        return NULL;
    }
    return pm;
}

static void pendmap_item_free(struct pend_item *it)
{
    if (!it)
        return;
    free(it->key);
    free(it->raw);
    free(it);
}

void pendmap_destroy(struct pendmap *pm)
{
    struct pend_store *st, *snext;
    struct pend_item *it, *next;

    if (!pm)
        return;
    for (st = pm->stores; st; st = snext) {
        snext = st->next;
        for (it = st->head; it; it = next) {
            next = it->next;
            pendmap_item_free(it);
        }
        free(st->name);
        free(st);
    }
    free(pm->buckets);
    free(pm->parts);
    free(pm);
}

static struct pend_part *pendmap_part(struct pendmap *pm, int32_t partition)
{
    struct pend_part *p;
    size_t i;

    for (i = 0; i < pm->nparts; i++)
        if (pm->parts[i].partition == partition)
            return &pm->parts[i];
    if (pm->nparts >= PENDMAP_MAX_PARTITIONS)
        return NULL;
    p = realloc(pm->parts, (pm->nparts + 1) * sizeof(*p));
    if (!p)
        return NULL;
    pm->parts = p;
    p = &pm->parts[pm->nparts++];
    p->partition = partition;
    p->next = 0;
    p->barrier = -1;
    p->committed = -1;
    return p;
}

int pendmap_offset_seen(struct pendmap *pm, int32_t partition, int64_t offset)
{
    struct pend_part *p = pendmap_part(pm, partition);

    if (!p)
        return -1;
    if (offset + 1 > p->next)
        p->next = offset + 1;
    return 0;
}

int pendmap_barrier(struct pendmap *pm, int32_t partition, int64_t offset)
{
    struct pend_part *p = pendmap_part(pm, partition);

    if (!p)
        return -1;
    if (p->barrier < 0 || offset < p->barrier)
        p->barrier = offset;
    return 0;
}

struct pend_store *pendmap_store(struct pendmap *pm, const char *name)
{
    struct pend_store *st;

    for (st = pm->stores; st; st = st->next)
        if (strcmp(st->name, name) == 0)
            return st;
    return NULL;
}

static struct pend_store *pendmap_store_add(struct pendmap *pm,
                                            const char *name)
{
    struct pend_store *st = pendmap_store(pm, name);

    if (st)
        return st;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->name = strdup(name);
    if (!st->name) {
        free(st);
        return NULL;
    }
    st->next = pm->stores;
    pm->stores = st;
    return st;
}

static int pendmap_grow(struct pendmap *pm)
{
    size_t n = pm->nbuckets * 2, i;
    struct pend_item **b = calloc(n, sizeof(*b)), *it, *next;

    if (!b)
        return -1;
    for (i = 0; i < pm->nbuckets; i++)
        for (it = pm->buckets[i]; it; it = next) {
            next = it->hnext;
            it->hnext = b[hash_fnv1a(it->key) & (n - 1)];
            b[hash_fnv1a(it->key) & (n - 1)] = it;
        }
    free(pm->buckets);
    pm->buckets = b;
    pm->nbuckets = n;
    return 0;
}

static int pendmap_set_value(struct pend_item *it, const struct pend_value *v)
{
    char *raw = NULL;

    if (v->raw) {
        raw = malloc(v->raw_len + 1);
        if (!raw)
            return -1;
        memcpy(raw, v->raw, v->raw_len);
        raw[v->raw_len] = '\0';
    }
    free(it->raw);
    it->raw = raw;
    it->raw_len = raw ? v->raw_len : 0;
    it->available = v->available;
    snprintf(it->price, sizeof(it->price), "%s", v->price ? v->price : "");
    snprintf(it->old_price, sizeof(it->old_price), "%s",
             v->old_price ? v->old_price : "");
    it->last_offset = v->offset;
    return 0;
}

/* Keep @p it's store's count of urgent items true. */
static void pendmap_mark(struct pend_item *it, int urgent)
{
    urgent = urgent != 0;
    if (urgent == it->urgent)
        return;
    it->urgent = urgent;
    if (urgent)
        it->st->urgent++;
    else
        it->st->urgent--;
}

int pendmap_put(struct pendmap *pm, const struct pend_value *v, int64_t now_ms)
{
    char key[512];
    struct pend_item *it;
    struct pend_store *st;
    size_t b;

    if (pendmap_offset_seen(pm, v->partition, v->offset) < 0)
        return -1;
    snprintf(key, sizeof(key), "%s:%lld", v->store, v->variant_id);
    b = hash_fnv1a(key) & (pm->nbuckets - 1);
    for (it = pm->buckets[b]; it; it = it->hnext)
        if (strcmp(it->key, key) == 0)
            break;
    if (it) {
        /* A newer value of a pending variant: the oldest change's age,
         * offset and commit time stay (they bound latency and commits). */
        if (pendmap_set_value(it, v) < 0)
            return -1;
        pendmap_mark(it, v->urgent);
        it->st->last_ms = now_ms;
        if (v->partition != it->partition && v->offset < it->first_offset)
            it->first_offset = v->offset; /* repartitioned topic: be safe */
        it->updates++;
        return 0;
    }
    st = pendmap_store_add(pm, v->store);
    it = calloc(1, sizeof(*it));
    if (!st || !it)
        goto oom;
    it->key = strdup(key);
    if (!it->key || pendmap_set_value(it, v) < 0)
        goto oom;
    it->st = st;
    it->variant_id = v->variant_id;
    it->partition = v->partition;
    it->first_offset = v->offset;
    it->first_ms = now_ms;
    it->commit_ms = v->commit_ms;
    it->updates = 1;
    pendmap_mark(it, v->urgent);
    st->last_ms = now_ms;
    it->prev = st->tail;
    if (st->tail)
        st->tail->next = it;
    else
        st->head = it;
    st->tail = it;
    st->count++;
    it->hnext = pm->buckets[b];
    pm->buckets[b] = it;
    pm->nitems++;
    if (pm->nitems > pm->nbuckets * 2)
        (void)pendmap_grow(pm); /* a longer chain is still correct */
    return 1;
oom:
    pendmap_item_free(it);
    return -1;
}

void pendmap_done(struct pendmap *pm, struct pend_item *it)
{
    size_t b = hash_fnv1a(it->key) & (pm->nbuckets - 1);
    struct pend_item **pp;
    struct pend_store *st = it->st;

    for (pp = &pm->buckets[b]; *pp; pp = &(*pp)->hnext)
        if (*pp == it) {
            *pp = it->hnext;
            break;
        }
    if (it->prev)
        it->prev->next = it->next;
    else
        st->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        st->tail = it->prev;
    pendmap_mark(it, 0);
    st->count--;
    pm->nitems--;
    pendmap_item_free(it);
}

size_t pendmap_count(const struct pendmap *pm)
{
    return pm->nitems;
}

static int pendmap_store_due(const struct pend_store *st, int64_t now_ms,
                             long flush_ms, size_t batch_max, int force)
{
    if (!st->head || st->not_before_ms > now_ms)
        return 0;
    return force || st->count >= batch_max ||
           now_ms - st->head->first_ms >= flush_ms;
}

struct pend_store *pendmap_stores(struct pendmap *pm)
{
    return pm->stores;
}

struct pend_store *pendmap_due(struct pendmap *pm, int64_t now_ms,
                               long flush_ms, size_t batch_max, int force)
{
    struct pend_store *start, *st;

    start = pm->cursor && pendmap_store(pm, pm->cursor->name) == pm->cursor
                ? pm->cursor->next
                : NULL;
    if (!start)
        start = pm->stores;
    st = start;
    while (st) {
        if (pendmap_store_due(st, now_ms, flush_ms, batch_max, force)) {
            pm->cursor = st;
            return st;
        }
        st = st->next ? st->next : pm->stores;
        if (st == start)
            break;
    }
    return NULL;
}

size_t pendmap_batch(struct pend_store *st, struct pend_item **out, size_t max)
{
    struct pend_item *it;
    size_t n = 0, u = 0;

    /* Urgent items first (a walk only while some are pending). */
    for (it = st->head; it && u < st->urgent && n < max; it = it->next)
        if (it->urgent) {
            out[n++] = it;
            u++;
        }
    for (it = st->head; it && n < max; it = it->next)
        if (!it->urgent || u == 0)
            out[n++] = it;
    return n;
}

void pendmap_backoff(struct pend_store *st, int64_t now_ms, long hint_ms,
                     long min_ms, long max_ms)
{
    long b = st->backoff_ms ? st->backoff_ms * 2 : min_ms;

    if (b > max_ms)
        b = max_ms;
    st->backoff_ms = b;
    st->not_before_ms = now_ms + (hint_ms > 0 ? hint_ms : b);
}

void pendmap_backoff_clear(struct pend_store *st)
{
    st->backoff_ms = 0;
    st->not_before_ms = 0;
}

/* The commit position of @p p: min(barrier, first offset of every pending
 * item of the partition, next). */
static int64_t pendmap_position(const struct pendmap *pm,
                                const struct pend_part *p)
{
    const struct pend_store *st;
    const struct pend_item *it;
    int64_t pos = p->next;

    if (p->barrier >= 0 && p->barrier < pos)
        pos = p->barrier;
    for (st = pm->stores; st; st = st->next)
        for (it = st->head; it; it = it->next)
            if (it->partition == p->partition && it->first_offset < pos)
                pos = it->first_offset;
    return pos;
}

int64_t pendmap_commit_offset(const struct pendmap *pm, int32_t partition)
{
    size_t i;

    for (i = 0; i < pm->nparts; i++)
        if (pm->parts[i].partition == partition)
            return pendmap_position(pm, &pm->parts[i]);
    return -1;
}

size_t pendmap_commits(struct pendmap *pm, struct pend_commit *out, size_t max)
{
    size_t i, n = 0;
    int64_t pos;

    for (i = 0; i < pm->nparts && n < max; i++) {
        pos = pendmap_position(pm, &pm->parts[i]);
        if (pos > pm->parts[i].committed) {
            out[n].partition = pm->parts[i].partition;
            out[n].offset = pos;
            pm->parts[i].committed = pos;
            n++;
        }
    }
    return n;
}

void pendmap_commits_reset(struct pendmap *pm)
{
    size_t i;

    for (i = 0; i < pm->nparts; i++)
        pm->parts[i].committed = -1;
}
