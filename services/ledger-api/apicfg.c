#include "apicfg.h"

#include "lib/cfg.h"

#include <stddef.h>

static const struct cfg_opt api_opts[] = {
    CFG_ROW_PG_DSN(struct api_cfg, pg_dsn, CFG_REQUIRED),
    {"api.listen", CFG_STR, "127.0.0.1:8090", 0, 0, 0,
     offsetof(struct api_cfg, api_listen),
     "host:port of the ledger API (/v1/...; apart from http.listen)"},
    {"api.max_body", CFG_INT, "4194304", 1024, 268435456, 0,
     offsetof(struct api_cfg, api_max_body),
     "largest request body in bytes (larger: 413)"},
    {"api.max_items", CFG_INT, "10000", 1, 1000000, 0,
     offsetof(struct api_cfg, api_max_items),
     "most items in one batch (more: 413)"},
    {"api.pg.pool", CFG_INT, "4", 1, 256, 0,
     offsetof(struct api_cfg, api_pg_pool),
     "ledger connections shared by the API's requests"},
    {"api.max_conns", CFG_INT, "64", 1, 4096, 0,
     offsetof(struct api_cfg, api_max_conns), "concurrent API connections"},
    /* Unset or empty: no Kafka intake (the HTTP API alone). */
    CFG_ROW_KAFKA_BOOTSTRAP(struct api_cfg, kafka_bootstrap, 0),
    CFG_ROW_GROUP_ID(struct api_cfg, group_id, "omnisync-ledger-intake"),
    CFG_ROW_BACKOFF_MAX_MS(struct api_cfg, backoff_max_ms, "5000"),
    CFG_ROW_DRAIN_MS(struct api_cfg, drain_ms),
    CFG_ROW_LOG_LEVEL(struct api_cfg, log_level, "info"),
    CFG_ROWS_HTTP(struct api_cfg, API_HTTP_LISTEN),
    {NULL},
};

const struct cfg_opt *api_cfg_table(void)
{
    return api_opts;
}
