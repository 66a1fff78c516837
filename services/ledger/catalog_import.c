#include "ledger/catalog_import.h"

#include "ledger/blob.h"
#include "ledger/catalog.h"
#include "lib/csv.h"
#include "lib/db.h"
#include "lib/clock.h"
#include "lib/hash.h"
#include "lib/money.h"
#include "lib/strmap.h"
#include "ledger/ledger.h"
#include "lib/log.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum col_kind {
    COL_UNKNOWN,
    COL_GROUP,
    COL_ARTICLE,
    COL_NAME,
    COL_DESCRIPTION,
    COL_SKU,
    COL_BARCODE,
    COL_PRICE,
    COL_OLD_PRICE,
    COL_PHOTOS,
    COL_OPTION,
    COL_KINDS
};

static const char *const col_names[COL_KINDS] = {
    NULL,      "group", "article",   "name",   "description", "sku",
    "barcode", "price", "old_price", "photos", NULL};

struct imp_col {
    enum col_kind kind;
    char *header; /* as written, trimmed */
    char *option; /* dictionary name of an option column */
};

struct imp_cell {
    char *text;
    size_t len;
    long line, col;
};

struct imp_row {
    long line;
    struct imp_cell *cells; /* ncols of them */
    int bad;
};

struct imp_product {
    char *article;
    size_t first_row;
    const char *name;        /* trimmed, borrowed from the first row */
    const char *description; /* raw, borrowed; NULL when no column */
    char *group;             /* canonical path; NULL when no column */
    json_t *photos;          /* [[abs path, sha256], ...] in order */
    int nvariants;
    long long id; /* after apply */
};

struct imp_variant {
    size_t row;
    size_t product;
    const char *sku;                    /* trimmed copy owned by the row cell */
    const char *barcode;                /* NULL when no column or empty */
    int position;                       /* 1-based within the product */
    char price[CATALOG_MONEY_SIZE];     /* "" when none */
    char old_price[CATALOG_MONEY_SIZE]; /* "" when none */
};

struct apply_stats {
    size_t added, changed, unchanged, archived, events;
};

struct catalog_import {
    struct catalog_import_opts o;
    struct apply_stats st; /* of the last apply */
    struct imp_col *cols;
    size_t ncols;
    int colidx[COL_KINDS]; /* column of each single kind, -1 if absent */
    struct imp_row *rows;
    size_t nrows, rows_cap;
    struct imp_product *products;
    size_t nproducts, products_cap;
    struct imp_variant *variants;
    size_t nvariants, variants_cap;
    struct strmap by_article; /* article -> product index (keys: cells) */
    struct strmap by_sku;     /* sku -> variant index (keys: cells) */
    json_t *photo_sha;        /* resolved path -> sha256 hex */
    json_t *photo_err;        /* resolved path -> reason */
    json_t *photo_blob; /* sha256 -> [spool offset, length, content type] */
    FILE *spool;        /* each distinct photo's bytes, read once */
    char *photo_base;   /* directory relative photo paths start from */
    int has_prices;     /* some row has a price or old_price value */
    int header_bad;     /* no usable header: rows were not read */
    size_t nunknown;    /* unknown columns (warned about the first few) */
    struct catalog_import_error *errs;
    size_t nerrs, errs_cap;
    int errs_sorted;
};

/* ---- errors ----------------------------------------------------------- */

static void imp_err(struct catalog_import *ci, long line, long col,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void imp_err(struct catalog_import *ci, long line, long col,
                    const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (ci->nerrs == ci->errs_cap) {
        size_t cap = ci->errs_cap ? ci->errs_cap * 2 : 64;
        struct catalog_import_error *p = realloc(ci->errs, cap * sizeof(*p));

        if (!p)
            return; /* counted below anyway would lie; drop it */
        ci->errs = p;
        ci->errs_cap = cap;
    }
    ci->errs[ci->nerrs].line = line;
    ci->errs[ci->nerrs].col = col;
    ci->errs[ci->nerrs].msg = strdup(buf);
    ci->nerrs++;
    ci->errs_sorted = 0;
}

static int err_cmp(const void *a, const void *b)
{
    const struct catalog_import_error *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return 0;
}

static void errs_sort(struct catalog_import *ci)
{
    if (!ci->errs_sorted && ci->nerrs > 1)
        qsort(ci->errs, ci->nerrs, sizeof(*ci->errs), err_cmp);
    ci->errs_sorted = 1;
}

size_t catalog_import_error_count(const struct catalog_import *ci)
{
    return ci->nerrs;
}

const struct catalog_import_error *
catalog_import_error_get(struct catalog_import *ci, size_t i)
{
    errs_sort(ci);
    return i < ci->nerrs ? &ci->errs[i] : NULL;
}

void catalog_import_errors_print(struct catalog_import *ci, FILE *fp)
{
    size_t i;

    errs_sort(ci);
    for (i = 0; i < ci->nerrs && i < CATALOG_IMPORT_MAX_ERRORS; i++)
        fprintf(fp, "%s:%ld:%ld: %s\n", ci->o.file, ci->errs[i].line,
                ci->errs[i].col, ci->errs[i].msg ? ci->errs[i].msg : "?");
    if (ci->nerrs > CATALOG_IMPORT_MAX_ERRORS)
        fprintf(fp, "... and %zu more errors\n",
                ci->nerrs - CATALOG_IMPORT_MAX_ERRORS);
}

/* A value for a message: quoted, control characters escaped, shortened. */
static const char *qv(const char *s, size_t len, char *buf, size_t size)
{
    size_t i, o = 0;

    if (size < 8) {
        buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (i = 0; i < len && o + 6 < size; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20) {
            buf[o++] = '?';
        } else {
            buf[o++] = (char)c;
        }
    }
    if (i < len) {
        /* Do not cut a UTF-8 sequence in half. */
        while (o > 1 && ((unsigned char)buf[o - 1] & 0xC0) == 0x80)
            o--;
        if (o > 1 && ((unsigned char)buf[o - 1] & 0xC0) == 0xC0)
            o--;
        buf[o++] = '.';
        buf[o++] = '.';
        buf[o++] = '.';
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* ---- small helpers ---------------------------------------------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
    while (*len && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_blank((*s)[*len - 1]))
        (*len)--;
}

static char *dupn(const char *s, size_t len)
{
    char *p = malloc(len + 1);

    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* ---- money and group paths -------------------------------------------- */

/* numeric(14,2): at most 12 integer digits. */
#define CATALOG_MONEY_MAX 99999999999999LL

int catalog_money_parse(const char *s, size_t len, char out[CATALOG_MONEY_SIZE],
                        char *why, size_t why_size)
{
    const char *orig = s;
    size_t olen = len;
    char q[96];
    long long minor = 0;
    enum money_res r;

    trim(&s, &len);
    r = money_scan(s, len, MONEY_GROUPS, &minor);
    if (r == MONEY_RANGE || minor > CATALOG_MONEY_MAX ||
        minor < -CATALOG_MONEY_MAX) {
        snprintf(why, why_size, "too large (at most 12 integer digits): %s",
                 qv(orig, olen, q, sizeof(q)));
        return -1;
    }
    if (r == MONEY_DECIMALS) {
        snprintf(why, why_size, "more than 2 decimals: %s",
                 qv(orig, olen, q, sizeof(q)));
        return -1;
    }
    if (r != MONEY_OK) {
        snprintf(why, why_size, "not a number: %s",
                 qv(orig, olen, q, sizeof(q)));
        return -1;
    }
    if (s[0] == '-') { /* "-0" too */
        snprintf(why, why_size, "must not be negative: %s",
                 qv(orig, olen, q, sizeof(q)));
        return -1;
    }
    money_format(minor, out, CATALOG_MONEY_SIZE);
    return 0;
}

int catalog_group_path_parse(const char *s, size_t len, char **out, char *why,
                             size_t why_size)
{
    char *buf = malloc(len + 1), q[96];
    size_t o = 0, start = 0, i;

    *out = NULL;
    if (!buf) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    for (i = 0; i <= len; i++) {
        const char *seg;
        size_t slen;

        if (i < len && s[i] != '/')
            continue;
        seg = s + start;
        slen = i - start;
        trim(&seg, &slen);
        if (slen == 0) {
            /* Only a leading or trailing '/' may leave an empty name. */
            const char *rest = s + i;
            size_t rlen = len - i;

            trim(&rest, &rlen);
            if (!(o == 0 && start == 0) && rlen != 0) {
                snprintf(why, why_size, "empty group name in path %s",
                         qv(s, len, q, sizeof(q)));
                free(buf);
                return -1;
            }
            if (o == 0 && start == 0 && i < len) {
                /* leading '/': fine unless the path is only slashes */
                start = i + 1;
                continue;
            }
        } else {
            if (o)
                buf[o++] = '/';
            memcpy(buf + o, seg, slen);
            o += slen;
        }
        start = i + 1;
    }
    buf[o] = '\0';
    *out = buf;
    return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

struct catalog_import *catalog_import_new(const struct catalog_import_opts *o,
                                          char *errstr, size_t errstr_size)
{
    struct catalog_import *ci = calloc(1, sizeof(*ci));
    int k;

    if (!ci) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    ci->o = *o;
    for (k = 0; k < COL_KINDS; k++)
        ci->colidx[k] = -1;
    ci->photo_sha = json_object();
    ci->photo_err = json_object();
    ci->photo_blob = json_object();
    if (!ci->photo_sha || !ci->photo_err || !ci->photo_blob) {
        snprintf(errstr, errstr_size, "out of memory");
        catalog_import_destroy(ci);
        return NULL;
    }
    return ci;
}

void catalog_import_destroy(struct catalog_import *ci)
{
    size_t i;

    if (!ci)
        return;
    for (i = 0; i < ci->ncols; i++) {
        free(ci->cols[i].header);
        free(ci->cols[i].option);
    }
    free(ci->cols);
    for (i = 0; i < ci->nrows; i++)
        free(ci->rows[i].cells); /* and their texts (row_add()) */
    free(ci->rows);
    for (i = 0; i < ci->nproducts; i++) {
        free(ci->products[i].article);
        free(ci->products[i].group);
        json_decref(ci->products[i].photos);
    }
    free(ci->products);
    free(ci->variants);
    strmap_free(&ci->by_article);
    strmap_free(&ci->by_sku);
    json_decref(ci->photo_sha);
    json_decref(ci->photo_err);
    json_decref(ci->photo_blob);
    if (ci->spool)
        fclose(ci->spool);
    free(ci->photo_base);
    for (i = 0; i < ci->nerrs; i++)
        free(ci->errs[i].msg);
    free(ci->errs);
    free(ci);
}

/* ---- parsing ---------------------------------------------------------- */

/*
 * The kind of column @p c from its trimmed header @p h: a known name, an
 * "option:<Name>" column or, in a catalog, "color" and "size".  0; 1 when
 * the column is skipped (its error reported); -1 when out of memory.
 */
static int header_kind(struct catalog_import *ci, struct imp_col *c,
                       const struct csv_field *f, const char *h, size_t hlen)
{
    char q[96];
    int k;

    for (k = 1; k < COL_KINDS; k++)
        if (col_names[k] && !strcasecmp(c->header, col_names[k]))
            c->kind = (enum col_kind)k;
    if (ci->o.kind == CATALOG_IMPORT_PRICES) {
        if (c->kind != COL_SKU && c->kind != COL_PRICE &&
            c->kind != COL_OLD_PRICE)
            c->kind = COL_UNKNOWN;
    } else if (c->kind == COL_UNKNOWN && hlen > 7 &&
               !strncasecmp(c->header, "option:", 7)) {
        const char *n = c->header + 7;
        size_t nlen = hlen - 7;

        trim(&n, &nlen);
        if (nlen == 0) {
            imp_err(ci, f->line, f->col,
                    "column %s: an option column needs a name "
                    "(option:<Name>)",
                    qv(h, hlen, q, sizeof(q)));
            return 1;
        }
        c->kind = COL_OPTION;
        c->option = dupn(n, nlen);
    } else if (c->kind == COL_UNKNOWN && !strcasecmp(c->header, "option:")) {
        imp_err(ci, f->line, f->col,
                "column \"option:\": an option column needs a name "
                "(option:<Name>)");
        return 1;
    }
    if (ci->o.kind == CATALOG_IMPORT_CATALOG &&
        (c->kind == COL_OPTION || !strcasecmp(c->header, "color") ||
         !strcasecmp(c->header, "size"))) {
        if (!c->option) /* color, size: the dictionaries' names */
            c->option =
                strdup(!strcasecmp(c->header, "color") ? "color" : "size");
        if (!c->option)
            return -1;
        c->kind = COL_OPTION;
    }
    return 0;
}

/* Header field @p i: the column's kind, or its error; -1 when out of
 * memory. */
static int header_column(struct catalog_import *ci, size_t i,
                         const struct csv_field *f)
{
    struct imp_col *c = &ci->cols[i];
    const char *h = f->text;
    size_t hlen = f->len, j;
    char q[96];
    int r;

    trim(&h, &hlen);
    c->header = dupn(h, hlen);
    if (!c->header)
        return -1;
    if (csv_utf8_check(h, hlen, NULL) < 0 || memchr(h, '\0', hlen)) {
        imp_err(ci, f->line, f->col, "column header: invalid UTF-8");
        return 0;
    }
    r = header_kind(ci, c, f, h, hlen);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (c->kind == COL_UNKNOWN) {
        if (++ci->nunknown <= CATALOG_IMPORT_MAX_WARNINGS)
            fprintf(stderr, "%s:%ld:%ld: warning: unknown column %s ignored\n",
                    ci->o.file, f->line, f->col, qv(h, hlen, q, sizeof(q)));
        return 0;
    }
    /* Duplicates: the same kind twice, or the same option twice. */
    for (j = 0; j < i; j++) {
        const struct imp_col *d = &ci->cols[j];

        if (d->kind != c->kind)
            continue;
        if (c->kind == COL_OPTION && strcasecmp(d->option, c->option) != 0)
            continue;
        imp_err(ci, f->line, f->col, "duplicate column %s (also column %zu)",
                qv(h, hlen, q, sizeof(q)), j + 1);
        c->kind = COL_UNKNOWN;
        break;
    }
    if (c->kind != COL_UNKNOWN && c->kind != COL_OPTION)
        ci->colidx[c->kind] = (int)i;
    return 0;
}

static int header_parse(struct catalog_import *ci, const struct csv_record *rec)
{
    static const enum col_kind required_catalog[] = {COL_ARTICLE, COL_NAME,
                                                     COL_SKU};
    static const enum col_kind required_prices[] = {COL_SKU, COL_PRICE};
    const enum col_kind *req;
    size_t nreq, i;

    if (rec->nfields > CATALOG_IMPORT_MAX_COLUMNS) {
        imp_err(ci, rec->fields[CATALOG_IMPORT_MAX_COLUMNS].line,
                rec->fields[CATALOG_IMPORT_MAX_COLUMNS].col,
                "%zu columns, more than %d", rec->nfields,
                CATALOG_IMPORT_MAX_COLUMNS);
        return 0;
    }
    ci->cols = calloc(rec->nfields, sizeof(*ci->cols));
    if (!ci->cols)
        return -1;
    ci->ncols = rec->nfields;
    for (i = 0; i < rec->nfields; i++)
        if (header_column(ci, i, &rec->fields[i]) < 0)
            return -1;
    if (ci->nunknown > CATALOG_IMPORT_MAX_WARNINGS)
        fprintf(stderr, "%s: warning: ... and %zu more unknown columns\n",
                ci->o.file, ci->nunknown - CATALOG_IMPORT_MAX_WARNINGS);
    if (ci->o.kind == CATALOG_IMPORT_PRICES) {
        req = required_prices;
        nreq = sizeof(required_prices) / sizeof(required_prices[0]);
    } else {
        req = required_catalog;
        nreq = sizeof(required_catalog) / sizeof(required_catalog[0]);
    }
    for (i = 0; i < nreq; i++)
        if (ci->colidx[req[i]] < 0)
            imp_err(ci, 1, 1, "missing column \"%s\"", col_names[req[i]]);
    return 0;
}

static int row_add(struct catalog_import *ci, const struct csv_record *rec)
{
    struct imp_row *row;
    size_t i, texts = 0;
    char *at;

    if (ci->nrows == ci->rows_cap) {
        size_t cap = ci->rows_cap ? ci->rows_cap * 2 : 256;
        struct imp_row *p = realloc(ci->rows, cap * sizeof(*p));

        if (!p)
            return -1;
        ci->rows = p;
        ci->rows_cap = cap;
    }
    for (i = 0; i < ci->ncols; i++)
        texts += rec->fields[i].len + 1;
    row = &ci->rows[ci->nrows];
    row->line = rec->line;
    row->bad = 0;
    /* One block a row: the cells, then their texts (each NUL-ended). */
    row->cells = malloc(ci->ncols * sizeof(*row->cells) + texts);
    if (!row->cells)
        return -1;
    ci->nrows++;
    at = (char *)(row->cells + ci->ncols);
    for (i = 0; i < ci->ncols; i++) {
        const struct csv_field *f = &rec->fields[i];

        row->cells[i].text = at;
        memcpy(at, f->text, f->len);
        at[f->len] = '\0';
        at += f->len + 1;
        row->cells[i].len = f->len;
        row->cells[i].line = f->line;
        row->cells[i].col = f->col;
    }
    return 0;
}

/* The cell of a single-kind column, or NULL when the file has no such
 * column. */
static struct imp_cell *cell_of(struct catalog_import *ci, size_t r,
                                enum col_kind k)
{
    return ci->colidx[k] < 0 ? NULL : &ci->rows[r].cells[ci->colidx[k]];
}

static void row_bad(struct catalog_import *ci, size_t r,
                    const struct imp_cell *c, enum col_kind k,
                    const char *reason)
{
    imp_err(ci, c->line, c->col, "%s: %s", ci->cols[ci->colidx[k]].header,
            reason);
    ci->rows[r].bad = 1;
}

/* Trim a cell in place (the text stays owned by the cell). */
static void cell_trim(struct imp_cell *c)
{
    const char *s = c->text;
    size_t len = c->len;

    trim(&s, &len);
    memmove(c->text, s, len);
    c->text[len] = '\0';
    c->len = len;
}

static int variant_new(struct catalog_import *ci, size_t r)
{
    struct imp_variant *v;

    if (ci->nvariants == ci->variants_cap) {
        size_t cap = ci->variants_cap ? ci->variants_cap * 2 : 256;
        struct imp_variant *p = realloc(ci->variants, cap * sizeof(*p));

        if (!p)
            return -1;
        ci->variants = p;
        ci->variants_cap = cap;
    }
    v = &ci->variants[ci->nvariants++];
    memset(v, 0, sizeof(*v));
    v->row = r;
    return 0;
}

/* Spool the bytes of a photo not seen yet (by content) for import_blobs();
 * 0 or -1 with @p why. */
static int photo_spool(struct catalog_import *ci, const struct blob_photo *ph,
                       char *why, size_t why_size)
{
    off_t off = -1;

    if (json_object_get(ci->photo_blob, ph->sha256))
        return 0; /* the same content under another name: stored once */
    if (!ci->spool)
        ci->spool = tmpfile();
    if (ci->spool && fseeko(ci->spool, 0, SEEK_END) == 0)
        off = ftello(ci->spool);
    if (off < 0 || fwrite(ph->bytes, 1, ph->len, ci->spool) != ph->len) {
        snprintf(why, why_size, "spool: %s", strerror(errno));
        return -1;
    }
    json_object_set_new_nocheck(ci->photo_blob, ph->sha256,
                                json_pack("[IIs]", (json_int_t)off,
                                          (json_int_t)ph->len,
                                          ph->content_type));
    return 0;
}

/* Read the photo file @p real once: checked (blob_photo_read()), hashed
 * into @p hex and its bytes spooled; 0 or -1 with @p why. */
static int photo_load(struct catalog_import *ci, const char *real,
                      char hex[HASH_SHA256_HEX_LEN + 1], char *why,
                      size_t why_size)
{
    struct blob_photo ph;
    int rc;

    if (blob_photo_read(real,
                        ci->o.photo_max_bytes > 0
                            ? ci->o.photo_max_bytes
                            : CATALOG_IMPORT_PHOTO_MAX_BYTES,
                        "import.photo_max_bytes", &ph, why, why_size) < 0)
        return -1;
    memcpy(hex, ph.sha256, sizeof(ph.sha256));
    rc = photo_spool(ci, &ph, why, why_size);
    blob_photo_clear(&ph);
    return rc;
}

/* Resolve, read and hash one photo; 0 with @p abs/@p sha borrowed from the
 * caches, or -1 with @p why. */
static int photo_resolve(struct catalog_import *ci, const char *rel,
                         const char **abs, const char **sha, char *why,
                         size_t why_size)
{
    char *joined = NULL, *real = NULL, hex[HASH_SHA256_HEX_LEN + 1];
    char err[256];
    size_t n;
    json_t *v;
    int rc = -1;

    if (rel[0] == '/') {
        joined = strdup(rel);
    } else {
        n = strlen(ci->photo_base) + strlen(rel) + 2;
        joined = malloc(n);
        if (joined)
            snprintf(joined, n, "%s/%s", ci->photo_base, rel);
    }
    if (!joined) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    real = realpath(joined, NULL);
    if (!real) {
        snprintf(why, why_size, "cannot read: %s (%s)", strerror(errno),
                 joined);
        goto out;
    }
    v = json_object_get(ci->photo_err, real);
    if (v) {
        snprintf(why, why_size, "%s", json_string_value(v));
        goto out;
    }
    v = json_object_get(ci->photo_sha, real);
    if (!v) {
        if (photo_load(ci, real, hex, err, sizeof(err)) < 0) {
            snprintf(why, why_size, "%s (%s)", err, real);
            json_object_set_new_nocheck(ci->photo_err, real, json_string(why));
            goto out;
        }
        json_object_set_new_nocheck(ci->photo_sha, real, json_string(hex));
    }
    /* Borrow the key and value from the cache: they live as long as ci. */
    *sha = json_string_value(json_object_get(ci->photo_sha, real));
    {
        void *it = json_object_iter_at(ci->photo_sha, real);

        *abs = it ? json_object_iter_key(it) : NULL;
    }
    rc = *sha && *abs ? 0 : -1;
    if (rc < 0)
        snprintf(why, why_size, "out of memory");
out:
    free(real);
    free(joined);
    return rc;
}

static void product_photos_add(struct catalog_import *ci, size_t r, size_t pi,
                               struct imp_cell *c)
{
    struct imp_product *p = &ci->products[pi];
    const char *s = c->text, *end = c->text + c->len;
    char why[768], q[96];

    while (s <= end) {
        const char *bar = memchr(s, '|', (size_t)(end - s));
        const char *seg = s, *abs = NULL, *sha = NULL;
        size_t slen = (size_t)((bar ? bar : end) - s), k;
        char *rel;
        int dup = 0;

        s = (bar ? bar : end) + 1;
        trim(&seg, &slen);
        if (slen == 0)
            continue;
        rel = dupn(seg, slen);
        if (!rel)
            return;
        if (photo_resolve(ci, rel, &abs, &sha, why, sizeof(why)) < 0) {
            imp_err(ci, c->line, c->col, "photo %s: %s",
                    qv(seg, slen, q, sizeof(q)), why);
            ci->rows[r].bad = 1;
            free(rel);
            continue;
        }
        free(rel);
        /* A photo named again (e.g. on every variant row) counts once. */
        for (k = 0; k < json_array_size(p->photos); k++)
            if (!strcmp(json_string_value(
                            json_array_get(json_array_get(p->photos, k), 0)),
                        abs))
                dup = 1;
        if (!dup)
            json_array_append_new(p->photos, json_pack("[ss]", abs, sha));
    }
}

/* Product-level field of a later row: empty, or equal to the product's. */
static void product_field_check(struct catalog_import *ci, size_t r,
                                enum col_kind k, const char *have,
                                const char *got, size_t got_len,
                                const struct imp_product *p)
{
    char q1[96], q2[96], qa[96], msg[512];
    struct imp_cell *c = cell_of(ci, r, k);

    if (got_len == 0 ||
        (have && strlen(have) == got_len && !memcmp(have, got, got_len)))
        return;
    snprintf(msg, sizeof(msg),
             "%s differs from %s on line %ld, the first row of article %s",
             qv(got, got_len, q1, sizeof(q1)),
             qv(have ? have : "", have ? strlen(have) : 0, q2, sizeof(q2)),
             ci->rows[p->first_row].line,
             qv(p->article, strlen(p->article), qa, sizeof(qa)));
    row_bad(ci, r, c, k, msg);
}

/* The longest value of each column, in bytes (docs/limits.md): a product
 * becomes one event on Kafka and one request to the store, both bounded. */
static const size_t col_max_len[COL_KINDS] = {
    [COL_GROUP] = 1000,  [COL_ARTICLE] = 128,
    [COL_NAME] = 500,    [COL_DESCRIPTION] = CATALOG_DESCRIPTION_MAX,
    [COL_SKU] = 128,     [COL_BARCODE] = 64,
    [COL_PRICE] = 32,    [COL_OLD_PRICE] = 32,
    [COL_PHOTOS] = 8192, [COL_OPTION] = 255};

/* Every cell of row @p r within its column's length limit. */
static void row_lengths_check(struct catalog_import *ci, size_t r)
{
    struct imp_row *row = &ci->rows[r];
    size_t j, max;

    for (j = 0; j < ci->ncols; j++) {
        max = col_max_len[ci->cols[j].kind];
        if (max && row->cells[j].len > max) {
            imp_err(ci, row->cells[j].line, row->cells[j].col,
                    "%s: %zu bytes, longer than %zu", ci->cols[j].header,
                    row->cells[j].len, max);
            row->bad = 1;
        }
    }
}

/* Trim row @p r's cells in place and check the ones every catalog row
 * needs; @p group receives the canonical group path (NULL when none). */
static void row_catalog_trim(struct catalog_import *ci, size_t r, char **group)
{
    struct imp_row *row = &ci->rows[r];
    struct imp_cell *c_art = cell_of(ci, r, COL_ARTICLE);
    struct imp_cell *c_sku = cell_of(ci, r, COL_SKU);
    struct imp_cell *c_grp = cell_of(ci, r, COL_GROUP);
    struct imp_cell *c_bc = cell_of(ci, r, COL_BARCODE);
    struct imp_cell *c_pr = cell_of(ci, r, COL_PRICE);
    struct imp_cell *c_old = cell_of(ci, r, COL_OLD_PRICE);
    char why[256];
    size_t j;

    if (c_art)
        cell_trim(c_art);
    cell_trim(cell_of(ci, r, COL_NAME));
    cell_trim(c_sku);
    if (c_grp && catalog_group_path_parse(c_grp->text, c_grp->len, group, why,
                                          sizeof(why)) < 0)
        row_bad(ci, r, c_grp, COL_GROUP, why);
    if (c_bc)
        cell_trim(c_bc);
    if (c_pr)
        cell_trim(c_pr);
    if (c_old)
        cell_trim(c_old);
    for (j = 0; j < ci->ncols; j++)
        if (ci->cols[j].kind == COL_OPTION)
            cell_trim(&row->cells[j]);
    if (c_art->len == 0)
        row_bad(ci, r, c_art, COL_ARTICLE, "empty");
    if (c_sku->len == 0)
        row_bad(ci, r, c_sku, COL_SKU, "empty");
    row_lengths_check(ci, r);
}

/* Register the SKU of variant @p vi, or report row @p r's SKU as a
 * duplicate; -1 when out of memory. */
static int row_sku_add(struct catalog_import *ci, size_t r,
                       const struct imp_cell *c_sku, long long vi)
{
    long long other = strmap_get(&ci->by_sku, c_sku->text);
    char why[256], q[96];

    if (other >= 0) {
        snprintf(why, sizeof(why), "duplicate SKU %s (first on line %ld)",
                 qv(c_sku->text, c_sku->len, q, sizeof(q)),
                 ci->rows[ci->variants[other].row].line);
        row_bad(ci, r, c_sku, COL_SKU, why);
        return 0;
    }
    return strmap_put(&ci->by_sku, c_sku->text, vi);
}

/* The product of row @p r's article: a new one when this is its first row
 * (taking @p group, owned), else the first row's, whose product fields this
 * row must repeat or leave empty.  Its index, or -1 when out of memory. */
static long long row_product(struct catalog_import *ci, size_t r, char **group)
{
    struct imp_cell *c_art = cell_of(ci, r, COL_ARTICLE);
    struct imp_cell *c_name = cell_of(ci, r, COL_NAME);
    struct imp_cell *c_desc = cell_of(ci, r, COL_DESCRIPTION);
    struct imp_cell *c_grp = cell_of(ci, r, COL_GROUP);
    struct imp_product *p;
    long long pi = strmap_get(&ci->by_article, c_art->text);

    if (pi >= 0) {
        p = &ci->products[pi];
        product_field_check(ci, r, COL_NAME, p->name, c_name->text, c_name->len,
                            p);
        if (c_desc)
            product_field_check(ci, r, COL_DESCRIPTION, p->description,
                                c_desc->text, c_desc->len, p);
        if (c_grp && *group)
            product_field_check(ci, r, COL_GROUP, p->group, *group,
                                strlen(*group), p);
        return pi;
    }
    if (ci->nproducts == ci->products_cap) {
        size_t cap = ci->products_cap ? ci->products_cap * 2 : 256;
        struct imp_product *np = realloc(ci->products, cap * sizeof(*np));

        if (!np)
            return -1;
        ci->products = np;
        ci->products_cap = cap;
    }
    pi = (long long)ci->nproducts++;
    p = &ci->products[pi];
    memset(p, 0, sizeof(*p));
    p->article = strdup(c_art->text);
    p->photos = json_array();
    if (!p->article || !p->photos ||
        strmap_put(&ci->by_article, c_art->text, pi) < 0)
        return -1;
    p->first_row = r;
    p->name = c_name->text;
    p->description = c_desc ? c_desc->text : NULL;
    p->group = *group;
    *group = NULL;
    if (c_name->len == 0)
        row_bad(ci, r, c_name, COL_NAME,
                "empty (the first row of an article names the "
                "product)");
    return pi;
}

/* Validate one catalog row and attach it to its product and variant. */
static int row_catalog(struct catalog_import *ci, size_t r)
{
    struct imp_cell *c_art = cell_of(ci, r, COL_ARTICLE);
    struct imp_cell *c_sku = cell_of(ci, r, COL_SKU);
    struct imp_cell *c_bc = cell_of(ci, r, COL_BARCODE);
    struct imp_cell *c_pr = cell_of(ci, r, COL_PRICE);
    struct imp_cell *c_old = cell_of(ci, r, COL_OLD_PRICE);
    struct imp_cell *c_ph = cell_of(ci, r, COL_PHOTOS);
    struct imp_variant *v;
    char why[256], *group = NULL;
    long long pi, vi;

    row_catalog_trim(ci, r, &group);
    if (variant_new(ci, r) < 0)
        goto oom;
    vi = (long long)ci->nvariants - 1;
    v = &ci->variants[vi];
    v->sku = c_sku->text;
    v->barcode = c_bc && c_bc->len ? c_bc->text : NULL;
    if (c_pr && c_pr->len) {
        ci->has_prices = 1;
        if (catalog_money_parse(c_pr->text, c_pr->len, v->price, why,
                                sizeof(why)) < 0)
            row_bad(ci, r, c_pr, COL_PRICE, why);
    }
    if (c_old && c_old->len) {
        ci->has_prices = 1;
        if (catalog_money_parse(c_old->text, c_old->len, v->old_price, why,
                                sizeof(why)) < 0)
            row_bad(ci, r, c_old, COL_OLD_PRICE, why);
        else if (!(c_pr && c_pr->len))
            row_bad(ci, r, c_old, COL_OLD_PRICE,
                    "given without a price (the price column is empty)");
    }
    if (c_sku->len && row_sku_add(ci, r, c_sku, vi) < 0)
        goto oom;
    if (c_art->len == 0) {
        free(group);
        return 0;
    }
    pi = row_product(ci, r, &group);
    if (pi < 0)
        goto oom;
    v = &ci->variants[vi];
    v->product = (size_t)pi;
    v->position = ++ci->products[pi].nvariants;
    if (c_ph)
        product_photos_add(ci, r, (size_t)pi, c_ph);
    free(group);
    return 0;
oom:
    free(group);
    return -1;
}

/* Validate one prices row. */
static int row_prices(struct catalog_import *ci, size_t r)
{
    struct imp_cell *c_sku = cell_of(ci, r, COL_SKU);
    struct imp_cell *c_pr = cell_of(ci, r, COL_PRICE);
    struct imp_cell *c_old = cell_of(ci, r, COL_OLD_PRICE);
    struct imp_variant *v;
    char why[256];
    long long vi;

    cell_trim(c_sku);
    cell_trim(c_pr);
    if (c_old)
        cell_trim(c_old);
    if (variant_new(ci, r) < 0)
        return -1;
    vi = (long long)ci->nvariants - 1;
    v = &ci->variants[vi];
    v->sku = c_sku->text;
    if (c_sku->len == 0) {
        row_bad(ci, r, c_sku, COL_SKU, "empty");
    } else if (row_sku_add(ci, r, c_sku, vi) < 0) {
        return -1;
    }
    if (c_pr->len == 0)
        row_bad(ci, r, c_pr, COL_PRICE, "empty");
    else if (catalog_money_parse(c_pr->text, c_pr->len, v->price, why,
                                 sizeof(why)) < 0)
        row_bad(ci, r, c_pr, COL_PRICE, why);
    if (c_old && c_old->len &&
        catalog_money_parse(c_old->text, c_old->len, v->old_price, why,
                            sizeof(why)) < 0)
        row_bad(ci, r, c_old, COL_OLD_PRICE, why);
    return 0;
}

/* UTF-8 and NUL checks of every cell of row @p r; 0 when all are fine. */
static int row_encoding(struct catalog_import *ci, size_t r)
{
    struct imp_row *row = &ci->rows[r];
    size_t j, off;
    int bad = 0;

    for (j = 0; j < ci->ncols; j++) {
        const struct imp_cell *c = &row->cells[j];

        if (ci->cols[j].kind == COL_UNKNOWN)
            continue;
        if (csv_utf8_check(c->text, c->len, &off) < 0) {
            imp_err(ci, c->line, c->col,
                    "%s: invalid UTF-8 (byte %zu of the field)",
                    ci->cols[j].header, off + 1);
            bad = 1;
        } else if (memchr(c->text, '\0', c->len)) {
            imp_err(ci, c->line, c->col, "%s: contains a NUL byte",
                    ci->cols[j].header);
            bad = 1;
        }
    }
    row->bad = bad;
    return bad;
}

static int photo_base_init(struct catalog_import *ci)
{
    const char *slash;

    if (ci->o.photos_dir) {
        ci->photo_base = strdup(ci->o.photos_dir);
    } else {
        slash = strrchr(ci->o.file, '/');
        ci->photo_base = slash ? dupn(ci->o.file, (size_t)(slash - ci->o.file) +
                                                      (slash == ci->o.file))
                               : strdup(".");
    }
    return ci->photo_base ? 0 : -1;
}

/* A record after the header: skipped when blank, an error when its field
 * count is not the header's, else a row checked and attached; -1 when out
 * of memory. */
static int parse_row(struct catalog_import *ci, const struct csv_record *rec)
{
    size_t i;

    /* Blank lines and all-empty records (";;;;") are skipped. */
    for (i = 0; i < rec->nfields && rec->fields[i].len == 0; i++)
        ;
    if (i == rec->nfields)
        return 0;
    if (rec->nfields != ci->ncols) {
        const struct csv_field *f = rec->nfields > ci->ncols
                                        ? &rec->fields[ci->ncols]
                                        : &rec->fields[rec->nfields - 1];

        imp_err(ci, f->line, f->col,
                "expected %zu fields as in the header, found %zu", ci->ncols,
                rec->nfields);
        return 0;
    }
    if (row_add(ci, rec) < 0)
        return -1;
    if (row_encoding(ci, ci->nrows - 1))
        return 0;
    return (ci->o.kind == CATALOG_IMPORT_PRICES ? row_prices : row_catalog)(
        ci, ci->nrows - 1);
}

/* The checks of the whole file once every record is read. */
static int parse_finish(struct catalog_import *ci, int have_header,
                        char *errstr, size_t errstr_size)
{
    if (!have_header && !ci->nerrs) {
        imp_err(ci, 1, 1, "empty file: no header row");
        ci->header_bad = 1;
    }
    if (ci->o.kind == CATALOG_IMPORT_CATALOG && ci->has_prices &&
        !ci->o.price_list && !ci->nerrs) {
        snprintf(errstr, errstr_size,
                 "%s has prices (column \"%s\"): give the price list they "
                 "belong to with --price-list PL",
                 ci->o.file,
                 ci->colidx[COL_PRICE] >= 0
                     ? ci->cols[ci->colidx[COL_PRICE]].header
                     : ci->cols[ci->colidx[COL_OLD_PRICE]].header);
        return CATALOG_IMPORT_USAGE;
    }
    return CATALOG_IMPORT_OK;
}

int catalog_import_parse(struct catalog_import *ci, char *errstr,
                         size_t errstr_size)
{
    struct csv_reader *rd;
    struct csv_record rec;
    struct csv_error cerr;
    int res, rc = CATALOG_IMPORT_FAIL, have_header = 0;

    if (photo_base_init(ci) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return CATALOG_IMPORT_FAIL;
    }
    rd = csv_reader_open_file(ci->o.file, 0, errstr, errstr_size);
    if (!rd)
        return CATALOG_IMPORT_USAGE;
    for (;;) {
        res = csv_reader_next(rd, &rec, &cerr);
        if (res == CSV_EOF)
            break;
        if (res == CSV_ERROR) {
            if (!strcmp(cerr.msg, "out of memory"))
                goto oom;
            imp_err(ci, cerr.line, cerr.col, "%s", cerr.msg);
            if (cerr.fatal || !have_header) {
                ci->header_bad |= !have_header;
                break;
            }
            continue;
        }
        if (!have_header) {
            have_header = 1;
            if (header_parse(ci, &rec) < 0)
                goto oom;
            if (ci->nerrs) {
                ci->header_bad = 1;
                break; /* rows cannot be read without the columns */
            }
            continue;
        }
        if (parse_row(ci, &rec) < 0)
            goto oom;
    }
    rc = parse_finish(ci, have_header, errstr, errstr_size);
    goto out;
oom:
    snprintf(errstr, errstr_size, "out of memory");
out:
    csv_reader_destroy(rd);
    return rc;
}

int catalog_import_parse_records(struct catalog_import *ci,
                                 const struct csv_record *recs, size_t n,
                                 char *errstr, size_t errstr_size)
{
    size_t i;

    if (photo_base_init(ci) < 0)
        goto oom;
    if (n && header_parse(ci, &recs[0]) < 0)
        goto oom;
    if (ci->nerrs) {
        ci->header_bad = 1;
        return CATALOG_IMPORT_OK;
    }
    for (i = 1; i < n; i++)
        if (parse_row(ci, &recs[i]) < 0)
            goto oom;
    return parse_finish(ci, n > 0, errstr, errstr_size);
oom:
    snprintf(errstr, errstr_size, "out of memory");
    return CATALOG_IMPORT_FAIL;
}

/* ---- database ---------------------------------------------------------
 *
 * The import reads and writes the catalog through catalog.h (the staged
 * import functions); what it keeps is the file's side: what to stage,
 * which rows are bad, the notices, and which snapshots changed. */

/* The advisory lock serialising imports (they touch the same rows). */
static const char SQL_LOCK[] =
    "SELECT pg_advisory_xact_lock(hashtext('omnisync.import'))";
/* No JIT in the import's transaction: its statements run in milliseconds,
 * and a large catalog's cost estimates made Postgres compile a snapshot
 * query each round (~120 ms of compiling for ~13 ms of work). */
static const char SQL_NO_JIT[] = "SET LOCAL jit = off";

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Every prefix of every product's group path, once, into the stage's
 * groups; the deepest path's depth into @p max_depth.  0 or -1 (out of
 * memory). */
static int stage_groups(struct catalog_import *ci, struct db_copy *groups,
                        int *max_depth)
{
    json_t *seen = json_object();
    size_t i;
    int rc = seen ? 0 : -1;

    *max_depth = 0;
    for (i = 0; rc == 0 && i < ci->nproducts; i++) {
        const char *path = ci->products[i].group, *s;
        int depth = 0;

        if (!path || !*path)
            continue;
        for (s = path;; s++) {
            if (*s == '/' || *s == '\0') {
                char *pre = dupn(path, (size_t)(s - path));
                char *last = pre ? strrchr(pre, '/') : NULL;

                if (!pre) {
                    rc = -1;
                    break;
                }
                if (!json_object_get(seen, pre)) {
                    json_object_set_new_nocheck(seen, pre, json_true());
                    db_copy_text(groups, pre);
                    if (last)
                        *last = '\0'; /* pre is the parent path now */
                    db_copy_text(groups, last ? pre : NULL);
                    db_copy_text(groups, last ? last + 1 : pre);
                    db_copy_int(groups, depth);
                    db_copy_row_end(groups);
                }
                free(pre);
                depth++;
                if (depth > *max_depth)
                    *max_depth = depth;
            }
            if (*s == '\0')
                break;
        }
    }
    json_decref(seen);
    return rc;
}

/* The file's option column names, in column order (borrowed strings;
 * caller frees the array).  NULL when out of memory. */
static const char **option_names(const struct catalog_import *ci, size_t *n)
{
    const char **names = malloc((ci->ncols + 1) * sizeof(*names));
    size_t i;

    *n = 0;
    for (i = 0; names && i < ci->ncols; i++)
        if (ci->cols[i].kind == COL_OPTION)
            names[(*n)++] = ci->cols[i].option;
    return names;
}

/*
 * stock.available for every (store selling from price list @p pl,
 * variant whose price this transaction wrote): stock-publisher pushes
 * prices with the quantity, in one compacted event per store:variant.
 * Call after the price upsert.
 */
int catalog_import_price_stock_emit(PGconn *pg, long long pl, char *errstr,
                                    size_t errstr_size)
{
    long long *ids = NULL;
    size_t n = 0;
    int rc = -1;

    if (catalog_prices_changed(pg, pl, &ids, &n, errstr, errstr_size) < 0)
        return -1;
    if (n &&
        ledger_price_available_emit(pg, pl, ids, n, errstr, errstr_size) < 0)
        goto out;
    rc = 0;
out:
    free(ids);
    return rc;
}

/* catalog_skus_check(): row @p i's SKU belongs to @p article. */
static void sku_taken(void *arg, size_t i, const char *article)
{
    struct catalog_import *ci = arg;
    const struct imp_variant *v = &ci->variants[i];
    char q[96], qa[96], msg[512];

    snprintf(msg, sizeof(msg), "SKU %s belongs to article %s in the ledger",
             qv(v->sku, strlen(v->sku), q, sizeof(q)),
             qv(article, strlen(article), qa, sizeof(qa)));
    row_bad(ci, v->row, cell_of(ci, v->row, COL_SKU), COL_SKU, msg);
}

/* Database checks of a catalog file: SKUs that belong to another article. */
static int check_catalog_db(struct catalog_import *ci, PGconn *pg, char *errstr,
                            size_t errstr_size)
{
    struct db_copy rows = {0};
    size_t i;
    int rc;

    for (i = 0; i < ci->nvariants; i++) {
        const struct imp_variant *v = &ci->variants[i];
        struct imp_cell *c_art = cell_of(ci, v->row, COL_ARTICLE);

        if (ci->rows[v->row].bad || !v->sku[0])
            continue;
        db_copy_int(&rows, (long long)i);
        db_copy_text(&rows, v->sku);
        db_copy_text(&rows, c_art->text);
        db_copy_row_end(&rows);
    }
    rc = catalog_skus_check(pg, &rows, sku_taken, ci, errstr, errstr_size);
    db_copy_free(&rows);
    return rc;
}

/* The price list's id into @p id: 0, 1 when unknown (errstr says so), or
 * -1 with errstr. */
static int price_list_id(PGconn *pg, const char *code, long long *id,
                         char *errstr, size_t errstr_size)
{
    int found = catalog_price_list_find(pg, code, id, errstr, errstr_size);

    if (found < 0)
        return -1;
    if (!found) {
        snprintf(errstr, errstr_size,
                 "unknown price list \"%s\" (see omnisync pricelist add)",
                 code);
        return 1;
    }
    return 0;
}

/* Stage the file (catalog_stage_load()). */
#define IMPORT_STAGE_CHUNK 5000 /* products or variants a staging load */

/* Stage the file's products and photos, IMPORT_STAGE_CHUNK products a
 * load. */
static int import_stage_products(struct catalog_import *ci, PGconn *pg,
                                 struct catalog_stage *st, char *errstr,
                                 size_t errstr_size)
{
    size_t i, k;

    for (i = 0; i < ci->nproducts; i++) {
        const struct imp_product *p = &ci->products[i];

        db_copy_text(&st->products, p->article);
        db_copy_text(&st->products, p->name);
        db_copy_text(&st->products, p->description);
        db_copy_text(&st->products, p->group);
        db_copy_int(&st->products, (long long)i);
        db_copy_row_end(&st->products);
        for (k = 0; k < json_array_size(p->photos); k++) {
            json_t *ph = json_array_get(p->photos, k);

            db_copy_text(&st->photos, p->article);
            db_copy_int(&st->photos, (long long)k + 1);
            db_copy_text(&st->photos, json_string_value(json_array_get(ph, 0)));
            db_copy_text(&st->photos, json_string_value(json_array_get(ph, 1)));
            db_copy_row_end(&st->photos);
        }
        if ((st->products.rows == IMPORT_STAGE_CHUNK ||
             i + 1 == ci->nproducts) &&
            catalog_stage_append(pg, st, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

/* Stage the file's variants and their options, IMPORT_STAGE_CHUNK
 * variants a load. */
static int import_stage_variants(struct catalog_import *ci, PGconn *pg,
                                 struct catalog_stage *st, char *errstr,
                                 size_t errstr_size)
{
    size_t i, j;

    for (i = 0; i < ci->nvariants; i++) {
        const struct imp_variant *v = &ci->variants[i];
        const struct imp_row *row = &ci->rows[v->row];

        db_copy_text(&st->variants, v->sku);
        db_copy_text(&st->variants, ci->products[v->product].article);
        db_copy_text(&st->variants, v->barcode);
        db_copy_int(&st->variants, v->position);
        db_copy_text(&st->variants, v->price[0] ? v->price : NULL);
        db_copy_text(&st->variants, v->old_price[0] ? v->old_price : NULL);
        db_copy_int(&st->variants, (long long)i);
        db_copy_row_end(&st->variants);
        for (j = 0; j < ci->ncols; j++)
            if (ci->cols[j].kind == COL_OPTION && row->cells[j].len) {
                db_copy_text(&st->options, v->sku);
                db_copy_text(&st->options, ci->cols[j].option);
                db_copy_text(&st->options, row->cells[j].text);
                db_copy_row_end(&st->options);
            }
        if ((st->variants.rows == IMPORT_STAGE_CHUNK ||
             i + 1 == ci->nvariants) &&
            catalog_stage_append(pg, st, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

static int import_stage(struct catalog_import *ci, PGconn *pg, int *max_depth,
                        char *errstr, size_t errstr_size)
{
    struct catalog_stage st = {0};
    int rc = -1;

    if (catalog_stage_begin(pg, errstr, errstr_size) < 0 ||
        import_stage_products(ci, pg, &st, errstr, errstr_size) < 0 ||
        import_stage_variants(ci, pg, &st, errstr, errstr_size) < 0)
        goto out;
    if (stage_groups(ci, &st.groups, max_depth) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (catalog_stage_append(pg, &st, errstr, errstr_size) < 0)
        goto out;
    rc = catalog_stage_end(pg, &st, errstr, errstr_size);
out:
    catalog_stage_free(pg, &st);
    return rc;
}

#define IMPORT_ANALYZE_MIN 2000 /* products: refresh statistics first */
/*
 * What a catalog import compares: the file's products that already exist
 * (file order), then the products missing from the file that
 * --archive-missing archives, with their canonical snapshots before and
 * after the writes.
 */
struct import_diff {
    long long *before_ids; /* nbefore existing, then the nmissing */
    size_t nbefore;
    long long *missing;
    size_t nmissing, ncap;
    char **before;  /* nbefore + nmissing snapshot texts */
    long long *ids; /* nids imported products, then the nmissing */
    size_t nids;
    char **after; /* nids + nmissing snapshot texts */
};

static void import_diff_free(struct import_diff *df)
{
    size_t i;

    if (df->before)
        for (i = 0; i < df->nbefore + df->nmissing; i++)
            free(df->before[i]);
    if (df->after)
        for (i = 0; i < df->nids + df->nmissing; i++)
            free(df->after[i]);
    free(df->before);
    free(df->after);
    free(df->before_ids);
    free(df->ids);
    free(df->missing);
}

/* What import_missing() collects while the ledger lists the products. */
struct missing_walk {
    struct catalog_import *ci;
    struct import_diff *df;
    int oom;
};

/* catalog_stage_missing(): with --archive-missing, product @p id is to be
 * archived unless it holds a store's delivery item (a notice then). */
static void missing_one(void *arg, long long id, const char *article,
                        int delivery)
{
    struct missing_walk *w = arg;
    struct import_diff *df = w->df;
    long long *grown;

    if (w->oom || !w->ci->o.archive_missing)
        return;
    if (delivery) {
        fprintf(stderr,
                "omnisync: notice: product \"%s\" is missing from %s but "
                "kept: one of its variants is a store's delivery item\n",
                article, w->ci->o.file);
        return;
    }
    if (df->nmissing == df->ncap) {
        df->ncap = df->ncap ? df->ncap * 2 : 64;
        grown = realloc(df->missing, df->ncap * sizeof(*grown));
        if (!grown) {
            w->oom = 1;
            return;
        }
        df->missing = grown;
    }
    df->missing[df->nmissing++] = id;
}

/* Active products the file does not list: a notice, and with
 * --archive-missing the ones to archive (not a store's delivery item). */
static int import_missing(struct catalog_import *ci, PGconn *pg,
                          struct import_diff *df, char *errstr,
                          size_t errstr_size)
{
    struct missing_walk w = {ci, df, 0};
    long long n;

    n = catalog_stage_missing(pg, missing_one, &w, errstr, errstr_size);
    if (n < 0)
        return -1;
    if (w.oom) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (!ci->o.archive_missing && n > 0)
        fprintf(stderr,
                "omnisync: notice: %lld product(s) in the ledger are not in "
                "%s (left as they are; --archive-missing archives them)\n",
                n, ci->o.file);
    return 0;
}

/* Products the import may change, and their snapshots before. */
static int import_before(struct catalog_import *ci, PGconn *pg,
                         struct import_diff *df, char *errstr,
                         size_t errstr_size)
{
    long long *all;
    size_t n;

    df->before_ids =
        catalog_stage_product_ids(pg, &df->nbefore, errstr, errstr_size);
    if (!df->before_ids || import_missing(ci, pg, df, errstr, errstr_size) < 0)
        return -1;
    n = df->nbefore + df->nmissing;
    df->before = calloc(n + 1, sizeof(*df->before));
    all = df->before ? malloc((n + 1) * sizeof(*all)) : NULL;
    if (!all) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    memcpy(all, df->before_ids, df->nbefore * sizeof(*all));
    if (df->nmissing)
        memcpy(all + df->nbefore, df->missing, df->nmissing * sizeof(*all));
    free(df->before_ids);
    df->before_ids = all;
    return catalog_snapshot_texts(pg, df->before_ids, n, df->before, errstr,
                                  errstr_size);
}

/* catalog_stage_apply_variants(): a variant the file dropped is kept. */
static void variant_kept(void *arg, const char *sku)
{
    const struct catalog_import *ci = arg;

    fprintf(stderr,
            "omnisync: notice: variant \"%s\" is missing from %s but "
            "kept: it is a store's delivery item\n",
            sku, ci->o.file);
}

/* Prices in the given list (none without --price-list). */
static int import_prices(struct catalog_import *ci, PGconn *pg,
                         const long long *pl, char *errstr, size_t errstr_size)
{
    if (!pl)
        return 0;
    if (catalog_stage_apply_prices(pg, *pl, ci->colidx[COL_OLD_PRICE] >= 0,
                                   errstr, errstr_size) < 0)
        return -1;
    return catalog_import_price_stock_emit(pg, *pl, errstr, errstr_size);
}

/* The bytes of one spooled photo into the blob store; 0 or -1. */
static int import_blob(struct catalog_import *ci, struct blob_store *bs,
                       const char *sha, const json_t *at, char *errstr,
                       size_t errstr_size)
{
    json_int_t off = 0, len = 0;
    const char *ctype = NULL;
    unsigned char *b = NULL;
    int r, rc = -1;

    r = blob_exists(bs, sha, errstr, errstr_size);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (json_unpack((json_t *)at, "[IIs]", &off, &len, &ctype) == 0)
        b = malloc((size_t)len + 1);
    if (!b) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (fseeko(ci->spool, (off_t)off, SEEK_SET) != 0 ||
        fread(b, 1, (size_t)len, ci->spool) != (size_t)len)
        snprintf(errstr, errstr_size, "photo spool: %s", strerror(errno));
    else
        rc = blob_put(bs, sha, b, (size_t)len, ctype, errstr, errstr_size);
    free(b);
    return rc;
}

/* Every distinct photo the file names, stored by content in the import's
 * transaction (the photo rows reference them). */
static int import_blobs(struct catalog_import *ci, PGconn *pg, char *errstr,
                        size_t errstr_size)
{
    struct blob_store *bs;
    const char *sha;
    json_t *at;
    int rc = 0;

    if (json_object_size(ci->photo_blob) == 0)
        return 0;
    bs = blob_store_pg_new(pg);
    if (!bs) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    json_object_foreach(ci->photo_blob, sha, at)
    {
        rc = import_blob(ci, bs, sha, at, errstr, errstr_size);
        if (rc < 0)
            break;
    }
    blob_store_destroy(bs);
    return rc;
}

/* The writes, parents before children.  When none of the file's products
 * existed (df->nbefore == 0), none of its variants did either: a SKU of
 * another article failed the checks before. */
static int import_apply(struct catalog_import *ci, PGconn *pg,
                        const long long *pl, int max_depth,
                        const struct import_diff *df, char *errstr,
                        size_t errstr_size)
{
    size_t nopt;
    const char **opt = option_names(ci, &nopt);
    int rc = -1;

    if (!opt) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (catalog_stage_apply_groups(pg, max_depth, errstr, errstr_size) < 0 ||
        catalog_stage_apply_options(pg, opt, nopt, errstr, errstr_size) < 0 ||
        catalog_stage_apply_products(pg, ci->colidx[COL_DESCRIPTION] >= 0,
                                     ci->colidx[COL_GROUP] >= 0, errstr,
                                     errstr_size) < 0 ||
        catalog_stage_apply_variants(pg, ci->colidx[COL_BARCODE] >= 0,
                                     variant_kept, ci, errstr,
                                     errstr_size) < 0 ||
        catalog_stage_apply_variant_options(pg, opt, nopt, df->nbefore == 0,
                                            errstr, errstr_size) < 0 ||
        import_prices(ci, pg, pl, errstr, errstr_size) < 0 ||
        (ci->colidx[COL_PHOTOS] >= 0 &&
         (import_blobs(ci, pg, errstr, errstr_size) < 0 ||
          catalog_stage_apply_photos(pg, errstr, errstr_size) < 0)) ||
        (df->nmissing && catalog_products_archive(pg, df->missing, df->nmissing,
                                                  errstr, errstr_size) < 0))
        goto out;
    rc = 0;
out:
    free(opt);
    return rc;
}

/* The snapshots after: the file's products, then the archived ones. */
static int import_after(PGconn *pg, struct import_diff *df, char *errstr,
                        size_t errstr_size)
{
    long long *all;
    size_t n;

    df->ids = catalog_stage_product_ids(pg, &df->nids, errstr, errstr_size);
    if (!df->ids)
        return -1;
    /* A large import changes the tables' shape: without fresh statistics
     * the snapshot queries below scan them whole, chunk after chunk.
     * (Tested before nids was known until 2026-12-03: it never ran.) */
    if (df->nids >= IMPORT_ANALYZE_MIN &&
        catalog_analyze(pg, errstr, errstr_size) < 0)
        return -1;
    n = df->nids + df->nmissing;
    all = realloc(df->ids, (n + 1) * sizeof(*all));
    if (!all)
        goto oom;
    df->ids = all;
    if (df->nmissing)
        memcpy(df->ids + df->nids, df->missing,
               df->nmissing * sizeof(*df->ids));
    df->after = calloc(n + 1, sizeof(*df->after));
    if (!df->after)
        goto oom;
    return catalog_snapshot_texts(pg, df->ids, n, df->after, errstr,
                                  errstr_size);
oom:
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
}

#define IMPORT_EMIT_CHUNK 1000 /* events per outbox statement */

/* One event per product whose snapshot differs, counted in @p st; the
 * events go out IMPORT_EMIT_CHUNK a statement. */
static int import_emit(PGconn *pg, const struct import_diff *df,
                       struct apply_stats *st, char *errstr, size_t errstr_size)
{
    long long ids[IMPORT_EMIT_CHUNK];
    const char *snaps[IMPORT_EMIT_CHUNK];
    size_t i, b, k = 0;

    /* before_ids is in the same order (file order, then missing), with the
     * products that did not exist left out: walk both. */
    for (i = 0, b = 0; i < df->nids + df->nmissing; i++) {
        const char *prev = NULL;

        if (b < df->nbefore + df->nmissing && df->before_ids[b] == df->ids[i])
            prev = df->before[b++];
        if (!df->after[i]) {
            snprintf(errstr, errstr_size, "product %lld vanished", df->ids[i]);
            return -1;
        }
        if (prev && !strcmp(prev, df->after[i])) {
            st->unchanged++;
            continue;
        }
        if (i >= df->nids)
            st->archived++;
        else if (prev)
            st->changed++;
        else
            st->added++;
        ids[k] = df->ids[i];
        snaps[k++] = df->after[i];
        st->events++;
        if (k == IMPORT_EMIT_CHUNK) {
            if (catalog_emit_many(pg, ids, snaps, k, errstr, errstr_size) < 0)
                return -1;
            k = 0;
        }
    }
    return catalog_emit_many(pg, ids, snaps, k, errstr, errstr_size);
}

/*
 * The writes.  Runs inside the transaction, after every check passed:
 * stage the file, snapshot what it may change, apply, snapshot again and
 * emit what differs.
 */
static int apply_catalog(struct catalog_import *ci, PGconn *pg,
                         const long long *pl, struct apply_stats *st,
                         char *errstr, size_t errstr_size)
{
    struct import_diff df = {0};
    int max_depth = 0, rc = -1;

    if (import_stage(ci, pg, &max_depth, errstr, errstr_size) == 0 &&
        import_before(ci, pg, &df, errstr, errstr_size) == 0 &&
        import_apply(ci, pg, pl, max_depth, &df, errstr, errstr_size) == 0 &&
        import_after(pg, &df, errstr, errstr_size) == 0 &&
        import_emit(pg, &df, st, errstr, errstr_size) == 0)
        rc = 0;
    import_diff_free(&df);
    return rc;
}

/* catalog_price_stage_unknown(): row @p i names an unknown SKU. */
static void price_sku_unknown(void *arg, size_t i)
{
    struct catalog_import *ci = arg;
    const struct imp_variant *v = &ci->variants[i];
    char q[96], msg[256];

    snprintf(msg, sizeof(msg), "unknown SKU %s",
             qv(v->sku, strlen(v->sku), q, sizeof(q)));
    row_bad(ci, v->row, cell_of(ci, v->row, COL_SKU), COL_SKU, msg);
}

/* Prices: unknown SKUs are bad rows; then one upsert. */
static int apply_prices(struct catalog_import *ci, PGconn *pg,
                        const long long *pl, struct apply_stats *st,
                        char *errstr, size_t errstr_size)
{
    json_t *arr = json_array();
    long long *ids = NULL, changed = 0;
    size_t i, n = 0;
    int rc = -1;

    for (i = 0; i < ci->nvariants; i++) {
        const struct imp_variant *v = &ci->variants[i];

        if (ci->rows[v->row].bad || !v->sku[0] || !v->price[0])
            continue;
        json_array_append_new(
            arr,
            json_pack("{s:I, s:s, s:s, s:o}", "i", (json_int_t)i, "sku", v->sku,
                      "price", v->price, "old_price",
                      jstr_or_null(v->old_price[0] ? v->old_price : NULL)));
    }
    if (catalog_price_stage_load(pg, arr, errstr, errstr_size) < 0 ||
        catalog_price_stage_unknown(pg, price_sku_unknown, ci, errstr,
                                    errstr_size) < 0)
        return -1;
    if (ci->nerrs)
        return 0; /* the caller reports and rolls back */
    if (!pl) {
        snprintf(errstr, errstr_size, "prices: no price list given");
        return -1;
    }
    if (catalog_price_stage_apply(pg, *pl, ci->colidx[COL_OLD_PRICE] >= 0, &ids,
                                  &n, &changed, errstr, errstr_size) < 0)
        goto out;
    st->changed = (size_t)changed;
    if (st->changed &&
        catalog_import_price_stock_emit(pg, *pl, errstr, errstr_size) < 0)
        goto out;
    st->unchanged = ci->nvariants - st->changed;
    for (i = 0; i < n; i++) {
        if (catalog_emit(pg, ids[i], errstr, errstr_size) < 0)
            goto out;
        st->events++;
    }
    st->added = n; /* products touched */
    rc = 0;
out:
    free(ids);
    return rc;
}

/* The summary as one JSON object with stable keys (--json). */
static json_t *summary_json(const struct catalog_import *ci,
                            const struct apply_stats *st)
{
    if (ci->o.kind == CATALOG_IMPORT_CATALOG)
        return json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "kind",
            "catalog", "rows", (json_int_t)ci->nrows, "products",
            (json_int_t)(st->added + st->changed + st->unchanged +
                         st->archived),
            "new", (json_int_t)st->added, "changed", (json_int_t)st->changed,
            "unchanged", (json_int_t)st->unchanged, "archived",
            (json_int_t)st->archived, "variants", (json_int_t)ci->nvariants,
            "events", (json_int_t)st->events, "dry_run", ci->o.dry_run);
    return json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "kind", "prices", "rows",
        (json_int_t)ci->nrows, "changed", (json_int_t)st->changed, "unchanged",
        (json_int_t)st->unchanged, "products", (json_int_t)st->added, "events",
        (json_int_t)st->events, "dry_run", ci->o.dry_run);
}

json_t *catalog_import_summary(const struct catalog_import *ci)
{
    return summary_json(ci, &ci->st);
}

/* The summary line, or (o.json) one JSON object with stable keys. */
static void summary_print(const struct catalog_import *ci,
                          const struct apply_stats *st, FILE *out)
{
    json_t *root;

    if (ci->o.json) {
        root = summary_json(ci, st);
        if (root)
            json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        json_decref(root);
    } else if (ci->o.kind == CATALOG_IMPORT_CATALOG) {
        fprintf(
            out,
            "catalog: %zu rows, %zu products (%zu new, %zu changed, %zu "
            "unchanged, %zu archived), %zu variants, %zu events%s\n",
            ci->nrows, st->added + st->changed + st->unchanged + st->archived,
            st->added, st->changed, st->unchanged, st->archived, ci->nvariants,
            st->events, ci->o.dry_run ? " (dry run: rolled back)" : "");
    } else {
        fprintf(out,
                "prices: %zu rows, %zu changed, %zu unchanged, %zu products, "
                "%zu events%s\n",
                ci->nrows, st->changed, st->unchanged, st->added, st->events,
                ci->o.dry_run ? " (dry run: rolled back)" : "");
    }
}

int catalog_import_apply(struct catalog_import *ci, PGconn *pg, FILE *out,
                         char *errstr, size_t errstr_size)
{
    struct apply_stats st = {0};
    long long pl_id = 0;
    const long long *pl = NULL;
    int64_t t0 = clock_mono_ms();
    double secs;
    int rc = CATALOG_IMPORT_FAIL, r;

    if (db_begin(pg, errstr, errstr_size) < 0)
        return CATALOG_IMPORT_FAIL;
    if (db_cmd(pg, SQL_LOCK, 0, NULL, "import lock", errstr, errstr_size) < 0 ||
        db_cmd(pg, SQL_NO_JIT, 0, NULL, "import settings", errstr,
               errstr_size) < 0)
        goto fail;
    if (ci->o.price_list) {
        r = price_list_id(pg, ci->o.price_list, &pl_id, errstr, errstr_size);
        if (r < 0)
            goto fail;
        if (r > 0) {
            rc = CATALOG_IMPORT_USAGE;
            goto fail;
        }
        pl = &pl_id;
    }
    if (ci->o.kind == CATALOG_IMPORT_CATALOG) {
        if (ci->nvariants && check_catalog_db(ci, pg, errstr, errstr_size) < 0)
            goto fail;
        if (ci->nerrs) {
            rc = CATALOG_IMPORT_USAGE;
            goto fail;
        }
        if (apply_catalog(ci, pg, pl, &st, errstr, errstr_size) < 0)
            goto fail;
    } else {
        if (apply_prices(ci, pg, pl, &st, errstr, errstr_size) < 0)
            goto fail;
        if (ci->nerrs) {
            rc = CATALOG_IMPORT_USAGE;
            goto fail;
        }
    }
    ci->st = st;
    if (ci->o.before_commit && ci->o.before_commit(ci->o.before_commit_arg, pg,
                                                   errstr, errstr_size) != 0)
        goto fail;
    if (ci->o.dry_run)
        db_rollback(pg);
    else if (db_commit(pg, errstr, errstr_size) < 0)
        return CATALOG_IMPORT_FAIL;
    secs = (double)(clock_mono_ms() - t0) / 1e3;
    if (out)
        summary_print(ci, &st, out);
    log_info("import of %s took %.2f s", ci->o.file, secs);
    return CATALOG_IMPORT_OK;
fail:
    db_rollback(pg);
    return rc;
}

int catalog_import_run(const struct catalog_import_opts *o,
                       PGconn *(*connect)(void))
{
    char errstr[1024];
    struct catalog_import *ci = catalog_import_new(o, errstr, sizeof(errstr));
    PGconn *pg = NULL;
    const char *cmd =
        o->kind == CATALOG_IMPORT_PRICES ? "import prices" : "import catalog";
    int rc;

    if (!ci) {
        fprintf(stderr, "omnisync: %s: %s\n", cmd, errstr);
        return CATALOG_IMPORT_FAIL;
    }
    rc = catalog_import_parse(ci, errstr, sizeof(errstr));
    if (rc != CATALOG_IMPORT_OK) {
        catalog_import_errors_print(ci, stderr);
        fprintf(stderr, "omnisync: %s: %s\n", cmd, errstr);
        goto out;
    }
    if (o->kind == CATALOG_IMPORT_PRICES && !o->price_list) {
        fprintf(stderr, "omnisync: %s: --price-list PL is required\n", cmd);
        rc = CATALOG_IMPORT_USAGE;
        goto out;
    }
    /* A file with bad header/syntax is reported without a database; row
     * errors still get the database checks so every bad row is named. */
    if (ci->header_bad) {
        rc = CATALOG_IMPORT_USAGE;
        goto report;
    }
    pg = connect();
    if (!pg) {
        rc = CATALOG_IMPORT_FAIL;
        goto out;
    }
    rc = catalog_import_apply(ci, pg, stdout, errstr, sizeof(errstr));
    if (rc == CATALOG_IMPORT_FAIL)
        fprintf(stderr, "omnisync: %s: %s (nothing applied)\n", cmd, errstr);
    else if (rc == CATALOG_IMPORT_USAGE && !catalog_import_error_count(ci))
        fprintf(stderr, "omnisync: %s: %s\n", cmd, errstr);
report:
    if (catalog_import_error_count(ci)) {
        catalog_import_errors_print(ci, stderr);
        fprintf(stderr,
                "omnisync: %s: %zu bad row(s) in %s; nothing "
                "applied\n",
                cmd, catalog_import_error_count(ci), o->file);
        rc = CATALOG_IMPORT_USAGE;
    }
out:
    PQfinish(pg);
    catalog_import_destroy(ci);
    return rc;
}
