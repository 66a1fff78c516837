/*
 * order-ingestor — online orders into the ledger exactly once.
 * See intake.h, apply.h and docs/order-ingestor.md.
 */
#include "apply.h"
#include "lib/cfg.h"
#include "intake.h"
#include "lib/log.h"
#include "oicfg.h"
#include "lib/sig.h"

#include <curl/curl.h>
#include <stddef.h>
#include <string.h>

static const char oi_usage[] =
    "usage: order-ingestor [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                      [--dump-config] [--help]\n\n"
    "intake: a store's order webhook (registered under intake.public_url,\n"
    "authenticated with the store's webhook secret) puts the order on\n"
    "omnisync.orders.v1 and answers 200 after Kafka acknowledged it; every\n"
    "poll.interval.ms each store's orders changed since its cursor are put\n"
    "on the same topic.  apply: consumes the topic and writes each order\n"
    "into the ledger exactly once, with its reservations.\n"
    "orders.mode=all runs both.  SIGTERM stops the intake, finishes what is\n"
    "in flight, commits and exits 0.";

int main(int argc, char **argv)
{
    struct oi_cfg c = {0};
    struct order_intake *in = NULL;
    struct order_apply *ap = NULL;
    struct cfg *cfg;
    char errstr[512];
    int status = 0;

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
    if (oi_mode_apply(&c)) {
        ap = order_apply_new(&c, cfg, errstr, sizeof(errstr));
        if (!ap)
            goto init_fail;
    }
    if (oi_mode_intake(&c)) {
        in = order_intake_new(&c, cfg, errstr, sizeof(errstr));
        if (!in)
            goto init_fail;
    }
    log_info("order-ingestor started (mode %s)", c.mode);
    while (!sig_stop_requested()) {
        if (in && order_intake_fatal(in))
            break;
        if (ap) {
            if (order_apply_poll(ap) < 0)
                break;
        } else {
            sig_sleep_ms(100);
        }
    }
    status = (in && order_intake_fatal(in)) ? 1 : 0;
    if (in && order_intake_drain(in, (int)c.drain_ms) != 0)
        status = 1;
    if (ap && order_apply_drain(ap) != 0)
        status = 1;
    order_intake_destroy(in);
    order_apply_destroy(ap);
    curl_global_cleanup();
    cfg_destroy(cfg);
    log_info("order-ingestor stopped (exit %d)", status);
    return status;
init_fail:
    log_error("init: %s", errstr);
    order_intake_destroy(in);
    order_apply_destroy(ap);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return 1;
}
