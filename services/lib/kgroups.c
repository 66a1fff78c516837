/*
 * kgroups — how far Kafka consumer groups are behind, from the broker:
 * per group, topic and partition the committed offset, the log-end
 * offset, the lag and the age of the oldest unconsumed message, like
 * `kafka-consumer-groups --describe` (`omnisync lag`, `omnisync status`).
 *
 * Everything comes from the broker through librdkafka's admin API (real
 * broker only; the mock cluster has none): ListConsumerGroups,
 * DescribeConsumerGroups (state, members, assignments),
 * ListConsumerGroupOffsets (committed offsets), watermarks per partition,
 * and, for each partition with a lag, the message at the committed offset
 * read by a throwaway consumer that joins no group (its timestamp gives the
 * age; bounded time).
 */
#include "lib/kgroups.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KG_CONNECT_MS 5000    /* the first request: is the broker there */
#define KG_TIMEOUT_MS 10000   /* one admin request */
#define KG_WM_TIMEOUT_MS 5000 /* one watermark query */
#define KG_AGE_BUDGET_MS 5000 /* reading every oldest message */
#define KG_AGE_ONE_MS 2000    /* reading one */
#define KG_TRIES 4            /* admin requests failing: tries in all */
#define KG_N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- report -------------------------------------------------------------- */

void kgroups_report_clear(struct kgroups_report *r)
{
    for (size_t g = 0; g < r->ngroups; g++) {
        struct kgroups_group *gr = &r->groups[g];

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
static struct kgroups_row *kg_row_get(struct kgroups_group *g,
                                      const char *topic, int32_t partition)
{
    struct kgroups_row *r;

    for (size_t i = 0; i < g->nrows; i++)
        if (g->rows[i].partition == partition &&
            strcmp(g->rows[i].topic, topic) == 0)
            return &g->rows[i];
    if (g->nrows == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct kgroups_row *nr = realloc(g->rows, cap * sizeof(*nr));

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

static int kg_row_cmp(const void *a, const void *b)
{
    const struct kgroups_row *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);

    return c ? c
             : (x->partition > y->partition) - (x->partition < y->partition);
}

static int kg_group_cmp(const void *a, const void *b)
{
    return strcmp(((const struct kgroups_group *)a)->id,
                  ((const struct kgroups_group *)b)->id);
}

/* ---- admin requests ------------------------------------------------------ */

static rd_kafka_t *kgroups_client_new_type(const char *bootstrap,
                                           rd_kafka_type_t type, char *errstr,
                                           size_t errstr_size)
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
    for (i = 0; i < KG_N(common); i++)
        if (rd_kafka_conf_set(conf, common[i][0], common[i][1], e, sizeof(e)) !=
            RD_KAFKA_CONF_OK)
            goto bad;
    for (i = 0; type == RD_KAFKA_CONSUMER && i < KG_N(consumer); i++)
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
static rd_kafka_event_t *kg_admin_wait(rd_kafka_queue_t *q,
                                       rd_kafka_event_type_t type,
                                       const char *what, char *errstr,
                                       size_t errstr_size)
{
    rd_kafka_event_t *ev =
        rd_kafka_queue_poll(q, KG_TIMEOUT_MS + 2000 /* ms */);

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

static rd_kafka_AdminOptions_t *kg_admin_opts(rd_kafka_t *rk,
                                              rd_kafka_admin_op_t op)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    char e[256];

    if (o)
        rd_kafka_AdminOptions_set_request_timeout(o, KG_TIMEOUT_MS, e,
                                                  sizeof(e));
    return o;
}

/* Add a group named @p id to @p r. */
static int kg_group_add(struct kgroups_report *r, const char *id)
{
    struct kgroups_group *ng =
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

/* The groups to show: those the query names, or every group (named
 * o->prefix* unless o->all) the cluster lists. */
static int kg_groups_list(rd_kafka_t *rk, rd_kafka_queue_t *q,
                          const struct kgroups_query *o,
                          struct kgroups_report *r, char *errstr,
                          size_t errstr_size)
{
    const rd_kafka_ConsumerGroupListing_t **gl;
    const rd_kafka_error_t **errs;
    rd_kafka_AdminOptions_t *ao;
    rd_kafka_event_t *ev;
    size_t n, nerr, i;
    int rc = -1;

    if (o->nwant) {
        for (i = 0; i < o->nwant; i++)
            if (kg_group_add(r, o->want[i].group) < 0) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
            }
        return 0;
    }
    ao = kg_admin_opts(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(rk, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    ev = kg_admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT,
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

        if (!o->all && o->prefix &&
            strncmp(id, o->prefix, strlen(o->prefix)) != 0)
            continue;
        if (kg_group_add(r, id) < 0) {
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
static int kg_groups_describe(rd_kafka_t *rk, rd_kafka_queue_t *q,
                              struct kgroups_report *r, char *errstr,
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
    ao = kg_admin_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(rk, ids, r->ngroups, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    free(ids);
    ev = kg_admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                       "describe consumer groups", errstr, errstr_size);
    if (!ev)
        return -1;
    gd = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    for (i = 0; i < n; i++) {
        const char *id = rd_kafka_ConsumerGroupDescription_group_id(gd[i]);
        struct kgroups_group *gr = NULL;

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
                struct kgroups_row *row =
                    kg_row_get(gr, tp->elems[k].topic, tp->elems[k].partition);

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
static int kg_group_offsets(rd_kafka_t *rk, rd_kafka_queue_t *q,
                            struct kgroups_group *g, char *errstr,
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
    ao = kg_admin_opts(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    ev = kg_admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
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
        struct kgroups_row *row;

        if (tp->elems[k].err || tp->elems[k].offset < 0)
            continue;
        row = kg_row_get(g, tp->elems[k].topic, tp->elems[k].partition);
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
static int kg_group_expand(struct kgroups_group *g,
                           const rd_kafka_metadata_t *md)
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
            if (!kg_row_get(g, mt->topic, mt->partitions[p].id))
                return -1;
    }
    return 0;
}

/* A group that committed nothing yet still has the topic the query says
 * it consumes: a row for its partition 0 (kg_group_expand() adds the
 * others), so what waits there counts from the log start. */
static int kg_group_hint(struct kgroups_group *g, const struct kgroups_query *o)
{
    for (size_t i = 0; g->nrows == 0 && i < o->nwant; i++)
        if (o->want[i].topic && strcmp(o->want[i].group, g->id) == 0)
            return kg_row_get(g, o->want[i].topic, 0) ? 0 : -1;
    return 0;
}

/* Watermarks and lag of every row. */
static int kg_group_watermarks(rd_kafka_t *rk, struct kgroups_group *g,
                               char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < g->nrows; i++) {
        struct kgroups_row *r = &g->rows[i];
        int64_t lo, hi;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            rk, r->topic, r->partition, &lo, &hi, KG_WM_TIMEOUT_MS);

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

static long long kg_now_ms(int realtime)
{
    struct timespec ts;

    clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the message at @p r's first unconsumed offset; set its age. */
static void kg_row_age(rd_kafka_t *rk, struct kgroups_row *r, long long wait_ms)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, r->topic, NULL);
    int64_t from = r->committed >= r->lo ? r->committed : r->lo;
    long long end = kg_now_ms(0) + wait_ms;

    if (!rkt)
        return;
    if (rd_kafka_consume_start(rkt, r->partition, from) == -1) {
        rd_kafka_topic_destroy(rkt);
        return;
    }
    while (kg_now_ms(0) < end) {
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
            r->age_s = (double)(kg_now_ms(1) - ts) / 1000.0;
            if (r->age_s < 0)
                r->age_s = 0;
        }
        break;
    }
    rd_kafka_consume_stop(rkt, r->partition);
    rd_kafka_topic_destroy(rkt);
}

/* Ages of every row with a lag, within KG_AGE_BUDGET_MS in all; rows not
 * reached keep an unknown age. */
static void kg_report_ages(const char *bootstrap, struct kgroups_report *rep)
{
    char err[512];
    rd_kafka_t *rk = NULL;
    long long end = kg_now_ms(0) + KG_AGE_BUDGET_MS;

    for (size_t g = 0; g < rep->ngroups; g++)
        for (size_t i = 0; i < rep->groups[g].nrows; i++) {
            struct kgroups_row *r = &rep->groups[g].rows[i];
            long long left = end - kg_now_ms(0);

            if (r->lag <= 0 || left <= 0)
                continue;
            if (!rk) {
                rk = kgroups_client_new_type(bootstrap, RD_KAFKA_CONSUMER, err,
                                             sizeof(err));
                if (!rk) {
                    log_warn("kafka: oldest message: %s", err);
                    return;
                }
            }
            kg_row_age(rk, r, left < KG_AGE_ONE_MS ? left : KG_AGE_ONE_MS);
        }
    if (rk)
        rd_kafka_destroy(rk);
}

/* ---- one look ------------------------------------------------------------ */

/* One attempt of kgroups_collect(); *final is set when trying again
 * cannot help (no broker, out of memory; 2: a wanted group missing). */
static int kg_collect_once(rd_kafka_t *rk, const struct kgroups_query *o,
                           struct kgroups_report *rep, int *final, char *errstr,
                           size_t errstr_size)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_resp_err_t err;
    int rc = -1;

    *final = 1;

    err = rd_kafka_metadata(rk, 1, NULL, &md, KG_CONNECT_MS);
    if (err) {
        snprintf(errstr, errstr_size, "cannot reach the broker at %s: %s",
                 o->bootstrap, rd_kafka_err2str(err));
        md = NULL;
        goto out;
    }
    *final = 0; /* the admin requests below may meet a coordinator that is
                   still loading (a broker just started) */
    if (kg_groups_list(rk, q, o, rep, errstr, errstr_size) < 0)
        goto out;
    if (rep->ngroups && kg_groups_describe(rk, q, rep, errstr, errstr_size) < 0)
        goto out;
    for (size_t g = 0; g < rep->ngroups; g++) {
        struct kgroups_group *gr = &rep->groups[g];

        if (kg_group_offsets(rk, q, gr, errstr, errstr_size) < 0)
            goto out;
        if (o->must_exist && gr->nrows == 0 && gr->members == 0) {
            *final = 2;
            snprintf(errstr, errstr_size,
                     "consumer group %s not found (no members, no committed "
                     "offsets)",
                     gr->id);
            goto out;
        }
        if (kg_group_hint(gr, o) < 0 || kg_group_expand(gr, md) < 0) {
            snprintf(errstr, errstr_size, "out of memory");
            goto out;
        }
        if (kg_group_watermarks(rk, gr, errstr, errstr_size) < 0)
            goto out;
        qsort(gr->rows, gr->nrows, sizeof(*gr->rows), kg_row_cmp);
    }
    qsort(rep->groups, rep->ngroups, sizeof(*rep->groups), kg_group_cmp);
    kg_report_ages(o->bootstrap, rep);
    rc = 0;
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_queue_destroy(q);
    return rc;
}

int kgroups_collect(rd_kafka_t *rk, const struct kgroups_query *o,
                    struct kgroups_report *rep, char *errstr,
                    size_t errstr_size)
{
    int final = 0;

    for (int tries = 1;; tries++) {
        if (kg_collect_once(rk, o, rep, &final, errstr, errstr_size) == 0)
            return 0;
        if (final > 1)
            return -2; /* a wanted group does not exist */
        if (final || tries == KG_TRIES)
            return -1;
        kgroups_report_clear(rep);
        nanosleep(&(struct timespec){0, 500 * 1000000L /* ns */}, NULL);
    }
}

/* The largest lag of any row (-1 when no row has a known lag). */
int64_t kgroups_report_max(const struct kgroups_report *rep)
{
    int64_t m = -1;

    for (size_t g = 0; g < rep->ngroups; g++)
        for (size_t i = 0; i < rep->groups[g].nrows; i++)
            if (rep->groups[g].rows[i].lag > m)
                m = rep->groups[g].rows[i].lag;
    return m;
}

rd_kafka_t *kgroups_client_new(const char *bootstrap, char *errstr,
                               size_t errstr_size)
{
    return kgroups_client_new_type(bootstrap, RD_KAFKA_PRODUCER, errstr,
                                   errstr_size);
}

void kgroups_age_fmt(double s, char *out, size_t size)
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
