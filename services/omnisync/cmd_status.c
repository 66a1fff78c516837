/*
 * cmd_status — `omnisync status [STORE] [--json] [--watch [--interval
 * S]]`: what the ledger and the outbox hold, and per store one honest
 * state (docs/status.md):
 *
 *   in sync      nothing waits for the store anywhere: no unsent outbox row
 *                of it, no lag in the publishers' consumer groups, every
 *                product, variant and photo its price list publishes
 *                accepted by the store with its current payload;
 *   catching up  something waits (how long the oldest has waited is the
 *                store's "behind");
 *   paused       the store answered 429/503 and the fleet waits until the
 *                time the budget in Redis says;
 *   failing      messages of the store were dead-lettered, or the last
 *                reconcile found the store differing from the ledger.
 *
 * "In sync" is the ledger's and the topics' word only: each store also
 * shows when it was last verified against what it really shows
 * (`omnisync reconcile`, migration 0006) or "unverified since".
 *
 * The ledger is read in one REPEATABLE READ snapshot, each number from its
 * table's owner; the budget (used by class, pause) from Redis
 * (store/budget); the consumer groups' lag from the broker (lib/kgroups,
 * as `omnisync lag`).  Exit 0 when every store is in sync, 1 when one is
 * not, 2 on usage, 3 when Postgres, Redis or Kafka cannot be asked.
 */
#include "cli.h"
#include "events/outbox.h"
#include "events/topics.h"
#include "ledger/catalog.h"
#include "ledger/dlq_record.h"
#include "ledger/not_for_sale.h"
#include "ledger/ledger.h"
#include "ledger/remote_map.h"
#include "ledger/stores.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/kgroups.h"
#include "lib/sig.h"
#include "store/budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_INTERVAL_S 5           /* --watch default */
#define STATUS_REDIS_TIMEOUT_MS 2000L /* connect and each command */
#define STATUS_N(a) (sizeof(a) / sizeof((a)[0]))

#define STATUS_SYNOPSIS "status [STORE] [--json] [--watch [--interval S]]\n"
#define STATUS_USAGE                                                           \
    STATUS_SYNOPSIS                                                            \
    "  Counts of locations, price lists, products, variants, stores and\n"     \
    "  stock movements; outbox rows pending (the oldest one's age) and\n"      \
    "  sent.  Per store (or only STORE): its state - in sync, catching\n"      \
    "  up, paused (until when, 429/503) or failing (why) -, how far\n"         \
    "  behind the ledger it is (the age of the oldest change it has not\n"     \
    "  accepted: outbox, the publishers' consumer lag, the ledger's\n"         \
    "  record of what it accepted), when it was last verified (omnisync\n"     \
    "  reconcile) or since when it is unverified, products/variants/\n"        \
    "  photos synced, dead letters, the API budget used this window by\n"      \
    "  class, an ETA.  Needs Postgres, Redis (OMNISYNC_REDIS) and the\n"       \
    "  broker (OMNISYNC_KAFKA).  --watch: redraw every --interval seconds\n"   \
    "  (default 5) until SIGINT/SIGTERM.\n"                                    \
    "  Exit 0: every store in sync; 1: some store is not; 2: usage, unknown\n" \
    "  store; 3: Postgres, Redis or Kafka unreachable.\n"

/* The consumer groups that carry changes to the stores, with the topic
 * each consumes (a group that never committed lags by all of it). */
static const struct kgroups_want status_groups[] = {
    {"omnisync-catalog-publisher", TOPICS_CATALOG},
    {"omnisync-stock-publisher", TOPICS_STOCK},
    {"omnisync-image-uploader", TOPICS_IMAGES},
};

enum status_state {
    STATUS_IN_SYNC,
    STATUS_CATCHING_UP,
    STATUS_PAUSED,
    STATUS_FAILING
};

static const char *const status_state_keys[] = {"in_sync", "catching_up",
                                                "paused", "failing"};
static const char *const status_state_words[] = {"in sync", "catching up",
                                                 "paused", "failing"};

/* One store: what each owner says, then the judgement. */
struct status_store {
    const struct store_conf *conf; /* borrowed from struct status */
    long long products, products_synced, variants, variants_synced;
    long long photos, photos_synced, image_jobs;
    long long not_for_sale;      /* products skipped: not for sale there */
    struct outbox_counts outbox; /* its unsent rows */
    struct dlq_record_summary dlq;
    struct stores_verified ver;
    struct budget_state budget;
    enum status_state state;
    char reason[640];
    long long topic_lag; /* sum over the publishers' groups */
    double behind_s;     /* the oldest waiting change's age; < 0: none
                            waits, or its age is unknown */
};

/* Every counter of the ledger part, in the order of status_keys. */
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
    size_t nconfs;
    struct status_store *stores; /* every store, or the one asked */
    size_t nstores;
    struct kgroups_report topics;
    long long now_s; /* wall clock of the look */
};

struct status_opts {
    const char *store; /* (may be NULL) */
    int as_json, watch;
    long long interval_s;
};

/* ---- formatting ---------------------------------------------------------- */

/* Seconds since the epoch as "2026-12-02T12:00:00Z". */
static void status_time_fmt(long long s, char *out, size_t size)
{
    if (clock_rfc3339_format((int64_t)s * 1000000, 0,
                             CLOCK_FMT_SEC | CLOCK_FMT_Z, out, size) < 0)
        snprintf(out, size, "?");
}

static json_t *status_time_json(long long s)
{
    char t[CLOCK_RFC3339_SIZE];

    status_time_fmt(s, t, sizeof(t));
    return json_string(t);
}

/* ---- the ledger ---------------------------------------------------------- */

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

/* One store's part of the ledger: what its price list publishes (catalog),
 * what the store accepted (remote_map), its unsent outbox rows, its dead
 * letters, its last verification. */
static int status_store_read(PGconn *pg, const struct store_conf *conf,
                             struct status_store *st, char *err,
                             size_t err_size)
{
    struct catalog_publishable pub;
    struct remote_map_progress prog;

    st->conf = conf;
    if (catalog_publishable_count(pg, conf->price_list_id, &pub, err,
                                  err_size) < 0 ||
        remote_map_progress(pg, conf->id, &prog, err, err_size) < 0 ||
        outbox_store_backlog(pg, conf->name, &st->outbox, err, err_size) < 0 ||
        dlq_record_summary(pg, conf->id, &st->dlq, err, err_size) < 0 ||
        stores_verified_get(pg, conf->id, &st->ver, err, err_size) < 0 ||
        not_for_sale_count(pg, conf->id, &st->not_for_sale, err, err_size) < 0)
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
 * (REPEATABLE READ).  @returns 0; 1 when @p only names no store; -1 with
 * err. */
static int status_read(PGconn *pg, struct status *s, const char *only,
                       char *err, size_t err_size)
{
    size_t i;

    if (db_cmd(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL,
               "begin", err, err_size) < 0)
        return -1;
    if (status_counts_read(pg, s, err, err_size) < 0 ||
        stores_settings_load_all(pg, &s->confs, &s->nconfs, err, err_size) < 0)
        goto fail;
    s->stores = calloc(s->nconfs + 1, sizeof(*s->stores));
    if (!s->stores) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    for (i = 0; i < s->nconfs; i++) {
        if (only && strcmp(only, s->confs[i].name) != 0)
            continue;
        if (status_store_read(pg, &s->confs[i], &s->stores[s->nstores], err,
                              err_size) < 0)
            goto fail;
        s->nstores++;
    }
    db_rollback(pg); /* read only: nothing to keep */
    return only && s->nstores == 0 ? 1 : 0;
fail:
    db_rollback(pg);
    return -1;
}

static void status_free(struct status *s)
{
    stores_free_all(s->confs, s->nconfs);
    free(s->stores);
    kgroups_report_clear(&s->topics);
    memset(s, 0, sizeof(*s));
}

/* ---- Redis and Kafka ----------------------------------------------------- */

static int status_budgets_read(struct status *s, char *err, size_t err_size)
{
    const char *addr = cli_config()->redis_addr;
    char why[256];

    for (size_t i = 0; i < s->nstores; i++) {
        struct budget_state *b = &s->stores[i].budget;

        if (budget_state_read(addr, s->stores[i].conf->name,
                              STATUS_REDIS_TIMEOUT_MS, b, why,
                              sizeof(why)) < 0) {
            snprintf(err, err_size,
                     "cannot read the API budget in Redis at %s: %s", addr,
                     why);
            return -1;
        }
        if (b->limit <= 0) /* no window yet: the store's own limit */
            b->limit = s->stores[i].conf->api_limit;
    }
    return 0;
}

static int status_topics_read(rd_kafka_t *rk, struct status *s, char *err,
                              size_t err_size)
{
    struct kgroups_query q = {
        .bootstrap = cli_config()->kafka_bootstrap,
        .want = status_groups,
        .nwant = STATUS_N(status_groups),
    };

    return kgroups_collect(rk, &q, &s->topics, err, err_size);
}

/* The lag of group @p g, and the age of its oldest waiting message
 * (*age < 0: none, or unknown). */
static long long status_group_lag(const struct kgroups_group *g, double *age)
{
    long long lag = 0;

    *age = -1;
    for (size_t i = 0; i < g->nrows; i++) {
        if (g->rows[i].lag > 0)
            lag += g->rows[i].lag;
        if (g->rows[i].lag > 0 && g->rows[i].age_s > *age)
            *age = g->rows[i].age_s;
    }
    return lag;
}

/* ---- the judgement ------------------------------------------------------- */

static void status_behind(struct status_store *st,
                          const struct kgroups_report *topics)
{
    double age;

    st->behind_s =
        st->outbox.has_oldest ? (double)st->outbox.oldest_pending_age_s : -1;
    st->topic_lag = 0;
    for (size_t g = 0; g < topics->ngroups; g++) {
        st->topic_lag += status_group_lag(&topics->groups[g], &age);
        if (age > st->behind_s)
            st->behind_s = age;
    }
}

/* What waits for the store, as a phrase ("" when nothing). */
static void status_waiting(const struct status_store *st, char *out,
                           size_t size)
{
    size_t n = 0;

    out[0] = '\0';
#define STATUS_ADD(...)                                                        \
    if (n < size)                                                              \
    n += (size_t)snprintf(out + n, size - n, __VA_ARGS__)
    if (st->outbox.pending > 0)
        STATUS_ADD("%s%lld outbox rows", n ? ", " : "", st->outbox.pending);
    if (st->topic_lag > 0)
        STATUS_ADD("%s%lld messages in the publishers' topics", n ? ", " : "",
                   st->topic_lag);
    if (st->products > st->products_synced)
        STATUS_ADD("%s%lld products", n ? ", " : "",
                   st->products - st->products_synced);
    if (st->variants > st->variants_synced)
        STATUS_ADD("%s%lld variants", n ? ", " : "",
                   st->variants - st->variants_synced);
    if (st->image_jobs > 0)
        STATUS_ADD("%s%lld photos", n ? ", " : "", st->image_jobs);
#undef STATUS_ADD
}

static void status_judge(struct status_store *st,
                         const struct kgroups_report *topics)
{
    char t[CLOCK_RFC3339_SIZE], waiting[320], age[48];

    status_behind(st, topics);
    status_waiting(st, waiting, sizeof(waiting));
    if (st->dlq.count > 0) {
        st->state = STATUS_FAILING;
        status_time_fmt(st->dlq.newest, t, sizeof(t));
        snprintf(st->reason, sizeof(st->reason),
                 "%lld dead letters; the newest (%s, %s): %s", st->dlq.count,
                 st->dlq.service, t, st->dlq.reason);
    } else if (st->ver.known && !st->ver.ok) {
        st->state = STATUS_FAILING;
        status_time_fmt(st->ver.at, t, sizeof(t));
        snprintf(st->reason, sizeof(st->reason),
                 "%s at %s found the store differing: %s", st->ver.by, t,
                 st->ver.detail);
    } else if (st->budget.pause_until_ms > 0) {
        st->state = STATUS_PAUSED;
        status_time_fmt(st->budget.pause_until_ms / 1000, t, sizeof(t));
        snprintf(st->reason, sizeof(st->reason),
                 "until %s (the store answered %ld)", t,
                 st->budget.pause_status);
    } else if (waiting[0]) {
        st->state = STATUS_CATCHING_UP;
        kgroups_age_fmt(st->behind_s, age, sizeof(age));
        snprintf(st->reason, sizeof(st->reason), "%s behind: %s waiting", age,
                 waiting);
    } else {
        st->state = STATUS_IN_SYNC;
        st->reason[0] = '\0';
    }
}

/* ---- output: JSON -------------------------------------------------------- */

static json_t *status_pair(long long synced, long long total)
{
    return json_pack("{s:I,s:I}", "synced", (json_int_t)synced, "total",
                     (json_int_t)total);
}

/* ETA in seconds: the calls still needed (a product call per product not
 * synced, one upload per queued photo) at the store's limit per window;
 * -1 when unknown. */
static long long status_eta(const struct status_store *st)
{
    long long left = st->products - st->products_synced + st->image_jobs;
    long long limit = st->conf->api_limit, window = st->conf->api_window;

    if (left <= 0)
        return 0;
    if (limit <= 0 || window <= 0)
        return -1;
    return (left * window + limit - 1) / limit;
}

static long long status_ms_to_s(long long until_ms, long long now_ms)
{
    return until_ms > now_ms ? (until_ms - now_ms + 999) / 1000 : 0;
}

static json_t *status_budget_json(const struct budget_state *b)
{
    json_t *by = json_object();

    for (int c = 0; by && c < BUDGET_CLASS_COUNT; c++)
        json_object_set_new(by, budget_class_name((enum budget_class)c),
                            json_integer(b->used_by[c]));
    return json_pack(
        "{s:I,s:I,s:o,s:I,s:I}", "used", (json_int_t)b->used, "limit",
        (json_int_t)b->limit, "by_class", by ? by : json_object(),
        "resets_in_s", (json_int_t)status_ms_to_s(b->window_end_ms, b->now_ms),
        "paused_s", (json_int_t)status_ms_to_s(b->pause_until_ms, b->now_ms));
}

static json_t *status_verified_json(const struct stores_verified *v)
{
    if (!v->known)
        return json_pack("{s:n,s:n,s:n,s:n,s:o}", "at", "by", "ok", "detail",
                         "unverified_since", status_time_json(v->created_at));
    return json_pack("{s:o,s:s,s:b,s:s,s:n}", "at", status_time_json(v->at),
                     "by", v->by, "ok", v->ok, "detail", v->detail,
                     "unverified_since");
}

static json_t *status_behind_json(const struct status_store *st)
{
    return json_pack(
        "{s:o,s:I,s:o,s:I,s:I,s:I,s:I}", "age_s",
        st->behind_s >= 0 ? json_real(st->behind_s) : json_null(), "outbox",
        (json_int_t)st->outbox.pending, "outbox_oldest_age_s",
        st->outbox.has_oldest ? json_integer(st->outbox.oldest_pending_age_s)
                              : json_null(),
        "topic_lag", (json_int_t)st->topic_lag, "products",
        (json_int_t)(st->products - st->products_synced), "variants",
        (json_int_t)(st->variants - st->variants_synced), "photos",
        (json_int_t)st->image_jobs);
}

static json_t *status_dlq_json(const struct dlq_record_summary *d)
{
    if (d->count == 0)
        return json_null();
    return json_pack("{s:o,s:s,s:s}", "at", status_time_json(d->newest),
                     "service", d->service, "reason", d->reason);
}

static json_t *status_store_json(const struct status_store *st)
{
    long long eta = status_eta(st);
    const struct budget_state *b = &st->budget;

    return json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:I,s:I},s:I,s:I,s:o,s:o,"
        "s:o}",
        "store", st->conf->name, "state", status_state_keys[st->state],
        "reason", st->reason[0] ? json_string(st->reason) : json_null(),
        "behind", status_behind_json(st), "verified",
        status_verified_json(&st->ver), "paused",
        b->pause_until_ms > 0
            ? json_pack("{s:o,s:i}", "until",
                        status_time_json(b->pause_until_ms / 1000), "status",
                        (int)b->pause_status)
            : json_null(),
        "products", status_pair(st->products_synced, st->products), "variants",
        status_pair(st->variants_synced, st->variants), "photos",
        status_pair(st->photos_synced, st->photos), "queued", "outbox",
        (json_int_t)st->outbox.pending, "image_jobs",
        (json_int_t)st->image_jobs, "failed", (json_int_t)st->dlq.count,
        "not_for_sale", (json_int_t)st->not_for_sale, "dead_letter",
        status_dlq_json(&st->dlq), "budget", status_budget_json(b), "eta_s",
        eta >= 0 ? json_integer(eta) : json_null());
}

static json_t *status_topics_json(const struct kgroups_report *rep)
{
    json_t *arr = json_array();
    double age;

    for (size_t g = 0; arr && g < rep->ngroups; g++) {
        const struct kgroups_group *gr = &rep->groups[g];
        long long lag = status_group_lag(gr, &age);

        json_array_append_new(
            arr,
            json_pack("{s:s,s:s,s:i,s:I,s:o}", "group", gr->id, "state",
                      gr->state, "members", gr->members, "lag", (json_int_t)lag,
                      "oldest_age_s", age >= 0 ? json_real(age) : json_null()));
    }
    return arr;
}

static json_t *status_json(const struct status *s, int ok)
{
    json_t *root = json_object(), *outbox = json_object(), *arr = json_array();
    json_t *target;
    int i;

    for (i = 0; root && outbox && i < STATUS_NKEYS; i++) {
        target = i >= STATUS_FIRST_OUTBOX ? outbox : root;
        json_object_set_new(target, status_keys[i],
                            i == STATUS_OLDEST && !s->has_oldest
                                ? json_null()
                                : json_integer(s->v[i]));
    }
    for (size_t r = 0; arr && r < s->nstores; r++)
        json_array_append_new(arr, status_store_json(&s->stores[r]));
    json_object_set_new(root, "outbox", outbox);
    json_object_set_new(root, "topics", status_topics_json(&s->topics));
    json_object_set_new(root, "store_sync", arr);
    json_object_set_new(root, "ok", json_boolean(ok));
    return root;
}

/* ---- output: text -------------------------------------------------------- */

static void status_verified_print(const struct status_store *st)
{
    const struct stores_verified *v = &st->ver;
    char t[CLOCK_RFC3339_SIZE];

    if (!v->known) {
        status_time_fmt(v->created_at, t, sizeof(t));
        printf("  %-22s never: unverified since %s (store added); "
               "omnisync reconcile %s checks it\n",
               "verified", t, st->conf->name);
        return;
    }
    status_time_fmt(v->at, t, sizeof(t));
    printf("  %-22s %s by %s: %s (%s)\n", "verified", t, v->by,
           v->ok ? "the store agreed" : "DIFFERING", v->detail);
}

static void status_topics_print(const struct kgroups_report *rep)
{
    char age[48];
    double a;

    for (size_t g = 0; g < rep->ngroups; g++) {
        long long lag = status_group_lag(&rep->groups[g], &a);

        kgroups_age_fmt(a, age, sizeof(age));
        printf("  %-22s lag %lld, oldest waiting %s\n", rep->groups[g].id, lag,
               age);
    }
}

static void status_budget_print(const struct budget_state *b)
{
    printf("  %-22s %lld/%lld (", "budget used", b->used, b->limit);
    for (int c = 0; c < BUDGET_CLASS_COUNT; c++)
        printf("%s%s %lld", c ? ", " : "",
               budget_class_name((enum budget_class)c), b->used_by[c]);
    printf("; window resets in %lld s)\n",
           status_ms_to_s(b->window_end_ms, b->now_ms));
}

static void status_store_print(const struct status_store *st)
{
    char age[48];
    long long eta = status_eta(st);

    printf("store %s: %s%s%s\n", st->conf->name, status_state_words[st->state],
           st->reason[0] ? ": " : "", st->reason);
    if (st->state == STATUS_IN_SYNC)
        printf("  %-22s %s\n", "note",
               st->ver.known && st->ver.ok
                   ? "in sync per the ledger and the topics; see verified"
                   : "in sync per the ledger and the topics only");
    status_verified_print(st);
    kgroups_age_fmt(st->behind_s, age, sizeof(age));
    printf("  %-22s %s\n", "behind", age);
    printf("  %-22s %lld/%lld\n", "products synced", st->products_synced,
           st->products);
    printf("  %-22s %lld/%lld\n", "variants synced", st->variants_synced,
           st->variants);
    printf("  %-22s %lld/%lld\n", "photos synced", st->photos_synced,
           st->photos);
    printf("  %-22s %lld outbox, %lld image jobs\n", "queued",
           st->outbox.pending, st->image_jobs);
    printf("  %-22s %lld\n", "failed (DLQ)", st->dlq.count);
    printf("  %-22s %lld\n", "not for sale", st->not_for_sale);
    status_budget_print(&st->budget);
    if (eta >= 0)
        printf("  %-22s %lld s\n", "eta", eta);
    else
        printf("  %-22s -\n", "eta");
}

static void status_print(const struct status *s)
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
    printf("topics:\n");
    status_topics_print(&s->topics);
    for (size_t r = 0; r < s->nstores; r++)
        status_store_print(&s->stores[r]);
}

/* ---- one look ------------------------------------------------------------ */

/* Read everything and judge.  @returns CLI_OK, or the exit code after
 * printing why. */
static int status_collect(PGconn *pg, rd_kafka_t *rk,
                          const struct status_opts *o, struct status *s)
{
    char err[1024];
    int r;

    r = status_read(pg, s, o->store, err, sizeof(err));
    if (r < 0)
        return cli_err(CLI_DEPENDENCY, "status: ledger: %s", err);
    if (r == 1)
        return cli_err(CLI_USAGE, "status: unknown store '%s'", o->store);
    if (s->nstores && (!cli_config()->redis_addr || !*cli_config()->redis_addr))
        return cli_err(CLI_USAGE,
                       "status: redis.addr (OMNISYNC_REDIS) is not set");
    if (status_budgets_read(s, err, sizeof(err)) < 0)
        return cli_err(CLI_DEPENDENCY, "status: %s", err);
    if (status_topics_read(rk, s, err, sizeof(err)) < 0)
        return cli_err(CLI_DEPENDENCY, "status: kafka: %s", err);
    for (size_t i = 0; i < s->nstores; i++)
        status_judge(&s->stores[i], &s->topics);
    return CLI_OK;
}

static void status_watch_header(const struct status *s, int ok)
{
    char t[CLOCK_RFC3339_SIZE];

    if (isatty(STDOUT_FILENO))
        fputs("\033[H\033[2J", stdout); /* redraw in place */
    status_time_fmt(s->now_s, t, sizeof(t));
    printf("%s  %zu stores: %s\n\n", t, s->nstores,
           ok ? "all in sync" : "NOT ALL IN SYNC");
}

static int status_once(PGconn *pg, rd_kafka_t *rk, const struct status_opts *o)
{
    struct status s;
    json_t *root;
    int rc, ok = 1;

    memset(&s, 0, sizeof(s));
    s.now_s = clock_wall_ms() / 1000;
    rc = status_collect(pg, rk, o, &s);
    if (rc != CLI_OK)
        goto out;
    for (size_t i = 0; i < s.nstores; i++)
        if (s.stores[i].state != STATUS_IN_SYNC)
            ok = 0;
    rc = ok ? CLI_OK : CLI_NEGATIVE;
    if (o->as_json) {
        root = status_json(&s, ok);
        if (!root || json_dumpf(root, stdout,
                                (o->watch ? JSON_COMPACT : JSON_INDENT(2)) |
                                    JSON_PRESERVE_ORDER) < 0)
            rc = cli_err(CLI_FAIL, "status: cannot print JSON");
        json_decref(root);
        fputc('\n', stdout);
        goto out;
    }
    if (o->watch)
        status_watch_header(&s, ok);
    status_print(&s);
out:
    fflush(stdout);
    status_free(&s);
    return rc;
}

/* ---- the command --------------------------------------------------------- */

static int status_opts_parse(int argc, char **argv, struct status_opts *o)
{
    const char *interval = NULL;
    const struct cli_opt opts[] = {
        {"--json", NULL, &o->as_json},
        {"--watch", NULL, &o->watch},
        {"--interval", &interval, NULL},
        {NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos = 0, rc;

    rc = cli_args_parse("status", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    o->store = npos ? pos[0] : NULL;
    if (interval && (cli_qty_parse(interval, 0, &o->interval_s) < 0 ||
                     o->interval_s < 1 || o->interval_s > 3600))
        return cli_err(CLI_USAGE,
                       "status: --interval: expected 1..3600 seconds, got "
                       "'%s'",
                       interval);
    if (interval && !o->watch)
        return cli_err(CLI_USAGE, "status: --interval goes with --watch");
    if (!cli_config()->kafka_bootstrap || !*cli_config()->kafka_bootstrap)
        return cli_err(CLI_USAGE,
                       "status: kafka.bootstrap (OMNISYNC_KAFKA) is not set");
    return CLI_OK;
}

/**
 * @brief `omnisync status [STORE] [--json] [--watch [--interval S]]`
 *        (docs/cli.md "status", docs/status.md).
 * @returns CLI_OK (every store in sync), CLI_NEGATIVE (one is not),
 *          CLI_USAGE or CLI_DEPENDENCY.
 */
int cmd_status(int argc, char **argv)
{
    struct status_opts o;
    char err[512];
    rd_kafka_t *rk = NULL;
    PGconn *pg = NULL;
    int rc, i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (cli_is_help(argv[i])) {
            printf("usage: omnisync " STATUS_USAGE);
            return CLI_OK;
        }
    memset(&o, 0, sizeof(o));
    o.interval_s = STATUS_INTERVAL_S;
    rc = status_opts_parse(argc, argv, &o);
    if (rc != CLI_OK) {
        if (rc == CLI_USAGE)
            fputs("usage: omnisync " STATUS_SYNOPSIS, stderr);
        return rc;
    }
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rk = kgroups_client_new(cli_config()->kafka_bootstrap, err, sizeof(err));
    if (!rk) {
        rc = cli_err(CLI_DEPENDENCY, "status: %s", err);
        goto out;
    }
    if (o.watch)
        sig_install();
    for (;;) {
        rc = status_once(pg, rk, &o);
        if (!o.watch || rc == CLI_USAGE ||
            sig_sleep_ms((long)o.interval_s * 1000) < 0)
            break;
        if (!o.as_json && !isatty(STDOUT_FILENO))
            putchar('\n');
    }
out:
    if (rk)
        rd_kafka_destroy(rk);
    PQfinish(pg);
    return rc;
}
