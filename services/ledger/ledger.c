#include "ledger/ledger.h"

#include "lib/db.h"
#include "lib/idarray.h"
#include "events/outbox.h"
#include "events/topics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEDGER_EVENT_AVAILABLE "stock.available"

/* The columns every availability query returns, from h(store_id,
 * variant_id): store name, variant id, sku, safety stock, sum on hand, sum
 * reserved over the store's source locations, and the variant's price and
 * old price in the store's price list (text, NULL when it has none). */
#define LEDGER_SQL_AVAIL                                                       \
    "SELECT s.name, v.id, v.sku, s.safety_stock,"                              \
    " COALESCE(SUM(l.on_hand), 0), COALESCE(SUM(l.reserved), 0),"              \
    " p.price::text, p.old_price::text "                                       \
    "FROM hit h JOIN store s ON s.id = h.store_id"                             \
    " JOIN variant v ON v.id = h.variant_id"                                   \
    " LEFT JOIN store_source src ON src.store_id = s.id"                       \
    " LEFT JOIN stock_level l ON l.location_id = src.location_id"              \
    "  AND l.variant_id = v.id"                                                \
    " LEFT JOIN price p ON p.price_list_id = s.price_list_id"                  \
    "  AND p.variant_id = v.id "                                               \
    "GROUP BY s.id, s.name, v.id, v.sku, s.safety_stock, p.price,"             \
    " p.old_price "

#define LEDGER_SQL_ROWS LEDGER_SQL_AVAIL "ORDER BY s.id, v.id"

/* Every variant store $1 sells: active, of an active product, priced in
 * its price list; by SKU. */
#define LEDGER_SQL_SELLABLE                                                    \
    "WITH hit AS ("                                                            \
    " SELECT s.id AS store_id, v.id AS variant_id FROM store s"                \
    " JOIN price p ON p.price_list_id = s.price_list_id"                       \
    " JOIN variant v ON v.id = p.variant_id AND NOT v.archived"                \
    " JOIN product pr ON pr.id = v.product_id AND NOT pr.archived"             \
    " WHERE s.id = $1) " LEDGER_SQL_AVAIL "ORDER BY v.sku"

/* Every (store, variant) pair where the store sells from a location the
 * movement touched. */
#define LEDGER_SQL_AFFECTED                                                    \
    "WITH hit AS ("                                                            \
    " SELECT DISTINCT ss.store_id, x.variant_id"                               \
    " FROM unnest($1::bigint[], $2::bigint[]) AS x(location_id, variant_id)"   \
    " JOIN store_source ss ON ss.location_id = "                               \
    "x.location_id) " LEDGER_SQL_ROWS

/* One store and every variant it has stock of. */
#define LEDGER_SQL_STORE                                                       \
    "WITH hit AS ("                                                            \
    " SELECT DISTINCT ss.store_id, l.variant_id FROM store_source ss"          \
    " JOIN stock_level l ON l.location_id = ss.location_id"                    \
    " WHERE ss.store_id = $1 AND (l.on_hand <> 0 OR l.reserved <> "            \
    "0)) " LEDGER_SQL_ROWS

/* Explicit (store, variant) pairs. */
#define LEDGER_SQL_PAIRS                                                       \
    "WITH hit AS ("                                                            \
    " SELECT DISTINCT x.store_id, x.variant_id"                                \
    " FROM unnest($1::bigint[], $2::bigint[]) AS x(store_id, "                 \
    "variant_id)) " LEDGER_SQL_ROWS

/* Every store whose price list is $1, times the variants $2. */
#define LEDGER_SQL_PRICES                                                      \
    "WITH hit AS ("                                                            \
    " SELECT s.id AS store_id, x.variant_id FROM store s"                      \
    " CROSS JOIN unnest($2::bigint[]) AS x(variant_id)"                        \
    " WHERE s.price_list_id = $1) " LEDGER_SQL_ROWS

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

static json_t *ledger_money(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : json_string(PQgetvalue(res, row, col));
}

/* Write one stock.available event per row of @p sql (see LEDGER_SQL_ROWS
 * for the columns).  Returns the count or -1. */
static long long ledger_emit(PGconn *pg, const char *sql, int n,
                             const char *const *vals, char *errstr,
                             size_t errstr_size)
{
    PGresult *res;
    json_t *data = NULL;
    char key[512];
    long long count = -1, on_hand, reserved, safety;
    int i;

    res = db_exec(pg, sql, n, vals, "read availability", errstr, errstr_size,
                  NULL);
    if (!res)
        return -1;
    for (i = 0; i < PQntuples(res); i++) {
        on_hand = ledger_ll(res, i, 4);
        reserved = ledger_ll(res, i, 5);
        safety = ledger_ll(res, i, 3);
        data = json_object();
        if (!data) {
            snprintf(errstr, errstr_size, "stock.available: out of memory");
            goto out;
        }
        json_object_set_new(data, "variant_id",
                            json_integer(ledger_ll(res, i, 1)));
        json_object_set_new(data, "sku", json_string(PQgetvalue(res, i, 2)));
        json_object_set_new(
            data, "available",
            json_integer(ledger_available_calc(on_hand, reserved, safety)));
        json_object_set_new(data, "on_hand", json_integer(on_hand));
        json_object_set_new(data, "reserved", json_integer(reserved));
        json_object_set_new(data, "safety_stock", json_integer(safety));
        json_object_set_new(data, "price", ledger_money(res, i, 6));
        json_object_set_new(data, "old_price", ledger_money(res, i, 7));
        if (json_object_size(data) != 8) {
            snprintf(errstr, errstr_size, "stock.available: out of memory");
            goto out;
        }
        snprintf(key, sizeof(key), "%s:%s", PQgetvalue(res, i, 0),
                 PQgetvalue(res, i, 1));
        if (outbox_add(pg, TOPICS_STOCK, LEDGER_EVENT_AVAILABLE, key,
                       PQgetvalue(res, i, 0), data, errstr, errstr_size) < 0)
            goto out;
        json_decref(data);
        data = NULL;
    }
    count = PQntuples(res);
out:
    json_decref(data);
    PQclear(res);
    return count;
}

/* Lock variant rows FOR UPDATE in ascending id order (the order every
 * movement uses), so the levels read next are the latest committed ones
 * and no movement of these variants is in flight. */
static int ledger_variants_lock(PGconn *pg, const long long *ids, size_t n,
                                char *errstr, size_t errstr_size)
{
    const char *vals[1];
    size_t k;
    char *arr = ledger_ids_sorted_text(ids, n, &k, errstr, errstr_size);
    int rc;

    if (!arr)
        return -1;
    vals[0] = arr;
    rc = db_cmd(pg,
                "SELECT id FROM variant WHERE id = ANY($1::bigint[]) "
                "ORDER BY id FOR UPDATE",
                1, vals, "lock variants", errstr, errstr_size);
    free(arr);
    return rc;
}

/* Lock the movement's locations (KEY SHARE) and variants (UPDATE), each in
 * ascending id order. */
static int ledger_lock(PGconn *pg, const struct ledger_move *m, char *errstr,
                       size_t errstr_size, char *sqlstate)
{
    long long *ids = malloc(m->nlines * sizeof(*ids));
    char *arr = NULL, idtxt[24];
    const char *vals[1];
    PGresult *res = NULL;
    size_t n, i;
    int rc = -1;

    if (!ids) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (i = 0; i < m->nlines; i++)
        ids[i] = m->lines[i].location_id;
    n = idarray_sort_distinct(ids, m->nlines);
    arr = idarray_text(ids, n, 0, NULL);
    if (!arr) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    vals[0] = arr;
    res = db_exec(pg,
                  "SELECT id FROM location WHERE id = ANY($1::bigint[]) "
                  "ORDER BY id FOR KEY SHARE",
                  1, vals, "lock locations", errstr, errstr_size, sqlstate);
    if (!res)
        goto out;
    if ((size_t)PQntuples(res) != n) {
        snprintf(errstr, errstr_size, "movement names an unknown location");
        goto out;
    }
    PQclear(res);
    res = NULL;
    for (i = 0; i < m->nlines; i++)
        ids[i] = m->lines[i].variant_id;
    n = idarray_sort_distinct(ids, m->nlines);
    for (i = 0; i < n; i++) {
        snprintf(idtxt, sizeof(idtxt), "%lld", ids[i]);
        vals[0] = idtxt;
        res = db_exec(pg, "SELECT id FROM variant WHERE id = $1 FOR UPDATE", 1,
                      vals, "lock variant", errstr, errstr_size, sqlstate);
        if (!res)
            goto out;
        if (PQntuples(res) != 1) {
            snprintf(errstr, errstr_size, "unknown variant id %lld", ids[i]);
            goto out;
        }
        PQclear(res);
        res = NULL;
    }
    rc = 0;
out:
    PQclear(res);
    free(arr);
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
    long long *locs = malloc(m->nlines * sizeof(*locs));
    long long *vars = malloc(m->nlines * sizeof(*vars));
    char *t_locs = NULL, *t_vars = NULL;
    const char *vals[2];
    size_t i;
    int rc = -1;

    if (locs && vars) {
        for (i = 0; i < m->nlines; i++) {
            locs[i] = m->lines[i].location_id;
            vars[i] = m->lines[i].variant_id;
        }
        t_locs = idarray_text(locs, m->nlines, 0, NULL);
        t_vars = idarray_text(vars, m->nlines, 0, NULL);
    }
    if (!t_locs || !t_vars) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    vals[0] = t_locs;
    vals[1] = t_vars;
    if (ledger_emit(pg, LEDGER_SQL_AFFECTED, 2, vals, errstr, errstr_size) < 0)
        goto out;
    rc = 0;
out:
    free(t_locs);
    free(t_vars);
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
    const char *vals[1];
    PGresult *res = NULL;
    size_t k;
    char *arr = ledger_ids_sorted_text(ids, n, &k, errstr, errstr_size);
    int rc = -1;

    if (!arr)
        return -1;
    vals[0] = arr;
    res = db_exec(pg,
                  "SELECT id FROM location WHERE id = ANY($1::bigint[]) "
                  "ORDER BY id FOR UPDATE",
                  1, vals, "lock locations", errstr, errstr_size, NULL);
    if (!res)
        goto out;
    if ((size_t)PQntuples(res) != k) {
        snprintf(errstr, errstr_size, "lock locations: unknown location");
        goto out;
    }
    rc = 0;
out:
    PQclear(res);
    free(arr);
    return rc;
}

long long ledger_store_available_emit(PGconn *pg, long long store_id,
                                      char *errstr, size_t errstr_size)
{
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
    return ledger_emit(pg, LEDGER_SQL_STORE, 1, vals, errstr, errstr_size);
}

long long ledger_variant_available_emit(PGconn *pg, long long store_id,
                                        long long variant_id, char *errstr,
                                        size_t errstr_size)
{
    char t_store[24], t_var[24];
    const char *vals[2];

    if (ledger_variants_lock(pg, &variant_id, 1, errstr, errstr_size) < 0)
        return -1;
    snprintf(t_store, sizeof(t_store), "{%lld}", store_id);
    snprintf(t_var, sizeof(t_var), "{%lld}", variant_id);
    vals[0] = t_store;
    vals[1] = t_var;
    return ledger_emit(pg, LEDGER_SQL_PAIRS, 2, vals, errstr, errstr_size);
}

long long ledger_price_available_emit(PGconn *pg, long long price_list_id,
                                      const long long *variant_ids, size_t n,
                                      char *errstr, size_t errstr_size)
{
    char t_pl[24], *arr;
    const char *vals[2];
    long long rc;

    if (n == 0)
        return 0;
    if (ledger_variants_lock(pg, variant_ids, n, errstr, errstr_size) < 0)
        return -1;
    arr = idarray_text(variant_ids, n, 0, NULL);
    if (!arr) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    snprintf(t_pl, sizeof(t_pl), "%lld", price_list_id);
    vals[0] = t_pl;
    vals[1] = arr;
    rc = ledger_emit(pg, LEDGER_SQL_PRICES, 2, vals, errstr, errstr_size);
    free(arr);
    return rc;
}

int ledger_store_sellable(PGconn *pg, long long store_id,
                          ledger_sellable_fn *fn, void *ctx, char *errstr,
                          size_t errstr_size)
{
    struct ledger_sellable v;
    char sid[24];
    const char *vals[1] = {sid};
    PGresult *res;
    int i, rc = 0;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg, LEDGER_SQL_SELLABLE, 1, vals, "read availability", errstr,
                  errstr_size, NULL);
    if (!res)
        return -1;
    for (i = 0; rc == 0 && i < PQntuples(res); i++) {
        v.variant_id = ledger_ll(res, i, 1);
        v.sku = PQgetvalue(res, i, 2);
        v.available = ledger_available_calc(
            ledger_ll(res, i, 4), ledger_ll(res, i, 5), ledger_ll(res, i, 3));
        v.price = PQgetvalue(res, i, 6);
        v.old_price = PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7);
        if (fn(ctx, &v) != 0) {
            snprintf(errstr, errstr_size, "read availability: out of memory");
            rc = -1;
        }
    }
    PQclear(res);
    return rc;
}

long long ledger_location_find(PGconn *pg, const char *code, char *kind,
                               size_t kind_size, char *errstr,
                               size_t errstr_size)
{
    const char *vals[1] = {code};
    PGresult *res;
    long long id = 0;

    res = db_exec(pg, "SELECT id, kind FROM location WHERE code = $1", 1, vals,
                  "look up location", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        id = ledger_ll(res, 0, 0);
        snprintf(kind, kind_size, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return id;
}
