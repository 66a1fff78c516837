#include "sim_orders.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_db.h"
#include "sim_fmt.h"
#include "sim_http.h"

static const char *const sim_fulfillment[] = {
    "new",       "accepted", "approved", "dispatched",
    "delivered", "declined", "returned", NULL};

static void sim_orders_create(struct sim_db *db, json_t *in, int admin,
                              struct sim_resp *rs);
static int sim_order_lines_patch(struct sim_db *db, struct sim_order *o,
                                 json_t *in, int64_t ts, json_t **errors);

static int sim_in_set(const char *s, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(s, set[i]) == 0)
            return 1;
    return 0;
}

/*
 * Apply a status patch (fulfillment_status, financial_status,
 * custom_status_permalink, comment, manager_comment).  Validates first.
 * Returns 1 when something changed, 0 when not, -1 with *errors.
 */
static int sim_order_patch(struct sim_order *o, json_t *in, int64_t ts,
                           json_t **errors)
{
    const char *fs =
        json_string_value(json_object_get(in, "fulfillment_status"));
    const char *fin =
        json_string_value(json_object_get(in, "financial_status"));
    const char *cs =
        json_string_value(json_object_get(in, "custom_status_permalink"));
    json_t *val;
    int changed = 0;

    if (json_object_get(in, "fulfillment_status") &&
        (!fs || !sim_in_set(fs, sim_fulfillment))) {
        *errors = json_pack("{s:[s]}", "fulfillment_status",
                            "имеет непредусмотренное значение");
        return -1;
    }
    if (json_object_get(in, "financial_status") &&
        (!fin || (strcmp(fin, "pending") != 0 && strcmp(fin, "paid") != 0))) {
        *errors = json_pack("{s:[s]}", "financial_status",
                            "имеет непредусмотренное значение");
        return -1;
    }
    if (fs && strcmp(fs, o->fulfillment) != 0) {
        snprintf(o->fulfillment, sizeof(o->fulfillment), "%s", fs);
        if (strcmp(fs, "accepted") == 0 && !o->accepted_at)
            o->accepted_at = ts;
        if (strcmp(fs, "delivered") == 0)
            o->delivered_at = ts;
        free(o->custom_status);
        o->custom_status = NULL;
        changed = 1;
    }
    if (fin && strcmp(fin, o->financial) != 0) {
        snprintf(o->financial, sizeof(o->financial), "%s", fin);
        o->paid_at = strcmp(fin, "paid") == 0 ? ts : 0;
        changed = 1;
    }
    if (cs) {
        free(o->custom_status);
        o->custom_status = strdup(cs);
        changed = 1;
    }
    val = json_object_get(in, "comment");
    if (val && json_is_string(val)) {
        free(o->comment);
        o->comment = strdup(json_string_value(val));
        changed = 1;
    }
    val = json_object_get(in, "manager_comment");
    if (val && json_is_string(val)) {
        free(o->manager_comment);
        o->manager_comment = strdup(json_string_value(val));
        changed = 1;
    }
    return changed;
}

static void sim_order_changed(struct sim_db *db, struct sim_order *o,
                              int64_t ts)
{
    json_t *j;

    sim_order_touch(db, o, ts);
    j = sim_order_json(db, o);
    sim_db_fire(db, "orders/update", j);
    json_decref(j);
}

struct sim_ofilter {
    const char *fs[16];
    int nfs;
    const char *fin[4];
    int nfin;
    char fsbuf[512], finbuf[128];
};

static int sim_ofilter_match(const struct sim_ofilter *f,
                             const struct sim_order *o)
{
    int ok = f->nfs == 0;

    for (int i = 0; i < f->nfs && !ok; i++)
        ok = strcmp(f->fs[i], o->fulfillment) == 0;
    if (!ok)
        return 0;
    ok = f->nfin == 0;
    for (int i = 0; i < f->nfin && !ok; i++)
        ok = strcmp(f->fin[i], o->financial) == 0;
    return ok;
}

static void sim_orders_list(struct sim_db *db, struct sim_req *rq,
                            struct sim_resp *rs, int count_only)
{
    struct sim_ofilter f;
    int has_since;
    int64_t since, from_id;
    long page, per_page, seen = 0, taken = 0, offset, limit;
    json_t *out = NULL;

    if (sim_req_since(rq, &has_since, &since, &from_id) != 0) {
        sim_resp_invalid(rs, "updated_since", "имеет неверный формат");
        return;
    }
    memset(&f, 0, sizeof(f));
    f.nfs = sim_req_args(rq, "fulfillment_status", f.fsbuf, sizeof(f.fsbuf),
                         f.fs, 16);
    f.nfin = sim_req_args(rq, "financial_status", f.finbuf, sizeof(f.finbuf),
                          f.fin, 4);
    if (f.nfs > 16)
        f.nfs = 16;
    if (f.nfin > 4)
        f.nfin = 4;
    sim_req_paging(rq, db->opts.per_page_default, &page, &per_page);
    offset = count_only ? 0 : (page - 1) * per_page;
    limit = count_only ? -1 : per_page;
    if (!count_only)
        out = json_array();
    if (has_since) {
        for (struct sim_touch *t = sim_tlist_from(&db->otl, since); t;
             t = t->next) {
            struct sim_order *o = t->obj;
            if (t->updated_at == since && t->id <= from_id)
                continue;
            if (!sim_ofilter_match(&f, o) || seen++ < offset)
                continue;
            if (limit >= 0 && taken >= limit)
                break;
            taken++;
            if (out)
                json_array_append_new(out, sim_order_json(db, o));
        }
    } else {
        for (size_t i = 0; i < db->orders.n; i++) {
            struct sim_order *o = db->orders.items[i];
            if (!o || !sim_ofilter_match(&f, o) || seen++ < offset)
                continue;
            if (limit >= 0 && taken >= limit)
                break;
            taken++;
            if (out)
                json_array_append_new(out, sim_order_json(db, o));
        }
    }
    if (count_only)
        sim_resp_json(rs, 200, json_pack("{s:i}", "count", (int)seen));
    else
        sim_resp_json(rs, 200, out);
}

int sim_orders_route(struct sim_db *db, struct sim_req *rq, struct sim_resp *rs)
{
    const char *m = rq->method;
    struct sim_order *o;

    if (rq->nseg < 1 || strcmp(rq->segs[0], "orders") != 0)
        return 0;
    if (rq->nseg == 1 && strcmp(m, "GET") == 0) {
        sim_orders_list(db, rq, rs, 0);
        return 1;
    }
    if (rq->nseg == 1 && strcmp(m, "POST") == 0) {
        json_t *in = rq->body ? json_object_get(rq->body, "order") : NULL;
        if (!json_is_object(in))
            sim_resp_invalid(rs, "order", "не может быть пустым");
        else
            sim_orders_create(db, in, 1, rs);
        return 1;
    }
    if (rq->nseg == 2 && strcmp(m, "GET") == 0 &&
        strcmp(rq->segs[1], "count") == 0) {
        sim_orders_list(db, rq, rs, 1);
        return 1;
    }
    o = rq->nseg == 2 ? sim_db_order(db, sim_seg_id(rq->segs[1])) : NULL;
    if (!o) {
        sim_resp_not_found(rs);
        return 1;
    }
    if (strcmp(m, "GET") == 0) {
        sim_resp_json(rs, 200, sim_order_json(db, o));
    } else if (strcmp(m, "PUT") == 0) {
        json_t *in = rq->body ? json_object_get(rq->body, "order") : NULL;
        json_t *errors = NULL;
        int64_t ts = sim_db_clock(db);
        int rc;
        if (!json_is_object(in)) {
            sim_resp_invalid(rs, "order", "не может быть пустым");
            return 1;
        }
        rc = sim_order_patch(o, in, ts, &errors);
        if (rc >= 0) {
            int lrc = sim_order_lines_patch(db, o, in, ts, &errors);
            rc = lrc < 0 ? lrc : rc + lrc;
        }
        if (rc < 0) {
            sim_resp_json(rs, 422, errors);
            return 1;
        }
        if (rc > 0)
            sim_order_changed(db, o, ts);
        sim_resp_json(rs, 200, sim_order_json(db, o));
    } else if (strcmp(m, "DELETE") == 0) {
        json_t *j = sim_order_json(db, o);
        sim_tlist_remove(&db->otl, &o->t);
        sim_vec_del(&db->orders, o->id);
        sim_order_free(o);
        sim_db_fire(db, "orders/destroy", j);
        json_decref(j);
        sim_resp_ok(rs);
    } else {
        sim_resp_not_found(rs);
    }
    return 1;
}

void sim_orders_set_status(struct sim_db *db, struct sim_req *rq,
                           struct sim_resp *rs, const char *id)
{
    struct sim_order *o = sim_db_order(db, sim_seg_id(id));
    json_t *errors = NULL;
    int64_t ts;
    int rc;

    if (!o) {
        sim_resp_json(rs, 404, json_pack("{s:s}", "error", "order not found"));
        return;
    }
    if (!json_is_object(rq->body)) {
        sim_resp_json(rs, 422, json_pack("{s:s}", "error", "body required"));
        return;
    }
    ts = sim_db_clock(db);
    rc = sim_order_patch(o, rq->body, ts, &errors);
    if (rc < 0) {
        sim_resp_json(rs, 422, errors);
        return;
    }
    if (rc > 0)
        sim_order_changed(db, o, ts);
    sim_resp_json(rs, 200, sim_order_json(db, o));
}

/* Live variant with this SKU on a live product (O(n); shopper path). */
static struct sim_variant *sim_variant_by_sku(struct sim_db *db,
                                              const char *sku)
{
    for (size_t i = 0; i < db->variants.n; i++) {
        struct sim_variant *v = db->variants.items[i];
        struct sim_product *p;
        if (!v || !v->sku || strcmp(v->sku, sku) != 0)
            continue;
        p = sim_db_product(db, v->product_id);
        if (p && !p->archived)
            return v;
    }
    return NULL;
}

/* Refuse an order: the shopper's JSON reason, or the admin API's map. */
static void sim_order_refuse(struct sim_resp *rs, int admin, int status,
                             json_t *reason, const char *msg)
{
    if (admin) {
        json_decref(reason);
        sim_resp_invalid(rs, "order_lines", msg);
    } else {
        sim_resp_json(rs, status, reason);
    }
}

/*
 * Check line @p i of an order: its variant (by SKU for the shopper, by
 * variant_id with @p admin) on sale into vs[i], its quantity into qs[i],
 * and the stock for it and the earlier lines of the same variant.  -1
 * with the order refused.
 */
static int sim_order_line_check(struct sim_db *db, json_t *line, size_t i,
                                int admin, struct sim_variant **vs, int64_t *qs,
                                struct sim_resp *rs)
{
    const char *sku = json_string_value(json_object_get(line, "sku"));
    json_t *jv = json_object_get(line, "variant_id");
    json_t *jq = json_object_get(line, "quantity");
    int64_t want = 0;
    char msg[256];

    if ((admin ? !json_is_integer(jv) : !sku) || !json_is_integer(jq) ||
        json_integer_value(jq) <= 0) {
        sim_order_refuse(
            rs, admin, 422,
            json_pack("{s:s,s:s,s:i}", "error", "bad_request", "reason",
                      "each line needs sku and quantity > 0", "line", (int)i),
            "нужны variant_id и quantity > 0");
        return -1;
    }
    if (admin) {
        struct sim_product *p;
        vs[i] = sim_db_variant(db, json_integer_value(jv));
        p = vs[i] ? sim_db_product(db, vs[i]->product_id) : NULL;
        if (!p || p->archived)
            vs[i] = NULL;
    } else {
        vs[i] = sim_variant_by_sku(db, sku);
    }
    qs[i] = json_integer_value(jq);
    if (!vs[i]) {
        snprintf(msg, sizeof(msg), "Вариант %lld не найден",
                 (long long)json_integer_value(jv));
        sim_order_refuse(rs, admin, 422,
                         json_pack("{s:s,s:s,s:s}", "error", "unknown_sku",
                                   "sku", sku ? sku : "", "reason",
                                   "no such SKU on sale"),
                         msg);
        return -1;
    }
    for (size_t k = 0; k <= i; k++)
        if (vs[k] == vs[i])
            want += qs[k];
    if (vs[i]->has_quantity && want > vs[i]->quantity) {
        snprintf(msg, sizeof(msg),
                 "Недостаточно товара на складе: вариант %lld, "
                 "запрошено %lld, в наличии %lld",
                 (long long)vs[i]->id, (long long)want,
                 (long long)vs[i]->quantity);
        sim_order_refuse(rs, admin, 409,
                         json_pack("{s:s,s:s,s:I,s:I,s:s}", "error",
                                   "insufficient_stock", "sku",
                                   vs[i]->sku ? vs[i]->sku : "", "requested",
                                   (json_int_t)want, "available",
                                   (json_int_t)vs[i]->quantity, "reason",
                                   "quantity exceeds stock"),
                         msg);
        return -1;
    }
    return 0;
}

/* The order's lines o->lines[first..] from the checked variants, their
 * stock taken; the
 * items' total. */
static int64_t sim_order_lines_fill(struct sim_db *db, struct sim_order *o,
                                    struct sim_variant **vs, const int64_t *qs,
                                    size_t n, int64_t ts, size_t first)
{
    int64_t items = 0;

    for (size_t i = 0; i < n; i++) {
        struct sim_variant *v = vs[i];
        struct sim_product *p = sim_db_product(db, v->product_id);
        struct sim_order_line *l = &o->lines[first + i];
        json_t *vt = sim_variant_title_json(db, v);
        char title[1024];
        if (json_is_string(vt))
            snprintf(title, sizeof(title), "%s (%s)", p->title,
                     json_string_value(vt));
        else
            snprintf(title, sizeof(title), "%s", p->title);
        json_decref(vt);
        l->id = db->next_line_id++;
        l->variant_id = v->id;
        l->product_id = v->product_id;
        l->quantity = qs[i];
        l->sale_price = v->price;
        l->total_price = v->price * qs[i];
        l->sku = v->sku ? strdup(v->sku) : NULL;
        l->title = strdup(title);
        items += l->total_price;
        if (v->has_quantity)
            v->quantity -= qs[i];
        v->updated_at = ts;
        sim_product_touch(db, p, ts);
    }
    o->n_lines = first + n;
    return items;
}

/* One checked edit of an order's lines (PUT order_lines_attributes). */
struct sim_line_edit {
    struct sim_order_line *line; /* the line edited, NULL: a new line */
    struct sim_variant *v;       /* a new line's variant */
    int64_t quantity;            /* the new quantity, 0: remove */
};

static int sim_line_edit_refuse(json_t **errors, const char *msg)
{
    *errors = json_pack("{s:[s]}", "order_lines", msg);
    return -1;
}

static struct sim_order_line *sim_order_line_find(struct sim_order *o,
                                                  int64_t id)
{
    for (size_t i = 0; i < o->n_lines; i++)
        if (o->lines[i].id == id)
            return &o->lines[i];
    return NULL;
}

/* Check one element of order_lines_attributes into @p e: {id, quantity}
 * updates a line, {id, _destroy: true} removes it, {variant_id,
 * quantity} adds one (INSALES.md §5.3). */
static int sim_line_edit_check(struct sim_db *db, struct sim_order *o,
                               json_t *a, struct sim_line_edit *e,
                               json_t **errors)
{
    json_t *jid = json_object_get(a, "id");
    json_t *jq = json_object_get(a, "quantity");
    json_t *jv = json_object_get(a, "variant_id");
    int destroy = json_is_true(json_object_get(a, "_destroy"));
    struct sim_product *p;

    memset(e, 0, sizeof(*e));
    if (!json_is_object(a))
        return sim_line_edit_refuse(errors, "неверный формат");
    if (json_is_integer(jid)) {
        e->line = sim_order_line_find(o, json_integer_value(jid));
        if (!e->line)
            return sim_line_edit_refuse(errors, "позиция не найдена");
    } else {
        e->v = json_is_integer(jv) ? sim_db_variant(db, json_integer_value(jv))
                                   : NULL;
        p = e->v ? sim_db_product(db, e->v->product_id) : NULL;
        if (!p || p->archived)
            return sim_line_edit_refuse(errors, "Вариант не найден");
    }
    if (destroy && e->line)
        return 0;
    if (!json_is_integer(jq) || json_integer_value(jq) <= 0)
        return sim_line_edit_refuse(errors, "нужны variant_id и quantity > 0");
    e->quantity = json_integer_value(jq);
    return 0;
}

/* How much more of its variant edit @p e takes (0: none or untracked). */
static int64_t sim_line_edit_more(struct sim_db *db,
                                  const struct sim_line_edit *e,
                                  struct sim_variant **v)
{
    int64_t more = e->quantity - (e->line ? e->line->quantity : 0);

    *v = e->line ? sim_db_variant(db, e->line->variant_id) : e->v;
    return *v && (*v)->has_quantity && more > 0 ? more : 0;
}

/* An increase of a tracked variant must be in stock. */
static int sim_line_edit_stock(struct sim_db *db, const struct sim_line_edit *e,
                               json_t **errors)
{
    struct sim_variant *v;
    int64_t more = sim_line_edit_more(db, e, &v);

    if (more > 0 && more > v->quantity)
        return sim_line_edit_refuse(errors, "Недостаточно товара на складе");
    return 0;
}

/* Apply checked edits: lines updated, removed (stock is not put back, as
 * for a declined order) or appended; totals recomputed. */
static int sim_line_edits_apply(struct sim_db *db, struct sim_order *o,
                                struct sim_line_edit *es, size_t n, int64_t ts)
{
    struct sim_order_line *nl;
    size_t add = 0, k = 0;

    for (size_t i = 0; i < n; i++)
        add += es[i].line == NULL;
    for (size_t i = 0; i < n; i++) { /* an increase takes stock */
        struct sim_variant *v;
        int64_t more = sim_line_edit_more(db, &es[i], &v);

        if (more > 0)
            v->quantity -= more;
    }
    for (size_t i = 0; i < n; i++)
        if (es[i].line)
            es[i].line->quantity = es[i].quantity; /* 0: removed below */
    nl = calloc(o->n_lines + add + 1, sizeof(*nl));
    if (!nl)
        return -1;
    for (size_t i = 0; i < o->n_lines; i++) {
        if (o->lines[i].quantity == 0) {
            free(o->lines[i].sku);
            free(o->lines[i].title);
            continue;
        }
        nl[k++] = o->lines[i];
    }
    free(o->lines);
    o->lines = nl;
    o->n_lines = k;
    for (size_t i = 0; i < n; i++) {
        if (es[i].line)
            continue;
        sim_order_lines_fill(db, o, &es[i].v, &es[i].quantity, 1, ts,
                             o->n_lines);
    }
    o->items_price = 0;
    for (size_t i = 0; i < o->n_lines; i++) {
        o->lines[i].total_price = o->lines[i].sale_price * o->lines[i].quantity;
        o->items_price += o->lines[i].total_price;
    }
    o->total_price = o->items_price + o->delivery_price;
    return 0;
}

/*
 * order_lines_attributes of PUT /admin/orders/{id}.json: every element
 * checked (and every increase against stock) before anything changes.
 * Returns 1 when the lines changed, 0 when there were none, -1 with
 * *errors.
 */
static int sim_order_lines_patch(struct sim_db *db, struct sim_order *o,
                                 json_t *in, int64_t ts, json_t **errors)
{
    json_t *attrs = json_object_get(in, "order_lines_attributes");
    struct sim_line_edit *es;
    size_t n = json_array_size(attrs), i;
    int rc = -1;

    if (!attrs)
        return 0;
    if (!json_is_array(attrs) || n == 0 || n > 1000)
        return sim_line_edit_refuse(errors, "не может быть пустым");
    es = calloc(n, sizeof(*es));
    if (!es)
        return sim_line_edit_refuse(errors, "out of memory");
    for (i = 0; i < n; i++)
        if (sim_line_edit_check(db, o, json_array_get(attrs, i), &es[i],
                                errors) < 0 ||
            sim_line_edit_stock(db, &es[i], errors) < 0)
            goto out;
    if (sim_line_edits_apply(db, o, es, n, ts) < 0) {
        sim_line_edit_refuse(errors, "out of memory");
        goto out;
    }
    rc = 1;
out:
    free(es);
    return rc;
}

/* The order's number, key, statuses, totals, client and address. */
static void sim_order_fill(struct sim_db *db, struct sim_order *o, json_t *in,
                           int admin, int64_t ts, int64_t delivery,
                           int64_t items)
{
    unsigned char rnd[16];
    json_t *val;

    o->number = db->next_order_number++;
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(o->key, sizeof(o->key), rnd, sizeof(rnd));
    snprintf(o->fulfillment, sizeof(o->fulfillment), "new");
    snprintf(o->financial, sizeof(o->financial), "pending");
    o->created_at = ts;
    val = json_object_get(in, "delivery_title");
    o->delivery_title =
        strdup(json_is_string(val) ? json_string_value(val) : "Самовывоз");
    val = json_object_get(in, "comment");
    if (json_is_string(val))
        o->comment = strdup(json_string_value(val));
    o->delivery_price = delivery;
    o->items_price = items;
    o->total_price = items + delivery;
    val = json_object_get(in, "client");
    o->client = json_is_object(val) ? json_deep_copy(val) : json_object();
    json_object_set_new(o->client, "id", json_integer(db->next_client_id++));
    if (!json_object_get(o->client, "type"))
        json_object_set_new(o->client, "type",
                            json_string("Client::Individual"));
    json_object_set_new(o->client, "created_at", sim_time_json(ts));
    json_object_set_new(o->client, "updated_at", sim_time_json(ts));
    val = json_object_get(in, admin ? "shipping_address_attributes"
                                    : "shipping_address");
    o->shipping_address =
        json_is_object(val) ? json_deep_copy(val) : json_object();
    if (!json_object_get(o->shipping_address, "country"))
        json_object_set_new(o->shipping_address, "country", json_string("RU"));
}

/*
 * Create an order from the shopper's body ({"lines":[{sku,quantity}],
 * delivery_title, delivery_price, client, shipping_address, comment}) or,
 * with @p admin, from POST /admin/orders.json's inner object
 * ({"order_lines_attributes":[{variant_id,quantity}], client,
 * shipping_address_attributes, delivery_title, delivery_price, comment}).
 */
static void sim_orders_create(struct sim_db *db, json_t *in, int admin,
                              struct sim_resp *rs)
{
    json_t *lines =
        json_object_get(in, admin ? "order_lines_attributes" : "lines");
    json_t *line, *val, *j;
    struct sim_variant **vs = NULL;
    int64_t *qs = NULL, ts, delivery = 0, items;
    struct sim_order *o = NULL;
    size_t n, i;

    n = json_array_size(lines);
    if (!json_is_array(lines) || n == 0 || n > 1000) {
        sim_order_refuse(rs, admin, 422,
                         json_pack("{s:s,s:s}", "error", "bad_request",
                                   "reason", "lines must be a non-empty array"),
                         "не может быть пустым");
        return;
    }
    val = json_object_get(in, "delivery_price");
    if (val && sim_money_from_json(val, &delivery) != 0) {
        if (admin)
            sim_resp_invalid(rs, "delivery_price", "не является числом");
        else
            sim_resp_json(rs, 422,
                          json_pack("{s:s,s:s}", "error", "bad_request",
                                    "reason",
                                    "delivery_price is not a number"));
        return;
    }
    vs = calloc(n, sizeof(*vs));
    qs = calloc(n, sizeof(*qs));
    o = calloc(1, sizeof(*o));
    if (!vs || !qs || !o) {
        sim_resp_json(rs, 500, json_pack("{s:s}", "error", "out of memory"));
        goto out;
    }
    /* Validate every line, stock summed per variant, before touching
     * anything: a refused order leaves the shop unchanged. */
    json_array_foreach(lines, i, line)
    {
        if (sim_order_line_check(db, line, i, admin, vs, qs, rs) != 0)
            goto out;
    }
    o->lines = calloc(n, sizeof(*o->lines));
    if (!o->lines) {
        sim_resp_json(rs, 500, json_pack("{s:s}", "error", "out of memory"));
        goto out;
    }
    ts = sim_db_clock(db);
    items = sim_order_lines_fill(db, o, vs, qs, n, ts, 0);
    sim_order_fill(db, o, in, admin, ts, delivery, items);
    o->id = sim_vec_add(&db->orders, o);
    if (o->id < 0) {
        sim_resp_json(rs, 500, json_pack("{s:s}", "error", "out of memory"));
        goto out;
    }
    o->t.id = o->id;
    o->t.obj = o;
    sim_order_touch(db, o, ts);
    j = sim_order_json(db, o);
    sim_db_fire(db, "orders/create", j);
    sim_resp_json(rs, 201, j);
    o = NULL;
out:
    sim_order_free(o);
    free(vs);
    free(qs);
}

void sim_orders_place(struct sim_db *db, struct sim_req *rq,
                      struct sim_resp *rs)
{
    sim_orders_create(db, rq->body, 0, rs);
}
