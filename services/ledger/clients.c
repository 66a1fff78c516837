#include "ledger/clients.h"

#include "lib/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long long clients_add(PGconn *pg, const char *name, const char *token_hash,
                      const char *scopes, char *errstr, size_t errstr_size,
                      char *sqlstate)
{
    const char *vals[3] = {name, token_hash, scopes};
    PGresult *res;
    long long id;

    res = db_exec(pg,
                  "INSERT INTO api_client (name, token_hash, scopes) "
                  "VALUES ($1, $2, $3::text[]) RETURNING id",
                  3, vals, "add client", errstr, errstr_size, sqlstate);
    if (!res)
        return -1;
    id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return id;
}

int clients_revoke(PGconn *pg, const char *name, char *errstr,
                   size_t errstr_size)
{
    const char *vals[1] = {name};
    PGresult *res;
    int found;

    res = db_exec(pg,
                  "UPDATE api_client SET revoked_at = coalesce(revoked_at, "
                  "now()) WHERE name = $1 RETURNING id",
                  1, vals, "revoke client", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    found = PQntuples(res) == 1;
    PQclear(res);
    return found;
}

PGresult *clients_list(PGconn *pg, char *errstr, size_t errstr_size)
{
    return db_exec(pg,
                   "SELECT name, array_to_string(scopes, ','),"
                   " to_char(created_at AT TIME ZONE 'UTC',"
                   " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                   " to_char(revoked_at AT TIME ZONE 'UTC',"
                   " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                   "FROM api_client ORDER BY name COLLATE \"C\"",
                   0, NULL, "list clients", errstr, errstr_size, NULL);
}

int clients_auth(PGconn *pg, const char *token_hash, char *name,
                 size_t name_size, char *scopes, size_t scopes_size,
                 char *errstr, size_t errstr_size)
{
    const char *vals[1] = {token_hash};
    PGresult *res;
    int rc = 0;

    res = db_exec(pg,
                  "SELECT name, array_to_string(scopes, ','),"
                  " revoked_at IS NOT NULL FROM api_client "
                  "WHERE token_hash = $1",
                  1, vals, "authenticate client", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        snprintf(name, name_size, "%s", PQgetvalue(res, 0, 0));
        snprintf(scopes, scopes_size, "%s", PQgetvalue(res, 0, 1));
        rc = strcmp(PQgetvalue(res, 0, 2), "t") ? 1 : 2;
    }
    PQclear(res);
    return rc;
}

int clients_request_find(PGconn *pg, const struct clients_request *rq,
                         char body_sha256[65], unsigned *status, char **answer,
                         char *errstr, size_t errstr_size)
{
    const char *vals[3] = {rq->client, rq->route, rq->key};
    PGresult *res;
    int rc = 0;

    res = db_exec(pg,
                  "SELECT body_sha256, status, answer FROM api_request "
                  "WHERE client = $1 AND route = $2 AND idem_key = $3",
                  3, vals, "find request key", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        snprintf(body_sha256, 65, "%s", PQgetvalue(res, 0, 0));
        *status = (unsigned)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
        *answer = strdup(PQgetvalue(res, 0, 2));
        rc = *answer ? 1 : -1;
        if (rc < 0)
            snprintf(errstr, errstr_size, "out of memory");
    }
    PQclear(res);
    return rc;
}

int clients_request_save(PGconn *pg, const struct clients_request *rq,
                         const char *body_sha256, unsigned status,
                         const char *answer, char *errstr, size_t errstr_size)
{
    char st[16];
    const char *vals[6] = {rq->client,  rq->route, rq->key,
                           body_sha256, st,        answer};
    PGresult *res;
    int rc;

    snprintf(st, sizeof(st), "%u", status);
    res = db_exec(pg,
                  "INSERT INTO api_request (client, route, idem_key,"
                  " body_sha256, status, answer) "
                  "VALUES ($1, $2, $3, $4, $5::integer, $6) "
                  "ON CONFLICT DO NOTHING RETURNING 1",
                  6, vals, "save request key", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    rc = PQntuples(res) == 1;
    PQclear(res);
    return rc;
}
