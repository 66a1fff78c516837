/*
 * catpub — catalog-publisher: consumes omnisync.catalog.v1 and publishes
 * each product snapshot to the target stores (docs/catalog-publisher.md).
 *
 * Per message: decode the envelope; for each target store (envelope store,
 * or every store when null) ensure the category chain, then create or
 * update the product and its variants through remote_map, skipping
 * payloads whose hash is unchanged.  The offset is committed once every
 * target store took the snapshot, dead-lettered it or had it parked: a
 * store's own transient failure (429/503, 5xx, timeout, no API token
 * within catpub.token.wait.ms) parks the product for that store only
 * (ledger/parked.h), and a retry pass in catpub_poll() publishes parked
 * products again with the store's backoff (docs/isolation.md).  Other
 * retryable failures (Postgres, Redis or Kafka down) repeat the message
 * after a backoff, interruptible by SIGTERM.
 *
 * Store calls run on a pool of store workers (app/lanes.h): a store whose
 * work takes longer than store.slice.ms keeps it in flight on its worker,
 * parked for that store, while the consumer goes on with the others.
 */
#ifndef OMNI_CATPUB_H
#define OMNI_CATPUB_H

#include <stddef.h>

struct cfg;
struct cfg_opt;

struct catpub_cfg {
    char *pg_dsn;
    char *kafka_bootstrap;
    char *redis_addr;
    char *secret_key; /* decrypts the store passwords (secret) */
    char *log_level;
    char *group_id;
    long long backoff_max_ms;   /* transient failures: longest backoff */
    long long token_wait_ms;    /* a store's token: wait this long, then park */
    long long lookup_slack_s;   /* in-flight lookup: look back this much */
    long long drain_ms;         /* shutdown: DLQ flush deadline */
    long long store_workers;    /* store.workers (app/lanes.h) */
    long long slice_ms;         /* store.slice.ms */
    long long store_timeout_ms; /* store.timeout.ms */
    char *http_listen;          /* http.listen (ops endpoint) */
    long long http_liveness_ms;
    long long http_ready_timeout_ms;
};

/* Default ops address (docs/metrics.md "Default ports"). */
#define CATPUB_HTTP_LISTEN "127.0.0.1:9402"

/** @returns the option table (static) for cfg_load(). */
const struct cfg_opt *catpub_cfg_table(void);

struct catpub;
struct ops;

/**
 * @brief Connect to Postgres, Redis and Kafka and subscribe.
 * @param passthru "kafka.*" keys (borrowed until catpub_destroy(): the
 *                 store workers build their producers from it).
 * @param ops      (may be NULL) where the publisher registers its metrics
 *                 and readiness checks; stop it before catpub_destroy().
 * @returns the publisher, or NULL with errstr.
 */
struct catpub *catpub_new(const struct catpub_cfg *c,
                          const struct cfg *passthru, struct ops *ops,
                          char *errstr, size_t errstr_size);

/**
 * @brief Run the retry pass of parked products when it is due, then wait
 *        up to 100 ms for one message and handle it completely (publish,
 *        park, dead-letter or retry until done or stopped).
 * @returns 0, or -1 on a fatal error (the caller stops).
 */
int catpub_poll(struct catpub *cp);

/**
 * @brief Flush the DLQ producer, leave the group.
 * @returns the exit status: 0 clean, 1 when something was left undelivered
 *          or a fatal error occurred.
 */
int catpub_drain(struct catpub *cp, int timeout_ms);

/** @brief Free.  NULL-safe. */
void catpub_destroy(struct catpub *cp);

#endif
