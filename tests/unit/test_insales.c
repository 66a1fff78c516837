/*
 * test_insales — the inSales platform: API-Usage-Limit parsing, request
 * building (paths, methods, body wrapping, query escaping), the documents
 * built from a catalog snapshot, the stock and image documents, the
 * parsing of answers into the neutral types, and operations that stop
 * before the store (no token, a bad cursor).
 */
#include "store/insales/insales.h"
#include "store/insales/insales_catalog.h"
#include "store/insales/insales_images.h"
#include "store/insales/insales_stock.h"
#include "t.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_usage_parse(void)
{
    long u = -7, l = -7;

    T_ASSERT_EQ(insales_usage_parse("1/500", &u, &l), 0);
    T_ASSERT_EQ(u, 1);
    T_ASSERT_EQ(l, 500);
    T_ASSERT_EQ(insales_usage_parse(" 12 / 50 ", &u, &l), 0);
    T_ASSERT_EQ(u, 12);
    T_ASSERT_EQ(l, 50);
    T_ASSERT_EQ(insales_usage_parse("\t500/500\r\n", &u, &l), 0);
    T_ASSERT_EQ(u, 500);
    T_ASSERT_EQ(insales_usage_parse("501/500", &u, &l), 0); /* rejected one */
    T_ASSERT_EQ(u, 501);
    T_ASSERT_EQ(insales_usage_parse("0/500", &u, &l), 0);
    T_ASSERT_EQ(u, 0);

    u = l = -7;
    T_ASSERT_EQ(insales_usage_parse(NULL, &u, &l), -1); /* missing */
    T_ASSERT_EQ(insales_usage_parse("", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("   ", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("abc", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("12", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("12/", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("/500", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("12/500x", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("12/500/3", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("-1/500", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("1/-500", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("1/0", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("1.5/500", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("0x10/500", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("1 2/500", &u, &l), -1);
    /* overflow */
    T_ASSERT_EQ(insales_usage_parse("99999999999999999999999/500", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("1/99999999999999999999999", &u, &l), -1);
    T_ASSERT_EQ(insales_usage_parse("1/2000000000", &u, &l), -1);
    T_ASSERT_EQ(u, -7); /* untouched on failure */
    T_ASSERT_EQ(l, -7);
    /* the adapter exposes the same parser and header name */
    T_ASSERT(insales_adapter.parse_usage == insales_usage_parse);
    T_ASSERT_STR_EQ(insales_adapter.limit.usage_header, "API-Usage-Limit");
    T_ASSERT_EQ(insales_adapter.limit.kind, STORE_LIMIT_FIXED_WINDOW);
    T_ASSERT_EQ(insales_adapter.limit.limit, 500);
    T_ASSERT_EQ(insales_adapter.limit.window_s, 300);
}

static void test_build_paths(void)
{
    struct store_req_args a;
    struct store_http_req r;
    char err[256];
    const char *errp = err;

    memset(&a, 0, sizeof(a));
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_ACCOUNT_GET, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT_STR_EQ(r.method, "GET");
    T_ASSERT_STR_EQ(r.path, "/admin/account.json");
    T_ASSERT(r.body == NULL);

    a.id = 913;
    a.sub_id = 42;
    T_ASSERT_EQ(insales_request_build(STORE_OP_VARIANT_DELETE, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT_STR_EQ(r.method, "DELETE");
    T_ASSERT_STR_EQ(r.path, "/admin/products/913/variants/42.json");
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_IMAGES_LIST, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT_STR_EQ(r.path, "/admin/products/913/images.json");
    T_ASSERT_EQ(insales_request_build(STORE_OP_WEBHOOK_DELETE, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT_STR_EQ(r.path, "/admin/webhooks/913.json");
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_ORDER_GET, &a, &r, err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(r.path, "/admin/orders/913.json");

    /* missing ids are caught before any request */
    memset(&a, 0, sizeof(a));
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_PRODUCT_GET, &a, &r, err, sizeof(err)),
        -1);
    T_ASSERT_STR_CONTAINS(errp, "product_get needs an id");
    a.id = 5;
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_VARIANT_GET, &a, &r, err, sizeof(err)),
        -1);
    T_ASSERT_STR_CONTAINS(errp, "sub id");
    T_ASSERT_EQ(
        insales_request_build((enum store_op)999, &a, &r, err, sizeof(err)),
        -1);
}

static void test_build_lists(void)
{
    struct store_req_args a;
    struct store_http_req r;
    char err[256];

    memset(&a, 0, sizeof(a));
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_PRODUCTS_LIST, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT_STR_EQ(r.path, "/admin/products.json");
    a.per_page = 250;
    a.page = 2;
    a.updated_since = "2017-09-04 00:00:00 +03:00";
    a.from_id = 77;
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_PRODUCTS_LIST, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT_STR_EQ(r.path, "/admin/products.json?per_page=250&page=2"
                            "&updated_since=2017-09-04%2000%3A00%3A00%20%2B03%"
                            "3A00&from_id=77");
    /* from_id alone is ignored by the store, so it is not sent */
    memset(&a, 0, sizeof(a));
    a.from_id = 77;
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_ORDERS_LIST, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT_STR_EQ(r.path, "/admin/orders.json");
}

static void test_build_bodies(void)
{
    struct store_req_args a;
    struct store_http_req r;
    char err[256];
    const char *errp = err;
    json_t *p, *arr;
    char *s;
    int i;

    memset(&a, 0, sizeof(a));
    p = json_pack("{s:s, s:[{s:s, s:i}]}", "title", "Shirt",
                  "variants_attributes", "sku", "A1", "quantity", 3);
    a.payload = p;
    T_ASSERT_EQ(insales_request_build(STORE_OP_PRODUCT_CREATE, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT_STR_EQ(r.method, "POST");
    T_ASSERT_STR_EQ(r.path, "/admin/products.json");
    s = json_dumps(r.body, JSON_COMPACT | JSON_SORT_KEYS);
    T_ASSERT_STR_EQ(s, "{\"product\":{\"title\":\"Shirt\","
                       "\"variants_attributes\":[{\"quantity\":3,"
                       "\"sku\":\"A1\"}]}}");
    free(s);
    json_decref(r.body);
    /* the caller's payload is wrapped as it is, not copied or changed */
    T_ASSERT_EQ(json_object_size(p), 2);
    /* recover: an empty JSON body (the store wants the Content-Type) */
    a.id = 9;
    T_ASSERT_EQ(insales_request_build(STORE_OP_PRODUCT_RECOVER, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT_STR_EQ(r.path, "/admin/products/9/recover.json");
    T_ASSERT(json_is_object(r.body) && json_object_size(r.body) == 0);
    json_decref(r.body);

    a.id = 9;
    T_ASSERT_EQ(insales_request_build(STORE_OP_PRODUCT_UPDATE, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT_STR_EQ(r.method, "PUT");
    T_ASSERT_STR_EQ(r.path, "/admin/products/9.json");
    T_ASSERT(json_object_get(r.body, "product") == p);
    json_decref(r.body);

    T_ASSERT_EQ(
        insales_request_build(STORE_OP_ORDER_UPDATE, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT(json_object_get(r.body, "order") == p);
    json_decref(r.body);
    T_ASSERT_EQ(insales_request_build(STORE_OP_WEBHOOK_CREATE, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT(json_object_get(r.body, "webhook") == p);
    json_decref(r.body);
    T_ASSERT_EQ(insales_request_build(STORE_OP_CATEGORY_CREATE, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT(json_object_get(r.body, "category") == p);
    json_decref(r.body);
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_IMAGE_CREATE, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT_STR_EQ(r.path, "/admin/products/9/images.json");
    T_ASSERT(json_object_get(r.body, "image") == p);
    json_decref(r.body);

    /* a body op without an object payload */
    a.payload = NULL;
    T_ASSERT_EQ(insales_request_build(STORE_OP_PRODUCT_UPDATE, &a, &r, err,
                                      sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(errp, "payload");
    json_decref(p);

    /* group update: 1..100 items wrapped in "variants" */
    arr = json_array();
    for (i = 0; i < 100; i++)
        json_array_append_new(
            arr, json_pack("{s:i,s:i}", "id", i + 1, "quantity", i));
    a.payload = arr;
    T_ASSERT_EQ(insales_request_build(STORE_OP_VARIANTS_GROUP_UPDATE, &a, &r,
                                      err, sizeof(err)),
                0);
    T_ASSERT_STR_EQ(r.method, "PUT");
    T_ASSERT_STR_EQ(r.path, "/admin/products/variants_group_update.json");
    T_ASSERT_EQ(json_array_size(json_object_get(r.body, "variants")), 100);
    json_decref(r.body);
    json_array_append_new(arr, json_pack("{s:i}", "id", 101));
    T_ASSERT_EQ(insales_request_build(STORE_OP_VARIANTS_GROUP_UPDATE, &a, &r,
                                      err, sizeof(err)),
                -1);
    T_ASSERT(r.body == NULL);
    json_decref(arr);
}

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

static const json_t *snap_variant(const json_t *snap, size_t i)
{
    return json_array_get(json_object_get(snap, "variants"), i);
}

/* Money strings as the ledger writes them. */
static void test_money_ok(void)
{
    T_ASSERT_EQ(insales_catalog_money_ok("1500.00"), 1);
    T_ASSERT_EQ(insales_catalog_money_ok("0.50"), 1);
    T_ASSERT_EQ(insales_catalog_money_ok("1500"), 0);
    T_ASSERT_EQ(insales_catalog_money_ok("1500.0"), 0);
    T_ASSERT_EQ(insales_catalog_money_ok("-1.00"), 0);
    T_ASSERT_EQ(insales_catalog_money_ok("1e3.00"), 0);
    T_ASSERT_EQ(insales_catalog_money_ok(".00"), 0);
    T_ASSERT_EQ(insales_catalog_money_ok(NULL), 0);
    T_ASSERT_EQ(insales_catalog_money_ok("1 500.00"), 0);
}

/* Product, variant and create documents of a snapshot. */
static void test_documents(void)
{
    json_error_t jerr;
    json_t *snap = json_loads(snap_text, 0, &jerr), *p, *v = NULL, *v2 = NULL,
           *create, *vars;
    char err[256];
    char *s;

    T_ASSERT(snap != NULL);
    if (!snap)
        return;
    p = insales_catalog_product_doc(snap, 77, err, sizeof(err));
    T_ASSERT(p != NULL);
    s = dump(p);
    T_ASSERT_STR_EQ(s, "{\"category_id\":77,\"description\":\"<p>Nice</p>\","
                       "\"options\":[{\"title\":\"color\"},{\"title\":"
                       "\"size\"}],\"title\":\"Shirt\"}");
    free(s);
    T_ASSERT(insales_catalog_product_doc(snap, 0, err, sizeof(err)) == NULL);
    T_ASSERT(strstr(err, "category") != NULL);

    /* Variant document from the store's price list; strings for money. */
    T_ASSERT_EQ(insales_catalog_variant_doc(snap, snap_variant(snap, 0),
                                            "ONLINE", &v, err, sizeof(err)),
                STORE_DOC_OK);
    s = dump(v);
    T_ASSERT_STR_EQ(s, "{\"barcode\":\"4600000000017\",\"old_price\":"
                       "\"1600.00\",\"options\":[{\"title\":\"color\","
                       "\"value\":\"red\"},{\"title\":\"size\",\"value\":"
                       "\"M\"}],\"price\":\"1400.50\",\"sku\":"
                       "\"SH-1-RED-M\"}");
    free(s);
    T_ASSERT(json_object_get(v, "quantity") == NULL);
    /* Archived variant, and a variant without a price in the list: skip. */
    T_ASSERT_EQ(insales_catalog_variant_doc(snap, snap_variant(snap, 1),
                                            "ONLINE", &v2, err, sizeof(err)),
                STORE_DOC_SKIP);
    T_ASSERT_EQ(insales_catalog_variant_doc(snap, snap_variant(snap, 2),
                                            "ONLINE", &v2, err, sizeof(err)),
                STORE_DOC_SKIP);
    T_ASSERT_EQ(insales_catalog_variant_doc(snap, snap_variant(snap, 2),
                                            "RETAIL", &v2, err, sizeof(err)),
                STORE_DOC_OK);
    T_ASSERT(json_is_null(json_object_get(v2, "barcode")));
    T_ASSERT(json_is_null(json_object_get(v2, "old_price")));

    /* The create document carries variants_attributes. */
    {
        json_t *arr[2] = {v, v2};
        create = insales_catalog_create_doc(p, arr, 2);
        vars = json_object_get(create, "variants_attributes");
        T_ASSERT_EQ(json_array_size(vars), 2);
        T_ASSERT_STR_EQ(
            json_string_value(json_object_get(json_array_get(vars, 1), "sku")),
            "SH-1-BLU-L");
        T_ASSERT_STR_EQ(json_string_value(json_object_get(create, "title")),
                        "Shirt");
        T_ASSERT(json_object_get(p, "variants_attributes") == NULL);
        json_decref(create);
    }

    /* A malformed money string is invalid, not skipped. */
    json_object_set_new(
        json_object_get(json_object_get(snap_variant(snap, 0), "prices"),
                        "ONLINE"),
        "price", json_string("14.5"));
    json_decref(v);
    v = NULL;
    T_ASSERT_EQ(insales_catalog_variant_doc(snap, snap_variant(snap, 0),
                                            "ONLINE", &v, err, sizeof(err)),
                STORE_DOC_INVALID);
    T_ASSERT(strstr(err, "price") != NULL);

    json_decref(v);
    json_decref(v2);
    json_decref(p);
    json_decref(snap);
}

/* Product list pages into the neutral products and variants. */
static void test_products_parse(void)
{
    struct store_products ps;
    struct store_product one;
    const struct store_variant *v;
    json_error_t jerr;
    json_t *page;
    char err[256];
    const char *e = err;

    memset(&ps, 0, sizeof(ps));
    page = json_loads(
        "[{\"id\":100,\"title\":\"Shirt\",\"variants\":["
        "{\"id\":200,\"sku\":\"A\",\"quantity\":3,\"price\":\"10.0\","
        "\"old_price\":null},"
        "{\"id\":201,\"sku\":null,\"quantity\":null,\"price\":12,"
        "\"old_price\":\"15.5\"}]},"
        "{\"id\":101,\"variants\":[]}]",
        0, &jerr);
    T_ASSERT(page != NULL);
    T_ASSERT_EQ(insales_catalog_products_parse(page, &ps, err, sizeof(err)), 2);
    T_ASSERT_EQ(ps.n, 2);
    T_ASSERT_EQ(ps.v[0].id, 100);
    T_ASSERT_STR_EQ(ps.v[0].title, "Shirt");
    T_ASSERT(ps.v[1].title == NULL);
    T_ASSERT_EQ(ps.v[0].variants.n, 2);
    T_ASSERT_EQ(ps.v[1].variants.n, 0);
    v = &ps.v[0].variants.v[0];
    T_ASSERT_EQ(v->id, 200);
    T_ASSERT_EQ(v->product_id, 100);
    T_ASSERT_STR_EQ(v->sku, "A");
    T_ASSERT_EQ(v->has_quantity, 1);
    T_ASSERT_EQ(v->quantity, 3);
    T_ASSERT_STR_EQ(v->price, "10.0");
    T_ASSERT(v->old_price == NULL);
    v = &ps.v[0].variants.v[1];
    T_ASSERT(v->sku == NULL);
    T_ASSERT_EQ(v->has_quantity, 0);
    T_ASSERT_STR_EQ(v->price, "12");
    T_ASSERT_STR_EQ(v->old_price, "15.5");
    T_ASSERT(store_variants_by_sku(&ps.v[0].variants, "A") ==
             &ps.v[0].variants.v[0]);
    T_ASSERT(store_variants_by_sku(&ps.v[0].variants, "B") == NULL);
    json_decref(page);

    /* one product (a create's answer); a real price reads as lib/money
     * reads it, not "%.6f" padded */
    page = json_loads("{\"id\":7,\"title\":\"T\",\"variants\":[{\"id\":8,"
                      "\"sku\":\"S\",\"quantity\":2.0,\"price\":1500.5}]}",
                      0, &jerr);
    T_ASSERT_EQ(insales_catalog_product_parse(page, &one, err, sizeof(err)), 0);
    T_ASSERT_EQ(one.id, 7);
    T_ASSERT_EQ(one.variants.n, 1);
    T_ASSERT_EQ(one.variants.v[0].quantity, 2);
    T_ASSERT_STR_EQ(one.variants.v[0].price, "1500.50");
    store_product_clear(&one);
    T_ASSERT(one.title == NULL);
    json_decref(page);

    page = json_loads("[{\"id\":1,\"variants\":[{\"sku\":\"X\"}]}]", 0, &jerr);
    T_ASSERT_EQ(insales_catalog_products_parse(page, &ps, err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(e, "no integer id");
    json_decref(page);
    page = json_loads("[{\"title\":\"no id\"}]", 0, &jerr);
    T_ASSERT_EQ(insales_catalog_products_parse(page, &ps, err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(e, "not a product with an id");
    json_decref(page);
    page = json_loads("[{\"id\":3,\"variants\":{}}]", 0, &jerr);
    T_ASSERT_EQ(insales_catalog_products_parse(page, &ps, err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(e, "variants is not an array");
    json_decref(page);
    page = json_loads("{\"message\":\"x\"}", 0, &jerr);
    T_ASSERT_EQ(insales_catalog_products_parse(page, &ps, err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(e, "not a JSON array");
    json_decref(page);
    page = json_array();
    T_ASSERT_EQ(insales_catalog_products_parse(page, &ps, err, sizeof(err)), 0);
    json_decref(page);
    T_ASSERT_EQ(ps.n, 2); /* failed pages added nothing */
    store_products_clear(&ps);
    T_ASSERT_EQ(ps.n, 0);
}

/* Categories: the root has "parent_id": null. */
static void test_categories_parse(void)
{
    struct store_categories cs;
    json_error_t jerr;
    json_t *list =
        json_loads("[{\"id\":1,\"title\":\"Склад\",\"parent_id\":null},"
                   "{\"id\":2,\"title\":\"Shirts\",\"parent_id\":1},"
                   "{\"id\":3,\"title\":\"Odd\"}]",
                   0, &jerr);
    char err[256];
    const char *e = err;

    memset(&cs, 0, sizeof(cs));
    T_ASSERT_EQ(insales_catalog_categories_parse(list, &cs, err, sizeof(err)),
                0);
    T_ASSERT_EQ(cs.n, 3);
    T_ASSERT_EQ(cs.v[0].parent_id, 0);
    T_ASSERT_STR_EQ(cs.v[0].title, "Склад");
    T_ASSERT_EQ(cs.v[1].id, 2);
    T_ASSERT_EQ(cs.v[1].parent_id, 1);
    T_ASSERT_EQ(cs.v[2].parent_id, -1);
    json_decref(list);
    list = json_object();
    T_ASSERT_EQ(insales_catalog_categories_parse(list, &cs, err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(e, "not an array");
    json_decref(list);
    store_categories_clear(&cs);
    T_ASSERT(cs.v == NULL);
}

/* The group update document and its per-item answers. */
static void test_stock(void)
{
    struct store_stock_item it[3] = {
        {11, 5, "1500.00", NULL},
        {12, 0, "10.00", "20.00"},
        {13, 7, NULL, NULL},
    };
    struct store_item_result out[3];
    json_error_t jerr;
    json_t *doc = insales_stock_doc(it, 3), *body;
    char *s = dump(doc);

    T_ASSERT_STR_EQ(s, "[{\"id\":11,\"old_price\":null,\"price\":\"1500.00\","
                       "\"quantity\":5},{\"id\":12,\"old_price\":\"20.00\","
                       "\"price\":\"10.00\",\"quantity\":0},{\"id\":13,"
                       "\"quantity\":7}]");
    free(s);
    json_decref(doc);

    /* [] (queued): everything accepted */
    body = json_array();
    insales_stock_results(body, it, 3, out);
    T_ASSERT(out[0].res == STORE_ITEM_ACCEPTED &&
             out[2].res == STORE_ITEM_ACCEPTED);
    json_decref(body);
    /* per-item statuses: one refused */
    body = json_loads("[{\"id\":11,\"status\":\"ok\"},{\"id\":12,\"status\":"
                      "\"not_found\",\"errors\":[\"gone\"]}]",
                      0, &jerr);
    insales_stock_results(body, it, 3, out);
    T_ASSERT_EQ(out[0].res, STORE_ITEM_ACCEPTED);
    T_ASSERT_EQ(out[1].res, STORE_ITEM_REJECTED);
    T_ASSERT_STR_EQ(out[1].reason,
                    "store rejected variant 12: status not_found [\"gone\"]");
    T_ASSERT_EQ(out[2].res, STORE_ITEM_ACCEPTED);
    json_decref(body);
}

/* The upload document (base64) and the images list. */
static void test_images(void)
{
    static const unsigned char bytes[] = {0x89, 'P', 'N', 'G'};
    struct store_images imgs;
    json_error_t jerr;
    json_t *doc = insales_images_doc(bytes, sizeof(bytes), "ab.png", 3), *list;
    char err[256];
    char *s = dump(doc);

    T_ASSERT_STR_EQ(s, "{\"attachment\":\"iVBORw==\",\"filename\":\"ab.png\","
                       "\"position\":3}");
    free(s);
    json_decref(doc);
    memset(&imgs, 0, sizeof(imgs));
    list = json_loads("[{\"id\":5,\"filename\":\"ab.png\",\"position\":1},"
                      "{\"id\":6,\"filename\":null}]",
                      0, &jerr);
    T_ASSERT_EQ(insales_images_parse(list, &imgs, err, sizeof(err)), 0);
    T_ASSERT_EQ(imgs.n, 2);
    T_ASSERT_STR_EQ(imgs.v[0].filename, "ab.png");
    T_ASSERT_EQ(imgs.v[0].position, 1);
    T_ASSERT(imgs.v[1].filename == NULL);
    json_decref(list);
    store_images_clear(&imgs);
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Operations that end before the store: no token (Redis down, a drain
 * deadline), a bad cursor.  Nothing reaches the network. */
static void test_ops_no_call(void)
{
    const struct store_platform *p = &insales_platform;
    struct store_settings st;
    struct store_call c;
    struct store_categories cats;
    struct store_products prods;
    struct store_page pg;
    struct store_stock_item it = {11, 5, NULL, NULL};
    struct store_item_result out;
    char err[256];
    const char *why = c.why;
    long long t0;

    memset(&st, 0, sizeof(st));
    st.store_id = "unit";
    st.url = "http://127.0.0.1:9";
    st.login = "app";
    st.password = "pw";
    st.budget_max_wait_ms = 300;
    /* Nothing listens on port 1 (tcpmux): connection refused. */
    store_call_init(&c, store_client_new(p->adapter, &st, err, sizeof(err)),
                    budget_new("127.0.0.1:1", NULL, err, sizeof(err)),
                    BUDGET_CATALOG);
    T_ASSERT(c.sc != NULL && c.b != NULL);
    if (!c.sc || !c.b)
        goto out;
    /* Redis down beyond the wait bound: retry later, no request made */
    memset(&cats, 0, sizeof(cats));
    T_ASSERT_EQ(p->categories_list(&c, &cats), OUTCOME_RETRY);
    T_ASSERT_EQ(c.last.status, 0);
    T_ASSERT_EQ(c.calls, 0);
    T_ASSERT_EQ(cats.n, 0);
    T_ASSERT_STR_CONTAINS(why, "categories_list: budget: redis unavailable");
    /* draining: no token before the deadline is the store's wait */
    c.cls = BUDGET_STOCK;
    c.deadline_ms = mono_ms() + 250;
    t0 = mono_ms();
    T_ASSERT_EQ(p->stock_push(&c, &it, 1, &out), OUTCOME_PAUSED);
    T_ASSERT(mono_ms() - t0 < 2000);
    T_ASSERT_EQ(out.res, STORE_ITEM_PENDING);
    T_ASSERT_STR_CONTAINS(why, "variants_group_update: budget: no token "
                               "before the drain deadline");
    T_ASSERT_EQ(c.calls, 0);
    /* a cursor the platform did not write */
    memset(&pg, 0, sizeof(pg));
    memset(&prods, 0, sizeof(prods));
    snprintf(pg.cursor, sizeof(pg.cursor), "x");
    T_ASSERT_EQ(p->products_page(&c, &pg, &prods), OUTCOME_REJECTED);
    T_ASSERT_STR_CONTAINS(why, "bad cursor");
    store_call_clear(&c);
    T_ASSERT_STR_EQ(why, "");
out:
    budget_destroy(c.b);
    store_client_destroy(c.sc);
}

int main(void)
{
    test_usage_parse();
    test_build_paths();
    test_build_lists();
    test_build_bodies();
    test_money_ok();
    test_documents();
    test_products_parse();
    test_categories_parse();
    test_stock();
    test_images();
    test_ops_no_call();
    T_DONE();
}
