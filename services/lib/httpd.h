/*
 * httpd — the one small HTTP server every omnisync service runs
 * (libmicrohttpd, docs/metrics.md "HTTP endpoints"):
 *
 *   GET /healthz  liveness: 200 while the service's main loop turns (it
 *                 calls httpd_heartbeat()), 503 once the last heartbeat is
 *                 older than the configured bound;
 *   GET /readyz   readiness: runs the registered checks (Postgres, Redis,
 *                 Kafka, "the consumer has its assignment") within a bounded
 *                 time; 200 {"ready":true}, or 503 {"ready":false,
 *                 "failing":{"<check>":"<reason>",...}};
 *   GET /metrics  the metrics registry in the Prometheus text format.
 *
 * Services add their own routes (the order-ingestor's webhook intake, a
 * ledger API) with httpd_route_add(): a handler gets the whole request
 * body, capped, and fills a response.  It may block (it runs on the
 * connection's own thread), e.g. until a Kafka delivery report arrives.
 *
 * Threads: libmicrohttpd's listener plus one thread per connection (at most
 * max_conns), and one readiness thread that runs the checks.
 */
#ifndef OMNI_HTTPD_H
#define OMNI_HTTPD_H

#include <jansson.h>
#include <stddef.h>
#include <sys/socket.h>

struct metrics;
struct httpd;
struct MHD_Connection;

/* No heartbeat for 120 s: stuck.  Longer than a store call may take (55 s,
 * docs/budget.md), so one slow call does not read as a hung loop. */
#define HTTPD_LIVENESS_MS_DEFAULT 120000
#define HTTPD_READY_TIMEOUT_MS_DEFAULT 2000
#define HTTPD_MAX_CONNS_DEFAULT 64
#define HTTPD_CONN_TIMEOUT_S_DEFAULT 30
#define HTTPD_ROUTES_MAX 8
#define HTTPD_CHECKS_MAX 16
#define HTTPD_REASON_MAX 256 /* a readiness reason, NUL included */

struct httpd_conf {
    const char *listen; /* "host:port"; port 0 = any free port */
    long liveness_ms;   /* heartbeat age that makes /healthz 503 (0: default) */
    long ready_timeout_ms;   /* bound on one /readyz (0: default) */
    unsigned max_conns;      /* concurrent connections (0: default) */
    unsigned conn_timeout_s; /* idle connection timeout (0: default) */
    const char *serves;      /* what the start-up log line says it serves
                                (NULL: "/healthz /readyz /metrics") */
};

/* One request, as a route handler sees it (everything borrowed for the
 * handler's call). */
struct httpd_req {
    const char *method; /* "POST" */
    const char *url;    /* the path, e.g. "/hooks/<secret>/orders" */
    const char *body;   /* NUL-terminated; "" when none or too big */
    size_t body_len;
    int too_big; /* the body exceeded the route's max_body (it was dropped;
                    the handler may be called before it arrived) */
    struct MHD_Connection *conn; /* for httpd_req_header() */
};

/* The handler's answer; the defaults are 500 and no body. */
struct httpd_resp {
    unsigned status;
    const char *content_type; /* static string (may be NULL) */
    char *body;               /* malloc'd; freed by httpd */
    size_t body_len;
};

/*
 * A route handler: answer @p req in @p resp (httpd_resp_set() /
 * httpd_resp_json()).  Runs on the connection's thread.
 */
typedef void(httpd_route_fn)(void *opaque, const struct httpd_req *req,
                             struct httpd_resp *resp);

/*
 * A readiness check: 0 when ready, -1 with a short reason otherwise
 * ("connection refused", "no assignment").  Runs on the readiness thread,
 * one check at a time; it should finish within the configured bound (a
 * check still running when the bound passes is reported "timed out").
 */
typedef int(httpd_check_fn)(void *opaque, char *reason, size_t reason_size);

/**
 * @brief Parse a listen address "host:port" or "[v6]:port"; host "" or
 *        "*" means every IPv4 interface.  Numeric hosts and names.
 * @returns 0, or -1 with errstr.
 */
int httpd_listen_parse(const char *listen, struct sockaddr_storage *sa,
                       socklen_t *salen, char *errstr, size_t errstr_size);

/**
 * @brief Start serving /healthz, /readyz and /metrics on @p c->listen;
 *        logs "http listening on HOST:PORT (SERVES)" with the chosen port.
 * @param c conf (borrowed for the call).
 * @param m registry served by /metrics (borrowed, must outlive the server;
 *          may be NULL: /metrics answers 404).  When given, the server
 *          counts its answers in omnisync_http_requests_total{route,code}
 *          and reports its checks in omnisync_ready_check{check}, whose
 *          collector reads the server: render @p m only through it.
 * @returns the server, or NULL with errstr (bad address, port in use).
 */
struct httpd *httpd_new(const struct httpd_conf *c, struct metrics *m,
                        char *errstr, size_t errstr_size);

/** @returns the port the server listens on (the chosen one for port 0). */
int httpd_port(const struct httpd *h);

/**
 * @brief The main loop turned: /healthz stays 200 for liveness_ms more.
 *        Until the first call, the start of the server counts as one.
 * @locality any thread; lock-free.
 */
void httpd_heartbeat(struct httpd *h);

/**
 * @brief Add a readiness check named @p name (copied; the key in
 *        /readyz's "failing" object).
 * @param opaque passed to @p fn (borrowed: must outlive the server).
 * @returns 0, or -1 when HTTPD_CHECKS_MAX checks exist or out of memory.
 */
int httpd_check_add(struct httpd *h, const char *name, httpd_check_fn *fn,
                    void *opaque);

/**
 * @brief Add a route: requests whose path starts with @p prefix (copied;
 *        the built-in paths cannot be taken) go to @p fn, with any method.
 *        The first matching route in the order added wins.
 * @param max_body the largest body accepted; a larger one (announced by
 *        Content-Length, or seen while uploading) reaches @p fn with
 *        too_big set, as soon as it is known.
 * @param opaque passed to @p fn (borrowed: must outlive the server).
 * @returns 0, or -1 when HTTPD_ROUTES_MAX routes exist, the prefix does
 *          not start with '/' or is taken, or out of memory.
 */
int httpd_route_add(struct httpd *h, const char *prefix, size_t max_body,
                    httpd_route_fn *fn, void *opaque);

/**
 * @brief A request header's value (case-insensitive name), borrowed for
 *        the handler's call, or NULL.
 */
const char *httpd_req_header(const struct httpd_req *req, const char *name);

/**
 * @brief A query-string argument's value (URL-decoded), borrowed for the
 *        handler's call, or NULL when absent.
 */
const char *httpd_req_query(const struct httpd_req *req, const char *name);

/**
 * @brief Answer @p status with a copy of @p body (@p len bytes).
 * @param content_type static string (may be NULL).
 * @returns 0, or -1 when out of memory (the answer becomes 500).
 */
int httpd_resp_set(struct httpd_resp *r, unsigned status,
                   const char *content_type, const char *body, size_t len);

/**
 * @brief Answer @p status with @p root (owned: released by this call) as
 *        compact JSON and a newline, application/json.
 * @returns 0, or -1 when @p root is NULL or out of memory (500).
 */
int httpd_resp_json(struct httpd_resp *r, unsigned status, json_t *root);

/**
 * @brief Stop accepting, let requests in flight finish, stop the
 *        readiness thread (after the check it may be running).  Idempotent.
 */
void httpd_stop(struct httpd *h);

/** @brief Stop, then free.  NULL-safe. */
void httpd_destroy(struct httpd *h);

/**
 * @brief GET @p url and tell whether it answered 200: what a binary's
 *        `--probe URL` does for a container healthcheck (no curl binary
 *        needed).  Uses libcurl: call from main() before other threads.
 * @param timeout_ms bound on the whole request.
 * @returns 0 on 200, or -1 with errstr (status, or why no answer).
 */
int httpd_probe(const char *url, long timeout_ms, char *errstr,
                size_t errstr_size);

#endif
