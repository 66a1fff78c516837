#include "ledger/blob.h"

#include "events/image_job.h"
#include "ledger/catalog.h"
#include "lib/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct blob_store {
    const struct blob_ops *ops;
    void *impl;
};

/* ---- the interface ------------------------------------------------------ */

void blob_store_destroy(struct blob_store *bs)
{
    if (!bs)
        return;
    if (bs->ops->destroy)
        bs->ops->destroy(bs->impl);
    free(bs);
}

int blob_put(struct blob_store *bs, const char *sha256,
             const unsigned char *bytes, size_t len, const char *content_type,
             char *errstr, size_t errstr_size)
{
    return bs->ops->put(bs->impl, sha256, bytes, len, content_type, errstr,
                        errstr_size);
}

int blob_get(struct blob_store *bs, const char *sha256, unsigned char **bytes,
             size_t *len, char *errstr, size_t errstr_size)
{
    *bytes = NULL;
    *len = 0;
    return bs->ops->get(bs->impl, sha256, bytes, len, errstr, errstr_size);
}

int blob_exists(struct blob_store *bs, const char *sha256, char *errstr,
                size_t errstr_size)
{
    return bs->ops->exists(bs->impl, sha256, errstr, errstr_size);
}

/* ---- Postgres: the photo_blob table ------------------------------------ */

static int pg_put(void *impl, const char *sha256, const unsigned char *bytes,
                  size_t len, const char *content_type, char *errstr,
                  size_t errstr_size)
{
    char size[32];
    const char *vals[4] = {sha256, (const char *)bytes, size, content_type};
    int lens[4] = {0, (int)len, 0, 0}, fmts[4] = {0, 1, 0, 0};
    PGresult *res;
    int rc = -1;

    if (len > (size_t)0x7fffffff) {
        snprintf(errstr, errstr_size, "photo %s: too big for the ledger",
                 sha256);
        return -1;
    }
    snprintf(size, sizeof(size), "%zu", len);
    res = PQexecParams(impl,
                       "INSERT INTO photo_blob (sha256, bytes, size, "
                       "content_type) VALUES ($1, $2, $3::bigint, $4) "
                       "ON CONFLICT (sha256) DO NOTHING",
                       4, NULL, vals, lens, fmts, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        snprintf(errstr, errstr_size, "store photo %s: %s", sha256,
                 PQerrorMessage(impl));
    else
        rc = 0;
    PQclear(res);
    return rc;
}

static int pg_get(void *impl, const char *sha256, unsigned char **bytes,
                  size_t *len, char *errstr, size_t errstr_size)
{
    const char *vals[1] = {sha256};
    PGresult *res;
    int rc = -1;

    /* Binary results: the bytes as they are, no hex decoding. */
    res = PQexecParams(impl, "SELECT bytes FROM photo_blob WHERE sha256 = $1",
                       1, NULL, vals, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(errstr, errstr_size, "read photo %s: %s", sha256,
                 PQerrorMessage(impl));
        goto out;
    }
    rc = 0;
    if (PQntuples(res) == 0)
        goto out;
    *len = (size_t)PQgetlength(res, 0, 0);
    *bytes = malloc(*len + 1);
    if (!*bytes) {
        snprintf(errstr, errstr_size, "read photo %s: out of memory", sha256);
        rc = -1;
        goto out;
    }
    memcpy(*bytes, PQgetvalue(res, 0, 0), *len);
    rc = 1;
out:
    PQclear(res);
    return rc;
}

static int pg_exists(void *impl, const char *sha256, char *errstr,
                     size_t errstr_size)
{
    const char *vals[1] = {sha256};
    PGresult *res;
    int rc;

    res = db_exec(impl, "SELECT 1 FROM photo_blob WHERE sha256 = $1", 1, vals,
                  "photo stored", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    rc = PQntuples(res) > 0;
    PQclear(res);
    return rc;
}

static const struct blob_ops blob_pg_ops = {"postgres", pg_put, pg_get,
                                            pg_exists, NULL};

struct blob_store *blob_store_pg_new(PGconn *pg)
{
    struct blob_store *bs = calloc(1, sizeof(*bs));

    if (!bs)
        return NULL;
    bs->ops = &blob_pg_ops;
    bs->impl = pg;
    return bs;
}

/* ---- photo files ---------------------------------------------------------
 */

static const char *content_type_of(const char *ext)
{
    if (!strcmp(ext, "jpg"))
        return "image/jpeg";
    if (!strcmp(ext, "png"))
        return "image/png";
    if (!strcmp(ext, "gif"))
        return "image/gif";
    return "image/webp";
}

int blob_photo_check(const unsigned char *bytes, size_t len,
                     long long max_bytes, const char *limit_key,
                     const char **ext, char *why, size_t why_size)
{
    const char *e;

    if ((unsigned long long)len > (unsigned long long)max_bytes) {
        snprintf(why, why_size, "too big: %zu bytes > %s %lld", len, limit_key,
                 max_bytes);
        return -1;
    }
    e = image_job_sniff(bytes, len);
    if (!e) {
        snprintf(why, why_size, "not a JPEG, PNG, GIF or WebP (magic bytes)%s",
                 len ? "" : ": empty file");
        return -1;
    }
    if (ext)
        *ext = e;
    return 0;
}

/* Read exactly @p size bytes of @p fd into a new buffer; NULL with @p why. */
static unsigned char *read_exact(int fd, size_t size, char *why,
                                 size_t why_size)
{
    unsigned char *b = malloc(size + 1);
    size_t got = 0;
    ssize_t n;

    if (!b) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    while (got < size) {
        n = read(fd, b + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, why_size, "short read (%zu of %zu bytes)%s%s", got,
                     size, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
            free(b);
            return NULL;
        }
        got += (size_t)n;
    }
    return b;
}

int blob_photo_read(const char *path, long long max_bytes,
                    const char *limit_key, struct blob_photo *ph, char *why,
                    size_t why_size)
{
    struct stat sb;
    int fd, rc = -1;

    memset(ph, 0, sizeof(*ph));
    /* O_NONBLOCK: opening a FIFO with no writer must not hang the import;
     * fstat() then refuses anything but a regular file before a read. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_size, "cannot read: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(why, why_size, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(why, why_size, "not a regular file");
        goto out;
    }
    if ((long long)sb.st_size > max_bytes) {
        snprintf(why, why_size, "too big: %lld bytes > %s %lld",
                 (long long)sb.st_size, limit_key, max_bytes);
        goto out;
    }
    ph->bytes = read_exact(fd, (size_t)sb.st_size, why, why_size);
    if (!ph->bytes)
        goto out;
    ph->len = (size_t)sb.st_size;
    if (blob_photo_check(ph->bytes, ph->len, max_bytes, limit_key, &ph->ext,
                         why, why_size) < 0) {
        blob_photo_clear(ph);
        goto out;
    }
    ph->content_type = content_type_of(ph->ext);
    hash_sha256_hex(ph->bytes, ph->len, ph->sha256);
    rc = 0;
out:
    close(fd);
    return rc;
}

void blob_photo_clear(struct blob_photo *ph)
{
    free(ph->bytes);
    memset(ph, 0, sizeof(*ph));
}

/* ---- backfill (rows imported before migration 0005) -------------------- */

/* Store the photo at @p path recorded with @p sha256: 1 stored, 0 not
 * (named on @p warn), -1 when the ledger failed. */
static int backfill_one(struct blob_store *bs, const char *id,
                        const char *sha256, const char *path,
                        long long max_bytes, const char *limit_key, FILE *warn,
                        char *errstr, size_t errstr_size)
{
    struct blob_photo ph;
    char why[512];
    int r;

    r = blob_exists(bs, sha256, errstr, errstr_size);
    if (r != 0)
        return r; /* stored for another row already, or an error */
    if (blob_photo_read(path, max_bytes, limit_key, &ph, why, sizeof(why)) <
        0) {
        fprintf(warn, "photo %s (product_photo %s): %s\n", path, id, why);
        return 0;
    }
    r = 1;
    if (strcmp(ph.sha256, sha256) != 0) {
        fprintf(warn,
                "photo %s (product_photo %s): content changed since import "
                "(sha256 %s, ledger %s); re-import the catalog\n",
                path, id, ph.sha256, sha256);
        r = 0;
    } else if (blob_put(bs, sha256, ph.bytes, ph.len, ph.content_type, errstr,
                        errstr_size) < 0) {
        r = -1;
    }
    blob_photo_clear(&ph);
    return r;
}

int blob_photos_backfill(PGconn *pg, long long max_bytes, const char *limit_key,
                         FILE *out, FILE *warn, long long *missing,
                         char *errstr, size_t errstr_size)
{
    struct blob_store *bs = NULL;
    long long stored = 0;
    char state[6] = "";
    PGresult *res;
    int i, r, rc = -1;

    *missing = 0;
    res = catalog_photos_unstored(pg, errstr, errstr_size, state);
    /* A migrations directory older than 0005: no photo_blob, nothing to
     * fill. */
    if (!res)
        return db_state_is(state, "42P01") ? 0 : -1;
    bs = blob_store_pg_new(pg);
    if (!bs) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (i = 0; i < PQntuples(res); i++) {
        r = backfill_one(bs, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                         PQgetvalue(res, i, 2), max_bytes, limit_key, warn,
                         errstr, errstr_size);
        if (r < 0)
            goto out;
        if (r > 0)
            stored++;
        else
            (*missing)++;
    }
    if (PQntuples(res) > 0)
        fprintf(out,
                "photos: %d without bytes in the ledger, %lld stored from "
                "their recorded paths, %lld still missing\n",
                PQntuples(res), stored, *missing);
    rc = 0;
out:
    blob_store_destroy(bs);
    PQclear(res);
    return rc;
}
