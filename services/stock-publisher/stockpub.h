/*
 * stockpub — stock-publisher: pushes what each store may sell, and its
 * price, to the store in batches (docs/stock-publisher.md).
 *
 * Consumes omnisync.stock.v1 (group omnisync-stock-publisher), keeps the
 * latest value per store:variant (pendmap.h), and per store flushes a
 * round (every pending variant, stockpub.batch.max a call) when the
 * budget-aware policy (flushpol.h) says it is due.  Before the flush checks
 * every message already available is drained from the consumer (bounded), so a
 * backlog coalesces fully.  Offsets are committed only up to what the store
 * accepted (or what was dead-lettered or skipped); a kill -9 replays the rest.
 *
 * @locality one thread: stockpub_poll() and stockpub_drain() run on the
 *           thread that made the publisher.
 */
#ifndef OMNI_STOCKPUB_H
#define OMNI_STOCKPUB_H

#include "lathist.h"
#include "pendmap.h"

#include "lib/outcome.h"
#include "store/platform.h"

#include <stddef.h>
#include <stdint.h>

struct cfg;
struct cfg_opt;

/* Settings (cfg.h table: stockpub_cfg_table()). */
struct stockpub_cfg {
    char *pg_dsn;
    char *kafka_bootstrap;
    char *redis_addr;
    char *secret_key; /* decrypts the store passwords (secret) */
    char *group_id;
    char *log_level;
    long long flush_ms;         /* a store's stream quiet this long: flush */
    long long hold_max_ms;      /* oldest pending change older: flush */
    long long urgent_at;        /* available <= this: push at once */
    long long urgent_ms;        /* urgent rounds: at most one per this */
    long long batch_max;        /* variants per call (at most the platform's
                                   batch), and the size trigger */
    long long stats_ms;         /* stats line interval */
    long long drain_ms;         /* SIGTERM: flush deadline */
    long long refresh_ms;       /* storeset refresh interval */
    long long drain_max_msgs;   /* per round: messages drained before flushes */
    long long drain_max_ms;     /* per round: time spent draining */
    long long token_wait_ms;    /* a store's token: wait this long, then back
                                   off that store (docs/isolation.md) */
    long long pace_pct;         /* share of a window's stock tokens left that
                                   the flush pacing spends (flushpol.h) */
    long long store_workers;    /* store.workers (app/lanes.h) */
    long long slice_ms;         /* store.slice.ms */
    long long store_timeout_ms; /* store.timeout.ms */
    char *http_listen;          /* http.listen (ops endpoint) */
    long long http_liveness_ms;
    long long http_ready_timeout_ms;
};

/* Default ops address (docs/metrics.md "Default ports"). */
#define STOCKPUB_HTTP_LISTEN "127.0.0.1:9403"

/* Counters since start (stockpub_stats_get()). */
struct stockpub_stats {
    uint64_t consumed;      /* messages read */
    uint64_t coalesced;     /* events that replaced a pending value */
    uint64_t invalid;       /* events dead-lettered as invalid */
    uint64_t calls;         /* variants_group_update calls made */
    uint64_t calls_ok;      /* ... answered 2xx */
    uint64_t calls_4xx;     /* ... rejected as a batch (then split) */
    uint64_t calls_retry;   /* ... 429/503/5xx/timeout/budget: kept pending */
    uint64_t pushed;        /* variants accepted by a store */
    uint64_t rejected;      /* variants the store rejected (dead-lettered) */
    uint64_t unmapped;      /* variants skipped: no remote id yet */
    uint64_t unknown_store; /* events of a store the ledger lacks */
    uint64_t dlq;           /* DLQ records written */
    uint64_t commits;       /* offset commits */
    uint64_t rounds;        /* flush rounds (every pending variant of a
                               store) */
    uint64_t held_ms_max;   /* oldest pending change seen at a check */
    uint64_t read_us;       /* time handling messages (not waiting) */
    uint64_t flush_us;      /* time in flush checks, rounds and commits */
    size_t pending;         /* variants pending now */
};

/*
 * Send @p n items as one call (a store's stock_push, platform.h):
 * OUTCOME_OK with every out[i] ACCEPTED or REJECTED (with a reason);
 * OUTCOME_REJECTED when the store refused the batch as a whole for its
 * content (the store's reason in out[0].reason); any other outcome leaves
 * the items pending.
 */
typedef enum outcome(stockpub_send_fn)(void *opaque, struct pend_item **items,
                                       size_t n, struct store_item_result *out);

/**
 * @brief Send @p n items, splitting a batch the store refuses as a whole
 *        into halves (recursively) until the bad items stand alone.
 *        Stops at the first call that settles nothing (the rest stays
 *        pending).
 * @param out  @p n results, filled (PENDING for what was not settled).
 * @param calls (may be NULL) incremented per call made.
 * @returns OUTCOME_OK when every item was settled, else the outcome of the
 *          call that stopped it.
 */
enum outcome stockpub_split_send(struct pend_item **items, size_t n,
                                 stockpub_send_fn *send, void *opaque,
                                 struct store_item_result *out,
                                 unsigned long *calls);

/** @returns the cfg.h table of stock-publisher's settings. */
const struct cfg_opt *stockpub_cfg_table(void);

struct ops;
struct stockpub;

/**
 * @brief Connect to Postgres, Redis (budget), Kafka (consumer and DLQ) and
 *        load the stores.
 * @param passthru config handle with the kafka.* passthrough keys
 *                 (borrowed; must outlive the publisher).
 * @param ops      (may be NULL) where the publisher registers its metrics
 *                 and readiness checks; stop it before stockpub_destroy().
 * @returns the publisher, or NULL with @p errstr.
 */
struct stockpub *stockpub_new(const struct stockpub_cfg *c,
                              const struct cfg *passthru, struct ops *ops,
                              char *errstr, size_t errstr_size);

/**
 * @brief One round: wait up to KAFKA_POLL_MS for a message, drain what is
 *        already there (bounded), flush every store that is due, commit
 *        offsets that moved, refresh stores and log stats when due.
 * @returns 0, or -1 on a fatal error (the caller stops).
 */
int stockpub_poll(struct stockpub *sp);

/**
 * @brief Graceful stop: consume nothing more, flush everything pending
 *        (any age) until @p deadline_ms passes, commit, leave the group.
 * @returns 0 when nothing was left pending, 1 otherwise (it is replayed
 *          after a restart).
 */
int stockpub_drain(struct stockpub *sp, long deadline_ms);

/** @brief Copy the commit->accepted latency histogram. */
void stockpub_latency_get(const struct stockpub *sp, struct lathist *out);

/** @brief Copy the counters. */
void stockpub_stats_get(const struct stockpub *sp, struct stockpub_stats *out);

/** @brief Free everything.  NULL-safe. */
void stockpub_destroy(struct stockpub *sp);

#endif
