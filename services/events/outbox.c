#include "events/outbox.h"

#include "lib/cfg.h"
#include "lib/db.h"

#include <stdio.h>
#include <stdlib.h>

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
