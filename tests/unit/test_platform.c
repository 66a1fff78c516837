/*
 * test_platform — the platform seam: the registry (names, look-up, every
 * operation of every registered platform present), the neutral arrays
 * (copies, take, clear, look-up by SKU) and the document hash the
 * publishers skip unchanged payloads with.
 */
#include "store/doc_hash.h"
#include "store/platform.h"
#include "t.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Every registered platform names itself, has its transport, limits and
 * every operation (no hole a service would call through). */
static void test_registry(void)
{
    char names[256], *tok, *comma;
    const struct store_platform *p;
    int n = 0;

    snprintf(names, sizeof(names), "%s", store_platform_names());
    T_ASSERT_STR_CONTAINS(names, "insales");
    for (tok = names; tok; tok = comma ? comma + 1 : NULL) {
        comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        p = store_platform_find(tok);
        n++;
        T_ASSERT(p != NULL);
        if (!p)
            continue;
        T_ASSERT_STR_EQ(p->name, tok);
        T_ASSERT(p->adapter != NULL && p->adapter->build != NULL);
        T_ASSERT(p->default_limit > 0 && p->default_window_s > 0);
        T_ASSERT(p->stock_batch_max > 0);
        T_ASSERT(p->product_doc && p->variant_doc && p->categories_list &&
                 p->category_create && p->product_create && p->product_update &&
                 p->product_archive && p->product_recover && p->products_page &&
                 p->variants_list && p->variant_create && p->variant_update &&
                 p->variant_delete);
        T_ASSERT(p->stock_push && p->images_list && p->image_upload &&
                 p->image_delete && p->image_position && p->category_update &&
                 p->category_delete);
    }
    T_ASSERT(n >= 1);
    p = store_platform_find("insales");
    T_ASSERT(p && p->default_limit == 500 && p->default_window_s == 300);
    T_ASSERT(p && p->stock_batch_max == 100);
    T_ASSERT(store_platform_find("shopify") == NULL);
    T_ASSERT(store_platform_find("") == NULL);
    T_ASSERT(store_platform_find(NULL) == NULL);
    T_ASSERT(store_platform_names() == store_platform_names());
}

static void test_arrays(void)
{
    struct store_variants vs;
    struct store_products ps;
    struct store_product pr;
    struct store_categories cs;
    struct store_images is;
    struct store_variant v;
    struct store_category c;
    struct store_image im;
    char sku[8] = "A-1";

    memset(&vs, 0, sizeof(vs));
    memset(&ps, 0, sizeof(ps));
    memset(&cs, 0, sizeof(cs));
    memset(&is, 0, sizeof(is));
    memset(&v, 0, sizeof(v));
    v.id = 5;
    v.sku = sku;
    v.price = (char *)"10.0";
    for (int i = 0; i < 40; i++) { /* past the first growth */
        v.id = 5 + i;
        T_ASSERT_EQ(store_variants_add(&vs, &v), 0);
    }
    sku[0] = 'B'; /* the array holds copies */
    T_ASSERT_EQ(vs.n, 40);
    T_ASSERT_STR_EQ(vs.v[39].sku, "A-1");
    T_ASSERT(vs.v[39].old_price == NULL);
    T_ASSERT(store_variants_by_sku(&vs, "A-1") == &vs.v[0]);
    T_ASSERT(store_variants_by_sku(&vs, "B-1") == NULL);
    T_ASSERT(store_variants_by_sku(&vs, NULL) == NULL);

    memset(&pr, 0, sizeof(pr));
    pr.id = 9;
    pr.title = strdup("Shirt");
    pr.variants = vs;
    T_ASSERT_EQ(store_products_take(&ps, &pr), 0);
    T_ASSERT(pr.title == NULL && pr.variants.n == 0); /* taken over */
    T_ASSERT_EQ(ps.v[0].variants.n, 40);
    store_products_clear(&ps);
    T_ASSERT(ps.v == NULL && ps.n == 0);

    c.id = 1;
    c.parent_id = 0;
    c.title = (char *)"Root";
    T_ASSERT_EQ(store_categories_add(&cs, &c), 0);
    T_ASSERT(cs.v[0].title != c.title);
    store_categories_clear(&cs);
    im.id = 3;
    im.filename = NULL;
    im.position = 2;
    T_ASSERT_EQ(store_images_add(&is, &im), 0);
    T_ASSERT(is.v[0].filename == NULL);
    store_images_clear(&is);
    /* NULL-safe */
    store_variants_clear(NULL);
    store_products_clear(NULL);
    store_product_clear(NULL);
    store_categories_clear(NULL);
    store_images_clear(NULL);
}

/* Hash: stable, key-order independent, sensitive to any change. */
static void test_doc_hash(void)
{
    json_error_t jerr;
    json_t *p = json_loads("{\"category_id\":77,\"description\":\"<p>Nice</p>"
                           "\",\"options\":[{\"title\":\"color\"},{\"title\":"
                           "\"size\"}],\"title\":\"Shirt\"}",
                           0, &jerr),
           *q, *e;
    char h1[DOC_HASH_LEN + 1], h2[DOC_HASH_LEN + 1];

    T_ASSERT_EQ(doc_hash_compute(p, h1), 0);
    T_ASSERT_EQ(strlen(h1), DOC_HASH_LEN);
    q = json_loads("{\"title\":\"Shirt\",\"options\":[{\"title\":"
                   "\"color\"},{\"title\":\"size\"}],"
                   "\"description\":\"<p>Nice</p>\","
                   "\"category_id\":77}",
                   0, &jerr);
    T_ASSERT_EQ(doc_hash_compute(q, h2), 0);
    T_ASSERT(strcmp(h1, h2) == 0);
    json_object_set_new(q, "description", json_string("<p>Nicer</p>"));
    T_ASSERT_EQ(doc_hash_compute(q, h2), 0);
    T_ASSERT(strcmp(h1, h2) != 0);
    json_decref(q);
    /* Known vector: sha256("{}"). */
    e = json_object();
    T_ASSERT_EQ(doc_hash_compute(e, h2), 0);
    T_ASSERT(strcmp(h2, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8"
                        "310c060f61caaff8a") == 0);
    json_decref(e);
    doc_hash_archived(h2);
    T_ASSERT_EQ(strlen(h2), DOC_HASH_LEN);
    T_ASSERT(strcmp(h1, h2) != 0);
    e = json_loads(DOC_HASH_ARCHIVED_DOC, 0, &jerr);
    T_ASSERT_EQ(doc_hash_compute(e, h1), 0);
    T_ASSERT_STR_EQ(h1, h2);
    json_decref(e);
    json_decref(p);
}

int main(void)
{
    test_registry();
    test_arrays();
    test_doc_hash();
    T_DONE();
}
