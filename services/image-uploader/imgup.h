/*
 * imgup — image-uploader: consumes omnisync.images.v1 (images.job, see
 * image_job.h) and uploads each photo to its store (docs/image-uploader.md).
 *
 * Per job: skip it when remote_map already holds the photo with the same
 * SHA-256; read the photo's bytes from the ledger by that SHA-256 (blob.h:
 * no file, no shared disk), check their magic bytes, size and hash;
 * upload it as a base64 attachment named after the content hash with its
 * position (store_call, BUDGET_IMAGES); record the remote image id with
 * the SHA-256.  An in-flight marker is committed before the upload, and a
 * job that finds one lists the product's images and looks for the
 * filename first, so a crash between upload and record never uploads the
 * same content twice.  A bad photo or a 4xx answer is dead-lettered
 * (dlq.h); 429/5xx/timeouts are retried under the budget.
 */
#ifndef OMNI_IMGUP_H
#define OMNI_IMGUP_H

#include <stddef.h>

struct cfg;
struct cfg_opt;

struct imgup_cfg {
    char *pg_dsn;
    char *kafka_bootstrap;
    char *redis_addr;
    char *secret_key; /* decrypts the store passwords (secret) */
    char *log_level;
    char *group_id;
    long long max_bytes;        /* images.max_bytes: larger files: DLQ */
    long long backoff_max_ms;   /* transient failures: longest backoff */
    long long token_wait_ms;    /* a store's token: wait this long, then park */
    long long drain_ms;         /* shutdown: wait this long for uploads */
    long long store_workers;    /* store.workers (app/lanes.h) */
    long long slice_ms;         /* store.slice.ms */
    long long store_timeout_ms; /* store.timeout.ms */
    char *http_listen;          /* http.listen (ops endpoint) */
    long long http_liveness_ms;
    long long http_ready_timeout_ms;
};

/* Default ops address (docs/metrics.md "Default ports"). */
#define IMGUP_HTTP_LISTEN "127.0.0.1:9404"

/** @returns the option table (static) for cfg_load(). */
const struct cfg_opt *imgup_cfg_table(void);

struct imgup;
struct ops;

/**
 * @brief Connect to Postgres, Redis and Kafka and subscribe.
 * @param passthru "kafka.*" keys (borrowed until imgup_destroy(): the store
 *                 workers build their DLQ producers from it).
 * @param ops      (may be NULL) where the uploader registers its metrics
 *                 and readiness checks; stop it before imgup_destroy().
 * @returns the uploader, or NULL with errstr.
 */
struct imgup *imgup_new(const struct imgup_cfg *c, const struct cfg *passthru,
                        struct ops *ops, char *errstr, size_t errstr_size);

/**
 * @brief Wait up to 100 ms for one job and handle it completely (upload,
 *        skip, dead-letter, or retry until done or stopped).
 * @returns 0, or -1 on a fatal error (the caller stops).
 */
int imgup_poll(struct imgup *iu);

/**
 * @brief Leave the group (dead letters were acknowledged before their
 *        offsets were committed, so nothing is left to flush).
 * @returns the exit status: 0 clean, 1 after a fatal error.
 */
int imgup_drain(struct imgup *iu);

/** @brief Free.  NULL-safe. */
void imgup_destroy(struct imgup *iu);

#endif
