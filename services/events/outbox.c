#include "events/outbox.h"

#include "lib/cfg.h"
#include "lib/db.h"
#include "lib/idarray.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int outbox_add(PGconn *pg, const char *topic, const char *type, const char *key,
               const char *store, const json_t *data, char *errstr,
               size_t errstr_size)
{
    char *js = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    const char *vals[5];
    int rc;

    if (!js) {
        snprintf(errstr, errstr_size, "outbox %s %s: cannot encode payload",
                 type, key);
        return -1;
    }
    vals[0] = topic;
    vals[1] = type;
    vals[2] = key;
    vals[3] = store;
    vals[4] = js;
    rc = db_cmd(pg,
                "INSERT INTO outbox (topic, type, key, store, data) "
                "VALUES ($1, $2, $3, $4, $5::jsonb)",
                5, vals, "outbox insert", errstr, errstr_size);
    free(js);
    return rc;
}

int outbox_add_rows(PGconn *pg, const char *topic, const char *type,
                    const char *const *keys, const char *const *stores,
                    const char *const *datas, size_t n, char *errstr,
                    size_t errstr_size)
{
    struct db_copy c = {0};
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    /* One COPY: the server parses each payload once, straight into the
     * row, instead of a JSON array of them that it parses whole first. */
    for (i = 0; i < n; i++) {
        if (!keys[i] || strlen(keys[i]) > 200) {
            snprintf(errstr, errstr_size, "outbox %s: bad key", type);
            db_copy_free(&c);
            return -1;
        }
        db_copy_text(&c, topic);
        db_copy_text(&c, type);
        db_copy_text(&c, keys[i]);
        db_copy_text(&c, stores ? stores[i] : NULL);
        db_copy_text(&c, datas[i]);
        db_copy_row_end(&c);
    }
    rc = db_copy_send(pg,
                      "COPY outbox (topic, type, key, store, data) FROM STDIN",
                      &c, "outbox insert", errstr, errstr_size);
    db_copy_free(&c);
    return rc;
}

int outbox_add_many(PGconn *pg, const char *topic, const char *type,
                    const char *const *keys, const char *const *datas, size_t n,
                    char *errstr, size_t errstr_size)
{
    return outbox_add_rows(pg, topic, type, keys, NULL, datas, n, errstr,
                           errstr_size);
}

int outbox_backlog(PGconn *pg, long long *rows, double *oldest_age_s,
                   char *errstr, size_t errstr_size)
{
    PGresult *res = db_exec(
        pg,
        "SELECT count(*), coalesce(extract(epoch FROM now() - "
        "min(created_at)), 0)::float8 FROM outbox WHERE sent_at IS NULL",
        0, NULL, "outbox backlog", errstr, errstr_size, NULL);
    char *end;
    int rc = -1;

    if (!res)
        return -1;
    if (cfg_parse_ll(PQgetvalue(res, 0, 0), rows) < 0) {
        snprintf(errstr, errstr_size, "outbox backlog: bad count");
        goto out;
    }
    *oldest_age_s = strtod(PQgetvalue(res, 0, 1), &end);
    if (*end || *oldest_age_s < 0)
        *oldest_age_s = 0;
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/*
 * created_at as RFC 3339 in UTC with milliseconds, formatted by Postgres
 * so the result does not depend on the session's TimeZone.
 */
#define OUTBOX_SQL_UNSENT                                                      \
    "SELECT id, event_id, topic, type, key, store, data::text, "               \
    "to_char(created_at AT TIME ZONE 'UTC', "                                  \
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"+00:00\"') "                               \
    "FROM outbox WHERE sent_at IS NULL AND id > $2::bigint ORDER BY id LIMIT " \
    "$1"

#define OUTBOX_STR2(x) #x
#define OUTBOX_STR(x) OUTBOX_STR2(x)

#define OUTBOX_SQL_PRUNE                                                       \
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "                   \
    "WHERE sent_at IS NOT NULL AND dead_reason IS NULL "                       \
    "AND sent_at < now() - make_interval(hours => $1::int) "                   \
    "ORDER BY id LIMIT " OUTBOX_STR(OUTBOX_PRUNE_ROWS) ")"

static long long outbox_ll(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int outbox_unsent_read(PGconn *pg, long long limit, long long after_id,
                       struct outbox_batch *b, char *errstr, size_t errstr_size)
{
    char lim[32], after[32];
    const char *vals[2] = {lim, after};
    int i;

    memset(b, 0, sizeof(*b));
    snprintf(lim, sizeof(lim), "%lld", limit);
    snprintf(after, sizeof(after), "%lld", after_id);
    b->res = db_exec(pg, OUTBOX_SQL_UNSENT, 2, vals, "select unsent", errstr,
                     errstr_size, NULL);
    if (!b->res)
        return -1;
    b->rows = calloc((size_t)PQntuples(b->res) + 1, sizeof(*b->rows));
    if (!b->rows) {
        outbox_batch_clear(b);
        snprintf(errstr, errstr_size, "select unsent: out of memory");
        return -1;
    }
    for (i = 0; i < PQntuples(b->res); i++) {
        struct outbox_row *r = &b->rows[i];

        r->id = outbox_ll(b->res, i, 0);
        r->event_id = PQgetvalue(b->res, i, 1);
        r->topic = PQgetvalue(b->res, i, 2);
        r->type = PQgetvalue(b->res, i, 3);
        r->key = PQgetvalue(b->res, i, 4);
        r->store = PQgetisnull(b->res, i, 5) ? NULL : PQgetvalue(b->res, i, 5);
        r->data = PQgetvalue(b->res, i, 6);
        r->created_at = PQgetvalue(b->res, i, 7);
    }
    b->n = (size_t)PQntuples(b->res);
    return 0;
}

void outbox_batch_clear(struct outbox_batch *b)
{
    if (!b)
        return;
    free(b->rows);
    PQclear(b->res);
    memset(b, 0, sizeof(*b));
}

int outbox_sent_mark(PGconn *pg, const long long *ids, size_t n, char *errstr,
                     size_t errstr_size)
{
    char *arr = idarray_text(ids, n, 0, NULL);
    const char *vals[1] = {arr};
    int rc;

    if (!arr) {
        snprintf(errstr, errstr_size, "mark sent: out of memory");
        return -1;
    }
    rc = db_cmd(pg,
                "UPDATE outbox SET sent_at = now() WHERE id = "
                "ANY($1::bigint[])",
                1, vals, "mark sent", errstr, errstr_size);
    free(arr);
    return rc;
}

int outbox_dead_mark(PGconn *pg, long long id, const char *reason, char *errstr,
                     size_t errstr_size)
{
    char sid[32];
    const char *vals[2] = {sid, reason};

    snprintf(sid, sizeof(sid), "%lld", id);
    return db_cmd(pg,
                  "UPDATE outbox SET sent_at = now(), dead_reason = $2 "
                  "WHERE id = $1",
                  2, vals, "set aside", errstr, errstr_size);
}

long long outbox_prune(PGconn *pg, long long retention_hours, char *errstr,
                       size_t errstr_size)
{
    char hours[32], *end;
    const char *vals[1] = {hours};
    PGresult *res;
    long long n;

    snprintf(hours, sizeof(hours), "%lld", retention_hours);
    res = db_exec(pg, OUTBOX_SQL_PRUNE, 1, vals, "prune sent rows", errstr,
                  errstr_size, NULL);
    if (!res)
        return -1;
    n = strtoll(PQcmdTuples(res), &end, 10);
    if (end == PQcmdTuples(res) || n < 0)
        n = 0;
    PQclear(res);
    return n;
}

int outbox_counts(PGconn *pg, struct outbox_counts *c, char *errstr,
                  size_t errstr_size)
{
    PGresult *res =
        db_exec(pg,
                "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL),"
                " (SELECT floor(extract(epoch FROM clock_timestamp() - "
                "min(created_at)))"
                "  ::bigint FROM outbox WHERE sent_at IS NULL),"
                " (SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL)",
                0, NULL, "count outbox", errstr, errstr_size, NULL);

    if (!res)
        return -1;
    c->pending = outbox_ll(res, 0, 0);
    c->has_oldest = !PQgetisnull(res, 0, 1);
    c->oldest_pending_age_s = c->has_oldest ? outbox_ll(res, 0, 1) : 0;
    c->sent = outbox_ll(res, 0, 2);
    PQclear(res);
    return 0;
}

int outbox_store_backlog(PGconn *pg, const char *store, struct outbox_counts *c,
                         char *errstr, size_t errstr_size)
{
    const char *vals[1] = {store};
    PGresult *res =
        db_exec(pg,
                "SELECT count(*), floor(extract(epoch FROM clock_timestamp() "
                "- min(created_at)))::bigint FROM outbox "
                "WHERE sent_at IS NULL AND (store = $1 OR store IS NULL)",
                1, vals, "store backlog", errstr, errstr_size, NULL);

    if (!res)
        return -1;
    memset(c, 0, sizeof(*c));
    c->pending = outbox_ll(res, 0, 0);
    c->has_oldest = !PQgetisnull(res, 0, 1);
    c->oldest_pending_age_s = c->has_oldest ? outbox_ll(res, 0, 1) : 0;
    PQclear(res);
    return 0;
}
