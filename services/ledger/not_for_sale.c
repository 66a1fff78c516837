#include "ledger/not_for_sale.h"

#include "lib/db.h"
#include "lib/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_PUT                                                                \
    "INSERT INTO not_for_sale (store_id, product_id, reason)"                  \
    " VALUES ($1::bigint, $2::bigint, $3)"                                     \
    " ON CONFLICT (store_id, product_id) DO UPDATE SET reason = $3"            \
    " RETURNING (xmax = 0)::int"

#define SQL_CLEAR                                                              \
    "DELETE FROM not_for_sale WHERE store_id = $1::bigint"                     \
    " AND product_id = $2::bigint"

#define SQL_COUNT                                                              \
    "SELECT count(*) FROM not_for_sale WHERE store_id = $1::bigint"

#define SQL_COUNTS                                                             \
    "SELECT s.name, count(n.product_id) FROM not_for_sale n"                   \
    " RIGHT JOIN store s ON s.id = n.store_id GROUP BY s.name ORDER BY s.name"

int not_for_sale_put(PGconn *pg, long long store_id, long long product_id,
                     const char *reason, char *errstr, size_t errstr_size)
{
    char sid[32], pid[32];
    const char *vals[3] = {sid, pid, reason};
    PGresult *res;
    int fresh;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(pid, sizeof(pid), "%lld", product_id);
    res = db_exec(pg, SQL_PUT, 3, vals, "record not for sale", errstr,
                  errstr_size, NULL);
    if (!res)
        return -1;
    fresh = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    PQclear(res);
    return fresh;
}

int not_for_sale_clear(PGconn *pg, long long store_id, long long product_id,
                       char *errstr, size_t errstr_size)
{
    char sid[32], pid[32];
    const char *vals[2] = {sid, pid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(pid, sizeof(pid), "%lld", product_id);
    return db_cmd(pg, SQL_CLEAR, 2, vals, "clear not for sale", errstr,
                  errstr_size);
}

int not_for_sale_count(PGconn *pg, long long store_id, long long *n,
                       char *errstr, size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};
    PGresult *res;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg, SQL_COUNT, 1, vals, "count not for sale", errstr,
                  errstr_size, NULL);
    if (!res)
        return -1;
    *n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

struct metrics_family *not_for_sale_gauge_new(struct metrics *m)
{
    return metrics_gauge_new(
        m, "omnisync_catalog_not_for_sale",
        "Products catalog-publisher skipped for a store because they are not "
        "for sale in its channel: no active variant priced in its price list "
        "(docs/catalog-publisher.md).",
        (const char *const[]){"store", NULL});
}

int not_for_sale_gauge_set(PGconn *pg, struct metrics_family *f, char *errstr,
                           size_t errstr_size)
{
    PGresult *res;
    int i;

    if (!f)
        return 0;
    res = db_exec(pg, SQL_COUNTS, 0, NULL, "count not for sale per store",
                  errstr, errstr_size, NULL);
    if (!res)
        return -1;
    for (i = 0; i < PQntuples(res); i++)
        metrics_set(f, (const char *const[]){PQgetvalue(res, i, 0), NULL},
                    strtod(PQgetvalue(res, i, 1), NULL));
    PQclear(res);
    return 0;
}
