#include "ledger/dlq_record.h"

#include "ledger/stores.h"
#include "lib/db.h"
#include "lib/dlq.h"

#include <stdio.h>
#include <stdlib.h>

#define SQL_ADD                                                                \
    "INSERT INTO dlq_record (store_id, service, entity, local_id, key,"        \
    " reason, store_name, topic, \"partition\", \"offset\", source,"           \
    " dlq_partition, dlq_offset)"                                              \
    " VALUES (nullif($1, '0')::bigint, $2, $3, $4::bigint, $5, $6, $7,"        \
    " coalesce($8, ''), $9::integer, $10::bigint, nullif($11, ''),"            \
    " $12::integer, $13::bigint)"                                              \
    " ON CONFLICT (dlq_partition, dlq_offset) WHERE dlq_offset IS NOT NULL"    \
    " DO NOTHING"

/* Text of @p v into @p buf, or NULL when @p ok is 0 (SQL NULL). */
static const char *dlq_rec_num(char *buf, size_t size, int ok, long long v)
{
    if (!ok)
        return NULL;
    snprintf(buf, size, "%lld", v);
    return buf;
}

int dlq_record_add(PGconn *pg, const struct dlq_record_note *n, char *errstr,
                   size_t errstr_size)
{
    char sid[32], lid[32], part[16], off[32], dpart[16], doff[32];
    const struct dlq_ref *r = n->ref;
    const int from_kafka = r && r->orig_offset >= 0;
    long long store_id = n->store_id > 0 ? n->store_id : 0;
    const char *vals[13];

    /* A store the caller did not resolve: by the name the message gave. */
    if (!store_id && n->store && *n->store &&
        stores_find(pg, n->store, &store_id, errstr, errstr_size) < 0)
        return -1;
    vals[0] = dlq_rec_num(sid, sizeof(sid), 1, store_id > 0 ? store_id : 0);
    vals[1] = n->service;
    vals[2] = n->entity;
    vals[3] = dlq_rec_num(lid, sizeof(lid), n->entity != NULL, n->local_id);
    vals[4] = n->key ? n->key : "";
    vals[5] = n->reason ? n->reason : "";
    vals[6] = n->store && *n->store ? n->store : NULL;
    vals[7] = r ? r->topic : NULL;
    vals[8] = dlq_rec_num(part, sizeof(part), from_kafka,
                          from_kafka ? r->orig_partition : 0);
    vals[9] = dlq_rec_num(off, sizeof(off), from_kafka,
                          from_kafka ? r->orig_offset : 0);
    vals[10] = r ? r->source : NULL;
    vals[11] =
        dlq_rec_num(dpart, sizeof(dpart), r != NULL, r ? r->partition : 0);
    vals[12] = dlq_rec_num(doff, sizeof(doff), r != NULL, r ? r->offset : 0);
    return db_cmd(pg, SQL_ADD, 13, vals, "dlq_record add", errstr, errstr_size);
}

int dlq_record_count(PGconn *pg, long long store_id, long long *n, char *errstr,
                     size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};
    PGresult *res;

    snprintf(sid, sizeof(sid), "%lld", store_id > 0 ? store_id : 0);
    res = db_exec(pg,
                  "SELECT count(*) FROM dlq_record WHERE state = 'open' AND "
                  "coalesce(store_id, 0) = $1::bigint",
                  1, vals, "count dlq_record", errstr, errstr_size, NULL);
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

/* ---- reading back and steering (`omnisync dlq`) ------------------------- */

const char *const dlq_record_cols[DLQ_RECORD_NCOLS] = {
    "id",           "state",       "created_at", "service",       "store",
    "topic",        "partition",   "offset",     "source",        "key",
    "reason",       "entity",      "local_id",   "dlq_partition", "dlq_offset",
    "replay_count", "replayed_at", "dropped_at"};
const char dlq_record_types[DLQ_RECORD_NCOLS + 1] = "isssnsIInssnIIIinn";

#define DLQ_REC_TS(col)                                                        \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define SQL_SELECT                                                             \
    "SELECT r.id, r.state, " DLQ_REC_TS(                                       \
        "r.created_at") ", r.service,"                                         \
                        " coalesce(s.name, r.store_name), r.topic, "           \
                        "r.\"partition\", r.\"offset\","                       \
                        " r.source, r.key, r.reason, r.entity, r.local_id, "   \
                        "r.dlq_partition,"                                     \
                        " r.dlq_offset, r.replay_count, " DLQ_REC_TS(          \
                            "r.replayed_at") ","                               \
                                             " " DLQ_REC_TS(                   \
                                                 "r.dropped_at") " FROM "      \
                                                                 "dlq_record " \
                                                                 "r LEFT "     \
                                                                 "JOIN store " \
                                                                 "s ON s.id "  \
                                                                 "= "          \
                                                                 "r.store_id"

#define SQL_LIST                                                               \
    SQL_SELECT                                                                 \
    " WHERE ($1::text IS NULL OR r.state = $1)"                                \
    "  AND ($2::text IS NULL OR r.topic = $2"                                  \
    "       OR (r.topic = '' AND r.source = $2))"                              \
    "  AND ($3::text IS NULL OR s.name = $3 OR r.store_name = $3)"             \
    "  AND ($4::text IS NULL OR r.created_at >= $4::timestamptz)"              \
    "  AND ($5::text IS NULL OR r.created_at >= now() -"                       \
    "       make_interval(secs => $5::double precision))"                      \
    " ORDER BY r.id"

PGresult *dlq_record_list(PGconn *pg, const struct dlq_record_filter *f,
                          char *errstr, size_t errstr_size, char *sqlstate)
{
    const char *vals[5] = {f->state, f->topic, f->store, f->since, f->since_s};

    return db_exec(pg, SQL_LIST, 5, vals, "list dlq_record", errstr,
                   errstr_size, sqlstate);
}

/* @p sql with $1 = @p id. */
static PGresult *dlq_rec_exec_id(PGconn *pg, const char *sql, long long id,
                                 const char *what, char *errstr,
                                 size_t errstr_size)
{
    char sid[32];
    const char *vals[1] = {sid};

    snprintf(sid, sizeof(sid), "%lld", id);
    return db_exec(pg, sql, 1, vals, what, errstr, errstr_size, NULL);
}

PGresult *dlq_record_get(PGconn *pg, long long id, int lock, char *errstr,
                         size_t errstr_size)
{
    return dlq_rec_exec_id(pg,
                           lock ? SQL_SELECT
                               " WHERE r.id = $1::bigint FOR UPDATE OF r"
                                : SQL_SELECT " WHERE r.id = $1::bigint",
                           id, "dlq_record", errstr, errstr_size);
}

long long dlq_record_mark_replayed(PGconn *pg, long long id, char *errstr,
                                   size_t errstr_size)
{
    PGresult *res = dlq_rec_exec_id(
        pg,
        "UPDATE dlq_record SET state = 'replayed', replay_count = "
        "replay_count + 1, replayed_at = now() WHERE id = $1::bigint "
        "RETURNING replay_count",
        id, "mark dlq_record replayed", errstr, errstr_size);
    long long n = -1;

    if (!res)
        return -1;
    if (PQntuples(res) == 1)
        n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    else
        snprintf(errstr, errstr_size, "dlq_record %lld: no such row", id);
    PQclear(res);
    return n;
}

int dlq_record_mark_dropped(PGconn *pg, long long id, char *errstr,
                            size_t errstr_size)
{
    PGresult *res = dlq_rec_exec_id(
        pg,
        "UPDATE dlq_record SET state = 'dropped', dropped_at = now() "
        "WHERE id = $1::bigint AND state <> 'dropped' RETURNING id",
        id, "mark dlq_record dropped", errstr, errstr_size);
    int n;

    if (!res)
        return -1;
    n = PQntuples(res);
    PQclear(res);
    return n;
}
