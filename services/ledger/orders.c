#include "ledger/orders.h"

#include "lib/clock.h"
#include "lib/db.h"
#include "lib/idarray.h"
#include "lib/money.h"
#include "ledger/ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORD_MAX_SOURCES 64

static int ord_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ord_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- timestamps --------------------------------------------------------- */

int orders_version_newer(const char *incoming, const char *current)
{
    int64_t a, b;

    if (clock_rfc3339_parse(incoming, &a) < 0 ||
        clock_rfc3339_parse(current, &b) < 0)
        return -1;
    return a > b ? 1 : 0;
}

/* ---- parsing ------------------------------------------------------------ */

static char *ord_strdup_opt(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    char buf[32];

    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return strdup(buf);
    }
    return NULL;
}

/* An optional id: absent/null -> 0; integer > 0 (or digits string). */
static int ord_id_opt(const json_t *obj, const char *name, long long *out)
{
    const json_t *v = json_object_get(obj, name);

    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = json_integer_value(v);
        return 0;
    }
    return -1;
}

static int ord_money_opt(const json_t *obj, const char *name, char *out,
                         size_t out_size, const char *def)
{
    const json_t *v = json_object_get(obj, name);
    long long minor;

    if (!v || json_is_null(v)) {
        snprintf(out, out_size, "%s", def);
        return 0;
    }
    /* Rounded past 2 decimals, as numeric(14,2) rounds what it stores. */
    if (money_from_json(v, MONEY_ROUND, &minor, NULL, 0) < 0)
        return -1;
    return money_format(minor, out, out_size);
}

static int ord_line_parse(const json_t *jl, size_t i, struct orders_line *l,
                          char *errstr, size_t errstr_size)
{
    const json_t *q;

    if (!json_is_object(jl))
        return ord_fail(errstr, errstr_size,
                        "order_lines[%zu]: expected object", i);
    if (ord_id_opt(jl, "id", &l->remote_line_id) < 0)
        return ord_fail(errstr, errstr_size,
                        "order_lines[%zu].id: expected integer > 0", i);
    if (ord_id_opt(jl, "variant_id", &l->remote_variant_id) < 0)
        return ord_fail(errstr, errstr_size,
                        "order_lines[%zu].variant_id: expected integer > 0", i);
    q = json_object_get(jl, "quantity");
    if (json_is_integer(q))
        l->quantity = json_integer_value(q);
    else if (json_is_real(q) &&
             json_real_value(q) == (double)(long long)json_real_value(q))
        l->quantity = (long long)json_real_value(q);
    else
        return ord_fail(errstr, errstr_size,
                        "order_lines[%zu].quantity: expected integer", i);
    if (l->quantity <= 0 || l->quantity > 1000000000LL)
        return ord_fail(errstr, errstr_size,
                        "order_lines[%zu].quantity: %lld out of range", i,
                        l->quantity);
    if (ord_money_opt(jl, "sale_price", l->price, sizeof(l->price), "0") < 0)
        return ord_fail(errstr, errstr_size,
                        "order_lines[%zu].sale_price: expected money", i);
    l->sku = ord_strdup_opt(jl, "sku");
    if (l->sku && !l->sku[0]) {
        free(l->sku);
        l->sku = NULL;
    }
    l->title = ord_strdup_opt(jl, "title");
    return 0;
}

int orders_parse(const json_t *order, struct orders_order *o, char *errstr,
                 size_t errstr_size)
{
    const json_t *v, *lines;
    size_t i;

    memset(o, 0, sizeof(*o));
    if (!json_is_object(order))
        return ord_fail(errstr, errstr_size, "order: expected object");
    v = json_object_get(order, "id");
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return ord_fail(errstr, errstr_size, "id: expected integer > 0");
    o->remote_id = json_integer_value(v);
    v = json_object_get(order, "updated_at");
    if (!json_is_string(v))
        return ord_fail(errstr, errstr_size, "updated_at: expected string");
    if (clock_rfc3339_parse(json_string_value(v), &o->updated_us) < 0)
        return ord_fail(errstr, errstr_size,
                        "updated_at: '%.64s' is not an RFC 3339 timestamp",
                        json_string_value(v));
    o->updated_at = strdup(json_string_value(v));
    o->number = ord_strdup_opt(order, "number");
    v = json_object_get(order, "fulfillment_status");
    if (v && !json_is_null(v) &&
        (!json_is_string(v) || !json_string_length(v))) {
        ord_fail(errstr, errstr_size,
                 "fulfillment_status: expected non-empty string");
        goto fail;
    }
    o->fulfillment_status =
        strdup(v && json_is_string(v) ? json_string_value(v) : "new");
    o->financial_status = ord_strdup_opt(order, "financial_status");
    if (ord_money_opt(order, "total_price", o->total_price,
                      sizeof(o->total_price), "") < 0) {
        ord_fail(errstr, errstr_size, "total_price: expected money");
        goto fail;
    }
    if (ord_money_opt(order, "delivery_price", o->delivery_price,
                      sizeof(o->delivery_price), "") < 0) {
        ord_fail(errstr, errstr_size, "delivery_price: expected money");
        goto fail;
    }
    o->delivery_title = ord_strdup_opt(order, "delivery_title");
    v = json_object_get(order, "client");
    if (json_is_object(v))
        o->client = json_incref((json_t *)(uintptr_t)v);
    lines = json_object_get(order, "order_lines");
    if (lines && !json_is_null(lines)) {
        if (!json_is_array(lines)) {
            ord_fail(errstr, errstr_size, "order_lines: expected array");
            goto fail;
        }
        if (json_array_size(lines) > ORDERS_MAX_LINES) {
            ord_fail(errstr, errstr_size, "order_lines: more than %d lines",
                     ORDERS_MAX_LINES);
            goto fail;
        }
        o->lines = calloc(json_array_size(lines) + 1, sizeof(*o->lines));
        if (!o->lines) {
            ord_fail(errstr, errstr_size, "out of memory");
            goto fail;
        }
        for (i = 0; i < json_array_size(lines); i++) {
            o->nlines = i + 1;
            if (ord_line_parse(json_array_get(lines, i), i, &o->lines[i],
                               errstr, errstr_size) < 0)
                goto fail;
        }
    }
    if (!o->updated_at || !o->fulfillment_status) {
        ord_fail(errstr, errstr_size, "out of memory");
        goto fail;
    }
    return 0;
fail:
    orders_order_clear(o);
    return -1;
}

void orders_order_clear(struct orders_order *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nlines; i++) {
        free(o->lines[i].sku);
        free(o->lines[i].title);
    }
    free(o->lines);
    free(o->number);
    free(o->updated_at);
    free(o->fulfillment_status);
    free(o->financial_status);
    free(o->delivery_title);
    json_decref(o->client);
    memset(o, 0, sizeof(*o));
}

int orders_raw_validate(const char *key, const char *store, json_t *data,
                        char *errstr, size_t errstr_size)
{
    const json_t *src = json_object_get(data, "source");
    const json_t *order = json_object_get(data, "order");
    const json_t *id, *upd;
    const char *k;
    void *it;
    char want[512];
    int64_t us;

    for (it = json_object_iter(data); it;
         it = json_object_iter_next(data, it)) {
        k = json_object_iter_key(it);
        if (strcmp(k, "source") != 0 && strcmp(k, "order") != 0)
            return ord_fail(errstr, errstr_size, "data.%s: unexpected key", k);
    }
    if (!json_is_string(src) ||
        (strcmp(json_string_value(src), "webhook") != 0 &&
         strcmp(json_string_value(src), "poll") != 0))
        return ord_fail(errstr, errstr_size,
                        "data.source: expected \"webhook\" or \"poll\"");
    if (!json_is_object(order))
        return ord_fail(errstr, errstr_size, "data.order: expected object");
    id = json_object_get(order, "id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        return ord_fail(errstr, errstr_size,
                        "data.order.id: expected integer > 0");
    upd = json_object_get(order, "updated_at");
    if (!json_is_string(upd) ||
        clock_rfc3339_parse(json_string_value(upd), &us) < 0)
        return ord_fail(errstr, errstr_size,
                        "data.order.updated_at: expected RFC 3339 timestamp");
    if (!store)
        return ord_fail(errstr, errstr_size,
                        "store: an orders.raw event needs a store");
    snprintf(want, sizeof(want), "%s:%" JSON_INTEGER_FORMAT, store,
             json_integer_value(id));
    if (strcmp(key, want) != 0)
        return ord_fail(errstr, errstr_size,
                        "key: expected '%s' (store:order id), got '%s'", want,
                        key);
    return 0;
}

/* ---- state machine ------------------------------------------------------ */

static const char *const ord_stock_names[] = {"none", "reserved", "shipped",
                                              "released", "returned"};

const char *orders_stock_name(enum orders_stock s)
{
    if ((int)s < 0 || (size_t)s >= sizeof(ord_stock_names) / sizeof(char *))
        return "?";
    return ord_stock_names[s];
}

int orders_stock_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(ord_stock_names) / sizeof(char *); i++)
        if (name && strcmp(name, ord_stock_names[i]) == 0)
            return (int)i;
    return -1;
}

int orders_transition(enum orders_stock cur, const char *status,
                      enum orders_stock *next)
{
    int shipped = status && (strcmp(status, "dispatched") == 0 ||
                             strcmp(status, "delivered") == 0);
    int declined = status && strcmp(status, "declined") == 0;
    int returned = status && strcmp(status, "returned") == 0;

    *next = cur;
    switch (cur) {
    case ORDERS_STOCK_NONE:
        if (declined || returned) {
            *next = ORDERS_STOCK_RELEASED; /* never reserved: nothing */
            return 0;
        }
        if (shipped) {
            *next = ORDERS_STOCK_SHIPPED;
            return ORDERS_ACT_RESERVE | ORDERS_ACT_SHIP;
        }
        *next = ORDERS_STOCK_RESERVED;
        return ORDERS_ACT_RESERVE;
    case ORDERS_STOCK_RESERVED:
        if (shipped) {
            *next = ORDERS_STOCK_SHIPPED;
            return ORDERS_ACT_SHIP;
        }
        if (declined || returned) {
            *next = ORDERS_STOCK_RELEASED;
            return ORDERS_ACT_RELEASE;
        }
        return 0;
    case ORDERS_STOCK_SHIPPED:
        if (returned) {
            *next = ORDERS_STOCK_RETURNED;
            return ORDERS_ACT_RETURN;
        }
        if (shipped)
            return 0;
        return ORDERS_ACT_ODD; /* declined or re-opened after shipment */
    case ORDERS_STOCK_RELEASED:
    case ORDERS_STOCK_RETURNED:
        if (declined || returned)
            return 0;
        return ORDERS_ACT_ODD; /* re-opened after cancellation */
    }
    return 0;
}

long long orders_allocate(long long need, const long long *avail, size_t n,
                          long long *take)
{
    long long total = 0;

    for (size_t i = 0; i < n; i++) {
        long long t = avail[i] > 0 ? avail[i] : 0;

        if (t > need - total)
            t = need - total;
        take[i] = t;
        total += t;
    }
    return total;
}

const char *orders_res_name(enum orders_res r)
{
    switch (r) {
    case ORDERS_APPLIED:
        return "applied";
    case ORDERS_STALE:
        return "stale";
    case ORDERS_RETRY:
        return "retry";
    case ORDERS_REJECT:
        return "reject";
    }
    return "?";
}

/* ---- apply -------------------------------------------------------------- */

/* The store as the apply needs it. */
struct ord_store {
    long long id;
    long long delivery_variant_id;
    char delivery_sku[256];
    long long sources[ORD_MAX_SOURCES];
    size_t nsources;
};

/* Per apply: the parsed order, its lines' local variants, the reason. */
struct ord_ctx {
    PGconn *pg;
    const char *store_name;
    struct ord_store st;
    struct orders_order o;
    long long *line_variant; /* local variant per line, 0 unknown */
    long long order_id;
    char reason[512];
    char *errstr;
    size_t errstr_size;
    char sqlstate[6];
};

static void ord_reason_add(struct ord_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ord_reason_add(struct ord_ctx *c, const char *fmt, ...)
{
    size_t n = strlen(c->reason);
    va_list ap;

    if (n && n + 2 < sizeof(c->reason)) {
        memcpy(c->reason + n, "; ", 3);
        n += 2;
    }
    if (n + 1 >= sizeof(c->reason))
        return;
    va_start(ap, fmt);
    vsnprintf(c->reason + n, sizeof(c->reason) - n, fmt, ap);
    va_end(ap);
}

static PGresult *ord_q(struct ord_ctx *c, const char *sql, int n,
                       const char *const *vals, const char *what)
{
    c->sqlstate[0] = '\0';
    return db_exec(c->pg, sql, n, vals, what, c->errstr, c->errstr_size,
                   c->sqlstate);
}

static long long ord_ll(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int ord_store_load(struct ord_ctx *c)
{
    const char *v[1] = {c->store_name};
    char sid[32];
    const char *v2[1] = {sid};
    PGresult *r;
    int rc = -1;

    r = ord_q(c,
              "SELECT s.id, s.delivery_variant_id, v.sku FROM store s "
              "JOIN variant v ON v.id = s.delivery_variant_id "
              "WHERE s.name = $1",
              1, v, "store");
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 1;
    }
    c->st.id = ord_ll(r, 0, 0);
    c->st.delivery_variant_id = ord_ll(r, 0, 1);
    snprintf(c->st.delivery_sku, sizeof(c->st.delivery_sku), "%s",
             PQgetvalue(r, 0, 2));
    PQclear(r);
    snprintf(sid, sizeof(sid), "%lld", c->st.id);
    r = ord_q(c,
              "SELECT location_id FROM store_source WHERE store_id = $1 "
              "ORDER BY position",
              1, v2, "store sources");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r) && c->st.nsources < ORD_MAX_SOURCES; i++)
        c->st.sources[c->st.nsources++] = ord_ll(r, i, 0);
    rc = 0;
    PQclear(r);
    return rc;
}

/* Local variant of each line: remote variant id via remote_map, then SKU.
 */
static int ord_lines_map(struct ord_ctx *c)
{
    char sid[32], rid[32];
    PGresult *r;

    snprintf(sid, sizeof(sid), "%lld", c->st.id);
    for (size_t i = 0; i < c->o.nlines; i++) {
        struct orders_line *l = &c->o.lines[i];

        c->line_variant[i] = 0;
        if (l->remote_variant_id > 0) {
            const char *v[2] = {sid, rid};

            snprintf(rid, sizeof(rid), "%lld", l->remote_variant_id);
            r = ord_q(c,
                      "SELECT local_id FROM remote_map WHERE store_id = $1 "
                      "AND entity = 'variant' AND remote_id = $2",
                      2, v, "remote_map");
            if (!r)
                return -1;
            if (PQntuples(r) == 1)
                c->line_variant[i] = ord_ll(r, 0, 0);
            PQclear(r);
        }
        if (!c->line_variant[i] && l->sku) {
            const char *v[1] = {l->sku};

            r = ord_q(c, "SELECT id FROM variant WHERE sku = $1", 1, v,
                      "variant");
            if (!r)
                return -1;
            if (PQntuples(r) == 1)
                c->line_variant[i] = ord_ll(r, 0, 0);
            PQclear(r);
        }
        if (!c->line_variant[i])
            ord_reason_add(c, "line %zu: unknown SKU '%s' (variant %lld)",
                           i + 1, l->sku ? l->sku : "", l->remote_variant_id);
    }
    return 0;
}

static int ord_lines_write(struct ord_ctx *c)
{
    char oid[32], no[16], rl[32], vid[32], qty[32];
    const char *v1[1] = {oid};
    PGresult *r;
    size_t i;

    snprintf(oid, sizeof(oid), "%lld", c->order_id);
    r = ord_q(c, "DELETE FROM customer_order_line WHERE order_id = $1", 1, v1,
              "delete lines");
    if (!r)
        return -1;
    PQclear(r);
    for (i = 0; i <= c->o.nlines; i++) {
        const char *v[9];
        int delivery = i == c->o.nlines;

        if (delivery && !c->o.delivery_price[0])
            break; /* no delivery in this order */
        snprintf(no, sizeof(no), "%zu", i + 1);
        if (delivery) {
            snprintf(vid, sizeof(vid), "%lld", c->st.delivery_variant_id);
            v[0] = oid;
            v[1] = no;
            v[2] = NULL;
            v[3] = vid;
            v[4] = c->st.delivery_sku;
            v[5] = c->o.delivery_title ? c->o.delivery_title : "Delivery";
            v[6] = "1";
            v[7] = c->o.delivery_price;
            v[8] = "t";
        } else {
            const struct orders_line *l = &c->o.lines[i];

            snprintf(rl, sizeof(rl), "%lld", l->remote_line_id);
            snprintf(vid, sizeof(vid), "%lld", c->line_variant[i]);
            snprintf(qty, sizeof(qty), "%lld", l->quantity);
            v[0] = oid;
            v[1] = no;
            v[2] = l->remote_line_id ? rl : NULL;
            v[3] = c->line_variant[i] ? vid : NULL;
            v[4] = l->sku;
            v[5] = l->title;
            v[6] = qty;
            v[7] = l->price;
            v[8] = "f";
        }
        r = ord_q(c,
                  "INSERT INTO customer_order_line (order_id, line_no, "
                  "remote_line_id, variant_id, sku, title, quantity, price, "
                  "is_delivery) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                  9, v, "insert line");
        if (!r)
            return -1;
        PQclear(r);
    }
    return 0;
}

static void ord_idem(const struct ord_ctx *c, const char *what, char *out,
                     size_t size)
{
    snprintf(out, size, "order:%s:%lld:%s", c->store_name, c->o.remote_id,
             what);
}

/* Apply one movement; LEDGER_DUPLICATE is fine (replay). */
static int ord_move(struct ord_ctx *c, const char *kind, const char *what,
                    struct ledger_line *lines, size_t n)
{
    char key[400];
    struct ledger_move m;

    if (n == 0)
        return 0;
    ord_idem(c, what, key, sizeof(key));
    memset(&m, 0, sizeof(m));
    m.kind = kind;
    m.idem_key = key;
    m.order_id = c->order_id;
    m.note = key;
    m.lines = lines;
    m.nlines = n;
    if (ledger_move_apply(c->pg, &m, NULL, c->errstr, c->errstr_size,
                          c->sqlstate) == LEDGER_ERR)
        return -1;
    return 0;
}

/* Reserve each variant's quantity over the store's sources, in order. */
static int ord_reserve(struct ord_ctx *c)
{
    long long *vids = NULL, *need = NULL;
    struct ledger_line *ll = NULL;
    size_t nv = 0, nl = 0, i, k;
    char *varr = NULL, *larr = NULL, vbuf[32];
    PGresult *r = NULL;
    int rc = -1;

    vids = calloc(c->o.nlines + 1, sizeof(*vids));
    need = calloc(c->o.nlines + 1, sizeof(*need));
    ll = calloc((c->o.nlines + 1) * (c->st.nsources + 1), sizeof(*ll));
    if (!vids || !need || !ll) {
        ord_fail(c->errstr, c->errstr_size, "out of memory");
        goto out;
    }
    for (i = 0; i < c->o.nlines; i++) {
        if (!c->line_variant[i] ||
            c->line_variant[i] == c->st.delivery_variant_id)
            continue;
        for (k = 0; k < nv && vids[k] != c->line_variant[i]; k++)
            ;
        if (k == nv)
            vids[nv++] = c->line_variant[i];
        need[k] += c->o.lines[i].quantity;
    }
    if (nv == 0 || c->st.nsources == 0) {
        rc = 0;
        goto out;
    }
    larr = idarray_text(c->st.sources, c->st.nsources, 0, NULL);
    varr = idarray_text(vids, nv, 0, NULL);
    if (!larr || !varr) {
        ord_fail(c->errstr, c->errstr_size, "out of memory");
        goto out;
    }
    {
        /* The ledger's lock order: locations (key share), then variants,
         * ascending; availability is read under the variant lock. */
        const char *v1[1] = {larr};
        const char *v2[1] = {varr};

        r = ord_q(c,
                  "SELECT id FROM location WHERE id = ANY($1::bigint[]) "
                  "ORDER BY id FOR KEY SHARE",
                  1, v1, "lock locations");
        if (!r)
            goto out;
        PQclear(r);
        r = ord_q(c,
                  "SELECT id FROM variant WHERE id = ANY($1::bigint[]) "
                  "ORDER BY id FOR UPDATE",
                  1, v2, "lock variants");
        if (!r)
            goto out;
        PQclear(r);
        r = NULL;
    }
    for (k = 0; k < nv; k++) {
        long long avail[ORD_MAX_SOURCES], take[ORD_MAX_SOURCES], got;
        const char *v[2] = {vbuf, larr};

        snprintf(vbuf, sizeof(vbuf), "%lld", vids[k]);
        for (i = 0; i < c->st.nsources; i++)
            avail[i] = 0;
        r = ord_q(c,
                  "SELECT location_id, on_hand - reserved FROM stock_level "
                  "WHERE variant_id = $1 AND location_id = ANY($2::bigint[])",
                  2, v, "levels");
        if (!r)
            goto out;
        for (int row = 0; row < PQntuples(r); row++)
            for (i = 0; i < c->st.nsources; i++)
                if (c->st.sources[i] == ord_ll(r, row, 0))
                    avail[i] = ord_ll(r, row, 1);
        PQclear(r);
        r = NULL;
        got = orders_allocate(need[k], avail, c->st.nsources, take);
        for (i = 0; i < c->st.nsources; i++) {
            if (!take[i])
                continue;
            ll[nl].location_id = c->st.sources[i];
            ll[nl].variant_id = vids[k];
            ll[nl].reserved_delta = take[i];
            nl++;
        }
        if (got < need[k]) {
            const char *sku = "";

            for (i = 0; i < c->o.nlines; i++)
                if (c->line_variant[i] == vids[k] && c->o.lines[i].sku)
                    sku = c->o.lines[i].sku;
            ord_reason_add(c, "SKU '%s': reserved %lld of %lld", sku, got,
                           need[k]);
        }
    }
    rc = ord_move(c, LEDGER_RESERVE, "reserve", ll, nl);
out:
    PQclear(r);
    free(vids);
    free(need);
    free(ll);
    free(varr);
    free(larr);
    return rc;
}

/* The lines of an earlier movement of this order, summed per location and
 * variant: (location, variant, Σ on_hand_delta, Σ reserved_delta). */
static PGresult *ord_moved(struct ord_ctx *c, const char *what)
{
    char key[400];
    const char *v[1] = {key};

    ord_idem(c, what, key, sizeof(key));
    return ord_q(c,
                 "SELECT l.location_id, l.variant_id, sum(l.on_hand_delta), "
                 "sum(l.reserved_delta) FROM stock_movement m "
                 "JOIN stock_movement_line l ON l.movement_id = m.id "
                 "WHERE m.idem_key = $1 GROUP BY 1, 2 ORDER BY 2, 1",
                 1, v, "movement lines");
}

/* Release or ship what the reserve movement reserved. */
static int ord_from_reserve(struct ord_ctx *c, int ship)
{
    PGresult *r = ord_moved(c, "reserve");
    struct ledger_line *ll = NULL;
    size_t nl = 0;
    int rc = -1;

    if (!r)
        return -1;
    ll = calloc((size_t)PQntuples(r) + 1, sizeof(*ll));
    if (!ll) {
        ord_fail(c->errstr, c->errstr_size, "out of memory");
        goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        long long q = ord_ll(r, i, 3);

        if (q <= 0)
            continue;
        ll[nl].location_id = ord_ll(r, i, 0);
        ll[nl].variant_id = ord_ll(r, i, 1);
        ll[nl].reserved_delta = -q;
        ll[nl].on_hand_delta = ship ? -q : 0;
        nl++;
    }
    rc = ship ? ord_move(c, LEDGER_SHIP, "ship", ll, nl)
              : ord_move(c, LEDGER_RELEASE, "release", ll, nl);
out:
    free(ll);
    PQclear(r);
    return rc;
}

/* Return what was shipped to the first source location. */
static int ord_return(struct ord_ctx *c)
{
    PGresult *r = ord_moved(c, "ship");
    struct ledger_line *ll = NULL;
    size_t nl = 0;
    int rc = -1;

    if (!r)
        return -1;
    ll = calloc((size_t)PQntuples(r) + 1, sizeof(*ll));
    if (!ll || c->st.nsources == 0) {
        ord_fail(c->errstr, c->errstr_size,
                 ll ? "store has no source location" : "out of memory");
        goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        long long q = -ord_ll(r, i, 2), vid = ord_ll(r, i, 1);

        if (q <= 0)
            continue;
        if (nl && ll[nl - 1].variant_id == vid) {
            ll[nl - 1].on_hand_delta += q; /* rows are ordered by variant */
            continue;
        }
        ll[nl].location_id = c->st.sources[0];
        ll[nl].variant_id = vid;
        ll[nl].on_hand_delta = q;
        nl++;
    }
    rc = ord_move(c, LEDGER_RETURN, "return", ll, nl);
out:
    free(ll);
    PQclear(r);
    return rc;
}

static enum orders_res ord_res_of_error(struct ord_ctx *c)
{
    if (db_conn_lost(c->pg) || db_state_is(c->sqlstate, DB_DEADLOCK) ||
        db_state_is(c->sqlstate, DB_SERIALIZATION_FAILURE) ||
        db_state_is(c->sqlstate, DB_UNIQUE_VIOLATION) ||
        strncmp(c->sqlstate, "08", 2) == 0 ||
        strncmp(c->sqlstate, "57", 2) == 0 || c->sqlstate[0] == '\0')
        return ORDERS_RETRY;
    return ORDERS_REJECT;
}

#define SQL_ORDER_SELECT                                                       \
    "SELECT id, (extract(epoch FROM remote_updated_at) * 1000000)::bigint, "   \
    "stock_state, attention_reason FROM customer_order "                       \
    "WHERE store_id = $1 AND remote_id = $2 FOR UPDATE"

#define SQL_ORDER_INSERT                                                       \
    "INSERT INTO customer_order (store_id, remote_id, number, status, "        \
    "financial_status, remote_updated_at, total_price, delivery_price, "       \
    "client, fulfillment_status, stock_state, raw, received_at) "              \
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $4, 'none', $10, "            \
    "COALESCE($11::timestamptz, now())) "                                      \
    "ON CONFLICT (store_id, remote_id) DO NOTHING RETURNING id"

#define SQL_ORDER_UPDATE                                                       \
    "UPDATE customer_order SET number = $2, status = $3, "                     \
    "financial_status = $4, remote_updated_at = $5, total_price = $6, "        \
    "delivery_price = $7, client = $8, fulfillment_status = $9, "              \
    "stock_state = $10, attention_reason = $11, raw = $12, "                   \
    "updated_at = now(), applied_at = COALESCE(applied_at, "                   \
    "clock_timestamp()) WHERE id = $1"

enum orders_res orders_apply(PGconn *pg, const char *store, const json_t *order,
                             const char *received_at,
                             struct orders_apply_info *info, char *errstr,
                             size_t errstr_size)
{
    struct ord_ctx c;
    enum orders_res res = ORDERS_RETRY;
    enum orders_stock cur = ORDERS_STOCK_NONE, next;
    PGresult *r = NULL;
    char sid[32], rid[32], *client = NULL, *raw = NULL;
    char *old_reason = NULL;
    int64_t old_us = 0;
    int created = 0, acts, in_tx = 0, st;
    struct orders_apply_info dummy;

    if (!info)
        info = &dummy;
    memset(info, 0, sizeof(*info));
    memset(&c, 0, sizeof(c));
    c.pg = pg;
    c.store_name = store;
    c.errstr = errstr;
    c.errstr_size = errstr_size;
    if (orders_parse(order, &c.o, errstr, errstr_size) < 0)
        return ORDERS_REJECT;
    c.line_variant = calloc(c.o.nlines + 1, sizeof(*c.line_variant));
    client = c.o.client ? json_dumps(c.o.client, JSON_COMPACT) : NULL;
    raw = json_dumps(order, JSON_COMPACT);
    if (!c.line_variant || !raw) {
        ord_fail(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (received_at && clock_rfc3339_parse(received_at, &old_us) < 0)
        received_at = NULL;
    old_us = 0;
    if (db_begin(pg, errstr, errstr_size) < 0)
        goto out;
    in_tx = 1;
    st = ord_store_load(&c);
    if (st < 0) {
        res = ord_res_of_error(&c);
        goto out;
    }
    if (st > 0) {
        ord_fail(errstr, errstr_size, "unknown store '%s'", store);
        res = ORDERS_REJECT;
        goto out;
    }
    snprintf(sid, sizeof(sid), "%lld", c.st.id);
    snprintf(rid, sizeof(rid), "%lld", c.o.remote_id);
    for (int attempt = 0; attempt < 2 && !c.order_id; attempt++) {
        const char *v[2] = {sid, rid};

        r = ord_q(&c, SQL_ORDER_SELECT, 2, v, "select order");
        if (!r) {
            res = ord_res_of_error(&c);
            goto out;
        }
        if (PQntuples(r) == 1) {
            c.order_id = ord_ll(r, 0, 0);
            old_us = ord_ll(r, 0, 1);
            st = orders_stock_parse(PQgetvalue(r, 0, 2));
            cur = st < 0 ? ORDERS_STOCK_NONE : (enum orders_stock)st;
            if (!PQgetisnull(r, 0, 3))
                old_reason = strdup(PQgetvalue(r, 0, 3));
        } else {
            const char *vi[11] = {sid,
                                  rid,
                                  c.o.number,
                                  c.o.fulfillment_status,
                                  c.o.financial_status,
                                  c.o.updated_at,
                                  c.o.total_price[0] ? c.o.total_price : NULL,
                                  c.o.delivery_price[0] ? c.o.delivery_price
                                                        : NULL,
                                  client,
                                  raw,
                                  received_at};

            PQclear(r);
            r = ord_q(&c, SQL_ORDER_INSERT, 11, vi, "insert order");
            if (!r) {
                res = ord_res_of_error(&c);
                goto out;
            }
            if (PQntuples(r) == 1) {
                c.order_id = ord_ll(r, 0, 0);
                created = 1;
            }
        }
        PQclear(r);
        r = NULL;
    }
    if (!c.order_id) {
        ord_fail(errstr, errstr_size, "order row vanished");
        goto out;
    }
    if (!created && c.o.updated_us <= old_us) {
        res = ORDERS_STALE;
        info->order_id = c.order_id;
        goto out; /* rolled back: nothing to keep */
    }
    if (ord_lines_map(&c) < 0 || ord_lines_write(&c) < 0) {
        res = ord_res_of_error(&c);
        goto out;
    }
    acts = orders_transition(cur, c.o.fulfillment_status, &next);
    if ((acts & ORDERS_ACT_RESERVE) && ord_reserve(&c) < 0) {
        res = ord_res_of_error(&c);
        goto out;
    }
    if ((acts & ORDERS_ACT_SHIP) && ord_from_reserve(&c, 1) < 0) {
        res = ord_res_of_error(&c);
        goto out;
    }
    if ((acts & ORDERS_ACT_RELEASE) && ord_from_reserve(&c, 0) < 0) {
        res = ord_res_of_error(&c);
        goto out;
    }
    if ((acts & ORDERS_ACT_RETURN) && ord_return(&c) < 0) {
        res = ord_res_of_error(&c);
        goto out;
    }
    if (acts & ORDERS_ACT_ODD)
        ord_reason_add(&c, "status '%s' after stock state '%s'",
                       c.o.fulfillment_status, orders_stock_name(cur));
    /* Attention is sticky: an operator clears it; new reasons add up. */
    if (old_reason && c.reason[0]) {
        char both[2 * sizeof(c.reason) + 4];

        if (!strstr(old_reason, c.reason)) {
            snprintf(both, sizeof(both), "%s; %s", old_reason, c.reason);
            snprintf(c.reason, sizeof(c.reason), "%.*s",
                     (int)sizeof(c.reason) - 1, both);
        } else {
            snprintf(c.reason, sizeof(c.reason), "%s", old_reason);
        }
    } else if (old_reason) {
        snprintf(c.reason, sizeof(c.reason), "%s", old_reason);
    }
    {
        const char *vu[12] = {NULL,
                              c.o.number,
                              c.reason[0] ? ORDERS_NEEDS_ATTENTION
                                          : c.o.fulfillment_status,
                              c.o.financial_status,
                              c.o.updated_at,
                              c.o.total_price[0] ? c.o.total_price : NULL,
                              c.o.delivery_price[0] ? c.o.delivery_price : NULL,
                              client,
                              c.o.fulfillment_status,
                              orders_stock_name(next),
                              c.reason[0] ? c.reason : NULL,
                              raw};
        char oid[32];

        snprintf(oid, sizeof(oid), "%lld", c.order_id);
        vu[0] = oid;
        r = ord_q(&c, SQL_ORDER_UPDATE, 12, vu, "update order");
        if (!r) {
            res = ord_res_of_error(&c);
            goto out;
        }
        PQclear(r);
        r = NULL;
    }
    if (db_commit(pg, errstr, errstr_size) < 0) {
        res = ORDERS_RETRY;
        goto out;
    }
    in_tx = 0;
    res = ORDERS_APPLIED;
    info->order_id = c.order_id;
    info->created = created;
    info->actions = acts;
    info->attention = c.reason[0] != '\0';
    snprintf(info->reason, sizeof(info->reason), "%s", c.reason);
    snprintf(info->status, sizeof(info->status), "%s",
             c.reason[0] ? ORDERS_NEEDS_ATTENTION : c.o.fulfillment_status);
out:
    PQclear(r);
    if (in_tx)
        db_rollback(pg);
    free(old_reason);
    free(client);
    free(raw);
    free(c.line_variant);
    orders_order_clear(&c.o);
    return res;
}
