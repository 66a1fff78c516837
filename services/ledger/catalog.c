#include "ledger/catalog.h"

#include "lib/db.h"
#include "lib/idarray.h"
#include "lib/jtext.h"
#include "events/outbox.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every query takes $1 = the product ids as a bigint[] literal and gives
 * the product id first, rows in product order: one pass merges them into
 * each product's text (snap_product()).  Variant options and prices come
 * in variant id order within their product (snap_find() looks a variant's
 * up), their keys in byte order: the text has its keys sorted, as
 * json_dumps(JSON_SORT_KEYS | JSON_COMPACT) would write it.  A row of
 * another product than the one being written (a concurrent change between
 * the queries) is skipped, never misplaced.
 */
static const char SQL_PRODUCTS[] =
    "SELECT id, article, name, description, archived FROM product "
    "WHERE id = ANY($1::bigint[]) ORDER BY id";

static const char SQL_GROUPS[] =
    "WITH RECURSIVE g (product_id, id, parent_id, name, depth) AS ("
    " SELECT p.id, pg.id, pg.parent_id, pg.name, 0"
    "   FROM product p JOIN product_group pg ON pg.id = p.group_id"
    "  WHERE p.id = ANY($1::bigint[])"
    " UNION ALL"
    " SELECT g.product_id, pg.id, pg.parent_id, pg.name, g.depth + 1"
    "   FROM g JOIN product_group pg ON pg.id = g.parent_id"
    "  WHERE g.depth < 1000)"
    "SELECT product_id, id, name FROM g ORDER BY product_id, depth DESC";

static const char SQL_VARIANTS[] =
    "SELECT product_id, id, sku, barcode, archived FROM variant "
    "WHERE product_id = ANY($1::bigint[]) "
    "ORDER BY product_id, position, id";

/* A product's "options" (the names its variants use, in name id order)
 * are read off the variant option rows too (snap_option_names()).
 * The options and prices of the chunk's variants are looked up by key,
 * one index probe a variant (a price: a variant and price list), in a
 * LATERAL subquery the planner may not flatten (OFFSET 0): joined
 * plainly, a large catalog's estimates made it hash the whole
 * variant_option and price tables for every chunk (price has no index
 * that leads with variant_id).  A 300,000-variant import spent 8 of its
 * 20 s there. */
static const char SQL_VARIANT_OPTIONS[] =
    "SELECT v.product_id, vo.variant_id, n.name, ov.value, n.id"
    "  FROM variant v"
    "  CROSS JOIN LATERAL (SELECT x.variant_id, x.option_name_id,"
    "                             x.option_value_id"
    "                        FROM variant_option x"
    "                       WHERE x.variant_id = v.id OFFSET 0) vo"
    "  JOIN option_name n ON n.id = vo.option_name_id"
    "  JOIN option_value ov ON ov.id = vo.option_value_id"
    " WHERE v.product_id = ANY($1::bigint[])"
    " ORDER BY v.product_id, vo.variant_id, n.name COLLATE \"C\"";

static const char SQL_PRICES[] =
    "SELECT v.product_id, v.id, pl.code, pr.old_price::text,"
    "       pr.price::text"
    "  FROM variant v CROSS JOIN price_list pl"
    "  CROSS JOIN LATERAL (SELECT x.old_price, x.price FROM price x"
    "                       WHERE x.price_list_id = pl.id"
    "                         AND x.variant_id = v.id OFFSET 0) pr"
    " WHERE v.product_id = ANY($1::bigint[])"
    " ORDER BY v.product_id, v.id, pl.code COLLATE \"C\"";

static const char SQL_PHOTOS[] =
    "SELECT product_id, path, position, sha256 FROM product_photo "
    "WHERE product_id = ANY($1::bigint[]) ORDER BY product_id, position";

static long long cell_ll(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

enum {
    SQ_PRODUCTS,
    SQ_GROUPS,
    SQ_VARIANTS,
    SQ_VOPTIONS,
    SQ_PRICES,
    SQ_PHOTOS,
    SQ_N
};

static const struct {
    const char *sql, *what;
} snap_queries[SQ_N] = {
    {SQL_PRODUCTS, "catalog snapshot products"},
    {SQL_GROUPS, "catalog snapshot groups"},
    {SQL_VARIANTS, "catalog snapshot variants"},
    {SQL_VARIANT_OPTIONS, "catalog snapshot variant options"},
    {SQL_PRICES, "catalog snapshot prices"},
    {SQL_PHOTOS, "catalog snapshot photos"},
};

/* The rows of the snapshot queries, a cursor in each, column 0 (product
 * id) of each and column 1 (variant id) of the variant-level ones read
 * once as numbers. */
struct snap_rows {
    PGresult *res[SQ_N];
    int at[SQ_N], rows[SQ_N];
    long long *pid[SQ_N], *vid[SQ_N];
    long long *name_id; /* SQ_VOPTIONS' column 4 */
};

static void snap_rows_free(struct snap_rows *s)
{
    for (int q = 0; q < SQ_N; q++) {
        PQclear(s->res[q]);
        free(s->pid[q]);
        free(s->vid[q]);
    }
    free(s->name_id);
    memset(s, 0, sizeof(*s));
}

static long long *column_ll(const PGresult *res, int col)
{
    int r, n = PQntuples(res);
    long long *a = malloc(((size_t)n + 1) * sizeof(*a));

    for (r = 0; a && r < n; r++)
        a[r] = cell_ll(res, r, col);
    return a;
}

/* Send the queries of the @p n products @p ids as one pipeline: the
 * server runs them while the client writes the texts of the chunk before
 * (snap_rows_recv() reads them). */
static int snap_rows_send(PGconn *pg, const long long *ids, size_t n,
                          char *errstr, size_t errstr_size)
{
    const char *vals[1], *sqls[SQ_N], *whats[SQ_N];
    char *lit = idarray_text(ids, n, IDARRAY_SORTED_DISTINCT, NULL);
    int rc;

    if (!lit) {
        snprintf(errstr, errstr_size, "catalog snapshot: out of memory");
        return -1;
    }
    vals[0] = lit;
    for (int q = 0; q < SQ_N; q++) {
        sqls[q] = snap_queries[q].sql;
        whats[q] = snap_queries[q].what;
    }
    rc = db_pipeline_send(pg, SQ_N, sqls, 1, vals, whats, errstr, errstr_size);
    free(lit);
    return rc;
}

static int snap_rows_recv(PGconn *pg, struct snap_rows *s, char *errstr,
                          size_t errstr_size)
{
    const char *whats[SQ_N];

    for (int q = 0; q < SQ_N; q++)
        whats[q] = snap_queries[q].what;
    if (db_pipeline_recv(pg, SQ_N, whats, s->res, errstr, errstr_size) < 0)
        return -1;
    for (int q = 0; q < SQ_N; q++) {
        s->rows[q] = PQntuples(s->res[q]);
        s->pid[q] = column_ll(s->res[q], 0);
        if (q == SQ_VOPTIONS || q == SQ_PRICES)
            s->vid[q] = column_ll(s->res[q], 1);
        if (q == SQ_VOPTIONS)
            s->name_id = column_ll(s->res[q], 4);
        if (!s->pid[q] ||
            ((q == SQ_VOPTIONS || q == SQ_PRICES) && !s->vid[q]) ||
            (q == SQ_VOPTIONS && !s->name_id)) {
            snprintf(errstr, errstr_size, "catalog snapshot: out of memory");
            return -1;
        }
    }
    return 0;
}

/* Query @p q's rows of product @p pid: [*lo, return value).  Rows of
 * products before it are skipped. */
static int snap_range(struct snap_rows *s, int q, long long pid, int *lo)
{
    while (s->at[q] < s->rows[q] && s->pid[q][s->at[q]] < pid)
        s->at[q]++;
    *lo = s->at[q];
    while (s->at[q] < s->rows[q] && s->pid[q][s->at[q]] == pid)
        s->at[q]++;
    return s->at[q];
}

/* The first row of variant @p vid in [lo, hi) of query @p q (rows in
 * variant id order there), or hi. */
static int snap_find(const struct snap_rows *s, int q, int lo, int hi,
                     long long vid)
{
    int a = lo, b = hi;

    while (a < b) {
        int m = a + (b - a) / 2;

        if (s->vid[q][m] < vid)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* Cell (@p r, @p c) of @p res as a JSON string, or null. */
static void jt_cell(struct jtext *t, const PGresult *res, int r, int c)
{
    if (PQgetisnull(res, r, c))
        jtext_lit(t, "null");
    else
        jtext_str(t, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
}

static void jt_num(struct jtext *t, const PGresult *res, int r, int c)
{
    jtext_raw(t, PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
}

static void jt_bool(struct jtext *t, const PGresult *res, int r, int c)
{
    jtext_lit(t, PQgetvalue(res, r, c)[0] == 't' ? "true" : "false");
}

/* One "options" entry: "<name>":"<value>". */
static void snap_option_entry(struct jtext *t, const PGresult *res, int r)
{
    jt_cell(t, res, r, 2);
    jtext_raw(t, ":", 1);
    jt_cell(t, res, r, 3);
}

/* One "prices" entry: "<code>":{"old_price":...,"price":...}. */
static void snap_price_entry(struct jtext *t, const PGresult *res, int r)
{
    jt_cell(t, res, r, 2);
    jtext_lit(t, ":{\"old_price\":");
    jt_cell(t, res, r, 3);
    jtext_lit(t, ",\"price\":");
    jt_cell(t, res, r, 4);
    jtext_raw(t, "}", 1);
}

/* ",\"<key>\":{...}": the rows of variant @p vid in the product's range
 * of query @p q, one @p entry each. */
static void snap_map(struct jtext *t, const struct snap_rows *s, int q,
                     const char *key, long long vid, const int lo[SQ_N],
                     const int hi[SQ_N],
                     void (*entry)(struct jtext *t, const PGresult *res, int r))
{
    int r, first = snap_find(s, q, lo[q], hi[q], vid);

    jtext_lit(t, key);
    jtext_raw(t, "{", 1);
    for (r = first; r < hi[q] && s->vid[q][r] == vid; r++) {
        if (r > first)
            jtext_raw(t, ",", 1);
        entry(t, s->res[q], r);
    }
    jtext_raw(t, "}", 1);
}

/* One element of each list of a product: query @p q's row @p r. */
static void snap_item(struct jtext *t, const struct snap_rows *s, int q, int r,
                      const int lo[SQ_N], const int hi[SQ_N])
{
    const PGresult *res = s->res[q];
    long long vid;

    switch (q) {
    case SQ_GROUPS:
        jtext_lit(t, "{\"id\":");
        jt_num(t, res, r, 1);
        jtext_lit(t, ",\"name\":");
        jt_cell(t, res, r, 2);
        jtext_raw(t, "}", 1);
        break;
    case SQ_PHOTOS:
        jtext_lit(t, "{\"path\":");
        jt_cell(t, res, r, 1);
        jtext_lit(t, ",\"position\":");
        jt_num(t, res, r, 2);
        jtext_lit(t, ",\"sha256\":");
        jt_cell(t, res, r, 3);
        jtext_raw(t, "}", 1);
        break;
    default: /* SQ_VARIANTS */
        vid = cell_ll(res, r, 1);
        jtext_lit(t, "{\"archived\":");
        jt_bool(t, res, r, 4);
        jtext_lit(t, ",\"barcode\":");
        jt_cell(t, res, r, 3);
        snap_map(t, s, SQ_VOPTIONS, ",\"options\":", vid, lo, hi,
                 snap_option_entry);
        snap_map(t, s, SQ_PRICES, ",\"prices\":", vid, lo, hi,
                 snap_price_entry);
        jtext_lit(t, ",\"sku\":");
        jt_cell(t, res, r, 2);
        jtext_lit(t, ",\"variant_id\":");
        jt_num(t, res, r, 1);
        jtext_raw(t, "}", 1);
    }
}

/* ",\"options\":[...]": the option names the product's variant option
 * rows use, each once, in name id order (column 4).  A product has a few
 * names, so each pass finds the next larger id among its rows. */
static void snap_option_names(struct jtext *t, const struct snap_rows *s,
                              const int lo[SQ_N], const int hi[SQ_N])
{
    const PGresult *res = s->res[SQ_VOPTIONS];
    long long last = LLONG_MIN;
    int r, pick;

    jtext_lit(t, ",\"options\":[");
    for (;;) {
        long long best = LLONG_MAX;

        pick = -1;
        for (r = lo[SQ_VOPTIONS]; r < hi[SQ_VOPTIONS]; r++) {
            long long id = s->name_id[r];

            if (id > last && id < best) {
                best = id;
                pick = r;
            }
        }
        if (pick < 0)
            break;
        if (last != LLONG_MIN)
            jtext_raw(t, ",", 1);
        jt_cell(t, res, pick, 2);
        last = best;
    }
    jtext_raw(t, "]", 1);
}

/* ",\"<key>\":[...]": query @p q's rows of the product. */
static void snap_list(struct jtext *t, const struct snap_rows *s, int q,
                      const char *key, const int lo[SQ_N], const int hi[SQ_N])
{
    jtext_lit(t, key);
    jtext_raw(t, "[", 1);
    for (int r = lo[q]; r < hi[q]; r++) {
        if (r > lo[q])
            jtext_raw(t, ",", 1);
        snap_item(t, s, q, r, lo, hi);
    }
    jtext_raw(t, "]", 1);
}

/* The text of product row @p r, its keys in byte order. */
static void snap_product(struct jtext *t, struct snap_rows *s, int r)
{
    const PGresult *p = s->res[SQ_PRODUCTS];
    long long pid = s->pid[SQ_PRODUCTS][r];
    int lo[SQ_N] = {0}, hi[SQ_N] = {0};

    for (int q = SQ_GROUPS; q < SQ_N; q++)
        hi[q] = snap_range(s, q, pid, &lo[q]);
    jtext_lit(t, "{\"archived\":");
    jt_bool(t, p, r, 4);
    jtext_lit(t, ",\"article\":");
    jt_cell(t, p, r, 1);
    jtext_lit(t, ",\"description\":");
    jt_cell(t, p, r, 3);
    snap_list(t, s, SQ_GROUPS, ",\"groups\":", lo, hi);
    jtext_lit(t, ",\"name\":");
    jt_cell(t, p, r, 2);
    snap_option_names(t, s, lo, hi);
    snap_list(t, s, SQ_PHOTOS, ",\"photos\":", lo, hi);
    jtext_lit(t, ",\"product_id\":");
    jt_num(t, p, r, 0);
    snap_list(t, s, SQ_VARIANTS, ",\"variants\":", lo, hi);
    jtext_raw(t, "}", 1);
}

/* out[i] = the text of ids[i] (texts[k] is product row k's, rows in id
 * order), NULL when it has none.  A text moves to the first id that has
 * it (taken[k] set; the caller frees the rest), a repeated id gets a
 * copy. */
static int snap_texts_place(const struct snap_rows *s, char **texts,
                            unsigned char *taken, const long long *ids,
                            size_t n, char **out)
{
    int rows = s->rows[SQ_PRODUCTS];

    for (size_t i = 0; i < n; i++) {
        int a = 0, b = rows;

        while (a < b) {
            int m = a + (b - a) / 2;

            if (s->pid[SQ_PRODUCTS][m] < ids[i])
                a = m + 1;
            else
                b = m;
        }
        if (a == rows || s->pid[SQ_PRODUCTS][a] != ids[i])
            continue;
        out[i] = taken[a] ? strdup(texts[a]) : texts[a];
        if (!out[i])
            return -1;
        taken[a] = 1;
    }
    return 0;
}

/* The texts of the @p n products @p ids whose rows @p s holds, into
 * out[0..n) (snap_texts_place()); 0 or -1 when out of memory. */
static int snap_chunk_texts(struct snap_rows *s, struct jtext *t,
                            const long long *ids, size_t n, char **out)
{
    size_t rows = (size_t)s->rows[SQ_PRODUCTS];
    char **texts = calloc(rows + 1, sizeof(*texts));
    unsigned char *taken = calloc(rows + 1, 1);
    size_t r = 0;
    int rc = -1;

    for (; texts && taken && r < rows; r++) {
        snap_product(t, s, (int)r);
        if (!(texts[r] = jtext_take(t)))
            break;
    }
    if (texts && taken && r == rows &&
        snap_texts_place(s, texts, taken, ids, n, out) == 0)
        rc = 0;
    for (r = 0; texts && r < rows; r++)
        if (!taken || !taken[r]) /* a taken text is out[]'s now */
            free(texts[r]);
    free(texts);
    free(taken);
    return rc;
}

#define SNAP_CHUNK 1000 /* products a query round */

/*
 * SNAP_CHUNK products a round, so only two rounds' rows are in memory;
 * the next round's queries are sent before this round's texts are
 * written, so the server reads while the client writes.
 */
int catalog_snapshot_texts(PGconn *pg, const long long *ids, size_t n,
                           char **out, char *errstr, size_t errstr_size)
{
    struct snap_rows s = {0};
    struct jtext t = {0};
    size_t i, at = 0, m = n < SNAP_CHUNK ? n : SNAP_CHUNK, nm;
    int rc = -1, pending = 0;
    char junk[64];

    for (i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 0)
        return 0;
    if (snap_rows_send(pg, ids, m, errstr, errstr_size) < 0)
        return -1;
    for (; m; at += m, m = nm) {
        pending = 0;
        if (snap_rows_recv(pg, &s, errstr, errstr_size) < 0)
            goto out;
        nm = n - (at + m) < SNAP_CHUNK ? n - (at + m) : SNAP_CHUNK;
        if (nm && snap_rows_send(pg, ids + at + m, nm, errstr, errstr_size) < 0)
            goto out;
        pending = nm != 0;
        if (snap_chunk_texts(&s, &t, ids + at, m, out + at) < 0) {
            snprintf(errstr, errstr_size, "catalog snapshot: out of memory");
            goto out;
        }
        snap_rows_free(&s);
    }
    rc = 0;
out:
    snap_rows_free(&s);
    if (pending) { /* a round in flight: read it, so pg is usable */
        snap_rows_recv(pg, &s, junk, sizeof(junk));
        snap_rows_free(&s);
    }
    for (i = 0; rc < 0 && i < n; i++) {
        free(out[i]);
        out[i] = NULL;
    }
    jtext_free(&t);
    return rc;
}

int catalog_snapshot_many(PGconn *pg, const long long *ids, size_t n,
                          json_t **out, char *errstr, size_t errstr_size)
{
    char **texts = calloc(n + 1, sizeof(*texts));
    json_error_t jerr;
    size_t i;
    int rc = -1;

    for (i = 0; i < n; i++)
        out[i] = NULL;
    if (!texts) {
        snprintf(errstr, errstr_size, "catalog snapshot: out of memory");
        return -1;
    }
    if (catalog_snapshot_texts(pg, ids, n, texts, errstr, errstr_size) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (!texts[i])
            continue;
        out[i] = json_loads(texts[i], 0, &jerr);
        if (!out[i]) {
            snprintf(errstr, errstr_size, "catalog snapshot: product %lld: %s",
                     ids[i], jerr.text);
            break;
        }
    }
    if (i == n)
        rc = 0;
    for (i = 0; rc < 0 && i < n; i++) {
        json_decref(out[i]);
        out[i] = NULL;
    }
out:
    for (i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    return rc;
}

json_t *catalog_snapshot(PGconn *pg, long long product_id, char *errstr,
                         size_t errstr_size)
{
    json_t *snap = NULL;

    if (catalog_snapshot_many(pg, &product_id, 1, &snap, errstr, errstr_size) <
        0)
        return NULL;
    if (!snap)
        snprintf(errstr, errstr_size,
                 "catalog snapshot: product %lld not "
                 "found",
                 product_id);
    return snap;
}

int catalog_emit_snapshot(PGconn *pg, const json_t *snap, char *errstr,
                          size_t errstr_size)
{
    json_t *id = json_object_get(snap, "product_id");
    char key[32];

    if (!json_is_integer(id)) {
        snprintf(errstr, errstr_size,
                 "catalog emit: snapshot has no "
                 "product_id");
        return -1;
    }
    snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    return outbox_add(pg, CATALOG_TOPIC, CATALOG_EVENT_PRODUCT, key, NULL, snap,
                      errstr, errstr_size);
}

int catalog_emit_many(PGconn *pg, const long long *ids,
                      const char *const *snaps, size_t n, char *errstr,
                      size_t errstr_size)
{
    char(*keys)[24] = calloc(n ? n : 1, sizeof(*keys));
    const char **kp = calloc(n ? n : 1, sizeof(*kp));
    size_t i;
    int rc = -1;

    if (!keys || !kp) {
        snprintf(errstr, errstr_size, "catalog emit: out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%lld", ids[i]);
        kp[i] = keys[i];
    }
    rc = outbox_add_many(pg, CATALOG_TOPIC, CATALOG_EVENT_PRODUCT, kp, snaps, n,
                         errstr, errstr_size);
out:
    free(keys);
    free(kp);
    return rc;
}

int catalog_emit(PGconn *pg, long long product_id, char *errstr,
                 size_t errstr_size)
{
    json_t *snap = catalog_snapshot(pg, product_id, errstr, errstr_size);
    int rc;

    if (!snap)
        return -1;
    rc = catalog_emit_snapshot(pg, snap, errstr, errstr_size);
    json_decref(snap);
    return rc;
}

/* ---- lookups, locks, lists ---------------------------------------------- */

/* A malloc()ed array of column 0 of @p res as ids; NULL when out of
 * memory. */
static long long *ids_of(const PGresult *res, size_t *n)
{
    int i, rows = PQntuples(res);
    long long *ids = malloc(((size_t)rows + 1) * sizeof(*ids));

    *n = 0;
    if (!ids)
        return NULL;
    for (i = 0; i < rows; i++)
        ids[i] = cell_ll(res, i, 0);
    *n = (size_t)rows;
    return ids;
}

/* Run @p sql and return column 0 as ids (see ids_of()). */
static long long *query_ids(PGconn *pg, const char *sql, int n,
                            const char *const *vals, size_t *count,
                            const char *what, char *errstr, size_t errstr_size)
{
    PGresult *res = db_exec(pg, sql, n, vals, what, errstr, errstr_size, NULL);
    long long *ids;

    *count = 0;
    if (!res)
        return NULL;
    ids = ids_of(res, count);
    PQclear(res);
    if (!ids)
        snprintf(errstr, errstr_size, "out of memory");
    return ids;
}

/* The id in the first row of @p sql: 1 found (*id set), 0 none, -1. */
static int find_id(PGconn *pg, const char *sql, const char *val,
                   const char *what, long long *id, char *errstr,
                   size_t errstr_size, char *sqlstate)
{
    const char *vals[1] = {val};
    PGresult *res =
        db_exec(pg, sql, 1, vals, what, errstr, errstr_size, sqlstate);
    int found;

    if (!res)
        return -1;
    found = PQntuples(res) >= 1;
    if (found)
        *id = cell_ll(res, 0, 0);
    PQclear(res);
    return found;
}

int catalog_variant_find(PGconn *pg, const char *sku, long long *id,
                         char *errstr, size_t errstr_size, char *sqlstate)
{
    return find_id(pg, "SELECT id FROM variant WHERE sku = $1", sku,
                   "look up variant", id, errstr, errstr_size, sqlstate);
}

/* SKUs -> variant ids (db_ids_by_text()). */
#define CATALOG_SQL_VARIANT_IDS                                                \
    "SELECT x.i, v.id FROM variant v"                                          \
    " JOIN jsonb_array_elements_text($1::jsonb) WITH ORDINALITY"               \
    " AS x(sku, i) ON x.sku = v.sku"

int catalog_variant_ids(PGconn *pg, const char *const *skus, size_t n,
                        long long *ids, char *errstr, size_t errstr_size,
                        char *sqlstate)
{
    return db_ids_by_text(pg, CATALOG_SQL_VARIANT_IDS, skus, n, ids,
                          "look up variants", errstr, errstr_size, sqlstate);
}

int catalog_variant_lock(PGconn *pg, long long id, char *errstr,
                         size_t errstr_size, char *sqlstate)
{
    char t_id[24];
    long long got;

    snprintf(t_id, sizeof(t_id), "%lld", id);
    return find_id(pg, "SELECT id FROM variant WHERE id = $1 FOR UPDATE", t_id,
                   "lock variant", &got, errstr, errstr_size, sqlstate);
}

long long catalog_variants_lock(PGconn *pg, const long long *ids, size_t n,
                                char *errstr, size_t errstr_size,
                                char *sqlstate)
{
    char *arr = idarray_text(ids, n, IDARRAY_SORTED_DISTINCT, NULL);
    const char *vals[1] = {arr};
    PGresult *res;
    long long locked;

    if (!arr) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    res = db_exec(pg,
                  "SELECT id FROM variant WHERE id = ANY($1::bigint[]) "
                  "ORDER BY id FOR UPDATE",
                  1, vals, "lock variants", errstr, errstr_size, sqlstate);
    free(arr);
    if (!res)
        return -1;
    locked = PQntuples(res);
    PQclear(res);
    return locked;
}

int catalog_price_list_find(PGconn *pg, const char *code, long long *id,
                            char *errstr, size_t errstr_size)
{
    return find_id(pg, "SELECT id FROM price_list WHERE code = $1", code,
                   "look up price_list", id, errstr, errstr_size, NULL);
}

long long catalog_price_list_add(PGconn *pg, const char *code, const char *name,
                                 char *errstr, size_t errstr_size,
                                 char *sqlstate)
{
    const char *vals[2] = {code, name};
    PGresult *res =
        db_exec(pg,
                "INSERT INTO price_list (code, name) VALUES ($1, "
                "$2) RETURNING id",
                2, vals, "add price list", errstr, errstr_size, sqlstate);
    long long id;

    if (!res)
        return -1;
    id = cell_ll(res, 0, 0);
    PQclear(res);
    return id;
}

PGresult *catalog_price_list_list(PGconn *pg, char *errstr, size_t errstr_size)
{
    return db_exec(pg,
                   "SELECT code, name FROM price_list ORDER BY code COLLATE "
                   "\"C\"",
                   0, NULL, "list price lists", errstr, errstr_size, NULL);
}

int catalog_products_active(PGconn *pg, long long **ids, size_t *n,
                            char *errstr, size_t errstr_size)
{
    *ids =
        query_ids(pg, "SELECT id FROM product WHERE NOT archived ORDER BY id",
                  0, NULL, n, "products", errstr, errstr_size);
    return *ids ? 0 : -1;
}

int catalog_variant_refs(PGconn *pg, struct catalog_variant_ref **refs,
                         size_t *n, char *errstr, size_t errstr_size)
{
    PGresult *res = db_exec(pg,
                            "SELECT v.sku, v.id, v.product_id, p.article "
                            "FROM variant v JOIN product p ON p.id = "
                            "v.product_id ORDER BY v.sku",
                            0, NULL, "variants", errstr, errstr_size, NULL);
    struct catalog_variant_ref *r;
    size_t rows, i;

    *refs = NULL;
    *n = 0;
    if (!res)
        return -1;
    rows = (size_t)PQntuples(res);
    r = calloc(rows + 1, sizeof(*r));
    for (i = 0; r && i < rows; i++) {
        r[i].sku = strdup(PQgetvalue(res, (int)i, 0));
        r[i].id = cell_ll(res, (int)i, 1);
        r[i].product_id = cell_ll(res, (int)i, 2);
        r[i].article = strdup(PQgetvalue(res, (int)i, 3));
        if (!r[i].sku || !r[i].article) {
            catalog_variant_refs_free(r, i + 1);
            r = NULL;
        }
    }
    PQclear(res);
    if (!r) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    *refs = r;
    *n = rows;
    return 0;
}

void catalog_variant_refs_free(struct catalog_variant_ref *refs, size_t n)
{
    if (!refs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(refs[i].sku);
        free(refs[i].article);
    }
    free(refs);
}

PGresult *catalog_photos_unstored(PGconn *pg, char *errstr, size_t errstr_size,
                                  char *sqlstate)
{
    return db_exec(pg,
                   "SELECT pp.id, pp.sha256, pp.path FROM product_photo pp "
                   "WHERE NOT EXISTS (SELECT 1 FROM photo_blob b WHERE "
                   "b.sha256 = pp.sha256) ORDER BY pp.id",
                   0, NULL, "photos without bytes", errstr, errstr_size,
                   sqlstate);
}

PGresult *catalog_products_unmapped(PGconn *pg, long long store_id,
                                    char *errstr, size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    return db_exec(pg,
                   "SELECT p.id, p.article, p.name FROM product p WHERE NOT "
                   "p.archived AND NOT EXISTS (SELECT 1 FROM remote_map rm "
                   "WHERE rm.store_id = $1 AND rm.entity = 'product' AND "
                   "rm.local_id = p.id AND rm.remote_id > 0) ORDER BY p.id",
                   1, vals, "unmapped", errstr, errstr_size, NULL);
}

/* The photos with the store's "image" mapping; $1 the store.  Every
 * product, or (with the WHERE below) product $2. */
#define CATALOG_SQL_PHOTO_REMOTE                                               \
    "SELECT pp.product_id, pp.id, pp.position, pp.sha256,"                     \
    " coalesce(rm.remote_id, 0), coalesce(rm.payload_hash, '')"                \
    " FROM product_photo pp"                                                   \
    " LEFT JOIN remote_map rm ON rm.store_id = $1 AND rm.entity = 'image'"     \
    " AND rm.local_id = pp.id "

int catalog_photo_remote_list(PGconn *pg, long long store_id,
                              long long product_id,
                              struct catalog_photo_remote **rows, size_t *n,
                              char *errstr, size_t errstr_size)
{
    char sid[32], pid[32];
    const char *vals[2] = {sid, pid};
    struct catalog_photo_remote *v;
    PGresult *res;
    int i;

    *rows = NULL;
    *n = 0;
    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(pid, sizeof(pid), "%lld", product_id);
    res =
        product_id
            ? db_exec(pg,
                      CATALOG_SQL_PHOTO_REMOTE
                      "WHERE pp.product_id = $2 ORDER BY pp.id",
                      2, vals, "product photos", errstr, errstr_size, NULL)
            : db_exec(pg,
                      CATALOG_SQL_PHOTO_REMOTE "ORDER BY pp.product_id, pp.id",
                      1, vals, "photos", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    v = db_rows_alloc(res, sizeof(*v), errstr, errstr_size);
    if (!v)
        return -1;
    for (i = 0; i < PQntuples(res); i++) {
        v[i].product_id = cell_ll(res, i, 0);
        v[i].id = cell_ll(res, i, 1);
        v[i].position = cell_ll(res, i, 2);
        snprintf(v[i].sha256, sizeof(v[i].sha256), "%s", PQgetvalue(res, i, 3));
        v[i].remote_id = cell_ll(res, i, 4);
        snprintf(v[i].hash, sizeof(v[i].hash), "%s", PQgetvalue(res, i, 5));
    }
    *rows = v;
    *n = (size_t)PQntuples(res);
    PQclear(res);
    return 0;
}

int catalog_counts(PGconn *pg, struct catalog_counts *c, char *errstr,
                   size_t errstr_size)
{
    PGresult *res =
        db_exec(pg,
                "SELECT (SELECT count(*) FROM price_list),"
                " (SELECT count(*) FROM product),"
                " (SELECT count(*) FROM variant)",
                0, NULL, "count catalog", errstr, errstr_size, NULL);

    if (!res)
        return -1;
    c->price_lists = cell_ll(res, 0, 0);
    c->products = cell_ll(res, 0, 1);
    c->variants = cell_ll(res, 0, 2);
    PQclear(res);
    return 0;
}

int catalog_publishable_count(PGconn *pg, long long price_list_id,
                              struct catalog_publishable *c, char *errstr,
                              size_t errstr_size)
{
    char pl[32];
    const char *vals[1] = {pl};
    PGresult *res;

    snprintf(pl, sizeof(pl), "%lld", price_list_id);
    res = db_exec(
        pg,
        "SELECT (SELECT count(*) FROM product p WHERE NOT p.archived AND"
        "  EXISTS (SELECT 1 FROM variant v JOIN price pr ON pr.variant_id ="
        "  v.id AND pr.price_list_id = $1 WHERE v.product_id = p.id"
        "  AND NOT v.archived)),"
        " (SELECT count(*) FROM variant v JOIN product p ON p.id ="
        "  v.product_id JOIN price pr ON pr.variant_id = v.id"
        "  AND pr.price_list_id = $1 WHERE NOT v.archived AND NOT p.archived),"
        " (SELECT count(*) FROM product_photo pp JOIN product p"
        "  ON p.id = pp.product_id WHERE NOT p.archived)",
        1, vals, "count publishable", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    c->products = cell_ll(res, 0, 0);
    c->variants = cell_ll(res, 0, 1);
    c->photos = cell_ll(res, 0, 2);
    PQclear(res);
    return 0;
}

/* ---- the staged import -------------------------------------------------- */

/* json text of @p root (owned: decref'd here); NULL when out of memory. */
static char *dump_owned(json_t *root)
{
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;

    json_decref(root);
    return s;
}

/* Run @p sql with the JSON text of @p rows (owned) as $1. */
static int json_cmd(PGconn *pg, const char *sql, json_t *rows, const char *what,
                    char *errstr, size_t errstr_size)
{
    char *js = dump_owned(rows);
    const char *vals[1] = {js};
    int rc;

    if (!js) {
        snprintf(errstr, errstr_size, "%s: out of memory", what);
        return -1;
    }
    rc = db_cmd(pg, sql, 1, vals, what, errstr, errstr_size);
    free(js);
    return rc;
}

/* Option names as a JSON array; NULL when out of memory. */
static json_t *names_json(const char *const *names, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static const char *const STAGE_TEMP[] = {
    "CREATE TEMP TABLE imp_product (article text PRIMARY KEY, name text NOT "
    "NULL, description text, group_path text, ord int NOT NULL) ON COMMIT "
    "DROP",
    "CREATE TEMP TABLE imp_variant (sku text PRIMARY KEY, article text NOT "
    "NULL, barcode text, position int NOT NULL, price numeric(14,2), "
    "old_price numeric(14,2), ord int NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE imp_option (sku text NOT NULL, name text NOT NULL, "
    "value text NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE imp_photo (article text NOT NULL, position int NOT "
    "NULL, path text NOT NULL, sha256 text NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE imp_group (path text PRIMARY KEY, parent_path text, "
    "name text NOT NULL, depth int NOT NULL) ON COMMIT DROP",
    NULL};

/* The statements that copy a stage's buffers, in the order of
 * stage_rows(). */
static const char *const STAGE_LOAD[] = {
    "COPY imp_product (article, name, description, group_path, ord) "
    "FROM STDIN",
    "COPY imp_variant (sku, article, barcode, position, price, old_price, "
    "ord) FROM STDIN",
    "COPY imp_option (sku, name, value) FROM STDIN",
    "COPY imp_photo (article, position, path, sha256) FROM STDIN",
    "COPY imp_group (path, parent_path, name, depth) FROM STDIN",
};
static const char *const STAGE_LOAD_WHAT[] = {
    "stage products", "stage variants", "stage options",
    "stage photos",   "stage groups",
};
#define STAGE_NLOAD (sizeof(STAGE_LOAD) / sizeof(STAGE_LOAD[0]))

/* The buffers of @p st in the order of STAGE_LOAD. */
static void stage_rows(struct catalog_stage *st,
                       struct db_copy *rows[STAGE_NLOAD])
{
    rows[0] = &st->products;
    rows[1] = &st->variants;
    rows[2] = &st->options;
    rows[3] = &st->photos;
    rows[4] = &st->groups;
}

/* Run @p analyze (an ANALYZE statement) on a sample of 3,000 rows a
 * table (statistics target 10), not 30,000: the import's writes from the
 * staging tables need the row counts and which keys are unique, and a
 * 10,000-variant file's staging ANALYZE takes 5 ms instead of 25. */
static int analyze_sampled(PGconn *pg, const char *analyze, const char *what,
                           char *errstr, size_t errstr_size)
{
    const char *const steps[] = {
        "SET LOCAL default_statistics_target = 10",
        analyze,
        "SET LOCAL default_statistics_target TO DEFAULT",
    };

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (db_cmd(pg, steps[i], 0, NULL, what, errstr, errstr_size) < 0)
            return -1;
    return 0;
}

int catalog_analyze(PGconn *pg, char *errstr, size_t errstr_size)
{
    PGresult *res;
    int owner;

    /* Only an owner may ANALYZE; anyone else (ledger-api's role) would
     * get one WARNING a table on stderr and no refresh. */
    res = db_exec(pg,
                  "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM "
                  "pg_class WHERE oid = ANY (ARRAY['product', 'variant', "
                  "'variant_option', 'price', 'product_photo', 'price_list', "
                  "'option_name', 'option_value']::regclass[])",
                  0, NULL, "analyze catalog", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    owner = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!owner)
        return 0;
    /* The key columns the snapshot queries join and filter on (see
     * catalog_stage_end()) and the small dictionaries they join (never
     * analyzed, they were costed at 750 to 1,200 rows), on the full
     * sample: a 3,000-row one misjudges a 300,000-variant catalog's
     * index scans, and the snapshot queries then scan whole tables (2 x
     * slower a round, measured). */
    return db_cmd(pg,
                  "ANALYZE product (id, article), variant (id, product_id, "
                  "sku), variant_option (variant_id, option_name_id), price "
                  "(variant_id, price_list_id), product_photo (product_id), "
                  "price_list, option_name, option_value",
                  0, NULL, "analyze catalog", errstr, errstr_size);
}

int catalog_stage_begin(PGconn *pg, char *errstr, size_t errstr_size)
{
    size_t i;

    for (i = 0; STAGE_TEMP[i]; i++)
        if (db_cmd(pg, STAGE_TEMP[i], 0, NULL, "create staging table", errstr,
                   errstr_size) < 0)
            return -1;
    return 0;
}

/* The answer to @p st's last load, when one is pending. */
static int stage_wait(PGconn *pg, struct catalog_stage *st, char *errstr,
                      size_t errstr_size)
{
    if (!st->pending)
        return 0;
    st->pending = 0;
    return db_copy_wait(pg, st->pending_what, errstr, errstr_size);
}

int catalog_stage_append(PGconn *pg, struct catalog_stage *st, char *errstr,
                         size_t errstr_size)
{
    struct db_copy *rows[STAGE_NLOAD];
    size_t i;

    stage_rows(st, rows);
    for (i = 0; i < STAGE_NLOAD; i++) {
        if (rows[i]->rows == 0 && !rows[i]->oom)
            continue;
        if (stage_wait(pg, st, errstr, errstr_size) < 0 ||
            db_copy_send_nowait(pg, STAGE_LOAD[i], rows[i], STAGE_LOAD_WHAT[i],
                                &st->pending, errstr, errstr_size) < 0)
            return -1;
        st->pending_what = STAGE_LOAD_WHAT[i];
    }
    return 0;
}

void catalog_stage_free(PGconn *pg, struct catalog_stage *st)
{
    struct db_copy *rows[STAGE_NLOAD];
    char other[64];
    size_t i;

    /* A load still unanswered (staging failed after it): read its answer,
     * so the connection takes the caller's ROLLBACK. */
    stage_wait(pg, st, other, sizeof(other));
    stage_rows(st, rows);
    for (i = 0; i < STAGE_NLOAD; i++)
        db_copy_free(rows[i]);
}

int catalog_stage_end(PGconn *pg, struct catalog_stage *st, char *errstr,
                      size_t errstr_size)
{
    if (stage_wait(pg, st, errstr, errstr_size) < 0)
        return -1;
    /* The columns the writes join on: the wide ones (names,
     * descriptions) cost most of a whole-table ANALYZE and steer no
     * plan; the row counts come with any column list. */
    return analyze_sampled(pg,
                           "ANALYZE imp_product (article, group_path), "
                           "imp_variant (sku, article), imp_option (sku, "
                           "name, value), imp_photo (article), imp_group "
                           "(path, depth)",
                           "analyze staging", errstr, errstr_size);
}

long long *catalog_stage_product_ids(PGconn *pg, size_t *n, char *errstr,
                                     size_t errstr_size)
{
    return query_ids(pg,
                     "SELECT p.id FROM product p JOIN imp_product x "
                     "ON x.article = p.article ORDER BY x.ord",
                     0, NULL, n, "staged products", errstr, errstr_size);
}

long long catalog_stage_missing(PGconn *pg,
                                void (*each)(void *arg, long long id,
                                             const char *article, int delivery),
                                void *arg, char *errstr, size_t errstr_size)
{
    PGresult *res;
    long long n;
    int r;

    res = db_exec(pg,
                  "SELECT p.id, p.article, EXISTS (SELECT 1 FROM variant v "
                  "JOIN store s ON s.delivery_variant_id = v.id WHERE "
                  "v.product_id = p.id) FROM product p WHERE NOT p.archived "
                  "AND NOT EXISTS (SELECT 1 FROM imp_product x WHERE "
                  "x.article = p.article) ORDER BY p.id",
                  0, NULL, "missing products", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    for (r = 0; r < PQntuples(res); r++)
        each(arg, cell_ll(res, r, 0), PQgetvalue(res, r, 1),
             PQgetvalue(res, r, 2)[0] == 't');
    n = PQntuples(res);
    PQclear(res);
    return n;
}

int catalog_stage_apply_groups(PGconn *pg, int depth, char *errstr,
                               size_t errstr_size)
{
    char depth_s[16];
    const char *vals[1] = {depth_s};
    int d;

    for (d = 0; d < depth; d++) {
        snprintf(depth_s, sizeof(depth_s), "%d", d);
        if (db_cmd(pg,
                   "INSERT INTO product_group (parent_id, name, path) "
                   "SELECT (SELECT id FROM product_group WHERE path = "
                   "g.parent_path), g.name, g.path FROM imp_group g "
                   "WHERE g.depth = $1::int ORDER BY g.path "
                   "ON CONFLICT (path) DO NOTHING",
                   1, vals, "insert groups", errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

int catalog_stage_apply_options(PGconn *pg, const char *const *names, size_t n,
                                char *errstr, size_t errstr_size)
{
    const char *vals[1];
    size_t i;

    for (i = 0; i < n; i++) {
        vals[0] = names[i];
        if (db_cmd(pg,
                   "INSERT INTO option_name (name) VALUES ($1) "
                   "ON CONFLICT (name) DO NOTHING",
                   1, vals, "insert option name", errstr, errstr_size) < 0)
            return -1;
    }
    return db_cmd(pg,
                  "INSERT INTO option_value (option_name_id, value) "
                  "SELECT DISTINCT n.id, o.value FROM imp_option o "
                  "JOIN option_name n ON n.name = o.name "
                  "ON CONFLICT (option_name_id, value) DO NOTHING",
                  0, NULL, "insert option values", errstr, errstr_size);
}

int catalog_stage_apply_products(PGconn *pg, int has_description, int has_group,
                                 char *errstr, size_t errstr_size)
{
    const char *vals[2] = {has_description ? "t" : "f", has_group ? "t" : "f"};

    /* An update of the products that changed, then an insert of the new
     * ones, as for variants (below): only imports write products. */
    if (db_cmd(pg,
               "UPDATE product p SET name = x.name, description = CASE WHEN "
               "$1::boolean THEN coalesce(x.description, '') ELSE "
               "p.description END, group_id = CASE WHEN $2::boolean THEN "
               "g.id ELSE p.group_id END, archived = false, updated_at = "
               "now() FROM imp_product x LEFT JOIN product_group g ON "
               "g.path = x.group_path WHERE p.article = x.article AND "
               "(p.name IS DISTINCT FROM x.name OR ($1::boolean AND "
               "p.description IS DISTINCT FROM coalesce(x.description, '')) "
               "OR ($2::boolean AND p.group_id IS DISTINCT FROM g.id) "
               "OR p.archived)",
               2, vals, "update products", errstr, errstr_size) < 0)
        return -1;
    return db_cmd(pg,
                  "INSERT INTO product (article, name, description, group_id) "
                  "SELECT x.article, x.name, coalesce(x.description, ''), "
                  "g.id FROM imp_product x LEFT JOIN product_group g ON "
                  "g.path = x.group_path WHERE NOT EXISTS (SELECT 1 FROM "
                  "product p WHERE p.article = x.article) ORDER BY x.ord",
                  0, NULL, "insert products", errstr, errstr_size);
}

int catalog_stage_apply_variants(PGconn *pg, int has_barcode,
                                 void (*kept)(void *arg, const char *sku),
                                 void *arg, char *errstr, size_t errstr_size)
{
    const char *vals[1] = {has_barcode ? "t" : "f"};
    PGresult *res;
    int d;

    /* An update of the variants that changed, then an insert of the new
     * ones: not one INSERT ... ON CONFLICT, whose speculative insertion
     * cost more than the insert itself.  Only imports write variants, and
     * they hold the import lock (SKU stays UNIQUE: a writer that did not
     * would fail, not duplicate). */
    if (db_cmd(pg,
               "UPDATE variant v SET barcode = CASE WHEN $1::boolean THEN "
               "x.barcode ELSE v.barcode END, position = x.position, "
               "archived = false, updated_at = now() FROM imp_variant x "
               "WHERE v.sku = x.sku AND (($1::boolean AND v.barcode IS "
               "DISTINCT FROM x.barcode) OR v.position <> x.position "
               "OR v.archived)",
               1, vals, "update variants", errstr, errstr_size) < 0 ||
        db_cmd(pg,
               "INSERT INTO variant (product_id, sku, barcode, position) "
               "SELECT p.id, x.sku, x.barcode, x.position FROM imp_variant x "
               "JOIN product p ON p.article = x.article WHERE NOT EXISTS "
               "(SELECT 1 FROM variant v WHERE v.sku = x.sku) ORDER BY x.ord",
               0, NULL, "insert variants", errstr, errstr_size) < 0)
        return -1;
    res = db_exec(pg,
                  "SELECT v.sku FROM variant v JOIN product p ON p.id = "
                  "v.product_id JOIN imp_product x ON x.article = p.article "
                  "WHERE NOT v.archived AND NOT EXISTS (SELECT 1 FROM "
                  "imp_variant iv WHERE iv.sku = v.sku) AND EXISTS (SELECT 1 "
                  "FROM store s WHERE s.delivery_variant_id = v.id)",
                  0, NULL, "delivery variants", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    for (d = 0; kept && d < PQntuples(res); d++)
        kept(arg, PQgetvalue(res, d, 0));
    PQclear(res);
    return db_cmd(pg,
                  "UPDATE variant v SET archived = true, updated_at = now() "
                  "FROM product p JOIN imp_product x ON x.article = p.article "
                  "WHERE v.product_id = p.id AND NOT v.archived "
                  "AND NOT EXISTS (SELECT 1 FROM imp_variant iv WHERE iv.sku = "
                  "v.sku) AND NOT EXISTS (SELECT 1 FROM store s WHERE "
                  "s.delivery_variant_id = v.id)",
                  0, NULL, "archive variants", errstr, errstr_size);
}

/* The staged options with their ids.  The variants are joined first: the
 * option tables have no statistics yet, and joined first their row
 * estimate (~100 for 25,000) made the planner look each option's variant
 * up by index, one probe a row. */
#define SQL_STAGED_OPTION_IDS                                                  \
    "WITH o AS MATERIALIZED (SELECT v.id, o.name, o.value "                    \
    "FROM imp_option o JOIN variant v ON v.sku = o.sku) "                      \
    "SELECT o.id AS variant_id, n.id AS option_name_id, "                      \
    "ov.id AS option_value_id FROM o "                                         \
    "JOIN option_name n ON n.name = o.name "                                   \
    "JOIN option_value ov ON ov.option_name_id = n.id AND ov.value = o.value"

int catalog_stage_apply_variant_options(PGconn *pg, const char *const *names,
                                        size_t n, int fresh, char *errstr,
                                        size_t errstr_size)
{
    /* Rows are written in key order (variant ids ascend with the file):
     * each index grows at its end, and the table's order follows its key,
     * which keeps the snapshot queries' index scans cheap on a large
     * catalog (a hash join's order made them scan the whole table).
     * Fresh variants have no options yet: one insert (~10 ms less for
     * 25,000 rows than the staged table and the update below). */
    if (fresh)
        return db_cmd(pg,
                      "INSERT INTO variant_option (variant_id, option_name_id, "
                      "option_value_id) " SQL_STAGED_OPTION_IDS
                      " ORDER BY 1, 2",
                      0, NULL, "insert variant options", errstr, errstr_size);
    if (json_cmd(pg,
                 "DELETE FROM variant_option vo USING variant v, imp_variant "
                 "x, option_name n WHERE vo.variant_id = v.id AND v.sku = "
                 "x.sku AND n.id = vo.option_name_id AND n.name IN (SELECT "
                 "json_array_elements_text($1::json)) AND NOT EXISTS (SELECT "
                 "1 FROM imp_option o WHERE o.sku = x.sku AND o.name = "
                 "n.name)",
                 names_json(names, n), "remove variant options", errstr,
                 errstr_size) < 0)
        return -1;
    /* The staged ids, then an update of the options that changed and an
     * insert of the new ones (as for variants, under the import lock). */
    if (db_cmd(pg,
               "CREATE TEMP TABLE imp_option_ids ON COMMIT DROP "
               "AS " SQL_STAGED_OPTION_IDS,
               0, NULL, "stage variant options", errstr, errstr_size) < 0 ||
        db_cmd(pg,
               "UPDATE variant_option vo SET option_value_id = "
               "x.option_value_id FROM imp_option_ids x WHERE "
               "vo.variant_id = x.variant_id AND vo.option_name_id = "
               "x.option_name_id AND vo.option_value_id <> x.option_value_id",
               0, NULL, "update variant options", errstr, errstr_size) < 0)
        return -1;
    return db_cmd(pg,
                  "INSERT INTO variant_option (variant_id, option_name_id, "
                  "option_value_id) SELECT x.variant_id, x.option_name_id, "
                  "x.option_value_id FROM imp_option_ids x WHERE NOT EXISTS "
                  "(SELECT 1 FROM variant_option vo WHERE vo.variant_id = "
                  "x.variant_id AND vo.option_name_id = x.option_name_id) "
                  "ORDER BY x.variant_id, x.option_name_id",
                  0, NULL, "insert variant options", errstr, errstr_size);
}

int catalog_stage_apply_prices(PGconn *pg, long long price_list_id,
                               int has_old_price, char *errstr,
                               size_t errstr_size)
{
    char pl[32];
    const char *vals[2] = {pl, has_old_price ? "t" : "f"};

    /* Update, then insert, as for variants: only imports write prices,
     * under the import lock (catalog_import.c), and the speculative
     * insertion of ON CONFLICT cost as much again as the insert. */
    snprintf(pl, sizeof(pl), "%lld", price_list_id);
    if (db_cmd(pg,
               "UPDATE price pr SET price = x.price, old_price = CASE WHEN "
               "$2::boolean THEN x.old_price ELSE pr.old_price END, "
               "updated_at = now() FROM imp_variant x JOIN variant v ON "
               "v.sku = x.sku WHERE pr.price_list_id = $1::bigint AND "
               "pr.variant_id = v.id AND x.price IS NOT NULL AND "
               "(pr.price <> x.price OR ($2::boolean AND pr.old_price IS "
               "DISTINCT FROM x.old_price))",
               2, vals, "update prices", errstr, errstr_size) < 0)
        return -1;
    return db_cmd(pg,
                  "INSERT INTO price (price_list_id, variant_id, price, "
                  "old_price) SELECT $1::bigint, v.id, x.price, x.old_price "
                  "FROM imp_variant x JOIN variant v ON v.sku = x.sku "
                  "WHERE x.price IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                  "price pr WHERE pr.price_list_id = $1::bigint AND "
                  "pr.variant_id = v.id) ORDER BY v.id",
                  1, vals, "insert prices", errstr, errstr_size);
}

int catalog_stage_apply_photos(PGconn *pg, char *errstr, size_t errstr_size)
{
    if (db_cmd(pg,
               "CREATE TEMP TABLE imp_photo_changed ON COMMIT DROP AS "
               "WITH want AS (SELECT p.id AS product_id, array_agg(ph.path "
               "|| ' ' || ph.sha256 ORDER BY ph.position) FILTER (WHERE "
               "ph.path IS NOT NULL) AS a FROM imp_product x JOIN product "
               "p ON p.article = x.article LEFT JOIN imp_photo ph ON "
               "ph.article = x.article GROUP BY p.id), "
               "have AS (SELECT pp.product_id, array_agg(pp.path || ' ' "
               "|| pp.sha256 ORDER BY pp.position) AS a FROM product_photo "
               "pp JOIN want USING (product_id) GROUP BY pp.product_id) "
               "SELECT want.product_id FROM want LEFT JOIN have USING "
               "(product_id) WHERE coalesce(want.a, '{}') IS DISTINCT "
               "FROM coalesce(have.a, '{}')",
               0, NULL, "compare photos", errstr, errstr_size) < 0 ||
        db_cmd(pg,
               "DELETE FROM product_photo pp WHERE pp.product_id IN (SELECT "
               "product_id FROM imp_photo_changed) AND NOT EXISTS (SELECT 1 "
               "FROM imp_photo ph JOIN product p ON p.article = ph.article "
               "WHERE p.id = pp.product_id AND ph.position = pp.position)",
               0, NULL, "remove photos", errstr, errstr_size) < 0 ||
        /* A photo keeps its row (its id) at its position, so a replaced
         * photo's upload also deletes the store's old image
         * (docs/image-uploader.md step 7). */
        db_cmd(pg,
               "UPDATE product_photo pp SET path = ph.path, sha256 = "
               "ph.sha256 FROM imp_photo ph JOIN product p ON p.article = "
               "ph.article WHERE pp.product_id = p.id AND pp.position = "
               "ph.position AND p.id IN (SELECT product_id FROM "
               "imp_photo_changed) AND (pp.path, pp.sha256) IS DISTINCT "
               "FROM (ph.path, ph.sha256)",
               0, NULL, "update photos", errstr, errstr_size) < 0 ||
        db_cmd(pg,
               "INSERT INTO product_photo (product_id, position, path, "
               "sha256) SELECT p.id, ph.position, ph.path, ph.sha256 FROM "
               "imp_photo ph JOIN product p ON p.article = ph.article "
               "WHERE p.id IN (SELECT product_id FROM imp_photo_changed) "
               "AND NOT EXISTS (SELECT 1 FROM product_photo pp WHERE "
               "pp.product_id = p.id AND pp.position = ph.position)",
               0, NULL, "insert photos", errstr, errstr_size) < 0)
        return -1;
    return 0;
}

int catalog_products_archive(PGconn *pg, const long long *ids, size_t n,
                             char *errstr, size_t errstr_size)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    return json_cmd(pg,
                    "UPDATE product SET archived = true, updated_at = now() "
                    "WHERE id IN (SELECT json_array_elements_text($1::json)"
                    "::bigint)",
                    a, "archive products", errstr, errstr_size);
}

int catalog_prices_changed(PGconn *pg, long long price_list_id, long long **ids,
                           size_t *n, char *errstr, size_t errstr_size)
{
    char pl[32];
    const char *vals[1] = {pl};

    snprintf(pl, sizeof(pl), "%lld", price_list_id);
    *ids = query_ids(pg,
                     "SELECT variant_id FROM price WHERE price_list_id = $1 "
                     "AND updated_at = now() ORDER BY variant_id",
                     1, vals, n, "changed prices", errstr, errstr_size);
    return *ids ? 0 : -1;
}

int catalog_skus_check(PGconn *pg, struct db_copy *rows,
                       void (*other)(void *arg, size_t i, const char *article),
                       void *arg, char *errstr, size_t errstr_size)
{
    PGresult *res;
    int r;

    if (db_cmd(pg,
               "CREATE TEMP TABLE imp_sku_check (i int NOT NULL, sku text NOT "
               "NULL, article text NOT NULL) ON COMMIT DROP",
               0, NULL, "check SKUs", errstr, errstr_size) < 0 ||
        db_copy_send(pg, "COPY imp_sku_check (i, sku, article) FROM STDIN",
                     rows, "check SKUs", errstr, errstr_size) < 0)
        return -1;
    res = db_exec(pg,
                  "SELECT x.i, p.article FROM imp_sku_check x "
                  "JOIN variant v ON v.sku = x.sku "
                  "JOIN product p ON p.id = v.product_id "
                  "WHERE p.article <> x.article",
                  0, NULL, "check SKUs", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    for (r = 0; r < PQntuples(res); r++)
        other(arg, (size_t)cell_ll(res, r, 0), PQgetvalue(res, r, 1));
    PQclear(res);
    return db_cmd(pg, "DROP TABLE imp_sku_check", 0, NULL, "check SKUs", errstr,
                  errstr_size);
}

int catalog_price_stage_load(PGconn *pg, json_t *rows, char *errstr,
                             size_t errstr_size)
{
    if (db_cmd(pg,
               "CREATE TEMP TABLE imp_price (i int, sku text PRIMARY KEY, "
               "price numeric(14,2) NOT NULL, old_price numeric(14,2)) "
               "ON COMMIT DROP",
               0, NULL, "create staging table", errstr, errstr_size) < 0) {
        json_decref(rows);
        return -1;
    }
    return json_cmd(pg,
                    "INSERT INTO imp_price SELECT * FROM json_to_recordset($1"
                    "::json) AS x(i int, sku text, price numeric, old_price "
                    "numeric)",
                    rows, "stage prices", errstr, errstr_size);
}

int catalog_price_stage_unknown(PGconn *pg, void (*each)(void *arg, size_t i),
                                void *arg, char *errstr, size_t errstr_size)
{
    PGresult *res;
    int r;

    res = db_exec(pg,
                  "SELECT x.i FROM imp_price x WHERE NOT EXISTS (SELECT 1 "
                  "FROM variant v WHERE v.sku = x.sku) ORDER BY x.i",
                  0, NULL, "check SKUs", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    for (r = 0; r < PQntuples(res); r++)
        each(arg, (size_t)cell_ll(res, r, 0));
    PQclear(res);
    return 0;
}

int catalog_price_stage_apply(PGconn *pg, long long price_list_id,
                              int has_old_price, long long **product_ids,
                              size_t *n, long long *changed, char *errstr,
                              size_t errstr_size)
{
    char pl[32];
    const char *vals[2] = {pl, has_old_price ? "t" : "f"};
    PGresult *res;
    int r;

    *product_ids = NULL;
    *n = 0;
    *changed = 0;
    snprintf(pl, sizeof(pl), "%lld", price_list_id);
    res = db_exec(pg,
                  "WITH up AS (INSERT INTO price AS pr (price_list_id, "
                  "variant_id, price, old_price) SELECT $1::bigint, v.id, "
                  "x.price, x.old_price FROM imp_price x JOIN variant v ON "
                  "v.sku = x.sku ON CONFLICT (price_list_id, variant_id) DO "
                  "UPDATE SET price = EXCLUDED.price, old_price = CASE WHEN "
                  "$2::boolean THEN EXCLUDED.old_price ELSE pr.old_price END, "
                  "updated_at = now() WHERE pr.price <> EXCLUDED.price OR "
                  "($2::boolean AND pr.old_price IS DISTINCT FROM "
                  "EXCLUDED.old_price) RETURNING pr.variant_id) "
                  "SELECT v.product_id, count(*) FROM up JOIN variant v ON "
                  "v.id = up.variant_id GROUP BY v.product_id ORDER BY 1",
                  2, vals, "upsert prices", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    *product_ids = ids_of(res, n);
    for (r = 0; *product_ids && r < PQntuples(res); r++)
        *changed += cell_ll(res, r, 1);
    PQclear(res);
    if (!*product_ids) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- groups ----------------------------------------------------------------
 */

PGresult *catalog_groups_list(PGconn *pg, char *errstr, size_t errstr_size)
{
    return db_exec(
        pg,
        "SELECT g.path, g.name, coalesce(pp.path, '') AS parent,"
        " (SELECT count(*) FROM product p WHERE p.group_id = g.id"
        "   AND NOT p.archived) AS products,"
        " (SELECT count(*) FROM product_group c WHERE c.parent_id = g.id)"
        "   AS subgroups"
        " FROM product_group g LEFT JOIN product_group pp ON pp.id = "
        "g.parent_id"
        " ORDER BY g.path",
        0, NULL, "list groups", errstr, errstr_size, NULL);
}

/* The group at @p path, locked: *id, its name; 0 when there is none. */
static int group_find(PGconn *pg, const char *path, long long *id, char *name,
                      size_t name_size, char *errstr, size_t errstr_size)
{
    const char *vals[1] = {path};
    PGresult *res = db_exec(
        pg, "SELECT id, name FROM product_group WHERE path = $1 FOR UPDATE", 1,
        vals, "find group", errstr, errstr_size, NULL);
    int found;

    if (!res)
        return -1;
    found = PQntuples(res) > 0;
    if (found) {
        *id = cell_ll(res, 0, 0);
        snprintf(name, name_size, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return found;
}

/* A group name: not empty, no '/', no blanks around it. */
static int group_name_ok(const char *name)
{
    size_t n = strlen(name);

    return n > 0 && n < 256 && !strchr(name, '/') && name[0] != ' ' &&
           name[n - 1] != ' ' && name[0] != '\t' && name[n - 1] != '\t';
}

/* @p path normalised: no leading or trailing '/' ("" is the top). */
static void group_path_trim(const char *path, char *out, size_t size)
{
    size_t n;

    while (*path == '/')
        path++;
    snprintf(out, size, "%s", path);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
}

/* Where the change puts the group: its new parent id (0: the top) and
 * path.  1 with errstr when the input is refused. */
static int group_target(PGconn *pg, const char *path, const char *name,
                        const char *arg, int move, long long *parent,
                        char *newpath, size_t size, char *errstr,
                        size_t errstr_size)
{
    char ppath[1024], pname[256];
    const char *slash = strrchr(path, '/');
    int r;

    *parent = -1; /* unchanged */
    if (!move) {
        if (!group_name_ok(arg)) {
            snprintf(errstr, errstr_size,
                     "bad group name '%s' (not empty, no '/', no blanks "
                     "around it)",
                     arg);
            return 1;
        }
        if (snprintf(newpath, size, "%.*s%s%s", slash ? (int)(slash - path) : 0,
                     path, slash ? "/" : "", arg) >= (int)size) {
            snprintf(errstr, errstr_size, "group path too long");
            return 1;
        }
        return 0;
    }
    group_path_trim(arg, ppath, sizeof(ppath));
    if (strcmp(ppath, path) == 0 || (strncmp(ppath, path, strlen(path)) == 0 &&
                                     ppath[strlen(path)] == '/')) {
        snprintf(errstr, errstr_size, "cannot move group '%s' under itself",
                 path);
        return 1;
    }
    *parent = 0;
    if (ppath[0]) {
        r = group_find(pg, ppath, parent, pname, sizeof(pname), errstr,
                       errstr_size);
        if (r < 0)
            return -1;
        if (r == 0) {
            snprintf(errstr, errstr_size, "no group '%s'", ppath);
            return 1;
        }
    }
    if (snprintf(newpath, size, "%s%s%s", ppath, ppath[0] ? "/" : "", name) >=
        (int)size) {
        snprintf(errstr, errstr_size, "group path too long");
        return 1;
    }
    return 0;
}

/* Rewrite the group's row and the paths below it. */
static int group_apply(PGconn *pg, long long id, const char *oldpath,
                       const char *newpath, const char *name, long long parent,
                       long long *ngroups, char *errstr, size_t errstr_size)
{
    char sid[32], spar[32];
    const char *v1[4] = {sid, name, spar, NULL};
    const char *v2[2] = {oldpath, newpath};
    PGresult *res;

    snprintf(sid, sizeof(sid), "%lld", id);
    snprintf(spar, sizeof(spar), "%lld", parent);
    if (db_cmd(pg,
               "UPDATE product_group SET name = $2, parent_id = CASE"
               " WHEN $3::bigint < 0 THEN parent_id"
               " ELSE nullif($3::bigint, 0) END WHERE id = $1::bigint",
               3, v1, "change group", errstr, errstr_size) != 0)
        return -1;
    res = db_exec(pg,
                  "UPDATE product_group SET path = $2 || substr(path,"
                  " length($1) + 1) WHERE path = $1"
                  " OR left(path, length($1) + 1) = $1 || '/'",
                  2, v2, "change group paths", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    *ngroups = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return 0;
}

/* One catalog.product event per product (not archived) at or below
 * @p path. */
static long long group_emit(PGconn *pg, const char *path, char *errstr,
                            size_t errstr_size)
{
    const char *vals[1] = {path};
    PGresult *res = db_exec(
        pg,
        "SELECT p.id FROM product p JOIN product_group g ON g.id = p.group_id"
        " WHERE NOT p.archived AND (g.path = $1"
        " OR left(g.path, length($1) + 1) = $1 || '/') ORDER BY p.id",
        1, vals, "products of group", errstr, errstr_size, NULL);
    json_t **snaps = NULL;
    long long *ids = NULL, rc = -1;
    size_t n = 0, i;

    if (!res)
        return -1;
    ids = ids_of(res, &n);
    PQclear(res);
    snaps = ids ? calloc(n + 1, sizeof(*snaps)) : NULL;
    if (!snaps) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (catalog_snapshot_many(pg, ids, n, snaps, errstr, errstr_size) != 0)
        goto out;
    for (i = 0; i < n; i++)
        if (snaps[i] &&
            catalog_emit_snapshot(pg, snaps[i], errstr, errstr_size) != 0)
            goto out;
    rc = (long long)n;
out:
    for (i = 0; snaps && i < n; i++)
        json_decref(snaps[i]);
    free(snaps);
    free(ids);
    return rc;
}

/* Refuse a new path another group holds. */
static int group_path_free(PGconn *pg, const char *newpath, char *errstr,
                           size_t errstr_size)
{
    const char *vals[1] = {newpath};
    PGresult *res =
        db_exec(pg, "SELECT 1 FROM product_group WHERE path = $1", 1, vals,
                "check group path", errstr, errstr_size, NULL);
    int taken;

    if (!res)
        return -1;
    taken = PQntuples(res) > 0;
    PQclear(res);
    if (taken)
        snprintf(errstr, errstr_size, "a group '%s' exists already", newpath);
    return taken;
}

int catalog_group_change(PGconn *pg, const char *path_in, const char *arg,
                         int move, struct catalog_group_change *out,
                         char *errstr, size_t errstr_size)
{
    char path[1024], name[256];
    long long id = 0, parent;
    int r;

    memset(out, 0, sizeof(*out));
    group_path_trim(path_in, path, sizeof(path));
    if (db_begin(pg, errstr, errstr_size) != 0)
        return -1;
    r = db_cmd(pg, "SELECT pg_advisory_xact_lock(hashtext('omnisync.import'))",
               0, NULL, "lock imports", errstr, errstr_size);
    if (r == 0) {
        r = group_find(pg, path, &id, name, sizeof(name), errstr, errstr_size);
        if (r == 0)
            snprintf(errstr, errstr_size, "no group '%s'", path);
        r = r < 0 ? -1 : !r;
    }
    if (r == 0)
        r = group_target(pg, path, name, arg, move, &parent, out->path,
                         sizeof(out->path), errstr, errstr_size);
    if (r == 0 && strcmp(out->path, path) != 0)
        r = group_path_free(pg, out->path, errstr, errstr_size);
    if (r == 0 && group_apply(pg, id, path, out->path, move ? name : arg,
                              parent, &out->groups, errstr, errstr_size) != 0)
        r = -1;
    if (r == 0) {
        out->products = group_emit(pg, out->path, errstr, errstr_size);
        r = out->products < 0 ? -1 : 0;
    }
    if (r == 0 && db_commit(pg, errstr, errstr_size) == 0)
        return 0;
    db_rollback(pg);
    return r == 0 ? -1 : r;
}

int catalog_groups_unused(PGconn *pg, long long store_id,
                          struct catalog_group_unused **rows, size_t *n,
                          char *errstr, size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};
    PGresult *res;
    int i;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(
        pg,
        "SELECT g.id, rm.remote_id FROM product_group g"
        " JOIN remote_map rm ON rm.store_id = $1::bigint"
        " AND rm.entity = 'category' AND rm.local_id = g.id"
        " AND rm.remote_id > 0"
        " WHERE NOT EXISTS (SELECT 1 FROM product p WHERE p.group_id = g.id)"
        " AND NOT EXISTS (SELECT 1 FROM product_group c"
        " WHERE c.parent_id = g.id) ORDER BY g.id",
        1, vals, "unused groups", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    *n = (size_t)PQntuples(res);
    *rows = calloc(*n + 1, sizeof(**rows));
    if (!*rows) {
        PQclear(res);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (i = 0; i < PQntuples(res); i++) {
        (*rows)[i].group_id = cell_ll(res, i, 0);
        (*rows)[i].remote_id = cell_ll(res, i, 1);
    }
    PQclear(res);
    return 0;
}
