/*
 * catalog-publisher — publishes catalog.product snapshots to the stores.
 * See catpub.h and docs/catalog-publisher.md.
 */
#include "catpub.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"

#include <curl/curl.h>
#include <stddef.h>

static const char catpub_usage[] =
    "usage: catalog-publisher [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                         [--dump-config] [--help]\n\n"
    "Consumes omnisync.catalog.v1 (group omnisync-catalog-publisher) and\n"
    "creates or updates categories, products and variants in every target\n"
    "store, skipping unchanged payloads.  Store 4xx answers go to\n"
    "omnisync.dlq.v1; 429/5xx are retried under the API budget.  SIGTERM\n"
    "finishes or abandons the current message (uncommitted) and exits 0.";

int main(int argc, char **argv)
{
    struct catpub_cfg c = {0};
    struct catpub *cp;
    struct cfg *cfg;
    char errstr[512];
    int status;

    log_init("catalog-publisher", "info");
    cfg = cfg_load(catpub_cfg_table(), &c, cfg_passthru_kafka,
                   "catalog-publisher", catpub_usage, argc,
                   argv); /* exits 2 on bad config */
    if (log_init("catalog-publisher", c.log_level) != 0)
        log_warn("unknown log level '%s'", c.log_level);
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cp = catpub_new(&c, cfg, errstr, sizeof(errstr));
    if (!cp) {
        log_error("init: %s", errstr);
        curl_global_cleanup();
        cfg_destroy(cfg);
        return 1;
    }
    while (!sig_stop_requested())
        if (catpub_poll(cp) < 0)
            break;
    status = catpub_drain(cp, (int)c.drain_ms);
    catpub_destroy(cp);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return status;
}
