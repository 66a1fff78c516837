/*
 * cmd_adopt — `omnisync store adopt STORE [--dry-run]`: map the products a
 * store already has onto the ledger by SKU instead of creating duplicates
 * (or deleting anything).  Only GET requests reach the store (the product
 * list, paged, through the metered client with catalog tokens); the
 * mapping goes into remote_map with an empty payload hash, so the next
 * `sync resync --catalog` (or `sync initial`) updates the adopted products
 * to the ledger's payload instead of creating them.
 */
#include "cli.h"

#include "store/budget.h"
#include "lib/cfg.h"
#include "lib/db.h"
#include "ledger/remote_map.h"
#include "store/store_client.h"
#include "app/storeset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADOPT_PER_PAGE 250 /* the store's largest page (INSALES.md §2.2) */

#define ADOPT_SQL_VARIANTS                                                     \
    "SELECT v.sku, v.id, v.product_id, p.article FROM variant v"               \
    " JOIN product p ON p.id = v.product_id ORDER BY v.sku"

#define ADOPT_SQL_UNMAPPED                                                     \
    "SELECT p.id, p.article, p.name FROM product p WHERE NOT p.archived"       \
    " AND NOT EXISTS (SELECT 1 FROM remote_map rm WHERE rm.store_id = $1"      \
    " AND rm.entity = 'product' AND rm.local_id = p.id AND rm.remote_id > 0)"  \
    " ORDER BY p.id"

/* A ledger variant, sorted by SKU. */
struct adopt_var {
    char *sku;
    long long id, product_id;
    char *article;
};

struct adopt_ledger {
    struct adopt_var *v;
    size_t n;
};

static int adopt_var_cmp(const void *a, const void *b);

static void adopt_ledger_free(struct adopt_ledger *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].sku);
        free(l->v[i].article);
    }
    free(l->v);
}

static int adopt_ledger_load(PGconn *pg, struct adopt_ledger *l)
{
    char err[512];
    PGresult *res = db_exec(pg, ADOPT_SQL_VARIANTS, 0, NULL, "variants", err,
                            sizeof(err), NULL);
    int n;

    memset(l, 0, sizeof(*l));
    if (!res)
        return cli_err(-1, "store adopt: %s", err);
    n = PQntuples(res);
    l->v = calloc((size_t)n + 1, sizeof(*l->v));
    if (!l->v) {
        PQclear(res);
        return cli_err(-1, "store adopt: out of memory");
    }
    for (int r = 0; r < n; r++) {
        struct adopt_var *v = &l->v[l->n];

        v->sku = strdup(PQgetvalue(res, r, 0));
        v->article = strdup(PQgetvalue(res, r, 3));
        if (!v->sku || !v->article ||
            cfg_parse_ll(PQgetvalue(res, r, 1), &v->id) != 0 ||
            cfg_parse_ll(PQgetvalue(res, r, 2), &v->product_id) != 0) {
            free(v->sku);
            free(v->article);
            continue;
        }
        l->n++;
    }
    PQclear(res);
    /* bytewise order for bsearch (the database's collation may differ) */
    qsort(l->v, l->n, sizeof(*l->v), adopt_var_cmp);
    return 0;
}

static int adopt_var_cmp(const void *a, const void *b)
{
    return strcmp(((const struct adopt_var *)a)->sku,
                  ((const struct adopt_var *)b)->sku);
}

/* The ledger variant with @p sku, or NULL. */
static const struct adopt_var *adopt_find(const struct adopt_ledger *l,
                                          const char *sku)
{
    struct adopt_var key;

    if (!sku || l->n == 0)
        return NULL;
    memset(&key, 0, sizeof(key));
    key.sku = (char *)sku;
    return bsearch(&key, l->v, l->n, sizeof(*l->v), adopt_var_cmp);
}

static const char *adopt_title(const json_t *prod)
{
    const char *t = json_string_value(json_object_get(prod, "title"));

    return t ? t : "";
}

static long long adopt_jid(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

struct adopt_stats {
    size_t store_products, store_variants, mapped, mapped_variants, kept;
    size_t unmatched;
};

/*
 * Match one store product: every store variant whose SKU the ledger knows
 * must belong to one ledger product.  Returns the ledger product id, 0
 * when nothing matches or the match is ambiguous (@p why says which).
 */
static long long adopt_match(const struct adopt_ledger *l, const json_t *prod,
                             char *why, size_t why_size)
{
    const json_t *v;
    long long lp = 0;
    size_t i, nmatch = 0;

    snprintf(why, why_size, "no SKU known to the ledger");
    json_array_foreach(json_object_get(prod, "variants"), i, v)
    {
        const struct adopt_var *av =
            adopt_find(l, json_string_value(json_object_get(v, "sku")));

        if (!av)
            continue;
        nmatch++;
        if (lp && av->product_id != lp) {
            snprintf(why, why_size,
                     "its SKUs belong to several ledger products");
            return 0;
        }
        lp = av->product_id;
    }
    return nmatch ? lp : 0;
}

/* Record (or, dry run, only count) the mapping of one store product. */
static int adopt_record(PGconn *pg, long long store_id,
                        const struct adopt_ledger *l, const json_t *prod,
                        long long lp, int dry_run, struct adopt_stats *s,
                        char *why, size_t why_size)
{
    struct remote_ref ref;
    long long rid = adopt_jid(prod, "id"), other;
    const json_t *v;
    char err[512];
    size_t i;
    int found;

    found = remote_map_get(pg, store_id, REMOTE_MAP_PRODUCT, lp, &ref, err,
                           sizeof(err));
    if (found < 0)
        return cli_err(-1, "store adopt: %s", err);
    if (found && ref.remote_id > 0 && ref.remote_id != rid) {
        snprintf(why, why_size,
                 "ledger product %lld is already mapped to store product "
                 "%lld (a duplicate in the store?)",
                 lp, ref.remote_id);
        return 1;
    }
    found = remote_map_find_local(pg, store_id, REMOTE_MAP_PRODUCT, rid, &other,
                                  err, sizeof(err));
    if (found < 0)
        return cli_err(-1, "store adopt: %s", err);
    if (found && other != lp) {
        snprintf(why, why_size, "mapped to ledger product %lld already", other);
        return 1;
    }
    if (found && ref.remote_id == rid) {
        s->kept++; /* adopted (or published) before: keep its hashes */
        return 0;
    }
    s->mapped++;
    if (!dry_run && db_begin(pg, err, sizeof(err)) != 0)
        return cli_err(-1, "store adopt: %s", err);
    /* An empty hash: the next sync sends the ledger's payload (PUT). */
    if (!dry_run && remote_map_put(pg, store_id, REMOTE_MAP_PRODUCT, lp, rid,
                                   "", err, sizeof(err)) != 0)
        goto dbfail;
    json_array_foreach(json_object_get(prod, "variants"), i, v)
    {
        const struct adopt_var *av =
            adopt_find(l, json_string_value(json_object_get(v, "sku")));

        if (!av || adopt_jid(v, "id") <= 0)
            continue;
        s->mapped_variants++;
        if (!dry_run &&
            remote_map_put(pg, store_id, REMOTE_MAP_VARIANT, av->id,
                           adopt_jid(v, "id"), "", err, sizeof(err)) != 0)
            goto dbfail;
    }
    if (!dry_run && db_commit(pg, err, sizeof(err)) != 0)
        goto dbfail;
    return 0;
dbfail:
    db_rollback(pg);
    return cli_err(-1, "store adopt: %s", err);
}

/* Print the ledger's active products left without a mapping. */
static int adopt_ledger_unmatched(PGconn *pg, long long store_id, size_t *count)
{
    char sid[32], err[512];
    const char *vals[1] = {sid};
    PGresult *res;
    int n;

    snprintf(sid, sizeof(sid), "%lld", store_id);
    res = db_exec(pg, ADOPT_SQL_UNMAPPED, 1, vals, "unmapped", err, sizeof(err),
                  NULL);
    if (!res)
        return cli_err(-1, "store adopt: %s", err);
    n = PQntuples(res);
    *count = (size_t)n;
    printf("ledger products not in the store: %d\n", n);
    for (int r = 0; r < n; r++)
        printf("  ledger product %s %s \"%s\"\n", PQgetvalue(res, r, 0),
               PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
    PQclear(res);
    return 0;
}

/**
 * @brief `omnisync store adopt STORE [--dry-run]` (argv[0] is "adopt").
 * @returns CLI_OK, CLI_FAIL or CLI_USAGE.
 */
int cmd_store_adopt(int argc, char **argv)
{
    const char *pos[1];
    int npos, dry_run = 0, rc = CLI_FAIL;
    struct cli_opt opts[] = {
        {"--dry-run", NULL, &dry_run},
        {NULL, NULL, NULL},
    };
    struct storeset *ss = NULL;
    struct storeset_entry *st;
    struct budget *b = NULL;
    struct adopt_ledger l = {0};
    struct adopt_stats s;
    struct store_req_args a;
    struct store_result r;
    json_t *unmatched = json_array();
    const char *redis = cli_config()->redis_addr;
    PGconn *pg = NULL;
    char err[512], why[256];
    size_t i, nledger = 0;
    const json_t *prod;

    memset(&s, 0, sizeof(s));
    memset(&r, 0, sizeof(r));
    if (cli_args_parse(argv[0], argc, argv, opts, pos, 1, &npos) != CLI_OK) {
        json_decref(unmatched);
        return CLI_USAGE;
    }
    if (npos != 1) {
        json_decref(unmatched);
        return cli_err(CLI_USAGE, "store adopt: STORE is required");
    }
    if (!redis || !*redis) {
        json_decref(unmatched);
        return cli_err(CLI_FAIL, "store adopt: OMNISYNC_REDIS is not set "
                                 "(the store's API budget)");
    }
    pg = cli_pg();
    if (!pg || !unmatched)
        goto out;
    ss = storeset_new();
    if (!ss || storeset_refresh(ss, pg, cli_config()->secret_key, err,
                                sizeof(err)) < 0) {
        cli_err(CLI_FAIL, "store adopt: %s", ss ? err : "out of memory");
        goto out;
    }
    st = storeset_find(ss, pos[0]);
    if (!st) {
        rc = cli_err(CLI_USAGE, "store adopt: unknown store '%s'", pos[0]);
        goto out;
    }
    b = budget_new(redis, NULL, err, sizeof(err));
    if (!b) {
        cli_err(CLI_FAIL, "store adopt: %s", err);
        goto out;
    }
    if (adopt_ledger_load(pg, &l) != 0)
        goto out;
    memset(&a, 0, sizeof(a));
    a.per_page = ADOPT_PER_PAGE;
    for (a.page = 1;; a.page++) {
        size_t got;

        store_result_clear(&r);
        if (store_call(st->sc, b, BUDGET_CATALOG, STORE_OP_PRODUCTS_LIST, &a,
                       &r) != STORE_OK ||
            !json_is_array(r.body)) {
            cli_err(CLI_FAIL,
                    "store adopt: %s: products page %ld: %s (nothing after "
                    "the pages read so far was recorded; re-run)",
                    pos[0], a.page, r.reason[0] ? r.reason : "not an array");
            goto out;
        }
        json_array_foreach(r.body, i, prod)
        {
            long long lp;
            int res;

            s.store_products++;
            s.store_variants +=
                json_array_size(json_object_get(prod, "variants"));
            lp = adopt_match(&l, prod, why, sizeof(why));
            res = lp ? adopt_record(pg, st->conf.id, &l, prod, lp, dry_run, &s,
                                    why, sizeof(why))
                     : 1;
            if (res < 0)
                goto out;
            if (res > 0) {
                s.unmatched++;
                json_array_append_new(
                    unmatched,
                    json_pack("{s:I,s:s,s:s}", "id",
                              (json_int_t)adopt_jid(prod, "id"), "title",
                              adopt_title(prod), "why", why));
            }
        }
        got = json_array_size(r.body);
        if (got < ADOPT_PER_PAGE)
            break;
    }
    printf("store %s: %zu product(s), %zu variant(s) in the store\n", pos[0],
           s.store_products, s.store_variants);
    printf("%s %zu product(s) and %zu variant(s) by SKU\n",
           dry_run ? "would map" : "mapped", s.mapped, s.mapped_variants);
    if (s.kept)
        printf("already mapped: %zu product(s)\n", s.kept);
    printf("store products without a ledger match: %zu\n", s.unmatched);
    json_array_foreach(unmatched, i, prod)
    {
        printf("  store product %lld \"%s\": %s\n", adopt_jid(prod, "id"),
               json_string_value(json_object_get(prod, "title")),
               json_string_value(json_object_get(prod, "why")));
    }
    if (adopt_ledger_unmatched(pg, st->conf.id, &nledger) != 0)
        goto out;
    if (dry_run)
        printf("dry run: nothing recorded\n");
    else
        printf("nothing was changed in the store; `omnisync sync resync %s "
               "--catalog` updates the adopted products and creates the "
               "rest\n",
               pos[0]);
    rc = CLI_OK;
out:
    store_result_clear(&r);
    json_decref(unmatched);
    adopt_ledger_free(&l);
    budget_destroy(b);
    storeset_destroy(ss);
    PQfinish(pg);
    return rc;
}
