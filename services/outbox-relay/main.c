/*
 * outbox-relay — publishes the ledger's outbox to Kafka.
 * See relay.h and docs/outbox-relay.md.
 */
#include "lib/cfg.h"
#include "lib/log.h"
#include "relay.h"
#include "lib/sig.h"

#include <stddef.h>

static const char relay_usage[] =
    "usage: outbox-relay [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                    [--dump-config] [--help]\n\n"
    "Publishes unsent outbox rows to Kafka with an idempotent producer and\n"
    "marks them sent after the delivery report.  One instance is active\n"
    "(Postgres advisory lock); others stand by and take over when it dies.\n"
    "SIGTERM flushes what is in flight and exits 0.";

int main(int argc, char **argv)
{
    struct relay_cfg rc = {0};
    struct relay *r;
    struct cfg *cfg;
    char errstr[512];
    int status;

    log_init("outbox-relay", "info");
    cfg = cfg_load(relay_cfg_table(), &rc, cfg_passthru_kafka, "outbox-relay",
                   relay_usage, argc, argv); /* exits 2 on bad config */
    sig_install();
    r = relay_new(&rc, cfg, errstr, sizeof(errstr));
    if (!r) {
        log_error("init: %s", errstr);
        cfg_destroy(cfg);
        return 1;
    }
    while (!sig_stop_requested())
        if (relay_poll(r) < 0)
            break;
    status = relay_drain(r, (int)rc.drain_ms);
    relay_destroy(r);
    cfg_destroy(cfg);
    return status;
}
