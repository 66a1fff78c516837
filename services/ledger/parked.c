#include "ledger/parked.h"

#include "lib/db.h"
#include "lib/idarray.h"
#include "lib/metrics.h"
#include "lib/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_CHECK                                                              \
    "SELECT coalesce(bool_or(entity = $3), false)"                             \
    " OR coalesce(bool_or(next_attempt_at > now()), false)"                    \
    " FROM parked WHERE store_id = $1::bigint AND kind = $2"

#define SQL_BEHIND                                                             \
    "INSERT INTO parked (store_id, kind, entity, payload, next_attempt_at,"    \
    " last_error)"                                                             \
    " SELECT $1::bigint, $2, $3, $4::jsonb,"                                   \
    " coalesce(max(next_attempt_at), now()), $5"                               \
    " FROM parked WHERE store_id = $1::bigint AND kind = $2"                   \
    " ON CONFLICT (store_id, kind, entity) DO UPDATE SET"                      \
    " payload = EXCLUDED.payload, seq = parked.seq + 1"

/* The store's next attempt after one more failure: @p B base, @p M max
 * (parameter numbers). */
#define SQL_BACKOFF(B, M)                                                      \
    "WITH a AS (SELECT coalesce(max(attempts), 0) + 1 AS n FROM parked"        \
    " WHERE store_id = $1::bigint AND kind = $2),"                             \
    " d AS (SELECT n, now() + least($" M "::bigint, $" B "::bigint *"          \
    " power(2, least(n - 1, 30))::bigint) * interval '1 millisecond' AS t"     \
    " FROM a),"

/* Others of the store wait as long as the failed row. */
#define SQL_BACKOFF_OTHERS                                                     \
    " UPDATE parked p SET next_attempt_at = d.t FROM d"                        \
    " WHERE p.store_id = $1::bigint AND p.kind = $2 AND p.entity <> $3"

#define SQL_FAIL_NEW                                                           \
    SQL_BACKOFF("6", "7")                                                      \
    " up AS (INSERT INTO parked (store_id, kind, entity, payload, attempts,"   \
    " next_attempt_at, last_error)"                                            \
    " SELECT $1::bigint, $2, $3, $4::jsonb, n, t, $5 FROM d"                   \
    " ON CONFLICT (store_id, kind, entity) DO UPDATE SET"                      \
    " payload = EXCLUDED.payload, seq = parked.seq + 1,"                       \
    " attempts = EXCLUDED.attempts, next_attempt_at = "                        \
    "EXCLUDED.next_attempt_at,"                                                \
    " last_error = EXCLUDED.last_error, claimed_until = NULL RETURNING "       \
    "1)" SQL_BACKOFF_OTHERS

#define SQL_FAIL_RETRY                                                         \
    SQL_BACKOFF("5", "6")                                                      \
    " me AS (UPDATE parked SET attempts = d.n, next_attempt_at = d.t,"         \
    " last_error = $4, claimed_until = NULL FROM d"                            \
    " WHERE store_id = $1::bigint AND kind = $2 AND entity = $3 RETURNING "    \
    "1)" SQL_BACKOFF_OTHERS

#define SQL_CLAIM                                                              \
    "UPDATE parked SET claimed_until = now() + $2::bigint * interval '1 s'"    \
    " WHERE (store_id, kind, entity) = (SELECT store_id, kind, entity"         \
    " FROM parked WHERE kind = $1 AND next_attempt_at <= now()"                \
    " AND store_id <> ALL ($3::bigint[])"                                      \
    " AND (claimed_until IS NULL OR claimed_until < now())"                    \
    " ORDER BY next_attempt_at, first_failed_at LIMIT 1"                       \
    " FOR UPDATE SKIP LOCKED)"                                                 \
    " RETURNING store_id, entity, payload::text, seq, attempts"

/* A success resets the store's attempt count; a row that took a newer
 * payload meanwhile is released (due at once). */
#define SQL_DONE                                                               \
    "WITH del AS (DELETE FROM parked WHERE store_id = $1::bigint"              \
    " AND kind = $2 AND entity = $3 AND seq = $4::bigint RETURNING 1)"         \
    " UPDATE parked SET attempts = 0, claimed_until = CASE WHEN entity = $3"   \
    " THEN NULL ELSE claimed_until END"                                        \
    " WHERE store_id = $1::bigint AND kind = $2"                               \
    " AND NOT (entity = $3 AND seq = $4::bigint)"

/* In flight on a store worker: parked and claimed at once. */
#define SQL_INFLIGHT                                                           \
    "INSERT INTO parked (store_id, kind, entity, payload, next_attempt_at,"    \
    " last_error, claimed_until)"                                              \
    " VALUES ($1::bigint, $2, $3, $4::jsonb, now(), 'in flight',"              \
    " now() + $5::bigint * interval '1 s')"                                    \
    " ON CONFLICT (store_id, kind, entity) DO UPDATE SET"                      \
    " payload = EXCLUDED.payload, seq = parked.seq + 1,"                       \
    " claimed_until = EXCLUDED.claimed_until RETURNING seq"

#define SQL_RELEASE                                                            \
    "UPDATE parked SET claimed_until = NULL WHERE store_id = $1::bigint"       \
    " AND kind = $2 AND entity = $3"

#define SQL_COUNT                                                              \
    "SELECT count(*) FROM parked WHERE ($1::bigint = 0 OR store_id = $1)"      \
    " AND ($2::text IS NULL OR kind = $2)"

#define SQL_COUNTS                                                             \
    "SELECT s.name, count(p.entity) FROM parked p RIGHT JOIN store s"          \
    " ON s.id = p.store_id AND p.kind = $1 GROUP BY s.name ORDER BY s.name"

int parked_check(PGconn *pg, long long store_id, const char *kind,
                 const char *entity, char *errstr, size_t errstr_size)
{
    char sid[32];
    const char *vals[3] = {sid, kind, entity};
    PGresult *res;
    int park;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg, SQL_CHECK, 3, vals, "parked check", errstr, errstr_size,
                  NULL);
    if (!res)
        return -1;
    park = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return park;
}

int parked_behind(PGconn *pg, const struct parked_put *p, char *errstr,
                  size_t errstr_size)
{
    char sid[32];
    const char *vals[5] = {sid, p->kind, p->entity, p->payload,
                           p->error ? p->error : ""};

    snprintf(sid, sizeof(sid), "%lld", p->store_id);
    return db_cmd(pg, SQL_BEHIND, 5, vals, "park", errstr, errstr_size);
}

int parked_fail(PGconn *pg, const struct parked_put *p, char *errstr,
                size_t errstr_size)
{
    char sid[32], base[32], max[32];
    const char *err = p->error ? p->error : "";
    const char *vnew[7] = {sid, p->kind, p->entity, p->payload, err, base, max};
    const char *vretry[6] = {sid, p->kind, p->entity, err, base, max};

    snprintf(sid, sizeof(sid), "%lld", p->store_id);
    snprintf(base, sizeof(base), "%ld", p->base_ms > 0 ? p->base_ms : 1);
    snprintf(max, sizeof(max), "%ld", p->max_ms > 0 ? p->max_ms : 1);
    if (p->payload)
        return db_cmd(pg, SQL_FAIL_NEW, 7, vnew, "park (failed)", errstr,
                      errstr_size);
    return db_cmd(pg, SQL_FAIL_RETRY, 6, vretry, "park (retry failed)", errstr,
                  errstr_size);
}

int parked_message(PGconn *pg, const struct parked_put *p, size_t payload_len,
                   char *errstr, size_t errstr_size)
{
    struct parked_put q = *p;
    char *raw = strndup(p->payload, payload_len);
    int rc;

    if (!raw) {
        snprintf(errstr, errstr_size, "park: out of memory");
        return -1;
    }
    q.payload = raw;
    if (p->error && p->error[0])
        rc = parked_fail(pg, &q, errstr, errstr_size);
    else
        rc = parked_behind(pg, &q, errstr, errstr_size);
    free(raw);
    return rc;
}

int parked_claim(PGconn *pg, const char *kind, long lease_s,
                 struct parked_item *it, char *errstr, size_t errstr_size)
{
    return parked_claim_skip(pg, kind, lease_s, NULL, it, errstr, errstr_size);
}

int parked_claim_skip(PGconn *pg, const char *kind, long lease_s,
                      const struct parked_skip *skip, struct parked_item *it,
                      char *errstr, size_t errstr_size)
{
    char lease[32], *skipped;
    const char *vals[3] = {kind, lease, NULL};
    PGresult *res;
    int rc = 0;

    memset(it, 0, sizeof(*it));
    snprintf(lease, sizeof(lease), "%ld", lease_s > 0 ? lease_s : 1);
    skipped =
        idarray_text(skip ? skip->ids : NULL, skip ? skip->n : 0, 0, NULL);
    if (!skipped) {
        snprintf(errstr, errstr_size, "parked claim: out of memory");
        return -1;
    }
    vals[2] = skipped;
    res = db_exec(pg, SQL_CLAIM, 3, vals, "parked claim", errstr, errstr_size,
                  NULL);
    free(skipped);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        it->store_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(it->entity, sizeof(it->entity), "%s", PQgetvalue(res, 0, 1));
        it->payload = strdup(PQgetvalue(res, 0, 2));
        it->seq = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        it->attempts = (int)strtol(PQgetvalue(res, 0, 4), NULL, 10);
        rc = 1;
        if (!it->payload) {
            snprintf(errstr, errstr_size, "parked claim: out of memory");
            rc = -1;
        }
    }
    PQclear(res);
    return rc;
}

int parked_done(PGconn *pg, const char *kind, const struct parked_item *it,
                char *errstr, size_t errstr_size)
{
    char sid[32], seq[32];
    const char *vals[4] = {sid, kind, it->entity, seq};

    snprintf(sid, sizeof(sid), "%lld", it->store_id);
    snprintf(seq, sizeof(seq), "%lld", it->seq);
    return db_cmd(pg, SQL_DONE, 4, vals, "parked done", errstr, errstr_size);
}

int parked_inflight(PGconn *pg, const struct parked_put *p, size_t payload_len,
                    long lease_s, struct parked_item *it, char *errstr,
                    size_t errstr_size)
{
    char sid[32], lease[32], *raw = strndup(p->payload, payload_len);
    const char *vals[5] = {sid, p->kind, p->entity, raw, lease};
    PGresult *res;

    memset(it, 0, sizeof(*it));
    if (!raw) {
        snprintf(errstr, errstr_size, "park: out of memory");
        return -1;
    }
    snprintf(sid, sizeof(sid), "%lld", p->store_id);
    snprintf(lease, sizeof(lease), "%ld", lease_s > 0 ? lease_s : 1);
    res = db_exec(pg, SQL_INFLIGHT, 5, vals, "park (in flight)", errstr,
                  errstr_size, NULL);
    free(raw);
    if (!res)
        return -1;
    it->store_id = p->store_id;
    snprintf(it->entity, sizeof(it->entity), "%s", p->entity);
    it->seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int parked_release(PGconn *pg, const char *kind, const struct parked_item *it,
                   char *errstr, size_t errstr_size)
{
    char sid[32];
    const char *vals[3] = {sid, kind, it->entity};

    snprintf(sid, sizeof(sid), "%lld", it->store_id);
    return db_cmd(pg, SQL_RELEASE, 3, vals, "parked release", errstr,
                  errstr_size);
}

int parked_pass(PGconn *pg, const char *kind, int max, long lease_s,
                struct parked_skip *skip,
                void (*fn)(void *ctx, struct parked_item *it), void *ctx,
                char *errstr, size_t errstr_size)
{
    struct parked_item it;
    int n = 0, r;

    while (n < max && !sig_stop_requested() && !(skip && skip->stop)) {
        r = parked_claim_skip(pg, kind, lease_s, skip, &it, errstr,
                              errstr_size);
        if (r < 0)
            return n ? n : -1;
        if (r == 0)
            break;
        fn(ctx, &it);
        parked_item_clear(&it);
        n++;
    }
    return n;
}

void parked_item_clear(struct parked_item *it)
{
    if (!it)
        return;
    free(it->payload);
    it->payload = NULL;
}

int parked_count(PGconn *pg, long long store_id, const char *kind, long long *n,
                 char *errstr, size_t errstr_size)
{
    char sid[32];
    const char *vals[2] = {sid, kind};
    PGresult *res;

    snprintf(sid, sizeof(sid), "%lld", store_id > 0 ? store_id : 0);
    res = db_exec(pg, SQL_COUNT, 2, vals, "count parked", errstr, errstr_size,
                  NULL);
    if (!res)
        return -1;
    *n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int parked_counts(PGconn *pg, const char *kind,
                  void (*each)(void *arg, const char *store, long long n),
                  void *arg, char *errstr, size_t errstr_size)
{
    const char *vals[1] = {kind};
    PGresult *res;
    int i;

    res = db_exec(pg, SQL_COUNTS, 1, vals, "count parked per store", errstr,
                  errstr_size, NULL);
    if (!res)
        return -1;
    for (i = 0; i < PQntuples(res); i++)
        each(arg, PQgetvalue(res, i, 0),
             strtoll(PQgetvalue(res, i, 1), NULL, 10));
    PQclear(res);
    return 0;
}

struct metrics_family *parked_gauge_new(struct metrics *m)
{
    return metrics_gauge_new(
        m, "omnisync_parked_items",
        "Work parked for a store after its transient failure, waiting for "
        "the store's next attempt (docs/isolation.md).",
        (const char *const[]){"store", "kind", NULL});
}

/* parked_gauge_set(): one store's count. */
struct parked_gauge {
    struct metrics_family *f;
    const char *kind;
};

static void parked_gauge_one(void *arg, const char *store, long long n)
{
    const struct parked_gauge *g = arg;

    metrics_set(g->f, (const char *const[]){store, g->kind}, (double)n);
}

int parked_gauge_set(PGconn *pg, struct metrics_family *f, const char *kind,
                     char *errstr, size_t errstr_size)
{
    struct parked_gauge g = {f, kind};

    if (!f)
        return 0;
    return parked_counts(pg, kind, parked_gauge_one, &g, errstr, errstr_size);
}
