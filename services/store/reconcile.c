#include "store/reconcile.h"

#include "lib/money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *reconcile_strdup(const char *s, int *oom)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

/* Room for one more element of @p size bytes: returns @p v or its
 * reallocation (with *@p cap updated), NULL when out of memory. */
static void *reconcile_grow(void *v, size_t n, size_t *cap, size_t size)
{
    size_t ncap;

    if (n < *cap)
        return v;
    ncap = *cap ? *cap * 2 : 256;
    v = realloc(v, ncap * size);
    if (v)
        *cap = ncap;
    return v;
}

/* Replace the borrowed strings of a copied element by owned copies;
 * on failure nothing stays allocated. */
static int reconcile_own(char **sku, char **price, char **old_price)
{
    int oom = 0;

    *sku = reconcile_strdup(*sku, &oom);
    *price = reconcile_strdup(*price, &oom);
    *old_price = reconcile_strdup(*old_price, &oom);
    if (!oom)
        return 0;
    free(*sku);
    free(*price);
    free(*old_price);
    return -1;
}

int reconcile_lvars_add(struct reconcile_lvars *a,
                        const struct reconcile_lvar *v)
{
    struct reconcile_lvar *e =
        reconcile_grow(a->v, a->n, &a->cap, sizeof(*a->v));

    if (!e)
        return -1;
    a->v = e;
    e = &a->v[a->n];
    *e = *v;
    if (reconcile_own(&e->sku, &e->price, &e->old_price) < 0)
        return -1;
    a->n++;
    return 0;
}

void reconcile_lvars_clear(struct reconcile_lvars *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->n; i++) {
        free(a->v[i].sku);
        free(a->v[i].price);
        free(a->v[i].old_price);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

int reconcile_money_eq(const char *a, const char *b)
{
    long long ma, mb;

    if (!a || !b)
        return !a && !b;
    if (money_parse(a, &ma, NULL, 0) < 0 || money_parse(b, &mb, NULL, 0) < 0)
        return strcmp(a, b) == 0;
    return ma == mb;
}

/* NULL, or a value that is numerically zero. */
static int reconcile_money_none(const char *s)
{
    long long m;

    return !s || (money_parse(s, &m, NULL, 0) == 0 && m == 0);
}

int reconcile_old_price_eq(const char *a, const char *b)
{
    if (reconcile_money_none(a) && reconcile_money_none(b))
        return 1;
    return reconcile_money_eq(a, b);
}

/* Lookup tables: indexes of ledger variants sorted by remote id / SKU. */
struct reconcile_idx {
    const struct reconcile_lvars *l;
    size_t *by_remote; /* only remote_id > 0 */
    size_t n_remote;
    size_t *by_sku;
    size_t n_sku;
};

/* qsort has no context argument: the array being sorted is set here. */
static const struct reconcile_lvars *reconcile_sort_l;

static int reconcile_cmp_remote(const void *a, const void *b)
{
    long long x = reconcile_sort_l->v[*(const size_t *)a].remote_id;
    long long y = reconcile_sort_l->v[*(const size_t *)b].remote_id;

    return x < y ? -1 : x > y;
}

static int reconcile_cmp_sku(const void *a, const void *b)
{
    return strcmp(reconcile_sort_l->v[*(const size_t *)a].sku,
                  reconcile_sort_l->v[*(const size_t *)b].sku);
}

static int reconcile_idx_build(struct reconcile_idx *x,
                               const struct reconcile_lvars *l)
{
    size_t i;

    memset(x, 0, sizeof(*x));
    x->l = l;
    x->by_remote = malloc((l->n ? l->n : 1) * sizeof(size_t));
    x->by_sku = malloc((l->n ? l->n : 1) * sizeof(size_t));
    if (!x->by_remote || !x->by_sku)
        return -1;
    for (i = 0; i < l->n; i++) {
        if (l->v[i].remote_id > 0)
            x->by_remote[x->n_remote++] = i;
        if (l->v[i].sku)
            x->by_sku[x->n_sku++] = i;
    }
    reconcile_sort_l = l;
    qsort(x->by_remote, x->n_remote, sizeof(size_t), reconcile_cmp_remote);
    qsort(x->by_sku, x->n_sku, sizeof(size_t), reconcile_cmp_sku);
    reconcile_sort_l = NULL;
    return 0;
}

static void reconcile_idx_free(struct reconcile_idx *x)
{
    free(x->by_remote);
    free(x->by_sku);
}

/* Index of the ledger variant with remote id @p id, or (size_t)-1. */
static size_t reconcile_find_remote(const struct reconcile_idx *x, long long id)
{
    size_t lo = 0, hi = x->n_remote, mid;
    long long v;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        v = x->l->v[x->by_remote[mid]].remote_id;
        if (v == id)
            return x->by_remote[mid];
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

static size_t reconcile_find_sku(const struct reconcile_idx *x, const char *sku)
{
    size_t lo = 0, hi = x->n_sku, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(x->l->v[x->by_sku[mid]].sku, sku);
        if (c == 0)
            return x->by_sku[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

static int reconcile_drift_add(struct reconcile_report *rep, size_t *cap,
                               const struct reconcile_lvar *lv,
                               const struct store_variant *sv, int by_sku,
                               const char *field, const char *store,
                               const char *ledger)
{
    struct reconcile_drift *d;

    if (rep->n_drift == *cap) {
        size_t c = *cap ? *cap * 2 : 64;

        d = realloc(rep->drift, c * sizeof(*d));
        if (!d)
            return -1;
        rep->drift = d;
        *cap = c;
    }
    d = &rep->drift[rep->n_drift++];
    memset(d, 0, sizeof(*d));
    d->variant_id = lv->variant_id;
    d->remote_id = sv->id;
    d->by_sku = by_sku;
    snprintf(d->sku, sizeof(d->sku), "%s", lv->sku ? lv->sku : "");
    d->field = field;
    snprintf(d->store, sizeof(d->store), "%s", store ? store : "null");
    snprintf(d->ledger, sizeof(d->ledger), "%s", ledger ? ledger : "null");
    return 0;
}

/* Compare one matched pair; returns the rows added, or -1. */
static int reconcile_pair(struct reconcile_report *rep, size_t *cap,
                          const struct reconcile_lvar *lv,
                          const struct store_variant *sv, int by_sku)
{
    char sq[24] = "", lq[24];
    int rows = 0;

    snprintf(lq, sizeof(lq), "%lld", lv->available);
    if (sv->has_quantity)
        snprintf(sq, sizeof(sq), "%lld", sv->quantity);
    if (!sv->has_quantity || sv->quantity != lv->available) {
        if (reconcile_drift_add(rep, cap, lv, sv, by_sku, "quantity",
                                sv->has_quantity ? sq : NULL, lq) < 0)
            return -1;
        rows++;
    }
    if (!reconcile_money_eq(sv->price, lv->price)) {
        if (reconcile_drift_add(rep, cap, lv, sv, by_sku, "price", sv->price,
                                lv->price) < 0)
            return -1;
        rows++;
    }
    if (!reconcile_old_price_eq(sv->old_price, lv->old_price)) {
        if (reconcile_drift_add(rep, cap, lv, sv, by_sku, "old_price",
                                sv->old_price, lv->old_price) < 0)
            return -1;
        rows++;
    }
    return rows;
}

static int reconcile_list_add(char ***list, size_t *n, const char *s)
{
    char **l = realloc(*list, (*n + 1) * sizeof(**list));

    if (!l)
        return -1;
    *list = l;
    l[*n] = strdup(s);
    if (!l[*n])
        return -1;
    (*n)++;
    return 0;
}

/* Who matched whom: ledger index -> store index + 1 (0: none), whether a
 * ledger variant was matched by SKU only, whether a store variant was
 * matched. */
struct reconcile_match {
    size_t *l_match;
    unsigned char *l_by_sku;
    unsigned char *s_match;
};

static void reconcile_match_free(struct reconcile_match *m)
{
    free(m->l_match);
    free(m->l_by_sku);
    free(m->s_match);
}

/* Pass 1: the remote id the ledger recorded for the variant; pass 2: the
 * SKU, for store variants the map does not name. */
static int reconcile_match(const struct reconcile_lvars *l,
                           const struct store_variants *s,
                           struct reconcile_match *m)
{
    struct reconcile_idx x;
    size_t i, k;
    int rc = -1;

    m->l_match = calloc(l->n ? l->n : 1, sizeof(*m->l_match));
    m->l_by_sku = calloc(l->n ? l->n : 1, 1);
    m->s_match = calloc(s->n ? s->n : 1, 1);
    if (reconcile_idx_build(&x, l) < 0 || !m->l_match || !m->l_by_sku ||
        !m->s_match)
        goto out;
    for (i = 0; i < s->n; i++) {
        k = reconcile_find_remote(&x, s->v[i].id);
        if (k != (size_t)-1 && !m->l_match[k]) {
            m->l_match[k] = i + 1;
            m->s_match[i] = 1;
        }
    }
    for (i = 0; i < s->n; i++) {
        if (m->s_match[i] || !s->v[i].sku)
            continue;
        k = reconcile_find_sku(&x, s->v[i].sku);
        if (k != (size_t)-1 && !m->l_match[k]) {
            m->l_match[k] = i + 1;
            m->l_by_sku[k] = 1;
            m->s_match[i] = 1;
        }
    }
    rc = 0;
out:
    reconcile_idx_free(&x);
    return rc;
}

/* Drift rows of the matched pairs, and the ledger variants the store does
 * not show. */
static int reconcile_ledger_side(const struct reconcile_lvars *l,
                                 const struct store_variants *s,
                                 const struct reconcile_match *m,
                                 struct reconcile_report *rep)
{
    size_t i, cap = 0;
    int rows;

    for (i = 0; i < l->n; i++) {
        if (!m->l_match[i]) {
            if (reconcile_list_add(&rep->missing, &rep->n_missing,
                                   l->v[i].sku ? l->v[i].sku : "") < 0)
                return -1;
            continue;
        }
        rep->n_matched++;
        rows = reconcile_pair(rep, &cap, &l->v[i], &s->v[m->l_match[i] - 1],
                              m->l_by_sku[i]);
        if (rows < 0)
            return -1;
        if (rows > 0)
            rep->n_drift_variants++;
    }
    return 0;
}

/* The store variants the ledger lacks ("#<id>" without a SKU). */
static int reconcile_store_side(const struct store_variants *s,
                                const struct reconcile_match *m,
                                struct reconcile_report *rep)
{
    char idbuf[32];

    for (size_t i = 0; i < s->n; i++) {
        if (m->s_match[i])
            continue;
        snprintf(idbuf, sizeof(idbuf), "#%lld", s->v[i].id);
        if (reconcile_list_add(&rep->unknown, &rep->n_unknown,
                               s->v[i].sku ? s->v[i].sku : idbuf) < 0)
            return -1;
    }
    return 0;
}

int reconcile_compare(const struct reconcile_lvars *l,
                      const struct store_variants *s,
                      struct reconcile_report *rep)
{
    struct reconcile_match m;
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    memset(&m, 0, sizeof(m));
    if (reconcile_match(l, s, &m) < 0)
        goto out;
    rep->n_store = s->n;
    rep->n_ledger = l->n;
    if (reconcile_ledger_side(l, s, &m, rep) < 0 ||
        reconcile_store_side(s, &m, rep) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        reconcile_report_clear(rep);
    reconcile_match_free(&m);
    return rc;
}

int reconcile_report_clean(const struct reconcile_report *rep)
{
    return rep->n_drift == 0 && rep->n_missing == 0 && rep->n_unknown == 0;
}

void reconcile_report_clear(struct reconcile_report *rep)
{
    size_t i;

    if (!rep)
        return;
    free(rep->drift);
    for (i = 0; i < rep->n_missing; i++)
        free(rep->missing[i]);
    free(rep->missing);
    for (i = 0; i < rep->n_unknown; i++)
        free(rep->unknown[i]);
    free(rep->unknown);
    memset(rep, 0, sizeof(*rep));
}

static json_t *reconcile_value_json(const char *s)
{
    return strcmp(s, "null") == 0 ? json_null() : json_string(s);
}

json_t *reconcile_drift_json(const struct reconcile_drift *d, size_t n)
{
    json_t *arr = json_array(), *o;
    size_t i;

    if (!arr)
        return NULL;
    for (i = 0; i < n; i++) {
        o = json_pack("{s:s, s:s, s:o, s:o}", "sku", d[i].sku, "field",
                      d[i].field, "store", reconcile_value_json(d[i].store),
                      "ledger", reconcile_value_json(d[i].ledger));
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *reconcile_strs_json(char *const *v, size_t n)
{
    json_t *arr = json_array();
    size_t i;

    if (!arr)
        return NULL;
    for (i = 0; i < n; i++)
        if (json_array_append_new(arr, json_string(v[i])) < 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

json_t *reconcile_report_json(const char *store,
                              const struct reconcile_report *rep)
{
    return json_pack(
        "{s:s, s:o, s:o, s:o}", "store", store, "drift",
        reconcile_drift_json(rep->drift, rep->n_drift), "missing_in_store",
        reconcile_strs_json(rep->missing, rep->n_missing), "unknown_in_store",
        reconcile_strs_json(rep->unknown, rep->n_unknown));
}
