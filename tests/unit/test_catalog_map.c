/* Unit tests of catalog_map: payload shape, hash stability, money strings. */
#include "store/insales/catalog_map.h"
#include "t.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const snap_text =
    "{\"product_id\":12,\"article\":\"SH-1\",\"name\":\"Shirt\","
    "\"description\":\"<p>Nice</p>\",\"archived\":false,"
    "\"groups\":[{\"id\":1,\"name\":\"A\"},{\"id\":2,\"name\":\"B\"}],"
    "\"options\":[\"color\",\"size\"],"
    "\"variants\":["
    "{\"variant_id\":5,\"sku\":\"SH-1-RED-M\",\"barcode\":\"4600000000017\","
    "\"archived\":false,\"options\":{\"color\":\"red\",\"size\":\"M\"},"
    "\"prices\":{\"RETAIL\":{\"price\":\"1500.00\",\"old_price\":null},"
    "\"ONLINE\":{\"price\":\"1400.50\",\"old_price\":\"1600.00\"}}},"
    "{\"variant_id\":6,\"sku\":\"SH-1-RED-L\",\"barcode\":null,"
    "\"archived\":true,\"options\":{\"color\":\"red\",\"size\":\"L\"},"
    "\"prices\":{\"ONLINE\":{\"price\":\"1.00\",\"old_price\":null}}},"
    "{\"variant_id\":7,\"sku\":\"SH-1-BLU-L\",\"barcode\":null,"
    "\"archived\":false,\"options\":{\"color\":\"blue\",\"size\":\"L\"},"
    "\"prices\":{\"RETAIL\":{\"price\":\"9.90\",\"old_price\":null}}}],"
    "\"photos\":[]}";

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

int main(void)
{
    json_error_t jerr;
    json_t *snap = json_loads(snap_text, 0, &jerr), *p, *v = NULL, *v2 = NULL,
           *create, *vars;
    char err[256], h1[CATALOG_MAP_HASH_LEN + 1], h2[CATALOG_MAP_HASH_LEN + 1];
    char *s;

    T_ASSERT(snap != NULL);

    /* Money strings. */
    T_ASSERT_EQ(catalog_map_money_ok("1500.00"), 1);
    T_ASSERT_EQ(catalog_map_money_ok("0.50"), 1);
    T_ASSERT_EQ(catalog_map_money_ok("1500"), 0);
    T_ASSERT_EQ(catalog_map_money_ok("1500.0"), 0);
    T_ASSERT_EQ(catalog_map_money_ok("-1.00"), 0);
    T_ASSERT_EQ(catalog_map_money_ok("1e3.00"), 0);
    T_ASSERT_EQ(catalog_map_money_ok(".00"), 0);
    T_ASSERT_EQ(catalog_map_money_ok(NULL), 0);
    T_ASSERT_EQ(catalog_map_money_ok("1 500.00"), 0);

    /* Product payload. */
    p = catalog_map_product(snap, 77, err, sizeof(err));
    T_ASSERT(p != NULL);
    s = dump(p);
    T_ASSERT_STR_EQ(s, "{\"category_id\":77,\"description\":\"<p>Nice</p>\","
                       "\"options\":[{\"title\":\"color\"},{\"title\":"
                       "\"size\"}],\"title\":\"Shirt\"}");
    free(s);
    T_ASSERT(catalog_map_product(snap, 0, err, sizeof(err)) == NULL);
    T_ASSERT(strstr(err, "category") != NULL);

    /* Variant payload from the store's price list; strings for money. */
    T_ASSERT_EQ(catalog_map_variant(
                    snap, json_array_get(json_object_get(snap, "variants"), 0),
                    "ONLINE", &v, err, sizeof(err)),
                CATALOG_MAP_V_OK);
    s = dump(v);
    T_ASSERT_STR_EQ(s, "{\"barcode\":\"4600000000017\",\"old_price\":"
                       "\"1600.00\",\"options\":[{\"title\":\"color\","
                       "\"value\":\"red\"},{\"title\":\"size\",\"value\":"
                       "\"M\"}],\"price\":\"1400.50\",\"sku\":"
                       "\"SH-1-RED-M\"}");
    free(s);
    T_ASSERT(json_object_get(v, "quantity") == NULL);
    /* Archived variant, and a variant without a price in the list: skip. */
    T_ASSERT_EQ(catalog_map_variant(
                    snap, json_array_get(json_object_get(snap, "variants"), 1),
                    "ONLINE", &v2, err, sizeof(err)),
                CATALOG_MAP_V_SKIP);
    T_ASSERT_EQ(catalog_map_variant(
                    snap, json_array_get(json_object_get(snap, "variants"), 2),
                    "ONLINE", &v2, err, sizeof(err)),
                CATALOG_MAP_V_SKIP);
    T_ASSERT_EQ(catalog_map_variant(
                    snap, json_array_get(json_object_get(snap, "variants"), 2),
                    "RETAIL", &v2, err, sizeof(err)),
                CATALOG_MAP_V_OK);
    T_ASSERT(json_is_null(json_object_get(v2, "barcode")));
    T_ASSERT(json_is_null(json_object_get(v2, "old_price")));

    /* Create payload carries variants_attributes. */
    {
        json_t *arr[2] = {v, v2};
        create = catalog_map_create_payload(p, arr, 2);
        vars = json_object_get(create, "variants_attributes");
        T_ASSERT_EQ(json_array_size(vars), 2);
        T_ASSERT_STR_EQ(
            json_string_value(json_object_get(json_array_get(vars, 1), "sku")),
            "SH-1-BLU-L");
        T_ASSERT_STR_EQ(json_string_value(json_object_get(create, "title")),
                        "Shirt");
        json_decref(create);
    }

    /* Hash: stable, key-order independent, sensitive to any change. */
    T_ASSERT_EQ(catalog_map_hash(p, h1), 0);
    T_ASSERT_EQ(strlen(h1), CATALOG_MAP_HASH_LEN);
    {
        json_t *q = json_loads("{\"title\":\"Shirt\",\"options\":[{\"title\":"
                               "\"color\"},{\"title\":\"size\"}],"
                               "\"description\":\"<p>Nice</p>\","
                               "\"category_id\":77}",
                               0, &jerr);
        T_ASSERT_EQ(catalog_map_hash(q, h2), 0);
        T_ASSERT(strcmp(h1, h2) == 0);
        json_object_set_new(q, "description", json_string("<p>Nicer</p>"));
        T_ASSERT_EQ(catalog_map_hash(q, h2), 0);
        T_ASSERT(strcmp(h1, h2) != 0);
        json_decref(q);
    }
    /* Known vector: sha256("{}"). */
    {
        json_t *e = json_object();
        T_ASSERT_EQ(catalog_map_hash(e, h2), 0);
        T_ASSERT(strcmp(h2, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8"
                            "310c060f61caaff8a") == 0);
        json_decref(e);
    }
    catalog_map_archived_hash(h2);
    T_ASSERT_EQ(strlen(h2), CATALOG_MAP_HASH_LEN);
    T_ASSERT(strcmp(h1, h2) != 0);

    /* A malformed money string is invalid, not skipped. */
    json_object_set_new(
        json_object_get(
            json_object_get(
                json_array_get(json_object_get(snap, "variants"), 0), "prices"),
            "ONLINE"),
        "price", json_string("14.5"));
    json_decref(v);
    v = NULL;
    T_ASSERT_EQ(catalog_map_variant(
                    snap, json_array_get(json_object_get(snap, "variants"), 0),
                    "ONLINE", &v, err, sizeof(err)),
                CATALOG_MAP_V_INVALID);
    T_ASSERT(strstr(err, "price") != NULL);

    json_decref(v);
    json_decref(v2);
    json_decref(p);
    json_decref(snap);
    T_DONE();
}
