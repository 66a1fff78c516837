/*
 * flushpol — stock-publisher's flush policy: WHEN a store's pending
 * variants go out and in how many calls, given what its API budget has
 * left in the window (docs/stock-publisher.md "Budget-aware batching").
 *
 * A token bucket over the store's fixed window: the stock class's share
 * of the window (times stockpub.pace.pct) accrues evenly over the window,
 * plus a burst of a tenth of it at once.  "Ahead" is how many calls the
 * class may make now without spending faster than that schedule:
 *
 *   ahead = share x pct x (window - time_left) / window + share x pct / 10
 *           - stock calls made in the window
 *
 * (never more than the tokens left for stock, which other classes' calls
 * shrink too).
 *
 * When a round goes (the settle rule): a live stream re-changes the same
 * variants, so a call spent on a variant still changing is spent twice.
 * A store's pending changes therefore wait until its stream settles —
 * no new change for stockpub.flush.ms — or until the oldest has waited
 * stockpub.hold.max.ms; then the round sends min(calls needed, ahead)
 * calls, oldest first.  Urgent changes (a variant sold out:
 * stockpub.urgent.at) do not wait: they go at once, in as many calls as
 * they fill, each topped up with the oldest other changes, bounded by the
 * tokens left rather than the schedule.  So a quiet
 * shop's change goes after flush.ms, a burst or backlog as full calls
 * once read, a live stream once per hold.max (each variant once, its
 * freshest value), and when the budget is the bottleneck the calls follow
 * the token schedule and whatever waits coalesces.
 *
 * Pure arithmetic: no I/O, no clocks (callers pass times).
 * @locality any thread.
 */
#ifndef OMNI_FLUSHPOL_H
#define OMNI_FLUSHPOL_H

#include <stddef.h>
#include <stdint.h>

/* What a flush decision looks at, for one store. */
struct flushpol_in {
    size_t pending;         /* distinct variants pending */
    size_t urgent;          /* of which urgent */
    int64_t oldest_age_ms;  /* age of the oldest pending change */
    int64_t newest_age_ms;  /* age of the newest pending change */
    long flush_ms;          /* stockpub.flush.ms: the quiet that settles */
    long hold_max_ms;       /* stockpub.hold.max.ms: the longest hold */
    int64_t since_round_ms; /* since the store's last round went */
    long urgent_ms;         /* stockpub.urgent.ms: urgent rounds' spacing */
    size_t batch;           /* variants per call */
    int known;              /* 0: the budget could not be read */
    long long share;        /* stock tokens of a whole window */
    long long window_ms;    /* the window's length */
    long long tokens_left;  /* tokens stock may still take in the window
                               (every class's calls count) */
    long long used_stock;   /* stock calls made in the window */
    long long time_left_ms; /* until the window ends (a new one: its
                               whole length) */
    int pace_pct;           /* stockpub.pace.pct: share of the tokens the
                               schedule spends (1..100) */
};

/** @returns calls a round of @p pending variants needs, @p batch a call. */
long long flushpol_calls(size_t pending, size_t batch);

/** @returns calls the schedule allows now (may be <= 0); with the budget
 *           unknown, the calls needed. */
long long flushpol_ahead(const struct flushpol_in *in);

/** @returns how many calls to make now: 0 (hold), or up to the calls
 *           needed — every call once the stream settled (newest change
 *           flush_ms old) or the oldest waited hold_max_ms, else the
 *           calls the urgent changes fill — and only what the schedule
 *           allows. */
long long flushpol_now(const struct flushpol_in *in);

#endif
