#include "lib/httpd.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "t.h"
#include "t_promtool.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One answer: status, Content-Type and body. */
struct t_ans {
    long status;
    char ctype[128];
    char body[65536];
    size_t len;
};

static size_t t_write(char *p, size_t size, size_t n, void *opaque)
{
    struct t_ans *a = opaque;
    size_t k = size * n;

    if (a->len + k >= sizeof(a->body))
        k = sizeof(a->body) - 1 - a->len;
    memcpy(a->body + a->len, p, k);
    a->len += k;
    a->body[a->len] = '\0';
    return size * n;
}

/* Upload callback for chunked bodies (no Content-Length). */
struct t_up {
    const char *p;
    size_t left;
};

static size_t t_read(char *buf, size_t size, size_t n, void *opaque)
{
    struct t_up *u = opaque;
    size_t k = size * n < u->left ? size * n : u->left;

    memcpy(buf, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

/* @p method on http://127.0.0.1:@p port@p path, with @p body (may be
 * NULL), chunked when @p chunked. */
static void t_http(int port, const char *method, const char *path,
                   const char *body, int chunked, struct t_ans *a)
{
    char url[256];
    CURL *ch = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct t_up up = {body, body ? strlen(body) : 0};
    const char *ct = NULL;

    memset(a, 0, sizeof(*a));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(ch, CURLOPT_URL, url);
    curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, t_write);
    curl_easy_setopt(ch, CURLOPT_WRITEDATA, a);
    hdrs = curl_slist_append(hdrs, "X-Test: yes");
    if (body && chunked) {
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
        curl_easy_setopt(ch, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(ch, CURLOPT_READFUNCTION, t_read);
        curl_easy_setopt(ch, CURLOPT_READDATA, &up);
    } else if (body) {
        curl_easy_setopt(ch, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(ch, CURLOPT_HTTPHEADER, hdrs);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(ch, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(ch, CURLOPT_CUSTOMREQUEST, method);
    if (curl_easy_perform(ch) == CURLE_OK) {
        curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &a->status);
        curl_easy_getinfo(ch, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(a->ctype, sizeof(a->ctype), "%s", ct ? ct : "");
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(ch);
}

static long long t_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void t_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- readiness checks driven by the test ----------------------------- */

/* ok and sleep_ms are written by the test, read by the readiness thread. */
struct t_check {
    int ok;
    long sleep_ms;
    const char *why;
};

#define T_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

static int t_check_fn(void *opaque, char *reason, size_t size)
{
    struct t_check *c = opaque;
    long ms = __atomic_load_n(&c->sleep_ms, __ATOMIC_RELAXED);

    if (ms)
        t_sleep_ms(ms);
    if (__atomic_load_n(&c->ok, __ATOMIC_RELAXED))
        return 0;
    snprintf(reason, size, "%s", c->why);
    return -1;
}

/* ---- a route: echo what the handler saw ------------------------------- */

static void t_echo(void *opaque, const struct httpd_req *req,
                   struct httpd_resp *resp)
{
    char buf[512];
    const char *x = httpd_req_header(req, "x-test");

    (void)opaque;
    if (req->too_big) {
        httpd_resp_json(resp, 413, json_pack("{s:s}", "error", "too big"));
        return;
    }
    snprintf(buf, sizeof(buf), "%s %s %zu [%s] x=%s", req->method, req->url,
             req->body_len, req->body, x ? x : "-");
    httpd_resp_set(resp, 200, "text/plain", buf, strlen(buf));
}

static void test_listen_parse(void)
{
    struct sockaddr_storage sa;
    socklen_t len;
    char err[256];
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)&sa;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;

    T_ASSERT_EQ(
        httpd_listen_parse("127.0.0.1:9100", &sa, &len, err, sizeof(err)), 0);
    T_ASSERT_EQ(sa.ss_family, AF_INET);
    T_ASSERT_EQ(ntohs(in4->sin_port), 9100);
    T_ASSERT_EQ(ntohl(in4->sin_addr.s_addr), 0x7f000001);
    T_ASSERT_EQ(httpd_listen_parse(":0", &sa, &len, err, sizeof(err)), 0);
    T_ASSERT_EQ(in4->sin_addr.s_addr, htonl(INADDR_ANY));
    T_ASSERT_EQ(httpd_listen_parse("*:80", &sa, &len, err, sizeof(err)), 0);
    T_ASSERT_EQ(in4->sin_addr.s_addr, htonl(INADDR_ANY));
    T_ASSERT_EQ(httpd_listen_parse("[::1]:8080", &sa, &len, err, sizeof(err)),
                0);
    T_ASSERT_EQ(sa.ss_family, AF_INET6);
    T_ASSERT_EQ(ntohs(in6->sin6_port), 8080);
    T_ASSERT_EQ(httpd_listen_parse("localhost:1", &sa, &len, err, sizeof(err)),
                0);
    T_ASSERT_EQ(httpd_listen_parse("127.0.0.1", &sa, &len, err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(err, "host:port");
    T_ASSERT_EQ(
        httpd_listen_parse("127.0.0.1:65536", &sa, &len, err, sizeof(err)), -1);
    T_ASSERT_EQ(httpd_listen_parse("127.0.0.1:x", &sa, &len, err, sizeof(err)),
                -1);
    T_ASSERT_EQ(httpd_listen_parse("[::1:80", &sa, &len, err, sizeof(err)), -1);
    T_ASSERT_EQ(httpd_listen_parse(NULL, &sa, &len, err, sizeof(err)), -1);
}

static void test_liveness(struct httpd *h, int port)
{
    struct t_ans a;

    httpd_heartbeat(h);
    t_http(port, "GET", "/healthz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 200);
    T_ASSERT_STR_CONTAINS(a.body, "\"alive\":true");
    T_ASSERT_STR_CONTAINS(a.ctype, "application/json");
    t_sleep_ms(2500); /* past liveness_ms (2000) without a heartbeat */
    t_http(port, "GET", "/healthz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 503);
    T_ASSERT_STR_CONTAINS(a.body, "\"alive\":false");
    T_ASSERT_STR_CONTAINS(a.body, "\"limit_ms\":2000");
    httpd_heartbeat(h);
    t_http(port, "HEAD", "/healthz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 200);
    T_ASSERT_EQ(a.len, 0);
    t_http(port, "POST", "/healthz", "x", 0, &a);
    T_ASSERT_EQ(a.status, 405);
}

static void test_readiness(struct httpd *h, int port)
{
    static struct t_check pg = {1, 0, "connection refused"};
    static struct t_check kafka = {0, 0, "no assignment"};
    static struct t_check slow = {1, 0, "slow"};
    static struct t_check after = {1, 0, "after"};
    struct t_ans a;
    long long t0, took;

    t_http(port, "GET", "/readyz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 200);
    T_ASSERT_STR_EQ(a.body, "{\"ready\":true}\n");
    T_ASSERT_EQ(httpd_check_add(h, "postgres", t_check_fn, &pg), 0);
    T_ASSERT_EQ(httpd_check_add(h, "kafka", t_check_fn, &kafka), 0);
    t_http(port, "GET", "/readyz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 503);
    T_ASSERT_STR_EQ(a.body, "{\"ready\":false,\"failing\":{\"kafka\":\"no "
                            "assignment\"}}\n");
    T_SET(pg.ok, 0);
    t_http(port, "GET", "/readyz", NULL, 0, &a);
    T_ASSERT_STR_EQ(a.body,
                    "{\"ready\":false,\"failing\":{\"postgres\":\"connection "
                    "refused\",\"kafka\":\"no assignment\"}}\n");
    T_SET(pg.ok, 1);
    T_SET(kafka.ok, 1);
    t_http(port, "GET", "/readyz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 200);
    /* A check that hangs: the answer still comes within the bound (300 ms),
     * naming it; the checks behind it are "not run". */
    T_ASSERT_EQ(httpd_check_add(h, "redis", t_check_fn, &slow), 0);
    T_ASSERT_EQ(httpd_check_add(h, "assignment", t_check_fn, &after), 0);
    T_SET(slow.sleep_ms, 1500);
    t0 = t_now_ms();
    t_http(port, "GET", "/readyz", NULL, 0, &a);
    took = t_now_ms() - t0;
    T_ASSERT_EQ(a.status, 503);
    T_CHECK(took >= 250 && took < 1200, "took %lld ms", took);
    T_ASSERT_STR_CONTAINS(a.body, "\"redis\":\"timed out (running for");
    T_ASSERT_STR_CONTAINS(a.body, "\"assignment\":\"not run: check redis still "
                                  "running\"");
    T_CHECK(!strstr(a.body, "postgres"), "%s", a.body);
    /* /healthz is not held up by the stuck check. */
    httpd_heartbeat(h);
    t0 = t_now_ms();
    t_http(port, "GET", "/healthz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 200);
    T_CHECK(t_now_ms() - t0 < 200, "healthz took %lld ms", t_now_ms() - t0);
    T_SET(slow.sleep_ms, 0);
    t_sleep_ms(1500); /* the stuck run ends */
    t_http(port, "GET", "/readyz", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 200);
    T_ASSERT_STR_EQ(a.body, "{\"ready\":true}\n");
    httpd_heartbeat(h);
}

static void test_routes(struct httpd *h, int port)
{
    char big[100];
    struct t_ans a;

    T_ASSERT_EQ(httpd_route_add(h, "/hooks/", 16, t_echo, NULL), 0);
    T_ASSERT_EQ(httpd_route_add(h, "/hooks/", 16, t_echo, NULL), -1);
    T_ASSERT_EQ(httpd_route_add(h, "/metrics", 16, t_echo, NULL), -1);
    T_ASSERT_EQ(httpd_route_add(h, "hooks", 16, t_echo, NULL), -1);
    t_http(port, "POST", "/hooks/abc/orders", "{\"id\":1}", 0, &a);
    T_ASSERT_EQ(a.status, 200);
    T_ASSERT_STR_EQ(a.body, "POST /hooks/abc/orders 8 [{\"id\":1}] x=yes");
    T_ASSERT_STR_EQ(a.ctype, "text/plain");
    t_http(port, "GET", "/hooks/", NULL, 0, &a);
    T_ASSERT_STR_EQ(a.body, "GET /hooks/ 0 [] x=yes");
    /* Too big: announced by Content-Length, or found while uploading. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    t_http(port, "POST", "/hooks/abc/orders", big, 0, &a);
    T_ASSERT_EQ(a.status, 413);
    T_ASSERT_STR_EQ(a.body, "{\"error\":\"too big\"}\n");
    t_http(port, "POST", "/hooks/abc/orders", big, 1, &a);
    T_ASSERT_EQ(a.status, 413);
    t_http(port, "POST", "/hooks/abc/orders", "0123456789abcdef", 1, &a);
    T_ASSERT_EQ(a.status, 200);
    T_ASSERT_STR_CONTAINS(a.body, " 16 [0123456789abcdef]");
    t_http(port, "GET", "/nope", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 404);
    T_ASSERT_STR_EQ(a.body, "{\"error\":\"not found\"}\n");
}

static void test_metrics_route(struct httpd *h, int port)
{
    static struct t_check broken = {0, 0, "broken"};
    struct t_ans a;

    t_http(port, "GET", "/metrics", NULL, 0, &a);
    T_ASSERT_EQ(a.status, 200);
    T_ASSERT_STR_EQ(a.ctype, METRICS_CONTENT_TYPE);
    T_ASSERT_STR_CONTAINS(a.body, "omnisync_test_things_total 7\n");
    T_ASSERT_STR_CONTAINS(a.body, "omnisync_http_requests_total{route="
                                  "\"/healthz\",code=\"503\"} 1\n");
    T_ASSERT_STR_CONTAINS(a.body, "omnisync_http_requests_total{route="
                                  "\"/hooks/\",code=\"413\"} 2\n");
    T_ASSERT_STR_CONTAINS(a.body, "omnisync_http_requests_total{route="
                                  "\"other\",code=\"404\"} 1\n");
    T_ASSERT_STR_CONTAINS(a.body, "process_resident_memory_bytes ");
    /* The last /readyz run's results, one series per check. */
    T_ASSERT_STR_CONTAINS(a.body, "# TYPE omnisync_ready_check gauge\n");
    T_ASSERT_STR_CONTAINS(a.body,
                          "omnisync_ready_check{check=\"postgres\"} 1\n");
    T_ASSERT_STR_CONTAINS(a.body,
                          "omnisync_ready_check{check=\"assignment\"} 1\n");
    T_ASSERT_EQ(t_promtool(a.body), 0);
    /* A new check: no series until a run; a scrape starts one. */
    T_ASSERT_EQ(httpd_check_add(h, "broken", t_check_fn, &broken), 0);
    t_http(port, "GET", "/metrics", NULL, 0, &a);
    T_CHECK(!strstr(a.body, "check=\"broken\""), "%s", a.body);
    t_sleep_ms(200);
    t_http(port, "GET", "/metrics", NULL, 0, &a);
    T_ASSERT_STR_CONTAINS(a.body, "omnisync_ready_check{check=\"broken\"} 0\n");
    T_ASSERT_STR_CONTAINS(a.body,
                          "omnisync_ready_check{check=\"postgres\"} 1\n");
}

static void test_probe(struct httpd *h, int port)
{
    char url[128], err[256];

    /* Alive: the tests before may have taken longer than liveness_ms. */
    httpd_heartbeat(h);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
    T_ASSERT_EQ(httpd_probe(url, 2000, err, sizeof(err)), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/nope", port);
    T_ASSERT_EQ(httpd_probe(url, 2000, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "HTTP 404");
}

int main(void)
{
    struct httpd_conf c = {"127.0.0.1:0", 2000, 300, 16, 5};
    struct metrics *m;
    struct httpd *h, *h2;
    char err[256], url[128];
    int port;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    log_init("test_httpd", "warn");
    test_listen_parse();
    m = metrics_new(0, err, sizeof(err));
    metrics_add(
        metrics_counter_new(m, "omnisync_test_things_total", "Things.", NULL),
        NULL, 7);
    metrics_process_register(m);
    h = httpd_new(&c, m, err, sizeof(err));
    T_CHECK(h != NULL, "httpd_new: %s", err);
    if (!h)
        T_DONE();
    port = httpd_port(h);
    T_CHECK(port > 0 && port < 65536, "port %d", port);
    /* The port is taken now. */
    snprintf(url, sizeof(url), "127.0.0.1:%d", port);
    c.listen = url;
    h2 = httpd_new(&c, NULL, err, sizeof(err));
    T_ASSERT(h2 == NULL);
    T_ASSERT_STR_CONTAINS(err, "cannot listen");
    httpd_destroy(h2);
    test_liveness(h, port);
    test_readiness(h, port);
    test_routes(h, port);
    test_metrics_route(h, port);
    test_probe(h, port);
    httpd_destroy(h);
    /* Stopped: nothing answers. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
    T_ASSERT_EQ(httpd_probe(url, 1000, err, sizeof(err)), -1);
    metrics_destroy(m);
    curl_global_cleanup();
    T_DONE();
}
