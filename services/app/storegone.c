#include "app/storegone.h"

#include "ledger/catalog.h"
#include "ledger/remote_map.h"
#include "lib/db.h"
#include "lib/sig.h"
#include "store/doc_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOREGONE_MAX_PAGES 100000
#define STOREGONE_TRIES 8

int storegone_read(const struct store_platform *plat, struct store_call *call,
                   struct store_variants *out, char *errstr, size_t errstr_size)
{
    struct store_products page;
    struct store_page pg;
    enum outcome o = OUTCOME_OK;
    long n, tries;

    memset(&page, 0, sizeof(page));
    memset(&pg, 0, sizeof(pg));
    for (n = 1; n <= STOREGONE_MAX_PAGES && !pg.done; n++) {
        for (tries = 1; tries <= STOREGONE_TRIES; tries++) {
            o = plat->products_page(call, &pg, &page);
            if (o == OUTCOME_OK || o == OUTCOME_REJECTED ||
                sig_stop_requested())
                break;
            sig_sleep_ms(500 * tries);
        }
        for (size_t i = 0; o == OUTCOME_OK && i < page.n; i++)
            for (size_t k = 0; k < page.v[i].variants.n; k++)
                if (store_variants_add(out, &page.v[i].variants.v[k]) < 0)
                    o = OUTCOME_RETRY;
        store_products_clear(&page);
        if (o != OUTCOME_OK) {
            snprintf(errstr, errstr_size, "product list page %ld: %s", n,
                     call->why[0] ? call->why : "out of memory");
            return -1;
        }
    }
    return 0;
}

static int storegone_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

static int storegone_has(const long long *v, size_t n, long long id)
{
    return bsearch(&id, v, n, sizeof(*v), storegone_cmp) != NULL;
}

/* Sorted product and variant ids of @p shown. */
static int storegone_ids(const struct store_variants *shown, long long **prods,
                         long long **vars)
{
    *prods = calloc(shown->n + 1, sizeof(**prods));
    *vars = calloc(shown->n + 1, sizeof(**vars));
    if (!*prods || !*vars)
        return -1;
    for (size_t i = 0; i < shown->n; i++) {
        (*prods)[i] = shown->v[i].product_id;
        (*vars)[i] = shown->v[i].id;
    }
    qsort(*prods, shown->n, sizeof(**prods), storegone_cmp);
    qsort(*vars, shown->n, sizeof(**vars), storegone_cmp);
    return 0;
}

static int storegone_listed(const struct storegone *g, long long pid)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->pids[i] == pid)
            return 1;
    return 0;
}

static int storegone_pid_add(struct storegone *g, long long pid)
{
    long long *v;

    if (storegone_listed(g, pid))
        return 0;
    v = realloc(g->pids, (g->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    g->pids = v;
    g->pids[g->n++] = pid;
    return 0;
}

/* The product of variant @p vid among @p refs, 0 when unknown. */
static long long storegone_product_of(const struct catalog_variant_ref *refs,
                                      size_t n, long long vid)
{
    for (size_t i = 0; i < n; i++)
        if (refs[i].id == vid)
            return refs[i].product_id;
    return 0;
}

/* Reset the rows of @p entity whose remote id @p have lacks.  A product
 * archived in the store by omnisync (its archived hash) is not lost, nor
 * are its variants (@p skip: those products). */
static int storegone_reset(PGconn *pg, long long store_id, const char *entity,
                           const long long *have, size_t nhave,
                           const struct catalog_variant_ref *refs, size_t nrefs,
                           struct storegone *g, struct storegone *skip,
                           char *errstr, size_t errstr_size)
{
    struct remote_map_row *rows = NULL;
    char arch[DOC_HASH_LEN + 1];
    size_t n = 0, i;
    long long pid;
    int rc = -1;

    doc_hash_archived(arch);
    if (remote_map_list(pg, store_id, entity, &rows, &n, errstr, errstr_size) !=
        0)
        return -1;
    for (i = 0; i < n; i++) {
        if (storegone_has(have, nhave, rows[i].remote_id))
            continue;
        pid = refs ? storegone_product_of(refs, nrefs, rows[i].local_id)
                   : rows[i].local_id;
        if (!refs && strcmp(rows[i].hash, arch) == 0) {
            if (storegone_pid_add(skip, pid) < 0)
                goto oom;
            continue;
        }
        if (refs && storegone_listed(skip, pid))
            continue;
        if (remote_map_put(pg, store_id, entity, rows[i].local_id,
                           rows[i].remote_id, "", errstr, errstr_size) != 0)
            goto out;
        if (pid > 0 && storegone_pid_add(g, pid) < 0)
            goto oom;
        if (refs)
            g->variants++;
        else
            g->products++;
    }
    rc = 0;
    goto out;
oom:
    snprintf(errstr, errstr_size, "out of memory");
out:
    free(rows);
    return rc;
}

int storegone_mark(PGconn *pg, long long store_id,
                   const struct store_variants *shown, struct storegone *out,
                   char *errstr, size_t errstr_size)
{
    struct catalog_variant_ref *refs = NULL;
    long long *prods = NULL, *vars = NULL;
    struct storegone archived = {0};
    size_t nrefs = 0;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (storegone_ids(shown, &prods, &vars) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (catalog_variant_refs(pg, &refs, &nrefs, errstr, errstr_size) != 0 ||
        db_begin(pg, errstr, errstr_size) != 0)
        goto out;
    if (storegone_reset(pg, store_id, REMOTE_MAP_PRODUCT, prods, shown->n, NULL,
                        0, out, &archived, errstr, errstr_size) != 0 ||
        storegone_reset(pg, store_id, REMOTE_MAP_VARIANT, vars, shown->n, refs,
                        nrefs, out, &archived, errstr, errstr_size) != 0 ||
        db_commit(pg, errstr, errstr_size) != 0) {
        db_rollback(pg);
        storegone_clear(out);
        goto out;
    }
    rc = 0;
out:
    storegone_clear(&archived);
    catalog_variant_refs_free(refs, nrefs);
    free(prods);
    free(vars);
    return rc;
}

void storegone_clear(struct storegone *g)
{
    if (!g)
        return;
    free(g->pids);
    memset(g, 0, sizeof(*g));
}
