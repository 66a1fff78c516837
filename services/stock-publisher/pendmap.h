/*
 * pendmap — stock-publisher's pending changes: the latest value of every
 * store:variant not yet accepted by its store, grouped per store in the
 * order the oldest pending change arrived, and the Kafka offsets that may
 * be committed.
 *
 * Coalescing: a new event for a pending store:variant replaces its value
 * and keeps the item's age and first offset, so a variant changed 10 times
 * is pushed once, with its last value.  Each store also keeps when its
 * newest change arrived (a stream that went quiet) and how many items are
 * urgent (flushpol.h).
 *
 * Offsets (one topic): per partition, the commit offset is the smallest
 * first offset of an item still pending in that partition, or the last
 * consumed offset + 1 when none is pending (or a barrier: an offset that
 * could not be processed yet).  So a crash at any moment replays every
 * change not accepted yet; replays are harmless (absolute values).
 *
 * Pure bookkeeping: no I/O, no clocks (callers pass times).
 * @locality one thread.
 */
#ifndef OMNI_PENDMAP_H
#define OMNI_PENDMAP_H

#include <stddef.h>
#include <stdint.h>

#define PENDMAP_MONEY_SIZE 24

/* One decoded stock.available event, as pendmap_put() takes it. */
struct pend_value {
    const char *store; /* store name (borrowed) */
    long long variant_id;
    long long available;
    const char *price;     /* "1500.00" or NULL (no price in the list) */
    const char *old_price; /* "1700.00" or NULL */
    int32_t partition;
    int64_t offset;
    int64_t commit_ms; /* envelope ts, ms since the epoch */
    const char *raw;   /* the message value, kept for the DLQ (borrowed) */
    size_t raw_len;
    int urgent; /* goes out at once (stockpub.urgent.at: sold out) */
};

/* A pending store:variant.  Owned by the map; valid until pendmap_done()
 * or pendmap_destroy(). */
struct pend_item {
    char *key; /* "store:variant_id" */
    struct pend_store *st;
    long long variant_id;
    long long available;
    char price[PENDMAP_MONEY_SIZE];     /* "" when null */
    char old_price[PENDMAP_MONEY_SIZE]; /* "" when null */
    char *raw;                          /* latest message value */
    size_t raw_len;
    int32_t partition;
    int64_t first_offset;  /* oldest offset coalesced into this item */
    int64_t last_offset;   /* newest */
    int64_t first_ms;      /* when the oldest pending change arrived */
    int64_t commit_ms;     /* ledger commit time of the oldest change */
    unsigned long updates; /* events coalesced (>= 1) */
    int urgent;            /* the latest value is urgent */
    struct pend_item *hnext, *prev, *next;
};

/* The pending items of one store, oldest first. */
struct pend_store {
    char *name;
    struct pend_item *head, *tail;
    size_t count;
    size_t urgent;         /* items whose latest value is urgent */
    int64_t last_ms;       /* when the newest change arrived */
    int64_t round_ms;      /* when the last round went (the caller's) */
    int64_t not_before_ms; /* backoff: no flush before this time */
    long backoff_ms;       /* last backoff, doubles on repeated failure */
    struct pend_store *next;
};

/* A partition's commit position. */
struct pend_commit {
    int32_t partition;
    int64_t offset; /* next offset to consume after a restart */
};

struct pendmap;

/** @returns a new empty map, or NULL when out of memory. */
struct pendmap *pendmap_new(void);

/** @brief Free the map and every item.  NULL-safe. */
void pendmap_destroy(struct pendmap *pm);

/**
 * @brief Record one consumed event: a new item, or the latest value of a
 *        pending one (its age and first offset are kept).
 * @param now_ms the caller's monotonic clock.
 * @returns 1 for a new item, 0 when coalesced, -1 when out of memory.
 */
int pendmap_put(struct pendmap *pm, const struct pend_value *v, int64_t now_ms);

/**
 * @brief Record a consumed offset that left nothing pending (an event
 *        dead-lettered, or ignored).
 * @returns 0, or -1 when out of memory.
 */
int pendmap_offset_seen(struct pendmap *pm, int32_t partition, int64_t offset);

/**
 * @brief Hold commits of @p partition below @p offset (a message that
 *        could not be handled, e.g. the DLQ was unreachable), until the
 *        process restarts and reads it again.
 */
int pendmap_barrier(struct pendmap *pm, int32_t partition, int64_t offset);

/** @brief Remove @p it (accepted, skipped or dead-lettered) and free it. */
void pendmap_done(struct pendmap *pm, struct pend_item *it);

/** @returns the number of pending items. */
size_t pendmap_count(const struct pendmap *pm);

/** @returns the pending store named @p name, or NULL. */
struct pend_store *pendmap_store(struct pendmap *pm, const char *name);

/** @returns the first store with a pending list (follow ->next), or
 *          NULL. */
struct pend_store *pendmap_stores(struct pendmap *pm);

/**
 * @brief The next store to flush: one with @p batch_max items pending, or
 *        whose oldest pending change is @p flush_ms old (with @p force:
 *        any store with items), not backing off.  Stores are visited
 *        round-robin from where the last call stopped.
 * @returns the store, or NULL when none is due.
 */
struct pend_store *pendmap_due(struct pendmap *pm, int64_t now_ms,
                               long flush_ms, size_t batch_max, int force);

/**
 * @brief Up to @p max items of @p st into @p out: the urgent ones first,
 *        then the oldest.
 * @returns how many were written.
 */
size_t pendmap_batch(struct pend_store *st, struct pend_item **out, size_t max);

/** @brief No flush of @p st before now + backoff (doubling from
 *         @p min_ms up to @p max_ms; @p hint_ms > 0 overrides). */
void pendmap_backoff(struct pend_store *st, int64_t now_ms, long hint_ms,
                     long min_ms, long max_ms);

/** @brief A flush of @p st succeeded: clear its backoff. */
void pendmap_backoff_clear(struct pend_store *st);

/**
 * @brief The commit positions that moved since the last call.
 * @param out    receives up to @p max positions.
 * @returns how many were written (0: nothing to commit).  The positions
 *          count as committed once returned (the caller commits them).
 */
size_t pendmap_commits(struct pendmap *pm, struct pend_commit *out, size_t max);

/** @brief The current commit position of @p partition, or -1 if none
 *         was consumed. */
int64_t pendmap_commit_offset(const struct pendmap *pm, int32_t partition);

/**
 * @brief Forget what pendmap_commits() returned, so the next call reports
 *        every partition again (after a failed commit).
 */
void pendmap_commits_reset(struct pendmap *pm);

#endif
