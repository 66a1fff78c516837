/*
 * metrics — a small thread-safe registry of Prometheus metrics: counters,
 * gauges and histograms with label sets, callback families read at scrape
 * time, and the process_* collectors from /proc/self, rendered in the
 * Prometheus text exposition format 0.0.4 (docs/metrics.md).
 *
 * A family is registered once (name, help, label names); a series is one
 * label set of a family.  Series are created on first use and live as long
 * as the registry.  Each family holds at most the registry's max_series
 * series: a new label set beyond the cap is refused (the update is dropped)
 * and counted in omnisync_metrics_series_refused_total{family="..."}, so a
 * label fed from data (a store name, a topic) can never grow the registry
 * without bound.
 *
 * Names follow the Prometheus conventions the registry enforces: metric
 * names [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in "_total", label names
 * [a-zA-Z_][a-zA-Z0-9_]* not starting with "__", no "le" label on a
 * histogram, non-empty help.  Values are in base units (seconds, bytes).
 *
 * Every update function is NULL-safe on the family or series, so a family
 * whose registration failed costs nothing but the lost samples.
 *
 * @locality any thread; one mutex per family, one for the registry.
 */
#ifndef OMNI_METRICS_H
#define OMNI_METRICS_H

#include <stddef.h>

/* Content-Type of metrics_render()'s output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define METRICS_SERIES_MAX_DEFAULT 1000 /* per family */
#define METRICS_LABELS_MAX 8            /* label names per family */
#define METRICS_BUCKETS_MAX 32          /* histogram bounds, +Inf excluded */

/* Bucket bounds (seconds) for short waits: token waits, API calls. */
#define METRICS_BUCKETS_WAIT                                                   \
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
/* Bucket bounds (seconds) for end-to-end latencies: ledger to store. */
#define METRICS_BUCKETS_LATENCY                                                \
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600

enum metrics_type {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
};

struct metrics;
struct metrics_family;
struct metrics_series;
struct metrics_emit;

/*
 * A callback family's collector, called at every render with the family's
 * emitter: it calls metrics_emit_value() once per series it reports.  It
 * runs on the rendering thread while the registry is locked, so it must
 * not register families; it may update other families.
 */
typedef void(metrics_collect_fn)(struct metrics_emit *e, void *opaque);

/**
 * @brief A new, empty registry.
 * @param max_series the most series one family may hold (0: the default,
 *                   METRICS_SERIES_MAX_DEFAULT).
 * @returns the registry (free with metrics_destroy()), or NULL with errstr.
 */
struct metrics *metrics_new(size_t max_series, char *errstr,
                            size_t errstr_size);

/**
 * @brief Free the registry, its families and series.  No other thread may
 *        use it any more.  NULL-safe.
 */
void metrics_destroy(struct metrics *m);

/**
 * @brief Register a counter family.
 * @param name   metric name, ending in "_total" (copied).
 * @param help   one-line description (copied).
 * @param labels NULL-terminated label names (copied; may be NULL: no
 *               labels, and the one series exists at once, at 0).
 * @returns the family (owned by the registry), or NULL (logged) when a
 *          name is invalid, already registered, or out of memory.
 */
struct metrics_family *metrics_counter_new(struct metrics *m, const char *name,
                                           const char *help,
                                           const char *const *labels);

/** @brief Register a gauge family; as metrics_counter_new(). */
struct metrics_family *metrics_gauge_new(struct metrics *m, const char *name,
                                         const char *help,
                                         const char *const *labels);

/**
 * @brief Register a histogram family; as metrics_counter_new().
 * @param bounds  @p nbounds strictly increasing finite upper bounds in base
 *                units (copied); the +Inf bucket is implicit.  E.g.
 *                (const double[]){METRICS_BUCKETS_WAIT}.
 */
struct metrics_family *metrics_histogram_new(struct metrics *m,
                                             const char *name, const char *help,
                                             const char *const *labels,
                                             const double *bounds,
                                             size_t nbounds);

/**
 * @brief Register a callback family: @p fn reports its series at every
 *        render (consumer lag from librdkafka statistics, a queue depth).
 * @param type   METRICS_COUNTER or METRICS_GAUGE.
 * @param opaque passed to @p fn (borrowed: must outlive the registry).
 * @returns as metrics_counter_new().
 */
struct metrics_family *
metrics_callback_new(struct metrics *m, const char *name, const char *help,
                     enum metrics_type type, const char *const *labels,
                     metrics_collect_fn *fn, void *opaque);

/**
 * @brief Report one series of a callback family from its collector.
 * @param values one value per label name of the family (borrowed for the
 *               call; may be NULL when the family has no labels).
 * @param v      the value in base units.
 */
void metrics_emit_value(struct metrics_emit *e, const char *const *values,
                        double v);

/**
 * @brief The series of @p f with label values @p values, created on first
 *        use.  Keep the pointer to skip the lookup on hot paths.
 * @param values one value per label name (borrowed for the call; may be
 *               NULL when the family has no labels).
 * @returns the series (valid as long as the registry), or NULL when @p f
 *          is NULL or a callback family, when the family is full (the
 *          refusal is counted) or out of memory.
 */
struct metrics_series *metrics_series_get(struct metrics_family *f,
                                          const char *const *values);

/**
 * @brief Add @p v to a counter or gauge series.  A negative @p v on a
 *        counter is ignored (counters only go up).  NULL-safe.
 */
void metrics_series_add(struct metrics_series *s, double v);

/** @brief Set a gauge series to @p v (ignored on other types).  NULL-safe. */
void metrics_series_set(struct metrics_series *s, double v);

/**
 * @brief Count @p v in a histogram series: the first bucket whose bound
 *        is >= @p v, the sum and the count.  NaN is ignored.  NULL-safe.
 */
void metrics_series_observe(struct metrics_series *s, double v);

/** @brief metrics_series_add(metrics_series_get(f, values), v). */
void metrics_add(struct metrics_family *f, const char *const *values, double v);

/** @brief metrics_series_add(metrics_series_get(f, values), 1). */
void metrics_inc(struct metrics_family *f, const char *const *values);

/** @brief metrics_series_set(metrics_series_get(f, values), v). */
void metrics_set(struct metrics_family *f, const char *const *values, double v);

/** @brief metrics_series_observe(metrics_series_get(f, values), v). */
void metrics_observe(struct metrics_family *f, const char *const *values,
                     double v);

/**
 * @brief The current value of a counter or gauge series, or a histogram
 *        series' count (for tests and stats lines).  0 for NULL.
 */
double metrics_series_value(struct metrics_series *s);

/**
 * @brief Register the process collectors (read from /proc/self at every
 *        render): process_cpu_seconds_total, process_resident_memory_bytes,
 *        process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *        process_start_time_seconds.
 * @returns 0, or -1 when a family could not be registered (logged).
 */
int metrics_process_register(struct metrics *m);

/**
 * @brief Render every family, in registration order, in the text
 *        exposition format 0.0.4 (METRICS_CONTENT_TYPE): HELP and TYPE once
 *        per family, then its series in creation order.
 * @param len receives the length (may be NULL).
 * @returns the text (owned: free()), or NULL when out of memory.
 */
char *metrics_render(struct metrics *m, size_t *len);

#endif
