#include "imgup.h"

#include "app/lanes.h"
#include "app/ops.h"
#include "app/storeset.h"
#include "events/event.h"
#include "events/image_job.h"
#include "events/topics.h"
#include "ledger/blob.h"
#include "ledger/dlq_record.h"
#include "ledger/parked.h"
#include "ledger/remote_map.h"
#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/hash.h"
#include "lib/httpd.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "store/budget.h"
#include "store/platform.h"
#include "store/work.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IU_STORES_TTL_S 30     /* reload the store list this often */
#define IU_PARK_BASE_MS 500    /* a store's first backoff after a failure */
#define IU_RETRY_EVERY_MS 1000 /* look for due parked jobs this often */
#define IU_RETRY_BATCH 10      /* parked jobs a pass at most */
#define IU_RETRY_LEASE_S 300   /* a claimed job: others wait this long */
#define IU_GAUGE_EVERY_MS 5000 /* refresh omnisync_parked_items */

struct imgup {
    struct imgup_cfg cfg;
    PGconn *pg;
    struct blob_store *blobs; /* photo bytes, on pg */
    struct kafka_consumer *kc;
    struct consume_loop loop;
    struct dlq *dlq;
    struct budget *b;
    struct storeset *ss;
    time_t stores_at;
    int fatal;
    unsigned long long n_uploaded, n_skipped, n_found, n_dlq, n_calls;
    struct metrics_family *latency; /* (may be NULL) ledger to store */
    struct metrics_family *parked;  /* (may be NULL) omnisync_parked_items */
    int64_t retry_at, gauge_at;     /* next retry pass, gauge refresh (ms) */
    struct lanes *lanes;            /* store workers (NULL in a worker's) */
    const struct cfg *passthru;     /* kafka.* (borrowed) */
    struct imgup *owner;            /* a worker's: the consumer's */
    /* The workers' counters, folded in after each run (iu_fold()). */
    atomic_ullong w_uploaded, w_skipped, w_found, w_dlq, w_calls;
};

static const struct cfg_opt iu_opts[] = {
    CFG_ROW_PG_DSN(struct imgup_cfg, pg_dsn, CFG_REQUIRED),
    CFG_ROW_KAFKA_BOOTSTRAP(struct imgup_cfg, kafka_bootstrap, CFG_REQUIRED),
    CFG_ROW_REDIS_ADDR(struct imgup_cfg, redis_addr, NULL, CFG_REQUIRED),
    CFG_ROW_SECRET_KEY(struct imgup_cfg, secret_key),
    CFG_ROW_GROUP_ID(struct imgup_cfg, group_id, "omnisync-image-uploader"),
    {"images.max_bytes", CFG_INT, "10485760", 1, 1073741824LL, 0,
     offsetof(struct imgup_cfg, max_bytes),
     "largest photo uploaded; larger ones are dead-lettered"},
    CFG_ROW_BACKOFF_MAX_MS(struct imgup_cfg, backoff_max_ms, "30000"),
    {"token.wait.ms", CFG_INT, "2000", 100, 600000, 0,
     offsetof(struct imgup_cfg, token_wait_ms),
     "longest wait for a store's API token before that store's work is "
     "put aside (docs/isolation.md)"},
    CFG_ROW_DRAIN_MS(struct imgup_cfg, drain_ms),
    LANES_CFG_ROWS(struct imgup_cfg, store_workers, slice_ms),
    STORESET_CFG_TIMEOUT_MS(struct imgup_cfg, store_timeout_ms),
    CFG_ROW_LOG_LEVEL(struct imgup_cfg, log_level, "info"),
    CFG_ROWS_HTTP(struct imgup_cfg, IMGUP_HTTP_LISTEN),
    {NULL},
};

const struct cfg_opt *imgup_cfg_table(void)
{
    return iu_opts;
}

/* Uploading one job's photo to its store. */
struct iu_job {
    struct imgup *iu;
    struct storeset_entry *st;
    struct store_call call; /* images class */
    const struct image_job *j;
    const char *key;
    const char *ts; /* the job's envelope ts (ledger to store latency) */
    struct work_err *e;
    int store_fail; /* the last failure was the store's: park the job */
};

/* The outcome of a platform operation: on failure the job's error takes
 * what the call says failed. */
static enum outcome iu_call(struct iu_job *u, enum outcome o)
{
    u->store_fail = o == OUTCOME_RETRY || o == OUTCOME_PAUSED;
    return work_call(u->e, &u->call, o);
}

/* The photo's content must be what the ledger recorded: at most @p max
 * bytes, a known image format (magic bytes), with the recorded SHA-256. */
static enum outcome iu_check(const struct image_job *j, long long max,
                             const unsigned char *b, size_t len,
                             const char **ext, struct work_err *e)
{
    char hex[HASH_SHA256_HEX_LEN + 1], why[256];

    if (blob_photo_check(b, len, max, "images.max_bytes", ext, why,
                         sizeof(why)) < 0)
        return work_fail(e, OUTCOME_REJECTED, "photo %s: %s", j->path, why);
    hash_sha256_hex(b, len, hex);
    if (strcmp(hex, j->sha256) != 0)
        return work_fail(e, OUTCOME_REJECTED,
                         "photo %s: stored bytes do not match their sha256 "
                         "(%s, ledger %s)",
                         j->path, hex, j->sha256);
    return OUTCOME_OK;
}

/*
 * The photo's bytes from the ledger's blob store, by the job's sha256: no
 * file is opened, so no disk is shared with the importer.  A photo without
 * bytes (imported before migration 0005 and not backfilled) or with bad
 * ones is OUTCOME_REJECTED with the reason; *buf (owned) and *ext on
 * OUTCOME_OK.
 */
static enum outcome iu_read(struct imgup *iu, const struct image_job *j,
                            unsigned char **buf, size_t *len, const char **ext,
                            struct work_err *e)
{
    char err[512];
    enum outcome o;
    int r;

    r = blob_get(iu->blobs, j->sha256, buf, len, err, sizeof(err));
    if (r < 0)
        return work_db_fail(iu->pg, e, err);
    if (r == 0)
        return work_fail(e, OUTCOME_REJECTED,
                         "photo %s: no bytes in the ledger for sha256 %s "
                         "(imported before migration 0005: run omnisync db "
                         "migrate where the file is, or import the catalog "
                         "again)",
                         j->path, j->sha256);
    o = iu_check(j, iu->cfg.max_bytes, *buf, *len, ext, e);
    if (o != OUTCOME_OK) {
        free(*buf);
        *buf = NULL;
    }
    return o;
}

/* 1 when store image @p id is another photo's (identical content twice
 * in one product is two images, one per photo); -1 on a ledger error. */
static int iu_taken(struct iu_job *u, long long id, char *err, size_t errsz)
{
    long long local;
    int f = remote_map_find_local(u->iu->pg, u->st->conf.id, REMOTE_MAP_IMAGE,
                                  id, &local, err, errsz);

    return f < 0 ? -1 : f > 0 && local != u->j->photo_id;
}

/* The id of the product's image named @p fname in the store that no other
 * photo holds, or 0. */
static enum outcome iu_find(struct iu_job *u, const char *fname, long long *id)
{
    struct store_images imgs;
    char err[512];
    enum outcome o;
    int taken;

    *id = 0;
    memset(&imgs, 0, sizeof(imgs));
    o = iu_call(
        u, u->st->plat->images_list(&u->call, u->j->remote_product_id, &imgs));
    for (size_t i = 0; o == OUTCOME_OK && i < imgs.n; i++) {
        if (!imgs.v[i].filename || strcmp(imgs.v[i].filename, fname) != 0)
            continue;
        taken = iu_taken(u, imgs.v[i].id, err, sizeof(err));
        if (taken < 0)
            o = work_db_fail(u->iu->pg, u->e, err);
        if (taken)
            continue;
        *id = imgs.v[i].id;
        break;
    }
    store_images_clear(&imgs);
    return o;
}

/* Remove the image a changed photo replaced (best effort: 404 is fine). */
/* Delete the store image a replaced photo had.  A transient failure
 * (5xx, timeout, the store's limit) is returned, so the job is retried
 * before the remote map moves on: the retry finds the new image by its
 * name and deletes the old one again.  An image already gone (4xx) is
 * done. */
static enum outcome iu_drop_old(struct iu_job *u, long long old_id)
{
    const char *store = u->st->conf.name;
    enum outcome o = iu_call(u, u->st->plat->image_delete(
                                    &u->call, u->j->remote_product_id, old_id));

    if (o == OUTCOME_OK)
        log_info_ctx(u->key, "store %s: replaced image %lld removed", store,
                     old_id);
    else if (o == OUTCOME_REJECTED)
        log_warn_ctx(u->key, "store %s: replaced image %lld not removed: %s",
                     store, old_id, u->call.why);
    else
        log_warn_ctx(u->key,
                     "store %s: replaced image %lld not removed yet (%s): "
                     "retried",
                     store, old_id, u->call.why);
    return o == OUTCOME_REJECTED ? OUTCOME_OK : o;
}

/* Upload the photo under a committed marker; *@p rid receives the new
 * image's id. */
static enum outcome iu_send(struct iu_job *u, const unsigned char *buf,
                            size_t len, const char *fname, int mark,
                            long long *rid)
{
    const struct image_job *j = u->j;
    long long sid = u->st->conf.id;
    char err[512], why[sizeof(u->e->reason)];
    enum outcome o;

    /* Committed before the call: a crash after the upload leaves it, and
     * the next attempt looks first. */
    if (mark && remote_map_mark_inflight(u->iu->pg, sid, REMOTE_MAP_IMAGE,
                                         j->photo_id, err, sizeof(err)) != 0)
        return work_db_fail(u->iu->pg, u->e, err);
    o = iu_call(u,
                u->st->plat->image_upload(&u->call, j->remote_product_id, buf,
                                          len, fname, j->position, rid));
    /* A rejection or the store's limit means nothing was created: drop the
     * marker.  A timeout leaves the outcome unknown: keep it. */
    if (mark && (o == OUTCOME_REJECTED || o == OUTCOME_PAUSED))
        remote_map_del(u->iu->pg, sid, REMOTE_MAP_IMAGE, j->photo_id, err,
                       sizeof(err));
    if (o == OUTCOME_REJECTED) {
        snprintf(why, sizeof(why), "%s", u->e->reason);
        work_fail(u->e, OUTCOME_REJECTED, "photo %s: %s", j->path, why);
    }
    if (o != OUTCOME_OK)
        return o;
    u->iu->n_uploaded++;
    ops_latency_observe(u->iu->latency, u->st->conf.name, "image", u->ts);
    log_info_ctx(u->key,
                 "store %s: photo %lld uploaded as image %lld (%s, %zu bytes)",
                 u->st->conf.name, j->photo_id, *rid, fname, len);
    return OUTCOME_OK;
}

/* Find a photo whose last upload's outcome is unknown (a marker, or a
 * replaced mapping), else upload it; *@p rid receives the image's id. */
static enum outcome iu_place(struct iu_job *u, const struct remote_ref *ref,
                             int mapped, long long *rid)
{
    const struct image_job *j = u->j;
    char fname[IMAGE_JOB_NAME_MAX];
    unsigned char *buf = NULL;
    const char *ext = NULL;
    size_t len = 0;
    enum outcome o;

    o = iu_read(u->iu, j, &buf, &len, &ext, u->e);
    if (o != OUTCOME_OK)
        return o;
    if (image_job_filename(j->sha256, ext, fname, sizeof(fname)) != 0)
        o = work_fail(u->e, OUTCOME_REJECTED, "photo %s: bad sha256", j->path);
    /* The store keeps no content hash, but the filename is the hash: look
     * for it before uploading again. */
    if (o == OUTCOME_OK && mapped)
        o = iu_find(u, fname, rid);
    if (o == OUTCOME_OK && *rid > 0) {
        u->iu->n_found++;
        log_info_ctx(u->key,
                     "store %s: photo %lld found as image %lld (%s), not "
                     "uploaded again",
                     u->st->conf.name, j->photo_id, *rid, fname);
    } else if (o == OUTCOME_OK) {
        o = iu_send(u, buf, len, fname, !mapped || ref->remote_id < 0, rid);
    }
    free(buf);
    return o;
}

/* Upload one job's photo to its store (the caller found the store). */
static enum outcome iu_upload(struct iu_job *u)
{
    const struct image_job *j = u->j;
    struct imgup *iu = u->iu;
    struct remote_ref ref;
    long long rid = 0, old_id = 0;
    char err[512];
    enum outcome o;
    int mapped;

    mapped = remote_map_get(iu->pg, u->st->conf.id, REMOTE_MAP_IMAGE,
                            j->photo_id, &ref, err, sizeof(err));
    if (mapped < 0)
        return work_db_fail(iu->pg, u->e, err);
    if (mapped && ref.remote_id > 0 && strcmp(ref.hash, j->sha256) == 0) {
        iu->n_skipped++;
        log_debug_ctx(u->key, "store %s: photo %lld already uploaded",
                      u->st->conf.name, j->photo_id);
        return OUTCOME_OK;
    }
    if (mapped && ref.remote_id > 0)
        old_id = ref.remote_id; /* the photo's content changed */
    o = iu_place(u, &ref, mapped, &rid);
    if (o == OUTCOME_OK && old_id > 0 && old_id != rid)
        o = iu_drop_old(u, old_id);
    if (o != OUTCOME_OK)
        return o;
    if (remote_map_put(iu->pg, u->st->conf.id, REMOTE_MAP_IMAGE, j->photo_id,
                       rid, j->sha256, err, sizeof(err)) != 0)
        return work_db_fail(iu->pg, u->e, err);
    return OUTCOME_OK;
}

/* One job to store @p st through a metered call context of its own. */
static enum outcome iu_job_run(struct imgup *iu, struct storeset_entry *st,
                               const struct image_job *j,
                               const struct event *ev, struct work_err *e,
                               int *store_fail)
{
    struct iu_job u;
    enum outcome o;

    memset(&u, 0, sizeof(u));
    u.iu = iu;
    u.st = st;
    store_call_init(&u.call, st->sc, iu->b, BUDGET_IMAGES);
    /* A bounded token wait: a paused store parks its job (isolation). */
    u.call.deadline_ms = clock_mono_ms() + iu->cfg.token_wait_ms;
    u.j = j;
    u.key = ev->key;
    u.ts = ev->ts;
    u.e = e;
    o = iu_upload(&u);
    *store_fail = o != OUTCOME_OK && o != OUTCOME_REJECTED && u.store_fail;
    iu->n_calls += u.call.calls;
    store_call_clear(&u.call);
    return o;
}

/* Dead-letter @p m with @p reason (dlq.h waits for the acknowledgement);
 * a parked job (@p m NULL) goes as @p raw, its envelope. */
static int iu_dlq(struct imgup *iu, const rd_kafka_message_t *m,
                  const char *raw, const char *key, const char *store,
                  long long photo_id, const char *reason)
{
    char full[1200], errstr[512];
    struct storeset_entry *st;
    int sent;

    snprintf(full, sizeof(full), "store %s: product %s: %s",
             store ? store : "-", key ? key : "-", reason);
    if (m)
        sent = dlq_send(iu->dlq, m, full, 30 * 1000 /* ms */, errstr,
                        sizeof(errstr));
    else
        sent = dlq_send_raw(iu->dlq, "parked", key, key ? strlen(key) : 0, raw,
                            strlen(raw), full, 30 * 1000 /* ms */, errstr,
                            sizeof(errstr));
    if (sent != 0) {
        log_error("dlq: %s", errstr);
        return -1;
    }
    iu->n_dlq++;
    log_warn_ctx(key, "dead-lettered: %s", full);
    st = store ? storeset_find(iu->ss, store) : NULL;
    if (dlq_record_add(iu->pg,
                       &(struct dlq_record_note){
                           .store_id = st ? st->conf.id : 0,
                           .store = store,
                           .service = "image-uploader",
                           .entity = photo_id > 0 ? REMOTE_MAP_IMAGE : NULL,
                           .local_id = photo_id,
                           .key = key,
                           .reason = full,
                           .ref = dlq_last(iu->dlq)},
                       errstr, sizeof(errstr)) != 0)
        log_warn("dlq_record: %s (status will not count it)", errstr);
    return 0;
}

/* Dead-letter @p m and say whether the offset may move. */
static enum outcome iu_reject(struct imgup *iu, const rd_kafka_message_t *m,
                              const char *key, const char *store,
                              long long photo_id, struct work_err *e)
{
    if (iu_dlq(iu, m, NULL, key, store, photo_id, e->reason) == 0)
        return OUTCOME_OK;
    return work_fail(e, OUTCOME_RETRY, "dlq failed");
}

/* The job's store, reloading the store list when it is old or lacks it. */
static enum outcome iu_store(struct imgup *iu, const char *name,
                             struct storeset_entry **st, struct work_err *e)
{
    char err[512];

    if (time(NULL) - iu->stores_at > IU_STORES_TTL_S ||
        !storeset_find(iu->ss, name)) {
        if (storeset_refresh(iu->ss, iu->pg, iu->cfg.secret_key, err,
                             sizeof(err)) < 0)
            return work_db_fail(iu->pg, e, err);
        iu->stores_at = time(NULL);
    } else if (storeset_refresh_changed(iu->ss, iu->pg, iu->cfg.secret_key, err,
                                        sizeof(err)) < 0) {
        return work_db_fail(iu->pg, e, err); /* `store set|remove` */
    }
    *st = storeset_find(iu->ss, name);
    if (!*st)
        return work_fail(e, OUTCOME_REJECTED, "unknown store '%s'", name);
    return OUTCOME_OK;
}

/* ---- parking (docs/isolation.md) ---------------------------------------- */

/* Park job @p j (its envelope @p m) for its store after the store's
 * failure @p e, or behind the store's wait (e->reason empty). */
static enum outcome iu_park(struct imgup *iu, const rd_kafka_message_t *m,
                            struct storeset_entry *st,
                            const struct image_job *j, struct work_err *e)
{
    char entity[PARKED_ENTITY_SIZE], err[512];

    snprintf(entity, sizeof(entity), "%lld", j->photo_id);
    if (parked_message(iu->pg,
                       &(struct parked_put){st->conf.id, PARKED_IMAGE, entity,
                                            m->payload, e->reason,
                                            IU_PARK_BASE_MS,
                                            (long)iu->cfg.backoff_max_ms},
                       m->len, err, sizeof(err)) != 0)
        return work_db_fail(iu->pg, e, err);
    if (e->reason[0])
        log_warn("store %s: photo %s parked: %s", st->conf.name, entity,
                 e->reason);
    return OUTCOME_OK;
}

/* ---- store workers (app/lanes.h, docs/isolation.md) --------------------- */

/* One store's upload on a store worker: a message's or a parked row's
 * envelope. */
struct iu_lane_job {
    struct lane_job lj;
    char *payload;         /* (owned) the envelope */
    char *store;           /* (owned) the store's name */
    struct parked_item it; /* detached: the parked row (no payload) */
    long long photo_id;
    /* What the run did. */
    enum outcome o;
    struct work_err e;
    int store_fail;
    char key[64];
};

/* A parked photo's attempt ended with @p o: delete its row, dead-letter
 * it (a 4xx), or record the store's failure. */
static void iu_parked_settle(struct imgup *iu, const struct parked_item *it,
                             enum outcome o, const struct iu_lane_job *lj,
                             struct work_err *e)
{
    char err[512];
    int rc;

    if (o == OUTCOME_REJECTED &&
        iu_dlq(iu, NULL, lj->payload, lj->key, lj->store, lj->photo_id,
               e->reason) == 0)
        o = OUTCOME_OK;
    /* Not done: the store's failure, or Postgres, Redis or Kafka; the
     * store waits longer (when Postgres is gone, the claim runs out). */
    if (o == OUTCOME_OK)
        rc = parked_done(iu->pg, PARKED_IMAGE, it, err, sizeof(err));
    else
        rc = parked_fail(iu->pg,
                         &(struct parked_put){it->store_id, PARKED_IMAGE,
                                              it->entity, NULL, e->reason,
                                              IU_PARK_BASE_MS,
                                              (long)iu->cfg.backoff_max_ms},
                         err, sizeof(err));
    if (o != OUTCOME_OK)
        log_warn("parked photo %s of store %lld: attempt %d: %s", it->entity,
                 it->store_id, it->attempts + 1, e->reason);
    if (rc != 0)
        log_warn("parked: %s (retried when the claim runs out)", err);
}

/* A worker's own uploader: its Postgres connection (and blob store on
 * it), budget connection, store clients and DLQ; settings by value. */
static void *iu_env_new(void *arg, char *errstr, size_t errstr_size)
{
    const struct imgup *iu = arg;
    struct imgup *w = calloc(1, sizeof(*w));

    if (!w) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    w->cfg = iu->cfg;
    w->latency = iu->latency;
    w->owner = (struct imgup *)iu;
    w->pg = db_connect(iu->cfg.pg_dsn, "image-uploader", errstr, errstr_size);
    if (w->pg) {
        w->blobs = blob_store_pg_new(w->pg);
        w->b = budget_new(iu->cfg.redis_addr, NULL, errstr, errstr_size);
    }
    if (w->b)
        budget_metrics_share(w->b, iu->b);
    if (w->blobs && w->b)
        w->dlq = dlq_new(iu->cfg.kafka_bootstrap, iu->passthru,
                         "image-uploader", errstr, errstr_size);
    w->ss = storeset_new();
    if (w->dlq && w->ss) {
        storeset_timeout_set(w->ss, (long)iu->cfg.store_timeout_ms);
        return w;
    }
    if (w->pg && !w->blobs)
        snprintf(errstr, errstr_size, "out of memory");
    imgup_destroy(w);
    return NULL;
}

static void iu_env_free(void *env)
{
    imgup_destroy(env);
}

/* On the worker: add its counters to the consumer's (stats line). */
static void iu_fold(struct imgup *w)
{
    struct imgup *iu = w->owner;

    atomic_fetch_add(&iu->w_uploaded, w->n_uploaded);
    atomic_fetch_add(&iu->w_skipped, w->n_skipped);
    atomic_fetch_add(&iu->w_found, w->n_found);
    atomic_fetch_add(&iu->w_dlq, w->n_dlq);
    atomic_fetch_add(&iu->w_calls, w->n_calls);
    w->n_uploaded = w->n_skipped = w->n_found = w->n_dlq = w->n_calls = 0;
}

static void iu_lane_free(struct lane_job *lj)
{
    struct iu_lane_job *j = (struct iu_lane_job *)lj;

    free(j->payload);
    free(j->store);
    free(j);
}

/* On the worker: upload the envelope's photo to its store. */
static void iu_lane_run(void *env, struct lane_job *lj)
{
    struct iu_lane_job *u = (struct iu_lane_job *)lj;
    struct imgup *w = env;
    struct storeset_entry *st = NULL;
    struct image_job j;
    struct event ev;
    char err[512];

    memset(&ev, 0, sizeof(ev));
    memset(&j, 0, sizeof(j));
    u->o = OUTCOME_RETRY;
    if (!w) {
        work_fail(&u->e, OUTCOME_RETRY, "store worker: not connected");
        return;
    }
    if (event_decode(&ev, u->payload, strlen(u->payload), err, sizeof(err)) !=
            0 ||
        image_job_decode(ev.data, ev.key, ev.store, &j, err, sizeof(err)) != 0)
        u->o = work_fail(&u->e, OUTCOME_REJECTED, "decode: %s", err);
    else
        u->o = iu_store(w, j.store, &st, &u->e);
    if (u->o == OUTCOME_OK)
        u->o = iu_job_run(w, st, &j, &ev, &u->e, &u->store_fail);
    iu_fold(w);
    event_clear(&ev);
}

/* On the worker, after a detached run: settle its parked row. */
static void iu_lane_settle(void *env, struct lane_job *lj)
{
    struct iu_lane_job *j = (struct iu_lane_job *)lj;

    /* No connections: the row's claim runs out and a pass retries it. */
    if (!env)
        return;
    iu_parked_settle(env, &j->it, j->o, j, &j->e);
    iu_fold(env);
}

/* Shutdown left @p lj's call running: its row is due again at once. */
static void iu_lane_abandon(void *ctx, struct lane_job *lj)
{
    struct iu_lane_job *j = (struct iu_lane_job *)lj;
    struct imgup *iu = ctx;
    char err[512];

    log_warn("store %s: photo %s still uploading: left parked", j->store,
             j->it.entity);
    if (parked_release(iu->pg, PARKED_IMAGE, &j->it, err, sizeof(err)) != 0)
        log_warn("parked: %s (retried when the claim runs out)", err);
}

static struct iu_lane_job *iu_lane_job_new(const char *payload, size_t len,
                                           const struct storeset_entry *st,
                                           const struct image_job *ij,
                                           const char *key)
{
    struct iu_lane_job *j = calloc(1, sizeof(*j));

    if (!j)
        return NULL;
    j->lj.store = st->conf.id;
    j->lj.run = iu_lane_run;
    j->lj.settle = iu_lane_settle;
    j->lj.free = iu_lane_free;
    j->payload = strndup(payload, len);
    j->store = strdup(st->conf.name);
    j->photo_id = ij->photo_id;
    snprintf(j->key, sizeof(j->key), "%s", key ? key : "");
    if (!j->payload || !j->store) {
        iu_lane_free(&j->lj);
        return NULL;
    }
    return j;
}

/*
 * Run job @p ij (message @p m) for store @p st on a store worker.
 * LANE_DONE: *o, *e and *store_fail say what happened, as iu_job_run().
 * Otherwise the message is done for the store when *o is OUTCOME_OK: its
 * upload goes on in flight (parked and claimed, settled by the worker),
 * or, with no free worker, it is parked behind.
 */
static enum lane_res iu_lane_upload(struct imgup *iu,
                                    const rd_kafka_message_t *m,
                                    struct storeset_entry *st,
                                    const struct image_job *ij,
                                    const struct event *ev, struct work_err *e,
                                    enum outcome *o, int *store_fail)
{
    struct iu_lane_job *j =
        iu_lane_job_new(m->payload, m->len, st, ij, ev->key);
    char entity[PARKED_ENTITY_SIZE], err[512];
    enum lane_res r;

    if (!j) {
        *o = work_fail(e, OUTCOME_RETRY, "out of memory");
        return LANE_NO_WORKER;
    }
    r = lanes_run(iu->lanes, &j->lj);
    if (r == LANE_DONE) {
        *o = j->o;
        *e = j->e;
        *store_fail = j->store_fail;
    }
    if (r != LANE_DETACHED) {
        iu_lane_free(&j->lj);
        if (r == LANE_NO_WORKER)
            *o = iu_park(iu, m, st, ij, e);
        return r;
    }
    snprintf(entity, sizeof(entity), "%lld", ij->photo_id);
    if (parked_inflight(iu->pg,
                        &(struct parked_put){st->conf.id, PARKED_IMAGE, entity,
                                             m->payload, NULL, 0, 0},
                        m->len, IU_RETRY_LEASE_S, &j->it, err,
                        sizeof(err)) != 0) {
        lanes_handoff(iu->lanes, &j->lj, LANE_DISCARD);
        *o = work_db_fail(iu->pg, e, err);
        return r;
    }
    log_info("store %s: photo %s still uploading after %lld ms: parked in "
             "flight",
             st->conf.name, entity, iu->cfg.slice_ms);
    lanes_handoff(iu->lanes, &j->lj, LANE_SETTLE);
    *o = OUTCOME_OK;
    return r;
}

/* Run job @p j for store @p st, or park it for that store. */
static enum outcome iu_store_job(struct imgup *iu, const rd_kafka_message_t *m,
                                 struct storeset_entry *st,
                                 const struct image_job *j,
                                 const struct event *ev, struct work_err *e)
{
    char entity[PARKED_ENTITY_SIZE], err[512];
    int park, store_fail = 0;
    enum outcome o = OUTCOME_RETRY;

    snprintf(entity, sizeof(entity), "%lld", j->photo_id);
    /* Work of the store still on a store worker: this waits behind it. */
    park = lanes_store_busy(iu->lanes, st->conf.id)
               ? 1
               : parked_check(iu->pg, st->conf.id, PARKED_IMAGE, entity, err,
                              sizeof(err));
    if (park < 0)
        return work_db_fail(iu->pg, e, err);
    if (park)
        return iu_park(iu, m, st, j, e);
    if (iu_lane_upload(iu, m, st, j, ev, e, &o, &store_fail) != LANE_DONE)
        return o;
    if (o != OUTCOME_OK && store_fail)
        return iu_park(iu, m, st, j, e);
    return o;
}

/* Handle one message: OUTCOME_OK when its offset may be committed. */
static enum outcome iu_handle(struct imgup *iu, const rd_kafka_message_t *m,
                              struct work_err *e)
{
    struct event ev;
    struct image_job j;
    struct storeset_entry *st = NULL;
    char err[512], keybuf[64];
    enum outcome o = OUTCOME_OK;

    memset(&ev, 0, sizeof(ev));
    memset(&j, 0, sizeof(j));
    snprintf(keybuf, sizeof(keybuf), "%.*s",
             (int)(m->key_len < 63 ? m->key_len : 63),
             m->key ? (const char *)m->key : "");
    if (event_decode(&ev, m->payload, m->len, err, sizeof(err)) != 0) {
        work_fail(e, OUTCOME_REJECTED, "decode: %s", err);
        return iu_reject(iu, m, keybuf, NULL, 0, e);
    }
    if (strcmp(ev.type, IMAGE_JOB_EVENT) != 0) {
        log_debug_ctx(ev.id, "type %s ignored", ev.type);
        goto out;
    }
    if (image_job_decode(ev.data, ev.key, ev.store, &j, err, sizeof(err)) != 0)
        o = work_fail(e, OUTCOME_REJECTED, "decode: %s", err);
    else
        o = iu_store(iu, j.store, &st, e);
    if (o == OUTCOME_OK)
        o = iu_store_job(iu, m, st, &j, &ev, e);
    if (o == OUTCOME_REJECTED)
        o = iu_reject(iu, m, ev.key, ev.store, j.photo_id, e);
out:
    event_clear(&ev);
    return o;
}

/* consume.h handler: one message to the end, or why to retry. */
static enum outcome iu_consume(void *ctx, const rd_kafka_message_t *m,
                               char *reason, size_t reason_size)
{
    struct imgup *iu = ctx;
    struct work_err e;
    enum outcome o;

    memset(&e, 0, sizeof(e));
    o = iu_handle(iu, m, &e);
    if (o != OUTCOME_OK)
        snprintf(reason, reason_size, "%s", e.reason);
    return o;
}

/* ---- the retry pass ------------------------------------------------------ */

/* A retry pass (parked_pass() context). */
struct iu_pass {
    struct imgup *iu;
    struct parked_skip skip; /* stores with work on a worker */
    long long ids[64];       /* skip.ids (store.workers <= 64) */
};

/* The stores with work on a worker are skipped; no free worker ends the
 * pass. */
static void iu_pass_skip(struct iu_pass *ps)
{
    ps->skip.ids = ps->ids;
    ps->skip.n = lanes_busy_stores(ps->iu->lanes, ps->ids, 64);
    ps->skip.stop = lanes_free_workers(ps->iu->lanes) == 0;
}

/* Run one claimed job again from its parked envelope, on a store worker:
 * settled here when it ends within the slice, else by the worker. */
static void iu_retry_one(void *ctx, struct parked_item *it)
{
    struct iu_pass *ps = ctx;
    struct imgup *iu = ps->iu;
    struct storeset_entry *st = NULL;
    struct iu_lane_job *u = NULL;
    struct image_job j;
    struct work_err e;
    struct event ev;
    char err[512];
    enum outcome o = OUTCOME_REJECTED;
    enum lane_res r = LANE_DONE;

    httpd_heartbeat(iu->loop.beat);
    memset(&ev, 0, sizeof(ev));
    memset(&j, 0, sizeof(j));
    memset(&e, 0, sizeof(e));
    if (event_decode(&ev, it->payload, strlen(it->payload), err, sizeof(err)) !=
            0 ||
        image_job_decode(ev.data, ev.key, ev.store, &j, err, sizeof(err)) != 0)
        work_fail(&e, OUTCOME_REJECTED, "parked job: %s", err);
    else
        o = iu_store(iu, j.store, &st, &e);
    if (o == OUTCOME_OK) {
        u = iu_lane_job_new(it->payload, strlen(it->payload), st, &j, ev.key);
        r = u ? lanes_run(iu->lanes, &u->lj) : LANE_NO_WORKER;
    }
    if (r == LANE_DETACHED) {
        u->it = *it;
        u->it.payload = NULL;
        lanes_handoff(iu->lanes, &u->lj, LANE_SETTLE);
    } else if (r == LANE_NO_WORKER) {
        ps->skip.stop = 1;
        if (parked_release(iu->pg, PARKED_IMAGE, it, err, sizeof(err)) != 0)
            log_warn("parked: %s (retried when the claim runs out)", err);
    } else if (u) {
        iu_parked_settle(iu, it, u->o, u, &u->e);
    } else {
        struct iu_lane_job none = {.payload = it->payload,
                                   .store = (char *)ev.store,
                                   .photo_id = j.photo_id};

        snprintf(none.key, sizeof(none.key), "%s", ev.key ? ev.key : "");
        iu_parked_settle(iu, it, o, &none, &e);
    }
    if (u && r != LANE_DETACHED)
        iu_lane_free(&u->lj);
    if (!ps->skip.stop)
        iu_pass_skip(ps);
    event_clear(&ev);
}

/* Run the parked jobs whose store's next attempt has come. */
static void iu_retry_pass(struct imgup *iu)
{
    int64_t now = clock_mono_ms();
    struct iu_pass ps = {.iu = iu};
    char err[512];
    int n;

    if (now < iu->retry_at)
        return;
    iu->retry_at = now + IU_RETRY_EVERY_MS;
    iu_pass_skip(&ps);
    n = ps.skip.stop ? 0
                     : parked_pass(iu->pg, PARKED_IMAGE, IU_RETRY_BATCH,
                                   IU_RETRY_LEASE_S, &ps.skip, iu_retry_one,
                                   &ps, err, sizeof(err));
    if (n < 0)
        log_warn("retry pass: %s", err);
    if (n == IU_RETRY_BATCH)
        iu->retry_at = now; /* more may be due */
    if (now >= iu->gauge_at) {
        iu->gauge_at = now + IU_GAUGE_EVERY_MS;
        if (parked_gauge_set(iu->pg, iu->parked, PARKED_IMAGE, err,
                             sizeof(err)) != 0)
            log_warn("parked gauge: %s", err);
    }
}

int imgup_poll(struct imgup *iu)
{
    if (iu->fatal)
        return -1;
    iu_retry_pass(iu);
    if (consume_once(&iu->loop) < 0) {
        iu->fatal = 1;
        return -1;
    }
    return 0;
}

struct imgup *imgup_new(const struct imgup_cfg *c, const struct cfg *passthru,
                        struct ops *ops, char *errstr, size_t errstr_size)
{
    struct imgup *iu = calloc(1, sizeof(*iu));
    const char *topics[1] = {TOPICS_IMAGES};

    if (!iu) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    iu->cfg = *c;
    iu->passthru = passthru;
    if (sodium_init() < 0) {
        snprintf(errstr, errstr_size, "libsodium init failed");
        goto fail;
    }
    iu->pg = db_connect(c->pg_dsn, "image-uploader", errstr, errstr_size);
    if (!iu->pg)
        goto fail;
    iu->blobs = blob_store_pg_new(iu->pg);
    if (!iu->blobs) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    iu->b = budget_new(c->redis_addr, NULL, errstr, errstr_size);
    if (!iu->b)
        goto fail;
    iu->ss = storeset_new();
    if (!iu->ss) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (storeset_refresh(iu->ss, iu->pg, iu->cfg.secret_key, errstr,
                         errstr_size) < 0)
        goto fail;
    iu->stores_at = time(NULL);
    iu->dlq = dlq_new(c->kafka_bootstrap, passthru, "image-uploader", errstr,
                      errstr_size);
    if (!iu->dlq)
        goto fail;
    iu->kc = kafka_consumer_new(c->kafka_bootstrap, c->group_id, passthru,
                                errstr, errstr_size);
    if (!iu->kc)
        goto fail;
    if (kafka_consumer_subscribe(iu->kc, topics, 1, errstr, errstr_size) != 0)
        goto fail;
    iu->loop.kc = iu->kc;
    iu->loop.fn = iu_consume;
    iu->loop.ctx = iu;
    iu->loop.backoff_max_ms = (long)c->backoff_max_ms;
    ops_wire_consumer(ops, &(struct ops_consumer){c->pg_dsn, c->redis_addr,
                                                  c->group_id, iu->kc, iu->dlq,
                                                  iu->b, &iu->loop.mx});
    iu->loop.beat = ops_httpd(ops);
    iu->latency = ops_latency_family(ops);
    iu->parked = parked_gauge_new(ops_metrics(ops));
    iu->lanes = lanes_new((int)c->store_workers, (long)c->slice_ms,
                          &(struct lanes_ops){iu_env_new, iu_env_free, iu},
                          errstr, errstr_size);
    if (!iu->lanes)
        goto fail;
    log_info("consuming %s as group %s; %zu store(s); max %lld bytes a photo",
             TOPICS_IMAGES, c->group_id, storeset_count(iu->ss), c->max_bytes);
    return iu;
fail:
    imgup_destroy(iu);
    return NULL;
}

int imgup_drain(struct imgup *iu)
{
    int rc = iu->fatal ? 1 : 0, left;

    /* Uploads in flight on the store workers: wait for them up to
     * drain.ms; what is still running stays parked for the next start. */
    left = lanes_drain(iu->lanes, (long)iu->cfg.drain_ms, iu_lane_abandon, iu);
    if (left)
        log_warn("drain: %d upload(s) still running: left parked", left);
    kafka_consumer_close(iu->kc);
    log_info("stopped (exit %d): %llu jobs, %llu uploaded, %llu skipped, "
             "%llu found after a crash, %llu dead-lettered, %llu store calls",
             rc, (unsigned long long)iu->loop.n_msgs,
             iu->n_uploaded + atomic_load(&iu->w_uploaded),
             iu->n_skipped + atomic_load(&iu->w_skipped),
             iu->n_found + atomic_load(&iu->w_found),
             iu->n_dlq + atomic_load(&iu->w_dlq),
             iu->n_calls + atomic_load(&iu->w_calls));
    return rc;
}

void imgup_destroy(struct imgup *iu)
{
    if (!iu)
        return;
    lanes_destroy(iu->lanes);
    kafka_consumer_destroy(iu->kc);
    dlq_destroy(iu->dlq);
    storeset_destroy(iu->ss);
    budget_destroy(iu->b);
    blob_store_destroy(iu->blobs);
    PQfinish(iu->pg);
    free(iu);
}
