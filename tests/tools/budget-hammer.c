/*
 * budget-hammer — drive one store through the shared Redis budget from N
 * threads of one priority class, as fast as the budget allows (or one call
 * per --interval-ms per thread), for --duration seconds; then print JSON
 * stats on stdout.
 *
 *   budget-hammer --threads 4 --class catalog --duration 30 \
 *       --url http://127.0.0.1:P --login L --store S --limit 50 --window 10
 *
 * The password comes from --password or OMNISYNC_STORE_PASSWORD (prefer the
 * environment: flags show in ps); --url/--login default to
 * OMNISYNC_STORE_URL/OMNISYNC_STORE_LOGIN; --redis to OMNISYNC_REDIS.
 * Every call goes through store_call_run(): acquire a token, call, feed the
 * usage header back, pause the fleet on 429/503.  At the deadline the main
 * thread requests a stop, which interrupts any budget wait.
 *
 * Output: {"class","threads","calls","ok","status":{"200":n,..},"s429",
 *          "s503","transient","client_error","no_token","waits",
 *          "max_wait_ms","total_wait_ms","wait_p50_ms","wait_p99_ms",
 *          "budget":{metrics}}
 */
#include "store/budget.h"
#include "lib/cfg.h"
#include "store/insales/insales.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "store/store_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HAMMER_MAX_THREADS 64
#define HAMMER_HIST 6001 /* 10-ms buckets up to 60 s, the last: beyond */

struct hammer_opts {
    long threads, duration_s, limit, window_s, guard_ms, probe_ms;
    long orders_headroom_pct, pace_bulk;
    int local; /* --limiter local: an in-process fixed window, no Redis */
    long interval_ms;
    int cls;
    enum store_op op;
    const char *url, *login, *password, *store, *redis;
};

struct hammer_stats {
    long calls, ok, s429, s503, transient, client_error, no_token, waits;
    long max_wait_ms, total_wait_ms;
    long status[600];
    long wait_hist[HAMMER_HIST]; /* token waits of the calls, 10-ms steps */
};

struct hammer_thread {
    pthread_t tid;
    const struct hammer_opts *o;
    struct budget *b;
    struct hammer_stats st;
};

static void hammer_usage(void)
{
    fprintf(stderr,
            "usage: budget-hammer [--threads N] [--class C] [--duration S]\n"
            "  [--url U] [--login L] [--password PW] [--store ID]\n"
            "  [--limit N] [--window S] [--guard-ms MS] [--probe-ms MS]\n"
            "  [--orders-headroom-pct P] [--pace-bulk 0|1]\n"
            "  [--limiter shared|local]\n"
            "  [--interval-ms MS] [--op account|products] [--redis H:P]\n");
}

static const char *hammer_env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static int hammer_num(const char *s, long min, long *out)
{
    long long v;

    if (!s || cfg_parse_ll(s, &v) != 0 || v < min)
        return -1;
    *out = (long)v;
    return 0;
}

static int hammer_parse(int argc, char **argv, struct hammer_opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->threads = 4;
    o->duration_s = 10;
    o->limit = 500;
    o->window_s = 300;
    o->guard_ms = -1;
    o->probe_ms = -1;
    o->orders_headroom_pct = -1;
    o->pace_bulk = -1;
    o->cls = BUDGET_CATALOG;
    o->op = STORE_OP_ACCOUNT_GET;
    o->url = hammer_env("OMNISYNC_STORE_URL");
    o->login = hammer_env("OMNISYNC_STORE_LOGIN");
    o->password = hammer_env("OMNISYNC_STORE_PASSWORD");
    o->redis = hammer_env("OMNISYNC_REDIS");
    o->store = "hammer";
    for (i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;

        if (!v)
            return -1;
        i++;
        if (strcmp(k, "--threads") == 0)
            bad = hammer_num(v, 1, &o->threads) ||
                  o->threads > HAMMER_MAX_THREADS;
        else if (strcmp(k, "--duration") == 0)
            bad = hammer_num(v, 1, &o->duration_s);
        else if (strcmp(k, "--limit") == 0)
            bad = hammer_num(v, 1, &o->limit);
        else if (strcmp(k, "--window") == 0)
            bad = hammer_num(v, 1, &o->window_s);
        else if (strcmp(k, "--guard-ms") == 0)
            bad = hammer_num(v, 0, &o->guard_ms);
        else if (strcmp(k, "--probe-ms") == 0)
            bad = hammer_num(v, 0, &o->probe_ms);
        else if (strcmp(k, "--orders-headroom-pct") == 0)
            bad = hammer_num(v, 0, &o->orders_headroom_pct);
        else if (strcmp(k, "--limiter") == 0)
            bad = (o->local = strcmp(v, "local") == 0) == 0 &&
                  strcmp(v, "shared") != 0;
        else if (strcmp(k, "--pace-bulk") == 0)
            bad = hammer_num(v, 0, &o->pace_bulk);
        else if (strcmp(k, "--interval-ms") == 0)
            bad = hammer_num(v, 0, &o->interval_ms);
        else if (strcmp(k, "--class") == 0)
            bad = (o->cls = budget_class_parse(v)) < 0;
        else if (strcmp(k, "--op") == 0) {
            if (strcmp(v, "account") == 0)
                o->op = STORE_OP_ACCOUNT_GET;
            else if (strcmp(v, "products") == 0)
                o->op = STORE_OP_PRODUCTS_LIST;
            else
                bad = 1;
        } else if (strcmp(k, "--url") == 0)
            o->url = v;
        else if (strcmp(k, "--login") == 0)
            o->login = v;
        else if (strcmp(k, "--password") == 0)
            o->password = v;
        else if (strcmp(k, "--store") == 0)
            o->store = v;
        else if (strcmp(k, "--redis") == 0)
            o->redis = v;
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "budget-hammer: bad option %s\n", k);
            return -1;
        }
    }
    if (!o->url || !o->login || !o->password || !o->redis) {
        fprintf(stderr,
                "budget-hammer: url, login, password and redis are "
                "required (flags or OMNISYNC_STORE_*/OMNISYNC_REDIS)\n");
        return -1;
    }
    return 0;
}

/* --limiter local: what a peer's per-process limiter does — a fixed
 * window of the full limit that starts at this process's first call,
 * shared by its threads only.  Returns the ms waited. */
static pthread_mutex_t hammer_mu = PTHREAD_MUTEX_INITIALIZER;
static long long hammer_ws_ms, hammer_used;

static long long hammer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long hammer_local_take(const struct hammer_opts *o)
{
    long long start = hammer_now_ms(), now, wait;

    for (;;) {
        pthread_mutex_lock(&hammer_mu);
        now = hammer_now_ms();
        if (!hammer_ws_ms || now >= hammer_ws_ms + o->window_s * 1000) {
            hammer_ws_ms = now;
            hammer_used = 0;
        }
        wait = hammer_used < o->limit ? 0
                                      : hammer_ws_ms + o->window_s * 1000 - now;
        if (!wait)
            hammer_used++;
        pthread_mutex_unlock(&hammer_mu);
        if (!wait)
            return (long)(hammer_now_ms() - start);
        if (sig_sleep_ms(wait > 100 ? 100 : wait) != 0)
            return -1;
    }
}

/* One call through the local limiter (no budget): the result in @p r. */
static void hammer_local_call(const struct hammer_opts *o,
                              struct store_client *sc,
                              const struct store_req_args *a,
                              struct store_result *r)
{
    long waited = hammer_local_take(o);

    memset(r, 0, sizeof(*r));
    if (waited < 0) {
        snprintf(r->reason, sizeof(r->reason), "budget: stopped");
        return;
    }
    store_client_do(sc, o->op, a, r);
    r->wait_ms = waited;
    if (r->status == 429)
        sig_sleep_ms(1000); /* a peer's limiter backs off a little */
}

static void *hammer_run(void *arg)
{
    struct hammer_thread *t = arg;
    const struct hammer_opts *o = t->o;
    struct store_settings s;
    struct store_client *sc;
    struct store_req_args a;
    struct store_result r;
    struct store_call c;
    char err[256];

    memset(&s, 0, sizeof(s));
    s.store_id = o->store;
    s.url = o->url;
    s.login = o->login;
    s.password = o->password;
    s.api_limit = o->limit;
    s.api_window_s = o->window_s;
    s.timeout_ms = 5000;
    s.connect_timeout_ms = 2000;
    sc = store_client_new(&insales_adapter, &s, err, sizeof(err));
    if (!sc) {
        log_error("store client: %s", err);
        return NULL;
    }
    memset(&a, 0, sizeof(a));
    store_call_init(&c, sc, t->b, (enum budget_class)o->cls);
    a.per_page = 10;
    while (!sig_stop_requested()) {
        if (o->local) {
            hammer_local_call(o, sc, &a, &r);
        } else {
            store_call_run(&c, o->op, &a);
            r = c.last; /* the answer moves out of the call */
            memset(&c.last, 0, sizeof(c.last));
        }
        if (r.status == 0 && r.reason[0] &&
            strncmp(r.reason, "budget:", 7) == 0) {
            t->st.no_token++;
            store_result_clear(&r);
            if (sig_stop_requested())
                break;
            continue;
        }
        t->st.calls++;
        if (r.status > 0 && r.status < 600)
            t->st.status[r.status]++;
        if (r.res == OUTCOME_OK)
            t->st.ok++;
        else if (r.res == OUTCOME_RETRY)
            t->st.transient++;
        else if (r.res == OUTCOME_REJECTED)
            t->st.client_error++;
        if (r.status == 429)
            t->st.s429++;
        if (r.status == 503)
            t->st.s503++;
        if (r.wait_ms > 1)
            t->st.waits++;
        if (r.wait_ms > t->st.max_wait_ms)
            t->st.max_wait_ms = r.wait_ms;
        t->st.total_wait_ms += r.wait_ms;
        t->st.wait_hist[r.wait_ms / 10 < HAMMER_HIST - 1 ? r.wait_ms / 10
                                                         : HAMMER_HIST - 1]++;
        store_result_clear(&r);
        if (o->interval_ms > 0)
            sig_sleep_ms(o->interval_ms);
    }
    store_client_destroy(sc);
    return NULL;
}

/* The @p q quantile of the calls' token waits (a bucket's upper bound, at
 * most the largest wait seen). */
static long hammer_wait_q(const struct hammer_stats *st, double q)
{
    long n = 0, want, seen = 0, k;

    for (k = 0; k < HAMMER_HIST; k++)
        n += st->wait_hist[k];
    if (n == 0)
        return 0;
    want = (long)(q * (double)n + 0.999999);
    for (k = 0; k < HAMMER_HIST; k++) {
        seen += st->wait_hist[k];
        if (seen >= want)
            break;
    }
    return (k + 1) * 10 < st->max_wait_ms ? (k + 1) * 10 : st->max_wait_ms;
}

static json_t *hammer_json(const struct hammer_opts *o,
                           const struct hammer_stats *st,
                           const struct budget_metrics *m)
{
    json_t *root = json_object(), *status = json_object(), *bm = json_object(),
           *per;
    char key[16];
    int i;

    for (i = 0; i < 600; i++) {
        if (st->status[i]) {
            snprintf(key, sizeof(key), "%d", i);
            json_object_set_new(status, key, json_integer(st->status[i]));
        }
    }
    json_object_set_new(root, "class", json_string(budget_class_name(o->cls)));
    json_object_set_new(root, "threads", json_integer(o->threads));
    json_object_set_new(root, "calls", json_integer(st->calls));
    json_object_set_new(root, "ok", json_integer(st->ok));
    json_object_set_new(root, "status", status);
    json_object_set_new(root, "s429", json_integer(st->s429));
    json_object_set_new(root, "s503", json_integer(st->s503));
    json_object_set_new(root, "transient", json_integer(st->transient));
    json_object_set_new(root, "client_error", json_integer(st->client_error));
    json_object_set_new(root, "no_token", json_integer(st->no_token));
    json_object_set_new(root, "waits", json_integer(st->waits));
    json_object_set_new(root, "max_wait_ms", json_integer(st->max_wait_ms));
    json_object_set_new(root, "total_wait_ms", json_integer(st->total_wait_ms));
    json_object_set_new(root, "wait_p50_ms",
                        json_integer(hammer_wait_q(st, 0.50)));
    json_object_set_new(root, "wait_p99_ms",
                        json_integer(hammer_wait_q(st, 0.99)));
    for (i = 0; i < BUDGET_CLASS_COUNT; i++) {
        per = json_pack("{s:I,s:I,s:I}", "taken", (json_int_t)m->taken[i],
                        "waits", (json_int_t)m->waits[i], "wait_ms",
                        (json_int_t)m->wait_ms[i]);
        json_object_set_new(bm, budget_class_name(i), per);
    }
    json_object_set_new(bm, "seen_429", json_integer((json_int_t)m->seen_429));
    json_object_set_new(bm, "seen_503", json_integer((json_int_t)m->seen_503));
    json_object_set_new(bm, "pauses", json_integer((json_int_t)m->pauses));
    json_object_set_new(bm, "adopted", json_integer((json_int_t)m->adopted));
    json_object_set_new(bm, "redis_errors",
                        json_integer((json_int_t)m->redis_errors));
    json_object_set_new(bm, "outages", json_integer((json_int_t)m->outages));
    json_object_set_new(bm, "script_reloads",
                        json_integer((json_int_t)m->script_reloads));
    json_object_set_new(root, "budget", bm);
    return root;
}

int main(int argc, char **argv)
{
    struct hammer_opts o;
    struct hammer_thread th[HAMMER_MAX_THREADS];
    struct hammer_stats tot;
    struct budget_config bc;
    struct budget_metrics m;
    struct budget *b = NULL;
    char err[256];
    json_t *out;
    long i;
    int k, rc = 1;

    log_init("budget-hammer",
             hammer_env("LOG_LEVEL") ? getenv("LOG_LEVEL") : "info");
    if (hammer_parse(argc, argv, &o) != 0) {
        hammer_usage();
        return 2;
    }
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    budget_config_default(&bc);
    if (o.guard_ms >= 0)
        bc.guard_ms = o.guard_ms;
    if (o.probe_ms >= 0)
        bc.probe_ms = o.probe_ms;
    if (o.orders_headroom_pct >= 0)
        bc.orders_headroom_pct = (int)o.orders_headroom_pct;
    if (o.pace_bulk >= 0)
        bc.pace_bulk = o.pace_bulk != 0;
    b = budget_new(o.redis, &bc, err, sizeof(err));
    if (!b) {
        log_error("%s", err);
        goto out;
    }
    memset(th, 0, sizeof(th));
    for (i = 0; i < o.threads; i++) {
        th[i].o = &o;
        th[i].b = b;
        pthread_create(&th[i].tid, NULL, hammer_run, &th[i]);
    }
    sig_sleep_ms(o.duration_s * 1000);
    sig_request_stop();
    memset(&tot, 0, sizeof(tot));
    for (i = 0; i < o.threads; i++) {
        pthread_join(th[i].tid, NULL);
        tot.calls += th[i].st.calls;
        tot.ok += th[i].st.ok;
        tot.s429 += th[i].st.s429;
        tot.s503 += th[i].st.s503;
        tot.transient += th[i].st.transient;
        tot.client_error += th[i].st.client_error;
        tot.no_token += th[i].st.no_token;
        tot.waits += th[i].st.waits;
        tot.total_wait_ms += th[i].st.total_wait_ms;
        if (th[i].st.max_wait_ms > tot.max_wait_ms)
            tot.max_wait_ms = th[i].st.max_wait_ms;
        for (k = 0; k < 600; k++)
            tot.status[k] += th[i].st.status[k];
        for (k = 0; k < HAMMER_HIST; k++)
            tot.wait_hist[k] += th[i].st.wait_hist[k];
    }
    budget_metrics_get(b, &m);
    out = hammer_json(&o, &tot, &m);
    json_dumpf(out, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(out);
    rc = 0;
out:
    budget_destroy(b);
    curl_global_cleanup();
    return rc;
}
