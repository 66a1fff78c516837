#include "lib/cfg.h"

#include "lib/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cfg_kv {
    char *key, *val;
    struct cfg_kv *next;
};

struct cfg {
    const struct cfg_opt *tbl;
    void *target;
    const char *prog;
    const char *const *passthru;
    char **vals;         /* effective textual value per table row */
    const char **source; /* where each value came from */
    struct cfg_kv *extra, *extra_tail;
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

static void cfg_usage(const struct cfg *c, const char *usage)
{
    int i;

    printf("%s\n", usage);
    printf("Options:\n"
           "  -c PATH          read key = value lines from PATH\n"
           "  -o KEY=VALUE     set a key (highest precedence)\n"
           "  --log-level L    error|warn|info|debug (key log.level)\n"
           "  --dump-config    print the effective config (secrets "
           "masked) and exit\n"
           "  -h, --help       this text\n\nKeys (env var, default):\n");
    for (i = 0; c->tbl[i].key; i++) {
        const struct cfg_opt *o = &c->tbl[i];

        printf("  %-22s %-26s %s%s\n      %s\n", o->key, o->env ? o->env : "-",
               o->def ? o->def : "",
               (o->flags & CFG_REQUIRED) ? "(required)" : "",
               o->help ? o->help : "");
    }
    if (c->passthru)
        for (i = 0; c->passthru[i]; i++)
            printf("  %s*  passed verbatim to the library\n", c->passthru[i]);
}

static void cfg_apply(struct cfg *c)
{
    int i;

    for (i = 0; c->tbl[i].key; i++) {
        const struct cfg_opt *o = &c->tbl[i];
        char *field = (char *)c->target + o->off;
        const char *v = c->vals[i];
        long long n;
        int b;

        if (!v) {
            if (o->flags & CFG_REQUIRED)
                cfg_die(c, o->key, o->env ? o->env : "unset",
                        "required but not set");
            continue;
        }
        switch (o->type) {
        case CFG_STR:
            *(char **)(void *)field = c->vals[i];
            break;
        case CFG_INT:
            if (cfg_parse_ll(v, &n) < 0)
                cfg_die(c, o->key, c->source[i], "not an integer");
            if (n < o->min || n > o->max) {
                char r[128];

                snprintf(r, sizeof(r), "%lld out of range [%lld, %lld]", n,
                         o->min, o->max);
                cfg_die(c, o->key, c->source[i], r);
            }
            *(long long *)(void *)field = n;
            break;
        case CFG_BOOL:
            b = cfg_parse_bool(v);
            if (b < 0)
                cfg_die(c, o->key, c->source[i], "not a boolean");
            *(int *)(void *)field = b;
            break;
        }
    }
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
    for (kv = c->extra; kv; kv = kv->next) {
        int secret = strstr(kv->key, "password") || strstr(kv->key, "secret");

        printf("%s = %s\n", kv->key, secret ? "********" : kv->val);
    }
}

struct cfg *cfg_load(const struct cfg_opt *tbl, void *target,
                     const char *const *passthru, const char *prog,
                     const char *usage, int argc, char **argv)
{
    struct cfg *c = calloc(1, sizeof(*c));
    const char *file = NULL, *loglevel = NULL;
    int i, n = 0, dump = 0;

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
    if (!c->vals || !c->source) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(1);
    }
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            cfg_usage(c, usage);
            exit(0);
        } else if (!strcmp(argv[i], "--dump-config")) {
            dump = 1;
        } else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
            loglevel = argv[++i];
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            i++; /* applied after file and env, below */
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", prog,
                    argv[i]);
            exit(2);
        }
    }
    for (i = 0; i < n; i++)
        if (tbl[i].def) {
            c->vals[i] = strdup(tbl[i].def);
            c->source[i] = "default";
        }
    if (file)
        cfg_load_file(c, file);
    for (i = 0; i < n; i++) {
        const char *e = tbl[i].env ? getenv(tbl[i].env) : NULL;

        if (e && *e)
            cfg_set(c, tbl[i].key, e, tbl[i].env);
    }
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--log-level")) {
            i++;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            char *kv = strdup(argv[++i]), *eq = kv ? strchr(kv, '=') : NULL;

            if (!eq) {
                fprintf(stderr, "%s: -o expects KEY=VALUE, got '%s'\n", prog,
                        argv[i]);
                exit(2);
            }
            *eq = '\0';
            cfg_set(c, cfg_trim(kv), eq + 1, "-o");
            free(kv);
        }
    }
    if (loglevel && cfg_index(c, "log.level") >= 0)
        cfg_set(c, "log.level", loglevel, "--log-level");
    if (dump) {
        cfg_dump(c);
        exit(0);
    }
    cfg_apply(c);
    i = cfg_index(c, "log.level");
    if (i >= 0 && c->vals[i] && log_init(NULL, c->vals[i]) < 0)
        cfg_die(c, "log.level", c->source[i], "expected error|warn|info|debug");
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
    for (kv = c->extra; kv; kv = next) {
        next = kv->next;
        free(kv->key);
        free(kv->val);
        free(kv);
    }
    free(c);
}
