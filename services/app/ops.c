#include "app/ops.h"

#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/httpd.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "store/budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One readiness check and what it reads. */
struct ops_check {
    struct ops *o;
    char name[32];
    char *addr;                /* postgres: conninfo; redis: host:port */
    rd_kafka_t *rk;            /* kafka (borrowed) */
    struct kafka_consumer *kc; /* assignment (borrowed) */
};

struct ops {
    struct metrics *m;
    struct httpd *h;
    long ready_timeout_ms;
    struct ops_check checks[OPS_CHECKS_MAX];
    size_t nchecks;
    struct metrics_family *latency; /* registered on first use */
};

struct ops *ops_new(const struct ops_conf *c, char *errstr, size_t errstr_size)
{
    struct ops *o = calloc(1, sizeof(*o));
    struct httpd_conf hc;
    char err[256];

    if (!o) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    o->ready_timeout_ms = c->ready_timeout_ms > 0
                              ? (long)c->ready_timeout_ms
                              : HTTPD_READY_TIMEOUT_MS_DEFAULT;
    o->m = metrics_new(0, errstr, errstr_size);
    if (!o->m)
        goto fail;
    if (metrics_process_register(o->m) != 0)
        log_warn("metrics: the process_* collectors are incomplete");
    memset(&hc, 0, sizeof(hc));
    hc.listen = c->listen;
    hc.liveness_ms = (long)c->liveness_ms;
    hc.ready_timeout_ms = o->ready_timeout_ms;
    o->h = httpd_new(&hc, o->m, err, sizeof(err));
    if (!o->h) {
        snprintf(errstr, errstr_size, "http.listen: %s", err);
        goto fail;
    }
    return o;
fail:
    ops_destroy(o);
    return NULL;
}

struct metrics *ops_metrics(struct ops *o)
{
    return o ? o->m : NULL;
}

struct httpd *ops_httpd(struct ops *o)
{
    return o ? o->h : NULL;
}

void ops_heartbeat(struct ops *o)
{
    if (o)
        httpd_heartbeat(o->h);
}

/* ---- checks -------------------------------------------------------------- */

static int ops_pg_check(void *opaque, char *reason, size_t reason_size)
{
    struct ops_check *k = opaque;

    return db_ping(k->addr, (int)(k->o->ready_timeout_ms / 1000), reason,
                   reason_size);
}

static int ops_redis_check(void *opaque, char *reason, size_t reason_size)
{
    struct ops_check *k = opaque;

    return budget_redis_ping(k->addr, k->o->ready_timeout_ms / 2, reason,
                             reason_size);
}

static int ops_kafka_check(void *opaque, char *reason, size_t reason_size)
{
    struct ops_check *k = opaque;

    return kafka_check(k->rk, (int)(k->o->ready_timeout_ms / 2), reason,
                       reason_size);
}

static int ops_assignment_check(void *opaque, char *reason, size_t reason_size)
{
    struct ops_check *k = opaque;
    int n = kafka_consumer_assigned(k->kc);

    if (n > 0)
        return 0;
    snprintf(reason, reason_size, "%s",
             n < 0 ? "assignment unknown" : "no assignment");
    return -1;
}

/* A new check slot named @p name; NULL when one exists (*dup set) or no
 * room is left. */
static struct ops_check *ops_check_slot(struct ops *o, const char *name,
                                        int *dup)
{
    size_t i;

    *dup = 0;
    for (i = 0; i < o->nchecks; i++)
        if (strcmp(o->checks[i].name, name) == 0) {
            *dup = 1;
            return NULL;
        }
    if (o->nchecks >= OPS_CHECKS_MAX)
        return NULL;
    return &o->checks[o->nchecks];
}

/* Register check @p name: @p fn reads @p addr (copied), @p rk or @p kc. */
static int ops_check_add(struct ops *o, const char *name, httpd_check_fn *fn,
                         const char *addr, rd_kafka_t *rk,
                         struct kafka_consumer *kc)
{
    struct ops_check *k;
    int dup;

    if (!o)
        return -1;
    k = ops_check_slot(o, name, &dup);
    if (!k)
        return dup ? 0 : -1;
    memset(k, 0, sizeof(*k));
    k->o = o;
    k->rk = rk;
    k->kc = kc;
    snprintf(k->name, sizeof(k->name), "%s", name);
    if (addr && !(k->addr = strdup(addr)))
        return -1;
    if (httpd_check_add(o->h, name, fn, k) != 0) {
        free(k->addr);
        k->addr = NULL;
        return -1;
    }
    o->nchecks++;
    return 0;
}

int ops_check_postgres(struct ops *o, const char *dsn)
{
    return ops_check_add(o, "postgres", ops_pg_check, dsn ? dsn : "", NULL,
                         NULL);
}

int ops_check_redis(struct ops *o, const char *addr)
{
    return ops_check_add(o, "redis", ops_redis_check, addr ? addr : "", NULL,
                         NULL);
}

int ops_check_kafka(struct ops *o, rd_kafka_t *rk)
{
    return rk ? ops_check_add(o, "kafka", ops_kafka_check, NULL, rk, NULL) : -1;
}

int ops_check_assignment(struct ops *o, struct kafka_consumer *kc)
{
    return kc ? ops_check_add(o, "assignment", ops_assignment_check, NULL, NULL,
                              kc)
              : -1;
}

/* ---- wiring -------------------------------------------------------------- */

int ops_wire_consumer(struct ops *o, const struct ops_consumer *w)
{
    struct metrics *m = ops_metrics(o);
    int rc = 0;

    if (!o)
        return -1;
    if (w->pg_dsn && ops_check_postgres(o, w->pg_dsn) < 0)
        rc = -1;
    if (w->redis_addr && ops_check_redis(o, w->redis_addr) < 0)
        rc = -1;
    if (w->kc && (ops_check_kafka(o, kafka_consumer_handle(w->kc)) < 0 ||
                  ops_check_assignment(o, w->kc) < 0 ||
                  kafka_consumer_metrics_register(w->kc, m, w->group) < 0))
        rc = -1;
    if (w->cm && consume_metrics_init(w->cm, m) < 0)
        rc = -1;
    if (w->dlq && dlq_metrics_register(w->dlq, m) < 0)
        rc = -1;
    if (w->b && budget_metrics_register(w->b, m) < 0)
        rc = -1;
    if (rc < 0)
        log_warn("ops: some checks or metrics are missing");
    return rc;
}

struct metrics_family *ops_latency_family(struct ops *o)
{
    if (!o)
        return NULL;
    if (!o->latency)
        o->latency = metrics_histogram_new(
            o->m, "omnisync_ledger_to_store_seconds",
            "From the event's creation in the ledger (the envelope's ts) to "
            "the store's acceptance of it.",
            (const char *const[]){"store", "kind", NULL},
            (const double[]){METRICS_BUCKETS_LATENCY},
            sizeof((const double[]){METRICS_BUCKETS_LATENCY}) / sizeof(double));
    return o->latency;
}

void ops_latency_observe(struct metrics_family *f, const char *store,
                         const char *kind, const char *event_ts)
{
    int64_t us;
    double s;

    if (!f || !event_ts || clock_rfc3339_parse(event_ts, &us) < 0)
        return;
    s = (double)(clock_wall_us() - us) / 1e6;
    metrics_observe(f, (const char *const[]){store, kind}, s > 0 ? s : 0);
}

/* ---- lifecycle ----------------------------------------------------------- */

void ops_stop(struct ops *o)
{
    if (o)
        httpd_stop(o->h);
}

void ops_destroy(struct ops *o)
{
    size_t i;

    if (!o)
        return;
    httpd_destroy(o->h);
    for (i = 0; i < o->nchecks; i++)
        free(o->checks[i].addr);
    metrics_destroy(o->m);
    free(o);
}

/* ---- --probe ------------------------------------------------------------- */

int ops_probe_url(const char *listen, char *url, size_t url_size, char *errstr,
                  size_t errstr_size)
{
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    const char *host = listen;
    size_t hlen;
    long long port;
    int v6, n;

    if (!colon || cfg_parse_ll(colon + 1, &port) < 0 || port < 0 ||
        port > 65535)
        goto bad;
    if (port == 0) {
        snprintf(errstr, errstr_size,
                 "http.listen '%s' has port 0 (any free port): give --probe "
                 "the URL",
                 listen);
        return -1;
    }
    hlen = (size_t)(colon - listen);
    v6 = listen[0] == '[';
    if (v6) {
        if (hlen < 2 || listen[hlen - 1] != ']')
            goto bad;
        host++;
        hlen -= 2;
    }
    if (hlen == 0 || (hlen == 1 && host[0] == '*') ||
        (hlen == 7 && strncmp(host, "0.0.0.0", 7) == 0)) {
        host = "127.0.0.1";
        hlen = strlen(host);
    } else if (v6 && hlen == 2 && strncmp(host, "::", 2) == 0) {
        host = "::1";
        hlen = 3;
    }
    n = snprintf(url, url_size, "http://%s%.*s%s:%lld/healthz", v6 ? "[" : "",
                 (int)hlen, host, v6 ? "]" : "", port);
    if (n < 0 || (size_t)n >= url_size)
        goto bad;
    return 0;
bad:
    snprintf(errstr, errstr_size, "http.listen '%s' is not host:port",
             listen ? listen : "");
    return -1;
}

/* argv without "--probe" and its URL (the arguments cfg_load() reads);
 * *url is the URL or NULL.  @returns the new argc, or -1 without --probe. */
static int ops_probe_args(int argc, char **argv, char **out, const char **url)
{
    int i, n = 0, found = 0;

    *url = NULL;
    for (i = 0; i < argc; i++) {
        if (i > 0 && !found && strcmp(argv[i], "--probe") == 0) {
            found = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-')
                *url = argv[++i];
            continue;
        }
        out[n++] = argv[i];
    }
    out[n] = NULL;
    return found ? n : -1;
}

int ops_probe_main(int argc, char **argv, const struct cfg_opt *tbl,
                   void *target, const char *const *passthru, const char *prog,
                   size_t listen_off)
{
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    char url[512], err[600];
    const char *given;
    struct cfg *cfg = NULL;
    int n, rc = 1;

    if (!args)
        return -1;
    n = ops_probe_args(argc, argv, args, &given);
    if (n < 0) {
        free(args);
        return -1;
    }
    if (given) {
        snprintf(url, sizeof(url), "%s", given);
    } else {
        cfg = cfg_load(tbl, target, passthru, prog, "", n, args);
        if (ops_probe_url(*(char **)(void *)((char *)target + listen_off), url,
                          sizeof(url), err, sizeof(err)) < 0)
            goto out;
    }
    if (httpd_probe(url, OPS_PROBE_TIMEOUT_MS, err, sizeof(err)) == 0)
        rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "%s: probe: %s\n", prog, err);
    cfg_destroy(cfg);
    free(args);
    return rc;
}
