#include "prices.h"

#include "ledger/catalog.h"
#include "ledger/catalog_import.h"
#include "lib/db.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a batch collects while it is checked. */
struct prices_batch {
    json_t *rows;   /* [{"i","sku","price","old_price"}] for the stage */
    json_t *errors; /* [{"index","field","error"}] */
    json_t *seen;   /* sku -> index */
    int has_old;    /* some item carries "old_price" */
};

static void prices_bad(struct prices_batch *b, size_t i, const char *field,
                       const char *msg)
{
    json_array_append_new(b->errors,
                          json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i,
                                    "field", field, "error", msg));
}

/* A money value: a string or a number, canonical in @p out; -1 with
 * @p why. */
static int prices_money(const json_t *v, char out[CATALOG_MONEY_SIZE],
                        char *why, size_t why_size)
{
    char num[64];

    if (json_is_string(v))
        return catalog_money_parse(json_string_value(v), json_string_length(v),
                                   out, why, why_size);
    if (json_is_integer(v) || json_is_real(v)) {
        if (json_is_integer(v))
            snprintf(num, sizeof(num), "%lld",
                     (long long)json_integer_value(v));
        else
            snprintf(num, sizeof(num), "%.2f", json_real_value(v));
        return catalog_money_parse(num, strlen(num), out, why, why_size);
    }
    snprintf(why, why_size, "required: a string or a number");
    return -1;
}

/* Check item @p i and stage it. */
static void prices_item(struct prices_batch *b, size_t i, const json_t *o)
{
    const char *sku = json_string_value(json_object_get(o, "sku"));
    const json_t *old = json_object_get(o, "old_price");
    char price[CATALOG_MONEY_SIZE], oldp[CATALOG_MONEY_SIZE], why[200];

    if (!sku || !*sku) {
        prices_bad(b, i, "sku", "required");
        return;
    }
    if (json_object_get(b->seen, sku)) {
        snprintf(why, sizeof(why), "duplicate SKU (first at index %lld)",
                 (long long)json_integer_value(json_object_get(b->seen, sku)));
        {
            prices_bad(b, i, "sku", why);
            return;
        }
    }
    json_object_set_new(b->seen, sku, json_integer((json_int_t)i));
    if (prices_money(json_object_get(o, "price"), price, why, sizeof(why)) <
        0) {
        prices_bad(b, i, "price", why);
        return;
    }
    if (old)
        b->has_old = 1;
    if (old && !json_is_null(old) &&
        prices_money(old, oldp, why, sizeof(why)) < 0) {
        prices_bad(b, i, "old_price", why);
        return;
    }
    json_array_append_new(b->rows,
                          json_pack("{s:I, s:s, s:s, s:s?}", "i", (json_int_t)i,
                                    "sku", sku, "price", price, "old_price",
                                    old && !json_is_null(old) ? oldp : NULL));
}

static void prices_unknown(void *arg, size_t i)
{
    prices_bad(arg, i, "sku", "unknown SKU");
}

/* Stage, check SKUs, write, emit: in the open transaction.  Returns 0,
 * 1 when SKUs are unknown (in b->errors), -1 with errstr. */
static int prices_write(PGconn *pg, long long pl, struct prices_batch *b,
                        long long *changed, long long *events, char *errstr,
                        size_t errstr_size)
{
    long long *ids = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (catalog_price_stage_load(pg, json_incref(b->rows), errstr,
                                 errstr_size) < 0 ||
        catalog_price_stage_unknown(pg, prices_unknown, b, errstr,
                                    errstr_size) < 0)
        return -1;
    if (json_array_size(b->errors))
        return 1;
    if (catalog_price_stage_apply(pg, pl, b->has_old, &ids, &n, changed, errstr,
                                  errstr_size) < 0)
        goto out;
    if (*changed &&
        catalog_import_price_stock_emit(pg, pl, errstr, errstr_size) < 0)
        goto out;
    for (i = 0; i < n; i++)
        if (catalog_emit(pg, ids[i], errstr, errstr_size) < 0)
            goto out;
    *events = (long long)n;
    rc = 0;
out:
    free(ids);
    return rc;
}

/* The transaction around prices_write().  Returns the HTTP status. */
static unsigned prices_apply(PGconn *pg, const char *list,
                             struct prices_batch *b, json_t **answer)
{
    long long pl = 0, changed = 0, events = 0;
    char err[1024];
    int found, rc;

    found = catalog_price_list_find(pg, list, &pl, err, sizeof(err));
    if (found <= 0) {
        *answer =
            json_pack("{s:s}", "error",
                      found ? "ledger unavailable" : "no such price list");
        return found ? 503 : 404;
    }
    if (db_begin(pg, err, sizeof(err)) < 0)
        goto fail;
    rc = prices_write(pg, pl, b, &changed, &events, err, sizeof(err));
    if (rc != 0 || db_commit(pg, err, sizeof(err)) < 0) {
        db_rollback(pg);
        if (rc == 1) {
            *answer = json_pack("{s:s, s:O}", "error",
                                "invalid items: nothing applied", "errors",
                                b->errors);
            return 422;
        }
        goto fail;
    }
    *answer = json_pack("{s:s, s:I, s:I, s:I}", "price_list", list, "items",
                        (json_int_t)json_array_size(b->rows), "changed",
                        (json_int_t)changed, "events", (json_int_t)events);
    return 200;
fail:
    log_warn("api: prices %s: %s", list, err);
    *answer = json_pack("{s:s}", "error",
                        "the ledger failed the batch: nothing applied");
    return db_conn_lost(pg) ? 503 : 500;
}

unsigned prices_put(PGconn *pg, const char *list, const json_t *items,
                    json_t **answer)
{
    struct prices_batch b = {json_array(), json_array(), json_object(), 0};
    const json_t *o;
    unsigned status;
    size_t i;

    if (!b.rows || !b.errors || !b.seen) {
        status = 500;
        *answer = json_pack("{s:s}", "error", "out of memory");
        goto out;
    }
    json_array_foreach(items, i, o)
    {
        prices_item(&b, i, o);
    }
    if (json_array_size(b.errors)) {
        *answer =
            json_pack("{s:s, s:O}", "error", "invalid items: nothing applied",
                      "errors", b.errors);
        status = 422;
        goto out;
    }
    status = prices_apply(pg, list, &b, answer);
out:
    json_decref(b.rows);
    json_decref(b.errors);
    json_decref(b.seen);
    return status;
}
