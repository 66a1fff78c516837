/*
 * test_orders — the pure parts of orders.c: version comparison, order
 * parsing, orders.raw validation, the stock state machine and the
 * reservation split.  (Timestamps and money moved to lib/clock and
 * lib/money: test_clock.c, test_money.c.)
 */
#include "events/event.h"
#include "ledger/orders.h"
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

static void test_version(void)
{
    /* Newer by one millisecond. */
    T_ASSERT_EQ(orders_version_newer("2023-11-22T14:24:30.124+03:00",
                                     "2023-11-22T14:24:30.123+03:00"),
                1);
    /* Same instant, other offsets: not newer. */
    T_ASSERT_EQ(orders_version_newer("2023-11-22T11:24:30.123Z",
                                     "2023-11-22T14:24:30.123+03:00"),
                0);
    /* Older: never overwrites. */
    T_ASSERT_EQ(orders_version_newer("2023-11-22T14:24:29.999+03:00",
                                     "2023-11-22T14:24:30.000+03:00"),
                0);
    /* Later wall-clock text but earlier instant (offset matters). */
    T_ASSERT_EQ(orders_version_newer("2023-11-22T14:00:00.000+05:00",
                                     "2023-11-22T12:00:00.001+03:00"),
                0);
    T_ASSERT_EQ(orders_version_newer("garbage", "2023-11-22T12:00:00Z"), -1);
}

static void test_parse(void)
{
    struct orders_order o;
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
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), 0);
    T_ASSERT_EQ(o.remote_id, 400000001);
    T_ASSERT_STR_EQ(o.number, "1001");
    T_ASSERT_STR_EQ(o.fulfillment_status, "new");
    T_ASSERT_STR_EQ(o.financial_status, "pending");
    T_ASSERT_STR_EQ(o.total_price, "2300.00"); /* lib/money text */
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
    orders_order_clear(&o);
    orders_order_clear(&o); /* idempotent */
    json_decref(j);

    /* Minimal order: no lines, no status -> "new", no delivery. */
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\"}");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(o.fulfillment_status, "new");
    T_ASSERT_EQ(o.nlines, 0);
    T_ASSERT_STR_EQ(o.delivery_price, "");
    orders_order_clear(&o);
    json_decref(j);

    j = js("{\"updated_at\":\"2024-01-01T00:00:00Z\"}");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "id");
    json_decref(j);
    j = js("{\"id\":7}");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "updated_at");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"yesterday\"}");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "updated_at");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"order_lines\":[{\"sku\":\"A\",\"quantity\":0}]}");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "order_lines[0].quantity");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"order_lines\":{}}");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "order_lines");
    json_decref(j);
    j = js("{\"id\":7,\"updated_at\":\"2024-01-01T00:00:00Z\","
           "\"delivery_price\":\"abc\"}");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "delivery_price");
    json_decref(j);
    j = js("[1]");
    T_ASSERT_EQ(orders_parse(j, &o, err, sizeof(err)), -1);
    json_decref(j);
}

static void test_raw_event(void)
{
    struct event ev;
    char err[256];
    const char *ok =
        "{\"type\":\"orders.raw\",\"v\":1,"
        "\"id\":\"0b9f3f4e-2f4a-4d8e-9a53-0a8f0e2b7c11\","
        "\"ts\":\"2026-01-02T03:04:05.678+00:00\",\"store\":\"web\","
        "\"key\":\"web:400000001\",\"data\":{\"source\":\"webhook\","
        "\"order\":{\"id\":400000001,"
        "\"updated_at\":\"2023-11-22T14:24:30.123+03:00\"}}}";
    char bad[1024];

    T_ASSERT_EQ(event_decode(&ev, ok, strlen(ok), err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(ev.type, ORDERS_EVENT_RAW);
    event_clear(&ev);
    /* Key must be store:order id. */
    snprintf(bad, sizeof(bad), "%s", ok);
    memcpy(strstr(bad, "web:400000001"), "web:400000002", 13);
    T_ASSERT_EQ(event_decode(&ev, bad, strlen(bad), err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "key");
    /* Source is webhook or poll. */
    snprintf(bad, sizeof(bad), "%s", ok);
    memcpy(strstr(bad, "webhook"), "webhoox", 7);
    T_ASSERT_EQ(event_decode(&ev, bad, strlen(bad), err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.source");
    /* updated_at must be a timestamp. */
    snprintf(bad, sizeof(bad), "%s", ok);
    memcpy(strstr(bad, "2023-11-22T"), "2023-11-22X", 11);
    T_ASSERT_EQ(event_decode(&ev, bad, strlen(bad), err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.order.updated_at");
}

static void test_transition(void)
{
    enum orders_stock n;

    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_NONE, "new", &n),
                ORDERS_ACT_RESERVE);
    T_ASSERT_EQ(n, ORDERS_STOCK_RESERVED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_NONE, "dispatched", &n),
                ORDERS_ACT_RESERVE | ORDERS_ACT_SHIP);
    T_ASSERT_EQ(n, ORDERS_STOCK_SHIPPED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_NONE, "declined", &n), 0);
    T_ASSERT_EQ(n, ORDERS_STOCK_RELEASED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RESERVED, "accepted", &n), 0);
    T_ASSERT_EQ(n, ORDERS_STOCK_RESERVED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RESERVED, "declined", &n),
                ORDERS_ACT_RELEASE);
    T_ASSERT_EQ(n, ORDERS_STOCK_RELEASED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RESERVED, "returned", &n),
                ORDERS_ACT_RELEASE);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RESERVED, "delivered", &n),
                ORDERS_ACT_SHIP);
    T_ASSERT_EQ(n, ORDERS_STOCK_SHIPPED);
    /* Delivered after dispatched: once. */
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_SHIPPED, "delivered", &n), 0);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_SHIPPED, "returned", &n),
                ORDERS_ACT_RETURN);
    T_ASSERT_EQ(n, ORDERS_STOCK_RETURNED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_SHIPPED, "declined", &n),
                ORDERS_ACT_ODD);
    T_ASSERT_EQ(n, ORDERS_STOCK_SHIPPED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RETURNED, "returned", &n), 0);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RELEASED, "declined", &n), 0);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RELEASED, "new", &n),
                ORDERS_ACT_ODD);
    T_ASSERT_EQ(n, ORDERS_STOCK_RELEASED);
    T_ASSERT_STR_EQ(orders_stock_name(ORDERS_STOCK_SHIPPED), "shipped");
    T_ASSERT_EQ(orders_stock_parse("returned"), ORDERS_STOCK_RETURNED);
    T_ASSERT_EQ(orders_stock_parse("x"), -1);
}

static void test_allocate(void)
{
    long long avail[3] = {2, 5, 10}, take[3];

    T_ASSERT_EQ(orders_allocate(1, avail, 3, take), 1);
    T_ASSERT(take[0] == 1 && take[1] == 0 && take[2] == 0);
    T_ASSERT_EQ(orders_allocate(6, avail, 3, take), 6);
    T_ASSERT(take[0] == 2 && take[1] == 4 && take[2] == 0);
    T_ASSERT_EQ(orders_allocate(20, avail, 3, take), 17);
    T_ASSERT(take[0] == 2 && take[1] == 5 && take[2] == 10);
    avail[0] = -3; /* oversold location: skipped, never negative */
    T_ASSERT_EQ(orders_allocate(4, avail, 3, take), 4);
    T_ASSERT(take[0] == 0 && take[1] == 4 && take[2] == 0);
    T_ASSERT_EQ(orders_allocate(4, avail, 0, take), 0);
}

int main(void)
{
    test_version();
    test_parse();
    test_raw_event();
    test_transition();
    test_allocate();
    T_DONE();
}
