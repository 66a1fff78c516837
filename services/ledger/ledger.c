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

/* Location codes -> ids (db_ids_by_text()). */
#define LEDGER_SQL_LOCATION_IDS                                                \
    "SELECT x.i, l.id FROM location l"                                         \
    " JOIN jsonb_array_elements_text($1::jsonb) WITH ORDINALITY"               \
    " AS x(code, i) ON x.code = l.code"

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

/* stock.available events gathered by ledger_emit_one() and written
 * LEDGER_EMIT_CHUNK rows a statement (outbox_add_rows()), in order. */
#define LEDGER_EMIT_CHUNK 1000
struct ledger_emit {
    PGconn *pg;
    size_t n;
    char *keys[LEDGER_EMIT_CHUNK];
    char *stores[LEDGER_EMIT_CHUNK];
    char *datas[LEDGER_EMIT_CHUNK];
};

/* Write the gathered rows (@p write 0: drop them) and empty @p e. */
static int ledger_emit_flush(struct ledger_emit *e, int write, char *errstr,
                             size_t errstr_size)
{
    int rc = 0;
    size_t i;

    if (write && e->n)
        rc = outbox_add_rows(
            e->pg, TOPICS_STOCK, LEDGER_EVENT_AVAILABLE,
            (const char *const *)e->keys, (const char *const *)e->stores,
            (const char *const *)e->datas, e->n, errstr, errstr_size);
    for (i = 0; i < e->n; i++) {
        free(e->keys[i]);
        free(e->stores[i]);
        free(e->datas[i]);
    }
    e->n = 0;
    return rc;
}

/* The payload of one availability row (stores.h), compact JSON text. */
static char *ledger_avail_json(const struct stores_avail *a)
{
    json_t *data = json_object();
    char *js;

    if (!data)
        return NULL;
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
    js = json_object_size(data) == 8
             ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS)
             : NULL;
    json_decref(data);
    return js;
}

/* Gather the stock.available event of one availability row; @p arg is a
 * struct ledger_emit. */
static int ledger_emit_one(void *arg, const struct stores_avail *a,
                           char *errstr, size_t errstr_size)
{
    struct ledger_emit *e = arg;
    char key[512];
    size_t i;

    if (e->n == LEDGER_EMIT_CHUNK &&
        ledger_emit_flush(e, 1, errstr, errstr_size) < 0)
        return -1;
    i = e->n;
    snprintf(key, sizeof(key), "%s:%lld", a->store, a->variant_id);
    e->keys[i] = strdup(key);
    e->stores[i] = strdup(a->store);
    e->datas[i] = ledger_avail_json(a);
    e->n++;
    if (!e->keys[i] || !e->stores[i] || !e->datas[i]) {
        snprintf(errstr, errstr_size, "stock.available: out of memory");
        return -1;
    }
    return 0;
}

/* A gatherer for @p pg (NULL with errstr when out of memory). */
static struct ledger_emit *ledger_emit_new(PGconn *pg, char *errstr,
                                           size_t errstr_size)
{
    struct ledger_emit *e = calloc(1, sizeof(*e));

    if (!e)
        snprintf(errstr, errstr_size, "stock.available: out of memory");
    else
        e->pg = pg;
    return e;
}

/* Finish a stores_avail_*() walk that returned @p rc over @p e: write
 * what is left when it succeeded, free @p e.  Returns @p rc or -1. */
static long long ledger_emit_end(struct ledger_emit *e, long long rc,
                                 char *errstr, size_t errstr_size)
{
    if (ledger_emit_flush(e, rc >= 0, errstr, errstr_size) < 0)
        rc = -1;
    free(e);
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

/* Events for every store selling from the locations of the @p n lines
 * (@p locs[i], @p vars[i]).  Returns the number of events, or -1. */
static long long ledger_lines_emit(PGconn *pg, const long long *locs,
                                   const long long *vars, size_t n,
                                   char *errstr, size_t errstr_size)
{
    struct ledger_emit *e;
    struct stores_avail_each each = {ledger_emit_one, NULL};

    if (n == 0)
        return 0;
    e = ledger_emit_new(pg, errstr, errstr_size);
    if (!e)
        return -1;
    each.arg = e;
    return ledger_emit_end(
        e, stores_avail_moved(pg, locs, vars, n, &each, errstr, errstr_size),
        errstr, errstr_size);
}

/* The location and variant ids of the lines of @p n movements (those
 * whose @p keep entry is not LEDGER_DUPLICATE when @p keep is given), in
 * two malloc()ed arrays; @p k receives their length. */
static int ledger_lines_ids(const struct ledger_move *ms, size_t n,
                            const enum ledger_res *keep, long long **locs,
                            long long **vars, size_t *k, char *errstr,
                            size_t errstr_size)
{
    size_t i, j, total = 0;

    for (i = 0; i < n; i++)
        total += ms[i].nlines;
    *k = 0;
    *locs = malloc((total ? total : 1) * sizeof(**locs));
    *vars = malloc((total ? total : 1) * sizeof(**vars));
    if (!*locs || !*vars) {
        free(*locs);
        free(*vars);
        *locs = *vars = NULL;
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (keep && keep[i] == LEDGER_DUPLICATE)
            continue;
        for (j = 0; j < ms[i].nlines; j++) {
            (*locs)[*k] = ms[i].lines[j].location_id;
            (*vars)[*k] = ms[i].lines[j].variant_id;
            (*k)++;
        }
    }
    return 0;
}

/* Events for every store selling from a location the movement touched. */
static int ledger_move_emit(PGconn *pg, const struct ledger_move *m,
                            char *errstr, size_t errstr_size)
{
    long long *locs, *vars;
    size_t k;
    long long rc;

    if (ledger_lines_ids(m, 1, NULL, &locs, &vars, &k, errstr, errstr_size) < 0)
        return -1;
    rc = ledger_lines_emit(pg, locs, vars, k, errstr, errstr_size);
    free(locs);
    free(vars);
    return rc < 0 ? -1 : 0;
}

/* Insert the movement row.  LEDGER_DUPLICATE when its idempotency key is
 * taken (nothing written; it waits for a concurrent holder of the key to
 * finish first), else LEDGER_APPLIED with *id set. */
static enum ledger_res ledger_move_head(PGconn *pg, const struct ledger_move *m,
                                        long long *id, char *errstr,
                                        size_t errstr_size, char *sqlstate)
{
    char t_order[24], t_doc[24];
    const char *vals[5];
    PGresult *res;
    enum ledger_res rc = LEDGER_DUPLICATE;

    if (!m->kind || !m->nlines || !m->lines) {
        snprintf(errstr, errstr_size, "movement without kind or lines");
        return LEDGER_ERR;
    }
    snprintf(t_order, sizeof(t_order), "%lld", m->order_id);
    vals[0] = m->kind;
    vals[1] = m->idem_key;
    vals[2] = m->order_id ? t_order : NULL;
    vals[3] = m->note;
    snprintf(t_doc, sizeof(t_doc), "%lld", m->document_id);
    vals[4] = m->document_id ? t_doc : NULL;
    res = db_exec(pg,
                  "INSERT INTO stock_movement (kind, idem_key, order_id, "
                  "note, document_id) VALUES ($1, $2, $3, $4, $5) "
                  "ON CONFLICT (idem_key) DO NOTHING RETURNING id",
                  5, vals, "insert movement", errstr, errstr_size, sqlstate);
    if (!res)
        return LEDGER_ERR;
    if (PQntuples(res) == 1) {
        *id = ledger_ll(res, 0, 0);
        rc = LEDGER_APPLIED;
    }
    PQclear(res);
    return rc;
}

/* Insert the lines of movement @p id (its rows are locked). */
static int ledger_move_lines(PGconn *pg, long long id, struct ledger_move *m,
                             char *errstr, size_t errstr_size, char *sqlstate)
{
    size_t i;

    for (i = 0; i < m->nlines; i++)
        if (ledger_line_write(pg, id, i + 1, &m->lines[i], errstr, errstr_size,
                              sqlstate) < 0)
            return -1;
    return 0;
}

enum ledger_res ledger_move_apply(PGconn *pg, struct ledger_move *m,
                                  long long *move_id, char *errstr,
                                  size_t errstr_size, char *sqlstate)
{
    enum ledger_res rc;
    long long id = 0;

    if (sqlstate)
        sqlstate[0] = '\0';
    if (move_id)
        *move_id = 0;
    rc = ledger_move_head(pg, m, &id, errstr, errstr_size, sqlstate);
    if (rc != LEDGER_APPLIED)
        return rc;
    if (ledger_lock(pg, m, errstr, errstr_size, sqlstate) < 0 ||
        ledger_move_lines(pg, id, m, errstr, errstr_size, sqlstate) < 0 ||
        ledger_move_emit(pg, m, errstr, errstr_size) < 0)
        return LEDGER_ERR;
    if (move_id)
        *move_id = id;
    return LEDGER_APPLIED;
}

/* Lock every location (KEY SHARE) and variant (UPDATE) of the lines, each
 * in ascending order, before any movement of the batch is written: two
 * batches lock in one global order, so they cannot deadlock. */
static int ledger_moves_lock(PGconn *pg, const long long *locs,
                             const long long *vars, size_t k, char *errstr,
                             size_t errstr_size, char *sqlstate)
{
    long long *ids = malloc((k ? k : 1) * sizeof(*ids));
    long long locked;
    size_t n;
    int rc = -1;

    if (!ids) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (ledger_locations_lock_sql(pg, LEDGER_SQL_LOCK_SHARE, locs, k, 1,
                                  "movement names an unknown location", errstr,
                                  errstr_size, sqlstate) < 0)
        goto out;
    memcpy(ids, vars, k * sizeof(*ids));
    n = idarray_sort_distinct(ids, k);
    locked = catalog_variants_lock(pg, ids, n, errstr, errstr_size, sqlstate);
    if (locked < 0)
        goto out;
    if ((size_t)locked != n) {
        snprintf(errstr, errstr_size, "movement names an unknown variant");
        goto out;
    }
    rc = 0;
out:
    free(ids);
    return rc;
}

/* Run @p sql with $1 = @p arr as JSON text (stolen). */
static PGresult *ledger_json_exec(PGconn *pg, const char *sql, json_t *arr,
                                  const char *what, char *errstr,
                                  size_t errstr_size, char *sqlstate)
{
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    const char *vals[1] = {text};
    PGresult *res = NULL;

    json_decref(arr);
    if (!text)
        snprintf(errstr, errstr_size, "%s: out of memory", what);
    else
        res = db_exec(pg, sql, 1, vals, what, errstr, errstr_size, sqlstate);
    free(text);
    return res;
}

static json_t *ledger_id_or_null(long long id)
{
    return id ? json_integer(id) : json_null();
}

/* Insert the batch's movement rows with ids taken from the sequence first:
 * the ids the INSERT returns are the applied ones, the others' keys were
 * taken (in the ledger or earlier in the batch). */
static int ledger_batch_heads(PGconn *pg, const struct ledger_move *ms,
                              size_t n, enum ledger_res *res, long long *ids,
                              char *errstr, size_t errstr_size, char *sqlstate)
{
    char t_n[24];
    const char *vals[1] = {t_n};
    json_t *arr = json_array();
    PGresult *r;
    size_t i, j;
    int row;

    snprintf(t_n, sizeof(t_n), "%zu", n);
    r = db_exec(pg,
                "SELECT nextval(pg_get_serial_sequence('stock_movement', "
                "'id')) FROM generate_series(1, $1::int)",
                1, vals, "movement ids", errstr, errstr_size, sqlstate);
    if (!r) {
        json_decref(arr);
        return -1;
    }
    for (i = 0; i < n; i++) {
        ids[i] = ledger_ll(r, (int)i, 0);
        res[i] = LEDGER_DUPLICATE;
        json_array_append_new(
            arr,
            json_pack("[I, s, s?, o, s?, o]", (json_int_t)ids[i], ms[i].kind,
                      ms[i].idem_key, ledger_id_or_null(ms[i].order_id),
                      ms[i].note, ledger_id_or_null(ms[i].document_id)));
    }
    PQclear(r);
    r = ledger_json_exec(
        pg,
        "INSERT INTO stock_movement (id, kind, idem_key, order_id, note,"
        " document_id) SELECT (x.p->>0)::bigint, x.p->>1, x.p->>2,"
        " (x.p->>3)::bigint, x.p->>4, (x.p->>5)::bigint"
        " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(p, i)"
        " ORDER BY x.i "
        "ON CONFLICT (idem_key) DO NOTHING RETURNING id",
        arr, "insert movements", errstr, errstr_size, sqlstate);
    if (!r)
        return -1;
    /* ids ascend (drawn in order): find each returned one. */
    for (row = 0; row < PQntuples(r); row++) {
        long long id = ledger_ll(r, row, 0);
        size_t lo = 0, hi = n;

        while (lo < hi) {
            j = lo + (hi - lo) / 2;
            if (ids[j] < id)
                lo = j + 1;
            else
                hi = j;
        }
        if (lo < n && ids[lo] == id)
            res[lo] = LEDGER_APPLIED;
    }
    PQclear(r);
    return 0;
}

/* The first movement of each duplicate's key: ids[i]. */
static int ledger_batch_dups(PGconn *pg, const struct ledger_move *ms, size_t n,
                             const enum ledger_res *res, long long *ids,
                             char *errstr, size_t errstr_size)
{
    json_t *keys = json_array(), *map = json_object();
    PGresult *r;
    size_t i;
    int row, rc = -1;

    for (i = 0; i < n; i++)
        if (res[i] == LEDGER_DUPLICATE)
            json_array_append_new(keys, json_string(ms[i].idem_key));
    if (json_array_size(keys) == 0) {
        json_decref(keys);
        json_decref(map);
        return 0;
    }
    r = ledger_json_exec(pg,
                         "SELECT m.id, m.idem_key FROM stock_movement m "
                         "WHERE m.idem_key IN (SELECT jsonb_array_elements_text"
                         "($1::jsonb))",
                         keys, "look up movements", errstr, errstr_size, NULL);
    if (!r)
        goto out;
    for (row = 0; row < PQntuples(r); row++)
        json_object_set_new(map, PQgetvalue(r, row, 1),
                            json_integer(ledger_ll(r, row, 0)));
    PQclear(r);
    for (i = 0; i < n; i++)
        if (res[i] == LEDGER_DUPLICATE)
            ids[i] = json_integer_value(json_object_get(map, ms[i].idem_key));
    rc = 0;
out:
    json_decref(map);
    return rc;
}

/* The current levels of the applied lines' (location, variant) pairs, as
 * {"loc:var": [on_hand, reserved]} (read under the batch's locks). */
static json_t *ledger_batch_levels(PGconn *pg, const struct ledger_move *ms,
                                   size_t n, const enum ledger_res *res,
                                   char *errstr, size_t errstr_size,
                                   char *sqlstate)
{
    json_t *pairs = json_array(), *map = json_object();
    char key[64];
    PGresult *r;
    size_t i, j;
    int row;

    for (i = 0; i < n; i++)
        for (j = 0; res[i] == LEDGER_APPLIED && j < ms[i].nlines; j++)
            json_array_append_new(
                pairs,
                json_pack("[I, I]", (json_int_t)ms[i].lines[j].location_id,
                          (json_int_t)ms[i].lines[j].variant_id));
    r = ledger_json_exec(
        pg,
        "SELECT s.location_id, s.variant_id, s.on_hand, s.reserved "
        "FROM stock_level s JOIN (SELECT DISTINCT (p->>0)::bigint AS l,"
        " (p->>1)::bigint AS v FROM jsonb_array_elements($1::jsonb) p) x"
        " ON s.location_id = x.l AND s.variant_id = x.v",
        pairs, "read stock levels", errstr, errstr_size, sqlstate);
    if (!r) {
        json_decref(map);
        return NULL;
    }
    for (row = 0; row < PQntuples(r); row++) {
        snprintf(key, sizeof(key), "%s:%s", PQgetvalue(r, row, 0),
                 PQgetvalue(r, row, 1));
        json_object_set_new(map, key,
                            json_pack("[I, I]",
                                      (json_int_t)ledger_ll(r, row, 2),
                                      (json_int_t)ledger_ll(r, row, 3)));
    }
    PQclear(r);
    return map;
}

/* Walk the applied movements' lines in order over @p levels (a count's
 * delta from the running on hand), filling each line's delta and *_after,
 * and collect the line rows and the final levels. */
static void ledger_batch_walk(struct ledger_move *ms, size_t n,
                              const enum ledger_res *res, const long long *ids,
                              json_t *levels, json_t *lines)
{
    char key[64];
    size_t i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; res[i] == LEDGER_APPLIED && j < ms[i].nlines; j++) {
            struct ledger_line *l = &ms[i].lines[j];
            json_t *cur;
            long long oh, rs;

            snprintf(key, sizeof(key), "%lld:%lld", l->location_id,
                     l->variant_id);
            cur = json_object_get(levels, key);
            oh = cur ? json_integer_value(json_array_get(cur, 0)) : 0;
            rs = cur ? json_integer_value(json_array_get(cur, 1)) : 0;
            if (l->on_hand_absolute) {
                l->on_hand_delta -= oh;
                l->on_hand_absolute = 0;
            }
            l->on_hand_after = oh + l->on_hand_delta;
            l->reserved_after = rs + l->reserved_delta;
            json_object_set_new(levels, key,
                                json_pack("[I, I]",
                                          (json_int_t)l->on_hand_after,
                                          (json_int_t)l->reserved_after));
            json_array_append_new(
                lines,
                json_pack("[I, I, I, I, I, I]", (json_int_t)ids[i],
                          (json_int_t)(j + 1), (json_int_t)l->location_id,
                          (json_int_t)l->variant_id,
                          (json_int_t)l->on_hand_delta,
                          (json_int_t)l->reserved_delta));
        }
    }
}

/* Insert the line rows and write the final levels (absolute: every
 * writer of stock_level holds the variant's lock). */
static int ledger_batch_write(PGconn *pg, json_t *lines, json_t *levels,
                              char *errstr, size_t errstr_size, char *sqlstate)
{
    json_t *rows = json_array(), *v;
    const char *key;
    PGresult *r;

    json_object_foreach(levels, key, v)
    {
        long long loc = strtoll(key, NULL, 10);
        long long var = strtoll(strchr(key, ':') + 1, NULL, 10);

        json_array_append_new(
            rows, json_pack("[I, I, O, O]", (json_int_t)loc, (json_int_t)var,
                            json_array_get(v, 0), json_array_get(v, 1)));
    }
    r = ledger_json_exec(
        pg,
        "INSERT INTO stock_movement_line (movement_id, line_no, location_id,"
        " variant_id, on_hand_delta, reserved_delta) "
        "SELECT (p->>0)::bigint, (p->>1)::int, (p->>2)::bigint,"
        " (p->>3)::bigint, (p->>4)::bigint, (p->>5)::bigint "
        "FROM jsonb_array_elements($1::jsonb) p",
        json_incref(lines), "insert movement lines", errstr, errstr_size,
        sqlstate);
    if (!r) {
        json_decref(rows);
        return -1;
    }
    PQclear(r);
    r = ledger_json_exec(
        pg,
        "INSERT INTO stock_level (location_id, variant_id, on_hand, reserved) "
        "SELECT (p->>0)::bigint, (p->>1)::bigint, (p->>2)::bigint,"
        " (p->>3)::bigint FROM jsonb_array_elements($1::jsonb) p "
        "ON CONFLICT (location_id, variant_id) DO UPDATE SET"
        " on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved,"
        " updated_at = now()",
        rows, "update stock levels", errstr, errstr_size, sqlstate);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

long long ledger_moves_apply(PGconn *pg, struct ledger_move *ms, size_t n,
                             enum ledger_res *res, long long *ids, char *errstr,
                             size_t errstr_size, char *sqlstate)
{
    long long *locs = NULL, *vars = NULL, rc = -1;
    json_t *levels = NULL, *lines = json_array();
    size_t k;

    if (sqlstate)
        sqlstate[0] = '\0';
    if (n == 0) {
        json_decref(lines);
        return 0;
    }
    if (ledger_lines_ids(ms, n, NULL, &locs, &vars, &k, errstr, errstr_size) <
            0 ||
        ledger_moves_lock(pg, locs, vars, k, errstr, errstr_size, sqlstate) <
            0 ||
        ledger_batch_heads(pg, ms, n, res, ids, errstr, errstr_size, sqlstate) <
            0 ||
        ledger_batch_dups(pg, ms, n, res, ids, errstr, errstr_size) < 0)
        goto out;
    levels = ledger_batch_levels(pg, ms, n, res, errstr, errstr_size, sqlstate);
    if (!levels)
        goto out;
    ledger_batch_walk(ms, n, res, ids, levels, lines);
    if (json_array_size(lines) && ledger_batch_write(pg, lines, levels, errstr,
                                                     errstr_size, sqlstate) < 0)
        goto out;
    free(locs);
    free(vars);
    /* One burst: the events of every applied movement, after all of
     * their levels are written. */
    if (ledger_lines_ids(ms, n, res, &locs, &vars, &k, errstr, errstr_size) <
        0) {
        locs = vars = NULL;
        goto out;
    }
    rc = ledger_lines_emit(pg, locs, vars, k, errstr, errstr_size);
out:
    json_decref(levels);
    json_decref(lines);
    free(locs);
    free(vars);
    return rc;
}

int ledger_move_find(PGconn *pg, const char *idem_key, long long *id,
                     char *errstr, size_t errstr_size)
{
    const char *vals[1] = {idem_key};
    PGresult *res;
    int found;

    *id = 0;
    res = db_exec(pg, "SELECT id FROM stock_movement WHERE idem_key = $1", 1,
                  vals, "look up movement", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    found = PQntuples(res) == 1;
    if (found)
        *id = ledger_ll(res, 0, 0);
    PQclear(res);
    return found;
}

int ledger_location_ids(PGconn *pg, const char *const *codes, size_t n,
                        long long *ids, char *errstr, size_t errstr_size)
{
    return db_ids_by_text(pg, LEDGER_SQL_LOCATION_IDS, codes, n, ids,
                          "look up locations", errstr, errstr_size, NULL);
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
    struct stores_avail_each each = {ledger_emit_one, NULL};
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
    each.arg = ledger_emit_new(pg, errstr, errstr_size);
    if (!each.arg)
        return -1;
    return ledger_emit_end(
        each.arg,
        stores_avail_stocked(pg, store_id, &each, errstr, errstr_size), errstr,
        errstr_size);
}

long long ledger_variant_available_emit(PGconn *pg, long long store_id,
                                        long long variant_id, char *errstr,
                                        size_t errstr_size)
{
    struct stores_avail_each each = {ledger_emit_one, NULL};

    if (catalog_variants_lock(pg, &variant_id, 1, errstr, errstr_size, NULL) <
            0 ||
        !(each.arg = ledger_emit_new(pg, errstr, errstr_size)))
        return -1;
    return ledger_emit_end(each.arg,
                           stores_avail_pairs(pg, &store_id, &variant_id, 1,
                                              &each, errstr, errstr_size),
                           errstr, errstr_size);
}

long long ledger_price_available_emit(PGconn *pg, long long price_list_id,
                                      const long long *variant_ids, size_t n,
                                      char *errstr, size_t errstr_size)
{
    struct stores_avail_each each = {ledger_emit_one, NULL};

    if (n == 0)
        return 0;
    if (catalog_variants_lock(pg, variant_ids, n, errstr, errstr_size, NULL) <
            0 ||
        !(each.arg = ledger_emit_new(pg, errstr, errstr_size)))
        return -1;
    return ledger_emit_end(each.arg,
                           stores_avail_priced(pg, price_list_id, variant_ids,
                                               n, &each, errstr, errstr_size),
                           errstr, errstr_size);
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

PGresult *ledger_document_moves(PGconn *pg, long long document_id, char *errstr,
                                size_t errstr_size)
{
    char t_doc[24];
    const char *vals[1] = {t_doc};

    snprintf(t_doc, sizeof(t_doc), "%lld", document_id);
    return db_exec(pg,
                   "SELECT m.id, m.kind, l.code, v.sku, ml.on_hand_delta "
                   "FROM stock_movement m"
                   " JOIN stock_movement_line ml ON ml.movement_id = m.id"
                   " JOIN location l ON l.id = ml.location_id"
                   " JOIN variant v ON v.id = ml.variant_id "
                   "WHERE m.document_id = $1 ORDER BY m.id, ml.line_no",
                   1, vals, "document movements", errstr, errstr_size, NULL);
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
    struct ledger_emit *e;
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
    return ledger_emit_one(d->e, a, errstr, errstr_size);
}

long long ledger_avail_changed_emit(PGconn *pg, long long store_id,
                                    const struct ledger_avail_snap *before,
                                    char *errstr, size_t errstr_size)
{
    struct ledger_avail_snap *after =
        ledger_avail_snap_take(pg, store_id, errstr, errstr_size);
    struct ledger_snap_diff d = {NULL, before, 0};
    const struct stores_avail_each each = {ledger_snap_cmp, &d};
    long long *sids = NULL, *vids = NULL, rc = -1;
    size_t n = 0;

    if (!after)
        return -1;
    d.e = ledger_emit_new(pg, errstr, errstr_size);
    if (!d.e)
        goto out;
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
    if (ledger_emit_end(
            d.e,
            stores_avail_pairs(pg, sids, vids, n, &each, errstr, errstr_size),
            errstr, errstr_size) >= 0)
        rc = d.written;
    d.e = NULL;
out:
    if (d.e)
        ledger_emit_end(d.e, -1, errstr, errstr_size);
    free(sids);
    free(vids);
    ledger_avail_snap_free(after);
    return rc;
}
