/*
 * catalog-publisher — publishes catalog.product snapshots to the stores.
 * See catpub.h and docs/catalog-publisher.md.
 */
#include "app/ops.h"
#include "catpub.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"

#include <curl/curl.h>
#include <stddef.h>

static const char catpub_usage[] =
    "usage: catalog-publisher [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                         [--dump-config] [--help] [--probe [URL]]\n\n"
    "Consumes omnisync.catalog.v1 (group omnisync-catalog-publisher) and\n"
    "creates or updates categories, products and variants in every target\n"
    "store, skipping unchanged payloads.  Store 4xx answers go to\n"
    "omnisync.dlq.v1; a store's 429/5xx/timeout parks the product for\n"
    "that store in the ledger, retried with the store's backoff while the\n"
    "other stores go on.  Store calls run on store.workers threads: a\n"
    "store's work that outlasts store.slice.ms goes on in the background,\n"
    "parked for that store, while the others go on (docs/isolation.md).\n"
    "SIGTERM finishes or abandons the current message (uncommitted), waits\n"
    "up to drain.ms for calls in flight (the rest stays parked) and exits 0.\n"
    "Serves /healthz, /readyz and /metrics on http.listen.\n\n"
    "  --probe [URL]    GET URL (default: /healthz on http.listen, from the\n"
    "                   configuration) and exit 0 on 200, else 1";

int main(int argc, char **argv)
{
    struct catpub_cfg c = {0};
    struct catpub *cp = NULL;
    struct ops *ops = NULL;
    struct cfg *cfg;
    char errstr[512];
    int status;

    status = ops_probe_main(argc, argv, catpub_cfg_table(), &c,
                            cfg_passthru_kafka, "catalog-publisher",
                            offsetof(struct catpub_cfg, http_listen));
    if (status >= 0)
        return status;
    log_init("catalog-publisher", "info");
    cfg = cfg_load(catpub_cfg_table(), &c, cfg_passthru_kafka,
                   "catalog-publisher", catpub_usage, argc,
                   argv); /* exits 2 on bad config */
    if (log_init("catalog-publisher", c.log_level) != 0)
        log_warn("unknown log level '%s'", c.log_level);
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ops = ops_new(&(struct ops_conf){c.http_listen, c.http_liveness_ms,
                                     c.http_ready_timeout_ms},
                  errstr, sizeof(errstr));
    if (ops)
        cp = catpub_new(&c, cfg, ops, errstr, sizeof(errstr));
    if (!cp) {
        log_error("init: %s", errstr);
        status = 1;
        goto out;
    }
    while (!sig_stop_requested()) {
        ops_heartbeat(ops);
        if (catpub_poll(cp) < 0)
            break;
    }
    ops_stop(ops);
    status = catpub_drain(cp, (int)c.drain_ms);
out:
    catpub_destroy(cp);
    ops_destroy(ops);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return status;
}
