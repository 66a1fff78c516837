/*
 * test_insales_orders — the pure parts of inSales orders behind the
 * platform seam: parsing an order object into the neutral order,
 * identifying one, fulfillment statuses both ways, the webhook address,
 * route and authentication, and the platform table's entries.
 */
#include "events/order.h"
#include "store/insales/insales_orders.h"
#include "store/platform.h"
#include "t.h"

#include <jansson.h>
#include <string.h>

static json_t *js(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);

    if (!j)
        fprintf(stderr, "bad test JSON: %s\n", e.text);
    return j;
}

static void test_parse(void)
{
    struct order o;
    char err[256];
    json_t *j;

    j = js("{\"id\":400000001,\"number\":1001,"
           "\"updated_at\":\"2023-11-22T14:24:30.123+03:00\","
           "\"fulfillment_status\":\"new\",\"financial_status\":\"pending\","
           "\"total_price\":\"2300.0\",\"delivery_price\":\"300.0\","
           "\"delivery_title\":\"Courier\",\"client\":{\"name\":\"A\"},"
           "\"order_lines\":[{\"id\":500000001,\"variant_id\":200000005,"
           "\"sku\":\"SH-1-RED-M\",\"title\":\"Shirt (M)\",\"quantity\":2,"
           "\"sale_price\":\"1000.0\"},{\"sku\":\"X\",\"quantity\":1}]}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), 0);
    T_ASSERT_EQ(o.remote_id, 400000001);
    T_ASSERT_STR_EQ(o.number, "1001");
    T_ASSERT_STR_EQ(o.status_label, "new");
    T_ASSERT_EQ(o.status, ORDER_STATUS_NEW);
    T_ASSERT_EQ(o.updated_us, 1700652270123000LL);
    T_ASSERT_STR_EQ(o.payment_status, "pending");
    T_ASSERT_STR_EQ(o.total_price, "2300.00");
    T_ASSERT_STR_EQ(o.delivery_price, "300.00");
    T_ASSERT_STR_EQ(o.delivery_title, "Courier");
    T_ASSERT(o.client != NULL);
    T_ASSERT_EQ(o.nlines, 2);
    T_ASSERT_EQ(o.lines[0].remote_line_id, 500000001);
    T_ASSERT_EQ(o.lines[0].remote_variant_id, 200000005);
    T_ASSERT_STR_EQ(o.lines[0].sku, "SH-1-RED-M");
    T_ASSERT_EQ(o.lines[0].quantity, 2);
    T_ASSERT_STR_EQ(o.lines[0].price, "1000.00");
    T_ASSERT_EQ(o.lines[1].remote_variant_id, 0);
    T_ASSERT_STR_EQ(o.lines[1].price, "0");
    order_clear(&o);
    order_clear(&o); /* idempotent */
    json_decref(j);

    /* Minimal order: no lines, no status -> "new", no delivery. */
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\"}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(o.status_label, "new");
    T_ASSERT_EQ(o.nlines, 0);
    T_ASSERT_STR_EQ(o.delivery_price, "");
    order_clear(&o);
    json_decref(j);

    j = js("{\"updated_at\":\"2024-01-01T00:00:00Z\"}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "id");
    json_decref(j);
    j = js("{\"id\":7}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "updated_at");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"yesterday\"}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "updated_at");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"order_lines\":[{\"sku\":\"A\",\"quantity\":0}]}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "order_lines[0].quantity");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"order_lines\":{}}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "order_lines");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"delivery_price\":\"abc\"}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "delivery_price");
    json_decref(j);
    j = js("[1]");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    json_decref(j);
}

static void test_parse_status(void)
{
    struct order o;
    char err[256];
    json_t *j;

    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"fulfillment_status\":\"dispatched\"}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), 0);
    T_ASSERT_EQ(o.status, ORDER_STATUS_SHIPPED);
    T_ASSERT_STR_EQ(o.status_label, "dispatched");
    order_clear(&o);
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"fulfillment_status\":\"v-obrabotke\"}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), 0);
    T_ASSERT_EQ(o.status, ORDER_STATUS_OTHER);
    T_ASSERT_STR_EQ(o.status_label, "v-obrabotke");
    order_clear(&o);
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"fulfillment_status\":\"\"}");
    T_ASSERT_EQ(insales_order_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "fulfillment_status");
    T_ASSERT(o.status_label == NULL); /* zeroed on failure */
    json_decref(j);
}

static void test_status_map(void)
{
    static const char *const labels[] = {"new",        "accepted",  "approved",
                                         "dispatched", "delivered", "declined",
                                         "returned"};
    static const enum order_status want[] = {
        ORDER_STATUS_NEW,     ORDER_STATUS_ACCEPTED,  ORDER_STATUS_ACCEPTED,
        ORDER_STATUS_SHIPPED, ORDER_STATUS_DELIVERED, ORDER_STATUS_CANCELLED,
        ORDER_STATUS_RETURNED};

    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        T_ASSERT_EQ(insales_order_status(labels[i]), want[i]);
    T_ASSERT_EQ(insales_order_status("custom"), ORDER_STATUS_OTHER);
    T_ASSERT_EQ(insales_order_status(NULL), ORDER_STATUS_OTHER);
    T_ASSERT_STR_EQ(insales_order_status_label(ORDER_STATUS_ACCEPTED),
                    "accepted");
    T_ASSERT_STR_EQ(insales_order_status_label(ORDER_STATUS_SHIPPED),
                    "dispatched");
    T_ASSERT_STR_EQ(insales_order_status_label(ORDER_STATUS_CANCELLED),
                    "declined");
    T_ASSERT(insales_order_status_label(ORDER_STATUS_OTHER) == NULL);
    /* Every label that sets a status reads back as that status. */
    for (int s = ORDER_STATUS_NEW; s <= ORDER_STATUS_RETURNED; s++) {
        const char *l = insales_order_status_label((enum order_status)s);

        if (l)
            T_ASSERT_EQ(insales_order_status(l), s);
    }
}

static void test_identify(void)
{
    struct order_ref ref;
    char err[256];
    json_t *j;

    j = js("{\"id\":400000001,"
           "\"updated_at\":\"2023-11-22T14:24:30.123+03:00\",\"x\":1}");
    T_ASSERT_EQ(insales_order_identify(j, &ref, err, sizeof(err)), 0);
    T_ASSERT_EQ(ref.remote_id, 400000001);
    T_ASSERT_EQ(ref.updated_us, 1700652270123000LL);
    /* The cursor keeps updated_at exactly as written (INSALES.md §2.2). */
    T_ASSERT_STR_EQ(ref.next.since, "2023-11-22T14:24:30.123+03:00");
    T_ASSERT_EQ(ref.next.after_id, 400000001);
    json_decref(j);
    j = js("{\"id\":5}");
    T_ASSERT_EQ(insales_order_identify(j, &ref, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "updated_at");
    json_decref(j);
    j = js("{\"id\":5,\"updated_at\":\"soon\"}");
    T_ASSERT_EQ(insales_order_identify(j, &ref, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "updated_at");
    json_decref(j);
    j = js("{\"id\":0,\"updated_at\":\"2030-01-01T00:00:00Z\"}");
    T_ASSERT_EQ(insales_order_identify(j, &ref, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "id");
    json_decref(j);
    j = js("[1,2]");
    T_ASSERT_EQ(insales_order_identify(j, &ref, err, sizeof(err)), -1);
    json_decref(j);
}

static void test_webhooks(void)
{
    const char *sec = "0123456789abcdef0123456789abcdef";
    const char *other = "0123456789abcdef0123456789abcdee";
    struct webhook_request req;
    char addr[128], small[20];

    T_ASSERT_EQ(insales_webhook_address("http://h:1", sec, addr, sizeof(addr)),
                0);
    T_ASSERT_STR_EQ(addr,
                    "http://h:1/hooks/0123456789abcdef0123456789abcdef/orders");
    T_ASSERT_EQ(
        insales_webhook_address("http://h:1", sec, small, sizeof(small)), -1);
    T_ASSERT_EQ(insales_webhook_route(addr + strlen("http://h:1")), 1);
    T_ASSERT_EQ(insales_webhook_route("/hooks/x"), 0);
    T_ASSERT_EQ(
        insales_webhook_route("/hooks/0123456789ABCDEF0123456789abcdef/orders"),
        0); /* lower-case hex only */
    T_ASSERT_EQ(insales_webhook_route(
                    "/hooks/0123456789abcdef0123456789abcdef/orders/x"),
                0);
    T_ASSERT_EQ(insales_webhook_route(NULL), 0);
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = addr + strlen("http://h:1");
    T_ASSERT_EQ(insales_webhook_authenticate(&req, sec), 1);
    T_ASSERT_EQ(insales_webhook_authenticate(&req, other), 0);
    T_ASSERT_EQ(insales_webhook_authenticate(&req, ""), 0);
    T_ASSERT_EQ(insales_webhook_authenticate(&req, NULL), 0);
    req.path = "/hooks/x";
    T_ASSERT_EQ(insales_webhook_authenticate(&req, sec), 0);
}

static void test_platform(void)
{
    const struct store_platform *p = store_platform_find("insales");

    T_ASSERT(p != NULL);
    if (!p)
        return;
    T_ASSERT(p->orders_page == insales_orders_page);
    T_ASSERT(p->order_identify == insales_order_identify);
    T_ASSERT(p->order_parse == insales_order_parse);
    T_ASSERT(p->order_status_set == insales_order_status_set);
    T_ASSERT(p->webhooks_register == insales_webhooks_register);
    T_ASSERT(p->webhook_route == insales_webhook_route);
    T_ASSERT(p->webhook_authenticate == insales_webhook_authenticate);
}

int main(void)
{
    test_parse();
    test_parse_status();
    test_status_map();
    test_identify();
    test_webhooks();
    test_platform();
    T_DONE();
}
