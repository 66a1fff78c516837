#include "sim_ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_db.h"
#include "sim_fmt.h"
#include "sim_http.h"
#include "sim_limit.h"
#include "sim_orders.h"
#include "sim_products.h"
#include "sim_webhook.h"

static json_t *sim_ctl_state(struct sim_db *db, int skus)
{
    json_t *st, *counts = json_object();
    char key[8];
    struct sim_hooks_stats hs;

    memset(&hs, 0, sizeof(hs));
    pthread_mutex_lock(&db->mu);
    st = json_pack(
        "{s:I,s:I,s:I,s:I}", "products", (json_int_t)db->products.live,
        "variants", (json_int_t)db->variants.live, "images",
        (json_int_t)db->images.live, "orders", (json_int_t)db->orders.live);
    if (skus) {
        json_t *by = json_object();
        for (size_t i = 0; i < db->variants.n; i++) {
            struct sim_variant *v = db->variants.items[i];
            struct sim_product *p;
            if (!v || !v->sku)
                continue;
            p = sim_db_product(db, v->product_id);
            json_object_set_new(
                by, v->sku,
                json_pack("{s:o,s:o,s:o,s:b,s:I}", "quantity",
                          v->has_quantity ? json_integer(v->quantity)
                                          : json_null(),
                          "price", sim_money_json(v->price), "old_price",
                          v->has_old_price ? sim_money_json(v->old_price)
                                           : json_null(),
                          "archived", p ? p->archived : 0, "images",
                          (json_int_t)(p ? p->images.n : 0)));
        }
        json_object_set_new(st, "variants_by_sku", by);
    }
    pthread_mutex_unlock(&db->mu);
    pthread_mutex_lock(&db->smu);
    json_object_set_new(st, "requests", json_integer(db->requests));
    json_object_set_new(st, "rejected", json_integer(db->rejected));
    for (int i = 0; i < SIM_STATUS_MAX; i++) {
        if (db->status_counts[i]) {
            snprintf(key, sizeof(key), "%d", i);
            json_object_set_new(counts, key,
                                json_integer(db->status_counts[i]));
        }
    }
    pthread_mutex_unlock(&db->smu);
    json_object_set_new(st, "status_counts", counts);
    if (db->hooks)
        sim_hooks_get_stats(db->hooks, &hs);
    json_object_set_new(
        st, "webhooks",
        json_pack("{s:I,s:I,s:I,s:I}", "queued", (json_int_t)hs.queued,
                  "delivered", (json_int_t)hs.delivered, "failed",
                  (json_int_t)hs.failed, "dropped", (json_int_t)hs.dropped));
    return st;
}

static json_t *sim_ctl_faults_json(const struct sim_faults *f)
{
    return json_pack(
        "{s:f,s:i,s:I,s:f,s:I,s:f,s:f,s:I,s:I,s:b}", "error_rate",
        f->error_rate, "error_status", f->error_status, "latency_ms",
        (json_int_t)f->latency_ms, "timeout_rate", f->timeout_rate,
        "timeout_ms", (json_int_t)f->timeout_ms, "webhook_drop_rate",
        f->webhook_drop_rate, "webhook_dup_rate", f->webhook_dup_rate, "seed",
        (json_int_t)f->seed, "retry_after_s", (json_int_t)f->retry_after_s,
        "retry_after_date", f->retry_after_date);
}

static int sim_ctl_rate(json_t *in, const char *key, double *out,
                        struct sim_resp *rs)
{
    json_t *v = json_object_get(in, key);

    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < 0 ||
        json_number_value(v) > 1) {
        sim_resp_json(
            rs, 422,
            json_pack("{s:s,s:s}", "error", "bad_fault", "field", key));
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

static int sim_ctl_long(json_t *in, const char *key, long lo, long hi,
                        long *out, struct sim_resp *rs)
{
    json_t *v = json_object_get(in, key);

    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi) {
        sim_resp_json(
            rs, 422,
            json_pack("{s:s,s:s}", "error", "bad_fault", "field", key));
        return -1;
    }
    *out = (long)json_integer_value(v);
    return 0;
}

static int sim_ctl_bool(json_t *in, const char *key, long *out,
                        struct sim_resp *rs)
{
    json_t *v = json_object_get(in, key);

    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        sim_resp_json(
            rs, 422,
            json_pack("{s:s,s:s}", "error", "bad_fault", "field", key));
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static void sim_ctl_faults(struct sim_db *db, struct sim_limiter *lim,
                           struct sim_req *rq, struct sim_resp *rs)
{
    struct sim_faults f;
    long status, seed, rdate;
    json_t *in = rq->body;

    (void)lim;
    pthread_mutex_lock(&db->smu);
    f = db->faults;
    pthread_mutex_unlock(&db->smu);
    if (strcmp(rq->method, "POST") == 0) {
        status = f.error_status;
        seed = (long)f.seed;
        rdate = f.retry_after_date;
        if (!json_is_object(in)) {
            sim_resp_json(rs, 422,
                          json_pack("{s:s}", "error", "body required"));
            return;
        }
        if (sim_ctl_rate(in, "error_rate", &f.error_rate, rs) ||
            sim_ctl_rate(in, "timeout_rate", &f.timeout_rate, rs) ||
            sim_ctl_rate(in, "webhook_drop_rate", &f.webhook_drop_rate, rs) ||
            sim_ctl_rate(in, "webhook_dup_rate", &f.webhook_dup_rate, rs) ||
            sim_ctl_long(in, "error_status", 400, 599, &status, rs) ||
            sim_ctl_long(in, "latency_ms", 0, 600000, &f.latency_ms, rs) ||
            sim_ctl_long(in, "timeout_ms", 0, 600000, &f.timeout_ms, rs) ||
            sim_ctl_long(in, "seed", 0, 0x7fffffffL, &seed, rs) ||
            sim_ctl_long(in, "retry_after_s", 0, 86400, &f.retry_after_s, rs) ||
            sim_ctl_bool(in, "retry_after_date", &rdate, rs))
            return;
        f.error_status = (int)status;
        f.retry_after_date = (int)rdate;
        pthread_mutex_lock(&db->smu);
        /* A given seed restarts the random sequence, so a test that sets
         * the same seed sees the same faults. */
        if (json_object_get(in, "seed"))
            db->rng = 0x9E3779B97F4A7C15ULL ^
                      ((uint64_t)seed * 0xBF58476D1CE4E5B9ULL);
        if (db->rng == 0)
            db->rng = 1;
        f.seed = (uint64_t)seed;
        db->faults = f;
        pthread_mutex_unlock(&db->smu);
    }
    sim_resp_json(rs, 200, sim_ctl_faults_json(&f));
}

static void sim_ctl_requests(struct sim_db *db, struct sim_limiter *lim,
                             struct sim_req *rq, struct sim_resp *rs)
{
    const char *s = sim_req_arg(rq, "since");
    int64_t since = s ? sim_seg_id(s) : 0, first;
    json_t *out = json_array();

    (void)lim;
    if (since < 0)
        since = 0;
    pthread_mutex_lock(&db->smu);
    first = db->seq - SIM_REQLOG_CAP + 1;
    if (first < since + 1)
        first = since + 1;
    for (int64_t q = first; q <= db->seq; q++) {
        const struct sim_reqlog *e = &db->log[q % SIM_REQLOG_CAP];
        if (e->seq != q)
            continue;
        json_array_append_new(
            out,
            json_pack("{s:I,s:s,s:s,s:s,s:i,s:o}", "seq", (json_int_t)e->seq,
                      "method", e->method, "path", e->path ? e->path : "",
                      "query", e->query ? e->query : "", "status", e->status,
                      "time", sim_time_json(e->time_ms)));
    }
    pthread_mutex_unlock(&db->smu);
    sim_resp_json(rs, 200, out);
}

/* POST /_sim/products: {"products":[{...}]}, [{...}] or one {...}. */
static void sim_ctl_products(struct sim_db *db, struct sim_limiter *lim,
                             struct sim_req *rq, struct sim_resp *rs)
{
    json_t *list = rq->body, *ids = json_array(), *one = NULL, *ent;
    size_t i;
    int64_t ts;

    (void)lim;
    if (json_is_object(list) &&
        json_is_array(json_object_get(list, "products")))
        list = json_object_get(list, "products");
    else if (json_is_object(list) &&
             json_is_object(json_object_get(list, "product")))
        list = one = json_pack("[O]", json_object_get(list, "product"));
    else if (json_is_object(list))
        list = one = json_pack("[O]", list);
    if (!json_is_array(list)) {
        json_decref(ids);
        sim_resp_json(rs, 422,
                      json_pack("{s:s}", "error", "products required"));
        return;
    }
    pthread_mutex_lock(&db->mu);
    ts = sim_db_clock(db);
    json_array_foreach(list, i, ent)
    {
        json_t *errors = NULL;
        int64_t id = sim_product_create(db, ent, ts, &errors);
        if (id < 0) {
            pthread_mutex_unlock(&db->mu);
            sim_resp_json(rs, 422,
                          json_pack("{s:s,s:i,s:o,s:o}", "error",
                                    "invalid_product", "index", (int)i,
                                    "errors", errors, "created", ids));
            json_decref(one);
            return;
        }
        json_array_append_new(ids, json_integer(id));
    }
    pthread_mutex_unlock(&db->mu);
    json_decref(one);
    sim_resp_json(rs, 201,
                  json_pack("{s:I,s:o}", "created",
                            (json_int_t)json_array_size(ids), "ids", ids));
}

static void sim_ctl_images(struct sim_db *db, struct sim_limiter *lim,
                           struct sim_req *rq, struct sim_resp *rs)
{
    struct sim_product *p;
    json_t *out;

    (void)lim;
    pthread_mutex_lock(&db->mu);
    p = sim_db_product(db, sim_seg_id(rq->segs[1]));
    if (!p) {
        pthread_mutex_unlock(&db->mu);
        sim_resp_json(rs, 404, json_pack("{s:s}", "error", "no such product"));
        return;
    }
    out = json_array();
    for (size_t i = 0; i < p->images.n; i++) {
        struct sim_image *im = sim_db_image(db, p->images.v[i]);
        json_t *j;
        if (!im)
            continue;
        j = sim_image_json(db, im, rq->now);
        json_object_set_new(j, "sha256", json_string(im->sha256));
        json_object_set_new(j, "size", json_integer((json_int_t)im->size));
        json_object_set_new(j, "src",
                            im->src ? json_string(im->src) : json_null());
        json_array_append_new(out, j);
    }
    pthread_mutex_unlock(&db->mu);
    sim_resp_json(rs, 200, out);
}

static void sim_ctl_health(struct sim_db *db, struct sim_limiter *lim,
                           struct sim_req *rq, struct sim_resp *rs)
{
    (void)db;
    (void)lim;
    (void)rq;
    sim_resp_json(rs, 200, json_pack("{s:s}", "status", "ok"));
}

static void sim_ctl_state_get(struct sim_db *db, struct sim_limiter *lim,
                              struct sim_req *rq, struct sim_resp *rs)
{
    (void)lim;
    sim_resp_json(rs, 200, sim_ctl_state(db, sim_req_flag(rq, "skus")));
}

static void sim_ctl_reset(struct sim_db *db, struct sim_limiter *lim,
                          struct sim_req *rq, struct sim_resp *rs)
{
    (void)rq;
    pthread_mutex_lock(&db->mu);
    sim_db_reset(db);
    pthread_mutex_unlock(&db->mu);
    sim_limiter_reset(lim);
    sim_resp_json(rs, 200, json_pack("{s:s}", "status", "ok"));
}

static void sim_ctl_order_place(struct sim_db *db, struct sim_limiter *lim,
                                struct sim_req *rq, struct sim_resp *rs)
{
    (void)lim;
    pthread_mutex_lock(&db->mu);
    sim_orders_place(db, rq, rs);
    pthread_mutex_unlock(&db->mu);
}

static void sim_ctl_order_status(struct sim_db *db, struct sim_limiter *lim,
                                 struct sim_req *rq, struct sim_resp *rs)
{
    (void)lim;
    pthread_mutex_lock(&db->mu);
    sim_orders_set_status(db, rq, rs, rq->segs[1]);
    pthread_mutex_unlock(&db->mu);
}

/* The control endpoints under /_sim/, first match wins. */
static const struct sim_ctl_route {
    struct sim_route_shape sh;
    void (*fn)(struct sim_db *db, struct sim_limiter *lim, struct sim_req *rq,
               struct sim_resp *rs);
} sim_ctl_routes[] = {
    {{1, 1, "GET", {"health"}}, sim_ctl_health},
    {{1, 1, "GET", {"state"}}, sim_ctl_state_get},
    {{1, 1, "GET", {"faults"}}, sim_ctl_faults},
    {{1, 1, "POST", {"faults"}}, sim_ctl_faults},
    {{1, 1, "POST", {"reset"}}, sim_ctl_reset},
    {{1, 1, "GET", {"requests"}}, sim_ctl_requests},
    {{1, 1, "POST", {"products"}}, sim_ctl_products},
    {{3, 3, "GET", {"products", NULL, "images"}}, sim_ctl_images},
    {{1, 1, "POST", {"orders"}}, sim_ctl_order_place},
    {{3, 3, "POST", {"orders", NULL, "status"}}, sim_ctl_order_status},
};

void sim_ctl_handle(struct sim_db *db, struct sim_limiter *lim,
                    struct sim_req *rq, struct sim_resp *rs)
{
    for (size_t i = 0; i < sizeof(sim_ctl_routes) / sizeof(sim_ctl_routes[0]);
         i++) {
        if (sim_req_matches(rq, &sim_ctl_routes[i].sh)) {
            sim_ctl_routes[i].fn(db, lim, rq, rs);
            return;
        }
    }
    sim_resp_json(rs, 404,
                  json_pack("{s:s}", "error", "no such control endpoint"));
}
