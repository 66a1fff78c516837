/*
 * outbox-relay — publishes the ledger's outbox to Kafka.
 * See relay.h and docs/outbox-relay.md.
 */
#include "app/ops.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "relay.h"

#include <stddef.h>

static const char relay_usage[] =
    "usage: outbox-relay [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                    [--dump-config] [--help] [--probe [URL]]\n\n"
    "Publishes unsent outbox rows to Kafka with an idempotent producer and\n"
    "marks them sent after the delivery report.  One instance is active\n"
    "(Postgres advisory lock); others stand by and take over when it dies.\n"
    "SIGTERM flushes what is in flight and exits 0.  Serves /healthz,\n"
    "/readyz and /metrics on http.listen.\n\n"
    "  --probe [URL]    GET URL (default: /healthz on http.listen, from the\n"
    "                   configuration) and exit 0 on 200, else 1";

int main(int argc, char **argv)
{
    struct relay_cfg rc = {0};
    struct relay *r = NULL;
    struct ops *ops = NULL;
    struct cfg *cfg;
    char errstr[512];
    int status = 1;

    status =
        ops_probe_main(argc, argv, relay_cfg_table(), &rc, cfg_passthru_kafka,
                       "outbox-relay", offsetof(struct relay_cfg, http_listen));
    if (status >= 0)
        return status;
    log_init("outbox-relay", "info");
    cfg = cfg_load(relay_cfg_table(), &rc, cfg_passthru_kafka, "outbox-relay",
                   relay_usage, argc, argv); /* exits 2 on bad config */
    sig_install();
    ops = ops_new(&(struct ops_conf){rc.http_listen, rc.http_liveness_ms,
                                     rc.http_ready_timeout_ms},
                  errstr, sizeof(errstr));
    if (ops)
        r = relay_new(&rc, cfg, ops, errstr, sizeof(errstr));
    if (!r) {
        log_error("init: %s", errstr);
        status = 1;
        goto out;
    }
    while (!sig_stop_requested()) {
        ops_heartbeat(ops);
        if (relay_poll(r) < 0)
            break;
    }
    ops_stop(ops);
    status = relay_drain(r, (int)rc.drain_ms);
out:
    relay_destroy(r);
    ops_destroy(ops);
    cfg_destroy(cfg);
    return status;
}
