/*
 * cmd_reconcile — `omnisync reconcile STORE [--repair] [--json]
 * [--timeout SECONDS]`: compare what a store shows (quantity, price, old
 * price of every variant) with what the ledger says it should show, list
 * the drift, and with --repair emit the stock.available events that fix it
 * and wait until the store shows the ledger's values.
 *
 * The store is read with the product list (STORE_OP_PRODUCTS_LIST, 250 a
 * page, pages 1..n until a short page) through store_call() with budget
 * class `catalog`; the ledger side uses the formula and the SQL shape of
 * ledger.c (sum over the store's source locations of on hand and reserved,
 * minus the safety stock, never below 0: ledger_available_calc()).  The
 * drift itself is computed by reconcile.c.
 */
#include "cli.h"

#include "store/budget.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "ledger/ledger.h"
#include "store/reconcile.h"
#include "lib/sig.h"
#include "store/store_client.h"
#include "app/storeset.h"
#include "ledger/stores.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECONCILE_PER_PAGE 250
#define RECONCILE_MAX_PAGES 100000
#define RECONCILE_TIMEOUT_S 120         /* --repair: how long to wait */
#define RECONCILE_REEMIT_MS 30000       /* --repair: re-emit still drifting */
#define RECONCILE_CALL_TRIES 8          /* one page: transient retries */
#define RECONCILE_BUDGET_WAIT_MS 330000 /* > one inSales window */

/* Every variant the store should sell: non-archived, of a non-archived
 * product, priced in the store's price list; the columns of ledger.c's
 * LEDGER_SQL_ROWS plus the variant's remote id. */
#define RECONCILE_SQL_LEDGER                                                   \
    "SELECT v.id, v.sku, s.safety_stock,"                                      \
    " COALESCE(SUM(l.on_hand), 0), COALESCE(SUM(l.reserved), 0),"              \
    " p.price::text, p.old_price::text, COALESCE(m.remote_id, 0) "             \
    "FROM store s JOIN price p ON p.price_list_id = s.price_list_id"           \
    " JOIN variant v ON v.id = p.variant_id AND NOT v.archived"                \
    " JOIN product pr ON pr.id = v.product_id AND NOT pr.archived"             \
    " LEFT JOIN store_source src ON src.store_id = s.id"                       \
    " LEFT JOIN stock_level l ON l.location_id = src.location_id"              \
    "  AND l.variant_id = v.id"                                                \
    " LEFT JOIN remote_map m ON m.store_id = s.id AND m.entity = 'variant'"    \
    "  AND m.local_id = v.id AND m.remote_id > 0 "                             \
    "WHERE s.id = $1 "                                                         \
    "GROUP BY v.id, v.sku, s.safety_stock, p.price, p.old_price, m.remote_id " \
    "ORDER BY v.sku"

struct rc_ctx {
    const char *name;
    int as_json;
    long timeout_s;
    PGconn *pg;
    struct store_conf conf;
    struct store_client *sc;
    struct budget *b;
    long calls; /* store calls made */
};

/* One page of products, retried on 429/budget waits and transient errors.
 * Returns the page (owned) or NULL after printing why. */
static json_t *rc_page_get(struct rc_ctx *c, long page)
{
    struct store_req_args a;
    struct store_result r;
    json_t *body;
    long delay_ms = 500;
    int tries;

    memset(&a, 0, sizeof(a));
    a.page = page;
    a.per_page = RECONCILE_PER_PAGE;
    for (tries = 1;; tries++) {
        memset(&r, 0, sizeof(r));
        store_call(c->sc, c->b, BUDGET_CATALOG, STORE_OP_PRODUCTS_LIST, &a, &r);
        if (r.status)
            c->calls++;
        if (r.res == STORE_OK) {
            body = r.body;
            r.body = NULL;
            store_result_clear(&r);
            return body;
        }
        if (sig_stop_requested() || r.res == STORE_CLIENT_ERROR ||
            tries >= RECONCILE_CALL_TRIES) {
            cli_err(CLI_FAIL, "reconcile: %s: product list page %ld: %s (%s)",
                    c->name, page, r.reason, store_res_name(r.res));
            store_result_clear(&r);
            return NULL;
        }
        fprintf(stderr,
                "reconcile: %s: page %ld: %s, retrying (attempt %d of %d)\n",
                c->name, page, r.reason, tries + 1, RECONCILE_CALL_TRIES);
        /* A 429 already paused the fleet in the budget: the next
         * store_call waits for it.  Transient errors back off here. */
        if (r.res == STORE_TRANSIENT) {
            sig_sleep_ms(delay_ms);
            delay_ms = delay_ms * 2 > 8000 ? 8000 : delay_ms * 2;
        }
        store_result_clear(&r);
    }
}

/* Every variant the store shows.  Returns 0 or -1 (printed). */
static int rc_store_read(struct rc_ctx *c, struct reconcile_svars *out)
{
    char err[512];
    json_t *body;
    long page;
    int n;

    for (page = 1; page <= RECONCILE_MAX_PAGES; page++) {
        body = rc_page_get(c, page);
        if (!body)
            return -1;
        n = reconcile_page_parse(body, out, err, sizeof(err));
        json_decref(body);
        if (n < 0) {
            cli_err(CLI_FAIL, "reconcile: %s: page %ld: %s", c->name, page,
                    err);
            return -1;
        }
        fprintf(stderr,
                "reconcile: %s: page %ld: %d products, %zu variants so far\n",
                c->name, page, n, out->n);
        if (n < RECONCILE_PER_PAGE)
            return 0;
    }
    cli_err(CLI_FAIL, "reconcile: %s: more than %d pages", c->name,
            RECONCILE_MAX_PAGES);
    return -1;
}

/* Every variant the ledger says the store should show. */
static int rc_ledger_read(struct rc_ctx *c, struct reconcile_lvars *out)
{
    struct reconcile_lvar v;
    char err[512], t_store[24];
    const char *vals[1];
    PGresult *res;
    int i, rc = -1;

    snprintf(t_store, sizeof(t_store), "%lld", c->conf.id);
    vals[0] = t_store;
    res = db_exec(c->pg, RECONCILE_SQL_LEDGER, 1, vals, "read availability",
                  err, sizeof(err), NULL);
    if (!res) {
        cli_err(CLI_FAIL, "reconcile: %s", err);
        return -1;
    }
    for (i = 0; i < PQntuples(res); i++) {
        memset(&v, 0, sizeof(v));
        v.variant_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        v.sku = PQgetvalue(res, i, 1);
        v.available =
            ledger_available_calc(strtoll(PQgetvalue(res, i, 3), NULL, 10),
                                  strtoll(PQgetvalue(res, i, 4), NULL, 10),
                                  strtoll(PQgetvalue(res, i, 2), NULL, 10));
        v.price = PQgetvalue(res, i, 5);
        v.old_price = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
        v.remote_id = strtoll(PQgetvalue(res, i, 7), NULL, 10);
        if (reconcile_lvars_add(out, &v) < 0) {
            cli_err(CLI_FAIL, "reconcile: out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/* Read both sides (the store first, then the ledger, so the ledger is the
 * newer of the two) and compare.  Returns 0 or -1 (printed). */
static int rc_round(struct rc_ctx *c, struct reconcile_report *rep)
{
    struct reconcile_svars s;
    struct reconcile_lvars l;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    memset(&l, 0, sizeof(l));
    memset(rep, 0, sizeof(*rep));
    if (rc_store_read(c, &s) < 0 || rc_ledger_read(c, &l) < 0)
        goto out;
    if (reconcile_compare(&l, &s, rep) < 0) {
        cli_err(CLI_FAIL, "reconcile: out of memory");
        goto out;
    }
    rc = 0;
out:
    reconcile_svars_clear(&s);
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
        if (ledger_variant_available_emit(c->pg, c->conf.id, d->variant_id, err,
                                          sizeof(err)) < 0)
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
    cli_err(CLI_FAIL, "reconcile: %s: emit: %s", c->name, err);
    return -1;
}

/* Rows of @p rep a stock event can fix (the variant is mapped). */
static size_t rc_repairable(const struct reconcile_report *rep)
{
    size_t i, n = 0;

    for (i = 0; i < rep->n_drift; i++)
        if (!rep->drift[i].by_sku)
            n++;
    return n;
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
        if (rc_repairable(cur) == 0)
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
    const struct store_adapter *ad;
    struct store_settings st;
    const char *redis = cli_config()->redis_addr;
    unsigned char key[SECRET_KEY_BYTES];
    char err[512];
    int r;

    c->pg = cli_pg();
    if (!c->pg)
        return CLI_FAIL;
    r = cli_secret_key(key, err, sizeof(err));
    if (r == 0)
        r = stores_load(c->pg, key, c->name, &c->conf, err, sizeof(err));
    sodium_memzero(key, sizeof(key));
    if (r == 1)
        return cli_err(CLI_USAGE, "reconcile: unknown store '%s'", c->name);
    if (r < 0)
        return cli_err(CLI_FAIL, "reconcile: %s", err);
    ad = storeset_adapter(c->conf.platform);
    if (!ad)
        return cli_err(CLI_FAIL, "reconcile: store %s: unknown platform '%s'",
                       c->name, c->conf.platform);
    if (!redis || !*redis)
        return cli_err(CLI_FAIL, "reconcile: OMNISYNC_REDIS is not set (the "
                                 "store's API budget lives there)");
    c->b = budget_new(redis, NULL, err, sizeof(err));
    if (!c->b)
        return cli_err(CLI_FAIL, "reconcile: budget: %s", err);
    memset(&st, 0, sizeof(st));
    st.store_id = c->conf.name;
    st.url = c->conf.url;
    st.login = c->conf.login;
    st.password = c->conf.password;
    st.api_limit = c->conf.api_limit;
    st.api_window_s = c->conf.api_window;
    st.budget_max_wait_ms = RECONCILE_BUDGET_WAIT_MS;
    c->sc = store_client_new(ad, &st, err, sizeof(err));
    if (!c->sc)
        return cli_err(CLI_FAIL, "reconcile: %s", err);
    return CLI_OK;
}

int cmd_reconcile(int argc, char **argv)
{
    const char *pos[1], *timeout = NULL;
    struct reconcile_report rep, last;
    const struct reconcile_report *final;
    struct rc_ctx c;
    json_t *root = NULL, *rj;
    int repair = 0, npos = 0, rounds = 0, rc;
    long long t0 = clock_mono_ms(), to;
    long emitted = 0;
    const struct cli_opt opts[] = {
        {"--repair", NULL, &repair},
        {"--json", NULL, &c.as_json},
        {"--timeout", &timeout, NULL},
        {NULL, NULL, NULL},
    };

    memset(&c, 0, sizeof(c));
    memset(&rep, 0, sizeof(rep));
    memset(&last, 0, sizeof(last));
    if (argc > 1 && cli_is_help(argv[1])) {
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
               "must run).\n"
               "  Exit 0: store and ledger agree; 1: drift left (or a "
               "failure); 2: usage.\n");
        return CLI_OK;
    }
    rc = cli_args_parse("reconcile", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "usage: omnisync reconcile STORE [--repair] "
                                  "[--json] [--timeout SECONDS]");
    c.name = pos[0];
    c.timeout_s = RECONCILE_TIMEOUT_S;
    if (timeout) {
        if (cli_qty_parse(timeout, 1, &to) < 0 || to > 86400)
            return cli_err(CLI_USAGE,
                           "reconcile: --timeout: expected 0..86400 seconds, "
                           "got '%s'",
                           timeout);
        c.timeout_s = (long)to;
    }
    sig_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = rc_setup(&c);
    if (rc != CLI_OK)
        goto out;
    rc = CLI_FAIL;
    if (rc_round(&c, &rep) < 0)
        goto out;
    if (!c.as_json)
        rc_report_print(&c, &rep);
    if (repair) {
        emitted = rc_repair(&c, &rep, &last, &rounds);
        if (emitted < 0)
            goto out;
    }
    final = rounds ? &last : &rep;
    if (c.as_json) {
        root = reconcile_report_json(c.name, &rep);
        if (root && repair) {
            rj = json_pack(
                "{s:I, s:o, s:o, s:o, s:o}", "events", (json_int_t)emitted,
                "left", reconcile_drift_json(final->drift, final->n_drift),
                "unrepairable", rc_unrepairable_json(final), "missing_in_store",
                json_integer((json_int_t) final->n_missing), "unknown_in_store",
                json_integer((json_int_t) final->n_unknown));
            if (!rj || json_object_set_new(root, "repair", rj) < 0) {
                json_decref(root);
                root = NULL;
            }
        }
        if (cli_json_print(root) != CLI_OK)
            goto out;
    } else if (repair) {
        rc_unrepairable_print(final);
    }
    if (!c.as_json && repair && emitted > 0) {
        if (final->n_drift) {
            printf("still differing after %lld s:\n",
                   (clock_mono_ms() - t0) / 1000);
            rc_table_print(final->drift, final->n_drift);
        }
        printf("repair: %ld events emitted; %zu variants left to repair\n",
               emitted, final->n_drift_variants);
    }
    if (repair)
        rc_summary(&c, final, stderr);
    rc = reconcile_report_clean(final) ? CLI_OK : CLI_FAIL;
out:
    reconcile_report_clear(&rep);
    reconcile_report_clear(&last);
    store_client_destroy(c.sc);
    budget_destroy(c.b);
    store_conf_clear(&c.conf);
    PQfinish(c.pg);
    curl_global_cleanup();
    return rc;
}
