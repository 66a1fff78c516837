#include "events/event.h"
#include "events/image_job.h" /* images.job data (image-uploader) */
#include "events/order.h"     /* orders.raw data (order-ingestor) */
#include "lib/clock.h"
#include "lib/money.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field paths in messages ("data.variants[3].prices.RETAIL.price"). */
#define EV_PATH_MAX 256

static int ev_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ev_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *ev_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static int ev_is_uuid(const char *s)
{
    size_t i;

    if (strlen(s) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* RFC 3339 date-time with a mandatory offset: 2026-01-02T03:04:05.678+03:00
 * (fraction optional, "Z" accepted; the grammar of lib/clock.h). */
static int ev_is_rfc3339(const char *s)
{
    int64_t us;

    return clock_rfc3339_parse(s, &us) == 0;
}

/* Money as the ledger prints numeric(14,2), not negative: "1500.00". */
static int ev_is_money(const char *s)
{
    long long minor;

    return money_parse_canonical(s, &minor) == 0 && minor >= 0;
}

static int ev_is_sha256(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return 0;
    return i == 64;
}

/* Reject keys of @p obj not in the NULL-ended @p allowed list. */
static int ev_only_keys(const json_t *obj, const char *path,
                        const char *const *allowed, char *errstr,
                        size_t errstr_size)
{
    const char *k;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)obj, k, v)
    {
        for (i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                break;
        if (!allowed[i])
            return ev_fail(errstr, errstr_size, "%s: unexpected key '%s'", path,
                           k);
    }
    return 0;
}

static json_t *ev_field(const json_t *obj, const char *path, const char *name,
                        char *errstr, size_t errstr_size)
{
    json_t *v = json_object_get(obj, name);

    if (!v)
        ev_fail(errstr, errstr_size, "%s.%s: missing", path, name);
    return v;
}

/* flags for ev_str() */
#define EV_NULLABLE 0x1
#define EV_NONEMPTY 0x2

static int ev_str(const json_t *obj, const char *path, const char *name,
                  int flags, const char **out, char *errstr, size_t errstr_size)
{
    json_t *v = ev_field(obj, path, name, errstr, errstr_size);

    if (!v)
        return -1;
    if (json_is_null(v) && (flags & EV_NULLABLE)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return ev_fail(errstr, errstr_size, "%s.%s: expected string%s, got %s",
                       path, name, (flags & EV_NULLABLE) ? " or null" : "",
                       ev_type_name(v));
    *out = json_string_value(v);
    if ((flags & EV_NONEMPTY) && !**out)
        return ev_fail(errstr, errstr_size, "%s.%s: must not be empty", path,
                       name);
    return 0;
}

static int ev_int(const json_t *obj, const char *path, const char *name,
                  long long min, long long *out, char *errstr,
                  size_t errstr_size)
{
    json_t *v = ev_field(obj, path, name, errstr, errstr_size);

    if (!v)
        return -1;
    if (!json_is_integer(v))
        return ev_fail(errstr, errstr_size, "%s.%s: expected integer, got %s",
                       path, name, ev_type_name(v));
    *out = json_integer_value(v);
    if (*out < min)
        return ev_fail(errstr, errstr_size, "%s.%s: %lld is below %lld", path,
                       name, *out, min);
    return 0;
}

static int ev_bool(const json_t *obj, const char *path, const char *name,
                   char *errstr, size_t errstr_size)
{
    json_t *v = ev_field(obj, path, name, errstr, errstr_size);

    if (!v)
        return -1;
    if (!json_is_boolean(v))
        return ev_fail(errstr, errstr_size, "%s.%s: expected boolean, got %s",
                       path, name, ev_type_name(v));
    return 0;
}

static json_t *ev_typed(const json_t *obj, const char *path, const char *name,
                        json_type want, char *errstr, size_t errstr_size)
{
    json_t *v = ev_field(obj, path, name, errstr, errstr_size);

    if (v && json_typeof(v) != want) {
        ev_fail(errstr, errstr_size, "%s.%s: expected %s, got %s", path, name,
                want == JSON_ARRAY ? "array" : "object", ev_type_name(v));
        return NULL;
    }
    return v;
}

/* A nullable money field "name" of @p obj: a string like "1500.00" or
 * null. */
static int ev_money_or_null(const json_t *obj, const char *path,
                            const char *name, const char **out, char *errstr,
                            size_t errstr_size)
{
    if (ev_str(obj, path, name, EV_NULLABLE, out, errstr, errstr_size) < 0)
        return -1;
    if (*out && !ev_is_money(*out))
        return ev_fail(errstr, errstr_size,
                       "%s.%s: '%s' is not money (e.g. \"1500.00\")", path,
                       name, *out);
    return 0;
}

static int ev_stock_available(const char *key, const char *store, json_t *data,
                              char *errstr, size_t errstr_size)
{
    static const char *const keys[] = {
        "variant_id",   "sku",   "available", "on_hand", "reserved",
        "safety_stock", "price", "old_price", NULL};
    const char *sku, *price, *old_price;
    long long variant_id, n;
    char want[EV_PATH_MAX];

    if (ev_only_keys(data, "data", keys, errstr, errstr_size) < 0 ||
        ev_int(data, "data", "variant_id", 1, &variant_id, errstr,
               errstr_size) < 0 ||
        ev_str(data, "data", "sku", EV_NONEMPTY, &sku, errstr, errstr_size) <
            0 ||
        ev_int(data, "data", "available", 0, &n, errstr, errstr_size) < 0 ||
        ev_int(data, "data", "on_hand", LLONG_MIN, &n, errstr, errstr_size) <
            0 ||
        ev_int(data, "data", "reserved", 0, &n, errstr, errstr_size) < 0 ||
        ev_int(data, "data", "safety_stock", 0, &n, errstr, errstr_size) < 0 ||
        ev_money_or_null(data, "data", "price", &price, errstr, errstr_size) <
            0 ||
        ev_money_or_null(data, "data", "old_price", &old_price, errstr,
                         errstr_size) < 0)
        return -1;
    if (!price && old_price)
        return ev_fail(errstr, errstr_size,
                       "data.old_price: given without a price");
    if (!store)
        return ev_fail(errstr, errstr_size,
                       "store: a stock.available event needs a store");
    snprintf(want, sizeof(want), "%s:%lld", store, variant_id);
    if (strcmp(key, want) != 0)
        return ev_fail(errstr, errstr_size,
                       "key: expected '%s' (store:variant_id), got '%s'", want,
                       key);
    return 0;
}

static int ev_catalog_variant(json_t *var, const char *path, char *errstr,
                              size_t errstr_size)
{
    static const char *const keys[] = {
        "variant_id", "sku", "barcode", "archived", "options", "prices", NULL};
    static const char *const price_keys[] = {"price", "old_price", NULL};
    char sub[EV_PATH_MAX * 2];
    const char *s, *k;
    long long n;
    json_t *opts, *prices, *v;

    if (!json_is_object(var))
        return ev_fail(errstr, errstr_size, "%s: expected object, got %s", path,
                       ev_type_name(var));
    if (ev_only_keys(var, path, keys, errstr, errstr_size) < 0 ||
        ev_int(var, path, "variant_id", 1, &n, errstr, errstr_size) < 0 ||
        ev_str(var, path, "sku", EV_NONEMPTY, &s, errstr, errstr_size) < 0 ||
        ev_str(var, path, "barcode", EV_NULLABLE, &s, errstr, errstr_size) <
            0 ||
        ev_bool(var, path, "archived", errstr, errstr_size) < 0)
        return -1;
    opts = ev_typed(var, path, "options", JSON_OBJECT, errstr, errstr_size);
    if (!opts)
        return -1;
    json_object_foreach(opts, k, v)
    {
        if (!json_is_string(v))
            return ev_fail(errstr, errstr_size,
                           "%s.options.%s: expected string, got %s", path, k,
                           ev_type_name(v));
    }
    prices = ev_typed(var, path, "prices", JSON_OBJECT, errstr, errstr_size);
    if (!prices)
        return -1;
    json_object_foreach(prices, k, v)
    {
        snprintf(sub, sizeof(sub), "%s.prices.%s", path, k);
        if (!json_is_object(v))
            return ev_fail(errstr, errstr_size, "%s: expected object, got %s",
                           sub, ev_type_name(v));
        if (ev_only_keys(v, sub, price_keys, errstr, errstr_size) < 0 ||
            ev_str(v, sub, "price", 0, &s, errstr, errstr_size) < 0)
            return -1;
        if (!ev_is_money(s))
            return ev_fail(errstr, errstr_size,
                           "%s.price: '%s' is not money (e.g. \"1500.00\")",
                           sub, s);
        if (ev_str(v, sub, "old_price", EV_NULLABLE, &s, errstr, errstr_size) <
            0)
            return -1;
        if (s && !ev_is_money(s))
            return ev_fail(errstr, errstr_size,
                           "%s.old_price: '%s' is not money (e.g. \"1500.00\")",
                           sub, s);
    }
    return 0;
}

static int ev_catalog_product(const char *key, json_t *data, char *errstr,
                              size_t errstr_size)
{
    static const char *const keys[] = {
        "product_id", "article", "name",     "description", "archived",
        "groups",     "options", "variants", "photos",      NULL};
    static const char *const group_keys[] = {"id", "name", NULL};
    static const char *const photo_keys[] = {"position", "path", "sha256",
                                             NULL};
    char path[EV_PATH_MAX], want[32];
    const char *s;
    long long product_id, n;
    json_t *arr, *v;
    size_t i;

    if (ev_only_keys(data, "data", keys, errstr, errstr_size) < 0 ||
        ev_int(data, "data", "product_id", 1, &product_id, errstr,
               errstr_size) < 0 ||
        ev_str(data, "data", "article", EV_NONEMPTY, &s, errstr, errstr_size) <
            0 ||
        ev_str(data, "data", "name", EV_NONEMPTY, &s, errstr, errstr_size) <
            0 ||
        ev_str(data, "data", "description", 0, &s, errstr, errstr_size) < 0 ||
        ev_bool(data, "data", "archived", errstr, errstr_size) < 0)
        return -1;

    arr = ev_typed(data, "data", "groups", JSON_ARRAY, errstr, errstr_size);
    if (!arr)
        return -1;
    json_array_foreach(arr, i, v)
    {
        snprintf(path, sizeof(path), "data.groups[%zu]", i);
        if (!json_is_object(v))
            return ev_fail(errstr, errstr_size, "%s: expected object, got %s",
                           path, ev_type_name(v));
        if (ev_only_keys(v, path, group_keys, errstr, errstr_size) < 0 ||
            ev_int(v, path, "id", 1, &n, errstr, errstr_size) < 0 ||
            ev_str(v, path, "name", EV_NONEMPTY, &s, errstr, errstr_size) < 0)
            return -1;
    }

    arr = ev_typed(data, "data", "options", JSON_ARRAY, errstr, errstr_size);
    if (!arr)
        return -1;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || !*json_string_value(v))
            return ev_fail(errstr, errstr_size,
                           "data.options[%zu]: expected a non-empty string", i);
    }

    arr = ev_typed(data, "data", "variants", JSON_ARRAY, errstr, errstr_size);
    if (!arr)
        return -1;
    json_array_foreach(arr, i, v)
    {
        snprintf(path, sizeof(path), "data.variants[%zu]", i);
        if (ev_catalog_variant(v, path, errstr, errstr_size) < 0)
            return -1;
    }

    arr = ev_typed(data, "data", "photos", JSON_ARRAY, errstr, errstr_size);
    if (!arr)
        return -1;
    json_array_foreach(arr, i, v)
    {
        snprintf(path, sizeof(path), "data.photos[%zu]", i);
        if (!json_is_object(v))
            return ev_fail(errstr, errstr_size, "%s: expected object, got %s",
                           path, ev_type_name(v));
        if (ev_only_keys(v, path, photo_keys, errstr, errstr_size) < 0 ||
            ev_int(v, path, "position", 1, &n, errstr, errstr_size) < 0 ||
            ev_str(v, path, "path", EV_NONEMPTY, &s, errstr, errstr_size) < 0 ||
            ev_str(v, path, "sha256", 0, &s, errstr, errstr_size) < 0)
            return -1;
        if (!ev_is_sha256(s))
            return ev_fail(errstr, errstr_size,
                           "%s.sha256: expected 64 lowercase hex digits", path);
    }

    snprintf(want, sizeof(want), "%lld", product_id);
    if (strcmp(key, want) != 0)
        return ev_fail(errstr, errstr_size,
                       "key: expected '%s' (the product id), got '%s'", want,
                       key);
    return 0;
}

int event_data_validate(const char *type, const char *key, const char *store,
                        json_t *data, char *errstr, size_t errstr_size)
{
    if (!json_is_object(data))
        return ev_fail(errstr, errstr_size, "data: expected object, got %s",
                       data ? ev_type_name(data) : "nothing");
    if (strcmp(type, EVENT_CATALOG_PRODUCT) == 0)
        return ev_catalog_product(key, data, errstr, errstr_size);
    if (strcmp(type, EVENT_STOCK_AVAILABLE) == 0)
        return ev_stock_available(key, store, data, errstr, errstr_size);
    if (strcmp(type, ORDER_EVENT_RAW) == 0)
        return order_raw_validate(key, store, data, errstr, errstr_size);
    if (strcmp(type, IMAGE_JOB_EVENT) == 0)
        return image_job_decode(data, key, store, NULL, errstr, errstr_size);
    return ev_fail(errstr, errstr_size, "type: unknown event type '%s'", type);
}

char *event_build(const char *type, const char *id, const char *ts,
                  const char *store, const char *key, const char *data_json,
                  char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = NULL, *data;
    char *out = NULL;

    if (!type || !id || !ts || !key || !data_json) {
        ev_fail(errstr, errstr_size, "event_build: missing %s",
                !type  ? "type"
                : !id  ? "id"
                : !ts  ? "ts"
                : !key ? "key"
                       : "data");
        return NULL;
    }
    data = json_loads(data_json, JSON_REJECT_DUPLICATES, &jerr);
    if (!data) {
        ev_fail(errstr, errstr_size, "data: invalid JSON: %s", jerr.text);
        return NULL;
    }
    if (!json_is_object(data)) {
        ev_fail(errstr, errstr_size, "data: expected object, got %s",
                ev_type_name(data));
        json_decref(data);
        return NULL;
    }
    /* json_pack's "o" steals data, even when the pack fails. */
    root = json_pack_ex(&jerr, 0, "{s:s, s:i, s:s, s:s, s:s?, s:s, s:o}",
                        "type", type, "v", EVENT_VERSION, "id", id, "ts", ts,
                        "store", store, "key", key, "data", data);
    if (!root) {
        ev_fail(errstr, errstr_size, "envelope: %s", jerr.text);
        return NULL;
    }
    out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!out)
        ev_fail(errstr, errstr_size, "envelope: cannot serialise");
    json_decref(root);
    return out;
}

int event_decode(struct event *ev, const void *buf, size_t len, char *errstr,
                 size_t errstr_size)
{
    static const char *const keys[] = {"type",  "v",   "id",   "ts",
                                       "store", "key", "data", NULL};
    json_error_t jerr;
    json_t *root, *store, *data;
    const char *type, *id, *ts, *key, *st;
    long long v;

    memset(ev, 0, sizeof(*ev));
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ev_fail(errstr, errstr_size,
                       "invalid JSON at line %d column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    if (!json_is_object(root)) {
        ev_fail(errstr, errstr_size, "envelope: expected object, got %s",
                ev_type_name(root));
        goto fail;
    }
    /* Field by field first, for messages that name the field. */
    if (ev_only_keys(root, "envelope", keys, errstr, errstr_size) < 0 ||
        ev_str(root, "envelope", "type", EV_NONEMPTY, &type, errstr,
               errstr_size) < 0 ||
        ev_int(root, "envelope", "v", LLONG_MIN, &v, errstr, errstr_size) < 0 ||
        ev_str(root, "envelope", "id", 0, &id, errstr, errstr_size) < 0 ||
        ev_str(root, "envelope", "ts", 0, &ts, errstr, errstr_size) < 0 ||
        ev_str(root, "envelope", "store", EV_NULLABLE | EV_NONEMPTY, &st,
               errstr, errstr_size) < 0 ||
        ev_str(root, "envelope", "key", EV_NONEMPTY, &key, errstr,
               errstr_size) < 0 ||
        !ev_field(root, "envelope", "data", errstr, errstr_size))
        goto fail;
    /* Then the strict unpack: the contract's own statement of the shape. */
    if (json_unpack_ex(root, &jerr, JSON_STRICT,
                       "{s:s, s:I, s:s, s:s, s:o, s:s, s:o}", "type", &type,
                       "v", &v, "id", &id, "ts", &ts, "store", &store, "key",
                       &key, "data", &data) < 0) {
        ev_fail(errstr, errstr_size, "envelope: %s", jerr.text);
        goto fail;
    }
    if (v != EVENT_VERSION) {
        ev_fail(errstr, errstr_size, "envelope.v: unsupported version %lld", v);
        goto fail;
    }
    if (!ev_is_uuid(id)) {
        ev_fail(errstr, errstr_size, "envelope.id: '%s' is not a UUID", id);
        goto fail;
    }
    if (!ev_is_rfc3339(ts)) {
        ev_fail(errstr, errstr_size,
                "envelope.ts: '%s' is not an RFC 3339 timestamp with offset",
                ts);
        goto fail;
    }
    if (event_data_validate(type, key, json_string_value(store), data, errstr,
                            errstr_size) < 0)
        goto fail;
    ev->root = root;
    ev->type = type;
    ev->v = (int)v;
    ev->id = id;
    ev->ts = ts;
    ev->store = json_string_value(store); /* NULL for JSON null */
    ev->key = key;
    ev->data = data;
    return 0;
fail:
    json_decref(root);
    return -1;
}

void event_clear(struct event *ev)
{
    if (!ev)
        return;
    json_decref(ev->root);
    memset(ev, 0, sizeof(*ev));
}
