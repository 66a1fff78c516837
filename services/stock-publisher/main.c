/*
 * stock-publisher — pushes stock and prices to the stores in batches.
 * See stockpub.h and docs/stock-publisher.md.
 */
#include "app/ops.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "stockpub.h"

#include <curl/curl.h>
#include <stddef.h>

static const char stockpub_usage[] =
    "usage: stock-publisher [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                       [--dump-config] [--help] [--probe [URL]]\n\n"
    "Consumes omnisync.stock.v1 and pushes each store's latest available\n"
    "quantities and prices with variants_group_update, up to\n"
    "stockpub.batch.max variants a call.  Each store's flush runs on one of\n"
    "store.workers threads; a store whose flush outlasts store.slice.ms\n"
    "keeps its changes pending behind it while the others go on.  SIGTERM\n"
    "flushes what is pending and exits 0.  Serves /healthz, /readyz and\n"
    "/metrics on http.listen.\n\n"
    "  --probe [URL]    GET URL (default: /healthz on http.listen, from the\n"
    "                   configuration) and exit 0 on 200, else 1";

int main(int argc, char **argv)
{
    struct stockpub_cfg c = {0};
    struct stockpub *sp = NULL;
    struct ops *ops = NULL;
    struct cfg *cfg;
    char errstr[512];
    int status;

    status = ops_probe_main(argc, argv, stockpub_cfg_table(), &c,
                            cfg_passthru_kafka, "stock-publisher",
                            offsetof(struct stockpub_cfg, http_listen));
    if (status >= 0)
        return status;
    log_init("stock-publisher", "info");
    cfg = cfg_load(stockpub_cfg_table(), &c, cfg_passthru_kafka,
                   "stock-publisher", stockpub_usage, argc,
                   argv); /* exits 2 on bad config */
    if (log_init("stock-publisher", c.log_level) < 0)
        log_warn("log.level: unknown level '%s'", c.log_level);
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ops = ops_new(&(struct ops_conf){c.http_listen, c.http_liveness_ms,
                                     c.http_ready_timeout_ms},
                  errstr, sizeof(errstr));
    if (ops)
        sp = stockpub_new(&c, cfg, ops, errstr, sizeof(errstr));
    if (!sp) {
        log_error("init: %s", errstr);
        status = 1;
        goto out;
    }
    while (!sig_stop_requested()) {
        ops_heartbeat(ops);
        if (stockpub_poll(sp) < 0)
            break;
    }
    ops_stop(ops);
    status = stockpub_drain(sp, (long)c.drain_ms);
out:
    stockpub_destroy(sp);
    ops_destroy(ops);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return status;
}
