/*
 * fuzz_order — libFuzzer target for the order webhook / orders page parsers
 * (store/insales/insales_orders.c insales_order_identify and
 * insales_order_parse) and the orders.raw data check (events/order.c
 * order_raw_validate).
 *
 * The input is JSON: an order object (a webhook body, one element of an
 * orders page), or an orders.raw data object {"source", "order"}, or an
 * array of order objects (a page).
 */
#include "events/order.h"
#include "store/insales/insales_orders.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_one_order(const json_t *raw)
{
    struct order o = {0};
    struct order_ref ref;
    char errstr[512];

    (void)insales_order_identify(raw, &ref, errstr, sizeof(errstr));
    (void)insales_order_parse(raw, &o, errstr, sizeof(errstr));
    order_clear(&o);
}

static void fuzz_raw_data(json_t *data, const json_t *order)
{
    const json_t *jid = json_object_get(order, "id");
    char key[64] = "web:1", errstr[512];

    if (json_is_integer(jid) &&
        order_raw_key("web", (long long)json_integer_value(jid), key,
                      sizeof(key)) != 0)
        return;
    (void)order_raw_validate(key, "web", data, errstr, sizeof(errstr));
    (void)order_raw_validate(key, NULL, data, errstr, sizeof(errstr));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root, *wrap, *v;
    const json_t *order;
    size_t i;

    root = json_loadb((const char *)data, size,
                      JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!root)
        return 0;
    if (json_is_array(root)) {
        json_array_foreach(root, i, v) fuzz_one_order(v);
    } else if (json_is_object(json_object_get(root, "order"))) {
        order = json_object_get(root, "order");
        fuzz_one_order(order);
        fuzz_raw_data(root, order);
    } else {
        fuzz_one_order(root);
        wrap = json_pack("{s:s, s:O}", "source", "webhook", "order", root);
        if (wrap) {
            fuzz_raw_data(wrap, root);
            json_decref(wrap);
        }
    }
    json_decref(root);
    return 0;
}
