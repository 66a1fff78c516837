#include "ledger/orders.h"

#include "lib/clock.h"
#include "lib/db.h"
#include "lib/idarray.h"
#include "lib/money.h"
#include "ledger/ledger.h"

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

int orders_transition(enum orders_stock cur, enum order_status status,
                      enum orders_stock *next)
{
    int shipped =
        status == ORDER_STATUS_SHIPPED || status == ORDER_STATUS_DELIVERED;
    int declined = status == ORDER_STATUS_CANCELLED;
    int returned = status == ORDER_STATUS_RETURNED;

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

/* Per apply: the order, its lines' local variants, the row as found,
 * the reason it needs attention. */
struct ord_ctx {
    PGconn *pg;
    const char *store_name;
    struct ord_store st;
    const struct order *o;
    long long *line_variant; /* local variant per line, 0 unknown */
    char *client;            /* JSON text of o->client, or NULL */
    char *raw;               /* JSON text of the order as received */
    const char *received_at; /* RFC 3339, or NULL: now */
    char sid[32], rid[32];   /* store id, remote id (parameters) */
    char updated[32];        /* o->updated_us (parameter) */
    long long order_id;
    int created;                 /* this version created the row */
    long long old_us;            /* the row's version before */
    enum orders_stock cur, next; /* stock state before and after */
    int acts;                    /* ORDERS_ACT_* of this version */
    char *old_reason;            /* the row's attention reason, or NULL */
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

/* A statement whose rows are not needed: @returns 0, or -1 (errstr). */
static int ord_cmd(struct ord_ctx *c, const char *sql, int n,
                   const char *const *vals, const char *what)
{
    PGresult *r = ord_q(c, sql, n, vals, what);

    if (!r)
        return -1;
    PQclear(r);
    return 0;
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
    for (size_t i = 0; i < c->o->nlines; i++) {
        const struct order_line *l = &c->o->lines[i];

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
    size_t i;

    snprintf(oid, sizeof(oid), "%lld", c->order_id);
    if (ord_cmd(c, "DELETE FROM customer_order_line WHERE order_id = $1", 1, v1,
                "delete lines") < 0)
        return -1;
    for (i = 0; i <= c->o->nlines; i++) {
        const char *v[9];
        int delivery = i == c->o->nlines;

        if (delivery && !c->o->delivery_price[0])
            break; /* no delivery in this order */
        snprintf(no, sizeof(no), "%zu", i + 1);
        if (delivery) {
            snprintf(vid, sizeof(vid), "%lld", c->st.delivery_variant_id);
            v[0] = oid;
            v[1] = no;
            v[2] = NULL;
            v[3] = vid;
            v[4] = c->st.delivery_sku;
            v[5] = c->o->delivery_title ? c->o->delivery_title : "Delivery";
            v[6] = "1";
            v[7] = c->o->delivery_price;
            v[8] = "t";
        } else {
            const struct order_line *l = &c->o->lines[i];

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
        if (ord_cmd(c,
                    "INSERT INTO customer_order_line (order_id, line_no, "
                    "remote_line_id, variant_id, sku, title, quantity, "
                    "price, is_delivery) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                    "$8, $9)",
                    9, v, "insert line") < 0)
            return -1;
    }
    return 0;
}

static void ord_idem(const struct ord_ctx *c, const char *what, char *out,
                     size_t size)
{
    snprintf(out, size, "order:%s:%lld:%s", c->store_name, c->o->remote_id,
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

/* The variants of the order's item lines (unknown lines and the delivery
 * item aside), each once, and the quantity to reserve of each.
 * @returns the number of variants. */
static size_t ord_reserve_need(const struct ord_ctx *c, long long *vids,
                               long long *need)
{
    size_t nv = 0, k;

    for (size_t i = 0; i < c->o->nlines; i++) {
        if (!c->line_variant[i] ||
            c->line_variant[i] == c->st.delivery_variant_id)
            continue;
        for (k = 0; k < nv && vids[k] != c->line_variant[i]; k++)
            ;
        if (k == nv)
            vids[nv++] = c->line_variant[i];
        need[k] += c->o->lines[i].quantity;
    }
    return nv;
}

/* The ledger's lock order: locations (key share), then variants,
 * ascending; availability is read under the variant lock. */
static int ord_reserve_lock(struct ord_ctx *c, const char *larr,
                            const char *varr)
{
    const char *v1[1] = {larr};
    const char *v2[1] = {varr};

    if (ord_cmd(c,
                "SELECT id FROM location WHERE id = ANY($1::bigint[]) "
                "ORDER BY id FOR KEY SHARE",
                1, v1, "lock locations") < 0)
        return -1;
    return ord_cmd(c,
                   "SELECT id FROM variant WHERE id = ANY($1::bigint[]) "
                   "ORDER BY id FOR UPDATE",
                   1, v2, "lock variants");
}

/* What each source location has available of variant @p vid. */
static int ord_available(struct ord_ctx *c, long long vid, const char *larr,
                         long long *avail)
{
    char vbuf[32];
    const char *v[2] = {vbuf, larr};
    PGresult *r;

    snprintf(vbuf, sizeof(vbuf), "%lld", vid);
    for (size_t i = 0; i < c->st.nsources; i++)
        avail[i] = 0;
    r = ord_q(c,
              "SELECT location_id, on_hand - reserved FROM stock_level "
              "WHERE variant_id = $1 AND location_id = ANY($2::bigint[])",
              2, v, "levels");
    if (!r)
        return -1;
    for (int row = 0; row < PQntuples(r); row++)
        for (size_t i = 0; i < c->st.nsources; i++)
            if (c->st.sources[i] == ord_ll(r, row, 0))
                avail[i] = ord_ll(r, row, 1);
    PQclear(r);
    return 0;
}

/* Reserve @p need of variant @p vid over the sources, in order: the
 * movement lines go to ll[*nl..]; a shortage is a reason. */
static int ord_reserve_variant(struct ord_ctx *c, long long vid, long long need,
                               const char *larr, struct ledger_line *ll,
                               size_t *nl)
{
    long long avail[ORD_MAX_SOURCES], take[ORD_MAX_SOURCES], got;
    const char *sku = "";

    if (ord_available(c, vid, larr, avail) < 0)
        return -1;
    got = orders_allocate(need, avail, c->st.nsources, take);
    for (size_t i = 0; i < c->st.nsources; i++) {
        if (!take[i])
            continue;
        ll[*nl].location_id = c->st.sources[i];
        ll[*nl].variant_id = vid;
        ll[*nl].reserved_delta = take[i];
        (*nl)++;
    }
    if (got < need) {
        for (size_t i = 0; i < c->o->nlines; i++)
            if (c->line_variant[i] == vid && c->o->lines[i].sku)
                sku = c->o->lines[i].sku;
        ord_reason_add(c, "SKU '%s': reserved %lld of %lld", sku, got, need);
    }
    return 0;
}

/* Reserve each variant's quantity over the store's sources, in order. */
static int ord_reserve(struct ord_ctx *c)
{
    long long *vids = NULL, *need = NULL;
    struct ledger_line *ll = NULL;
    size_t nv, nl = 0;
    char *varr = NULL, *larr = NULL;
    int rc = -1;

    vids = calloc(c->o->nlines + 1, sizeof(*vids));
    need = calloc(c->o->nlines + 1, sizeof(*need));
    ll = calloc((c->o->nlines + 1) * (c->st.nsources + 1), sizeof(*ll));
    if (!vids || !need || !ll) {
        ord_fail(c->errstr, c->errstr_size, "out of memory");
        goto out;
    }
    nv = ord_reserve_need(c, vids, need);
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
    if (ord_reserve_lock(c, larr, varr) < 0)
        goto out;
    for (size_t k = 0; k < nv; k++)
        if (ord_reserve_variant(c, vids[k], need[k], larr, ll, &nl) < 0)
            goto out;
    rc = ord_move(c, LEDGER_RESERVE, "reserve", ll, nl);
out:
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

int orders_store_platform(PGconn *pg, const char *store, char *platform,
                          size_t platform_size, char *errstr,
                          size_t errstr_size)
{
    const char *v[1] = {store};
    PGresult *r = db_exec(pg, "SELECT platform FROM store WHERE name = $1", 1,
                          v, "store platform", errstr, errstr_size, NULL);
    int rc = 1;

    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        snprintf(platform, platform_size, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

/* The version as a timestamptz parameter: $n::bigint microseconds. */
#define SQL_ORDER_VERSION(n)                                                   \
    "(timestamptz 'epoch' + $" #n "::bigint * interval '1 microsecond')"

#define SQL_ORDER_SELECT                                                       \
    "SELECT id, (extract(epoch FROM remote_updated_at) * 1000000)::bigint, "   \
    "stock_state, attention_reason FROM customer_order "                       \
    "WHERE store_id = $1 AND remote_id = $2 FOR UPDATE"

#define SQL_ORDER_INSERT                                                       \
    "INSERT INTO customer_order (store_id, remote_id, number, status, "        \
    "financial_status, remote_updated_at, total_price, delivery_price, "       \
    "client, fulfillment_status, stock_state, raw, received_at) "              \
    "VALUES ($1, $2, $3, $4, $5, " SQL_ORDER_VERSION(                          \
        6) ", $7, $8, $9, $4, "                                                \
           "'none', $10, COALESCE($11::timestamptz, now())) "                  \
           "ON CONFLICT (store_id, remote_id) DO NOTHING RETURNING id"

#define SQL_ORDER_UPDATE                                                       \
    "UPDATE customer_order SET number = $2, status = $3, "                     \
    "financial_status = $4, remote_updated_at = " SQL_ORDER_VERSION(           \
        5) ", "                                                                \
           "total_price = $6, delivery_price = $7, client = $8, "              \
           "fulfillment_status = $9, stock_state = $10, attention_reason = "   \
           "$11, "                                                             \
           "raw = $12, updated_at = now(), applied_at = COALESCE(applied_at, " \
           "clock_timestamp()) WHERE id = $1"

/* The order's row, locked: @returns 1 found, 0 none, -1 error. */
static int ord_row_select(struct ord_ctx *c)
{
    const char *v[2] = {c->sid, c->rid};
    PGresult *r = ord_q(c, SQL_ORDER_SELECT, 2, v, "select order");
    int st;

    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 0;
    }
    c->order_id = ord_ll(r, 0, 0);
    c->old_us = ord_ll(r, 0, 1);
    st = orders_stock_parse(PQgetvalue(r, 0, 2));
    c->cur = st < 0 ? ORDERS_STOCK_NONE : (enum orders_stock)st;
    if (!PQgetisnull(r, 0, 3))
        c->old_reason = strdup(PQgetvalue(r, 0, 3));
    PQclear(r);
    return 1;
}

/* Insert the order's row unless a concurrent apply did it first. */
static int ord_row_insert(struct ord_ctx *c)
{
    const struct order *o = c->o;
    const char *v[11] = {c->sid,
                         c->rid,
                         o->number,
                         o->status_label,
                         o->payment_status,
                         c->updated,
                         o->total_price[0] ? o->total_price : NULL,
                         o->delivery_price[0] ? o->delivery_price : NULL,
                         c->client,
                         c->raw,
                         c->received_at};
    PGresult *r = ord_q(c, SQL_ORDER_INSERT, 11, v, "insert order");

    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        c->order_id = ord_ll(r, 0, 0);
        c->created = 1;
    }
    PQclear(r);
    return 0;
}

/* Find and lock the order's row, inserting it when new. */
static int ord_row_lock(struct ord_ctx *c)
{
    for (int attempt = 0; attempt < 2 && !c->order_id; attempt++) {
        int found = ord_row_select(c);

        if (found < 0 || (!found && ord_row_insert(c) < 0))
            return -1;
    }
    if (!c->order_id)
        return ord_fail(c->errstr, c->errstr_size, "order row vanished");
    return 0;
}

/* The stock movements of this version's transition. */
static int ord_stock_steps(struct ord_ctx *c)
{
    c->acts = orders_transition(c->cur, c->o->status, &c->next);
    if ((c->acts & ORDERS_ACT_RESERVE) && ord_reserve(c) < 0)
        return -1;
    if ((c->acts & ORDERS_ACT_SHIP) && ord_from_reserve(c, 1) < 0)
        return -1;
    if ((c->acts & ORDERS_ACT_RELEASE) && ord_from_reserve(c, 0) < 0)
        return -1;
    if ((c->acts & ORDERS_ACT_RETURN) && ord_return(c) < 0)
        return -1;
    if (c->acts & ORDERS_ACT_ODD)
        ord_reason_add(c, "status '%s' after stock state '%s'",
                       c->o->status_label, orders_stock_name(c->cur));
    return 0;
}

/* Attention is sticky: an operator clears it; new reasons add up. */
static void ord_reason_merge(struct ord_ctx *c)
{
    char both[2 * sizeof(c->reason) + 4];

    if (!c->old_reason)
        return;
    if (c->reason[0] && !strstr(c->old_reason, c->reason)) {
        snprintf(both, sizeof(both), "%s; %s", c->old_reason, c->reason);
        snprintf(c->reason, sizeof(c->reason), "%.*s",
                 (int)sizeof(c->reason) - 1, both);
    } else {
        snprintf(c->reason, sizeof(c->reason), "%s", c->old_reason);
    }
}

/* customer_order.status: the store's, unless the order needs attention. */
static const char *ord_status(const struct ord_ctx *c)
{
    return c->reason[0] ? ORDERS_NEEDS_ATTENTION : c->o->status_label;
}

static int ord_row_update(struct ord_ctx *c)
{
    const struct order *o = c->o;
    char oid[32];
    const char *v[12] = {oid,
                         o->number,
                         ord_status(c),
                         o->payment_status,
                         c->updated,
                         o->total_price[0] ? o->total_price : NULL,
                         o->delivery_price[0] ? o->delivery_price : NULL,
                         c->client,
                         o->status_label,
                         orders_stock_name(c->next),
                         c->reason[0] ? c->reason : NULL,
                         c->raw};

    snprintf(oid, sizeof(oid), "%lld", c->order_id);
    return ord_cmd(c, SQL_ORDER_UPDATE, 12, v, "update order");
}

/* Everything of one apply inside its transaction. */
static enum orders_res ord_apply_steps(struct ord_ctx *c)
{
    int st = ord_store_load(c);

    if (st < 0)
        return ord_res_of_error(c);
    if (st > 0) {
        ord_fail(c->errstr, c->errstr_size, "unknown store '%s'",
                 c->store_name);
        return ORDERS_REJECT;
    }
    snprintf(c->sid, sizeof(c->sid), "%lld", c->st.id);
    if (ord_row_lock(c) < 0)
        return ord_res_of_error(c);
    if (!c->created && c->o->updated_us <= c->old_us)
        return ORDERS_STALE; /* rolled back: nothing to keep */
    if (ord_lines_map(c) < 0 || ord_lines_write(c) < 0 ||
        ord_stock_steps(c) < 0)
        return ord_res_of_error(c);
    ord_reason_merge(c);
    if (ord_row_update(c) < 0)
        return ord_res_of_error(c);
    return ORDERS_APPLIED;
}

static int ord_ctx_init(struct ord_ctx *c, PGconn *pg, const char *store,
                        const struct order *o, const json_t *raw,
                        const char *received_at, char *errstr,
                        size_t errstr_size)
{
    long long us;

    memset(c, 0, sizeof(*c));
    c->pg = pg;
    c->store_name = store;
    c->o = o;
    c->errstr = errstr;
    c->errstr_size = errstr_size;
    c->cur = ORDERS_STOCK_NONE;
    if (received_at && order_ts_parse(received_at, &us) == 0)
        c->received_at = received_at;
    snprintf(c->rid, sizeof(c->rid), "%lld", o->remote_id);
    snprintf(c->updated, sizeof(c->updated), "%lld", o->updated_us);
    c->line_variant = calloc(o->nlines + 1, sizeof(*c->line_variant));
    c->client = o->client ? json_dumps(o->client, JSON_COMPACT) : NULL;
    c->raw = json_dumps(raw, JSON_COMPACT);
    if (!c->line_variant || !c->raw)
        return ord_fail(errstr, errstr_size, "out of memory");
    return 0;
}

static void ord_ctx_free(struct ord_ctx *c)
{
    free(c->old_reason);
    free(c->client);
    free(c->raw);
    free(c->line_variant);
}

static void ord_info_fill(const struct ord_ctx *c, enum orders_res res,
                          struct orders_apply_info *info)
{
    if (res == ORDERS_STALE)
        info->order_id = c->order_id;
    if (res != ORDERS_APPLIED)
        return;
    info->order_id = c->order_id;
    info->created = c->created;
    info->actions = c->acts;
    info->attention = c->reason[0] != '\0';
    snprintf(info->reason, sizeof(info->reason), "%s", c->reason);
    snprintf(info->status, sizeof(info->status), "%s", ord_status(c));
}

enum orders_res orders_apply(PGconn *pg, const char *store,
                             const struct order *o, const json_t *raw,
                             const char *received_at,
                             struct orders_apply_info *info, char *errstr,
                             size_t errstr_size)
{
    struct orders_apply_info dummy;
    struct ord_ctx c;
    enum orders_res res = ORDERS_RETRY;

    if (!info)
        info = &dummy;
    memset(info, 0, sizeof(*info));
    if (ord_ctx_init(&c, pg, store, o, raw, received_at, errstr, errstr_size) <
            0 ||
        db_begin(pg, errstr, errstr_size) < 0)
        goto out;
    res = ord_apply_steps(&c);
    if (res == ORDERS_APPLIED && db_commit(pg, errstr, errstr_size) < 0)
        res = ORDERS_RETRY;
    if (res != ORDERS_APPLIED)
        db_rollback(pg);
    ord_info_fill(&c, res, info);
out:
    ord_ctx_free(&c);
    return res;
}
