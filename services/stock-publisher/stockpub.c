#include "stockpub.h"

#include "store/budget.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/idarray.h"
#include "events/event.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "ledger/remote_map.h"
#include "lib/sig.h"
#include "store/store_client.h"
#include "app/storeset.h"
#include "events/topics.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STOCKPUB_SERVICE "stock-publisher"
#define STOCKPUB_DLQ_TIMEOUT_MS 10000
#define STOCKPUB_BACKOFF_MIN_MS 500
#define STOCKPUB_BACKOFF_MAX_MS 30000
#define STOCKPUB_STORE_ERROR_MS 30000 /* 401/403/404: settings are wrong */
#define STOCKPUB_REFRESH_MIN_MS 5000  /* unknown store: refresh at most so */
#define STOCKPUB_MAX_COMMITS 256
#define STOCKPUB_CLOCK_SKEW_MS 100 /* broker vs our clock */

#define STOCKPUB_SQL_REMOTE                                                    \
    "SELECT local_id, remote_id FROM remote_map WHERE store_id = $1"           \
    " AND entity = '" REMOTE_MAP_VARIANT "' AND remote_id > 0"                 \
    " AND local_id = ANY($2::bigint[])"

static const struct cfg_opt stockpub_opts[] = {
    CFG_ROW_PG_DSN(struct stockpub_cfg, pg_dsn, CFG_REQUIRED),
    CFG_ROW_KAFKA_BOOTSTRAP(struct stockpub_cfg, kafka_bootstrap, CFG_REQUIRED),
    CFG_ROW_REDIS_ADDR(struct stockpub_cfg, redis_addr, NULL, CFG_REQUIRED),
    CFG_ROW_SECRET_KEY(struct stockpub_cfg, secret_key),
    CFG_ROW_GROUP_ID(struct stockpub_cfg, group_id, "omnisync-stock-publisher"),
    {"stockpub.flush.ms", CFG_INT, "500", 0, 600000, 0,
     offsetof(struct stockpub_cfg, flush_ms),
     "flush a store when its oldest pending change is this old"},
    {"stockpub.batch.max", CFG_INT, "100", 1, 100, 0,
     offsetof(struct stockpub_cfg, batch_max),
     "variants per variants_group_update call (and the size trigger)"},
    CFG_ROW_STATS_MS(struct stockpub_cfg, stats_ms),
    CFG_ROW_DRAIN_MS(struct stockpub_cfg, drain_ms),
    STORESET_CFG_REFRESH_MS(struct stockpub_cfg, refresh_ms),
    {"stockpub.read.max", CFG_INT, "50000", 1, 10000000, 0,
     offsetof(struct stockpub_cfg, drain_max_msgs),
     "per round, messages read before the flush checks"},
    {"stockpub.read.ms", CFG_INT, "200", 0, 60000, 0,
     offsetof(struct stockpub_cfg, drain_max_ms),
     "per round, time spent reading before the flush checks"},
    CFG_ROW_LOG_LEVEL(struct stockpub_cfg, log_level, "info"),
    {NULL},
};

const struct cfg_opt *stockpub_cfg_table(void)
{
    return stockpub_opts;
}

struct stockpub {
    struct stockpub_cfg c;
    PGconn *pg;
    struct budget *budget;
    struct storeset *stores;
    struct kafka_consumer *kc;
    struct dlq *dlq;
    struct pendmap *pm;
    struct lathist lat;
    struct stockpub_stats st;
    int64_t next_stats_ms, next_refresh_ms, last_refresh_ms;
    int64_t last_refresh_wall_ms; /* when the last refresh started */
    int draining;
    int64_t drain_deadline_ms;
};

/* Context of one store's flush, for the send callback. */
struct stockpub_flush {
    struct stockpub *sp;
    struct storeset_entry *e;
    long long *remote; /* remote id per item of the whole batch */
    struct pend_item **base;
    int stop;           /* a retry happened: leave the rest */
    long retry_hint_ms; /* Retry-After of the last RETRY */
    int store_error;    /* 401/403/404: the store's settings are wrong */
};

enum stockpub_send_res stockpub_split_send(struct pend_item **items, size_t n,
                                           stockpub_send_fn *send, void *opaque,
                                           struct stockpub_outcome *out,
                                           unsigned long *calls)
{
    enum stockpub_send_res r;
    size_t i, half;

    if (n == 0)
        return STOCKPUB_SEND_OK;
    for (i = 0; i < n; i++) {
        out[i].res = STOCKPUB_ITEM_PENDING;
        out[i].reason[0] = '\0';
    }
    r = send(opaque, items, n, out);
    if (calls)
        (*calls)++;
    if (r == STOCKPUB_SEND_OK)
        return STOCKPUB_SEND_OK;
    if (r == STOCKPUB_SEND_RETRY) {
        for (i = 0; i < n; i++)
            out[i].res = STOCKPUB_ITEM_PENDING;
        return STOCKPUB_SEND_RETRY;
    }
    if (n == 1) {
        out[0].res = STOCKPUB_ITEM_REJECTED;
        return STOCKPUB_SEND_OK;
    }
    /* The store refused the batch as a whole: one bad item spoils it.
     * Halves find k bad items in about 2k log2(n) calls. */
    half = n / 2;
    if (stockpub_split_send(items, half, send, opaque, out, calls) ==
        STOCKPUB_SEND_RETRY)
        return STOCKPUB_SEND_RETRY;
    return stockpub_split_send(items + half, n - half, send, opaque, out + half,
                               calls);
}

/* ---- the store call --------------------------------------------------- */

/* The metered call.  While running: store_call().  While draining after
 * SIGTERM, store_call() refuses to wait for a token (shutdown interrupts
 * it), so the same steps run here with the drain deadline as the bound:
 * token, call, usage feedback, fleet pause on 429/503. */
static enum store_res stockpub_call(struct stockpub *sp,
                                    struct storeset_entry *e,
                                    const struct store_req_args *a,
                                    struct store_result *res)
{
    struct budget_token tok;
    enum budget_res br;
    long wait_ms = 0;
    struct timespec nap;

    if (!sp->draining)
        return store_call(e->sc, sp->budget, BUDGET_STOCK,
                          STORE_OP_VARIANTS_GROUP_UPDATE, a, res);
    for (;;) {
        br = budget_take(sp->budget, e->conf.name, BUDGET_STOCK,
                         e->conf.api_limit, e->conf.api_window, &wait_ms, &tok);
        if (br == BUDGET_GRANTED)
            break;
        if (br != BUDGET_WAIT)
            wait_ms = 200;
        if (wait_ms > 100)
            wait_ms = 100;
        if (clock_mono_ms() + wait_ms > sp->drain_deadline_ms) {
            memset(res, 0, sizeof(*res));
            res->res = STORE_RETRY_AFTER;
            res->usage_used = res->usage_limit = -1;
            snprintf(res->reason, sizeof(res->reason),
                     "budget: no token before the drain deadline");
            return res->res;
        }
        nap.tv_sec = 0;
        nap.tv_nsec = (wait_ms > 0 ? wait_ms : 1) * 1000000L;
        nanosleep(&nap, NULL);
    }
    store_client_do(e->sc, STORE_OP_VARIANTS_GROUP_UPDATE, a, res);
    if (res->status != 0)
        budget_feedback(sp->budget, e->conf.name, &tok, res->usage_used,
                        res->usage_limit);
    if (res->status == 429 || res->status == 503) {
        budget_note_status(sp->budget, res->status);
        budget_pause(sp->budget, e->conf.name, res->retry_after_s);
    }
    return res->res;
}

/* {"id", "quantity"[, "price", "old_price"]} per item. */
static json_t *stockpub_payload(struct pend_item **items, size_t n,
                                const long long *remote)
{
    json_t *arr = json_array(), *o;
    size_t i;

    if (!arr)
        return NULL;
    for (i = 0; i < n; i++) {
        o = json_object();
        if (!o)
            goto oom;
        json_object_set_new(o, "id", json_integer(remote[i]));
        json_object_set_new(o, "quantity", json_integer(items[i]->available));
        if (items[i]->price[0]) {
            /* A variant without a price in the store's list keeps the
             * store's price: only quantity is pushed then. */
            json_object_set_new(o, "price", json_string(items[i]->price));
            json_object_set_new(o, "old_price",
                                items[i]->old_price[0]
                                    ? json_string(items[i]->old_price)
                                    : json_null());
        }
        if (json_array_append_new(arr, o) < 0)
            goto oom;
    }
    return arr;
oom:
    json_decref(arr);
    return NULL;
}

/* Per-item statuses of the sync response shape [{id, status}]. */
static void stockpub_sync_results(const json_t *body, const long long *remote,
                                  size_t n, struct stockpub_outcome *out)
{
    const json_t *r;
    const char *status;
    char *errs;
    size_t i, j;

    for (i = 0; i < n; i++)
        out[i].res = STOCKPUB_ITEM_ACCEPTED;
    json_array_foreach(body, j, r)
    {
        json_t *jid = json_object_get(r, "id");
        status = json_string_value(json_object_get(r, "status"));
        if (!json_is_integer(jid) || !status || strcmp(status, "ok") == 0)
            continue;
        for (i = 0; i < n; i++) {
            if (remote[i] != json_integer_value(jid))
                continue;
            out[i].res = STOCKPUB_ITEM_REJECTED;
            errs = json_dumps(json_object_get(r, "errors"), JSON_COMPACT);
            snprintf(out[i].reason, sizeof(out[i].reason),
                     "store rejected variant %lld: status %s%s%s", remote[i],
                     status, errs ? " " : "", errs ? errs : "");
            free(errs);
        }
    }
}

static enum stockpub_send_res stockpub_send(void *opaque,
                                            struct pend_item **items, size_t n,
                                            struct stockpub_outcome *out)
{
    struct stockpub_flush *f = opaque;
    struct stockpub *sp = f->sp;
    const long long *remote = f->remote + (items - f->base);
    struct store_req_args a;
    struct store_result res;
    enum store_res r;
    enum stockpub_send_res rc = STOCKPUB_SEND_RETRY;
    char *body;
    size_t i;

    if (f->stop)
        return STOCKPUB_SEND_RETRY;
    memset(&a, 0, sizeof(a));
    memset(&res, 0, sizeof(res));
    a.payload = stockpub_payload(items, n, remote);
    if (!a.payload) {
        log_error("%s: out of memory building a batch", f->e->conf.name);
        f->stop = 1;
        return STOCKPUB_SEND_RETRY;
    }
    r = stockpub_call(sp, f->e, &a, &res);
    sp->st.calls++;
    switch (r) {
    case STORE_OK:
        sp->st.calls_ok++;
        if (json_is_array(res.body) && json_array_size(res.body) > 0)
            stockpub_sync_results(res.body, remote, n, out);
        else
            for (i = 0; i < n; i++)
                out[i].res = STOCKPUB_ITEM_ACCEPTED;
        rc = STOCKPUB_SEND_OK;
        break;
    case STORE_CLIENT_ERROR:
        if (res.status == 400 || res.status == 413 || res.status == 422) {
            sp->st.calls_4xx++;
            body = res.body ? json_dumps(res.body, JSON_COMPACT) : NULL;
            snprintf(out[0].reason, sizeof(out[0].reason),
                     "store rejected the batch: HTTP %ld %s", res.status,
                     body ? body : res.excerpt);
            free(body);
            log_warn("%s: batch of %zu rejected (HTTP %ld): %s",
                     f->e->conf.name, n, res.status,
                     n > 1 ? "splitting it" : "dead-lettering the variant");
            rc = STOCKPUB_SEND_REJECTED;
            break;
        }
        /* 401, 403, 404...: the store's settings, not the items. */
        log_error("%s: variants_group_update: HTTP %ld (%s); keeping %zu "
                  "variants pending",
                  f->e->conf.name, res.status, res.reason, n);
        f->store_error = 1;
        f->stop = 1;
        sp->st.calls_retry++;
        break;
    default:
        log_warn("%s: variants_group_update: %s (%s); %zu variants stay "
                 "pending",
                 f->e->conf.name, store_res_name(r), res.reason, n);
        f->retry_hint_ms = res.retry_after_s > 0 ? res.retry_after_s * 1000 : 0;
        f->stop = 1;
        sp->st.calls_retry++;
        break;
    }
    json_decref(a.payload);
    store_result_clear(&res);
    return rc;
}

/* ---- flushing --------------------------------------------------------- */

static void stockpub_refresh(struct stockpub *sp, int forced)
{
    char err[512];
    int64_t now = clock_mono_ms();
    int n;

    if (forced && now - sp->last_refresh_ms < STOCKPUB_REFRESH_MIN_MS)
        return;
    sp->last_refresh_ms = now;
    sp->last_refresh_wall_ms = clock_wall_ms();
    sp->next_refresh_ms = now + sp->c.refresh_ms;
    n = storeset_refresh(sp->stores, sp->pg, sp->c.secret_key, err,
                         sizeof(err));
    if (n < 0) {
        log_warn("stores: refresh failed: %s", err);
        if (db_conn_lost(sp->pg))
            PQreset(sp->pg);
        return;
    }
    log_debug("stores: %d loaded", n);
}

/* Dead-letter @p it with @p reason.  Returns 0 when acknowledged. */
static int stockpub_dlq_item(struct stockpub *sp, struct pend_item *it,
                             const char *reason)
{
    char err[512];

    if (dlq_send_raw(sp->dlq, TOPICS_STOCK, it->key, strlen(it->key),
                     it->raw ? it->raw : "", it->raw_len, reason,
                     STOCKPUB_DLQ_TIMEOUT_MS, err, sizeof(err)) < 0) {
        log_error_ctx(it->key, "dead-letter failed (%s); kept pending", err);
        return -1;
    }
    log_warn_ctx(it->key, "dead-lettered: %s", reason);
    sp->st.dlq++;
    return 0;
}

/* Look up the remote ids of @p n items of store @p store_id; 0 when the
 * variant has none.  Returns 0, or -1 on a database error. */
static int stockpub_remote_ids(struct stockpub *sp, long long store_id,
                               struct pend_item **items, size_t n,
                               long long *remote)
{
    char sid[24], err[512], *arr = NULL;
    const char *vals[2];
    PGresult *res;
    size_t i;
    long long local, rid, *vids = malloc((n + 1) * sizeof(*vids));
    int r, rc = -1;

    if (!vids)
        return -1;
    for (i = 0; i < n; i++) {
        remote[i] = 0;
        vids[i] = items[i]->variant_id;
    }
    arr = idarray_text(vids, n, 0, NULL);
    free(vids);
    if (!arr)
        return -1;
    snprintf(sid, sizeof(sid), "%lld", store_id);
    vals[0] = sid;
    vals[1] = arr;
    res = db_exec(sp->pg, STOCKPUB_SQL_REMOTE, 2, vals, "remote ids", err,
                  sizeof(err), NULL);
    if (!res) {
        log_warn("remote ids: %s", err);
        if (db_conn_lost(sp->pg))
            PQreset(sp->pg);
        goto out;
    }
    for (r = 0; r < PQntuples(res); r++) {
        if (cfg_parse_ll(PQgetvalue(res, r, 0), &local) < 0 ||
            cfg_parse_ll(PQgetvalue(res, r, 1), &rid) < 0)
            continue;
        for (i = 0; i < n; i++)
            if (items[i]->variant_id == local)
                remote[i] = rid;
    }
    PQclear(res);
    rc = 0;
out:
    free(arr);
    return rc;
}

/* Flush up to batch.max items of @p pst.  Returns 0, or -1 when the store
 * must wait (backoff set). */
static int stockpub_flush_store(struct stockpub *sp, struct pend_store *pst)
{
    size_t max = (size_t)sp->c.batch_max, n, i, k = 0;
    struct pend_item **items = calloc(max, sizeof(*items));
    struct pend_item **send = calloc(max, sizeof(*send));
    long long *remote = calloc(max, sizeof(*remote));
    long long *sremote = calloc(max, sizeof(*sremote));
    struct stockpub_outcome *out = calloc(max, sizeof(*out));
    struct stockpub_flush f;
    struct storeset_entry *e;
    int64_t now = clock_mono_ms(), wall;
    unsigned long calls = 0;
    int rc = -1;

    if (!items || !send || !remote || !sremote || !out) {
        pendmap_backoff(pst, now, 0, STOCKPUB_BACKOFF_MIN_MS,
                        STOCKPUB_BACKOFF_MAX_MS);
        goto out;
    }
    n = pendmap_batch(pst, items, max);
    e = storeset_find(sp->stores, pst->name);
    if (!e) {
        stockpub_refresh(sp, 1);
        e = storeset_find(sp->stores, pst->name);
    }
    if (!e) {
        /* A store the ledger does not have any more: nothing to push. */
        for (i = 0; i < n; i++) {
            sp->st.unknown_store++;
            pendmap_done(sp->pm, items[i]);
        }
        rc = 0;
        goto out;
    }
    if (stockpub_remote_ids(sp, e->conf.id, items, n, remote) < 0) {
        pendmap_backoff(pst, now, 0, STOCKPUB_BACKOFF_MIN_MS,
                        STOCKPUB_BACKOFF_MAX_MS);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (remote[i] > 0) {
            send[k] = items[i];
            sremote[k++] = remote[i];
            continue;
        }
        /* Not in the store yet: catalog-publisher emits this variant's
         * stock event again once it records the remote id. */
        log_debug_ctx(items[i]->key, "no remote id yet: skipped");
        sp->st.unmapped++;
        pendmap_done(sp->pm, items[i]);
    }
    memset(&f, 0, sizeof(f));
    f.sp = sp;
    f.e = e;
    f.remote = sremote;
    f.base = send;
    (void)stockpub_split_send(send, k, stockpub_send, &f, out, &calls);
    wall = clock_wall_ms();
    for (i = 0; i < k; i++) {
        if (out[i].res == STOCKPUB_ITEM_ACCEPTED) {
            lathist_add(&sp->lat, wall - send[i]->commit_ms);
            sp->st.pushed++;
            pendmap_done(sp->pm, send[i]);
        } else if (out[i].res == STOCKPUB_ITEM_REJECTED) {
            sp->st.rejected++;
            if (stockpub_dlq_item(sp, send[i],
                                  out[i].reason[0] ? out[i].reason
                                                   : "store rejected it") == 0)
                pendmap_done(sp->pm, send[i]);
        }
    }
    if (f.stop) {
        pendmap_backoff(
            pst, now, f.store_error ? STOCKPUB_STORE_ERROR_MS : f.retry_hint_ms,
            STOCKPUB_BACKOFF_MIN_MS, STOCKPUB_BACKOFF_MAX_MS);
        goto out;
    }
    pendmap_backoff_clear(pst);
    if (k)
        log_debug("%s: flushed %zu variants in %lu call(s), %zu pending",
                  pst->name, k, calls, pst->count);
    rc = 0;
out:
    free(items);
    free(send);
    free(remote);
    free(sremote);
    free(out);
    return rc;
}

static void stockpub_commit(struct stockpub *sp, int sync)
{
    struct pend_commit pc[STOCKPUB_MAX_COMMITS];
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_resp_err_t err;
    size_t n, i;

    n = pendmap_commits(sp->pm, pc, STOCKPUB_MAX_COMMITS);
    if (!n)
        return;
    l = rd_kafka_topic_partition_list_new((int)n);
    for (i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, TOPICS_STOCK, pc[i].partition)
            ->offset = pc[i].offset;
    err = rd_kafka_commit(kafka_consumer_handle(sp->kc), l, !sync);
    if (err) {
        log_warn("commit: %s", rd_kafka_err2str(err));
        pendmap_commits_reset(sp->pm);
    } else {
        sp->st.commits++;
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- consuming -------------------------------------------------------- */

/*
 * Whether @p store is a store of the ledger.  A store added after the last
 * refresh is found by refreshing: its row committed before its events were
 * produced, so a refresh that started after the message's timestamp (with
 * STOCKPUB_CLOCK_SKEW_MS of slack) sees it.  Events of unknown stores in a
 * backlog thus cost one refresh, not one each.
 */
static int stockpub_store_known(struct stockpub *sp,
                                const rd_kafka_message_t *m, const char *store)
{
    rd_kafka_timestamp_type_t tt;
    int64_t mts;

    if (storeset_find(sp->stores, store))
        return 1;
    mts = rd_kafka_message_timestamp(m, &tt);
    if (mts < 0 || sp->last_refresh_wall_ms <= mts + STOCKPUB_CLOCK_SKEW_MS)
        stockpub_refresh(sp, 0);
    return storeset_find(sp->stores, store) != NULL;
}

static void stockpub_handle(struct stockpub *sp, rd_kafka_message_t *m)
{
    struct event ev;
    struct pend_value v;
    char err[512], dlqerr[512];
    int64_t commit_us;
    json_t *jp, *jo;
    int r;

    sp->st.consumed++;
    if (event_decode(&ev, m->payload, m->len, err, sizeof(err)) < 0) {
        /* fall through to the DLQ below */
    } else if (strcmp(ev.type, EVENT_STOCK_AVAILABLE) != 0) {
        snprintf(err, sizeof(err), "type: '%s' is not %s", ev.type,
                 EVENT_STOCK_AVAILABLE);
        event_clear(&ev);
    } else if (clock_rfc3339_parse(ev.ts, &commit_us) < 0) {
        snprintf(err, sizeof(err), "ts: '%s' is not RFC 3339", ev.ts);
        event_clear(&ev);
    } else {
        if (!stockpub_store_known(sp, m, ev.store)) {
            /* Not a store of this ledger (e.g. removed): nothing to push,
             * and not a malformed event either. */
            sp->st.unknown_store++;
            log_debug("event for unknown store '%s' skipped", ev.store);
            pendmap_offset_seen(sp->pm, m->partition, m->offset);
            event_clear(&ev);
            return;
        }
        memset(&v, 0, sizeof(v));
        v.store = ev.store;
        v.variant_id =
            json_integer_value(json_object_get(ev.data, "variant_id"));
        v.available = json_integer_value(json_object_get(ev.data, "available"));
        jp = json_object_get(ev.data, "price");
        jo = json_object_get(ev.data, "old_price");
        v.price = json_string_value(jp);
        v.old_price = json_string_value(jo);
        v.partition = m->partition;
        v.offset = m->offset;
        v.commit_ms = commit_us / 1000;
        v.raw = m->payload;
        v.raw_len = m->len;
        r = pendmap_put(sp->pm, &v, clock_mono_ms());
        if (r == 0)
            sp->st.coalesced++;
        if (r < 0) {
            log_error("out of memory: event at %d/%lld not recorded",
                      (int)m->partition, (long long)m->offset);
            pendmap_barrier(sp->pm, m->partition, m->offset);
        }
        event_clear(&ev);
        return;
    }
    sp->st.invalid++;
    while (dlq_send(sp->dlq, m, err, STOCKPUB_DLQ_TIMEOUT_MS, dlqerr,
                    sizeof(dlqerr)) < 0) {
        log_error("dead-letter of %d/%lld failed: %s", (int)m->partition,
                  (long long)m->offset, dlqerr);
        if (sig_sleep_ms(1000) < 0) {
            /* Stopping: never commit past this message. */
            pendmap_barrier(sp->pm, m->partition, m->offset);
            return;
        }
    }
    log_warn("dead-lettered %d/%lld: %s", (int)m->partition,
             (long long)m->offset, err);
    sp->st.dlq++;
    pendmap_offset_seen(sp->pm, m->partition, m->offset);
}

static void stockpub_stats_log(struct stockpub *sp)
{
    log_info(
        "stats: consumed=%llu coalesced=%llu pending=%zu calls=%llu "
        "ok=%llu rejected_batches=%llu retried=%llu pushed=%llu "
        "rejected=%llu unmapped=%llu unknown_store=%llu invalid=%llu "
        "dlq=%llu "
        "commits=%llu latency_n=%llu p50_ms=%lld p99_ms=%lld "
        "max_ms=%lld",
        (unsigned long long)sp->st.consumed,
        (unsigned long long)sp->st.coalesced, pendmap_count(sp->pm),
        (unsigned long long)sp->st.calls, (unsigned long long)sp->st.calls_ok,
        (unsigned long long)sp->st.calls_4xx,
        (unsigned long long)sp->st.calls_retry,
        (unsigned long long)sp->st.pushed, (unsigned long long)sp->st.rejected,
        (unsigned long long)sp->st.unmapped,
        (unsigned long long)sp->st.unknown_store,
        (unsigned long long)sp->st.invalid, (unsigned long long)sp->st.dlq,
        (unsigned long long)sp->st.commits, (unsigned long long)sp->lat.count,
        (long long)lathist_quantile(&sp->lat, 0.5),
        (long long)lathist_quantile(&sp->lat, 0.99), (long long)sp->lat.max_ms);
}

int stockpub_poll(struct stockpub *sp)
{
    rd_kafka_message_t *m;
    struct pend_store *pst;
    int64_t start, now;
    long long n = 0;
    size_t rounds = 0;

    m = kafka_consumer_poll(sp->kc, KAFKA_POLL_MS);
    if (m) {
        /* Drain what is already fetched, so a backlog coalesces before
         * any flush (bounded, and each wait is short). */
        start = clock_mono_ms();
        while (m) {
            stockpub_handle(sp, m);
            rd_kafka_message_destroy(m);
            if (++n >= sp->c.drain_max_msgs ||
                clock_mono_ms() - start >= sp->c.drain_max_ms ||
                sig_stop_requested())
                break;
            m = kafka_consumer_poll(sp->kc, 10 /* ms */);
        }
    }
    if (kafka_consumer_fatal(sp->kc)) {
        log_error("kafka consumer: fatal error");
        return -1;
    }
    /* Flush every due store; a store stays due while it has a full batch,
     * bounded so consuming goes on. */
    while (!sig_stop_requested() && rounds++ < 1000) {
        now = clock_mono_ms();
        pst = pendmap_due(sp->pm, now, (long)sp->c.flush_ms,
                          (size_t)sp->c.batch_max, 0);
        if (!pst)
            break;
        stockpub_flush_store(sp, pst);
        stockpub_commit(sp, 0);
    }
    stockpub_commit(sp, 0);
    now = clock_mono_ms();
    if (now >= sp->next_refresh_ms)
        stockpub_refresh(sp, 0);
    if (now >= sp->next_stats_ms) {
        sp->next_stats_ms = now + sp->c.stats_ms;
        stockpub_stats_log(sp);
    }
    return 0;
}

int stockpub_drain(struct stockpub *sp, long deadline_ms)
{
    struct pend_store *pst;
    int64_t now;
    size_t left;

    sp->draining = 1;
    sp->drain_deadline_ms = clock_mono_ms() + deadline_ms;
    log_info("draining: %zu variants pending", pendmap_count(sp->pm));
    for (;;) {
        now = clock_mono_ms();
        if (now >= sp->drain_deadline_ms || pendmap_count(sp->pm) == 0)
            break;
        pst = pendmap_due(sp->pm, now, 0, 1, 1);
        if (!pst) {
            /* Every store with items is backing off: wait a little. */
            struct timespec nap = {0, 50 * 1000000L};
            nanosleep(&nap, NULL);
            continue;
        }
        stockpub_flush_store(sp, pst);
    }
    stockpub_commit(sp, 1);
    left = pendmap_count(sp->pm);
    stockpub_stats_log(sp);
    if (left)
        log_warn("drain: %zu variants still pending (replayed after a "
                 "restart)",
                 left);
    kafka_consumer_close(sp->kc);
    return left ? 1 : 0;
}

struct stockpub *stockpub_new(const struct stockpub_cfg *c,
                              const struct cfg *passthru, char *errstr,
                              size_t errstr_size)
{
    struct stockpub *sp = calloc(1, sizeof(*sp));
    const char *topics[] = {TOPICS_STOCK};
    int n;

    if (!sp) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    sp->c = *c;
    sp->pg = db_connect(c->pg_dsn, STOCKPUB_SERVICE, errstr, errstr_size);
    if (!sp->pg)
        goto fail;
    sp->budget = budget_new(c->redis_addr, NULL, errstr, errstr_size);
    if (!sp->budget)
        goto fail;
    sp->stores = storeset_new();
    sp->pm = pendmap_new();
    if (!sp->stores || !sp->pm) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    n = storeset_refresh(sp->stores, sp->pg, sp->c.secret_key, errstr,
                         errstr_size);
    if (n < 0)
        goto fail;
    sp->dlq = dlq_new(c->kafka_bootstrap, passthru, STOCKPUB_SERVICE, errstr,
                      errstr_size);
    if (!sp->dlq)
        goto fail;
    sp->kc = kafka_consumer_new(c->kafka_bootstrap, c->group_id, passthru,
                                errstr, errstr_size);
    if (!sp->kc ||
        kafka_consumer_subscribe(sp->kc, topics, 1, errstr, errstr_size) < 0)
        goto fail;
    sp->last_refresh_ms = clock_mono_ms();
    sp->next_refresh_ms = sp->last_refresh_ms + c->refresh_ms;
    sp->next_stats_ms = sp->last_refresh_ms + c->stats_ms;
    log_info("started: %d stores, group %s, stockpub.flush.ms=%lld "
             "stockpub.batch.max=%lld",
             n, c->group_id, c->flush_ms, c->batch_max);
    return sp;
fail:
    stockpub_destroy(sp);
    return NULL;
}

void stockpub_latency_get(const struct stockpub *sp, struct lathist *out)
{
    *out = sp->lat;
}

void stockpub_stats_get(const struct stockpub *sp, struct stockpub_stats *out)
{
    *out = sp->st;
    out->pending = pendmap_count(sp->pm);
}

void stockpub_destroy(struct stockpub *sp)
{
    if (!sp)
        return;
    kafka_consumer_destroy(sp->kc);
    dlq_destroy(sp->dlq);
    pendmap_destroy(sp->pm);
    storeset_destroy(sp->stores);
    budget_destroy(sp->budget);
    if (sp->pg)
        PQfinish(sp->pg);
    free(sp);
}
