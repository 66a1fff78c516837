#include "ledger/catalog_import.h"

#include "ledger/catalog.h"
#include "lib/csv.h"
#include "lib/db.h"
#include "lib/clock.h"
#include "lib/hash.h"
#include "lib/money.h"
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

struct catalog_import {
    struct catalog_import_opts o;
    struct imp_col *cols;
    size_t ncols;
    int colidx[COL_KINDS]; /* column of each single kind, -1 if absent */
    struct imp_row *rows;
    size_t nrows, rows_cap;
    struct imp_product *products;
    size_t nproducts, products_cap;
    struct imp_variant *variants;
    size_t nvariants, variants_cap;
    json_t *by_article; /* article -> product index */
    json_t *by_sku;     /* sku -> variant index */
    json_t *photo_sha;  /* resolved path -> sha256 hex */
    json_t *photo_err;  /* resolved path -> reason */
    char *photo_base;   /* directory relative photo paths start from */
    int has_prices;     /* some row has a price or old_price value */
    int header_bad;     /* no usable header: rows were not read */
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

/* Index stored in a jansson object used as a hash map; -1 if absent. */
static long long map_get(json_t *map, const char *key)
{
    json_t *v = json_object_get(map, key);

    return v ? json_integer_value(v) : -1;
}

static int map_set(json_t *map, const char *key, long long v)
{
    return json_object_set_new_nocheck(map, key, json_integer(v));
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
    ci->by_article = json_object();
    ci->by_sku = json_object();
    ci->photo_sha = json_object();
    ci->photo_err = json_object();
    if (!ci->by_article || !ci->by_sku || !ci->photo_sha || !ci->photo_err) {
        snprintf(errstr, errstr_size, "out of memory");
        catalog_import_destroy(ci);
        return NULL;
    }
    return ci;
}

void catalog_import_destroy(struct catalog_import *ci)
{
    size_t i, j;

    if (!ci)
        return;
    for (i = 0; i < ci->ncols; i++) {
        free(ci->cols[i].header);
        free(ci->cols[i].option);
    }
    free(ci->cols);
    for (i = 0; i < ci->nrows; i++) {
        for (j = 0; j < ci->ncols && ci->rows[i].cells; j++)
            free(ci->rows[i].cells[j].text);
        free(ci->rows[i].cells);
    }
    free(ci->rows);
    for (i = 0; i < ci->nproducts; i++) {
        free(ci->products[i].article);
        free(ci->products[i].group);
        json_decref(ci->products[i].photos);
    }
    free(ci->products);
    free(ci->variants);
    json_decref(ci->by_article);
    json_decref(ci->by_sku);
    json_decref(ci->photo_sha);
    json_decref(ci->photo_err);
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

    ci->cols = calloc(rec->nfields, sizeof(*ci->cols));
    if (!ci->cols)
        return -1;
    ci->ncols = rec->nfields;
    for (i = 0; i < rec->nfields; i++)
        if (header_column(ci, i, &rec->fields[i]) < 0)
            return -1;
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
    size_t i;

    if (ci->nrows == ci->rows_cap) {
        size_t cap = ci->rows_cap ? ci->rows_cap * 2 : 256;
        struct imp_row *p = realloc(ci->rows, cap * sizeof(*p));

        if (!p)
            return -1;
        ci->rows = p;
        ci->rows_cap = cap;
    }
    row = &ci->rows[ci->nrows];
    row->line = rec->line;
    row->bad = 0;
    row->cells = calloc(ci->ncols, sizeof(*row->cells));
    if (!row->cells)
        return -1;
    ci->nrows++;
    for (i = 0; i < ci->ncols; i++) {
        row->cells[i].text = dupn(rec->fields[i].text, rec->fields[i].len);
        if (!row->cells[i].text)
            return -1;
        row->cells[i].len = rec->fields[i].len;
        row->cells[i].line = rec->fields[i].line;
        row->cells[i].col = rec->fields[i].col;
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

/* Resolve and hash one photo; 0 with @p abs/@p sha borrowed from the
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
        snprintf(why, why_size, "%s (%s)", strerror(errno), joined);
        goto out;
    }
    v = json_object_get(ci->photo_err, real);
    if (v) {
        snprintf(why, why_size, "%s", json_string_value(v));
        goto out;
    }
    v = json_object_get(ci->photo_sha, real);
    if (!v) {
        if (hash_sha256_file_hex(real, hex, err, sizeof(err)) < 0) {
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
            char msg[1024];

            snprintf(msg, sizeof(msg), "cannot read photo %s: %s",
                     qv(seg, slen, q, sizeof(q)), why);
            row_bad(ci, r, c, COL_PHOTOS, msg);
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
}

/* Register the SKU of variant @p vi, or report row @p r's SKU as a
 * duplicate; -1 when out of memory. */
static int row_sku_add(struct catalog_import *ci, size_t r,
                       const struct imp_cell *c_sku, long long vi)
{
    long long other = map_get(ci->by_sku, c_sku->text);
    char why[256], q[96];

    if (other >= 0) {
        snprintf(why, sizeof(why), "duplicate SKU %s (first on line %ld)",
                 qv(c_sku->text, c_sku->len, q, sizeof(q)),
                 ci->rows[ci->variants[other].row].line);
        row_bad(ci, r, c_sku, COL_SKU, why);
        return 0;
    }
    return map_set(ci->by_sku, c_sku->text, vi) < 0 ? -1 : 0;
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
    long long pi = map_get(ci->by_article, c_art->text);

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
        map_set(ci->by_article, c_art->text, pi) < 0)
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

/* ---- database --------------------------------------------------------- */

static int q_cmd(PGconn *pg, const char *sql, int n, const char *const *vals,
                 const char *what, char *errstr, size_t errstr_size)
{
    return db_cmd(pg, sql, n, vals, what, errstr, errstr_size);
}

/* json text of @p root (owned: decref'd here); NULL when out of memory. */
static char *dump_owned(json_t *root)
{
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;

    json_decref(root);
    return s;
}

/* Load a JSON array of objects into a temp table via json_to_recordset. */
static int load_json(PGconn *pg, const char *sql, json_t *rows,
                     const char *what, char *errstr, size_t errstr_size)
{
    char *js = dump_owned(rows);
    const char *vals[1];
    int rc;

    if (!js) {
        snprintf(errstr, errstr_size, "%s: out of memory", what);
        return -1;
    }
    vals[0] = js;
    rc = q_cmd(pg, sql, 1, vals, what, errstr, errstr_size);
    free(js);
    return rc;
}

static const char *SQL_TEMP[] = {
    "CREATE TEMP TABLE imp_product (article text PRIMARY KEY, name text NOT "
    "NULL, description text, group_path text, ord int NOT NULL) ON COMMIT "
    "DROP",
    "CREATE TEMP TABLE imp_variant (sku text PRIMARY KEY, article text NOT "
    "NULL, barcode text, position int NOT NULL, price numeric(14,2), "
    "old_price numeric(14,2), ord int NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE imp_option (sku text NOT NULL, name text NOT NULL, "
    "value text NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE imp_photo (article text NOT NULL, position int NOT "
    "NULL, path text NOT NULL, sha256 text NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE imp_group (path text PRIMARY KEY, parent_path text, "
    "name text NOT NULL, depth int NOT NULL) ON COMMIT DROP",
    NULL};

/* The advisory lock serialising imports (they touch the same rows). */
static const char SQL_LOCK[] =
    "SELECT pg_advisory_xact_lock(hashtext('omnisync.import'))";

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Every prefix of every product's group path, for imp_group. */
static json_t *groups_json(struct catalog_import *ci, int *max_depth)
{
    json_t *seen = json_object(), *arr = json_array();
    size_t i;

    *max_depth = 0;
    for (i = 0; i < ci->nproducts; i++) {
        const char *path = ci->products[i].group, *s;
        int depth = 0;

        if (!path || !*path)
            continue;
        for (s = path;; s++) {
            if (*s == '/' || *s == '\0') {
                char *pre = dupn(path, (size_t)(s - path));
                const char *last = strrchr(pre ? pre : "", '/');

                if (pre && !json_object_get(seen, pre)) {
                    json_object_set_new_nocheck(seen, pre, json_true());
                    json_array_append_new(
                        arr,
                        json_pack(
                            "{s:s, s:o, s:s, s:i}", "path", pre, "parent_path",
                            last ? json_stringn(pre, (size_t)(last - pre))
                                 : json_null(),
                            "name", last ? last + 1 : pre, "depth", depth));
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
    return arr;
}

/* A product id list from column 0 of @p res. */
static long long *ids_from(const PGresult *res, size_t *n)
{
    int i, rows = PQntuples(res);
    long long *ids = malloc(((size_t)rows + 1) * sizeof(*ids));

    *n = 0;
    if (!ids)
        return NULL;
    for (i = 0; i < rows; i++)
        ids[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    *n = (size_t)rows;
    return ids;
}

static char *ids_json(const long long *ids, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    return dump_owned(a);
}

/*
 * stock.available for every (store selling from price list @p pl_id,
 * variant whose price this transaction wrote): stock-publisher pushes
 * prices with the quantity, in one compacted event per store:variant.
 * The price rows this transaction inserted or changed are the ones whose
 * updated_at is the transaction's now().  Call after the price upsert.
 */
static int emit_price_stock(PGconn *pg, const char *pl_id, char *errstr,
                            size_t errstr_size)
{
    const char *vals[1] = {pl_id};
    long long *ids = NULL, pl;
    PGresult *res;
    size_t n = 0;
    int rc = -1;

    res = db_exec(pg,
                  "SELECT variant_id FROM price WHERE price_list_id = $1 "
                  "AND updated_at = now() ORDER BY variant_id",
                  1, vals, "changed prices", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    ids = ids_from(res, &n);
    if (!ids) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    pl = strtoll(pl_id, NULL, 10);
    if (n &&
        ledger_price_available_emit(pg, pl, ids, n, errstr, errstr_size) < 0)
        goto out;
    rc = 0;
out:
    free(ids);
    PQclear(res);
    return rc;
}

/* Database checks of a catalog file: SKUs that belong to another article. */
static int check_catalog_db(struct catalog_import *ci, PGconn *pg, char *errstr,
                            size_t errstr_size)
{
    json_t *arr = json_array();
    PGresult *res;
    const char *vals[1];
    char *js, q[96], qa[96], msg[512];
    size_t i;
    int r;

    for (i = 0; i < ci->nvariants; i++) {
        const struct imp_variant *v = &ci->variants[i];
        struct imp_cell *c_art = cell_of(ci, v->row, COL_ARTICLE);

        if (ci->rows[v->row].bad || !v->sku[0])
            continue;
        json_array_append_new(arr,
                              json_pack("{s:I, s:s, s:s}", "i", (json_int_t)i,
                                        "sku", v->sku, "article", c_art->text));
    }
    js = dump_owned(arr);
    if (!js) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    vals[0] = js;
    res = db_exec(pg,
                  "SELECT x.i, p.article FROM json_to_recordset($1::json) AS "
                  "x(i int, sku text, article text) "
                  "JOIN variant v ON v.sku = x.sku "
                  "JOIN product p ON p.id = v.product_id "
                  "WHERE p.article <> x.article",
                  1, vals, "check SKUs", errstr, errstr_size, NULL);
    free(js);
    if (!res)
        return -1;
    for (r = 0; r < PQntuples(res); r++) {
        size_t vi = (size_t)strtoll(PQgetvalue(res, r, 0), NULL, 10);
        const struct imp_variant *v = &ci->variants[vi];
        const char *art = PQgetvalue(res, r, 1);

        snprintf(msg, sizeof(msg), "SKU %s belongs to article %s in the ledger",
                 qv(v->sku, strlen(v->sku), q, sizeof(q)),
                 qv(art, strlen(art), qa, sizeof(qa)));
        row_bad(ci, v->row, cell_of(ci, v->row, COL_SKU), COL_SKU, msg);
    }
    PQclear(res);
    return 0;
}

static int price_list_id(PGconn *pg, const char *code, char *id, size_t id_size,
                         char *errstr, size_t errstr_size)
{
    const char *vals[1] = {code};
    PGresult *res = db_exec(pg, "SELECT id FROM price_list WHERE code = $1", 1,
                            vals, "price list", errstr, errstr_size, NULL);

    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        snprintf(errstr, errstr_size,
                 "unknown price list \"%s\" (see omnisync pricelist add)",
                 code);
        return 1;
    }
    snprintf(id, id_size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* Stage the file into the temp tables. */
static int import_stage(struct catalog_import *ci, PGconn *pg, int *max_depth,
                        char *errstr, size_t errstr_size)
{
    json_t *prods = json_array(), *vars = json_array(), *opts = json_array(),
           *photos = json_array();
    size_t i, j, k;
    int t;

    for (t = 0; SQL_TEMP[t]; t++)
        if (q_cmd(pg, SQL_TEMP[t], 0, NULL, "create staging table", errstr,
                  errstr_size) < 0)
            goto fail;
    for (i = 0; i < ci->nproducts; i++) {
        const struct imp_product *p = &ci->products[i];

        json_array_append_new(
            prods, json_pack("{s:s, s:s, s:o, s:o, s:I}", "article", p->article,
                             "name", p->name, "description",
                             jstr_or_null(p->description), "group_path",
                             jstr_or_null(p->group), "ord", (json_int_t)i));
        for (k = 0; k < json_array_size(p->photos); k++) {
            json_t *ph = json_array_get(p->photos, k);

            json_array_append_new(
                photos, json_pack("{s:s, s:I, s:O, s:O}", "article", p->article,
                                  "position", (json_int_t)k + 1, "path",
                                  json_array_get(ph, 0), "sha256",
                                  json_array_get(ph, 1)));
        }
    }
    for (i = 0; i < ci->nvariants; i++) {
        const struct imp_variant *v = &ci->variants[i];
        const struct imp_row *row = &ci->rows[v->row];

        json_array_append_new(
            vars,
            json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:I}", "sku", v->sku,
                      "article", ci->products[v->product].article, "barcode",
                      jstr_or_null(v->barcode), "position", v->position,
                      "price", jstr_or_null(v->price[0] ? v->price : NULL),
                      "old_price",
                      jstr_or_null(v->old_price[0] ? v->old_price : NULL),
                      "ord", (json_int_t)i));
        for (j = 0; j < ci->ncols; j++)
            if (ci->cols[j].kind == COL_OPTION && row->cells[j].len)
                json_array_append_new(
                    opts,
                    json_pack("{s:s, s:s, s:s}", "sku", v->sku, "name",
                              ci->cols[j].option, "value", row->cells[j].text));
    }
    t = load_json(pg,
                  "INSERT INTO imp_product SELECT * FROM json_to_recordset($1"
                  "::json) AS x(article text, name text, description text, "
                  "group_path text, ord int)",
                  prods, "stage products", errstr, errstr_size);
    prods = NULL;
    if (t < 0)
        goto fail;
    t = load_json(pg,
                  "INSERT INTO imp_variant SELECT * FROM json_to_recordset($1"
                  "::json) AS x(sku text, article text, barcode text, "
                  "position int, price numeric, old_price numeric, ord int)",
                  vars, "stage variants", errstr, errstr_size);
    vars = NULL;
    if (t < 0)
        goto fail;
    t = load_json(pg,
                  "INSERT INTO imp_option SELECT * FROM json_to_recordset($1"
                  "::json) AS x(sku text, name text, value text)",
                  opts, "stage options", errstr, errstr_size);
    opts = NULL;
    if (t < 0)
        goto fail;
    t = load_json(pg,
                  "INSERT INTO imp_photo SELECT * FROM json_to_recordset($1"
                  "::json) AS x(article text, position int, path text, "
                  "sha256 text)",
                  photos, "stage photos", errstr, errstr_size);
    photos = NULL;
    if (t < 0)
        goto fail;
    if (load_json(pg,
                  "INSERT INTO imp_group SELECT * FROM json_to_recordset($1"
                  "::json) AS x(path text, parent_path text, name text, "
                  "depth int)",
                  groups_json(ci, max_depth), "stage groups", errstr,
                  errstr_size) < 0)
        goto fail;
    return q_cmd(pg,
                 "ANALYZE imp_product, imp_variant, imp_option, "
                 "imp_photo, imp_group",
                 0, NULL, "analyze staging", errstr, errstr_size);
fail:
    json_decref(prods);
    json_decref(vars);
    json_decref(opts);
    json_decref(photos);
    return -1;
}

/* Canonical texts of the snapshots of @p ids (slots NULL when absent). */
static int snapshots_text(PGconn *pg, const long long *ids, size_t n,
                          char **texts, char *errstr, size_t errstr_size)
{
    json_t **snaps = calloc(n ? n : 1, sizeof(*snaps));
    size_t i;
    int rc = -1;

    if (!snaps) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (catalog_snapshot_many(pg, ids, n, snaps, errstr, errstr_size) < 0)
        goto out;
    for (i = 0; i < n; i++)
        texts[i] = snaps[i]
                       ? json_dumps(snaps[i], JSON_COMPACT | JSON_SORT_KEYS)
                       : NULL;
    rc = 0;
out:
    for (i = 0; i < n; i++)
        json_decref(snaps[i]);
    free(snaps);
    return rc;
}

static long long *query_ids(PGconn *pg, const char *sql, int n,
                            const char *const *vals, size_t *count,
                            const char *what, char *errstr, size_t errstr_size)
{
    PGresult *res = db_exec(pg, sql, n, vals, what, errstr, errstr_size, NULL);
    long long *ids;

    *count = 0;
    if (!res)
        return NULL;
    ids = ids_from(res, count);
    PQclear(res);
    if (!ids)
        snprintf(errstr, errstr_size, "out of memory");
    return ids;
}

struct apply_stats {
    size_t added, changed, unchanged, archived, events;
};

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
    size_t nmissing;
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

/* Active products the file does not list: a notice, and with
 * --archive-missing the ones to archive (not a store's delivery item). */
static int import_missing(struct catalog_import *ci, PGconn *pg,
                          struct import_diff *df, char *errstr,
                          size_t errstr_size)
{
    PGresult *res;
    int d;

    res = db_exec(pg,
                  "SELECT p.id, p.article, EXISTS (SELECT 1 FROM variant v "
                  "JOIN store s ON s.delivery_variant_id = v.id WHERE "
                  "v.product_id = p.id) FROM product p WHERE NOT p.archived "
                  "AND NOT EXISTS (SELECT 1 FROM imp_product x WHERE "
                  "x.article = p.article) ORDER BY p.id",
                  0, NULL, "missing products", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    df->missing = malloc(((size_t)PQntuples(res) + 1) * sizeof(*df->missing));
    if (!df->missing) {
        PQclear(res);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (d = 0; d < PQntuples(res); d++) {
        if (!ci->o.archive_missing)
            continue;
        if (PQgetvalue(res, d, 2)[0] == 't') {
            fprintf(stderr,
                    "omnisync: notice: product \"%s\" is missing from %s but "
                    "kept: one of its variants is a store's delivery item\n",
                    PQgetvalue(res, d, 1), ci->o.file);
            continue;
        }
        df->missing[df->nmissing++] = strtoll(PQgetvalue(res, d, 0), NULL, 10);
    }
    if (!ci->o.archive_missing && PQntuples(res) > 0)
        fprintf(stderr,
                "omnisync: notice: %d product(s) in the ledger are not in %s "
                "(left as they are; --archive-missing archives them)\n",
                PQntuples(res), ci->o.file);
    PQclear(res);
    return 0;
}

/* Products the import may change, and their snapshots before. */
static int import_before(struct catalog_import *ci, PGconn *pg,
                         struct import_diff *df, char *errstr,
                         size_t errstr_size)
{
    long long *all;
    size_t n;

    df->before_ids = query_ids(pg,
                               "SELECT p.id FROM product p JOIN imp_product x "
                               "ON x.article = p.article ORDER BY x.ord",
                               0, NULL, &df->nbefore, "existing products",
                               errstr, errstr_size);
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
    return snapshots_text(pg, df->before_ids, n, df->before, errstr,
                          errstr_size);
}

/* Groups, level by level so parents exist first. */
static int import_groups(PGconn *pg, int max_depth, char *errstr,
                         size_t errstr_size)
{
    char depth_s[16];
    const char *vals[1] = {depth_s};
    int d;

    for (d = 0; d < max_depth; d++) {
        snprintf(depth_s, sizeof(depth_s), "%d", d);
        if (q_cmd(pg,
                  "INSERT INTO product_group (parent_id, name, path) "
                  "SELECT (SELECT id FROM product_group WHERE path = "
                  "g.parent_path), g.name, g.path FROM imp_group g "
                  "WHERE g.depth = $1::int ORDER BY g.path "
                  "ON CONFLICT (path) DO NOTHING",
                  1, vals, "insert groups", errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

/* Option dictionaries (in column order) and their values. */
static int import_options(struct catalog_import *ci, PGconn *pg, char *errstr,
                          size_t errstr_size)
{
    const char *vals[1];
    size_t i;

    for (i = 0; i < ci->ncols; i++) {
        if (ci->cols[i].kind != COL_OPTION)
            continue;
        vals[0] = ci->cols[i].option;
        if (q_cmd(pg,
                  "INSERT INTO option_name (name) VALUES ($1) "
                  "ON CONFLICT (name) DO NOTHING",
                  1, vals, "insert option name", errstr, errstr_size) < 0)
            return -1;
    }
    return q_cmd(pg,
                 "INSERT INTO option_value (option_name_id, value) "
                 "SELECT DISTINCT n.id, o.value FROM imp_option o "
                 "JOIN option_name n ON n.name = o.name "
                 "ON CONFLICT (option_name_id, value) DO NOTHING",
                 0, NULL, "insert option values", errstr, errstr_size);
}

/* Products: insert new ones, update only what differs. */
static int import_products(struct catalog_import *ci, PGconn *pg, char *errstr,
                           size_t errstr_size)
{
    const char *vals[2];

    vals[0] = ci->colidx[COL_DESCRIPTION] >= 0 ? "t" : "f";
    vals[1] = ci->colidx[COL_GROUP] >= 0 ? "t" : "f";
    return q_cmd(
        pg,
        "INSERT INTO product AS p (article, name, description, "
        "group_id) SELECT x.article, x.name, coalesce(x.description, "
        "''), g.id FROM imp_product x LEFT JOIN product_group g ON "
        "g.path = x.group_path ORDER BY x.ord "
        "ON CONFLICT (article) DO UPDATE SET name = EXCLUDED.name, "
        "description = CASE WHEN $1::boolean THEN EXCLUDED.description "
        "ELSE p.description END, group_id = CASE WHEN $2::boolean THEN "
        "EXCLUDED.group_id ELSE p.group_id END, archived = false, "
        "updated_at = now() "
        "WHERE p.name IS DISTINCT FROM EXCLUDED.name "
        "OR ($1::boolean AND p.description IS DISTINCT FROM "
        "EXCLUDED.description) "
        "OR ($2::boolean AND p.group_id IS DISTINCT FROM "
        "EXCLUDED.group_id) OR p.archived",
        2, vals, "upsert products", errstr, errstr_size);
}

/* Variants; those of the file's products that the file no longer lists
 * are archived, unless they are a store's delivery item. */
static int import_variants(struct catalog_import *ci, PGconn *pg, char *errstr,
                           size_t errstr_size)
{
    const char *vals[1];
    PGresult *res;
    int d;

    vals[0] = ci->colidx[COL_BARCODE] >= 0 ? "t" : "f";
    if (q_cmd(pg,
              "INSERT INTO variant AS v (product_id, sku, barcode, position) "
              "SELECT p.id, x.sku, x.barcode, x.position FROM imp_variant x "
              "JOIN product p ON p.article = x.article ORDER BY x.ord "
              "ON CONFLICT (sku) DO UPDATE SET barcode = CASE WHEN "
              "$1::boolean THEN EXCLUDED.barcode ELSE v.barcode END, "
              "position = EXCLUDED.position, archived = false, "
              "updated_at = now() "
              "WHERE ($1::boolean AND v.barcode IS DISTINCT FROM "
              "EXCLUDED.barcode) OR v.position <> EXCLUDED.position "
              "OR v.archived",
              1, vals, "upsert variants", errstr, errstr_size) < 0)
        return -1;
    res = db_exec(pg,
                  "SELECT v.sku FROM variant v JOIN product p ON p.id = "
                  "v.product_id JOIN imp_product x ON x.article = p.article "
                  "WHERE NOT v.archived AND NOT EXISTS (SELECT 1 FROM "
                  "imp_variant iv WHERE iv.sku = v.sku) AND EXISTS (SELECT 1 "
                  "FROM store s WHERE s.delivery_variant_id = v.id)",
                  0, NULL, "delivery variants", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    for (d = 0; d < PQntuples(res); d++)
        fprintf(stderr,
                "omnisync: notice: variant \"%s\" is missing from %s but "
                "kept: it is a store's delivery item\n",
                PQgetvalue(res, d, 0), ci->o.file);
    PQclear(res);
    return q_cmd(pg,
                 "UPDATE variant v SET archived = true, updated_at = now() "
                 "FROM product p JOIN imp_product x ON x.article = p.article "
                 "WHERE v.product_id = p.id AND NOT v.archived "
                 "AND NOT EXISTS (SELECT 1 FROM imp_variant iv WHERE iv.sku = "
                 "v.sku) AND NOT EXISTS (SELECT 1 FROM store s WHERE "
                 "s.delivery_variant_id = v.id)",
                 0, NULL, "archive variants", errstr, errstr_size);
}

/* Option values of the variants, for the file's option columns. */
static int import_variant_options(struct catalog_import *ci, PGconn *pg,
                                  char *errstr, size_t errstr_size)
{
    json_t *optnames = json_array();
    const char *vals[1];
    char *js;
    size_t i;
    int rc = -1;

    for (i = 0; optnames && i < ci->ncols; i++)
        if (ci->cols[i].kind == COL_OPTION)
            json_array_append_new(optnames, json_string(ci->cols[i].option));
    js = dump_owned(optnames);
    if (!js) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    vals[0] = js;
    if (q_cmd(pg,
              "DELETE FROM variant_option vo USING variant v, imp_variant x, "
              "option_name n WHERE vo.variant_id = v.id AND v.sku = x.sku "
              "AND n.id = vo.option_name_id AND n.name IN (SELECT "
              "json_array_elements_text($1::json)) AND NOT EXISTS (SELECT 1 "
              "FROM imp_option o WHERE o.sku = x.sku AND o.name = n.name)",
              1, vals, "remove variant options", errstr, errstr_size) < 0)
        goto out;
    if (q_cmd(pg,
              "INSERT INTO variant_option AS vo (variant_id, option_name_id, "
              "option_value_id) SELECT v.id, n.id, ov.id FROM imp_option o "
              "JOIN variant v ON v.sku = o.sku "
              "JOIN option_name n ON n.name = o.name "
              "JOIN option_value ov ON ov.option_name_id = n.id "
              "AND ov.value = o.value "
              "ON CONFLICT (variant_id, option_name_id) DO UPDATE SET "
              "option_value_id = EXCLUDED.option_value_id "
              "WHERE vo.option_value_id <> EXCLUDED.option_value_id",
              0, NULL, "upsert variant options", errstr, errstr_size) < 0)
        goto out;
    rc = 0;
out:
    free(js);
    return rc;
}

/* Prices in the given list (none without --price-list). */
static int import_prices(struct catalog_import *ci, PGconn *pg,
                         const char *pl_id, char *errstr, size_t errstr_size)
{
    const char *vals[2];

    if (!pl_id)
        return 0;
    vals[0] = pl_id;
    vals[1] = ci->colidx[COL_OLD_PRICE] >= 0 ? "t" : "f";
    if (q_cmd(pg,
              "INSERT INTO price AS pr (price_list_id, variant_id, price, "
              "old_price) SELECT $1::bigint, v.id, x.price, x.old_price "
              "FROM imp_variant x JOIN variant v ON v.sku = x.sku "
              "WHERE x.price IS NOT NULL "
              "ON CONFLICT (price_list_id, variant_id) DO UPDATE SET "
              "price = EXCLUDED.price, old_price = CASE WHEN $2::boolean "
              "THEN EXCLUDED.old_price ELSE pr.old_price END, "
              "updated_at = now() "
              "WHERE pr.price <> EXCLUDED.price OR ($2::boolean AND "
              "pr.old_price IS DISTINCT FROM EXCLUDED.old_price)",
              2, vals, "upsert prices", errstr, errstr_size) < 0)
        return -1;
    return emit_price_stock(pg, pl_id, errstr, errstr_size);
}

/* Photos: change a product's set only when it differs, position by
 * position. */
static int import_photos(struct catalog_import *ci, PGconn *pg, char *errstr,
                         size_t errstr_size)
{
    if (ci->colidx[COL_PHOTOS] < 0)
        return 0;
    if (q_cmd(pg,
              "CREATE TEMP TABLE imp_photo_changed ON COMMIT DROP AS "
              "WITH want AS (SELECT p.id AS product_id, array_agg(ph.path "
              "|| ' ' || ph.sha256 ORDER BY ph.position) FILTER (WHERE "
              "ph.path IS NOT NULL) AS a FROM imp_product x JOIN product "
              "p ON p.article = x.article LEFT JOIN imp_photo ph ON "
              "ph.article = x.article GROUP BY p.id), "
              "have AS (SELECT pp.product_id, array_agg(pp.path || ' ' "
              "|| pp.sha256 ORDER BY pp.position) AS a FROM product_photo "
              "pp JOIN want USING (product_id) GROUP BY pp.product_id) "
              "SELECT want.product_id FROM want LEFT JOIN have USING "
              "(product_id) WHERE coalesce(want.a, '{}') IS DISTINCT "
              "FROM coalesce(have.a, '{}')",
              0, NULL, "compare photos", errstr, errstr_size) < 0 ||
        q_cmd(pg,
              "DELETE FROM product_photo pp WHERE pp.product_id IN (SELECT "
              "product_id FROM imp_photo_changed) AND NOT EXISTS (SELECT 1 "
              "FROM imp_photo ph JOIN product p ON p.article = ph.article "
              "WHERE p.id = pp.product_id AND ph.position = pp.position)",
              0, NULL, "remove photos", errstr, errstr_size) < 0 ||
        /* A photo keeps its row (its id) at its position, so a replaced
         * photo's upload also deletes the store's old image
         * (docs/image-uploader.md step 7). */
        q_cmd(pg,
              "UPDATE product_photo pp SET path = ph.path, sha256 = "
              "ph.sha256 FROM imp_photo ph JOIN product p ON p.article = "
              "ph.article WHERE pp.product_id = p.id AND pp.position = "
              "ph.position AND p.id IN (SELECT product_id FROM "
              "imp_photo_changed) AND (pp.path, pp.sha256) IS DISTINCT "
              "FROM (ph.path, ph.sha256)",
              0, NULL, "update photos", errstr, errstr_size) < 0 ||
        q_cmd(pg,
              "INSERT INTO product_photo (product_id, position, path, "
              "sha256) SELECT p.id, ph.position, ph.path, ph.sha256 FROM "
              "imp_photo ph JOIN product p ON p.article = ph.article "
              "WHERE p.id IN (SELECT product_id FROM imp_photo_changed) "
              "AND NOT EXISTS (SELECT 1 FROM product_photo pp WHERE "
              "pp.product_id = p.id AND pp.position = ph.position)",
              0, NULL, "insert photos", errstr, errstr_size) < 0)
        return -1;
    return 0;
}

/* Products missing from the file (--archive-missing). */
static int import_archive(const struct import_diff *df, PGconn *pg,
                          char *errstr, size_t errstr_size)
{
    const char *vals[1];
    char *js;
    int rc;

    if (!df->nmissing)
        return 0;
    js = ids_json(df->missing, df->nmissing);
    if (!js) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    vals[0] = js;
    rc = q_cmd(pg,
               "UPDATE product SET archived = true, updated_at = now() "
               "WHERE id IN (SELECT json_array_elements_text($1::json)"
               "::bigint)",
               1, vals, "archive products", errstr, errstr_size);
    free(js);
    return rc;
}

/* The writes, parents before children. */
static int import_apply(struct catalog_import *ci, PGconn *pg,
                        const char *pl_id, int max_depth,
                        const struct import_diff *df, char *errstr,
                        size_t errstr_size)
{
    if (import_groups(pg, max_depth, errstr, errstr_size) < 0 ||
        import_options(ci, pg, errstr, errstr_size) < 0 ||
        import_products(ci, pg, errstr, errstr_size) < 0 ||
        import_variants(ci, pg, errstr, errstr_size) < 0 ||
        import_variant_options(ci, pg, errstr, errstr_size) < 0 ||
        import_prices(ci, pg, pl_id, errstr, errstr_size) < 0 ||
        import_photos(ci, pg, errstr, errstr_size) < 0 ||
        import_archive(df, pg, errstr, errstr_size) < 0)
        return -1;
    return 0;
}

/* The snapshots after: the file's products, then the archived ones. */
static int import_after(PGconn *pg, struct import_diff *df, char *errstr,
                        size_t errstr_size)
{
    long long *all;
    size_t n;

    df->ids =
        query_ids(pg,
                  "SELECT p.id FROM product p JOIN imp_product x ON "
                  "x.article = p.article ORDER BY x.ord",
                  0, NULL, &df->nids, "imported products", errstr, errstr_size);
    if (!df->ids)
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
    return snapshots_text(pg, df->ids, n, df->after, errstr, errstr_size);
oom:
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
}

/* One event per product whose snapshot differs, counted in @p st. */
static int import_emit(PGconn *pg, const struct import_diff *df,
                       struct apply_stats *st, char *errstr, size_t errstr_size)
{
    size_t i, b;
    int d;

    /* before_ids is in the same order (file order, then missing), with the
     * products that did not exist left out: walk both. */
    for (i = 0, b = 0; i < df->nids + df->nmissing; i++) {
        const char *prev = NULL;
        json_t *snap;
        json_error_t jerr;

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
        snap = json_loads(df->after[i], 0, &jerr);
        if (!snap) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        d = catalog_emit_snapshot(pg, snap, errstr, errstr_size);
        json_decref(snap);
        if (d < 0)
            return -1;
        st->events++;
    }
    return 0;
}

/*
 * The writes.  Runs inside the transaction, after every check passed:
 * stage the file, snapshot what it may change, apply, snapshot again and
 * emit what differs.
 */
static int apply_catalog(struct catalog_import *ci, PGconn *pg,
                         const char *pl_id, struct apply_stats *st,
                         char *errstr, size_t errstr_size)
{
    struct import_diff df = {0};
    int max_depth = 0, rc = -1;

    if (import_stage(ci, pg, &max_depth, errstr, errstr_size) == 0 &&
        import_before(ci, pg, &df, errstr, errstr_size) == 0 &&
        import_apply(ci, pg, pl_id, max_depth, &df, errstr, errstr_size) == 0 &&
        import_after(pg, &df, errstr, errstr_size) == 0 &&
        import_emit(pg, &df, st, errstr, errstr_size) == 0)
        rc = 0;
    import_diff_free(&df);
    return rc;
}

/* Prices: unknown SKUs are bad rows; then one upsert. */
static int apply_prices(struct catalog_import *ci, PGconn *pg,
                        const char *pl_id, struct apply_stats *st, char *errstr,
                        size_t errstr_size)
{
    json_t *arr = json_array();
    PGresult *res = NULL;
    const char *vals[2];
    long long *ids = NULL;
    size_t i, n = 0;
    int r, rc = -1;

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
    if (q_cmd(pg,
              "CREATE TEMP TABLE imp_price (i int, sku text PRIMARY KEY, "
              "price numeric(14,2) NOT NULL, old_price numeric(14,2)) "
              "ON COMMIT DROP",
              0, NULL, "create staging table", errstr, errstr_size) < 0) {
        json_decref(arr);
        return -1;
    }
    if (load_json(pg,
                  "INSERT INTO imp_price SELECT * FROM json_to_recordset($1"
                  "::json) AS x(i int, sku text, price numeric, old_price "
                  "numeric)",
                  arr, "stage prices", errstr, errstr_size) < 0)
        return -1;
    res = db_exec(pg,
                  "SELECT x.i FROM imp_price x WHERE NOT EXISTS (SELECT 1 "
                  "FROM variant v WHERE v.sku = x.sku) ORDER BY x.i",
                  0, NULL, "check SKUs", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    for (r = 0; r < PQntuples(res); r++) {
        const struct imp_variant *v =
            &ci->variants[strtoll(PQgetvalue(res, r, 0), NULL, 10)];
        char q[96], msg[256];

        snprintf(msg, sizeof(msg), "unknown SKU %s",
                 qv(v->sku, strlen(v->sku), q, sizeof(q)));
        row_bad(ci, v->row, cell_of(ci, v->row, COL_SKU), COL_SKU, msg);
    }
    PQclear(res);
    res = NULL;
    if (ci->nerrs)
        return 0; /* the caller reports and rolls back */

    vals[0] = pl_id;
    vals[1] = ci->colidx[COL_OLD_PRICE] >= 0 ? "t" : "f";
    res = db_exec(pg,
                  "WITH up AS (INSERT INTO price AS pr (price_list_id, "
                  "variant_id, price, old_price) SELECT $1::bigint, v.id, "
                  "x.price, x.old_price FROM imp_price x JOIN variant v ON "
                  "v.sku = x.sku ON CONFLICT (price_list_id, variant_id) DO "
                  "UPDATE SET price = EXCLUDED.price, old_price = CASE WHEN "
                  "$2::boolean THEN EXCLUDED.old_price ELSE pr.old_price END, "
                  "updated_at = now() WHERE pr.price <> EXCLUDED.price OR "
                  "($2::boolean AND pr.old_price IS DISTINCT FROM "
                  "EXCLUDED.old_price) RETURNING pr.variant_id) "
                  "SELECT v.product_id, count(*) FROM up JOIN variant v ON "
                  "v.id = up.variant_id GROUP BY v.product_id ORDER BY 1",
                  2, vals, "upsert prices", errstr, errstr_size, NULL);
    if (!res)
        goto out;
    ids = ids_from(res, &n);
    if (!ids) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (r = 0; r < PQntuples(res); r++)
        st->changed += (size_t)strtoll(PQgetvalue(res, r, 1), NULL, 10);
    if (st->changed && emit_price_stock(pg, pl_id, errstr, errstr_size) < 0)
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
    PQclear(res);
    return rc;
}

int catalog_import_apply(struct catalog_import *ci, PGconn *pg, FILE *out,
                         char *errstr, size_t errstr_size)
{
    struct apply_stats st = {0};
    char pl_id[32];
    const char *pl = NULL;
    int64_t t0 = clock_mono_ms();
    double secs;
    int rc = CATALOG_IMPORT_FAIL, r;

    if (db_begin(pg, errstr, errstr_size) < 0)
        return CATALOG_IMPORT_FAIL;
    if (q_cmd(pg, SQL_LOCK, 0, NULL, "import lock", errstr, errstr_size) < 0)
        goto fail;
    if (ci->o.price_list) {
        r = price_list_id(pg, ci->o.price_list, pl_id, sizeof(pl_id), errstr,
                          errstr_size);
        if (r < 0)
            goto fail;
        if (r > 0) {
            rc = CATALOG_IMPORT_USAGE;
            goto fail;
        }
        pl = pl_id;
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
    if (ci->o.dry_run)
        db_rollback(pg);
    else if (db_commit(pg, errstr, errstr_size) < 0)
        return CATALOG_IMPORT_FAIL;
    secs = (double)(clock_mono_ms() - t0) / 1e3;
    if (ci->o.kind == CATALOG_IMPORT_CATALOG)
        fprintf(out,
                "catalog: %zu rows, %zu products (%zu new, %zu changed, %zu "
                "unchanged, %zu archived), %zu variants, %zu events%s\n",
                ci->nrows, st.added + st.changed + st.unchanged + st.archived,
                st.added, st.changed, st.unchanged, st.archived, ci->nvariants,
                st.events, ci->o.dry_run ? " (dry run: rolled back)" : "");
    else
        fprintf(out,
                "prices: %zu rows, %zu changed, %zu unchanged, %zu products, "
                "%zu events%s\n",
                ci->nrows, st.changed, st.unchanged, st.added, st.events,
                ci->o.dry_run ? " (dry run: rolled back)" : "");
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
