#include "catpub.h"

#include "store/budget.h"
#include "store/insales/catalog_map.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "ledger/dlq_record.h"
#include "events/event.h"
#include "events/image_job.h"
#include "lib/kafka.h"
#include "ledger/ledger.h"
#include "lib/log.h"
#include "ledger/remote_map.h"
#include "lib/sig.h"
#include "store/store_client.h"
#include "app/storeset.h"
#include "events/topics.h"
#include "store/work.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CP_PER_PAGE 250       /* products list page in an in-flight lookup */
#define CP_STORES_TTL_S 30    /* reload the store list this often */
#define CP_CATEGORY_LOCK 7001 /* advisory lock class: category creation */

struct catpub {
    struct catpub_cfg cfg;
    PGconn *pg;
    struct kafka_consumer *kc;
    struct consume_loop loop;
    struct kafka_producer *kp; /* image jobs (idempotent) */
    struct dlq *dlq;
    struct budget *b;
    struct storeset *ss;
    time_t stores_at;
    int img_pending; /* image jobs without a delivery report */
    int img_failed;  /* image jobs whose delivery failed */
    int fatal;
    unsigned long long n_calls, n_dlq, n_skipped, n_jobs;
};

static const struct cfg_opt cp_opts[] = {
    CFG_ROW_PG_DSN(struct catpub_cfg, pg_dsn, CFG_REQUIRED),
    CFG_ROW_KAFKA_BOOTSTRAP(struct catpub_cfg, kafka_bootstrap, CFG_REQUIRED),
    CFG_ROW_REDIS_ADDR(struct catpub_cfg, redis_addr, NULL, CFG_REQUIRED),
    CFG_ROW_SECRET_KEY(struct catpub_cfg, secret_key),
    CFG_ROW_GROUP_ID(struct catpub_cfg, group_id, "omnisync-catalog-publisher"),
    CFG_ROW_BACKOFF_MAX_MS(struct catpub_cfg, backoff_max_ms, "30000"),
    {"catpub.lookup.slack.s", CFG_INT, "600", 0, 86400, 0,
     offsetof(struct catpub_cfg, lookup_slack_s),
     "in-flight lookup: list store products updated since the marker "
     "minus this many seconds (clock skew)"},
    CFG_ROW_DRAIN_MS(struct catpub_cfg, drain_ms),
    CFG_ROW_LOG_LEVEL(struct catpub_cfg, log_level, "info"),
    {NULL},
};

const struct cfg_opt *catpub_cfg_table(void)
{
    return cp_opts;
}

/* ---- small helpers ------------------------------------------------------ */

/* (Re)load every store (storeset keeps unchanged clients). */
static int cp_stores_load(struct catpub *cp, char *errstr, size_t errstr_size)
{
    if (storeset_refresh(cp->ss, cp->pg, cp->cfg.secret_key, errstr,
                         errstr_size) < 0)
        return -1;
    cp->stores_at = time(NULL);
    return 0;
}

/* One metered call (catalog class); maps the result onto what is next. */
static enum work_res cp_call(struct catpub *cp, struct storeset_entry *st,
                             enum store_op op, const struct store_req_args *a,
                             struct store_result *r, struct work_err *e)
{
    return work_store_call(st->sc, cp->b, BUDGET_CATALOG, op, a, r, e,
                           &cp->n_calls);
}

static long long cp_jid(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* ---- categories -----------------------------------------------------------
 */

/* The store's categories, fetched at most once per product. */
static enum work_res cp_categories_list(struct catpub *cp,
                                        struct storeset_entry *st,
                                        json_t **cats, struct work_err *e)
{
    struct store_req_args a;
    struct store_result r;
    enum work_res res;

    if (*cats)
        return WORK_OK;
    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    res = cp_call(cp, st, STORE_OP_CATEGORIES_LIST, &a, &r, e);
    if (res == WORK_OK && !json_is_array(r.body))
        res = work_fail(e, WORK_RETRY, 1, "categories list: not an array");
    if (res == WORK_OK)
        *cats = json_incref(r.body);
    store_result_clear(&r);
    return res;
}

/* The id of the category titled @p title under @p parent (0: the root,
 * whose parent_id is null), or 0. */
static long long cp_category_find(const json_t *cats, long long parent,
                                  const char *title)
{
    size_t i;
    const json_t *c;

    json_array_foreach(cats, i, c)
    {
        const json_t *pid = json_object_get(c, "parent_id");
        const char *t = json_string_value(json_object_get(c, "title"));

        if (parent == 0 ? !json_is_null(pid) && pid != NULL
                        : cp_jid(c, "parent_id") != parent)
            continue;
        if (parent == 0 || (t && strcmp(t, title) == 0))
            return cp_jid(c, "id");
    }
    return 0;
}

/*
 * Map the group chain of a product to store categories, creating the
 * missing ones parents first under the root category.  Creation is
 * serialised per store with an advisory lock and always preceded by a
 * look-up by (parent, title), so neither a second instance nor a crash
 * between create and record duplicates a category.
 */
static enum work_res cp_categories(struct catpub *cp, struct storeset_entry *st,
                                   const json_t *groups, long long *cat_id,
                                   struct work_err *e)
{
    struct remote_ref ref;
    json_t *cats = NULL;
    char err[512], lk[32], sid[32];
    const char *lvals[2] = {lk, sid};
    enum work_res res = WORK_OK;
    long long parent;
    const json_t *g;
    size_t i;
    int locked = 0, found;

    snprintf(lk, sizeof(lk), "%d", CP_CATEGORY_LOCK);
    snprintf(sid, sizeof(sid), "%lld", st->conf.id);
    /* Fast path: everything mapped, no lock, no call. */
    for (;;) {
        found = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_CATEGORY, 0,
                               &ref, err, sizeof(err));
        if (found < 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        parent = found ? ref.remote_id : 0;
        json_array_foreach(groups, i, g)
        {
            if (!parent)
                break;
            found = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_CATEGORY,
                                   cp_jid(g, "id"), &ref, err, sizeof(err));
            if (found < 0) {
                res = work_db_fail(cp->pg, e, err);
                goto out;
            }
            parent = found && ref.remote_id > 0 ? ref.remote_id : 0;
        }
        if (parent || locked)
            break;
        if (db_cmd(cp->pg, "SELECT pg_advisory_lock($1::int, $2::int)", 2,
                   lvals, "category lock", err, sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        locked = 1;
        /* Walk again under the lock: another instance may have mapped. */
        found = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_CATEGORY, 0,
                               &ref, err, sizeof(err));
        if (found < 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        if (found) {
            parent = ref.remote_id;
        } else {
            res = cp_categories_list(cp, st, &cats, e);
            if (res != WORK_OK)
                goto out;
            parent = cp_category_find(cats, 0, NULL);
            if (!parent) {
                res = work_fail(e, WORK_DLQ, 0, "store has no root category");
                goto out;
            }
            if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_CATEGORY, 0,
                               parent, NULL, err, sizeof(err)) != 0) {
                res = work_db_fail(cp->pg, e, err);
                goto out;
            }
        }
        json_array_foreach(groups, i, g)
        {
            const char *name = json_string_value(json_object_get(g, "name"));
            long long gid = cp_jid(g, "id"), cid;

            if (!name || gid <= 0) {
                res =
                    work_fail(e, WORK_DLQ, 0, "snapshot: groups[%zu]: bad", i);
                goto out;
            }
            found = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_CATEGORY,
                                   gid, &ref, err, sizeof(err));
            if (found < 0) {
                res = work_db_fail(cp->pg, e, err);
                goto out;
            }
            if (found && ref.remote_id > 0) {
                parent = ref.remote_id;
                continue;
            }
            res = cp_categories_list(cp, st, &cats, e);
            if (res != WORK_OK)
                goto out;
            cid = cp_category_find(cats, parent, name);
            if (!cid) {
                struct store_req_args a;
                struct store_result r;

                memset(&a, 0, sizeof(a));
                memset(&r, 0, sizeof(r));
                a.payload = json_pack("{s:s,s:I}", "title", name, "parent_id",
                                      (json_int_t)parent);
                res = cp_call(cp, st, STORE_OP_CATEGORY_CREATE, &a, &r, e);
                json_decref(a.payload);
                cid = res == WORK_OK ? cp_jid(r.body, "id") : 0;
                if (res == WORK_OK && cid > 0)
                    json_array_append(cats, r.body);
                store_result_clear(&r);
                if (res != WORK_OK)
                    goto out;
                if (cid <= 0) {
                    res = work_fail(e, WORK_RETRY, 1, "category create: no id");
                    goto out;
                }
                log_info("store %s: category '%s' created (id %lld)",
                         st->conf.name, name, cid);
            }
            if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_CATEGORY, gid,
                               cid, NULL, err, sizeof(err)) != 0) {
                res = work_db_fail(cp->pg, e, err);
                goto out;
            }
            parent = cid;
        }
        break;
    }
    *cat_id = parent;
out:
    if (locked)
        db_cmd(cp->pg, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, lvals,
               "category unlock", err, sizeof(err));
    json_decref(cats);
    return res;
}

/* ---- products -------------------------------------------------------------
 */

/* A product being published to one store. */
struct cp_prod {
    long long pid;
    const char *key;
    json_t *payload; /* product-level payload */
    char phash[CATALOG_MAP_HASH_LEN + 1];
    size_t n;         /* snapshot variants */
    long long *vid;   /* local variant ids */
    const char **sku; /* borrowed from the snapshot */
    json_t **vpay;    /* NULL: must not exist in the store */
    char (*vhash)[CATALOG_MAP_HASH_LEN + 1];
};

static void cp_prod_clear(struct cp_prod *p)
{
    for (size_t i = 0; i < p->n; i++)
        json_decref(p->vpay ? p->vpay[i] : NULL);
    json_decref(p->payload);
    free(p->vid);
    free(p->sku);
    free(p->vpay);
    free(p->vhash);
    memset(p, 0, sizeof(*p));
}

/* Map the snapshot; WORK_DLQ when it cannot be published at all. */
static enum work_res cp_prod_build(const struct storeset_entry *st,
                                   const json_t *snap, long long cat_id,
                                   struct cp_prod *p, struct work_err *e)
{
    const json_t *vars = json_object_get(snap, "variants"), *v;
    char err[512];
    size_t i, npub = 0;

    p->payload = catalog_map_product(snap, cat_id, err, sizeof(err));
    if (!p->payload)
        return work_fail(e, WORK_DLQ, 0, "%s", err);
    if (catalog_map_hash(p->payload, p->phash) != 0)
        return work_fail(e, WORK_DLQ, 0, "product payload: cannot serialise");
    p->n = json_array_size(vars);
    p->vid = calloc(p->n + 1, sizeof(*p->vid));
    p->sku = calloc(p->n + 1, sizeof(*p->sku));
    p->vpay = calloc(p->n + 1, sizeof(*p->vpay));
    p->vhash = calloc(p->n + 1, sizeof(*p->vhash));
    if (!p->vid || !p->sku || !p->vpay || !p->vhash)
        return work_fail(e, WORK_RETRY, 1, "out of memory");
    json_array_foreach(vars, i, v)
    {
        enum catalog_map_vres vr;

        p->vid[i] = cp_jid(v, "variant_id");
        p->sku[i] = json_string_value(json_object_get(v, "sku"));
        vr = catalog_map_variant(snap, v, st->conf.price_list, &p->vpay[i], err,
                                 sizeof(err));
        if (vr == CATALOG_MAP_V_INVALID)
            return work_fail(e, WORK_DLQ, 0, "%s", err);
        if (vr == CATALOG_MAP_V_OK) {
            if (catalog_map_hash(p->vpay[i], p->vhash[i]) != 0)
                return work_fail(e, WORK_DLQ, 0,
                                 "variant payload: cannot "
                                 "serialise");
            npub++;
        }
    }
    if (npub == 0)
        return work_fail(e, WORK_DLQ, 0,
                         "no variant to publish: none is active with a price "
                         "in price list %s",
                         st->conf.price_list);
    return WORK_OK;
}

static int cp_sku_in(const struct cp_prod *p, const char *sku)
{
    for (size_t i = 0; sku && i < p->n; i++)
        if (p->sku[i] && strcmp(p->sku[i], sku) == 0)
            return 1;
    return 0;
}

/*
 * After a crash between a create and recording its id: find the product in
 * the store by the SKUs of its variants among the products updated since
 * the marker was written (minus a slack for clock skew).  *found receives
 * a new reference to the store's product, or NULL.
 */
static enum work_res cp_lookup(struct catpub *cp, struct storeset_entry *st,
                               const struct cp_prod *p, long long age_s,
                               json_t **found, struct work_err *e)
{
    struct store_req_args a;
    struct store_result r;
    char since[CLOCK_RFC3339_SIZE];
    int64_t t = clock_wall_us() - (age_s + cp->cfg.lookup_slack_s) * 1000000;
    enum work_res res = WORK_OK;
    size_t i, k;
    const json_t *prod, *v;

    *found = NULL;
    clock_rfc3339_format(t, 0, CLOCK_FMT_SEC, since, sizeof(since));
    memset(&a, 0, sizeof(a));
    a.updated_since = since;
    a.per_page = CP_PER_PAGE;
    for (a.page = 1; !*found; a.page++) {
        memset(&r, 0, sizeof(r));
        res = cp_call(cp, st, STORE_OP_PRODUCTS_LIST, &a, &r, e);
        if (res == WORK_OK && !json_is_array(r.body))
            res = work_fail(e, WORK_RETRY, 1, "products list: not an array");
        if (res != WORK_OK) {
            store_result_clear(&r);
            break;
        }
        json_array_foreach(r.body, i, prod)
        {
            json_array_foreach(json_object_get(prod, "variants"), k, v)
            {
                if (!*found &&
                    cp_sku_in(p, json_string_value(json_object_get(v, "sku"))))
                    *found = json_incref((json_t *)prod);
            }
        }
        k = json_array_size(r.body);
        store_result_clear(&r);
        if (k < CP_PER_PAGE)
            break;
    }
    log_info_ctx(p->key, "store %s: in-flight look-up since %s: %s",
                 st->conf.name, since,
                 *found ? "the product exists, adopting it"
                        : "not created, creating");
    return res;
}

/* Create the product with its variants; record ids matched by SKU. */
static enum work_res cp_create(struct catpub *cp, struct storeset_entry *st,
                               const struct cp_prod *p, struct work_err *e)
{
    struct store_req_args a;
    struct store_result r;
    json_t **pub = calloc(p->n + 1, sizeof(*pub));
    char err[512];
    size_t i, k, npub = 0;
    enum work_res res;
    long long rid;
    const json_t *rv;

    if (!pub)
        return work_fail(e, WORK_RETRY, 1, "out of memory");
    for (i = 0; i < p->n; i++)
        if (p->vpay[i])
            pub[npub++] = p->vpay[i];
    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    a.payload = catalog_map_create_payload(p->payload, pub, npub);
    free(pub);
    if (!a.payload)
        return work_fail(e, WORK_RETRY, 1, "out of memory");
    /* The marker is committed before the call: a crash after the store
     * created the product leaves it, and the next attempt looks first. */
    if (remote_map_mark_inflight(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT,
                                 p->pid, err, sizeof(err)) != 0) {
        json_decref(a.payload);
        return work_db_fail(cp->pg, e, err);
    }
    res = cp_call(cp, st, STORE_OP_PRODUCT_CREATE, &a, &r, e);
    json_decref(a.payload);
    if (res != WORK_OK) {
        /* A 4xx or a 429 means nothing was created: drop the marker so the
         * next attempt does not pay for a look-up.  Anything else (a
         * timeout) leaves the outcome unknown: keep it. */
        if (res == WORK_DLQ || r.status == 429 || r.status == 503)
            remote_map_del(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, p->pid, err,
                           sizeof(err));
        store_result_clear(&r);
        return res;
    }
    rid = cp_jid(r.body, "id");
    if (rid <= 0) {
        store_result_clear(&r);
        return work_fail(e, WORK_RETRY, 1, "product create: no id in answer");
    }
    if (db_begin(cp->pg, err, sizeof(err)) != 0)
        goto dbfail;
    json_array_foreach(json_object_get(r.body, "variants"), k, rv)
    {
        const char *sku = json_string_value(json_object_get(rv, "sku"));

        for (i = 0; sku && i < p->n; i++) {
            /* Mapped now: its parked stock push is released
             * (DESIGN.md "Ordering dependencies"). */
            if (p->vpay[i] && p->sku[i] && strcmp(p->sku[i], sku) == 0 &&
                (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_VARIANT,
                                p->vid[i], cp_jid(rv, "id"), p->vhash[i], err,
                                sizeof(err)) != 0 ||
                 ledger_variant_available_emit(cp->pg, st->conf.id, p->vid[i],
                                               err, sizeof(err)) < 0))
                goto dbfail;
        }
    }
    if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, p->pid, rid,
                       p->phash, err, sizeof(err)) != 0 ||
        db_commit(cp->pg, err, sizeof(err)) != 0)
        goto dbfail;
    store_result_clear(&r);
    log_info_ctx(p->key, "store %s: product created (id %lld, %zu variants)",
                 st->conf.name, rid, npub);
    return WORK_OK;
dbfail:
    db_rollback(cp->pg);
    store_result_clear(&r);
    /* The marker stays: the retry finds the product by SKU. */
    return work_db_fail(cp->pg, e, err);
}

/* The product's variants in the store (list call), new reference. */
static enum work_res cp_variants_list(struct catpub *cp,
                                      struct storeset_entry *st, long long rid,
                                      json_t **out, struct work_err *e)
{
    struct store_req_args a;
    struct store_result r;
    enum work_res res;

    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    a.id = rid;
    res = cp_call(cp, st, STORE_OP_VARIANTS_LIST, &a, &r, e);
    if (res == WORK_OK && !json_is_array(r.body))
        res = work_fail(e, WORK_RETRY, 1, "variants list: not an array");
    if (res == WORK_OK)
        *out = json_incref(r.body);
    store_result_clear(&r);
    return res;
}

static long long cp_remote_by_sku(const json_t *rvars, const char *sku)
{
    size_t i;
    const json_t *v;

    json_array_foreach(rvars, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "sku"));
        if (s && sku && strcmp(s, sku) == 0)
            return cp_jid(v, "id");
    }
    return 0;
}

/* A simple call with an id/sub id/payload whose answer is not needed. */
static enum work_res cp_do(struct catpub *cp, struct storeset_entry *st,
                           enum store_op op, long long id, long long sub,
                           json_t *payload, long long *new_id,
                           struct work_err *e)
{
    struct store_req_args a;
    struct store_result r;
    enum work_res res;

    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    a.id = id;
    a.sub_id = sub;
    a.payload = payload;
    res = cp_call(cp, st, op, &a, &r, e);
    if (res == WORK_OK && new_id) {
        *new_id = cp_jid(r.body, "id");
        if (*new_id <= 0)
            res = work_fail(e, WORK_RETRY, 1, "%s: no id in answer",
                            store_op_name(op));
    }
    store_result_clear(&r);
    return res;
}

/*
 * Record a variant's remote id and hash; when it was not mapped (or only
 * adopted, hash "") before, also emit its stock.available in the same
 * transaction, releasing a stock push parked for the unmapped variant.
 */
static int cp_variant_record(struct catpub *cp, struct storeset_entry *st,
                             long long vid, long long vrid, const char *hash,
                             int fresh, char *err, size_t err_size)
{
    if (!fresh)
        return remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_VARIANT, vid,
                              vrid, hash, err, err_size);
    if (db_begin(cp->pg, err, err_size) != 0)
        return -1;
    if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_VARIANT, vid, vrid, hash,
                       err, err_size) != 0 ||
        ledger_variant_available_emit(cp->pg, st->conf.id, vid, err, err_size) <
            0 ||
        db_commit(cp->pg, err, err_size) != 0) {
        db_rollback(cp->pg);
        return -1;
    }
    return 0;
}

/*
 * Bring a mapped product in line: the product's own fields when their hash
 * changed, then variants created (looked up by SKU first), updated and
 * removed — never recreating the product.  @p rvars (may be NULL) holds the
 * store's variants when already known.
 */
static enum work_res cp_update(struct catpub *cp, struct storeset_entry *st,
                               const struct cp_prod *p, long long rid,
                               const char *old_hash, json_t *rvars,
                               struct work_err *e)
{
    struct remote_ref *refs = calloc(p->n + 1, sizeof(*refs));
    int *found = calloc(p->n + 1, sizeof(*found));
    char err[512], arch[CATALOG_MAP_HASH_LEN + 1];
    enum work_res res = WORK_OK;
    int need_list = 0;
    size_t i;
    long long vrid;

    json_incref(rvars);
    if (!refs || !found) {
        res = work_fail(e, WORK_RETRY, 1, "out of memory");
        goto out;
    }
    catalog_map_archived_hash(arch);
    if (strcmp(old_hash, arch) == 0) {
        /* Re-activated in the ledger: recover it from the store's archive,
         * then send the current payload (the hash no longer matches). */
        res = cp_do(cp, st, STORE_OP_PRODUCT_RECOVER, rid, 0, NULL, NULL, e);
        if (res != WORK_OK)
            goto out;
        if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, p->pid, rid,
                           "", err, sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        log_info_ctx(p->key, "store %s: product %lld recovered", st->conf.name,
                     rid);
        old_hash = "";
    }
    for (i = 0; i < p->n; i++) {
        found[i] = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_VARIANT,
                                  p->vid[i], &refs[i], err, sizeof(err));
        if (found[i] < 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        if ((p->vpay[i] && (!found[i] || refs[i].remote_id < 0)) ||
            (!p->vpay[i] && found[i] && refs[i].remote_id < 0))
            need_list = 1;
    }
    if (strcmp(old_hash, p->phash) != 0) {
        res =
            cp_do(cp, st, STORE_OP_PRODUCT_UPDATE, rid, 0, p->payload, NULL, e);
        if (res != WORK_OK)
            goto out;
        if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, p->pid, rid,
                           p->phash, err, sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        log_info_ctx(p->key, "store %s: product %lld updated", st->conf.name,
                     rid);
    }
    if (need_list && !rvars) {
        res = cp_variants_list(cp, st, rid, &rvars, e);
        if (res != WORK_OK)
            goto out;
    }
    /* Creates first: the store refuses to remove a product's last
     * variant, so new ones must exist before old ones go. */
    for (i = 0; i < p->n; i++) {
        if (!p->vpay[i] || (found[i] && refs[i].remote_id > 0))
            continue;
        vrid = cp_remote_by_sku(rvars, p->sku[i]);
        if (vrid > 0) {
            /* Created before a crash (or adopted): update it below. */
            refs[i].remote_id = vrid;
            refs[i].hash[0] = '\0';
            found[i] = 1;
            continue;
        }
        if (remote_map_mark_inflight(cp->pg, st->conf.id, REMOTE_MAP_VARIANT,
                                     p->vid[i], err, sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        res = cp_do(cp, st, STORE_OP_VARIANT_CREATE, rid, 0, p->vpay[i], &vrid,
                    e);
        if (res == WORK_DLQ)
            remote_map_del(cp->pg, st->conf.id, REMOTE_MAP_VARIANT, p->vid[i],
                           err, sizeof(err));
        if (res != WORK_OK)
            goto out;
        if (cp_variant_record(cp, st, p->vid[i], vrid, p->vhash[i], 1, err,
                              sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        refs[i].remote_id = vrid;
        snprintf(refs[i].hash, sizeof(refs[i].hash), "%s", p->vhash[i]);
        found[i] = 1;
        log_info_ctx(p->key, "store %s: variant %s created (id %lld)",
                     st->conf.name, p->sku[i], vrid);
    }
    for (i = 0; i < p->n; i++) {
        if (!p->vpay[i] || strcmp(refs[i].hash, p->vhash[i]) == 0)
            continue;
        res = cp_do(cp, st, STORE_OP_VARIANT_UPDATE, rid, refs[i].remote_id,
                    p->vpay[i], NULL, e);
        if (res != WORK_OK)
            goto out;
        if (cp_variant_record(cp, st, p->vid[i], refs[i].remote_id, p->vhash[i],
                              refs[i].hash[0] == '\0', err, sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
        log_info_ctx(p->key, "store %s: variant %s updated", st->conf.name,
                     p->sku[i]);
    }
    for (i = 0; i < p->n; i++) {
        if (p->vpay[i] || !found[i])
            continue;
        vrid = refs[i].remote_id > 0 ? refs[i].remote_id
                                     : cp_remote_by_sku(rvars, p->sku[i]);
        if (vrid > 0) {
            res = cp_do(cp, st, STORE_OP_VARIANT_DELETE, rid, vrid, NULL, NULL,
                        e);
            if (res != WORK_OK)
                goto out;
            log_info_ctx(p->key, "store %s: variant %s removed", st->conf.name,
                         p->sku[i]);
        }
        if (remote_map_del(cp->pg, st->conf.id, REMOTE_MAP_VARIANT, p->vid[i],
                           err, sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
    }
out:
    json_decref(rvars);
    free(refs);
    free(found);
    return res;
}

/* Record an adopted store product (found by the in-flight look-up). */
static enum work_res cp_adopt(struct catpub *cp, struct storeset_entry *st,
                              const struct cp_prod *p, long long rid,
                              struct work_err *e)
{
    char err[512];

    /* An empty hash: the product is updated to the current payload. */
    if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, p->pid, rid, "",
                       err, sizeof(err)) != 0)
        return work_db_fail(cp->pg, e, err);
    return WORK_OK;
}

/* Archive (DELETE) a product the ledger archived. */
static enum work_res cp_archive(struct catpub *cp, struct storeset_entry *st,
                                const json_t *snap, long long pid,
                                const char *key, struct work_err *e)
{
    struct remote_ref ref;
    char err[512], arch[CATALOG_MAP_HASH_LEN + 1];
    enum work_res res;
    long long rid;
    int found;

    catalog_map_archived_hash(arch);
    found = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, pid, &ref,
                           err, sizeof(err));
    if (found < 0)
        return work_db_fail(cp->pg, e, err);
    if (!found)
        return WORK_OK; /* never published: nothing to archive */
    if (strcmp(ref.hash, arch) == 0) {
        cp->n_skipped++;
        return WORK_OK;
    }
    rid = ref.remote_id;
    if (rid < 0) {
        struct cp_prod p;
        json_t *prod = NULL;
        const json_t *v;
        size_t i;

        memset(&p, 0, sizeof(p));
        p.pid = pid;
        p.key = key;
        p.n = json_array_size(json_object_get(snap, "variants"));
        p.sku = calloc(p.n + 1, sizeof(*p.sku));
        if (!p.sku)
            return work_fail(e, WORK_RETRY, 1, "out of memory");
        json_array_foreach(json_object_get(snap, "variants"), i, v)
        {
            p.sku[i] = json_string_value(json_object_get(v, "sku"));
        }
        res = cp_lookup(cp, st, &p, ref.age_s, &prod, e);
        free(p.sku);
        rid = prod ? cp_jid(prod, "id") : 0;
        json_decref(prod);
        if (res != WORK_OK)
            return res;
        if (rid <= 0) {
            if (remote_map_del(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, pid,
                               err, sizeof(err)) != 0)
                return work_db_fail(cp->pg, e, err);
            return WORK_OK;
        }
    }
    res = cp_do(cp, st, STORE_OP_PRODUCT_DELETE, rid, 0, NULL, NULL, e);
    if (res != WORK_OK)
        return res;
    if (remote_map_put(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, pid, rid, arch,
                       err, sizeof(err)) != 0)
        return work_db_fail(cp->pg, e, err);
    log_info_ctx(key, "store %s: product %lld archived", st->conf.name, rid);
    return WORK_OK;
}

/* ---- image jobs ----------------------------------------------------------
 */

#define CP_SQL_PHOTOS                                                          \
    "SELECT pp.id, pp.position, pp.sha256, coalesce(rm.remote_id, 0),"         \
    " coalesce(rm.payload_hash, '') FROM product_photo pp"                     \
    " LEFT JOIN remote_map rm ON rm.store_id = $1 AND rm.entity = 'image'"     \
    " AND rm.local_id = pp.id WHERE pp.product_id = $2"

/* Queue one images.job (delivery counted by cp_dr). */
static int cp_job_produce(struct catpub *cp, const struct image_job *j,
                          const char *key, char *errstr, size_t errstr_size)
{
    json_t *data = image_job_encode(j);
    char id[37], ts[48], *djson = NULL, *env = NULL;
    struct kafka_header hdrs[2];
    int rc = -1;

    if (!data) {
        snprintf(errstr, errstr_size, "image job: cannot encode");
        return -1;
    }
    djson = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    image_job_event_id(j->store, j->photo_id, j->sha256, id);
    clock_rfc3339_format(clock_wall_us(), 0, CLOCK_FMT_MS, ts, sizeof(ts));
    env = djson ? event_build(IMAGE_JOB_EVENT, id, ts, j->store, key, djson,
                              errstr, errstr_size)
                : NULL;
    if (!env)
        goto out;
    hdrs[0].name = "event-id";
    hdrs[0].value = id;
    hdrs[1].name = "event-type";
    hdrs[1].value = IMAGE_JOB_EVENT;
    if (kafka_produce(cp->kp, TOPICS_IMAGES, key, strlen(key), env, strlen(env),
                      hdrs, 2, NULL, 5000 /* ms */, errstr, errstr_size) != 0)
        goto out;
    cp->img_pending++;
    cp->n_jobs++;
    rc = 0;
out:
    free(env);
    free(djson);
    json_decref(data);
    return rc;
}

/*
 * Emit one images.job per photo of the snapshot that store @p st does not
 * hold yet with the same content (remote_map 'image', local id
 * product_photo.id, payload_hash the SHA-256), once the product exists
 * there (@p rid).  Returns after every job's delivery report, so the
 * catalog offset is committed only when the jobs are safe in Kafka.
 * A photo changed in the ledger since the snapshot is left to the event
 * that carries the change.
 */
static enum work_res cp_images(struct catpub *cp, struct storeset_entry *st,
                               const json_t *snap, long long pid, long long rid,
                               const char *key, struct work_err *e)
{
    const json_t *photos = json_object_get(snap, "photos"), *ph;
    char sid[32], spid[32], err[512];
    const char *vals[2] = {sid, spid};
    PGresult *res = NULL;
    enum work_res r = WORK_OK;
    int failed = cp->img_failed, rows;
    size_t i;

    if (json_array_size(photos) == 0)
        return WORK_OK;
    snprintf(sid, sizeof(sid), "%lld", st->conf.id);
    snprintf(spid, sizeof(spid), "%lld", pid);
    res = db_exec(cp->pg, CP_SQL_PHOTOS, 2, vals, "product photos", err,
                  sizeof(err), NULL);
    if (!res)
        return work_db_fail(cp->pg, e, err);
    rows = PQntuples(res);
    json_array_foreach(photos, i, ph)
    {
        const char *sha = json_string_value(json_object_get(ph, "sha256"));
        const char *path = json_string_value(json_object_get(ph, "path"));
        long long pos = cp_jid(ph, "position"), photo_id = 0, remote = 0;
        struct image_job j;

        for (int k = 0; sha && k < rows; k++) {
            long long v;

            if (cfg_parse_ll(PQgetvalue(res, k, 1), &v) != 0 || v != pos ||
                strcmp(PQgetvalue(res, k, 2), sha) != 0)
                continue;
            cfg_parse_ll(PQgetvalue(res, k, 0), &photo_id);
            cfg_parse_ll(PQgetvalue(res, k, 3), &remote);
            if (remote > 0 && strcmp(PQgetvalue(res, k, 4), sha) == 0)
                photo_id = -1; /* uploaded with this content */
            break;
        }
        if (photo_id <= 0 || !path)
            continue;
        memset(&j, 0, sizeof(j));
        j.store = st->conf.name;
        j.photo_id = photo_id;
        j.product_id = pid;
        j.remote_product_id = rid;
        j.position = pos;
        j.path = path;
        j.sha256 = sha;
        if (cp_job_produce(cp, &j, key, err, sizeof(err)) != 0) {
            r = work_fail(e, WORK_RETRY, 1, "images.job: %s", err);
            break;
        }
    }
    PQclear(res);
    while (cp->img_pending > 0 && !sig_stop_requested())
        kafka_producer_poll(cp->kp, 50);
    if (r == WORK_OK && cp->img_pending > 0)
        r = work_fail(e, WORK_RETRY, 0, "images.job: stopped before delivery");
    if (r == WORK_OK && cp->img_failed != failed)
        r = work_fail(e, WORK_RETRY, 1, "images.job: delivery failed");
    if (kafka_producer_fatal(cp->kp, err, sizeof(err))) {
        log_error("image job producer: fatal: %s", err);
        cp->fatal = 1;
    }
    return r;
}

/* Publish one product snapshot to one store. */
static enum work_res cp_publish(struct catpub *cp, struct storeset_entry *st,
                                const json_t *snap, const char *key,
                                struct work_err *e)
{
    struct cp_prod p;
    struct remote_ref ref;
    json_t *prod = NULL, *rvars = NULL;
    long long cat_id = 0, pid = cp_jid(snap, "product_id");
    char err[512];
    enum work_res res;
    int found;

    if (json_is_true(json_object_get(snap, "archived")))
        return cp_archive(cp, st, snap, pid, key, e);
    memset(&p, 0, sizeof(p));
    p.pid = pid;
    p.key = key;
    res = cp_categories(cp, st, catalog_map_groups(snap), &cat_id, e);
    if (res != WORK_OK)
        goto out;
    res = cp_prod_build(st, snap, cat_id, &p, e);
    if (res != WORK_OK)
        goto out;
    found = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, pid, &ref,
                           err, sizeof(err));
    if (found < 0) {
        res = work_db_fail(cp->pg, e, err);
        goto out;
    }
    if (found && ref.remote_id < 0) {
        res = cp_lookup(cp, st, &p, ref.age_s, &prod, e);
        if (res != WORK_OK)
            goto out;
        if (prod) {
            res = cp_adopt(cp, st, &p, cp_jid(prod, "id"), e);
            if (res != WORK_OK)
                goto out;
            rvars = json_incref(json_object_get(prod, "variants"));
            ref.remote_id = cp_jid(prod, "id");
            ref.hash[0] = '\0';
        }
    }
    if (!found || ref.remote_id < 0)
        res = cp_create(cp, st, &p, e);
    else
        res = cp_update(cp, st, &p, ref.remote_id, ref.hash, rvars, e);
    if (res != WORK_OK)
        goto out;
    /* The product exists in the store now: its photos may follow. */
    found = remote_map_get(cp->pg, st->conf.id, REMOTE_MAP_PRODUCT, pid, &ref,
                           err, sizeof(err));
    if (found < 0) {
        res = work_db_fail(cp->pg, e, err);
        goto out;
    }
    if (found && ref.remote_id > 0)
        res = cp_images(cp, st, snap, pid, ref.remote_id, key, e);
out:
    json_decref(prod);
    json_decref(rvars);
    cp_prod_clear(&p);
    return res;
}

/* ---- messages -------------------------------------------------------------
 */

static void cp_dr(void *msg_opaque, rd_kafka_resp_err_t err, int32_t partition,
                  int64_t offset, void *opaque)
{
    struct catpub *cp = opaque;

    (void)msg_opaque;
    (void)partition;
    (void)offset;
    cp->img_pending--;
    if (err) {
        cp->img_failed++;
        log_error("images.job: delivery failed: %s", rd_kafka_err2str(err));
    }
}

/* Dead-letter @p m with @p reason (dlq.h waits for the acknowledgement). */
static int cp_dlq(struct catpub *cp, const rd_kafka_message_t *m,
                  const char *key, const char *store, const struct work_err *e)
{
    char reason[1200], errstr[512];
    struct storeset_entry *st;
    long long pid;

    snprintf(reason, sizeof(reason), "store %s: product %s: %s",
             store ? store : "-", key ? key : "-", e->reason);
    if (dlq_send(cp->dlq, m, reason, 30 * 1000 /* ms */, errstr,
                 sizeof(errstr)) != 0) {
        log_error("dlq: %s", errstr);
        return -1;
    }
    cp->n_dlq++;
    log_warn_ctx(key, "dead-lettered (store %s): %s", store ? store : "-",
                 e->reason);
    st = store ? storeset_find(cp->ss, store) : NULL;
    if (!key || cfg_parse_ll(key, &pid) != 0)
        pid = 0;
    if (dlq_record_add(cp->pg, st ? st->conf.id : 0, "catalog-publisher",
                       pid > 0 ? REMOTE_MAP_PRODUCT : NULL, pid, key, reason,
                       errstr, sizeof(errstr)) != 0)
        log_warn("dlq_record: %s (status will not count it)", errstr);
    return 0;
}

/*
 * Handle one message for every target store.  Returns WORK_OK when the
 * offset may be committed, WORK_RETRY (with e->backoff) otherwise.
 */
static enum work_res cp_handle(struct catpub *cp, const rd_kafka_message_t *m,
                               struct work_err *e)
{
    struct event ev;
    char err[512];
    enum work_res res = WORK_OK, r;
    const char *key;
    char keybuf[64];

    memset(&ev, 0, sizeof(ev));
    snprintf(keybuf, sizeof(keybuf), "%.*s",
             (int)(m->key_len < 63 ? m->key_len : 63),
             m->key ? (const char *)m->key : "");
    if (event_decode(&ev, m->payload, m->len, err, sizeof(err)) != 0) {
        work_fail(e, WORK_DLQ, 0, "decode: %s", err);
        e->status = 0;
        return cp_dlq(cp, m, keybuf, NULL, e) == 0
                   ? WORK_OK
                   : work_fail(e, WORK_RETRY, 1, "dlq failed");
    }
    key = ev.key;
    if (strcmp(ev.type, EVENT_CATALOG_PRODUCT) != 0) {
        log_debug_ctx(ev.id, "type %s ignored", ev.type);
        goto out;
    }
    if (time(NULL) - cp->stores_at > CP_STORES_TTL_S ||
        (ev.store && !storeset_find(cp->ss, ev.store))) {
        if (cp_stores_load(cp, err, sizeof(err)) != 0) {
            res = work_db_fail(cp->pg, e, err);
            goto out;
        }
    }
    for (size_t i = 0; i < storeset_count(cp->ss); i++) {
        struct storeset_entry *st = storeset_get(cp->ss, i);

        if (ev.store && strcmp(ev.store, st->conf.name) != 0)
            continue;
        memset(e, 0, sizeof(*e));
        r = cp_publish(cp, st, ev.data, key, e);
        if (r == WORK_DLQ) {
            if (cp_dlq(cp, m, key, st->conf.name, e) != 0) {
                res = work_fail(e, WORK_RETRY, 1, "dlq failed");
                goto out;
            }
        } else if (r == WORK_RETRY) {
            /* Stores done already skip by hash on the retry. */
            res = WORK_RETRY;
            goto out;
        }
    }
    if (ev.store && !storeset_find(cp->ss, ev.store)) {
        work_fail(e, WORK_DLQ, 0, "unknown store '%s'", ev.store);
        e->status = 0;
        if (cp_dlq(cp, m, key, ev.store, e) != 0)
            res = work_fail(e, WORK_RETRY, 1, "dlq failed");
    }
out:
    event_clear(&ev);
    return res;
}

/* consume.h handler: one message to the end, or why to retry. */
static enum consume_res cp_consume(void *ctx, const rd_kafka_message_t *m,
                                   char *reason, size_t reason_size)
{
    struct catpub *cp = ctx;
    struct work_err e;

    memset(&e, 0, sizeof(e));
    if (cp_handle(cp, m, &e) == WORK_OK)
        return CONSUME_DONE;
    snprintf(reason, reason_size, "%s", e.reason);
    return work_retry_verdict(&e);
}

int catpub_poll(struct catpub *cp)
{
    if (cp->fatal)
        return -1;
    if (consume_once(&cp->loop) < 0) {
        cp->fatal = 1;
        return -1;
    }
    return 0;
}

struct catpub *catpub_new(const struct catpub_cfg *c,
                          const struct cfg *passthru, char *errstr,
                          size_t errstr_size)
{
    struct catpub *cp = calloc(1, sizeof(*cp));
    const char *topics[1] = {TOPICS_CATALOG};

    if (!cp) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    cp->cfg = *c;
    cp->pg = db_connect(c->pg_dsn, "catalog-publisher", errstr, errstr_size);
    if (!cp->pg)
        goto fail;
    cp->b = budget_new(c->redis_addr, NULL, errstr, errstr_size);
    if (!cp->b)
        goto fail;
    cp->ss = storeset_new();
    if (!cp->ss) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    cp->dlq = dlq_new(c->kafka_bootstrap, passthru, "catalog-publisher", errstr,
                      errstr_size);
    if (!cp->dlq)
        goto fail;
    cp->kp = kafka_producer_new(c->kafka_bootstrap, passthru, cp_dr, cp, errstr,
                                errstr_size);
    if (!cp->kp)
        goto fail;
    cp->kc = kafka_consumer_new(c->kafka_bootstrap, c->group_id, passthru,
                                errstr, errstr_size);
    if (!cp->kc)
        goto fail;
    if (kafka_consumer_subscribe(cp->kc, topics, 1, errstr, errstr_size) != 0)
        goto fail;
    cp->loop.kc = cp->kc;
    cp->loop.fn = cp_consume;
    cp->loop.ctx = cp;
    cp->loop.backoff_max_ms = (long)c->backoff_max_ms;
    if (cp_stores_load(cp, errstr, errstr_size) != 0)
        goto fail;
    log_info("consuming %s as group %s; %zu store(s)", TOPICS_CATALOG,
             c->group_id, storeset_count(cp->ss));
    return cp;
fail:
    catpub_destroy(cp);
    return NULL;
}

int catpub_drain(struct catpub *cp, int timeout_ms)
{
    int rc = cp->fatal ? 1 : 0;

    if (kafka_producer_flush(cp->kp, timeout_ms) != 0) {
        log_error("drain: %d image job(s) undelivered",
                  kafka_producer_outq_len(cp->kp));
        rc = 1;
    }
    kafka_consumer_close(cp->kc);
    log_info("stopped (exit %d): %llu messages, %llu store calls, %llu "
             "dead-lettered, %llu image jobs",
             rc, (unsigned long long)cp->loop.n_msgs, cp->n_calls, cp->n_dlq,
             cp->n_jobs);
    return rc;
}

void catpub_destroy(struct catpub *cp)
{
    if (!cp)
        return;
    kafka_consumer_destroy(cp->kc);
    kafka_producer_destroy(cp->kp);
    dlq_destroy(cp->dlq);
    storeset_destroy(cp->ss);
    budget_destroy(cp->b);
    PQfinish(cp->pg);
    free(cp);
}
