#include "sim_http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/httpbody.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "sim_ctl.h"
#include "sim_db.h"
#include "sim_fmt.h"
#include "sim_limit.h"
#include "sim_orders.h"
#include "sim_persist.h"
#include "sim_products.h"
#include "sim_refs.h"
#include "sim_webhook.h"

static const char sim_html_404[] =
    "<!DOCTYPE html>\n<html>\n<head><title>The page you were looking for "
    "doesn't exist (404)</title></head>\n<body>\n<h1>The page you were "
    "looking for doesn't exist.</h1>\n</body>\n</html>\n";
static const char sim_text_401[] = "HTTP Basic: Access denied.\n";

struct sim_http {
    struct MHD_Daemon *d;
    struct sim_db *db;
    struct sim_limiter *lim;
    char *login, *password;
    int limit_status, port;
    struct sim_persist *persist; /* borrowed, may be NULL */
    uint64_t snap_gen;           /* snapshots taken (db->mu) */
    int64_t snap_clock;          /* db->clock_last at the last one */
};

/* Per-connection request state (MHD con_cls). */
struct sim_conn {
    struct httpbody b;
    int answered;
};

/* ---- helpers for handlers ------------------------------------------------ */

const char *sim_req_arg(const struct sim_req *rq, const char *key)
{
    if (!rq->conn)
        return NULL;
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct sim_args_ctx {
    const char *key;
    char *buf;
    size_t bufsz, used;
    const char **out;
    int max, n;
};

static enum MHD_Result sim_args_cb(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    struct sim_args_ctx *c = cls;
    size_t kl = strlen(c->key);
    const char *p;

    (void)kind;
    if (!value || strncmp(key, c->key, kl) != 0 ||
        (key[kl] != '\0' && strcmp(key + kl, "[]") != 0))
        return MHD_YES;
    p = value;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > 0) {
            if (c->n >= c->max) {
                c->n++; /* report overflow to the caller */
                return MHD_YES;
            }
            if (c->used + n + 1 > c->bufsz)
                return MHD_NO;
            memcpy(c->buf + c->used, p, n);
            c->buf[c->used + n] = '\0';
            c->out[c->n++] = c->buf + c->used;
            c->used += n + 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return MHD_YES;
}

int sim_req_args(const struct sim_req *rq, const char *key, char *buf,
                 size_t bufsz, const char **out, int max)
{
    struct sim_args_ctx c = {key, buf, bufsz, 0, out, max, 0};

    if (rq->conn)
        MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, sim_args_cb,
                                  &c);
    return c.n;
}

int64_t sim_seg_id(const char *s)
{
    int64_t v = 0;

    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

int sim_req_flag(const struct sim_req *rq, const char *key)
{
    const char *v = sim_req_arg(rq, key);

    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

void sim_req_paging(const struct sim_req *rq, long def, long *page,
                    long *per_page)
{
    const char *s;
    int64_t v;

    *page = 1;
    *per_page = def;
    s = sim_req_arg(rq, "page");
    v = s ? sim_seg_id(s) : -1;
    if (v >= 1 && v < 10000000)
        *page = (long)v;
    s = sim_req_arg(rq, "per_page");
    v = s ? sim_seg_id(s) : -1;
    if (v >= 0)
        *per_page = v > 250 ? 250 : (long)v;
    if (*per_page < 10)
        *per_page = 10;
}

int sim_req_since(const struct sim_req *rq, int *has_since, int64_t *since,
                  int64_t *from_id)
{
    const char *s = sim_req_arg(rq, "updated_since");
    const char *f = sim_req_arg(rq, "from_id");

    *has_since = 0;
    *since = 0;
    *from_id = 0;
    if (!s || !*s)
        return 0;
    if (sim_time_parse(s, since) != 0)
        return -1;
    *has_since = 1;
    if (f && sim_seg_id(f) > 0)
        *from_id = sim_seg_id(f);
    return 0;
}

int sim_req_matches(const struct sim_req *rq, const struct sim_route_shape *sh)
{
    if (rq->nseg < sh->nmin || rq->nseg > sh->nmax)
        return 0;
    if (sh->method && strcmp(rq->method, sh->method) != 0)
        return 0;
    for (int i = 0; i < SIM_ROUTE_SEGS; i++)
        if (sh->seg[i] &&
            (i >= rq->nseg || strcmp(rq->segs[i], sh->seg[i]) != 0))
            return 0;
    return 1;
}

void sim_resp_json(struct sim_resp *rs, int status, json_t *json)
{
    json_decref(rs->json);
    rs->status = status;
    rs->json = json;
    rs->text = NULL;
}

void sim_resp_not_found(struct sim_resp *rs)
{
    json_decref(rs->json);
    rs->json = NULL;
    rs->status = 404;
    rs->text = sim_html_404;
    rs->ctype = "text/html; charset=utf-8";
}

void sim_resp_ok(struct sim_resp *rs)
{
    sim_resp_json(rs, 200, json_pack("{s:s}", "status", "ok"));
}

void sim_resp_invalid(struct sim_resp *rs, const char *field, const char *msg)
{
    sim_resp_json(rs, 422, json_pack("{s:[s]}", field, msg));
}

/* ---- the pipeline
 * ------------------------------------------------------------ */

static void sim_sleep_ms(long ms)
{
    /* Sleep in slices so a shutdown is not held up by a long fault. */
    while (ms > 0 && !sig_stop_requested()) {
        long step = ms > 50 ? 50 : ms;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static int sim_split(char *path, struct sim_req *rq)
{
    char *p = path, *slash;
    size_t n = strlen(path);

    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        path[n - 5] = '\0';
    rq->nseg = 0;
    while (*p) {
        if (rq->nseg == SIM_MAX_SEGS)
            return -1;
        rq->segs[rq->nseg++] = p;
        slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return 0;
}

struct sim_fetch {
    unsigned char *buf;
    size_t len, max;
};

static size_t sim_fetch_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sim_fetch *f = ud;
    size_t n = size * nmemb;
    unsigned char *nb;

    if (f->len + n > f->max)
        return 0; /* abort: larger than the image limit */
    nb = realloc(f->buf, f->len + n + 1);
    if (!nb)
        return 0;
    f->buf = nb;
    memcpy(f->buf + f->len, ptr, n);
    f->len += n;
    return n;
}

/*
 * inSales downloads image.src itself.  store-sim can only reach loopback
 * URLs, so anything else is treated as an unreachable URL (422).
 */
static void sim_prefetch_image(struct sim_http *h, struct sim_req *rq)
{
    json_t *img = json_object_get(rq->body, "image");
    const char *src = json_string_value(json_object_get(img, "src"));
    struct sim_fetch f = {NULL, 0, (size_t)h->db->opts.max_image_bytes + 1};
    CURL *ch;
    long code = 0;
    CURLcode rc;

    if (!src || json_object_get(img, "attachment"))
        return;
    rq->fetch_failed = 1;
    if (!sim_url_is_loopback(src))
        return;
    ch = curl_easy_init();
    if (!ch)
        return;
    curl_easy_setopt(ch, CURLOPT_URL, src);
    curl_easy_setopt(ch, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, sim_fetch_cb);
    curl_easy_setopt(ch, CURLOPT_WRITEDATA, &f);
    rc = curl_easy_perform(ch);
    if (rc == CURLE_OK)
        curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(ch);
    if (rc == CURLE_OK && code == 200 && f.len > 0) {
        rq->fetched = f.buf;
        rq->fetched_len = f.len;
        rq->fetch_failed = 0;
        return;
    }
    if (rc == CURLE_WRITE_ERROR && f.len > 0) {
        /* Too large: hand over the oversized prefix so the size check
         * answers with the size message. */
        rq->fetched = f.buf;
        rq->fetched_len = f.max;
        rq->fetch_failed = 0;
        return;
    }
    free(f.buf);
}

static void sim_query_string(struct sim_req *rq, char *buf, size_t bufsz);

static void sim_record(struct sim_http *h, const struct sim_req *rq, int status,
                       int rejected)
{
    struct sim_db *db = h->db;
    struct sim_reqlog *e;
    char q[1024];

    sim_query_string((struct sim_req *)rq, q, sizeof(q));
    pthread_mutex_lock(&db->smu);
    db->requests++;
    if (rejected)
        db->rejected++;
    if (status > 0 && status < SIM_STATUS_MAX)
        db->status_counts[status]++;
    db->seq++;
    e = &db->log[db->seq % SIM_REQLOG_CAP];
    free(e->path);
    free(e->query);
    e->seq = db->seq;
    e->time_ms = rq->now;
    e->status = status;
    snprintf(e->method, sizeof(e->method), "%s", rq->method);
    e->path = strdup(rq->path);
    e->query = strdup(q);
    pthread_mutex_unlock(&db->smu);
}

struct sim_qs_ctx {
    char *buf;
    size_t bufsz, n;
};

static enum MHD_Result sim_qs_cb(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
    struct sim_qs_ctx *c = cls;
    int w;

    (void)kind;
    if (c->n >= c->bufsz)
        return MHD_NO;
    w = snprintf(c->buf + c->n, c->bufsz - c->n, "%s%s%s%s", c->n ? "&" : "",
                 key, value ? "=" : "", value ? value : "");
    if (w > 0)
        c->n += (size_t)w;
    return MHD_YES;
}

static void sim_query_string(struct sim_req *rq, char *buf, size_t bufsz)
{
    struct sim_qs_ctx c = {buf, bufsz, 0};

    buf[0] = '\0';
    if (rq->conn)
        MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, sim_qs_cb,
                                  &c);
}

static int sim_is_write(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "PATCH") == 0;
}

/* Parse the body into rq->body; returns 0 or fills a 400/413. */
static int sim_parse_body(struct sim_conn *c, struct sim_req *rq,
                          struct sim_resp *rs)
{
    json_error_t jerr;

    if (c->b.too_big) {
        sim_resp_json(rs, 413,
                      json_pack("{s:s}", "message", "request body too large"));
        return -1;
    }
    if (c->b.len == 0)
        return 0;
    rq->body = json_loadb(c->b.buf, c->b.len, 0, &jerr);
    if (!rq->body) {
        sim_resp_json(rs, 400,
                      json_pack("{s:s,s:s}", "message", "malformed JSON",
                                "error", jerr.text));
        return -1;
    }
    return 0;
}

/* Basic auth against the configured login; 401 when it does not match. */
static int sim_admin_auth(struct sim_http *h, struct MHD_Connection *conn,
                          struct sim_resp *rs)
{
    char *user, *pass = NULL;
    int authed;

    user = MHD_basic_auth_get_username_password(conn, &pass);
    authed = user && pass && strcmp(user, h->login) == 0 &&
             strcmp(pass, h->password) == 0;
    if (user)
        MHD_free(user);
    if (pass)
        MHD_free(pass);
    if (authed)
        return 0;
    rs->status = 401;
    rs->text = sim_text_401;
    rs->ctype = "text/plain; charset=utf-8";
    return -1;
}

/* A token from the login's budget, its usage header; the limit status when
 * the budget is spent. */
static int sim_admin_limit(struct sim_http *h, struct sim_req *rq,
                           struct sim_resp *rs, char *usage, size_t usage_sz,
                           long *retry_after, int *rejected)
{
    struct sim_limit_res lr;

    sim_limiter_take(h->lim, h->login, rq->now, &lr);
    if (sim_limiter_limit(h->lim) > 0)
        snprintf(usage, usage_sz, "%ld/%ld", lr.used,
                 sim_limiter_limit(h->lim));
    if (lr.allowed)
        return 0;
    *retry_after = lr.retry_after;
    *rejected = 1;
    sim_resp_json(rs, h->limit_status,
                  json_pack("{s:s,s:i}", "message",
                            "API requests limit exceeded", "retry_after",
                            (int)lr.retry_after));
    return -1;
}

/* The injected faults: latency, then a timeout or an error at their rates
 * (a 429/503 with the fault's Retry-After, when set). */
static int sim_admin_faults(struct sim_db *db, struct sim_resp *rs,
                            long *retry_after)
{
    struct sim_faults f;
    double r_err, r_to;

    pthread_mutex_lock(&db->smu);
    f = db->faults;
    r_err = f.error_rate > 0 ? sim_db_rand(db) : 1.0;
    r_to = f.timeout_rate > 0 ? sim_db_rand(db) : 1.0;
    pthread_mutex_unlock(&db->smu);
    if (f.latency_ms > 0)
        sim_sleep_ms(f.latency_ms);
    if (r_to < f.timeout_rate) {
        /* Hold the request like a stuck server, then give up as inSales
         * does after its processing timeout. */
        sim_sleep_ms(f.timeout_ms);
        sim_resp_json(
            rs, 504,
            json_pack("{s:s}", "message", "store-sim injected timeout"));
        return -1;
    }
    if (r_err < f.error_rate) {
        sim_resp_json(
            rs, f.error_status,
            json_pack("{s:s}", "message", "store-sim injected fault"));
        if (f.error_status == 429 || f.error_status == 503)
            *retry_after = f.retry_after_s;
        return -1;
    }
    return 0;
}

/* A write's Content-Type, then the body: a JSON object or nothing. */
static int sim_admin_body(struct MHD_Connection *conn, struct sim_conn *c,
                          struct sim_req *rq, struct sim_resp *rs)
{
    const char *ct;

    if (sim_is_write(rq->method)) {
        ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
            sim_resp_json(
                rs, 422,
                json_pack(
                    "{s:s}", "message",
                    "incorrect Content-Type, should be application/json"));
            return -1;
        }
    }
    if (sim_parse_body(c, rq, rs) != 0)
        return -1;
    if (rq->body && !json_is_object(rq->body)) {
        sim_resp_json(
            rs, 400,
            json_pack("{s:s}", "message", "the body must be a JSON object"));
        return -1;
    }
    return 0;
}

/* /admin/...: auth, the rate limit, faults, the body, then the resource
 * modules under the shop's lock. */
static void sim_admin(struct sim_http *h, struct MHD_Connection *conn,
                      struct sim_conn *c, struct sim_req *rq,
                      struct sim_resp *rs, char *usage, size_t usage_sz,
                      long *retry_after, int *rejected)
{
    struct sim_db *db = h->db;

    if (sim_admin_auth(h, conn, rs) != 0 ||
        sim_admin_limit(h, rq, rs, usage, usage_sz, retry_after, rejected) !=
            0 ||
        sim_admin_faults(db, rs, retry_after) != 0 ||
        sim_admin_body(conn, c, rq, rs) != 0)
        return;
    if (strcmp(rq->method, "POST") == 0 && rq->nseg == 3 &&
        strcmp(rq->segs[0], "products") == 0 &&
        strcmp(rq->segs[2], "images") == 0)
        sim_prefetch_image(h, rq);
    pthread_mutex_lock(&db->mu);
    sim_products_tick(db, rq->now);
    if (!sim_products_route(db, rq, rs) && !sim_orders_route(db, rq, rs) &&
        !sim_refs_route(db, rq, rs))
        sim_resp_not_found(rs);
    pthread_mutex_unlock(&db->mu);
}

/* With --data-dir: after a request that may have changed the shop (any
 * method but GET/HEAD, or a GET that applied queued group updates, which
 * moves the clock) a snapshot under the lock, written before the
 * response goes out.  A failed write is logged; the shop in memory goes
 * on (the next change writes the whole shop again). */
static void sim_save(struct sim_http *h, const struct sim_req *rq)
{
    struct sim_db *db = h->db;
    char *text = NULL, errstr[512];
    uint64_t gen = 0;
    int reader;

    if (!h->persist)
        return;
    reader = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
    pthread_mutex_lock(&db->mu);
    if (!reader || db->clock_last != h->snap_clock) {
        h->snap_clock = db->clock_last;
        gen = ++h->snap_gen;
        text = sim_persist_dump(db);
    }
    pthread_mutex_unlock(&db->mu);
    if (gen == 0)
        return;
    if (!text)
        log_error("save: out of memory; the shop on disk is behind");
    else if (sim_persist_write(h->persist, text, gen, errstr, sizeof(errstr)) !=
             0)
        log_error("save: %s; the shop on disk is behind", errstr);
    free(text);
}

/* Retry-After as delta seconds, or (fault retry_after_date) as the HTTP
 * date (IMF-fixdate, RFC 9110 §5.6.7) that many seconds from now. */
static void sim_retry_after_fmt(long secs, int as_date, char *out, size_t size)
{
    time_t at;
    struct tm tm;

    if (!as_date) {
        snprintf(out, size, "%ld", secs);
        return;
    }
    at = time(NULL) + secs;
    gmtime_r(&at, &tm);
    strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int sim_retry_after_date(struct sim_db *db)
{
    int d;

    pthread_mutex_lock(&db->smu);
    d = db->faults.retry_after_date;
    pthread_mutex_unlock(&db->smu);
    return d;
}

static enum MHD_Result sim_send(struct MHD_Connection *conn,
                                struct sim_resp *rs, const char *usage,
                                long retry_after, int as_date)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    char ra[64];

    if (rs->json) {
        char *s = json_dumps(rs->json, JSON_COMPACT);
        if (!s)
            return MHD_NO;
        r = MHD_create_response_from_buffer(strlen(s), s,
                                            MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(s);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/json; charset=utf-8");
    } else {
        const char *t = rs->text ? rs->text : "";
        r = MHD_create_response_from_buffer(strlen(t), (void *)(uintptr_t)t,
                                            MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rs->ctype ? rs->ctype
                                          : "text/plain; charset=utf-8");
    }
    if (rs->status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"Application\"");
    if (usage && usage[0])
        MHD_add_response_header(r, "API-Usage-Limit", usage);
    if (retry_after > 0) {
        sim_retry_after_fmt(retry_after, as_date, ra, sizeof(ra));
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    ret = MHD_queue_response(conn, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result sim_handler(void *cls, struct MHD_Connection *conn,
                                   const char *url, const char *method,
                                   const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    struct sim_http *h = cls;
    struct sim_conn *c = *con_cls;
    struct sim_req rq;
    struct sim_resp rs;
    char usage[48] = "", *path = NULL;
    long retry_after = 0;
    int rejected = 0, admin;
    enum MHD_Result ret;
    int64_t t0;

    (void)version;
    if (!c) {
        const char *cl = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        c = calloc(1, sizeof(*c));
        if (!c)
            return MHD_NO;
        *con_cls = c;
        if (cl && strtoll(cl, NULL, 10) > SIM_BODY_CAP) {
            memset(&rs, 0, sizeof(rs));
            c->answered = 1;
            sim_resp_json(
                &rs, 413,
                json_pack("{s:s}", "message", "request body too large"));
            ret = sim_send(conn, &rs, NULL, 0, 0);
            json_decref(rs.json);
            return ret;
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->answered)
            return MHD_YES;
        if (httpbody_append(&c->b, upload_data, n, (size_t)SIM_BODY_CAP) < 0)
            return MHD_NO;
        return MHD_YES;
    }
    if (c->answered)
        return MHD_YES;
    c->answered = 1;

    t0 = clock_wall_ms();
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    rq.method = method;
    rq.path = url;
    rq.conn = conn;
    rq.now = t0;
    admin = strncmp(url, "/admin/", 7) == 0;
    if (admin || strncmp(url, "/_sim/", 6) == 0) {
        path = strdup(url + (admin ? 7 : 6));
        if (!path || sim_split(path, &rq) != 0) {
            sim_resp_not_found(&rs);
        } else if (admin) {
            if (strlen(url) < 5 || strcmp(url + strlen(url) - 5, ".json") != 0)
                sim_resp_json(&rs, 406,
                              json_pack("{s:s}", "message",
                                        "store-sim speaks JSON only: use "
                                        ".json paths"));
            else
                sim_admin(h, conn, c, &rq, &rs, usage, sizeof(usage),
                          &retry_after, &rejected);
            /* A 406 is decided before auth only for non-.json paths. */
        } else if (sim_parse_body(c, &rq, &rs) == 0) {
            pthread_mutex_lock(&h->db->mu);
            sim_products_tick(h->db, rq.now);
            pthread_mutex_unlock(&h->db->mu);
            sim_ctl_handle(h->db, h->lim, &rq, &rs);
        }
    } else {
        sim_resp_not_found(&rs);
    }
    if (rs.status == 0)
        sim_resp_json(&rs, 500, json_pack("{s:s}", "message", "no response"));
    if (path && !rejected && rs.status != 401)
        sim_save(h, &rq);
    if (admin)
        sim_record(h, &rq, rs.status, rejected);
    log_debug("%s %s -> %d (%lld ms)", method, url, rs.status,
              (long long)(clock_wall_ms() - t0));
    ret = sim_send(conn, &rs, usage, retry_after, sim_retry_after_date(h->db));
    json_decref(rs.json);
    json_decref(rq.body);
    free(rq.fetched);
    free(path);
    return ret;
}

static void sim_completed(void *cls, struct MHD_Connection *conn,
                          void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct sim_conn *c = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (c) {
        httpbody_free(&c->b);
        free(c);
        *con_cls = NULL;
    }
}

struct sim_http *sim_http_new(const struct sim_http_opts *opts,
                              struct sim_db *db, struct sim_limiter *lim,
                              char *errstr, size_t errstr_size)
{
    struct sim_http *h = calloc(1, sizeof(*h));
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    if (!h) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    h->db = db;
    h->lim = lim;
    h->limit_status = opts->limit_status;
    h->persist = opts->persist;
    h->snap_clock = db->clock_last;
    h->login = strdup(opts->login);
    h->password = strdup(opts->password);
    if (!h->login || !h->password) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opts->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (opts->bind && inet_pton(AF_INET, opts->bind, &sa.sin_addr) != 1) {
        snprintf(errstr, errstr_size, "--bind: not an IPv4 address");
        goto fail;
    }
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_POLL,
        (uint16_t)opts->port, NULL, NULL, sim_handler, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, sim_completed, h,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120 /* s idle */,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)512, MHD_OPTION_END);
    if (!h->d) {
        snprintf(errstr, errstr_size, "cannot listen on %s:%d",
                 opts->bind ? opts->bind : "127.0.0.1", opts->port);
        goto fail;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : opts->port;
    db->opts.port = h->port;
    return h;
fail:
    sim_http_destroy(h);
    return NULL;
}

int sim_http_port(const struct sim_http *h)
{
    return h->port;
}

void sim_http_destroy(struct sim_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h->login);
    free(h->password);
    free(h);
}
