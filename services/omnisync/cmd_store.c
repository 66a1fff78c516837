/*
 * cmd_store — `omnisync store add|set|remove|list|show`: the online stores
 * and their integration settings.  The API password is stored encrypted
 * (secret.h) and is never printed, not in errors either.
 */
#include "cli.h"
#include "ledger/ledger.h"
#include "ledger/stores.h"
#include "lib/cfg.h"
#include "lib/db.h"
#include "lib/secret.h"
#include "store/platform.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_PASSWORD_MAX 1024

/* The command the shared checks name in their messages. */
static const char *store_cmd = "store add";
#define STORE_MAX_SOURCES 64

/* Options of `store add` as given. */
struct store_args {
    const char *name, *platform, *url, *login, *password_env, *password_file,
        *online, *sources, *price_list, *delivery_sku, *safety, *api_limit,
        *api_window, *ret;
    long long ret_id; /* --return-location's id, 0: the online location */
    long long safety_n, api_limit_n, api_window_n;
    char *source_codes[STORE_MAX_SOURCES];
    size_t n_sources;
    int as_json; /* --json */
};

/* The options of store add; store set takes all but the add-only ones
 * (the platform, login and online location stay). */
static const struct {
    const char *name;
    size_t off; /* of the value in struct store_args */
    int add_only;
} store_opt_rows[] = {
    {"--platform", offsetof(struct store_args, platform), 1},
    {"--url", offsetof(struct store_args, url), 0},
    {"--login", offsetof(struct store_args, login), 1},
    {"--password-env", offsetof(struct store_args, password_env), 0},
    {"--password-file", offsetof(struct store_args, password_file), 0},
    {"--online-location", offsetof(struct store_args, online), 1},
    {"--source-locations", offsetof(struct store_args, sources), 0},
    {"--price-list", offsetof(struct store_args, price_list), 0},
    {"--delivery-sku", offsetof(struct store_args, delivery_sku), 0},
    {"--safety-stock", offsetof(struct store_args, safety), 0},
    {"--api-limit", offsetof(struct store_args, api_limit), 0},
    {"--api-window", offsetof(struct store_args, api_window), 0},
    {"--return-location", offsetof(struct store_args, ret), 0},
};
#define STORE_NOPTS (sizeof(store_opt_rows) / sizeof(store_opt_rows[0]))

/* The option table of store add (@p add) or store set into @p o
 * (STORE_NOPTS + 2 rows: --json and the end). */
static void store_opts_build(struct store_args *a, int add, struct cli_opt *o)
{
    size_t n = 0;

    for (size_t i = 0; i < STORE_NOPTS; i++) {
        if (store_opt_rows[i].add_only && !add)
            continue;
        o[n].name = store_opt_rows[i].name;
        o[n].val = (const char **)((char *)a + store_opt_rows[i].off);
        o[n++].flag = NULL;
    }
    o[n].name = "--json";
    o[n].val = NULL;
    o[n++].flag = &a->as_json;
    o[n].name = NULL;
    o[n].val = NULL;
    o[n].flag = NULL;
}

/* Parse an optional integer option in [min, INT_MAX]. */
static int store_num(const char *opt, const char *val, long long min,
                     long long def, long long *out)
{
    long long v;

    if (!val) {
        *out = def;
        return 0;
    }
    if (cfg_parse_ll(val, &v) < 0 || v < min || v > INT_MAX) {
        cli_err(CLI_USAGE, "%s: bad %s '%s' (an integer >= %lld)", store_cmd,
                opt, val, min);
        return -1;
    }
    *out = v;
    return 0;
}

/* Split --source-locations into codes. */
static int store_sources_split(struct store_args *a)
{
    const char *p = a->sources, *comma;
    size_t len;

    while (*p) {
        comma = strchr(p, ',');
        len = comma ? (size_t)(comma - p) : strlen(p);
        if (a->n_sources == STORE_MAX_SOURCES) {
            cli_err(CLI_USAGE, "%s: more than %d source locations", store_cmd,
                    STORE_MAX_SOURCES);
            return -1;
        }
        a->source_codes[a->n_sources] = strndup(p, len);
        if (!a->source_codes[a->n_sources]) {
            cli_err(CLI_DEPENDENCY, "out of memory");
            return -1;
        }
        if (!cli_code_ok(a->source_codes[a->n_sources++])) {
            cli_err(CLI_USAGE,
                    "%s: bad --source-locations '%s' (codes "
                    "separated by ',')",
                    store_cmd, a->sources);
            return -1;
        }
        if (!comma)
            break;
        p = comma + 1;
        if (!*p) {
            cli_err(CLI_USAGE, "%s: bad --source-locations '%s'", store_cmd,
                    a->sources);
            return -1;
        }
    }
    return 0;
}

/* The platform: a name in the registry.  Prints why; returns NULL. */
static const struct store_platform *store_platform_check(const char *name)
{
    const struct store_platform *p = store_platform_find(name);

    if (!p)
        cli_err(-1, "%s: --platform must be '%s'%s%s", store_cmd,
                store_platform_names(), name ? ", not " : "",
                name ? name : " (required)");
    return p;
}

/* --url: http(s)://HOST..., no blanks. */
static int store_url_check(const char *url)
{
    const char *host;

    if (!url)
        return cli_err(-1, "%s: --url is required", store_cmd);
    host = !strncmp(url, "http://", 7)    ? url + 7
           : !strncmp(url, "https://", 8) ? url + 8
                                          : NULL;
    if (!host || !*host || *host == '/' || strpbrk(url, " \t\r\n"))
        return cli_err(-1,
                       "%s: bad --url '%s' (http://HOST... or "
                       "https://HOST...)",
                       store_cmd, url);
    return 0;
}

/* The options every store needs, in the order the usage names them. */
static int store_required_check(const struct store_args *a)
{
    if (!a->login || !*a->login)
        return cli_err(-1, "%s: --login is required", store_cmd);
    if (!!a->password_env == !!a->password_file)
        return cli_err(-1,
                       "%s: give exactly one of --password-env "
                       "VAR and --password-file FILE",
                       store_cmd);
    if (!a->online || !*a->online)
        return cli_err(-1, "%s: --online-location is required", store_cmd);
    if (!a->sources || !*a->sources)
        return cli_err(-1, "%s: --source-locations is required", store_cmd);
    if (!a->price_list || !*a->price_list)
        return cli_err(-1, "%s: --price-list is required", store_cmd);
    if (!a->delivery_sku || !*a->delivery_sku)
        return cli_err(-1, "%s: --delivery-sku is required", store_cmd);
    return 0;
}

/* Check the options that need no database.  Prints why; returns -1. */
static int store_args_check(struct store_args *a)
{
    const struct store_platform *p;

    if (!cli_code_ok(a->name))
        return cli_err(-1,
                       "%s: bad store name '%s' (no spaces, ',' "
                       "or ':')",
                       store_cmd, a->name);
    if (strlen(a->name) > STORE_NAME_MAX)
        return cli_err(-1, "%s: store name longer than %d bytes", store_cmd,
                       STORE_NAME_MAX);
    p = store_platform_check(a->platform);
    if (!p || store_url_check(a->url) < 0 || store_required_check(a) < 0)
        return -1;
    /* The API budget defaults to the platform's own limit. */
    if (store_num("--safety-stock", a->safety, 0, 0, &a->safety_n) < 0 ||
        store_num("--api-limit", a->api_limit, 1, p->default_limit,
                  &a->api_limit_n) < 0 ||
        store_num("--api-window", a->api_window, 1, p->default_window_s,
                  &a->api_window_n) < 0)
        return -1;
    return store_sources_split(a);
}

/* Read the password from the environment or the file's first line into
 * @p buf.  Never prints it.  Returns 0 or -1 (reason printed). */
static int store_password_read(const struct store_args *a, char *buf,
                               size_t buf_size)
{
    const char *v;
    FILE *fp;
    size_t len;

    if (a->password_env) {
        v = getenv(a->password_env);
        if (!v || !*v)
            return cli_err(-1,
                           "%s: --password-env: environment variable "
                           "%s is not set or empty",
                           store_cmd, a->password_env);
        if (strlen(v) >= buf_size)
            return cli_err(-1, "%s: the password in %s is too long", store_cmd,
                           a->password_env);
        memcpy(buf, v, strlen(v) + 1);
        return 0;
    }
    fp = fopen(a->password_file, "r");
    if (!fp)
        return cli_err(-1, "%s: cannot read --password-file %s: %s", store_cmd,
                       a->password_file, strerror(errno));
    if (!fgets(buf, (int)buf_size, fp))
        buf[0] = '\0';
    fclose(fp);
    len = strlen(buf);
    if (len == buf_size - 1 && buf[len - 1] != '\n')
        return cli_err(-1, "%s: the password in %s is too long", store_cmd,
                       a->password_file);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (!len)
        return cli_err(-1,
                       "%s: --password-file %s: first line is "
                       "empty",
                       store_cmd, a->password_file);
    return 0;
}

/* id and kind of location @p code; 0 when unknown, -1 on error. */
static long long store_location(PGconn *pg, const char *code, char *kind,
                                size_t kind_size)
{
    char err[1024];
    long long id = 0;
    int found =
        ledger_location_find(pg, code, &id, kind, kind_size, err, sizeof(err));

    if (found < 0)
        return cli_err(-1, "%s", err);
    return found ? id : 0;
}

/* Name of the store whose online location is @p loc_id into @p owner
 * ("" when none); 0, or -1 on error (printed). */
static int store_owner(PGconn *pg, long long loc_id, char *owner,
                       size_t owner_size)
{
    char err[1024];

    if (stores_online_owner(pg, loc_id, owner, owner_size, err, sizeof(err)) <
        0)
        return cli_err(-1, "%s", err);
    return 0;
}

/* --return-location CODE: any known location.  Returns a CLI_* code
 * (*id -1 when the ledger could not be asked). */
static int store_return_resolve(PGconn *pg, const char *cmd, const char *code,
                                long long *id)
{
    *id = cli_id_lookup(pg, "location", code);
    if (*id < 0)
        return CLI_DEPENDENCY;
    if (*id == 0)
        return cli_err(CLI_USAGE, "%s: unknown --return-location '%s'", cmd,
                       code);
    return CLI_OK;
}

/* Resolve names to ids, in the open transaction.  Returns a CLI_* code;
 * fills @p loc_ids (online first, then deduplicated sources). */
static int store_resolve(PGconn *pg, struct store_args *a, long long *loc_ids,
                         size_t *nlocs, long long *pl_id, long long *var_id)
{
    char kind[32], owner[256];
    long long id;
    size_t i, j;
    int dup;

    id = store_location(pg, a->online, kind, sizeof(kind));
    if (id <= 0)
        return id < 0 ? CLI_DEPENDENCY
                      : cli_err(CLI_USAGE,
                                "store add: unknown online location '%s'",
                                a->online);
    if (strcmp(kind, "online") != 0)
        return cli_err(CLI_USAGE,
                       "store add: --online-location '%s' is a %s, not an "
                       "online location (location add %s --kind online)",
                       a->online, kind, a->online);
    if (store_owner(pg, id, owner, sizeof(owner)) < 0)
        return CLI_DEPENDENCY;
    if (*owner)
        return cli_err(CLI_USAGE,
                       "store add: online location '%s' already belongs to "
                       "store '%s'",
                       a->online, owner);
    loc_ids[0] = id;
    *nlocs = 1;
    for (i = 0; i < a->n_sources; i++) {
        id = store_location(pg, a->source_codes[i], kind, sizeof(kind));
        if (id <= 0)
            return id < 0 ? CLI_DEPENDENCY
                          : cli_err(CLI_USAGE,
                                    "store add: unknown source location "
                                    "'%s'",
                                    a->source_codes[i]);
        for (dup = 0, j = 0; j < *nlocs; j++)
            dup |= loc_ids[j] == id;
        if (!dup)
            loc_ids[(*nlocs)++] = id;
    }
    *pl_id = cli_id_lookup(pg, "price_list", a->price_list);
    if (*pl_id <= 0)
        return *pl_id < 0
                   ? CLI_DEPENDENCY
                   : cli_err(CLI_USAGE, "store add: unknown price list '%s'",
                             a->price_list);
    *var_id = cli_id_lookup(pg, "variant", a->delivery_sku);
    if (*var_id <= 0)
        return *var_id < 0
                   ? CLI_DEPENDENCY
                   : cli_err(CLI_USAGE, "store add: unknown delivery SKU '%s'",
                             a->delivery_sku);
    if (a->ret &&
        store_return_resolve(pg, "store add", a->ret, &a->ret_id) != CLI_OK)
        return a->ret_id < 0 ? CLI_DEPENDENCY : CLI_USAGE;
    id = cli_id_lookup(pg, "store", a->name);
    if (id != 0)
        return id < 0
                   ? CLI_DEPENDENCY
                   : cli_err(CLI_USAGE, "store add: store '%s' already exists",
                             a->name);
    return CLI_OK;
}

/* Insert the store and its sources (@p loc_ids, the online location
 * first); stores_add() seals @p password.  Returns its id or -1. */
static long long store_insert(PGconn *pg, const struct store_args *a,
                              const unsigned char *key, const char *password,
                              const long long *loc_ids, size_t nlocs,
                              long long pl_id, long long var_id, char *err,
                              size_t err_size, char *sqlstate)
{
    const struct store_new n = {
        .name = a->name,
        .platform = a->platform,
        .url = a->url,
        .login = a->login,
        .online_location_id = loc_ids[0],
        .price_list_id = pl_id,
        .delivery_variant_id = var_id,
        .safety_stock = a->safety_n,
        .api_limit = a->api_limit_n,
        .api_window = a->api_window_n,
        .return_location_id = a->ret_id,
        .source_location_ids = loc_ids,
        .n_sources = nlocs,
    };

    return stores_add(pg, &n, key, password, err, err_size, sqlstate);
}

static int store_add(int argc, char **argv)
{
    struct store_args a;
    struct cli_opt opts[STORE_NOPTS + 2];
    unsigned char key[SECRET_KEY_BYTES];
    char password[STORE_PASSWORD_MAX], err[1024], sqlstate[6];
    long long loc_ids[STORE_MAX_SOURCES + 1], pl_id = 0, var_id = 0, store_id,
                                              events;
    const char *pos[1];
    PGconn *pg = NULL;
    size_t nlocs = 0, i;
    int npos, rc, in_tx = 0;

    memset(&a, 0, sizeof(a));
    memset(password, 0, sizeof(password));
    sodium_memzero(key, sizeof(key));
    store_opts_build(&a, 1, opts);
    rc = cli_args_parse("store add", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        goto out;
    rc = CLI_USAGE;
    if (npos != 1) {
        cli_err(CLI_USAGE, "store add: NAME is required");
        goto out;
    }
    a.name = pos[0];
    if (store_args_check(&a) < 0)
        goto out;
    if (cli_secret_key(key, err, sizeof(err)) < 0) {
        cli_err(CLI_USAGE, "store add: %s", err);
        goto out;
    }
    if (store_password_read(&a, password, sizeof(password)) < 0)
        goto out;
    rc = CLI_DEPENDENCY;
    pg = cli_pg();
    if (!pg)
        goto out;
    if (db_begin(pg, err, sizeof(err)) < 0) {
        cli_err(CLI_DEPENDENCY, "%s", err);
        goto out;
    }
    in_tx = 1;
    rc = store_resolve(pg, &a, loc_ids, &nlocs, &pl_id, &var_id);
    if (rc != CLI_OK)
        goto out;
    rc = CLI_DEPENDENCY;
    /* Wait for movements in flight at these locations (see ledger.h)
     * before anything references them. */
    if (ledger_locations_lock(pg, loc_ids, nlocs, err, sizeof(err)) < 0) {
        cli_err(CLI_DEPENDENCY, "store add: %s", err);
        goto out;
    }
    store_id = store_insert(pg, &a, key, password, loc_ids, nlocs, pl_id,
                            var_id, err, sizeof(err), sqlstate);
    if (store_id < 0) {
        if (db_state_is(sqlstate, DB_UNIQUE_VIOLATION))
            rc = cli_err(CLI_USAGE,
                         "store add: store '%s' or a store with online "
                         "location '%s' already exists",
                         a.name, a.online);
        else
            cli_err(CLI_DEPENDENCY, "store add: %s", err);
        goto out;
    }
    events = ledger_store_available_emit(pg, store_id, err, sizeof(err));
    if (events < 0) {
        cli_err(CLI_DEPENDENCY, "store add: %s", err);
        goto out;
    }
    if (db_commit(pg, err, sizeof(err)) < 0) {
        cli_err(CLI_DEPENDENCY, "store add: %s", err);
        goto out;
    }
    in_tx = 0;
    rc = CLI_OK;
    if (a.as_json)
        rc = cli_json_print(json_pack("{s:s, s:I, s:I}", "name", a.name,
                                      "source_locations", (json_int_t)nlocs,
                                      "stock_events", (json_int_t)events));
    else
        printf("added store %s (%zu source locations, %lld stock events)\n",
               a.name, nlocs, events);
out:
    if (in_tx)
        db_rollback(pg);
    PQfinish(pg);
    sodium_memzero(password, sizeof(password));
    sodium_memzero(key, sizeof(key));
    for (i = 0; i < a.n_sources; i++)
        free(a.source_codes[i]);
    return rc;
}

/* ---- store set / store remove ------------------------------------------ */

/* What `store set` was given, resolved to ids. */
struct store_set_ids {
    struct store_conf conf; /* the store as it is (no password) */
    long long locs[STORE_MAX_SOURCES + 1];
    size_t nlocs; /* the new sources after the online location */
    struct store_change ch;
    int stock; /* the change alters what the store shows */
};

/* The new --source-locations: known codes, each once, the online
 * location left out (it stays first).  Returns a CLI_* code. */
static int store_set_sources(PGconn *pg, const struct store_args *a,
                             struct store_set_ids *s)
{
    char kind[32];

    for (size_t i = 0; i < a->n_sources; i++) {
        long long id =
            store_location(pg, a->source_codes[i], kind, sizeof(kind));
        int dup = id == s->conf.online_location_id;

        if (id <= 0)
            return id < 0 ? CLI_DEPENDENCY
                          : cli_err(CLI_USAGE,
                                    "store set: unknown source location "
                                    "'%s'",
                                    a->source_codes[i]);
        for (size_t j = 0; j < s->nlocs; j++)
            dup |= s->locs[j] == id;
        if (!dup)
            s->locs[s->nlocs++] = id;
    }
    s->ch.source_location_ids = s->locs;
    s->ch.n_sources = s->nlocs;
    return CLI_OK;
}

/* A code or SKU option to its id: @p out (0 when not given).  Returns a
 * CLI_* code. */
static int store_set_lookup(PGconn *pg, const char *table, const char *opt,
                            const char *val, long long *out)
{
    if (!val)
        return CLI_OK;
    *out = cli_id_lookup(pg, table, val);
    if (*out < 0)
        return CLI_DEPENDENCY;
    if (*out == 0)
        return cli_err(CLI_USAGE, "store set: unknown %s '%s'", opt, val);
    return CLI_OK;
}

/* Resolve the options to ids, in the open transaction.  Returns a CLI_*
 * code. */
static int store_set_resolve(PGconn *pg, struct store_args *a,
                             struct store_set_ids *s)
{
    char err[1024];
    int rc =
        stores_settings_load(pg, a->name, &s->conf, err, sizeof(err), NULL);

    if (rc != 0)
        return rc < 0 ? cli_err(CLI_DEPENDENCY, "store set: %s", err)
                      : cli_err(CLI_USAGE, "store set: no store named '%s'",
                                a->name);
    rc = store_set_lookup(pg, "price_list", "--price-list", a->price_list,
                          &s->ch.price_list_id);
    if (rc == CLI_OK)
        rc = store_set_lookup(pg, "variant", "--delivery-sku", a->delivery_sku,
                              &s->ch.delivery_variant_id);
    if (rc == CLI_OK && a->ret)
        rc = store_return_resolve(pg, "store set", a->ret,
                                  &s->ch.return_location_id);
    if (rc == CLI_OK && a->sources)
        rc = store_set_sources(pg, a, s);
    s->ch.url = a->url;
    s->ch.safety_stock = a->safety ? a->safety_n : -1;
    s->ch.api_limit = a->api_limit ? a->api_limit_n : 0;
    s->ch.api_window = a->api_window ? a->api_window_n : 0;
    s->stock = a->price_list || a->sources || a->safety;
    return rc;
}

/* Wait for movements in flight at the old and new sources (ledger.h). */
static int store_set_lock(PGconn *pg, const struct store_set_ids *s)
{
    long long ids[2 * STORE_MAX_SOURCES + 2];
    size_t n = 0;
    char err[1024];

    for (size_t i = 0; i < s->conf.n_sources && n < STORE_MAX_SOURCES; i++)
        ids[n++] = s->conf.source_location_ids[i];
    for (size_t i = 0; i < s->nlocs; i++)
        ids[n++] = s->locs[i];
    if (ledger_locations_lock(pg, ids, n, err, sizeof(err)) < 0)
        return cli_err(CLI_DEPENDENCY, "store set: %s", err);
    return CLI_OK;
}

/* The change and its stock events, in the open transaction: @returns
 * the number of events, or -1 (printed). */
static long long store_set_apply(PGconn *pg, const struct store_set_ids *s,
                                 const unsigned char *key)
{
    struct ledger_avail_snap *snap = NULL;
    long long events = 0;
    char err[1024];

    if (s->stock) {
        snap = ledger_avail_snap_take(pg, s->conf.id, err, sizeof(err));
        if (!snap)
            return cli_err(-1, "store set: %s", err);
    }
    if (stores_change(pg, s->conf.id, &s->ch, key, err, sizeof(err)) < 0)
        events = -1;
    else if (snap)
        events =
            ledger_avail_changed_emit(pg, s->conf.id, snap, err, sizeof(err));
    ledger_avail_snap_free(snap);
    if (events < 0)
        return cli_err(-1, "store set: %s", err);
    return events;
}

/* The options of `store set` that need no database.  Prints why. */
static int store_set_check(struct store_args *a, char *password,
                           size_t password_size, unsigned char *key)
{
    char err[1024];

    if (!a->url && !a->password_env && !a->password_file && !a->sources &&
        !a->price_list && !a->delivery_sku && !a->safety && !a->api_limit &&
        !a->api_window && !a->ret)
        return cli_err(-1, "store set: nothing to change (see store set "
                           "--help)");
    if (a->password_env && a->password_file)
        return cli_err(-1, "store set: give one of --password-env VAR and "
                           "--password-file FILE");
    if ((a->url && store_url_check(a->url) < 0) ||
        store_num("--safety-stock", a->safety, 0, 0, &a->safety_n) < 0 ||
        store_num("--api-limit", a->api_limit, 1, 0, &a->api_limit_n) < 0 ||
        store_num("--api-window", a->api_window, 1, 0, &a->api_window_n) < 0)
        return -1;
    if (a->sources && store_sources_split(a) < 0)
        return -1;
    if (!a->password_env && !a->password_file)
        return 0;
    if (cli_secret_key(key, err, sizeof(err)) < 0)
        return cli_err(-1, "store set: %s", err);
    return store_password_read(a, password, password_size);
}

static int store_set_print(const struct store_args *a, long long events)
{
    if (a->as_json)
        return cli_json_print(json_pack("{s:s, s:I}", "name", a->name,
                                        "stock_events", (json_int_t)events));
    printf("changed store %s (%lld stock events)\n", a->name, events);
    return CLI_OK;
}

/* store set NAME [--url U] [--password-env V | --password-file F]
 * [--price-list PL] [--source-locations C,...] [--delivery-sku SKU]
 * [--safety-stock N] [--api-limit N] [--api-window S]
 * [--return-location CODE] [--json] */
static int store_set(int argc, char **argv)
{
    static struct store_args a;
    static struct store_set_ids s;
    struct cli_opt opts[STORE_NOPTS + 2];
    unsigned char key[SECRET_KEY_BYTES];
    char password[STORE_PASSWORD_MAX], err[1024];
    const char *pos[1];
    long long events = -1;
    PGconn *pg = NULL;
    int npos, rc, in_tx = 0;

    memset(&a, 0, sizeof(a));
    memset(&s, 0, sizeof(s));
    memset(password, 0, sizeof(password));
    sodium_memzero(key, sizeof(key));
    store_cmd = "store set";
    store_opts_build(&a, 0, opts);
    rc = cli_args_parse("store set", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        goto out;
    rc = CLI_USAGE;
    if (npos != 1) {
        cli_err(CLI_USAGE, "store set: NAME is required");
        goto out;
    }
    a.name = pos[0];
    if (store_set_check(&a, password, sizeof(password), key) < 0)
        goto out;
    s.ch.password = password[0] ? password : NULL;
    rc = CLI_DEPENDENCY;
    pg = cli_pg();
    if (!pg || db_begin(pg, err, sizeof(err)) < 0) {
        if (pg)
            cli_err(CLI_DEPENDENCY, "store set: %s", err);
        goto out;
    }
    in_tx = 1;
    rc = store_set_resolve(pg, &a, &s);
    if (rc == CLI_OK)
        rc = store_set_lock(pg, &s);
    if (rc != CLI_OK)
        goto out;
    events = store_set_apply(pg, &s, key);
    if (events < 0)
        goto out;
    if (db_commit(pg, err, sizeof(err)) < 0) {
        cli_err(CLI_DEPENDENCY, "store set: %s", err);
        goto out;
    }
    in_tx = 0;
    rc = store_set_print(&a, events);
out:
    if (in_tx)
        db_rollback(pg);
    PQfinish(pg);
    store_conf_clear(&s.conf);
    sodium_memzero(password, sizeof(password));
    sodium_memzero(key, sizeof(key));
    for (size_t i = 0; i < a.n_sources; i++)
        free(a.source_codes[i]);
    return rc;
}

/* store remove NAME [--json] */
static int store_remove(int argc, char **argv)
{
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    struct store_conf conf;
    const char *pos[1];
    char err[1024];
    PGconn *pg;

    memset(&conf, 0, sizeof(conf));
    rc = cli_args_parse("store remove", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "store remove: NAME is required");
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rc = stores_settings_load(pg, pos[0], &conf, err, sizeof(err), NULL);
    if (rc == 0 && stores_remove(pg, conf.id, err, sizeof(err)) < 0)
        rc = -1;
    PQfinish(pg);
    store_conf_clear(&conf);
    if (rc != 0)
        return rc < 0 ? cli_err(CLI_DEPENDENCY, "store remove: %s", err)
                      : cli_err(CLI_USAGE, "store remove: no store named '%s'",
                                pos[0]);
    if (as_json)
        return cli_json_print(
            json_pack("{s:s, s:b}", "name", pos[0], "removed", 1));
    printf("removed store %s: no longer synced; its orders, movements and "
           "ids are kept\n",
           pos[0]);
    return CLI_OK;
}

static const char *const store_cols[] = {
    "name",         "platform",        "url",
    "login",        "online_location", "source_locations",
    "price_list",   "delivery_sku",    "return_location",
    "safety_stock", "api_limit",       "api_window",
};
#define STORE_NCOLS 12

/* Column indexes in stores_list()'s rows (ledger/stores.h). */
#define STORE_COL_SOURCES 5 /* codes joined by ',' */
#define STORE_COL_NUMBERS 9 /* from here on numbers */

/* "WH2,WH1" as a JSON array of codes. */
static json_t *store_codes_json(const char *list)
{
    json_t *arr = json_array();
    const char *p, *comma;

    for (p = list; arr && *p; p = comma + 1) {
        comma = strchr(p, ',');
        json_array_append_new(
            arr, json_stringn(p, comma ? (size_t)(comma - p) : strlen(p)));
        if (!comma)
            break;
    }
    return arr;
}

/* Store @p row of @p res as a JSON object (source_locations an array);
 * the webhook secret only when @p secret is not NULL. */
static json_t *store_json(const PGresult *res, int row, const char *secret)
{
    json_t *o = json_object();

    for (int j = 0; o && j < STORE_NCOLS; j++) {
        const char *v = PQgetvalue(res, row, j);
        json_t *jv = j == STORE_COL_SOURCES ? store_codes_json(v)
                     : j >= STORE_COL_NUMBERS
                         ? json_integer(strtoll(v, NULL, 10))
                         : json_string(v);

        json_object_set_new(o, store_cols[j], jv);
    }
    if (o && secret)
        json_object_set_new(o, "webhook_secret", json_string(secret));
    return o;
}

/* The stores as a table. */
static int store_table_print(const PGresult *res)
{
    struct cli_table *t = cli_table_new(STORE_NCOLS, store_cols);
    const char *cells[STORE_NCOLS];
    int rc = CLI_OK;

    if (!t)
        return CLI_DEPENDENCY;
    for (int i = 0; rc == CLI_OK && i < PQntuples(res); i++) {
        for (int j = 0; j < STORE_NCOLS; j++)
            cells[j] = PQgetvalue(res, i, j);
        if (cli_table_row(t, cells) < 0)
            rc = CLI_DEPENDENCY;
    }
    if (rc == CLI_OK)
        cli_table_print(t);
    cli_table_destroy(t);
    return rc;
}

/* The first store of @p res, a line a setting (and the webhook secret
 * when @p secret is not NULL). */
static void store_lines_print(const PGresult *res, const char *secret)
{
    for (int j = 0; j < STORE_NCOLS; j++)
        printf("%-17s %s\n", store_cols[j], PQgetvalue(res, 0, j));
    if (secret)
        printf("%-17s %s\n", "webhook_secret", secret);
}

/* Every store of @p res as a JSON array, never the webhook secret. */
static json_t *store_list_json(const PGresult *res)
{
    json_t *arr = json_array();

    for (int i = 0; arr && i < PQntuples(res); i++)
        json_array_append_new(arr, store_json(res, i, NULL));
    return arr;
}

/* The webhook secret of store @p name, opened with the secret key (it
 * is sealed at rest): 0 with @p conf filled, else a CLI exit code. */
static int store_secret_load(PGconn *pg, const char *name,
                             struct store_conf *conf)
{
    unsigned char key[SECRET_KEY_BYTES];
    char err[1024];
    int r;

    if (cli_secret_key(key, err, sizeof(err)) < 0)
        return cli_err(CLI_USAGE, "store show: --webhook-secret: %s", err);
    r = stores_load(pg, key, name, conf, err, sizeof(err));
    sodium_memzero(key, sizeof(key));
    if (r == 1)
        return cli_err(CLI_USAGE, "store show: no store named '%s'", name);
    if (r < 0)
        return cli_err(CLI_DEPENDENCY, "store show: %s", err);
    return CLI_OK;
}

/* What store list (@p show NULL) or store show @p show prints of
 * @p res; @p secret: the webhook secret to add (may be NULL). */
static int store_rows_print(const PGresult *res, const char *show, int as_json,
                            const char *secret)
{
    if (show && PQntuples(res) == 0)
        return cli_err(CLI_USAGE, "store show: no store named '%s'", show);
    if (show && as_json)
        return cli_json_print(store_json(res, 0, secret));
    if (show) {
        store_lines_print(res, secret);
        return CLI_OK;
    }
    if (as_json)
        return cli_json_print(store_list_json(res));
    return store_table_print(res);
}

/* store list [--json] and store show NAME [--json] [--webhook-secret] */
static int store_print(int argc, char **argv)
{
    int show = !strcmp(argv[0], "show");
    int as_json = 0, with_secret = 0, npos, rc;
    const struct cli_opt opts_list[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    const struct cli_opt opts_show[] = {
        {"--json", NULL, &as_json},
        {"--webhook-secret", NULL, &with_secret},
        {NULL, NULL, NULL},
    };
    const char *pos[1];
    char err[1024];
    struct store_conf conf = {0};
    PGresult *res;
    PGconn *pg;

    rc = cli_args_parse(show ? "store show" : "store list", argc, argv,
                        show ? opts_show : opts_list, pos, show ? 1 : 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (show && npos != 1)
        return cli_err(CLI_USAGE, "store show: NAME is required");
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    res = stores_list(pg, show ? pos[0] : NULL, err, sizeof(err));
    if (res && show && with_secret && PQntuples(res) > 0)
        rc = store_secret_load(pg, pos[0], &conf);
    PQfinish(pg);
    if (!res)
        return cli_err(CLI_DEPENDENCY, "%s", err);
    if (rc == CLI_OK)
        rc = store_rows_print(res, show ? pos[0] : NULL, as_json,
                              conf.webhook_secret);
    store_conf_clear(&conf);
    PQclear(res);
    return rc;
}

static const struct cli_sub store_subs[] = {
    {"add", store_add,
     "store add NAME --platform PLATFORM --url URL --login LOGIN\n"
     "        (--password-env VAR | --password-file FILE) "
     "--online-location CODE\n"
     "        --source-locations CODE[,CODE...] --price-list PL "
     "--delivery-sku SKU\n"
     "        [--safety-stock N] [--api-limit N] [--api-window SECONDS]\n"
     "        [--return-location CODE] [--json]\n"
     "  Add an online store on PLATFORM, a platform omnisync knows (a\n"
     "  wrong name lists them).  The API budget is N calls per SECONDS,\n"
     "  by default the platform's own limit.  The API password is read\n"
     "  from the variable VAR or the first line of FILE and stored\n"
     "  encrypted under OMNISYNC_SECRET_KEY.  The online location (kind\n"
     "  online) is the first source; the others follow in the given\n"
     "  order.  Returned orders (and orders cancelled after they shipped)\n"
     "  put their stock back at --return-location, by default the online\n"
     "  location.  Emits stock.available for every variant with stock at its\n"
     "  sources.  --json: {\"name\", \"source_locations\", "
     "\"stock_events\"}."},
    {"set", store_set,
     "store set NAME [--price-list PL] [--source-locations CODE[,CODE...]]\n"
     "        [--safety-stock N] [--delivery-sku SKU] [--api-limit N]\n"
     "        [--api-window SECONDS] [--password-env VAR | --password-file "
     "FILE]\n"
     "        [--url URL] [--return-location CODE] [--json]\n"
     "  Change a store's settings; what is not given stays.  Running\n"
     "  services pick the change up within about a second (they watch the\n"
     "  ledger's stores), no restart.  A new price list, sources or safety\n"
     "  stock writes stock.available, in the same transaction, for exactly\n"
     "  the variants whose quantity or price in the store changes, so\n"
     "  stock-publisher pushes them in its usual batches.  The password is\n"
     "  read as for store add and never printed.  --json: {\"name\",\n"
     "  \"stock_events\"}."},
    {"remove", store_remove,
     "store remove NAME [--json]\n"
     "  Stop syncing a store: no service loads it any more (catalog, stock,\n"
     "  photos, orders, webhooks answered 404); its orders, movements,\n"
     "  remote ids and dead letters stay as history (orders list|show).\n"
     "  The name and online location stay taken."},
    {"list", store_print,
     "store list [--json]\n"
     "  List stores' settings (never the password or webhook secret)."},
    {"show", store_print,
     "store show NAME [--json] [--webhook-secret]\n"
     "  One store's settings; --webhook-secret adds the secret of its\n"
     "  webhook URL (sealed in the ledger: needs OMNISYNC_SECRET_KEY)."},
    {"adopt", cmd_store_adopt,
     "store adopt STORE [--dry-run] [--json]\n"
     "  Map the products the store already has onto the ledger by SKU\n"
     "  (only GET requests; nothing is deleted); report the unmatched\n"
     "  ones on both sides.  --dry-run records nothing.  --json: the\n"
     "  counts, unmatched_in_store and not_in_store (docs/cli.md)."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync store add|list|show`.
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_store(int argc, char **argv)
{
    return cli_sub_run(store_subs, argc, argv);
}
