#include "lib/cfg.h"

#include "lib/log.h"
#include "lib/version.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_ENV_PREFIX "OMNISYNC_"

/* The established connection variables: the only names not derived. */
static const struct {
    const char *key, *env;
} cfg_env_fixed[] = {
    {"pg.dsn", "OMNISYNC_PG"},
    {"kafka.bootstrap", "OMNISYNC_KAFKA"},
    {"redis.addr", "OMNISYNC_REDIS"},
    {"secret.key", "OMNISYNC_SECRET_KEY"},
};

const char *const cfg_passthru_kafka[] = {"kafka.", NULL};

struct cfg_kv {
    char *key, *val;
    struct cfg_kv *next;
};

struct cfg {
    const struct cfg_opt *tbl;
    void *target;
    const char *prog;
    const char *const *passthru;
    char **vals;              /* effective textual value per table row */
    const char **source;      /* where each value came from */
    char (*env)[CFG_ENV_MAX]; /* each row's environment variable */
    struct cfg_kv *extra, *extra_tail;
};

/* What the command line asks of cfg. */
struct cfg_args {
    const char *file;     /* -c PATH */
    const char *loglevel; /* --log-level L */
    int dump;             /* --dump-config */
    int end;              /* index of the first argument not for cfg */
};

int cfg_parse_ll(const char *s, long long *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int cfg_parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    size_t i;

    if (!s)
        return -1;
    for (i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return 1;
        if (strcasecmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

int cfg_env_name(const char *key, char *buf, size_t buf_size)
{
    size_t i, plen = strlen(CFG_ENV_PREFIX), klen = strlen(key);
    int n;

    for (i = 0; i < sizeof(cfg_env_fixed) / sizeof(cfg_env_fixed[0]); i++) {
        if (strcmp(key, cfg_env_fixed[i].key) == 0) {
            n = snprintf(buf, buf_size, "%s", cfg_env_fixed[i].env);
            if (n < 0 || (size_t)n >= buf_size)
                goto too_long;
            return 0;
        }
    }
    if (plen + klen + 1 > buf_size)
        goto too_long;
    memcpy(buf, CFG_ENV_PREFIX, plen);
    for (i = 0; i < klen; i++)
        buf[plen + i] =
            key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
    buf[plen + klen] = '\0';
    return 0;
too_long:
    if (buf_size)
        buf[0] = '\0';
    return -1;
}

static void cfg_die(const struct cfg *c, const char *key, const char *src,
                    const char *reason)
{
    fprintf(stderr, "%s: config: %s (%s): %s\n", c->prog, key, src, reason);
    exit(2);
}

static int cfg_index(const struct cfg *c, const char *key)
{
    int i;

    for (i = 0; c->tbl[i].key; i++)
        if (strcmp(c->tbl[i].key, key) == 0)
            return i;
    return -1;
}

static int cfg_is_passthru(const struct cfg *c, const char *key)
{
    size_t i;

    if (!c->passthru)
        return 0;
    for (i = 0; c->passthru[i]; i++)
        if (strncmp(key, c->passthru[i], strlen(c->passthru[i])) == 0)
            return 1;
    return 0;
}

static void cfg_set(struct cfg *c, const char *key, const char *val,
                    const char *src)
{
    int i = cfg_index(c, key);
    struct cfg_kv *kv;

    if (i >= 0) {
        free(c->vals[i]);
        c->vals[i] = strdup(val);
        if (!c->vals[i])
            cfg_die(c, key, src, "out of memory");
        c->source[i] = src;
        return;
    }
    if (!cfg_is_passthru(c, key))
        cfg_die(c, key, src, "unknown key");
    kv = calloc(1, sizeof(*kv));
    if (!kv)
        cfg_die(c, key, src, "out of memory");
    kv->key = strdup(key);
    kv->val = strdup(val);
    if (c->extra_tail)
        c->extra_tail->next = kv;
    else
        c->extra = kv;
    c->extra_tail = kv;
    if (!kv->key || !kv->val)
        cfg_die(c, key, src, "out of memory");
}

static char *cfg_trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s &&
           (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static void cfg_load_file(struct cfg *c, const char *path)
{
    static char srcbuf[1024];
    char line[4096], where[1100];
    FILE *fp = fopen(path, "r");
    int lineno = 0;

    if (!fp)
        cfg_die(c, path, "-c", strerror(errno));
    /* Sources must outlive this call; one config file per process. */
    snprintf(srcbuf, sizeof(srcbuf), "file %s", path);
    while (fgets(line, sizeof(line), fp)) {
        char *k, *v, *eq;

        lineno++;
        k = cfg_trim(line);
        if (!*k || *k == '#')
            continue;
        eq = strchr(k, '=');
        if (!eq) {
            snprintf(where, sizeof(where), "%s:%d", path, lineno);
            fclose(fp);
            cfg_die(c, where, "-c", "expected key = value");
        }
        *eq = '\0';
        v = cfg_trim(eq + 1);
        k = cfg_trim(k);
        cfg_set(c, k, v, srcbuf);
    }
    fclose(fp);
}

void cfg_keys_print(FILE *fp, const struct cfg_opt *tbl)
{
    char env[CFG_ENV_MAX];
    const char *def;
    int i;

    for (i = 0; tbl[i].key; i++) {
        const struct cfg_opt *o = &tbl[i];

        cfg_env_name(o->key, env, sizeof(env));
        def = (o->flags & CFG_REQUIRED) ? "(required)" : o->def ? o->def : "";
        if (*def)
            fprintf(fp, "  %-22s %-30s %s\n", o->key, env, def);
        else
            fprintf(fp, "  %-22s %s\n", o->key, env);
        fprintf(fp, "      %s\n", o->help ? o->help : "");
    }
}

void cfg_options_print(FILE *fp)
{
    fprintf(fp,
            "  -c PATH          read key = value lines from PATH\n"
            "  -o KEY=VALUE     set a key (highest precedence)\n"
            "  --log-level L    error|warn|info|debug (key log.level)\n"
            "  --dump-config    print the effective config (secrets "
            "masked) and exit\n"
            "  --version        print the release and git revision, exit\n");
}

static void cfg_usage(const struct cfg *c, const char *usage)
{
    int i;

    printf("%s\nOptions:\n", usage);
    cfg_options_print(stdout);
    printf("  -h, --help       this text\n\nKeys (env var, default):\n");
    cfg_keys_print(stdout, c->tbl);
    if (c->passthru)
        for (i = 0; c->passthru[i]; i++)
            printf("  %s*  passed verbatim to the library\n", c->passthru[i]);
}

/* Store row @p o's text @p v (from @p src) as its type in the target. */
static void cfg_apply_row(struct cfg *c, const struct cfg_opt *o, char *v,
                          const char *src)
{
    char *field = (char *)c->target + o->off;
    char r[256];
    long long n;
    int b;

    switch (o->type) {
    case CFG_STR:
        if (o->check && o->check(v, r, sizeof(r)) < 0)
            cfg_die(c, o->key, src, r);
        *(char **)(void *)field = v;
        break;
    case CFG_INT:
        if (cfg_parse_ll(v, &n) < 0)
            cfg_die(c, o->key, src, "not an integer");
        if (n < o->min || n > o->max) {
            snprintf(r, sizeof(r), "%lld out of range [%lld, %lld]", n, o->min,
                     o->max);
            cfg_die(c, o->key, src, r);
        }
        *(long long *)(void *)field = n;
        break;
    case CFG_BOOL:
        b = cfg_parse_bool(v);
        if (b < 0)
            cfg_die(c, o->key, src, "not a boolean");
        *(int *)(void *)field = b;
        break;
    }
}

/* Check every value and store it in the target. */
static void cfg_apply(struct cfg *c)
{
    int i;

    for (i = 0; c->tbl[i].key; i++) {
        if (c->vals[i])
            cfg_apply_row(c, &c->tbl[i], c->vals[i], c->source[i]);
        else if (c->tbl[i].flags & CFG_REQUIRED)
            cfg_die(c, c->tbl[i].key, c->env[i], "required but not set");
    }
}

/* Library properties passed through verbatim may hold secrets under names
 * no deny-list foresees (ssl.key.pem, sasl.oauthbearer.config, ...), so
 * --dump-config prints one in clear only when its name is on this
 * allow-list: tuning knobs by their unit suffix, and named settings that
 * are addresses, identifiers, mechanisms or paths. */
static const char *const cfg_clear_suffix[] = {
    ".ms",  ".bytes",   ".kbytes", ".messages", ".max", ".min",
    ".num", ".retries", ".enable", ".location", NULL};
static const char *const cfg_clear_name[] = {
    "bootstrap.servers",
    "client.id",
    "group.id",
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "compression.codec",
    "compression.type",
    "acks",
    "auto.offset.reset",
    "debug",
    "partition.assignment.strategy",
    "isolation.level",
    "enable.idempotence",
    "broker.address.family",
    "ssl.endpoint.identification.algorithm",
    NULL};

int cfg_printable(const char *key)
{
    const char *prop = strchr(key, '.');
    size_t n, k;
    int i;

    prop = prop ? prop + 1 : key;
    n = strlen(prop);
    for (i = 0; cfg_clear_name[i]; i++)
        if (strcmp(prop, cfg_clear_name[i]) == 0)
            return 1;
    for (i = 0; cfg_clear_suffix[i]; i++) {
        k = strlen(cfg_clear_suffix[i]);
        if (n > k && strcmp(prop + n - k, cfg_clear_suffix[i]) == 0)
            return !strstr(prop, "password") && !strstr(prop, "secret");
    }
    return 0;
}

static void cfg_dump(const struct cfg *c)
{
    const struct cfg_kv *kv;
    int i;

    for (i = 0; c->tbl[i].key; i++) {
        const char *v = c->vals[i];

        if (v && (c->tbl[i].flags & CFG_SECRET))
            v = "********";
        printf("%s = %s\t# %s\n", c->tbl[i].key, v ? v : "",
               c->source[i] ? c->source[i] : "unset");
    }
    for (kv = c->extra; kv; kv = kv->next)
        printf("%s = %s\n", kv->key,
               cfg_printable(kv->key) ? kv->val : "********");
}

/* A handle for @p tbl with no values yet; exits 1 when out of memory. */
static struct cfg *cfg_new(const struct cfg_opt *tbl, void *target,
                           const char *const *passthru, const char *prog)
{
    struct cfg *c = calloc(1, sizeof(*c));
    int i, n = 0;

    if (!c) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(1);
    }
    c->tbl = tbl;
    c->target = target;
    c->prog = prog;
    c->passthru = passthru;
    while (tbl[n].key)
        n++;
    c->vals = calloc((size_t)n + 1, sizeof(*c->vals));
    c->source = calloc((size_t)n + 1, sizeof(*c->source));
    c->env = calloc((size_t)n + 1, sizeof(*c->env));
    if (!c->vals || !c->source || !c->env) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(1);
    }
    for (i = 0; i < n; i++)
        if (cfg_env_name(tbl[i].key, c->env[i], sizeof(c->env[i])) < 0)
            cfg_die(c, tbl[i].key, "table", "key too long");
    return c;
}

/* How many values option @p arg takes (0 or 1); -1 when it is not one. */
static int cfg_arg_arity(const char *arg)
{
    if (!strcmp(arg, "-c") || !strcmp(arg, "-o") || !strcmp(arg, "--log-level"))
        return 1;
    if (!strcmp(arg, "--dump-config"))
        return 0;
    return -1;
}

/*
 * Read the options of argv into @p a.  --version prints the version and
 * exits 0.  With @p head, stop at the first argument that is not an
 * option; otherwise -h/--help prints the usage and exits 0, and anything
 * else is an error.  -o values are applied
 * later (cfg_overrides), after the file and the environment.
 */
static void cfg_args_scan(const struct cfg *c, const char *usage, int head,
                          int argc, char **argv, struct cfg_args *a)
{
    int i, arity;

    memset(a, 0, sizeof(*a));
    for (i = 1; i < argc; i += arity + 1) {
        arity = cfg_arg_arity(argv[i]);
        if (version_is_arg(argv[i])) {
            version_print(stdout, c->prog);
            exit(0);
        }
        if (arity < 0 && head)
            break;
        if (arity < 0 &&
            (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            cfg_usage(c, usage);
            exit(0);
        }
        if (arity < 0 || i + arity >= argc) {
            fprintf(stderr, "%s: %s '%s' (try --help)\n", c->prog,
                    arity < 0 ? "unknown argument" : "no value after", argv[i]);
            exit(2);
        }
        if (!strcmp(argv[i], "--dump-config"))
            a->dump = 1;
        else if (!strcmp(argv[i], "-c"))
            a->file = argv[i + 1];
        else if (!strcmp(argv[i], "--log-level"))
            a->loglevel = argv[i + 1];
    }
    a->end = i;
}

/* Every row's default. */
static void cfg_defaults(struct cfg *c)
{
    int i;

    for (i = 0; c->tbl[i].key; i++)
        if (c->tbl[i].def)
            cfg_set(c, c->tbl[i].key, c->tbl[i].def, "default");
}

/* Every row's environment variable that is set and not empty. */
static void cfg_environment(struct cfg *c)
{
    const char *e;
    int i;

    for (i = 0; c->tbl[i].key; i++) {
        e = getenv(c->env[i]);
        if (e && *e)
            cfg_set(c, c->tbl[i].key, e, c->env[i]);
    }
}

/* Every -o KEY=VALUE before argument @p end, in order. */
static void cfg_overrides(struct cfg *c, int end, char **argv)
{
    char *kv, *eq;
    int i;

    for (i = 1; i < end; i++) {
        if (strcmp(argv[i], "-o") != 0) {
            i += cfg_arg_arity(argv[i]);
            continue;
        }
        kv = strdup(argv[++i]);
        eq = kv ? strchr(kv, '=') : NULL;
        if (!eq) {
            fprintf(stderr, "%s: -o expects KEY=VALUE, got '%s'\n", c->prog,
                    argv[i]);
            exit(2);
        }
        *eq = '\0';
        cfg_set(c, cfg_trim(kv), eq + 1, "-o");
        free(kv);
    }
}

/* The sources in precedence order, then --log-level, --dump-config, the
 * check of every value, and the log level. */
static void cfg_build(struct cfg *c, const struct cfg_args *a, char **argv)
{
    int i;

    cfg_defaults(c);
    if (a->file)
        cfg_load_file(c, a->file);
    cfg_environment(c);
    cfg_overrides(c, a->end, argv);
    if (a->loglevel && cfg_index(c, "log.level") >= 0)
        cfg_set(c, "log.level", a->loglevel, "--log-level");
    if (a->dump) {
        cfg_dump(c);
        exit(0);
    }
    cfg_apply(c);
    i = cfg_index(c, "log.level");
    if (i >= 0 && c->vals[i] && log_init(NULL, c->vals[i]) < 0)
        cfg_die(c, "log.level", c->source[i], "expected error|warn|info|debug");
}

struct cfg *cfg_load(const struct cfg_opt *tbl, void *target,
                     const char *const *passthru, const char *prog,
                     const char *usage, int argc, char **argv)
{
    struct cfg *c = cfg_new(tbl, target, passthru, prog);
    struct cfg_args a;

    cfg_args_scan(c, usage, 0, argc, argv, &a);
    cfg_build(c, &a, argv);
    return c;
}

struct cfg *cfg_load_head(const struct cfg_opt *tbl, void *target,
                          const char *prog, int argc, char **argv, int *argi)
{
    struct cfg *c = cfg_new(tbl, target, NULL, prog);
    struct cfg_args a;

    cfg_args_scan(c, "", 1, argc, argv, &a);
    cfg_build(c, &a, argv);
    *argi = a.end;
    return c;
}

int cfg_passthru_foreach(const struct cfg *c, const char *prefix,
                         int (*cb)(const char *key, const char *val,
                                   void *opaque),
                         void *opaque)
{
    const struct cfg_kv *kv;
    size_t plen = strlen(prefix);
    int rc;

    for (kv = c->extra; kv; kv = kv->next) {
        if (strncmp(kv->key, prefix, plen) != 0)
            continue;
        rc = cb(kv->key + plen, kv->val, opaque);
        if (rc)
            return rc;
    }
    return 0;
}

void cfg_destroy(struct cfg *c)
{
    struct cfg_kv *kv, *next;
    int i;

    if (!c)
        return;
    for (i = 0; c->vals && c->tbl[i].key; i++)
        free(c->vals[i]);
    free(c->vals);
    free(c->source);
    free(c->env);
    for (kv = c->extra; kv; kv = next) {
        next = kv->next;
        free(kv->key);
        free(kv->val);
        free(kv);
    }
    free(c);
}
