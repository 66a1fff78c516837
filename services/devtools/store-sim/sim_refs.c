#include "sim_refs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_db.h"
#include "sim_fmt.h"
#include "sim_http.h"
#include "sim_products.h"
#include "sim_webhook.h"

#define SIM_MSG_BLANK "не может быть пустым"

static const char *const sim_topics[] = {
    "orders/create",   "orders/update", "orders/destroy", "products/create",
    "products/update", "client/create", "client/update",  NULL};

static json_t *sim_list_all(const struct sim_vec *v)
{
    json_t *out = json_array();

    for (size_t i = 0; i < v->n; i++)
        if (v->items[i])
            json_array_append(out, v->items[i]);
    return out;
}

static json_t *sim_unwrap(struct sim_req *rq, const char *root)
{
    json_t *in = rq->body ? json_object_get(rq->body, root) : NULL;

    return json_is_object(in) ? in : NULL;
}

static int64_t sim_jid(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* Store a new object; returns its id or -1 (object freed). */
static int64_t sim_store(struct sim_vec *v, json_t *o)
{
    int64_t id = sim_vec_add(v, o);

    if (id < 0) {
        json_decref(o);
        return -1;
    }
    json_object_set_new(o, "id", json_integer(id));
    return id;
}

/* ---- categories and collections (trees) ---------------------------- */

static int sim_tree_is_descendant(struct sim_vec *v, int64_t id, int64_t of)
{
    for (int depth = 0; id && depth < 64; depth++) {
        json_t *o = sim_vec_get(v, id);
        if (id == of)
            return 1;
        if (!o)
            return 0;
        id = sim_jid(o, "parent_id");
    }
    return 0;
}

/* A category or collection tree: its objects, the body's root key, the
 * root's id, and whether it is the collections' (permalink, is_hidden). */
struct sim_tree {
    struct sim_vec *v;
    const char *root;
    int64_t root_id;
    int collections;
};

/* POST: a new node under parent_id (default the root). */
static void sim_tree_create(struct sim_db *db, struct sim_req *rq,
                            struct sim_resp *rs, const struct sim_tree *t)
{
    json_t *in = sim_unwrap(rq, t->root), *o, *val;
    const char *title =
        in ? json_string_value(json_object_get(in, "title")) : NULL;
    int64_t parent = t->root_id, ts;
    char perm[512];

    if (!title || !*title) {
        sim_resp_invalid(rs, "title", SIM_MSG_BLANK);
        return;
    }
    val = json_object_get(in, "parent_id");
    if (json_is_integer(val))
        parent = json_integer_value(val);
    if (!sim_vec_get(t->v, parent)) {
        sim_resp_invalid(rs, "parent_id", "Родительская категория не найдена");
        return;
    }
    ts = sim_db_clock(db);
    val = json_object_get(in, "position");
    o = json_pack(
        "{s:I,s:s,s:I,s:o,s:o}", "parent_id", (json_int_t)parent, "title",
        title, "position",
        (json_int_t)(json_is_integer(val) ? json_integer_value(val)
                                          : (json_int_t)t->v->live + 1),
        "created_at", sim_time_json(ts), "updated_at", sim_time_json(ts));
    if (t->collections) {
        val = json_object_get(in, "permalink");
        sim_permalink(title, perm, sizeof(perm));
        json_object_set_new(
            o, "permalink",
            json_string(json_is_string(val) ? json_string_value(val) : perm));
        json_object_set_new(
            o, "is_hidden",
            json_boolean(json_is_true(json_object_get(in, "is_hidden"))));
    } else {
        json_object_set_new(o, "external_id", json_null());
    }
    if (sim_store(t->v, o) < 0) {
        sim_resp_json(rs, 500, json_pack("{s:s}", "message", "no memory"));
        return;
    }
    sim_resp_json(rs, 201, json_incref(o));
}

/* PUT: title, position and a parent that is not the node's descendant. */
static void sim_tree_update(struct sim_db *db, struct sim_req *rq,
                            struct sim_resp *rs, const struct sim_tree *t,
                            json_t *o)
{
    static const char *const keys[] = {"title", "parent_id", "position",
                                       "permalink", "is_hidden"};
    json_t *in = sim_unwrap(rq, t->root), *val;
    int64_t id = sim_jid(o, "id");

    if (!in) {
        sim_resp_invalid(rs, t->root, SIM_MSG_BLANK);
        return;
    }
    val = json_object_get(in, "parent_id");
    if (json_is_integer(val) &&
        (id == t->root_id || !sim_vec_get(t->v, json_integer_value(val)) ||
         sim_tree_is_descendant(t->v, json_integer_value(val), id))) {
        sim_resp_invalid(rs, "parent_id",
                         "Недопустимая родительская категория");
        return;
    }
    val = json_object_get(in, "title");
    if (val && (!json_is_string(val) || json_string_length(val) == 0)) {
        sim_resp_invalid(rs, "title", SIM_MSG_BLANK);
        return;
    }
    for (size_t i = 0; i < 5; i++) {
        val = json_object_get(in, keys[i]);
        if (val && (t->collections || i < 3))
            json_object_set(o, keys[i], val);
    }
    json_object_set_new(o, "updated_at", sim_time_json(sim_db_clock(db)));
    sim_resp_json(rs, 200, json_incref(o));
}

/* DELETE: not the root nor a node with children; a category only when no
 * product is in it, a collection along with its collects. */
static void sim_tree_delete(struct sim_db *db, struct sim_resp *rs,
                            const struct sim_tree *t, json_t *o)
{
    int64_t id = sim_jid(o, "id"), ts;

    if (id == t->root_id) {
        sim_resp_invalid(rs, "base", "Нельзя удалить корневую категорию");
        return;
    }
    for (size_t i = 0; i < t->v->n; i++)
        if (t->v->items[i] && sim_jid(t->v->items[i], "parent_id") == id) {
            sim_resp_invalid(rs, "base",
                             "Нельзя удалить категорию с подкатегориями");
            return;
        }
    ts = sim_db_clock(db);
    for (size_t i = 0; i < db->products.n; i++) {
        struct sim_product *p = db->products.items[i];
        if (!p)
            continue;
        if (!t->collections && p->category_id == id) {
            sim_resp_invalid(rs, "base", "Нельзя удалить категорию с товарами");
            return;
        }
        if (t->collections && sim_ids_has(&p->collections, id)) {
            sim_ids_del(&p->collections, id);
            sim_product_touch(db, p, ts);
        }
    }
    if (t->collections) {
        for (size_t i = 0; i < db->collects.n; i++) {
            json_t *c = db->collects.items[i];
            if (c && sim_jid(c, "collection_id") == id) {
                sim_vec_del(&db->collects, sim_jid(c, "id"));
                json_decref(c);
            }
        }
    }
    sim_vec_del(t->v, id);
    json_decref(o);
    sim_resp_ok(rs);
}

static void sim_tree_route(struct sim_db *db, struct sim_req *rq,
                           struct sim_resp *rs, const struct sim_tree *t)
{
    const char *m = rq->method;
    json_t *o;

    if (rq->nseg == 1 && strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, sim_list_all(t->v));
        return;
    }
    if (rq->nseg == 1 && strcmp(m, "POST") == 0) {
        sim_tree_create(db, rq, rs, t);
        return;
    }
    o = rq->nseg == 2 ? sim_vec_get(t->v, sim_seg_id(rq->segs[1])) : NULL;
    if (!o)
        sim_resp_not_found(rs);
    else if (strcmp(m, "GET") == 0)
        sim_resp_json(rs, 200, json_incref(o));
    else if (strcmp(m, "PUT") == 0)
        sim_tree_update(db, rq, rs, t, o);
    else if (strcmp(m, "DELETE") == 0)
        sim_tree_delete(db, rs, t, o);
    else
        sim_resp_not_found(rs);
}

/* ---- collects ------------------------------------------------------------ */

/* GET collects: filtered by product_id and collection_id. */
static void sim_collects_list(struct sim_db *db, struct sim_req *rq,
                              struct sim_resp *rs)
{
    const char *sp = sim_req_arg(rq, "product_id");
    const char *sc = sim_req_arg(rq, "collection_id");
    json_t *out = json_array(), *o;
    int64_t pid = sp ? sim_seg_id(sp) : 0, cid = sc ? sim_seg_id(sc) : 0;

    for (size_t i = 0; i < db->collects.n; i++) {
        o = db->collects.items[i];
        if (o && (!sp || sim_jid(o, "product_id") == pid) &&
            (!sc || sim_jid(o, "collection_id") == cid))
            json_array_append(out, o);
    }
    sim_resp_json(rs, 200, out);
}

/* POST collects: put a product in a collection (once). */
static void sim_collect_create(struct sim_db *db, struct sim_req *rq,
                               struct sim_resp *rs)
{
    json_t *in = sim_unwrap(rq, "collect"), *o, *val;
    int64_t pid = json_integer_value(json_object_get(in, "product_id"));
    int64_t cid = json_integer_value(json_object_get(in, "collection_id"));
    struct sim_product *p = sim_db_product(db, pid);
    int64_t ts;

    if (!p) {
        sim_resp_invalid(rs, "product_id", "Товар не найден");
        return;
    }
    if (!sim_vec_get(&db->collections, cid)) {
        sim_resp_invalid(rs, "collection_id", "Категория не найдена");
        return;
    }
    if (sim_ids_has(&p->collections, cid)) {
        sim_resp_invalid(rs, "product_id",
                         "Товар уже находится в этой категории");
        return;
    }
    ts = sim_db_clock(db);
    val = json_object_get(in, "position");
    o = json_pack(
        "{s:I,s:I,s:I,s:o,s:o}", "product_id", (json_int_t)pid, "collection_id",
        (json_int_t)cid, "position",
        (json_int_t)(json_is_integer(val) ? json_integer_value(val) : 1),
        "created_at", sim_time_json(ts), "updated_at", sim_time_json(ts));
    if (sim_store(&db->collects, o) < 0 ||
        sim_ids_add(&p->collections, cid) != 0) {
        sim_resp_json(rs, 500, json_pack("{s:s}", "message", "no memory"));
        return;
    }
    sim_product_touch(db, p, ts);
    sim_resp_json(rs, 201, json_incref(o));
}

static void sim_collects_route(struct sim_db *db, struct sim_req *rq,
                               struct sim_resp *rs)
{
    const char *m = rq->method;
    json_t *in, *o, *val;
    struct sim_product *p;

    if (rq->nseg == 1 && strcmp(m, "GET") == 0) {
        sim_collects_list(db, rq, rs);
        return;
    }
    if (rq->nseg == 1 && strcmp(m, "POST") == 0) {
        sim_collect_create(db, rq, rs);
        return;
    }
    o = rq->nseg == 2 ? sim_vec_get(&db->collects, sim_seg_id(rq->segs[1]))
                      : NULL;
    if (!o) {
        sim_resp_not_found(rs);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "PUT") == 0) {
        in = sim_unwrap(rq, "collect");
        val = json_object_get(in, "position");
        if (json_is_integer(val))
            json_object_set(o, "position", val);
        json_object_set_new(o, "updated_at", sim_time_json(sim_db_clock(db)));
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "DELETE") == 0) {
        p = sim_db_product(db, sim_jid(o, "product_id"));
        if (p) {
            sim_ids_del(&p->collections, sim_jid(o, "collection_id"));
            sim_product_touch(db, p, sim_db_clock(db));
        }
        sim_vec_del(&db->collects, sim_jid(o, "id"));
        json_decref(o);
        sim_resp_ok(rs);
    } else {
        sim_resp_not_found(rs);
    }
}

/* ---- option names and values ------------------------------------------ */

/* GET option_names/ID/option_values. */
static void sim_option_values_list(struct sim_db *db, struct sim_resp *rs,
                                   int64_t name_id)
{
    json_t *out = json_array(), *o;

    for (size_t i = 0; i < db->option_values.n; i++) {
        o = db->option_values.items[i];
        if (o && sim_jid(o, "option_name_id") == name_id)
            json_array_append(out, o);
    }
    sim_resp_json(rs, 200, out);
}

/* POST option_names/ID/option_values: a title new to the option. */
static void sim_option_value_create(struct sim_db *db, struct sim_req *rq,
                                    struct sim_resp *rs, int64_t name_id)
{
    json_t *in = sim_unwrap(rq, "option_value"), *o, *val;
    const char *title = json_string_value(json_object_get(in, "title"));
    int64_t ts;
    char perm[512];

    if (!title || !*title) {
        sim_resp_invalid(rs, "title", SIM_MSG_BLANK);
        return;
    }
    for (size_t i = 0; i < db->option_values.n; i++) {
        o = db->option_values.items[i];
        if (o && sim_jid(o, "option_name_id") == name_id &&
            strcmp(json_string_value(json_object_get(o, "title")), title) ==
                0) {
            sim_resp_invalid(rs, "title", "уже существует");
            return;
        }
    }
    ts = sim_db_clock(db);
    val = json_object_get(in, "position");
    sim_permalink(title, perm, sizeof(perm));
    o = json_pack(
        "{s:I,s:I,s:s,s:s,s:o,s:o}", "option_name_id", (json_int_t)name_id,
        "position",
        (json_int_t)(json_is_integer(val) ? json_integer_value(val) : 1),
        "title", title, "permalink", perm, "created_at", sim_time_json(ts),
        "updated_at", sim_time_json(ts));
    if (sim_store(&db->option_values, o) < 0) {
        sim_resp_json(rs, 500, json_pack("{s:s}", "message", "no memory"));
        return;
    }
    sim_resp_json(rs, 201, json_incref(o));
}

/* DELETE option_names/ID/option_values/VID: not while a variant has it. */
static void sim_option_value_delete(struct sim_db *db, struct sim_resp *rs,
                                    json_t *o)
{
    int64_t id = sim_jid(o, "id");

    for (size_t i = 0; i < db->variants.n; i++) {
        struct sim_variant *v = db->variants.items[i];
        for (int k = 0; v && k < SIM_MAX_OPTIONS; k++)
            if (v->opt_values[k] == id) {
                sim_resp_invalid(rs, "base",
                                 "Значение используется в вариантах");
                return;
            }
    }
    sim_vec_del(&db->option_values, id);
    json_decref(o);
    sim_resp_ok(rs);
}

static void sim_option_values_route(struct sim_db *db, struct sim_req *rq,
                                    struct sim_resp *rs, int64_t name_id)
{
    const char *m = rq->method;
    json_t *in, *o, *val;

    if (rq->nseg == 3 && strcmp(m, "GET") == 0) {
        sim_option_values_list(db, rs, name_id);
        return;
    }
    if (rq->nseg == 3 && strcmp(m, "POST") == 0) {
        sim_option_value_create(db, rq, rs, name_id);
        return;
    }
    o = rq->nseg == 4 ? sim_vec_get(&db->option_values, sim_seg_id(rq->segs[3]))
                      : NULL;
    if (!o || sim_jid(o, "option_name_id") != name_id) {
        sim_resp_not_found(rs);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "PUT") == 0) {
        in = sim_unwrap(rq, "option_value");
        val = json_object_get(in, "title");
        if (json_is_string(val) && json_string_length(val) > 0)
            json_object_set(o, "title", val);
        val = json_object_get(in, "position");
        if (json_is_integer(val))
            json_object_set(o, "position", val);
        json_object_set_new(o, "updated_at", sim_time_json(sim_db_clock(db)));
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "DELETE") == 0) {
        sim_option_value_delete(db, rs, o);
    } else {
        sim_resp_not_found(rs);
    }
}

static void sim_option_names_route(struct sim_db *db, struct sim_req *rq,
                                   struct sim_resp *rs)
{
    const char *m = rq->method;
    json_t *in, *o, *val;
    int64_t id;

    if (rq->nseg == 1 && strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, sim_list_all(&db->option_names));
        return;
    }
    if (rq->nseg == 1 && strcmp(m, "POST") == 0) {
        const char *title;
        in = sim_unwrap(rq, "option_name");
        title = json_string_value(json_object_get(in, "title"));
        if (!title || !*title) {
            sim_resp_invalid(rs, "title", SIM_MSG_BLANK);
            return;
        }
        id = sim_option_name_intern(db, title, sim_db_clock(db));
        o = sim_vec_get(&db->option_names, id);
        if (!o) {
            sim_resp_json(rs, 500, json_pack("{s:s}", "message", "no memory"));
            return;
        }
        sim_resp_json(rs, 201, json_incref(o));
        return;
    }
    o = rq->nseg >= 2 ? sim_vec_get(&db->option_names, sim_seg_id(rq->segs[1]))
                      : NULL;
    if (!o) {
        sim_resp_not_found(rs);
        return;
    }
    id = sim_jid(o, "id");
    if (rq->nseg >= 3 && strcmp(rq->segs[2], "option_values") == 0) {
        sim_option_values_route(db, rq, rs, id);
        return;
    }
    if (rq->nseg != 2) {
        sim_resp_not_found(rs);
    } else if (strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "PUT") == 0) {
        in = sim_unwrap(rq, "option_name");
        val = json_object_get(in, "title");
        if (json_is_string(val) && json_string_length(val) > 0)
            json_object_set(o, "title", val);
        val = json_object_get(in, "position");
        if (json_is_integer(val))
            json_object_set(o, "position", val);
        json_object_set_new(o, "updated_at", sim_time_json(sim_db_clock(db)));
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "DELETE") == 0) {
        for (size_t i = 0; i < db->products.n; i++) {
            struct sim_product *p = db->products.items[i];
            for (int k = 0; p && k < p->n_options; k++)
                if (p->options[k] == id) {
                    sim_resp_invalid(rs, "base",
                                     "Свойство используется в товарах");
                    return;
                }
        }
        sim_vec_del(&db->option_names, id);
        json_decref(o);
        sim_resp_ok(rs);
    } else {
        sim_resp_not_found(rs);
    }
}

/* ---- webhooks --------------------------------------------------------------
 */

static int sim_webhook_validate(struct sim_db *db, json_t *in, int64_t self,
                                const char **addr, const char **topic,
                                struct sim_resp *rs)
{
    const char *fmt = json_string_value(json_object_get(in, "format_type"));

    if (!*addr || !**addr) {
        sim_resp_invalid(rs, "address", SIM_MSG_BLANK);
        return -1;
    }
    if (!sim_url_is_loopback(*addr)) {
        sim_resp_invalid(rs, "address",
                         "store-sim delivers only to http://127.0.0.1, "
                         "localhost or [::1]");
        return -1;
    }
    if (!*topic) {
        sim_resp_invalid(rs, "topic", SIM_MSG_BLANK);
        return -1;
    }
    {
        int ok = 0;
        for (int i = 0; sim_topics[i]; i++)
            ok |= strcmp(*topic, sim_topics[i]) == 0;
        if (!ok) {
            sim_resp_invalid(rs, "topic", "имеет непредусмотренное значение");
            return -1;
        }
    }
    if (fmt && strcmp(fmt, "json") != 0) {
        sim_resp_invalid(rs, "format_type", "store-sim supports only json");
        return -1;
    }
    for (size_t i = 0; i < db->webhooks.n; i++) {
        json_t *w = db->webhooks.items[i];
        if (w && sim_jid(w, "id") != self &&
            strcmp(json_string_value(json_object_get(w, "address")), *addr) ==
                0 &&
            strcmp(json_string_value(json_object_get(w, "topic")), *topic) ==
                0) {
            sim_resp_invalid(rs, "address", "уже существует");
            return -1;
        }
    }
    return 0;
}

static void sim_webhooks_route(struct sim_db *db, struct sim_req *rq,
                               struct sim_resp *rs)
{
    const char *m = rq->method, *addr, *topic;
    json_t *in, *o;
    int64_t ts;

    if (rq->nseg == 1 && strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, sim_list_all(&db->webhooks));
        return;
    }
    if (rq->nseg == 1 && strcmp(m, "POST") == 0) {
        in = sim_unwrap(rq, "webhook");
        addr = json_string_value(json_object_get(in, "address"));
        topic = json_string_value(json_object_get(in, "topic"));
        if (sim_webhook_validate(db, in, 0, &addr, &topic, rs) != 0)
            return;
        ts = sim_db_clock(db);
        o = json_pack("{s:s,s:s,s:s,s:O,s:O,s:I,s:o,s:o}", "address", addr,
                      "topic", topic, "format_type", "json", "warehouse_id",
                      json_null(), "sales_channel_id", json_null(),
                      "batch_size", (json_int_t)10, "created_at",
                      sim_time_json(ts), "updated_at", sim_time_json(ts));
        if (json_is_integer(json_object_get(in, "batch_size")))
            json_object_set(o, "batch_size", json_object_get(in, "batch_size"));
        if (sim_store(&db->webhooks, o) < 0) {
            sim_resp_json(rs, 500, json_pack("{s:s}", "message", "no memory"));
            return;
        }
        sim_resp_json(rs, 201, json_incref(o));
        return;
    }
    o = rq->nseg == 2 ? sim_vec_get(&db->webhooks, sim_seg_id(rq->segs[1]))
                      : NULL;
    if (!o) {
        sim_resp_not_found(rs);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "PUT") == 0) {
        in = sim_unwrap(rq, "webhook");
        if (!in) {
            sim_resp_invalid(rs, "webhook", SIM_MSG_BLANK);
            return;
        }
        addr = json_string_value(json_object_get(in, "address"));
        topic = json_string_value(json_object_get(in, "topic"));
        if (!addr)
            addr = json_string_value(json_object_get(o, "address"));
        if (!topic)
            topic = json_string_value(json_object_get(o, "topic"));
        if (sim_webhook_validate(db, in, sim_jid(o, "id"), &addr, &topic, rs) !=
            0)
            return;
        json_object_set_new(o, "address", json_string(addr));
        json_object_set_new(o, "topic", json_string(topic));
        json_object_set_new(o, "updated_at", sim_time_json(sim_db_clock(db)));
        sim_resp_json(rs, 200, json_incref(o));
    } else if (strcmp(m, "DELETE") == 0) {
        sim_vec_del(&db->webhooks, sim_jid(o, "id"));
        json_decref(o);
        sim_resp_ok(rs);
    } else {
        sim_resp_not_found(rs);
    }
}

/* ---- account, warehouses ------------------------------------------------ */

static json_t *sim_account_json(struct sim_db *db)
{
    char url[96];

    snprintf(url, sizeof(url), "127.0.0.1:%d", db->opts.port);
    return json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "id", 1,
                     "subdomain", "store-sim", "title", "store-sim", "domain",
                     url, "currency_code", "RUR", "time_zone", "Moscow",
                     "locale", "ru", "hide_items_out_of_stock", 0,
                     "forbid_order_over_existing", 1);
}

int sim_refs_route(struct sim_db *db, struct sim_req *rq, struct sim_resp *rs)
{
    const char *s0 = rq->nseg ? rq->segs[0] : "";

    if (strcmp(s0, "account") == 0 && rq->nseg == 1) {
        if (strcmp(rq->method, "GET") == 0)
            sim_resp_json(rs, 200, sim_account_json(db));
        else
            sim_resp_not_found(rs);
        return 1;
    }
    if (strcmp(s0, "categories") == 0) {
        struct sim_tree t = {&db->categories, "category", db->root_category, 0};
        sim_tree_route(db, rq, rs, &t);
        return 1;
    }
    if (strcmp(s0, "collections") == 0) {
        struct sim_tree t = {&db->collections, "collection",
                             db->root_collection, 1};
        sim_tree_route(db, rq, rs, &t);
        return 1;
    }
    if (strcmp(s0, "collects") == 0) {
        sim_collects_route(db, rq, rs);
        return 1;
    }
    if (strcmp(s0, "option_names") == 0) {
        sim_option_names_route(db, rq, rs);
        return 1;
    }
    if (strcmp(s0, "webhooks") == 0) {
        sim_webhooks_route(db, rq, rs);
        return 1;
    }
    if (strcmp(s0, "warehouses") == 0) {
        json_t *o;
        if (strcmp(rq->method, "GET") != 0) {
            sim_resp_not_found(rs);
        } else if (rq->nseg == 1) {
            sim_resp_json(rs, 200, sim_list_all(&db->warehouses));
        } else if (rq->nseg == 2) {
            o = sim_vec_get(&db->warehouses, sim_seg_id(rq->segs[1]));
            if (o)
                sim_resp_json(rs, 200, json_incref(o));
            else
                sim_resp_not_found(rs);
        } else {
            sim_resp_not_found(rs);
        }
        return 1;
    }
    return 0;
}
