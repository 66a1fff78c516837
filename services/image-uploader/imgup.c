#include "imgup.h"

#include "store/budget.h"
#include "lib/cfg.h"
#include "lib/consume.h"
#include "lib/db.h"
#include "lib/dlq.h"
#include "lib/hash.h"
#include "ledger/dlq_record.h"
#include "events/event.h"
#include "events/image_job.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "ledger/remote_map.h"
#include "store/store_client.h"
#include "app/storeset.h"
#include "events/topics.h"
#include "store/work.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IU_STORES_TTL_S 30 /* reload the store list this often */

struct imgup {
    struct imgup_cfg cfg;
    PGconn *pg;
    struct kafka_consumer *kc;
    struct consume_loop loop;
    struct dlq *dlq;
    struct budget *b;
    struct storeset *ss;
    time_t stores_at;
    int fatal;
    unsigned long long n_uploaded, n_skipped, n_found, n_dlq, n_calls;
};

static const struct cfg_opt iu_opts[] = {
    CFG_ROW_PG_DSN(struct imgup_cfg, pg_dsn, CFG_REQUIRED),
    CFG_ROW_KAFKA_BOOTSTRAP(struct imgup_cfg, kafka_bootstrap, CFG_REQUIRED),
    CFG_ROW_REDIS_ADDR(struct imgup_cfg, redis_addr, NULL, CFG_REQUIRED),
    CFG_ROW_SECRET_KEY(struct imgup_cfg, secret_key),
    CFG_ROW_GROUP_ID(struct imgup_cfg, group_id, "omnisync-image-uploader"),
    {"images.max_bytes", CFG_INT, "10485760", 1, 1073741824LL, 0,
     offsetof(struct imgup_cfg, max_bytes),
     "largest photo file uploaded; larger ones are dead-lettered"},
    CFG_ROW_BACKOFF_MAX_MS(struct imgup_cfg, backoff_max_ms, "30000"),
    CFG_ROW_LOG_LEVEL(struct imgup_cfg, log_level, "info"),
    {NULL},
};

const struct cfg_opt *imgup_cfg_table(void)
{
    return iu_opts;
}

static long long iu_jid(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* One metered call (images class); maps the result onto what is next. */
static enum work_res iu_call(struct imgup *iu, struct storeset_entry *st,
                             enum store_op op, const struct store_req_args *a,
                             struct store_result *r, struct work_err *e)
{
    return work_store_call(st->sc, iu->b, BUDGET_IMAGES, op, a, r, e,
                           &iu->n_calls);
}

/*
 * Read the photo at @p path: at most @p max bytes, a JPEG/PNG/GIF/WebP by
 * its magic bytes, with the SHA-256 the ledger recorded.  A bad photo is
 * WORK_DLQ with the path and the reason; *buf (owned) and *ext on WORK_OK.
 */
static enum work_res iu_read(const char *path, const char *sha256,
                             long long max, unsigned char **buf, size_t *len,
                             const char **ext, struct work_err *e)
{
    char hex[HASH_SHA256_HEX_LEN + 1];
    struct stat sb;
    unsigned char *b = NULL;
    size_t got = 0;
    ssize_t n;
    int fd;
    enum work_res r;

    *buf = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return work_fail(e, WORK_DLQ, 0, "photo %s: cannot read: %s", path,
                         strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        r = work_fail(e, WORK_DLQ, 0, "photo %s: not a regular file", path);
        goto out;
    }
    if ((long long)sb.st_size > max) {
        r = work_fail(e, WORK_DLQ, 0,
                      "photo %s: too big: %lld bytes > images.max_bytes %lld",
                      path, (long long)sb.st_size, max);
        goto out;
    }
    b = malloc((size_t)sb.st_size + 1);
    if (!b) {
        r = work_fail(e, WORK_RETRY, 1, "photo %s: out of memory", path);
        goto out;
    }
    while (got < (size_t)sb.st_size) {
        n = read(fd, b + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)sb.st_size) {
        r = work_fail(e, WORK_DLQ, 0,
                      "photo %s: short read (%zu of %lld bytes)", path, got,
                      (long long)sb.st_size);
        goto out;
    }
    *ext = image_job_sniff(b, got);
    if (!*ext) {
        r = work_fail(e, WORK_DLQ, 0,
                      "photo %s: not a JPEG, PNG, GIF or WebP (magic bytes)",
                      path);
        goto out;
    }
    hash_sha256_hex(b, got, hex);
    if (strcmp(hex, sha256) != 0) {
        r = work_fail(e, WORK_DLQ, 0,
                      "photo %s: content changed since import (sha256 %s, "
                      "ledger %s); re-import the catalog",
                      path, hex, sha256);
        goto out;
    }
    *buf = b;
    *len = got;
    b = NULL;
    r = WORK_OK;
out:
    free(b);
    close(fd);
    return r;
}

/* The id of the product's image named @p fname in the store, or 0. */
static enum work_res iu_find(struct imgup *iu, struct storeset_entry *st,
                             long long rpid, const char *fname, long long *id,
                             struct work_err *e)
{
    struct store_req_args a;
    struct store_result r;
    const json_t *img;
    enum work_res res;
    size_t i;

    *id = 0;
    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    a.id = rpid;
    res = iu_call(iu, st, STORE_OP_IMAGES_LIST, &a, &r, e);
    if (res == WORK_OK && !json_is_array(r.body))
        res = work_fail(e, WORK_RETRY, 1, "images list: not an array");
    if (res == WORK_OK) {
        json_array_foreach(r.body, i, img)
        {
            const char *f = json_string_value(json_object_get(img, "filename"));

            if (f && strcmp(f, fname) == 0) {
                *id = iu_jid(img, "id");
                break;
            }
        }
    }
    store_result_clear(&r);
    return res;
}

/* Remove the image a changed photo replaced (best effort: 404 is fine). */
static void iu_drop_old(struct imgup *iu, struct storeset_entry *st,
                        long long rpid, long long old_id, const char *key)
{
    struct store_req_args a;
    struct store_result r;
    struct work_err e;

    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    memset(&e, 0, sizeof(e));
    a.id = rpid;
    a.sub_id = old_id;
    if (iu_call(iu, st, STORE_OP_IMAGE_DELETE, &a, &r, &e) == WORK_OK)
        log_info_ctx(key, "store %s: replaced image %lld removed",
                     st->conf.name, old_id);
    else
        log_warn_ctx(key, "store %s: replaced image %lld not removed: %s",
                     st->conf.name, old_id, e.reason);
    store_result_clear(&r);
}

/* Upload one job's photo to its store (the caller found the store). */
static enum work_res iu_upload(struct imgup *iu, struct storeset_entry *st,
                               const struct image_job *j, const char *key,
                               struct work_err *e)
{
    struct remote_ref ref;
    struct store_req_args a;
    struct store_result r;
    unsigned char *buf = NULL;
    char *b64 = NULL, fname[IMAGE_JOB_NAME_MAX], err[512];
    const char *ext = NULL;
    size_t len = 0, b64len;
    long long rid = 0, old_id = 0;
    enum work_res res;
    int found, marked = 0;

    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    found = remote_map_get(iu->pg, st->conf.id, REMOTE_MAP_IMAGE, j->photo_id,
                           &ref, err, sizeof(err));
    if (found < 0)
        return work_db_fail(iu->pg, e, err);
    if (found && ref.remote_id > 0 && strcmp(ref.hash, j->sha256) == 0) {
        iu->n_skipped++;
        log_debug_ctx(key, "store %s: photo %lld already uploaded",
                      st->conf.name, j->photo_id);
        return WORK_OK;
    }
    if (found && ref.remote_id > 0)
        old_id = ref.remote_id; /* the photo's content changed */
    res = iu_read(j->path, j->sha256, iu->cfg.max_bytes, &buf, &len, &ext, e);
    if (res != WORK_OK)
        return res;
    if (image_job_filename(j->sha256, ext, fname, sizeof(fname)) != 0) {
        res = work_fail(e, WORK_DLQ, 0, "photo %s: bad sha256", j->path);
        goto out;
    }
    if (found) {
        /* A marker (or a replaced mapping): the last upload's outcome is
         * unknown.  The store keeps no content hash, but the filename is
         * the hash: look for it before uploading again. */
        res = iu_find(iu, st, j->remote_product_id, fname, &rid, e);
        if (res != WORK_OK)
            goto out;
        if (rid > 0) {
            iu->n_found++;
            log_info_ctx(key,
                         "store %s: photo %lld found as image %lld (%s), "
                         "not uploaded again",
                         st->conf.name, j->photo_id, rid, fname);
            goto record;
        }
    }
    if (!found || ref.remote_id < 0) {
        /* Committed before the call: a crash after the upload leaves it,
         * and the next attempt looks first. */
        if (remote_map_mark_inflight(iu->pg, st->conf.id, REMOTE_MAP_IMAGE,
                                     j->photo_id, err, sizeof(err)) != 0) {
            res = work_db_fail(iu->pg, e, err);
            goto out;
        }
        marked = 1;
    }
    b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    b64 = malloc(b64len);
    if (!b64) {
        res = work_fail(e, WORK_RETRY, 1, "out of memory");
        goto out;
    }
    sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
    free(buf);
    buf = NULL;
    a.id = j->remote_product_id;
    a.payload = json_pack("{s:s,s:s,s:I}", "attachment", b64, "filename", fname,
                          "position", (json_int_t)j->position);
    free(b64);
    b64 = NULL;
    if (!a.payload) {
        res = work_fail(e, WORK_RETRY, 1, "out of memory");
        goto out;
    }
    res = iu_call(iu, st, STORE_OP_IMAGE_CREATE, &a, &r, e);
    if (res != WORK_OK) {
        /* A 4xx or a 429/503 means nothing was created: drop the marker.
         * A timeout leaves the outcome unknown: keep it. */
        if (marked && (res == WORK_DLQ || r.status == 429 || r.status == 503))
            remote_map_del(iu->pg, st->conf.id, REMOTE_MAP_IMAGE, j->photo_id,
                           err, sizeof(err));
        if (res == WORK_DLQ) {
            char why[sizeof(e->reason)];

            snprintf(why, sizeof(why), "%s", e->reason);
            work_fail(e, WORK_DLQ, 0, "photo %s: %s", j->path, why);
        }
        goto out;
    }
    rid = iu_jid(r.body, "id");
    if (rid <= 0) {
        res = work_fail(e, WORK_RETRY, 1, "image create: no id in answer");
        goto out;
    }
    iu->n_uploaded++;
    log_info_ctx(key,
                 "store %s: photo %lld uploaded as image %lld (%s, %zu "
                 "bytes)",
                 st->conf.name, j->photo_id, rid, fname, len);
record:
    if (remote_map_put(iu->pg, st->conf.id, REMOTE_MAP_IMAGE, j->photo_id, rid,
                       j->sha256, err, sizeof(err)) != 0) {
        res = work_db_fail(iu->pg, e, err);
        goto out;
    }
    res = WORK_OK;
    if (old_id > 0 && old_id != rid)
        iu_drop_old(iu, st, j->remote_product_id, old_id, key);
out:
    json_decref(a.payload);
    store_result_clear(&r);
    free(buf);
    free(b64);
    return res;
}

/* Dead-letter @p m with @p reason (dlq.h waits for the acknowledgement). */
static int iu_dlq(struct imgup *iu, const rd_kafka_message_t *m,
                  const char *key, const char *store, long long photo_id,
                  const char *reason)
{
    char full[1200], errstr[512];
    struct storeset_entry *st;

    snprintf(full, sizeof(full), "store %s: product %s: %s",
             store ? store : "-", key ? key : "-", reason);
    if (dlq_send(iu->dlq, m, full, 30 * 1000 /* ms */, errstr,
                 sizeof(errstr)) != 0) {
        log_error("dlq: %s", errstr);
        return -1;
    }
    iu->n_dlq++;
    log_warn_ctx(key, "dead-lettered: %s", full);
    st = store ? storeset_find(iu->ss, store) : NULL;
    if (dlq_record_add(iu->pg, st ? st->conf.id : 0, "image-uploader",
                       photo_id > 0 ? REMOTE_MAP_IMAGE : NULL, photo_id, key,
                       full, errstr, sizeof(errstr)) != 0)
        log_warn("dlq_record: %s (status will not count it)", errstr);
    return 0;
}

/* Handle one message: WORK_OK when its offset may be committed. */
static enum work_res iu_handle(struct imgup *iu, const rd_kafka_message_t *m,
                               struct work_err *e)
{
    struct event ev;
    struct image_job j;
    struct storeset_entry *st;
    char err[512], keybuf[64];
    enum work_res res = WORK_OK;

    memset(&ev, 0, sizeof(ev));
    memset(&j, 0, sizeof(j));
    snprintf(keybuf, sizeof(keybuf), "%.*s",
             (int)(m->key_len < 63 ? m->key_len : 63),
             m->key ? (const char *)m->key : "");
    if (event_decode(&ev, m->payload, m->len, err, sizeof(err)) != 0) {
        work_fail(e, WORK_DLQ, 0, "decode: %s", err);
        return iu_dlq(iu, m, keybuf, NULL, 0, e->reason) == 0
                   ? WORK_OK
                   : work_fail(e, WORK_RETRY, 1, "dlq failed");
    }
    if (strcmp(ev.type, IMAGE_JOB_EVENT) != 0) {
        log_debug_ctx(ev.id, "type %s ignored", ev.type);
        goto out;
    }
    if (image_job_decode(ev.data, ev.key, ev.store, &j, err, sizeof(err)) !=
        0) {
        res = work_fail(e, WORK_DLQ, 0, "decode: %s", err);
        goto dlq;
    }
    if (time(NULL) - iu->stores_at > IU_STORES_TTL_S ||
        !storeset_find(iu->ss, j.store)) {
        if (storeset_refresh(iu->ss, iu->pg, iu->cfg.secret_key, err,
                             sizeof(err)) < 0) {
            res = work_db_fail(iu->pg, e, err);
            goto out;
        }
        iu->stores_at = time(NULL);
    }
    st = storeset_find(iu->ss, j.store);
    if (!st) {
        res = work_fail(e, WORK_DLQ, 0, "unknown store '%s'", j.store);
        goto dlq;
    }
    res = iu_upload(iu, st, &j, ev.key, e);
dlq:
    if (res == WORK_DLQ) {
        res = iu_dlq(iu, m, ev.key, ev.store, j.photo_id, e->reason) == 0
                  ? WORK_OK
                  : work_fail(e, WORK_RETRY, 1, "dlq failed");
    }
out:
    event_clear(&ev);
    return res;
}

/* consume.h handler: one message to the end, or why to retry. */
static enum consume_res iu_consume(void *ctx, const rd_kafka_message_t *m,
                                   char *reason, size_t reason_size)
{
    struct imgup *iu = ctx;
    struct work_err e;

    memset(&e, 0, sizeof(e));
    if (iu_handle(iu, m, &e) == WORK_OK)
        return CONSUME_DONE;
    snprintf(reason, reason_size, "%s", e.reason);
    return work_retry_verdict(&e);
}

int imgup_poll(struct imgup *iu)
{
    if (iu->fatal)
        return -1;
    if (consume_once(&iu->loop) < 0) {
        iu->fatal = 1;
        return -1;
    }
    return 0;
}

struct imgup *imgup_new(const struct imgup_cfg *c, const struct cfg *passthru,
                        char *errstr, size_t errstr_size)
{
    struct imgup *iu = calloc(1, sizeof(*iu));
    const char *topics[1] = {TOPICS_IMAGES};

    if (!iu) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    iu->cfg = *c;
    if (sodium_init() < 0) {
        snprintf(errstr, errstr_size, "libsodium init failed");
        goto fail;
    }
    iu->pg = db_connect(c->pg_dsn, "image-uploader", errstr, errstr_size);
    if (!iu->pg)
        goto fail;
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
    log_info("consuming %s as group %s; %zu store(s); max %lld bytes a photo",
             TOPICS_IMAGES, c->group_id, storeset_count(iu->ss), c->max_bytes);
    return iu;
fail:
    imgup_destroy(iu);
    return NULL;
}

int imgup_drain(struct imgup *iu)
{
    int rc = iu->fatal ? 1 : 0;

    kafka_consumer_close(iu->kc);
    log_info("stopped (exit %d): %llu jobs, %llu uploaded, %llu skipped, "
             "%llu found after a crash, %llu dead-lettered, %llu store calls",
             rc, (unsigned long long)iu->loop.n_msgs, iu->n_uploaded,
             iu->n_skipped, iu->n_found, iu->n_dlq, iu->n_calls);
    return rc;
}

void imgup_destroy(struct imgup *iu)
{
    if (!iu)
        return;
    kafka_consumer_destroy(iu->kc);
    dlq_destroy(iu->dlq);
    storeset_destroy(iu->ss);
    budget_destroy(iu->b);
    PQfinish(iu->pg);
    free(iu);
}
