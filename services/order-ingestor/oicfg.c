#include "oicfg.h"

#include "app/storeset.h"
#include "lib/cfg.h"

#include <stddef.h>
#include <string.h>

static const struct cfg_opt oi_opts[] = {
    CFG_ROW_PG_DSN(struct oi_cfg, pg_dsn, CFG_REQUIRED),
    CFG_ROW_KAFKA_BOOTSTRAP(struct oi_cfg, kafka_bootstrap, CFG_REQUIRED),
    CFG_ROW_REDIS_ADDR(struct oi_cfg, redis_addr, "", 0),
    CFG_ROW_SECRET_KEY(struct oi_cfg, secret_key),
    {"orders.mode", CFG_STR, "all", 0, 0, 0, offsetof(struct oi_cfg, mode),
     "all | intake (webhooks + polling -> Kafka) | apply (Kafka -> ledger)"},
    {"intake.listen", CFG_STR, "127.0.0.1:8081", 0, 0, 0,
     offsetof(struct oi_cfg, intake_listen),
     "host:port of the webhook endpoint (public; apart from http.listen)"},
    {"intake.public_url", CFG_STR, "", 0, 0, 0,
     offsetof(struct oi_cfg, intake_public_url),
     "base URL the stores post webhooks to (each platform registers its "
     "address under it); empty: http://<intake.listen host>:<its port>, "
     "127.0.0.1 for 0.0.0.0"},
    {"intake.max_body", CFG_INT, "1048576", 1024, 268435456, 0,
     offsetof(struct oi_cfg, intake_max_body),
     "largest webhook body in bytes (larger: 413)"},
    {"intake.ack.timeout.ms", CFG_INT, "30000", 100, 600000, 0,
     offsetof(struct oi_cfg, intake_ack_ms),
     "longest wait for Kafka's delivery report before answering 503"},
    {"poll.interval.ms", CFG_INT, "60000", 100, 86400000, 0,
     offsetof(struct oi_cfg, poll_interval_ms),
     "polling backstop interval per store"},
    {"poll.since", CFG_STR, "", 0, 0, 0, offsetof(struct oi_cfg, poll_since),
     "first poll of a store without a cursor starts here (RFC 3339; "
     "empty: 24 hours ago)"},
    {"poll.per_page", CFG_INT, "250", 10, 250, 0,
     offsetof(struct oi_cfg, poll_per_page), "orders per polled page"},
    STORESET_CFG_REFRESH_MS(struct oi_cfg, stores_refresh_ms),
    CFG_ROW_GROUP_ID(struct oi_cfg, group_id, "omnisync-order-apply"),
    CFG_ROW_BACKOFF_MAX_MS(struct oi_cfg, backoff_max_ms, "5000"),
    CFG_ROW_DRAIN_MS(struct oi_cfg, drain_ms),
    CFG_ROW_LOG_LEVEL(struct oi_cfg, log_level, "info"),
    CFG_ROWS_HTTP(struct oi_cfg, OI_HTTP_LISTEN),
    {NULL},
};

const struct cfg_opt *oi_cfg_table(void)
{
    return oi_opts;
}

int oi_mode_intake(const struct oi_cfg *c)
{
    return strcmp(c->mode, "all") == 0 || strcmp(c->mode, "intake") == 0;
}

int oi_mode_apply(const struct oi_cfg *c)
{
    return strcmp(c->mode, "all") == 0 || strcmp(c->mode, "apply") == 0;
}
