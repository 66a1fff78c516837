/*
 * omnisync dlq list|show|replay|drop — dead letters as a tool
 * (docs/cli.md, "dlq").
 *
 * The ledger's dlq_record rows (written by each service right after the
 * broker acknowledged its DLQ record) are the index: they say what was
 * dead-lettered, by whom, from where, where the record sits in
 * omnisync.dlq.v1 and what an operator did with it.  The bytes come from
 * the DLQ topic itself, read by offset with a throwaway consumer (bounded
 * time).  A replay produces the original key and value to the original
 * topic with omnisync-replay-count and omnisync-replayed-from headers,
 * waits for the broker's acknowledgement and only then marks the row
 * replayed, all while holding the row's lock: two operators cannot replay
 * one record twice, and a failed produce changes nothing.  Nothing ever
 * deletes a Kafka record.
 */
#include "cli.h"

#include "ledger/dlq_record.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/kafka.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DLQ_KAFKA_MS 10000 /* one broker request (watermarks, a fetch) */
#define DLQ_ACK_MS 30000   /* a replayed record's acknowledgement */
#define DLQ_MAX_IDS 1000   /* IDs on one command line */

/* ---- rows ---------------------------------------------------------------- */

/* Row @p r of @p res as a JSON object keyed by dlq_record_cols. */
static json_t *dlq_row_json(const PGresult *res, int r)
{
    json_t *o = json_object();
    int c;

    for (c = 0; o && c < DLQ_RECORD_NCOLS; c++) {
        const char *v = PQgetvalue(res, r, c);
        char t = dlq_record_types[c];
        json_t *j;

        if (PQgetisnull(res, r, c) && (t == 'I' || t == 'n'))
            j = json_null();
        else if (t == 'i' || t == 'I')
            j = json_integer(strtoll(v, NULL, 10));
        else
            j = json_string(v);
        json_object_set_new(o, dlq_record_cols[c], j);
    }
    return o;
}

/* A JSON value of a row as text for tables ("" for null). */
static const char *dlq_cell(const json_t *o, const char *k, char *buf,
                            size_t size)
{
    const json_t *v = json_object_get(o, k);

    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return "";
}

/* Parse a record id. */
static int dlq_id_parse(const char *s, long long *id)
{
    char *end;

    errno = 0;
    *id = strtoll(s, &end, 10);
    return errno || end == s || *end || *id <= 0 ? -1 : 0;
}

/* ---- filters (--topic, --store, --since, --state) ------------------------ */

struct dlq_filter_args {
    const char *topic, *store, *since, *state;
    int all; /* --all: every state */
    char since_s[32];
    struct dlq_record_filter f;
};

/* Fill @p a->f; "--since 2h" (s, m, h, d) or a timestamp Postgres reads. */
static int dlq_filter_make(const char *cmd, struct dlq_filter_args *a,
                           const char *default_state)
{
    static const char units[] = "smhd";
    static const long long secs[] = {1, 60, 3600, 86400};

    memset(&a->f, 0, sizeof(a->f));
    a->f.topic = a->topic;
    a->f.store = a->store;
    a->f.state = a->all ? NULL : a->state ? a->state : default_state;
    if (a->state && a->all)
        return cli_err(CLI_USAGE, "%s: --state and --all exclude each other",
                       cmd);
    if (a->f.state && strcmp(a->f.state, "open") &&
        strcmp(a->f.state, "replayed") && strcmp(a->f.state, "dropped"))
        return cli_err(CLI_USAGE,
                       "%s: --state '%s': one of open, replayed, dropped", cmd,
                       a->f.state);
    if (a->since) {
        size_t n = strlen(a->since);
        const char *u = n ? strchr(units, a->since[n - 1]) : NULL;
        char *end;
        long long v;

        errno = 0;
        v = u && n > 1 ? strtoll(a->since, &end, 10) : -1;
        if (u && n > 1 && !errno && end == a->since + n - 1 && v >= 0) {
            snprintf(a->since_s, sizeof(a->since_s), "%lld",
                     v * secs[u - units]);
            a->f.since_s = a->since_s;
        } else {
            a->f.since = a->since;
        }
    }
    return CLI_OK;
}

/* The rows matching @p a (printed error and NULL on failure; @p rc says
 * which exit code). */
static PGresult *dlq_select(PGconn *pg, const char *cmd,
                            const struct dlq_filter_args *a, int *rc)
{
    char err[1024], state[6] = "";
    PGresult *res = dlq_record_list(pg, &a->f, err, sizeof(err), state);

    *rc = CLI_OK;
    if (res)
        return res;
    if (state[0] == '2' && state[1] == '2')
        *rc = cli_err(CLI_USAGE,
                      "%s: --since '%s': not a time (e.g. 2h, 3d, "
                      "2030-01-01T00:00:00Z)",
                      cmd, a->since ? a->since : "");
    else
        *rc = cli_err(db_conn_lost(pg) ? CLI_DEPENDENCY : CLI_FAIL, "%s: %s",
                      cmd, err);
    return NULL;
}

static PGconn *dlq_pg(int *rc)
{
    PGconn *pg = cli_pg();

    *rc = pg ? CLI_OK : CLI_DEPENDENCY;
    return pg;
}

/* ---- list ---------------------------------------------------------------- */

static void dlq_table_print(const json_t *arr)
{
    static const char *const hs[] = {"id",      "state",   "created",
                                     "service", "store",   "topic",
                                     "key",     "replays", "reason"};
    static const char *const ks[] = {"id",      "state",        "created_at",
                                     "service", "store",        "topic",
                                     "key",     "replay_count", "reason"};
    char bufs[9][32];
    const char *cells[9];
    struct cli_table *t = cli_table_new(9, hs);
    size_t i, k;

    for (i = 0; t && i < json_array_size(arr); i++) {
        const json_t *o = json_array_get(arr, i);

        for (k = 0; k < 9; k++)
            cells[k] = dlq_cell(o, ks[k], bufs[k], sizeof(bufs[k]));
        /* A record from no topic shows where it came from instead. */
        if (!*cells[5])
            cells[5] = dlq_cell(o, "source", bufs[5], sizeof(bufs[5]));
        cli_table_row(t, cells);
    }
    if (t)
        cli_table_print(t);
    cli_table_destroy(t);
}

static int dlq_list(int argc, char **argv)
{
    struct dlq_filter_args a = {0};
    int as_json = 0, npos, rc, r;
    const char *pos[1];
    const struct cli_opt opts[] = {
        {"--topic", &a.topic, NULL}, {"--store", &a.store, NULL},
        {"--since", &a.since, NULL}, {"--state", &a.state, NULL},
        {"--all", NULL, &a.all},     {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    PGresult *res;
    PGconn *pg;
    json_t *arr;

    rc = cli_args_parse("dlq list", argc, argv, opts, pos, 0, &npos);
    if (rc == CLI_OK)
        rc = dlq_filter_make("dlq list", &a, "open");
    if (rc != CLI_OK)
        return rc;
    pg = dlq_pg(&rc);
    if (!pg)
        return rc;
    res = dlq_select(pg, "dlq list", &a, &rc);
    PQfinish(pg);
    if (!res)
        return rc;
    arr = json_array();
    for (r = 0; arr && r < PQntuples(res); r++)
        json_array_append_new(arr, dlq_row_json(res, r));
    PQclear(res);
    if (as_json)
        return cli_json_print(arr);
    dlq_table_print(arr);
    json_decref(arr);
    return CLI_OK;
}

/* ---- show ---------------------------------------------------------------- */

/* The record's bytes as JSON: key, value (text; null when not UTF-8),
 * value_len, timestamp (ms) and every header. */
static int dlq_msg_json(void *ctx, const rd_kafka_message_t *m, char *errstr,
                        size_t errstr_size)
{
    json_t *msg = json_object(), *hs = json_object();
    rd_kafka_headers_t *h = NULL;
    rd_kafka_timestamp_type_t tt;
    const char *name;
    const void *v;
    size_t len, i;

    if (!msg || !hs) {
        json_decref(msg);
        json_decref(hs);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    json_object_set_new(
        msg, "key", m->key ? json_stringn(m->key, m->key_len) : json_null());
    json_object_set_new(msg, "value",
                        m->payload ? json_stringn(m->payload, m->len)
                                   : json_null());
    if (!json_object_get(msg, "value"))
        json_object_set_new(msg, "value", json_null()); /* not UTF-8 */
    json_object_set_new(msg, "value_len", json_integer((json_int_t)m->len));
    json_object_set_new(msg, "timestamp",
                        json_integer(rd_kafka_message_timestamp(m, &tt)));
    if (!rd_kafka_message_headers(m, &h) && h)
        for (i = 0; !rd_kafka_header_get_all(h, i, &name, &v, &len); i++)
            json_object_set_new(hs, name,
                                v ? json_stringn(v, len) : json_null());
    json_object_set_new(msg, "headers", hs);
    *(json_t **)ctx = msg;
    return 0;
}

/* Hand the DLQ record of row @p row to @p fn; *rc is CLI_DEPENDENCY when
 * Kafka did not answer, CLI_USAGE without a broker setting, CLI_NEGATIVE
 * when the record is not there (any more), CLI_FAIL otherwise. */
static enum dlq_fetch_res dlq_fetch_row(const json_t *row, dlq_fetch_fn *fn,
                                        void *ctx, int *rc, char *errstr,
                                        size_t errstr_size)
{
    const char *bootstrap = cli_config()->kafka_bootstrap;
    const json_t *dp = json_object_get(row, "dlq_partition");
    const json_t *doff = json_object_get(row, "dlq_offset");
    enum dlq_fetch_res fr;

    *rc = CLI_NEGATIVE;
    if (!json_is_integer(dp) || !json_is_integer(doff)) {
        snprintf(errstr, errstr_size,
                 "no DLQ position (recorded before migration 0007)");
        return DLQ_FETCH_GONE;
    }
    if (!bootstrap || !*bootstrap) {
        *rc = CLI_USAGE;
        snprintf(errstr, errstr_size,
                 "kafka.bootstrap (OMNISYNC_KAFKA) is not set");
        return DLQ_FETCH_FAILED;
    }
    fr = dlq_fetch(bootstrap, (int32_t)json_integer_value(dp),
                   json_integer_value(doff), DLQ_KAFKA_MS, fn, ctx, errstr,
                   errstr_size);
    *rc = fr == DLQ_FETCH_OK            ? CLI_OK
          : fr == DLQ_FETCH_UNREACHABLE ? CLI_DEPENDENCY
          : fr == DLQ_FETCH_GONE        ? CLI_NEGATIVE
                                        : CLI_FAIL;
    return fr;
}

static void dlq_show_text(const json_t *o)
{
    const json_t *msg = json_object_get(o, "message"), *hs;
    void *it;
    char buf[32];
    json_t *v;
    int c;

    for (c = 0; c < DLQ_RECORD_NCOLS; c++)
        printf("%-14s %s\n", dlq_record_cols[c],
               dlq_cell(o, dlq_record_cols[c], buf, sizeof(buf)));
    if (!json_is_object(msg)) {
        printf("message        (not available)\n");
        return;
    }
    hs = json_object_get(msg, "headers");
    printf("headers:\n");
    for (it = json_object_iter((json_t *)hs); it;
         it = json_object_iter_next((json_t *)hs, it)) {
        v = json_object_iter_value(it);
        printf("  %s: %s\n", json_object_iter_key(it),
               json_is_string(v) ? json_string_value(v) : "");
    }
    printf("value (%s bytes):\n%s\n",
           dlq_cell(msg, "value_len", buf, sizeof(buf)),
           json_is_string(json_object_get(msg, "value"))
               ? json_string_value(json_object_get(msg, "value"))
               : "(not UTF-8 text)");
}

/* Row @p id as JSON (json null when there is none). */
static json_t *dlq_get_json(PGconn *pg, long long id, int lock, int *rc)
{
    char err[1024];
    PGresult *res = dlq_record_get(pg, id, lock, err, sizeof(err));
    json_t *o;

    if (!res) {
        *rc = cli_err(db_conn_lost(pg) ? CLI_DEPENDENCY : CLI_FAIL, "dlq: %s",
                      err);
        return NULL;
    }
    o = PQntuples(res) == 1 ? dlq_row_json(res, 0) : json_null();
    PQclear(res);
    *rc = CLI_OK;
    return o;
}

static int dlq_show(int argc, char **argv)
{
    int as_json = 0, npos, rc, frc;
    const char *pos[1];
    const struct cli_opt opts[] = {{"--json", NULL, &as_json},
                                   {NULL, NULL, NULL}};
    char err[1024];
    long long id;
    json_t *o, *msg;
    PGconn *pg;

    rc = cli_args_parse("dlq show", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1 || dlq_id_parse(pos[0], &id) < 0)
        return cli_err(CLI_USAGE, "dlq show: one ID required (see dlq list)");
    pg = dlq_pg(&rc);
    if (!pg)
        return rc;
    o = dlq_get_json(pg, id, 0, &rc);
    PQfinish(pg);
    if (!o)
        return rc;
    if (json_is_null(o)) {
        json_decref(o);
        return cli_err(CLI_USAGE, "dlq show: no dead letter %lld", id);
    }
    msg = NULL;
    dlq_fetch_row(o, dlq_msg_json, &msg, &frc, err, sizeof(err));
    if (!msg) {
        fprintf(stderr, "omnisync: dlq show %lld: message not shown: %s\n", id,
                err);
        if (frc == CLI_DEPENDENCY || frc == CLI_USAGE) {
            json_decref(o);
            return CLI_DEPENDENCY;
        }
    }
    json_object_set_new(o, "message", msg ? msg : json_null());
    if (as_json)
        return cli_json_print(o);
    dlq_show_text(o);
    json_decref(o);
    return CLI_OK;
}

/* ---- replay and drop: which records -------------------------------------- */

struct dlq_ids {
    long long *v;
    size_t n;
};

/* The IDs named on the command line (each must exist), or with
 * --all-matching the rows the filters select.  Nothing is done when one
 * named ID is unknown. */
static int dlq_ids_collect(PGconn *pg, const char *cmd, const char **pos,
                           int npos, int all_matching,
                           struct dlq_filter_args *a, struct dlq_ids *ids)
{
    PGresult *res = NULL;
    int i, rc = CLI_OK;
    json_t *o;

    ids->v = calloc(npos > 0 ? (size_t)npos : 1, sizeof(*ids->v));
    ids->n = 0;
    if (!ids->v)
        return cli_err(CLI_FAIL, "%s: out of memory", cmd);
    if (all_matching) {
        free(ids->v);
        ids->v = NULL;
        res = dlq_select(pg, cmd, a, &rc);
        if (!res)
            return rc;
        ids->v = calloc((size_t)PQntuples(res) + 1, sizeof(*ids->v));
        for (i = 0; ids->v && i < PQntuples(res); i++)
            ids->v[ids->n++] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        PQclear(res);
        return ids->v ? CLI_OK : cli_err(CLI_FAIL, "%s: out of memory", cmd);
    }
    for (i = 0; i < npos; i++) {
        if (dlq_id_parse(pos[i], &ids->v[ids->n]) < 0)
            return cli_err(CLI_USAGE, "%s: bad ID '%s'", cmd, pos[i]);
        o = dlq_get_json(pg, ids->v[ids->n], 0, &rc);
        if (!o)
            return rc;
        if (json_is_null(o))
            rc = cli_err(CLI_USAGE, "%s: no dead letter %s (nothing done)", cmd,
                         pos[i]);
        json_decref(o);
        if (rc != CLI_OK)
            return rc;
        ids->n++;
    }
    return CLI_OK;
}

/* The worse of two exit codes: the codes rank as they count (0 ok, 1
 * refused, 2 usage, 3 dependency). */
static int dlq_worse(int a, int b)
{
    return b > a ? b : a;
}

/* One result line of replay/drop: printed, or kept for --json; @p extra
 * (may be NULL; owned) holds more keys. */
static void dlq_result(json_t *out, long long id, const char *result,
                       const char *detail, json_t *extra)
{
    json_t *o = extra ? extra : json_object();

    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "result", json_string(result));
    json_object_set_new(o, "detail", json_string(detail ? detail : ""));
    if (out) {
        json_array_append_new(out, o);
        return;
    }
    printf("%lld %s%s%s\n", id, result, detail && *detail ? ": " : "",
           detail ? detail : "");
    json_decref(o);
}

/* Parse the arguments of replay and drop: IDs, or --all-matching with
 * filters (open records only), never both. */
static int dlq_steer_args(const char *cmd, int argc, char **argv,
                          const struct cli_opt *opts, const char **pos,
                          int *npos, const int *all_matching,
                          struct dlq_filter_args *a)
{
    int rc = cli_args_parse(cmd, argc, argv, opts, pos, DLQ_MAX_IDS, npos);

    if (rc != CLI_OK)
        return rc;
    if (*all_matching && *npos > 0)
        return cli_err(CLI_USAGE, "%s: IDs or --all-matching, not both", cmd);
    if (!*all_matching && *npos == 0)
        return cli_err(CLI_USAGE, "%s: IDs or --all-matching required", cmd);
    if (!*all_matching && (a->topic || a->store || a->since))
        return cli_err(CLI_USAGE,
                       "%s: --topic, --store and --since need --all-matching",
                       cmd);
    return dlq_filter_make(cmd, a, "open");
}

/* ---- replay -------------------------------------------------------------- */

struct dlq_replay {
    struct dlq *d;     /* its producer */
    const char *topic; /* where to */
    long long count;   /* this replay's number */
    int32_t partition; /* where it landed */
    int64_t offset;
};

/* dlq_fetch() callback: produce the record again to rp->topic. */
static int dlq_replay_produce(void *ctx, const rd_kafka_message_t *m,
                              char *errstr, size_t errstr_size)
{
    struct dlq_replay *rp = ctx;

    return dlq_replay(rp->d, m, rp->topic, rp->count, DLQ_ACK_MS,
                      &rp->partition, &rp->offset, errstr, errstr_size);
}

/* The topic a record goes back to: its original topic, or the topic its
 * free-form source names (stock-publisher's coalesced items); NULL when it
 * came from elsewhere (a webhook body, a file). */
static const char *dlq_replay_topic(const json_t *row)
{
    const char *t = json_string_value(json_object_get(row, "topic"));
    const char *s = json_string_value(json_object_get(row, "source"));

    if (t && *t)
        return t;
    if (s && !strncmp(s, "omnisync.", 9) && !strchr(s, ' ') && !strchr(s, '/'))
        return s;
    return NULL;
}

/* Why row @p row may not be replayed now (NULL: it may). */
static const char *dlq_replay_refusal(const json_t *row, int force, char *buf,
                                      size_t size)
{
    const char *state = json_string_value(json_object_get(row, "state"));

    if (!json_is_integer(json_object_get(row, "dlq_offset"))) {
        snprintf(buf, size,
                 "no DLQ position (recorded before migration "
                 "0007)");
        return buf;
    }
    if (!dlq_replay_topic(row)) {
        snprintf(buf, size,
                 "not from a topic (source '%s'): nothing to "
                 "replay to",
                 json_string_value(json_object_get(row, "source"))
                     ? json_string_value(json_object_get(row, "source"))
                     : "");
        return buf;
    }
    if (!force && state && strcmp(state, "open")) {
        snprintf(buf, size,
                 "already %s (replays: %lld); --force to replay "
                 "again",
                 state,
                 (long long)json_integer_value(
                     json_object_get(row, "replay_count")));
        return buf;
    }
    return NULL;
}

/* Replay record @p id inside one transaction holding its row.  Returns a
 * CLI_* code (CLI_NEGATIVE: refused). */
static int dlq_replay_one(PGconn *pg, struct dlq_replay *rp, long long id,
                          int force, json_t *out)
{
    char err[1024], why[512], done[600];
    int rc = CLI_FAIL;
    json_t *row = NULL;
    long long n;

    if (db_begin(pg, err, sizeof(err)) < 0)
        return cli_err(CLI_DEPENDENCY, "dlq replay %lld: %s", id, err);
    row = dlq_get_json(pg, id, 1, &rc);
    if (!row || json_is_null(row)) {
        rc = row ? cli_err(CLI_USAGE, "dlq replay: no dead letter %lld", id)
                 : rc;
        goto out;
    }
    if (dlq_replay_refusal(row, force, why, sizeof(why))) {
        dlq_result(out, id, "refused", why, NULL);
        rc = CLI_NEGATIVE;
        goto out;
    }
    rp->topic = dlq_replay_topic(row);
    rp->count = json_integer_value(json_object_get(row, "replay_count")) + 1;
    if (dlq_fetch_row(row, dlq_replay_produce, rp, &rc, err, sizeof(err)) !=
        DLQ_FETCH_OK) {
        dlq_result(out, id, "failed", err, NULL);
        goto out;
    }
    n = dlq_record_mark_replayed(pg, id, err, sizeof(err));
    if (n < 0 || db_commit(pg, err, sizeof(err)) < 0) {
        /* Produced but not marked: a consumer takes it as any replay. */
        dlq_result(out, id, "failed", err, NULL);
        rc = db_conn_lost(pg) ? CLI_DEPENDENCY : CLI_FAIL;
        goto out;
    }
    snprintf(done, sizeof(done), "to %s [%d] @%lld (replay %lld)", rp->topic,
             (int)rp->partition, (long long)rp->offset, n);
    dlq_result(out, id, "replayed", done,
               json_pack("{s:s, s:i, s:I, s:I}", "topic", rp->topic,
                         "partition", (int)rp->partition, "offset",
                         (json_int_t)rp->offset, "replay_count",
                         (json_int_t)n));
    rc = CLI_OK;
out:
    if (rc != CLI_OK)
        db_rollback(pg);
    json_decref(row);
    return rc;
}

static int dlq_cmd_replay(int argc, char **argv)
{
    struct dlq_filter_args a = {0};
    struct dlq_replay rp = {0};
    struct dlq_ids ids = {NULL, 0};
    int as_json = 0, all_matching = 0, force = 0, npos, rc, r;
    const char *pos[DLQ_MAX_IDS];
    const struct cli_opt opts[] = {
        {"--all-matching", NULL, &all_matching},
        {"--topic", &a.topic, NULL},
        {"--store", &a.store, NULL},
        {"--since", &a.since, NULL},
        {"--force", NULL, &force},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[512];
    json_t *out = NULL;
    PGconn *pg = NULL;
    size_t i;

    rc = dlq_steer_args("dlq replay", argc, argv, opts, pos, &npos,
                        &all_matching, &a);
    if (rc != CLI_OK)
        return rc;
    if (!cli_config()->kafka_bootstrap || !*cli_config()->kafka_bootstrap)
        return cli_err(CLI_USAGE, "dlq replay: kafka.bootstrap "
                                  "(OMNISYNC_KAFKA) is not set");
    pg = dlq_pg(&rc);
    if (!pg)
        return rc;
    rc = dlq_ids_collect(pg, "dlq replay", pos, npos, all_matching, &a, &ids);
    if (rc != CLI_OK)
        goto out;
    rp.d = dlq_new(cli_config()->kafka_bootstrap, NULL, "omnisync", err,
                   sizeof(err));
    if (!rp.d) {
        rc = cli_err(CLI_FAIL, "dlq replay: %s", err);
        goto out;
    }
    out = as_json ? json_array() : NULL;
    for (i = 0; i < ids.n && rc != CLI_DEPENDENCY; i++) {
        r = dlq_replay_one(pg, &rp, ids.v[i], force, out);
        rc = dlq_worse(rc, r);
    }
    if (out)
        rc = dlq_worse(rc, cli_json_print(out));
out:
    dlq_destroy(rp.d); /* flushes what is still in flight (bounded) */
    free(ids.v);
    PQfinish(pg);
    return rc;
}

/* ---- drop ---------------------------------------------------------------- */

static int dlq_drop(int argc, char **argv)
{
    struct dlq_filter_args a = {0};
    struct dlq_ids ids = {NULL, 0};
    int as_json = 0, all_matching = 0, npos, rc, r;
    const char *pos[DLQ_MAX_IDS];
    const struct cli_opt opts[] = {
        {"--all-matching", NULL, &all_matching},
        {"--topic", &a.topic, NULL},
        {"--store", &a.store, NULL},
        {"--since", &a.since, NULL},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024];
    json_t *out = NULL;
    PGconn *pg;
    size_t i;

    rc = dlq_steer_args("dlq drop", argc, argv, opts, pos, &npos, &all_matching,
                        &a);
    if (rc != CLI_OK)
        return rc;
    pg = dlq_pg(&rc);
    if (!pg)
        return rc;
    rc = dlq_ids_collect(pg, "dlq drop", pos, npos, all_matching, &a, &ids);
    out = rc == CLI_OK && as_json ? json_array() : NULL;
    for (i = 0; rc == CLI_OK && i < ids.n; i++) {
        r = dlq_record_mark_dropped(pg, ids.v[i], err, sizeof(err));
        if (r < 0) {
            rc = cli_err(db_conn_lost(pg) ? CLI_DEPENDENCY : CLI_FAIL,
                         "dlq drop %lld: %s", ids.v[i], err);
            break;
        }
        dlq_result(out, ids.v[i], r ? "dropped" : "unchanged",
                   r ? "" : "already dropped", NULL);
    }
    if (out)
        rc = dlq_worse(rc, cli_json_print(out));
    free(ids.v);
    PQfinish(pg);
    return rc;
}

/* ---- the command --------------------------------------------------------- */

#define DLQ_FILTERS_USAGE                                                      \
    "  --topic T: the original topic (or source); --store S: the store the\n"  \
    "  message named (known to the ledger or not); --since: 30m, 2h, 7d or\n"  \
    "  a timestamp (2030-01-01T00:00:00Z)."

static const struct cli_sub dlq_subs[] = {
    {"list", dlq_list,
     "dlq list [--topic T] [--store S] [--since WHEN] [--state STATE | --all]\n"
     "         [--json]\n"
     "  Dead-lettered messages, oldest first: open ones (not replayed or\n"
     "  dropped) unless --state open|replayed|dropped or "
     "--all.\n" DLQ_FILTERS_USAGE},
    {"show", dlq_show,
     "dlq show ID [--json]\n"
     "  One dead letter: the ledger's record, and its key, value and\n"
     "  headers read from omnisync.dlq.v1 (OMNISYNC_KAFKA)."},
    {"replay", dlq_cmd_replay,
     "dlq replay ID... | --all-matching [--topic T] [--store S] [--since "
     "WHEN]\n"
     "           [--force] [--json]\n"
     "  Produce each message again, as it was, to its original topic with\n"
     "  the headers omnisync-replay-count and omnisync-replayed-from, then\n"
     "  mark it replayed.  A record that is not open is refused (exit 1)\n"
     "  unless --force.  --all-matching: every open record the filters\n"
     "  select.\n" DLQ_FILTERS_USAGE},
    {"drop", dlq_drop,
     "dlq drop ID... | --all-matching [--topic T] [--store S] [--since WHEN]\n"
     "         [--json]\n"
     "  Mark dead letters dropped: no longer listed by default nor counted\n"
     "  as failed by status.  The Kafka record is left as it is."},
    {NULL, NULL, NULL},
};

int cmd_dlq(int argc, char **argv)
{
    return cli_sub_run(dlq_subs, argc, argv);
}
