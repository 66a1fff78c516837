/*
 * parked — work parked per store (table parked, migration 0010;
 * docs/isolation.md).
 *
 * A service that calls several stores must not hold one store's work
 * behind another store's failure.  When a store answers a transient
 * failure (5xx, timeout, its rate limit) the service parks that store's
 * piece of work here, commits the message once every store either
 * succeeded, was dead-lettered or was parked, and a retry pass in its
 * main loop claims due rows (parked_claim()) and publishes them again.
 *
 * Rows are keyed by store, kind and entity and carry the latest payload
 * for them (events are state-carrying: a newer message replaces the
 * payload and bumps seq).  While a (store, entity) is parked, newer
 * messages for it are parked too (parked_check()), so an older state
 * never overwrites a newer one.  The backoff is the store's: every row of
 * a store and kind shares next_attempt_at, doubling from base_ms to
 * max_ms with each failed attempt; the store's rows are forgotten once
 * all succeed.
 */
#ifndef OMNI_PARKED_H
#define OMNI_PARKED_H

#include <libpq-fe.h>
#include <stddef.h>

#define PARKED_CATALOG "catalog" /* entity: product id */
#define PARKED_IMAGE "image"     /* entity: photo id */

/* Longest entity text (ids are decimal). */
#define PARKED_ENTITY_SIZE 64

/* A failed attempt, or a message parked behind the store's wait. */
struct parked_put {
    long long store_id;
    const char *kind;
    const char *entity;
    const char *payload; /* JSON text; NULL on a retry: keep the row's */
    const char *error;   /* why (never credentials) */
    long base_ms;        /* first backoff */
    long max_ms;         /* longest backoff */
};

/* A claimed row (parked_claim()).  Free with parked_item_clear(). */
struct parked_item {
    long long store_id;
    char entity[PARKED_ENTITY_SIZE];
    char *payload; /* (owned) JSON text */
    long long seq;
    int attempts;
};

/**
 * @brief Whether a message for @p entity of store @p store_id must be
 *        parked instead of published: the entity is parked already, or
 *        the store is waiting out its backoff.
 * @returns 1 park, 0 publish, -1 with errstr.
 */
int parked_check(PGconn *pg, long long store_id, const char *kind,
                 const char *entity, char *errstr, size_t errstr_size);

/**
 * @brief Park a message without calling the store (parked_check() said
 *        so): a new row waits as long as the store's others; an existing
 *        row takes the newer payload.
 * @returns 0, or -1 with errstr.
 */
int parked_behind(PGconn *pg, const struct parked_put *p, char *errstr,
                  size_t errstr_size);

/**
 * @brief Record a failed attempt: the row is created or updated (with
 *        p->payload unless NULL), the store's attempt count grows and all
 *        its rows of that kind wait base_ms * 2^(attempts-1), at most
 *        max_ms.  Releases the row's claim.
 * @returns 0, or -1 with errstr.
 */
int parked_fail(PGconn *pg, const struct parked_put *p, char *errstr,
                size_t errstr_size);

/**
 * @brief Park a consumed message: parked_fail() when p->error is set and
 *        not empty (a failed attempt), else parked_behind().
 * @param payload_len the length of p->payload (a Kafka message value,
 *                    not NUL-terminated).
 * @returns 0, or -1 with errstr.
 */
int parked_message(PGconn *pg, const struct parked_put *p, size_t payload_len,
                   char *errstr, size_t errstr_size);

/**
 * @brief Record a message whose store call is still running on a store
 *        worker (app/lanes.h) as parked and claimed by this replica for
 *        @p lease_s seconds, so no retry pass runs it meanwhile; the
 *        worker settles it with parked_done() or parked_fail() using
 *        @p it (store, entity and the row's seq; no payload).
 * @returns 0, or -1 with errstr.
 */
int parked_inflight(PGconn *pg, const struct parked_put *p, size_t payload_len,
                    long lease_s, struct parked_item *it, char *errstr,
                    size_t errstr_size);

/**
 * @brief Give up the claim of @p it without an attempt (no free store
 *        worker, or a shutdown left its call running): due at once.
 * @returns 0, or -1 with errstr.
 */
int parked_release(PGconn *pg, const char *kind, const struct parked_item *it,
                   char *errstr, size_t errstr_size);

/* Stores a retry pass must not claim rows of (their work is running on a
 * store worker); the pass's callback may change it, and may set stop. */
struct parked_skip {
    long long *ids;
    size_t n;
    int stop; /* set by the callback: end the pass */
};

/**
 * @brief Claim the next due row of @p kind (its store's next attempt has
 *        come and no other replica holds it) for @p lease_s seconds.
 * @returns 1 with @p it filled, 0 when none is due, -1 with errstr.
 */
int parked_claim(PGconn *pg, const char *kind, long lease_s,
                 struct parked_item *it, char *errstr, size_t errstr_size);

/** @brief parked_claim() of a row whose store is not in @p skip (may be
 *         NULL). */
int parked_claim_skip(PGconn *pg, const char *kind, long lease_s,
                      const struct parked_skip *skip, struct parked_item *it,
                      char *errstr, size_t errstr_size);

/**
 * @brief The claimed row was published or dead-lettered: delete it,
 *        unless a newer payload was parked meanwhile (then it is released
 *        and due at once).
 * @returns 0, or -1 with errstr.
 */
int parked_done(PGconn *pg, const char *kind, const struct parked_item *it,
                char *errstr, size_t errstr_size);

/**
 * @brief The retry pass: claim up to @p max due rows of @p kind one at a
 *        time and hand each to @p fn (which settles it with parked_done()
 *        or parked_fail(), or leaves it to its claim's end), stopping
 *        early on a stop request (lib/sig.h) or when @p skip->stop is set;
 *        rows of the stores in @p skip (may be NULL) are not claimed.
 * @returns how many rows were handed over (@p max: more may be due), or
 *          -1 with errstr when the first claim failed.
 */
int parked_pass(PGconn *pg, const char *kind, int max, long lease_s,
                struct parked_skip *skip,
                void (*fn)(void *ctx, struct parked_item *it), void *ctx,
                char *errstr, size_t errstr_size);

/** @brief Free @p it's payload.  NULL-safe. */
void parked_item_clear(struct parked_item *it);

/**
 * @brief How many rows are parked for store @p store_id (0: every store)
 *        and @p kind (NULL: every kind), e.g. for `omnisync status`.
 * @returns 0, or -1 with errstr.
 */
int parked_count(PGconn *pg, long long store_id, const char *kind, long long *n,
                 char *errstr, size_t errstr_size);

/**
 * @brief Call @p each with every store's name and its parked rows of
 *        @p kind (0 for a store with none), for the
 *        omnisync_parked_items gauge.
 * @returns 0, or -1 with errstr.
 */
int parked_counts(PGconn *pg, const char *kind,
                  void (*each)(void *arg, const char *store, long long n),
                  void *arg, char *errstr, size_t errstr_size);

struct metrics;
struct metrics_family;

/**
 * @brief Register the gauge omnisync_parked_items{store,kind} in @p m
 *        (may be NULL: then NULL is returned).
 */
struct metrics_family *parked_gauge_new(struct metrics *m);

/**
 * @brief Set @p f (may be NULL: nothing is done) to every store's parked
 *        rows of @p kind (parked_counts()).
 * @returns 0, or -1 with errstr.
 */
int parked_gauge_set(PGconn *pg, struct metrics_family *f, const char *kind,
                     char *errstr, size_t errstr_size);

#endif
