/*
 * order-ingestor — online orders into the ledger exactly once.
 * See intake.h, apply.h and docs/order-ingestor.md.
 */
#include "app/ops.h"
#include "apply.h"
#include "intake.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "oicfg.h"

#include <curl/curl.h>
#include <stddef.h>
#include <string.h>

static const char oi_usage[] =
    "usage: order-ingestor [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                      [--dump-config] [--help] [--probe [URL]]\n\n"
    "intake: a store's order webhook (registered under intake.public_url,\n"
    "authenticated with the store's webhook secret) puts the order on\n"
    "omnisync.orders.v1 and answers 200 after Kafka acknowledged it; every\n"
    "poll.interval.ms each store's orders changed since its cursor are put\n"
    "on the same topic.  apply: consumes the topic and writes each order\n"
    "into the ledger exactly once, with its reservations.\n"
    "orders.mode=all runs both.  SIGTERM stops the intake, finishes what is\n"
    "in flight, commits and exits 0.  Webhooks are served on intake.listen,\n"
    "/healthz, /readyz and /metrics on http.listen.\n\n"
    "  --probe [URL]    GET URL (default: /healthz on http.listen, from the\n"
    "                   configuration) and exit 0 on 200, else 1";

/* The halves orders.mode asks for; 0, or -1 with errstr. */
static int oi_start(const struct oi_cfg *c, const struct cfg *cfg,
                    struct ops *ops, struct order_apply **ap,
                    struct order_intake **in, char *errstr, size_t size)
{
    if (oi_mode_apply(c)) {
        *ap = order_apply_new(c, cfg, ops, errstr, size);
        if (!*ap)
            return -1;
    }
    if (oi_mode_intake(c)) {
        *in = order_intake_new(c, cfg, ops, errstr, size);
        if (!*in)
            return -1;
    }
    return 0;
}

/* The main loop: until a stop request or a fatal error; 1 when fatal. */
static int oi_run(struct ops *ops, struct order_apply *ap,
                  struct order_intake *in)
{
    while (!sig_stop_requested()) {
        ops_heartbeat(ops);
        order_intake_heartbeat(in);
        if (in && order_intake_fatal(in))
            return 1;
        if (ap) {
            if (order_apply_poll(ap) < 0)
                return 0;
        } else {
            sig_sleep_ms(100);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct oi_cfg c = {0};
    struct order_intake *in = NULL;
    struct order_apply *ap = NULL;
    struct ops *ops = NULL;
    struct cfg *cfg;
    char errstr[512];
    int status;

    status =
        ops_probe_main(argc, argv, oi_cfg_table(), &c, cfg_passthru_kafka,
                       "order-ingestor", offsetof(struct oi_cfg, http_listen));
    if (status >= 0)
        return status;
    log_init("order-ingestor", "info");
    cfg = cfg_load(oi_cfg_table(), &c, cfg_passthru_kafka, "order-ingestor",
                   oi_usage, argc, argv); /* exits 2 on bad config */
    if (log_init("order-ingestor", c.log_level) != 0)
        log_warn("unknown log level '%s'", c.log_level);
    if (!oi_mode_intake(&c) && !oi_mode_apply(&c)) {
        log_error("config: orders.mode: '%s' is not all, intake or apply",
                  c.mode);
        cfg_destroy(cfg);
        return 2;
    }
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ops = ops_new(&(struct ops_conf){c.http_listen, c.http_liveness_ms,
                                     c.http_ready_timeout_ms},
                  errstr, sizeof(errstr));
    if (!ops || oi_start(&c, cfg, ops, &ap, &in, errstr, sizeof(errstr)) < 0) {
        log_error("init: %s", errstr);
        status = 1;
        goto out;
    }
    log_info("order-ingestor started (mode %s)", c.mode);
    status = oi_run(ops, ap, in) || (in && order_intake_fatal(in)) ? 1 : 0;
    ops_stop(ops);
    if (in && order_intake_drain(in, (int)c.drain_ms) != 0)
        status = 1;
    if (ap && order_apply_drain(ap) != 0)
        status = 1;
    log_info("order-ingestor stopped (exit %d)", status);
out:
    order_intake_destroy(in);
    order_apply_destroy(ap);
    ops_destroy(ops);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return status;
}
