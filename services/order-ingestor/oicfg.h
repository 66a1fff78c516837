/*
 * oicfg — configuration of order-ingestor (docs/order-ingestor.md).
 */
#ifndef OMNI_OICFG_H
#define OMNI_OICFG_H

struct cfg_opt;

/* Typed configuration, filled by cfg_load() from oi_cfg_table(). */
struct oi_cfg {
    char *pg_dsn;                /* pg.dsn (secret) */
    char *kafka_bootstrap;       /* kafka.bootstrap */
    char *redis_addr;            /* redis.addr (intake: API budget) */
    char *secret_key;            /* secret.key (intake: store passwords) */
    char *mode;                  /* orders.mode: all | intake | apply */
    char *intake_listen;         /* intake.listen host:port */
    char *intake_public_url;     /* intake.public_url (webhook addresses) */
    long long intake_max_body;   /* intake.max_body bytes */
    long long intake_ack_ms;     /* intake.ack.timeout.ms: wait for Kafka */
    long long poll_interval_ms;  /* poll.interval.ms */
    char *poll_since;            /* poll.since: first cursor ("" = -24 h) */
    long long poll_per_page;     /* poll.per_page */
    long long stores_refresh_ms; /* stores.refresh.ms */
    char *group_id;              /* group.id of the apply consumer */
    long long backoff_max_ms;    /* backoff.max.ms of the apply */
    long long drain_ms;          /* drain.ms: SIGTERM flush deadline */
    char *log_level;             /* log.level */
};

/** @returns the option table (static, ends with {NULL}). */
const struct cfg_opt *oi_cfg_table(void);

/** @returns 1 when @p mode runs the intake (all, intake). */
int oi_mode_intake(const struct oi_cfg *c);

/** @returns 1 when @p mode runs the apply (all, apply). */
int oi_mode_apply(const struct oi_cfg *c);

#endif
