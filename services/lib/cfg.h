/*
 * cfg — table-driven configuration for every omnisync binary.
 *
 * Precedence: default < file (-c PATH) < environment < -o key=value.
 * An empty environment variable counts as unset.  Keys with a prefix
 * listed in passthru (e.g. "kafka.") are kept verbatim for the library
 * they belong to.  Validation happens once; errors name key, source and
 * reason and the process exits 2.
 *
 * One name per concept: a key's environment variable is derived from the
 * key by one rule (cfg_env_name()), and the settings several binaries
 * share are defined once, as the CFG_ROW_* rows below (and the domain's
 * STORESET_CFG_REFRESH_MS in app/storeset.h), which each binary's table
 * lists instead of a copy.  docs/config.md is generated
 * from the tables (make config-doc).
 */
#ifndef OMNI_CFG_H
#define OMNI_CFG_H

#include "lib/secret.h"

#include <stddef.h>
#include <stdio.h>

enum cfg_type {
    CFG_STR,  /* char * (owned by the cfg handle) */
    CFG_INT,  /* long long, checked against min/max */
    CFG_BOOL, /* int 0/1: true/false/yes/no/on/off/1/0 */
};

#define CFG_REQUIRED 0x1
#define CFG_SECRET 0x2 /* masked in --dump-config, never logged */

#define CFG_ENV_MAX 64 /* longest environment variable name, with NUL */

struct cfg_opt {
    const char *key; /* "pg.dsn"; its env var is cfg_env_name(key) */
    enum cfg_type type;
    const char *def; /* default as text (may be NULL) */
    long long min, max;
    int flags;
    size_t off; /* offsetof(struct svc_cfg, field) */
    const char *help;
    /* A CFG_STR value's own check at boot (may be NULL): 0, or -1 with a
     * reason that must not quote the value (it may be a secret). */
    int (*check)(const char *val, char *errstr, size_t errstr_size);
};

/*
 * The shared rows: one definition per setting that several binaries have.
 * T is the binary's config struct and F its field; the other arguments
 * are what may differ between binaries (whether it is required, a
 * default).  Their descriptions, types and ranges are the same
 * everywhere.
 */
#define CFG_ROW_PG_DSN(T, F, FLAGS)                                            \
    {                                                                          \
        "pg.dsn", CFG_STR, NULL, 0, 0, (FLAGS) | CFG_SECRET, offsetof(T, F),   \
            "libpq conninfo of the ledger (not required and unset: "           \
            "libpq's PG* variables)"                                           \
    }
#define CFG_ROW_KAFKA_BOOTSTRAP(T, F, FLAGS)                                   \
    {                                                                          \
        "kafka.bootstrap", CFG_STR, NULL, 0, 0, FLAGS, offsetof(T, F),         \
            "Kafka bootstrap servers"                                          \
    }
#define CFG_ROW_REDIS_ADDR(T, F, DEF, FLAGS)                                   \
    {                                                                          \
        "redis.addr", CFG_STR, DEF, 0, 0, (FLAGS), offsetof(T, F),             \
            "host:port of the Redis holding the stores' API budgets"           \
    }
#define CFG_ROW_SECRET_KEY(T, F)                                               \
    {                                                                          \
        "secret.key", CFG_STR, NULL, 0, 0, CFG_SECRET, offsetof(T, F),         \
            "64 hex characters: the 32-byte key that encrypts store "          \
            "passwords (a weak key is refused)",                               \
            secret_key_check                                                   \
    }
#define CFG_ROW_LOG_LEVEL(T, F, DEF)                                           \
    {                                                                          \
        "log.level", CFG_STR, DEF, 0, 0, 0, offsetof(T, F),                    \
            "error|warn|info|debug"                                            \
    }
#define CFG_ROW_GROUP_ID(T, F, DEF)                                            \
    {                                                                          \
        "group.id", CFG_STR, DEF, 0, 0, 0, offsetof(T, F),                     \
            "Kafka consumer group"                                             \
    }
#define CFG_ROW_DRAIN_MS(T, F)                                                 \
    {                                                                          \
        "drain.ms", CFG_INT, "10000", 0, 600000, 0, offsetof(T, F),            \
            "on SIGTERM, how long to finish in-flight work (deliveries, "      \
            "pending flushes) before exiting"                                  \
    }
#define CFG_ROW_BACKOFF_MAX_MS(T, F, DEF)                                      \
    {                                                                          \
        "backoff.max.ms", CFG_INT, DEF, 100, 600000, 0, offsetof(T, F),        \
            "longest backoff between retries of a transient failure"           \
    }
#define CFG_ROW_STATS_MS(T, F)                                                 \
    {                                                                          \
        "stats.ms", CFG_INT, "30000", 100, 86400000, 0, offsetof(T, F),        \
            "interval of the stats line"                                       \
    }

/*
 * The operator endpoint every service serves (lib/httpd, docs/metrics.md):
 * DEF is the service's own default address (its documented port).
 */
#define CFG_ROW_HTTP_LISTEN(T, F, DEF)                                         \
    {                                                                          \
        "http.listen", CFG_STR, DEF, 0, 0, 0, offsetof(T, F),                  \
            "host:port of /healthz, /readyz and /metrics (port 0: any free "   \
            "port, logged)"                                                    \
    }
#define CFG_ROW_HTTP_LIVENESS_MS(T, F)                                         \
    {                                                                          \
        "http.liveness.ms", CFG_INT, "120000", 1000, 86400000, 0,              \
            offsetof(T, F),                                                    \
            "/healthz answers 503 once the main loop has not turned for this " \
            "long"                                                             \
    }
#define CFG_ROW_HTTP_READY_TIMEOUT_MS(T, F)                                    \
    {                                                                          \
        "http.ready.timeout.ms", CFG_INT, "2000", 100, 60000, 0,               \
            offsetof(T, F), "longest time one /readyz waits for its checks"    \
    }
/* The three rows at once: the service's config struct names its fields
 * http_listen, http_liveness_ms and http_ready_timeout_ms. */
#define CFG_ROWS_HTTP(T, DEF)                                                  \
    CFG_ROW_HTTP_LISTEN(T, http_listen, DEF),                                  \
        CFG_ROW_HTTP_LIVENESS_MS(T, http_liveness_ms),                         \
        CFG_ROW_HTTP_READY_TIMEOUT_MS(T, http_ready_timeout_ms)

/* Every service's passthrough: "kafka.*" keys go to librdkafka. */
extern const char *const cfg_passthru_kafka[];

struct cfg;

/**
 * @brief The environment variable of @p key: "OMNISYNC_" and the key
 *        upper-cased with '.' as '_' ("drain.ms" -> OMNISYNC_DRAIN_MS),
 *        except the established connection variables: pg.dsn ->
 *        OMNISYNC_PG, kafka.bootstrap -> OMNISYNC_KAFKA, redis.addr ->
 *        OMNISYNC_REDIS, secret.key -> OMNISYNC_SECRET_KEY.
 * @returns 0, or -1 when it does not fit in @p buf (then "").
 */
int cfg_env_name(const char *key, char *buf, size_t buf_size);

/**
 * @brief Build the configuration of a service.
 *
 * Parses argv for: -c PATH, -o key=value, --dump-config, --log-level L,
 * -h/--help, --version.  Positional arguments are not accepted.  On
 * --help, --version or --dump-config prints and exits 0; on any error prints
 * "<prog>: config: <key> (<source>): <reason>" and exits 2.
 *
 * @param tbl      option table ending with a {NULL} row.
 * @param target   struct receiving the typed values (fields at tbl[].off).
 * @param passthru NULL-terminated list of key prefixes kept verbatim
 *                 (may be NULL), e.g. cfg_passthru_kafka.
 * @param usage    text printed by --help before the option list.
 * @returns the handle owning the strings stored in @p target.
 */
struct cfg *cfg_load(const struct cfg_opt *tbl, void *target,
                     const char *const *passthru, const char *prog,
                     const char *usage, int argc, char **argv);

/**
 * @brief cfg_load() for a program whose own words follow the options, as
 *        in "omnisync [-c PATH] [-o KEY=VALUE]... COMMAND ARGS...".
 *
 * Reads -c, -o, --dump-config, --log-level and --version up to the first
 * argument that is none of them (-h/--help included: the program answers those
 * itself); errors and --dump-config behave as in cfg_load().
 *
 * @param argi receives the index of that first argument (argc if none).
 * @returns the handle owning the strings stored in @p target.
 */
struct cfg *cfg_load_head(const struct cfg_opt *tbl, void *target,
                          const char *prog, int argc, char **argv, int *argi);

/** @brief Print the lines of --help that describe cfg's options. */
void cfg_options_print(FILE *fp);

/**
 * @brief Print one entry per row of @p tbl: key, environment variable,
 *        default or "(required)", then the description (--help's list).
 */
void cfg_keys_print(FILE *fp, const struct cfg_opt *tbl);

/**
 * @brief Call @p cb for every passthrough key starting with @p prefix, in
 *        the order they were set, with the prefix stripped.
 * @returns 0, or the first non-zero value returned by @p cb.
 */
int cfg_passthru_foreach(const struct cfg *c, const char *prefix,
                         int (*cb)(const char *key, const char *val,
                                   void *opaque),
                         void *opaque);

/** @brief Free the handle and every string it stored.  NULL-safe. */
void cfg_destroy(struct cfg *c);

/**
 * @brief Parse a decimal integer strictly (whole string, no overflow).
 * @returns 0 on success, -1 otherwise.
 */
int cfg_parse_ll(const char *s, long long *out);

/** @brief Parse a boolean word; returns 0/1, or -1 if not a boolean. */
int cfg_parse_bool(const char *s);

/**
 * @brief Whether a pass-through library property ("kafka.<property>") may
 *        be printed in clear by --dump-config: only names on an allow-list
 *        (unit-suffixed tuning knobs, addresses, ids, paths); every other
 *        one, and any containing "password" or "secret", prints masked.
 */
int cfg_printable(const char *key);

#endif
