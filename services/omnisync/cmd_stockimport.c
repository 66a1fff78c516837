/*
 * cmd_stockimport — `omnisync import stock FILE --location L --mode
 * count|receipt|writeoff [--ref KEY]`: a stock file (columns sku, qty;
 * the catalog import's CSV rules, docs/import.md) applied as one batch of
 * movements (ledger/movebatch.h): one transaction, one outbox burst, all
 * or nothing, every bad row reported as FILE:LINE:COLUMN: reason.
 */
#include "cli.h"

#include "ledger/movebatch.h"
#include "lib/csv.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SI_MAX_ERRORS 100

struct si_err {
    long line, col;
    char msg[256];
};

struct si_row {
    char *sku;
    char *key;
    long line, sku_col, qty_col;
};

struct si {
    const char *file, *location, *mode, *ref;
    int dry_run, json;
    long sku_idx, qty_idx; /* header positions, -1 when missing */
    size_t ncols;
    struct si_row *rows;
    struct movebatch_item *items;
    size_t nrows, cap;
    struct si_err *errs;
    size_t nerrs, errcap;
    int oom;
};

static void si_err(struct si *s, long line, long col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void si_err(struct si *s, long line, long col, const char *fmt, ...)
{
    struct si_err *e;
    va_list ap;

    if (s->nerrs == s->errcap) {
        size_t cap = s->errcap ? 2 * s->errcap : 16;
        struct si_err *n = realloc(s->errs, cap * sizeof(*n));

        if (!n) {
            s->oom = 1;
            return;
        }
        s->errs = n;
        s->errcap = cap;
    }
    e = &s->errs[s->nerrs++];
    e->line = line;
    e->col = col;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

static int si_err_cmp(const void *a, const void *b)
{
    const struct si_err *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->col > y->col) - (x->col < y->col);
}

static void si_errs_print(struct si *s)
{
    size_t i;

    qsort(s->errs, s->nerrs, sizeof(*s->errs), si_err_cmp);
    for (i = 0; i < s->nerrs && i < SI_MAX_ERRORS; i++)
        fprintf(stderr, "%s:%ld:%ld: %s\n", s->file, s->errs[i].line,
                s->errs[i].col, s->errs[i].msg);
    if (s->nerrs > SI_MAX_ERRORS)
        fprintf(stderr, "... and %zu more errors\n", s->nerrs - SI_MAX_ERRORS);
}

/* A field's text with blanks trimmed, as a new string (NULL: no memory). */
static char *si_trimmed(const struct csv_field *f)
{
    const char *p = f->text;
    size_t len = f->len;
    char *out;

    while (len && isspace((unsigned char)*p)) {
        p++;
        len--;
    }
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    out = malloc(len + 1);
    if (out) {
        memcpy(out, p, len);
        out[len] = '\0';
    }
    return out;
}

/*
 * A quantity: digits, optionally a decimal comma or point followed by
 * zeros only ("12", "12,0", "12.000"); spaces between digit groups
 * ("1 200") are allowed.  Returns 0, or -1 with @p why.
 */
static int si_qty_parse(const char *t, long long *out, const char **why)
{
    long long v = 0;
    int digits = 0;

    for (; *t && *t != ',' && *t != '.'; t++) {
        if (*t == ' ')
            continue;
        if (!isdigit((unsigned char)*t)) {
            *why = "not a whole number";
            return -1;
        }
        if (v > MOVEBATCH_QTY_MAX) {
            *why = "too large";
            return -1;
        }
        v = v * 10 + (*t - '0');
        digits++;
    }
    if (*t)
        for (t++; *t; t++)
            if (*t != '0') {
                *why = "not a whole number";
                return -1;
            }
    if (!digits) {
        *why = "not a whole number";
        return -1;
    }
    *out = v;
    return 0;
}

/* The header row: where sku and qty are. */
static void si_header(struct si *s, const struct csv_record *rec)
{
    size_t i;
    char *h;

    s->sku_idx = s->qty_idx = -1;
    s->ncols = rec->nfields;
    for (i = 0; i < rec->nfields; i++) {
        long *idx = NULL;

        h = si_trimmed(&rec->fields[i]);
        if (!h) {
            s->oom = 1;
            return;
        }
        if (!strcasecmp(h, "sku"))
            idx = &s->sku_idx;
        else if (!strcasecmp(h, "qty"))
            idx = &s->qty_idx;
        else
            fprintf(stderr,
                    "%s:%ld:%ld: warning: unknown column \"%s\" "
                    "ignored\n",
                    s->file, rec->fields[i].line, rec->fields[i].col, h);
        if (idx && *idx >= 0)
            si_err(s, rec->fields[i].line, rec->fields[i].col,
                   "duplicate column \"%s\"", h);
        else if (idx)
            *idx = (long)i;
        free(h);
    }
    if (s->sku_idx < 0)
        si_err(s, rec->line, 1, "missing column \"sku\"");
    if (s->qty_idx < 0)
        si_err(s, rec->line, 1, "missing column \"qty\"");
}

/* Room for one more row. */
static int si_grow(struct si *s)
{
    size_t cap = s->cap ? 2 * s->cap : 256;
    struct si_row *r;
    struct movebatch_item *it;

    if (s->nrows < s->cap)
        return 0;
    r = realloc(s->rows, cap * sizeof(*r));
    if (r)
        s->rows = r;
    it = realloc(s->items, cap * sizeof(*it));
    if (it)
        s->items = it;
    if (!r || !it)
        return -1;
    s->cap = cap;
    return 0;
}

/* The item's idempotency key: REF:SKU (a row's SKU is unique in a file). */
static char *si_key(const struct si *s, const char *sku)
{
    size_t len;
    char *k;

    if (!s->ref)
        return NULL;
    len = strlen(s->ref) + strlen(sku) + 2;
    k = malloc(len);
    if (k)
        snprintf(k, len, "%s:%s", s->ref, sku);
    return k;
}

/* One record after the header.  Returns -1 when out of memory. */
static int si_row(struct si *s, const struct csv_record *rec)
{
    const struct csv_field *fs, *fq;
    struct movebatch_item *it;
    struct si_row *row;
    const char *why;
    char *qty = NULL;
    size_t i, bad;

    for (i = 0; i < rec->nfields && rec->fields[i].len == 0; i++)
        ;
    if (i == rec->nfields)
        return 0; /* blank lines and ";;" are skipped */
    if (rec->nfields != s->ncols) {
        si_err(s, rec->line, 1,
               "expected %zu fields as in the header, found %zu", s->ncols,
               rec->nfields);
        return 0;
    }
    for (i = 0; i < rec->nfields; i++)
        if (csv_utf8_check(rec->fields[i].text, rec->fields[i].len, &bad) < 0) {
            si_err(s, rec->fields[i].line, rec->fields[i].col,
                   "not UTF-8 (byte %zu)", bad + 1);
            return 0;
        }
    if (si_grow(s) < 0)
        return -1;
    fs = &rec->fields[s->sku_idx];
    fq = &rec->fields[s->qty_idx];
    row = &s->rows[s->nrows];
    it = &s->items[s->nrows];
    memset(row, 0, sizeof(*row));
    memset(it, 0, sizeof(*it));
    row->line = rec->line;
    row->sku_col = fs->col;
    row->qty_col = fq->col;
    row->sku = si_trimmed(fs);
    qty = si_trimmed(fq);
    if (!row->sku || !qty)
        goto oom;
    row->key = si_key(s, row->sku);
    if (s->ref && !row->key)
        goto oom;
    s->nrows++;
    it->kind = s->mode;
    it->location = s->location;
    it->sku = row->sku;
    it->key = row->key;
    if (!*row->sku)
        si_err(s, fs->line, fs->col, "sku: empty");
    if (si_qty_parse(qty, &it->qty, &why) < 0)
        si_err(s, fq->line, fq->col, "qty: %s: \"%s\"", why, qty);
    else if (it->qty == 0 && strcmp(s->mode, "count") != 0)
        si_err(s, fq->line, fq->col, "qty: must be positive for a %s", s->mode);
    free(qty);
    return 0;
oom:
    free(qty);
    free(row->sku);
    return -1;
}

static int si_row_cmp(const void *a, const void *b)
{
    const struct si_row *const *x = a, *const *y = b;
    int c = strcmp((*x)->sku, (*y)->sku);

    return c ? c : ((*x)->line > (*y)->line) - ((*x)->line < (*y)->line);
}

/* A SKU on two rows: the later one is bad. */
static int si_dups(struct si *s)
{
    struct si_row **by = malloc((s->nrows + 1) * sizeof(*by));
    size_t i;

    if (!by)
        return -1;
    for (i = 0; i < s->nrows; i++)
        by[i] = &s->rows[i];
    qsort(by, s->nrows, sizeof(*by), si_row_cmp);
    for (i = 1; i < s->nrows; i++)
        if (*by[i]->sku && !strcmp(by[i]->sku, by[i - 1]->sku)) {
            struct si_row *first = by[i - 1];

            si_err(s, by[i]->line, by[i]->sku_col,
                   "sku: duplicate SKU \"%s\" (first on line %ld)", by[i]->sku,
                   first->line);
            by[i] = first; /* later repeats name the first line too */
        }
    free(by);
    return 0;
}

/* Read the file.  Returns CLI_OK (row errors in s->errs), CLI_USAGE when
 * it cannot be opened, CLI_DEPENDENCY when out of memory. */
static int si_parse(struct si *s)
{
    struct csv_reader *rd;
    struct csv_record rec;
    struct csv_error cerr;
    char err[512];
    int res, have_header = 0, rc = CLI_DEPENDENCY;

    rd = csv_reader_open_file(s->file, 0, err, sizeof(err));
    if (!rd)
        return cli_err(CLI_USAGE, "import stock: %s", err);
    for (;;) {
        res = csv_reader_next(rd, &rec, &cerr);
        if (res == CSV_EOF)
            break;
        if (res == CSV_ERROR) {
            si_err(s, cerr.line, cerr.col, "%s", cerr.msg);
            if (cerr.fatal || !have_header)
                break;
            continue;
        }
        if (!have_header) {
            have_header = 1;
            si_header(s, &rec);
            if (s->nerrs)
                break; /* rows cannot be read without the columns */
            continue;
        }
        if (si_row(s, &rec) < 0)
            s->oom = 1;
        if (s->oom)
            break;
    }
    if (!have_header && !s->nerrs)
        si_err(s, 1, 1, "empty file: no header row");
    if (!s->oom && si_dups(s) < 0)
        s->oom = 1;
    rc = s->oom ? cli_err(CLI_DEPENDENCY, "import stock: out of memory")
                : CLI_OK;
    csv_reader_destroy(rd);
    return rc;
}

/* The items a batch found bad, as row errors. */
static void si_item_errs(struct si *s)
{
    size_t i;

    for (i = 0; i < s->nrows; i++) {
        const struct movebatch_item *it = &s->items[i];

        if (it->status != MOVEBATCH_INVALID)
            continue;
        si_err(s, s->rows[i].line,
               !strcmp(it->field, "qty") ? s->rows[i].qty_col
                                         : s->rows[i].sku_col,
               "%s: %s", it->field, it->error);
    }
}

static void si_summary(const struct si *s, const struct movebatch_summary *sum)
{
    long long net = 0;
    size_t i;

    for (i = 0; i < s->nrows; i++)
        if (s->items[i].status == MOVEBATCH_APPLIED)
            net += s->items[i].delta;
    if (s->json) {
        cli_json_print(json_pack(
            "{s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:b}", "location",
            s->location, "mode", s->mode, "ref", s->ref, "rows",
            (json_int_t)s->nrows, "applied", (json_int_t)sum->applied,
            "already_applied", (json_int_t)sum->duplicate, "on_hand_change",
            (json_int_t)net, "events", (json_int_t)sum->events, "dry_run",
            s->dry_run));
        return;
    }
    printf("stock %s at %s: %zu rows, %zu applied, %zu already applied, "
           "on hand %+lld, %lld events%s\n",
           s->mode, s->location, s->nrows, sum->applied, sum->duplicate, net,
           sum->events, s->dry_run ? " (dry run: rolled back)" : "");
}

/* Apply the rows as one batch.  Returns a CLI_* code. */
static int si_apply(struct si *s)
{
    struct movebatch_summary sum;
    char err[1024], sqlstate[6];
    PGconn *pg;
    long long loc;
    int rc = CLI_DEPENDENCY, res;

    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    loc = cli_id_lookup(pg, "location", s->location);
    if (loc <= 0) {
        if (loc == 0)
            rc = cli_err(CLI_USAGE, "import stock: unknown location '%s'",
                         s->location);
        goto out;
    }
    res = movebatch_apply(pg, s->items, s->nrows, s->dry_run, &sum, err,
                          sizeof(err), sqlstate);
    if (res < 0) {
        rc = cli_err(CLI_DEPENDENCY, "import stock: %s (nothing applied)", err);
        goto out;
    }
    if (res == MOVEBATCH_BAD) {
        si_item_errs(s);
        si_errs_print(s);
        rc = cli_err(CLI_USAGE, "import stock: %zu bad rows, nothing applied",
                     s->nerrs);
        goto out;
    }
    si_summary(s, &sum);
    rc = CLI_OK;
out:
    PQfinish(pg);
    return rc;
}

static void si_free(struct si *s)
{
    size_t i;

    for (i = 0; i < s->nrows; i++) {
        free(s->rows[i].sku);
        free(s->rows[i].key);
    }
    free(s->rows);
    free(s->items);
    free(s->errs);
}

static void si_usage(FILE *fp)
{
    fprintf(fp,
            "usage: omnisync import stock FILE --location L "
            "--mode count|receipt|writeoff\n"
            "                             [--ref KEY] [--dry-run] [--json]\n"
            "\n"
            "Apply a stock file (columns sku, qty; the CSV rules of "
            "docs/import.md:\n"
            "BOM, ',' or ';', a decimal comma with a zero fraction) at "
            "location L\n"
            "as one batch: one movement per row in one transaction, all or "
            "nothing,\n"
            "every bad row reported as FILE:LINE:COLUMN: reason.\n"
            "  count     sets on hand to qty; the movement records the "
            "difference\n"
            "  receipt   on hand += qty (qty > 0)\n"
            "  writeoff  on hand -= qty (qty > 0)\n"
            "  --ref KEY the file's idempotency key: importing it again "
            "under the\n"
            "            same KEY applies nothing (each row's key is "
            "KEY:SKU)\n");
}

/* Options of `import stock`.  Returns CLI_OK or an exit code to return. */
static int si_args(struct si *s, int argc, char **argv)
{
    const char *pos[1];
    int npos, rc, help = 0;
    const struct cli_opt opts[] = {
        {"--location", &s->location, NULL},
        {"--mode", &s->mode, NULL},
        {"--ref", &s->ref, NULL},
        {"--dry-run", NULL, &s->dry_run},
        {"--json", NULL, &s->json},
        {"--help", NULL, &help},
        {NULL, NULL, NULL},
    };

    rc =
        cli_args_parse("import stock", argc - 1, argv + 1, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (help) {
        si_usage(stdout);
        return -1;
    }
    if (npos != 1)
        return cli_err(CLI_USAGE, "import stock: FILE is required");
    s->file = strcmp(pos[0], "-") ? pos[0] : CSV_STDIN;
    if (!s->location || !*s->location)
        return cli_err(CLI_USAGE, "import stock: --location L is required");
    if (!s->mode || (strcmp(s->mode, "count") && strcmp(s->mode, "receipt") &&
                     strcmp(s->mode, "writeoff")))
        return cli_err(CLI_USAGE,
                       "import stock: --mode count, receipt or writeoff is "
                       "required");
    if (s->ref && !*s->ref)
        return cli_err(CLI_USAGE, "import stock: --ref is empty");
    return CLI_OK;
}

/**
 * @brief `omnisync import stock FILE ...` (argv[0] is "import").
 * @returns CLI_OK, CLI_USAGE (bad rows or usage) or CLI_DEPENDENCY.
 */
int cmd_import_stock(int argc, char **argv)
{
    struct si s;
    int rc;

    memset(&s, 0, sizeof(s));
    rc = si_args(&s, argc, argv);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    rc = si_parse(&s);
    if (rc == CLI_OK && s.nerrs) {
        si_errs_print(&s);
        rc = cli_err(CLI_USAGE, "import stock: %zu bad rows, nothing applied",
                     s.nerrs);
    } else if (rc == CLI_OK) {
        rc = si_apply(&s);
    }
    si_free(&s);
    return rc;
}
