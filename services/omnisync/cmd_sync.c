/*
 * cmd_sync — `omnisync sync initial|resync STORE`: emit catalog.product
 * (and stock.available) events for a store and follow catalog-publisher's
 * and image-uploader's progress through remote_map
 * (docs/catalog-publisher.md, docs/image-uploader.md).
 *
 * A product counts as synced when its product-level payload hash and the
 * hash of each of its publishable variants equal what remote_map recorded
 * (the same platform documents and hashes the publisher uses), so a re-run
 * after an interruption only waits for what is still missing, and the publisher
 * itself skips unchanged payloads.
 */
#include "cli.h"
#include "cli_store.h"

#include "app/storegone.h"

#include "events/outbox.h"
#include "ledger/catalog.h"
#include "ledger/dlq_record.h"
#include "ledger/ledger.h"
#include "ledger/remote_map.h"
#include "ledger/stores.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "store/doc_hash.h"
#include "store/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct sync_store {
    long long id;
    char price_list[256];
    long api_limit, api_window;
    const struct store_platform *plat;
};

/* The real remote_map rows of one entity, by local id. */
struct sync_map {
    struct remote_map_row *rows;
    size_t n;
};

struct sync_counts {
    size_t products, products_done, variants, variants_done, unpublishable;
    size_t photos, photos_done;
    size_t failed_products, failed_photos; /* dead-lettered since start */
    size_t pending;        /* products and photos neither done nor failed */
    size_t photos_pending; /* of which photos */
};

/* Sorted ids. */
struct sync_ids {
    long long *v;
    size_t n;
};

/* One photo: whether the store holds its current content. */
struct sync_photo {
    long long product_id, id;
    int done;
};

struct sync_photos {
    struct sync_photo *v;
    size_t n;
};

static void sync_map_free(struct sync_map *m)
{
    free(m->rows);
    m->rows = NULL;
    m->n = 0;
}

static int sync_map_load(PGconn *pg, long long store_id, const char *entity,
                         struct sync_map *m)
{
    char err[512];

    if (remote_map_list(pg, store_id, entity, &m->rows, &m->n, err,
                        sizeof(err)) != 0)
        return cli_err(-1, "sync: %s", err);
    return 0;
}

static const struct remote_map_row *sync_map_find(const struct sync_map *m,
                                                  long long local_id)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->rows[mid].local_id < local_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->rows[lo].local_id == local_id ? &m->rows[lo] : NULL;
}

static int sync_ids_load(PGconn *pg, long long store_id, const char *entity,
                         const char *since, struct sync_ids *ids)
{
    char err[512];

    ids->v = NULL;
    ids->n = 0;
    if (!since)
        return 0;
    if (dlq_record_local_ids(pg, store_id, entity, since, &ids->v, &ids->n, err,
                             sizeof(err)) != 0)
        return cli_err(-1, "sync: %s", err);
    return 0;
}

static int sync_ids_has(const struct sync_ids *ids, long long id)
{
    size_t lo = 0, hi = ids->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids->v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ids->n && ids->v[lo] == id;
}

static int sync_photos_load(PGconn *pg, long long store_id,
                            struct sync_photos *ph)
{
    struct catalog_photo_remote *rows = NULL;
    char err[512];
    size_t n = 0;

    if (catalog_photo_remote_list(pg, store_id, 0, &rows, &n, err,
                                  sizeof(err)) != 0)
        return cli_err(-1, "sync: %s", err);
    ph->v = calloc(n + 1, sizeof(*ph->v));
    ph->n = 0;
    if (!ph->v) {
        free(rows);
        return cli_err(-1, "sync: out of memory");
    }
    for (size_t r = 0; r < n; r++) {
        struct sync_photo *p = &ph->v[ph->n++];

        p->product_id = rows[r].product_id;
        p->id = rows[r].id;
        p->done =
            rows[r].remote_id > 0 && !strcmp(rows[r].hash, rows[r].sha256);
    }
    free(rows);
    return 0;
}

/* Index of the first photo of @p product_id in @p ph (ph->n if none). */
static size_t sync_photos_first(const struct sync_photos *ph,
                                long long product_id)
{
    size_t lo = 0, hi = ph->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ph->v[mid].product_id < product_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static long long sync_jid(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* What a scan compares the snapshots with: remote_map, the photos and
 * what was dead-lettered since the run started. */
struct sync_state {
    struct sync_map cats, prods, vars;
    struct sync_ids fprod, fimg;
    struct sync_photos ph;
};

static int sync_state_load(PGconn *pg, long long store_id, const char *since,
                           struct sync_state *st)
{
    if (sync_map_load(pg, store_id, "category", &st->cats) != 0 ||
        sync_map_load(pg, store_id, "product", &st->prods) != 0 ||
        sync_map_load(pg, store_id, "variant", &st->vars) != 0 ||
        sync_photos_load(pg, store_id, &st->ph) != 0 ||
        sync_ids_load(pg, store_id, "product", since, &st->fprod) != 0 ||
        sync_ids_load(pg, store_id, "image", since, &st->fimg) != 0)
        return -1;
    return 0;
}

static void sync_state_free(struct sync_state *st)
{
    sync_map_free(&st->cats);
    sync_map_free(&st->prods);
    sync_map_free(&st->vars);
    free(st->fprod.v);
    free(st->fimg.v);
    free(st->ph.v);
}

/* The variants of @p snap publishable in the store's price list (@p npub)
 * and how many of them remote_map holds with their current payload. */
static void sync_scan_variants(const struct sync_store *s,
                               const struct sync_state *st, const json_t *snap,
                               size_t *npub, size_t *ndone)
{
    char err[512], h[DOC_HASH_LEN + 1];
    const struct remote_map_row *row;
    const json_t *v;
    size_t k;

    *npub = *ndone = 0;
    json_array_foreach(json_object_get(snap, "variants"), k, v)
    {
        json_t *vp = NULL;
        if (s->plat->variant_doc(snap, v, s->price_list, &vp, err,
                                 sizeof(err)) != STORE_DOC_OK)
            continue;
        (*npub)++;
        row = sync_map_find(&st->vars, sync_jid(v, "variant_id"));
        if (row && doc_hash_compute(vp, h) == 0 && strcmp(h, row->hash) == 0)
            (*ndone)++;
        json_decref(vp);
    }
}

/* 1 when the product-level payload of @p snap is in the store: its
 * category mapped and remote_map's hash that of its current payload. */
static int sync_product_done(const struct sync_store *s,
                             const struct sync_state *st, const json_t *snap)
{
    const json_t *groups = json_object_get(snap, "groups");
    const struct remote_map_row *cat, *row;
    char err[512], h[DOC_HASH_LEN + 1];
    json_t *pay;
    int ok;

    cat = sync_map_find(
        &st->cats,
        json_array_size(groups)
            ? sync_jid(json_array_get(groups, json_array_size(groups) - 1),
                       "id")
            : 0);
    if (!cat)
        return 0;
    row = sync_map_find(&st->prods, sync_jid(snap, "product_id"));
    pay = s->plat->product_doc(snap, cat->remote_id, err, sizeof(err));
    ok = row && pay && doc_hash_compute(pay, h) == 0 &&
         strcmp(h, row->hash) == 0;
    json_decref(pay);
    return ok;
}

/* Count the photos of product @p pid in @p c (failed with their product
 * when @p pfailed); 1 when all are in the store. */
static int sync_scan_photos(const struct sync_state *st, long long pid,
                            int pfailed, struct sync_counts *c)
{
    int ok = 1;

    for (size_t k = sync_photos_first(&st->ph, pid);
         k < st->ph.n && st->ph.v[k].product_id == pid; k++) {
        c->photos++;
        if (st->ph.v[k].done) {
            c->photos_done++;
            continue;
        }
        ok = 0;
        if (pfailed || sync_ids_has(&st->fimg, st->ph.v[k].id)) {
            c->failed_photos++;
        } else {
            c->pending++;
            c->photos_pending++;
        }
    }
    return ok;
}

/* Count one snapshot in @p c; *done and *photos_ok as sync_scan's. */
static void sync_scan_one(const struct sync_store *s,
                          const struct sync_state *st, const json_t *snap,
                          struct sync_counts *c, int *done, int *photos_ok)
{
    long long pid = sync_jid(snap, "product_id");
    size_t npub, nvdone;
    int ok, pfailed;

    sync_scan_variants(s, st, snap, &npub, &nvdone);
    if (npub == 0) {
        c->unpublishable++;
        *done = -1;
        return;
    }
    c->products++;
    c->variants += npub;
    c->variants_done += nvdone;
    ok = nvdone == npub && sync_product_done(s, st, snap);
    pfailed = !ok && sync_ids_has(&st->fprod, pid);
    if (ok)
        c->products_done++;
    else if (pfailed)
        c->failed_products++;
    else
        c->pending++;
    *done = ok;
    *photos_ok = sync_scan_photos(st, pid, pfailed, c);
}

/*
 * Compare every snapshot with remote_map.  done[i] (may be NULL) receives
 * 1 when product i is fully synced, 0 when not, -1 when it cannot be
 * published (no active variant with a price in the store's list).
 * photos_ok[i] (may be NULL) receives 1 when all its photos are in the
 * store with their current content.  @p since (may be NULL): what was
 * dead-lettered from then on counts as failed (not pending).
 */
static int sync_scan(PGconn *pg, const struct sync_store *s,
                     json_t *const *snaps, size_t n, int *done, int *photos_ok,
                     const char *since, struct sync_counts *c)
{
    struct sync_state st;
    int rc = -1;

    memset(c, 0, sizeof(*c));
    memset(&st, 0, sizeof(st));
    if (sync_state_load(pg, s->id, since, &st) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        int d = 0, ph_ok = 1;

        if (snaps[i])
            sync_scan_one(s, &st, snaps[i], c, &d, &ph_ok);
        if (done)
            done[i] = d;
        if (photos_ok)
            photos_ok[i] = ph_ok;
    }
    rc = 0;
out:
    sync_state_free(&st);
    return rc;
}

/* Snapshots of every non-archived product. */
static int sync_snapshots(PGconn *pg, json_t ***snaps, size_t *n)
{
    char err[512];
    long long *ids = NULL;
    size_t rows = 0;

    *snaps = NULL;
    *n = 0;
    if (catalog_products_active(pg, &ids, &rows, err, sizeof(err)) != 0)
        return cli_err(-1, "sync: %s", err);
    *snaps = calloc(rows + 1, sizeof(**snaps));
    if (!*snaps) {
        free(ids);
        return cli_err(-1, "sync: out of memory");
    }
    if (catalog_snapshot_many(pg, ids, rows, *snaps, err, sizeof(err)) != 0) {
        free(ids);
        free(*snaps);
        *snaps = NULL;
        return cli_err(-1, "sync: %s", err);
    }
    free(ids);
    *n = rows;
    return 0;
}

static void sync_snapshots_free(json_t **snaps, size_t n)
{
    for (size_t i = 0; snaps && i < n; i++)
        json_decref(snaps[i]);
    free(snaps);
}

static int sync_store_load(PGconn *pg, const char *name, struct sync_store *s)
{
    struct store_conf conf;
    char err[512];
    int found = stores_settings_load(pg, name, &conf, err, sizeof(err), NULL);

    if (found < 0)
        return cli_err(CLI_DEPENDENCY, "sync: %s", err);
    if (found > 0)
        return cli_err(CLI_USAGE, "sync: unknown store '%s'", name);
    s->id = conf.id;
    snprintf(s->price_list, sizeof(s->price_list), "%s", conf.price_list);
    s->api_limit = conf.api_limit;
    s->api_window = conf.api_window;
    s->plat = store_platform_find(conf.platform);
    if (!s->plat)
        cli_err(CLI_DEPENDENCY, "sync: store %s: unknown platform '%s'", name,
                conf.platform);
    store_conf_clear(&conf);
    return s->plat ? CLI_OK : CLI_DEPENDENCY;
}

static void sync_eta(char *buf, size_t size, double secs)
{
    if (secs < 0)
        snprintf(buf, size, "?");
    else if (secs < 90)
        snprintf(buf, size, "%.0fs", secs);
    else if (secs < 5400)
        snprintf(buf, size, "%.0fm", secs / 60);
    else
        snprintf(buf, size, "%.1fh", secs / 3600);
}

static void sync_progress(const struct sync_counts *c, int tty, double eta_s,
                          int final)
{
    char eta[32], failed[64] = "";
    size_t all = c->products + c->variants + c->photos,
           done = c->products_done + c->variants_done + c->photos_done;

    sync_eta(eta, sizeof(eta), eta_s);
    if (c->failed_products || c->failed_photos)
        snprintf(failed, sizeof(failed), " failed %zu/%zu", c->failed_products,
                 c->failed_photos);
    if (tty) {
        char bar[21];
        size_t fill = all ? 20 * done / all : 20;
        for (size_t i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[20] = '\0';
        printf("\rsync: [%s] products %zu/%zu variants %zu/%zu photos "
               "%zu/%zu%s ETA %s   %s",
               bar, c->products_done, c->products, c->variants_done,
               c->variants, c->photos_done, c->photos, failed, eta,
               final ? "\n" : "");
    } else {
        printf("sync: products %zu/%zu variants %zu/%zu photos %zu/%zu%s%s%s\n",
               c->products_done, c->products, c->variants_done, c->variants,
               c->photos_done, c->photos, failed, final ? "" : " eta ",
               final ? "" : eta);
    }
    fflush(stdout);
}

/*
 * ETA from the budget: catalog calls (one per product not synced) at the
 * catalog class's share of the limit, photo uploads at the images class's
 * share (budget.h reserves: catalog leaves 15%, images 30%).
 */
static double sync_budget_eta(const struct sync_store *s,
                              const struct sync_counts *c)
{
    double win = s->api_window > 0 ? (double)s->api_window : 300.0;
    double lim = s->api_limit > 0 ? (double)s->api_limit : 500.0;
    size_t prods = c->products - c->products_done - c->failed_products;
    size_t photos = c->photos - c->photos_done - c->failed_photos;

    return (double)prods / (lim * 0.85 / win) +
           (double)photos / (lim * 0.70 / win);
}

/* The ledger's clock now (the start of a run, for dlq_record). */
static int sync_db_now(PGconn *pg, char *out, size_t size)
{
    char err[512];
    PGresult *res = db_exec(pg, "SELECT now()::text", 0, NULL, "now", err,
                            sizeof(err), NULL);

    if (!res)
        return cli_err(-1, "sync: %s", err);
    snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* The products of a run: their snapshots and, from the first scan, their
 * state (sync_scan's done and photos_ok). */
struct sync_set {
    json_t **snaps;
    size_t n;
    int *done, *photos_ok;
};

/* What a run re-sends (sync initial: catalog and images). */
struct sync_want {
    int resync, catalog, stock, images;
    int json; /* --json: no progress lines, one object at the end */
};

/* What the run queued, for its report. */
struct sync_queued {
    size_t emitted, for_images;
    long long nstock;
};

static void sync_set_free(struct sync_set *set)
{
    free(set->done);
    free(set->photos_ok);
    sync_snapshots_free(set->snaps, set->n);
}

/* Snapshots of every active product and the first scan of them. */
static int sync_set_load(PGconn *pg, const struct sync_store *s,
                         struct sync_set *set, struct sync_counts *c)
{
    if (sync_snapshots(pg, &set->snaps, &set->n) != 0)
        return -1;
    set->done = calloc(set->n + 1, sizeof(*set->done));
    set->photos_ok = calloc(set->n + 1, sizeof(*set->photos_ok));
    if (!set->done || !set->photos_ok)
        return -1;
    return sync_scan(pg, s, set->snaps, set->n, set->done, set->photos_ok, NULL,
                     c);
}

/* The flags sync initial implies, and resync's default (all three). */
static int sync_flags(int resync, int *catalog, int *stock, int *images)
{
    if (!resync && (*catalog || *stock || *images))
        return cli_err(CLI_USAGE, "sync initial: --catalog, --stock and "
                                  "--images are implied");
    if (!resync)
        *catalog = *images = 1; /* stock follows the mappings on its own */
    else if (!*catalog && !*stock && !*images)
        *catalog = *stock = *images = 1;
    return CLI_OK;
}

/* A catalog.product event for each product the run wants to re-send. */
static int sync_queue_products(PGconn *pg, const char *store,
                               const struct sync_set *set,
                               const struct sync_want *w, struct sync_queued *q,
                               char *err, size_t err_size)
{
    char key[32];

    for (size_t i = 0; i < set->n; i++) {
        int want;

        if (!set->snaps[i] || set->done[i] < 0)
            continue;
        /* initial: everything (the publisher skips unchanged payloads);
         * resync --catalog: what differs; --images: products with a photo
         * not in the store (the publisher emits their image jobs). */
        want = !w->resync || (w->catalog && set->done[i] == 0) ||
               (w->images && !set->photos_ok[i]);
        if (!want)
            continue;
        if (w->resync && w->images && !set->photos_ok[i] &&
            (!w->catalog || set->done[i] == 1))
            q->for_images++;
        snprintf(key, sizeof(key), "%lld",
                 sync_jid(set->snaps[i], "product_id"));
        if (outbox_add(pg, CATALOG_TOPIC, CATALOG_EVENT_PRODUCT, key, store,
                       set->snaps[i], err, err_size) != 0)
            return -1;
        q->emitted++;
    }
    return 0;
}

/* Queue the run's events in one transaction: the products, and with
 * --stock stock.available for every variant at the store's sources. */
static int sync_queue(PGconn *pg, const struct sync_store *s, const char *store,
                      const struct sync_set *set, const struct sync_want *w,
                      struct sync_queued *q)
{
    char err[512];

    if (db_begin(pg, err, sizeof(err)) != 0)
        return cli_err(-1, "sync: %s", err);
    if (sync_queue_products(pg, store, set, w, q, err, sizeof(err)) != 0)
        goto fail;
    if (w->stock) {
        q->nstock = ledger_store_available_emit(pg, s->id, err, sizeof(err));
        if (q->nstock < 0)
            goto fail;
    }
    if (db_commit(pg, err, sizeof(err)) != 0)
        return cli_err(-1, "sync: %s", err);
    return 0;
fail:
    db_rollback(pg);
    return cli_err(-1, "sync: %s", err);
}

static void sync_report(const char *store, const struct sync_store *s,
                        const struct sync_want *w, const struct sync_counts *c,
                        const struct sync_queued *q)
{
    if (w->catalog || w->images)
        printf("sync: store %s: %zu catalog.product event(s) queued (%zu "
               "product(s) already synced%s%s)\n",
               store, q->emitted, c->products_done,
               q->for_images ? ", some only for their photos" : "",
               c->unpublishable ? "; some have no priced variant" : "");
    if (w->stock)
        printf("sync: store %s: %lld stock.available event(s) queued\n", store,
               q->nstock);
    if (c->unpublishable)
        printf("sync: %zu product(s) have no active variant priced in %s "
               "and are not published\n",
               c->unpublishable, s->price_list);
    fflush(stdout);
}

/* --json: what was queued and, after a wait, where it ended (@p rc). */
static int sync_json(const char *store, const struct sync_counts *c,
                     const struct sync_queued *q, int waited, int rc)
{
    int prc = cli_json_print(json_pack(
        "{s:s, s:{s:I, s:I}, s:b, s:b, s:{s:I, s:I, s:I}, s:{s:I, s:I}, "
        "s:{s:I, s:I, s:I}, s:I}",
        "store", store, "queued", "catalog_events", (json_int_t)q->emitted,
        "stock_events", (json_int_t)q->nstock, "waited", waited, "done",
        waited && rc == CLI_OK, "products", "total", (json_int_t)c->products,
        "synced", (json_int_t)c->products_done, "failed",
        (json_int_t)c->failed_products, "variants", "total",
        (json_int_t)c->variants, "synced", (json_int_t)c->variants_done,
        "photos", "total", (json_int_t)c->photos, "synced",
        (json_int_t)c->photos_done, "failed", (json_int_t)c->failed_photos,
        "unpublishable", (json_int_t)c->unpublishable));

    return prc != CLI_OK ? prc : rc;
}

/*
 * Follow the progress until everything is synced or dead-lettered, or
 * @p timeout (seconds, 0: none) passes; @p c holds the first scan's
 * counts.  Rescans every second from fresh snapshots (kept in @p set).
 */
static int sync_wait(PGconn *pg, const struct sync_store *s,
                     struct sync_set *set, const char *since,
                     const struct sync_want *w, long long timeout,
                     struct sync_counts *c)
{
    struct sync_counts last;
    int tty = isatty(STDOUT_FILENO), rc = CLI_DEPENDENCY;
    double t0 = ((double)clock_mono_ms() / 1e3), t_last_print = 0, eta;
    size_t done0;

    memset(&last, 0xff, sizeof(last));
    c->failed_products = c->failed_photos = 0;
    done0 = c->products_done + c->variants_done + c->photos_done;
    for (;;) {
        size_t got =
                   c->products_done + c->variants_done + c->photos_done - done0,
               left = c->products + c->variants + c->photos - c->products_done -
                      c->variants_done - c->photos_done;
        double el = ((double)clock_mono_ms() / 1e3) - t0;
        /* resync without --images does not wait for photos */
        int finished = c->pending - (w->images ? 0 : c->photos_pending) == 0;

        /* ETA: the observed rate once something moved; before that the
         * budget's shares. */
        if (got > 0 && el > 0)
            eta = (double)left / ((double)got / el);
        else
            eta = sync_budget_eta(s, c);
        if (!w->json &&
            (finished || tty || memcmp(c, &last, sizeof(*c)) != 0 ||
             ((double)clock_mono_ms() / 1e3) - t_last_print >= 10)) {
            sync_progress(c, tty, eta, finished);
            t_last_print = ((double)clock_mono_ms() / 1e3);
            last = *c;
        }
        if (finished && (c->failed_products || c->failed_photos)) {
            rc = cli_err(CLI_NEGATIVE,
                         "sync: finished in %.0f s with %zu product(s) and %zu "
                         "photo(s) dead-lettered (omnisync status; the DLQ "
                         "holds the reasons)",
                         el, c->failed_products, c->failed_photos);
            break;
        }
        if (finished) {
            if (!w->json)
                printf("sync: done in %.0f s\n", el);
            rc = CLI_OK;
            break;
        }
        if (timeout > 0 && el >= (double)timeout) {
            if (tty && !w->json)
                printf("\n");
            rc = cli_err(CLI_NEGATIVE,
                         "sync: timed out after %lld s; re-run to resume "
                         "(finished work is not repeated)",
                         timeout);
            break;
        }
        usleep(1000 * 1000 /* us */);
        sync_snapshots_free(set->snaps, set->n);
        set->snaps = NULL;
        if (sync_snapshots(pg, &set->snaps, &set->n) != 0 ||
            sync_scan(pg, s, set->snaps, set->n, NULL, NULL, since, c) != 0)
            break;
    }
    return rc;
}

/*
 * resync --catalog: read what the store shows and reset the recorded hash
 * of every product and variant it lost (deleted there behind omnisync's
 * back; storegone.h), so the scan below queues them and catalog-publisher
 * creates them again.  Returns a CLI_* code (printed).
 */
static int sync_gone(PGconn *pg, const char *store, int json)
{
    struct cli_store cs;
    struct store_variants shown;
    struct storegone g;
    char err[512];
    int rc;

    memset(&cs, 0, sizeof(cs));
    memset(&shown, 0, sizeof(shown));
    memset(&g, 0, sizeof(g));
    rc = cli_store_open(pg, "sync", store, 30000 /* ms */, &cs);
    if (rc == CLI_OK &&
        (storegone_read(cs.plat, &cs.call, &shown, err, sizeof(err)) != 0 ||
         storegone_mark(pg, cs.conf.id, &shown, &g, err, sizeof(err)) != 0))
        rc = cli_err(CLI_DEPENDENCY, "sync: %s: %s", store, err);
    if (rc == CLI_OK && !json && (g.products || g.variants))
        printf("sync: store %s lost %zu product(s) and %zu variant(s) "
               "(deleted in the store): they are published again\n",
               store, g.products, g.variants);
    storegone_clear(&g);
    store_variants_clear(&shown);
    cli_store_close(&cs);
    return rc;
}

/* sync initial|resync STORE ... */
static int sync_run(int argc, char **argv, int resync)
{
    const char *pos[1], *timeout_s = NULL;
    int npos, catalog = 0, stock = 0, images = 0, no_wait = 0, as_json = 0,
              rc = CLI_DEPENDENCY;
    long long timeout = 0;
    struct cli_opt opts[] = {
        {"--timeout", &timeout_s, NULL},
        {"--no-wait", NULL, &no_wait},
        {"--catalog", NULL, &catalog},
        {"--stock", NULL, &stock},
        {"--images", NULL, &images},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    struct sync_store s;
    struct sync_counts c;
    struct sync_set set = {0};
    struct sync_want w;
    struct sync_queued q = {0};
    PGconn *pg = NULL;
    char since[64];

    memset(&s, 0, sizeof(s));
    if (cli_args_parse(argv[0], argc, argv, opts, pos, 1, &npos) != CLI_OK)
        return CLI_USAGE;
    if (npos != 1)
        return cli_err(CLI_USAGE, "sync %s: STORE is required", argv[0]);
    if (sync_flags(resync, &catalog, &stock, &images) != CLI_OK)
        return CLI_USAGE;
    if (timeout_s && (cfg_parse_ll(timeout_s, &timeout) != 0 || timeout < 0))
        return cli_err(CLI_USAGE, "sync: bad --timeout '%s' (seconds)",
                       timeout_s);
    w = (struct sync_want){resync, catalog, stock, images, as_json};
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rc = sync_store_load(pg, pos[0], &s);
    if (rc != CLI_OK)
        goto out;
    if (resync && catalog) {
        rc = sync_gone(pg, pos[0], as_json);
        if (rc != CLI_OK)
            goto out;
    }
    rc = CLI_DEPENDENCY;
    if (sync_db_now(pg, since, sizeof(since)) != 0 ||
        sync_set_load(pg, &s, &set, &c) != 0 ||
        sync_queue(pg, &s, pos[0], &set, &w, &q) != 0)
        goto out;
    if (!w.json)
        sync_report(pos[0], &s, &w, &c, &q);
    if (no_wait || (!catalog && !images)) {
        rc = w.json ? sync_json(pos[0], &c, &q, 0, CLI_OK) : CLI_OK;
        goto out;
    }
    rc = sync_wait(pg, &s, &set, since, &w, timeout, &c);
    if (w.json && rc != CLI_DEPENDENCY)
        sync_json(pos[0], &c, &q, 1, rc);
out:
    sync_set_free(&set);
    PQfinish(pg);
    return rc;
}

static int sync_initial(int argc, char **argv)
{
    return sync_run(argc, argv, 0);
}

static int sync_resync(int argc, char **argv)
{
    return sync_run(argc, argv, 1);
}

static const struct cli_sub sync_subs[] = {
    {"initial", sync_initial,
     "sync initial STORE [--timeout SECONDS] [--no-wait] [--json]\n"
     "  Queue a catalog.product event for STORE for every active product\n"
     "  (catalog-publisher then emits the photos' image jobs), follow the\n"
     "  progress (products, variants and photos whose current payload or\n"
     "  content is recorded in remote_map) until all are synced or\n"
     "  dead-lettered, or --timeout passes.  Interrupt and re-run at will:\n"
     "  unchanged payloads and uploaded photos are not sent again.  Exit 1\n"
     "  on a timeout or when something was dead-lettered.  --json: no\n"
     "  progress lines; one object at the end (docs/cli.md)."},
    {"resync", sync_resync,
     "sync resync STORE [--catalog] [--stock] [--images] [--timeout S]\n"
     "        [--no-wait] [--json]\n"
     "  Re-send what differs (no flag: all three): --catalog reads the\n"
     "  store's products and queues the products whose payload differs\n"
     "  from remote_map, that are not mapped, or that the store lost\n"
     "  (deleted there: created again and re-mapped); --images the\n"
     "  products with a photo not in the store (catalog-publisher emits\n"
     "  their image jobs and makes no store call\n"
     "  for an unchanged product); --stock stock.available for every\n"
     "  variant with stock at the store's sources."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync sync initial|resync STORE ...`.
 * @returns CLI_OK, CLI_NEGATIVE (failed items, a timeout), CLI_USAGE or
 *          CLI_DEPENDENCY.
 */
int cmd_sync(int argc, char **argv)
{
    return cli_sub_run(sync_subs, argc, argv);
}
