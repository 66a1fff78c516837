/*
 * fuzz_store_json — libFuzzer target for the parsers of the store's JSON
 * answers (store/insales/): a products page and one product
 * (insales_catalog.c), a categories list (insales_catalog.c), an images
 * list (insales_images.c) and a group stock update's answer
 * (insales_stock.c).  Every parser sees every input: each must refuse
 * what is not its shape with an error, never misbehave.
 */
#include "store/insales/insales_catalog.h"
#include "store/insales/insales_images.h"
#include "store/insales/insales_stock.h"
#include "store/platform.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The stock items a group update sent: variant ids 1..8, as in the seeds. */
#define FUZZ_ITEMS 8

static void fuzz_stock(const json_t *body)
{
    struct store_stock_item items[FUZZ_ITEMS];
    struct store_item_result out[FUZZ_ITEMS];
    size_t i;

    for (i = 0; i < FUZZ_ITEMS; i++) {
        items[i].variant_id = (long long)i + 1;
        items[i].quantity = 1;
        items[i].price = NULL;
        items[i].old_price = NULL;
    }
    insales_stock_results(body, items, FUZZ_ITEMS, out);
}

static void fuzz_product(const json_t *p)
{
    struct store_product prod = {0};
    char errstr[512];

    if (insales_catalog_product_parse(p, &prod, errstr, sizeof(errstr)) == 0)
        store_product_clear(&prod);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_products products = {0};
    struct store_categories cats = {0};
    struct store_images images = {0};
    char errstr[512];
    json_t *root;

    root = json_loadb((const char *)data, size,
                      JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!root)
        return 0;
    (void)insales_catalog_products_parse(root, &products, errstr,
                                         sizeof(errstr));
    store_products_clear(&products);
    (void)insales_catalog_categories_parse(root, &cats, errstr, sizeof(errstr));
    store_categories_clear(&cats);
    (void)insales_images_parse(root, &images, errstr, sizeof(errstr));
    store_images_clear(&images);
    fuzz_product(root);
    fuzz_stock(root);
    json_decref(root);
    return 0;
}
