/*
 * cmd_status — `omnisync status [--json]`: what the ledger and the outbox
 * hold, and per store how far the sync is (remote_map against the
 * ledger), what is queued, what was dead-lettered, the API budget used in
 * the current window (Redis) and an ETA.
 */
#include "cli.h"
#include "lib/db.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Per store, one row; columns in the order of status_store_keys. */
#define STATUS_SQL_STORES                                                      \
    "SELECT s.name, s.api_limit, s.api_window,"                                \
    " (SELECT count(*) FROM product p WHERE NOT p.archived AND EXISTS"         \
    "  (SELECT 1 FROM variant v JOIN price pr ON pr.variant_id = v.id"         \
    "   AND pr.price_list_id = s.price_list_id WHERE v.product_id = p.id"      \
    "   AND NOT v.archived)),"                                                 \
    " (SELECT count(*) FROM remote_map rm JOIN product p ON p.id = "           \
    "rm.local_id"                                                              \
    "  WHERE rm.store_id = s.id AND rm.entity = 'product' AND rm.remote_id > " \
    "0"                                                                        \
    "  AND NOT p.archived AND coalesce(rm.payload_hash, '') <> ''),"           \
    " (SELECT count(*) FROM variant v JOIN product p ON p.id = v.product_id"   \
    "  JOIN price pr ON pr.variant_id = v.id"                                  \
    "  AND pr.price_list_id = s.price_list_id"                                 \
    "  WHERE NOT v.archived AND NOT p.archived),"                              \
    " (SELECT count(*) FROM remote_map rm JOIN variant v ON v.id = "           \
    "rm.local_id"                                                              \
    "  JOIN product p ON p.id = v.product_id WHERE rm.store_id = s.id"         \
    "  AND rm.entity = 'variant' AND rm.remote_id > 0 AND NOT v.archived"      \
    "  AND NOT p.archived AND coalesce(rm.payload_hash, '') <> ''),"           \
    " (SELECT count(*) FROM product_photo pp JOIN product p"                   \
    "  ON p.id = pp.product_id WHERE NOT p.archived),"                         \
    " (SELECT count(*) FROM product_photo pp JOIN product p"                   \
    "  ON p.id = pp.product_id JOIN remote_map rm ON rm.store_id = s.id"       \
    "  AND rm.entity = 'image' AND rm.local_id = pp.id AND rm.remote_id > 0"   \
    "  AND rm.payload_hash = pp.sha256 WHERE NOT p.archived),"                 \
    " (SELECT count(*) FROM outbox o WHERE o.sent_at IS NULL"                  \
    "  AND (o.store = s.name OR o.store IS NULL)),"                            \
    " (SELECT count(*) FROM product_photo pp JOIN product p"                   \
    "  ON p.id = pp.product_id JOIN remote_map pm ON pm.store_id = s.id"       \
    "  AND pm.entity = 'product' AND pm.local_id = p.id AND pm.remote_id > 0"  \
    "  LEFT JOIN remote_map rm ON rm.store_id = s.id AND rm.entity = 'image'"  \
    "  AND rm.local_id = pp.id WHERE NOT p.archived"                           \
    "  AND rm.payload_hash IS DISTINCT FROM pp.sha256 AND NOT EXISTS"          \
    "  (SELECT 1 FROM dlq_record d WHERE d.store_id = s.id"                    \
    "   AND d.entity = 'image' AND d.local_id = pp.id)),"                      \
    " (SELECT count(*) FROM dlq_record d WHERE d.store_id = s.id)"             \
    " FROM store s ORDER BY s.name"

#define ST_NAME 0
#define ST_LIMIT 1
#define ST_WINDOW 2
#define ST_PRODUCTS 3
#define ST_PRODUCTS_SYNCED 4
#define ST_VARIANTS 5
#define ST_VARIANTS_SYNCED 6
#define ST_PHOTOS 7
#define ST_PHOTOS_SYNCED 8
#define ST_OUTBOX 9
#define ST_IMAGE_JOBS 10
#define ST_FAILED 11

/* The store's budget window (docs/budget.md), from Redis. */
struct status_budget {
    int known;
    long long used, limit, resets_in_s, paused_s;
};

static long long status_ll(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

/* Read omnisync:budget:{<store>}; known = 0 when Redis is unavailable. */
static void status_budget_read(redisContext *rc, const char *store,
                               struct status_budget *b)
{
    redisReply *r = NULL, *t = NULL;
    long long now_ms, start, win;

    memset(b, 0, sizeof(*b));
    if (!rc)
        return;
    t = redisCommand(rc, "TIME");
    r = redisCommand(rc,
                     "HMGET omnisync:budget:{%s} used limit "
                     "window_start_ms window_ms pause_until_ms",
                     store);
    if (!t || t->type != REDIS_REPLY_ARRAY || t->elements != 2 || !r ||
        r->type != REDIS_REPLY_ARRAY || r->elements != 5)
        goto out;
    now_ms = status_ll(t->element[0]->str) * 1000 +
             status_ll(t->element[1]->str) / 1000;
    b->known = 1;
    start = status_ll(r->element[2]->str);
    win = status_ll(r->element[3]->str);
    b->limit = status_ll(r->element[1]->str);
    if (start > 0 && now_ms < start + win) {
        b->used = status_ll(r->element[0]->str);
        b->resets_in_s = (start + win - now_ms + 999) / 1000;
    }
    if (status_ll(r->element[4]->str) > now_ms)
        b->paused_s = (status_ll(r->element[4]->str) - now_ms + 999) / 1000;
out:
    if (r)
        freeReplyObject(r);
    if (t)
        freeReplyObject(t);
}

static redisContext *status_redis(void)
{
    const char *addr = cli_config()->redis_addr;
    struct timeval tv = {1, 0};
    char host[256];
    const char *colon;
    redisContext *rc;

    if (!addr || !*addr || !(colon = strrchr(addr, ':')) ||
        (size_t)(colon - addr) >= sizeof(host))
        return NULL;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
    rc = redisConnectWithTimeout(host, (int)status_ll(colon + 1), tv);
    if (!rc || rc->err) {
        if (rc)
            redisFree(rc);
        return NULL;
    }
    redisSetTimeout(rc, tv);
    return rc;
}

/*
 * ETA in seconds: the calls still needed (a product call per product not
 * synced, one upload per queued photo) at the store's limit per window,
 * or -1 when nothing is left.
 */
static long long status_eta(PGresult *res, int r)
{
    long long left = status_ll(PQgetvalue(res, r, ST_PRODUCTS)) -
                     status_ll(PQgetvalue(res, r, ST_PRODUCTS_SYNCED)) +
                     status_ll(PQgetvalue(res, r, ST_IMAGE_JOBS));
    long long lim = status_ll(PQgetvalue(res, r, ST_LIMIT));
    long long win = status_ll(PQgetvalue(res, r, ST_WINDOW));

    if (left <= 0)
        return 0;
    if (lim <= 0 || win <= 0)
        return -1;
    return (left * win + lim - 1) / lim;
}

static json_t *status_pair(PGresult *res, int r, int synced, int total)
{
    return json_pack("{s:I,s:I}", "synced",
                     (json_int_t)status_ll(PQgetvalue(res, r, synced)), "total",
                     (json_int_t)status_ll(PQgetvalue(res, r, total)));
}

/* Per-store JSON array. */
static json_t *status_stores_json(PGresult *res, redisContext *rc)
{
    json_t *arr = json_array();

    for (int r = 0; arr && r < PQntuples(res); r++) {
        struct status_budget b;
        long long eta = status_eta(res, r);

        status_budget_read(rc, PQgetvalue(res, r, ST_NAME), &b);
        json_array_append_new(
            arr,
            json_pack(
                "{s:s,s:o,s:o,s:o,s:{s:I,s:I},s:I,s:o,s:o}", "store",
                PQgetvalue(res, r, ST_NAME), "products",
                status_pair(res, r, ST_PRODUCTS_SYNCED, ST_PRODUCTS),
                "variants",
                status_pair(res, r, ST_VARIANTS_SYNCED, ST_VARIANTS), "photos",
                status_pair(res, r, ST_PHOTOS_SYNCED, ST_PHOTOS), "queued",
                "outbox", (json_int_t)status_ll(PQgetvalue(res, r, ST_OUTBOX)),
                "image_jobs",
                (json_int_t)status_ll(PQgetvalue(res, r, ST_IMAGE_JOBS)),
                "failed", (json_int_t)status_ll(PQgetvalue(res, r, ST_FAILED)),
                "budget",
                b.known
                    ? json_pack("{s:I,s:I,s:I,s:I}", "used", (json_int_t)b.used,
                                "limit", (json_int_t)b.limit, "resets_in_s",
                                (json_int_t)b.resets_in_s, "paused_s",
                                (json_int_t)b.paused_s)
                    : json_null(),
                "eta_s", eta >= 0 ? json_integer(eta) : json_null()));
    }
    return arr;
}

static void status_stores_print(PGresult *res, redisContext *rc)
{
    for (int r = 0; r < PQntuples(res); r++) {
        struct status_budget b;
        long long eta = status_eta(res, r);

        status_budget_read(rc, PQgetvalue(res, r, ST_NAME), &b);
        printf("store %s:\n", PQgetvalue(res, r, ST_NAME));
        printf("  %-22s %s/%s\n", "products synced",
               PQgetvalue(res, r, ST_PRODUCTS_SYNCED),
               PQgetvalue(res, r, ST_PRODUCTS));
        printf("  %-22s %s/%s\n", "variants synced",
               PQgetvalue(res, r, ST_VARIANTS_SYNCED),
               PQgetvalue(res, r, ST_VARIANTS));
        printf("  %-22s %s/%s\n", "photos synced",
               PQgetvalue(res, r, ST_PHOTOS_SYNCED),
               PQgetvalue(res, r, ST_PHOTOS));
        printf("  %-22s %s outbox, %s image jobs\n", "queued",
               PQgetvalue(res, r, ST_OUTBOX),
               PQgetvalue(res, r, ST_IMAGE_JOBS));
        printf("  %-22s %s\n", "failed (DLQ)", PQgetvalue(res, r, ST_FAILED));
        if (b.known)
            printf("  %-22s %lld/%lld (window resets in %lld s%s)\n",
                   "budget used", b.used, b.limit, b.resets_in_s,
                   b.paused_s ? ", paused" : "");
        else
            printf("  %-22s unknown (Redis unavailable)\n", "budget used");
        if (eta >= 0)
            printf("  %-22s %lld s\n", "eta", eta);
        else
            printf("  %-22s -\n", "eta");
    }
}

/* One statement, one row: the counters in the order of status_keys. */
#define STATUS_SQL                                                             \
    "SELECT (SELECT count(*) FROM location),"                                  \
    " (SELECT count(*) FROM price_list),"                                      \
    " (SELECT count(*) FROM product),"                                         \
    " (SELECT count(*) FROM variant),"                                         \
    " (SELECT count(*) FROM store),"                                           \
    " (SELECT count(*) FROM stock_movement),"                                  \
    " (SELECT count(*) FROM outbox WHERE sent_at IS NULL),"                    \
    " (SELECT floor(extract(epoch FROM clock_timestamp() - min(created_at)))"  \
    "  ::bigint FROM outbox WHERE sent_at IS NULL),"                           \
    " (SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL)"

static const char *const status_keys[] = {
    "locations", "price_lists", "products", "variants",
    "stores",    "movements",   "pending",  "oldest_pending_age_s",
    "sent",
};
#define STATUS_NKEYS 9
#define STATUS_FIRST_OUTBOX 6

/**
 * @brief `omnisync status [--json]`.  JSON: {"locations", "price_lists",
 *        "products", "variants", "stores", "movements", "outbox":
 *        {"pending", "oldest_pending_age_s" (null when none), "sent"}}.
 * @returns CLI_OK, CLI_FAIL or CLI_USAGE.
 */
int cmd_status(int argc, char **argv)
{
    int as_json = 0, npos, ret, i;
    const struct cli_opt opts[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    const char *pos[1];
    char err[1024];
    PGconn *pg;
    PGresult *res = NULL, *sres = NULL;
    redisContext *rc = NULL;
    json_t *root, *outbox, *target;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (cli_is_help(argv[i])) {
            printf("usage: omnisync status [--json]\n"
                   "  Counts of locations, price lists, products, variants,\n"
                   "  stores and stock movements; outbox rows pending (with\n"
                   "  the oldest one's age in seconds) and sent.  Per store:\n"
                   "  products/variants/photos synced of total, queued\n"
                   "  (outbox, image jobs), failed (dead-lettered), the API\n"
                   "  budget used in the current window and an ETA.\n");
            return CLI_OK;
        }
    ret = cli_args_parse("status", argc, argv, opts, pos, 0, &npos);
    if (ret != CLI_OK) {
        fprintf(stderr, "usage: omnisync status [--json]\n");
        return ret;
    }
    pg = cli_pg();
    if (!pg)
        return CLI_FAIL;
    ret = CLI_FAIL;
    res =
        db_exec(pg, STATUS_SQL, 0, NULL, "read status", err, sizeof(err), NULL);
    if (!res) {
        cli_err(CLI_FAIL, "%s", err);
        goto out;
    }
    sres = db_exec(pg, STATUS_SQL_STORES, 0, NULL, "read store status", err,
                   sizeof(err), NULL);
    if (!sres) {
        cli_err(CLI_FAIL, "%s", err);
        goto out;
    }
    rc = status_redis();
    if (as_json) {
        root = json_object();
        outbox = json_object();
        for (i = 0; root && outbox && i < STATUS_NKEYS; i++) {
            target = i >= STATUS_FIRST_OUTBOX ? outbox : root;
            json_object_set_new(
                target, status_keys[i],
                PQgetisnull(res, 0, i)
                    ? json_null()
                    : json_integer(strtoll(PQgetvalue(res, 0, i), NULL, 10)));
        }
        json_object_set_new(root, "outbox", outbox);
        json_object_set_new(root, "store_sync", status_stores_json(sres, rc));
        ret = cli_json_print(root);
        goto out;
    }
    for (i = 0; i < STATUS_NKEYS; i++) {
        if (i == STATUS_FIRST_OUTBOX)
            printf("outbox:\n");
        printf("%s%-*s %s\n", i >= STATUS_FIRST_OUTBOX ? "  " : "",
               i >= STATUS_FIRST_OUTBOX ? 22 : 24, status_keys[i],
               PQgetisnull(res, 0, i) ? "-" : PQgetvalue(res, 0, i));
    }
    status_stores_print(sres, rc);
    ret = CLI_OK;
out:
    if (rc)
        redisFree(rc);
    PQclear(sres);
    PQclear(res);
    PQfinish(pg);
    return ret;
}
