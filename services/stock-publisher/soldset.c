#include "soldset.h"

#include "lib/hash.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sold_node {
    char *key; /* "store:variant_id" */
    struct sold_node *next;
};

struct soldset {
    struct sold_node **buckets;
    size_t nbuckets, n;
};

struct soldset *soldset_new(void)
{
    struct soldset *ss = calloc(1, sizeof(*ss));

    if (!ss)
        return NULL;
    ss->nbuckets = 256;
    ss->buckets = calloc(ss->nbuckets, sizeof(*ss->buckets));
    if (!ss->buckets) {
        free(ss);
        return NULL;
    }
    return ss;
}

void soldset_destroy(struct soldset *ss)
{
    struct sold_node *nd, *next;

    if (!ss)
        return;
    for (size_t b = 0; b < ss->nbuckets; b++)
        for (nd = ss->buckets[b]; nd; nd = next) {
            next = nd->next;
            free(nd->key);
            free(nd);
        }
    free(ss->buckets);
    free(ss);
}

/* The slot holding @p key's node (or the NULL at its bucket's end). */
static struct sold_node **soldset_slot(const struct soldset *ss,
                                       const char *key)
{
    struct sold_node **pp = &ss->buckets[hash_fnv1a(key) & (ss->nbuckets - 1)];

    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Double the buckets; a failure keeps the longer chains (still correct). */
static void soldset_grow(struct soldset *ss)
{
    size_t nb = ss->nbuckets * 2;
    struct sold_node **nbk = calloc(nb, sizeof(*nbk)), *nd, *next;

    if (!nbk)
        return;
    for (size_t b = 0; b < ss->nbuckets; b++)
        for (nd = ss->buckets[b]; nd; nd = next) {
            size_t i = hash_fnv1a(nd->key) & (nb - 1);

            next = nd->next;
            nd->next = nbk[i];
            nbk[i] = nd;
        }
    free(ss->buckets);
    ss->buckets = nbk;
    ss->nbuckets = nb;
}

int soldset_set(struct soldset *ss, const char *store, long long variant_id,
                int sold)
{
    char key[512];
    struct sold_node **pp, *nd;

    snprintf(key, sizeof(key), "%s:%lld", store, variant_id);
    pp = soldset_slot(ss, key);
    if (!sold) {
        if ((nd = *pp) != NULL) {
            *pp = nd->next;
            free(nd->key);
            free(nd);
            ss->n--;
        }
        return 0;
    }
    if (*pp)
        return 0;
    nd = calloc(1, sizeof(*nd));
    if (!nd || !(nd->key = strdup(key))) {
        free(nd);
        return -1;
    }
    *pp = nd;
    if (++ss->n > ss->nbuckets * 2)
        soldset_grow(ss);
    return 0;
}

int soldset_has(const struct soldset *ss, const char *store,
                long long variant_id)
{
    char key[512];

    snprintf(key, sizeof(key), "%s:%lld", store, variant_id);
    return *soldset_slot(ss, key) != NULL;
}
