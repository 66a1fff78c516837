/*
 * cmd_lag — `omnisync lag [--group G] [--all] [--max N] [--json] [--watch
 * [--interval S]]`: per consumer group, topic and partition, the committed
 * offset, the log-end offset, the lag and the age of the oldest unconsumed
 * message, like `kafka-consumer-groups --describe` (docs/cli.md, "lag").
 *
 * Everything comes from the broker through librdkafka's admin API (real
 * broker only; the mock cluster has none): ListConsumerGroups,
 * DescribeConsumerGroups (state, members, assignments),
 * ListConsumerGroupOffsets (committed offsets), watermarks per partition,
 * and, for each partition with a lag, the message at the committed offset
 * read by a throwaway consumer that joins no group (its timestamp gives the
 * age; bounded time).
 */
#include "cli.h"
#include "lib/cfg.h"
#include "lib/sig.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LAG_PREFIX "omnisync-" /* the groups shown without --group/--all */
#define LAG_CONNECT_MS 5000    /* the first request: is the broker there */
#define LAG_TIMEOUT_MS 10000   /* one admin request */
#define LAG_WM_TIMEOUT_MS 5000 /* one watermark query */
#define LAG_AGE_BUDGET_MS 5000 /* reading every oldest message */
#define LAG_AGE_ONE_MS 2000    /* reading one */
#define LAG_INTERVAL_S 5       /* --watch default */
#define LAG_N(a) (sizeof(a) / sizeof((a)[0]))

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

struct lag_row {
    char *topic;
    int32_t partition;
    int64_t committed; /* -1: none */
    int64_t lo, hi;    /* log start and end; -1: unknown */
    int64_t lag;       /* -1: unknown */
    double age_s;      /* < 0: nothing waiting, or unknown */
    char *client_id;   /* the member it is assigned to (may be NULL) */
};

struct lag_group {
    char *id;
    const char *state; /* static, from librdkafka */
    int members;
    struct lag_row *rows;
    size_t nrows, cap;
};

struct lag_report {
    struct lag_group *groups;
    size_t ngroups;
};

struct lag_opts {
    const char *bootstrap;
    const char *group; /* --group (may be NULL) */
    int all, as_json, watch;
    long long max, interval_s;
};

/* ---- report -------------------------------------------------------------- */

static void lag_report_clear(struct lag_report *r)
{
    for (size_t g = 0; g < r->ngroups; g++) {
        struct lag_group *gr = &r->groups[g];

        for (size_t i = 0; i < gr->nrows; i++) {
            free(gr->rows[i].topic);
            free(gr->rows[i].client_id);
        }
        free(gr->rows);
        free(gr->id);
    }
    free(r->groups);
    memset(r, 0, sizeof(*r));
}

/* The row of @p topic/@p partition in @p g, added when missing. */
static struct lag_row *lag_row_get(struct lag_group *g, const char *topic,
                                   int32_t partition)
{
    struct lag_row *r;

    for (size_t i = 0; i < g->nrows; i++)
        if (g->rows[i].partition == partition &&
            strcmp(g->rows[i].topic, topic) == 0)
            return &g->rows[i];
    if (g->nrows == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct lag_row *nr = realloc(g->rows, cap * sizeof(*nr));

        if (!nr)
            return NULL;
        g->rows = nr;
        g->cap = cap;
    }
    r = &g->rows[g->nrows];
    memset(r, 0, sizeof(*r));
    r->topic = strdup(topic);
    if (!r->topic)
        return NULL;
    r->partition = partition;
    r->committed = r->lo = r->hi = r->lag = -1;
    r->age_s = -1;
    g->nrows++;
    return r;
}

static int lag_row_cmp(const void *a, const void *b)
{
    const struct lag_row *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);

    return c ? c
             : (x->partition > y->partition) - (x->partition < y->partition);
}

static int lag_group_cmp(const void *a, const void *b)
{
    return strcmp(((const struct lag_group *)a)->id,
                  ((const struct lag_group *)b)->id);
}

/* ---- admin requests ------------------------------------------------------ */

static rd_kafka_t *lag_client_new(const char *bootstrap, rd_kafka_type_t type,
                                  char *errstr, size_t errstr_size)
{
    /* Consumer settings only matter for the throwaway oldest-message
     * reader: it joins no group, commits nothing, sees uncommitted
     * transactions too, and stops at the end of a partition. */
    static const char *const common[][2] = {
        {"log_level", "2"}, /* our own messages say what failed */
        {"socket.timeout.ms", "10000"},
    };
    static const char *const consumer[][2] = {
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
        {"isolation.level", "read_uncommitted"},
        {"auto.offset.reset", "earliest"},
        {"fetch.wait.max.ms", "100"},
        {"queued.max.messages.kbytes", "1024"},
    };
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    size_t i;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof(e)) !=
        RD_KAFKA_CONF_OK)
        goto bad;
    for (i = 0; i < LAG_N(common); i++)
        if (rd_kafka_conf_set(conf, common[i][0], common[i][1], e, sizeof(e)) !=
            RD_KAFKA_CONF_OK)
            goto bad;
    for (i = 0; type == RD_KAFKA_CONSUMER && i < LAG_N(consumer); i++)
        if (rd_kafka_conf_set(conf, consumer[i][0], consumer[i][1], e,
                              sizeof(e)) != RD_KAFKA_CONF_OK)
            goto bad;
    rk = rd_kafka_new(type, conf, e, sizeof(e));
    if (rk)
        return rk;
bad:
    snprintf(errstr, errstr_size, "kafka: %s", e);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Wait for the result of an admin request on @p q.
 * @returns the event (rd_kafka_event_destroy()), or NULL with errstr. */
static rd_kafka_event_t *lag_admin_wait(rd_kafka_queue_t *q,
                                        rd_kafka_event_type_t type,
                                        const char *what, char *errstr,
                                        size_t errstr_size)
{
    rd_kafka_event_t *ev =
        rd_kafka_queue_poll(q, LAG_TIMEOUT_MS + 2000 /* ms */);

    if (!ev) {
        snprintf(errstr, errstr_size, "%s: timed out", what);
        return NULL;
    }
    if (rd_kafka_event_type(ev) != type || rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "%s: %s", what,
                 rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
                                          : "unexpected event");
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *lag_admin_opts(rd_kafka_t *rk,
                                               rd_kafka_admin_op_t op)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    char e[256];

    if (o)
        rd_kafka_AdminOptions_set_request_timeout(o, LAG_TIMEOUT_MS, e,
                                                  sizeof(e));
    return o;
}

/* Add a group named @p id to @p r. */
static int lag_group_add(struct lag_report *r, const char *id)
{
    struct lag_group *ng =
        realloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));

    if (!ng)
        return -1;
    r->groups = ng;
    memset(&ng[r->ngroups], 0, sizeof(*ng));
    ng[r->ngroups].id = strdup(id);
    if (!ng[r->ngroups].id)
        return -1;
    ng[r->ngroups].state = "Unknown";
    r->ngroups++;
    return 0;
}

/* The groups to show: --group, or every group (named omnisync-* unless
 * --all) the cluster lists. */
static int lag_groups_list(rd_kafka_t *rk, rd_kafka_queue_t *q,
                           const struct lag_opts *o, struct lag_report *r,
                           char *errstr, size_t errstr_size)
{
    const rd_kafka_ConsumerGroupListing_t **gl;
    const rd_kafka_error_t **errs;
    rd_kafka_AdminOptions_t *ao;
    rd_kafka_event_t *ev;
    size_t n, nerr, i;
    int rc = -1;

    if (o->group)
        return lag_group_add(r, o->group);
    ao = lag_admin_opts(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(rk, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    ev = lag_admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT,
                        "list consumer groups", errstr, errstr_size);
    if (!ev)
        return -1;
    gl = rd_kafka_ListConsumerGroups_result_valid(
        rd_kafka_event_ListConsumerGroups_result(ev), &n);
    errs = rd_kafka_ListConsumerGroups_result_errors(
        rd_kafka_event_ListConsumerGroups_result(ev), &nerr);
    if (nerr > 0) {
        /* Some broker did not answer: a partial list would hide lag. */
        snprintf(errstr, errstr_size, "list consumer groups: %s",
                 rd_kafka_error_string(errs[0]));
        goto out;
    }
    for (i = 0; i < n; i++) {
        const char *id = rd_kafka_ConsumerGroupListing_group_id(gl[i]);

        if (!o->all && strncmp(id, LAG_PREFIX, strlen(LAG_PREFIX)) != 0)
            continue;
        if (lag_group_add(r, id) < 0) {
            snprintf(errstr, errstr_size, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    rd_kafka_event_destroy(ev);
    return rc;
}

/* State, members and the partitions each member is assigned. */
static int lag_groups_describe(rd_kafka_t *rk, rd_kafka_queue_t *q,
                               struct lag_report *r, char *errstr,
                               size_t errstr_size)
{
    const rd_kafka_ConsumerGroupDescription_t **gd;
    const char **ids = calloc(r->ngroups ? r->ngroups : 1, sizeof(*ids));
    rd_kafka_AdminOptions_t *ao;
    rd_kafka_event_t *ev;
    size_t n, i, g;

    if (!ids) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (g = 0; g < r->ngroups; g++)
        ids[g] = r->groups[g].id;
    ao = lag_admin_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(rk, ids, r->ngroups, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    free(ids);
    ev = lag_admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                        "describe consumer groups", errstr, errstr_size);
    if (!ev)
        return -1;
    gd = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    for (i = 0; i < n; i++) {
        const char *id = rd_kafka_ConsumerGroupDescription_group_id(gd[i]);
        struct lag_group *gr = NULL;

        for (g = 0; g < r->ngroups && !gr; g++)
            if (strcmp(r->groups[g].id, id) == 0)
                gr = &r->groups[g];
        if (!gr || rd_kafka_ConsumerGroupDescription_error(gd[i]))
            continue;
        gr->state = rd_kafka_consumer_group_state_name(
            rd_kafka_ConsumerGroupDescription_state(gd[i]));
        gr->members =
            (int)rd_kafka_ConsumerGroupDescription_member_count(gd[i]);
        for (size_t m = 0; m < (size_t)gr->members; m++) {
            const rd_kafka_MemberDescription_t *md =
                rd_kafka_ConsumerGroupDescription_member(gd[i], m);
            const rd_kafka_topic_partition_list_t *tp =
                rd_kafka_MemberAssignment_partitions(
                    rd_kafka_MemberDescription_assignment(md));

            for (int k = 0; tp && k < tp->cnt; k++) {
                struct lag_row *row =
                    lag_row_get(gr, tp->elems[k].topic, tp->elems[k].partition);

                if (row && !row->client_id)
                    row->client_id =
                        strdup(rd_kafka_MemberDescription_client_id(md));
            }
        }
    }
    rd_kafka_event_destroy(ev);
    return 0;
}

/* The committed offsets of group @p g, every partition it committed. */
static int lag_group_offsets(rd_kafka_t *rk, rd_kafka_queue_t *q,
                             struct lag_group *g, char *errstr,
                             size_t errstr_size)
{
    rd_kafka_ListConsumerGroupOffsets_t *req;
    const rd_kafka_group_result_t **gr;
    const rd_kafka_topic_partition_list_t *tp;
    rd_kafka_AdminOptions_t *ao;
    rd_kafka_event_t *ev;
    size_t n;
    int rc = -1;

    req = rd_kafka_ListConsumerGroupOffsets_new(g->id, NULL);
    ao = lag_admin_opts(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    ev = lag_admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
                        "list committed offsets", errstr, errstr_size);
    if (!ev)
        return -1;
    gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    if (n != 1 || rd_kafka_group_result_error(gr[0])) {
        snprintf(
            errstr, errstr_size, "committed offsets of %s: %s", g->id,
            n != 1 ? "no result"
                   : rd_kafka_error_string(rd_kafka_group_result_error(gr[0])));
        goto out;
    }
    tp = rd_kafka_group_result_partitions(gr[0]);
    for (int k = 0; tp && k < tp->cnt; k++) {
        struct lag_row *row;

        if (tp->elems[k].err || tp->elems[k].offset < 0)
            continue;
        row = lag_row_get(g, tp->elems[k].topic, tp->elems[k].partition);
        if (!row) {
            snprintf(errstr, errstr_size, "out of memory");
            goto out;
        }
        row->committed = tp->elems[k].offset;
    }
    rc = 0;
out:
    rd_kafka_event_destroy(ev);
    return rc;
}

/* Every partition of every topic the group consumes gets a row: a
 * partition with no commit yet still holds messages the group will read. */
static int lag_group_expand(struct lag_group *g, const rd_kafka_metadata_t *md)
{
    size_t n = g->nrows;

    for (int t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        size_t i;

        for (i = 0; i < n; i++)
            if (strcmp(g->rows[i].topic, mt->topic) == 0)
                break;
        if (i == n)
            continue;
        for (int p = 0; p < mt->partition_cnt; p++)
            if (!lag_row_get(g, mt->topic, mt->partitions[p].id))
                return -1;
    }
    return 0;
}

/* Watermarks and lag of every row. */
static int lag_group_watermarks(rd_kafka_t *rk, struct lag_group *g,
                                char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < g->nrows; i++) {
        struct lag_row *r = &g->rows[i];
        int64_t lo, hi;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            rk, r->topic, r->partition, &lo, &hi, LAG_WM_TIMEOUT_MS);

        if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            continue; /* a deleted topic the group still has offsets for */
        if (err) {
            snprintf(errstr, errstr_size, "watermarks of %s [%d]: %s", r->topic,
                     (int)r->partition, rd_kafka_err2str(err));
            return -1;
        }
        r->lo = lo;
        r->hi = hi;
        r->lag = r->committed >= 0 ? hi - r->committed : hi - lo;
        if (r->lag < 0)
            r->lag = 0;
    }
    return 0;
}

/* ---- oldest unconsumed message ------------------------------------------- */

static long long lag_now_ms(int realtime)
{
    struct timespec ts;

    clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the message at @p r's first unconsumed offset; set its age. */
static void lag_row_age(rd_kafka_t *rk, struct lag_row *r, long long wait_ms)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, r->topic, NULL);
    int64_t from = r->committed >= r->lo ? r->committed : r->lo;
    long long end = lag_now_ms(0) + wait_ms;

    if (!rkt)
        return;
    if (rd_kafka_consume_start(rkt, r->partition, from) == -1) {
        rd_kafka_topic_destroy(rkt);
        return;
    }
    while (lag_now_ms(0) < end) {
        rd_kafka_message_t *m = rd_kafka_consume(rkt, r->partition, 100);
        rd_kafka_timestamp_type_t tt;
        int64_t ts;

        if (!m)
            continue;
        if (m->err) { /* end of the partition, or an error: no age */
            rd_kafka_message_destroy(m);
            break;
        }
        ts = rd_kafka_message_timestamp(m, &tt);
        rd_kafka_message_destroy(m);
        if (tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts >= 0) {
            r->age_s = (double)(lag_now_ms(1) - ts) / 1000.0;
            if (r->age_s < 0)
                r->age_s = 0;
        }
        break;
    }
    rd_kafka_consume_stop(rkt, r->partition);
    rd_kafka_topic_destroy(rkt);
}

/* Ages of every row with a lag, within LAG_AGE_BUDGET_MS in all; rows not
 * reached keep an unknown age. */
static void lag_report_ages(const char *bootstrap, struct lag_report *rep)
{
    char err[512];
    rd_kafka_t *rk = NULL;
    long long end = lag_now_ms(0) + LAG_AGE_BUDGET_MS;

    for (size_t g = 0; g < rep->ngroups; g++)
        for (size_t i = 0; i < rep->groups[g].nrows; i++) {
            struct lag_row *r = &rep->groups[g].rows[i];
            long long left = end - lag_now_ms(0);

            if (r->lag <= 0 || left <= 0)
                continue;
            if (!rk) {
                rk = lag_client_new(bootstrap, RD_KAFKA_CONSUMER, err,
                                    sizeof(err));
                if (!rk) {
                    cli_err(CLI_DEPENDENCY, "lag: oldest message: %s", err);
                    return;
                }
            }
            lag_row_age(rk, r, left < LAG_AGE_ONE_MS ? left : LAG_AGE_ONE_MS);
        }
    if (rk)
        rd_kafka_destroy(rk);
}

/* ---- one look ------------------------------------------------------------ */

/* Fill @p rep.  @returns 0, or -1 with errstr (-2: an unknown --group). */
static int lag_collect(rd_kafka_t *rk, const struct lag_opts *o,
                       struct lag_report *rep, char *errstr, size_t errstr_size)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_resp_err_t err;
    int rc = -1;

    err = rd_kafka_metadata(rk, 1, NULL, &md, LAG_CONNECT_MS);
    if (err) {
        snprintf(errstr, errstr_size, "cannot reach the broker at %s: %s",
                 o->bootstrap, rd_kafka_err2str(err));
        md = NULL;
        goto out;
    }
    if (lag_groups_list(rk, q, o, rep, errstr, errstr_size) < 0)
        goto out;
    if (rep->ngroups &&
        lag_groups_describe(rk, q, rep, errstr, errstr_size) < 0)
        goto out;
    for (size_t g = 0; g < rep->ngroups; g++) {
        struct lag_group *gr = &rep->groups[g];

        if (lag_group_offsets(rk, q, gr, errstr, errstr_size) < 0)
            goto out;
        if (o->group && gr->nrows == 0 && gr->members == 0) {
            snprintf(errstr, errstr_size,
                     "consumer group %s not found (no members, no committed "
                     "offsets)",
                     gr->id);
            rc = -2;
            goto out;
        }
        if (lag_group_expand(gr, md) < 0) {
            snprintf(errstr, errstr_size, "out of memory");
            goto out;
        }
        if (lag_group_watermarks(rk, gr, errstr, errstr_size) < 0)
            goto out;
        qsort(gr->rows, gr->nrows, sizeof(*gr->rows), lag_row_cmp);
    }
    qsort(rep->groups, rep->ngroups, sizeof(*rep->groups), lag_group_cmp);
    lag_report_ages(o->bootstrap, rep);
    rc = 0;
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* The largest lag of any row (-1 when no row has a known lag). */
static int64_t lag_report_max(const struct lag_report *rep)
{
    int64_t m = -1;

    for (size_t g = 0; g < rep->ngroups; g++)
        for (size_t i = 0; i < rep->groups[g].nrows; i++)
            if (rep->groups[g].rows[i].lag > m)
                m = rep->groups[g].rows[i].lag;
    return m;
}

/* ---- output -------------------------------------------------------------- */

/* "4.2s", "12m05s", "3h07m", "2d04h"; "-" when unknown or nothing waits. */
static void lag_age_fmt(double s, char *out, size_t size)
{
    long long t = (long long)s;

    if (s < 0)
        snprintf(out, size, "-");
    else if (s < 60)
        snprintf(out, size, "%.1fs", s);
    else if (t < 3600)
        snprintf(out, size, "%lldm%02llds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(out, size, "%lldh%02lldm", t / 3600, t % 3600 / 60);
    else
        snprintf(out, size, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
}

static void lag_ll_fmt(int64_t v, char *out, size_t size)
{
    if (v < 0)
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%lld", (long long)v);
}

static int lag_print_table(const struct lag_report *rep)
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
        const struct lag_group *gr = &rep->groups[g];

        for (size_t i = 0; i < gr->nrows; i++) {
            const struct lag_row *r = &gr->rows[i];

            snprintf(part, sizeof(part), "%d", (int)r->partition);
            lag_ll_fmt(r->committed, cur, sizeof(cur));
            lag_ll_fmt(r->hi, end, sizeof(end));
            lag_ll_fmt(r->lag, lag, sizeof(lag));
            lag_age_fmt(r->age_s, age, sizeof(age));
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

static json_t *lag_row_json(const struct lag_row *r)
{
    return json_pack(
        "{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "topic", r->topic,
        "partition", (int)r->partition, "current_offset",
        lag_ll_json(r->committed), "log_start_offset", lag_ll_json(r->lo),
        "log_end_offset", lag_ll_json(r->hi), "lag", lag_ll_json(r->lag),
        "oldest_age_seconds", r->age_s < 0 ? json_null() : json_real(r->age_s),
        "client_id", r->client_id ? json_string(r->client_id) : json_null());
}

static json_t *lag_report_json(const struct lag_report *rep,
                               const struct lag_opts *o, int ok)
{
    json_t *groups = json_array();
    int64_t max = lag_report_max(rep);

    for (size_t g = 0; groups && g < rep->ngroups; g++) {
        const struct lag_group *gr = &rep->groups[g];
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

/* One look: collect, print, judge.  @returns the exit code. */
static int lag_once(rd_kafka_t *rk, const struct lag_opts *o)
{
    struct lag_report rep;
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
    ok = lag_report_max(&rep) <= o->max;
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
               (long long)lag_report_max(&rep), o->max, ok ? "ok" : "LAGGING");
    }
    if (rep.ngroups == 0)
        fprintf(stderr, "omnisync: lag: no consumer groups%s\n",
                o->all ? "" : " named " LAG_PREFIX "*");
    else if (lag_print_table(&rep) != CLI_OK)
        rc = cli_err(CLI_DEPENDENCY, "lag: out of memory");
out:
    fflush(stdout);
    lag_report_clear(&rep);
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
    rk = lag_client_new(o.bootstrap, RD_KAFKA_PRODUCER, err, sizeof(err));
    if (!rk)
        return cli_err(CLI_USAGE, "lag: %s", err);
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
