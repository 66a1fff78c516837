#include "store/insales/insales_stock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *insales_stock_doc(const struct store_stock_item *items, size_t n)
{
    json_t *arr = json_array(), *o;
    size_t i;

    if (!arr)
        return NULL;
    for (i = 0; i < n; i++) {
        o = json_object();
        if (!o)
            goto oom;
        json_object_set_new(o, "id", json_integer(items[i].variant_id));
        json_object_set_new(o, "quantity", json_integer(items[i].quantity));
        if (items[i].price) {
            /* A variant without a price in the store's list keeps the
             * store's price: only quantity is pushed then. */
            json_object_set_new(o, "price", json_string(items[i].price));
            json_object_set_new(o, "old_price",
                                items[i].old_price
                                    ? json_string(items[i].old_price)
                                    : json_null());
        }
        if (json_array_append_new(arr, o) < 0)
            goto oom;
    }
    return arr;
oom:
    json_decref(arr);
    return NULL;
}

/* Reject every item with variant id @p id: the store said @p status. */
static void ins_stock_reject(const json_t *r, long long id, const char *status,
                             const struct store_stock_item *items, size_t n,
                             struct store_item_result *out)
{
    char *errs = json_dumps(json_object_get(r, "errors"), JSON_COMPACT);

    for (size_t i = 0; i < n; i++) {
        if (items[i].variant_id != id)
            continue;
        out[i].res = STORE_ITEM_REJECTED;
        snprintf(out[i].reason, sizeof(out[i].reason),
                 "store rejected variant %lld: status %s%s%s", id, status,
                 errs ? " " : "", errs ? errs : "");
    }
    free(errs);
}

void insales_stock_results(const json_t *body,
                           const struct store_stock_item *items, size_t n,
                           struct store_item_result *out)
{
    const json_t *r, *jid;
    const char *status;
    size_t i, j;

    for (i = 0; i < n; i++)
        out[i].res = STORE_ITEM_ACCEPTED;
    /* [] (the update is queued) or no array: every item was taken. */
    json_array_foreach(body, j, r)
    {
        jid = json_object_get(r, "id");
        status = json_string_value(json_object_get(r, "status"));
        if (!json_is_integer(jid) || !status || strcmp(status, "ok") == 0)
            continue;
        ins_stock_reject(r, (long long)json_integer_value(jid), status, items,
                         n, out);
    }
}

/* The store refused the batch for its content: every item is suspect. */
static void ins_stock_refused(const struct store_call *c, size_t n,
                              struct store_item_result *out)
{
    char *body = c->last.body ? json_dumps(c->last.body, JSON_COMPACT) : NULL;

    for (size_t i = 0; i < n; i++) {
        out[i].res = STORE_ITEM_REJECTED;
        snprintf(out[i].reason, sizeof(out[i].reason),
                 "store rejected the batch: HTTP %ld %s", c->last.status,
                 body ? body : c->last.excerpt);
    }
    free(body);
}

enum outcome insales_stock_push(struct store_call *c,
                                const struct store_stock_item *items, size_t n,
                                struct store_item_result *out)
{
    struct store_req_args a;
    enum outcome o;
    size_t i;

    for (i = 0; i < n; i++) {
        out[i].res = STORE_ITEM_PENDING;
        out[i].reason[0] = '\0';
    }
    memset(&a, 0, sizeof(a));
    a.payload = insales_stock_doc(items, n);
    if (!a.payload)
        return store_call_fail(c, OUTCOME_RETRY, "out of memory");
    o = store_call_run(c, STORE_OP_VARIANTS_GROUP_UPDATE, &a);
    json_decref(a.payload);
    if (o == OUTCOME_OK)
        insales_stock_results(c->last.body, items, n, out);
    else if (o == OUTCOME_REJECTED &&
             (c->last.status == 400 || c->last.status == 413 ||
              c->last.status == 422))
        ins_stock_refused(c, n, out);
    return o;
}
