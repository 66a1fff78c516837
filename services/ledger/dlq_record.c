#include "ledger/dlq_record.h"

#include "lib/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_ADD                                                                \
    "INSERT INTO dlq_record (store_id, service, entity, local_id, key,"        \
    " reason) VALUES (nullif($1, '0')::bigint, $2, $3, $4::bigint, $5, $6)"

int dlq_record_add(PGconn *pg, long long store_id, const char *service,
                   const char *entity, long long local_id, const char *key,
                   const char *reason, char *errstr, size_t errstr_size)
{
    char sid[32], lid[32];
    const char *vals[6] = {sid,  service,        entity,
                           NULL, key ? key : "", reason ? reason : ""};

    snprintf(sid, sizeof(sid), "%lld", store_id > 0 ? store_id : 0);
    snprintf(lid, sizeof(lid), "%lld", local_id);
    if (entity)
        vals[3] = lid;
    return db_cmd(pg, SQL_ADD, 6, vals, "dlq_record add", errstr, errstr_size);
}

int dlq_record_count(PGconn *pg, long long store_id, long long *n, char *errstr,
                     size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};
    PGresult *res;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg, "SELECT count(*) FROM dlq_record WHERE store_id = $1", 1,
                  vals, "count dlq_record", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    *n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int dlq_record_local_ids(PGconn *pg, long long store_id, const char *entity,
                         const char *since, long long **ids, size_t *n,
                         char *errstr, size_t errstr_size)
{
    char sid[32], *end;
    const char *vals[3] = {sid, entity, since};
    PGresult *res;
    long long *v;
    int r;

    *ids = NULL;
    *n = 0;
    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg,
                  "SELECT DISTINCT local_id FROM dlq_record WHERE store_id = "
                  "$1 AND entity = $2 AND created_at >= $3::timestamptz "
                  "ORDER BY local_id",
                  3, vals, "dlq_record", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    v = db_rows_alloc(res, sizeof(*v), errstr, errstr_size);
    if (!v)
        return -1;
    for (r = 0; r < PQntuples(res); r++) {
        v[*n] = strtoll(PQgetvalue(res, r, 0), &end, 10);
        if (end != PQgetvalue(res, r, 0) && *end == '\0')
            (*n)++;
    }
    PQclear(res);
    *ids = v;
    return 0;
}

int dlq_record_summary(PGconn *pg, long long store_id,
                       struct dlq_record_summary *s, char *errstr,
                       size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};
    PGresult *res;

    memset(s, 0, sizeof(*s));
    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg,
                  "SELECT count(*) OVER (), "
                  "floor(extract(epoch FROM created_at))::bigint, service, "
                  "reason FROM dlq_record WHERE store_id = $1 "
                  "ORDER BY created_at DESC, id DESC LIMIT 1",
                  1, vals, "summarise dlq_record", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        s->count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        s->newest = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        snprintf(s->service, sizeof(s->service), "%s", PQgetvalue(res, 0, 2));
        snprintf(s->reason, sizeof(s->reason), "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    return 0;
}
