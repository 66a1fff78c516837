#include "lib/db.h"

#include "lib/grow.h"
#include "lib/hash.h"

#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

PGconn *db_connect(const char *conninfo, const char *app, char *errstr,
                   size_t errstr_size)
{
    const char *keys[] = {"dbname", "application_name", "client_encoding",
                          NULL};
    const char *vals[] = {conninfo ? conninfo : "", app ? app : "omnisync",
                          "UTF8", NULL};
    PGconn *pg;

    /* expand_dbname=1: "dbname" carries the whole conninfo string; an
     * empty one is ignored, so libpq's PG* variables and defaults apply. */
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

int db_ping(const char *conninfo, int timeout_s, char *reason,
            size_t reason_size)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    char tmo[16];
    const char *vals[] = {conninfo ? conninfo : "", tmo, NULL};

    /* connect_timeout after the expanded conninfo: it wins. */
    snprintf(tmo, sizeof(tmo), "%d", timeout_s < 2 ? 2 : timeout_s);
    switch (PQpingParams(keys, vals, 1)) {
    case PQPING_OK:
        return 0;
    case PQPING_REJECT:
        snprintf(reason, reason_size,
                 "rejecting connections (starting, stopping or recovering)");
        return -1;
    case PQPING_NO_ATTEMPT:
        snprintf(reason, reason_size, "bad connection settings");
        return -1;
    default:
        snprintf(reason, reason_size, "no response (down or unreachable)");
        return -1;
    }
}

static void db_error(PGconn *pg, const PGresult *res, const char *what,
                     char *errstr, size_t errstr_size, char *sqlstate);

PGresult *db_exec(PGconn *pg, const char *sql, int n, const char *const *vals,
                  const char *what, char *errstr, size_t errstr_size,
                  char *sqlstate)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);

    if (sqlstate)
        sqlstate[0] = '\0';
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    db_error(pg, res, what, errstr, errstr_size, sqlstate);
    PQclear(res);
    return NULL;
}

/* "<what>: <server message>" of failed result @p res (may be NULL) into
 * errstr, its SQLSTATE into @p sqlstate (may be NULL). */
static void db_error(PGconn *pg, const PGresult *res, const char *what,
                     char *errstr, size_t errstr_size, char *sqlstate)
{
    const char *msg, *state;
    size_t len;

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
}

/* The result of pipelined statement @p i into res[i], or its error into
 * errstr (the first one only: the statements after an error come back
 * aborted); then its end-of-results NULL.  0, or -1 once any failed. */
static int pipeline_take(PGconn *pg, int i, const char *what, PGresult **res,
                         int failed, char *errstr, size_t errstr_size)
{
    PGresult *r = PQgetResult(pg), *more;
    ExecStatusType st = PQresultStatus(r);

    if (!failed && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
        res[i] = r;
    } else {
        if (!failed)
            db_error(pg, r, what, errstr, errstr_size, NULL);
        PQclear(r);
        failed = 1;
    }
    while (r && (more = PQgetResult(pg)))
        PQclear(more);
    return failed ? -1 : 0;
}

/* Read @p sent results (errors from @p failed on not reported again) and
 * the Sync's, and leave pipeline mode; clears res[] when any failed.
 * @p res may be NULL when @p failed is set: every result is dropped. */
static int pipeline_end(PGconn *pg, int nq, int sent, const char *const *whats,
                        PGresult **res, int failed, char *errstr,
                        size_t errstr_size)
{
    PGresult *r;
    int i;

    for (i = 0; res && i < nq; i++)
        res[i] = NULL;
    for (i = 0; i < sent; i++)
        if (pipeline_take(pg, i, whats[i], res, failed, errstr, errstr_size))
            failed = 1;
    while ((r = PQgetResult(pg)) && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        PQclear(r);
    PQclear(r);
    PQexitPipelineMode(pg);
    if (!failed)
        return 0;
    for (i = 0; res && i < nq; i++) {
        PQclear(res[i]);
        res[i] = NULL;
    }
    return -1;
}

int db_pipeline_send(PGconn *pg, int nq, const char *const *sqls, int n,
                     const char *const *vals, const char *const *whats,
                     char *errstr, size_t errstr_size)
{
    int sent = 0;

    if (!PQenterPipelineMode(pg)) {
        db_error(pg, NULL, whats[0], errstr, errstr_size, NULL);
        return -1;
    }
    while (sent < nq &&
           PQsendQueryParams(pg, sqls[sent], n, NULL, vals, NULL, NULL, 0))
        sent++;
    /* A send fails only on a broken connection; without the Sync the
     * server would hold back the results, so none are waited for. */
    if (!PQpipelineSync(pg))
        sent = 0;
    if (sent == nq)
        return 0;
    db_error(pg, NULL, whats[sent], errstr, errstr_size, NULL);
    pipeline_end(pg, nq, sent, whats, NULL, 1, errstr, errstr_size);
    return -1;
}

int db_pipeline_recv(PGconn *pg, int nq, const char *const *whats,
                     PGresult **res, char *errstr, size_t errstr_size)
{
    return pipeline_end(pg, nq, nq, whats, res, 0, errstr, errstr_size);
}

int db_cmd(PGconn *pg, const char *sql, int n, const char *const *vals,
           const char *what, char *errstr, size_t errstr_size)
{
    PGresult *res = db_exec(pg, sql, n, vals, what, errstr, errstr_size, NULL);

    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

/* Room for @p more bytes in @p c; 0 or -1 (c->oom set). */
static int db_copy_reserve(struct db_copy *c, size_t more)
{
    if (c->oom || grow_to(&c->buf, &c->cap, c->len + more, 4096) < 0) {
        c->oom = 1;
        return -1;
    }
    return 0;
}

/* The tab before every field but a row's first. */
static int db_copy_field_start(struct db_copy *c, size_t more)
{
    if (db_copy_reserve(c, more + 1) < 0)
        return -1;
    if (c->nfields++)
        c->buf[c->len++] = '\t';
    return 0;
}

void db_copy_text(struct db_copy *c, const char *s)
{
    size_t n = s ? strlen(s) : 2;
    char *w;

    /* Worst case every byte escaped into two. */
    if (db_copy_field_start(c, 2 * n) < 0)
        return;
    w = c->buf + c->len;
    if (!s) {
        *w++ = '\\';
        *w++ = 'N';
    }
    for (; s && *s; s++) {
        char e;

        if ((unsigned char)*s >= 0x20 && *s != '\\') { /* most bytes */
            *w++ = *s;
            continue;
        }
        e = *s == '\\'   ? '\\'
            : *s == '\n' ? 'n'
            : *s == '\r' ? 'r'
            : *s == '\t' ? 't'
                         : 0;
        if (e) {
            *w++ = '\\';
            *w++ = e;
        } else {
            *w++ = *s;
        }
    }
    c->len = (size_t)(w - c->buf);
}

void db_copy_int(struct db_copy *c, long long v)
{
    int k;

    if (db_copy_field_start(c, 24) < 0)
        return;
    k = snprintf(c->buf + c->len, 24, "%lld", v);
    c->len += (size_t)k;
}

void db_copy_row_end(struct db_copy *c)
{
    if (db_copy_reserve(c, 1) < 0)
        return;
    c->buf[c->len++] = '\n';
    c->rows++;
    c->nfields = 0;
}

#define DB_COPY_PIECE (1 << 20) /* bytes a PQputCopyData() call */

/* Send @p c's rows and the end of a COPY the server accepted; 0, or -1
 * with errstr (the server's answer is still to be read). */
static int db_copy_put(PGconn *pg, const struct db_copy *c, const char *what,
                       char *errstr, size_t errstr_size)
{
    size_t at, n;
    int ok = 1;

    for (at = 0; ok && at < c->len; at += n) {
        n = c->len - at < DB_COPY_PIECE ? c->len - at : DB_COPY_PIECE;
        ok = PQputCopyData(pg, c->buf + at, (int)n) == 1;
    }
    if (PQputCopyEnd(pg, ok ? NULL : "client failed to send") != 1)
        ok = 0;
    if (!ok)
        db_error(pg, NULL, what, errstr, errstr_size, NULL);
    return ok ? 0 : -1;
}

int db_copy_wait(PGconn *pg, const char *what, char *errstr, size_t errstr_size)
{
    PGresult *res;
    int rc = 0;

    while ((res = PQgetResult(pg)) != NULL) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
            db_error(pg, res, what, errstr, errstr_size, NULL);
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}

int db_copy_send_nowait(PGconn *pg, const char *sql, struct db_copy *c,
                        const char *what, int *sent, char *errstr,
                        size_t errstr_size)
{
    PGresult *res;
    int rc = -1;

    *sent = 0;
    if (c->oom) {
        snprintf(errstr, errstr_size, "%s: out of memory", what);
        return -1;
    }
    if (c->rows == 0)
        return 0;
    res = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        db_error(pg, res, what, errstr, errstr_size, NULL);
    else
        rc = 0;
    PQclear(res);
    if (rc == 0) {
        *sent = 1;
        rc = db_copy_put(pg, c, what, errstr, errstr_size);
    }
    c->len = 0;
    c->rows = 0;
    c->nfields = 0;
    return rc;
}

int db_copy_send(PGconn *pg, const char *sql, struct db_copy *c,
                 const char *what, char *errstr, size_t errstr_size)
{
    char other[64];
    int sent, rc;

    rc = db_copy_send_nowait(pg, sql, c, what, &sent, errstr, errstr_size);
    /* The answer is read after a failed send too (the first error kept). */
    if (sent && rc < 0)
        db_copy_wait(pg, what, other, sizeof(other));
    else if (sent)
        rc = db_copy_wait(pg, what, errstr, errstr_size);
    return rc;
}

void db_copy_free(struct db_copy *c)
{
    if (!c)
        return;
    free(c->buf);
    memset(c, 0, sizeof(*c));
}

int db_ids_by_text(PGconn *pg, const char *sql, const char *const *keys,
                   size_t n, long long *ids, const char *what, char *errstr,
                   size_t errstr_size, char *sqlstate)
{
    json_t *arr = json_array();
    char *text = NULL;
    const char *vals[1];
    PGresult *res = NULL;
    long long pos;
    size_t i;
    int row, rc = -1;

    for (i = 0; i < n; i++) {
        ids[i] = 0;
        if (arr && json_array_append_new(arr, json_string(keys[i])) < 0)
            break;
    }
    text = arr && i == n ? json_dumps(arr, JSON_COMPACT) : NULL;
    if (!text) {
        snprintf(errstr, errstr_size, "%s: out of memory (or not UTF-8)", what);
        goto out;
    }
    vals[0] = text;
    res = db_exec(pg, sql, 1, vals, what, errstr, errstr_size, sqlstate);
    if (!res)
        goto out;
    for (row = 0; row < PQntuples(res); row++) {
        pos = strtoll(PQgetvalue(res, row, 0), NULL, 10);
        if (pos >= 1 && (size_t)pos <= n)
            ids[pos - 1] = strtoll(PQgetvalue(res, row, 1), NULL, 10);
    }
    rc = 0;
out:
    PQclear(res);
    free(text);
    json_decref(arr);
    return rc;
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

void *db_rows_alloc(PGresult *res, size_t size, char *errstr,
                    size_t errstr_size)
{
    void *v = calloc((size_t)PQntuples(res) + 1, size);

    if (!v) {
        PQclear(res);
        snprintf(errstr, errstr_size, "out of memory");
    }
    return v;
}

/* One migration file found in the directory. */
struct db_mig_file {
    char *name;
    char *sql;
    char sum[HASH_SHA256_HEX_LEN + 1];
};

/* One row of schema_migrations. */
struct db_mig_row {
    char *version;
    char *checksum;
    int seen; /* its file exists */
};

int db_migrate_dir(const char *configured, char *buf, size_t buf_size)
{
    char exe[4096];
    ssize_t len;
    char *slash;
    struct stat st;
    int n;

    if (configured && *configured) {
        n = snprintf(buf, buf_size, "%s", configured);
        return n < 0 || (size_t)n >= buf_size ? -1 : 0;
    }
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            n = snprintf(buf, buf_size, "%s/../deploy/sql", exe);
            if (n > 0 && (size_t)n < buf_size && stat(buf, &st) == 0 &&
                S_ISDIR(st.st_mode))
                return 0;
        }
    }
    n = snprintf(buf, buf_size, "%s", "/usr/share/omnisync/sql");
    return n < 0 || (size_t)n >= buf_size ? -1 : 0;
}

/* NNNN_name.sql: four digits, an underscore, something, ".sql". */
static int db_mig_name_ok(const char *name)
{
    size_t len = strlen(name);
    int i;

    if (len < 10 || strcmp(name + len - 4, ".sql") != 0 || name[4] != '_')
        return 0;
    for (i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

static int db_mig_cmp(const void *a, const void *b)
{
    const struct db_mig_file *fa = a, *fb = b;

    return strcmp(fa->name, fb->name);
}

/* Read a whole file into a NUL-terminated buffer (caller frees). */
static char *db_file_read(const char *path, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL, *nbuf;
    size_t len = 0, cap = 0, got;

    if (!fp) {
        snprintf(errstr, errstr_size, "cannot read %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 16384;
            nbuf = realloc(buf, cap + 1);
            if (!nbuf) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                free(buf);
                buf = NULL;
                goto out;
            }
            buf = nbuf;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        snprintf(errstr, errstr_size, "cannot read %s: %s", path,
                 strerror(errno));
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[len] = '\0';
out:
    fclose(fp);
    return buf;
}

static void db_mig_files_free(struct db_mig_file *files, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(files[i].name);
        free(files[i].sql);
    }
    free(files);
}

/* List, read and checksum the migration files of @p dir, sorted. */
static int db_mig_files_load(const char *dir, struct db_mig_file **out,
                             size_t *nout, char *errstr, size_t errstr_size)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct db_mig_file *files = NULL, *nfiles;
    size_t n = 0, cap = 0, i;
    char path[4096];
    int rc = -1;

    if (!d) {
        snprintf(errstr, errstr_size,
                 "cannot open migrations directory %s: %s (set "
                 "OMNISYNC_SQL_DIR)",
                 dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (!db_mig_name_ok(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            nfiles = realloc(files, cap * sizeof(*files));
            if (!nfiles) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
            }
            files = nfiles;
        }
        memset(&files[n], 0, sizeof(files[n]));
        files[n].name = strdup(de->d_name);
        if (!files[n].name) {
            snprintf(errstr, errstr_size, "out of memory");
            goto out;
        }
        n++;
    }
    if (n)
        qsort(files, n, sizeof(*files), db_mig_cmp);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
        files[i].sql = db_file_read(path, errstr, errstr_size);
        if (!files[i].sql)
            goto out;
        hash_sha256_hex(files[i].sql, strlen(files[i].sql), files[i].sum);
    }
    rc = 0;
out:
    closedir(d);
    if (rc == 0) {
        *out = files;
        *nout = n;
    } else {
        db_mig_files_free(files, n);
    }
    return rc;
}

/* The 1-based line of the 1-based character position @p pos in @p sql. */
static int db_sql_line(const char *sql, long pos)
{
    long chars = 0;
    int line = 1;
    const unsigned char *p;

    for (p = (const unsigned char *)sql; *p; p++) {
        if ((*p & 0xc0) != 0x80 && ++chars >= pos)
            break;
        if (*p == '\n')
            line++;
    }
    return line;
}

/* Run one migration file in its own transaction and record it. */
static int db_mig_apply(PGconn *pg, const struct db_mig_file *f, char *errstr,
                        size_t errstr_size)
{
    PGresult *res = NULL;
    const char *vals[2];
    const char *msg, *pos;
    char what[512];
    size_t len;
    int rc = -1;

    if (db_begin(pg, errstr, errstr_size) < 0)
        return -1;
    /* A migration is trusted SQL text from the package, run as a script
     * (several statements), so it cannot go through PQexecParams. */
    res = PQexec(pg, f->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK) {
        msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (!msg)
            msg = PQerrorMessage(pg);
        len = strlen(msg);
        while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
            len--;
        pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
        if (pos)
            snprintf(errstr, errstr_size, "migration %s:%d: %.*s", f->name,
                     db_sql_line(f->sql, strtol(pos, NULL, 10)), (int)len, msg);
        else
            snprintf(errstr, errstr_size, "migration %s: %.*s", f->name,
                     (int)len, msg);
        goto out;
    }
    vals[0] = f->name;
    vals[1] = f->sum;
    snprintf(what, sizeof(what), "record migration %s", f->name);
    if (db_cmd(pg,
               "INSERT INTO schema_migrations (version, checksum) "
               "VALUES ($1, $2)",
               2, vals, what, errstr, errstr_size) < 0)
        goto out;
    snprintf(what, sizeof(what), "commit migration %s", f->name);
    if (db_cmd(pg, "COMMIT", 0, NULL, what, errstr, errstr_size) < 0)
        goto out;
    rc = 0;
out:
    PQclear(res);
    if (rc < 0)
        db_rollback(pg);
    return rc;
}

static void db_mig_rows_free(struct db_mig_row *rows, size_t n)
{
    size_t i;

    for (i = 0; rows && i < n; i++) {
        free(rows[i].version);
        free(rows[i].checksum);
    }
    free(rows);
}

/* Create schema_migrations unless it exists.  Checked first rather than
 * CREATE ... IF NOT EXISTS, which prints a NOTICE on every run; the
 * advisory lock rules out a race. */
static int db_mig_table_ensure(PGconn *pg, char *errstr, size_t errstr_size)
{
    PGresult *res;
    int missing;

    res =
        db_exec(pg, "SELECT to_regclass('schema_migrations') IS NULL", 0, NULL,
                "look for schema_migrations", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    missing = !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    if (!missing)
        return 0;
    return db_cmd(pg,
                  "CREATE TABLE schema_migrations ("
                  " version text PRIMARY KEY,"
                  " checksum text NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT now())",
                  0, NULL, "create schema_migrations", errstr, errstr_size);
}

/* The rows of schema_migrations, by version. */
static int db_mig_rows_load(PGconn *pg, struct db_mig_row **out, size_t *nout,
                            char *errstr, size_t errstr_size)
{
    struct db_mig_row *rows = NULL;
    PGresult *res;
    size_t i, n = 0;
    int rc = -1;

    res = db_exec(pg,
                  "SELECT version, checksum FROM schema_migrations "
                  "ORDER BY version",
                  0, NULL, "read schema_migrations", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    n = (size_t)PQntuples(res);
    rows = calloc(n ? n : 1, sizeof(*rows));
    if (!rows)
        goto oom;
    for (i = 0; i < n; i++) {
        rows[i].version = strdup(PQgetvalue(res, (int)i, 0));
        rows[i].checksum = strdup(PQgetvalue(res, (int)i, 1));
        if (!rows[i].version || !rows[i].checksum)
            goto oom;
    }
    *out = rows;
    *nout = n;
    rows = NULL;
    rc = 0;
    goto out;
oom:
    snprintf(errstr, errstr_size, "out of memory");
out:
    db_mig_rows_free(rows, n);
    PQclear(res);
    return rc;
}

/* The row recording file @p name, or NULL. */
static struct db_mig_row *db_mig_row_find(struct db_mig_row *rows, size_t n,
                                          const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(rows[i].version, name))
            return &rows[i];
    return NULL;
}

/* Refuse when an applied migration's file changed; mark the rows whose
 * file exists (seen); warn about the others. */
static int db_mig_verify(const struct db_mig_file *files, size_t nfiles,
                         struct db_mig_row *rows, size_t nrows, const char *dir,
                         FILE *warn, char *errstr, size_t errstr_size)
{
    struct db_mig_row *row;
    size_t i;

    for (i = 0; i < nfiles; i++) {
        row = db_mig_row_find(rows, nrows, files[i].name);
        if (!row)
            continue;
        row->seen = 1;
        if (strcmp(row->checksum, files[i].sum) != 0) {
            snprintf(errstr, errstr_size,
                     "migration %s was changed after it was applied "
                     "(checksum %s != %s)",
                     files[i].name, files[i].sum, row->checksum);
            return -1;
        }
    }
    for (i = 0; i < nrows; i++)
        if (!rows[i].seen && warn)
            fprintf(warn,
                    "warning: migration %s is applied but its file is "
                    "missing from %s\n",
                    rows[i].version, dir);
    return 0;
}

/* Apply, in order, every file without a row. */
static int db_mig_apply_pending(PGconn *pg, const struct db_mig_file *files,
                                size_t nfiles, struct db_mig_row *rows,
                                size_t nrows, FILE *out, char *errstr,
                                size_t errstr_size)
{
    size_t i, applied = 0;

    for (i = 0; i < nfiles; i++) {
        if (db_mig_row_find(rows, nrows, files[i].name))
            continue;
        if (db_mig_apply(pg, &files[i], errstr, errstr_size) < 0)
            return -1;
        applied++;
        if (out)
            fprintf(out, "applied %s\n", files[i].name);
    }
    if (!applied && out)
        fprintf(out, "up to date\n");
    return 0;
}

int db_migrate(PGconn *pg, const char *dir, FILE *out, FILE *warn, char *errstr,
               size_t errstr_size)
{
    struct db_mig_file *files = NULL;
    struct db_mig_row *rows = NULL;
    size_t nfiles = 0, nrows = 0;
    char lockkey[32];
    const char *vals[1];
    int rc = -1;

    if (sodium_init() < 0) {
        snprintf(errstr, errstr_size, "libsodium initialisation failed");
        return -1;
    }
    if (db_mig_files_load(dir, &files, &nfiles, errstr, errstr_size) < 0)
        return -1;
    snprintf(lockkey, sizeof(lockkey), "%lld", DB_MIGRATE_LOCK);
    vals[0] = lockkey;
    /* Session lock: held across the per-file transactions below. */
    if (db_cmd(pg, "SELECT pg_advisory_lock($1::bigint)", 1, vals,
               "take migration lock", errstr, errstr_size) < 0)
        goto out;
    /* Verify everything before applying anything. */
    if (db_mig_table_ensure(pg, errstr, errstr_size) == 0 &&
        db_mig_rows_load(pg, &rows, &nrows, errstr, errstr_size) == 0 &&
        db_mig_verify(files, nfiles, rows, nrows, dir, warn, errstr,
                      errstr_size) == 0 &&
        db_mig_apply_pending(pg, files, nfiles, rows, nrows, out, errstr,
                             errstr_size) == 0)
        rc = 0;
    PQclear(PQexecParams(pg, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL,
                         vals, NULL, NULL, 0));
out:
    db_mig_rows_free(rows, nrows);
    db_mig_files_free(files, nfiles);
    return rc;
}
