#include "store/insales/insales_catalog.h"

#include "lib/money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- documents ----------------------------------------------------------- */

int insales_catalog_money_ok(const char *s)
{
    long long minor;

    return money_parse_canonical(s, &minor) == 0 && minor >= 0;
}

json_t *insales_catalog_product_doc(const json_t *snap, long long category_id,
                                    char *errstr, size_t errstr_size)
{
    const json_t *name = json_object_get(snap, "name");
    const json_t *desc = json_object_get(snap, "description");
    const json_t *opts = json_object_get(snap, "options");
    const json_t *o;
    json_t *p = NULL, *arr;
    size_t i;

    if (!json_is_string(name) || json_string_length(name) == 0) {
        snprintf(errstr, errstr_size, "snapshot: name: expected a string");
        return NULL;
    }
    if (desc && !json_is_string(desc)) {
        snprintf(errstr, errstr_size,
                 "snapshot: description: expected a "
                 "string");
        return NULL;
    }
    if (opts && !json_is_array(opts)) {
        snprintf(errstr, errstr_size, "snapshot: options: expected an array");
        return NULL;
    }
    if (category_id <= 0) {
        snprintf(errstr, errstr_size, "no category id");
        return NULL;
    }
    p = json_object();
    if (!p)
        goto oom;
    json_object_set_new(p, "title", json_string(json_string_value(name)));
    json_object_set_new(p, "description",
                        json_string(desc ? json_string_value(desc) : ""));
    json_object_set_new(p, "category_id", json_integer(category_id));
    if (json_array_size(opts) > 0) {
        arr = json_array();
        json_object_set_new(p, "options", arr);
        json_array_foreach(opts, i, o)
        {
            if (!json_is_string(o)) {
                snprintf(errstr, errstr_size,
                         "snapshot: options[%zu]: expected a string", i);
                json_decref(p);
                return NULL;
            }
            json_array_append_new(
                arr, json_pack("{s:s}", "title", json_string_value(o)));
        }
    }
    if (json_object_size(p) < 3)
        goto oom;
    return p;
oom:
    json_decref(p);
    snprintf(errstr, errstr_size, "out of memory");
    return NULL;
}

enum store_doc_res insales_catalog_variant_doc(const json_t *snap,
                                               const json_t *variant,
                                               const char *price_list,
                                               json_t **out, char *errstr,
                                               size_t errstr_size)
{
    const json_t *sku = json_object_get(variant, "sku");
    const json_t *bc = json_object_get(variant, "barcode");
    const json_t *arch = json_object_get(variant, "archived");
    const json_t *vopts = json_object_get(variant, "options");
    const json_t *names = json_object_get(snap, "options");
    const json_t *pr, *price, *old, *name, *val;
    json_t *v, *arr;
    size_t i;

    *out = NULL;
    if (!json_is_string(sku) || json_string_length(sku) == 0) {
        snprintf(errstr, errstr_size,
                 "snapshot: variant sku: expected a "
                 "string");
        return STORE_DOC_INVALID;
    }
    if (json_is_true(arch))
        return STORE_DOC_SKIP;
    pr = json_object_get(json_object_get(variant, "prices"),
                         price_list ? price_list : "");
    if (!json_is_object(pr))
        return STORE_DOC_SKIP;
    price = json_object_get(pr, "price");
    old = json_object_get(pr, "old_price");
    if (!insales_catalog_money_ok(json_string_value(price))) {
        snprintf(errstr, errstr_size,
                 "snapshot: %s: price: not a money "
                 "string",
                 json_string_value(sku));
        return STORE_DOC_INVALID;
    }
    if (old && !json_is_null(old) &&
        !insales_catalog_money_ok(json_string_value(old))) {
        snprintf(errstr, errstr_size,
                 "snapshot: %s: old_price: not a money "
                 "string",
                 json_string_value(sku));
        return STORE_DOC_INVALID;
    }
    if (bc && !json_is_null(bc) && !json_is_string(bc)) {
        snprintf(errstr, errstr_size,
                 "snapshot: %s: barcode: expected a "
                 "string",
                 json_string_value(sku));
        return STORE_DOC_INVALID;
    }
    v = json_object();
    arr = json_array();
    if (!v || !arr) {
        json_decref(v);
        json_decref(arr);
        snprintf(errstr, errstr_size, "out of memory");
        return STORE_DOC_INVALID;
    }
    json_object_set_new(v, "sku", json_string(json_string_value(sku)));
    json_object_set_new(v, "barcode",
                        json_is_string(bc) ? json_string(json_string_value(bc))
                                           : json_null());
    json_object_set_new(v, "price", json_string(json_string_value(price)));
    json_object_set_new(v, "old_price",
                        json_is_string(old)
                            ? json_string(json_string_value(old))
                            : json_null());
    /* Values in the product's option order.  The store wants a value for
     * every option of the product, so a variant without one (e.g. a
     * material given for some sizes only) gets INSALES_NO_OPTION_VALUE. */
    json_array_foreach(names, i, name)
    {
        val = json_object_get(vopts, json_string_value(name));
        json_array_append_new(arr, json_pack("{s:s,s:s}", "title",
                                             json_string_value(name), "value",
                                             json_is_string(val)
                                                 ? json_string_value(val)
                                                 : INSALES_NO_OPTION_VALUE));
    }
    if (json_array_size(arr) > 0)
        json_object_set_new(v, "options", arr);
    else
        json_decref(arr);
    *out = v;
    return STORE_DOC_OK;
}

json_t *insales_catalog_create_doc(const json_t *product,
                                   json_t *const *variants, size_t n)
{
    json_t *p = json_deep_copy(product), *va = json_array();

    if (!p || !va) {
        json_decref(p);
        json_decref(va);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(va, json_deep_copy(variants[i]));
    json_object_set_new(p, "variants_attributes", va);
    return p;
}

/* ---- answers ------------------------------------------------------------- */

static long long ins_id(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* A money field as text: strings as they are, numbers printed, anything
 * else (null, absent) NULL.  @p buf holds printed numbers. */
static const char *ins_money_text(const json_t *j, char *buf, size_t size)
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

/* Append the variants @p vs of product @p pid to @p out. */
static int ins_variants_add(const json_t *vs, long long pid,
                            struct store_variants *out, char *errstr,
                            size_t errstr_size)
{
    const json_t *v, *id, *sku, *q;
    struct store_variant sv;
    char pbuf[64], obuf[64];
    size_t j;

    json_array_foreach(vs, j, v)
    {
        id = json_object_get(v, "id");
        if (!json_is_integer(id)) {
            snprintf(errstr, errstr_size,
                     "product %lld: variant %zu has no integer id", pid, j);
            return -1;
        }
        memset(&sv, 0, sizeof(sv));
        sv.id = (long long)json_integer_value(id);
        sv.product_id = pid;
        sku = json_object_get(v, "sku");
        sv.sku = json_is_string(sku) && *json_string_value(sku)
                     ? (char *)json_string_value(sku)
                     : NULL;
        q = json_object_get(v, "quantity");
        sv.has_quantity = json_is_integer(q) || json_is_real(q);
        sv.quantity = json_is_real(q) ? (long long)json_real_value(q)
                                      : (long long)json_integer_value(q);
        sv.price = (char *)ins_money_text(json_object_get(v, "price"), pbuf,
                                          sizeof(pbuf));
        sv.old_price = (char *)ins_money_text(json_object_get(v, "old_price"),
                                              obuf, sizeof(obuf));
        if (store_variants_add(out, &sv) < 0) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
    }
    return 0;
}

int insales_catalog_product_parse(const json_t *p, struct store_product *out,
                                  char *errstr, size_t errstr_size)
{
    const json_t *pid = json_object_get(p, "id");
    const json_t *vs = json_object_get(p, "variants");
    const char *title = json_string_value(json_object_get(p, "title"));

    memset(out, 0, sizeof(*out));
    if (!json_is_object(p) || !json_is_integer(pid)) {
        snprintf(errstr, errstr_size, "not a product with an id");
        return -1;
    }
    out->id = (long long)json_integer_value(pid);
    if (vs && !json_is_array(vs)) {
        snprintf(errstr, errstr_size, "product %lld: variants is not an array",
                 out->id);
        return -1;
    }
    out->title = title ? strdup(title) : NULL;
    if ((title && !out->title) || ins_variants_add(vs, out->id, &out->variants,
                                                   errstr, errstr_size) < 0) {
        if (title && !out->title)
            snprintf(errstr, errstr_size, "out of memory");
        store_product_clear(out);
        return -1;
    }
    return 0;
}

int insales_catalog_products_parse(const json_t *page,
                                   struct store_products *out, char *errstr,
                                   size_t errstr_size)
{
    struct store_product prod;
    char err[256];
    const json_t *p;
    size_t i;

    if (!json_is_array(page)) {
        snprintf(errstr, errstr_size, "product list: not a JSON array");
        return -1;
    }
    json_array_foreach(page, i, p)
    {
        if (insales_catalog_product_parse(p, &prod, err, sizeof(err)) < 0) {
            snprintf(errstr, errstr_size, "product list: item %zu: %s", i, err);
            return -1;
        }
        if (store_products_take(out, &prod) < 0) {
            store_product_clear(&prod);
            snprintf(errstr, errstr_size, "product list: out of memory");
            return -1;
        }
    }
    return (int)json_array_size(page);
}

int insales_catalog_categories_parse(const json_t *list,
                                     struct store_categories *out, char *errstr,
                                     size_t errstr_size)
{
    struct store_category cat;
    const json_t *c, *pid;
    size_t i;

    if (!json_is_array(list)) {
        snprintf(errstr, errstr_size, "categories list: not an array");
        return -1;
    }
    json_array_foreach(list, i, c)
    {
        pid = json_object_get(c, "parent_id");
        cat.id = ins_id(c, "id");
        cat.parent_id = json_is_null(pid)      ? 0
                        : json_is_integer(pid) ? ins_id(c, "parent_id")
                                               : -1;
        cat.title = (char *)json_string_value(json_object_get(c, "title"));
        if (store_categories_add(out, &cat) < 0) {
            snprintf(errstr, errstr_size, "categories list: out of memory");
            return -1;
        }
    }
    return 0;
}

/* ---- calls --------------------------------------------------------------- */

/* One call that needs only ids (and maybe a document); the answer's body
 * stays in c->last. */
static enum outcome ins_call(struct store_call *c, enum store_op op,
                             long long id, long long sub, const json_t *doc)
{
    struct store_req_args a;

    memset(&a, 0, sizeof(a));
    a.id = id;
    a.sub_id = sub;
    /* The adapter takes a reference while building the body and drops it
     * after the call: @p doc is not changed. */
    a.payload = (json_t *)doc;
    return store_call_run(c, op, &a);
}

/* The "id" of the created object in the answer of @p op. */
static enum outcome ins_created_id(struct store_call *c, enum store_op op,
                                   long long *id)
{
    *id = ins_id(c->last.body, "id");
    if (*id <= 0)
        return store_call_fail(c, OUTCOME_RETRY, "%s: no id in answer",
                               store_op_name(op));
    return OUTCOME_OK;
}

enum outcome insales_catalog_categories_list(struct store_call *c,
                                             struct store_categories *out)
{
    enum outcome o = ins_call(c, STORE_OP_CATEGORIES_LIST, 0, 0, NULL);
    char err[256];

    if (o == OUTCOME_OK && insales_catalog_categories_parse(
                               c->last.body, out, err, sizeof(err)) < 0)
        o = store_call_fail(c, OUTCOME_RETRY, "%s", err);
    return o;
}

enum outcome insales_catalog_category_create(struct store_call *c,
                                             const char *title,
                                             long long parent_id, long long *id)
{
    json_t *doc = json_pack("{s:s,s:I}", "title", title, "parent_id",
                            (json_int_t)parent_id);
    enum outcome o;

    *id = 0;
    if (!doc)
        return store_call_fail(c, OUTCOME_RETRY, "out of memory");
    o = ins_call(c, STORE_OP_CATEGORY_CREATE, 0, 0, doc);
    json_decref(doc);
    if (o == OUTCOME_OK && ins_id(c->last.body, "id") <= 0)
        return store_call_fail(c, OUTCOME_RETRY, "category create: no id");
    *id = ins_id(c->last.body, "id");
    return o;
}

enum outcome insales_catalog_category_update(struct store_call *c, long long id,
                                             const char *title,
                                             long long parent_id)
{
    json_t *doc = json_pack("{s:s,s:I}", "title", title, "parent_id",
                            (json_int_t)parent_id);
    enum outcome o;

    if (!doc)
        return store_call_fail(c, OUTCOME_RETRY, "out of memory");
    o = ins_call(c, STORE_OP_CATEGORY_UPDATE, id, 0, doc);
    json_decref(doc);
    return o;
}

enum outcome insales_catalog_category_delete(struct store_call *c, long long id)
{
    return ins_call(c, STORE_OP_CATEGORY_DELETE, id, 0, NULL);
}

enum outcome insales_catalog_product_create(struct store_call *c,
                                            const json_t *doc,
                                            json_t *const *variant_docs,
                                            size_t n, struct store_product *out)
{
    json_t *create = insales_catalog_create_doc(doc, variant_docs, n);
    char err[256];
    enum outcome o;

    memset(out, 0, sizeof(*out));
    if (!create)
        return store_call_fail(c, OUTCOME_RETRY, "out of memory");
    o = ins_call(c, STORE_OP_PRODUCT_CREATE, 0, 0, create);
    json_decref(create);
    if (o != OUTCOME_OK)
        return o;
    if (ins_id(c->last.body, "id") <= 0)
        return store_call_fail(c, OUTCOME_RETRY,
                               "product create: no id in answer");
    if (insales_catalog_product_parse(c->last.body, out, err, sizeof(err)) < 0)
        return store_call_fail(c, OUTCOME_RETRY, "product create: %s", err);
    return OUTCOME_OK;
}

enum outcome insales_catalog_product_update(struct store_call *c, long long id,
                                            const json_t *doc)
{
    return ins_call(c, STORE_OP_PRODUCT_UPDATE, id, 0, doc);
}

enum outcome insales_catalog_product_archive(struct store_call *c, long long id)
{
    return ins_call(c, STORE_OP_PRODUCT_DELETE, id, 0, NULL);
}

enum outcome insales_catalog_product_recover(struct store_call *c, long long id)
{
    return ins_call(c, STORE_OP_PRODUCT_RECOVER, id, 0, NULL);
}

enum outcome insales_catalog_products_page(struct store_call *c,
                                           struct store_page *pg,
                                           struct store_products *out)
{
    struct store_req_args a;
    char err[256];
    long long page = 1;
    enum outcome o;
    int n;

    if (pg->cursor[0] && (sscanf(pg->cursor, "%lld", &page) != 1 || page < 1))
        return store_call_fail(c, OUTCOME_REJECTED,
                               "products page: bad cursor '%s'", pg->cursor);
    memset(&a, 0, sizeof(a));
    a.updated_since = pg->updated_since;
    a.page = (long)page;
    a.per_page = INSALES_PAGE_MAX;
    o = store_call_run(c, STORE_OP_PRODUCTS_LIST, &a);
    if (o != OUTCOME_OK)
        return o;
    n = insales_catalog_products_parse(c->last.body, out, err, sizeof(err));
    if (n < 0)
        return store_call_fail(c, OUTCOME_RETRY, "products page %lld: %s", page,
                               err);
    /* A short page is the last one. */
    pg->done = n < INSALES_PAGE_MAX;
    snprintf(pg->cursor, sizeof(pg->cursor), "%lld", page + 1);
    return OUTCOME_OK;
}

enum outcome insales_catalog_variants_list(struct store_call *c,
                                           long long product_id,
                                           struct store_variants *out)
{
    enum outcome o = ins_call(c, STORE_OP_VARIANTS_LIST, product_id, 0, NULL);
    char err[256];

    if (o != OUTCOME_OK)
        return o;
    if (!json_is_array(c->last.body))
        return store_call_fail(c, OUTCOME_RETRY, "variants list: not an array");
    if (ins_variants_add(c->last.body, product_id, out, err, sizeof(err)) < 0)
        return store_call_fail(c, OUTCOME_RETRY, "variants list: %s", err);
    return OUTCOME_OK;
}

enum outcome insales_catalog_variant_create(struct store_call *c,
                                            long long product_id,
                                            const json_t *doc, long long *id)
{
    enum outcome o = ins_call(c, STORE_OP_VARIANT_CREATE, product_id, 0, doc);

    *id = 0;
    if (o != OUTCOME_OK)
        return o;
    return ins_created_id(c, STORE_OP_VARIANT_CREATE, id);
}

enum outcome insales_catalog_variant_update(struct store_call *c,
                                            long long product_id, long long id,
                                            const json_t *doc)
{
    return ins_call(c, STORE_OP_VARIANT_UPDATE, product_id, id, doc);
}

enum outcome insales_catalog_variant_delete(struct store_call *c,
                                            long long product_id, long long id)
{
    return ins_call(c, STORE_OP_VARIANT_DELETE, product_id, id, NULL);
}
