#include "store/platform.h"

#include "store/insales/insales.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry: one line per platform. */
static const struct store_platform *const platforms[] = {
    &insales_platform,
    NULL,
};

const struct store_platform *store_platform_find(const char *name)
{
    for (size_t i = 0; name && platforms[i]; i++)
        if (strcmp(platforms[i]->name, name) == 0)
            return platforms[i];
    return NULL;
}

const char *store_platform_names(void)
{
    static char names[256];

    if (!names[0]) {
        size_t n = 0;

        for (size_t i = 0; platforms[i] && n < sizeof(names); i++)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
                                  i ? "," : "", platforms[i]->name);
    }
    return names;
}

/* ---- neutral arrays ----------------------------------------------------- */

/* Room for one more element of @p size bytes after the @p n of @p v:
 * @p v or its reallocation (*@p cap updated), NULL when out of memory
 * (@p v unchanged). */
static void *platform_grow(void *v, size_t n, size_t *cap, size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return v;
    ncap = *cap ? *cap * 2 : 16;
    p = realloc(v, ncap * size);
    if (p)
        *cap = ncap;
    return p;
}

/* Replace the borrowed strings *@p f[0..n) of a new element by copies
 * (NULL stays NULL); on failure none is kept.  Returns 0 or -1. */
static int platform_own(char **const f[], size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (*f[i] && !(*f[i] = strdup(*f[i])))
            break;
    if (i == n)
        return 0;
    while (i-- > 0)
        free(*f[i]);
    return -1;
}

int store_categories_add(struct store_categories *a,
                         const struct store_category *v)
{
    struct store_category *e = platform_grow(a->v, a->n, &a->cap, sizeof(*e));

    if (!e)
        return -1;
    a->v = e;
    e = &a->v[a->n];
    *e = *v;
    if (platform_own((char **const[]){&e->title}, 1) != 0)
        return -1;
    a->n++;
    return 0;
}

int store_variants_add(struct store_variants *a, const struct store_variant *v)
{
    struct store_variant *e = platform_grow(a->v, a->n, &a->cap, sizeof(*e));

    if (!e)
        return -1;
    a->v = e;
    e = &a->v[a->n];
    *e = *v;
    if (platform_own((char **const[]){&e->sku, &e->price, &e->old_price}, 3) !=
        0)
        return -1;
    a->n++;
    return 0;
}

int store_images_add(struct store_images *a, const struct store_image *v)
{
    struct store_image *e = platform_grow(a->v, a->n, &a->cap, sizeof(*e));

    if (!e)
        return -1;
    a->v = e;
    e = &a->v[a->n];
    *e = *v;
    if (platform_own((char **const[]){&e->filename}, 1) != 0)
        return -1;
    a->n++;
    return 0;
}

int store_products_take(struct store_products *a, struct store_product *p)
{
    struct store_product *v = platform_grow(a->v, a->n, &a->cap, sizeof(*v));

    if (!v)
        return -1;
    a->v = v;
    a->v[a->n++] = *p;
    memset(p, 0, sizeof(*p));
    return 0;
}

void store_categories_clear(struct store_categories *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].title);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

void store_variants_clear(struct store_variants *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].sku);
        free(a->v[i].price);
        free(a->v[i].old_price);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

void store_product_clear(struct store_product *p)
{
    if (!p)
        return;
    free(p->title);
    store_variants_clear(&p->variants);
    memset(p, 0, sizeof(*p));
}

void store_products_clear(struct store_products *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        store_product_clear(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

void store_images_clear(struct store_images *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].filename);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

const struct store_variant *
store_variants_by_sku(const struct store_variants *a, const char *sku)
{
    for (size_t i = 0; sku && a && i < a->n; i++)
        if (a->v[i].sku && strcmp(a->v[i].sku, sku) == 0)
            return &a->v[i];
    return NULL;
}
