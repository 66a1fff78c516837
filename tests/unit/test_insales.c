/*
 * test_insales — the inSales adapter: API-Usage-Limit parsing and request
 * building (paths, methods, body wrapping, query escaping).
 */
#include "store/insales/insales.h"
#include "t.h"

#include <jansson.h>
#include <string.h>

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
    p = json_pack("{s:s, s:[{s:s, s:i}]}", "title", "Shirt", "variants", "sku",
                  "A1", "quantity", 3);
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
    /* the caller's payload is not modified */
    T_ASSERT(json_object_get(p, "variants") != NULL);

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

int main(void)
{
    test_usage_parse();
    test_build_paths();
    test_build_lists();
    test_build_bodies();
    T_DONE();
}
