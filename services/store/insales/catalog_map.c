#include "store/insales/catalog_map.h"

#include "lib/hash.h"
#include "lib/money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int catalog_map_money_ok(const char *s)
{
    long long minor;

    return money_parse_canonical(s, &minor) == 0 && minor >= 0;
}

const json_t *catalog_map_groups(const json_t *snap)
{
    const json_t *g = json_object_get(snap, "groups");

    return json_is_array(g) ? g : NULL;
}

json_t *catalog_map_product(const json_t *snap, long long category_id,
                            char *errstr, size_t errstr_size)
{
    const json_t *name = json_object_get(snap, "name");
    const json_t *desc = json_object_get(snap, "description");
    const json_t *opts = json_object_get(snap, "options");
    const json_t *o;
    json_t *p = NULL, *arr;
    size_t i;

    if (!json_is_string(name) || json_string_length(name) == 0) {
        snprintf(errstr, errstr_size, "snapshot: name: expected a string");
        return NULL;
    }
    if (desc && !json_is_string(desc)) {
        snprintf(errstr, errstr_size,
                 "snapshot: description: expected a "
                 "string");
        return NULL;
    }
    if (opts && !json_is_array(opts)) {
        snprintf(errstr, errstr_size, "snapshot: options: expected an array");
        return NULL;
    }
    if (category_id <= 0) {
        snprintf(errstr, errstr_size, "no category id");
        return NULL;
    }
    p = json_object();
    if (!p)
        goto oom;
    json_object_set_new(p, "title", json_string(json_string_value(name)));
    json_object_set_new(p, "description",
                        json_string(desc ? json_string_value(desc) : ""));
    json_object_set_new(p, "category_id", json_integer(category_id));
    if (json_array_size(opts) > 0) {
        arr = json_array();
        json_object_set_new(p, "options", arr);
        json_array_foreach(opts, i, o)
        {
            if (!json_is_string(o)) {
                snprintf(errstr, errstr_size,
                         "snapshot: options[%zu]: expected a string", i);
                json_decref(p);
                return NULL;
            }
            json_array_append_new(
                arr, json_pack("{s:s}", "title", json_string_value(o)));
        }
    }
    if (json_object_size(p) < 3)
        goto oom;
    return p;
oom:
    json_decref(p);
    snprintf(errstr, errstr_size, "out of memory");
    return NULL;
}

enum catalog_map_vres catalog_map_variant(const json_t *snap,
                                          const json_t *variant,
                                          const char *price_list, json_t **out,
                                          char *errstr, size_t errstr_size)
{
    const json_t *sku = json_object_get(variant, "sku");
    const json_t *bc = json_object_get(variant, "barcode");
    const json_t *arch = json_object_get(variant, "archived");
    const json_t *vopts = json_object_get(variant, "options");
    const json_t *names = json_object_get(snap, "options");
    const json_t *pr, *price, *old, *name, *val;
    json_t *v, *arr;
    size_t i;

    *out = NULL;
    if (!json_is_string(sku) || json_string_length(sku) == 0) {
        snprintf(errstr, errstr_size,
                 "snapshot: variant sku: expected a "
                 "string");
        return CATALOG_MAP_V_INVALID;
    }
    if (json_is_true(arch))
        return CATALOG_MAP_V_SKIP;
    pr = json_object_get(json_object_get(variant, "prices"),
                         price_list ? price_list : "");
    if (!json_is_object(pr))
        return CATALOG_MAP_V_SKIP;
    price = json_object_get(pr, "price");
    old = json_object_get(pr, "old_price");
    if (!catalog_map_money_ok(json_string_value(price))) {
        snprintf(errstr, errstr_size,
                 "snapshot: %s: price: not a money "
                 "string",
                 json_string_value(sku));
        return CATALOG_MAP_V_INVALID;
    }
    if (old && !json_is_null(old) &&
        !catalog_map_money_ok(json_string_value(old))) {
        snprintf(errstr, errstr_size,
                 "snapshot: %s: old_price: not a money "
                 "string",
                 json_string_value(sku));
        return CATALOG_MAP_V_INVALID;
    }
    if (bc && !json_is_null(bc) && !json_is_string(bc)) {
        snprintf(errstr, errstr_size,
                 "snapshot: %s: barcode: expected a "
                 "string",
                 json_string_value(sku));
        return CATALOG_MAP_V_INVALID;
    }
    v = json_object();
    arr = json_array();
    if (!v || !arr) {
        json_decref(v);
        json_decref(arr);
        snprintf(errstr, errstr_size, "out of memory");
        return CATALOG_MAP_V_INVALID;
    }
    json_object_set_new(v, "sku", json_string(json_string_value(sku)));
    json_object_set_new(v, "barcode",
                        json_is_string(bc) ? json_string(json_string_value(bc))
                                           : json_null());
    json_object_set_new(v, "price", json_string(json_string_value(price)));
    json_object_set_new(v, "old_price",
                        json_is_string(old)
                            ? json_string(json_string_value(old))
                            : json_null());
    /* Values in the product's option order.  The store wants a value for
     * every option of the product, so a variant without one (e.g. a
     * material given for some sizes only) gets CATALOG_MAP_NO_VALUE. */
    json_array_foreach(names, i, name)
    {
        val = json_object_get(vopts, json_string_value(name));
        json_array_append_new(arr, json_pack("{s:s,s:s}", "title",
                                             json_string_value(name), "value",
                                             json_is_string(val)
                                                 ? json_string_value(val)
                                                 : CATALOG_MAP_NO_VALUE));
    }
    if (json_array_size(arr) > 0)
        json_object_set_new(v, "options", arr);
    else
        json_decref(arr);
    *out = v;
    return CATALOG_MAP_V_OK;
}

json_t *catalog_map_create_payload(const json_t *product,
                                   json_t *const *variants, size_t n)
{
    json_t *p = json_deep_copy(product), *va = json_array();

    if (!p || !va) {
        json_decref(p);
        json_decref(va);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(va, json_deep_copy(variants[i]));
    json_object_set_new(p, "variants_attributes", va);
    return p;
}

int catalog_map_hash(const json_t *doc, char out[CATALOG_MAP_HASH_LEN + 1])
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    out[0] = '\0';
    if (!s)
        return -1;
    hash_sha256_hex(s, strlen(s), out);
    free(s);
    return 0;
}

void catalog_map_archived_hash(char out[CATALOG_MAP_HASH_LEN + 1])
{
    const char *s = CATALOG_MAP_ARCHIVED_DOC;

    hash_sha256_hex(s, strlen(s), out);
}
