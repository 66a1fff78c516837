/*
 * stock-publisher — pushes stock and prices to the stores in batches.
 * See stockpub.h and docs/stock-publisher.md.
 */
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "stockpub.h"

#include <curl/curl.h>
#include <stddef.h>

static const char stockpub_usage[] =
    "usage: stock-publisher [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                       [--dump-config] [--help]\n\n"
    "Consumes omnisync.stock.v1 and pushes each store's latest available\n"
    "quantities and prices with variants_group_update, up to\n"
    "stockpub.batch.max variants a call.  SIGTERM flushes what is pending\n"
    "and exits 0.";

int main(int argc, char **argv)
{
    struct stockpub_cfg c = {0};
    struct stockpub *sp;
    struct cfg *cfg;
    char errstr[512];
    int status;

    log_init("stock-publisher", "info");
    cfg = cfg_load(stockpub_cfg_table(), &c, cfg_passthru_kafka,
                   "stock-publisher", stockpub_usage, argc,
                   argv); /* exits 2 on bad config */
    if (log_init("stock-publisher", c.log_level) < 0)
        log_warn("log.level: unknown level '%s'", c.log_level);
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sp = stockpub_new(&c, cfg, errstr, sizeof(errstr));
    if (!sp) {
        log_error("init: %s", errstr);
        curl_global_cleanup();
        cfg_destroy(cfg);
        return 1;
    }
    while (!sig_stop_requested())
        if (stockpub_poll(sp) < 0)
            break;
    status = stockpub_drain(sp, (long)c.drain_ms);
    stockpub_destroy(sp);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return status;
}
