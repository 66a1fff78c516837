#include "events/order.h"

#include "lib/clock.h"
#include "lib/money.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ord_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ord_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *const order_status_names[] = {
    [ORDER_STATUS_NEW] = "new",
    [ORDER_STATUS_ACCEPTED] = "accepted",
    [ORDER_STATUS_OTHER] = "other",
    [ORDER_STATUS_SHIPPED] = "shipped",
    [ORDER_STATUS_DELIVERED] = "delivered",
    [ORDER_STATUS_CANCELLED] = "cancelled",
    [ORDER_STATUS_RETURNED] = "returned",
};

const char *order_status_name(enum order_status s)
{
    if ((int)s < 0 || (size_t)s >= sizeof(order_status_names) / sizeof(char *))
        return "?";
    return order_status_names[s];
}

void order_clear(struct order *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nlines; i++) {
        free(o->lines[i].sku);
        free(o->lines[i].title);
    }
    free(o->lines);
    free(o->number);
    free(o->status_label);
    free(o->payment_status);
    free(o->delivery_title);
    json_decref(o->client);
    memset(o, 0, sizeof(*o));
}

/* ---- timestamps --------------------------------------------------------- */

int order_ts_parse(const char *s, long long *us)
{
    int64_t v;

    /* 1970-01-01 .. 9999-12-31T23:59:59.999999Z */
    if (clock_rfc3339_parse(s, &v) < 0 || v < 0 || v > 253402300799999999LL)
        return -1;
    *us = (long long)v;
    return 0;
}

int order_version_newer(const char *incoming, const char *current)
{
    long long a, b;

    if (order_ts_parse(incoming, &a) < 0 || order_ts_parse(current, &b) < 0)
        return -1;
    return a > b ? 1 : 0;
}

/* ---- money -------------------------------------------------------------- */

int order_money_text(const json_t *v, char *out, size_t out_size)
{
    long long minor;

    /* Rounded past 2 decimals, as numeric(14,2) rounds what it stores. */
    if (money_from_json(v, MONEY_ROUND, &minor, NULL, 0) < 0 || minor < 0 ||
        minor > ORDER_MONEY_MAX_MINOR)
        return -1;
    return money_format(minor, out, out_size);
}

/* ---- the orders.raw event ----------------------------------------------- */

int order_raw_key(const char *store, long long remote_id, char *out,
                  size_t out_size)
{
    int n = snprintf(out, out_size, "%s:%lld", store, remote_id);

    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}

/* data has "source" and "order" and nothing else; source is known. */
static int ord_raw_data_keys(json_t *data, char *errstr, size_t errstr_size)
{
    const json_t *src = json_object_get(data, "source");
    const char *k;
    void *it;

    for (it = json_object_iter(data); it;
         it = json_object_iter_next(data, it)) {
        k = json_object_iter_key(it);
        if (strcmp(k, "source") != 0 && strcmp(k, "order") != 0)
            return ord_fail(errstr, errstr_size, "data.%s: unexpected key", k);
    }
    if (!json_is_string(src) ||
        (strcmp(json_string_value(src), "webhook") != 0 &&
         strcmp(json_string_value(src), "poll") != 0))
        return ord_fail(errstr, errstr_size,
                        "data.source: expected \"webhook\" or \"poll\"");
    return 0;
}

int order_raw_validate(const char *key, const char *store, json_t *data,
                       char *errstr, size_t errstr_size)
{
    const json_t *order = json_object_get(data, "order");
    const json_t *id, *upd;
    char want[512];
    long long us;

    if (ord_raw_data_keys(data, errstr, errstr_size) < 0)
        return -1;
    if (!json_is_object(order))
        return ord_fail(errstr, errstr_size, "data.order: expected object");
    id = json_object_get(order, "id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        return ord_fail(errstr, errstr_size,
                        "data.order.id: expected integer > 0");
    upd = json_object_get(order, "updated_at");
    if (!json_is_string(upd) || order_ts_parse(json_string_value(upd), &us) < 0)
        return ord_fail(errstr, errstr_size,
                        "data.order.updated_at: expected RFC 3339 timestamp");
    if (!store)
        return ord_fail(errstr, errstr_size,
                        "store: an orders.raw event needs a store");
    if (order_raw_key(store, json_integer_value(id), want, sizeof(want)) < 0 ||
        strcmp(key, want) != 0)
        return ord_fail(errstr, errstr_size,
                        "key: expected '%s' (store:order id), got '%s'", want,
                        key);
    return 0;
}
