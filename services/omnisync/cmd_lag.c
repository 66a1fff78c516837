/*
 * cmd_lag — `omnisync lag [--group G] [--all] [--max N] [--json] [--watch
 * [--interval S]]`: per consumer group, topic and partition, the committed
 * offset, the log-end offset, the lag and the age of the oldest unconsumed
 * message, like `kafka-consumer-groups --describe` (docs/cli.md, "lag").
 *
 * The numbers come from the broker through lib/kgroups (its admin API;
 * real broker only).
 */
#include "cli.h"
#include "lib/cfg.h"
#include "lib/kgroups.h"
#include "lib/sig.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LAG_PREFIX "omnisync-" /* the groups shown without --group/--all */
#define LAG_INTERVAL_S 5       /* --watch default */

#define LAG_SYNOPSIS                                                           \
    "lag [--group G | --all] [--max N] [--json] [--watch [--interval S]]\n"
#define LAG_USAGE                                                              \
    LAG_SYNOPSIS                                                               \
    "  Per consumer group, topic and partition (broker: OMNISYNC_KAFKA):\n"    \
    "  the committed offset, the log-end offset, the lag and the age of\n"     \
    "  the oldest unconsumed message.  A partition without a committed\n"      \
    "  offset counts from the log start.\n"                                    \
    "  Groups named omnisync-* by default; --group G: only G; --all: all.\n"   \
    "  --max N: the largest lag (messages, per partition) still healthy\n"     \
    "  (default 0: caught up).  --watch: refresh every --interval seconds\n"   \
    "  (default 5) until SIGINT/SIGTERM.\n"                                    \
    "  Exit 0: every lag <= --max; 1: some lag > --max; 2: usage, unknown\n"   \
    "  group, OMNISYNC_KAFKA unset; 3: broker unreachable.\n"

struct lag_opts {
    const char *bootstrap;
    const char *group; /* --group (may be NULL) */
    int all, as_json, watch;
    long long max, interval_s;
};

/* ---- output -------------------------------------------------------------- */

static void lag_ll_fmt(int64_t v, char *out, size_t size)
{
    if (v < 0)
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%lld", (long long)v);
}

static int lag_print_table(const struct kgroups_report *rep)
{
    static const char *const hdr[] = {
        "GROUP",          "TOPIC", "PARTITION",  "CURRENT-OFFSET",
        "LOG-END-OFFSET", "LAG",   "OLDEST-AGE", "CLIENT-ID"};
    struct cli_table *t = cli_table_new(8, hdr);
    char part[16], cur[24], end[24], lag[24], age[48];
    const char *cells[8];
    int rc = CLI_DEPENDENCY;

    if (!t)
        return CLI_DEPENDENCY;
    for (size_t g = 0; g < rep->ngroups; g++) {
        const struct kgroups_group *gr = &rep->groups[g];

        for (size_t i = 0; i < gr->nrows; i++) {
            const struct kgroups_row *r = &gr->rows[i];

            snprintf(part, sizeof(part), "%d", (int)r->partition);
            lag_ll_fmt(r->committed, cur, sizeof(cur));
            lag_ll_fmt(r->hi, end, sizeof(end));
            lag_ll_fmt(r->lag, lag, sizeof(lag));
            kgroups_age_fmt(r->age_s, age, sizeof(age));
            cells[0] = gr->id;
            cells[1] = r->topic;
            cells[2] = part;
            cells[3] = cur;
            cells[4] = end;
            cells[5] = lag;
            cells[6] = age;
            cells[7] = r->client_id ? r->client_id : "-";
            if (cli_table_row(t, cells) < 0)
                goto out;
        }
        if (gr->nrows == 0) { /* a group with members but no partitions */
            const char *empty[8] = {gr->id, "-", "-", "-", "-", "-", "-", "-"};

            if (cli_table_row(t, empty) < 0)
                goto out;
        }
    }
    cli_table_print(t);
    rc = CLI_OK;
out:
    cli_table_destroy(t);
    return rc;
}

static json_t *lag_ll_json(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *lag_row_json(const struct kgroups_row *r)
{
    return json_pack(
        "{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "topic", r->topic,
        "partition", (int)r->partition, "current_offset",
        lag_ll_json(r->committed), "log_start_offset", lag_ll_json(r->lo),
        "log_end_offset", lag_ll_json(r->hi), "lag", lag_ll_json(r->lag),
        "oldest_age_seconds", r->age_s < 0 ? json_null() : json_real(r->age_s),
        "client_id", r->client_id ? json_string(r->client_id) : json_null());
}

static json_t *lag_report_json(const struct kgroups_report *rep,
                               const struct lag_opts *o, int ok)
{
    json_t *groups = json_array();
    int64_t max = kgroups_report_max(rep);

    for (size_t g = 0; groups && g < rep->ngroups; g++) {
        const struct kgroups_group *gr = &rep->groups[g];
        json_t *parts = json_array();
        int64_t total = 0;

        for (size_t i = 0; parts && i < gr->nrows; i++) {
            json_array_append_new(parts, lag_row_json(&gr->rows[i]));
            if (gr->rows[i].lag > 0)
                total += gr->rows[i].lag;
        }
        json_array_append_new(
            groups, json_pack("{s:s, s:s, s:i, s:I, s:o}", "group", gr->id,
                              "state", gr->state, "members", gr->members, "lag",
                              (json_int_t)total, "partitions",
                              parts ? parts : json_array()));
    }
    return json_pack("{s:o, s:o, s:I, s:b}", "groups",
                     groups ? groups : json_array(), "max_lag",
                     lag_ll_json(max), "max", (json_int_t)o->max, "ok", ok);
}

/* The groups --group / --all / the default select. */
static int lag_collect(rd_kafka_t *rk, const struct lag_opts *o,
                       struct kgroups_report *rep, char *errstr,
                       size_t errstr_size)
{
    struct kgroups_want want = {o->group, NULL};
    struct kgroups_query q = {
        .bootstrap = o->bootstrap,
        .want = o->group ? &want : NULL,
        .nwant = o->group ? 1 : 0,
        .must_exist = 1,
        .prefix = LAG_PREFIX,
        .all = o->all,
    };

    return kgroups_collect(rk, &q, rep, errstr, errstr_size);
}

/* One look: collect, print, judge.  @returns the exit code. */
static int lag_once(rd_kafka_t *rk, const struct lag_opts *o)
{
    struct kgroups_report rep;
    char err[512], ts[32];
    json_t *root;
    int rc, ok;
    time_t now = time(NULL);
    struct tm tm;

    memset(&rep, 0, sizeof(rep));
    rc = lag_collect(rk, o, &rep, err, sizeof(err));
    if (rc < 0) {
        rc = cli_err(rc == -2 ? CLI_USAGE : CLI_DEPENDENCY, "lag: %s", err);
        goto out;
    }
    ok = kgroups_report_max(&rep) <= o->max;
    rc = ok ? CLI_OK : CLI_NEGATIVE;
    if (o->as_json) {
        root = lag_report_json(&rep, o, ok);
        if (!root) {
            rc = cli_err(CLI_DEPENDENCY, "lag: out of memory");
            goto out;
        }
        json_dumpf(root, stdout,
                   (o->watch ? JSON_COMPACT : JSON_INDENT(2)) |
                       JSON_PRESERVE_ORDER);
        json_decref(root);
        fputc('\n', stdout);
        goto out;
    }
    if (o->watch) {
        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%s  max lag %lld (--max %lld): %s\n", ts,
               (long long)kgroups_report_max(&rep), o->max,
               ok ? "ok" : "LAGGING");
    }
    if (rep.ngroups == 0)
        fprintf(stderr, "omnisync: lag: no consumer groups%s\n",
                o->all ? "" : " named " LAG_PREFIX "*");
    else if (lag_print_table(&rep) != CLI_OK)
        rc = cli_err(CLI_DEPENDENCY, "lag: out of memory");
out:
    fflush(stdout);
    kgroups_report_clear(&rep);
    return rc;
}

static int lag_opts_parse(int argc, char **argv, struct lag_opts *o)
{
    const char *max = NULL, *interval = NULL;
    const struct cli_opt opts[] = {
        {"--group", &o->group, NULL}, {"--all", NULL, &o->all},
        {"--max", &max, NULL},        {"--json", NULL, &o->as_json},
        {"--watch", NULL, &o->watch}, {"--interval", &interval, NULL},
        {NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc;

    rc = cli_args_parse("lag", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (o->group && (!*o->group || o->all))
        return cli_err(CLI_USAGE, "lag: --group needs a name, without --all");
    if (max && cli_qty_parse(max, 1, &o->max) < 0)
        return cli_err(CLI_USAGE, "lag: --max: expected 0..%lld, got '%s'",
                       CLI_QTY_MAX, max);
    if (interval && (cli_qty_parse(interval, 0, &o->interval_s) < 0 ||
                     o->interval_s < 1 || o->interval_s > 3600))
        return cli_err(CLI_USAGE,
                       "lag: --interval: expected 1..3600 seconds, got '%s'",
                       interval);
    if (interval && !o->watch)
        return cli_err(CLI_USAGE, "lag: --interval goes with --watch");
    o->bootstrap = cli_config()->kafka_bootstrap;
    if (!o->bootstrap || !*o->bootstrap)
        return cli_err(CLI_USAGE, "lag: kafka.bootstrap (OMNISYNC_KAFKA) is "
                                  "not set");
    return CLI_OK;
}

int cmd_lag(int argc, char **argv)
{
    struct lag_opts o;
    rd_kafka_t *rk;
    char err[512];
    int rc;

    if (argc > 1 && cli_is_help(argv[1])) {
        printf("usage: omnisync " LAG_USAGE);
        return CLI_OK;
    }
    memset(&o, 0, sizeof(o));
    o.interval_s = LAG_INTERVAL_S;
    rc = lag_opts_parse(argc, argv, &o);
    if (rc != CLI_OK) {
        if (rc == CLI_USAGE)
            fputs("usage: omnisync " LAG_SYNOPSIS, stderr);
        return rc;
    }
    rk = kgroups_client_new(o.bootstrap, err, sizeof(err));
    if (!rk)
        return cli_err(CLI_DEPENDENCY, "lag: %s", err);
    if (o.watch)
        sig_install();
    for (;;) {
        rc = lag_once(rk, &o);
        if (!o.watch || sig_sleep_ms((long)o.interval_s * 1000) < 0)
            break;
        if (!o.as_json)
            putchar('\n');
    }
    rd_kafka_destroy(rk);
    return rc;
}
