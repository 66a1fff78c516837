/*
 * intake — the order-ingestor's front half: the webhook endpoint
 * (libmicrohttpd) and the polling backstop, both putting raw orders on
 * omnisync.orders.v1 (event orders.raw) before anything is acknowledged.
 *
 * The webhook endpoint is a route of lib/httpd on intake.listen, a server
 * of its own apart from the ops port (http.listen): stores post webhooks
 * to a public address, while /metrics stays private.
 *
 * Threads: libmicrohttpd's (one per connection; a request waits for its
 * message's delivery report before answering), one delivery-report
 * thread serving the idempotent producer, and one store thread that
 * refreshes the stores (every stores.refresh.ms), registers the webhooks
 * of stores it has not registered yet, and polls each store every
 * poll.interval.ms (docs/order-ingestor.md).  Everything about a store's
 * platform (webhook addresses and authentication, the poll, what an
 * order looks like) goes through the platform seam (store/platform.h).
 */
#ifndef OMNI_INTAKE_H
#define OMNI_INTAKE_H

#include <stddef.h>

struct cfg;
struct oi_cfg;
struct ops;
struct order_intake;

/**
 * @brief Start the producer, the store thread and the HTTP endpoint.
 * @param c        configuration (borrowed; must outlive the intake).
 * @param passthru "kafka.*" keys (borrowed for the call).
 * @param ops      (may be NULL) where the intake registers its metrics
 *                 (orders ingested, webhooks rejected, the budget) and
 *                 readiness checks (postgres, redis, kafka); stop it
 *                 before order_intake_destroy().
 * @returns the intake, or NULL with errstr (bad listen address, port in
 *          use, bad kafka.* key).
 */
struct order_intake *order_intake_new(const struct oi_cfg *c,
                                      const struct cfg *passthru,
                                      struct ops *ops, char *errstr,
                                      size_t errstr_size);

/**
 * @brief The main loop turned: the webhook server's /healthz stays 200.
 *        NULL-safe.
 */
void order_intake_heartbeat(struct order_intake *in);

/**
 * @brief Stop accepting, let requests in flight finish, stop the store
 *        thread, flush the producer (up to @p timeout_ms).
 * @returns 0 when nothing was left undelivered, 1 otherwise.
 */
int order_intake_drain(struct order_intake *in, int timeout_ms);

/** @returns 1 when the producer hit a fatal error (the process stops). */
int order_intake_fatal(struct order_intake *in);

/** @brief Free (drains first when not drained).  NULL-safe. */
void order_intake_destroy(struct order_intake *in);

#endif
