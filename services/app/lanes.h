/*
 * lanes — a bounded pool of store workers, so a slow or hanging store
 * delays only its own work (docs/isolation.md, "Slow stores: lanes").
 *
 * A service that calls several stores from one consumer thread hands each
 * piece of store work (a struct lane_job: one store, one message or one
 * flush) to a free worker with lanes_run() and waits at most the slice
 * (config key store.slice.ms).  Work that finished within the slice is
 * the caller's again, exactly as if it had run inline.  Work that did not
 * stays in flight on its worker; the caller records it (the services
 * park it, docs/isolation.md) and hands it back with lanes_handoff():
 *   LANE_SETTLE   the worker calls j->settle() once the run ends, then
 *                 j->free() (catalog-publisher, image-uploader: the
 *                 parked row is resolved by the worker);
 *   LANE_DISCARD  the worker only frees it (recording it failed);
 *   LANE_COLLECT  the caller polls lanes_collect() and owns it again once
 *                 the run ended (stock-publisher: its pending state lives
 *                 on the consumer thread).
 * While a store has work on a worker, lanes_store_busy() says so: the
 * caller puts newer work for that store aside instead of calling it.
 *
 * Each worker builds its environment (its own Postgres connection, API
 * budget connection, store clients ...) with ops->env_new() on its own
 * thread, lazily on its first job, so idle workers hold no connection;
 * one that could not be built is tried again on the next job (the run
 * gets NULL meanwhile and must fail the work as transient).
 *
 * @locality lanes_new/run/handoff/collect/busy/drain/destroy on one
 *           thread (the consumer's); run and settle on a worker.
 */
#ifndef OMNI_LANES_H
#define OMNI_LANES_H

#include <stddef.h>

/* The two config rows (cfg.h) of a service with lanes: T its config
 * struct, W and S its long long fields. */
#define LANES_CFG_ROWS(T, W, S)                                                \
    {"store.workers",                                                          \
     CFG_INT,                                                                  \
     "8",                                                                      \
     1,                                                                        \
     64,                                                                       \
     0,                                                                        \
     offsetof(T, W),                                                           \
     "store workers: calls to different stores run at once on this many "      \
     "threads, each with its own connections (docs/isolation.md)"},            \
    {                                                                          \
        "store.slice.ms", CFG_INT, "1000", 10, 600000, 0, offsetof(T, S),      \
            "longest wait of the consumer for one store's work; longer "       \
            "work goes on in the background, parked for that store"            \
    }

struct lanes;

/* One piece of store work.  Embed it first in the service's own job. */
struct lane_job {
    long long store; /* the store's ledger id (busy tracking) */
    /** On a worker: do the work.  @p env is the worker's (NULL when it
     * could not be built). */
    void (*run)(void *env, struct lane_job *j);
    /** On a worker, after a detached run handed off with LANE_SETTLE. */
    void (*settle)(void *env, struct lane_job *j);
    /** Free the job (LANE_SETTLE, LANE_DISCARD: on the worker). */
    void (*free)(struct lane_job *j);
    /* Private to lanes. */
    int state_, detached_, handoff_, abandoned_;
};

/* How each worker builds and frees its environment. */
struct lanes_ops {
    /** On the worker: its environment, or NULL with errstr (logged). */
    void *(*env_new)(void *arg, char *errstr, size_t errstr_size);
    /** On the worker as it stops.  NULL-safe. */
    void (*env_free)(void *env);
    void *arg; /* borrowed: must outlive the lanes */
};

enum lane_res {
    LANE_DONE = 0,     /* finished within the slice: the caller owns j */
    LANE_DETACHED = 1, /* still running: call lanes_handoff() next */
    LANE_NO_WORKER = 2 /* every worker busy: j did not run */
};

enum lane_handoff {
    LANE_SETTLE = 1,
    LANE_DISCARD = 2,
    LANE_COLLECT = 3,
};

/**
 * @brief Start @p workers threads.
 * @param slice_ms longest wait in lanes_run().
 * @param ops copied; ops->arg is borrowed.
 * @returns the pool, or NULL with errstr.
 */
struct lanes *lanes_new(int workers, long slice_ms, const struct lanes_ops *ops,
                        char *errstr, size_t errstr_size);

/**
 * @brief Run @p j on a free worker and wait for it at most the slice.
 * @returns LANE_DONE (the caller owns @p j again), LANE_DETACHED (the
 *          caller must call lanes_handoff() for it, promptly: the worker
 *          waits for it) or LANE_NO_WORKER (nothing ran).
 */
enum lane_res lanes_run(struct lanes *l, struct lane_job *j);

/** @brief Say what happens to detached @p j (see the top of this file). */
void lanes_handoff(struct lanes *l, struct lane_job *j, enum lane_handoff h);

/**
 * @brief For a job handed off with LANE_COLLECT: whether its run ended.
 * @returns 1 (the caller owns @p j again), 0 (still running).
 */
int lanes_collect(struct lanes *l, struct lane_job *j);

/** @returns how many jobs of store @p store are on a worker. */
int lanes_store_busy(struct lanes *l, long long store);

/**
 * @brief The stores with work on a worker (each once) into @p out.
 * @returns how many were written (at most @p max).
 */
size_t lanes_busy_stores(struct lanes *l, long long *out, size_t max);

/** @returns how many workers are free. */
int lanes_free_workers(struct lanes *l);

/**
 * @brief Shutdown: wait up to @p wait_ms for every worker to finish, then
 *        call @p abandon (may be NULL) for each job still running that
 *        was handed off with LANE_SETTLE (its worker will neither settle
 *        nor free it; the caller releases what it recorded, e.g. the
 *        parked row's lease).
 * @returns how many jobs were abandoned.
 */
int lanes_drain(struct lanes *l, long wait_ms,
                void (*abandon)(void *ctx, struct lane_job *j), void *ctx);

/**
 * @brief Stop the workers and free the pool.  Workers still stuck in a
 *        call after lanes_drain() are detached and left to the process's
 *        exit.  NULL-safe.
 */
void lanes_destroy(struct lanes *l);

#endif
