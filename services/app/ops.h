/*
 * ops — the operator surface every service binary runs (issue 11,
 * docs/metrics.md): one metrics registry with the process_* collectors,
 * one lib/httpd server on http.listen answering /healthz, /readyz and
 * /metrics, the readiness checks a service needs (its Postgres, Redis and
 * Kafka, a consumer's assignment), and `--probe` for container
 * healthchecks.
 *
 * Checks never touch a connection the service's main loop owns: Postgres
 * and Redis are asked on short connections of their own (PQping, PING),
 * Kafka through librdkafka's thread-safe calls on the service's handle
 * (metadata, assignment).  The handles a check reads must outlive the
 * server: ops_stop() before the service is drained and destroyed.
 *
 *   ops = ops_new(&(struct ops_conf){c.http_listen, ...}, err, sizeof(err));
 *   svc = svc_new(&c, cfg, ops, ...);     registers its families, checks
 *   while (!sig_stop_requested()) { ops_heartbeat(ops); svc_poll(svc); }
 *   ops_stop(ops); svc_drain(svc); svc_destroy(svc); ops_destroy(ops);
 *
 * @locality ops_new/check_add/stop/destroy on the main thread; the checks
 *           run on the server's readiness thread.
 */
#ifndef OMNI_OPS_H
#define OMNI_OPS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

struct budget;
struct cfg_opt;
struct consume_metrics;
struct dlq;
struct httpd;
struct kafka_consumer;
struct metrics;
struct metrics_family;
struct ops;

#define OPS_CHECKS_MAX 8
#define OPS_PROBE_TIMEOUT_MS 2000

/* The service's http.* settings (CFG_ROWS_HTTP in lib/cfg.h). */
struct ops_conf {
    const char *listen;         /* http.listen */
    long long liveness_ms;      /* http.liveness.ms */
    long long ready_timeout_ms; /* http.ready.timeout.ms */
};

/**
 * @brief The registry (with process_*) and the server on @p c->listen.
 * @returns the surface, or NULL with errstr (bad address, port in use).
 */
struct ops *ops_new(const struct ops_conf *c, char *errstr, size_t errstr_size);

/** @returns the registry the service registers its families in. */
struct metrics *ops_metrics(struct ops *o);

/** @returns the server (for its heartbeat, e.g. in lib/consume). */
struct httpd *ops_httpd(struct ops *o);

/** @brief The main loop turned (/healthz stays 200).  NULL-safe. */
void ops_heartbeat(struct ops *o);

/**
 * @brief Readiness check "postgres": the ledger at @p dsn (copied; NULL
 *        or "": libpq's PG* variables) accepts connections (PQping).
 * @returns 0 (also when a check of that name exists already), or -1.
 */
int ops_check_postgres(struct ops *o, const char *dsn);

/** @brief Check "redis": the Redis at @p addr (copied) answers PING. */
int ops_check_redis(struct ops *o, const char *addr);

/**
 * @brief Check "kafka": client @p rk (borrowed: must outlive the server)
 *        has no fatal error and a broker answers.
 */
int ops_check_kafka(struct ops *o, rd_kafka_t *rk);

/**
 * @brief Check "assignment": consumer @p kc (borrowed) has partitions
 *        assigned ("no assignment" otherwise).
 */
int ops_check_assignment(struct ops *o, struct kafka_consumer *kc);

/* What a consuming service hands ops_wire_consumer() (each may be NULL). */
struct ops_consumer {
    const char *pg_dsn;         /* check postgres */
    const char *redis_addr;     /* check redis */
    const char *group;          /* the lag families' group label */
    struct kafka_consumer *kc;  /* checks kafka, assignment; lag metrics */
    struct dlq *dlq;            /* dead-lettered counter */
    struct budget *b;           /* budget and store-call metrics */
    struct consume_metrics *cm; /* filled: consumed and failed counters */
};

/**
 * @brief Wire a consuming service: the readiness checks of what it uses
 *        and its Kafka, consume, DLQ and budget metric families.
 * @returns 0, or -1 when something could not be registered (logged; the
 *          service runs without it).
 */
int ops_wire_consumer(struct ops *o, const struct ops_consumer *w);

/**
 * @brief omnisync_ledger_to_store_seconds{store,kind}: the ledger event's
 *        creation to the store's 2xx for it (METRICS_BUCKETS_LATENCY),
 *        registered on first use.
 * @returns the family, or NULL (o NULL, or not registered: logged).
 */
struct metrics_family *ops_latency_family(struct ops *o);

/**
 * @brief Observe one ledger-to-store latency: from @p event_ts (the
 *        envelope's RFC 3339 ts) to now, for @p store and @p kind
 *        ("stock", "catalog", "image").  A ts that does not parse is not
 *        counted.  NULL-safe on @p f.
 */
void ops_latency_observe(struct metrics_family *f, const char *store,
                         const char *kind, const char *event_ts);

/**
 * @brief Stop serving (requests in flight and a running check finish).
 *        Idempotent; NULL-safe.
 */
void ops_stop(struct ops *o);

/** @brief Stop, then free the server and the registry.  NULL-safe. */
void ops_destroy(struct ops *o);

/**
 * @brief The healthcheck URL of listen address @p listen:
 *        http://HOST:PORT/healthz, where a wildcard host ("", "*",
 *        "0.0.0.0") is 127.0.0.1 and "::" is ::1.
 * @returns 0, or -1 with errstr (not host:port, or port 0: the chosen
 *          port is not known outside the process).
 */
int ops_probe_url(const char *listen, char *url, size_t url_size, char *errstr,
                  size_t errstr_size);

/**
 * @brief `<svc> --probe [URL]`: when argv holds --probe, GET URL, or
 *        without one the service's own /healthz: its configuration is
 *        loaded the usual way (default, -c FILE, environment, -o) into
 *        @p target from @p tbl and http.listen read at @p listen_off
 *        (offsetof the char * field).  Prints why on failure.
 * @returns -1 when argv has no --probe (the service starts), else the exit
 *          status: 0 when the answer was 200, 1 otherwise (2 and exit on
 *          a configuration error, as cfg_load()).
 */
int ops_probe_main(int argc, char **argv, const struct cfg_opt *tbl,
                   void *target, const char *const *passthru, const char *prog,
                   size_t listen_off);

#endif
