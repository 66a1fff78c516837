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
#include <stdio.h>

/* SQLSTATE classes callers branch on. */
#define DB_UNIQUE_VIOLATION "23505"
#define DB_FOREIGN_KEY_VIOLATION "23503"
#define DB_CHECK_VIOLATION "23514"
#define DB_SERIALIZATION_FAILURE "40001"
#define DB_DEADLOCK "40P01"

/**
 * @brief Connect with a libpq conninfo string (config key pg.dsn).
 *        Sets application_name to @p app and client_encoding UTF8.
 * @param conninfo (may be NULL or "": libpq's PG* environment variables
 *                 and defaults apply).
 * @returns the connection, or NULL with @p errstr filled (the conninfo
 *          itself is never copied into errstr: it may hold a password).
 */
PGconn *db_connect(const char *conninfo, const char *app, char *errstr,
                   size_t errstr_size);

/**
 * @brief Whether the server of @p conninfo accepts connections, asked
 *        with PQpingParams() (no login, no query) within
 *        @p timeout_s seconds (libpq's connect_timeout; at least 2).
 *        For readiness checks: it opens its own short connection.
 * @returns 0, or -1 with a short @p reason ("no response", ...).
 * @locality any thread.
 */
int db_ping(const char *conninfo, int timeout_s, char *reason,
            size_t reason_size);

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

/**
 * @brief Send @p nq statements as one pipeline (libpq's pipeline mode),
 *        each with the same @p n text params @p vals: the server runs them
 *        back to back, while the client does other work and then reads
 *        them with db_pipeline_recv().  Nothing else may run on @p pg in
 *        between.
 * @returns 0, or -1 with "<whats[i]>: <message>" (nothing is pending then).
 */
int db_pipeline_send(PGconn *pg, int nq, const char *const *sqls, int n,
                     const char *const *vals, const char *const *whats,
                     char *errstr, size_t errstr_size);

/**
 * @brief Read the @p nq results of db_pipeline_send() into @p res (the
 *        caller PQclear()s each) and leave pipeline mode.
 * @returns 0, or -1 with "<whats[i]>: <server message>" of the first
 *          statement that failed (the ones after it were not run; no
 *          result is kept).
 */
int db_pipeline_recv(PGconn *pg, int nq, const char *const *whats,
                     PGresult **res, char *errstr, size_t errstr_size);

/** @brief Like db_exec() for a statement whose rows are not needed. */
int db_cmd(PGconn *pg, const char *sql, int n, const char *const *vals,
           const char *what, char *errstr, size_t errstr_size);

/*
 * COPY ... FROM STDIN in text format: rows are built field by field into
 * a buffer (tabs between fields, backslash escapes, \N for NULL) and sent
 * in one COPY statement, far cheaper for the server than the same rows as
 * JSON parameters.  A zeroed struct db_copy is an empty buffer.
 */
struct db_copy {
    char *buf;
    size_t len, cap;
    size_t rows; /* complete rows in buf */
    int nfields; /* fields of the row being built */
    int oom;     /* an append failed: db_copy_send() refuses */
};

/** @brief Append a text field (escaped); @p s NULL appends SQL NULL. */
void db_copy_text(struct db_copy *c, const char *s);
/** @brief Append an integer field. */
void db_copy_int(struct db_copy *c, long long v);
/** @brief End the row being built. */
void db_copy_row_end(struct db_copy *c);

/**
 * @brief Send @p c's rows with @p sql (a "COPY table (cols) FROM STDIN"
 *        statement) and empty @p c (its memory is kept for reuse).  No
 *        rows: nothing is sent.
 * @returns 0, or -1 with "<what>: <server message>" in @p errstr.
 */
int db_copy_send(PGconn *pg, const char *sql, struct db_copy *c,
                 const char *what, char *errstr, size_t errstr_size);

/**
 * @brief db_copy_send() without waiting for the server's answer: the rows
 *        are sent and the server loads them while the caller builds the
 *        next ones.  When @p sent is set, db_copy_wait() must read the
 *        answer before anything else runs on @p pg (also after a failed
 *        send).
 * @returns 0, or -1 with "<what>: <message>" in @p errstr.
 */
int db_copy_send_nowait(PGconn *pg, const char *sql, struct db_copy *c,
                        const char *what, int *sent, char *errstr,
                        size_t errstr_size);

/** @brief Read the answer to db_copy_send_nowait(); 0 or -1 with errstr. */
int db_copy_wait(PGconn *pg, const char *what, char *errstr,
                 size_t errstr_size);

/** @brief Free @p c's buffer (NULL-safe); @p c is empty after. */
void db_copy_free(struct db_copy *c);

/**
 * @brief Map @p n text keys to ids with one statement: @p sql takes $1, a
 *        JSON array of the keys, and returns rows (1-based position of
 *        the key, id) — e.g. from jsonb_array_elements_text($1::jsonb)
 *        WITH ORDINALITY joined to the table.  ids[i] is 0 when no row
 *        names key i.  An owner module passes its own statement.
 * @returns 0, or -1 with errstr (and @p sqlstate, may be NULL).
 */
int db_ids_by_text(PGconn *pg, const char *sql, const char *const *keys,
                   size_t n, long long *ids, const char *what, char *errstr,
                   size_t errstr_size, char *sqlstate);

/** @brief BEGIN / COMMIT / ROLLBACK; 0 or -1 with errstr. */
int db_begin(PGconn *pg, char *errstr, size_t errstr_size);
int db_commit(PGconn *pg, char *errstr, size_t errstr_size);
/** @brief ROLLBACK, ignoring errors (used on failure paths). */
void db_rollback(PGconn *pg);

/** @returns 1 when @p sqlstate (from db_exec) equals @p code. */
int db_state_is(const char *sqlstate, const char *code);

/** @returns 1 when the connection is lost (callers RETRY then). */
int db_conn_lost(PGconn *pg);

/**
 * @brief A zeroed array of one @p size element per row of @p res (room
 *        for one when there are none), for a reader that copies the rows
 *        into typed structs.
 * @returns the array (free() it); NULL when out of memory, with errstr,
 *          and then @p res is cleared.
 */
void *db_rows_alloc(PGresult *res, size_t size, char *errstr,
                    size_t errstr_size);

/*
 * Migrations: files NNNN_name.sql in one directory, applied in filename
 * order, each in its own transaction, recorded in schema_migrations
 * (version = file name, checksum = SHA-256 hex of the file).  The runner
 * holds a session advisory lock (DB_MIGRATE_LOCK) so concurrent runs
 * apply each file once.
 */
#define DB_MIGRATE_LOCK 0x6f6d6e6973796e63LL /* "omnisync" */

/**
 * @brief Find the migrations directory: @p configured (config key
 *        sql.dir, OMNISYNC_SQL_DIR) when set, else
 *        <dir of /proc/self/exe>/../deploy/sql when it exists, else
 *        /usr/share/omnisync/sql.
 * @param configured (may be NULL or "": not set).
 * @param buf  receives the path.
 * @returns 0, or -1 when the path does not fit in @p buf_size.
 */
int db_migrate_dir(const char *configured, char *buf, size_t buf_size);

/**
 * @brief Apply every migration of @p dir not yet applied.
 *
 * Refuses (applying nothing) when an applied migration's file changed;
 * warns on @p warn when an applied migration's file is missing.  Prints
 * "applied NAME" per migration applied, or "up to date", on @p out.
 *
 * @param out   progress lines (may be NULL).
 * @param warn  warnings, "warning: ..." lines (may be NULL).
 * @returns 0, or -1 with the reason (naming the file) in @p errstr.
 */
int db_migrate(PGconn *pg, const char *dir, FILE *out, FILE *warn, char *errstr,
               size_t errstr_size);

#endif
