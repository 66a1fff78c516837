/*
 * cmd_adopt — `omnisync store adopt STORE [--dry-run]`: map the products a
 * store already has onto the ledger by SKU instead of creating duplicates
 * (or deleting anything).  Only reads reach the store (the store's
 * products page by page, platform.h products_page, through the metered
 * client with catalog tokens); the mapping goes into remote_map with an
 * empty payload hash, so the next `sync resync --catalog` (or `sync
 * initial`) updates the adopted products to the ledger's payload instead
 * of creating them.
 */
#include "cli.h"

#include "app/storeset.h"
#include "ledger/catalog.h"
#include "ledger/remote_map.h"
#include "lib/db.h"
#include "store/budget.h"
#include "store/platform.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ledger's variants, sorted by SKU. */
struct adopt_ledger {
    struct catalog_variant_ref *v;
    size_t n;
};

static int adopt_var_cmp(const void *a, const void *b);

static long long adopt_jid(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static void adopt_ledger_free(struct adopt_ledger *l)
{
    catalog_variant_refs_free(l->v, l->n);
}

static int adopt_ledger_load(PGconn *pg, struct adopt_ledger *l)
{
    char err[512];

    memset(l, 0, sizeof(*l));
    if (catalog_variant_refs(pg, &l->v, &l->n, err, sizeof(err)) != 0)
        return cli_err(-1, "store adopt: %s", err);
    /* bytewise order for bsearch (the database's collation may differ) */
    qsort(l->v, l->n, sizeof(*l->v), adopt_var_cmp);
    return 0;
}

static int adopt_var_cmp(const void *a, const void *b)
{
    return strcmp(((const struct catalog_variant_ref *)a)->sku,
                  ((const struct catalog_variant_ref *)b)->sku);
}

/* The ledger variant with @p sku, or NULL. */
static const struct catalog_variant_ref *
adopt_find(const struct adopt_ledger *l, const char *sku)
{
    struct catalog_variant_ref key;

    if (!sku || l->n == 0)
        return NULL;
    memset(&key, 0, sizeof(key));
    key.sku = (char *)sku;
    return bsearch(&key, l->v, l->n, sizeof(*l->v), adopt_var_cmp);
}

struct adopt_stats {
    size_t store_products, store_variants, mapped, mapped_variants, kept;
    size_t unmatched;
};

/* One adoption: the store, the ledger's variants and what was found. */
struct adopt_run {
    const char *name;
    int dry_run, as_json;
    PGconn *pg;
    struct storeset *ss;
    struct storeset_entry *st;
    struct budget *b;
    struct store_call call; /* catalog class */
    struct adopt_ledger l;
    struct adopt_stats s;
    json_t *unmatched; /* [{"id","title","why"}] */
};

/*
 * Match one store product: every store variant whose SKU the ledger knows
 * must belong to one ledger product.  Returns the ledger product id, 0
 * when nothing matches or the match is ambiguous (@p why says which).
 */
static long long adopt_match(const struct adopt_ledger *l,
                             const struct store_product *prod, char *why,
                             size_t why_size)
{
    long long lp = 0;
    size_t i, nmatch = 0;

    snprintf(why, why_size, "no SKU known to the ledger");
    for (i = 0; i < prod->variants.n; i++) {
        const struct catalog_variant_ref *av =
            adopt_find(l, prod->variants.v[i].sku);

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

/* Whether the mapping of store product @p rid to ledger product @p lp is
 * new (0), kept from before (1), or in conflict (2: @p why says so).
 * -1 on a database error (printed). */
static int adopt_check(struct adopt_run *r, long long rid, long long lp,
                       char *why, size_t why_size)
{
    struct remote_ref ref;
    long long sid = r->st->conf.id, other;
    char err[512];
    int found;

    found = remote_map_get(r->pg, sid, REMOTE_MAP_PRODUCT, lp, &ref, err,
                           sizeof(err));
    if (found < 0)
        return cli_err(-1, "store adopt: %s", err);
    if (found && ref.remote_id > 0 && ref.remote_id != rid) {
        snprintf(why, why_size,
                 "ledger product %lld is already mapped to store product "
                 "%lld (a duplicate in the store?)",
                 lp, ref.remote_id);
        return 2;
    }
    found = remote_map_find_local(r->pg, sid, REMOTE_MAP_PRODUCT, rid, &other,
                                  err, sizeof(err));
    if (found < 0)
        return cli_err(-1, "store adopt: %s", err);
    if (found && other != lp) {
        snprintf(why, why_size, "mapped to ledger product %lld already", other);
        return 2;
    }
    return found && ref.remote_id == rid ? 1 : 0;
}

/* Record the product and its variants known to the ledger, with empty
 * hashes: the next sync sends the ledger's documents. */
static int adopt_write(struct adopt_run *r, const struct store_product *prod,
                       long long lp, char *err, size_t err_size)
{
    long long sid = r->st->conf.id;

    if (remote_map_put(r->pg, sid, REMOTE_MAP_PRODUCT, lp, prod->id, "", err,
                       err_size) != 0)
        return -1;
    for (size_t i = 0; i < prod->variants.n; i++) {
        const struct store_variant *v = &prod->variants.v[i];
        const struct catalog_variant_ref *av = adopt_find(&r->l, v->sku);

        if (av && v->id > 0 &&
            remote_map_put(r->pg, sid, REMOTE_MAP_VARIANT, av->id, v->id, "",
                           err, err_size) != 0)
            return -1;
    }
    return 0;
}

/* Record (or, dry run, only count) the mapping of one store product.
 * Returns 0, 1 when it cannot be adopted (@p why), -1 on errors. */
static int adopt_record(struct adopt_run *r, const struct store_product *prod,
                        long long lp, char *why, size_t why_size)
{
    char err[512];
    int state = adopt_check(r, prod->id, lp, why, why_size);

    if (state < 0 || state == 2)
        return state < 0 ? -1 : 1;
    if (state == 1) {
        r->s.kept++; /* adopted (or published) before: keep its hashes */
        return 0;
    }
    r->s.mapped++;
    for (size_t i = 0; i < prod->variants.n; i++)
        if (adopt_find(&r->l, prod->variants.v[i].sku) &&
            prod->variants.v[i].id > 0)
            r->s.mapped_variants++;
    if (r->dry_run)
        return 0;
    if (db_begin(r->pg, err, sizeof(err)) != 0)
        return cli_err(-1, "store adopt: %s", err);
    if (adopt_write(r, prod, lp, err, sizeof(err)) != 0 ||
        db_commit(r->pg, err, sizeof(err)) != 0) {
        db_rollback(r->pg);
        return cli_err(-1, "store adopt: %s", err);
    }
    return 0;
}

/* Match and record one store product; an unmatched one is listed. */
static int adopt_product(struct adopt_run *r, const struct store_product *prod)
{
    char why[256];
    long long lp;
    int res;

    r->s.store_products++;
    r->s.store_variants += prod->variants.n;
    lp = adopt_match(&r->l, prod, why, sizeof(why));
    res = lp ? adopt_record(r, prod, lp, why, sizeof(why)) : 1;
    if (res > 0) {
        r->s.unmatched++;
        json_array_append_new(
            r->unmatched,
            json_pack("{s:I,s:s,s:s}", "id", (json_int_t)prod->id, "title",
                      prod->title ? prod->title : "", "why", why));
    }
    return res < 0 ? -1 : 0;
}

/* Every page of the store's products.  Returns 0 or -1 (printed). */
static int adopt_pages(struct adopt_run *r)
{
    struct store_products page;
    struct store_page pg;
    long n = 0;
    int rc = 0;

    memset(&page, 0, sizeof(page));
    memset(&pg, 0, sizeof(pg));
    while (rc == 0 && !pg.done) {
        n++;
        if (r->st->plat->products_page(&r->call, &pg, &page) != OUTCOME_OK)
            return cli_err(-1,
                           "store adopt: %s: products page %ld: %s (nothing "
                           "after the pages read so far was recorded; re-run)",
                           r->name, n, r->call.why);
        for (size_t i = 0; rc == 0 && i < page.n; i++)
            rc = adopt_product(r, &page.v[i]);
        store_products_clear(&page);
    }
    return rc;
}

/* Print the ledger's active products left without a mapping. */
static int adopt_ledger_unmatched(struct adopt_run *r)
{
    char err[512];
    PGresult *res =
        catalog_products_unmapped(r->pg, r->st->conf.id, err, sizeof(err));

    if (!res)
        return cli_err(-1, "store adopt: %s", err);
    printf("ledger products not in the store: %d\n", PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++)
        printf("  ledger product %s %s \"%s\"\n", PQgetvalue(res, i, 0),
               PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    PQclear(res);
    return 0;
}

/* --json: the summary and the unmatched products of both sides. */
static int adopt_report_json(struct adopt_run *r)
{
    char err[512];
    PGresult *res =
        catalog_products_unmapped(r->pg, r->st->conf.id, err, sizeof(err));
    json_t *ledger = json_array();

    if (!res) {
        json_decref(ledger);
        return cli_err(-1, "store adopt: %s", err);
    }
    for (int i = 0; ledger && i < PQntuples(res); i++)
        json_array_append_new(
            ledger,
            json_pack("{s:I, s:s, s:s}", "id",
                      (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10),
                      "article", PQgetvalue(res, i, 1), "name",
                      PQgetvalue(res, i, 2)));
    PQclear(res);
    return cli_json_print(
               json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:O, s:o}",
                         "store", r->name, "dry_run", r->dry_run,
                         "store_products", (json_int_t)r->s.store_products,
                         "store_variants", (json_int_t)r->s.store_variants,
                         "mapped", (json_int_t)r->s.mapped, "mapped_variants",
                         (json_int_t)r->s.mapped_variants, "already_mapped",
                         (json_int_t)r->s.kept, "unmatched_in_store",
                         r->unmatched, "not_in_store", ledger)) == CLI_OK
               ? 0
               : -1;
}

/* The summary, the unmatched products of both sides and what is next. */
static int adopt_report(struct adopt_run *r)
{
    const json_t *prod;
    size_t i;

    printf("store %s: %zu product(s), %zu variant(s) in the store\n", r->name,
           r->s.store_products, r->s.store_variants);
    printf("%s %zu product(s) and %zu variant(s) by SKU\n",
           r->dry_run ? "would map" : "mapped", r->s.mapped,
           r->s.mapped_variants);
    if (r->s.kept)
        printf("already mapped: %zu product(s)\n", r->s.kept);
    printf("store products without a ledger match: %zu\n", r->s.unmatched);
    json_array_foreach(r->unmatched, i, prod)
    {
        printf("  store product %lld \"%s\": %s\n", adopt_jid(prod, "id"),
               json_string_value(json_object_get(prod, "title")),
               json_string_value(json_object_get(prod, "why")));
    }
    if (adopt_ledger_unmatched(r) != 0)
        return -1;
    if (r->dry_run)
        printf("dry run: nothing recorded\n");
    else
        printf("nothing was changed in the store; `omnisync sync resync %s "
               "--catalog` updates the adopted products and creates the "
               "rest\n",
               r->name);
    return 0;
}

/* The ledger, the store and its budget.  Returns a CLI_* code (printed). */
static int adopt_setup(struct adopt_run *r)
{
    const char *redis = cli_config()->redis_addr;
    unsigned char key[SECRET_KEY_BYTES];
    char err[512];
    int r_key;

    r_key = cli_redis_check("store adopt");
    if (r_key != CLI_OK)
        return r_key;
    r_key = cli_secret_key(key, err, sizeof(err));
    sodium_memzero(key, sizeof(key));
    if (r_key < 0)
        return cli_err(CLI_USAGE, "store adopt: %s", err);
    r->unmatched = json_array();
    r->pg = cli_pg();
    if (!r->pg || !r->unmatched)
        return CLI_DEPENDENCY;
    r->ss = storeset_new();
    if (!r->ss || storeset_refresh(r->ss, r->pg, cli_config()->secret_key, err,
                                   sizeof(err)) < 0)
        return cli_err(CLI_DEPENDENCY, "store adopt: %s",
                       r->ss ? err : "out of memory");
    r->st = storeset_find(r->ss, r->name);
    if (!r->st)
        return cli_err(CLI_USAGE, "store adopt: unknown store '%s'", r->name);
    r->b = budget_new(redis, NULL, err, sizeof(err));
    if (!r->b)
        return cli_err(CLI_DEPENDENCY, "store adopt: %s", err);
    store_call_init(&r->call, r->st->sc, r->b, BUDGET_CATALOG);
    return adopt_ledger_load(r->pg, &r->l) == 0 ? CLI_OK : CLI_DEPENDENCY;
}

/**
 * @brief `omnisync store adopt STORE [--dry-run]` (argv[0] is "adopt").
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_store_adopt(int argc, char **argv)
{
    const char *pos[1];
    int npos, dry_run = 0, rc;
    struct adopt_run r = {0};
    struct cli_opt opts[] = {
        {"--dry-run", NULL, &dry_run},
        {"--json", NULL, &r.as_json},
        {NULL, NULL, NULL},
    };

    if (cli_args_parse(argv[0], argc, argv, opts, pos, 1, &npos) != CLI_OK)
        return CLI_USAGE;
    if (npos != 1)
        return cli_err(CLI_USAGE, "store adopt: STORE is required");
    r.name = pos[0];
    r.dry_run = dry_run;
    rc = adopt_setup(&r);
    if (rc == CLI_OK &&
        (adopt_pages(&r) != 0 ||
         (r.as_json ? adopt_report_json(&r) : adopt_report(&r)) != 0))
        rc = CLI_DEPENDENCY;
    store_call_clear(&r.call);
    json_decref(r.unmatched);
    adopt_ledger_free(&r.l);
    budget_destroy(r.b);
    storeset_destroy(r.ss);
    PQfinish(r.pg);
    return rc;
}
