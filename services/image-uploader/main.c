/*
 * image-uploader — uploads product photos to the stores.
 * See imgup.h and docs/image-uploader.md.
 */
#include "app/ops.h"
#include "imgup.h"
#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"

#include <curl/curl.h>
#include <stddef.h>

static const char imgup_usage[] =
    "usage: image-uploader [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                      [--dump-config] [--help] [--probe [URL]]\n\n"
    "Consumes omnisync.images.v1 (group omnisync-image-uploader) and uploads\n"
    "each photo to its store once (filename = content hash), recording the\n"
    "remote image id.  Photos are read from the ledger (stored by import\n"
    "catalog), never from a local path.  Bad photos and store 4xx answers\n"
    "go to omnisync.dlq.v1; a store's 429/5xx/timeout parks the job for\n"
    "that store in the ledger, retried with the store's backoff while the\n"
    "other stores go on.  Uploads run on store.workers threads: one that\n"
    "outlasts store.slice.ms goes on in the background, parked for its\n"
    "store; SIGTERM waits up to drain.ms for them (the rest stays parked).\n"
    "Run as many instances as wanted: they share the\n"
    "partitions.  Serves /healthz, /readyz and /metrics on http.listen.\n\n"
    "  --probe [URL]    GET URL (default: /healthz on http.listen, from the\n"
    "                   configuration) and exit 0 on 200, else 1";

int main(int argc, char **argv)
{
    struct imgup_cfg c = {0};
    struct imgup *iu = NULL;
    struct ops *ops = NULL;
    struct cfg *cfg;
    char errstr[512];
    int status;

    status = ops_probe_main(argc, argv, imgup_cfg_table(), &c,
                            cfg_passthru_kafka, "image-uploader",
                            offsetof(struct imgup_cfg, http_listen));
    if (status >= 0)
        return status;
    log_init("image-uploader", "info");
    cfg = cfg_load(imgup_cfg_table(), &c, cfg_passthru_kafka, "image-uploader",
                   imgup_usage, argc, argv); /* exits 2 on bad config */
    if (log_init("image-uploader", c.log_level) != 0)
        log_warn("unknown log level '%s'", c.log_level);
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ops = ops_new(&(struct ops_conf){c.http_listen, c.http_liveness_ms,
                                     c.http_ready_timeout_ms},
                  errstr, sizeof(errstr));
    if (ops)
        iu = imgup_new(&c, cfg, ops, errstr, sizeof(errstr));
    if (!iu) {
        log_error("init: %s", errstr);
        status = 1;
        goto out;
    }
    while (!sig_stop_requested()) {
        ops_heartbeat(ops);
        if (imgup_poll(iu) < 0)
            break;
    }
    ops_stop(ops);
    status = imgup_drain(iu);
out:
    imgup_destroy(iu);
    ops_destroy(ops);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return status;
}
