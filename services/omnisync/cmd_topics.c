/*
 * cmd_topics — `omnisync topics create`: the project's Kafka topics (the
 * table of events/topics.c) with their partitions and configs, through
 * the broker's admin API.  Idempotent: topics that exist are reported and
 * left as they are.  The deployment's one-shot `topics` job runs it.
 */
#include "cli.h"
#include "events/topics.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TOPICS_CONNECT_MS 10000 /* the broker must answer the metadata */
#define TOPICS_MAX_PARTITIONS 10000
#define TOPICS_MAX_REPLICATION 32

static const char *const topics_state_names[] = {
    [TOPICS_CREATED] = "created",
    [TOPICS_WOULD_CREATE] = "would create",
    [TOPICS_EXISTS] = "exists",
};

/* A --partitions / --replication value in 1..@p max; -1 when bad. */
static int topics_count_parse(const char *s, long long max)
{
    long long n;

    if (!s)
        return 0; /* the default */
    if (cli_qty_parse(s, 0, &n) < 0 || n < 1 || n > max)
        return -1;
    return (int)n;
}

/* The retention as text ("7d", "-": the broker's default). */
static void topics_ms_text(long long ms, char *buf, size_t size)
{
    if (ms < 0)
        snprintf(buf, size, "-");
    else if (ms % (24LL * 3600 * 1000) == 0)
        snprintf(buf, size, "%lldd", ms / (24LL * 3600 * 1000));
    else
        snprintf(buf, size, "%lldms", ms);
}

static int topics_print_table(const struct topics_result *res, int replication)
{
    static const char *const headers[] = {"TOPIC",      "STATE",
                                          "PARTITIONS", "CLEANUP",
                                          "RETENTION",  "MIN-COMPACTION-LAG",
                                          "REPLICATION"};
    struct cli_table *t = cli_table_new(7, headers);
    char parts[16], ret[32], lag[32], repl[16];
    size_t i;

    if (!t)
        return cli_err(CLI_FAIL, "topics create: out of memory");
    for (i = 0; i < topics_count(); i++) {
        const struct topic_def *d = topics_get(i);
        int ex = res[i].state == TOPICS_EXISTS;
        const char *cells[7];

        snprintf(parts, sizeof(parts), "%d", res[i].partitions);
        topics_ms_text(d->retention_ms, ret, sizeof(ret));
        topics_ms_text(d->min_compaction_lag_ms, lag, sizeof(lag));
        snprintf(repl, sizeof(repl), "%d", replication);
        cells[0] = d->name;
        cells[1] = topics_state_names[res[i].state];
        cells[2] = res[i].partitions < 0 ? "?" : parts;
        /* An existing topic's configs are the broker's, not shown here. */
        cells[3] = ex ? "-" : d->cleanup_policy;
        cells[4] = ex ? "-" : ret;
        cells[5] = ex ? "-" : lag;
        cells[6] = ex ? "-" : repl;
        cli_table_row(t, cells);
    }
    cli_table_print(t);
    cli_table_destroy(t);
    return CLI_OK;
}

/* One topic's JSON object. */
static json_t *topics_json_one(const struct topic_def *d,
                               const struct topics_result *r, int replication)
{
    json_t *o = json_object(), *cfg = json_object();

    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "state",
                        json_string(r->state == TOPICS_WOULD_CREATE
                                        ? "would_create"
                                        : topics_state_names[r->state]));
    json_object_set_new(o, "partitions",
                        r->partitions < 0 ? json_null()
                                          : json_integer(r->partitions));
    if (r->state == TOPICS_EXISTS) {
        json_decref(cfg);
        return o;
    }
    json_object_set_new(o, "replication", json_integer(replication));
    json_object_set_new(cfg, "cleanup.policy", json_string(d->cleanup_policy));
    if (d->retention_ms >= 0)
        json_object_set_new(cfg, "retention.ms", json_integer(d->retention_ms));
    if (d->min_compaction_lag_ms >= 0)
        json_object_set_new(cfg, "min.compaction.lag.ms",
                            json_integer(d->min_compaction_lag_ms));
    json_object_set_new(o, "config", cfg);
    return o;
}

static int topics_print_json(const struct topics_result *res, int replication,
                             int dry_run)
{
    json_t *root = json_object(), *arr = json_array();
    size_t i;

    for (i = 0; i < topics_count(); i++)
        json_array_append_new(
            arr, topics_json_one(topics_get(i), &res[i], replication));
    json_object_set_new(root, "dry_run", json_boolean(dry_run));
    json_object_set_new(root, "topics", arr);
    return cli_json_print(root);
}

static int topics_create_run(int argc, char **argv)
{
    const char *parts = NULL, *repl = NULL, *pos[1];
    int dry_run = 0, as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--partitions", &parts, NULL},
        {"--replication", &repl, NULL},
        {"--dry-run", NULL, &dry_run},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    struct topics_result res[16];
    struct topics_create_opts o;
    char err[512];

    rc = cli_args_parse("topics create", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    memset(&o, 0, sizeof(o));
    o.partitions = topics_count_parse(parts, TOPICS_MAX_PARTITIONS);
    o.replication = topics_count_parse(repl, TOPICS_MAX_REPLICATION);
    if (o.partitions < 0)
        return cli_err(CLI_USAGE,
                       "topics create: --partitions: expected 1..%d, got '%s'",
                       TOPICS_MAX_PARTITIONS, parts);
    if (o.replication < 0)
        return cli_err(CLI_USAGE,
                       "topics create: --replication: expected 1..%d, got '%s'",
                       TOPICS_MAX_REPLICATION, repl);
    o.bootstrap = cli_config()->kafka_bootstrap;
    if (!o.bootstrap || !*o.bootstrap)
        return cli_err(CLI_USAGE, "topics create: kafka.bootstrap "
                                  "(OMNISYNC_KAFKA) is not set");
    if (topics_count() > sizeof(res) / sizeof(res[0]))
        return cli_err(CLI_FAIL, "topics create: too many topics");
    o.dry_run = dry_run;
    o.connect_ms = TOPICS_CONNECT_MS;
    rc = topics_ensure(&o, res, err, sizeof(err));
    if (rc == TOPICS_UNREACHABLE)
        return cli_err(CLI_DEPENDENCY, "topics create: %s (%s)", err,
                       o.bootstrap);
    if (rc < 0)
        return cli_err(CLI_FAIL, "topics create: %s", err);
    if (!o.replication)
        o.replication = TOPICS_DEFAULT_REPLICATION;
    return as_json ? topics_print_json(res, o.replication, dry_run)
                   : topics_print_table(res, o.replication);
}

static const struct cli_sub topics_subs[] = {
    {"create", topics_create_run,
     "topics create [--partitions N] [--replication N] [--dry-run] [--json]\n"
     "  Create omnisync's Kafka topics on the broker at kafka.bootstrap\n"
     "  (OMNISYNC_KAFKA) with their cleanup policy, retention and\n"
     "  compaction lag: N partitions each (default 6), replication factor\n"
     "  N (default 1).  Topics that exist are reported (\"exists\", their\n"
     "  partition count) and left unchanged, so a rerun is harmless.\n"
     "  --dry-run: the broker validates the requests, nothing is created.\n"
     "  Exit 0 every topic exists afterwards (or would be created), 1 the\n"
     "  broker refused one, 2 usage, 3 Kafka not reachable (10 s)."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync topics ...`.
 * @returns a CLI_* code.
 */
int cmd_topics(int argc, char **argv)
{
    return cli_sub_run(topics_subs, argc, argv);
}
