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

int reconcile_svars_add(struct reconcile_svars *a,
                        const struct reconcile_svar *v)
{
    struct reconcile_svar *e =
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

void reconcile_svars_clear(struct reconcile_svars *a)
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

/* A money field as text: strings as they are, numbers printed, anything
 * else (null, absent) NULL.  @p buf holds printed numbers. */
static const char *reconcile_money_text(const json_t *j, char *buf, size_t size)
{
    if (json_is_string(j))
        return json_string_value(j);
    if (json_is_integer(j)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(j));
        return buf;
    }
    if (json_is_real(j)) {
        long long m;

        /* As lib/money reads a real ("%.6f" made 1500.5 "1500.500000"). */
        if (money_from_json(j, 0, &m, NULL, 0) == 0 &&
            money_format(m, buf, size) == 0)
            return buf;
        snprintf(buf, size, "%.6f", json_real_value(j));
        return buf;
    }
    return NULL;
}

int reconcile_page_parse(const json_t *products, struct reconcile_svars *out,
                         char *errstr, size_t errstr_size)
{
    const json_t *p, *vs, *v, *q, *pid, *id, *sku;
    struct reconcile_svar sv;
    char pbuf[64], obuf[64];
    size_t i, j;

    if (!json_is_array(products)) {
        snprintf(errstr, errstr_size, "product list: not a JSON array");
        return -1;
    }
    for (i = 0; i < json_array_size(products); i++) {
        p = json_array_get(products, i);
        pid = json_object_get(p, "id");
        vs = json_object_get(p, "variants");
        if (!json_is_object(p) || !json_is_integer(pid)) {
            snprintf(errstr, errstr_size,
                     "product list: item %zu is not a product with an id", i);
            return -1;
        }
        if (vs && !json_is_array(vs)) {
            snprintf(errstr, errstr_size,
                     "product %lld: variants is not an array",
                     (long long)json_integer_value(pid));
            return -1;
        }
        for (j = 0; j < json_array_size(vs); j++) {
            v = json_array_get(vs, j);
            id = json_object_get(v, "id");
            if (!json_is_integer(id)) {
                snprintf(errstr, errstr_size,
                         "product %lld: variant %zu has no integer id",
                         (long long)json_integer_value(pid), j);
                return -1;
            }
            memset(&sv, 0, sizeof(sv));
            sv.id = (long long)json_integer_value(id);
            sv.product_id = (long long)json_integer_value(pid);
            sku = json_object_get(v, "sku");
            sv.sku = json_is_string(sku) && *json_string_value(sku)
                         ? (char *)json_string_value(sku)
                         : NULL;
            q = json_object_get(v, "quantity");
            if (json_is_integer(q)) {
                sv.has_quantity = 1;
                sv.quantity = (long long)json_integer_value(q);
            } else if (json_is_real(q)) {
                sv.has_quantity = 1;
                sv.quantity = (long long)json_real_value(q);
            }
            sv.price = (char *)reconcile_money_text(json_object_get(v, "price"),
                                                    pbuf, sizeof(pbuf));
            sv.old_price = (char *)reconcile_money_text(
                json_object_get(v, "old_price"), obuf, sizeof(obuf));
            if (reconcile_svars_add(out, &sv) < 0) {
                snprintf(errstr, errstr_size, "product list: out of memory");
                return -1;
            }
        }
    }
    return (int)json_array_size(products);
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
                               const struct reconcile_svar *sv, int by_sku,
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
                          const struct reconcile_svar *sv, int by_sku)
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

int reconcile_compare(const struct reconcile_lvars *l,
                      const struct reconcile_svars *s,
                      struct reconcile_report *rep)
{
    struct reconcile_idx x;
    size_t *l_match = NULL; /* ledger index -> store index + 1, 0: none */
    unsigned char *s_match = NULL, *l_by_sku = NULL;
    size_t i, k, cap = 0;
    char idbuf[32];
    int rows, rc = -1;

    memset(rep, 0, sizeof(*rep));
    if (reconcile_idx_build(&x, l) < 0)
        goto out;
    l_match = calloc(l->n ? l->n : 1, sizeof(*l_match));
    l_by_sku = calloc(l->n ? l->n : 1, 1);
    s_match = calloc(s->n ? s->n : 1, 1);
    if (!l_match || !l_by_sku || !s_match)
        goto out;
    /* Pass 1: the remote id the ledger recorded for the variant. */
    for (i = 0; i < s->n; i++) {
        k = reconcile_find_remote(&x, s->v[i].id);
        if (k != (size_t)-1 && !l_match[k]) {
            l_match[k] = i + 1;
            s_match[i] = 1;
        }
    }
    /* Pass 2: the SKU, for store variants the map does not name. */
    for (i = 0; i < s->n; i++) {
        if (s_match[i] || !s->v[i].sku)
            continue;
        k = reconcile_find_sku(&x, s->v[i].sku);
        if (k != (size_t)-1 && !l_match[k]) {
            l_match[k] = i + 1;
            l_by_sku[k] = 1;
            s_match[i] = 1;
        }
    }
    rep->n_store = s->n;
    rep->n_ledger = l->n;
    for (i = 0; i < l->n; i++) {
        if (!l_match[i]) {
            if (reconcile_list_add(&rep->missing, &rep->n_missing,
                                   l->v[i].sku ? l->v[i].sku : "") < 0)
                goto out;
            continue;
        }
        rep->n_matched++;
        rows = reconcile_pair(rep, &cap, &l->v[i], &s->v[l_match[i] - 1],
                              l_by_sku[i]);
        if (rows < 0)
            goto out;
        if (rows > 0)
            rep->n_drift_variants++;
    }
    for (i = 0; i < s->n; i++) {
        if (s_match[i])
            continue;
        snprintf(idbuf, sizeof(idbuf), "#%lld", s->v[i].id);
        if (reconcile_list_add(&rep->unknown, &rep->n_unknown,
                               s->v[i].sku ? s->v[i].sku : idbuf) < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        reconcile_report_clear(rep);
    reconcile_idx_free(&x);
    free(l_match);
    free(l_by_sku);
    free(s_match);
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
