/*
 * sim_webhook — background delivery of webhooks: one thread POSTs queued
 * JSON bodies with libcurl, loopback targets only, with a timeout.
 */
#ifndef SIM_WEBHOOK_H
#define SIM_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

struct sim_hooks;

struct sim_hooks_stats {
    int64_t queued, delivered, failed, dropped;
};

/**
 * @brief Start the delivery thread.  curl_global_init must have run.
 * @returns the queue, or NULL with @p errstr filled.
 */
struct sim_hooks *sim_hooks_new(long timeout_ms, char *errstr,
                                size_t errstr_size);

/**
 * @brief Stop the thread (an in-flight POST finishes or times out) and
 *        free undelivered items; NULL-safe.
 */
void sim_hooks_destroy(struct sim_hooks *h);

/**
 * @brief Queue one POST of @p body (copied) to @p url (copied).
 * @returns 0, or -1 when out of memory.
 * @locality any thread.
 */
int sim_hooks_push(struct sim_hooks *h, const char *url, const char *body);

/** @brief Count a delivery dropped by the fault settings. */
void sim_hooks_count_drop(struct sim_hooks *h);

/** @brief Snapshot of the counters. */
void sim_hooks_get_stats(struct sim_hooks *h, struct sim_hooks_stats *st);

/** @brief Drop queued deliveries and zero the counters. */
void sim_hooks_reset(struct sim_hooks *h);

/**
 * @brief Check that @p url is an http:// URL on a loopback host
 *        (127.0.0.1, localhost, [::1]) or on a host allowed by
 *        sim_url_allow_hosts().
 * @returns 1 if so, else 0.
 */
int sim_url_is_loopback(const char *url);

/**
 * @brief Allow, besides loopback, the comma-separated host names of
 *        @p csv (--allow-host: a container network's service names) as
 *        webhook and image destinations.  Call once, before serving.
 * @returns 0, or -1 when there are too many or they are too long.
 */
int sim_url_allow_hosts(const char *csv);

#endif
