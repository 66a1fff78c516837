#include "ledger/dlq_record.h"

#include "lib/db.h"

#include <stdio.h>

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
