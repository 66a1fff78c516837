#include "cli.h"

#include "ledger/catalog.h"
#include "ledger/ledger.h"
#include "ledger/stores.h"
#include "lib/cfg.h"
#include "lib/db.h"
#include "lib/secret.h"
#include "store/budget.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cfg_opt cli_opts[] = {
    CFG_ROW_PG_DSN(struct cli_cfg, pg_dsn, 0),
    CFG_ROW_KAFKA_BOOTSTRAP(struct cli_cfg, kafka_bootstrap, 0),
    CFG_ROW_REDIS_ADDR(struct cli_cfg, redis_addr, NULL, 0),
    CFG_ROW_SECRET_KEY(struct cli_cfg, secret_key),
    {"sql.dir", CFG_STR, NULL, 0, 0, 0, offsetof(struct cli_cfg, sql_dir),
     "migrations directory of db migrate (unset: <dir of the binary>/"
     "../deploy/sql when it exists, else /usr/share/omnisync/sql)"},
    {"import.photo_max_bytes", CFG_INT, "10485760", 1, 1073741824LL, 0,
     offsetof(struct cli_cfg, photo_max_bytes),
     "largest photo file import catalog (and db migrate's backfill) reads; "
     "a larger one is a bad row"},
    CFG_ROW_LOG_LEVEL(struct cli_cfg, log_level, "warn"),
    {NULL},
};

/* Filled once by cli_config_load(), before any command runs. */
static struct cli_cfg cli_settings;

const struct cfg_opt *cli_cfg_table(void)
{
    return cli_opts;
}

struct cfg *cli_config_load(int argc, char **argv, int *argi)
{
    return cfg_load_head(cli_opts, &cli_settings, "omnisync", argc, argv, argi);
}

const struct cli_cfg *cli_config(void)
{
    return &cli_settings;
}

PGconn *cli_pg(void)
{
    char err[512];
    PGconn *pg =
        db_connect(cli_settings.pg_dsn, "omnisync-cli", err, sizeof(err));

    if (!pg)
        fprintf(stderr, "omnisync: %s\n", err);
    return pg;
}

int cli_secret_key(unsigned char key[SECRET_KEY_BYTES], char *errstr,
                   size_t errstr_size)
{
    return secret_key_load(cli_settings.secret_key, key, errstr, errstr_size);
}

int cli_err(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("omnisync: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_is_help(const char *arg)
{
    return arg && (!strcmp(arg, "-h") || !strcmp(arg, "--help"));
}

/* "usage: omnisync <synopsis>": the usage text up to its description (the
 * first line indented by exactly two spaces). */
static void cli_synopsis(FILE *fp, const char *usage)
{
    const char *p = usage, *nl;

    fputs("usage: omnisync ", fp);
    for (;;) {
        nl = strchr(p, '\n');
        fprintf(fp, "%.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
        if (!nl || (nl[1] == ' ' && nl[2] == ' ' && nl[3] != ' '))
            break;
        p = nl + 1;
    }
}

/* Every subcommand's usage, each line indented, a blank line between. */
static void cli_subs_print(FILE *fp, const struct cli_sub *subs)
{
    const struct cli_sub *s;
    const char *p, *nl;

    fprintf(fp, "usage:\n");
    for (s = subs; s->name; s++) {
        fprintf(fp, "%s  omnisync ", s == subs ? "" : "\n");
        for (p = s->usage;; p = nl + 1) {
            nl = strchr(p, '\n');
            fprintf(fp, "%.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
            if (!nl)
                break;
            fputs("  ", fp);
        }
    }
}

int cli_sub_run(const struct cli_sub *subs, int argc, char **argv)
{
    const struct cli_sub *s;
    int i, rc;

    if (argc < 2 || cli_is_help(argv[1])) {
        if (argc < 2)
            cli_err(CLI_USAGE, "%s: a subcommand is required", argv[0]);
        cli_subs_print(argc < 2 ? stderr : stdout, subs);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (s = subs; s->name; s++)
        if (!strcmp(argv[1], s->name))
            break;
    if (!s->name) {
        cli_err(CLI_USAGE, "%s: unknown subcommand '%s'", argv[0], argv[1]);
        cli_subs_print(stderr, subs);
        return CLI_USAGE;
    }
    for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: omnisync %s\n", s->usage);
            return CLI_OK;
        }
    }
    rc = s->fn(argc - 1, argv + 1);
    if (rc == CLI_USAGE)
        cli_synopsis(stderr, s->usage);
    return rc;
}

int cli_args_parse(const char *cmd, int argc, char **argv,
                   const struct cli_opt *opts, const char **pos, int max_pos,
                   int *npos)
{
    const struct cli_opt *o;
    const char *arg, *eq, *val;
    size_t nlen;
    int i, only_pos = 0;

    *npos = 0;
    for (i = 1; i < argc; i++) {
        arg = argv[i];
        if (!only_pos && !strcmp(arg, "--")) {
            only_pos = 1;
            continue;
        }
        if (only_pos || strncmp(arg, "--", 2) != 0) {
            if (*npos >= max_pos)
                return cli_err(CLI_USAGE, "%s: unexpected argument '%s'", cmd,
                               arg);
            pos[(*npos)++] = arg;
            continue;
        }
        eq = strchr(arg, '=');
        nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        for (o = opts; o && o->name; o++)
            if (strlen(o->name) == nlen && !strncmp(o->name, arg, nlen))
                break;
        if (!o || !o->name)
            return cli_err(CLI_USAGE, "%s: unknown option '%.*s'", cmd,
                           (int)nlen, arg);
        if (o->flag) {
            if (eq)
                return cli_err(CLI_USAGE, "%s: option %s takes no value", cmd,
                               o->name);
            *o->flag = 1;
            continue;
        }
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_err(CLI_USAGE, "%s: option %s needs a value", cmd,
                               o->name);
            val = argv[++i];
        }
        *o->val = val;
    }
    return CLI_OK;
}

int cli_qty_parse(const char *s, int allow_zero, long long *out)
{
    long long v;
    const char *p;

    if (!s || !*s)
        return -1;
    for (p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    if (cfg_parse_ll(s, &v) < 0 || v < (allow_zero ? 0 : 1) || v > CLI_QTY_MAX)
        return -1;
    *out = v;
    return 0;
}

int cli_code_ok(const char *s)
{
    const unsigned char *p;

    if (!s || !*s)
        return 0;
    for (p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == ',' || *p == ':')
            return 0;
    return 1;
}

int cli_code_name_check(const char *cmd, const char *code, const char *name)
{
    if (!cli_code_ok(code))
        return cli_err(CLI_USAGE, "%s: bad code '%s' (no spaces, ',' or ':')",
                       cmd, code);
    if (strlen(code) > CLI_CODE_MAX)
        return cli_err(CLI_USAGE, "%s: code longer than %d bytes", cmd,
                       CLI_CODE_MAX);
    if (name && !*name)
        return cli_err(CLI_USAGE, "%s: --name is empty", cmd);
    if (name && strlen(name) > CLI_NAME_MAX)
        return cli_err(CLI_USAGE, "%s: --name longer than %d bytes", cmd,
                       CLI_NAME_MAX);
    return CLI_OK;
}

struct cli_table {
    size_t ncols, nrows, cap;
    const char *const *headers;
    char **cells; /* nrows * ncols */
};

struct cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
    struct cli_table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->ncols = ncols;
    t->headers = headers;
    return t;
}

int cli_table_row(struct cli_table *t, const char *const *cells)
{
    char **n;
    size_t i;

    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;

        n = realloc(t->cells, cap * t->ncols * sizeof(*n));
        if (!n)
            return -1;
        t->cells = n;
        t->cap = cap;
    }
    for (i = 0; i < t->ncols; i++) {
        t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
        if (!t->cells[t->nrows * t->ncols + i]) {
            while (i--)
                free(t->cells[t->nrows * t->ncols + i]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

/* Display width of UTF-8 text: one column per code point. */
static size_t cli_width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

static void cli_table_line(const struct cli_table *t, const size_t *widths,
                           const char *const *cells)
{
    size_t i, w, last = 0;

    /* No trailing blanks: stop after the last non-empty cell. */
    for (i = 0; i < t->ncols; i++)
        if (*cells[i])
            last = i;
    for (i = 0; i <= last; i++) {
        fputs(cells[i], stdout);
        if (i == last)
            break;
        for (w = cli_width(cells[i]); w < widths[i] + 2; w++)
            fputc(' ', stdout);
    }
    fputc('\n', stdout);
}

void cli_table_print(const struct cli_table *t)
{
    size_t *widths = calloc(t->ncols, sizeof(*widths));
    size_t r, i, w;

    if (!widths)
        return;
    for (i = 0; i < t->ncols; i++)
        widths[i] = cli_width(t->headers[i]);
    for (r = 0; r < t->nrows; r++)
        for (i = 0; i < t->ncols; i++) {
            w = cli_width(t->cells[r * t->ncols + i]);
            if (w > widths[i])
                widths[i] = w;
        }
    cli_table_line(t, widths, t->headers);
    for (r = 0; r < t->nrows; r++)
        cli_table_line(t, widths, (const char *const *)&t->cells[r * t->ncols]);
    free(widths);
}

void cli_table_destroy(struct cli_table *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

int cli_json_print(json_t *root)
{
    int rc = CLI_DEPENDENCY;

    if (!root)
        return cli_err(CLI_DEPENDENCY, "out of memory building JSON");
    if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
        fputc('\n', stdout);
        rc = CLI_OK;
    }
    json_decref(root);
    return rc;
}

/* cli_id_lookup()'s lookups: the owning module's find by code. */
static int cli_find_location(PGconn *pg, const char *code, long long *id,
                             char *err, size_t err_size)
{
    return ledger_location_find(pg, code, id, NULL, 0, err, err_size);
}

static int cli_find_price_list(PGconn *pg, const char *code, long long *id,
                               char *err, size_t err_size)
{
    return catalog_price_list_find(pg, code, id, err, err_size);
}

static int cli_find_variant(PGconn *pg, const char *sku, long long *id,
                            char *err, size_t err_size)
{
    return catalog_variant_find(pg, sku, id, err, err_size, NULL);
}

long long cli_id_lookup(PGconn *pg, const char *table, const char *value)
{
    static const struct {
        const char *table;
        int (*find)(PGconn *pg, const char *value, long long *id, char *err,
                    size_t err_size);
    } q[] = {
        {"location", cli_find_location},
        {"price_list", cli_find_price_list},
        {"variant", cli_find_variant},
        {"store", stores_find},
    };
    char err[512];
    long long id = 0;
    size_t i;
    int found;

    for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
        if (!strcmp(q[i].table, table))
            break;
    if (i == sizeof(q) / sizeof(q[0])) {
        cli_err(CLI_DEPENDENCY, "internal: no lookup for table %s", table);
        return -1;
    }
    found = q[i].find(pg, value, &id, err, sizeof(err));
    if (found < 0) {
        cli_err(CLI_DEPENDENCY, "%s", err);
        return -1;
    }
    return found ? id : 0;
}

int cli_print_result(const PGresult *res, size_t ncols,
                     const char *const *names, const char *types, int as_json)
{
    const char *cells[32];
    struct cli_table *t = NULL;
    json_t *arr = NULL, *o, *v;
    int i, rc = CLI_DEPENDENCY;
    size_t j;

    if (ncols > sizeof(cells) / sizeof(cells[0]))
        return CLI_DEPENDENCY;
    if (as_json) {
        arr = json_array();
        for (i = 0; arr && i < PQntuples(res); i++) {
            o = json_object();
            for (j = 0; o && j < ncols; j++) {
                const char *s = PQgetvalue(res, i, (int)j);

                if (types[j] == 'n' && PQgetisnull(res, i, (int)j))
                    v = json_null();
                else if (types[j] == 'i')
                    v = json_integer(strtoll(s, NULL, 10));
                else
                    v = json_string(s);
                json_object_set_new(o, names[j], v);
            }
            json_array_append_new(arr, o);
        }
        return cli_json_print(arr);
    }
    t = cli_table_new(ncols, names);
    if (!t)
        return CLI_DEPENDENCY;
    for (i = 0; i < PQntuples(res); i++) {
        for (j = 0; j < ncols; j++)
            cells[j] = PQgetvalue(res, i, (int)j);
        if (cli_table_row(t, cells) < 0)
            goto out;
    }
    cli_table_print(t);
    rc = CLI_OK;
out:
    cli_table_destroy(t);
    return rc;
}

int cli_list_run(const char *cmd, int argc, char **argv, cli_list_fetch fetch,
                 const char *const *names, const char *types)
{
    const char *pos[1];
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024];
    PGconn *pg;
    PGresult *res;

    rc = cli_args_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    res = fetch(pg, err, sizeof(err));
    rc = res ? cli_print_result(res, strlen(types), names, types, as_json)
             : cli_err(CLI_DEPENDENCY, "%s: %s", cmd, err);
    PQclear(res);
    PQfinish(pg);
    return rc;
}

int cli_redis_check(const char *cmd)
{
    const char *addr = cli_settings.redis_addr;
    char why[256];

    if (!addr || !*addr)
        return cli_err(CLI_USAGE,
                       "%s: OMNISYNC_REDIS is not set (the stores' API "
                       "budgets live there)",
                       cmd);
    if (budget_redis_ping(addr, CLI_REDIS_TIMEOUT_MS, why, sizeof(why)) < 0)
        return cli_err(CLI_DEPENDENCY, "%s: cannot reach Redis at %s: %s", cmd,
                       addr, why);
    return CLI_OK;
}

int cli_store_known(PGconn *pg, const char *cmd, const char *name)
{
    long long id = cli_id_lookup(pg, "store", name);

    if (id < 0)
        return CLI_DEPENDENCY;
    if (id == 0)
        return cli_err(CLI_USAGE, "%s: unknown store '%s'", cmd, name);
    return CLI_OK;
}
