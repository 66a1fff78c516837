#include "catput.h"

#include "ledger/catalog_import.h"
#include "ledger/clients.h"
#include "lib/csv.h"
#include "lib/db.h"
#include "lib/hash.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATPUT_ROUTE "catalog"

/* The import's columns the API fills, in this order, then one
 * "option:<Name>" column per option name of the batch. */
enum catput_col {
    CP_ARTICLE,
    CP_NAME,
    CP_GROUP,
    CP_DESCRIPTION,
    CP_SKU,
    CP_BARCODE,
    CP_PRICE,
    CP_OLD_PRICE,
    CP_FIXED
};

static const char *const catput_names[CP_FIXED] = {
    "article", "name",    "group", "description",
    "sku",     "barcode", "price", "old_price"};

/* Product-level columns (an error there names no variant). */
#define CATPUT_PRODUCT_COL(c) ((c) <= CP_DESCRIPTION)

/* Where a row came from. */
struct catput_where {
    size_t product, variant;
    char money[2][32]; /* price, old_price given as numbers */
};

/* A batch turned into the import's records. */
struct catput_batch {
    json_t *errors;              /* [{"index", "variant"?, "field", "error"}] */
    json_t *options;             /* option name -> column index */
    json_t *articles;            /* article -> product index */
    json_t *skus;                /* sku -> [product index, variant index] */
    int has[CP_FIXED];           /* the column is in the batch */
    int col[CP_FIXED];           /* its index, -1 when absent */
    size_t nfixed, ncols, nrows; /* columns: fixed ones, all; rows */
    char **headers;              /* ncols */
    struct csv_field *fields;    /* (1 + nrows) * ncols */
    struct csv_record *recs;     /* 1 + nrows */
    struct catput_where *where;  /* nrows */
};

static void catput_bad(struct catput_batch *b, size_t i, long long v,
                       const char *field, const char *msg)
{
    json_t *e = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i, "field",
                          field, "error", msg);

    if (e && v >= 0)
        json_object_set_new(e, "variant", json_integer(v));
    json_array_append_new(b->errors, e);
}

/* A string member (or absent / null when @p optional); else an error. */
static int catput_str(struct catput_batch *b, const json_t *o, size_t i,
                      long long v, const char *name, int optional)
{
    const json_t *x = json_object_get(o, name);

    if ((!x || json_is_null(x)) && optional)
        return 0;
    if (json_is_string(x))
        return 0;
    catput_bad(b, i, v, name,
               optional ? "must be a string" : "required: a string");
    return -1;
}

/* A SKU given twice in the batch: named by its first item (the import
 * would name a row). */
static void catput_sku_seen(struct catput_batch *b, size_t i, size_t v,
                            const char *sku)
{
    const json_t *first = json_object_get(b->skus, sku);
    char msg[96];

    if (!*sku)
        return; /* the import says "empty" */
    if (first) {
        snprintf(msg, sizeof(msg),
                 "duplicate SKU (first at index %lld, variant %lld)",
                 (long long)json_integer_value(json_array_get(first, 0)),
                 (long long)json_integer_value(json_array_get(first, 1)));
        catput_bad(b, i, (long long)v, "sku", msg);
        return;
    }
    json_object_set_new(b->skus, sku,
                        json_pack("[II]", (json_int_t)i, (json_int_t)v));
}

/* Check variant @p v of product @p i (the types; the import checks the
 * values); note which optional columns and options it uses. */
static void catput_variant(struct catput_batch *b, size_t i, size_t v,
                           const json_t *o)
{
    static const char *const money[] = {"price", "old_price"};
    const json_t *opts, *x;
    const char *name;
    char field[300];
    size_t k;

    if (!json_is_object(o)) {
        catput_bad(b, i, (long long)v, "", "must be an object");
        return;
    }
    if (catput_str(b, o, i, (long long)v, "sku", 0) == 0)
        catput_sku_seen(b, i, v, json_string_value(json_object_get(o, "sku")));
    if (catput_str(b, o, i, (long long)v, "barcode", 1) == 0 &&
        json_is_string(json_object_get(o, "barcode")))
        b->has[CP_BARCODE] = 1;
    for (k = 0; k < 2; k++) {
        x = json_object_get(o, money[k]);
        if (!x || json_is_null(x))
            continue;
        if (!json_is_string(x) && !json_is_number(x))
            catput_bad(b, i, (long long)v, money[k],
                       "must be a string or a number");
        b->has[CP_PRICE + k] = 1;
    }
    opts = json_object_get(o, "options");
    if (opts && !json_is_null(opts) && !json_is_object(opts)) {
        catput_bad(b, i, (long long)v, "options", "must be an object");
        return;
    }
    json_object_foreach((json_t *)opts, name, x)
    {
        snprintf(field, sizeof(field), "options.%s", name);
        if (!json_is_string(x))
            catput_bad(b, i, (long long)v, field, "must be a string");
        else if (!json_object_get(b->options, name))
            json_object_set_new(
                b->options, name,
                json_integer((json_int_t)json_object_size(b->options)));
    }
}

/* Check product @p i's types and count its variants into b->nrows. */
static void catput_product(struct catput_batch *b, size_t i, const json_t *p)
{
    const json_t *vars, *v;
    const char *art;
    char msg[64];
    size_t j;

    if (!json_is_object(p)) {
        catput_bad(b, i, -1, "", "must be an object");
        return;
    }
    catput_str(b, p, i, -1, "name", 0);
    if (catput_str(b, p, i, -1, "article", 0) == 0) {
        art = json_string_value(json_object_get(p, "article"));
        if (json_object_get(b->articles, art)) {
            snprintf(msg, sizeof(msg),
                     "duplicate article (first at index %lld)",
                     (long long)json_integer_value(
                         json_object_get(b->articles, art)));
            catput_bad(b, i, -1, "article", msg);
        } else {
            json_object_set_new(b->articles, art, json_integer((json_int_t)i));
        }
    }
    if (catput_str(b, p, i, -1, "group", 1) == 0 &&
        json_is_string(json_object_get(p, "group")))
        b->has[CP_GROUP] = 1;
    if (catput_str(b, p, i, -1, "description", 1) == 0 &&
        json_is_string(json_object_get(p, "description")))
        b->has[CP_DESCRIPTION] = 1;
    if (json_object_get(p, "photos"))
        catput_bad(b, i, -1, "photos",
                   "not taken by the API: use omnisync import catalog");
    vars = json_object_get(p, "variants");
    if (!json_is_array(vars) || !json_array_size(vars)) {
        catput_bad(b, i, -1, "variants", "required: a non-empty array");
        return;
    }
    json_array_foreach(vars, j, v)
    {
        catput_variant(b, i, j, v);
    }
    b->nrows += json_array_size(vars);
}

/* One field of the records: line is the row's (header 1), col the
 * column's, both 1-based. */
static void catput_field(struct catput_batch *b, size_t rec, size_t col,
                         const char *text)
{
    struct csv_field *f = &b->fields[rec * b->ncols + col];

    f->text = text ? text : "";
    f->len = strlen(f->text);
    f->line = (long)rec + 1;
    f->col = (long)col + 1;
}

/* A money value as the import's text: a string as given, a number in
 * @p buf. */
static const char *catput_money(const json_t *x, char buf[32])
{
    if (json_is_integer(x))
        snprintf(buf, 32, "%lld", (long long)json_integer_value(x));
    else if (json_is_real(x))
        snprintf(buf, 32, "%.2f", json_real_value(x));
    else
        return json_string_value(x);
    return buf;
}

/* Variant @p v of product @p p into record @p rec (row rec - 1). */
static void catput_row(struct catput_batch *b, size_t rec, const json_t *p,
                       size_t pi, const json_t *v, size_t vi)
{
    struct catput_where *w = &b->where[rec - 1];
    const json_t *opts = json_object_get(v, "options");
    const char *name;
    size_t c, k;
    json_t *x;

    w->product = pi;
    w->variant = vi;
    for (c = 0; c < CP_FIXED; c++) {
        if (b->col[c] < 0)
            continue;
        if (CATPUT_PRODUCT_COL(c))
            x = vi == 0 || c == CP_ARTICLE ? json_object_get(p, catput_names[c])
                                           : NULL;
        else
            x = json_object_get(v, catput_names[c]);
        k = c == CP_OLD_PRICE;
        catput_field(b, rec, (size_t)b->col[c],
                     c >= CP_PRICE && x ? catput_money(x, w->money[k])
                                        : json_string_value(x));
    }
    for (c = b->nfixed; c < b->ncols; c++)
        catput_field(b, rec, c, NULL);
    json_object_foreach((json_t *)opts, name, x)
    {
        c = (size_t)json_integer_value(json_object_get(b->options, name));
        catput_field(b, rec, b->nfixed + c, json_string_value(x));
    }
}

/* The header: the fixed columns the batch uses, then its options. */
static int catput_header(struct catput_batch *b)
{
    const char *name;
    json_t *x;
    size_t c, n = 0;

    b->has[CP_ARTICLE] = b->has[CP_NAME] = b->has[CP_SKU] = 1;
    for (c = 0; c < CP_FIXED; c++)
        b->col[c] = b->has[c] ? (int)n++ : -1;
    b->nfixed = n;
    b->ncols = n + json_object_size(b->options);
    b->headers = calloc(b->ncols, sizeof(*b->headers));
    b->fields = calloc((1 + b->nrows) * b->ncols, sizeof(*b->fields));
    if (!b->headers || !b->fields)
        return -1;
    for (c = 0; c < CP_FIXED; c++)
        if (b->col[c] >= 0)
            b->headers[b->col[c]] = strdup(catput_names[c]);
    json_object_foreach(b->options, name, x)
    {
        size_t len = strlen(name) + 8;

        c = n + (size_t)json_integer_value(x);
        b->headers[c] = malloc(len);
        if (b->headers[c])
            snprintf(b->headers[c], len, "option:%s", name);
    }
    for (c = 0; c < b->ncols; c++) {
        if (!b->headers[c])
            return -1;
        catput_field(b, 0, c, b->headers[c]);
    }
    return 0;
}

/* The records of the whole batch; -1 when out of memory. */
static int catput_records(struct catput_batch *b, const json_t *products)
{
    const json_t *p, *v;
    size_t i, j, rec = 1;

    b->recs = calloc(1 + b->nrows, sizeof(*b->recs));
    b->where = calloc(b->nrows ? b->nrows : 1, sizeof(*b->where));
    if (!b->recs || !b->where || catput_header(b) < 0)
        return -1;
    json_array_foreach(products, i, p)
    {
        json_array_foreach(json_object_get(p, "variants"), j, v)
        {
            catput_row(b, rec, p, i, v, j);
            rec++;
        }
    }
    for (i = 0; i <= b->nrows; i++) {
        b->recs[i].line = (long)i + 1;
        b->recs[i].nfields = b->ncols;
        b->recs[i].fields = &b->fields[i * b->ncols];
    }
    return 0;
}

/* Is column @p col product-level (an error there names no variant)? */
static int catput_col_product(const struct catput_batch *b, size_t col)
{
    size_t c;

    for (c = 0; c < CP_FIXED; c++)
        if (b->col[c] == (int)col)
            return CATPUT_PRODUCT_COL(c);
    return 0;
}

/* Error @p e (of row line - 2) as the API's: row -> product and variant,
 * column -> field, the message without its "column: " prefix. */
static void catput_import_error(struct catput_batch *b,
                                const struct catalog_import_error *e)
{
    const struct catput_where *w = &b->where[e->line - 2];
    size_t col = (size_t)e->col - 1;
    const char *msg = e->msg, *h = b->headers[col];
    long long v = catput_col_product(b, col) ? -1 : (long long)w->variant;
    const json_t *x;
    char field[300];
    size_t i;

    if (!strncmp(msg, h, strlen(h)) && !strncmp(msg + strlen(h), ": ", 2))
        msg += strlen(h) + 2;
    if (!strncmp(h, "option:", 7))
        snprintf(field, sizeof(field), "options.%s", h + 7);
    else
        snprintf(field, sizeof(field), "%s", h);
    /* The article is on every row: its error once per product. */
    /* Errors come in row order: this product's are the last ones. */
    for (i = json_array_size(b->errors); v < 0 && i > 0; i--) {
        x = json_array_get(b->errors, i - 1);
        if ((size_t)json_integer_value(json_object_get(x, "index")) !=
            w->product)
            break;
        if (!json_object_get(x, "variant") &&
            !strcmp(json_string_value(json_object_get(x, "field")), field) &&
            !strcmp(json_string_value(json_object_get(x, "error")), msg))
            return;
    }
    catput_bad(b, w->product, v, field, msg);
}

/* The import's errors as the API's. */
static void catput_import_errors(struct catput_batch *b,
                                 struct catalog_import *ci)
{
    const struct catalog_import_error *e;
    size_t i, n = catalog_import_error_count(ci);

    for (i = 0; i < n; i++) {
        e = catalog_import_error_get(ci, i);
        if (e->line < 2 || (size_t)e->line > b->nrows + 1 || e->col < 1 ||
            (size_t)e->col > b->ncols)
            catput_bad(b, 0, -1, "", e->msg);
        else
            catput_import_error(b, e);
    }
}

/* What the hook records (the before_commit of the import). */
struct catput_hook {
    const struct catput_req *r;
    struct catalog_import *ci;
    const char *sha;
    json_t *answer; /* set by the hook */
};

/* The 200 answer from the import's summary. */
static json_t *catput_answer(struct catalog_import *ci, const char *key)
{
    json_t *s = catalog_import_summary(ci), *a;

    if (!s)
        return NULL;
    a = json_pack(
        "{s:O, s:O, s:O, s:O, s:O, s:O}", "products",
        json_object_get(s, "products"), "new", json_object_get(s, "new"),
        "changed", json_object_get(s, "changed"), "unchanged",
        json_object_get(s, "unchanged"), "variants",
        json_object_get(s, "variants"), "events", json_object_get(s, "events"));
    if (a && key)
        json_object_set_new(a, "key", json_string(key));
    json_decref(s);
    return a;
}

/* Inside the import's transaction: the answer, and the key with it. */
static int catput_before_commit(void *arg, PGconn *pg, char *errstr,
                                size_t errstr_size)
{
    struct catput_hook *hk = arg;
    struct clients_request rq = {hk->r->client, CATPUT_ROUTE, hk->r->key};
    char *text;
    int rc;

    hk->answer = catput_answer(hk->ci, hk->r->key);
    if (!hk->answer) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (!hk->r->key)
        return 0;
    text = json_dumps(hk->answer, JSON_COMPACT);
    if (!text) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    rc = clients_request_save(pg, &rq, hk->sha, 200, text, errstr, errstr_size);
    free(text);
    if (rc == 0)
        snprintf(errstr, errstr_size, "key recorded by another request");
    return rc == 1 ? 0 : -1;
}

/* A repeat of a recorded key: its first answer (1), 409 for another body,
 * 0 when the key is new, -1 on a ledger failure. */
static int catput_repeat(PGconn *pg, const struct catput_req *r,
                         const char *sha, unsigned *status, json_t **answer)
{
    struct clients_request rq = {r->client, CATPUT_ROUTE, r->key};
    char first[65], err[512], *text = NULL;
    int found;

    if (!r->key)
        return 0;
    found =
        clients_request_find(pg, &rq, first, status, &text, err, sizeof(err));
    if (found < 0)
        log_warn("api: catalog: %s", err);
    if (found != 1)
        return found;
    if (strcmp(first, sha)) {
        *status = 409;
        *answer = json_pack("{s:s}", "error",
                            "this idempotency key was used for another body");
    } else {
        *answer = json_loads(text, 0, NULL);
    }
    free(text);
    return 1;
}

/* Parse and apply the batch's records through the import.  Returns the
 * HTTP status. */
static unsigned catput_apply(PGconn *pg, const struct catput_req *r,
                             struct catput_batch *b, const char *sha,
                             json_t **answer)
{
    struct catalog_import_opts o;
    struct catput_hook hk = {r, NULL, sha, NULL};
    const json_t *pl = json_object_get(r->root, "price_list");
    char err[1024];
    unsigned status = 500;
    int rc;

    memset(&o, 0, sizeof(o));
    o.kind = CATALOG_IMPORT_CATALOG;
    o.file = "PUT /v1/catalog";
    o.photos_dir = "/";
    o.price_list = json_string_value(pl);
    o.before_commit = catput_before_commit;
    o.before_commit_arg = &hk;
    hk.ci = catalog_import_new(&o, err, sizeof(err));
    if (!hk.ci)
        goto fail;
    rc = catalog_import_parse_records(hk.ci, b->recs, 1 + b->nrows, err,
                                      sizeof(err));
    if (rc == CATALOG_IMPORT_OK && !catalog_import_error_count(hk.ci))
        rc = catalog_import_apply(hk.ci, pg, NULL, err, sizeof(err));
    if (catalog_import_error_count(hk.ci) || (rc == CATALOG_IMPORT_USAGE)) {
        catput_import_errors(b, hk.ci);
        if (!json_array_size(b->errors))
            catput_bad(b, 0, -1, "price_list", err);
        status = 422;
        *answer =
            json_pack("{s:s, s:O}", "error", "invalid items: nothing applied",
                      "errors", b->errors);
        goto out;
    }
    if (rc == CATALOG_IMPORT_OK) {
        status = 200;
        *answer = json_incref(hk.answer);
        goto out;
    }
fail:
    if (catput_repeat(pg, r, sha, &status, answer) == 1)
        goto out; /* the same key committed meanwhile */
    log_warn("api: client %s: catalog: %s", r->client, err);
    status = db_conn_lost(pg) ? 503 : 500;
    *answer = json_pack("{s:s}", "error",
                        "the ledger failed the batch: nothing applied");
out:
    json_decref(hk.answer);
    catalog_import_destroy(hk.ci);
    return status;
}

/* The checks that need no ledger; 0, or the status with @p answer. */
static unsigned catput_check(const struct catput_req *r, struct catput_batch *b,
                             json_t **answer)
{
    const json_t *products = json_object_get(r->root, "products"), *p;
    const json_t *pl = json_object_get(r->root, "price_list");
    char msg[128];
    size_t i;

    if (!json_is_array(products)) {
        *answer = json_pack("{s:s}", "error",
                            "body must be an object with an array "
                            "\"products\"");
        return 400;
    }
    json_array_foreach(products, i, p)
    {
        catput_product(b, i, p);
    }
    if (json_array_size(products) > (size_t)r->max_items ||
        b->nrows > (size_t)r->max_items) {
        snprintf(msg, sizeof(msg), "more than %lld items in one batch",
                 r->max_items);
        *answer = json_pack("{s:s}", "error", msg);
        return 413;
    }
    if (pl && !json_is_null(pl) && !json_is_string(pl))
        catput_bad(b, 0, -1, "price_list", "must be a string");
    else if ((b->has[CP_PRICE] || b->has[CP_OLD_PRICE]) && !json_is_string(pl))
        catput_bad(b, 0, -1, "price_list",
                   "required when a variant has a price");
    if (json_array_size(b->errors)) {
        *answer =
            json_pack("{s:s, s:O}", "error", "invalid items: nothing applied",
                      "errors", b->errors);
        return 422;
    }
    return 0;
}

static void catput_batch_clear(struct catput_batch *b)
{
    size_t c;

    for (c = 0; b->headers && c < b->ncols; c++)
        free(b->headers[c]);
    free(b->headers);
    free(b->fields);
    free(b->recs);
    free(b->where);
    json_decref(b->errors);
    json_decref(b->options);
    json_decref(b->articles);
    json_decref(b->skus);
}

unsigned catput_put(PGconn *pg, const struct catput_req *r, json_t **answer)
{
    struct catput_batch b;
    char sha[HASH_SHA256_HEX_LEN + 1];
    unsigned status;
    int rep;

    memset(&b, 0, sizeof(b));
    b.errors = json_array();
    b.options = json_object();
    b.articles = json_object();
    b.skus = json_object();
    hash_sha256_hex(r->body, r->body_len, sha);
    if (!b.errors || !b.options || !b.articles || !b.skus) {
        status = 500;
        *answer = json_pack("{s:s}", "error", "out of memory");
        goto out;
    }
    rep = catput_repeat(pg, r, sha, &status, answer);
    if (rep != 0) {
        if (rep < 0) {
            status = 503;
            *answer = json_pack("{s:s}", "error", "ledger unavailable");
        }
        goto out;
    }
    status = catput_check(r, &b, answer);
    if (status)
        goto out;
    if (catput_records(&b, json_object_get(r->root, "products")) < 0) {
        status = 500;
        *answer = json_pack("{s:s}", "error", "out of memory");
        goto out;
    }
    status = catput_apply(pg, r, &b, sha, answer);
out:
    catput_batch_clear(&b);
    return status;
}
