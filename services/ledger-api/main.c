/*
 * ledger-api — the back office's intake into the ledger: an HTTP API
 * (api.h) and the omnisync.movements.in.v1 topic (intake.h), both applied
 * through ledger/movebatch.h.  See docs/ledger-api.md.
 */
#include "api.h"
#include "apicfg.h"
#include "app/ops.h"
#include "intake.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"

#include <stddef.h>

static const char api_usage[] =
    "usage: ledger-api [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                  [--dump-config] [--help] [--version] [--probe [URL]]\n\n"
    "The ledger's intake for back-office systems (docs/ledger-api.md):\n"
    "POST /v1/movements, GET /v1/stock, PUT /v1/prices/{list},\n"
    "POST /v1/documents on api.listen,\n"
    "bearer tokens from `omnisync client add`; and, when kafka.bootstrap is\n"
    "set, the omnisync.movements.in.v1 topic (one till receipt a message),\n"
    "applied exactly once, malformed messages dead-lettered.  SIGTERM stops\n"
    "accepting, finishes what is in flight, commits and exits 0.\n"
    "/healthz, /readyz and /metrics on http.listen.\n\n"
    "  --probe [URL]    GET URL (default: /healthz on http.listen, from the\n"
    "                   configuration) and exit 0 on 200, else 1";

int main(int argc, char **argv)
{
    struct api_cfg c = {0};
    struct movements_intake *in = NULL;
    struct api *api = NULL;
    struct ops *ops = NULL;
    struct cfg *cfg;
    char errstr[512];
    int status = 0;

    status =
        ops_probe_main(argc, argv, api_cfg_table(), &c, cfg_passthru_kafka,
                       "ledger-api", offsetof(struct api_cfg, http_listen));
    if (status >= 0)
        return status;
    log_init("ledger-api", "info");
    cfg = cfg_load(api_cfg_table(), &c, cfg_passthru_kafka, "ledger-api",
                   api_usage, argc, argv); /* exits 2 on bad config */
    if (log_init("ledger-api", c.log_level) != 0)
        log_warn("unknown log level '%s'", c.log_level);
    sig_install();
    ops = ops_new(&(struct ops_conf){c.http_listen, c.http_liveness_ms,
                                     c.http_ready_timeout_ms},
                  errstr, sizeof(errstr));
    if (ops)
        api = api_new(&c, ops, errstr, sizeof(errstr));
    if (api && c.kafka_bootstrap && *c.kafka_bootstrap)
        in = movements_intake_new(&c, cfg, ops, api_items_family(api), errstr,
                                  sizeof(errstr));
    if (!ops || !api || (c.kafka_bootstrap && *c.kafka_bootstrap && !in)) {
        log_error("init: %s", errstr);
        status = 1;
        goto out;
    }
    log_info("ledger-api started (api on %s, kafka intake %s)", c.api_listen,
             in ? "on" : "off");
    while (!sig_stop_requested()) {
        ops_heartbeat(ops);
        if (!in)
            sig_sleep_ms(100);
        else if (movements_intake_poll(in) < 0)
            break;
    }
    api_stop(api);
    ops_stop(ops);
    status = movements_intake_drain(in);
    log_info("ledger-api stopped (exit %d)", status);
out:
    movements_intake_destroy(in);
    api_destroy(api);
    ops_destroy(ops);
    cfg_destroy(cfg);
    return status;
}
