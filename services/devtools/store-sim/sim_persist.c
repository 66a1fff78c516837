#include "sim_persist.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sim_db.h"

struct sim_persist {
    char *dir, *path, *tmp;
    int dirfd, lockfd;
    pthread_mutex_t wmu; /* one writer at a time */
    uint64_t written;    /* gen of the snapshot on disk */
};

/* ---- the data directory -------------------------------------------------- */

static char *sim_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* Open DIR (made when missing) and take DIR/lock. */
static int sim_persist_open(struct sim_persist *p, char *errstr,
                            size_t errstr_size)
{
    char *lock = sim_path_join(p->dir, "lock");
    int rc = -1;

    if (!lock) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (mkdir(p->dir, 0755) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create %s: %s", p->dir,
                 strerror(errno));
        goto out;
    }
    p->dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->dirfd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", p->dir,
                 strerror(errno));
        goto out;
    }
    p->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (p->lockfd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", lock,
                 strerror(errno));
        goto out;
    }
    if (flock(p->lockfd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(errstr, errstr_size, "%s is in use by another store-sim (%s)",
                 p->dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(lock);
    return rc;
}

struct sim_persist *sim_persist_new(const char *dir, char *errstr,
                                    size_t errstr_size)
{
    struct sim_persist *p = calloc(1, sizeof(*p));

    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->dirfd = p->lockfd = -1;
    pthread_mutex_init(&p->wmu, NULL);
    p->dir = strdup(dir);
    p->path = sim_path_join(dir, "shop.json");
    p->tmp = sim_path_join(dir, "shop.json.tmp");
    if (!p->dir || !p->path || !p->tmp) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (sim_persist_open(p, errstr, errstr_size) != 0)
        goto fail;
    return p;
fail:
    sim_persist_destroy(p);
    return NULL;
}

void sim_persist_destroy(struct sim_persist *p)
{
    if (!p)
        return;
    if (p->lockfd >= 0)
        close(p->lockfd); /* releases the flock */
    if (p->dirfd >= 0)
        close(p->dirfd);
    pthread_mutex_destroy(&p->wmu);
    free(p->dir);
    free(p->path);
    free(p->tmp);
    free(p);
}

const char *sim_persist_path(const struct sim_persist *p)
{
    return p->path;
}

/* ---- fields: one table per struct serves the dump and the load ----------- */

enum sim_ft {
    SIM_FT_I64,   /* int64_t, required */
    SIM_FT_OPT,   /* int64_t + int has flag (has_off); null when !has */
    SIM_FT_BOOL,  /* int 0/1 */
    SIM_FT_STR,   /* char *, null allowed */
    SIM_FT_RSTR,  /* char *, required */
    SIM_FT_CHARS, /* char[size], required */
    SIM_FT_SIZE,  /* size_t */
    SIM_FT_JSON,  /* json_t * object, null allowed */
    SIM_FT_IDS    /* struct sim_ids */
};

struct sim_field {
    const char *key;
    enum sim_ft type;
    size_t off;
    size_t aux; /* SIM_FT_OPT: offset of the has flag; SIM_FT_CHARS: size */
};

#define SIM_F(type_, key_, ft_, member_)                                       \
    {                                                                          \
        key_, ft_, offsetof(type_, member_), 0                                 \
    }
#define SIM_F_OPT(type_, key_, member_, has_)                                  \
    {                                                                          \
        key_, SIM_FT_OPT, offsetof(type_, member_), offsetof(type_, has_)      \
    }
#define SIM_F_CHARS(type_, key_, member_)                                      \
    {                                                                          \
        key_, SIM_FT_CHARS, offsetof(type_, member_),                          \
            sizeof(((type_ *)0)->member_)                                      \
    }

static const struct sim_field sim_variant_fields[] = {
    SIM_F(struct sim_variant, "product_id", SIM_FT_I64, product_id),
    SIM_F(struct sim_variant, "sku", SIM_FT_STR, sku),
    SIM_F(struct sim_variant, "barcode", SIM_FT_STR, barcode),
    SIM_F(struct sim_variant, "weight", SIM_FT_STR, weight),
    SIM_F(struct sim_variant, "dimensions", SIM_FT_STR, dimensions),
    SIM_F(struct sim_variant, "price", SIM_FT_I64, price),
    SIM_F_OPT(struct sim_variant, "old_price", old_price, has_old_price),
    SIM_F_OPT(struct sim_variant, "cost_price", cost_price, has_cost_price),
    SIM_F_OPT(struct sim_variant, "price2", price2, has_price2),
    SIM_F_OPT(struct sim_variant, "price3", price3, has_price3),
    SIM_F_OPT(struct sim_variant, "quantity", quantity, has_quantity),
    SIM_F(struct sim_variant, "image_id", SIM_FT_I64, image_id),
    SIM_F(struct sim_variant, "created_at", SIM_FT_I64, created_at),
    SIM_F(struct sim_variant, "updated_at", SIM_FT_I64, updated_at),
    {NULL, SIM_FT_I64, 0, 0}};

static const struct sim_field sim_image_fields[] = {
    SIM_F(struct sim_image, "product_id", SIM_FT_I64, product_id),
    SIM_F(struct sim_image, "position", SIM_FT_I64, position),
    SIM_F(struct sim_image, "created_at", SIM_FT_I64, created_at),
    SIM_F(struct sim_image, "ready_at", SIM_FT_I64, ready_at),
    SIM_F(struct sim_image, "filename", SIM_FT_STR, filename),
    SIM_F(struct sim_image, "title", SIM_FT_STR, title),
    SIM_F(struct sim_image, "src", SIM_FT_STR, src),
    SIM_F(struct sim_image, "size", SIM_FT_SIZE, size),
    SIM_F_CHARS(struct sim_image, "sha256", sha256),
    {NULL, SIM_FT_I64, 0, 0}};

static const struct sim_field sim_product_fields[] = {
    SIM_F(struct sim_product, "category_id", SIM_FT_I64, category_id),
    SIM_F(struct sim_product, "created_at", SIM_FT_I64, created_at),
    SIM_F(struct sim_product, "updated_at", SIM_FT_I64, t.updated_at),
    SIM_F(struct sim_product, "title", SIM_FT_RSTR, title),
    SIM_F(struct sim_product, "description", SIM_FT_STR, description),
    SIM_F(struct sim_product, "short_description", SIM_FT_STR,
          short_description),
    SIM_F(struct sim_product, "permalink", SIM_FT_STR, permalink),
    SIM_F(struct sim_product, "is_hidden", SIM_FT_BOOL, is_hidden),
    SIM_F(struct sim_product, "archived", SIM_FT_BOOL, archived),
    SIM_F(struct sim_product, "variants", SIM_FT_IDS, variants),
    SIM_F(struct sim_product, "images", SIM_FT_IDS, images),
    SIM_F(struct sim_product, "collections", SIM_FT_IDS, collections),
    {NULL, SIM_FT_I64, 0, 0}};

static const struct sim_field sim_order_fields[] = {
    SIM_F(struct sim_order, "number", SIM_FT_I64, number),
    SIM_F(struct sim_order, "created_at", SIM_FT_I64, created_at),
    SIM_F(struct sim_order, "updated_at", SIM_FT_I64, t.updated_at),
    SIM_F(struct sim_order, "accepted_at", SIM_FT_I64, accepted_at),
    SIM_F(struct sim_order, "paid_at", SIM_FT_I64, paid_at),
    SIM_F(struct sim_order, "delivered_at", SIM_FT_I64, delivered_at),
    SIM_F_CHARS(struct sim_order, "key", key),
    SIM_F_CHARS(struct sim_order, "fulfillment_status", fulfillment),
    SIM_F_CHARS(struct sim_order, "financial_status", financial),
    SIM_F(struct sim_order, "delivery_title", SIM_FT_STR, delivery_title),
    SIM_F(struct sim_order, "comment", SIM_FT_STR, comment),
    SIM_F(struct sim_order, "manager_comment", SIM_FT_STR, manager_comment),
    SIM_F(struct sim_order, "custom_status", SIM_FT_STR, custom_status),
    SIM_F(struct sim_order, "delivery_price", SIM_FT_I64, delivery_price),
    SIM_F(struct sim_order, "items_price", SIM_FT_I64, items_price),
    SIM_F(struct sim_order, "total_price", SIM_FT_I64, total_price),
    SIM_F(struct sim_order, "client", SIM_FT_JSON, client),
    SIM_F(struct sim_order, "shipping_address", SIM_FT_JSON, shipping_address),
    {NULL, SIM_FT_I64, 0, 0}};

static const struct sim_field sim_line_fields[] = {
    SIM_F(struct sim_order_line, "id", SIM_FT_I64, id),
    SIM_F(struct sim_order_line, "variant_id", SIM_FT_I64, variant_id),
    SIM_F(struct sim_order_line, "product_id", SIM_FT_I64, product_id),
    SIM_F(struct sim_order_line, "quantity", SIM_FT_I64, quantity),
    SIM_F(struct sim_order_line, "sale_price", SIM_FT_I64, sale_price),
    SIM_F(struct sim_order_line, "total_price", SIM_FT_I64, total_price),
    SIM_F(struct sim_order_line, "sku", SIM_FT_STR, sku),
    SIM_F(struct sim_order_line, "title", SIM_FT_STR, title),
    {NULL, SIM_FT_I64, 0, 0}};

/* The shop's counters and roots (fields of struct sim_db). */
static const struct sim_field sim_db_fields[] = {
    SIM_F(struct sim_db, "clock_last", SIM_FT_I64, clock_last),
    SIM_F(struct sim_db, "next_line_id", SIM_FT_I64, next_line_id),
    SIM_F(struct sim_db, "next_client_id", SIM_FT_I64, next_client_id),
    SIM_F(struct sim_db, "next_order_number", SIM_FT_I64, next_order_number),
    SIM_F(struct sim_db, "root_category", SIM_FT_I64, root_category),
    SIM_F(struct sim_db, "root_collection", SIM_FT_I64, root_collection),
    {NULL, SIM_FT_I64, 0, 0}};

static json_t *sim_ids_json(const int64_t *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *sim_field_json(const char *base, const struct sim_field *f)
{
    const void *at = base + f->off;
    const char *s;

    switch (f->type) {
    case SIM_FT_I64:
        return json_integer(*(const int64_t *)at);
    case SIM_FT_OPT:
        return *(const int *)(const void *)(base + f->aux)
                   ? json_integer(*(const int64_t *)at)
                   : json_null();
    case SIM_FT_BOOL:
        return json_boolean(*(const int *)at);
    case SIM_FT_STR:
    case SIM_FT_RSTR:
        s = *(char *const *)at;
        return s ? json_string(s) : json_null();
    case SIM_FT_CHARS:
        return json_string((const char *)at);
    case SIM_FT_SIZE:
        return json_integer((json_int_t) * (const size_t *)at);
    case SIM_FT_JSON:
        return *(json_t *const *)at ? json_incref(*(json_t *const *)at)
                                    : json_null();
    case SIM_FT_IDS:
        return sim_ids_json(((const struct sim_ids *)at)->v,
                            ((const struct sim_ids *)at)->n);
    }
    return json_null();
}

/* @p obj's fields of table @p f into the new object @p out (returned). */
static json_t *sim_fields_json(json_t *out, const void *obj,
                               const struct sim_field *f)
{
    for (; f->key; f++)
        json_object_set_new(out, f->key, sim_field_json(obj, f));
    return out;
}

/* ---- loading: errors name the item and the key --------------------------- */

struct sim_ld {
    char *err;
    size_t errsz;
    char what[64]; /* "products[3]" */
};

static int sim_ld_fail(struct sim_ld *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int sim_ld_fail(struct sim_ld *ld, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errsz, "%s%s%s", ld->what, ld->what[0] ? ": " : "",
             msg);
    return -1;
}

/* A string (or null/absent unless @p required) into a malloc'd copy. */
static int sim_ld_str(struct sim_ld *ld, json_t *x, const char *key,
                      int required, char **out)
{
    if (!x || json_is_null(x)) {
        if (required)
            return sim_ld_fail(ld, "%s: missing", key);
        return 0;
    }
    if (!json_is_string(x))
        return sim_ld_fail(ld, "%s: not a string", key);
    *out = strdup(json_string_value(x));
    return *out ? 0 : sim_ld_fail(ld, "out of memory");
}

static int sim_ld_ids(struct sim_ld *ld, json_t *x, const char *key,
                      struct sim_ids *ids)
{
    size_t i;
    json_t *e;

    if (!json_is_array(x))
        return sim_ld_fail(ld, "%s: not an array", key);
    json_array_foreach(x, i, e)
    {
        if (!json_is_integer(e))
            return sim_ld_fail(ld, "%s[%zu]: not an integer", key, i);
        if (sim_ids_add(ids, json_integer_value(e)) != 0)
            return sim_ld_fail(ld, "out of memory");
    }
    return 0;
}

static int sim_ld_field(struct sim_ld *ld, json_t *j, char *base,
                        const struct sim_field *f)
{
    json_t *x = json_object_get(j, f->key);
    void *at = base + f->off;
    int is_null = !x || json_is_null(x);

    switch (f->type) {
    case SIM_FT_OPT:
        *(int *)(void *)(base + f->aux) = !is_null;
        if (is_null)
            return 0;
        /* fall through */
    case SIM_FT_I64:
        if (!json_is_integer(x))
            return sim_ld_fail(ld, "%s: not an integer", f->key);
        *(int64_t *)at = json_integer_value(x);
        return 0;
    case SIM_FT_SIZE:
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return sim_ld_fail(ld, "%s: not a size", f->key);
        *(size_t *)at = (size_t)json_integer_value(x);
        return 0;
    case SIM_FT_BOOL:
        if (!json_is_boolean(x))
            return sim_ld_fail(ld, "%s: not a boolean", f->key);
        *(int *)at = json_is_true(x);
        return 0;
    case SIM_FT_STR:
    case SIM_FT_RSTR:
        return sim_ld_str(ld, x, f->key, f->type == SIM_FT_RSTR, at);
    case SIM_FT_CHARS:
        if (!json_is_string(x) || json_string_length(x) >= f->aux)
            return sim_ld_fail(ld, "%s: not a string of < %zu bytes", f->key,
                               f->aux);
        memcpy(at, json_string_value(x), json_string_length(x) + 1);
        return 0;
    case SIM_FT_JSON:
        if (!is_null && !json_is_object(x))
            return sim_ld_fail(ld, "%s: not an object", f->key);
        *(json_t **)at = is_null ? NULL : json_deep_copy(x);
        return 0;
    case SIM_FT_IDS:
        return sim_ld_ids(ld, x, f->key, at);
    }
    return sim_ld_fail(ld, "%s: unknown field type", f->key);
}

static int sim_ld_fields(struct sim_ld *ld, json_t *j, void *obj,
                         const struct sim_field *f)
{
    for (; f->key; f++)
        if (sim_ld_field(ld, j, obj, f) != 0)
            return -1;
    return 0;
}

/* Up to SIM_MAX_OPTIONS integers of array @p key into @p v; *n their count. */
static int sim_ld_opts(struct sim_ld *ld, json_t *j, const char *key,
                       int64_t *v, int *n)
{
    json_t *x = json_object_get(j, key), *e;
    size_t i;

    if (!json_is_array(x) || json_array_size(x) > SIM_MAX_OPTIONS)
        return sim_ld_fail(ld, "%s: not an array of at most %d", key,
                           SIM_MAX_OPTIONS);
    json_array_foreach(x, i, e)
    {
        if (!json_is_integer(e))
            return sim_ld_fail(ld, "%s[%zu]: not an integer", key, i);
        v[i] = json_integer_value(e);
    }
    if (n)
        *n = (int)json_array_size(x);
    return 0;
}

/* ---- the kinds: dump and load of one object ----------------------------
 * A loader gets the item's JSON and its id, and returns the new object or
 * NULL with the error in @p ld. */

static json_t *sim_variant_dump(const void *item)
{
    const struct sim_variant *v = item;
    size_t n = SIM_MAX_OPTIONS;

    while (n > 0 && v->opt_values[n - 1] == 0)
        n--;
    return json_pack("{s:I,s:o}", "id", (json_int_t)v->id, "option_values",
                     sim_ids_json(v->opt_values, n));
}

static void *sim_variant_load(struct sim_ld *ld, json_t *j, int64_t id)
{
    struct sim_variant *v = calloc(1, sizeof(*v));

    if (!v) {
        sim_ld_fail(ld, "out of memory");
        return NULL;
    }
    v->id = id;
    if (sim_ld_fields(ld, j, v, sim_variant_fields) != 0 ||
        sim_ld_opts(ld, j, "option_values", v->opt_values, NULL) != 0) {
        sim_variant_free(v);
        return NULL;
    }
    return v;
}

static json_t *sim_image_dump(const void *item)
{
    return json_pack("{s:I}", "id",
                     (json_int_t)((const struct sim_image *)item)->id);
}

static void *sim_image_load(struct sim_ld *ld, json_t *j, int64_t id)
{
    struct sim_image *im = calloc(1, sizeof(*im));

    if (!im) {
        sim_ld_fail(ld, "out of memory");
        return NULL;
    }
    im->id = id;
    if (sim_ld_fields(ld, j, im, sim_image_fields) != 0) {
        sim_image_free(im);
        return NULL;
    }
    return im;
}

static json_t *sim_product_dump(const void *item)
{
    const struct sim_product *p = item;

    return json_pack("{s:I,s:o}", "id", (json_int_t)p->id, "options",
                     sim_ids_json(p->options, (size_t)p->n_options));
}

static void *sim_product_load(struct sim_ld *ld, json_t *j, int64_t id)
{
    struct sim_product *p = calloc(1, sizeof(*p));

    if (!p) {
        sim_ld_fail(ld, "out of memory");
        return NULL;
    }
    p->id = p->t.id = id;
    p->t.obj = p;
    if (sim_ld_fields(ld, j, p, sim_product_fields) != 0 ||
        sim_ld_opts(ld, j, "options", p->options, &p->n_options) != 0) {
        sim_product_free(p);
        return NULL;
    }
    return p;
}

static json_t *sim_order_dump(const void *item)
{
    const struct sim_order *o = item;
    json_t *lines = json_array();

    for (size_t i = 0; i < o->n_lines; i++)
        json_array_append_new(
            lines,
            sim_fields_json(json_object(), &o->lines[i], sim_line_fields));
    return json_pack("{s:I,s:o}", "id", (json_int_t)o->id, "lines", lines);
}

static int sim_order_lines_load(struct sim_ld *ld, json_t *j,
                                struct sim_order *o)
{
    json_t *lines = json_object_get(j, "lines"), *l;
    size_t i;

    if (!json_is_array(lines) || json_array_size(lines) == 0)
        return sim_ld_fail(ld, "lines: not a non-empty array");
    o->lines = calloc(json_array_size(lines), sizeof(*o->lines));
    if (!o->lines)
        return sim_ld_fail(ld, "out of memory");
    json_array_foreach(lines, i, l)
    {
        o->n_lines = i + 1; /* freed with the order from here on */
        if (!json_is_object(l) ||
            sim_ld_fields(ld, l, &o->lines[i], sim_line_fields) != 0)
            return sim_ld_fail(ld, "lines[%zu]: not a valid line", i);
    }
    return 0;
}

static void *sim_order_load(struct sim_ld *ld, json_t *j, int64_t id)
{
    struct sim_order *o = calloc(1, sizeof(*o));

    if (!o) {
        sim_ld_fail(ld, "out of memory");
        return NULL;
    }
    o->id = o->t.id = id;
    o->t.obj = o;
    if (sim_ld_fields(ld, j, o, sim_order_fields) != 0 ||
        sim_order_lines_load(ld, j, o) != 0) {
        sim_order_free(o);
        return NULL;
    }
    return o;
}

/* The JSON-object kinds (categories, webhooks, ...) are kept as they are;
 * the keys the handlers compare as strings must be strings. */
static json_t *sim_ref_dump(const void *item)
{
    /* Dumped to text before the shop's lock is released. */
    return json_incref((json_t *)(uintptr_t)item);
}

static void *sim_ref_load(struct sim_ld *ld, json_t *j, int64_t id,
                          const char *const *need)
{
    for (; need && *need; need++)
        if (!json_is_string(json_object_get(j, *need))) {
            sim_ld_fail(ld, "%s: not a string", *need);
            return NULL;
        }
    if (json_integer_value(json_object_get(j, "id")) != id) {
        sim_ld_fail(ld, "id: not the item's id");
        return NULL;
    }
    return json_deep_copy(j);
}

static const char *const sim_need_title[] = {"title", NULL};
static const char *const sim_need_hook[] = {"address", "topic", NULL};

struct sim_kind {
    const char *name;
    size_t off;    /* offsetof(struct sim_db, <vector>) */
    int64_t limit; /* most ids the kind's base leaves room for */
    json_t *(*dump)(const void *item);
    void *(*load)(struct sim_ld *ld, json_t *j, int64_t id);
    const struct sim_field *fields; /* dumped besides dump()'s keys */
    const char *const *need;        /* ref kinds: string keys */
    void (*free_item)(void *item);
};

#define SIM_MAIN_LIMIT 100000000LL /* products, variants, images, orders */
#define SIM_REF_LIMIT 1000000LL    /* the JSON kinds */
#define SIM_REF_KIND(name_, member_, need_)                                    \
    {                                                                          \
        name_, offsetof(struct sim_db, member_), SIM_REF_LIMIT, sim_ref_dump,  \
            NULL, NULL, need_, sim_db_free_json                                \
    }

/* Loaded in this order: the cross-checks below need all of them. */
static const struct sim_kind sim_kinds[] = {
    SIM_REF_KIND("categories", categories, sim_need_title),
    SIM_REF_KIND("collections", collections, sim_need_title),
    SIM_REF_KIND("collects", collects, NULL),
    SIM_REF_KIND("option_names", option_names, sim_need_title),
    SIM_REF_KIND("option_values", option_values, sim_need_title),
    SIM_REF_KIND("warehouses", warehouses, NULL),
    SIM_REF_KIND("webhooks", webhooks, sim_need_hook),
    {"products", offsetof(struct sim_db, products), SIM_MAIN_LIMIT,
     sim_product_dump, sim_product_load, sim_product_fields, NULL,
     sim_db_free_product},
    {"variants", offsetof(struct sim_db, variants), SIM_MAIN_LIMIT,
     sim_variant_dump, sim_variant_load, sim_variant_fields, NULL,
     sim_db_free_variant},
    {"images", offsetof(struct sim_db, images), SIM_MAIN_LIMIT, sim_image_dump,
     sim_image_load, sim_image_fields, NULL, sim_db_free_image},
    {"orders", offsetof(struct sim_db, orders), SIM_MAIN_LIMIT, sim_order_dump,
     sim_order_load, sim_order_fields, NULL, sim_db_free_order},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL}};

static struct sim_vec *sim_kind_vec(struct sim_db *db, const struct sim_kind *k)
{
    return (struct sim_vec *)(void *)((char *)db + k->off);
}

/* ---- dump ---------------------------------------------------------------- */

static json_t *sim_dump_pending(const struct sim_db *db)
{
    json_t *a = json_array();

    for (const struct sim_pending *pd = db->pending_head; pd; pd = pd->next)
        json_array_append_new(a, json_pack("{s:I,s:O}", "due_ms",
                                           (json_int_t)pd->due_ms, "items",
                                           pd->items));
    return a;
}

char *sim_persist_dump(struct sim_db *db)
{
    json_t *root = json_object(), *next = json_object();
    char *text;

    json_object_set_new(root, "store_sim_shop",
                        json_integer(SIM_PERSIST_VERSION));
    sim_fields_json(root, db, sim_db_fields);
    for (const struct sim_kind *k = sim_kinds; k->name; k++) {
        const struct sim_vec *v = sim_kind_vec(db, k);
        json_t *items = json_array();
        for (size_t i = 0; i < v->n; i++) {
            json_t *j;
            if (!v->items[i])
                continue;
            j = k->dump(v->items[i]);
            if (k->fields)
                sim_fields_json(j, v->items[i], k->fields);
            json_array_append_new(items, j);
        }
        json_object_set_new(root, k->name, items);
        json_object_set_new(next, k->name,
                            json_integer(v->base + (int64_t)v->n));
    }
    json_object_set_new(root, "next_ids", next);
    json_object_set_new(root, "pending_group_updates", sim_dump_pending(db));
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/* ---- load ---------------------------------------------------------------- */

static int sim_load_kind(struct sim_ld *ld, json_t *root, struct sim_db *db,
                         const struct sim_kind *k)
{
    struct sim_vec *v = sim_kind_vec(db, k);
    json_t *arr = json_object_get(root, k->name), *j;
    json_t *next = json_object_get(json_object_get(root, "next_ids"), k->name);
    int64_t n, id;
    size_t i;

    ld->what[0] = '\0';
    if (!json_is_integer(next))
        return sim_ld_fail(ld, "next_ids.%s: missing", k->name);
    n = json_integer_value(next) - v->base;
    if (n < 0 || n > k->limit)
        return sim_ld_fail(ld, "next_ids.%s: out of range", k->name);
    if (!json_is_array(arr))
        return sim_ld_fail(ld, "%s: not an array", k->name);
    if (sim_vec_reserve(v, (size_t)n) != 0)
        return sim_ld_fail(ld, "out of memory");
    json_array_foreach(arr, i, j)
    {
        void *item;
        snprintf(ld->what, sizeof(ld->what), "%s[%zu]", k->name, i);
        if (!json_is_object(j) || !json_is_integer(json_object_get(j, "id")))
            return sim_ld_fail(ld, "not an object with an integer id");
        id = json_integer_value(json_object_get(j, "id"));
        item = k->load ? k->load(ld, j, id) : sim_ref_load(ld, j, id, k->need);
        if (!item)
            return -1;
        if (sim_vec_put(v, id, item) != 0) {
            k->free_item(item);
            return sim_ld_fail(ld, "id %lld: twice, or not below next_ids",
                               (long long)id);
        }
    }
    ld->what[0] = '\0';
    return 0;
}

static int64_t sim_variant_owner(const void *x)
{
    return ((const struct sim_variant *)x)->product_id;
}

static int64_t sim_image_owner(const void *x)
{
    return ((const struct sim_image *)x)->product_id;
}

/* Every id in @p ids names an object of @p v whose product is @p pid. */
static int sim_check_children(struct sim_ld *ld, const struct sim_ids *ids,
                              const struct sim_vec *v,
                              int64_t (*owner)(const void *), int64_t pid,
                              const char *what)
{
    for (size_t i = 0; i < ids->n; i++) {
        const void *x = sim_vec_get(v, ids->v[i]);
        if (!x || owner(x) != pid)
            return sim_ld_fail(ld, "product %lld lists %s %lld, not its own",
                               (long long)pid, what, (long long)ids->v[i]);
    }
    return 0;
}

/* Products and their variants and images point at each other. */
static int sim_check_products(struct sim_ld *ld, struct sim_db *db)
{
    for (size_t i = 0; i < db->products.n; i++) {
        const struct sim_product *p = db->products.items[i];
        if (p &&
            (sim_check_children(ld, &p->variants, &db->variants,
                                sim_variant_owner, p->id, "variant") != 0 ||
             sim_check_children(ld, &p->images, &db->images, sim_image_owner,
                                p->id, "image") != 0))
            return -1;
    }
    for (size_t i = 0; i < db->variants.n; i++) {
        const struct sim_variant *v = db->variants.items[i];
        const struct sim_product *p = v ? sim_db_product(db, v->product_id) : 0;
        if (v && (!p || !sim_ids_has(&p->variants, v->id)))
            return sim_ld_fail(ld, "variant %lld: its product does not list it",
                               (long long)v->id);
    }
    for (size_t i = 0; i < db->images.n; i++) {
        const struct sim_image *im = db->images.items[i];
        const struct sim_product *p =
            im ? sim_db_product(db, im->product_id) : 0;
        if (im && (!p || !sim_ids_has(&p->images, im->id)))
            return sim_ld_fail(ld, "image %lld: its product does not list it",
                               (long long)im->id);
    }
    return 0;
}

static int sim_touch_cmp(const void *a, const void *b)
{
    const struct sim_touch *x = *(const struct sim_touch *const *)a;
    const struct sim_touch *y = *(const struct sim_touch *const *)b;

    if (x->updated_at != y->updated_at)
        return x->updated_at < y->updated_at ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

/* Put the objects of @p v (whose struct sim_touch sits at @p toff) on
 * @p l in (updated_at, id) order. */
static int sim_load_tlist(struct sim_ld *ld, const struct sim_vec *v,
                          size_t toff, struct sim_tlist *l)
{
    struct sim_touch **ts = calloc(v->live ? v->live : 1, sizeof(*ts));
    size_t n = 0;

    if (!ts)
        return sim_ld_fail(ld, "out of memory");
    for (size_t i = 0; i < v->n; i++)
        if (v->items[i] && n < v->live)
            ts[n++] = (struct sim_touch *)(void *)((char *)v->items[i] + toff);
    qsort(ts, n, sizeof(*ts), sim_touch_cmp);
    for (size_t i = 0; i < n; i++)
        sim_tlist_touch(l, ts[i], ts[i]->updated_at);
    free(ts);
    return 0;
}

static int sim_load_pending(struct sim_ld *ld, json_t *root, struct sim_db *db)
{
    json_t *arr = json_object_get(root, "pending_group_updates"), *j;
    size_t i;

    if (!json_is_array(arr))
        return sim_ld_fail(ld, "pending_group_updates: not an array");
    json_array_foreach(arr, i, j)
    {
        struct sim_pending *pd;
        json_t *due = json_object_get(j, "due_ms");
        json_t *items = json_object_get(j, "items");
        if (!json_is_integer(due) || !json_is_array(items))
            return sim_ld_fail(ld,
                               "pending_group_updates[%zu]: no due_ms or "
                               "items",
                               i);
        pd = calloc(1, sizeof(*pd));
        if (!pd)
            return sim_ld_fail(ld, "out of memory");
        pd->due_ms = json_integer_value(due);
        pd->items = json_deep_copy(items);
        if (db->pending_tail)
            db->pending_tail->next = pd;
        else
            db->pending_head = pd;
        db->pending_tail = pd;
    }
    return 0;
}

/* The parsed document into @p db (emptied first). */
static int sim_load_root(struct sim_ld *ld, json_t *root, struct sim_db *db)
{
    json_t *ver = json_object_get(root, "store_sim_shop");

    if (!json_is_object(root) || !json_is_integer(ver))
        return sim_ld_fail(ld, "not a store-sim shop (no store_sim_shop)");
    if (json_integer_value(ver) != SIM_PERSIST_VERSION)
        return sim_ld_fail(ld, "format version %lld, this store-sim reads %d",
                           (long long)json_integer_value(ver),
                           SIM_PERSIST_VERSION);
    sim_db_clear_model(db);
    if (sim_ld_fields(ld, root, db, sim_db_fields) != 0)
        return -1;
    for (const struct sim_kind *k = sim_kinds; k->name; k++)
        if (sim_load_kind(ld, root, db, k) != 0)
            return -1;
    if (!sim_vec_get(&db->categories, db->root_category) ||
        !sim_vec_get(&db->collections, db->root_collection))
        return sim_ld_fail(ld, "the root category or collection is missing");
    if (sim_check_products(ld, db) != 0 ||
        sim_load_tlist(ld, &db->products, offsetof(struct sim_product, t),
                       &db->ptl) != 0 ||
        sim_load_tlist(ld, &db->orders, offsetof(struct sim_order, t),
                       &db->otl) != 0)
        return -1;
    return sim_load_pending(ld, root, db);
}

int sim_persist_load(struct sim_persist *p, struct sim_db *db, char *errstr,
                     size_t errstr_size)
{
    struct sim_ld ld;
    json_error_t jerr;
    json_t *root;
    FILE *f;
    int rc;

    memset(&ld, 0, sizeof(ld));
    ld.err = errstr;
    ld.errsz = errstr_size;
    f = fopen(p->path, "re");
    if (!f && errno == ENOENT)
        return 0;
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", p->path, strerror(errno));
        return -1;
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        snprintf(errstr, errstr_size, "%s: line %d: %s", p->path, jerr.line,
                 jerr.text);
        return -1;
    }
    rc = sim_load_root(&ld, root, db);
    json_decref(root);
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", errstr);
        snprintf(errstr, errstr_size, "%s: %s", p->path, msg);
        return -1;
    }
    return 1;
}

/* ---- write --------------------------------------------------------------- */

static int sim_write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* shop.json.tmp with @p text, synced, renamed over shop.json, DIR synced. */
static int sim_write_file(struct sim_persist *p, const char *text, char *errstr,
                          size_t errstr_size)
{
    int fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const char *step = "open";

    if (fd < 0)
        goto fail;
    step = "write";
    if (sim_write_all(fd, text, strlen(text)) != 0 ||
        sim_write_all(fd, "\n", 1) != 0)
        goto fail;
    step = "fsync";
    if (fsync(fd) != 0)
        goto fail;
    step = "close";
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    step = "rename";
    if (rename(p->tmp, p->path) != 0)
        goto fail;
    step = "fsync of the directory";
    if (fsync(p->dirfd) != 0)
        goto fail;
    return 0;
fail:
    snprintf(errstr, errstr_size, "%s %s: %s", step, p->tmp, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(p->tmp);
    return -1;
}

int sim_persist_write(struct sim_persist *p, const char *text, uint64_t gen,
                      char *errstr, size_t errstr_size)
{
    int rc = 0;

    pthread_mutex_lock(&p->wmu);
    if (gen >= p->written) {
        rc = sim_write_file(p, text, errstr, errstr_size);
        if (rc == 0)
            p->written = gen;
    }
    pthread_mutex_unlock(&p->wmu);
    return rc;
}
