#include "ledger/catalog.h"

#include "lib/db.h"
#include "lib/idarray.h"
#include "events/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every query takes $1 = the product ids as a bigint[] literal. */
static const char SQL_PRODUCTS[] =
    "SELECT id, article, name, description, archived FROM product "
    "WHERE id = ANY($1::bigint[])";

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

static const char SQL_OPTION_NAMES[] =
    "SELECT DISTINCT v.product_id, n.id, n.name"
    "  FROM variant v"
    "  JOIN variant_option vo ON vo.variant_id = v.id"
    "  JOIN option_name n ON n.id = vo.option_name_id"
    " WHERE v.product_id = ANY($1::bigint[])"
    " ORDER BY v.product_id, n.id";

static const char SQL_VARIANT_OPTIONS[] =
    "SELECT vo.variant_id, n.name, ov.value"
    "  FROM variant v"
    "  JOIN variant_option vo ON vo.variant_id = v.id"
    "  JOIN option_name n ON n.id = vo.option_name_id"
    "  JOIN option_value ov ON ov.id = vo.option_value_id"
    " WHERE v.product_id = ANY($1::bigint[])";

static const char SQL_PRICES[] =
    "SELECT pr.variant_id, pl.code, pr.price::text, pr.old_price::text"
    "  FROM variant v"
    "  JOIN price pr ON pr.variant_id = v.id"
    "  JOIN price_list pl ON pl.id = pr.price_list_id"
    " WHERE v.product_id = ANY($1::bigint[])";

static const char SQL_PHOTOS[] =
    "SELECT product_id, position, path, sha256 FROM product_photo "
    "WHERE product_id = ANY($1::bigint[]) ORDER BY product_id, position";

static long long cell_ll(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static json_t *cell_str(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    return json_stringn(PQgetvalue(res, row, col),
                        (size_t)PQgetlength(res, row, col));
}

static json_t *cell_bool(const PGresult *res, int row, int col)
{
    return json_boolean(PQgetvalue(res, row, col)[0] == 't');
}

/* The object in @p map under the decimal id in column @p col (borrowed),
 * or NULL. */
static json_t *map_get(json_t *map, const PGresult *res, int row, int col)
{
    return json_object_get(map, PQgetvalue(res, row, col));
}

/*
 * One query of a snapshot fills its part of the snapshots: @p products maps
 * the decimal product id to its snapshot, @p variants the decimal variant
 * id to its variant object (borrowed from the product's "variants").
 */
static void snap_products(const PGresult *res, json_t *products,
                          json_t *variants)
{
    (void)variants;
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *p = json_object();

        json_object_set_new(p, "product_id", json_integer(cell_ll(res, r, 0)));
        json_object_set_new(p, "article", cell_str(res, r, 1));
        json_object_set_new(p, "name", cell_str(res, r, 2));
        json_object_set_new(p, "description", cell_str(res, r, 3));
        json_object_set_new(p, "archived", cell_bool(res, r, 4));
        json_object_set_new(p, "groups", json_array());
        json_object_set_new(p, "options", json_array());
        json_object_set_new(p, "variants", json_array());
        json_object_set_new(p, "photos", json_array());
        json_object_set_new(products, PQgetvalue(res, r, 0), p);
    }
}

static void snap_groups(const PGresult *res, json_t *products, json_t *variants)
{
    (void)variants;
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *p = map_get(products, res, r, 0), *g;

        if (!p)
            continue;
        g = json_object();
        json_object_set_new(g, "id", json_integer(cell_ll(res, r, 1)));
        json_object_set_new(g, "name", cell_str(res, r, 2));
        json_array_append_new(json_object_get(p, "groups"), g);
    }
}

static void snap_variants(const PGresult *res, json_t *products,
                          json_t *variants)
{
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *p = map_get(products, res, r, 0), *v;

        if (!p)
            continue;
        v = json_object();
        json_object_set_new(v, "variant_id", json_integer(cell_ll(res, r, 1)));
        json_object_set_new(v, "sku", cell_str(res, r, 2));
        json_object_set_new(v, "barcode", cell_str(res, r, 3));
        json_object_set_new(v, "archived", cell_bool(res, r, 4));
        json_object_set_new(v, "options", json_object());
        json_object_set_new(v, "prices", json_object());
        json_array_append_new(json_object_get(p, "variants"), v);
        json_object_set(variants, PQgetvalue(res, r, 1), v);
    }
}

static void snap_option_names(const PGresult *res, json_t *products,
                              json_t *variants)
{
    (void)variants;
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *p = map_get(products, res, r, 0);

        if (p)
            json_array_append_new(json_object_get(p, "options"),
                                  cell_str(res, r, 2));
    }
}

static void snap_variant_options(const PGresult *res, json_t *products,
                                 json_t *variants)
{
    (void)products;
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *v = map_get(variants, res, r, 0);

        if (v)
            json_object_set_new(json_object_get(v, "options"),
                                PQgetvalue(res, r, 1), cell_str(res, r, 2));
    }
}

static void snap_prices(const PGresult *res, json_t *products, json_t *variants)
{
    (void)products;
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *v = map_get(variants, res, r, 0), *pr;

        if (!v)
            continue;
        pr = json_object();
        json_object_set_new(pr, "price", cell_str(res, r, 2));
        json_object_set_new(pr, "old_price", cell_str(res, r, 3));
        json_object_set_new(json_object_get(v, "prices"), PQgetvalue(res, r, 1),
                            pr);
    }
}

static void snap_photos(const PGresult *res, json_t *products, json_t *variants)
{
    (void)variants;
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *p = map_get(products, res, r, 0), *ph;

        if (!p)
            continue;
        ph = json_object();
        json_object_set_new(ph, "position", json_integer(cell_ll(res, r, 1)));
        json_object_set_new(ph, "path", cell_str(res, r, 2));
        json_object_set_new(ph, "sha256", cell_str(res, r, 3));
        json_array_append_new(json_object_get(p, "photos"), ph);
    }
}

/* The snapshot's queries in order: products first, then what hangs off
 * them, variants before their options and prices. */
static const struct snap_query {
    const char *sql;
    const char *what;
    void (*fill)(const PGresult *res, json_t *products, json_t *variants);
} snap_queries[] = {
    {SQL_PRODUCTS, "catalog snapshot products", snap_products},
    {SQL_GROUPS, "catalog snapshot groups", snap_groups},
    {SQL_VARIANTS, "catalog snapshot variants", snap_variants},
    {SQL_OPTION_NAMES, "catalog snapshot options", snap_option_names},
    {SQL_VARIANT_OPTIONS, "catalog snapshot variant options",
     snap_variant_options},
    {SQL_PRICES, "catalog snapshot prices", snap_prices},
    {SQL_PHOTOS, "catalog snapshot photos", snap_photos},
};

int catalog_snapshot_many(PGconn *pg, const long long *ids, size_t n,
                          json_t **out, char *errstr, size_t errstr_size)
{
    json_t *products = json_object(); /* "id" -> snapshot */
    json_t *variants = json_object(); /* "variant id" -> variant object */
    char *lit = NULL;
    const char *vals[1];
    char key[32];
    size_t i, q;
    int rc = -1;

    for (i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 0) {
        rc = 0;
        goto out;
    }
    lit = idarray_text(ids, n, 0, NULL);
    if (!products || !variants || !lit) {
        snprintf(errstr, errstr_size, "catalog snapshot: out of memory");
        goto out;
    }
    vals[0] = lit;
    for (q = 0; q < sizeof(snap_queries) / sizeof(snap_queries[0]); q++) {
        PGresult *res =
            db_exec(pg, snap_queries[q].sql, 1, vals, snap_queries[q].what,
                    errstr, errstr_size, NULL);

        if (!res)
            goto out;
        snap_queries[q].fill(res, products, variants);
        PQclear(res);
    }
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%lld", ids[i]);
        out[i] = json_incref(json_object_get(products, key));
    }
    rc = 0;
out:
    free(lit);
    json_decref(variants);
    json_decref(products);
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

#define CATALOG_SQL_PHOTOS_MAPPED                                              \
    "SELECT pp.id, pp.position, pp.sha256, coalesce(rm.remote_id, 0),"         \
    " coalesce(rm.payload_hash, '') FROM product_photo pp"                     \
    " LEFT JOIN remote_map rm ON rm.store_id = $1 AND rm.entity = 'image'"     \
    " AND rm.local_id = pp.id WHERE pp.product_id = $2"

int catalog_photos_mapped(PGconn *pg, long long store_id, long long product_id,
                          struct catalog_photo_map **out, size_t *n,
                          char *errstr, size_t errstr_size)
{
    char sid[32], spid[32];
    const char *vals[2] = {sid, spid};
    struct catalog_photo_map *v;
    PGresult *res;
    int rows;

    *out = NULL;
    *n = 0;
    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(spid, sizeof(spid), "%lld", product_id);
    res = db_exec(pg, CATALOG_SQL_PHOTOS_MAPPED, 2, vals, "product photos",
                  errstr, errstr_size, NULL);
    if (!res)
        return -1;
    rows = PQntuples(res);
    v = calloc((size_t)rows + 1, sizeof(*v));
    if (!v) {
        PQclear(res);
        snprintf(errstr, errstr_size, "product photos: out of memory");
        return -1;
    }
    for (int r = 0; r < rows; r++) {
        v[r].photo_id = cell_ll(res, r, 0);
        v[r].position = cell_ll(res, r, 1);
        snprintf(v[r].sha256, sizeof(v[r].sha256), "%s", PQgetvalue(res, r, 2));
        v[r].remote_id = cell_ll(res, r, 3);
        snprintf(v[r].remote_hash, sizeof(v[r].remote_hash), "%s",
                 PQgetvalue(res, r, 4));
    }
    PQclear(res);
    *out = v;
    *n = (size_t)rows;
    return 0;
}

#define CATALOG_SQL_VARIANT_SKUS                                               \
    "SELECT v.sku, v.id, v.product_id, p.article FROM variant v"               \
    " JOIN product p ON p.id = v.product_id ORDER BY v.sku"

#define CATALOG_SQL_UNMAPPED                                                   \
    "SELECT p.id, p.article, p.name FROM product p WHERE NOT p.archived"       \
    " AND NOT EXISTS (SELECT 1 FROM remote_map rm WHERE rm.store_id = $1"      \
    " AND rm.entity = 'product' AND rm.local_id = p.id AND rm.remote_id > 0)"  \
    " ORDER BY p.id"

/* Run @p sql and make one object of each row with @p row; NULL with
 * errstr. */
static json_t *catalog_rows(PGconn *pg, const char *sql, int n,
                            const char *const *vals, const char *what,
                            json_t *(*row)(const PGresult *, int), char *errstr,
                            size_t errstr_size)
{
    PGresult *res = db_exec(pg, sql, n, vals, what, errstr, errstr_size, NULL);
    json_t *arr = res ? json_array() : NULL;

    for (int r = 0; arr && r < PQntuples(res); r++) {
        if (json_array_append_new(arr, row(res, r)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (res && !arr)
        snprintf(errstr, errstr_size, "%s: out of memory", what);
    PQclear(res);
    return arr;
}

static json_t *catalog_variant_sku_row(const PGresult *res, int r)
{
    return json_pack("{s:o,s:I,s:I,s:o}", "sku", cell_str(res, r, 0),
                     "variant_id", (json_int_t)cell_ll(res, r, 1), "product_id",
                     (json_int_t)cell_ll(res, r, 2), "article",
                     cell_str(res, r, 3));
}

static json_t *catalog_unmapped_row(const PGresult *res, int r)
{
    return json_pack("{s:I,s:o,s:o}", "product_id",
                     (json_int_t)cell_ll(res, r, 0), "article",
                     cell_str(res, r, 1), "name", cell_str(res, r, 2));
}

json_t *catalog_variant_skus(PGconn *pg, char *errstr, size_t errstr_size)
{
    return catalog_rows(pg, CATALOG_SQL_VARIANT_SKUS, 0, NULL, "variants",
                        catalog_variant_sku_row, errstr, errstr_size);
}

json_t *catalog_products_unmapped(PGconn *pg, long long store_id, char *errstr,
                                  size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    return catalog_rows(pg, CATALOG_SQL_UNMAPPED, 1, vals, "unmapped products",
                        catalog_unmapped_row, errstr, errstr_size);
}
