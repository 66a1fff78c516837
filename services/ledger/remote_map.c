#include "ledger/remote_map.h"

#include "lib/db.h"
#include "lib/idarray.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_GET                                                                \
    "SELECT remote_id, coalesce(payload_hash, ''),"                            \
    " extract(epoch FROM now() - updated_at)::bigint"                          \
    " FROM remote_map WHERE store_id = $1 AND entity = $2 AND local_id = $3"

#define SQL_DEL_STALE                                                          \
    "DELETE FROM remote_map WHERE store_id = $1 AND entity = $2"               \
    " AND remote_id = $4 AND local_id <> $3"

#define SQL_PUT                                                                \
    "INSERT INTO remote_map (store_id, entity, local_id, remote_id,"           \
    " payload_hash) VALUES ($1, $2, $3, $4, $5)"                               \
    " ON CONFLICT (store_id, entity, local_id) DO UPDATE"                      \
    " SET remote_id = EXCLUDED.remote_id,"                                     \
    " payload_hash = EXCLUDED.payload_hash, updated_at = now()"

#define SQL_MARK                                                               \
    "INSERT INTO remote_map (store_id, entity, local_id, remote_id,"           \
    " payload_hash) VALUES ($1, $2, $3, -$3::bigint, '" REMOTE_MAP_INFLIGHT    \
    "') ON CONFLICT (store_id, entity, local_id) DO UPDATE"                    \
    " SET updated_at = now() WHERE remote_map.remote_id < 0"

#define SQL_DEL                                                                \
    "DELETE FROM remote_map WHERE store_id = $1 AND entity = $2"               \
    " AND local_id = $3"

#define SQL_FIND                                                               \
    "SELECT local_id FROM remote_map WHERE store_id = $1 AND entity = $2"      \
    " AND remote_id = $3"

/* Advisory lock class of category creation (the key is the store id). */
#define REMOTE_MAP_CATEGORY_LOCK "7001"

#define SQL_REMOTE_IDS                                                         \
    "SELECT local_id, remote_id FROM remote_map WHERE store_id = $1"           \
    " AND entity = $2 AND remote_id > 0 AND local_id = ANY($3::bigint[])"

static int remote_map_parse_ll(const char *s, long long *out)
{
    char *end;

    *out = strtoll(s, &end, 10);
    return end != s && *end == '\0' ? 0 : -1;
}

int remote_map_get(PGconn *pg, long long store_id, const char *entity,
                   long long local_id, struct remote_ref *ref, char *errstr,
                   size_t errstr_size)
{
    char sid[32], lid[32];
    const char *vals[3] = {sid, entity, lid};
    PGresult *res;
    int rc = -1;

    memset(ref, 0, sizeof(*ref));
    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(lid, sizeof(lid), "%lld", local_id);
    res = db_exec(pg, SQL_GET, 3, vals, "remote_map get", errstr, errstr_size,
                  NULL);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        rc = 0;
        goto out;
    }
    if (remote_map_parse_ll(PQgetvalue(res, 0, 0), &ref->remote_id) != 0 ||
        remote_map_parse_ll(PQgetvalue(res, 0, 2), &ref->age_s) != 0) {
        snprintf(errstr, errstr_size, "remote_map get: bad row");
        goto out;
    }
    snprintf(ref->hash, sizeof(ref->hash), "%s", PQgetvalue(res, 0, 1));
    rc = 1;
out:
    PQclear(res);
    return rc;
}

int remote_map_put(PGconn *pg, long long store_id, const char *entity,
                   long long local_id, long long remote_id, const char *hash,
                   char *errstr, size_t errstr_size)
{
    char sid[32], lid[32], rid[32];
    const char *vals[5] = {sid, entity, lid, rid, hash};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(lid, sizeof(lid), "%lld", local_id);
    snprintf(rid, sizeof(rid), "%lld", remote_id);
    /* A remote id recorded under another local id is stale (the store
     * reused nothing; the ledger's old row was superseded): drop it so the
     * unique (store_id, entity, remote_id) key does not refuse the new
     * row. */
    if (db_cmd(pg, SQL_DEL_STALE, 4, vals, "remote_map put", errstr,
               errstr_size) != 0)
        return -1;
    return db_cmd(pg, SQL_PUT, 5, vals, "remote_map put", errstr, errstr_size);
}

int remote_map_mark_inflight(PGconn *pg, long long store_id, const char *entity,
                             long long local_id, char *errstr,
                             size_t errstr_size)
{
    char sid[32], lid[32];
    const char *vals[3] = {sid, entity, lid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(lid, sizeof(lid), "%lld", local_id);
    return db_cmd(pg, SQL_MARK, 3, vals, "remote_map mark", errstr,
                  errstr_size);
}

int remote_map_del(PGconn *pg, long long store_id, const char *entity,
                   long long local_id, char *errstr, size_t errstr_size)
{
    char sid[32], lid[32];
    const char *vals[3] = {sid, entity, lid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(lid, sizeof(lid), "%lld", local_id);
    return db_cmd(pg, SQL_DEL, 3, vals, "remote_map del", errstr, errstr_size);
}

int remote_map_find_local(PGconn *pg, long long store_id, const char *entity,
                          long long remote_id, long long *local_id,
                          char *errstr, size_t errstr_size)
{
    char sid[32], rid[32];
    const char *vals[3] = {sid, entity, rid};
    PGresult *res;
    int rc = -1;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    snprintf(rid, sizeof(rid), "%lld", remote_id);
    res = db_exec(pg, SQL_FIND, 3, vals, "remote_map find", errstr, errstr_size,
                  NULL);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        rc = 0;
    } else if (remote_map_parse_ll(PQgetvalue(res, 0, 0), local_id) == 0) {
        rc = 1;
    } else {
        snprintf(errstr, errstr_size, "remote_map find: bad row");
    }
    PQclear(res);
    return rc;
}

#define SQL_LIST                                                               \
    "SELECT local_id, remote_id, coalesce(payload_hash, '') FROM remote_map"   \
    " WHERE store_id = $1 AND entity = $2 AND remote_id > 0 ORDER BY local_id"

/* Products, variants and photos synced, and photos queued, of store $1. */
#define SQL_PROGRESS                                                           \
    "SELECT (SELECT count(*) FROM remote_map rm JOIN product p ON p.id = "     \
    "rm.local_id"                                                              \
    "  WHERE rm.store_id = $1 AND rm.entity = 'product' AND rm.remote_id > 0"  \
    "  AND NOT p.archived AND coalesce(rm.payload_hash, '') <> ''),"           \
    " (SELECT count(*) FROM remote_map rm JOIN variant v ON v.id = "           \
    "rm.local_id"                                                              \
    "  JOIN product p ON p.id = v.product_id WHERE rm.store_id = $1"           \
    "  AND rm.entity = 'variant' AND rm.remote_id > 0 AND NOT v.archived"      \
    "  AND NOT p.archived AND coalesce(rm.payload_hash, '') <> ''),"           \
    " (SELECT count(*) FROM remote_map rm JOIN product_photo pp"               \
    "  ON pp.id = rm.local_id AND rm.payload_hash = pp.sha256"                 \
    "  JOIN product p ON p.id = pp.product_id WHERE rm.store_id = $1"          \
    "  AND rm.entity = 'image' AND rm.remote_id > 0 AND NOT p.archived),"      \
    " (SELECT count(*) FROM remote_map pm JOIN product p ON p.id = "           \
    "pm.local_id"                                                              \
    "  JOIN product_photo pp ON pp.product_id = p.id"                          \
    "  LEFT JOIN remote_map rm ON rm.store_id = $1 AND rm.entity = 'image'"    \
    "  AND rm.local_id = pp.id WHERE pm.store_id = $1"                         \
    "  AND pm.entity = 'product' AND pm.remote_id > 0 AND NOT p.archived"      \
    "  AND rm.payload_hash IS DISTINCT FROM pp.sha256 AND NOT EXISTS"          \
    "  (SELECT 1 FROM dlq_record d WHERE d.store_id = $1"                      \
    "   AND d.entity = 'image' AND d.local_id = pp.id))"

int remote_map_category_lock(PGconn *pg, long long store_id, char *errstr,
                             size_t errstr_size)
{
    char sid[32];
    const char *vals[2] = {REMOTE_MAP_CATEGORY_LOCK, sid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    return db_cmd(pg, "SELECT pg_advisory_lock($1::int, $2::int)", 2, vals,
                  "category lock", errstr, errstr_size);
}

void remote_map_category_unlock(PGconn *pg, long long store_id)
{
    char sid[32], err[256];
    const char *vals[2] = {REMOTE_MAP_CATEGORY_LOCK, sid};

    snprintf(sid, sizeof(sid), "%lld", store_id);
    db_cmd(pg, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, vals,
           "category unlock", err, sizeof(err));
}

int remote_map_list(PGconn *pg, long long store_id, const char *entity,
                    struct remote_map_row **rows, size_t *n, char *errstr,
                    size_t errstr_size)
{
    char sid[32];
    const char *vals[2] = {sid, entity};
    struct remote_map_row *v;
    PGresult *res;
    int r;

    *rows = NULL;
    *n = 0;
    snprintf(sid, sizeof(sid), "%lld", store_id);
    res =
        db_exec(pg, SQL_LIST, 2, vals, "remote_map", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    v = db_rows_alloc(res, sizeof(*v), errstr, errstr_size);
    if (!v)
        return -1;
    for (r = 0; r < PQntuples(res); r++) {
        struct remote_map_row *row = &v[*n];

        if (remote_map_parse_ll(PQgetvalue(res, r, 0), &row->local_id) != 0 ||
            remote_map_parse_ll(PQgetvalue(res, r, 1), &row->remote_id) != 0)
            continue;
        snprintf(row->hash, sizeof(row->hash), "%s", PQgetvalue(res, r, 2));
        (*n)++;
    }
    PQclear(res);
    *rows = v;
    return 0;
}

int remote_map_remote_ids(PGconn *pg, long long store_id, const char *entity,
                          const long long *local_ids, size_t n,
                          long long *remote_ids, char *errstr,
                          size_t errstr_size)
{
    char sid[32], *arr = idarray_text(local_ids, n, 0, NULL);
    const char *vals[3] = {sid, entity, arr};
    long long local, rid;
    PGresult *res;
    size_t i;
    int r;

    if (!arr) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++)
        remote_ids[i] = 0;
    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg, SQL_REMOTE_IDS, 3, vals, "remote ids", errstr,
                  errstr_size, NULL);
    free(arr);
    if (!res)
        return -1;
    for (r = 0; r < PQntuples(res); r++) {
        if (remote_map_parse_ll(PQgetvalue(res, r, 0), &local) != 0 ||
            remote_map_parse_ll(PQgetvalue(res, r, 1), &rid) != 0)
            continue;
        for (i = 0; i < n; i++)
            if (local_ids[i] == local)
                remote_ids[i] = rid;
    }
    PQclear(res);
    return 0;
}

int remote_map_progress(PGconn *pg, long long store_id,
                        struct remote_map_progress *p, char *errstr,
                        size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};
    PGresult *res;
    int rc = -1;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg, SQL_PROGRESS, 1, vals, "sync progress", errstr,
                  errstr_size, NULL);
    if (!res)
        return -1;
    if (remote_map_parse_ll(PQgetvalue(res, 0, 0), &p->products_synced) ||
        remote_map_parse_ll(PQgetvalue(res, 0, 1), &p->variants_synced) ||
        remote_map_parse_ll(PQgetvalue(res, 0, 2), &p->photos_synced) ||
        remote_map_parse_ll(PQgetvalue(res, 0, 3), &p->photos_queued))
        snprintf(errstr, errstr_size, "sync progress: bad row");
    else
        rc = 0;
    PQclear(res);
    return rc;
}
