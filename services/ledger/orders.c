#include "ledger/orders.h"

#include "ledger/catalog.h"
#include "ledger/ledger.h"
#include "ledger/remote_map.h"
#include "ledger/stores.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/money.h"

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
        if (shipped) { /* what ships is this version's lines */
            *next = ORDERS_STOCK_SHIPPED;
            return ORDERS_ACT_RESERVE | ORDERS_ACT_SHIP;
        }
        if (declined || returned) {
            *next = ORDERS_STOCK_RELEASED;
            return ORDERS_ACT_RELEASE;
        }
        return ORDERS_ACT_RESERVE; /* to this version's lines */
    case ORDERS_STOCK_SHIPPED:
        if (returned || declined) { /* cancelled after shipment: back */
            *next = ORDERS_STOCK_RETURNED;
            return ORDERS_ACT_RETURN;
        }
        if (shipped)
            return 0;
        return ORDERS_ACT_ODD; /* re-opened after shipment */
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
    long long return_location; /* where returns go */
};

/* Per apply: the order, its lines' local variants, the row as found,
 * the reason it needs attention. */
struct ord_ctx {
    PGconn *pg;
    const char *store_name;
    struct ord_store st;
    const struct order *o;
    long long *line_variant; /* local variant per line, 0 unknown */
    char (*line_why)[128];   /* why each line needs attention, "" none */
    unsigned char *dropped;  /* lines the operator dropped */
    json_t *resolution;      /* the operator's decisions (owned), or NULL */
    char tag[40];            /* movement key suffix of a change: version */
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

/* The store's id, delivery item and source locations: 0, 1 when there
 * is no such store, -1 (errstr, sqlstate). */
static int ord_store_load(struct ord_ctx *c)
{
    struct store_conf conf;
    int rc;

    rc = stores_settings_load(c->pg, c->store_name, &conf, c->errstr,
                              c->errstr_size, c->sqlstate);
    if (rc != 0)
        return rc;
    c->st.id = conf.id;
    c->st.delivery_variant_id = conf.delivery_variant_id;
    c->st.return_location = conf.return_location_id;
    snprintf(c->st.delivery_sku, sizeof(c->st.delivery_sku), "%s",
             conf.delivery_sku);
    for (size_t i = 0; i < conf.n_sources && c->st.nsources < ORD_MAX_SOURCES;
         i++)
        c->st.sources[c->st.nsources++] = conf.source_location_ids[i];
    store_conf_clear(&conf);
    return 0;
}

/* The operator's decision on line @p l of this version (`orders resolve`),
 * matched by the store's line id, else by SKU; NULL when none. */
static json_t *ord_decision(const struct ord_ctx *c, const struct order_line *l)
{
    json_t *e;
    size_t k;

    json_array_foreach(json_object_get(c->resolution, "lines"), k, e)
    {
        json_int_t rl =
            json_integer_value(json_object_get(e, "remote_line_id"));
        const char *sku = json_string_value(json_object_get(e, "sku"));

        if (rl ? rl == l->remote_line_id
               : (sku && l->sku && strcmp(sku, l->sku) == 0))
            return e;
    }
    return NULL;
}

/* Line @p i as the operator decided: dropped (no variant, no attention)
 * or mapped to a SKU.  @returns 0, or -1 (errstr). */
static int ord_decision_apply(struct ord_ctx *c, size_t i, const json_t *d)
{
    const char *sku = json_string_value(json_object_get(d, "map"));
    long long id;
    int found;

    if (!sku) {
        c->dropped[i] = 1;
        return 0;
    }
    found = catalog_variant_find(c->pg, sku, &id, c->errstr, c->errstr_size,
                                 c->sqlstate);
    if (found < 0)
        return -1;
    if (found) {
        c->line_variant[i] = id;
        return 0;
    }
    ord_reason_add(c, "line %zu: mapped to unknown SKU '%s'", i + 1, sku);
    snprintf(c->line_why[i], sizeof(c->line_why[i]),
             "mapped to unknown SKU '%s'", sku);
    return 0;
}

/* Local variant of each line: the operator's decision, else the remote
 * variant id via remote_map, then SKU. */
static int ord_lines_map(struct ord_ctx *c)
{
    long long id;
    int found;

    for (size_t i = 0; i < c->o->nlines; i++) {
        const struct order_line *l = &c->o->lines[i];
        const json_t *d = ord_decision(c, l);

        c->line_variant[i] = 0;
        if (d) {
            if (ord_decision_apply(c, i, d) < 0)
                return -1;
            continue;
        }
        if (l->remote_variant_id > 0) {
            /* remote_map reports no SQLSTATE: a failure here retries. */
            c->sqlstate[0] = '\0';
            found = remote_map_find_local(c->pg, c->st.id, REMOTE_MAP_VARIANT,
                                          l->remote_variant_id, &id, c->errstr,
                                          c->errstr_size);
            if (found < 0)
                return -1;
            if (found)
                c->line_variant[i] = id;
        }
        if (!c->line_variant[i] && l->sku) {
            found = catalog_variant_find(c->pg, l->sku, &id, c->errstr,
                                         c->errstr_size, c->sqlstate);
            if (found < 0)
                return -1;
            if (found)
                c->line_variant[i] = id;
        }
        if (!c->line_variant[i]) {
            ord_reason_add(c, "line %zu: unknown SKU '%s' (variant %lld)",
                           i + 1, l->sku ? l->sku : "", l->remote_variant_id);
            snprintf(c->line_why[i], sizeof(c->line_why[i]),
                     "unknown SKU '%s' (variant %lld)", l->sku ? l->sku : "",
                     l->remote_variant_id);
        }
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
        const char *v[11];
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
            v[9] = NULL;
            v[10] = "f";
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
            v[9] = c->line_why[i][0] ? c->line_why[i] : NULL;
            v[10] = c->dropped[i] ? "t" : "f";
        }
        if (ord_cmd(c,
                    "INSERT INTO customer_order_line (order_id, line_no, "
                    "remote_line_id, variant_id, sku, title, quantity, "
                    "price, is_delivery, attention, dropped) VALUES ($1, $2, "
                    "$3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    11, v, "insert line") < 0)
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

/* The variants of the order's item lines (unknown, dropped lines and the
 * delivery item aside), each once, and the quantity wanted of each.
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

/* The SKU of the order's line of variant @p vid ("" when none). */
static const char *ord_vid_sku(const struct ord_ctx *c, long long vid)
{
    for (size_t i = 0; i < c->o->nlines; i++)
        if (c->line_variant[i] == vid && c->o->lines[i].sku)
            return c->o->lines[i].sku;
    return "";
}

/* The shortage of variant @p vid: a reason for the order and for each of
 * its lines. */
static void ord_short(struct ord_ctx *c, long long vid, long long got,
                      long long need)
{
    const char *sku = ord_vid_sku(c, vid);

    ord_reason_add(c, "SKU '%s': reserved %lld of %lld", sku, got, need);
    for (size_t i = 0; i < c->o->nlines; i++)
        if (c->line_variant[i] == vid)
            snprintf(c->line_why[i], sizeof(c->line_why[i]),
                     "reserved %lld of %lld", got, need);
}

/* Reserve @p more of variant @p vid over the sources, in order: the
 * movement lines go to ll[*nl..]; @returns the units reserved, -1. */
static long long ord_reserve_variant(struct ord_ctx *c, long long vid,
                                     long long more, struct ledger_line *ll,
                                     size_t *nl)
{
    long long avail[ORD_MAX_SOURCES], take[ORD_MAX_SOURCES], got;

    /* What each source location has, read under the variant's lock. */
    if (ledger_level_available(c->pg, vid, c->st.sources, c->st.nsources, avail,
                               c->errstr, c->errstr_size, c->sqlstate) < 0)
        return -1;
    got = orders_allocate(more, avail, c->st.nsources, take);
    for (size_t i = 0; i < c->st.nsources; i++) {
        if (!take[i])
            continue;
        ll[*nl].location_id = c->st.sources[i];
        ll[*nl].variant_id = vid;
        ll[*nl].reserved_delta = take[i];
        (*nl)++;
    }
    return got;
}

/* Where location @p loc comes in the store's reservation order; a
 * location no longer among the store's sources comes last (so it is
 * released first). */
static long long ord_source_rank(const struct ord_ctx *c, long long loc)
{
    for (size_t i = 0; i < c->st.nsources; i++)
        if (c->st.sources[i] == loc)
            return (long long)i;
    return (long long)c->st.nsources;
}

/* Release @p less of variant @p vid from the order's net reservation
 * @p net (n rows), the last source in reservation order first: the
 * movement lines go to rl[*nr..]. */
static void ord_unreserve_variant(const struct ord_ctx *c, long long vid,
                                  long long less, const struct ledger_line *net,
                                  size_t n, struct ledger_line *rl, size_t *nr)
{
    while (less > 0) {
        const struct ledger_line *pick = NULL;
        long long q;

        for (size_t i = 0; i < n; i++) {
            long long done = 0;

            if (net[i].variant_id != vid || net[i].reserved_delta <= 0)
                continue;
            for (size_t k = 0; k < *nr; k++)
                if (rl[k].location_id == net[i].location_id &&
                    rl[k].variant_id == vid)
                    done = -rl[k].reserved_delta;
            if (net[i].reserved_delta - done <= 0)
                continue;
            if (!pick || ord_source_rank(c, net[i].location_id) >
                             ord_source_rank(c, pick->location_id))
                pick = &net[i];
        }
        if (!pick)
            return;
        q = pick->reserved_delta < less ? pick->reserved_delta : less;
        rl[*nr].location_id = pick->location_id;
        rl[*nr].variant_id = vid;
        rl[*nr].reserved_delta = -q;
        (*nr)++;
        less -= q;
    }
}

/* The order's net reservation of variant @p vid. */
static long long ord_net_reserved(const struct ledger_line *net, size_t n,
                                  long long vid)
{
    long long q = 0;

    for (size_t i = 0; i < n; i++)
        if (net[i].variant_id == vid)
            q += net[i].reserved_delta;
    return q;
}

/* The order's movements so far, summed (ledger_order_sums()). */
static int ord_net(struct ord_ctx *c, struct ledger_line **net, size_t *n)
{
    return ledger_order_sums(c->pg, c->order_id, net, n, c->errstr,
                             c->errstr_size, c->sqlstate);
}

/* Lock the sources, the locations the order holds stock at, and the
 * variants, in the ledger's order (availability is read under it). */
static int ord_lock(struct ord_ctx *c, const long long *vids, size_t nv,
                    const struct ledger_line *net, size_t n)
{
    long long *locs = calloc(c->st.nsources + n + 1, sizeof(*locs));
    size_t nl = 0;
    int rc;

    if (!locs)
        return ord_fail(c->errstr, c->errstr_size, "out of memory");
    for (size_t i = 0; i < c->st.nsources; i++)
        locs[nl++] = c->st.sources[i];
    for (size_t i = 0; i < n; i++)
        locs[nl++] = net[i].location_id;
    rc = ledger_stock_lock(c->pg, locs, nl, vids, nv, c->errstr, c->errstr_size,
                           c->sqlstate);
    free(locs);
    return rc;
}

/* Per variant, the movement lines that bring the order's reservation to
 * what its lines want: more reserved (ll) or some released (rl). */
static int ord_reserve_diff(struct ord_ctx *c, const long long *vids,
                            const long long *need, size_t nv,
                            const struct ledger_line *net, size_t n,
                            struct ledger_line *ll, size_t *nl,
                            struct ledger_line *rl, size_t *nr)
{
    for (size_t k = 0; k < nv; k++) {
        long long have = ord_net_reserved(net, n, vids[k]), got;

        if (need[k] < have) {
            ord_unreserve_variant(c, vids[k], have - need[k], net, n, rl, nr);
            continue;
        }
        if (need[k] == have)
            continue;
        got = c->st.nsources
                  ? ord_reserve_variant(c, vids[k], need[k] - have, ll, nl)
                  : 0;
        if (got < 0)
            return -1;
        if (have + got < need[k])
            ord_short(c, vids[k], have + got, need[k]);
    }
    return 0;
}

/* The movement keys of bringing the reservation to this version's lines:
 * "reserve" the first time, "reserve:<version>" / "release:<version>"
 * after a change of lines (each version applies once). */
static void ord_reserve_keys(const struct ord_ctx *c, char *res, char *rel,
                             size_t size)
{
    if (c->cur == ORDERS_STOCK_NONE) {
        snprintf(res, size, "reserve");
        snprintf(rel, size, "release");
        return;
    }
    snprintf(res, size, "reserve:%s", c->tag);
    snprintf(rel, size, "release:%s", c->tag);
}

/* Bring the order's reservation to its lines: reserve what is missing
 * over the store's sources, in order, release what is no longer wanted
 * (the last source first). */
static int ord_reserve(struct ord_ctx *c)
{
    long long *vids = NULL, *need = NULL;
    struct ledger_line *ll = NULL, *rl = NULL, *net = NULL;
    size_t nv, nn = 0, nl = 0, nr = 0, cap;
    char kres[64], krel[64];
    int rc = -1;

    if (ord_net(c, &net, &nn) < 0)
        return -1;
    cap = c->o->nlines + nn + 1;
    vids = calloc(cap, sizeof(*vids));
    need = calloc(cap, sizeof(*need));
    ll = calloc(cap * (c->st.nsources + 1), sizeof(*ll));
    rl = calloc(cap * (nn + 1), sizeof(*rl));
    if (!vids || !need || !ll || !rl) {
        ord_fail(c->errstr, c->errstr_size, "out of memory");
        goto out;
    }
    nv = ord_reserve_need(c, vids, need);
    for (size_t i = 0; i < nn; i++) { /* reserved, no longer wanted */
        size_t k;

        for (k = 0; k < nv && vids[k] != net[i].variant_id; k++)
            ;
        if (k == nv && net[i].reserved_delta > 0)
            vids[nv++] = net[i].variant_id; /* need 0 */
    }
    if (nv == 0)
        goto done;
    if (ord_lock(c, vids, nv, net, nn) < 0 ||
        ord_reserve_diff(c, vids, need, nv, net, nn, ll, &nl, rl, &nr) < 0)
        goto out;
    ord_reserve_keys(c, kres, krel, sizeof(kres));
    if (ord_move(c, LEDGER_RESERVE, kres, ll, nl) < 0 ||
        ord_move(c, LEDGER_RELEASE, krel, rl, nr) < 0)
        goto out;
done:
    rc = 0;
out:
    free(vids);
    free(need);
    free(ll);
    free(rl);
    free(net);
    return rc;
}

/* Release or ship what the order holds reserved. */
static int ord_from_reserve(struct ord_ctx *c, int ship)
{
    struct ledger_line *sums = NULL, *ll = NULL;
    size_t n = 0, nl = 0;
    int rc = -1;

    if (ord_net(c, &sums, &n) < 0)
        return -1;
    ll = calloc(n + 1, sizeof(*ll));
    if (!ll) {
        ord_fail(c->errstr, c->errstr_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        long long q = sums[i].reserved_delta;

        if (q <= 0)
            continue;
        ll[nl].location_id = sums[i].location_id;
        ll[nl].variant_id = sums[i].variant_id;
        ll[nl].reserved_delta = -q;
        ll[nl].on_hand_delta = ship ? -q : 0;
        nl++;
    }
    rc = ship ? ord_move(c, LEDGER_SHIP, "ship", ll, nl)
              : ord_move(c, LEDGER_RELEASE, "release", ll, nl);
out:
    free(ll);
    free(sums);
    return rc;
}

/* Return what the order shipped (and did not get back yet) to the
 * store's return location. */
static int ord_return(struct ord_ctx *c)
{
    struct ledger_line *sums = NULL, *ll = NULL;
    size_t n = 0, nl = 0;
    int rc = -1;

    if (ord_net(c, &sums, &n) < 0)
        return -1;
    ll = calloc(n + 1, sizeof(*ll));
    if (!ll) {
        ord_fail(c->errstr, c->errstr_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        long long q = -sums[i].on_hand_delta, vid = sums[i].variant_id;

        if (q <= 0)
            continue;
        if (nl && ll[nl - 1].variant_id == vid) {
            ll[nl - 1].on_hand_delta += q; /* rows are ordered by variant */
            continue;
        }
        ll[nl].location_id = c->st.return_location;
        ll[nl].variant_id = vid;
        ll[nl].on_hand_delta = q;
        nl++;
    }
    rc = ord_move(c, LEDGER_RETURN, "return", ll, nl);
out:
    free(ll);
    free(sums);
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
    struct store_conf conf;
    int rc = stores_settings_load(pg, store, &conf, errstr, errstr_size, NULL);

    if (rc == 0)
        snprintf(platform, platform_size, "%s", conf.platform);
    store_conf_clear(&conf);
    return rc;
}

/* The version as a timestamptz parameter: $n::bigint microseconds. */
#define SQL_ORDER_VERSION(n)                                                   \
    "(timestamptz 'epoch' + $" #n "::bigint * interval '1 microsecond')"

#define SQL_ORDER_SELECT                                                       \
    "SELECT id, (extract(epoch FROM remote_updated_at) * 1000000)::bigint, "   \
    "stock_state, attention_reason, resolution::text FROM customer_order "     \
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
    if (!PQgetisnull(r, 0, 4))
        c->resolution = json_loads(PQgetvalue(r, 0, 4), 0, NULL);
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

/* The version's lines, stock and row (after the row is locked). */
static enum orders_res ord_version_write(struct ord_ctx *c)
{
    if (ord_lines_map(c) < 0 || ord_stock_steps(c) < 0 ||
        ord_lines_write(c) < 0)
        return ord_res_of_error(c);
    ord_reason_merge(c);
    if (ord_row_update(c) < 0)
        return ord_res_of_error(c);
    return ORDERS_APPLIED;
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
    return ord_version_write(c);
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
    c->line_why = calloc(o->nlines + 1, sizeof(*c->line_why));
    c->dropped = calloc(o->nlines + 1, sizeof(*c->dropped));
    snprintf(c->tag, sizeof(c->tag), "%lld", o->updated_us);
    c->client = o->client ? json_dumps(o->client, JSON_COMPACT) : NULL;
    c->raw = json_dumps(raw, JSON_COMPACT);
    if (!c->line_variant || !c->line_why || !c->dropped || !c->raw)
        return ord_fail(errstr, errstr_size, "out of memory");
    return 0;
}

static void ord_ctx_free(struct ord_ctx *c)
{
    free(c->old_reason);
    free(c->client);
    free(c->raw);
    free(c->line_variant);
    free(c->line_why);
    free(c->dropped);
    json_decref(c->resolution);
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

/* What a resolve decides (orders_resolve()'s arguments). */
struct ord_resolve_args {
    const struct orders_decision *d;
    size_t nd;
    const char *by;
};

static enum orders_res ord_resolve_steps(struct ord_ctx *c,
                                         const struct ord_resolve_args *a);

/* The steps of an apply (@p arg NULL) or a resolve (@p arg the
 * decisions) in a transaction of their own, committed when applied; the
 * context is freed.  A resolve's movements get keys of their own
 * ("reserve:r<when>"), never a version's. */
static enum orders_res ord_run(struct ord_ctx *c,
                               const struct ord_resolve_args *arg,
                               struct orders_apply_info *info)
{
    enum orders_res res = ORDERS_RETRY;

    if (arg)
        snprintf(c->tag, sizeof(c->tag), "r%lld", (long long)clock_wall_us());
    if (db_begin(c->pg, c->errstr, c->errstr_size) == 0) {
        res = arg ? ord_resolve_steps(c, arg) : ord_apply_steps(c);
        if (res == ORDERS_APPLIED &&
            db_commit(c->pg, c->errstr, c->errstr_size) < 0)
            res = ORDERS_RETRY;
        if (res != ORDERS_APPLIED)
            db_rollback(c->pg);
        ord_info_fill(c, res, info);
    }
    ord_ctx_free(c);
    return res;
}

enum orders_res orders_apply(PGconn *pg, const char *store,
                             const struct order *o, const json_t *raw,
                             const char *received_at,
                             struct orders_apply_info *info, char *errstr,
                             size_t errstr_size)
{
    struct orders_apply_info dummy;
    struct ord_ctx c;

    if (!info)
        info = &dummy;
    memset(info, 0, sizeof(*info));
    if (ord_ctx_init(&c, pg, store, o, raw, received_at, errstr, errstr_size) <
        0) {
        ord_ctx_free(&c);
        return ORDERS_RETRY;
    }
    return ord_run(&c, NULL, info);
}

/* A version that cannot be applied, kept as a needs-attention order: a
 * new row, or a newer version marking the existing one (its lines and
 * stock untouched).  Returns whether the store exists and the row's id. */
#define SQL_ORDER_HOLD                                                         \
    "WITH s AS (SELECT id FROM store WHERE name = $1), "                       \
    "h AS (INSERT INTO customer_order (store_id, remote_id, status, "          \
    "remote_updated_at, attention_reason, raw, received_at, applied_at) "      \
    "SELECT s.id, $2, 'needs_attention', " SQL_ORDER_VERSION(                  \
        3) ", $4, $5, "                                                        \
           "COALESCE($6::timestamptz, now()), clock_timestamp() FROM s "       \
           "ON CONFLICT (store_id, remote_id) DO UPDATE SET status = "         \
           "'needs_attention', attention_reason = EXCLUDED.attention_reason, " \
           "raw = EXCLUDED.raw, remote_updated_at = "                          \
           "EXCLUDED.remote_updated_at, updated_at = now() "                   \
           "WHERE customer_order.remote_updated_at < "                         \
           "EXCLUDED.remote_updated_at "                                       \
           "RETURNING id, (xmax = 0) AS created) "                             \
           "SELECT (SELECT count(*) FROM s), h.id, h.created "                 \
           "FROM (SELECT 1) one LEFT JOIN h ON true"

/* hold's answer: held, stale, or no such store. */
static enum orders_res ord_hold_result(const PGresult *r, const char *store,
                                       const char *reason,
                                       struct orders_apply_info *info,
                                       char *errstr, size_t errstr_size)
{
    if (strcmp(PQgetvalue(r, 0, 0), "0") == 0) {
        ord_fail(errstr, errstr_size, "unknown store '%s'", store);
        return ORDERS_REJECT;
    }
    if (PQgetisnull(r, 0, 1))
        return ORDERS_STALE;
    info->order_id = ord_ll(r, 0, 1);
    info->created = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
    info->attention = 1;
    snprintf(info->reason, sizeof(info->reason), "%s", reason);
    snprintf(info->status, sizeof(info->status), "needs_attention");
    return ORDERS_APPLIED;
}

enum orders_res orders_hold(PGconn *pg, const char *store, long long remote_id,
                            long long updated_us, const json_t *raw,
                            const char *reason, const char *received_at,
                            struct orders_apply_info *info, char *errstr,
                            size_t errstr_size)
{
    struct orders_apply_info dummy;
    struct ord_ctx c = {.pg = pg, .errstr = errstr, .errstr_size = errstr_size};
    const char *vals[6];
    enum orders_res res;
    long long us;
    PGresult *r;

    if (!info)
        info = &dummy;
    memset(info, 0, sizeof(*info));
    c.raw = json_dumps(raw, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!c.raw) {
        ord_fail(errstr, errstr_size, "out of memory");
        return ORDERS_RETRY;
    }
    snprintf(c.rid, sizeof(c.rid), "%lld", remote_id);
    snprintf(c.updated, sizeof(c.updated), "%lld", updated_us);
    if (received_at && order_ts_parse(received_at, &us) < 0)
        received_at = NULL;
    vals[0] = store, vals[1] = c.rid, vals[2] = c.updated, vals[3] = reason;
    vals[4] = c.raw, vals[5] = received_at;
    r = ord_q(&c, SQL_ORDER_HOLD, 6, vals, "hold order");
    free(c.raw);
    if (!r)
        return ord_res_of_error(&c);
    res = ord_hold_result(r, store, reason, info, errstr, errstr_size);
    PQclear(r);
    return res;
}

/* ---- the polling backstop's cursor -------------------------------------- */

int orders_cursor_get(PGconn *pg, long long store_id, char *since,
                      size_t since_size, long long *after_id, char *errstr,
                      size_t errstr_size)
{
    char sid[32];
    const char *v[1] = {sid};
    PGresult *r;
    int found;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    r = db_exec(pg,
                "SELECT updated_since, from_id FROM order_poll_cursor "
                "WHERE store_id = $1",
                1, v, "poll cursor", errstr, errstr_size, NULL);
    if (!r)
        return -1;
    found = PQntuples(r) == 1;
    if (found) {
        snprintf(since, since_size, "%s", PQgetvalue(r, 0, 0));
        *after_id = ord_ll(r, 0, 1);
    }
    PQclear(r);
    return found;
}

int orders_cursor_put(PGconn *pg, long long store_id, const char *since,
                      long long after_id, char *errstr, size_t errstr_size)
{
    char sid[32], fid[32];
    const char *v[3] = {sid, since, fid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(fid, sizeof(fid), "%lld", after_id);
    return db_cmd(pg,
                  "INSERT INTO order_poll_cursor (store_id, updated_since, "
                  "from_id) VALUES ($1, $2, $3) ON CONFLICT (store_id) DO "
                  "UPDATE SET updated_since = EXCLUDED.updated_since, "
                  "from_id = EXCLUDED.from_id, updated_at = now()",
                  3, v, "save poll cursor", errstr, errstr_size);
}

/* ---- reading orders back (`omnisync orders`) ---------------------------- */

#define ORDERS_SQL_LIST                                                        \
    "SELECT coalesce(json_agg(x ORDER BY x.store, x.remote_id), '[]') FROM ("  \
    " SELECT s.name AS store, o.remote_id, o.number, o.status,"                \
    "  o.fulfillment_status, o.financial_status, o.stock_state,"               \
    "  o.total_price::text AS total_price,"                                    \
    "  o.delivery_price::text AS delivery_price,"                              \
    "  (SELECT count(*) FROM customer_order_line l WHERE l.order_id = o.id"    \
    "   AND NOT l.is_delivery) AS lines,"                                      \
    "  to_char(o.remote_updated_at AT TIME ZONE 'UTC',"                        \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS remote_updated_at,"            \
    "  o.attention_reason,"                                                    \
    "  (SELECT coalesce(json_agg(json_build_object('store', s.name,"           \
    "    'remote_id', o.remote_id, 'line', l.line_no,"                         \
    "    'sku', l.sku, 'quantity', l.quantity, 'reason', l.attention)"         \
    "    ORDER BY l.line_no), '[]') FROM customer_order_line l"                \
    "   WHERE l.order_id = o.id AND l.attention IS NOT NULL) AS line_reasons," \
    "  o.resolved_by,"                                                         \
    "  to_char(o.resolved_at AT TIME ZONE 'UTC',"                              \
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS resolved_at"                      \
    " FROM customer_order o JOIN store s ON s.id = o.store_id"                 \
    " WHERE ($1::text IS NULL OR s.name = $1)"                                 \
    "  AND ($2::text IS NULL OR o.status = $2 OR o.fulfillment_status = $2)"   \
    "  AND ($3::text IS NULL OR o.attention_reason IS NOT NULL)) x"

#define ORDERS_SQL_SHOW                                                        \
    "SELECT json_build_object("                                                \
    " 'store', s.name, 'remote_id', o.remote_id, 'number', o.number,"          \
    " 'status', o.status, 'fulfillment_status', o.fulfillment_status,"         \
    " 'financial_status', o.financial_status, 'stock_state', o.stock_state,"   \
    " 'attention_reason', o.attention_reason,"                                 \
    " 'resolution', o.resolution, 'resolved_by', o.resolved_by,"               \
    " 'resolved_at', o.resolved_at,"                                           \
    " 'total_price', o.total_price::text,"                                     \
    " 'delivery_price', o.delivery_price::text, 'client', o.client,"           \
    " 'remote_updated_at', o.remote_updated_at, 'received_at', o.received_at," \
    " 'applied_at', o.applied_at, 'updated_at', o.updated_at,"                 \
    " 'lines', (SELECT coalesce(json_agg(json_build_object("                   \
    "   'line_no', l.line_no, 'remote_line_id', l.remote_line_id,"             \
    "   'variant_id', l.variant_id, 'sku', l.sku, 'title', l.title,"           \
    "   'quantity', l.quantity, 'price', l.price::text,"                       \
    "   'is_delivery', l.is_delivery, 'attention', l.attention,"               \
    "   'dropped', l.dropped) ORDER BY l.line_no), '[]')"                      \
    "   FROM customer_order_line l WHERE l.order_id = o.id),"                  \
    " 'movements', (SELECT coalesce(json_agg(json_build_object("               \
    "   'id', m.id, 'kind', m.kind, 'idem_key', m.idem_key,"                   \
    "   'created_at', m.created_at,"                                           \
    "   'lines', (SELECT json_agg(json_build_object("                          \
    "     'location', lo.code, 'sku', v.sku,"                                  \
    "     'on_hand_delta', ml.on_hand_delta,"                                  \
    "     'reserved_delta', ml.reserved_delta) ORDER BY ml.line_no)"           \
    "     FROM stock_movement_line ml JOIN location lo ON lo.id ="             \
    "     ml.location_id JOIN variant v ON v.id = ml.variant_id"               \
    "     WHERE ml.movement_id = m.id)) ORDER BY m.id), '[]')"                 \
    "   FROM stock_movement m WHERE m.order_id = o.id))"                       \
    " FROM customer_order o JOIN store s ON s.id = o.store_id"                 \
    " WHERE s.name = $1 AND o.remote_id = $2::bigint"

/* The one JSON value of a query returning one json row (json null when it
 * has no row or SQL NULL); NULL with errstr. */
static json_t *ord_query_json(PGconn *pg, const char *sql, int n,
                              const char *const *vals, const char *what,
                              char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    PGresult *res = db_exec(pg, sql, n, vals, what, errstr, errstr_size, NULL);
    json_t *j = NULL;

    if (!res)
        return NULL;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        j = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
        if (!j)
            snprintf(errstr, errstr_size, "%s: bad JSON from the ledger: %s",
                     what, jerr.text);
    } else {
        j = json_null();
    }
    PQclear(res);
    return j;
}

json_t *orders_list_json(PGconn *pg, const char *store, const char *status,
                         int needs_attention, char *errstr, size_t errstr_size)
{
    const char *vals[3] = {store, status, needs_attention ? "1" : NULL};

    return ord_query_json(pg, ORDERS_SQL_LIST, 3, vals, "list orders", errstr,
                          errstr_size);
}

json_t *orders_show_json(PGconn *pg, const char *store, const char *remote_id,
                         char *errstr, size_t errstr_size)
{
    const char *vals[2] = {store, remote_id};

    return ord_query_json(pg, ORDERS_SQL_SHOW, 2, vals, "show order", errstr,
                          errstr_size);
}

/* ---- the operator's decision (`omnisync orders resolve`) ---------------- */

/* Drop the earlier decision on the line that @p e names (same store line
 * id, else same SKU). */
static void ord_resolution_forget(json_t *lines, const json_t *e)
{
    json_int_t rl = json_integer_value(json_object_get(e, "remote_line_id"));
    const char *sku = json_string_value(json_object_get(e, "sku"));
    size_t k = json_array_size(lines);

    while (k-- > 0) {
        const json_t *o = json_array_get(lines, k);
        json_int_t orl =
            json_integer_value(json_object_get(o, "remote_line_id"));
        const char *osku = json_string_value(json_object_get(o, "sku"));

        if (rl ? orl == rl : (sku && osku && strcmp(sku, osku) == 0))
            json_array_remove(lines, k);
    }
}

/* One decision as the resolution keeps it: @returns it, or NULL
 * (errstr: a line the order does not have, an unknown SKU). */
static json_t *ord_decision_new(struct ord_ctx *c,
                                const struct orders_decision *d)
{
    const struct order_line *l;
    long long id;
    int found;

    if (d->line < 1 || d->line > c->o->nlines) {
        ord_fail(c->errstr, c->errstr_size, "line %zu: the order has %zu %s",
                 d->line, c->o->nlines, c->o->nlines == 1 ? "line" : "lines");
        return NULL;
    }
    l = &c->o->lines[d->line - 1];
    if (d->map_sku) {
        found = catalog_variant_find(c->pg, d->map_sku, &id, c->errstr,
                                     c->errstr_size, c->sqlstate);
        if (found <= 0) {
            if (found == 0)
                ord_fail(c->errstr, c->errstr_size,
                         "line %zu: unknown SKU '%s'", d->line, d->map_sku);
            return NULL;
        }
    }
    return json_pack("{s:I, s:I, s:s?, s:o}", "line", (json_int_t)d->line,
                     "remote_line_id", (json_int_t)l->remote_line_id, "sku",
                     l->sku, d->map_sku ? "map" : "drop",
                     d->map_sku ? json_string(d->map_sku) : json_true());
}

/* Add the decisions to the order's resolution (a later decision on a
 * line replaces the earlier one).  @returns 0, or -1 (errstr). */
static int ord_resolution_merge(struct ord_ctx *c,
                                const struct orders_decision *d, size_t nd)
{
    json_t *lines;

    if (!c->resolution)
        c->resolution = json_pack("{s:[]}", "lines");
    lines = json_object_get(c->resolution, "lines");
    if (!json_is_array(lines)) {
        lines = json_array();
        json_object_set_new(c->resolution, "lines", lines);
    }
    for (size_t i = 0; i < nd; i++) {
        json_t *e = ord_decision_new(c, &d[i]);

        if (!e)
            return -1;
        ord_resolution_forget(lines, e);
        json_array_append_new(lines, e);
    }
    return 0;
}

static int ord_resolution_write(struct ord_ctx *c, const char *by)
{
    char oid[32], *text = json_dumps(c->resolution, JSON_COMPACT);
    const char *v[3] = {oid, text, by};
    int rc;

    if (!text)
        return ord_fail(c->errstr, c->errstr_size, "out of memory");
    snprintf(oid, sizeof(oid), "%lld", c->order_id);
    rc = ord_cmd(c,
                 "UPDATE customer_order SET resolution = $2::jsonb, "
                 "resolved_by = $3, resolved_at = clock_timestamp() "
                 "WHERE id = $1",
                 3, v, "record the decision");
    free(text);
    return rc;
}

/* Everything of one resolve inside its transaction. */
static enum orders_res ord_resolve_steps(struct ord_ctx *c,
                                         const struct ord_resolve_args *a)
{
    enum orders_res res;
    int st = ord_store_load(c);

    if (st != 0) {
        if (st > 0)
            ord_fail(c->errstr, c->errstr_size, "unknown store '%s'",
                     c->store_name);
        return st > 0 ? ORDERS_REJECT : ord_res_of_error(c);
    }
    snprintf(c->sid, sizeof(c->sid), "%lld", c->st.id);
    st = ord_row_select(c);
    if (st <= 0) {
        if (st == 0)
            ord_fail(c->errstr, c->errstr_size, "store '%s' has no order %s",
                     c->store_name, c->rid);
        return st == 0 ? ORDERS_REJECT : ord_res_of_error(c);
    }
    if (c->o->updated_us != c->old_us) {
        ord_fail(c->errstr, c->errstr_size,
                 "order %s changed while it was read; run resolve again",
                 c->rid);
        return ORDERS_RETRY;
    }
    if (ord_resolution_merge(c, a->d, a->nd) < 0)
        return c->sqlstate[0] ? ord_res_of_error(c) : ORDERS_REJECT;
    free(c->old_reason); /* attention is decided again */
    c->old_reason = NULL;
    res = ord_version_write(c);
    if (res == ORDERS_APPLIED && ord_resolution_write(c, a->by) < 0)
        res = ord_res_of_error(c);
    return res;
}

enum orders_res orders_resolve(PGconn *pg, const char *store,
                               const struct order *o, const json_t *raw,
                               const struct orders_decision *d, size_t nd,
                               const char *by, struct orders_apply_info *info,
                               char *errstr, size_t errstr_size)
{
    const struct ord_resolve_args a = {d, nd, by};
    struct orders_apply_info dummy;
    struct ord_ctx c;

    if (!info)
        info = &dummy;
    memset(info, 0, sizeof(*info));
    if (ord_ctx_init(&c, pg, store, o, raw, NULL, errstr, errstr_size) < 0) {
        ord_ctx_free(&c);
        return ORDERS_RETRY;
    }
    return ord_run(&c, &a, info);
}

/* The order as the store last sent it, for `orders resolve`. */
#define ORDERS_SQL_RAW                                                         \
    "SELECT o.raw FROM customer_order o JOIN store s ON s.id = o.store_id "    \
    "WHERE s.name = $1 AND o.remote_id = $2::bigint"

json_t *orders_raw_get(PGconn *pg, const char *store, const char *remote_id,
                       char *errstr, size_t errstr_size)
{
    const char *vals[2] = {store, remote_id};

    return ord_query_json(pg, ORDERS_SQL_RAW, 2, vals, "read order", errstr,
                          errstr_size);
}
