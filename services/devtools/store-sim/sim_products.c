#include "sim_products.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "sim_db.h"
#include "sim_fmt.h"
#include "sim_http.h"

#define SIM_MSG_BLANK "не может быть пустым"
#define SIM_MSG_NAN "не является числом"
#define SIM_MSG_OPTS "Список свойств у товара изменился, перезагрузите страницу"
#define SIM_MSG_DUP "Вариант с такими значениями свойств уже существует"
#define SIM_MSG_LAST "Нельзя удалить последний вариант"
#define SIM_MSG_CAT "Категория удалена или отсутствует."

static const char *const sim_variant_keys[] = {
    "sku",       "barcode",    "price",
    "old_price", "cost_price", "price2",
    "price3",    "quantity",   "quantity_at_warehouse0",
    "weight",    "dimensions", "options",
    "image_id",  "title",      NULL};

static void sim_err_add(json_t **errors, const char *field, const char *msg)
{
    json_t *arr;

    if (!*errors)
        *errors = json_object();
    arr = json_object_get(*errors, field);
    if (!arr) {
        arr = json_array();
        json_object_set_new(*errors, field, arr);
    }
    json_array_append_new(arr, json_string(msg));
}

static int sim_set_str(char **dst, const json_t *v)
{
    char buf[64];
    const char *s = NULL;

    if (json_is_null(v)) {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        s = buf;
    } else if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%g", json_real_value(v));
        s = buf;
    } else {
        return -1;
    }
    free(*dst);
    *dst = strdup(s);
    return *dst ? 0 : -1;
}

/* Quantity from an integer, a numeric string ("3", "3.0") or null. */
static int sim_qty_from_json(const json_t *v, int *has, int64_t *q)
{
    int64_t c;

    if (json_is_null(v)) {
        *has = 0;
        *q = 0;
        return 0;
    }
    if (json_is_integer(v)) {
        *has = 1;
        *q = json_integer_value(v);
        return 0;
    }
    if ((json_is_string(v) || json_is_real(v)) &&
        sim_money_from_json(v, &c) == 0) {
        *has = 1;
        *q = c / 100;
        return 0;
    }
    return -1;
}

int64_t sim_option_name_intern(struct sim_db *db, const char *title,
                               int64_t now)
{
    char perm[256];
    json_t *o;
    int64_t id;

    for (size_t i = 0; i < db->option_names.n; i++) {
        o = db->option_names.items[i];
        if (o &&
            strcmp(json_string_value(json_object_get(o, "title")), title) == 0)
            return json_integer_value(json_object_get(o, "id"));
    }
    sim_permalink(title, perm, sizeof(perm));
    o = json_pack("{s:i,s:b,s:s,s:s,s:o,s:o}", "position",
                  (json_int_t)db->option_names.live + 1, "navigational", 0,
                  "title", title, "permalink", perm, "created_at",
                  sim_time_json(now), "updated_at", sim_time_json(now));
    if (!o)
        return -1;
    id = sim_vec_add(&db->option_names, o);
    if (id < 0) {
        json_decref(o);
        return -1;
    }
    json_object_set_new(o, "id", json_integer(id));
    return id;
}

static int64_t sim_option_value_intern(struct sim_db *db, int64_t name_id,
                                       const char *title, int64_t now)
{
    char perm[256];
    json_t *o;
    int64_t id;
    long pos = 1;

    for (size_t i = 0; i < db->option_values.n; i++) {
        o = db->option_values.items[i];
        if (!o ||
            json_integer_value(json_object_get(o, "option_name_id")) != name_id)
            continue;
        pos++;
        if (strcmp(json_string_value(json_object_get(o, "title")), title) == 0)
            return json_integer_value(json_object_get(o, "id"));
    }
    sim_permalink(title, perm, sizeof(perm));
    o = json_pack("{s:I,s:i,s:s,s:s,s:o,s:o}", "option_name_id",
                  (json_int_t)name_id, "position", (int)pos, "title", title,
                  "permalink", perm, "created_at", sim_time_json(now),
                  "updated_at", sim_time_json(now));
    if (!o)
        return -1;
    id = sim_vec_add(&db->option_values, o);
    if (id < 0) {
        json_decref(o);
        return -1;
    }
    json_object_set_new(o, "id", json_integer(id));
    return id;
}

/* Product option index of an {option_name_id|title} entry, or -1. */
static int sim_option_index(struct sim_db *db, const struct sim_product *p,
                            const json_t *ent)
{
    json_t *jid = json_object_get(ent, "option_name_id");
    const char *title = json_string_value(json_object_get(ent, "title"));

    for (int i = 0; i < p->n_options; i++) {
        json_t *on = sim_vec_get(&db->option_names, p->options[i]);
        if (json_is_integer(jid) && json_integer_value(jid) == p->options[i])
            return i;
        if (!json_is_integer(jid) && title && on &&
            strcmp(json_string_value(json_object_get(on, "title")), title) == 0)
            return i;
    }
    return -1;
}

/* Text of an option value given as string or number. */
static const char *sim_value_text(const json_t *v, char *buf, size_t bufsz)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, bufsz, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* "undefined keys [...]" when @p in has a key a variant does not have. */
static int sim_variant_keys_check(json_t *in, json_t **errors)
{
    char undefined[512], msg[600];
    const char *key;
    json_t *val;
    size_t n = 0;

    undefined[0] = '\0';
    json_object_foreach(in, key, val)
    {
        int ok = 0;
        for (int i = 0; sim_variant_keys[i]; i++)
            ok |= strcmp(key, sim_variant_keys[i]) == 0;
        if (!ok && n < sizeof(undefined))
            n += (size_t)snprintf(undefined + n, sizeof(undefined) - n,
                                  "%s\"%s\"", n ? ", " : "", key);
    }
    if (!n)
        return 0;
    snprintf(msg, sizeof(msg), "undefined keys [%s]", undefined);
    sim_err_add(errors, "variants_attributes", msg);
    return -1;
}

/* Prices, quantity (into @p has_q and @p q) and image of a variant patch;
 * errors go to *errors. */
static void sim_variant_check_fields(const struct sim_product *p, json_t *in,
                                     int *has_q, int64_t *q, json_t **errors)
{
    static const char *const money_keys[] = {"price", "old_price", "cost_price",
                                             "price2", "price3"};
    json_t *val;
    int64_t m;

    for (size_t i = 0; i < 5; i++) {
        val = json_object_get(in, money_keys[i]);
        if (!val || (json_is_null(val) && i > 0))
            continue;
        if (sim_money_from_json(val, &m) != 0)
            sim_err_add(errors, money_keys[i], SIM_MSG_NAN);
        else if (m < 0)
            sim_err_add(errors, money_keys[i],
                        "должно быть больше или равно 0");
    }
    val = json_object_get(in, "quantity");
    if (!val)
        val = json_object_get(in, "quantity_at_warehouse0");
    if (val && sim_qty_from_json(val, has_q, q) != 0)
        sim_err_add(errors, "quantity", SIM_MSG_NAN);
    val = json_object_get(in, "image_id");
    if (val && !json_is_null(val) &&
        (!json_is_integer(val) ||
         !sim_ids_has(&p->images, json_integer_value(val))))
        sim_err_add(errors, "image_id", "Изображение не найдено");
}

/*
 * The option values of a variant patch, into @p combo (starting from
 * @p v's): each entry names an option of the product, a new variant gives
 * them all, and no other variant of the product has the combination.
 * Returns 1 when @p combo holds values to write.
 */
static int sim_variant_check_options(struct sim_db *db, struct sim_product *p,
                                     const struct sim_variant *v, json_t *in,
                                     int creating, int64_t now,
                                     int64_t combo[SIM_MAX_OPTIONS],
                                     json_t **errors)
{
    json_t *opts = json_object_get(in, "options"), *ent;
    int have_combo = 0, seen = 0;
    char buf[64];
    size_t i;

    if (!opts && !(creating && p->n_options > 0))
        return 0;
    memcpy(combo, v->opt_values, sizeof(v->opt_values));
    if (opts && !json_is_array(opts)) {
        sim_err_add(errors, "options", SIM_MSG_OPTS);
    } else {
        json_array_foreach(opts, i, ent)
        {
            int idx = sim_option_index(db, p, ent);
            const char *t =
                sim_value_text(json_object_get(ent, "value"), buf, sizeof(buf));
            if (idx < 0 || !t || !*t) {
                sim_err_add(errors, "options", SIM_MSG_OPTS);
                break;
            }
            combo[idx] = sim_option_value_intern(db, p->options[idx], t, now);
            seen |= 1 << idx;
        }
        if (creating && !*errors && seen != (1 << p->n_options) - 1)
            sim_err_add(errors, "options", SIM_MSG_OPTS);
        have_combo = 1;
    }
    /* Duplicate combination within the product. */
    for (size_t k = 0;
         !*errors && have_combo && p->n_options > 0 && k < p->variants.n; k++) {
        struct sim_variant *o = sim_db_variant(db, p->variants.v[k]);
        if (o && o != v &&
            memcmp(o->opt_values, combo,
                   sizeof(combo[0]) * (size_t)p->n_options) == 0)
            sim_err_add(errors, "options", SIM_MSG_DUP);
    }
    return have_combo;
}

/* An optional money field of a patch: null clears it. */
static void sim_money_opt_set(json_t *in, const char *key, int *has, int64_t *m)
{
    json_t *val = json_object_get(in, key);

    if (!val)
        return;
    *has = !json_is_null(val);
    if (*has)
        sim_money_from_json(val, m);
}

/* The Cyrillic "х" (D1 85) in dimensions is saved as a Latin "x". */
static void sim_dimensions_latin(char *s)
{
    char *r = s, *w = s;

    while (*r) {
        if ((unsigned char)r[0] == 0xD1 && (unsigned char)r[1] == 0x85) {
            *w++ = 'x';
            r += 2;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Write a validated patch. */
static void sim_variant_write(struct sim_variant *v, json_t *in,
                              const int64_t *combo, int have_combo, int has_q,
                              int64_t q, int64_t now)
{
    json_t *val;
    int64_t price = 0;

    if (have_combo)
        memcpy(v->opt_values, combo, sizeof(v->opt_values));
    val = json_object_get(in, "price");
    if (val && sim_money_from_json(val, &price) == 0)
        v->price = price;
    sim_money_opt_set(in, "old_price", &v->has_old_price, &v->old_price);
    sim_money_opt_set(in, "cost_price", &v->has_cost_price, &v->cost_price);
    sim_money_opt_set(in, "price2", &v->has_price2, &v->price2);
    sim_money_opt_set(in, "price3", &v->has_price3, &v->price3);
    v->has_quantity = has_q;
    v->quantity = has_q ? q : 0;
    val = json_object_get(in, "sku");
    if (val)
        sim_set_str(&v->sku, val);
    val = json_object_get(in, "barcode");
    if (val)
        sim_set_str(&v->barcode, val);
    val = json_object_get(in, "weight");
    if (val)
        sim_set_str(&v->weight, val);
    val = json_object_get(in, "dimensions");
    if (val && sim_set_str(&v->dimensions, val) == 0 && v->dimensions)
        sim_dimensions_latin(v->dimensions);
    val = json_object_get(in, "image_id");
    if (val)
        v->image_id = json_is_integer(val) ? json_integer_value(val) : 0;
    v->updated_at = now;
}

/*
 * Apply a variant patch.  @p creating: the allow-list of keys is enforced
 * and options are required when the product has any.  Errors go to
 * *errors; on error nothing useful is left in v (the caller discards a
 * new variant; for updates, fields are validated before any is written).
 */
static int sim_variant_apply(struct sim_db *db, struct sim_product *p,
                             struct sim_variant *v, json_t *in, int creating,
                             int strict_keys, int64_t now, json_t **errors)
{
    int has_q = v->has_quantity, have_combo;
    int64_t q = v->quantity;
    int64_t combo[SIM_MAX_OPTIONS];

    if (!json_is_object(in)) {
        sim_err_add(errors, "variant", "должен быть объектом");
        return -1;
    }
    if (strict_keys && sim_variant_keys_check(in, errors) != 0)
        return -1;
    sim_variant_check_fields(p, in, &has_q, &q, errors);
    have_combo =
        sim_variant_check_options(db, p, v, in, creating, now, combo, errors);
    if (*errors)
        return -1;
    sim_variant_write(v, in, combo, have_combo, has_q, q, now);
    return 0;
}

/* Create a variant of @p p; returns it or NULL with *errors set. */
static struct sim_variant *sim_variant_create(struct sim_db *db,
                                              struct sim_product *p, json_t *in,
                                              int strict_keys, int64_t now,
                                              json_t **errors)
{
    struct sim_variant *v = calloc(1, sizeof(*v));

    if (!v) {
        sim_err_add(errors, "base", "out of memory");
        return NULL;
    }
    v->product_id = p->id;
    v->created_at = v->updated_at = now;
    if (sim_variant_apply(db, p, v, in, 1, strict_keys, now, errors) != 0) {
        sim_variant_free(v);
        return NULL;
    }
    v->id = sim_vec_add(&db->variants, v);
    if (v->id < 0 || sim_ids_add(&p->variants, v->id) != 0) {
        if (v->id >= 0)
            sim_vec_del(&db->variants, v->id);
        sim_variant_free(v);
        sim_err_add(errors, "base", "out of memory");
        return NULL;
    }
    return v;
}

static void sim_variant_remove(struct sim_db *db, struct sim_product *p,
                               struct sim_variant *v)
{
    sim_ids_del(&p->variants, v->id);
    sim_vec_del(&db->variants, v->id);
    sim_variant_free(v);
}

/*
 * Product-level "options": [{title|option_name_id, value?}].  New option
 * names are appended; a value is applied to every current variant.
 */
static int sim_product_options(struct sim_db *db, struct sim_product *p,
                               json_t *opts, int64_t now, json_t **errors)
{
    size_t i;
    json_t *ent;
    char buf[64];

    if (!json_is_array(opts)) {
        sim_err_add(errors, "options", SIM_MSG_OPTS);
        return -1;
    }
    json_array_foreach(opts, i, ent)
    {
        int idx = sim_option_index(db, p, ent);
        json_t *jid = json_object_get(ent, "option_name_id");
        const char *title = json_string_value(json_object_get(ent, "title"));
        const char *val =
            sim_value_text(json_object_get(ent, "value"), buf, sizeof(buf));
        if (idx < 0) {
            int64_t nid = -1;
            if (json_is_integer(jid) &&
                sim_vec_get(&db->option_names, json_integer_value(jid)))
                nid = json_integer_value(jid);
            else if (!json_is_integer(jid) && title && *title)
                nid = sim_option_name_intern(db, title, now);
            if (nid < 0 || p->n_options >= SIM_MAX_OPTIONS) {
                sim_err_add(errors, "options", SIM_MSG_OPTS);
                return -1;
            }
            idx = p->n_options++;
            p->options[idx] = nid;
        }
        if (val && *val) {
            int64_t vid =
                sim_option_value_intern(db, p->options[idx], val, now);
            for (size_t k = 0; k < p->variants.n; k++) {
                struct sim_variant *v = sim_db_variant(db, p->variants.v[k]);
                if (v) {
                    v->opt_values[idx] = vid;
                    v->updated_at = now;
                }
            }
        }
    }
    return 0;
}

/* Title, description, flags and category of a create or update. */
static int sim_product_fields(struct sim_db *db, struct sim_product *p,
                              json_t *in, int creating, json_t **errors)
{
    json_t *val;
    char perm[512];

    val = json_object_get(in, "title");
    if (creating || val) {
        if (!json_is_string(val) || json_string_length(val) == 0)
            sim_err_add(errors, "title", SIM_MSG_BLANK);
    }
    val = json_object_get(in, "category_id");
    if (val && !json_is_null(val) &&
        (!json_is_integer(val) ||
         !sim_vec_get(&db->categories, json_integer_value(val))))
        sim_err_add(errors, "category_id", SIM_MSG_CAT);
    if (*errors)
        return -1;
    val = json_object_get(in, "title");
    if (val)
        sim_set_str(&p->title, val);
    val = json_object_get(in, "description");
    if (val)
        sim_set_str(&p->description, val);
    val = json_object_get(in, "short_description");
    if (val)
        sim_set_str(&p->short_description, val);
    val = json_object_get(in, "is_hidden");
    if (val)
        p->is_hidden = json_is_true(val);
    val = json_object_get(in, "category_id");
    if (json_is_integer(val))
        p->category_id = json_integer_value(val);
    else if (creating)
        p->category_id = db->root_category;
    val = json_object_get(in, "permalink");
    if (val && json_is_string(val) && json_string_length(val) > 0) {
        sim_set_str(&p->permalink, val);
    } else if (creating) {
        sim_permalink(p->title, perm, sizeof(perm));
        free(p->permalink);
        p->permalink = strdup(perm);
    }
    return 0;
}

int64_t sim_product_create(struct sim_db *db, json_t *in, int64_t now,
                           json_t **errors)
{
    struct sim_product *p;
    json_t *va, *ent;
    size_t i;

    *errors = NULL;
    if (!json_is_object(in)) {
        sim_err_add(errors, "product", "должен быть объектом");
        return -1;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        sim_err_add(errors, "base", "out of memory");
        return -1;
    }
    p->created_at = now;
    if (sim_product_fields(db, p, in, 1, errors) != 0) {
        sim_product_free(p);
        return -1;
    }
    p->id = sim_vec_add(&db->products, p);
    if (p->id < 0) {
        sim_product_free(p);
        sim_err_add(errors, "base", "out of memory");
        return -1;
    }
    p->t.id = p->id;
    p->t.obj = p;
    va = json_object_get(in, "variants_attributes");
    if (va && !json_is_array(va)) {
        sim_err_add(errors, "variants_attributes", "должен быть массивом");
        goto fail;
    }
    if (json_array_size(va) == 0) {
        /* A product always has at least one variant; it is made before
         * the options so that option values given with the product's
         * "options" land on it. */
        json_t *empty = json_object();
        struct sim_variant *v =
            sim_variant_create(db, p, empty, 1, now, errors);
        json_decref(empty);
        if (!v)
            goto fail;
    }
    if (json_object_get(in, "options") &&
        sim_product_options(db, p, json_object_get(in, "options"), now,
                            errors) != 0)
        goto fail;
    json_array_foreach(va, i, ent)
    {
        if (!sim_variant_create(db, p, ent, 1, now, errors))
            goto fail;
    }
    sim_product_touch(db, p, now);
    return p->id;
fail:
    while (p->variants.n > 0) {
        struct sim_variant *v = sim_db_variant(db, p->variants.v[0]);
        if (v)
            sim_variant_remove(db, p, v);
        else
            sim_ids_del(&p->variants, p->variants.v[0]);
    }
    sim_vec_del(&db->products, p->id);
    sim_product_free(p);
    return -1;
}

/* ---- listing ---------------------------------------------------------- */

struct sim_pfilter {
    int deleted, with_deleted;
    int64_t category_id, collection_id;
    const char *title;
};

static int sim_in_collection(struct sim_db *db, const struct sim_product *p,
                             int64_t cid)
{
    for (size_t i = 0; i < p->collections.n; i++) {
        int64_t c = p->collections.v[i];
        for (int depth = 0; c && depth < 32; depth++) {
            json_t *co = sim_vec_get(&db->collections, c);
            if (c == cid)
                return 1;
            if (!co)
                break;
            c = json_integer_value(json_object_get(co, "parent_id"));
        }
    }
    return 0;
}

static int sim_pfilter_match(struct sim_db *db, const struct sim_pfilter *f,
                             const struct sim_product *p)
{
    if (!f->with_deleted && (f->deleted ? !p->archived : p->archived))
        return 0;
    if (f->category_id && p->category_id != f->category_id)
        return 0;
    if (f->collection_id && !sim_in_collection(db, p, f->collection_id))
        return 0;
    if (f->title && (!p->title || !strstr(p->title, f->title)))
        return 0;
    return 1;
}

static void sim_pfilter_parse(const struct sim_req *rq, struct sim_pfilter *f)
{
    const char *s;

    memset(f, 0, sizeof(*f));
    f->with_deleted = sim_req_flag(rq, "with_deleted");
    f->deleted = sim_req_flag(rq, "deleted");
    s = sim_req_arg(rq, "category_id");
    if (s)
        f->category_id = sim_seg_id(s);
    s = sim_req_arg(rq, "collection_id");
    if (s)
        f->collection_id = sim_seg_id(s);
    f->title = sim_req_arg(rq, "filter[title]");
}

/*
 * Walk products in list order: by (updated_at, id) from updated_since when
 * given, else by id.  Calls @p cb for matches after skipping @p offset;
 * stops after @p limit (-1 = all).  Returns the number of matches seen
 * (for count.json, with limit -1).
 */
static long sim_products_walk(struct sim_db *db, const struct sim_pfilter *f,
                              int has_since, int64_t since, int64_t from_id,
                              long offset, long limit, json_t *out, int64_t now)
{
    long seen = 0, taken = 0;

    if (has_since) {
        struct sim_touch *t;
        for (t = sim_tlist_from(&db->ptl, since); t; t = t->next) {
            struct sim_product *p = t->obj;
            if (t->updated_at == since && t->id <= from_id)
                continue;
            if (!sim_pfilter_match(db, f, p))
                continue;
            if (seen++ < offset)
                continue;
            if (limit >= 0 && taken >= limit)
                break;
            taken++;
            if (out)
                json_array_append_new(out, sim_product_json(db, p, now));
        }
        return seen;
    }
    for (size_t i = 0; i < db->products.n; i++) {
        struct sim_product *p = db->products.items[i];
        if (!p || !sim_pfilter_match(db, f, p))
            continue;
        if (seen++ < offset)
            continue;
        if (limit >= 0 && taken >= limit)
            break;
        taken++;
        if (out)
            json_array_append_new(out, sim_product_json(db, p, now));
    }
    return seen;
}

static void sim_products_list(struct sim_db *db, struct sim_req *rq,
                              struct sim_resp *rs, int count_only)
{
    struct sim_pfilter f;
    int has_since;
    int64_t since, from_id;
    long page, per_page, n;
    json_t *out;

    if (sim_req_since(rq, &has_since, &since, &from_id) != 0) {
        sim_resp_invalid(rs, "updated_since", "имеет неверный формат");
        return;
    }
    sim_pfilter_parse(rq, &f);
    if (count_only) {
        n = sim_products_walk(db, &f, has_since, since, from_id, 0, -1, NULL,
                              rq->now);
        sim_resp_json(rs, 200, json_pack("{s:i}", "count", (int)n));
        return;
    }
    sim_req_paging(rq, db->opts.per_page_default, &page, &per_page);
    out = json_array();
    sim_products_walk(db, &f, has_since, since, from_id, (page - 1) * per_page,
                      per_page, out, rq->now);
    sim_resp_json(rs, 200, out);
}

static void sim_products_by_ids(struct sim_db *db, struct sim_req *rq,
                                struct sim_resp *rs)
{
    const char *ids[101];
    char buf[4096];
    int n = sim_req_args(rq, "product_ids", buf, sizeof(buf), ids, 101);
    json_t *out;

    if (n > 100) {
        sim_resp_invalid(rs, "product_ids", "не больше 100 идентификаторов");
        return;
    }
    out = json_array();
    for (int i = 0; i < n; i++) {
        struct sim_product *p = sim_db_product(db, sim_seg_id(ids[i]));
        if (p && !p->archived)
            json_array_append_new(out, sim_product_json(db, p, rq->now));
    }
    sim_resp_json(rs, 200, out);
}

/* ---- products: single ------------------------------------------------- */

static void sim_fire_product(struct sim_db *db, const char *topic,
                             struct sim_product *p, int64_t now)
{
    json_t *arr = json_array();

    json_array_append_new(arr, sim_product_json(db, p, now));
    sim_db_fire(db, topic, arr);
    json_decref(arr);
}

static json_t *sim_unwrap(struct sim_req *rq, const char *root)
{
    json_t *in = rq->body ? json_object_get(rq->body, root) : NULL;

    return json_is_object(in) ? in : NULL;
}

static void sim_product_post(struct sim_db *db, struct sim_req *rq,
                             struct sim_resp *rs)
{
    json_t *in = sim_unwrap(rq, "product"), *errors = NULL;
    int64_t ts, id;
    struct sim_product *p;

    if (!in) {
        sim_resp_invalid(rs, "product", SIM_MSG_BLANK);
        return;
    }
    ts = sim_db_clock(db);
    id = sim_product_create(db, in, ts, &errors);
    if (id < 0) {
        sim_resp_json(rs, 422, errors);
        return;
    }
    p = sim_db_product(db, id);
    sim_resp_json(rs, 201, sim_product_json(db, p, rq->now));
    sim_fire_product(db, "products/create", p, rq->now);
}

static void sim_product_put(struct sim_db *db, struct sim_req *rq,
                            struct sim_resp *rs, struct sim_product *p)
{
    json_t *in = sim_unwrap(rq, "product"), *errors = NULL, *va, *ent;
    int64_t ts;
    size_t i;

    if (!in) {
        sim_resp_invalid(rs, "product", SIM_MSG_BLANK);
        return;
    }
    ts = sim_db_clock(db);
    if (sim_product_fields(db, p, in, 0, &errors) != 0)
        goto invalid;
    if (json_object_get(in, "options") &&
        sim_product_options(db, p, json_object_get(in, "options"), ts,
                            &errors) != 0)
        goto invalid;
    va = json_object_get(in, "variants_attributes");
    json_array_foreach(va, i, ent)
    {
        json_t *jid = json_object_get(ent, "id");
        if (json_is_integer(jid)) {
            struct sim_variant *v = sim_db_variant(db, json_integer_value(jid));
            json_t *copy;
            if (!v || v->product_id != p->id) {
                sim_err_add(&errors, "variants_attributes",
                            "Вариант не найден");
                goto invalid;
            }
            copy = json_deep_copy(ent);
            json_object_del(copy, "id");
            if (sim_variant_apply(db, p, v, copy, 0, 0, ts, &errors) != 0) {
                json_decref(copy);
                goto invalid;
            }
            json_decref(copy);
        } else if (!sim_variant_create(db, p, ent, 1, ts, &errors)) {
            goto invalid;
        }
    }
    sim_product_touch(db, p, ts);
    sim_resp_json(rs, 200, sim_product_json(db, p, rq->now));
    sim_fire_product(db, "products/update", p, rq->now);
    return;
invalid:
    /* Earlier fields of this request may already be written, as Rails
     * nested attributes outside a transaction would; the product is
     * still marked changed so pollers see the final state. */
    sim_product_touch(db, p, ts);
    sim_resp_json(rs, 422, errors);
}

/* ---- variants ----------------------------------------------------------- */

static void sim_variants_route(struct sim_db *db, struct sim_req *rq,
                               struct sim_resp *rs, struct sim_product *p)
{
    const char *m = rq->method;
    json_t *errors = NULL;
    struct sim_variant *v = NULL;
    int64_t ts;

    if (rq->nseg == 3) {
        if (strcmp(m, "GET") == 0) {
            json_t *out = json_array();
            for (size_t i = 0; i < p->variants.n; i++) {
                v = sim_db_variant(db, p->variants.v[i]);
                if (v)
                    json_array_append_new(out, sim_variant_json(db, v));
            }
            sim_resp_json(rs, 200, out);
        } else if (strcmp(m, "POST") == 0) {
            json_t *in = sim_unwrap(rq, "variant");
            if (!in) {
                sim_resp_invalid(rs, "variant", SIM_MSG_BLANK);
                return;
            }
            ts = sim_db_clock(db);
            v = sim_variant_create(db, p, in, 0, ts, &errors);
            if (!v) {
                /* Creating a variant wraps the error map. */
                sim_resp_json(rs, 422,
                              json_pack("{s:s,s:o}", "status", "error",
                                        "errors", errors));
                return;
            }
            sim_product_touch(db, p, ts);
            sim_resp_json(rs, 201, sim_variant_json(db, v));
        } else {
            sim_resp_not_found(rs);
        }
        return;
    }
    v = sim_db_variant(db, sim_seg_id(rq->segs[3]));
    if (!v || v->product_id != p->id) {
        sim_resp_not_found(rs);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, sim_variant_json(db, v));
    } else if (strcmp(m, "PUT") == 0) {
        json_t *in = sim_unwrap(rq, "variant");
        if (!in) {
            sim_resp_invalid(rs, "variant", SIM_MSG_BLANK);
            return;
        }
        ts = sim_db_clock(db);
        if (sim_variant_apply(db, p, v, in, 0, 0, ts, &errors) != 0) {
            sim_resp_json(rs, 422, errors);
            return;
        }
        sim_product_touch(db, p, ts);
        sim_resp_json(rs, 200, sim_variant_json(db, v));
    } else if (strcmp(m, "DELETE") == 0) {
        if (p->variants.n <= 1) {
            sim_resp_invalid(rs, "base", SIM_MSG_LAST);
            return;
        }
        ts = sim_db_clock(db);
        sim_variant_remove(db, p, v);
        sim_product_touch(db, p, ts);
        sim_resp_ok(rs);
    } else {
        sim_resp_not_found(rs);
    }
}

/* ---- images ---------------------------------------------------------------
 */

/*
 * The bytes of a new image: base64 "attachment", or what was fetched from
 * "src" before the shop was locked; at most @p maxb of them.  -1 with the
 * response set.
 */
static int sim_image_bytes(struct sim_req *rq, struct sim_resp *rs,
                           const char *att, const char *src, size_t maxb,
                           const char *too_big, unsigned char **bin,
                           size_t *binlen)
{
    if (att) {
        size_t alen = strlen(att);
        if (alen / 4 * 3 > maxb + 3) {
            sim_resp_invalid(rs, "image", too_big);
            return -1;
        }
        *bin = malloc(alen / 4 * 3 + 4);
        if (!*bin ||
            sodium_base642bin(*bin, alen / 4 * 3 + 4, att, alen, " \r\n\t",
                              binlen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            *binlen == 0) {
            free(*bin);
            *bin = NULL;
            sim_resp_invalid(rs, "attachment", "Неверные данные base64");
            return -1;
        }
    } else if (src && rq->fetched) {
        *bin = rq->fetched;
        *binlen = rq->fetched_len;
        rq->fetched = NULL;
    } else if (src) {
        json_t *e = json_pack("{s:[s],s:[s]}", "image",
                              "Не заполнены обязательные поля", "src",
                              "Недопустимый URL");
        sim_resp_json(rs, 422, e);
        return -1;
    } else {
        sim_resp_invalid(rs, "image", "Не заполнены обязательные поля");
        return -1;
    }
    if (*binlen > maxb) {
        free(*bin);
        *bin = NULL;
        sim_resp_invalid(rs, "image", too_big);
        return -1;
    }
    return 0;
}

/* The highest position among @p p's images (0 when it has none). */
static int64_t sim_images_max_position(struct sim_db *db,
                                       const struct sim_product *p)
{
    int64_t maxpos = 0;

    for (size_t i = 0; i < p->images.n; i++) {
        struct sim_image *o = sim_db_image(db, p->images.v[i]);
        if (o && o->position > maxpos)
            maxpos = o->position;
    }
    return maxpos;
}

static void sim_image_post(struct sim_db *db, struct sim_req *rq,
                           struct sim_resp *rs, struct sim_product *p)
{
    json_t *in = sim_unwrap(rq, "image");
    const char *att, *src, *fname, *title;
    unsigned char *bin = NULL;
    size_t binlen = 0, maxb;
    struct sim_image *im = NULL;
    json_t *pos;
    int64_t ts;
    char msg[128];

    if (!in) {
        sim_resp_invalid(rs, "image", "Не заполнены обязательные поля");
        return;
    }
    att = json_string_value(json_object_get(in, "attachment"));
    src = json_string_value(json_object_get(in, "src"));
    fname = json_string_value(json_object_get(in, "filename"));
    title = json_string_value(json_object_get(in, "title"));
    maxb = (size_t)db->opts.max_image_bytes;
    snprintf(msg, sizeof(msg), "Размер файла больше %zu байт", maxb);
    if (sim_image_bytes(rq, rs, att, src, maxb, msg, &bin, &binlen) != 0)
        return;
    im = calloc(1, sizeof(*im));
    if (!im) {
        free(bin);
        sim_resp_json(rs, 500, json_pack("{s:s}", "message", "out of memory"));
        return;
    }
    hash_sha256_hex(bin, binlen, im->sha256);
    free(bin);
    im->size = binlen;
    if (!fname && src) {
        const char *slash = strrchr(src, '/');
        fname = slash && slash[1] ? slash + 1 : "image.jpg";
    }
    im->filename = strdup(fname ? fname : "image.jpg");
    im->title = title ? strdup(title) : NULL;
    im->src = src ? strdup(src) : NULL;
    ts = sim_db_clock(db);
    im->product_id = p->id;
    im->created_at = ts;
    im->ready_at = rq->now + db->opts.image_processing_ms;
    pos = json_object_get(in, "position");
    im->position = json_is_integer(pos) ? json_integer_value(pos)
                                        : sim_images_max_position(db, p) + 1;
    im->id = sim_vec_add(&db->images, im);
    if (im->id < 0 || sim_ids_add(&p->images, im->id) != 0) {
        if (im->id >= 0)
            sim_vec_del(&db->images, im->id);
        sim_image_free(im);
        sim_resp_json(rs, 500, json_pack("{s:s}", "message", "out of memory"));
        return;
    }
    sim_product_touch(db, p, ts);
    sim_resp_json(rs, 201, sim_image_json(db, im, rq->now));
}

static void sim_images_route(struct sim_db *db, struct sim_req *rq,
                             struct sim_resp *rs, struct sim_product *p)
{
    const char *m = rq->method;
    struct sim_image *im;
    int64_t ts;

    if (rq->nseg == 3) {
        if (strcmp(m, "GET") == 0) {
            json_t *full = sim_product_json(db, p, rq->now);
            sim_resp_json(rs, 200,
                          json_incref(json_object_get(full, "images")));
            json_decref(full);
        } else if (strcmp(m, "POST") == 0) {
            sim_image_post(db, rq, rs, p);
        } else {
            sim_resp_not_found(rs);
        }
        return;
    }
    im = sim_db_image(db, sim_seg_id(rq->segs[3]));
    if (!im || im->product_id != p->id) {
        sim_resp_not_found(rs);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, sim_image_json(db, im, rq->now));
    } else if (strcmp(m, "PUT") == 0) {
        json_t *in = sim_unwrap(rq, "image"), *val;
        if (!in) {
            sim_resp_invalid(rs, "image", SIM_MSG_BLANK);
            return;
        }
        val = json_object_get(in, "position");
        if (val && json_is_integer(val))
            im->position = json_integer_value(val);
        val = json_object_get(in, "title");
        if (val)
            sim_set_str(&im->title, val);
        sim_product_touch(db, p, sim_db_clock(db));
        sim_resp_json(rs, 200, sim_image_json(db, im, rq->now));
    } else if (strcmp(m, "DELETE") == 0) {
        ts = sim_db_clock(db);
        for (size_t i = 0; i < p->variants.n; i++) {
            struct sim_variant *v = sim_db_variant(db, p->variants.v[i]);
            if (v && v->image_id == im->id) {
                v->image_id = 0;
                v->updated_at = ts;
            }
        }
        sim_ids_del(&p->images, im->id);
        sim_vec_del(&db->images, im->id);
        sim_image_free(im);
        sim_product_touch(db, p, ts);
        sim_resp_ok(rs);
    } else {
        sim_resp_not_found(rs);
    }
}

/* ---- variants_group_update ------------------------------------------- */

/* Apply one patch {id, ...}; returns the per-item result (new ref). */
static json_t *sim_group_apply_one(struct sim_db *db, json_t *item, int64_t ts)
{
    json_t *jid = json_object_get(item, "id"), *copy, *errors = NULL;
    struct sim_variant *v;
    struct sim_product *p;

    if (!json_is_integer(jid))
        return json_pack("{s:n,s:s,s:{s:[s]}}", "id", "status", "error",
                         "errors", "id", SIM_MSG_BLANK);
    v = sim_db_variant(db, json_integer_value(jid));
    p = v ? sim_db_product(db, v->product_id) : NULL;
    if (!v || !p)
        return json_pack("{s:O,s:s}", "id", jid, "status", "not_found");
    copy = json_deep_copy(item);
    json_object_del(copy, "id");
    json_object_del(copy, "options");
    if (sim_variant_apply(db, p, v, copy, 0, 0, ts, &errors) != 0) {
        json_decref(copy);
        return json_pack("{s:O,s:s,s:o}", "id", jid, "status", "error",
                         "errors", errors);
    }
    json_decref(copy);
    sim_product_touch(db, p, ts);
    return json_pack("{s:O,s:s}", "id", jid, "status", "ok");
}

static void sim_group_update(struct sim_db *db, struct sim_req *rq,
                             struct sim_resp *rs)
{
    json_t *items = rq->body ? json_object_get(rq->body, "variants") : NULL;
    size_t i;
    json_t *item, *out;
    int64_t ts;

    if (!json_is_array(items)) {
        sim_resp_invalid(rs, "variants", SIM_MSG_BLANK);
        return;
    }
    if (json_array_size(items) > 100) {
        sim_resp_invalid(rs, "variants",
                         "Количество вариантов должно быть не больше 100");
        return;
    }
    if (!db->opts.group_sync) {
        struct sim_pending *pd = calloc(1, sizeof(*pd));
        if (!pd) {
            sim_resp_json(rs, 500,
                          json_pack("{s:s}", "message", "out of memory"));
            return;
        }
        pd->items = json_deep_copy(items);
        pd->due_ms = rq->now + db->opts.group_delay_ms;
        if (db->pending_tail)
            db->pending_tail->next = pd;
        else
            db->pending_head = pd;
        db->pending_tail = pd;
        sim_resp_json(rs, 200, json_array());
        return;
    }
    ts = sim_db_clock(db);
    out = json_array();
    json_array_foreach(items, i, item)
    {
        json_array_append_new(out, sim_group_apply_one(db, item, ts));
    }
    sim_resp_json(rs, 200, out);
}

void sim_products_tick(struct sim_db *db, int64_t now_ms)
{
    while (db->pending_head && db->pending_head->due_ms <= now_ms) {
        struct sim_pending *pd = db->pending_head;
        int64_t ts = sim_db_clock(db);
        size_t i;
        json_t *item;

        db->pending_head = pd->next;
        if (!db->pending_head)
            db->pending_tail = NULL;
        json_array_foreach(pd->items, i, item)
        {
            json_t *res = sim_group_apply_one(db, item, ts);
            const char *st = json_string_value(json_object_get(res, "status"));
            if (st && strcmp(st, "ok") != 0)
                log_warn(
                    "queued group update: variant %lld: %s",
                    (long long)json_integer_value(json_object_get(item, "id")),
                    st);
            json_decref(res);
        }
        json_decref(pd->items);
        free(pd);
    }
}

/* ---- routing ---------------------------------------------------------------
 */

static void sim_products_index(struct sim_db *db, struct sim_req *rq,
                               struct sim_resp *rs)
{
    sim_products_list(db, rq, rs, 0);
}

static void sim_products_count(struct sim_db *db, struct sim_req *rq,
                               struct sim_resp *rs)
{
    sim_products_list(db, rq, rs, 1);
}

static void sim_no_route(struct sim_db *db, struct sim_req *rq,
                         struct sim_resp *rs)
{
    (void)db;
    (void)rq;
    sim_resp_not_found(rs);
}

/* POST products/ID/recover: un-archive. */
static void sim_product_recover(struct sim_db *db, struct sim_req *rq,
                                struct sim_resp *rs, struct sim_product *p)
{
    if (!p) {
        sim_resp_not_found(rs);
        return;
    }
    p->archived = 0;
    sim_product_touch(db, p, sim_db_clock(db));
    sim_resp_json(rs, 200, sim_product_json(db, p, rq->now));
}

/* DELETE products/ID archives; an unknown id still answers ok. */
static void sim_product_delete(struct sim_db *db, struct sim_req *rq,
                               struct sim_resp *rs, struct sim_product *p)
{
    int64_t ts;

    (void)rq;
    if (p && !p->archived) {
        ts = sim_db_clock(db);
        p->archived = 1;
        sim_product_touch(db, p, ts);
    }
    sim_resp_ok(rs);
}

static void sim_product_get(struct sim_db *db, struct sim_req *rq,
                            struct sim_resp *rs, struct sim_product *p)
{
    sim_resp_json(rs, 200, sim_product_json(db, p, rq->now));
}

/* The routes that name no product, first match wins. */
static const struct sim_products_route {
    struct sim_route_shape sh;
    void (*fn)(struct sim_db *db, struct sim_req *rq, struct sim_resp *rs);
} sim_products_routes[] = {
    {{2, 2, "PUT", {"variants", "group_update"}}, sim_group_update},
    {{1, 1, "GET", {"products"}}, sim_products_index},
    {{1, 1, "POST", {"products"}}, sim_product_post},
    {{1, 1, NULL, {"products"}}, sim_no_route},
    {{2, 2, "GET", {"products", "count"}}, sim_products_count},
    {{2, 2, "GET", {"products", "by_ids"}}, sim_products_by_ids},
    {{2, 2, "PUT", {"products", "variants_group_update"}}, sim_group_update},
    {{2, 2, NULL, {"products", "variants_group_update"}}, sim_no_route},
};

/* The routes under products/ID, given the product (NULL when unknown);
 * @p live ones answer 404 for an unknown or archived product. */
static const struct sim_product_route {
    struct sim_route_shape sh;
    int live;
    void (*fn)(struct sim_db *db, struct sim_req *rq, struct sim_resp *rs,
               struct sim_product *p);
} sim_product_routes[] = {
    {{3, 3, "POST", {"products", NULL, "recover"}}, 0, sim_product_recover},
    {{2, 2, "DELETE", {"products"}}, 0, sim_product_delete},
    {{2, 2, "GET", {"products"}}, 1, sim_product_get},
    {{2, 2, "PUT", {"products"}}, 1, sim_product_put},
    {{3, 4, NULL, {"products", NULL, "variants"}}, 1, sim_variants_route},
    {{3, 4, NULL, {"products", NULL, "images"}}, 1, sim_images_route},
};

int sim_products_route(struct sim_db *db, struct sim_req *rq,
                       struct sim_resp *rs)
{
    const struct sim_product_route *r;
    struct sim_product *p;
    size_t i;

    for (i = 0; i < sizeof(sim_products_routes) / sizeof(*sim_products_routes);
         i++) {
        if (sim_req_matches(rq, &sim_products_routes[i].sh)) {
            sim_products_routes[i].fn(db, rq, rs);
            return 1;
        }
    }
    if (rq->nseg < 2 || strcmp(rq->segs[0], "products") != 0)
        return 0;
    p = sim_db_product(db, sim_seg_id(rq->segs[1]));
    for (i = 0; i < sizeof(sim_product_routes) / sizeof(*sim_product_routes);
         i++) {
        r = &sim_product_routes[i];
        if (!sim_req_matches(rq, &r->sh))
            continue;
        if (r->live && (!p || p->archived))
            sim_resp_not_found(rs);
        else
            r->fn(db, rq, rs, p);
        return 1;
    }
    sim_resp_not_found(rs);
    return 1;
}
