#include "db.h"

#include <stdio.h>
#include <string.h>

PGconn *db_connect(const char *conninfo, const char *app, char *errstr,
                   size_t errstr_size)
{
    const char *keys[] = {"dbname", "application_name", "client_encoding",
                          NULL};
    const char *vals[] = {conninfo, app ? app : "omnisync", "UTF8", NULL};
    PGconn *pg;

    if (!conninfo || !*conninfo) {
        snprintf(errstr, errstr_size,
                 "no Postgres connection configured (set OMNISYNC_PG)");
        return NULL;
    }
    /* expand_dbname=1: "dbname" carries the whole conninfo string. */
    pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        const char *m = pg ? PQerrorMessage(pg) : "out of memory";
        size_t len = strlen(m);

        while (len && (m[len - 1] == '\n' || m[len - 1] == ' '))
            len--;
        snprintf(errstr, errstr_size, "cannot connect to Postgres: %.*s",
                 (int)len, m);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

PGresult *db_exec(PGconn *pg, const char *sql, int n, const char *const *vals,
                  const char *what, char *errstr, size_t errstr_size,
                  char *sqlstate)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    const char *msg, *state;
    size_t len;

    if (sqlstate)
        sqlstate[0] = '\0';
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(pg);
    len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    snprintf(errstr, errstr_size, "%s: %.*s", what, (int)len, msg);
    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (sqlstate && state)
        snprintf(sqlstate, 6, "%s", state);
    PQclear(res);
    return NULL;
}

int db_cmd(PGconn *pg, const char *sql, int n, const char *const *vals,
           const char *what, char *errstr, size_t errstr_size)
{
    PGresult *res =
        db_exec(pg, sql, n, vals, what, errstr, errstr_size, NULL);

    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int db_begin(PGconn *pg, char *errstr, size_t errstr_size)
{
    return db_cmd(pg, "BEGIN", 0, NULL, "begin", errstr, errstr_size);
}

int db_commit(PGconn *pg, char *errstr, size_t errstr_size)
{
    return db_cmd(pg, "COMMIT", 0, NULL, "commit", errstr, errstr_size);
}

void db_rollback(PGconn *pg)
{
    PQclear(PQexec(pg, "ROLLBACK"));
}

int db_state_is(const char *sqlstate, const char *code)
{
    return sqlstate && strcmp(sqlstate, code) == 0;
}

int db_conn_lost(PGconn *pg)
{
    return !pg || PQstatus(pg) != CONNECTION_OK;
}
