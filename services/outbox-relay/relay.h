/*
 * relay — moves the ledger's outbox rows to Kafka (docs/outbox-relay.md).
 *
 * One instance is active at a time: it holds a Postgres session-level
 * advisory lock; the others stand by and retry.  The active one selects
 * unsent rows in id order every round (never "sent up to id N": ids are
 * not commit order), produces them with an idempotent producer, and marks
 * exactly the rows whose delivery report succeeded.
 */
#ifndef OMNI_RELAY_H
#define OMNI_RELAY_H

#include <stddef.h>

struct cfg;
struct cfg_opt;

/* Typed configuration, filled by cfg_load() from relay_cfg_table(). */
struct relay_cfg {
    char *pg_dsn;              /* pg.dsn (secret) */
    char *kafka_bootstrap;     /* kafka.bootstrap */
    long long batch;           /* relay.batch: rows per round */
    long long poll_ms;         /* relay.poll.ms: fallback polling interval */
    long long lock_key;        /* relay.lock.key: advisory lock key */
    long long retention_hours; /* relay.retention.hours: keep sent rows */
    long long standby_ms;      /* relay.standby.ms: lock retry interval */
    long long stats_ms;        /* stats.ms: stats line interval */
    long long drain_ms;        /* drain.ms: SIGTERM flush deadline */
    char *log_level;           /* log.level */
};

struct relay;

/** @returns the option table of the relay (static, ends with {NULL}). */
const struct cfg_opt *relay_cfg_table(void);

/**
 * @brief Create the relay: the Kafka producer now, the Postgres session
 *        lazily (the first relay_poll() connects, with backoff).
 * @param rc       configuration (borrowed; must outlive the relay).
 * @param passthru config handle holding "kafka.*" passthrough keys
 *                 (borrowed for the call only; may be NULL).
 * @returns the relay, or NULL with errstr (e.g. a bad kafka.* key).
 */
struct relay *relay_new(const struct relay_cfg *rc, const struct cfg *passthru,
                        char *errstr, size_t errstr_size);

/**
 * @brief Do one step: connect, try the lock (standby), or run one round
 *        and wait for the next (LISTEN/NOTIFY or relay.poll.ms).  Blocks
 *        at most about max(relay.poll.ms, relay.standby.ms) and returns
 *        within 100 ms of a stop request.
 * @returns 0 to go on, -1 on a fatal error (the producer's idempotence
 *          broke): the caller drains and exits 1.
 */
int relay_poll(struct relay *r);

/**
 * @brief Shut down: publish nothing new, wait up to @p timeout_ms for the
 *        delivery reports of what is in flight, mark the delivered rows
 *        sent, release the advisory lock, log a last stats line.
 * @returns the exit status: 0 when nothing was left undelivered and no
 *          fatal error occurred, 1 otherwise.
 */
int relay_drain(struct relay *r, int timeout_ms);

/** @brief Free everything (closes the Postgres session).  NULL-safe. */
void relay_destroy(struct relay *r);

#endif
