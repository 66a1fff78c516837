#include "lib/httpd.h"

#include "lib/cfg.h"
#include "lib/httpbody.h"
#include "lib/log.h"
#include "lib/metrics.h"

#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTPD_JSON "application/json"

enum httpd_builtin {
    HTTPD_ROUTE = 0, /* a registered route */
    HTTPD_HEALTHZ,
    HTTPD_READYZ,
    HTTPD_METRICS,
    HTTPD_NOT_FOUND,
};

static const char *const httpd_builtin_path[] = {NULL, "/healthz", "/readyz",
                                                 "/metrics", NULL};

struct httpd_route {
    char *prefix;
    size_t prefix_len;
    size_t max_body;
    httpd_route_fn *fn;
    void *opaque;
};

struct httpd_check {
    char *name;
    httpd_check_fn *fn;
    void *opaque;
    int ok;
    char reason[HTTPD_REASON_MAX];
    unsigned long long gen; /* the run that produced ok/reason (0: none) */
};

struct httpd {
    struct MHD_Daemon *d;
    int port;
    long liveness_ms, ready_timeout_ms;
    struct metrics *m;
    struct metrics_family *requests;
    long long beat_ms;  /* monotonic; __atomic */
    pthread_mutex_t mu; /* routes, checks and the readiness state */
    pthread_cond_t cv;  /* (CLOCK_MONOTONIC) want_gen / done_gen moved */
    struct httpd_route routes[HTTPD_ROUTES_MAX];
    size_t nroutes;
    struct httpd_check checks[HTTPD_CHECKS_MAX];
    size_t nchecks;
    /* Readiness: a /readyz asks for run want_gen; the readiness thread
     * runs every check and sets done_gen.  Concurrent requests share a
     * run; a stuck check delays only the answers, never the server. */
    unsigned long long want_gen, done_gen;
    long running;            /* index of the check running, or -1 */
    long long running_since; /* monotonic ms */
    int stop_ready, ready_started;
    pthread_t ready_thread;
};

/* One connection's request. */
struct httpd_conn {
    enum httpd_builtin what;
    struct httpd_route route; /* a copy (what == HTTPD_ROUTE) */
    struct httpbody b;
    int answered;
};

static long long httpd_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- responses ----------------------------------------------------------- */

int httpd_resp_set(struct httpd_resp *r, unsigned status,
                   const char *content_type, const char *body, size_t len)
{
    char *copy = malloc(len + 1);

    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    if (!copy) {
        r->status = 500;
        r->content_type = NULL;
        return -1;
    }
    memcpy(copy, body, len);
    copy[len] = '\0';
    r->status = status;
    r->content_type = content_type;
    r->body = copy;
    r->body_len = len;
    return 0;
}

int httpd_resp_json(struct httpd_resp *r, unsigned status, json_t *root)
{
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
    size_t n;
    int rc;

    json_decref(root);
    if (!s) {
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        r->status = 500;
        return -1;
    }
    n = strlen(s);
    s[n] = '\n'; /* the NUL becomes the newline; the copy is terminated */
    rc = httpd_resp_set(r, status, HTTPD_JSON, s, n + 1);
    free(s);
    return rc;
}

/* Queue @p r (its body is handed to MHD) and count the answer. */
static enum MHD_Result httpd_send(struct httpd *h, struct MHD_Connection *conn,
                                  const char *route, struct httpd_resp *r)
{
    struct MHD_Response *mr;
    enum MHD_Result ret;
    char code[16];

    if (r->body)
        mr = MHD_create_response_from_buffer(r->body_len, r->body,
                                             MHD_RESPMEM_MUST_FREE);
    else
        mr = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(r->body);
        r->body = NULL;
        return MHD_NO;
    }
    r->body = NULL; /* MHD frees it */
    if (r->content_type)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->content_type);
    ret = MHD_queue_response(conn, r->status, mr);
    MHD_destroy_response(mr);
    snprintf(code, sizeof(code), "%u", r->status);
    metrics_inc(h->requests, (const char *const[]){route, code});
    return ret;
}

/* A JSON {"error": msg} answer. */
static enum MHD_Result httpd_send_error(struct httpd *h,
                                        struct MHD_Connection *conn,
                                        const char *route, unsigned status,
                                        const char *msg)
{
    struct httpd_resp r = {500, NULL, NULL, 0};

    httpd_resp_json(&r, status, json_pack("{s:s}", "error", msg));
    return httpd_send(h, conn, route, &r);
}

/* ---- built-in routes ----------------------------------------------------- */

static enum MHD_Result httpd_healthz(struct httpd *h,
                                     struct MHD_Connection *conn)
{
    struct httpd_resp r = {500, NULL, NULL, 0};
    long long age =
        httpd_now_ms() - __atomic_load_n(&h->beat_ms, __ATOMIC_RELAXED);
    int alive = age <= h->liveness_ms;

    httpd_resp_json(&r, alive ? 200 : 503,
                    json_pack("{s:b, s:I, s:I}", "alive", alive,
                              "heartbeat_age_ms", (json_int_t)age, "limit_ms",
                              (json_int_t)h->liveness_ms));
    if (!alive)
        log_warn("http: /healthz 503: no heartbeat for %lld ms", age);
    return httpd_send(h, conn, "/healthz", &r);
}

/* Why check @p i has no result of the run a request waited for.  Called
 * with h->mu held. */
static void httpd_check_missing(const struct httpd *h, size_t i, char *out,
                                size_t size)
{
    long long ran = httpd_now_ms() - h->running_since;

    if (h->running == (long)i)
        snprintf(out, size, "timed out (running for %lld ms)", ran);
    else if (h->running >= 0)
        snprintf(out, size, "not run: check %s still running",
                 h->checks[h->running].name);
    else
        snprintf(out, size, "no answer within %ld ms", h->ready_timeout_ms);
}

static enum MHD_Result httpd_readyz(struct httpd *h,
                                    struct MHD_Connection *conn)
{
    struct httpd_resp r = {500, NULL, NULL, 0};
    json_t *failing = json_object();
    unsigned long long gen;
    struct timespec dl;
    long long end_ms;
    char why[HTTPD_REASON_MAX + 64];
    size_t i;

    clock_gettime(CLOCK_MONOTONIC, &dl);
    end_ms = (long long)dl.tv_sec * 1000 + dl.tv_nsec / 1000000 +
             h->ready_timeout_ms;
    dl.tv_sec = (time_t)(end_ms / 1000);
    dl.tv_nsec = (long)(end_ms % 1000) * 1000000L;
    pthread_mutex_lock(&h->mu);
    gen = ++h->want_gen;
    pthread_cond_broadcast(&h->cv);
    while (h->done_gen < gen)
        if (pthread_cond_timedwait(&h->cv, &h->mu, &dl) == ETIMEDOUT)
            break;
    for (i = 0; failing && i < h->nchecks; i++) {
        const struct httpd_check *c = &h->checks[i];

        if (c->gen >= gen && c->ok)
            continue;
        if (c->gen >= gen)
            snprintf(why, sizeof(why), "%s", c->reason);
        else
            httpd_check_missing(h, i, why, sizeof(why));
        json_object_set_new(failing, c->name, json_string(why));
    }
    pthread_mutex_unlock(&h->mu);
    if (failing && json_object_size(failing) == 0) {
        json_decref(failing);
        httpd_resp_json(&r, 200, json_pack("{s:b}", "ready", 1));
    } else {
        httpd_resp_json(&r, 503,
                        json_pack("{s:b, s:o}", "ready", 0, "failing",
                                  failing ? failing : json_object()));
    }
    return httpd_send(h, conn, "/readyz", &r);
}

static enum MHD_Result httpd_metrics(struct httpd *h,
                                     struct MHD_Connection *conn)
{
    struct httpd_resp r = {200, METRICS_CONTENT_TYPE, NULL, 0};

    if (!h->m)
        return httpd_send_error(h, conn, "/metrics", 404, "no metrics");
    r.body = metrics_render(h->m, &r.body_len);
    if (!r.body)
        return httpd_send_error(h, conn, "/metrics", 500, "out of memory");
    return httpd_send(h, conn, "/metrics", &r);
}

/*
 * omnisync_ready_check{check}: each check's result in the last finished
 * readiness run, 1 ready and 0 not; a check that has been running longer
 * than the /readyz bound counts 0, one that never ran has no series.  A
 * scrape asks for a new run without waiting for it, so without /readyz
 * traffic the values are one scrape old.  Runs with the registry locked;
 * h->mu is never held while a metric is touched, so the order is safe.
 */
static void httpd_ready_collect(struct metrics_emit *e, void *opaque)
{
    struct httpd *h = opaque;
    long long now = httpd_now_ms();
    size_t i;

    pthread_mutex_lock(&h->mu);
    if (h->done_gen >= h->want_gen && !h->stop_ready) {
        h->want_gen++;
        pthread_cond_broadcast(&h->cv);
    }
    for (i = 0; i < h->nchecks; i++) {
        const struct httpd_check *c = &h->checks[i];
        int stuck = h->running == (long)i &&
                    now - h->running_since > h->ready_timeout_ms;

        if (c->gen > 0 || stuck)
            metrics_emit_value(e, (const char *const[]){c->name},
                               c->ok && !stuck ? 1 : 0);
    }
    pthread_mutex_unlock(&h->mu);
}

/* ---- readiness thread ---------------------------------------------------- */

static void *httpd_ready_main(void *arg)
{
    struct httpd *h = arg;

    pthread_mutex_lock(&h->mu);
    for (;;) {
        unsigned long long gen;

        while (!h->stop_ready && h->done_gen >= h->want_gen)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->stop_ready)
            break;
        gen = h->want_gen;
        for (size_t i = 0; i < h->nchecks && !h->stop_ready; i++) {
            struct httpd_check *c = &h->checks[i];
            httpd_check_fn *fn = c->fn;
            void *opaque = c->opaque;
            char reason[HTTPD_REASON_MAX] = "";
            int rc;

            h->running = (long)i;
            h->running_since = httpd_now_ms();
            pthread_mutex_unlock(&h->mu);
            rc = fn(opaque, reason, sizeof(reason));
            pthread_mutex_lock(&h->mu);
            c->ok = rc == 0;
            snprintf(c->reason, sizeof(c->reason), "%s",
                     reason[0] ? reason : "not ready");
            c->gen = gen;
        }
        h->running = -1;
        h->done_gen = gen;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* ---- request dispatch ---------------------------------------------------- */

/* Classify @p url; a route is copied to @p c. */
static void httpd_classify(struct httpd *h, const char *url,
                           struct httpd_conn *c)
{
    size_t i;

    for (i = HTTPD_HEALTHZ; i <= HTTPD_METRICS; i++)
        if (strcmp(url, httpd_builtin_path[i]) == 0) {
            c->what = (enum httpd_builtin)i;
            return;
        }
    c->what = HTTPD_NOT_FOUND;
    pthread_mutex_lock(&h->mu);
    for (i = 0; i < h->nroutes; i++)
        if (strncmp(url, h->routes[i].prefix, h->routes[i].prefix_len) == 0) {
            c->what = HTTPD_ROUTE;
            c->route = h->routes[i];
            break;
        }
    pthread_mutex_unlock(&h->mu);
}

static enum MHD_Result httpd_call_route(struct httpd *h,
                                        struct MHD_Connection *conn,
                                        const char *url, const char *method,
                                        struct httpd_conn *c)
{
    struct httpd_resp r = {500, NULL, NULL, 0};
    struct httpd_req req;

    c->answered = 1;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.too_big = c->b.too_big;
    req.body = c->b.buf ? c->b.buf : "";
    req.body_len = c->b.len;
    req.conn = conn;
    c->route.fn(c->route.opaque, &req, &r);
    return httpd_send(h, conn, c->route.prefix, &r);
}

/* The first call for a request: classify, answer what needs no body. */
static enum MHD_Result httpd_begin(struct httpd *h, struct MHD_Connection *conn,
                                   const char *url, const char *method,
                                   struct httpd_conn *c)
{
    const char *cl;
    long long n;

    httpd_classify(h, url, c);
    if (c->what == HTTPD_NOT_FOUND) {
        c->answered = 1;
        return httpd_send_error(h, conn, "other", 404, "not found");
    }
    if (c->what != HTTPD_ROUTE) {
        c->answered = 1;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return httpd_send_error(h, conn, httpd_builtin_path[c->what], 405,
                                    "method not allowed");
        if (c->what == HTTPD_HEALTHZ)
            return httpd_healthz(h, conn);
        if (c->what == HTTPD_READYZ)
            return httpd_readyz(h, conn);
        return httpd_metrics(h, conn);
    }
    /* A body announced too big is refused before it is uploaded. */
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && cfg_parse_ll(cl, &n) == 0 && n > (long long)c->route.max_body) {
        c->b.too_big = 1;
        return httpd_call_route(h, conn, url, method, c);
    }
    return MHD_YES;
}

static enum MHD_Result httpd_access(void *cls, struct MHD_Connection *conn,
                                    const char *url, const char *method,
                                    const char *version, const char *upload,
                                    size_t *upload_size, void **con_cls)
{
    struct httpd *h = cls;
    struct httpd_conn *c = *con_cls;

    (void)version;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return MHD_NO;
        *con_cls = c;
        return httpd_begin(h, conn, url, method, c);
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;

        *upload_size = 0;
        if (c->answered)
            return MHD_YES; /* discard what follows an early answer */
        return httpbody_append(&c->b, upload, n, c->route.max_body) < 0
                   ? MHD_NO
                   : MHD_YES;
    }
    if (c->answered)
        return MHD_YES;
    return httpd_call_route(h, conn, url, method, c);
}

static void httpd_completed(void *cls, struct MHD_Connection *conn,
                            void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct httpd_conn *c = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (!c)
        return;
    httpbody_free(&c->b);
    free(c);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void
httpd_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

/* ---- registration -------------------------------------------------------- */

const char *httpd_req_header(const struct httpd_req *req, const char *name)
{
    return req && req->conn
               ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name)
               : NULL;
}

const char *httpd_req_query(const struct httpd_req *req, const char *name)
{
    return req && req->conn ? MHD_lookup_connection_value(
                                  req->conn, MHD_GET_ARGUMENT_KIND, name)
                            : NULL;
}

int httpd_check_add(struct httpd *h, const char *name, httpd_check_fn *fn,
                    void *opaque)
{
    char *copy = name ? strdup(name) : NULL;
    int rc = -1;

    if (!h || !copy || !fn) {
        free(copy);
        return -1;
    }
    pthread_mutex_lock(&h->mu);
    if (h->nchecks < HTTPD_CHECKS_MAX) {
        struct httpd_check *c = &h->checks[h->nchecks];

        memset(c, 0, sizeof(*c));
        c->name = copy;
        c->fn = fn;
        c->opaque = opaque;
        h->nchecks++;
        copy = NULL;
        rc = 0;
    }
    pthread_mutex_unlock(&h->mu);
    free(copy);
    return rc;
}

int httpd_route_add(struct httpd *h, const char *prefix, size_t max_body,
                    httpd_route_fn *fn, void *opaque)
{
    char *copy = NULL;
    int rc = -1;
    size_t i;

    if (!h || !fn || !prefix || prefix[0] != '/')
        return -1;
    for (i = HTTPD_HEALTHZ; i <= HTTPD_METRICS; i++)
        if (strcmp(httpd_builtin_path[i], prefix) == 0)
            return -1; /* the built-in paths always win */
    copy = strdup(prefix);
    if (!copy)
        return -1;
    pthread_mutex_lock(&h->mu);
    for (i = 0; i < h->nroutes; i++)
        if (strcmp(h->routes[i].prefix, prefix) == 0)
            break;
    if (i == h->nroutes && h->nroutes < HTTPD_ROUTES_MAX) {
        struct httpd_route *r = &h->routes[h->nroutes];

        r->prefix = copy;
        r->prefix_len = strlen(copy);
        r->max_body = max_body;
        r->fn = fn;
        r->opaque = opaque;
        h->nroutes++;
        copy = NULL;
        rc = 0;
    }
    pthread_mutex_unlock(&h->mu);
    free(copy);
    return rc;
}

void httpd_heartbeat(struct httpd *h)
{
    if (h)
        __atomic_store_n(&h->beat_ms, httpd_now_ms(), __ATOMIC_RELAXED);
}

int httpd_port(const struct httpd *h)
{
    return h ? h->port : 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

int httpd_listen_parse(const char *listen, struct sockaddr_storage *sa,
                       socklen_t *salen, char *errstr, size_t errstr_size)
{
    struct addrinfo hints, *res = NULL;
    char host[256];
    const char *colon, *h0 = listen;
    size_t hlen;
    long long port;
    int gai;

    colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon)
        goto bad;
    hlen = (size_t)(colon - listen);
    if (listen[0] == '[') { /* [v6]:port */
        if (hlen < 2 || listen[hlen - 1] != ']')
            goto bad;
        h0 = listen + 1;
        hlen -= 2;
    }
    if (hlen >= sizeof(host) || cfg_parse_ll(colon + 1, &port) < 0 ||
        port < 0 || port > 65535)
        goto bad;
    memcpy(host, h0, hlen);
    host[hlen] = '\0';
    if (!host[0] || strcmp(host, "*") == 0)
        snprintf(host, sizeof(host), "0.0.0.0");
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(host, NULL, &hints, &res);
    if (gai != 0) {
        snprintf(errstr, errstr_size, "'%s': %s", listen, gai_strerror(gai));
        return -1;
    }
    memset(sa, 0, sizeof(*sa));
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *salen = res->ai_addrlen;
    if (sa->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(errstr, errstr_size, "'%s' is not host:port or [v6]:port",
             listen ? listen : "(null)");
    return -1;
}

static uint16_t httpd_sa_port(const struct sockaddr_storage *sa)
{
    return ntohs(sa->ss_family == AF_INET6
                     ? ((const struct sockaddr_in6 *)sa)->sin6_port
                     : ((const struct sockaddr_in *)sa)->sin_port);
}

/* Start the readiness thread; its condition variable uses the monotonic
 * clock so a wall-clock step cannot stretch a /readyz. */
static int httpd_ready_start(struct httpd *h)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    h->running = -1;
    if (pthread_create(&h->ready_thread, NULL, httpd_ready_main, h) != 0)
        return -1;
    h->ready_started = 1;
    return 0;
}

struct httpd *httpd_new(const struct httpd_conf *c, struct metrics *m,
                        char *errstr, size_t errstr_size)
{
    struct httpd *h = calloc(1, sizeof(*h));
    struct sockaddr_storage sa;
    const union MHD_DaemonInfo *di;
    char host[64] = "?";
    socklen_t salen;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG;

    if (!h) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    h->liveness_ms =
        c->liveness_ms > 0 ? c->liveness_ms : HTTPD_LIVENESS_MS_DEFAULT;
    h->ready_timeout_ms = c->ready_timeout_ms > 0
                              ? c->ready_timeout_ms
                              : HTTPD_READY_TIMEOUT_MS_DEFAULT;
    h->beat_ms = httpd_now_ms();
    h->m = m;
    if (httpd_ready_start(h) < 0) {
        snprintf(errstr, errstr_size, "cannot start a thread");
        goto fail;
    }
    if (httpd_listen_parse(c->listen, &sa, &salen, errstr, errstr_size) < 0)
        goto fail;
    if (sa.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (m)
        h->requests = metrics_counter_new(
            m, "omnisync_http_requests_total",
            "HTTP requests answered, by route and status code.",
            (const char *const[]){"route", "code", NULL});
    if (m)
        metrics_callback_new(
            m, "omnisync_ready_check",
            "1 when the readiness check passed in the last /readyz run, 0 "
            "when it failed (a scrape starts a new run).",
            METRICS_GAUGE, (const char *const[]){"check", NULL},
            httpd_ready_collect, h);
    /* The logger first: MHD logs options it meets before it elsewhere. */
    h->d = MHD_start_daemon(
        flags, httpd_sa_port(&sa), NULL, NULL, httpd_access, h,
        MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h,
        MHD_OPTION_CONNECTION_LIMIT,
        c->max_conns ? c->max_conns : (unsigned)HTTPD_MAX_CONNS_DEFAULT,
        MHD_OPTION_CONNECTION_TIMEOUT,
        c->conn_timeout_s ? c->conn_timeout_s
                          : (unsigned)HTTPD_CONN_TIMEOUT_S_DEFAULT,
        MHD_OPTION_END);
    if (!h->d) {
        snprintf(errstr, errstr_size, "cannot listen on %s", c->listen);
        goto fail;
    }
    di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? (int)di->port : 0;
    getnameinfo((struct sockaddr *)&sa, salen, host, sizeof(host), NULL, 0,
                NI_NUMERICHOST);
    log_info("http listening on %s%s%s:%d (%s)",
             sa.ss_family == AF_INET6 ? "[" : "", host,
             sa.ss_family == AF_INET6 ? "]" : "", h->port,
             c->serves ? c->serves : "/healthz /readyz /metrics");
    return h;
fail:
    httpd_destroy(h);
    return NULL;
}

void httpd_stop(struct httpd *h)
{
    if (!h)
        return;
    if (h->d) {
        MHD_stop_daemon(h->d); /* waits for the connection threads */
        h->d = NULL;
    }
    if (h->ready_started) {
        pthread_mutex_lock(&h->mu);
        h->stop_ready = 1;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->ready_thread, NULL);
        h->ready_started = 0;
    }
}

void httpd_destroy(struct httpd *h)
{
    size_t i;

    if (!h)
        return;
    httpd_stop(h);
    for (i = 0; i < h->nroutes; i++)
        free(h->routes[i].prefix);
    for (i = 0; i < h->nchecks; i++)
        free(h->checks[i].name);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- probe --------------------------------------------------------------- */

static size_t httpd_probe_discard(char *p, size_t size, size_t n, void *opaque)
{
    (void)p;
    (void)opaque;
    return size * n;
}

int httpd_probe(const char *url, long timeout_ms, char *errstr,
                size_t errstr_size)
{
    CURL *ch;
    CURLcode cc;
    long status = 0;
    int rc = -1;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        snprintf(errstr, errstr_size, "libcurl init failed");
        return -1;
    }
    ch = curl_easy_init();
    if (!ch) {
        snprintf(errstr, errstr_size, "libcurl init failed");
        goto out;
    }
    curl_easy_setopt(ch, CURLOPT_URL, url);
    curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, httpd_probe_discard);
    cc = curl_easy_perform(ch);
    if (cc != CURLE_OK) {
        snprintf(errstr, errstr_size, "%s: %s", url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        snprintf(errstr, errstr_size, "%s: HTTP %ld", url, status);
        goto out;
    }
    rc = 0;
out:
    curl_easy_cleanup(ch);
    curl_global_cleanup();
    return rc;
}
