/*
 * cmd_status — `omnisync status [--json]`: what the ledger and the outbox
 * hold, and per store how far the sync is (remote_map against the
 * ledger), what is queued, what was dead-lettered, the API budget used in
 * the current window (Redis) and an ETA.
 */
#include "cli.h"
#include "events/outbox.h"
#include "ledger/catalog.h"
#include "ledger/dlq_record.h"
#include "ledger/ledger.h"
#include "ledger/remote_map.h"
#include "ledger/stores.h"
#include "lib/db.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* One store's sync progress, each number from the table's owner. */
struct status_store {
    const char *name; /* borrowed from the store's settings */
    long long limit, window;
    long long products, products_synced, variants, variants_synced;
    long long photos, photos_synced;
    long long outbox, image_jobs, failed;
};

/* Every counter of `omnisync status`, in the order of status_keys. */
#define STATUS_NKEYS 9
#define STATUS_FIRST_OUTBOX 6
#define STATUS_OLDEST 7

static const char *const status_keys[STATUS_NKEYS] = {
    "locations", "price_lists", "products", "variants",
    "stores",    "movements",   "pending",  "oldest_pending_age_s",
    "sent",
};

struct status {
    long long v[STATUS_NKEYS];
    int has_oldest; /* v[STATUS_OLDEST] is known: something is pending */
    struct store_conf *confs;
    struct status_store *stores;
    size_t nstores;
};

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
static long long status_eta(const struct status_store *st)
{
    long long left = st->products - st->products_synced + st->image_jobs;

    if (left <= 0)
        return 0;
    if (st->limit <= 0 || st->window <= 0)
        return -1;
    return (left * st->window + st->limit - 1) / st->limit;
}

static json_t *status_pair(long long synced, long long total)
{
    return json_pack("{s:I,s:I}", "synced", (json_int_t)synced, "total",
                     (json_int_t)total);
}

/* Per-store JSON array. */
static json_t *status_stores_json(const struct status *s, redisContext *rc)
{
    json_t *arr = json_array();

    for (size_t r = 0; arr && r < s->nstores; r++) {
        const struct status_store *st = &s->stores[r];
        struct status_budget b;
        long long eta = status_eta(st);

        status_budget_read(rc, st->name, &b);
        json_array_append_new(
            arr,
            json_pack(
                "{s:s,s:o,s:o,s:o,s:{s:I,s:I},s:I,s:o,s:o}", "store", st->name,
                "products", status_pair(st->products_synced, st->products),
                "variants", status_pair(st->variants_synced, st->variants),
                "photos", status_pair(st->photos_synced, st->photos), "queued",
                "outbox", (json_int_t)st->outbox, "image_jobs",
                (json_int_t)st->image_jobs, "failed", (json_int_t)st->failed,
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

static void status_stores_print(const struct status *s, redisContext *rc)
{
    for (size_t r = 0; r < s->nstores; r++) {
        const struct status_store *st = &s->stores[r];
        struct status_budget b;
        long long eta = status_eta(st);

        status_budget_read(rc, st->name, &b);
        printf("store %s:\n", st->name);
        printf("  %-22s %lld/%lld\n", "products synced", st->products_synced,
               st->products);
        printf("  %-22s %lld/%lld\n", "variants synced", st->variants_synced,
               st->variants);
        printf("  %-22s %lld/%lld\n", "photos synced", st->photos_synced,
               st->photos);
        printf("  %-22s %lld outbox, %lld image jobs\n", "queued", st->outbox,
               st->image_jobs);
        printf("  %-22s %lld\n", "failed (DLQ)", st->failed);
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

/* The ledger's counters, each from the table's owner. */
static int status_counts_read(PGconn *pg, struct status *s, char *err,
                              size_t err_size)
{
    struct catalog_counts cat;
    struct outbox_counts ob;

    if (ledger_counts(pg, &s->v[0], &s->v[5], err, err_size) < 0 ||
        catalog_counts(pg, &cat, err, err_size) < 0 ||
        stores_count(pg, &s->v[4], err, err_size) < 0 ||
        outbox_counts(pg, &ob, err, err_size) < 0)
        return -1;
    s->v[1] = cat.price_lists;
    s->v[2] = cat.products;
    s->v[3] = cat.variants;
    s->v[6] = ob.pending;
    s->v[STATUS_OLDEST] = ob.oldest_pending_age_s;
    s->has_oldest = ob.has_oldest;
    s->v[8] = ob.sent;
    return 0;
}

/* One store's progress: what its price list publishes (catalog), what
 * remote_map holds, what is queued in the outbox, what was dead-lettered.
 */
static int status_store_read(PGconn *pg, const struct store_conf *conf,
                             struct status_store *st, char *err,
                             size_t err_size)
{
    struct catalog_publishable pub;
    struct remote_map_progress prog;

    st->name = conf->name;
    st->limit = conf->api_limit;
    st->window = conf->api_window;
    if (catalog_publishable_count(pg, conf->price_list_id, &pub, err,
                                  err_size) < 0 ||
        remote_map_progress(pg, conf->id, &prog, err, err_size) < 0 ||
        outbox_pending_count(pg, conf->name, &st->outbox, err, err_size) < 0 ||
        dlq_record_count(pg, conf->id, &st->failed, err, err_size) < 0)
        return -1;
    st->products = pub.products;
    st->variants = pub.variants;
    st->photos = pub.photos;
    st->products_synced = prog.products_synced;
    st->variants_synced = prog.variants_synced;
    st->photos_synced = prog.photos_synced;
    st->image_jobs = prog.photos_queued;
    return 0;
}

/* Everything status shows from the ledger, read in one snapshot
 * (REPEATABLE READ), as the single statement it replaced did. */
static int status_read(PGconn *pg, struct status *s, char *err, size_t err_size)
{
    size_t i;

    if (db_cmd(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL,
               "begin", err, err_size) < 0)
        return -1;
    if (status_counts_read(pg, s, err, err_size) < 0 ||
        stores_settings_load_all(pg, &s->confs, &s->nstores, err, err_size) < 0)
        goto fail;
    s->stores = calloc(s->nstores + 1, sizeof(*s->stores));
    if (!s->stores) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    for (i = 0; i < s->nstores; i++)
        if (status_store_read(pg, &s->confs[i], &s->stores[i], err, err_size) <
            0)
            goto fail;
    db_rollback(pg); /* read only: nothing to keep */
    return 0;
fail:
    db_rollback(pg);
    return -1;
}

static void status_free(struct status *s)
{
    stores_free_all(s->confs, s->nstores);
    free(s->stores);
}

static json_t *status_json(const struct status *s, redisContext *rc)
{
    json_t *root = json_object(), *outbox = json_object(), *target;
    int i;

    for (i = 0; root && outbox && i < STATUS_NKEYS; i++) {
        target = i >= STATUS_FIRST_OUTBOX ? outbox : root;
        json_object_set_new(target, status_keys[i],
                            i == STATUS_OLDEST && !s->has_oldest
                                ? json_null()
                                : json_integer(s->v[i]));
    }
    json_object_set_new(root, "outbox", outbox);
    json_object_set_new(root, "store_sync", status_stores_json(s, rc));
    return root;
}

static void status_print(const struct status *s, redisContext *rc)
{
    int i;

    for (i = 0; i < STATUS_NKEYS; i++) {
        if (i == STATUS_FIRST_OUTBOX)
            printf("outbox:\n");
        if (i == STATUS_OLDEST && !s->has_oldest)
            printf("  %-22s -\n", status_keys[i]);
        else
            printf("%s%-*s %lld\n", i >= STATUS_FIRST_OUTBOX ? "  " : "",
                   i >= STATUS_FIRST_OUTBOX ? 22 : 24, status_keys[i], s->v[i]);
    }
    status_stores_print(s, rc);
}

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
    struct status st;
    PGconn *pg;
    redisContext *rc = NULL;

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
    memset(&st, 0, sizeof(st));
    ret = CLI_FAIL;
    if (status_read(pg, &st, err, sizeof(err)) < 0) {
        cli_err(CLI_FAIL, "%s", err);
        goto out;
    }
    rc = status_redis();
    if (as_json) {
        ret = cli_json_print(status_json(&st, rc));
        goto out;
    }
    status_print(&st, rc);
    ret = CLI_OK;
out:
    if (rc)
        redisFree(rc);
    status_free(&st);
    PQfinish(pg);
    return ret;
}
