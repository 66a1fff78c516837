/*
 * image-uploader — uploads product photos to the stores.
 * See imgup.h and docs/image-uploader.md.
 */
#include "lib/cfg.h"
#include "imgup.h"
#include "lib/log.h"
#include "lib/sig.h"

#include <curl/curl.h>
#include <stddef.h>

static const char imgup_usage[] =
    "usage: image-uploader [-c FILE] [-o KEY=VALUE]... [--log-level L]\n"
    "                      [--dump-config] [--help]\n\n"
    "Consumes omnisync.images.v1 (group omnisync-image-uploader) and uploads\n"
    "each photo to its store once (filename = content hash), recording the\n"
    "remote image id.  Bad photos and store 4xx answers go to\n"
    "omnisync.dlq.v1; 429/5xx are retried under the API budget.  Run as\n"
    "many instances as wanted: they share the partitions.";

int main(int argc, char **argv)
{
    struct imgup_cfg c = {0};
    struct imgup *iu;
    struct cfg *cfg;
    char errstr[512];
    int status;

    log_init("image-uploader", "info");
    cfg = cfg_load(imgup_cfg_table(), &c, cfg_passthru_kafka, "image-uploader",
                   imgup_usage, argc, argv); /* exits 2 on bad config */
    if (log_init("image-uploader", c.log_level) != 0)
        log_warn("unknown log level '%s'", c.log_level);
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    iu = imgup_new(&c, cfg, errstr, sizeof(errstr));
    if (!iu) {
        log_error("init: %s", errstr);
        curl_global_cleanup();
        cfg_destroy(cfg);
        return 1;
    }
    while (!sig_stop_requested())
        if (imgup_poll(iu) < 0)
            break;
    status = imgup_drain(iu);
    imgup_destroy(iu);
    curl_global_cleanup();
    cfg_destroy(cfg);
    return status;
}
