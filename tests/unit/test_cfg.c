/*
 * test_cfg — cfg.h: strict parsers, the environment variable rule, the
 * precedence of the sources, the shared rows, cfg_load_head() (options
 * before a command word), and the exits of bad config (in a child).
 */
#include "lib/cfg.h"
#include "t.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct tcfg {
    char *name;
    long long port;
    int flag;
    char *dsn;
    char *key;
    long long drain_ms;
    char *log_level;
};

static const struct cfg_opt tbl[] = {
    {"tcfg.name", CFG_STR, "dflt", 0, 0, 0, offsetof(struct tcfg, name),
     "a name"},
    {"tcfg.port", CFG_INT, "10", 1, 100, 0, offsetof(struct tcfg, port),
     "a port"},
    {"tcfg.flag", CFG_BOOL, "off", 0, 0, 0, offsetof(struct tcfg, flag), ""},
    CFG_ROW_PG_DSN(struct tcfg, dsn, 0),
    CFG_ROW_SECRET_KEY(struct tcfg, key),
    CFG_ROW_DRAIN_MS(struct tcfg, drain_ms),
    CFG_ROW_LOG_LEVEL(struct tcfg, log_level, "warn"),
    {NULL},
};

static const struct cfg_opt tbl_required[] = {
    CFG_ROW_PG_DSN(struct tcfg, dsn, CFG_REQUIRED),
    {NULL},
};

static void test_parsers(void)
{
    long long n;

    T_ASSERT_EQ(cfg_parse_ll("123", &n), 0);
    T_ASSERT_EQ(n, 123);
    T_ASSERT_EQ(cfg_parse_ll("12x", &n), -1);
    T_ASSERT_EQ(cfg_parse_ll("", &n), -1);
    T_ASSERT_EQ(cfg_parse_ll("99999999999999999999999", &n), -1);
    T_ASSERT_EQ(cfg_parse_bool("On"), 1);
    T_ASSERT_EQ(cfg_parse_bool("no"), 0);
    T_ASSERT_EQ(cfg_parse_bool("maybe"), -1);
}

static void test_env_name(void)
{
    static const struct {
        const char *key, *env;
    } cases[] = {
        /* The rule. */
        {"drain.ms", "OMNISYNC_DRAIN_MS"},
        {"intake.max_body", "OMNISYNC_INTAKE_MAX_BODY"},
        {"stores.refresh.ms", "OMNISYNC_STORES_REFRESH_MS"},
        /* The established connection variables. */
        {"pg.dsn", "OMNISYNC_PG"},
        {"kafka.bootstrap", "OMNISYNC_KAFKA"},
        {"redis.addr", "OMNISYNC_REDIS"},
        {"secret.key", "OMNISYNC_SECRET_KEY"},
    };
    char env[CFG_ENV_MAX], tiny[8];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        T_ASSERT_EQ(cfg_env_name(cases[i].key, env, sizeof(env)), 0);
        T_ASSERT_STR_EQ(env, cases[i].env);
    }
    T_ASSERT_EQ(cfg_env_name("drain.ms", tiny, sizeof(tiny)), -1);
    T_ASSERT_STR_EQ(tiny, "");
    T_ASSERT_EQ(cfg_env_name("pg.dsn", tiny, sizeof(tiny)), -1);
}

/* default < file < environment (by the derived name) < -o */
static void test_precedence(void)
{
    char path[] = "/tmp/test_cfg_XXXXXX";
    char a0[] = "prog", a1[] = "-o", a2[] = "tcfg.port=42", a3[] = "-o",
         a4[] = "tcfg.flag=yes", a5[] = "-c";
    char *argv[] = {a0, a1, a2, a3, a4, a5, path, NULL};
    struct tcfg tc = {0};
    struct cfg *c;
    FILE *fp;
    int fd = mkstemp(path);

    T_ASSERT(fd >= 0);
    fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!fp)
        return;
    fprintf(fp, "# comment\n tcfg.name = fromfile \ntcfg.port = 50\n"
                "drain.ms = 2500\nkafka.acks = all\n");
    fclose(fp);
    setenv("OMNISYNC_TCFG_NAME", "fromenv", 1);
    setenv("OMNISYNC_TCFG_PORT", "7", 1);
    setenv("OMNISYNC_PG", "", 1); /* empty: unset */
    c = cfg_load(tbl, &tc, cfg_passthru_kafka, "prog", "usage", 7, argv);
    T_ASSERT_STR_EQ(tc.name, "fromenv"); /* env beats the file */
    T_ASSERT_EQ(tc.port, 42);            /* -o beats env */
    T_ASSERT_EQ(tc.flag, 1);
    T_ASSERT_EQ(tc.drain_ms, 2500); /* the file beats the default */
    T_ASSERT(tc.dsn == NULL);       /* not required, not set */
    T_ASSERT_STR_EQ(tc.log_level, "warn");
    cfg_destroy(c);
    unsetenv("OMNISYNC_TCFG_NAME");
    unsetenv("OMNISYNC_TCFG_PORT");
    unsetenv("OMNISYNC_PG");
    unlink(path);
}

/* Options up to the command word; the command's own words untouched. */
static void test_head(void)
{
    char a0[] = "omnisync", a1[] = "-o", a2[] = "tcfg.port=5", a3[] = "db",
         a4[] = "-o", a5[] = "tcfg.port=6";
    char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    char *argv2[] = {a0, a1, a2, NULL};
    char h1[] = "--help";
    char *argv3[] = {a0, h1, NULL};
    struct tcfg tc = {0};
    struct cfg *c;
    int argi = -1;

    c = cfg_load_head(tbl, &tc, "omnisync", 6, argv, &argi);
    T_ASSERT_EQ(argi, 3);
    T_ASSERT_EQ(tc.port, 5);
    cfg_destroy(c);
    memset(&tc, 0, sizeof(tc));
    c = cfg_load_head(tbl, &tc, "omnisync", 3, argv2, &argi);
    T_ASSERT_EQ(argi, 3); /* no command word */
    cfg_destroy(c);
    c = cfg_load_head(tbl, &tc, "omnisync", 2, argv3, &argi);
    T_ASSERT_EQ(argi, 1); /* --help is the program's */
    cfg_destroy(c);
}

/* Run cfg_load(@p t, argv) in a child; its exit status and output. */
static int child_load(const struct cfg_opt *t, int head, char **argv, char *out,
                      size_t out_size)
{
    int pfd[2], status = -1, argc = 0, argi;
    struct tcfg tc = {0};
    size_t len = 0;
    ssize_t got;
    pid_t pid;

    while (argv[argc])
        argc++;
    out[0] = '\0';
    if (pipe(pfd) < 0)
        return -1;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        if (head)
            cfg_load_head(t, &tc, "prog", argc, argv, &argi);
        else
            cfg_load(t, &tc, NULL, "prog", "usage", argc, argv);
        _exit(42);
    }
    close(pfd[1]);
    while (pid > 0 && len + 1 < out_size &&
           (got = read(pfd[0], out + len, out_size - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    close(pfd[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Bad settings and arguments: exit 2 with a message naming them. */
static void test_bad_config(void)
{
    static const struct {
        int head;            /* cfg_load_head() rather than cfg_load() */
        const char *a1, *a2; /* the arguments (a2 may be NULL) */
        const char *says;    /* in the output */
    } cases[] = {
        {0, "-o", "no.such=1", "prog: config: no.such (-o): unknown key"},
        {0, "-o", "tcfg.port=101", "tcfg.port (-o): 101 out of range [1, 100]"},
        {0, "-o", "drain.ms=soon", "drain.ms (-o): not an integer"},
        {0, "-o", "log.level=loud", "log.level (-o): expected error|warn"},
        {0, "stray", NULL, "unknown argument 'stray'"},
        {1, "-c", NULL, "no value after '-c'"},
    };
    char out[8192], a0[] = "prog", a1[64], a2[64];
    char *argv[4];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(a1, sizeof(a1), "%s", cases[i].a1);
        snprintf(a2, sizeof(a2), "%s", cases[i].a2 ? cases[i].a2 : "");
        argv[0] = a0;
        argv[1] = a1;
        argv[2] = cases[i].a2 ? a2 : NULL;
        argv[3] = NULL;
        T_ASSERT_EQ(child_load(tbl, cases[i].head, argv, out, sizeof(out)), 2);
        T_ASSERT_STR_CONTAINS(out, cases[i].says);
    }
}

static void test_exits(void)
{
    char out[8192];
    char a0[] = "prog", dump[] = "--dump-config", help[] = "--help";
    char *argv_dump[] = {a0, dump, NULL};
    char *argv_plain[] = {a0, NULL};
    char *argv_help[] = {a0, help, NULL};

    /* A required key names its environment variable. */
    unsetenv("OMNISYNC_PG");
    T_ASSERT_EQ(child_load(tbl_required, 0, argv_plain, out, sizeof(out)), 2);
    T_ASSERT_STR_CONTAINS(out, "pg.dsn (OMNISYNC_PG): required but not set");

    /* --dump-config: sources, secrets masked; --help: env names. */
    setenv("OMNISYNC_SECRET_KEY", "00ff00ff", 1);
    setenv("OMNISYNC_PG", "host=x password=hunter2", 1);
    T_ASSERT_EQ(child_load(tbl, 1, argv_dump, out, sizeof(out)), 0);
    T_ASSERT_STR_CONTAINS(out, "secret.key = ********\t# OMNISYNC_SECRET_KEY");
    T_ASSERT_STR_CONTAINS(out, "pg.dsn = ********\t# OMNISYNC_PG");
    T_ASSERT_STR_CONTAINS(out, "drain.ms = 10000\t# default");
    T_ASSERT(!strstr(out, "00ff00ff") && !strstr(out, "hunter2"));
    T_ASSERT_EQ(child_load(tbl, 0, argv_help, out, sizeof(out)), 0);
    T_ASSERT_STR_CONTAINS(out, "OMNISYNC_DRAIN_MS");
    T_ASSERT_STR_CONTAINS(out, "OMNISYNC_TCFG_PORT");
    unsetenv("OMNISYNC_SECRET_KEY");
    unsetenv("OMNISYNC_PG");

    /* secret.key is checked at boot: a weak or malformed key exits 2 naming
     * the variable, never the value; a generated one loads. */
    setenv("OMNISYNC_SECRET_KEY",
           "0000000000000000000000000000000000000000000000000000000000000000",
           1);
    T_ASSERT_EQ(child_load(tbl, 0, argv_plain, out, sizeof(out)), 2);
    T_ASSERT_STR_CONTAINS(out, "config: secret.key (OMNISYNC_SECRET_KEY): key "
                               "is weak (one byte repeated");
    T_ASSERT(!strstr(out, "00000000"));
    setenv("OMNISYNC_SECRET_KEY", "00ff00ff", 1);
    T_ASSERT_EQ(child_load(tbl, 1, argv_plain, out, sizeof(out)), 2);
    T_ASSERT_STR_CONTAINS(out, "secret.key (OMNISYNC_SECRET_KEY): key must be "
                               "64 hex characters (got 8)");
    T_ASSERT(!strstr(out, "00ff00ff"));
    setenv("OMNISYNC_SECRET_KEY",
           "3f9c2a71d04be8165a0c97e3b2f46d18c5e07a9b31f28d4c6e90b7a5d3128f4e",
           1);
    T_ASSERT_EQ(child_load(tbl, 0, argv_plain, out, sizeof(out)), 42);
    unsetenv("OMNISYNC_SECRET_KEY");
}

/* --dump-config prints a pass-through property only from the allow-list. */
static void test_printable(void)
{
    static const struct {
        const char *key;
        int clear;
    } cases[] = {
        {"kafka.bootstrap.servers", 1},
        {"kafka.socket.timeout.ms", 1},
        {"kafka.message.max.bytes", 1},
        {"kafka.ssl.ca.location", 1},
        {"kafka.security.protocol", 1},
        {"kafka.ssl.key.pem", 0},
        {"kafka.ssl.key.password", 0},
        {"kafka.sasl.password", 0},
        {"kafka.sasl.username", 0},
        {"kafka.sasl.oauthbearer.config", 0},
        {"kafka.sasl.oauthbearer.client.secret", 0},
        {"kafka.ssl.certificate.pem", 0},
        {"kafka.ssl_engine_callback_data", 0},
        {"kafka.secret.timeout.ms", 0},
        {"kafka.some.future.property", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_ASSERT_EQ(cfg_printable(cases[i].key), cases[i].clear);
}

int main(void)
{
    test_parsers();
    test_env_name();
    test_precedence();
    test_head();
    test_bad_config();
    test_exits();
    test_printable();
    T_DONE();
}
