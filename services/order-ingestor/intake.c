#include "intake.h"

#include "app/ops.h"
#include "app/storeset.h"
#include "events/event.h"
#include "events/order.h"
#include "events/topics.h"
#include "ledger/orders.h"
#include "ledger/stores.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/httpd.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/outcome.h"
#include "lib/sig.h"
#include "oicfg.h"
#include "store/budget.h"
#include "store/platform.h"
#include "store/store_client.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OI_SECRET_MAX 64
#define OI_STORE_NAME_MAX (STORE_NAME_MAX + 1)
#define OI_MAX_CONNS 1000    /* webhook connections at once */
#define OI_CONN_TIMEOUT_S 60 /* an idle webhook connection is closed */

/*
 * Delivery wait: one per webhook request or polled page.  Each message in
 * flight holds a reference, the waiter holds one; the last unref frees, so
 * a request that gave up waiting never leaves a dangling pointer behind.
 */
struct oi_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending;
    int failed;
    int refs;
};

/* A store the webhook endpoint serves: its platform authenticates the
 * requests the store sends with the store's secret. */
struct oi_secret {
    const struct store_platform *p; /* NULL: unknown platform */
    char secret[OI_SECRET_MAX];
    char store[OI_STORE_NAME_MAX];
};

struct order_intake {
    const struct oi_cfg *c;
    struct kafka_producer *kp;
    struct httpd *h; /* the webhook server on intake.listen */
    pthread_t dr_thread, store_thread;
    int dr_started, store_started;
    volatile int stop_store; /* read by the store thread */
    volatile int stop_dr;
    int drained;
    /* the stores' secrets and platforms, written by the store thread */
    pthread_mutex_t mu;
    struct oi_secret *secrets;
    size_t nsecrets;
    int secrets_loaded;
    /* store thread state */
    PGconn *pg;
    struct storeset *ss;
    struct budget *b;
    char **registered;    /* "<store id>:<secret>" whose webhooks exist */
    char public_url[512]; /* intake.public_url, or derived from the socket */
    size_t nregistered;
    /* counters */
    unsigned long long n_accepted, n_rejected, n_polled;
    struct metrics_family *mx_ingested; /* (may be NULL) {source} */
    struct metrics_family *mx_rejected; /* (may be NULL) {code} */
};

/* ---- delivery waits ----------------------------------------------------- */

static struct oi_wait *oi_wait_new(void)
{
    struct oi_wait *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->refs = 1;
    return w;
}

static void oi_wait_unref_locked(struct oi_wait *w)
{
    int last = --w->refs == 0;

    pthread_mutex_unlock(&w->mu);
    if (last) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
    }
}

static void oi_wait_unref(struct oi_wait *w)
{
    pthread_mutex_lock(&w->mu);
    oi_wait_unref_locked(w);
}

/* Wait until nothing is pending or @p timeout_ms passes.
 * @returns 0 all delivered, 1 some failed, -1 timed out. */
static int oi_wait_done(struct oi_wait *w, long timeout_ms)
{
    struct timespec dl;
    int rc;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (w->pending > 0)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT)
            break;
    rc = w->pending > 0 ? -1 : w->failed ? 1 : 0;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static void oi_dr(void *msg_opaque, rd_kafka_resp_err_t err, int32_t partition,
                  int64_t offset, void *opaque)
{
    struct oi_wait *w = msg_opaque;

    (void)partition;
    (void)offset;
    (void)opaque;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    if (err) {
        w->failed++;
        log_warn("delivery failed: %s", rd_kafka_err2str(err));
    }
    w->pending--;
    pthread_cond_broadcast(&w->cv);
    oi_wait_unref_locked(w);
}

static void *oi_dr_main(void *arg)
{
    struct order_intake *in = arg;

    while (!in->stop_dr)
        kafka_producer_poll(in->kp, 100 /* ms */);
    return NULL;
}

/* ---- envelope ----------------------------------------------------------- */

static void oi_uuid(char out[37])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
             "%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}

/* Now as RFC 3339 UTC with milliseconds. */
static void oi_now_ts(char *out, size_t size, long long shift_s)
{
    struct timespec ts;
    struct tm tm;
    time_t t;
    char buf[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    t = ts.tv_sec + (time_t)shift_s;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03ld+00:00", buf, ts.tv_nsec / 1000000L);
}

/* Put one raw order on the topic; on success @p w has one more pending. */
static int oi_produce(struct order_intake *in, const char *store,
                      long long remote_id, json_t *order, const char *source,
                      struct oi_wait *w, char *errstr, size_t errstr_size)
{
    char id[37], ts[40], key[OI_STORE_NAME_MAX + 32], *data_s = NULL;
    char *env = NULL;
    json_t *data;
    int rc = -1;

    oi_uuid(id);
    oi_now_ts(ts, sizeof(ts), 0);
    if (order_raw_key(store, remote_id, key, sizeof(key)) < 0) {
        snprintf(errstr, errstr_size, "store name too long");
        return -1;
    }
    data = json_pack("{s:s, s:O}", "source", source, "order", order);
    data_s = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    if (!data_s) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    env = event_build(ORDER_EVENT_RAW, id, ts, store, key, data_s, errstr,
                      errstr_size);
    if (!env)
        goto out;
    pthread_mutex_lock(&w->mu);
    w->refs++;
    w->pending++;
    pthread_mutex_unlock(&w->mu);
    if (kafka_produce(in->kp, TOPICS_ORDERS, key, strlen(key), env, strlen(env),
                      NULL, 0, w, 1000 /* ms */, errstr, errstr_size) < 0) {
        pthread_mutex_lock(&w->mu);
        w->pending--;
        oi_wait_unref_locked(w);
        goto out;
    }
    rc = 0;
out:
    free(env);
    free(data_s);
    return rc;
}

/* ---- HTTP: the webhook route on intake.listen (lib/httpd) ---------------- */

/* Answer @p status with {"status"|"error": msg}. */
static void oi_answer(struct httpd_resp *resp, unsigned status, const char *msg)
{
    httpd_resp_json(
        resp, status,
        json_pack("{s:s}", status == 200 ? "status" : "error", msg));
}

/* 1 when @p path is a webhook path of a platform the intake serves. */
static int oi_routed(struct order_intake *in, const char *path)
{
    int found = 0;

    pthread_mutex_lock(&in->mu);
    for (size_t i = 0; i < in->nsecrets && !found; i++)
        found = in->secrets[i].p && in->secrets[i].p->webhook_route(path);
    pthread_mutex_unlock(&in->mu);
    return found;
}

/* The store that sent @p req, as its platform authenticates it.
 * @returns 1 with @p store and @p p set, 0 when no store did. */
static int oi_authenticate(struct order_intake *in,
                           const struct webhook_request *req, char *store,
                           size_t size, const struct store_platform **p)
{
    int found = 0;

    pthread_mutex_lock(&in->mu);
    for (size_t i = 0; i < in->nsecrets && !found; i++) {
        const struct oi_secret *s = &in->secrets[i];

        if (s->p && s->p->webhook_authenticate(req, s->secret)) {
            snprintf(store, size, "%s", s->store);
            *p = s->p;
            found = 1;
        }
    }
    pthread_mutex_unlock(&in->mu);
    return found;
}

static const char *oi_header(void *ctx, const char *name)
{
    return httpd_req_header(ctx, name);
}

static void oi_reject(struct order_intake *in, struct httpd_resp *resp,
                      unsigned status, const char *store, const char *why)
{
    char code[16];

    __atomic_add_fetch(&in->n_rejected, 1, __ATOMIC_RELAXED);
    snprintf(code, sizeof(code), "%u", status);
    metrics_inc(in->mx_rejected, (const char *const[]){code});
    log_warn("webhook rejected: status=%u store=%s reason=%s", status,
             store ? store : "-", why);
    oi_answer(resp, status, why);
}

/* Kafka did not take the order: 503, the store sends it again. */
static void oi_unavailable(struct order_intake *in, struct httpd_resp *resp)
{
    metrics_inc(in->mx_rejected, (const char *const[]){"503"});
    oi_answer(resp, 503, "not accepted, retry");
}

/* Put an authenticated order on the topic and answer once it is there. */
static void oi_accept(struct order_intake *in, struct httpd_resp *resp,
                      const char *store, const struct order_ref *ref,
                      json_t *order)
{
    struct oi_wait *w = oi_wait_new();
    char err[512];
    int rc;

    if (!w || oi_produce(in, store, ref->remote_id, order, "webhook", w, err,
                         sizeof(err)) < 0) {
        if (w)
            oi_wait_unref(w);
        log_error("webhook store=%s: %s", store, w ? err : "out of memory");
        oi_unavailable(in, resp);
        return;
    }
    rc = oi_wait_done(w, (long)in->c->intake_ack_ms);
    oi_wait_unref(w);
    if (rc != 0) {
        log_error("webhook store=%s order=%lld: %s", store, ref->remote_id,
                  rc < 0 ? "no delivery report in time" : "delivery failed");
        oi_unavailable(in, resp);
        return;
    }
    __atomic_add_fetch(&in->n_accepted, 1, __ATOMIC_RELAXED);
    metrics_inc(in->mx_ingested, (const char *const[]){"webhook"});
    log_debug("webhook store=%s order=%lld accepted", store, ref->remote_id);
    oi_answer(resp, 200, "ok");
}

/* Whether the request may carry an order: 0 with @p store and @p p set,
 * else the status to refuse it with and *why.  A body over
 * intake.max_body is refused as soon as it is known (413), before the
 * store is authenticated, as a path that is no webhook is (404). */
static unsigned oi_screen(struct order_intake *in, const struct httpd_req *hr,
                          const struct webhook_request *req, char *store,
                          size_t size, const struct store_platform **p,
                          const char **why)
{
    unsigned status = 0;

    if (!oi_routed(in, hr->url)) {
        status = 404;
        *why = "not found";
    } else if (hr->too_big) {
        status = 413;
        *why = "body too large";
    } else if (strcmp(hr->method, "POST") != 0) {
        status = 405;
        *why = "method not allowed";
    } else if (!oi_authenticate(in, req, store, size, p)) {
        status = 404;
        *why = "unknown webhook secret";
    }
    return status;
}

/* The route: screen, parse, produce, wait, answer. */
static void oi_route(void *opaque, const struct httpd_req *hr,
                     struct httpd_resp *resp)
{
    struct order_intake *in = opaque;
    const struct webhook_request req = {hr->method,   hr->url,   hr->body,
                                        hr->body_len, oi_header, (void *)hr};
    const struct store_platform *p = NULL;
    char store[OI_STORE_NAME_MAX], err[512], why[600];
    const char *refused = NULL;
    struct order_ref ref;
    json_error_t jerr;
    json_t *order;
    unsigned status;

    status = oi_screen(in, hr, &req, store, sizeof(store), &p, &refused);
    if (status) {
        oi_reject(in, resp, status, NULL, refused);
        return;
    }
    order = json_loadb(hr->body, hr->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!order) {
        snprintf(why, sizeof(why), "malformed JSON: %s", jerr.text);
        oi_reject(in, resp, 400, store, why);
    } else if (p->order_identify(order, &ref, err, sizeof(err)) < 0) {
        snprintf(why, sizeof(why), "not an order: %s", err);
        oi_reject(in, resp, 422, store, why);
    } else {
        oi_accept(in, resp, store, &ref, order);
    }
    json_decref(order);
}

/* ---- the store thread: stores, webhooks, polling ------------------------- */

static int oi_stopping(const struct order_intake *in)
{
    return in->stop_store || sig_stop_requested();
}

static int oi_pg_ok(struct order_intake *in)
{
    char err[512];

    if (in->pg && PQstatus(in->pg) == CONNECTION_OK)
        return 1;
    if (in->pg) {
        PQreset(in->pg);
        if (PQstatus(in->pg) == CONNECTION_OK)
            return 1;
        PQfinish(in->pg);
        in->pg = NULL;
    }
    in->pg =
        db_connect(in->c->pg_dsn, "order-ingestor-intake", err, sizeof(err));
    if (!in->pg)
        log_warn("ledger: %s", err);
    return in->pg != NULL;
}

static int oi_is_registered(const struct order_intake *in, const char *k)
{
    for (size_t i = 0; i < in->nregistered; i++)
        if (strcmp(in->registered[i], k) == 0)
            return 1;
    return 0;
}

static void oi_registered_add(struct order_intake *in, const char *k)
{
    char **nv = realloc(in->registered,
                        (in->nregistered + 1) * sizeof(*in->registered));

    if (!nv)
        return;
    in->registered = nv;
    nv[in->nregistered] = strdup(k);
    if (nv[in->nregistered])
        in->nregistered++;
}

/* The platform of a store, or NULL (logged). */
static const struct store_platform *oi_platform(const struct storeset_entry *e)
{
    const struct store_platform *p = store_platform_find(e->conf.platform);

    if (!p)
        log_warn("store=%s: unknown platform '%s'", e->conf.name,
                 e->conf.platform ? e->conf.platform : "");
    return p;
}

/* Have the store send its order webhooks to this intake. */
static int oi_register(struct order_intake *in, struct storeset_entry *e)
{
    const struct store_platform *p = oi_platform(e);
    struct store_call call;
    enum outcome o;
    int created = 0;

    if (!p)
        return -1;
    store_call_init(&call, e->sc, in->b, BUDGET_ORDERS);
    o = p->webhooks_register(&call, in->public_url, e->conf.webhook_secret,
                             &created);
    if (o != OUTCOME_OK)
        log_warn("store=%s webhooks: %s: %s", e->conf.name, outcome_name(o),
                 call.why);
    else if (created)
        log_info("store=%s webhooks: %d registered", e->conf.name, created);
    store_call_clear(&call);
    return o == OUTCOME_OK ? 0 : -1;
}

/* Publish the secret -> store table of the stores loaded. */
static int oi_secrets_publish(struct order_intake *in)
{
    struct oi_secret *sec;
    size_t n, i;

    n = storeset_count(in->ss);
    sec = calloc(n ? n : 1, sizeof(*sec));
    if (!sec)
        return -1;
    for (i = 0; i < n; i++) {
        struct storeset_entry *e = storeset_get(in->ss, i);

        sec[i].p = store_platform_find(e->conf.platform);
        snprintf(sec[i].secret, sizeof(sec[i].secret), "%s",
                 e->conf.webhook_secret ? e->conf.webhook_secret : "");
        snprintf(sec[i].store, sizeof(sec[i].store), "%s", e->conf.name);
    }
    pthread_mutex_lock(&in->mu);
    free(in->secrets);
    in->secrets = sec;
    in->nsecrets = n;
    in->secrets_loaded = 1;
    pthread_mutex_unlock(&in->mu);
    return 0;
}

/* Reload the stores and publish the secret -> store table. */
static int oi_refresh(struct order_intake *in)
{
    char err[512];

    if (storeset_refresh(in->ss, in->pg, in->c->secret_key, err, sizeof(err)) <
        0) {
        log_warn("stores: %s", err);
        return -1;
    }
    return oi_secrets_publish(in);
}

/* Register the webhooks of stores not registered by this process yet. */
static void oi_register_all(struct order_intake *in)
{
    char k[128];

    for (size_t i = 0; i < storeset_count(in->ss) && !oi_stopping(in); i++) {
        struct storeset_entry *e = storeset_get(in->ss, i);

        snprintf(k, sizeof(k), "%lld:%s", e->conf.id,
                 e->conf.webhook_secret ? e->conf.webhook_secret : "");
        if (!oi_is_registered(in, k) && oi_register(in, e) == 0)
            oi_registered_add(in, k);
    }
}

/* A store added, changed or removed in the ledger (`store add|set|
 * remove`): reload now, not at the next periodic refresh. */
static void oi_refresh_changed(struct order_intake *in)
{
    char err[512];
    int rc = storeset_refresh_changed(in->ss, in->pg, in->c->secret_key, err,
                                      sizeof(err));

    if (rc < 0)
        log_warn("stores: change check failed: %s", err);
    if (rc > 0 && oi_secrets_publish(in) == 0)
        oi_register_all(in);
}

/* Where the store's poll resumes: the saved cursor, else poll.since,
 * else 24 hours ago. */
static int oi_cursor_load(struct order_intake *in, long long store_id,
                          struct order_cursor *cur)
{
    char err[512];
    int found;

    memset(cur, 0, sizeof(*cur));
    found = orders_cursor_get(in->pg, store_id, cur->since, sizeof(cur->since),
                              &cur->after_id, err, sizeof(err));
    if (found < 0) {
        log_warn("%s", err);
        return -1;
    }
    if (found)
        return 0;
    if (in->c->poll_since && in->c->poll_since[0])
        snprintf(cur->since, sizeof(cur->since), "%s", in->c->poll_since);
    else
        oi_now_ts(cur->since, sizeof(cur->since), -24 * 3600);
    return 0;
}

static int oi_cursor_save(struct order_intake *in, long long store_id,
                          const struct order_cursor *cur)
{
    char err[512];

    if (orders_cursor_put(in->pg, store_id, cur->since, cur->after_id, err,
                          sizeof(err)) < 0) {
        log_warn("%s", err);
        return -1;
    }
    return 0;
}

/* Put a page's orders on the topic and wait for them; @p cur moves past
 * the last order put.  @returns 0 when every order put was delivered and
 * at least one was, -1 otherwise (the caller keeps its cursor). */
static int oi_poll_page(struct order_intake *in, struct storeset_entry *e,
                        const struct store_platform *p, json_t *page,
                        struct order_cursor *cur)
{
    struct oi_wait *w = oi_wait_new();
    struct order_cursor last = {"", 0};
    struct order_ref ref;
    char err[512];
    int rc, bad = 0, any = 0;

    if (!w)
        return -1;
    for (size_t i = 0; i < json_array_size(page) && !bad; i++) {
        json_t *raw = json_array_get(page, i);

        if (p->order_identify(raw, &ref, err, sizeof(err)) < 0) {
            log_warn("store=%s poll: not an order (%s), skipped", e->conf.name,
                     err);
            continue;
        }
        if (oi_produce(in, e->conf.name, ref.remote_id, raw, "poll", w, err,
                       sizeof(err)) < 0) {
            log_warn("store=%s poll: %s", e->conf.name, err);
            bad = 1;
            break;
        }
        last = ref.next;
        any++;
    }
    rc = oi_wait_done(w, (long)in->c->intake_ack_ms);
    oi_wait_unref(w);
    if (rc == 0)
        metrics_add(in->mx_ingested, (const char *const[]){"poll"}, any);
    if (rc != 0)
        log_warn("store=%s poll: delivery %s; cursor kept", e->conf.name,
                 rc < 0 ? "timed out" : "failed");
    if (bad || rc != 0 || !any)
        return -1;
    *cur = last;
    return 0;
}

/* The platform's poll loop for one store: a page since the cursor, its
 * orders on the topic, the cursor saved after they are delivered, until
 * an empty page. */
static void oi_poll_store(struct order_intake *in, struct storeset_entry *e)
{
    const struct store_platform *p = oi_platform(e);
    struct order_cursor cur;
    struct store_call call;
    long long total = 0;

    if (!p || oi_cursor_load(in, e->conf.id, &cur) < 0)
        return;
    store_call_init(&call, e->sc, in->b, BUDGET_ORDERS);
    while (!oi_stopping(in)) {
        json_t *page = NULL;
        enum outcome o =
            p->orders_page(&call, &cur, (long)in->c->poll_per_page, &page);
        size_t n = json_array_size(page);

        if (o != OUTCOME_OK)
            log_warn("store=%s poll: %s: %s", e->conf.name, outcome_name(o),
                     call.why);
        if (o != OUTCOME_OK || n == 0 ||
            oi_poll_page(in, e, p, page, &cur) < 0 ||
            oi_cursor_save(in, e->conf.id, &cur) < 0) {
            json_decref(page);
            break;
        }
        json_decref(page);
        total += (long long)n;
    }
    store_call_clear(&call);
    if (total) {
        __atomic_add_fetch(&in->n_polled, (unsigned long long)total,
                           __ATOMIC_RELAXED);
        log_info("store=%s poll: %lld orders put on %s, cursor %s/%lld",
                 e->conf.name, total, TOPICS_ORDERS, cur.since, cur.after_id);
    }
}

static void *oi_store_main(void *arg)
{
    struct order_intake *in = arg;
    long long next_refresh = 0, next_poll = 0, now;

    while (!oi_stopping(in)) {
        now = clock_mono_ms();
        if (now >= next_refresh || now >= next_poll) {
            if (!oi_pg_ok(in)) {
                sig_sleep_ms(1000);
                continue;
            }
        }
        if (now < next_refresh && in->secrets_loaded)
            oi_refresh_changed(in);
        if (now >= next_refresh) {
            if (oi_refresh(in) == 0) {
                oi_register_all(in);
                next_refresh = now + in->c->stores_refresh_ms;
            } else {
                next_refresh = now + 1000;
            }
        }
        if (now >= next_poll && in->secrets_loaded) {
            for (size_t i = 0; i < storeset_count(in->ss) && !oi_stopping(in);
                 i++)
                oi_poll_store(in, storeset_get(in->ss, i));
            next_poll = clock_mono_ms() + in->c->poll_interval_ms;
        }
        sig_sleep_ms(100);
    }
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* The intake's metrics and readiness checks, with @p ops (may be NULL). */
static void oi_ops(struct order_intake *in, struct ops *ops)
{
    struct metrics *m = ops_metrics(ops);

    if (!ops)
        return;
    in->mx_ingested = metrics_counter_new(
        m, "omnisync_orders_ingested_total",
        "Raw orders put on omnisync.orders.v1 and acknowledged by Kafka, by "
        "source (webhook: answered 200; poll).",
        (const char *const[]){"source", NULL});
    in->mx_rejected =
        metrics_counter_new(m, "omnisync_webhooks_rejected_total",
                            "Webhook requests refused, by HTTP status.",
                            (const char *const[]){"code", NULL});
    budget_metrics_register(in->b, m);
    ops_check_postgres(ops, in->c->pg_dsn);
    ops_check_redis(ops, in->c->redis_addr);
    ops_check_kafka(ops, kafka_producer_handle(in->kp));
}

/* 1 when @p host (of intake.listen) means every interface. */
static int oi_host_wildcard(const char *host, size_t len)
{
    static const char *const any[] = {"", "0.0.0.0", "::", "[::]", "*"};

    for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++)
        if (strlen(any[i]) == len && strncmp(host, any[i], len) == 0)
            return 1;
    return 0;
}

/* 1 when the URL's host is a loopback address or localhost. */
static int oi_url_loopback(const char *url)
{
    const char *h = strstr(url, "://");

    h = h ? h + 3 : url;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
           strncmp(h, "[::1]", 5) == 0;
}

/*
 * The base URL the stores are given (in->public_url): intake.public_url
 * when set; else http://<intake.listen host>:<the bound port>, with
 * 127.0.0.1 for a wildcard host (and a warning: only this host reaches
 * it).  A loopback URL while listening on every interface is warned about
 * too: that is a container or a server whose stores cannot reach it.
 */
static void oi_public_url(struct order_intake *in)
{
    const char *listen = in->c->intake_listen, *colon = strrchr(listen, ':');
    size_t hlen = colon ? (size_t)(colon - listen) : strlen(listen);
    int wildcard = oi_host_wildcard(listen, hlen);

    if (in->c->intake_public_url && in->c->intake_public_url[0]) {
        snprintf(in->public_url, sizeof(in->public_url), "%s",
                 in->c->intake_public_url);
        if (wildcard && oi_url_loopback(in->public_url))
            log_warn("intake.public_url %s is a loopback address while the "
                     "intake listens on every interface (%s): stores on "
                     "other hosts cannot send webhooks there",
                     in->public_url, listen);
        return;
    }
    snprintf(in->public_url, sizeof(in->public_url), "http://%.*s:%d",
             wildcard ? 9 : (int)hlen, wildcard ? "127.0.0.1" : listen,
             httpd_port(in->h));
    if (wildcard)
        log_warn("intake.public_url (OMNISYNC_INTAKE_PUBLIC_URL) is not set: "
                 "webhooks go to %s, which only this host reaches; set it "
                 "to the address the stores reach the intake at",
                 in->public_url);
}

/* The webhook server: lib/httpd on intake.listen, every path that is not
 * one of its built-ins going to oi_route().  No metrics registry: the
 * public port serves no /metrics (that is the ops port's). */
static int oi_listen(struct order_intake *in, char *errstr, size_t errstr_size)
{
    struct httpd_conf hc;
    char err[256];

    memset(&hc, 0, sizeof(hc));
    hc.listen = in->c->intake_listen;
    hc.max_conns = OI_MAX_CONNS;
    hc.conn_timeout_s = OI_CONN_TIMEOUT_S;
    hc.serves = "order webhooks, /healthz";
    in->h = httpd_new(&hc, NULL, err, sizeof(err));
    if (!in->h) {
        snprintf(errstr, errstr_size, "intake.listen: %s", err);
        return -1;
    }
    if (httpd_route_add(in->h, "/", (size_t)in->c->intake_max_body, oi_route,
                        in) < 0) {
        snprintf(errstr, errstr_size, "intake: cannot add the webhook route");
        return -1;
    }
    oi_public_url(in);
    log_info("intake listening on %s (webhooks under %s)", in->c->intake_listen,
             in->public_url);
    return 0;
}

/* The orders topic's partitions before the first order: otherwise its
 * first message waits for librdkafka's next metadata scan (~1 s). */
static void oi_topics(struct order_intake *in)
{
    static const char *const names[] = {TOPICS_ORDERS};
    char err[256];

    if (kafka_producer_topics(in->kp, names, 1, 1000, err, sizeof(err)) < 0)
        log_info("%s: the first order may wait up to 1 s", err);
}

struct order_intake *order_intake_new(const struct oi_cfg *c,
                                      const struct cfg *passthru,
                                      struct ops *ops, char *errstr,
                                      size_t errstr_size)
{
    struct order_intake *in = calloc(1, sizeof(*in));

    if (!in) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    in->c = c;
    pthread_mutex_init(&in->mu, NULL);
    if (sodium_init() < 0) {
        snprintf(errstr, errstr_size, "libsodium init failed");
        goto fail;
    }
    if (!c->redis_addr || !c->redis_addr[0]) {
        snprintf(errstr, errstr_size,
                 "redis.addr: required by the intake (API budget)");
        goto fail;
    }
    in->b = budget_new(c->redis_addr, NULL, errstr, errstr_size);
    if (!in->b)
        goto fail;
    in->ss = storeset_new();
    if (!in->ss) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    in->kp = kafka_producer_new(c->kafka_bootstrap, passthru, oi_dr, in, errstr,
                                errstr_size);
    if (!in->kp)
        goto fail;
    oi_topics(in);
    oi_ops(in, ops);
    if (pthread_create(&in->dr_thread, NULL, oi_dr_main, in) != 0) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        goto fail;
    }
    in->dr_started = 1;
    /* Know the stores before the first request when the ledger is up. */
    if (oi_pg_ok(in))
        oi_refresh(in);
    /* Listening first: the store thread registers webhooks under the
     * public URL, which may name the port the socket got. */
    if (oi_listen(in, errstr, errstr_size) < 0)
        goto fail;
    if (pthread_create(&in->store_thread, NULL, oi_store_main, in) != 0) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        goto fail;
    }
    in->store_started = 1;
    return in;
fail:
    order_intake_destroy(in);
    return NULL;
}

void order_intake_heartbeat(struct order_intake *in)
{
    if (in)
        httpd_heartbeat(in->h);
}

int order_intake_fatal(struct order_intake *in)
{
    char err[512];

    if (in && kafka_producer_fatal(in->kp, err, sizeof(err))) {
        log_error("producer: fatal: %s", err);
        return 1;
    }
    return 0;
}

int order_intake_drain(struct order_intake *in, int timeout_ms)
{
    int rc = 0;

    if (!in || in->drained)
        return 0;
    in->drained = 1;
    /* Stop intake: requests in flight finish (they wait for their
     * delivery reports, served by the DR thread still running). */
    httpd_stop(in->h);
    in->stop_store = 1;
    if (in->store_started) {
        pthread_join(in->store_thread, NULL);
        in->store_started = 0;
    }
    if (in->kp && kafka_producer_flush(in->kp, timeout_ms) < 0) {
        log_error("producer: %d messages undelivered at shutdown",
                  kafka_producer_outq_len(in->kp));
        rc = 1;
    }
    in->stop_dr = 1;
    if (in->dr_started) {
        pthread_join(in->dr_thread, NULL);
        in->dr_started = 0;
    }
    log_info("intake: accepted=%llu rejected=%llu polled=%llu", in->n_accepted,
             in->n_rejected, in->n_polled);
    return rc;
}

void order_intake_destroy(struct order_intake *in)
{
    if (!in)
        return;
    order_intake_drain(in, 5000);
    httpd_destroy(in->h);
    kafka_producer_destroy(in->kp);
    storeset_destroy(in->ss);
    budget_destroy(in->b);
    if (in->pg)
        PQfinish(in->pg);
    for (size_t i = 0; i < in->nregistered; i++)
        free(in->registered[i]);
    free(in->registered);
    free(in->secrets);
    pthread_mutex_destroy(&in->mu);
    free(in);
}
