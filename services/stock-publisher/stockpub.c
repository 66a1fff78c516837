#include "stockpub.h"

#include "app/lanes.h"
#include "flushpol.h"
#include "soldset.h"

#include "app/ops.h"
#include "app/storeset.h"
#include "ledger/parked.h"
#include "events/event.h"
#include "events/topics.h"
#include "ledger/dlq_record.h"
#include "ledger/ledger.h"
#include "ledger/remote_map.h"
#include "ledger/stores.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/sig.h"
#include "store/budget.h"

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

static const struct cfg_opt stockpub_opts[] = {
    CFG_ROW_PG_DSN(struct stockpub_cfg, pg_dsn, CFG_REQUIRED),
    CFG_ROW_KAFKA_BOOTSTRAP(struct stockpub_cfg, kafka_bootstrap, CFG_REQUIRED),
    CFG_ROW_REDIS_ADDR(struct stockpub_cfg, redis_addr, NULL, CFG_REQUIRED),
    CFG_ROW_SECRET_KEY(struct stockpub_cfg, secret_key),
    CFG_ROW_GROUP_ID(struct stockpub_cfg, group_id, "omnisync-stock-publisher"),
    {"stockpub.flush.ms", CFG_INT, "500", 0, 600000, 0,
     offsetof(struct stockpub_cfg, flush_ms),
     "flush a store once no new change came for this long (its stream "
     "settled; docs/stock-publisher.md)"},
    {"stockpub.hold.max.ms", CFG_INT, "300000", 0, 3600000, 0,
     offsetof(struct stockpub_cfg, hold_max_ms),
     "flush a store whose oldest pending change waited this long, even "
     "while its stream goes on"},
    {"stockpub.urgent.at", CFG_INT, "0", -1, 1000000, 0,
     offsetof(struct stockpub_cfg, urgent_at),
     "a change to this many available or fewer (sold out) goes at once "
     "(-1: none)"},
    {"stockpub.urgent.ms", CFG_INT, "1000", 0, 600000, 0,
     offsetof(struct stockpub_cfg, urgent_ms),
     "urgent changes of a store go together, at most one round per this"},
    {"stockpub.batch.max", CFG_INT, "100", 1, 100, 0,
     offsetof(struct stockpub_cfg, batch_max),
     "variants per variants_group_update call (and the size trigger)"},
    CFG_ROW_STATS_MS(struct stockpub_cfg, stats_ms),
    CFG_ROW_DRAIN_MS(struct stockpub_cfg, drain_ms),
    STORESET_CFG_REFRESH_MS(struct stockpub_cfg, refresh_ms),
    {"stockpub.read.max", CFG_INT, "50000", 1, 10000000, 0,
     offsetof(struct stockpub_cfg, drain_max_msgs),
     "per round, messages read before the flush checks"},
    {"token.wait.ms", CFG_INT, "2000", 100, 600000, 0,
     offsetof(struct stockpub_cfg, token_wait_ms),
     "longest wait for a store's API token before that store's work is "
     "put aside (docs/isolation.md)"},
    {"stockpub.pace.pct", CFG_INT, "100", 1, 100, 0,
     offsetof(struct stockpub_cfg, pace_pct),
     "share of a window's stock tokens left that the flush pacing spends "
     "(lower: fewer calls, longer holds; docs/stock-publisher.md)"},
    LANES_CFG_ROWS(struct stockpub_cfg, store_workers, slice_ms),
    STORESET_CFG_TIMEOUT_MS(struct stockpub_cfg, store_timeout_ms),
    {"stockpub.read.ms", CFG_INT, "200", 0, 60000, 0,
     offsetof(struct stockpub_cfg, drain_max_ms),
     "per round, time spent reading before the flush checks"},
    CFG_ROW_LOG_LEVEL(struct stockpub_cfg, log_level, "info"),
    CFG_ROWS_HTTP(struct stockpub_cfg, STOCKPUB_HTTP_LISTEN),
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
    struct soldset *sold; /* variants the stores show sold out */
    struct lathist lat;
    struct stockpub_stats st;
    struct consume_metrics mx;      /* consumed / failed counters */
    struct metrics_family *latency; /* (may be NULL) ledger to store */
    struct metrics_family *parked;  /* (may be NULL) omnisync_parked_items */
    int64_t next_stats_ms, next_refresh_ms, last_refresh_ms;
    int64_t last_refresh_wall_ms; /* when the last refresh started */
    int draining;
    int catching_up; /* the last read stopped at its bound: a backlog */
    int64_t drain_deadline_ms;
    struct lanes *lanes;            /* store workers */
    struct stockpub_lane *inflight; /* flushes still on a worker */
};

/* Context of one store's flush, for the send callback (on a store
 * worker: nothing of the consumer's struct stockpub is touched). */
struct stockpub_flush {
    struct stockpub_stats st;         /* this flush's call counters */
    const struct consume_metrics *mx; /* the failed counter */
    long long token_wait_ms;          /* token.wait.ms */
    int64_t drain_deadline_ms;        /* draining: the deadline, else 0 */
    struct storeset_entry *e;
    struct store_call call;         /* stock class; the drain deadline */
    struct store_stock_item *sitem; /* per item of the whole batch */
    struct pend_item **base;
    int stop;           /* a retry happened: leave the rest */
    long retry_hint_ms; /* Retry-After of the last RETRY */
    int store_error;    /* the store refused the call: its settings */
};

enum outcome stockpub_split_send(struct pend_item **items, size_t n,
                                 stockpub_send_fn *send, void *opaque,
                                 struct store_item_result *out,
                                 unsigned long *calls)
{
    enum outcome r;
    size_t i, half;

    if (n == 0)
        return OUTCOME_OK;
    for (i = 0; i < n; i++) {
        out[i].res = STORE_ITEM_PENDING;
        out[i].reason[0] = '\0';
    }
    r = send(opaque, items, n, out);
    if (calls)
        (*calls)++;
    if (r == OUTCOME_OK)
        return OUTCOME_OK;
    if (r != OUTCOME_REJECTED) {
        for (i = 0; i < n; i++)
            out[i].res = STORE_ITEM_PENDING;
        return r;
    }
    if (n == 1) {
        out[0].res = STORE_ITEM_REJECTED;
        return OUTCOME_OK;
    }
    /* The store refused the batch as a whole: one bad item spoils it.
     * Halves find k bad items in about 2k log2(n) calls. */
    half = n / 2;
    r = stockpub_split_send(items, half, send, opaque, out, calls);
    if (r != OUTCOME_OK)
        return r;
    return stockpub_split_send(items + half, n - half, send, opaque, out + half,
                               calls);
}

/* ---- the store call --------------------------------------------------- */

/* Why the store settled nothing: log it and stop this store's flush. */
static void stockpub_send_stopped(struct stockpub_flush *f, enum outcome r,
                                  size_t n, const struct store_item_result *out)
{
    const struct store_result *res = &f->call.last;

    f->stop = 1;
    f->st.calls_retry++;
    consume_count_failed(f->mx, TOPICS_STOCK);
    if (r == OUTCOME_REJECTED && out[0].res != STORE_ITEM_REJECTED) {
        /* 401, 403, 404...: the store's settings, not the items. */
        log_error("%s: %s; keeping %zu variants pending", f->e->conf.name,
                  f->call.why, n);
        f->store_error = 1;
        return;
    }
    log_warn("%s: %s; %zu variants stay pending", f->e->conf.name, f->call.why,
             n);
    f->retry_hint_ms = res->retry_after_s > 0 ? res->retry_after_s * 1000 : 0;
}

static enum outcome stockpub_send(void *opaque, struct pend_item **items,
                                  size_t n, struct store_item_result *out)
{
    struct stockpub_flush *f = opaque;
    enum outcome r;

    if (f->stop)
        return OUTCOME_RETRY;
    /* A bounded token wait: a store paused by its limit keeps its items
     * pending (its backoff) instead of holding every other store's. */
    f->call.deadline_ms = f->drain_deadline_ms
                              ? f->drain_deadline_ms
                              : clock_mono_ms() + f->token_wait_ms;
    r = f->e->plat->stock_push(&f->call, f->sitem + (items - f->base), n, out);
    f->st.calls++;
    if (r == OUTCOME_OK) {
        f->st.calls_ok++;
        return OUTCOME_OK;
    }
    if (r == OUTCOME_REJECTED && out[0].res == STORE_ITEM_REJECTED) {
        f->st.calls_4xx++;
        log_warn("%s: batch of %zu rejected (HTTP %ld): %s", f->e->conf.name, n,
                 f->call.last.status,
                 n > 1 ? "splitting it" : "dead-lettering the variant");
        return OUTCOME_REJECTED;
    }
    stockpub_send_stopped(f, r, n, out);
    return r == OUTCOME_REJECTED ? OUTCOME_RETRY : r;
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

/* A store's settings changed in the ledger (`store set|remove`): reload
 * now rather than at the next periodic refresh. */
static void stockpub_refresh_changed(struct stockpub *sp)
{
    char err[512];
    int rc = storeset_refresh_changed(sp->stores, sp->pg, sp->c.secret_key, err,
                                      sizeof(err));

    if (rc < 0) {
        log_warn("stores: change check failed: %s", err);
        if (db_conn_lost(sp->pg))
            PQreset(sp->pg);
    } else if (rc > 0) {
        sp->last_refresh_wall_ms = clock_wall_ms();
    }
}

/* The ledger's note of the dead letter just written, for status and
 * `omnisync dlq` (logged when it cannot be written: the DLQ record itself
 * is safe).  @p it is the coalesced item, or NULL for a message. */
static void stockpub_dlq_note(struct stockpub *sp, const struct pend_item *it,
                              const char *key, const char *reason)
{
    char err[512];
    struct storeset_entry *e =
        it ? storeset_find(sp->stores, it->st->name) : NULL;

    if (dlq_record_add(
            sp->pg,
            &(struct dlq_record_note){.store_id = e ? e->conf.id : 0,
                                      .store = it ? it->st->name : NULL,
                                      .service = "stock-publisher",
                                      .entity = it ? REMOTE_MAP_VARIANT : NULL,
                                      .local_id = it ? it->variant_id : 0,
                                      .key = key,
                                      .reason = reason,
                                      .ref = dlq_last(sp->dlq)},
            err, sizeof(err)) != 0)
        log_warn("dlq_record: %s (status and `omnisync dlq` will not list it)",
                 err);
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
    stockpub_dlq_note(sp, it, it->key, reason);
    sp->st.dlq++;
    return 0;
}

/* The stock item of @p it for store variant @p remote. */
static void stockpub_item(const struct pend_item *it, long long remote,
                          struct store_stock_item *si)
{
    si->variant_id = remote;
    si->quantity = it->available;
    /* No price in the store's list: only the quantity is pushed. */
    si->price = it->price[0] ? it->price : NULL;
    si->old_price = it->old_price[0] ? it->old_price : NULL;
}

/* Look up the remote ids of @p n items of store @p store_id; 0 when the
 * variant has none.  Returns 0, or -1 on a database error. */
static int stockpub_remote_ids(struct stockpub *sp, long long store_id,
                               struct pend_item **items, size_t n,
                               long long *remote)
{
    long long *local = calloc(n + 1, sizeof(*local));
    char err[512];
    int rc = -1;

    if (!local)
        return -1;
    for (size_t i = 0; i < n; i++)
        local[i] = items[i]->variant_id;
    if (remote_map_remote_ids(sp->pg, store_id, REMOTE_MAP_VARIANT, local, n,
                              remote, err, sizeof(err)) != 0) {
        log_warn("remote ids: %s", err);
        if (db_conn_lost(sp->pg))
            PQreset(sp->pg);
        goto out;
    }
    rc = 0;
out:
    free(local);
    return rc;
}

/* Settle what the store answered: accepted items are done, rejected ones
 * dead-lettered (kept pending when that fails). */
static void stockpub_settle(struct stockpub *sp, const char *store,
                            struct pend_item **send,
                            const struct store_item_result *out, size_t k)
{
    int64_t wall = clock_wall_ms();

    for (size_t i = 0; i < k; i++) {
        if (out[i].res == STORE_ITEM_ACCEPTED) {
            int64_t ms = wall - send[i]->commit_ms;

            lathist_add(&sp->lat, ms);
            metrics_observe(sp->latency, (const char *const[]){store, "stock"},
                            ms > 0 ? (double)ms / 1000.0 : 0.0);
            sp->st.pushed++;
            (void)soldset_set(sp->sold, store, send[i]->variant_id,
                              send[i]->available <= sp->c.urgent_at);
            pendmap_done(sp->pm, send[i]);
        } else if (out[i].res == STORE_ITEM_REJECTED) {
            sp->st.rejected++;
            if (stockpub_dlq_item(sp, send[i],
                                  out[i].reason[0] ? out[i].reason
                                                   : "store rejected it") == 0)
                pendmap_done(sp->pm, send[i]);
        }
    }
}

/* The items with a remote id go to @p send (with their stock items);
 * the others are skipped: catalog-publisher emits the variant's stock
 * event again once it records the remote id.  Returns how many to send. */
static size_t stockpub_mapped(struct stockpub *sp, struct pend_item **items,
                              size_t n, const long long *remote,
                              struct pend_item **send,
                              struct store_stock_item *sitem)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (remote[i] > 0) {
            stockpub_item(items[i], remote[i], &sitem[k]);
            send[k++] = items[i];
            continue;
        }
        log_debug_ctx(items[i]->key, "no remote id yet: skipped");
        sp->st.unmapped++;
        pendmap_done(sp->pm, items[i]);
    }
    return k;
}

/* The store of @p pst, refreshing the list once when it is unknown; NULL
 * when the ledger does not have it any more. */
static struct storeset_entry *stockpub_flush_target(struct stockpub *sp,
                                                    struct pend_store *pst)
{
    struct storeset_entry *e = storeset_find(sp->stores, pst->name);

    if (!e) {
        stockpub_refresh(sp, 1);
        e = storeset_find(sp->stores, pst->name);
    }
    return e;
}

/* ---- store workers (app/lanes.h, docs/isolation.md) --------------------- */

/* A store worker's own connections: Postgres (to load the stores), the
 * API budget and the store clients. */
struct stockpub_env {
    PGconn *pg;
    struct budget *b;
    struct storeset *ss;
    int64_t loaded_ms;
    const struct stockpub_cfg *c; /* the publisher's (read-only) */
};

/*
 * One store's flush on a store worker, with copies of what it sends: the
 * consumer goes on coalescing newer values into the pending items
 * meanwhile, and settles the answer itself (stockpub_lane_finish()).
 */
struct stockpub_lane {
    struct lane_job lj;
    struct stockpub_flush f;
    struct pend_store *pst;  /* the consumer's; not touched on the worker */
    char *store;             /* (owned) the store's name */
    size_t k;                /* items sent */
    struct pend_item **send; /* (owned array) compared, never read there */
    int64_t *sent_offset;    /* (owned) each item's last offset as sent */
    struct store_stock_item *sitem;       /* (owned) */
    char (*money)[2][PENDMAP_MONEY_SIZE]; /* (owned) the prices sent */
    struct store_item_result *out;        /* (owned) */
    unsigned long calls;
    struct stockpub_lane *next; /* the publisher's in-flight list */
};

static void stockpub_env_free(void *env)
{
    struct stockpub_env *w = env;

    if (!w)
        return;
    storeset_destroy(w->ss);
    budget_destroy(w->b);
    if (w->pg)
        PQfinish(w->pg);
    free(w);
}

static void *stockpub_env_new(void *arg, char *errstr, size_t errstr_size)
{
    const struct stockpub *sp = arg;
    struct stockpub_env *w = calloc(1, sizeof(*w));

    if (!w) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    w->c = &sp->c;
    w->pg = db_connect(sp->c.pg_dsn, STOCKPUB_SERVICE, errstr, errstr_size);
    if (w->pg)
        w->b = budget_new(sp->c.redis_addr, NULL, errstr, errstr_size);
    if (w->b) {
        budget_metrics_share(w->b, sp->budget);
        w->ss = storeset_new();
    }
    if (w->ss) {
        storeset_timeout_set(w->ss, (long)sp->c.store_timeout_ms);
        w->loaded_ms = clock_mono_ms();
        if (storeset_refresh(w->ss, w->pg, sp->c.secret_key, errstr,
                             errstr_size) >= 0)
            return w;
    }
    stockpub_env_free(w);
    return NULL;
}

/* On the worker: store @p name in the worker's own set, reloaded when it
 * is missing or old. */
static struct storeset_entry *stockpub_env_store(struct stockpub_env *w,
                                                 const char *name)
{
    struct storeset_entry *e = storeset_find(w->ss, name);
    int64_t now = clock_mono_ms();
    char err[512];

    if (e && now - w->loaded_ms < w->c->refresh_ms)
        return e;
    w->loaded_ms = now;
    if (storeset_refresh(w->ss, w->pg, w->c->secret_key, err, sizeof(err)) <
        0) {
        log_warn("store worker: stores: %s", err);
        if (db_conn_lost(w->pg))
            PQreset(w->pg);
    }
    return storeset_find(w->ss, name);
}

/* On the worker: push the copies. */
static void stockpub_lane_run(void *env, struct lane_job *lj)
{
    struct stockpub_lane *j = (struct stockpub_lane *)lj;
    struct stockpub_env *w = env;
    struct stockpub_flush *f = &j->f;

    f->e = w ? stockpub_env_store(w, j->store) : NULL;
    if (!f->e) {
        /* The items stay pending and the store backs off. */
        for (size_t i = 0; i < j->k; i++)
            j->out[i].res = STORE_ITEM_PENDING;
        f->stop = 1;
        log_warn("%s: store worker not ready; %zu variants stay pending",
                 j->store, j->k);
        return;
    }
    store_call_init(&f->call, f->e->sc, w->b, BUDGET_STOCK);
    (void)stockpub_split_send(j->send, j->k, stockpub_send, f, j->out,
                              &j->calls);
    store_call_clear(&f->call);
}

static void stockpub_lane_free(struct lane_job *lj)
{
    struct stockpub_lane *j = (struct stockpub_lane *)lj;

    free(j->store);
    free(j->send);
    free(j->sent_offset);
    free(j->sitem);
    free(j->money);
    free(j->out);
    free(j);
}

/* A flush of the @p k mapped items of @p pst to store @p store_id, with
 * copies of their values. */
static struct stockpub_lane *
stockpub_lane_new(struct stockpub *sp, struct pend_store *pst,
                  long long store_id, struct pend_item **send,
                  const struct store_stock_item *sitem, size_t k)
{
    struct stockpub_lane *j = calloc(1, sizeof(*j));

    if (!j)
        return NULL;
    j->lj.store = store_id;
    j->lj.run = stockpub_lane_run;
    j->lj.free = stockpub_lane_free;
    j->pst = pst;
    j->k = k;
    j->store = strdup(pst->name);
    j->send = calloc(k + 1, sizeof(*j->send));
    j->sent_offset = calloc(k + 1, sizeof(*j->sent_offset));
    j->sitem = calloc(k + 1, sizeof(*j->sitem));
    j->money = calloc(k + 1, sizeof(*j->money));
    j->out = calloc(k + 1, sizeof(*j->out));
    if (!j->store || !j->send || !j->sent_offset || !j->sitem || !j->money ||
        !j->out) {
        stockpub_lane_free(&j->lj);
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        j->send[i] = send[i];
        j->sent_offset[i] = send[i]->last_offset;
        j->sitem[i] = sitem[i];
        snprintf(j->money[i][0], PENDMAP_MONEY_SIZE, "%s",
                 sitem[i].price ? sitem[i].price : "");
        snprintf(j->money[i][1], PENDMAP_MONEY_SIZE, "%s",
                 sitem[i].old_price ? sitem[i].old_price : "");
        j->sitem[i].price = sitem[i].price ? j->money[i][0] : NULL;
        j->sitem[i].old_price = sitem[i].old_price ? j->money[i][1] : NULL;
    }
    j->f.mx = &sp->mx;
    j->f.token_wait_ms = sp->c.token_wait_ms;
    j->f.drain_deadline_ms = sp->draining ? sp->drain_deadline_ms : 0;
    j->f.sitem = j->sitem;
    j->f.base = j->send;
    return j;
}

/* On the consumer, once the flush's run ended: settle what the store
 * answered; 0, or -1 when the store must wait (backoff set). */
static int stockpub_lane_finish(struct stockpub *sp, struct stockpub_lane *j)
{
    const struct stockpub_flush *f = &j->f;

    sp->st.calls += f->st.calls;
    sp->st.calls_ok += f->st.calls_ok;
    sp->st.calls_4xx += f->st.calls_4xx;
    sp->st.calls_retry += f->st.calls_retry;
    /* A newer value coalesced while the flush ran stays pending: it is
     * pushed next (values are absolute); what the store shows of it is
     * then not known sold out (its next sell-out is urgent: safe). */
    for (size_t i = 0; i < j->k; i++)
        if (j->send[i]->last_offset != j->sent_offset[i]) {
            j->out[i].res = STORE_ITEM_PENDING;
            (void)soldset_set(sp->sold, j->store, j->send[i]->variant_id, 0);
        }
    stockpub_settle(sp, j->store, j->send, j->out, j->k);
    if (f->stop) {
        pendmap_backoff(j->pst, clock_mono_ms(),
                        f->store_error ? STOCKPUB_STORE_ERROR_MS
                                       : f->retry_hint_ms,
                        STOCKPUB_BACKOFF_MIN_MS, STOCKPUB_BACKOFF_MAX_MS);
        return -1;
    }
    pendmap_backoff_clear(j->pst);
    log_debug("%s: flushed %zu variants in %lu call(s), %zu pending", j->store,
              j->k, j->calls, j->pst->count);
    return 0;
}

/* Settle the flushes whose run ended on a worker. */
static void stockpub_collect(struct stockpub *sp)
{
    struct stockpub_lane **pp = &sp->inflight, *j;

    while ((j = *pp) != NULL) {
        if (!lanes_collect(sp->lanes, &j->lj)) {
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        stockpub_lane_finish(sp, j);
        stockpub_lane_free(&j->lj);
    }
}

/*
 * Push the @p k mapped items to store @p e on a store worker; 0, or -1
 * when the store must wait (backoff set, or its flush still in flight:
 * the store is not due until it ends, and its pending values keep
 * accumulating meanwhile).
 */
static int stockpub_push(struct stockpub *sp, struct pend_store *pst,
                         struct storeset_entry *e, struct pend_item **send,
                         struct store_stock_item *sitem, size_t k)
{
    struct stockpub_lane *j;
    int64_t now = clock_mono_ms();
    int rc;

    if (k == 0) {
        pendmap_backoff_clear(pst);
        return 0;
    }
    j = stockpub_lane_new(sp, pst, e->conf.id, send, sitem, k);
    switch (j ? lanes_run(sp->lanes, &j->lj) : LANE_NO_WORKER) {
    case LANE_DONE:
        rc = stockpub_lane_finish(sp, j);
        stockpub_lane_free(&j->lj);
        return rc;
    case LANE_DETACHED:
        lanes_handoff(sp->lanes, &j->lj, LANE_COLLECT);
        pst->not_before_ms = INT64_MAX;
        j->next = sp->inflight;
        sp->inflight = j;
        log_info("%s: flush of %zu variants still running after %lld ms; "
                 "the store's changes wait behind it",
                 pst->name, k, sp->c.slice_ms);
        return -1;
    default:
        /* Every worker busy (or out of memory): try again shortly. */
        if (j)
            stockpub_lane_free(&j->lj);
        pendmap_backoff(pst, now, STOCKPUB_BACKOFF_MIN_MS,
                        STOCKPUB_BACKOFF_MIN_MS, STOCKPUB_BACKOFF_MAX_MS);
        return -1;
    }
}

/* Flush up to batch.max items of @p pst (at most the platform's batch).
 * Returns 0, or -1 when the store must wait (backoff set). */
static int stockpub_flush_store(struct stockpub *sp, struct pend_store *pst)
{
    size_t max = (size_t)sp->c.batch_max, n, k;
    struct pend_item **items = calloc(max, sizeof(*items));
    struct pend_item **send = calloc(max, sizeof(*send));
    long long *remote = calloc(max, sizeof(*remote));
    struct store_stock_item *sitem = calloc(max, sizeof(*sitem));
    struct storeset_entry *e;
    int rc = -1;

    if (!items || !send || !remote || !sitem) {
        pendmap_backoff(pst, clock_mono_ms(), 0, STOCKPUB_BACKOFF_MIN_MS,
                        STOCKPUB_BACKOFF_MAX_MS);
        goto out;
    }
    e = stockpub_flush_target(sp, pst);
    if (e && e->plat->stock_batch_max < max)
        max = e->plat->stock_batch_max;
    n = pendmap_batch(pst, items, max);
    if (!e) {
        /* A store the ledger does not have any more: nothing to push. */
        for (k = 0; k < n; k++) {
            sp->st.unknown_store++;
            pendmap_done(sp->pm, items[k]);
        }
        rc = 0;
        goto out;
    }
    if (stockpub_remote_ids(sp, e->conf.id, items, n, remote) < 0) {
        pendmap_backoff(pst, clock_mono_ms(), 0, STOCKPUB_BACKOFF_MIN_MS,
                        STOCKPUB_BACKOFF_MAX_MS);
        goto out;
    }
    k = stockpub_mapped(sp, items, n, remote, send, sitem);
    rc = stockpub_push(sp, pst, e, send, sitem, k);
out:
    free(items);
    free(send);
    free(remote);
    free(sitem);
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
    consume_count_done(&sp->mx, TOPICS_STOCK);
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
        /* Urgent: it sells the variant out (not: the store shows it sold
         * out already). */
        v.urgent = v.available <= sp->c.urgent_at &&
                   !soldset_has(sp->sold, ev.store, v.variant_id);
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
    snprintf(dlqerr, sizeof(dlqerr), "%.*s", m->key ? (int)m->key_len : 0,
             m->key ? (const char *)m->key : "");
    stockpub_dlq_note(sp, NULL, dlqerr, err);
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
        "commits=%llu rounds=%llu hold_max_ms=%llu latency_n=%llu p50_ms=%lld "
        "p99_ms=%lld "
        "max_ms=%lld read_ms=%llu flush_ms=%llu",
        (unsigned long long)sp->st.consumed,
        (unsigned long long)sp->st.coalesced, pendmap_count(sp->pm),
        (unsigned long long)sp->st.calls, (unsigned long long)sp->st.calls_ok,
        (unsigned long long)sp->st.calls_4xx,
        (unsigned long long)sp->st.calls_retry,
        (unsigned long long)sp->st.pushed, (unsigned long long)sp->st.rejected,
        (unsigned long long)sp->st.unmapped,
        (unsigned long long)sp->st.unknown_store,
        (unsigned long long)sp->st.invalid, (unsigned long long)sp->st.dlq,
        (unsigned long long)sp->st.commits, (unsigned long long)sp->st.rounds,
        (unsigned long long)sp->st.held_ms_max,
        (unsigned long long)sp->lat.count,
        (long long)lathist_quantile(&sp->lat, 0.5),
        (long long)lathist_quantile(&sp->lat, 0.99), (long long)sp->lat.max_ms,
        (unsigned long long)(sp->st.read_us / 1000),
        (unsigned long long)(sp->st.flush_us / 1000));
}

/* omnisync_parked_items{kind="stock"}: the variants pending for each
 * store that is waiting out its backoff (kept in memory, their offsets
 * uncommitted: docs/isolation.md). */
static void stockpub_parked_gauge(struct stockpub *sp, int64_t now)
{
    struct storeset_entry *e;
    struct pend_store *pst;
    size_t i;

    for (i = 0; sp->parked && i < storeset_count(sp->stores); i++) {
        e = storeset_get(sp->stores, i);
        pst = pendmap_store(sp->pm, e->conf.name);
        metrics_set(sp->parked, (const char *const[]){e->conf.name, "stock"},
                    pst && pst->not_before_ms > now ? (double)pst->count : 0);
    }
}

/* ---- when to flush (flushpol.h) ---------------------------------------- */

/* The policy's view of store @p e's budget: the stock share of a window,
 * the tokens and time left in it; in->known 0 when Redis cannot be
 * read. */
static void stockpub_budget_view(struct stockpub *sp,
                                 const struct storeset_entry *e,
                                 struct flushpol_in *in)
{
    struct budget_config bc;
    struct budget_state st;
    long limit, window_s;
    const char *id = store_client_budget(e->sc, &limit, &window_s);
    long long used = 0;

    in->known = budget_peek(sp->budget, id, &st) == 0;
    if (!in->known)
        return;
    budget_config_default(&bc);
    in->window_ms = (long long)window_s * 1000;
    in->time_left_ms = in->window_ms;
    if (st.pause_until_ms > st.now_ms) {
        used = limit;
        in->time_left_ms = st.pause_until_ms - st.now_ms;
    } else if (st.window_end_ms > st.now_ms && st.limit > 0) {
        limit = (long)st.limit;
        used = st.used;
        in->used_stock = st.used_by[BUDGET_STOCK];
        in->time_left_ms = st.window_end_ms - st.now_ms;
        if (in->time_left_ms > in->window_ms)
            in->time_left_ms = in->window_ms; /* the guard */
    }
    in->share =
        limit - ((long long)limit * bc.reserve_pct[BUDGET_STOCK] + 99) / 100;
    in->tokens_left = in->share - used;
}

/* How many calls @p pst's round makes now (flushpol_now()): 0 holds. */
static long long stockpub_round_calls(struct stockpub *sp,
                                      struct pend_store *pst, int64_t now)
{
    struct storeset_entry *e;
    struct flushpol_in in;

    if (!pst->count || pst->not_before_ms > now)
        return 0;
    memset(&in, 0, sizeof(in));
    in.pending = pst->count;
    in.urgent = pst->urgent;
    in.oldest_age_ms = now - pst->head->first_ms;
    in.newest_age_ms = now - pst->last_ms;
    in.flush_ms = (long)sp->c.flush_ms;
    in.hold_max_ms = (long)sp->c.hold_max_ms;
    in.since_round_ms = now - pst->round_ms;
    in.urgent_ms = (long)sp->c.urgent_ms;
    /* Reading a backlog: nothing goes until it is read (or the oldest
     * change waited ten flush.ms), so it coalesces fully. */
    if (sp->catching_up && in.oldest_age_ms < 10 * in.flush_ms)
        return 0;
    in.batch = (size_t)sp->c.batch_max;
    in.pace_pct = (int)sp->c.pace_pct;
    /* Still changing, not held too long, nothing urgent (or an urgent
     * round went less than urgent.ms ago): nothing goes, whatever the
     * budget says (no Redis round trip). */
    if (in.newest_age_ms < in.flush_ms && in.oldest_age_ms < in.hold_max_ms &&
        (!in.urgent || in.since_round_ms < in.urgent_ms))
        return 0;
    e = storeset_find(sp->stores, pst->name);
    if (e) {
        if (e->plat->stock_batch_max < in.batch)
            in.batch = e->plat->stock_batch_max;
        stockpub_budget_view(sp, e, &in);
    }
    if (in.oldest_age_ms > (int64_t)sp->st.held_ms_max)
        sp->st.held_ms_max = (uint64_t)in.oldest_age_ms;
    return flushpol_now(&in);
}

/* Flush every store whose round is due: as many calls as the budget's
 * schedule allows, each with the oldest up-to-100 pending variants; a
 * failure leaves the rest pending (backoff). */
static void stockpub_flush_due(struct stockpub *sp)
{
    struct pend_store *pst, *next;
    long long calls, k;

    for (pst = pendmap_stores(sp->pm); pst && !sig_stop_requested();
         pst = next) {
        next = pst->next;
        k = stockpub_round_calls(sp, pst, clock_mono_ms());
        if (k <= 0)
            continue;
        sp->st.rounds++;
        pst->round_ms = clock_mono_ms();
        for (calls = 0; pst->count && calls < k; calls++) {
            if (stockpub_flush_store(sp, pst) < 0)
                break;
            stockpub_commit(sp, 0);
        }
    }
}

/* Whether the consumer is a backlog behind: more than ten full calls'
 * worth of messages between the assigned partitions' positions and their
 * high watermarks (librdkafka's cached values: no round trip).  A live
 * stream's few in-flight messages do not count. */
static int stockpub_behind(struct stockpub *sp)
{
    rd_kafka_t *rk = kafka_consumer_handle(sp->kc);
    rd_kafka_topic_partition_list_t *a = NULL;
    int64_t lo, hi, lag = 0;
    int i;

    if (rd_kafka_assignment(rk, &a) || !a)
        return 0;
    if (!rd_kafka_position(rk, a)) {
        for (i = 0; i < a->cnt; i++) {
            const rd_kafka_topic_partition_t *p = &a->elems[i];

            if (p->offset >= 0 &&
                !rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &lo,
                                                &hi) &&
                hi > p->offset)
                lag += hi - p->offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(a);
    return lag > 10 * sp->c.batch_max;
}

/* One availability row: sold out -> the store shows it sold out. */
static int stockpub_sold_row(void *arg, const struct stores_avail *a,
                             char *errstr, size_t errstr_size)
{
    struct stockpub *sp = arg;

    if (ledger_available_calc(a->on_hand, a->reserved, a->safety_stock) >
        sp->c.urgent_at)
        return 0;
    if (soldset_set(sp->sold, a->store, a->variant_id, 1) == 0)
        return 0;
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
}

/* At start: what the ledger has sold out is what each store shows sold
 * out (or is about to be told), so a later change that leaves a variant
 * sold out is not urgent.  A store that cannot be read keeps an empty set
 * (its first sell-outs count as urgent: safe, a call each). */
static void stockpub_sold_seed(struct stockpub *sp)
{
    struct stores_avail_each each = {stockpub_sold_row, sp};
    char err[256];

    if (sp->c.urgent_at < 0)
        return; /* no change is ever urgent: nothing to know */
    for (size_t i = 0; i < storeset_count(sp->stores); i++) {
        const struct storeset_entry *e = storeset_get(sp->stores, i);

        if (stores_avail_sellable(sp->pg, e->conf.id, &each, err, sizeof(err)) <
            0)
            log_warn("store %s: sold-out variants not read (%s): its first "
                     "sell-outs count as urgent",
                     e->conf.name, err);
    }
}

int stockpub_poll(struct stockpub *sp)
{
    rd_kafka_message_t *m;
    int64_t start, now, t;
    long long n = 0;

    m = kafka_consumer_poll(sp->kc, KAFKA_POLL_MS);
    sp->catching_up = 0;
    t = clock_mono_us();
    if (m) {
        /* Drain what is already fetched, so a backlog coalesces before
         * any flush (bounded, and each wait is short). */
        start = clock_mono_ms();
        while (m) {
            stockpub_handle(sp, m);
            rd_kafka_message_destroy(m);
            sp->catching_up = ++n >= sp->c.drain_max_msgs ||
                              clock_mono_ms() - start >= sp->c.drain_max_ms;
            if (sp->catching_up || sig_stop_requested())
                break;
            m = kafka_consumer_poll(sp->kc, 10 /* ms */);
        }
    }
    if (!sp->catching_up && n > 0)
        sp->catching_up = stockpub_behind(sp);
    if (kafka_consumer_fatal(sp->kc)) {
        log_error("kafka consumer: fatal error");
        return -1;
    }
    now = clock_mono_us();
    sp->st.read_us += (uint64_t)(now - t);
    stockpub_collect(sp);
    stockpub_flush_due(sp);
    stockpub_commit(sp, 0);
    sp->st.flush_us += (uint64_t)(clock_mono_us() - now);
    now = clock_mono_ms();
    if (now >= sp->next_refresh_ms)
        stockpub_refresh(sp, 0);
    else
        stockpub_refresh_changed(sp);
    stockpub_parked_gauge(sp, now);
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
        stockpub_collect(sp);
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
    /* A flush still on a worker at the deadline keeps its items pending
     * (uncommitted: replayed after a restart). */
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
                              const struct cfg *passthru, struct ops *ops,
                              char *errstr, size_t errstr_size)
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
    sp->sold = soldset_new();
    if (!sp->stores || !sp->pm || !sp->sold) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    n = storeset_refresh(sp->stores, sp->pg, sp->c.secret_key, errstr,
                         errstr_size);
    if (n < 0)
        goto fail;
    stockpub_sold_seed(sp);
    sp->dlq = dlq_new(c->kafka_bootstrap, passthru, STOCKPUB_SERVICE, errstr,
                      errstr_size);
    if (!sp->dlq)
        goto fail;
    sp->kc = kafka_consumer_new(c->kafka_bootstrap, c->group_id, passthru,
                                errstr, errstr_size);
    if (!sp->kc ||
        kafka_consumer_subscribe(sp->kc, topics, 1, errstr, errstr_size) < 0)
        goto fail;
    ops_wire_consumer(ops, &(struct ops_consumer){c->pg_dsn, c->redis_addr,
                                                  c->group_id, sp->kc, sp->dlq,
                                                  sp->budget, &sp->mx});
    sp->latency = ops_latency_family(ops);
    sp->parked = parked_gauge_new(ops_metrics(ops));
    sp->lanes =
        lanes_new((int)c->store_workers, (long)c->slice_ms,
                  &(struct lanes_ops){stockpub_env_new, stockpub_env_free, sp},
                  errstr, errstr_size);
    if (!sp->lanes)
        goto fail;
    sp->last_refresh_ms = clock_mono_ms();
    sp->next_refresh_ms = sp->last_refresh_ms + c->refresh_ms;
    sp->next_stats_ms = sp->last_refresh_ms + c->stats_ms;
    log_info("started: %d stores, group %s, stockpub.flush.ms=%lld "
             "stockpub.hold.max.ms=%lld stockpub.batch.max=%lld",
             n, c->group_id, c->flush_ms, c->hold_max_ms, c->batch_max);
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
    /* Flushes that ended are freed unsettled (their items were pending,
     * never committed); one still running stays with its worker, left to
     * the exit with the pool (lanes_destroy()). */
    for (struct stockpub_lane *j = sp->inflight, *next; j; j = next) {
        next = j->next;
        if (lanes_collect(sp->lanes, &j->lj))
            stockpub_lane_free(&j->lj);
    }
    lanes_destroy(sp->lanes);
    kafka_consumer_destroy(sp->kc);
    dlq_destroy(sp->dlq);
    pendmap_destroy(sp->pm);
    soldset_destroy(sp->sold);
    storeset_destroy(sp->stores);
    budget_destroy(sp->budget);
    if (sp->pg)
        PQfinish(sp->pg);
    free(sp);
}
