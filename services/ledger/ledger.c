#include "ledger/ledger.h"

#include "events/outbox.h"
#include "events/topics.h"
#include "ledger/catalog.h"
#include "ledger/stores.h"
#include "lib/db.h"
#include "lib/idarray.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEDGER_EVENT_AVAILABLE "stock.available"

#define LEDGER_SQL_LOCK_SHARE                                                  \
    "SELECT id FROM location WHERE id = ANY($1::bigint[]) "                    \
    "ORDER BY id FOR KEY SHARE"

#define LEDGER_SQL_LOCK_UPDATE                                                 \
    "SELECT id FROM location WHERE id = ANY($1::bigint[]) "                    \
    "ORDER BY id FOR UPDATE"

long long ledger_available_calc(long long on_hand, long long reserved,
                                long long safety)
{
    long long avail = on_hand - reserved - safety;

    return avail > 0 ? avail : 0;
}

/* The distinct values of @p ids in ascending order as an array literal
 * (caller frees); @p k receives their count.  NULL with errstr when out of
 * memory. */
static char *ledger_ids_sorted_text(const long long *ids, size_t n, size_t *k,
                                    char *errstr, size_t errstr_size)
{
    char *arr = idarray_text(ids, n, IDARRAY_SORTED_DISTINCT, k);

    if (!arr)
        snprintf(errstr, errstr_size, "out of memory");
    return arr;
}

static long long ledger_ll(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static json_t *ledger_money(const char *amount)
{
    return amount ? json_string(amount) : json_null();
}

/* Write the stock.available event of one availability row (stores.h);
 * @p arg is the connection. */
static int ledger_emit_one(void *arg, const struct stores_avail *a,
                           char *errstr, size_t errstr_size)
{
    PGconn *pg = arg;
    json_t *data = json_object();
    char key[512];
    int rc = -1;

    if (!data) {
        snprintf(errstr, errstr_size, "stock.available: out of memory");
        return -1;
    }
    json_object_set_new(data, "variant_id", json_integer(a->variant_id));
    json_object_set_new(data, "sku", json_string(a->sku));
    json_object_set_new(data, "available",
                        json_integer(ledger_available_calc(
                            a->on_hand, a->reserved, a->safety_stock)));
    json_object_set_new(data, "on_hand", json_integer(a->on_hand));
    json_object_set_new(data, "reserved", json_integer(a->reserved));
    json_object_set_new(data, "safety_stock", json_integer(a->safety_stock));
    json_object_set_new(data, "price", ledger_money(a->price));
    json_object_set_new(data, "old_price", ledger_money(a->old_price));
    if (json_object_size(data) != 8) {
        snprintf(errstr, errstr_size, "stock.available: out of memory");
        goto out;
    }
    snprintf(key, sizeof(key), "%s:%lld", a->store, a->variant_id);
    rc = outbox_add(pg, TOPICS_STOCK, LEDGER_EVENT_AVAILABLE, key, a->store,
                    data, errstr, errstr_size);
out:
    json_decref(data);
    return rc;
}

/*
 * Lock the distinct locations of @p ids in ascending order with @p sql
 * (LEDGER_SQL_LOCK_*).  With @p all_known, a location that does not exist
 * is an error (@p unknown says so).
 */
static int ledger_locations_lock_sql(PGconn *pg, const char *sql,
                                     const long long *ids, size_t n,
                                     int all_known, const char *unknown,
                                     char *errstr, size_t errstr_size,
                                     char *sqlstate)
{
    const char *vals[1];
    PGresult *res = NULL;
    size_t k;
    char *arr = ledger_ids_sorted_text(ids, n, &k, errstr, errstr_size);
    int rc = -1;

    if (!arr)
        return -1;
    vals[0] = arr;
    res = db_exec(pg, sql, 1, vals, "lock locations", errstr, errstr_size,
                  sqlstate);
    if (!res)
        goto out;
    if (all_known && (size_t)PQntuples(res) != k) {
        snprintf(errstr, errstr_size, "%s", unknown);
        goto out;
    }
    rc = 0;
out:
    PQclear(res);
    free(arr);
    return rc;
}

/* Lock the movement's locations (KEY SHARE) and variants (UPDATE), each in
 * ascending id order. */
static int ledger_lock(PGconn *pg, const struct ledger_move *m, char *errstr,
                       size_t errstr_size, char *sqlstate)
{
    long long *ids = malloc(m->nlines * sizeof(*ids));
    size_t n, i;
    int rc = -1, found;

    if (!ids) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (i = 0; i < m->nlines; i++)
        ids[i] = m->lines[i].location_id;
    if (ledger_locations_lock_sql(pg, LEDGER_SQL_LOCK_SHARE, ids, m->nlines, 1,
                                  "movement names an unknown location", errstr,
                                  errstr_size, sqlstate) < 0)
        goto out;
    for (i = 0; i < m->nlines; i++)
        ids[i] = m->lines[i].variant_id;
    n = idarray_sort_distinct(ids, m->nlines);
    for (i = 0; i < n; i++) {
        found = catalog_variant_lock(pg, ids[i], errstr, errstr_size, sqlstate);
        if (found < 0)
            goto out;
        if (!found) {
            snprintf(errstr, errstr_size, "unknown variant id %lld", ids[i]);
            goto out;
        }
    }
    rc = 0;
out:
    free(ids);
    return rc;
}

/* Insert line @p no and update its stock_level row. */
static int ledger_line_write(PGconn *pg, long long move_id, size_t no,
                             struct ledger_line *l, char *errstr,
                             size_t errstr_size, char *sqlstate)
{
    char t_move[24], t_no[24], t_loc[24], t_var[24], t_oh[24], t_res[24];
    const char *vals[6];
    PGresult *res = NULL;
    int rc = -1;

    snprintf(t_move, sizeof(t_move), "%lld", move_id);
    snprintf(t_no, sizeof(t_no), "%zu", no);
    snprintf(t_loc, sizeof(t_loc), "%lld", l->location_id);
    snprintf(t_var, sizeof(t_var), "%lld", l->variant_id);
    if (l->on_hand_absolute) {
        /* A count: the delta from the on hand seen under the lock. */
        vals[0] = t_loc;
        vals[1] = t_var;
        res =
            db_exec(pg,
                    "SELECT on_hand FROM stock_level "
                    "WHERE location_id = $1 AND variant_id = $2",
                    2, vals, "read stock level", errstr, errstr_size, sqlstate);
        if (!res)
            goto out;
        l->on_hand_delta -= PQntuples(res) ? ledger_ll(res, 0, 0) : 0;
        l->on_hand_absolute = 0;
        PQclear(res);
        res = NULL;
    }
    snprintf(t_oh, sizeof(t_oh), "%lld", l->on_hand_delta);
    snprintf(t_res, sizeof(t_res), "%lld", l->reserved_delta);
    vals[0] = t_move;
    vals[1] = t_no;
    vals[2] = t_loc;
    vals[3] = t_var;
    vals[4] = t_oh;
    vals[5] = t_res;
    if (db_cmd(pg,
               "INSERT INTO stock_movement_line (movement_id, line_no,"
               " location_id, variant_id, on_hand_delta, reserved_delta) "
               "VALUES ($1, $2, $3, $4, $5, $6)",
               6, vals, "insert movement line", errstr, errstr_size) < 0)
        goto out;
    res = db_exec(pg,
                  /* The inserted row must pass the reserved >= 0 check
                   * even when it only conflicts (a release): the delta
                   * is applied from the parameter, not EXCLUDED. */
                  "INSERT INTO stock_level (location_id, variant_id,"
                  " on_hand, reserved) VALUES ($1, $2, $3,"
                  " GREATEST($4::bigint, 0)) "
                  "ON CONFLICT (location_id, variant_id) DO UPDATE SET"
                  " on_hand = stock_level.on_hand + EXCLUDED.on_hand,"
                  " reserved = stock_level.reserved + $4::bigint,"
                  " updated_at = now() "
                  "RETURNING on_hand, reserved",
                  4, vals + 2, "update stock level", errstr, errstr_size,
                  sqlstate);
    if (!res)
        goto out;
    l->on_hand_after = ledger_ll(res, 0, 0);
    l->reserved_after = ledger_ll(res, 0, 1);
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/* Events for every store selling from a location the movement touched. */
static int ledger_move_emit(PGconn *pg, const struct ledger_move *m,
                            char *errstr, size_t errstr_size)
{
    const struct stores_avail_each each = {ledger_emit_one, pg};
    long long *locs = malloc(m->nlines * sizeof(*locs));
    long long *vars = malloc(m->nlines * sizeof(*vars));
    size_t i;
    int rc = -1;

    if (!locs || !vars) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (i = 0; i < m->nlines; i++) {
        locs[i] = m->lines[i].location_id;
        vars[i] = m->lines[i].variant_id;
    }
    if (stores_avail_moved(pg, locs, vars, m->nlines, &each, errstr,
                           errstr_size) < 0)
        goto out;
    rc = 0;
out:
    free(locs);
    free(vars);
    return rc;
}

enum ledger_res ledger_move_apply(PGconn *pg, struct ledger_move *m,
                                  long long *move_id, char *errstr,
                                  size_t errstr_size, char *sqlstate)
{
    char t_order[24];
    const char *vals[4];
    PGresult *res = NULL;
    enum ledger_res rc = LEDGER_ERR;
    long long id;
    size_t i;

    if (sqlstate)
        sqlstate[0] = '\0';
    if (move_id)
        *move_id = 0;
    if (!m->kind || !m->nlines || !m->lines) {
        snprintf(errstr, errstr_size, "movement without kind or lines");
        return LEDGER_ERR;
    }
    snprintf(t_order, sizeof(t_order), "%lld", m->order_id);
    vals[0] = m->kind;
    vals[1] = m->idem_key;
    vals[2] = m->order_id ? t_order : NULL;
    vals[3] = m->note;
    /* A repeated idempotency key inserts nothing and returns no row
     * (it waits for a concurrent holder of the key to finish first). */
    res = db_exec(pg,
                  "INSERT INTO stock_movement (kind, idem_key, order_id, "
                  "note) VALUES ($1, $2, $3, $4) "
                  "ON CONFLICT (idem_key) DO NOTHING RETURNING id",
                  4, vals, "insert movement", errstr, errstr_size, sqlstate);
    if (!res)
        goto out;
    if (PQntuples(res) == 0) {
        rc = LEDGER_DUPLICATE;
        goto out;
    }
    id = ledger_ll(res, 0, 0);
    if (ledger_lock(pg, m, errstr, errstr_size, sqlstate) < 0)
        goto out;
    for (i = 0; i < m->nlines; i++)
        if (ledger_line_write(pg, id, i + 1, &m->lines[i], errstr, errstr_size,
                              sqlstate) < 0)
            goto out;
    if (ledger_move_emit(pg, m, errstr, errstr_size) < 0)
        goto out;
    if (move_id)
        *move_id = id;
    rc = LEDGER_APPLIED;
out:
    PQclear(res);
    return rc;
}

enum ledger_res ledger_move_apply_tx(PGconn *pg, struct ledger_move *m,
                                     long long *move_id, char *errstr,
                                     size_t errstr_size, char *sqlstate)
{
    enum ledger_res rc;

    if (sqlstate)
        sqlstate[0] = '\0';
    if (db_begin(pg, errstr, errstr_size) < 0)
        return LEDGER_ERR;
    rc = ledger_move_apply(pg, m, move_id, errstr, errstr_size, sqlstate);
    if (rc == LEDGER_ERR || db_commit(pg, errstr, errstr_size) < 0) {
        db_rollback(pg);
        return LEDGER_ERR;
    }
    return rc;
}

int ledger_locations_lock(PGconn *pg, const long long *ids, size_t n,
                          char *errstr, size_t errstr_size)
{
    return ledger_locations_lock_sql(pg, LEDGER_SQL_LOCK_UPDATE, ids, n, 1,
                                     "lock locations: unknown location", errstr,
                                     errstr_size, NULL);
}

int ledger_stock_lock(PGconn *pg, const long long *location_ids, size_t nloc,
                      const long long *variant_ids, size_t nvar, char *errstr,
                      size_t errstr_size, char *sqlstate)
{
    if (ledger_locations_lock_sql(pg, LEDGER_SQL_LOCK_SHARE, location_ids, nloc,
                                  0, NULL, errstr, errstr_size, sqlstate) < 0)
        return -1;
    return catalog_variants_lock(pg, variant_ids, nvar, errstr, errstr_size,
                                 sqlstate) < 0
               ? -1
               : 0;
}

long long ledger_store_available_emit(PGconn *pg, long long store_id,
                                      char *errstr, size_t errstr_size)
{
    const struct stores_avail_each each = {ledger_emit_one, pg};
    char t_store[24];
    const char *vals[1];

    snprintf(t_store, sizeof(t_store), "%lld", store_id);
    vals[0] = t_store;
    /* FOR UPDATE conflicts with the KEY SHARE every movement takes on its
     * locations: movements in flight finish first, new ones wait for our
     * commit and then see this store's sources. */
    if (db_cmd(pg,
               "SELECT l.id FROM location l"
               " JOIN store_source ss ON ss.location_id = l.id "
               "WHERE ss.store_id = $1 ORDER BY l.id FOR UPDATE OF l",
               1, vals, "lock store locations", errstr, errstr_size) < 0)
        return -1;
    return stores_avail_stocked(pg, store_id, &each, errstr, errstr_size);
}

long long ledger_variant_available_emit(PGconn *pg, long long store_id,
                                        long long variant_id, char *errstr,
                                        size_t errstr_size)
{
    const struct stores_avail_each each = {ledger_emit_one, pg};

    if (catalog_variants_lock(pg, &variant_id, 1, errstr, errstr_size, NULL) <
        0)
        return -1;
    return stores_avail_pairs(pg, &store_id, &variant_id, 1, &each, errstr,
                              errstr_size);
}

long long ledger_price_available_emit(PGconn *pg, long long price_list_id,
                                      const long long *variant_ids, size_t n,
                                      char *errstr, size_t errstr_size)
{
    const struct stores_avail_each each = {ledger_emit_one, pg};

    if (n == 0)
        return 0;
    if (catalog_variants_lock(pg, variant_ids, n, errstr, errstr_size, NULL) <
        0)
        return -1;
    return stores_avail_priced(pg, price_list_id, variant_ids, n, &each, errstr,
                               errstr_size);
}

int ledger_level_available(PGconn *pg, long long variant_id,
                           const long long *location_ids, size_t n,
                           long long *avail, char *errstr, size_t errstr_size,
                           char *sqlstate)
{
    char t_var[32], *arr = idarray_text(location_ids, n, 0, NULL);
    const char *vals[2] = {t_var, arr};
    PGresult *res;
    size_t i;

    if (!arr) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    snprintf(t_var, sizeof(t_var), "%lld", variant_id);
    for (i = 0; i < n; i++)
        avail[i] = 0;
    res = db_exec(pg,
                  "SELECT location_id, on_hand - reserved FROM stock_level "
                  "WHERE variant_id = $1 AND location_id = ANY($2::bigint[])",
                  2, vals, "levels", errstr, errstr_size, sqlstate);
    free(arr);
    if (!res)
        return -1;
    for (int row = 0; row < PQntuples(res); row++)
        for (i = 0; i < n; i++)
            if (location_ids[i] == ledger_ll(res, row, 0))
                avail[i] = ledger_ll(res, row, 1);
    PQclear(res);
    return 0;
}

PGresult *ledger_level_list(PGconn *pg, const char *location, const char *sku,
                            char *errstr, size_t errstr_size)
{
    const char *vals[2] = {location, sku};

    return db_exec(pg,
                   "SELECT l.code, v.sku, s.on_hand, s.reserved "
                   "FROM stock_level s JOIN location l ON l.id = s.location_id"
                   " JOIN variant v ON v.id = s.variant_id "
                   "WHERE ($1::text IS NULL OR l.code = $1)"
                   " AND ($2::text IS NULL OR v.sku = $2) "
                   "ORDER BY l.code COLLATE \"C\", v.sku COLLATE \"C\"",
                   2, vals, "read stock levels", errstr, errstr_size, NULL);
}

/* Rows (location, variant, on hand sum, reserved sum) into lines. */
static int ledger_sums_query(PGconn *pg, const char *sql, const char *val,
                             struct ledger_line **lines, size_t *n,
                             char *errstr, size_t errstr_size, char *sqlstate)
{
    const char *vals[1] = {val};
    struct ledger_line *l;
    PGresult *res;
    int i;

    *lines = NULL;
    *n = 0;
    res = db_exec(pg, sql, 1, vals, "movement lines", errstr, errstr_size,
                  sqlstate);
    if (!res)
        return -1;
    l = db_rows_alloc(res, sizeof(*l), errstr, errstr_size);
    if (!l)
        return -1;
    for (i = 0; i < PQntuples(res); i++) {
        l[i].location_id = ledger_ll(res, i, 0);
        l[i].variant_id = ledger_ll(res, i, 1);
        l[i].on_hand_delta = ledger_ll(res, i, 2);
        l[i].reserved_delta = ledger_ll(res, i, 3);
    }
    *lines = l;
    *n = (size_t)PQntuples(res);
    PQclear(res);
    return 0;
}

int ledger_move_sums(PGconn *pg, const char *idem_key,
                     struct ledger_line **lines, size_t *n, char *errstr,
                     size_t errstr_size, char *sqlstate)
{
    return ledger_sums_query(
        pg,
        "SELECT l.location_id, l.variant_id, sum(l.on_hand_delta), "
        "sum(l.reserved_delta) FROM stock_movement m "
        "JOIN stock_movement_line l ON l.movement_id = m.id "
        "WHERE m.idem_key = $1 GROUP BY 1, 2 ORDER BY 2, 1",
        idem_key, lines, n, errstr, errstr_size, sqlstate);
}

int ledger_order_sums(PGconn *pg, long long order_id,
                      struct ledger_line **lines, size_t *n, char *errstr,
                      size_t errstr_size, char *sqlstate)
{
    char oid[32];

    snprintf(oid, sizeof(oid), "%lld", order_id);
    return ledger_sums_query(
        pg,
        "SELECT l.location_id, l.variant_id, sum(l.on_hand_delta), "
        "sum(l.reserved_delta) FROM stock_movement m "
        "JOIN stock_movement_line l ON l.movement_id = m.id "
        "WHERE m.order_id = $1 GROUP BY 1, 2 ORDER BY 2, 1",
        oid, lines, n, errstr, errstr_size, sqlstate);
}

int ledger_counts(PGconn *pg, long long *locations, long long *movements,
                  char *errstr, size_t errstr_size)
{
    PGresult *res = db_exec(pg,
                            "SELECT (SELECT count(*) FROM location),"
                            " (SELECT count(*) FROM stock_movement)",
                            0, NULL, "count stock", errstr, errstr_size, NULL);

    if (!res)
        return -1;
    *locations = ledger_ll(res, 0, 0);
    *movements = ledger_ll(res, 0, 1);
    PQclear(res);
    return 0;
}

long long ledger_location_add(PGconn *pg, const char *code, const char *name,
                              const char *kind, long long price_list_id,
                              char *errstr, size_t errstr_size, char *sqlstate)
{
    char t_pl[24];
    const char *vals[4] = {code, name, kind, price_list_id ? t_pl : NULL};
    PGresult *res;
    long long id;

    snprintf(t_pl, sizeof(t_pl), "%lld", price_list_id);
    res = db_exec(pg,
                  "INSERT INTO location (code, name, kind, price_list_id) "
                  "VALUES ($1, $2, $3, $4) RETURNING id",
                  4, vals, "add location", errstr, errstr_size, sqlstate);
    if (!res)
        return -1;
    id = ledger_ll(res, 0, 0);
    PQclear(res);
    return id;
}

int ledger_location_find(PGconn *pg, const char *code, long long *id,
                         char *kind, size_t kind_size, char *errstr,
                         size_t errstr_size)
{
    const char *vals[1] = {code};
    PGresult *res;
    int found;

    res = db_exec(pg, "SELECT id, kind FROM location WHERE code = $1", 1, vals,
                  "look up location", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    found = PQntuples(res) == 1;
    if (found) {
        *id = ledger_ll(res, 0, 0);
        if (kind)
            snprintf(kind, kind_size, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return found;
}

PGresult *ledger_location_list(PGconn *pg, char *errstr, size_t errstr_size)
{
    return db_exec(pg,
                   "SELECT l.code, l.name, l.kind, pl.code FROM location l"
                   " LEFT JOIN price_list pl ON pl.id = l.price_list_id "
                   "ORDER BY l.code COLLATE \"C\"",
                   0, NULL, "list locations", errstr, errstr_size, NULL);
}

/* ---- a store's settings change: emit what it changes -------------------- */

/* What the store showed of one variant before the change. */
struct ledger_avail_row {
    long long variant_id;
    long long available;
    char price[40], old_price[40]; /* "" when none */
};

struct ledger_avail_snap {
    struct ledger_avail_row *rows;
    size_t n, cap;
    int failed; /* out of memory */
};

static int ledger_snap_add(void *arg, const struct stores_avail *a,
                           char *errstr, size_t errstr_size)
{
    struct ledger_avail_snap *s = arg;
    struct ledger_avail_row *r;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct ledger_avail_row *v = realloc(s->rows, cap * sizeof(*v));

        if (!v) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        s->rows = v;
        s->cap = cap;
    }
    r = &s->rows[s->n++];
    r->variant_id = a->variant_id;
    r->available =
        ledger_available_calc(a->on_hand, a->reserved, a->safety_stock);
    snprintf(r->price, sizeof(r->price), "%s", a->price ? a->price : "");
    snprintf(r->old_price, sizeof(r->old_price), "%s",
             a->old_price ? a->old_price : "");
    return 0;
}

static int ledger_snap_row_cmp(const void *a, const void *b)
{
    long long x = ((const struct ledger_avail_row *)a)->variant_id;
    long long y = ((const struct ledger_avail_row *)b)->variant_id;

    return (x > y) - (x < y);
}

/* Every variant the store shows a value for: stocked at a source or
 * sellable (priced in its list), each once, by variant id. */
static int ledger_snap_take(PGconn *pg, long long store_id,
                            struct ledger_avail_snap *s, char *errstr,
                            size_t errstr_size)
{
    const struct stores_avail_each each = {ledger_snap_add, s};
    size_t k = 0;

    if (stores_avail_stocked(pg, store_id, &each, errstr, errstr_size) < 0 ||
        stores_avail_sellable(pg, store_id, &each, errstr, errstr_size) < 0)
        return -1;
    if (s->n)
        qsort(s->rows, s->n, sizeof(*s->rows), ledger_snap_row_cmp);
    for (size_t i = 0; i < s->n; i++) /* stocked and sellable: once */
        if (k == 0 || s->rows[k - 1].variant_id != s->rows[i].variant_id)
            s->rows[k++] = s->rows[i];
    s->n = k;
    return 0;
}

void ledger_avail_snap_free(struct ledger_avail_snap *s)
{
    if (!s)
        return;
    free(s->rows);
    free(s);
}

struct ledger_avail_snap *ledger_avail_snap_take(PGconn *pg, long long store_id,
                                                 char *errstr,
                                                 size_t errstr_size)
{
    struct ledger_avail_snap *s = calloc(1, sizeof(*s));

    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (ledger_snap_take(pg, store_id, s, errstr, errstr_size) < 0) {
        ledger_avail_snap_free(s);
        return NULL;
    }
    return s;
}

/* The changed emit's state: the rows before, and how many were written. */
struct ledger_snap_diff {
    PGconn *pg;
    const struct ledger_avail_snap *before;
    long long written;
};

/* Emit the row when the store would show something else than before. */
static int ledger_snap_cmp(void *arg, const struct stores_avail *a,
                           char *errstr, size_t errstr_size)
{
    struct ledger_snap_diff *d = arg;
    const struct ledger_avail_row key = {.variant_id = a->variant_id};
    const struct ledger_avail_row *b =
        d->before->n ? bsearch(&key, d->before->rows, d->before->n, sizeof(key),
                               ledger_snap_row_cmp)
                     : NULL;

    if (b &&
        b->available ==
            ledger_available_calc(a->on_hand, a->reserved, a->safety_stock) &&
        strcmp(b->price, a->price ? a->price : "") == 0 &&
        strcmp(b->old_price, a->old_price ? a->old_price : "") == 0)
        return 0;
    d->written++;
    return ledger_emit_one(d->pg, a, errstr, errstr_size);
}

long long ledger_avail_changed_emit(PGconn *pg, long long store_id,
                                    const struct ledger_avail_snap *before,
                                    char *errstr, size_t errstr_size)
{
    struct ledger_avail_snap *after =
        ledger_avail_snap_take(pg, store_id, errstr, errstr_size);
    struct ledger_snap_diff d = {pg, before, 0};
    const struct stores_avail_each each = {ledger_snap_cmp, &d};
    long long *sids = NULL, *vids = NULL, rc = -1;
    size_t n = 0;

    if (!after)
        return -1;
    sids = calloc(before->n + after->n + 1, sizeof(*sids));
    vids = calloc(before->n + after->n + 1, sizeof(*vids));
    if (!sids || !vids) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < before->n; i++)
        vids[n++] = before->rows[i].variant_id;
    for (size_t i = 0; i < after->n; i++)
        vids[n++] = after->rows[i].variant_id;
    for (size_t i = 0; i < n; i++)
        sids[i] = store_id;
    /* Each pair once (stores_avail_pairs() takes distinct pairs). */
    if (stores_avail_pairs(pg, sids, vids, n, &each, errstr, errstr_size) < 0)
        goto out;
    rc = d.written;
out:
    free(sids);
    free(vids);
    ledger_avail_snap_free(after);
    return rc;
}
