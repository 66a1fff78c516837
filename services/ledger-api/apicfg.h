/*
 * apicfg — configuration of ledger-api (docs/ledger-api.md).
 */
#ifndef OMNI_APICFG_H
#define OMNI_APICFG_H

struct cfg_opt;

/* Typed configuration, filled by cfg_load() from api_cfg_table(). */
struct api_cfg {
    char *pg_dsn;                    /* pg.dsn (secret) */
    char *api_listen;                /* api.listen: the API's host:port */
    long long api_max_body;          /* api.max_body bytes (larger: 413) */
    long long api_max_items;         /* api.max_items in one batch */
    long long api_pg_pool;           /* api.pg.pool connections */
    long long api_max_conns;         /* api.max_conns */
    char *kafka_bootstrap;           /* kafka.bootstrap ("": no intake) */
    char *group_id;                  /* group.id of the intake consumer */
    long long backoff_max_ms;        /* backoff.max.ms */
    long long drain_ms;              /* drain.ms */
    char *log_level;                 /* log.level */
    char *http_listen;               /* http.listen: the ops endpoint */
    long long http_liveness_ms;      /* http.liveness.ms */
    long long http_ready_timeout_ms; /* http.ready.timeout.ms */
};

/* Default addresses (docs/metrics.md "Default ports"). */
#define API_HTTP_LISTEN "127.0.0.1:9406"

/** @returns the option table (static, ends with {NULL}). */
const struct cfg_opt *api_cfg_table(void);

#endif
