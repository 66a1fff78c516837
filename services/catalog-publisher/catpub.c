#include "catpub.h"

#include "app/lanes.h"
#include "app/ops.h"
#include "app/storeset.h"
#include "events/event.h"
#include "events/image_job.h"
#include "events/topics.h"
#include "ledger/catalog.h"
#include "ledger/dlq_record.h"
#include "ledger/ledger.h"
#include "ledger/not_for_sale.h"
#include "ledger/parked.h"
#include "ledger/remote_map.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/httpd.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "store/budget.h"
#include "store/doc_hash.h"
#include "store/platform.h"
#include "store/work.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CP_STORES_TTL_S 30     /* reload the store list this often */
#define CP_PARK_BASE_MS 500    /* a store's first backoff after a failure */
#define CP_RETRY_EVERY_MS 1000 /* look for due parked products this often */
#define CP_RETRY_BATCH 20      /* parked products a pass at most */
#define CP_RETRY_LEASE_S 300   /* a claimed product: others wait this long */
#define CP_GAUGE_EVERY_MS 5000 /* refresh omnisync_parked_items */

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
    struct metrics_family *latency; /* (may be NULL) ledger to store */
    struct metrics_family *parked;  /* (may be NULL) omnisync_parked_items */
    struct metrics_family
        *nfs;            /* (may be NULL) omnisync_catalog_not_for_sale */
    int64_t retry_at;    /* next retry pass (monotonic ms) */
    int64_t gauge_at;    /* next parked gauge refresh */
    struct lanes *lanes; /* store workers (NULL in a worker's) */
    const struct cfg *passthru; /* kafka.* (borrowed) */
    struct catpub *owner;       /* a worker's: the consumer's */
    /* The workers' counters, folded in after each run (cp_fold()). */
    atomic_ullong w_calls, w_dlq, w_skipped, w_jobs;
    atomic_int w_fatal; /* a worker's image-job producer failed for good */
};

/* Publishing one snapshot to one store. */
struct cp_job {
    struct catpub *cp;
    struct storeset_entry *st;
    const struct store_platform *plat; /* the store's platform */
    struct store_call call;            /* catalog class */
    const char *key;                   /* the message key (product id) */
    struct work_err *e;
    int store_fail;         /* the last failure was the store's (5xx, timeout,
                               its limit): park the work, do not retry it all */
    char not_for_sale[160]; /* why the product is not for sale in the
                               store ("": it is) */
    int product_put;        /* the product's own fields were sent (its
                               category may have changed) */
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
    {"token.wait.ms", CFG_INT, "2000", 100, 600000, 0,
     offsetof(struct catpub_cfg, token_wait_ms),
     "longest wait for a store's API token before that store's work is "
     "put aside (docs/isolation.md)"},
    CFG_ROW_DRAIN_MS(struct catpub_cfg, drain_ms),
    LANES_CFG_ROWS(struct catpub_cfg, store_workers, slice_ms),
    STORESET_CFG_TIMEOUT_MS(struct catpub_cfg, store_timeout_ms),
    CFG_ROW_LOG_LEVEL(struct catpub_cfg, log_level, "info"),
    CFG_ROWS_HTTP(struct catpub_cfg, CATPUB_HTTP_LISTEN),
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

/* The stores as the ledger has them now: reloaded when old, when
 * @p force (an event names a store the set lacks), or when a store was
 * added, changed or removed (`store set|remove`; asked every
 * STORESET_CHECK_MS). */
static int cp_stores_fresh(struct catpub *cp, int force, char *errstr,
                           size_t errstr_size)
{
    if (force || time(NULL) - cp->stores_at > CP_STORES_TTL_S)
        return cp_stores_load(cp, errstr, errstr_size);
    return storeset_refresh_changed(cp->ss, cp->pg, cp->cfg.secret_key, errstr,
                                    errstr_size) < 0
               ? -1
               : 0;
}

static long long cp_jid(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* The outcome of a platform operation: on failure the job's error takes
 * what the call says failed. */
static enum outcome cp_call(struct cp_job *j, enum outcome o)
{
    j->store_fail = o == OUTCOME_RETRY || o == OUTCOME_PAUSED;
    return work_call(j->e, &j->call, o);
}

static enum outcome cp_db_fail(struct cp_job *j, const char *err)
{
    j->store_fail = 0;
    return work_db_fail(j->cp->pg, j->e, err);
}

/* 1 when the store answered that the object is not there (HTTP 404): it
 * was deleted in the store behind omnisync's back. */
static int cp_gone(const struct cp_job *j, enum outcome o)
{
    return o == OUTCOME_REJECTED && j->call.last.status == 404;
}

/* ---- categories ---------------------------------------------------------- */

/* The store's categories, read at most once per product. */
struct cp_cats {
    struct store_categories v;
    int listed;
};

static enum outcome cp_cats_list(struct cp_job *j, struct cp_cats *cc)
{
    enum outcome o;

    if (cc->listed)
        return OUTCOME_OK;
    o = cp_call(j, j->plat->categories_list(&j->call, &cc->v));
    cc->listed = o == OUTCOME_OK;
    return o;
}

/* The id of the category titled @p title under @p parent (0: the root,
 * whatever its title), or 0. */
static long long cp_category_find(const struct store_categories *cats,
                                  long long parent, const char *title)
{
    for (size_t i = 0; i < cats->n; i++) {
        const struct store_category *c = &cats->v[i];

        if (c->parent_id != parent)
            continue;
        if (parent == 0 || (c->title && strcmp(c->title, title) == 0))
            return c->id;
    }
    return 0;
}

/* The store category recorded for group @p gid (0: the root), 0 when none.
 * Returns 0, or -1 with err. */
static int cp_category_mapped(struct cp_job *j, long long gid,
                              long long *remote, char *err, size_t err_size)
{
    struct remote_ref ref;
    int found = remote_map_get(j->cp->pg, j->st->conf.id, REMOTE_MAP_CATEGORY,
                               gid, &ref, err, err_size);

    if (found < 0)
        return -1;
    *remote = found && ref.remote_id > 0 ? ref.remote_id : 0;
    return 0;
}

/* The category of the group chain when the root and every group are
 * recorded already (no lock, no call); 0 when one is missing. */
static int cp_categories_mapped(struct cp_job *j, const json_t *groups,
                                long long *cat_id, char *err, size_t err_size)
{
    const json_t *g;
    size_t i;

    if (cp_category_mapped(j, 0, cat_id, err, err_size) < 0)
        return -1;
    json_array_foreach(groups, i, g)
    {
        if (!*cat_id)
            break;
        if (cp_category_mapped(j, cp_jid(g, "id"), cat_id, err, err_size) < 0)
            return -1;
    }
    return 0;
}

/* The store's root category: recorded, or found in the store and
 * recorded. */
static enum outcome cp_category_root(struct cp_job *j, struct cp_cats *cc,
                                     long long *root)
{
    char err[512];
    enum outcome o;

    if (cp_category_mapped(j, 0, root, err, sizeof(err)) < 0)
        return cp_db_fail(j, err);
    if (*root)
        return OUTCOME_OK;
    o = cp_cats_list(j, cc);
    if (o != OUTCOME_OK)
        return o;
    *root = cp_category_find(&cc->v, 0, NULL);
    if (!*root)
        return work_fail(j->e, OUTCOME_REJECTED, "store has no root category");
    if (remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_CATEGORY, 0, *root,
                       NULL, err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    return OUTCOME_OK;
}

/* The category titled @p name under @p parent: found in the store, or
 * created there. */
static enum outcome cp_category_ensure(struct cp_job *j, struct cp_cats *cc,
                                       const char *name, long long parent,
                                       long long *cid)
{
    struct store_category c;
    enum outcome o = cp_cats_list(j, cc);

    if (o != OUTCOME_OK)
        return o;
    *cid = cp_category_find(&cc->v, parent, name);
    if (*cid)
        return OUTCOME_OK;
    o = cp_call(j, j->plat->category_create(&j->call, name, parent, cid));
    if (o != OUTCOME_OK)
        return o;
    c.id = *cid;
    c.parent_id = parent;
    c.title = (char *)name;
    if (store_categories_add(&cc->v, &c) < 0)
        return work_fail(j->e, OUTCOME_RETRY, "out of memory");
    log_info("store %s: category '%s' created (id %lld)", j->st->conf.name,
             name, *cid);
    return OUTCOME_OK;
}

/* The hash recorded with a group's category: its title and its parent
 * category, so a renamed or moved group shows as a changed hash. */
static int cp_category_hash(const char *name, long long parent, char *out)
{
    json_t *doc =
        json_pack("{s:s,s:I}", "title", name, "parent_id", (json_int_t)parent);
    int rc = doc ? doc_hash_compute(doc, out) : -1;

    json_decref(doc);
    return rc;
}

/* Group @p i of the chain under *@p parent: recorded, or found or created
 * and recorded.  *@p parent becomes its category. */
static enum outcome cp_category_group(struct cp_job *j, struct cp_cats *cc,
                                      const json_t *g, size_t i,
                                      long long *parent)
{
    const char *name = json_string_value(json_object_get(g, "name"));
    long long gid = cp_jid(g, "id"), cid;
    char err[512], h[DOC_HASH_LEN + 1];
    enum outcome o;

    if (!name || gid <= 0)
        return work_fail(j->e, OUTCOME_REJECTED, "snapshot: groups[%zu]: bad",
                         i);
    if (cp_category_mapped(j, gid, &cid, err, sizeof(err)) < 0)
        return cp_db_fail(j, err);
    if (cid) {
        *parent = cid;
        return OUTCOME_OK;
    }
    o = cp_category_ensure(j, cc, name, *parent, &cid);
    if (o != OUTCOME_OK)
        return o;
    if (cp_category_hash(name, *parent, h) != 0)
        return work_fail(j->e, OUTCOME_RETRY, "out of memory");
    if (remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_CATEGORY, gid, cid,
                       h, err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    *parent = cid;
    return OUTCOME_OK;
}

/* Walk the chain under the lock: another instance may have recorded part
 * of it since the look without the lock. */
static enum outcome cp_categories_locked(struct cp_job *j, const json_t *groups,
                                         long long *cat_id)
{
    struct cp_cats cc;
    enum outcome o;
    const json_t *g;
    size_t i;

    memset(&cc, 0, sizeof(cc));
    o = cp_category_root(j, &cc, cat_id);
    json_array_foreach(groups, i, g)
    {
        if (o != OUTCOME_OK)
            break;
        o = cp_category_group(j, &cc, g, i, cat_id);
    }
    store_categories_clear(&cc.v);
    return o;
}

/* Group @p g's category @p ref under category @p parent: renamed and
 * re-parented in the store when its recorded title or parent differs
 * (a group renamed or moved in the ledger). */
static enum outcome cp_category_follow(struct cp_job *j, const json_t *g,
                                       const struct remote_ref *ref,
                                       long long parent)
{
    const char *name = json_string_value(json_object_get(g, "name"));
    char h[DOC_HASH_LEN + 1], err[512];
    enum outcome o;

    if (!name || cp_category_hash(name, parent, h) != 0)
        return work_fail(j->e, OUTCOME_REJECTED, "snapshot: groups: bad");
    if (strcmp(ref->hash, h) == 0)
        return OUTCOME_OK;
    o = cp_call(
        j, j->plat->category_update(&j->call, ref->remote_id, name, parent));
    if (o != OUTCOME_OK)
        return o;
    if (remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_CATEGORY,
                       cp_jid(g, "id"), ref->remote_id, h, err,
                       sizeof(err)) != 0)
        return cp_db_fail(j, err);
    log_info_ctx(j->key, "store %s: category %lld is now '%s' under %lld",
                 j->st->conf.name, ref->remote_id, name, parent);
    return OUTCOME_OK;
}

/* Every category of the (mapped) chain follows its group's name and
 * parent, root first. */
static enum outcome cp_categories_follow(struct cp_job *j, const json_t *groups)
{
    struct remote_ref ref;
    long long parent;
    enum outcome o = OUTCOME_OK;
    const json_t *g;
    char err[512];
    size_t i;
    int f;

    if (cp_category_mapped(j, 0, &parent, err, sizeof(err)) < 0)
        return cp_db_fail(j, err);
    json_array_foreach(groups, i, g)
    {
        f = remote_map_get(j->cp->pg, j->st->conf.id, REMOTE_MAP_CATEGORY,
                           cp_jid(g, "id"), &ref, err, sizeof(err));
        if (f < 0)
            return cp_db_fail(j, err);
        if (!f || ref.remote_id <= 0)
            break;
        o = cp_category_follow(j, g, &ref, parent);
        if (o != OUTCOME_OK)
            break;
        parent = ref.remote_id;
    }
    return o;
}

/*
 * Map the group chain of a product to store categories, creating the
 * missing ones parents first under the root category.  Creation is
 * serialised per store with an advisory lock and always preceded by a
 * look-up by (parent, title), so neither a second instance nor a crash
 * between create and record duplicates a category.
 */
static enum outcome cp_categories(struct cp_job *j, const json_t *groups,
                                  long long *cat_id)
{
    char err[512];
    enum outcome o;

    if (cp_categories_mapped(j, groups, cat_id, err, sizeof(err)) < 0)
        return cp_db_fail(j, err);
    if (*cat_id)
        return cp_categories_follow(j, groups);
    if (remote_map_category_lock(j->cp->pg, j->st->conf.id, err, sizeof(err)) !=
        0)
        return cp_db_fail(j, err);
    o = cp_categories_locked(j, groups, cat_id);
    remote_map_category_unlock(j->cp->pg, j->st->conf.id);
    if (o == OUTCOME_OK)
        o = cp_categories_follow(j, groups);
    return o;
}

/* ---- products ------------------------------------------------------------ */

/* A product being published to one store. */
struct cp_prod {
    long long pid;
    json_t *doc; /* the product's own document */
    char phash[DOC_HASH_LEN + 1];
    size_t n;         /* snapshot variants */
    long long *vid;   /* local variant ids */
    const char **sku; /* borrowed from the snapshot */
    json_t **vdoc;    /* NULL: must not exist in the store */
    char (*vhash)[DOC_HASH_LEN + 1];
    struct remote_ref *ref; /* cp_update: each variant's remote_map row */
    int *mapped;            /* cp_update: 1 when it has one */
};

static void cp_prod_clear(struct cp_prod *p)
{
    for (size_t i = 0; i < p->n; i++)
        json_decref(p->vdoc ? p->vdoc[i] : NULL);
    json_decref(p->doc);
    free(p->vid);
    free(p->sku);
    free(p->vdoc);
    free(p->vhash);
    free(p->ref);
    free(p->mapped);
    memset(p, 0, sizeof(*p));
}

/* Room for the snapshot's variants; the SKUs and ids filled in. */
static int cp_prod_alloc(struct cp_prod *p, const json_t *snap)
{
    const json_t *vars = json_object_get(snap, "variants"), *v;
    size_t i;

    p->n = json_array_size(vars);
    p->vid = calloc(p->n + 1, sizeof(*p->vid));
    p->sku = calloc(p->n + 1, sizeof(*p->sku));
    p->vdoc = calloc(p->n + 1, sizeof(*p->vdoc));
    p->vhash = calloc(p->n + 1, sizeof(*p->vhash));
    p->ref = calloc(p->n + 1, sizeof(*p->ref));
    p->mapped = calloc(p->n + 1, sizeof(*p->mapped));
    if (!p->vid || !p->sku || !p->vdoc || !p->vhash || !p->ref || !p->mapped)
        return -1;
    json_array_foreach(vars, i, v)
    {
        p->vid[i] = cp_jid(v, "variant_id");
        p->sku[i] = json_string_value(json_object_get(v, "sku"));
    }
    return 0;
}

/* Why a product with no variant to publish is not for sale in the store:
 * every variant archived, or none priced in its price list. */
static void cp_not_for_sale_reason(struct cp_job *j, const json_t *vars,
                                   const char *pl)
{
    const json_t *v;
    size_t i, narch = 0;

    json_array_foreach(vars, i, v) narch +=
        json_is_true(json_object_get(v, "archived"));
    if (narch > 0 && narch == json_array_size(vars))
        snprintf(j->not_for_sale, sizeof(j->not_for_sale),
                 "every variant archived");
    else
        snprintf(j->not_for_sale, sizeof(j->not_for_sale),
                 "no active variant priced in price list %s", pl);
}

/* The platform's documents of the snapshot and their hashes;
 * OUTCOME_REJECTED when it cannot be published at all. */
static enum outcome cp_prod_build(struct cp_job *j, const json_t *snap,
                                  long long cat_id, struct cp_prod *p)
{
    const json_t *vars = json_object_get(snap, "variants"), *v;
    const char *pl = j->st->conf.price_list;
    enum store_doc_res vr;
    char err[512];
    size_t i, npub = 0;

    p->doc = j->plat->product_doc(snap, cat_id, err, sizeof(err));
    if (!p->doc)
        return work_fail(j->e, OUTCOME_REJECTED, "%s", err);
    if (doc_hash_compute(p->doc, p->phash) != 0)
        return work_fail(j->e, OUTCOME_REJECTED,
                         "product payload: cannot serialise");
    json_array_foreach(vars, i, v)
    {
        vr = j->plat->variant_doc(snap, v, pl, &p->vdoc[i], err, sizeof(err));
        if (vr == STORE_DOC_INVALID)
            return work_fail(j->e, OUTCOME_REJECTED, "%s", err);
        if (vr != STORE_DOC_OK)
            continue;
        if (doc_hash_compute(p->vdoc[i], p->vhash[i]) != 0)
            return work_fail(j->e, OUTCOME_REJECTED,
                             "variant payload: cannot serialise");
        npub++;
    }
    if (npub == 0) /* cp_sellable() said otherwise: a bug */
        return work_fail(j->e, OUTCOME_REJECTED, "no variant to publish");
    return OUTCOME_OK;
}

/* 1 when some variant of @p snap is for sale in the store (or the snapshot
 * is malformed: cp_prod_build() says how); 0 with j->not_for_sale set. */
static int cp_sellable(struct cp_job *j, const json_t *snap)
{
    const json_t *vars = json_object_get(snap, "variants"), *v;
    const char *pl = j->st->conf.price_list;
    char err[512];
    size_t i;

    json_array_foreach(vars, i, v)
    {
        json_t *doc = NULL;
        enum store_doc_res vr =
            j->plat->variant_doc(snap, v, pl, &doc, err, sizeof(err));

        json_decref(doc);
        if (vr != STORE_DOC_SKIP)
            return 1;
    }
    cp_not_for_sale_reason(j, vars, pl);
    return 0;
}

static int cp_sku_in(const struct cp_prod *p, const char *sku)
{
    for (size_t i = 0; sku && i < p->n; i++)
        if (p->sku[i] && strcmp(p->sku[i], sku) == 0)
            return 1;
    return 0;
}

/* Move the first product of @p page with a variant of @p p into @p found. */
static int cp_lookup_match(const struct cp_prod *p, struct store_products *page,
                           struct store_product *found)
{
    for (size_t i = 0; i < page->n; i++) {
        const struct store_variants *vs = &page->v[i].variants;

        for (size_t k = 0; k < vs->n; k++) {
            if (!cp_sku_in(p, vs->v[k].sku))
                continue;
            *found = page->v[i];
            memset(&page->v[i], 0, sizeof(page->v[i]));
            return 1;
        }
    }
    return 0;
}

/*
 * After a crash between a create and recording its id: find the product in
 * the store by the SKUs of its variants among the products updated since
 * the marker was written (minus a slack for clock skew).  @p found
 * receives the store's product (found->id 0: none).
 */
static enum outcome cp_lookup(struct cp_job *j, const struct cp_prod *p,
                              long long age_s, struct store_product *found)
{
    struct store_products page;
    struct store_page pg;
    char since[CLOCK_RFC3339_SIZE];
    int64_t t = clock_wall_us() - (age_s + j->cp->cfg.lookup_slack_s) * 1000000;
    enum outcome o = OUTCOME_OK;
    int hit = 0;

    memset(found, 0, sizeof(*found));
    memset(&page, 0, sizeof(page));
    memset(&pg, 0, sizeof(pg));
    clock_rfc3339_format(t, 0, CLOCK_FMT_SEC, since, sizeof(since));
    pg.updated_since = since;
    while (!hit && !pg.done) {
        o = cp_call(j, j->plat->products_page(&j->call, &pg, &page));
        if (o != OUTCOME_OK)
            break;
        hit = cp_lookup_match(p, &page, found);
        store_products_clear(&page);
    }
    store_products_clear(&page);
    log_info_ctx(j->key, "store %s: in-flight look-up since %s: %s",
                 j->st->conf.name, since,
                 hit ? "the product exists, adopting it"
                     : "not created, creating");
    return o;
}

/*
 * Record a variant's remote id and hash; when it was not mapped (or only
 * adopted, hash "") before, also emit its stock.available in the same
 * transaction, releasing a stock push parked for the unmapped variant
 * (DESIGN.md "Ordering dependencies").
 */
static int cp_variant_record(struct cp_job *j, long long vid, long long vrid,
                             const char *hash, int fresh, char *err,
                             size_t err_size)
{
    PGconn *pg = j->cp->pg;
    long long sid = j->st->conf.id;

    if (!fresh)
        return remote_map_put(pg, sid, REMOTE_MAP_VARIANT, vid, vrid, hash, err,
                              err_size);
    if (db_begin(pg, err, err_size) != 0)
        return -1;
    if (remote_map_put(pg, sid, REMOTE_MAP_VARIANT, vid, vrid, hash, err,
                       err_size) != 0 ||
        ledger_variant_available_emit(pg, sid, vid, err, err_size) < 0 ||
        db_commit(pg, err, err_size) != 0) {
        db_rollback(pg);
        return -1;
    }
    return 0;
}

/* Record a created product and its variants (matched by SKU) in one
 * transaction; each variant's stock push is released with it. */
static int cp_create_record(struct cp_job *j, const struct cp_prod *p,
                            const struct store_product *made, char *err,
                            size_t err_size)
{
    PGconn *pg = j->cp->pg;
    long long sid = j->st->conf.id;
    const struct store_variant *rv;

    if (db_begin(pg, err, err_size) != 0)
        return -1;
    for (size_t i = 0; i < p->n; i++) {
        rv = p->vdoc[i] ? store_variants_by_sku(&made->variants, p->sku[i])
                        : NULL;
        if (rv && (remote_map_put(pg, sid, REMOTE_MAP_VARIANT, p->vid[i],
                                  rv->id, p->vhash[i], err, err_size) != 0 ||
                   ledger_variant_available_emit(pg, sid, p->vid[i], err,
                                                 err_size) < 0))
            goto fail;
    }
    if (remote_map_put(pg, sid, REMOTE_MAP_PRODUCT, p->pid, made->id, p->phash,
                       err, err_size) != 0 ||
        db_commit(pg, err, err_size) != 0)
        goto fail;
    return 0;
fail:
    db_rollback(pg);
    return -1;
}

/* Create the product with its variants; record ids matched by SKU. */
static enum outcome cp_create(struct cp_job *j, const struct cp_prod *p)
{
    struct store_product made;
    json_t **pub = calloc(p->n + 1, sizeof(*pub));
    long long sid = j->st->conf.id;
    char err[512];
    size_t i, npub = 0;
    enum outcome o;

    if (!pub)
        return work_fail(j->e, OUTCOME_RETRY, "out of memory");
    for (i = 0; i < p->n; i++)
        if (p->vdoc[i])
            pub[npub++] = p->vdoc[i];
    /* The marker is committed before the call: a crash after the store
     * created the product leaves it, and the next attempt looks first. */
    if (remote_map_mark_inflight(j->cp->pg, sid, REMOTE_MAP_PRODUCT, p->pid,
                                 err, sizeof(err)) != 0) {
        free(pub);
        return cp_db_fail(j, err);
    }
    o = cp_call(j, j->plat->product_create(&j->call, p->doc, pub, npub, &made));
    free(pub);
    if (o != OUTCOME_OK) {
        /* A rejection or the store's limit means nothing was created: drop
         * the marker so the next attempt does not pay for a look-up.
         * Anything else (a timeout) leaves the outcome unknown: keep it. */
        if (o == OUTCOME_REJECTED || o == OUTCOME_PAUSED)
            remote_map_del(j->cp->pg, sid, REMOTE_MAP_PRODUCT, p->pid, err,
                           sizeof(err));
        return o;
    }
    if (cp_create_record(j, p, &made, err, sizeof(err)) != 0) {
        store_product_clear(&made);
        /* The marker stays: the retry finds the product by SKU. */
        return cp_db_fail(j, err);
    }
    log_info_ctx(j->key, "store %s: product created (id %lld, %zu variants)",
                 j->st->conf.name, made.id, npub);
    store_product_clear(&made);
    return OUTCOME_OK;
}

/* Re-activated in the ledger: recover the product from the store's
 * archive; *@p old_hash becomes "" so the current document is sent. */
static enum outcome cp_recover(struct cp_job *j, const struct cp_prod *p,
                               long long rid, const char **old_hash)
{
    char err[512], arch[DOC_HASH_LEN + 1];
    enum outcome o;

    doc_hash_archived(arch);
    if (strcmp(*old_hash, arch) != 0)
        return OUTCOME_OK;
    o = cp_call(j, j->plat->product_recover(&j->call, rid));
    if (o != OUTCOME_OK)
        return o;
    if (remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_PRODUCT, p->pid,
                       rid, "", err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    log_info_ctx(j->key, "store %s: product %lld recovered", j->st->conf.name,
                 rid);
    *old_hash = "";
    return OUTCOME_OK;
}

/* Read each variant's remote_map row; *@p need_list when the store's
 * variants must be listed (a marker to resolve). */
static enum outcome cp_variant_refs(struct cp_job *j, struct cp_prod *p,
                                    int *need_list)
{
    char err[512];

    *need_list = 0;
    for (size_t i = 0; i < p->n; i++) {
        p->mapped[i] =
            remote_map_get(j->cp->pg, j->st->conf.id, REMOTE_MAP_VARIANT,
                           p->vid[i], &p->ref[i], err, sizeof(err));
        if (p->mapped[i] < 0)
            return cp_db_fail(j, err);
        /* A marker to resolve, or a variant to create: its SKU may be in
         * the store already. */
        if (p->ref[i].remote_id < 0 || (p->vdoc[i] && !p->mapped[i]))
            *need_list = 1;
    }
    return OUTCOME_OK;
}

/* The product's own fields, when their hash changed. */
static enum outcome cp_product_fields(struct cp_job *j, const struct cp_prod *p,
                                      long long rid, const char *old_hash)
{
    char err[512];
    enum outcome o;

    if (strcmp(old_hash, p->phash) == 0)
        return OUTCOME_OK;
    o = cp_call(j, j->plat->product_update(&j->call, rid, p->doc));
    if (o != OUTCOME_OK)
        return o;
    j->product_put = 1;
    if (remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_PRODUCT, p->pid,
                       rid, p->phash, err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    log_info_ctx(j->key, "store %s: product %lld updated", j->st->conf.name,
                 rid);
    return OUTCOME_OK;
}

/* The store's id of the variant with @p sku, or 0. */
static long long cp_remote_by_sku(const struct store_variants *rvars,
                                  const char *sku)
{
    const struct store_variant *v = store_variants_by_sku(rvars, sku);

    return v ? v->id : 0;
}

/* Create variant @p i (unless the store has it already: a create before a
 * crash, or an adopted product). */
static enum outcome cp_variant_create(struct cp_job *j, struct cp_prod *p,
                                      size_t i, long long rid,
                                      const struct store_variants *rvars)
{
    long long sid = j->st->conf.id, vrid = cp_remote_by_sku(rvars, p->sku[i]);
    char err[512];
    enum outcome o;

    if (vrid > 0) {
        /* Updated below. */
        p->ref[i].remote_id = vrid;
        p->ref[i].hash[0] = '\0';
        p->mapped[i] = 1;
        return OUTCOME_OK;
    }
    if (remote_map_mark_inflight(j->cp->pg, sid, REMOTE_MAP_VARIANT, p->vid[i],
                                 err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    o = cp_call(j, j->plat->variant_create(&j->call, rid, p->vdoc[i], &vrid));
    if (o == OUTCOME_REJECTED)
        remote_map_del(j->cp->pg, sid, REMOTE_MAP_VARIANT, p->vid[i], err,
                       sizeof(err));
    if (o != OUTCOME_OK)
        return o;
    if (cp_variant_record(j, p->vid[i], vrid, p->vhash[i], 1, err,
                          sizeof(err)) != 0)
        return cp_db_fail(j, err);
    p->ref[i].remote_id = vrid;
    snprintf(p->ref[i].hash, sizeof(p->ref[i].hash), "%s", p->vhash[i]);
    p->mapped[i] = 1;
    log_info_ctx(j->key, "store %s: variant %s created (id %lld)",
                 j->st->conf.name, p->sku[i], vrid);
    return OUTCOME_OK;
}

/* Send variant @p i when its hash changed. */
static enum outcome cp_variant_update(struct cp_job *j, struct cp_prod *p,
                                      size_t i, long long rid)
{
    long long vrid = p->ref[i].remote_id;
    char err[512];
    enum outcome o;

    if (strcmp(p->ref[i].hash, p->vhash[i]) == 0)
        return OUTCOME_OK;
    o = cp_call(j, j->plat->variant_update(&j->call, rid, vrid, p->vdoc[i]));
    if (o != OUTCOME_OK)
        return o;
    if (cp_variant_record(j, p->vid[i], vrid, p->vhash[i],
                          p->ref[i].hash[0] == '\0', err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    log_info_ctx(j->key, "store %s: variant %s updated", j->st->conf.name,
                 p->sku[i]);
    return OUTCOME_OK;
}

/* Remove variant @p i from the store (it must not exist there) and forget
 * its mapping. */
static enum outcome cp_variant_remove(struct cp_job *j, struct cp_prod *p,
                                      size_t i, long long rid,
                                      const struct store_variants *rvars)
{
    long long vrid = p->ref[i].remote_id > 0
                         ? p->ref[i].remote_id
                         : cp_remote_by_sku(rvars, p->sku[i]);
    char err[512];
    enum outcome o;

    if (vrid > 0) {
        o = cp_call(j, j->plat->variant_delete(&j->call, rid, vrid));
        if (o != OUTCOME_OK && !cp_gone(j, o))
            return o; /* a 404: removed already */
        log_info_ctx(j->key, "store %s: variant %s removed", j->st->conf.name,
                     p->sku[i]);
    }
    if (remote_map_del(j->cp->pg, j->st->conf.id, REMOTE_MAP_VARIANT, p->vid[i],
                       err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    return OUTCOME_OK;
}

/* Creates first: the store refuses to remove a product's last variant, so
 * new ones must exist before old ones go; then updates, then removals. */
static enum outcome cp_variants(struct cp_job *j, struct cp_prod *p,
                                long long rid,
                                const struct store_variants *rvars)
{
    enum outcome o = OUTCOME_OK;
    size_t i;

    for (i = 0; o == OUTCOME_OK && i < p->n; i++)
        if (p->vdoc[i] && !(p->mapped[i] && p->ref[i].remote_id > 0))
            o = cp_variant_create(j, p, i, rid, rvars);
    for (i = 0; o == OUTCOME_OK && i < p->n; i++)
        if (p->vdoc[i])
            o = cp_variant_update(j, p, i, rid);
    for (i = 0; o == OUTCOME_OK && i < p->n; i++)
        if (!p->vdoc[i] && p->mapped[i])
            o = cp_variant_remove(j, p, i, rid, rvars);
    return o;
}

/*
 * Bring a mapped product in line: the product's own fields when their hash
 * changed, then variants created (looked up by SKU first), updated and
 * removed — never recreating the product.  @p known (may be NULL) holds
 * the store's variants when already read.
 */
static enum outcome cp_update(struct cp_job *j, struct cp_prod *p,
                              long long rid, const char *old_hash,
                              const struct store_variants *known)
{
    struct store_variants listed;
    const struct store_variants *rvars = known;
    enum outcome o;
    int need_list = 0;

    memset(&listed, 0, sizeof(listed));
    o = cp_recover(j, p, rid, &old_hash);
    if (o == OUTCOME_OK)
        o = cp_variant_refs(j, p, &need_list);
    if (o == OUTCOME_OK)
        o = cp_product_fields(j, p, rid, old_hash);
    if (o == OUTCOME_OK && need_list && !rvars) {
        o = cp_call(j, j->plat->variants_list(&j->call, rid, &listed));
        rvars = &listed;
    }
    if (o == OUTCOME_OK)
        o = cp_variants(j, p, rid, rvars);
    store_variants_clear(&listed);
    return o;
}

/* Forget product @p p in store @p j->st: its row, its variants' and its
 * images' rows, in one transaction (it is created again and re-mapped). */
static enum outcome cp_forget_product(struct cp_job *j, struct cp_prod *p)
{
    PGconn *pg = j->cp->pg;
    long long sid = j->st->conf.id;
    struct catalog_photo_remote *rows = NULL;
    char err[512];
    size_t i, n = 0;

    if (catalog_photo_remote_list(pg, sid, p->pid, &rows, &n, err,
                                  sizeof(err)) != 0 ||
        db_begin(pg, err, sizeof(err)) != 0)
        goto fail;
    for (i = 0; i < n; i++)
        if (rows[i].remote_id > 0 &&
            remote_map_del(pg, sid, REMOTE_MAP_IMAGE, rows[i].id, err,
                           sizeof(err)) != 0)
            goto rollback;
    for (i = 0; i < p->n; i++)
        if (remote_map_del(pg, sid, REMOTE_MAP_VARIANT, p->vid[i], err,
                           sizeof(err)) != 0)
            goto rollback;
    if (remote_map_del(pg, sid, REMOTE_MAP_PHOTOSET, p->pid, err,
                       sizeof(err)) != 0 ||
        remote_map_del(pg, sid, REMOTE_MAP_PRODUCT, p->pid, err, sizeof(err)) !=
            0 ||
        db_commit(pg, err, sizeof(err)) != 0)
        goto rollback;
    free(rows);
    memset(p->ref, 0, (p->n + 1) * sizeof(*p->ref));
    memset(p->mapped, 0, (p->n + 1) * sizeof(*p->mapped));
    return OUTCOME_OK;
rollback:
    db_rollback(pg);
fail:
    free(rows);
    return cp_db_fail(j, err);
}

/* Forget the variants of @p p that the store no longer has (not in
 * @p listed), so cp_variants() creates them again. */
static enum outcome cp_forget_variants(struct cp_job *j, struct cp_prod *p,
                                       const struct store_variants *listed)
{
    char err[512];
    size_t i, k;

    for (i = 0; i < p->n; i++) {
        if (!p->mapped[i] || p->ref[i].remote_id <= 0)
            continue;
        for (k = 0; k < listed->n; k++)
            if (listed->v[k].id == p->ref[i].remote_id)
                break;
        if (k < listed->n)
            continue;
        if (remote_map_del(j->cp->pg, j->st->conf.id, REMOTE_MAP_VARIANT,
                           p->vid[i], err, sizeof(err)) != 0)
            return cp_db_fail(j, err);
        log_warn_ctx(j->key,
                     "store %s: variant %s (id %lld) is gone from the store: "
                     "creating it again",
                     j->st->conf.name, p->sku[i] ? p->sku[i] : "-",
                     p->ref[i].remote_id);
        memset(&p->ref[i], 0, sizeof(p->ref[i]));
        p->mapped[i] = 0;
    }
    return OUTCOME_OK;
}

/*
 * cp_update(), and when the store answered 404 (the product or a variant
 * was deleted in the store behind omnisync's back): list the product's
 * variants; a 404 again means the product is gone — forget its mapping and
 * create it anew (new ids, re-mapped; its photos follow) —, else the
 * variants the store lacks are created again.  Never a dead letter.
 */
static enum outcome cp_update_or_recreate(struct cp_job *j, struct cp_prod *p,
                                          long long rid, const char *old_hash,
                                          const struct store_variants *known)
{
    struct store_variants listed;
    enum outcome o = cp_update(j, p, rid, old_hash, known);

    if (!cp_gone(j, o))
        return o;
    memset(&listed, 0, sizeof(listed));
    o = cp_call(j, j->plat->variants_list(&j->call, rid, &listed));
    if (cp_gone(j, o)) {
        log_warn_ctx(j->key,
                     "store %s: product %lld is gone from the store: "
                     "creating it again",
                     j->st->conf.name, rid);
        o = cp_forget_product(j, p);
        if (o == OUTCOME_OK)
            o = cp_create(j, p);
    } else if (o == OUTCOME_OK) {
        o = cp_forget_variants(j, p, &listed);
        if (o == OUTCOME_OK)
            o = cp_variants(j, p, rid, &listed);
    }
    store_variants_clear(&listed);
    return o;
}

/* Archive a product the ledger archived; a marker is resolved first. */
static enum outcome cp_archive(struct cp_job *j, const json_t *snap,
                               long long pid)
{
    struct remote_ref ref;
    struct store_product found;
    struct cp_prod p;
    long long sid = j->st->conf.id, rid;
    char err[512], arch[DOC_HASH_LEN + 1];
    enum outcome o;
    int mapped;

    doc_hash_archived(arch);
    mapped = remote_map_get(j->cp->pg, sid, REMOTE_MAP_PRODUCT, pid, &ref, err,
                            sizeof(err));
    if (mapped < 0)
        return cp_db_fail(j, err);
    if (!mapped)
        return OUTCOME_OK; /* never published: nothing to archive */
    if (strcmp(ref.hash, arch) == 0) {
        j->cp->n_skipped++;
        return OUTCOME_OK;
    }
    rid = ref.remote_id;
    if (rid < 0) {
        memset(&p, 0, sizeof(p));
        p.pid = pid;
        if (cp_prod_alloc(&p, snap) != 0) {
            cp_prod_clear(&p);
            return work_fail(j->e, OUTCOME_RETRY, "out of memory");
        }
        o = cp_lookup(j, &p, ref.age_s, &found);
        cp_prod_clear(&p);
        rid = found.id;
        store_product_clear(&found);
        if (o != OUTCOME_OK)
            return o;
        if (rid <= 0) {
            if (remote_map_del(j->cp->pg, sid, REMOTE_MAP_PRODUCT, pid, err,
                               sizeof(err)) != 0)
                return cp_db_fail(j, err);
            return OUTCOME_OK;
        }
    }
    o = cp_call(j, j->plat->product_archive(&j->call, rid));
    if (o != OUTCOME_OK)
        return o;
    if (remote_map_put(j->cp->pg, sid, REMOTE_MAP_PRODUCT, pid, rid, arch, err,
                       sizeof(err)) != 0)
        return cp_db_fail(j, err);
    log_info_ctx(j->key, "store %s: product %lld archived", j->st->conf.name,
                 rid);
    return OUTCOME_OK;
}

/* A product the ledger archived: archived in the store, and no longer
 * counted as not for sale there. */
static enum outcome cp_archive_product(struct cp_job *j, const json_t *snap,
                                       long long pid)
{
    char err[512];
    enum outcome o = cp_archive(j, snap, pid);

    if (o == OUTCOME_OK && not_for_sale_clear(j->cp->pg, j->st->conf.id, pid,
                                              err, sizeof(err)) != 0)
        o = cp_db_fail(j, err);
    return o;
}

/* ---- image jobs ---------------------------------------------------------- */

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

/* The ledger's photo of snapshot photo @p ph that store @p st does not
 * hold with this content yet: its id, or 0 (held, or not in the ledger
 * any more: the event that changed it carries the change). */
static long long cp_photo_to_send(const struct catalog_photo_remote *rows,
                                  size_t n, const json_t *ph)
{
    const char *sha = json_string_value(json_object_get(ph, "sha256"));
    long long pos = cp_jid(ph, "position");

    for (size_t k = 0; sha && k < n; k++) {
        if (rows[k].position != pos || strcmp(rows[k].sha256, sha) != 0)
            continue;
        if (rows[k].remote_id > 0 && strcmp(rows[k].hash, sha) == 0)
            return 0; /* uploaded with this content */
        return rows[k].id;
    }
    return 0;
}

/* Wait for every image job's delivery report (interrupted by a stop). */
static enum outcome cp_jobs_delivered(struct cp_job *j, int failed_before,
                                      enum outcome o)
{
    struct catpub *cp = j->cp;
    char err[512];

    while (cp->img_pending > 0 && !sig_stop_requested())
        kafka_producer_poll(cp->kp, 50);
    if (o == OUTCOME_OK && cp->img_pending > 0)
        o = work_fail(j->e, OUTCOME_RETRY,
                      "images.job: stopped before delivery");
    if (o == OUTCOME_OK && cp->img_failed != failed_before)
        o = work_fail(j->e, OUTCOME_RETRY, "images.job: delivery failed");
    if (kafka_producer_fatal(cp->kp, err, sizeof(err))) {
        log_error("image job producer: fatal: %s", err);
        cp->fatal = 1;
    }
    return o;
}

/* ---- photos: the store's images follow the ledger's list ---------------- */

/* The hash of the snapshot's photo set: its "position:sha256" in order. */
static int cp_photoset_hash(const json_t *photos, char *out)
{
    json_t *set = json_array();
    const json_t *ph;
    const char *sha;
    char item[128];
    size_t i;
    int rc;

    if (!set)
        return -1;
    json_array_foreach(photos, i, ph)
    {
        sha = json_string_value(json_object_get(ph, "sha256"));
        snprintf(item, sizeof(item), "%lld:%s", cp_jid(ph, "position"),
                 sha ? sha : "");
        json_array_append_new(set, json_string(item));
    }
    rc = doc_hash_compute(set, out);
    json_decref(set);
    return rc;
}

/* The first photo of @p rows not yet claimed whose content the store image
 * named @p fname holds (its name is the content hash, image_job.h), or
 * -1. */
static long cp_photo_of_image(const struct catalog_photo_remote *rows, size_t n,
                              const char *claimed, const char *fname)
{
    for (size_t k = 0; fname && k < n; k++)
        if (!claimed[k] && strncmp(fname, rows[k].sha256, 16) == 0 &&
            fname[16] == '.')
            return (long)k;
    return -1;
}

/* 1 when the store image named @p fname was uploaded by omnisync (16 hex
 * digits and an extension: image_job_filename()). */
static int cp_image_ours(const char *fname)
{
    return fname && strspn(fname, "0123456789abcdef") == 16 && fname[16] == '.';
}

/* Remove store image @p im (no photo of the ledger holds its content) and
 * forget any photo's mapping to it; a 404 is done. */
static enum outcome cp_image_drop(struct cp_job *j, long long rid,
                                  const struct store_image *im)
{
    long long sid = j->st->conf.id, local;
    char err[512];
    enum outcome o;
    int f;

    o = cp_call(j, j->plat->image_delete(&j->call, rid, im->id));
    if (o != OUTCOME_OK && !cp_gone(j, o))
        return o;
    f = remote_map_find_local(j->cp->pg, sid, REMOTE_MAP_IMAGE, im->id, &local,
                              err, sizeof(err));
    if (f < 0 || (f > 0 && remote_map_del(j->cp->pg, sid, REMOTE_MAP_IMAGE,
                                          local, err, sizeof(err)) != 0))
        return cp_db_fail(j, err);
    log_info_ctx(j->key,
                 "store %s: image %lld (%s) removed: no photo of the product "
                 "holds it any more",
                 j->st->conf.name, im->id, im->filename);
    return OUTCOME_OK;
}

/* Store image @p im holds photo @p row's content: map the photo to it and
 * move it to the photo's position. */
static enum outcome cp_image_keep(struct cp_job *j, long long rid,
                                  const struct store_image *im,
                                  const struct catalog_photo_remote *row)
{
    char err[512];
    enum outcome o;

    if ((row->remote_id != im->id || strcmp(row->hash, row->sha256) != 0) &&
        remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_IMAGE, row->id,
                       im->id, row->sha256, err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    if (im->position == row->position)
        return OUTCOME_OK;
    o = cp_call(
        j, j->plat->image_position(&j->call, rid, im->id, (long)row->position));
    if (o == OUTCOME_OK)
        log_info_ctx(j->key, "store %s: image %lld moved to position %lld",
                     j->st->conf.name, im->id, row->position);
    return o;
}

/*
 * The product's photo set changed since the store's images were last
 * aligned: list them once; an image whose content no photo of the ledger
 * holds (a removed or replaced photo) is deleted, one that holds a
 * photo's content is mapped to that photo and moved to its position (a
 * reorder costs no upload).  Identical content twice in one product is
 * kept twice: each image goes to the first photo not yet claimed.  Images
 * not uploaded by omnisync (other names) are left alone.  The photos
 * still missing are queued by cp_images() afterwards.
 */
static enum outcome cp_photos_align(struct cp_job *j, long long pid,
                                    long long rid)
{
    struct catalog_photo_remote *rows = NULL;
    struct store_images imgs;
    char *claimed = NULL, err[512];
    enum outcome o;
    size_t i, n = 0;
    long k;

    memset(&imgs, 0, sizeof(imgs));
    if (catalog_photo_remote_list(j->cp->pg, j->st->conf.id, pid, &rows, &n,
                                  err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    claimed = calloc(n + 1, 1);
    o = claimed ? cp_call(j, j->plat->images_list(&j->call, rid, &imgs))
                : work_fail(j->e, OUTCOME_RETRY, "out of memory");
    for (i = 0; o == OUTCOME_OK && i < imgs.n; i++) {
        const struct store_image *im = &imgs.v[i];

        k = cp_photo_of_image(rows, n, claimed, im->filename);
        if (k >= 0) {
            claimed[k] = 1;
            o = cp_image_keep(j, rid, im, &rows[k]);
        } else if (cp_image_ours(im->filename)) {
            o = cp_image_drop(j, rid, im);
        }
    }
    store_images_clear(&imgs);
    free(claimed);
    free(rows);
    return o;
}

/* Align the store's images with the snapshot's photo set when it changed
 * since the last time (remote_map "photoset"); a product just created has
 * no images to align, nor has one that never had photos. */
static enum outcome cp_photoset(struct cp_job *j, const json_t *photos,
                                long long pid, long long rid, int created)
{
    char h[DOC_HASH_LEN + 1], err[512];
    struct remote_ref ref;
    enum outcome o = OUTCOME_OK;
    int mapped;

    if (cp_photoset_hash(photos, h) != 0)
        return work_fail(j->e, OUTCOME_REJECTED, "photos: cannot hash");
    mapped = remote_map_get(j->cp->pg, j->st->conf.id, REMOTE_MAP_PHOTOSET, pid,
                            &ref, err, sizeof(err));
    if (mapped < 0)
        return cp_db_fail(j, err);
    if (mapped && ref.remote_id == rid && strcmp(ref.hash, h) == 0)
        return OUTCOME_OK;
    if (!created && (mapped || json_array_size(photos) > 0))
        o = cp_photos_align(j, pid, rid);
    if (o == OUTCOME_OK &&
        remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_PHOTOSET, pid, rid,
                       h, err, sizeof(err)) != 0)
        o = cp_db_fail(j, err);
    return o;
}

/*
 * Emit one images.job per photo of the snapshot that store @p st does not
 * hold yet with the same content (remote_map 'image', local id
 * product_photo.id, payload_hash the SHA-256), once the product exists
 * there (@p rid).  Returns after every job's delivery report, so the
 * catalog offset is committed only when the jobs are safe in Kafka.
 */
static enum outcome cp_images(struct cp_job *j, const json_t *snap,
                              long long pid, long long rid, int created)
{
    const json_t *photos = json_object_get(snap, "photos"), *ph;
    struct catalog_photo_remote *rows = NULL;
    int failed = j->cp->img_failed;
    enum outcome o;
    struct image_job job;
    char err[512];
    size_t i, n = 0;

    o = cp_photoset(j, photos, pid, rid, created);
    if (o != OUTCOME_OK || json_array_size(photos) == 0)
        return o;
    if (catalog_photo_remote_list(j->cp->pg, j->st->conf.id, pid, &rows, &n,
                                  err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    json_array_foreach(photos, i, ph)
    {
        memset(&job, 0, sizeof(job));
        job.photo_id = cp_photo_to_send(rows, n, ph);
        job.path = json_string_value(json_object_get(ph, "path"));
        if (job.photo_id <= 0 || !job.path)
            continue;
        job.store = j->st->conf.name;
        job.product_id = pid;
        job.remote_product_id = rid;
        job.position = cp_jid(ph, "position");
        job.sha256 = json_string_value(json_object_get(ph, "sha256"));
        if (cp_job_produce(j->cp, &job, j->key, err, sizeof(err)) != 0) {
            o = work_fail(j->e, OUTCOME_RETRY, "images.job: %s", err);
            break;
        }
    }
    free(rows);
    return cp_jobs_delivered(j, failed, o);
}

/* ---- one product to one store -------------------------------------------- */

static const json_t *cp_groups(const json_t *snap)
{
    const json_t *g = json_object_get(snap, "groups");

    return json_is_array(g) ? g : NULL;
}

/*
 * A marker (a create whose answer was lost): look the product up in the
 * store.  Found: record it as adopted (an empty hash, so it is updated to
 * the current document) and hand back its variants in @p found; not
 * found: @p ref stays a marker and the product is created.
 */
static enum outcome cp_inflight(struct cp_job *j, const struct cp_prod *p,
                                struct remote_ref *ref,
                                struct store_product *found)
{
    char err[512];
    enum outcome o = cp_lookup(j, p, ref->age_s, found);

    if (o != OUTCOME_OK || found->id <= 0)
        return o;
    if (remote_map_put(j->cp->pg, j->st->conf.id, REMOTE_MAP_PRODUCT, p->pid,
                       found->id, "", err, sizeof(err)) != 0)
        return cp_db_fail(j, err);
    ref->remote_id = found->id;
    ref->hash[0] = '\0';
    return OUTCOME_OK;
}

/* Create or update the product, then queue the photos the store lacks. */
static enum outcome cp_product(struct cp_job *j, const json_t *snap,
                               struct cp_prod *p)
{
    struct store_product found;
    struct remote_ref ref;
    long long sid = j->st->conf.id, before;
    char err[512];
    enum outcome o = OUTCOME_OK;
    int mapped;

    memset(&found, 0, sizeof(found));
    mapped = remote_map_get(j->cp->pg, sid, REMOTE_MAP_PRODUCT, p->pid, &ref,
                            err, sizeof(err));
    if (mapped < 0)
        return cp_db_fail(j, err);
    before = mapped ? ref.remote_id : 0;
    if (mapped && ref.remote_id < 0)
        o = cp_inflight(j, p, &ref, &found);
    if (o == OUTCOME_OK && (!mapped || ref.remote_id < 0))
        o = cp_create(j, p);
    else if (o == OUTCOME_OK)
        o = cp_update_or_recreate(j, p, ref.remote_id, ref.hash,
                                  found.id > 0 ? &found.variants : NULL);
    store_product_clear(&found);
    if (o != OUTCOME_OK)
        return o;
    /* The product exists in the store now: its photos may follow. */
    mapped = remote_map_get(j->cp->pg, sid, REMOTE_MAP_PRODUCT, p->pid, &ref,
                            err, sizeof(err));
    if (mapped < 0)
        return cp_db_fail(j, err);
    /* Created by this call (a new id): the store has no images yet. */
    if (mapped && ref.remote_id > 0)
        o = cp_images(j, snap, p->pid, ref.remote_id, before != ref.remote_id);
    return o;
}

/*
 * After a product's fields were sent (its category may have changed):
 * remove from the store every category that nothing of the ledger
 * references any more (no product, archived ones included, no subgroup)
 * and forget it.  The store refusing (a product it still keeps there, a
 * subcategory of its own: 4xx) keeps the category; a transient failure
 * leaves it to the next product that moves.  Never fails the product.
 */
static void cp_categories_sweep(struct cp_job *j)
{
    struct catalog_group_unused *rows = NULL;
    long long sid = j->st->conf.id;
    char err[512];
    size_t i, n = 0;
    enum outcome o;

    if (catalog_groups_unused(j->cp->pg, sid, &rows, &n, err, sizeof(err)) !=
        0) {
        log_warn_ctx(j->key, "store %s: unused categories: %s",
                     j->st->conf.name, err);
        return;
    }
    for (i = 0; i < n; i++) {
        o = j->plat->category_delete(&j->call, rows[i].remote_id);
        if (o != OUTCOME_OK && !cp_gone(j, o)) {
            log_info_ctx(j->key, "store %s: category %lld kept: %s",
                         j->st->conf.name, rows[i].remote_id, j->call.why);
            if (o != OUTCOME_REJECTED)
                break;
            continue;
        }
        if (remote_map_del(j->cp->pg, sid, REMOTE_MAP_CATEGORY,
                           rows[i].group_id, err, sizeof(err)) != 0) {
            log_warn_ctx(j->key, "store %s: %s", j->st->conf.name, err);
            break;
        }
        log_info_ctx(j->key,
                     "store %s: category %lld removed: nothing references "
                     "its group any more",
                     j->st->conf.name, rows[i].remote_id);
    }
    free(rows);
}

/*
 * An active product that is not for sale in the store (j->not_for_sale
 * says why): skipped and recorded for `status`, not dead-lettered.  When
 * the store shows it from before, it is archived there (as a product the
 * ledger archived), and recovered once it is sellable again.
 */
static enum outcome cp_not_for_sale(struct cp_job *j, const json_t *snap,
                                    long long pid)
{
    char err[512];
    enum outcome o = cp_archive(j, snap, pid);
    int fresh;

    if (o != OUTCOME_OK)
        return o;
    fresh = not_for_sale_put(j->cp->pg, j->st->conf.id, pid, j->not_for_sale,
                             err, sizeof(err));
    if (fresh < 0)
        return cp_db_fail(j, err);
    j->cp->n_skipped++;
    if (fresh)
        log_info_ctx(j->key, "store %s: product %lld not for sale, skipped: %s",
                     j->st->conf.name, pid, j->not_for_sale);
    return OUTCOME_OK;
}

/* An active product: categories, documents, the product, its photos. */
static enum outcome cp_publish_active(struct cp_job *j, const json_t *snap,
                                      struct cp_prod *p)
{
    long long cat_id = 0;
    char err[512];
    enum outcome o;

    if (cp_prod_alloc(p, snap) != 0)
        return work_fail(j->e, OUTCOME_RETRY, "out of memory");
    if (!cp_sellable(j, snap))
        return cp_not_for_sale(j, snap, p->pid);
    o = cp_categories(j, cp_groups(snap), &cat_id);
    if (o == OUTCOME_OK)
        o = cp_prod_build(j, snap, cat_id, p);
    if (o == OUTCOME_OK)
        o = cp_product(j, snap, p);
    if (o == OUTCOME_OK && j->product_put)
        cp_categories_sweep(j);
    if (o == OUTCOME_OK && not_for_sale_clear(j->cp->pg, j->st->conf.id, p->pid,
                                              err, sizeof(err)) != 0)
        o = cp_db_fail(j, err);
    return o;
}

/* Publish one product snapshot to one store. */
static enum outcome cp_publish(struct catpub *cp, struct storeset_entry *st,
                               const json_t *snap, const char *key,
                               struct work_err *e, int *store_fail)
{
    struct cp_job j;
    struct cp_prod p;
    enum outcome o;

    memset(&j, 0, sizeof(j));
    memset(&p, 0, sizeof(p));
    j.cp = cp;
    j.st = st;
    j.plat = st->plat;
    store_call_init(&j.call, st->sc, cp->b, BUDGET_CATALOG);
    /* A bounded token wait: a store paused by its limit parks its work
     * instead of holding every other store's. */
    j.call.deadline_ms = clock_mono_ms() + cp->cfg.token_wait_ms;
    j.key = key;
    j.e = e;
    p.pid = cp_jid(snap, "product_id");
    if (json_is_true(json_object_get(snap, "archived")))
        o = cp_archive_product(&j, snap, p.pid);
    else
        o = cp_publish_active(&j, snap, &p);
    *store_fail = o != OUTCOME_OK && o != OUTCOME_REJECTED && j.store_fail;
    cp->n_calls += j.call.calls;
    store_call_clear(&j.call);
    cp_prod_clear(&p);
    return o;
}

/* ---- messages ------------------------------------------------------------ */

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

/* Dead-letter @p m with @p reason (dlq.h waits for the acknowledgement);
 * a parked product (@p m NULL) goes as @p raw, its envelope. */
static int cp_dlq(struct catpub *cp, const rd_kafka_message_t *m,
                  const char *raw, const char *key, const char *store,
                  const struct work_err *e)
{
    char reason[1200], errstr[512];
    struct storeset_entry *st;
    long long pid;
    int sent;

    snprintf(reason, sizeof(reason), "store %s: product %s: %s",
             store ? store : "-", key ? key : "-", e->reason);
    if (m)
        sent = dlq_send(cp->dlq, m, reason, 30 * 1000 /* ms */, errstr,
                        sizeof(errstr));
    else
        sent = dlq_send_raw(cp->dlq, "parked", key, key ? strlen(key) : 0, raw,
                            strlen(raw), reason, 30 * 1000 /* ms */, errstr,
                            sizeof(errstr));
    if (sent != 0) {
        log_error("dlq: %s", errstr);
        return -1;
    }
    cp->n_dlq++;
    log_warn_ctx(key, "dead-lettered (store %s): %s", store ? store : "-",
                 e->reason);
    st = store ? storeset_find(cp->ss, store) : NULL;
    if (!key || cfg_parse_ll(key, &pid) != 0)
        pid = 0;
    if (dlq_record_add(cp->pg,
                       &(struct dlq_record_note){
                           .store_id = st ? st->conf.id : 0,
                           .store = store,
                           .service = "catalog-publisher",
                           .entity = pid > 0 ? REMOTE_MAP_PRODUCT : NULL,
                           .local_id = pid,
                           .key = key,
                           .reason = reason,
                           .ref = dlq_last(cp->dlq)},
                       errstr, sizeof(errstr)) != 0)
        log_warn("dlq_record: %s (status will not count it)", errstr);
    return 0;
}

/* Dead-letter @p m for one store and say whether the offset may move. */
static enum outcome cp_reject(struct catpub *cp, const rd_kafka_message_t *m,
                              const char *key, const char *store,
                              struct work_err *e)
{
    if (cp_dlq(cp, m, NULL, key, store, e) == 0)
        return OUTCOME_OK;
    return work_fail(e, OUTCOME_RETRY, "dlq failed");
}

/* ---- parking ------------------------------------------------------------- */

/* The product id of @p ev as parked.entity. */
static void cp_entity(const struct event *ev, char *buf, size_t size)
{
    snprintf(buf, size, "%lld", cp_jid(ev->data, "product_id"));
}

/* Park @p ev's product for store @p st after its failure @p e (the
 * store's backoff grows), or behind the store's wait (e->reason empty). */
static enum outcome cp_park(struct catpub *cp, const rd_kafka_message_t *m,
                            const struct event *ev, struct storeset_entry *st,
                            struct work_err *e)
{
    char entity[PARKED_ENTITY_SIZE], err[512];

    cp_entity(ev, entity, sizeof(entity));
    if (parked_message(cp->pg,
                       &(struct parked_put){st->conf.id, PARKED_CATALOG, entity,
                                            m->payload, e->reason,
                                            CP_PARK_BASE_MS,
                                            (long)cp->cfg.backoff_max_ms},
                       m->len, err, sizeof(err)) != 0)
        return work_db_fail(cp->pg, e, err);
    if (e->reason[0])
        log_warn_ctx(ev->key, "store %s: product %s parked: %s", st->conf.name,
                     entity, e->reason);
    else
        log_debug_ctx(ev->key, "store %s: product %s parked behind its retry",
                      st->conf.name, entity);
    return OUTCOME_OK;
}

/* ---- store workers (app/lanes.h, docs/isolation.md) --------------------- */

/* One store's publish on a store worker: a message's or a parked row's
 * envelope. */
struct cp_lane_job {
    struct lane_job lj;
    char *payload;         /* (owned) the envelope */
    char *store;           /* (owned) the store's name */
    struct parked_item it; /* detached: the parked row (no payload) */
    int retry;             /* from the retry pass */
    /* What the run did. */
    enum outcome o;
    struct work_err e;
    int store_fail;
    char key[64];
};

/* A parked product's attempt ended with @p o: delete its row, dead-letter
 * it (a 4xx), or record the store's failure. */
static void cp_parked_settle(struct catpub *cp, const struct parked_item *it,
                             enum outcome o, const char *key, const char *store,
                             const char *payload, struct work_err *e)
{
    char err[512];
    int rc;

    if (o == OUTCOME_OK)
        log_info_ctx(key, "store %s: parked product %s published", store,
                     it->entity);
    if (o == OUTCOME_REJECTED && cp_dlq(cp, NULL, payload, key, store, e) == 0)
        o = OUTCOME_OK;
    if (o == OUTCOME_OK) {
        rc = parked_done(cp->pg, PARKED_CATALOG, it, err, sizeof(err));
    } else {
        /* The store's failure, or Postgres, Redis or Kafka: the store
         * waits longer (when Postgres is gone, the claim runs out). */
        rc = parked_fail(cp->pg,
                         &(struct parked_put){it->store_id, PARKED_CATALOG,
                                              it->entity, NULL, e->reason,
                                              CP_PARK_BASE_MS,
                                              (long)cp->cfg.backoff_max_ms},
                         err, sizeof(err));
        log_warn_ctx(key, "store %s: parked product %s: attempt %d: %s", store,
                     it->entity, it->attempts + 1, e->reason);
    }
    if (rc != 0)
        log_warn("parked: %s (retried when the claim runs out)", err);
}

/* A worker's own publisher: its Postgres connection, budget connection,
 * store clients, image-job producer and DLQ; settings shared by value. */
static void *cp_env_new(void *arg, char *errstr, size_t errstr_size)
{
    const struct catpub *cp = arg;
    struct catpub *w = calloc(1, sizeof(*w));

    if (!w) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    w->cfg = cp->cfg;
    w->latency = cp->latency;
    w->owner = (struct catpub *)cp;
    w->pg =
        db_connect(cp->cfg.pg_dsn, "catalog-publisher", errstr, errstr_size);
    if (w->pg)
        w->b = budget_new(cp->cfg.redis_addr, NULL, errstr, errstr_size);
    if (w->b)
        budget_metrics_share(w->b, cp->b);
    if (w->b)
        w->dlq = dlq_new(cp->cfg.kafka_bootstrap, cp->passthru,
                         "catalog-publisher", errstr, errstr_size);
    if (w->dlq)
        w->kp = kafka_producer_new(cp->cfg.kafka_bootstrap, cp->passthru, cp_dr,
                                   w, errstr, errstr_size);
    w->ss = storeset_new();
    if (w->kp && w->ss)
        storeset_timeout_set(w->ss, (long)cp->cfg.store_timeout_ms);
    if (w->kp && w->ss && cp_stores_load(w, errstr, errstr_size) == 0)
        return w;
    catpub_destroy(w);
    return NULL;
}

static void cp_env_free(void *env)
{
    catpub_destroy(env);
}

/* On the worker: add its counters to the consumer's (stats, exit). */
static void cp_fold(struct catpub *w)
{
    struct catpub *cp = w->owner;

    atomic_fetch_add(&cp->w_calls, w->n_calls);
    atomic_fetch_add(&cp->w_dlq, w->n_dlq);
    atomic_fetch_add(&cp->w_skipped, w->n_skipped);
    atomic_fetch_add(&cp->w_jobs, w->n_jobs);
    if (w->fatal)
        atomic_store(&cp->w_fatal, 1);
    w->n_calls = w->n_dlq = w->n_skipped = w->n_jobs = 0;
}

static void cp_lane_free(struct lane_job *lj)
{
    struct cp_lane_job *j = (struct cp_lane_job *)lj;

    free(j->payload);
    free(j->store);
    free(j);
}

/* On the worker: the store of @p id in the worker's own set. */
static struct storeset_entry *cp_lane_store(struct catpub *w, long long id,
                                            struct work_err *e)
{
    struct storeset_entry *st = storeset_find_id(w->ss, id);
    char err[512];

    if (cp_stores_fresh(w, !st, err, sizeof(err)) != 0) {
        work_db_fail(w->pg, e, err);
        return NULL;
    }
    st = storeset_find_id(w->ss, id);
    if (!st)
        work_fail(e, OUTCOME_RETRY, "store %lld: not loaded", id);
    return st;
}

/* On the worker: publish the envelope to its store. */
static void cp_lane_run(void *env, struct lane_job *lj)
{
    struct cp_lane_job *j = (struct cp_lane_job *)lj;
    struct catpub *w = env;
    struct storeset_entry *st;
    unsigned long long calls;
    struct event ev;
    char err[512];

    memset(&ev, 0, sizeof(ev));
    j->o = OUTCOME_RETRY;
    if (!w) {
        work_fail(&j->e, OUTCOME_RETRY, "store worker: not connected");
        return;
    }
    st = cp_lane_store(w, lj->store, &j->e);
    if (!st)
        return;
    if (event_decode(&ev, j->payload, strlen(j->payload), err, sizeof(err)) !=
        0) {
        j->o = work_fail(&j->e, OUTCOME_REJECTED, "decode: %s", err);
        return;
    }
    calls = w->n_calls;
    j->o = cp_publish(w, st, ev.data, ev.key, &j->e, &j->store_fail);
    /* The store accepted what changed: the snapshot reached it. */
    if (j->o == OUTCOME_OK && (j->retry || w->n_calls > calls))
        ops_latency_observe(w->latency, st->conf.name, "catalog", ev.ts);
    cp_fold(w);
    event_clear(&ev);
}

/* On the worker, after a detached run: settle its parked row. */
static void cp_lane_settle(void *env, struct lane_job *lj)
{
    struct cp_lane_job *j = (struct cp_lane_job *)lj;

    /* No connections: the row's claim runs out and a pass retries it. */
    if (!env)
        return;
    cp_parked_settle(env, &j->it, j->o, j->key, j->store, j->payload, &j->e);
    cp_fold(env);
}

/* Shutdown left @p lj's call running: its row is due again at once. */
static void cp_lane_abandon(void *ctx, struct lane_job *lj)
{
    struct cp_lane_job *j = (struct cp_lane_job *)lj;
    struct catpub *cp = ctx;
    char err[512];

    log_warn_ctx(j->key, "store %s: product %s still publishing: left parked",
                 j->store, j->it.entity);
    if (parked_release(cp->pg, PARKED_CATALOG, &j->it, err, sizeof(err)) != 0)
        log_warn("parked: %s (retried when the claim runs out)", err);
}

static struct cp_lane_job *cp_lane_job_new(const char *payload, size_t len,
                                           const struct storeset_entry *st,
                                           const char *key, int retry)
{
    struct cp_lane_job *j = calloc(1, sizeof(*j));

    if (!j)
        return NULL;
    j->lj.store = st->conf.id;
    j->lj.run = cp_lane_run;
    j->lj.settle = cp_lane_settle;
    j->lj.free = cp_lane_free;
    j->payload = strndup(payload, len);
    j->store = strdup(st->conf.name);
    j->retry = retry;
    snprintf(j->key, sizeof(j->key), "%s", key ? key : "");
    if (!j->payload || !j->store) {
        cp_lane_free(&j->lj);
        return NULL;
    }
    return j;
}

/*
 * Publish message @p m (event @p ev) to store @p st on a store worker.
 * LANE_DONE: *o, *e and *store_fail say what happened, as cp_publish().
 * Otherwise the message is done for the store when *o is OUTCOME_OK: its
 * publish goes on in flight (parked and claimed, settled by the worker),
 * or, with no free worker, it is parked behind.
 */
static enum lane_res cp_lane_publish(struct catpub *cp,
                                     const rd_kafka_message_t *m,
                                     const struct event *ev,
                                     struct storeset_entry *st,
                                     const char *entity, struct work_err *e,
                                     enum outcome *o, int *store_fail)
{
    struct cp_lane_job *j = cp_lane_job_new(m->payload, m->len, st, ev->key, 0);
    enum lane_res r;
    char err[512];

    if (!j) {
        *o = work_fail(e, OUTCOME_RETRY, "out of memory");
        return LANE_NO_WORKER;
    }
    r = lanes_run(cp->lanes, &j->lj);
    if (r == LANE_NO_WORKER || r == LANE_DONE) {
        *o = j->o;
        *e = j->e;
        *store_fail = j->store_fail;
        cp_lane_free(&j->lj);
        if (r == LANE_NO_WORKER) {
            memset(e, 0, sizeof(*e));
            *o = cp_park(cp, m, ev, st, e);
        }
        return r;
    }
    if (parked_inflight(cp->pg,
                        &(struct parked_put){st->conf.id, PARKED_CATALOG,
                                             entity, m->payload, NULL, 0, 0},
                        m->len, CP_RETRY_LEASE_S, &j->it, err,
                        sizeof(err)) != 0) {
        lanes_handoff(cp->lanes, &j->lj, LANE_DISCARD);
        *o = work_db_fail(cp->pg, e, err);
        return r;
    }
    log_info_ctx(ev->key,
                 "store %s: product %s still publishing after %lld "
                 "ms: parked in flight",
                 st->conf.name, entity, cp->cfg.slice_ms);
    lanes_handoff(cp->lanes, &j->lj, LANE_SETTLE);
    *o = OUTCOME_OK;
    return r;
}

/* Publish @p ev to store @p st, or park it for that store: OUTCOME_OK
 * when the message is done for the store. */
static enum outcome cp_store_publish(struct catpub *cp,
                                     const rd_kafka_message_t *m,
                                     const struct event *ev,
                                     struct storeset_entry *st,
                                     struct work_err *e)
{
    char entity[PARKED_ENTITY_SIZE], err[512];
    int park, store_fail = 0;
    enum outcome o;

    cp_entity(ev, entity, sizeof(entity));
    /* Work of the store still on a store worker: this waits behind it. */
    park = lanes_store_busy(cp->lanes, st->conf.id)
               ? 1
               : parked_check(cp->pg, st->conf.id, PARKED_CATALOG, entity, err,
                              sizeof(err));
    if (park < 0)
        return work_db_fail(cp->pg, e, err);
    if (park)
        return cp_park(cp, m, ev, st, e);
    if (cp_lane_publish(cp, m, ev, st, entity, e, &o, &store_fail) != LANE_DONE)
        return o;
    if (o == OUTCOME_REJECTED)
        return cp_reject(cp, m, ev->key, st->conf.name, e);
    if (o != OUTCOME_OK && store_fail)
        return cp_park(cp, m, ev, st, e);
    return o;
}

/* Publish @p ev to every target store; a rejection for one store is
 * dead-lettered, a store's transient failure parks the product for it,
 * and the others go on. */
static enum outcome cp_stores_publish(struct catpub *cp,
                                      const rd_kafka_message_t *m,
                                      const struct event *ev,
                                      struct work_err *e)
{
    enum outcome o;

    for (size_t i = 0; i < storeset_count(cp->ss); i++) {
        struct storeset_entry *st = storeset_get(cp->ss, i);

        if (ev->store && strcmp(ev->store, st->conf.name) != 0)
            continue;
        memset(e, 0, sizeof(*e));
        o = cp_store_publish(cp, m, ev, st, e);
        /* Postgres, Redis or Kafka: the whole message is retried; stores
         * done already skip by hash. */
        if (o != OUTCOME_OK)
            return o;
    }
    if (ev->store && !storeset_find(cp->ss, ev->store)) {
        work_fail(e, OUTCOME_REJECTED, "unknown store '%s'", ev->store);
        return cp_reject(cp, m, ev->key, ev->store, e);
    }
    return OUTCOME_OK;
}

/* Handle one message for every target store: OUTCOME_OK when the offset
 * may be committed. */
static enum outcome cp_handle(struct catpub *cp, const rd_kafka_message_t *m,
                              struct work_err *e)
{
    struct event ev;
    char err[512], keybuf[64];
    enum outcome o = OUTCOME_OK;

    memset(&ev, 0, sizeof(ev));
    snprintf(keybuf, sizeof(keybuf), "%.*s",
             (int)(m->key_len < 63 ? m->key_len : 63),
             m->key ? (const char *)m->key : "");
    if (event_decode(&ev, m->payload, m->len, err, sizeof(err)) != 0) {
        work_fail(e, OUTCOME_REJECTED, "decode: %s", err);
        return cp_reject(cp, m, keybuf, NULL, e);
    }
    if (strcmp(ev.type, EVENT_CATALOG_PRODUCT) != 0) {
        log_debug_ctx(ev.id, "type %s ignored", ev.type);
        goto out;
    }
    if (cp_stores_fresh(cp, ev.store && !storeset_find(cp->ss, ev.store), err,
                        sizeof(err)) != 0) {
        o = work_db_fail(cp->pg, e, err);
        goto out;
    }
    o = cp_stores_publish(cp, m, &ev, e);
out:
    event_clear(&ev);
    return o;
}

/* consume.h handler: one message to the end, or why to retry. */
static enum outcome cp_consume(void *ctx, const rd_kafka_message_t *m,
                               char *reason, size_t reason_size)
{
    struct catpub *cp = ctx;
    struct work_err e;
    enum outcome o;

    memset(&e, 0, sizeof(e));
    o = cp_handle(cp, m, &e);
    if (o != OUTCOME_OK)
        snprintf(reason, reason_size, "%s", e.reason);
    return o;
}

/* ---- the retry pass ------------------------------------------------------ */

/* A retry pass (parked_pass() context). */
struct cp_pass {
    struct catpub *cp;
    struct parked_skip skip; /* stores with work on a worker */
    long long ids[64];       /* skip.ids (store.workers <= 64) */
};

/* The stores with work on a worker are skipped; no free worker ends the
 * pass. */
static void cp_pass_skip(struct cp_pass *ps)
{
    ps->skip.ids = ps->ids;
    ps->skip.n = lanes_busy_stores(ps->cp->lanes, ps->ids, 64);
    ps->skip.stop = lanes_free_workers(ps->cp->lanes) == 0;
}

/* Publish one claimed product again from its parked envelope, on a store
 * worker: settled here when it ends within the slice, else by the
 * worker. */
static void cp_retry_one(struct cp_pass *ps, struct parked_item *it)
{
    struct catpub *cp = ps->cp;
    struct storeset_entry *st = storeset_find_id(cp->ss, it->store_id);
    struct cp_lane_job *j = NULL;
    struct work_err e;
    struct event ev;
    char err[512];
    int rc = 0;
    enum lane_res r;

    memset(&ev, 0, sizeof(ev));
    memset(&e, 0, sizeof(e));
    /* A store added since this replica's last load: load again. */
    if (!st && cp_stores_load(cp, err, sizeof(err)) != 0) {
        log_warn("retry pass: %s", err);
        return;
    }
    if (!st)
        st = storeset_find_id(cp->ss, it->store_id);
    if (!st || event_decode(&ev, it->payload, strlen(it->payload), err,
                            sizeof(err)) != 0) {
        /* A store removed (its rows go with it) or a row that cannot be
         * read: nothing to publish. */
        log_warn("parked product %s of store %lld dropped: %s", it->entity,
                 it->store_id, st ? err : "store not loaded");
        rc = parked_done(cp->pg, PARKED_CATALOG, it, err, sizeof(err));
        goto out;
    }
    j = cp_lane_job_new(it->payload, strlen(it->payload), st, ev.key, 1);
    r = j ? lanes_run(cp->lanes, &j->lj) : LANE_NO_WORKER;
    if (r == LANE_DETACHED) {
        j->it = *it;
        j->it.payload = NULL;
        lanes_handoff(cp->lanes, &j->lj, LANE_SETTLE);
        goto out;
    }
    if (r == LANE_NO_WORKER) {
        if (j)
            cp_lane_free(&j->lj);
        ps->skip.stop = 1;
        rc = parked_release(cp->pg, PARKED_CATALOG, it, err, sizeof(err));
        goto out;
    }
    cp_parked_settle(cp, it, j->o, ev.key, st->conf.name, it->payload, &j->e);
    cp_lane_free(&j->lj);
out:
    if (rc != 0)
        log_warn("parked: %s (retried when the claim runs out)", err);
    event_clear(&ev);
}

/* Refresh omnisync_parked_items{kind="catalog"} when due. */
static void cp_gauge(struct catpub *cp, int64_t now)
{
    char err[512];

    if (now < cp->gauge_at)
        return;
    cp->gauge_at = now + CP_GAUGE_EVERY_MS;
    if (parked_gauge_set(cp->pg, cp->parked, PARKED_CATALOG, err,
                         sizeof(err)) != 0)
        log_warn("parked gauge: %s", err);
    if (not_for_sale_gauge_set(cp->pg, cp->nfs, err, sizeof(err)) != 0)
        log_warn("not-for-sale gauge: %s", err);
}

/* parked_pass() callback. */
static void cp_retry_cb(void *ctx, struct parked_item *it)
{
    struct cp_pass *ps = ctx;

    httpd_heartbeat(ps->cp->loop.beat);
    cp_retry_one(ps, it);
    if (!ps->skip.stop)
        cp_pass_skip(ps);
}

/* Publish the parked products whose store's next attempt has come (at
 * most CP_RETRY_BATCH, so new messages keep flowing). */
static void cp_retry_pass(struct catpub *cp)
{
    int64_t now = clock_mono_ms();
    struct cp_pass ps = {.cp = cp};
    char err[512];
    int n;

    if (now < cp->retry_at)
        return;
    cp->retry_at = now + CP_RETRY_EVERY_MS;
    cp_pass_skip(&ps);
    if (cp_stores_fresh(cp, 0, err, sizeof(err)) != 0) {
        log_warn("retry pass: %s", err);
        return;
    }
    n = ps.skip.stop ? 0
                     : parked_pass(cp->pg, PARKED_CATALOG, CP_RETRY_BATCH,
                                   CP_RETRY_LEASE_S, &ps.skip, cp_retry_cb, &ps,
                                   err, sizeof(err));
    if (n < 0)
        log_warn("retry pass: %s", err);
    /* A full pass may have left more due: the next round goes on. */
    if (n == CP_RETRY_BATCH)
        cp->retry_at = now;
    cp_gauge(cp, now);
}

int catpub_poll(struct catpub *cp)
{
    if (atomic_load(&cp->w_fatal))
        cp->fatal = 1;
    if (cp->fatal)
        return -1;
    cp_retry_pass(cp);
    if (consume_once(&cp->loop) < 0) {
        cp->fatal = 1;
        return -1;
    }
    return 0;
}

struct catpub *catpub_new(const struct catpub_cfg *c,
                          const struct cfg *passthru, struct ops *ops,
                          char *errstr, size_t errstr_size)
{
    struct catpub *cp = calloc(1, sizeof(*cp));
    const char *topics[1] = {TOPICS_CATALOG};

    if (!cp) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    cp->cfg = *c;
    cp->passthru = passthru;
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
    ops_wire_consumer(ops, &(struct ops_consumer){c->pg_dsn, c->redis_addr,
                                                  c->group_id, cp->kc, cp->dlq,
                                                  cp->b, &cp->loop.mx});
    cp->loop.beat = ops_httpd(ops);
    cp->latency = ops_latency_family(ops);
    cp->parked = parked_gauge_new(ops_metrics(ops));
    cp->nfs = not_for_sale_gauge_new(ops_metrics(ops));
    cp->lanes = lanes_new((int)c->store_workers, (long)c->slice_ms,
                          &(struct lanes_ops){cp_env_new, cp_env_free, cp},
                          errstr, errstr_size);
    if (!cp->lanes)
        goto fail;
    log_info("consuming %s as group %s; %zu store(s), %lld store workers",
             TOPICS_CATALOG, c->group_id, storeset_count(cp->ss),
             c->store_workers);
    return cp;
fail:
    catpub_destroy(cp);
    return NULL;
}

int catpub_drain(struct catpub *cp, int timeout_ms)
{
    int rc = cp->fatal ? 1 : 0, left;

    /* Calls in flight on the store workers: wait for them up to the
     * deadline; what is still running stays parked for the next start. */
    left = lanes_drain(cp->lanes, timeout_ms, cp_lane_abandon, cp);
    if (left)
        log_warn("drain: %d store call(s) still running: left parked", left);
    if (kafka_producer_flush(cp->kp, timeout_ms) != 0) {
        log_error("drain: %d image job(s) undelivered",
                  kafka_producer_outq_len(cp->kp));
        rc = 1;
    }
    kafka_consumer_close(cp->kc);
    log_info("stopped (exit %d): %llu messages, %llu store calls, %llu "
             "dead-lettered, %llu image jobs",
             rc, (unsigned long long)cp->loop.n_msgs,
             cp->n_calls + atomic_load(&cp->w_calls),
             cp->n_dlq + atomic_load(&cp->w_dlq),
             cp->n_jobs + atomic_load(&cp->w_jobs));
    return rc;
}

void catpub_destroy(struct catpub *cp)
{
    if (!cp)
        return;
    lanes_destroy(cp->lanes);
    kafka_consumer_destroy(cp->kc);
    kafka_producer_destroy(cp->kp);
    dlq_destroy(cp->dlq);
    storeset_destroy(cp->ss);
    budget_destroy(cp->b);
    PQfinish(cp->pg);
    free(cp);
}
