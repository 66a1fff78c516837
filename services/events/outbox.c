#include "events/outbox.h"

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
