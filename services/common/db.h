/*
 * db — Postgres (libpq) helpers shared by the CLI and the services.
 *
 * Every statement is parameterised (PQexecParams); nothing is ever
 * interpolated into SQL text.
 */
#ifndef OMNI_DB_H
#define OMNI_DB_H

#include <libpq-fe.h>
#include <stddef.h>

/* SQLSTATE classes callers branch on. */
#define DB_UNIQUE_VIOLATION "23505"
#define DB_FOREIGN_KEY_VIOLATION "23503"
#define DB_CHECK_VIOLATION "23514"
#define DB_SERIALIZATION_FAILURE "40001"
#define DB_DEADLOCK "40P01"

/**
 * @brief Connect with a libpq conninfo string (e.g. from OMNISYNC_PG).
 *        Sets application_name to @p app and client_encoding UTF8.
 * @returns the connection, or NULL with @p errstr filled (the conninfo
 *          itself is never copied into errstr: it may hold a password).
 */
PGconn *db_connect(const char *conninfo, const char *app, char *errstr,
                   size_t errstr_size);

/**
 * @brief Run one parameterised statement (text params, text results).
 * @param vals  @p n values, a NULL entry is SQL NULL.
 * @returns the result (caller PQclear()s it) when its status is
 *          COMMAND_OK or TUPLES_OK; otherwise NULL, with
 *          "<what>: <server message>" in @p errstr and the SQLSTATE in
 *          @p sqlstate (may be NULL; 6 bytes).
 */
PGresult *db_exec(PGconn *pg, const char *sql, int n, const char *const *vals,
                  const char *what, char *errstr, size_t errstr_size,
                  char *sqlstate);

/** @brief Like db_exec() for a statement whose rows are not needed. */
int db_cmd(PGconn *pg, const char *sql, int n, const char *const *vals,
           const char *what, char *errstr, size_t errstr_size);

/** @brief BEGIN / COMMIT / ROLLBACK; 0 or -1 with errstr. */
int db_begin(PGconn *pg, char *errstr, size_t errstr_size);
int db_commit(PGconn *pg, char *errstr, size_t errstr_size);
/** @brief ROLLBACK, ignoring errors (used on failure paths). */
void db_rollback(PGconn *pg);

/** @returns 1 when @p sqlstate (from db_exec) equals @p code. */
int db_state_is(const char *sqlstate, const char *code);

/** @returns 1 when the connection is lost (callers RETRY then). */
int db_conn_lost(PGconn *pg);

#endif
