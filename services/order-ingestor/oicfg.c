#include "oicfg.h"

#include "lib/cfg.h"

#include <stddef.h>
#include <string.h>

static const struct cfg_opt oi_opts[] = {
    {"pg.dsn", "OMNISYNC_PG", CFG_STR, NULL, 0, 0, CFG_REQUIRED | CFG_SECRET,
     offsetof(struct oi_cfg, pg_dsn), "libpq conninfo of the ledger"},
    {"kafka.bootstrap", "OMNISYNC_KAFKA", CFG_STR, NULL, 0, 0, CFG_REQUIRED,
     offsetof(struct oi_cfg, kafka_bootstrap), "Kafka bootstrap servers"},
    {"redis.addr", "OMNISYNC_REDIS", CFG_STR, "", 0, 0, 0,
     offsetof(struct oi_cfg, redis_addr),
     "Redis host:port (API budget; needed by the intake)"},
    {"mode", "OMNISYNC_ORDERS_MODE", CFG_STR, "all", 0, 0, 0,
     offsetof(struct oi_cfg, mode),
     "all | intake (webhooks + polling -> Kafka) | apply (Kafka -> ledger)"},
    {"intake.listen", "OMNISYNC_INTAKE_LISTEN", CFG_STR, "127.0.0.1:8081", 0, 0,
     0, offsetof(struct oi_cfg, intake_listen),
     "IPv4 address:port of the webhook endpoint"},
    {"intake.public_url", "OMNISYNC_INTAKE_PUBLIC_URL", CFG_STR,
     "http://127.0.0.1:8081", 0, 0, 0,
     offsetof(struct oi_cfg, intake_public_url),
     "base URL the stores post webhooks to (each platform registers its "
     "address under it)"},
    {"intake.max_body", "OMNISYNC_INTAKE_MAX_BODY", CFG_INT, "1048576", 1024,
     268435456, 0, offsetof(struct oi_cfg, intake_max_body),
     "largest webhook body in bytes (larger: 413)"},
    {"intake.ack.timeout.ms", "OMNISYNC_INTAKE_ACK_TIMEOUT_MS", CFG_INT,
     "30000", 100, 600000, 0, offsetof(struct oi_cfg, intake_ack_ms),
     "longest wait for Kafka's delivery report before answering 503"},
    {"poll.interval.ms", "OMNISYNC_POLL_INTERVAL_MS", CFG_INT, "60000", 100,
     86400000, 0, offsetof(struct oi_cfg, poll_interval_ms),
     "polling backstop interval per store"},
    {"poll.since", "OMNISYNC_POLL_SINCE", CFG_STR, "", 0, 0, 0,
     offsetof(struct oi_cfg, poll_since),
     "first poll of a store without a cursor starts here (RFC 3339; "
     "empty: 24 hours ago)"},
    {"poll.per_page", "OMNISYNC_POLL_PER_PAGE", CFG_INT, "250", 10, 250, 0,
     offsetof(struct oi_cfg, poll_per_page), "orders per polled page"},
    {"stores.refresh.ms", "OMNISYNC_STORES_REFRESH_MS", CFG_INT, "30000", 100,
     3600000, 0, offsetof(struct oi_cfg, stores_refresh_ms),
     "reload the stores (and register webhooks of new ones) this often"},
    {"apply.group", "OMNISYNC_APPLY_GROUP", CFG_STR, "omnisync-order-apply", 0,
     0, 0, offsetof(struct oi_cfg, group_id), "Kafka consumer group of apply"},
    {"apply.backoff.max.ms", "OMNISYNC_APPLY_BACKOFF_MAX_MS", CFG_INT, "5000",
     100, 600000, 0, offsetof(struct oi_cfg, backoff_max_ms),
     "longest backoff between retries of a transient ledger failure"},
    {"drain.ms", "OMNISYNC_ORDERS_DRAIN_MS", CFG_INT, "10000", 0, 600000, 0,
     offsetof(struct oi_cfg, drain_ms),
     "on SIGTERM, how long to wait for Kafka deliveries"},
    {"log.level", "OMNISYNC_LOG_LEVEL", CFG_STR, "info", 0, 0, 0,
     offsetof(struct oi_cfg, log_level), "error|warn|info|debug"},
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
