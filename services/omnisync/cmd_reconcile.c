/*
 * cmd_reconcile — `omnisync reconcile STORE [--repair] [--json]
 * [--timeout SECONDS]`: compare what a store shows (quantity, price, old
 * price of every variant) with what the ledger says it should show, list
 * the drift, and with --repair emit the stock.available events that fix it
 * and wait until the store shows the ledger's values.
 *
 * The store is read page by page with its platform's products_page
 * (platform.h) through the metered client with budget class `catalog`;
 * the ledger side is stores_avail_sellable() (the availability the stock
 * events carry) with the remote ids of remote_map.  The drift itself is
 * computed by reconcile.c.
 */
#include "cli.h"
#include "cli_store.h"

#include "app/storegone.h"
#include "app/storeset.h"
#include "ledger/catalog.h"
#include "ledger/ledger.h"
#include "ledger/remote_map.h"
#include "ledger/stores.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/sig.h"
#include "store/budget.h"
#include "store/platform.h"
#include "store/reconcile.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECONCILE_MAX_PAGES 100000
#define RECONCILE_TIMEOUT_S 120   /* --repair: how long to wait */
#define RECONCILE_REEMIT_MS 30000 /* --repair: re-emit still drifting */
#define RECONCILE_CALL_TRIES 8    /* one page: transient retries */
/* A page waits for a token at most one window of the store's limit (and
 * a little more), so a window spent by others does not fail the run. */
#define RECONCILE_BUDGET_SLACK_MS 30000

struct rc_ctx {
    const char *name;
    int as_json;
    long timeout_s;
    PGconn *pg;
    struct cli_store st; /* conf, plat, sc, b, call (catalog class) */
    size_t republished;  /* --repair: products published again because
                            the store lost them (or some variants) */
};

/* One page of products, retried on 429/budget waits and transient errors.
 * Returns 0, or -1 after printing why. */
static int rc_page_get(struct rc_ctx *c, struct store_page *pg, long page,
                       struct store_products *out)
{
    long delay_ms = 500;
    enum outcome o;
    int tries;

    for (tries = 1;; tries++) {
        o = c->st.plat->products_page(&c->st.call, pg, out);
        if (o == OUTCOME_OK)
            return 0;
        if (sig_stop_requested() || o == OUTCOME_REJECTED ||
            tries >= RECONCILE_CALL_TRIES)
            return cli_err(-1, "reconcile: %s: product list page %ld: %s (%s)",
                           c->name, page, c->st.call.why, outcome_name(o));
        fprintf(stderr,
                "reconcile: %s: page %ld: %s, retrying (attempt %d of %d)\n",
                c->name, page, c->st.call.why, tries + 1, RECONCILE_CALL_TRIES);
        /* A 429 already paused the fleet in the budget: the next call
         * waits for it.  Transient errors back off here. */
        if (o == OUTCOME_RETRY) {
            sig_sleep_ms(delay_ms);
            delay_ms = delay_ms * 2 > 8000 ? 8000 : delay_ms * 2;
        }
    }
}

/* Append the variants of the products of @p page to @p out. */
static int rc_variants_add(const struct store_products *page,
                           struct store_variants *out)
{
    for (size_t i = 0; i < page->n; i++)
        for (size_t k = 0; k < page->v[i].variants.n; k++)
            if (store_variants_add(out, &page->v[i].variants.v[k]) < 0)
                return cli_err(-1, "reconcile: out of memory");
    return 0;
}

/* Every variant the store shows.  Returns 0 or -1 (printed). */
static int rc_store_read(struct rc_ctx *c, struct store_variants *out)
{
    struct store_products page;
    struct store_page pg;
    long n;

    memset(&page, 0, sizeof(page));
    memset(&pg, 0, sizeof(pg));
    for (n = 1; n <= RECONCILE_MAX_PAGES && !pg.done; n++) {
        if (rc_page_get(c, &pg, n, &page) < 0 ||
            rc_variants_add(&page, out) < 0) {
            store_products_clear(&page);
            return -1;
        }
        fprintf(stderr,
                "reconcile: %s: page %ld: %zu products, %zu variants so far\n",
                c->name, n, page.n, out->n);
        store_products_clear(&page);
    }
    if (pg.done)
        return 0;
    return cli_err(-1, "reconcile: %s: more than %d pages", c->name,
                   RECONCILE_MAX_PAGES);
}

/* stores_avail_sellable() callback: one ledger variant. */
static int rc_ledger_add(void *arg, const struct stores_avail *a, char *errstr,
                         size_t errstr_size)
{
    struct reconcile_lvar v;

    memset(&v, 0, sizeof(v));
    v.variant_id = a->variant_id;
    v.sku = (char *)a->sku;
    v.available =
        ledger_available_calc(a->on_hand, a->reserved, a->safety_stock);
    v.price = (char *)a->price;
    v.old_price = (char *)a->old_price;
    if (reconcile_lvars_add(arg, &v) < 0) {
        snprintf(errstr, errstr_size, "read availability: out of memory");
        return -1;
    }
    return 0;
}

/* Every variant the ledger says the store should show, with the remote
 * id recorded for it. */
static int rc_ledger_read(struct rc_ctx *c, struct reconcile_lvars *out)
{
    const struct stores_avail_each each = {rc_ledger_add, out};
    long long *local = NULL, *remote = NULL;
    char err[512];
    size_t i;
    int rc = -1;

    if (stores_avail_sellable(c->pg, c->st.conf.id, &each, err, sizeof(err)) <
        0)
        return cli_err(-1, "reconcile: %s", err);
    local = calloc(out->n + 1, sizeof(*local));
    remote = calloc(out->n + 1, sizeof(*remote));
    if (!local || !remote) {
        cli_err(-1, "reconcile: out of memory");
        goto out;
    }
    for (i = 0; i < out->n; i++)
        local[i] = out->v[i].variant_id;
    if (remote_map_remote_ids(c->pg, c->st.conf.id, REMOTE_MAP_VARIANT, local,
                              out->n, remote, err, sizeof(err)) != 0) {
        cli_err(-1, "reconcile: %s", err);
        goto out;
    }
    for (i = 0; i < out->n; i++)
        out->v[i].remote_id = remote[i];
    rc = 0;
out:
    free(local);
    free(remote);
    return rc;
}

/* Read both sides (the store first, then the ledger, so the ledger is the
 * newer of the two) and compare.  Returns 0 or -1 (printed). */
static int rc_round(struct rc_ctx *c, struct reconcile_report *rep)
{
    struct store_variants s;
    struct reconcile_lvars l;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    memset(&l, 0, sizeof(l));
    memset(rep, 0, sizeof(*rep));
    if (rc_store_read(c, &s) < 0 || rc_ledger_read(c, &l) < 0)
        goto out;
    if (reconcile_compare(&l, &s, rep) < 0) {
        cli_err(CLI_DEPENDENCY, "reconcile: out of memory");
        goto out;
    }
    rc = 0;
out:
    store_variants_clear(&s);
    reconcile_lvars_clear(&l);
    return rc;
}

static void rc_summary(const struct rc_ctx *c,
                       const struct reconcile_report *rep, FILE *fp)
{
    fprintf(fp,
            "store %s: %zu store variants, %zu ledger variants, %zu "
            "differ (%zu rows), %zu missing in store, %zu unknown in store\n",
            c->name, rep->n_store, rep->n_ledger, rep->n_drift_variants,
            rep->n_drift, rep->n_missing, rep->n_unknown);
}

static void rc_table_print(const struct reconcile_drift *d, size_t n)
{
    static const char *const hdr[] = {"SKU", "FIELD", "STORE", "LEDGER"};
    struct cli_table *t;
    const char *cells[4];
    size_t i;

    if (n == 0)
        return;
    t = cli_table_new(4, hdr);
    if (!t)
        return;
    for (i = 0; i < n; i++) {
        cells[0] = d[i].sku;
        cells[1] = d[i].field;
        cells[2] = d[i].store;
        cells[3] = d[i].ledger;
        if (cli_table_row(t, cells) < 0)
            break;
    }
    cli_table_print(t);
    cli_table_destroy(t);
}

static void rc_report_print(const struct rc_ctx *c,
                            const struct reconcile_report *rep)
{
    size_t i;

    rc_table_print(rep->drift, rep->n_drift);
    for (i = 0; i < rep->n_missing; i++)
        printf("missing in store: %s\n", rep->missing[i]);
    for (i = 0; i < rep->n_unknown; i++)
        printf("unknown in store: %s\n", rep->unknown[i]);
    rc_summary(c, rep, stdout);
}

/* Variants already emitted by --repair, with the time of the last emit. */
struct rc_emitted {
    long long *vid;
    long long *at_ms;
    size_t n, cap;
};

static long long *rc_emitted_find(struct rc_emitted *e, long long vid)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        if (e->vid[i] == vid)
            return &e->at_ms[i];
    return NULL;
}

static int rc_emitted_set(struct rc_emitted *e, long long vid, long long at)
{
    long long *slot = rc_emitted_find(e, vid), *nv, *na;

    if (slot) {
        *slot = at;
        return 0;
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;

        nv = realloc(e->vid, cap * sizeof(*nv));
        if (!nv)
            return -1;
        e->vid = nv;
        na = realloc(e->at_ms, cap * sizeof(*na));
        if (!na)
            return -1;
        e->at_ms = na;
        e->cap = cap;
    }
    e->vid[e->n] = vid;
    e->at_ms[e->n++] = at;
    return 0;
}

/* Emit stock.available for every repairable drifted variant of @p rep not
 * emitted in the last RECONCILE_REEMIT_MS, in one transaction.  Returns
 * the number of events, or -1 (printed). */
static long rc_emit(struct rc_ctx *c, const struct reconcile_report *rep,
                    struct rc_emitted *e)
{
    long long now = clock_mono_ms(), *at, last = -1;
    char err[512];
    long n = 0;
    size_t i;

    if (db_begin(c->pg, err, sizeof(err)) < 0)
        goto fail;
    for (i = 0; i < rep->n_drift; i++) {
        const struct reconcile_drift *d = &rep->drift[i];

        if (d->by_sku || d->variant_id == last)
            continue;
        last = d->variant_id;
        at = rc_emitted_find(e, d->variant_id);
        if (at && now - *at < RECONCILE_REEMIT_MS)
            continue;
        if (ledger_variant_available_emit(c->pg, c->st.conf.id, d->variant_id,
                                          err, sizeof(err)) < 0)
            goto fail;
        if (rc_emitted_set(e, d->variant_id, now) < 0) {
            snprintf(err, sizeof(err), "out of memory");
            goto fail;
        }
        n++;
    }
    if (db_commit(c->pg, err, sizeof(err)) < 0)
        goto fail;
    return n;
fail:
    db_rollback(c->pg);
    cli_err(CLI_DEPENDENCY, "reconcile: %s: emit: %s", c->name, err);
    return -1;
}

/* Rows of @p rep a stock event can fix (the variant is mapped), and the
 * variants missing in the store once their products were published again
 * (rc_gone). */
static size_t rc_repairable(const struct rc_ctx *c,
                            const struct reconcile_report *rep)
{
    size_t i, n = c->republished ? rep->n_missing : 0;

    for (i = 0; i < rep->n_drift; i++)
        if (!rep->drift[i].by_sku)
            n++;
    return n;
}

/*
 * --repair of what the store lost (products or variants deleted there
 * behind omnisync's back, storegone.h): their recorded hashes are reset
 * and one catalog.product event per product is queued, so
 * catalog-publisher creates them again and re-maps them.  Returns 0 or -1
 * (printed).
 */
static int rc_gone(struct rc_ctx *c)
{
    struct store_variants shown;
    struct storegone g;
    char err[512];
    size_t i;
    int rc = -1;

    memset(&shown, 0, sizeof(shown));
    memset(&g, 0, sizeof(g));
    if (storegone_read(c->st.plat, &c->st.call, &shown, err, sizeof(err)) !=
            0 ||
        storegone_mark(c->pg, c->st.conf.id, &shown, &g, err, sizeof(err)) !=
            0 ||
        db_begin(c->pg, err, sizeof(err)) != 0)
        goto out;
    for (i = 0; i < g.n; i++)
        if (catalog_emit(c->pg, g.pids[i], err, sizeof(err)) != 0) {
            db_rollback(c->pg);
            goto out;
        }
    if (db_commit(c->pg, err, sizeof(err)) != 0)
        goto out;
    c->republished = g.n;
    if (g.n)
        fprintf(stderr,
                "reconcile: %s: the store lost %zu product(s) and %zu "
                "variant(s): %zu catalog.product event(s) queued to create "
                "them again\n",
                c->name, g.products, g.variants, g.n);
    rc = 0;
out:
    if (rc != 0)
        cli_err(-1, "reconcile: %s: %s", c->name, err);
    store_variants_clear(&shown);
    storegone_clear(&g);
    return rc;
}

/*
 * --repair: emit for the drift of @p first, then re-read both sides until
 * no repairable drift is left or the timeout passes.  @p last receives the
 * last re-read (untouched when none was needed: *rounds stays 0).
 * Returns the number of events emitted, or -1.
 */
static long rc_repair(struct rc_ctx *c, const struct reconcile_report *first,
                      struct reconcile_report *last, int *rounds)
{
    const struct reconcile_report *cur = first;
    struct rc_emitted e;
    long long deadline = clock_mono_ms() + c->timeout_s * 1000;
    long total = 0, n, delay_ms = 500;

    memset(&e, 0, sizeof(e));
    *rounds = 0;
    for (;;) {
        if (rc_repairable(c, cur) == 0)
            break;
        n = rc_emit(c, cur, &e);
        if (n < 0) {
            total = -1;
            break;
        }
        total += n;
        if (n > 0)
            fprintf(stderr,
                    "reconcile: %s: emitted %ld stock.available events "
                    "(%ld in all)\n",
                    c->name, n, total);
        if (clock_mono_ms() >= deadline || sig_stop_requested())
            break;
        sig_sleep_ms(delay_ms);
        delay_ms = delay_ms * 2 > 4000 ? 4000 : delay_ms * 2;
        reconcile_report_clear(last);
        if (rc_round(c, last) < 0) {
            total = -1;
            break;
        }
        cur = last;
        (*rounds)++;
        fprintf(stderr,
                "reconcile: %s: repair check %d: %zu variants still differ "
                "(%zu rows)\n",
                c->name, *rounds, last->n_drift_variants, last->n_drift);
    }
    free(e.vid);
    free(e.at_ms);
    return total;
}

/* SKUs of drifted variants matched by SKU only: no remote_map row names
 * the store's variant, so stock-publisher cannot push to it. */
static json_t *rc_unrepairable_json(const struct reconcile_report *rep)
{
    json_t *arr = json_array();
    const char *last = NULL;
    size_t i;

    for (i = 0; arr && i < rep->n_drift; i++) {
        if (!rep->drift[i].by_sku ||
            (last && strcmp(last, rep->drift[i].sku) == 0))
            continue;
        last = rep->drift[i].sku;
        if (json_array_append_new(arr, json_string(last)) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

static void rc_unrepairable_print(const struct reconcile_report *rep)
{
    const char *last = NULL;
    size_t i;

    for (i = 0; i < rep->n_drift; i++) {
        if (!rep->drift[i].by_sku ||
            (last && strcmp(last, rep->drift[i].sku) == 0))
            continue;
        last = rep->drift[i].sku;
        printf("not repairable by stock events (matched by SKU only, the "
               "remote id map names another variant): %s\n",
               last);
    }
}

static int rc_setup(struct rc_ctx *c)
{
    c->pg = cli_pg();
    if (!c->pg)
        return CLI_DEPENDENCY;
    return cli_store_open(c->pg, "reconcile", c->name,
                          RECONCILE_BUDGET_SLACK_MS, &c->st);
}

static void rc_help(void)
{
    printf("usage: omnisync reconcile STORE [--repair] [--json] "
           "[--timeout SECONDS]\n"
           "  Compare the store's variants (quantity, price, old price) "
           "with the ledger's\n"
           "  available stock and the store's price list; list every "
           "drift, store variants\n"
           "  the ledger lacks and ledger variants missing in the store. "
           "--repair emits\n"
           "  stock.available for each drifted variant and waits (up to "
           "--timeout, 120 s)\n"
           "  until the store shows the ledger's values (stock-publisher "
           "must run); products\n"
           "  and variants deleted in the store are queued to be created "
           "again\n"
           "  (catalog-publisher must run).\n"
           "  Exit 0: store and ledger agree; 1: drift left (or a "
           "failure); 2: usage.\n");
}

/* STORE [--repair] [--json] [--timeout SECONDS] into @p c. */
static int rc_args(struct rc_ctx *c, int argc, char **argv, int *repair)
{
    const char *pos[1], *timeout = NULL;
    int npos = 0, rc;
    long long to;
    const struct cli_opt opts[] = {
        {"--repair", NULL, repair},
        {"--json", NULL, &c->as_json},
        {"--timeout", &timeout, NULL},
        {NULL, NULL, NULL},
    };

    rc = cli_args_parse("reconcile", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "usage: omnisync reconcile STORE [--repair] "
                                  "[--json] [--timeout SECONDS]");
    c->name = pos[0];
    c->timeout_s = RECONCILE_TIMEOUT_S;
    if (timeout) {
        if (cli_qty_parse(timeout, 1, &to) < 0 || to > 86400)
            return cli_err(CLI_USAGE,
                           "reconcile: --timeout: expected 0..86400 seconds, "
                           "got '%s'",
                           timeout);
        c->timeout_s = (long)to;
    }
    return CLI_OK;
}

/* The first report as JSON, with the repair's outcome when one ran. */
static int rc_json_print(const struct rc_ctx *c,
                         const struct reconcile_report *first,
                         const struct reconcile_report *final, int repair,
                         long emitted)
{
    json_t *root = reconcile_report_json(c->name, first), *rj;

    if (root && repair) {
        rj = json_pack(
            "{s:I, s:o, s:o, s:o, s:o}", "events", (json_int_t)emitted, "left",
            reconcile_drift_json(final->drift, final->n_drift), "unrepairable",
            rc_unrepairable_json(final), "missing_in_store",
            json_integer((json_int_t) final->n_missing), "unknown_in_store",
            json_integer((json_int_t) final->n_unknown));
        if (!rj || json_object_set_new(root, "repair", rj) < 0) {
            json_decref(root);
            root = NULL;
        }
    }
    return cli_json_print(root);
}

/* What the repair left, as text. */
static void rc_repair_print(const struct rc_ctx *c,
                            const struct reconcile_report *final, long emitted,
                            long long t0)
{
    rc_unrepairable_print(final);
    if (emitted > 0) {
        if (final->n_drift) {
            printf("still differing after %lld s:\n",
                   (clock_mono_ms() - t0) / 1000);
            rc_table_print(final->drift, final->n_drift);
        }
        printf("repair: %ld events emitted; %zu variants left to repair\n",
               emitted, final->n_drift_variants);
    }
    rc_summary(c, final, stderr);
}

/* Record the comparison as the store's last verification (`omnisync
 * status` shows it); a failure to record is reported, not fatal. */
static void rc_verified_record(struct rc_ctx *c,
                               const struct reconcile_report *rep)
{
    char detail[256], err[512];

    snprintf(detail, sizeof(detail),
             "%zu store variants, %zu compared: %zu drifted, %zu missing, "
             "%zu unknown",
             rep->n_store, rep->n_ledger, rep->n_drift_variants, rep->n_missing,
             rep->n_unknown);
    if (stores_verified_set(c->pg, c->st.conf.id, "reconcile",
                            reconcile_report_clean(rep), detail, err,
                            sizeof(err)) < 0)
        cli_err(CLI_FAIL, "reconcile: %s: %s", c->name, err);
}

/* Compare, repair when asked, print.  Returns a CLI_* code. */
static int rc_run(struct rc_ctx *c, int repair, long long t0)
{
    struct reconcile_report rep, last;
    const struct reconcile_report *final;
    long emitted = 0;
    int rounds = 0, rc = CLI_DEPENDENCY;

    memset(&rep, 0, sizeof(rep));
    memset(&last, 0, sizeof(last));
    if (rc_round(c, &rep) < 0)
        goto out;
    if (!c->as_json)
        rc_report_print(c, &rep);
    if (repair && rep.n_missing > 0 && rc_gone(c) != 0)
        goto out;
    if (repair) {
        emitted = rc_repair(c, &rep, &last, &rounds);
        if (emitted < 0)
            goto out;
    }
    final = rounds ? &last : &rep;
    if (c->as_json) {
        if (rc_json_print(c, &rep, final, repair, emitted) != CLI_OK)
            goto out;
        if (repair)
            rc_summary(c, final, stderr);
    } else if (repair) {
        rc_repair_print(c, final, emitted, t0);
    }
    rc = reconcile_report_clean(final) ? CLI_OK : CLI_NEGATIVE;
    rc_verified_record(c, final);
out:
    reconcile_report_clear(&rep);
    reconcile_report_clear(&last);
    return rc;
}

int cmd_reconcile(int argc, char **argv)
{
    struct rc_ctx c;
    long long t0 = clock_mono_ms();
    int repair = 0, rc;

    memset(&c, 0, sizeof(c));
    if (argc > 1 && cli_is_help(argv[1])) {
        rc_help();
        return CLI_OK;
    }
    rc = rc_args(&c, argc, argv, &repair);
    if (rc != CLI_OK)
        return rc;
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = rc_setup(&c);
    if (rc == CLI_OK)
        rc = rc_run(&c, repair, t0);
    cli_store_close(&c.st);
    PQfinish(c.pg);
    curl_global_cleanup();
    return rc;
}
