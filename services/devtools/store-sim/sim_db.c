#include "sim_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "sim_fmt.h"
#include "sim_webhook.h"

/* ---- containers ------------------------------------------------------ */

void *sim_vec_get(const struct sim_vec *v, int64_t id)
{
    if (id < v->base || (uint64_t)(id - v->base) >= v->n)
        return NULL;
    return v->items[id - v->base];
}

int64_t sim_vec_add(struct sim_vec *v, void *item)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 64;
        void **n = realloc(v->items, ncap * sizeof(*n));
        if (!n)
            return -1;
        v->items = n;
        v->cap = ncap;
    }
    v->items[v->n] = item;
    v->live++;
    return v->base + (int64_t)v->n++;
}

void sim_vec_del(struct sim_vec *v, int64_t id)
{
    if (sim_vec_get(v, id)) {
        v->items[id - v->base] = NULL;
        v->live--;
    }
}

int sim_vec_reserve(struct sim_vec *v, size_t n)
{
    void **items;

    if (v->n != 0 || v->items)
        return -1;
    items = calloc(n ? n : 1, sizeof(*items));
    if (!items)
        return -1;
    v->items = items;
    v->cap = n ? n : 1;
    v->n = n;
    return 0;
}

int sim_vec_put(struct sim_vec *v, int64_t id, void *item)
{
    if (id < v->base || (uint64_t)(id - v->base) >= v->n ||
        v->items[id - v->base])
        return -1;
    v->items[id - v->base] = item;
    v->live++;
    return 0;
}

static void sim_vec_clear(struct sim_vec *v, void (*fr)(void *))
{
    for (size_t i = 0; i < v->n; i++)
        if (v->items[i])
            fr(v->items[i]);
    free(v->items);
    v->items = NULL;
    v->n = v->cap = v->live = 0;
}

int sim_ids_add(struct sim_ids *ids, int64_t id)
{
    if (ids->n == ids->cap) {
        size_t ncap = ids->cap ? ids->cap * 2 : 4;
        int64_t *n = realloc(ids->v, ncap * sizeof(*n));
        if (!n)
            return -1;
        ids->v = n;
        ids->cap = ncap;
    }
    ids->v[ids->n++] = id;
    return 0;
}

void sim_ids_del(struct sim_ids *ids, int64_t id)
{
    for (size_t i = 0; i < ids->n; i++) {
        if (ids->v[i] == id) {
            memmove(&ids->v[i], &ids->v[i + 1],
                    (ids->n - i - 1) * sizeof(ids->v[0]));
            ids->n--;
            return;
        }
    }
}

int sim_ids_has(const struct sim_ids *ids, int64_t id)
{
    for (size_t i = 0; i < ids->n; i++)
        if (ids->v[i] == id)
            return 1;
    return 0;
}

static int sim_touch_before(const struct sim_touch *a, int64_t ts, int64_t id)
{
    return a->updated_at < ts || (a->updated_at == ts && a->id < id);
}

void sim_tlist_remove(struct sim_tlist *l, struct sim_touch *t)
{
    if (!t->prev && !t->next && l->head != t)
        return; /* not on the list */
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
}

void sim_tlist_touch(struct sim_tlist *l, struct sim_touch *t, int64_t ts)
{
    struct sim_touch *after;

    sim_tlist_remove(l, t);
    t->updated_at = ts;
    /* Timestamps only grow, so the place is at the tail, behind any
     * entries of the same millisecond with a larger id. */
    after = l->tail;
    while (after && !sim_touch_before(after, ts, t->id))
        after = after->prev;
    t->prev = after;
    t->next = after ? after->next : l->head;
    if (t->next)
        t->next->prev = t;
    else
        l->tail = t;
    if (after)
        after->next = t;
    else
        l->head = t;
}

/* ---- frees ------------------------------------------------------------ */

void sim_variant_free(struct sim_variant *v)
{
    if (!v)
        return;
    free(v->sku);
    free(v->barcode);
    free(v->weight);
    free(v->dimensions);
    free(v);
}

void sim_image_free(struct sim_image *im)
{
    if (!im)
        return;
    free(im->filename);
    free(im->title);
    free(im->src);
    free(im);
}

void sim_product_free(struct sim_product *p)
{
    if (!p)
        return;
    free(p->title);
    free(p->description);
    free(p->short_description);
    free(p->permalink);
    free(p->variants.v);
    free(p->images.v);
    free(p->collections.v);
    free(p);
}

void sim_order_free(struct sim_order *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_lines; i++) {
        free(o->lines[i].sku);
        free(o->lines[i].title);
    }
    free(o->lines);
    free(o->delivery_title);
    free(o->comment);
    free(o->manager_comment);
    free(o->custom_status);
    json_decref(o->client);
    json_decref(o->shipping_address);
    free(o);
}

void sim_db_free_variant(void *p)
{
    sim_variant_free(p);
}
void sim_db_free_image(void *p)
{
    sim_image_free(p);
}
void sim_db_free_product(void *p)
{
    sim_product_free(p);
}
void sim_db_free_order(void *p)
{
    sim_order_free(p);
}
void sim_db_free_json(void *p)
{
    json_decref(p);
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Every vector's id base and the counters' first values. */
static void sim_db_bases(struct sim_db *db)
{
    db->products.base = SIM_BASE_PRODUCT;
    db->variants.base = SIM_BASE_VARIANT;
    db->images.base = SIM_BASE_IMAGE;
    db->orders.base = SIM_BASE_ORDER;
    db->categories.base = SIM_BASE_CATEGORY;
    db->collections.base = SIM_BASE_COLLECTION;
    db->collects.base = SIM_BASE_COLLECT;
    db->option_names.base = SIM_BASE_OPTION_NAME;
    db->option_values.base = SIM_BASE_OPTION_VALUE;
    db->warehouses.base = SIM_BASE_WAREHOUSE;
    db->webhooks.base = SIM_BASE_WEBHOOK;
    db->next_line_id = SIM_BASE_LINE;
    db->next_client_id = SIM_BASE_CLIENT;
    db->next_order_number = 1001;
}

static void sim_db_seed(struct sim_db *db)
{
    int64_t now = sim_db_clock(db);
    json_t *o;

    sim_db_bases(db);
    o = json_pack("{s:n,s:s,s:i,s:n,s:o,s:o}", "parent_id", "title", "Склад",
                  "position", 1, "external_id", "created_at",
                  sim_time_json(now), "updated_at", sim_time_json(now));
    db->root_category = sim_vec_add(&db->categories, o);
    json_object_set_new(o, "id", json_integer(db->root_category));

    o = json_pack("{s:n,s:s,s:i,s:s,s:b,s:o,s:o}", "parent_id", "title",
                  "Каталог", "position", 1, "permalink", "all", "is_hidden", 0,
                  "created_at", sim_time_json(now), "updated_at",
                  sim_time_json(now));
    db->root_collection = sim_vec_add(&db->collections, o);
    json_object_set_new(o, "id", json_integer(db->root_collection));

    o = json_pack("{s:s,s:i,s:n,s:o,s:o}", "title", "Основной склад",
                  "array_index", 0, "address", "created_at", sim_time_json(now),
                  "updated_at", sim_time_json(now));
    json_object_set_new(o, "id", json_integer(sim_vec_add(&db->warehouses, o)));
}

static void sim_db_clear(struct sim_db *db)
{
    struct sim_pending *pd, *next;

    sim_vec_clear(&db->variants, sim_db_free_variant);
    sim_vec_clear(&db->images, sim_db_free_image);
    sim_vec_clear(&db->products, sim_db_free_product);
    sim_vec_clear(&db->orders, sim_db_free_order);
    sim_vec_clear(&db->categories, sim_db_free_json);
    sim_vec_clear(&db->collections, sim_db_free_json);
    sim_vec_clear(&db->collects, sim_db_free_json);
    sim_vec_clear(&db->option_names, sim_db_free_json);
    sim_vec_clear(&db->option_values, sim_db_free_json);
    sim_vec_clear(&db->warehouses, sim_db_free_json);
    sim_vec_clear(&db->webhooks, sim_db_free_json);
    memset(&db->ptl, 0, sizeof(db->ptl));
    memset(&db->otl, 0, sizeof(db->otl));
    for (pd = db->pending_head; pd; pd = next) {
        next = pd->next;
        json_decref(pd->items);
        free(pd);
    }
    db->pending_head = db->pending_tail = NULL;
    for (size_t i = 0; db->log && i < SIM_REQLOG_CAP; i++) {
        free(db->log[i].path);
        free(db->log[i].query);
        db->log[i].path = db->log[i].query = NULL;
    }
}

static void sim_faults_default(struct sim_db *db)
{
    memset(&db->faults, 0, sizeof(db->faults));
    db->faults.error_status = 500;
    db->faults.timeout_ms = 60000;
    db->faults.seed = 1;
    db->rng = 0x9E3779B97F4A7C15ULL;
}

struct sim_db *sim_db_new(const struct sim_opts *opts, struct sim_hooks *hooks)
{
    struct sim_db *db = calloc(1, sizeof(*db));

    if (!db)
        return NULL;
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->smu, NULL);
    db->opts = *opts;
    db->hooks = hooks;
    db->log = calloc(SIM_REQLOG_CAP, sizeof(*db->log));
    if (!db->log) {
        sim_db_destroy(db);
        return NULL;
    }
    sim_faults_default(db);
    sim_db_seed(db);
    return db;
}

void sim_db_reset(struct sim_db *db)
{
    sim_db_clear(db);
    pthread_mutex_lock(&db->smu);
    db->requests = db->rejected = db->seq = 0;
    memset(db->status_counts, 0, sizeof(db->status_counts));
    sim_faults_default(db);
    pthread_mutex_unlock(&db->smu);
    if (db->hooks)
        sim_hooks_reset(db->hooks);
    sim_db_seed(db);
}

void sim_db_clear_model(struct sim_db *db)
{
    sim_db_clear(db);
    sim_db_bases(db);
    db->root_category = db->root_collection = 0;
}

void sim_db_destroy(struct sim_db *db)
{
    if (!db)
        return;
    sim_db_clear(db);
    free(db->log);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->smu);
    free(db);
}

int64_t sim_db_clock(struct sim_db *db)
{
    int64_t now = clock_wall_ms();

    if (now <= db->clock_last)
        now = db->clock_last + 1;
    db->clock_last = now;
    return now;
}

void sim_product_touch(struct sim_db *db, struct sim_product *p, int64_t ts)
{
    sim_tlist_touch(&db->ptl, &p->t, ts);
}

void sim_order_touch(struct sim_db *db, struct sim_order *o, int64_t ts)
{
    sim_tlist_touch(&db->otl, &o->t, ts);
}

struct sim_product *sim_db_product(struct sim_db *db, int64_t id)
{
    return sim_vec_get(&db->products, id);
}

struct sim_variant *sim_db_variant(struct sim_db *db, int64_t id)
{
    return sim_vec_get(&db->variants, id);
}

struct sim_image *sim_db_image(struct sim_db *db, int64_t id)
{
    return sim_vec_get(&db->images, id);
}

struct sim_order *sim_db_order(struct sim_db *db, int64_t id)
{
    return sim_vec_get(&db->orders, id);
}

double sim_db_rand(struct sim_db *db)
{
    /* xorshift64* */
    uint64_t x = db->rng;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    db->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* ---- JSON views -------------------------------------------------------- */

static json_t *sim_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *sim_variant_title_json(struct sim_db *db, const struct sim_variant *v)
{
    const struct sim_product *p = sim_db_product(db, v->product_id);
    char buf[1024];
    size_t n = 0;

    if (!p || p->n_options == 0)
        return json_null();
    buf[0] = '\0';
    for (int i = 0; i < p->n_options; i++) {
        json_t *ov = sim_vec_get(&db->option_values, v->opt_values[i]);
        const char *t = json_string_value(json_object_get(ov, "title"));
        if (!t)
            continue;
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " / " : "",
                              t);
        if (n >= sizeof(buf))
            break;
    }
    return json_string(buf);
}

static json_t *sim_money_or_null(int has, int64_t cents)
{
    return has ? sim_money_json(cents) : json_null();
}

json_t *sim_variant_json(struct sim_db *db, const struct sim_variant *v)
{
    const struct sim_product *p = sim_db_product(db, v->product_id);
    json_t *o = json_object(), *ovs = json_array(), *imgs = json_array();
    char wq[48];

    json_object_set_new(o, "id", json_integer(v->id));
    json_object_set_new(o, "title", sim_variant_title_json(db, v));
    json_object_set_new(o, "product_id", json_integer(v->product_id));
    json_object_set_new(o, "sku", sim_str_or_null(v->sku));
    json_object_set_new(o, "barcode", sim_str_or_null(v->barcode));
    json_object_set_new(o, "dimensions", sim_str_or_null(v->dimensions));
    json_object_set_new(o, "available",
                        json_boolean(!v->has_quantity || v->quantity > 0));
    if (v->image_id)
        json_array_append_new(imgs, json_integer(v->image_id));
    json_object_set_new(o, "image_ids", imgs);
    json_object_set_new(o, "image_id",
                        v->image_id ? json_integer(v->image_id) : json_null());
    json_object_set_new(o, "weight", sim_str_or_null(v->weight));
    json_object_set_new(o, "created_at", sim_time_json(v->created_at));
    json_object_set_new(o, "updated_at", sim_time_json(v->updated_at));
    json_object_set_new(o, "quantity",
                        v->has_quantity ? json_integer(v->quantity)
                                        : json_null());
    snprintf(wq, sizeof(wq), "%lld.0", (long long)v->quantity);
    json_object_set_new(o, "quantity_at_warehouse0",
                        v->has_quantity ? json_string(wq) : json_null());
    json_object_set_new(o, "cost_price",
                        sim_money_or_null(v->has_cost_price, v->cost_price));
    json_object_set_new(o, "cost_price_in_site_currency",
                        sim_money_or_null(v->has_cost_price, v->cost_price));
    json_object_set_new(o, "price", sim_money_json(v->price));
    json_object_set_new(o, "base_price", sim_money_json(v->price));
    json_object_set_new(o, "old_price",
                        sim_money_or_null(v->has_old_price, v->old_price));
    json_object_set_new(o, "price2",
                        sim_money_or_null(v->has_price2, v->price2));
    json_object_set_new(o, "price3",
                        sim_money_or_null(v->has_price3, v->price3));
    json_object_set_new(o, "price_in_site_currency", sim_money_json(v->price));
    json_object_set_new(o, "base_price_in_site_currency",
                        sim_money_json(v->price));
    json_object_set_new(o, "old_price_in_site_currency",
                        sim_money_or_null(v->has_old_price, v->old_price));
    json_object_set_new(o, "price2_in_site_currency",
                        sim_money_or_null(v->has_price2, v->price2));
    json_object_set_new(o, "price3_in_site_currency",
                        sim_money_or_null(v->has_price3, v->price3));
    json_object_set_new(o, "prices", json_array());
    json_object_set_new(o, "prices_in_site_currency", json_array());
    json_object_set_new(o, "variant_field_values", json_array());
    for (int i = 0; p && i < p->n_options; i++) {
        json_t *ov = sim_vec_get(&db->option_values, v->opt_values[i]);
        if (ov)
            json_array_append_new(
                ovs, json_pack("{s:O,s:O,s:O,s:O}", "id",
                               json_object_get(ov, "id"), "option_name_id",
                               json_object_get(ov, "option_name_id"), "title",
                               json_object_get(ov, "title"), "position",
                               json_object_get(ov, "position")));
    }
    json_object_set_new(o, "option_values", ovs);
    return o;
}

json_t *sim_image_json(struct sim_db *db, const struct sim_image *im,
                       int64_t now_ms)
{
    json_t *o = json_object();
    int processing = now_ms < im->ready_at;
    char url[512];

    (void)db;
    snprintf(url, sizeof(url), "/r/images/products/%lld/original/%s",
             (long long)im->id, im->filename ? im->filename : "image.jpg");
    json_object_set_new(o, "id", json_integer(im->id));
    json_object_set_new(o, "product_id", json_integer(im->product_id));
    json_object_set_new(o, "position", json_integer(im->position));
    json_object_set_new(o, "created_at", sim_time_json(im->created_at));
    json_object_set_new(o, "image_processing", json_boolean(processing));
    json_object_set_new(o, "external_id", json_null());
    json_object_set_new(o, "title", sim_str_or_null(im->title));
    json_object_set_new(o, "filename", sim_str_or_null(im->filename));
    json_object_set_new(o, "url",
                        json_string(processing ? "/images/loading.gif" : url));
    json_object_set_new(o, "original_url",
                        json_string(processing ? "/images/loading.gif" : url));
    return o;
}

static int sim_image_cmp(const void *a, const void *b)
{
    const struct sim_image *x = *(const struct sim_image *const *)a;
    const struct sim_image *y = *(const struct sim_image *const *)b;

    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return x->id < y->id ? -1 : (x->id > y->id);
}

json_t *sim_product_json(struct sim_db *db, const struct sim_product *p,
                         int64_t now_ms)
{
    json_t *o = json_object(), *arr;
    struct sim_image **sorted = NULL;
    size_t ni = 0;

    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "category_id", json_integer(p->category_id));
    json_object_set_new(o, "created_at", sim_time_json(p->created_at));
    json_object_set_new(o, "updated_at", sim_time_json(p->t.updated_at));
    json_object_set_new(o, "is_hidden", json_boolean(p->is_hidden));
    json_object_set_new(o, "available", json_boolean(!p->is_hidden));
    json_object_set_new(o, "archived", json_boolean(p->archived));
    json_object_set_new(o, "canonical_url_collection_id", json_null());
    json_object_set_new(o, "custom_template", json_null());
    json_object_set_new(o, "unit", json_string("pce"));
    json_object_set_new(o, "sort_weight", json_null());
    json_object_set_new(o, "ignore_discounts", json_false());
    json_object_set_new(o, "vat", json_integer(-1));
    json_object_set_new(o, "dimensions", json_null());
    json_object_set_new(o, "fiscal_product_type", json_integer(1));
    json_object_set_new(o, "title", sim_str_or_null(p->title));
    json_object_set_new(o, "short_description",
                        sim_str_or_null(p->short_description));
    json_object_set_new(o, "permalink", sim_str_or_null(p->permalink));
    json_object_set_new(o, "html_title", json_null());
    json_object_set_new(o, "meta_keywords", json_null());
    json_object_set_new(o, "meta_description", json_null());
    json_object_set_new(o, "currency_code", json_string("RUR"));
    /* Linking to a child collection also lists its ancestors. */
    arr = json_array();
    for (size_t i = 0; i < p->collections.n; i++) {
        int64_t cid = p->collections.v[i];
        for (int depth = 0; cid && depth < 32; depth++) {
            json_t *c = sim_vec_get(&db->collections, cid);
            size_t k;
            json_t *x;
            int dup = 0;
            /* The root "Каталог" is listed only when linked directly. */
            if (!c || (depth > 0 && cid == db->root_collection))
                break;
            json_array_foreach(arr, k, x) dup |= json_integer_value(x) == cid;
            if (!dup)
                json_array_append_new(arr, json_integer(cid));
            cid = json_integer_value(json_object_get(c, "parent_id"));
        }
    }
    json_object_set_new(o, "collections_ids", arr);
    json_object_set_new(o, "sales_channels_id", json_array());
    json_object_set_new(o, "description", sim_str_or_null(p->description));
    if (p->images.n > 0)
        sorted = malloc(p->images.n * sizeof(*sorted));
    for (size_t i = 0; sorted && i < p->images.n; i++) {
        struct sim_image *im = sim_db_image(db, p->images.v[i]);
        if (im)
            sorted[ni++] = im;
    }
    if (ni > 1)
        qsort(sorted, ni, sizeof(sorted[0]), sim_image_cmp);
    arr = json_array();
    for (size_t i = 0; i < ni; i++)
        json_array_append_new(arr, sim_image_json(db, sorted[i], now_ms));
    free(sorted);
    json_object_set_new(o, "images", arr);
    json_object_set_new(o, "video_links", json_array());
    arr = json_array();
    for (int i = 0; i < p->n_options; i++) {
        json_t *on = sim_vec_get(&db->option_names, p->options[i]);
        if (on)
            json_array_append_new(
                arr,
                json_pack("{s:O,s:o,s:O,s:O}", "id", json_object_get(on, "id"),
                          "position", json_integer(i + 1), "title",
                          json_object_get(on, "title"), "permalink",
                          json_object_get(on, "permalink")));
    }
    json_object_set_new(o, "option_names", arr);
    json_object_set_new(o, "properties", json_array());
    json_object_set_new(o, "characteristics", json_array());
    json_object_set_new(o, "product_field_values", json_array());
    arr = json_array();
    for (size_t i = 0; i < p->variants.n; i++) {
        struct sim_variant *v = sim_db_variant(db, p->variants.v[i]);
        if (v)
            json_array_append_new(arr, sim_variant_json(db, v));
    }
    json_object_set_new(o, "variants", arr);
    json_object_set_new(o, "product_bundle_components", json_array());
    return o;
}

json_t *sim_order_json(struct sim_db *db, const struct sim_order *o)
{
    json_t *j = json_object(), *lines = json_array();
    char fst[64];

    (void)db;
    json_object_set_new(j, "id", json_integer(o->id));
    json_object_set_new(j, "key", json_string(o->key));
    json_object_set_new(j, "number", json_integer(o->number));
    json_object_set_new(j, "created_at", sim_time_json(o->created_at));
    json_object_set_new(j, "updated_at", sim_time_json(o->t.updated_at));
    json_object_set_new(j, "accepted_at",
                        o->accepted_at ? sim_time_json(o->accepted_at)
                                       : json_null());
    json_object_set_new(j, "delivered_at",
                        o->delivered_at ? sim_time_json(o->delivered_at)
                                        : json_null());
    json_object_set_new(j, "paid_at",
                        o->paid_at ? sim_time_json(o->paid_at) : json_null());
    json_object_set_new(j, "total_price", sim_money_json(o->total_price));
    json_object_set_new(j, "items_price", sim_money_json(o->items_price));
    json_object_set_new(j, "comment", sim_str_or_null(o->comment));
    json_object_set_new(j, "manager_comment",
                        sim_str_or_null(o->manager_comment));
    json_object_set_new(j, "delivery_title",
                        sim_str_or_null(o->delivery_title));
    json_object_set_new(j, "delivery_description", json_null());
    json_object_set_new(j, "delivery_price", sim_money_json(o->delivery_price));
    json_object_set_new(j, "full_delivery_price",
                        sim_money_json(o->delivery_price));
    json_object_set_new(j, "delivery_variant_id", json_null());
    json_object_set_new(j, "payment_title", json_null());
    json_object_set_new(j, "payment_gateway_id", json_null());
    json_object_set_new(j, "fulfillment_status", json_string(o->fulfillment));
    if (o->custom_status) {
        json_object_set_new(j, "custom_status",
                            json_pack("{s:s,s:s}", "title", o->custom_status,
                                      "permalink", o->custom_status));
    } else {
        snprintf(fst, sizeof(fst), "%s", o->fulfillment);
        json_object_set_new(j, "custom_status",
                            json_pack("{s:s,s:s,s:s}", "title", fst,
                                      "permalink", fst, "system_status", fst));
    }
    json_object_set_new(j, "financial_status", json_string(o->financial));
    json_object_set_new(j, "currency_code", json_string("RUR"));
    json_object_set_new(j, "warehouse_id", json_null());
    for (size_t i = 0; i < o->n_lines; i++) {
        const struct sim_order_line *l = &o->lines[i];
        json_t *lj = json_object();
        json_object_set_new(lj, "id", json_integer(l->id));
        json_object_set_new(lj, "order_id", json_integer(o->id));
        json_object_set_new(lj, "title", sim_str_or_null(l->title));
        json_object_set_new(lj, "sku", sim_str_or_null(l->sku));
        json_object_set_new(lj, "barcode", json_null());
        json_object_set_new(lj, "quantity", json_integer(l->quantity));
        json_object_set_new(lj, "reserved_quantity", json_integer(l->quantity));
        json_object_set_new(lj, "sale_price", sim_money_json(l->sale_price));
        json_object_set_new(lj, "full_sale_price",
                            sim_money_json(l->sale_price));
        json_object_set_new(lj, "total_price", sim_money_json(l->total_price));
        json_object_set_new(lj, "full_total_price",
                            sim_money_json(l->total_price));
        json_object_set_new(lj, "discounts_amount", sim_money_json(0));
        json_object_set_new(lj, "variant_id", json_integer(l->variant_id));
        json_object_set_new(lj, "product_id", json_integer(l->product_id));
        json_object_set_new(lj, "unit", json_string("pce"));
        json_object_set_new(lj, "vat", json_integer(-1));
        json_object_set_new(lj, "created_at", sim_time_json(o->created_at));
        json_object_set_new(lj, "updated_at", sim_time_json(o->created_at));
        json_array_append_new(lines, lj);
    }
    json_object_set_new(j, "order_lines", lines);
    json_object_set_new(j, "order_changes", json_array());
    json_object_set_new(j, "fields_values", json_array());
    json_object_set_new(j, "discounts", json_array());
    json_object_set_new(j, "client",
                        o->client ? json_incref(o->client) : json_null());
    json_object_set_new(j, "shipping_address",
                        o->shipping_address ? json_incref(o->shipping_address)
                                            : json_null());
    return j;
}

void sim_db_fire(struct sim_db *db, const char *topic, json_t *payload)
{
    char *body = NULL;

    if (!db->hooks)
        return;
    for (size_t i = 0; i < db->webhooks.n; i++) {
        json_t *w = db->webhooks.items[i];
        const char *addr;
        double r1, r2, drop, dup;
        if (!w ||
            strcmp(json_string_value(json_object_get(w, "topic")), topic) != 0)
            continue;
        addr = json_string_value(json_object_get(w, "address"));
        if (!body)
            body = json_dumps(payload, JSON_COMPACT);
        if (!body || !addr)
            break;
        pthread_mutex_lock(&db->smu);
        drop = db->faults.webhook_drop_rate;
        dup = db->faults.webhook_dup_rate;
        r1 = sim_db_rand(db);
        r2 = sim_db_rand(db);
        pthread_mutex_unlock(&db->smu);
        if (drop > 0 && r1 < drop) {
            log_debug("webhook %s to %s dropped by fault", topic, addr);
            sim_hooks_count_drop(db->hooks);
            continue;
        }
        sim_hooks_push(db->hooks, addr, body);
        if (dup > 0 && r2 < dup)
            sim_hooks_push(db->hooks, addr, body);
    }
    free(body);
}

struct sim_touch *sim_tlist_from(const struct sim_tlist *l, int64_t since)
{
    struct sim_touch *t = l->tail, *first = NULL;

    while (t && t->updated_at >= since) {
        first = t;
        t = t->prev;
    }
    return first;
}
