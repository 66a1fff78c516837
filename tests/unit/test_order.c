/*
 * test_order — the neutral order's pure parts (events/order.c):
 * timestamps and version comparison, money text, the orders.raw event
 * contract, status names and clearing.
 */
#include "events/event.h"
#include "events/order.h"
#include "t.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_ts(void)
{
    long long a, b;

    T_ASSERT_EQ(order_ts_parse("1970-01-01T00:00:00Z", &a), 0);
    T_ASSERT_EQ(a, 0);
    T_ASSERT_EQ(order_ts_parse("1970-01-01T03:00:00.000+03:00", &a), 0);
    T_ASSERT_EQ(a, 0);
    T_ASSERT_EQ(order_ts_parse("2023-11-22T14:24:30.123+03:00", &a), 0);
    T_ASSERT_EQ(order_ts_parse("2023-11-22T11:24:30.123Z", &b), 0);
    T_ASSERT_EQ(a, b);
    T_ASSERT_EQ(a, 1700652270123000LL);
    T_ASSERT_EQ(order_ts_parse("2023-11-22T14:24:30.1234567+03:00", &b), 0);
    T_ASSERT_EQ(b - a, 456); /* digits past µs are ignored */
    /* lib/clock's grammar: no space separator. */
    T_ASSERT_EQ(order_ts_parse("2023-11-22 14:24:30.123+03:00", &b), -1);
    T_ASSERT_EQ(order_ts_parse("2023-11-22T14:24:30", &a), -1); /* offset */
    T_ASSERT_EQ(order_ts_parse("2023-13-22T14:24:30Z", &a), -1);
    T_ASSERT_EQ(order_ts_parse("2023-11-22T14:24:30+0300", &a), -1);
    T_ASSERT_EQ(order_ts_parse("2023-11-22T14:24:30Zx", &a), -1);
    T_ASSERT_EQ(order_ts_parse("", &a), -1);
    T_ASSERT_EQ(order_ts_parse(NULL, &a), -1);
}

static void test_version(void)
{
    /* Newer by one millisecond. */
    T_ASSERT_EQ(order_version_newer("2023-11-22T14:24:30.124+03:00",
                                    "2023-11-22T14:24:30.123+03:00"),
                1);
    /* Same instant, other offsets: not newer. */
    T_ASSERT_EQ(order_version_newer("2023-11-22T11:24:30.123Z",
                                    "2023-11-22T14:24:30.123+03:00"),
                0);
    /* Older: never overwrites. */
    T_ASSERT_EQ(order_version_newer("2023-11-22T14:24:29.999+03:00",
                                    "2023-11-22T14:24:30.000+03:00"),
                0);
    /* Later wall-clock text but earlier instant (offset matters). */
    T_ASSERT_EQ(order_version_newer("2023-11-22T14:00:00.000+05:00",
                                    "2023-11-22T12:00:00.001+03:00"),
                0);
    T_ASSERT_EQ(order_version_newer("garbage", "2023-11-22T12:00:00Z"), -1);
}

static void test_money(void)
{
    char b[32];
    json_t *v;

    v = json_string("1500.0");
    T_ASSERT_EQ(order_money_text(v, b, sizeof(b)), 0);
    T_ASSERT_STR_EQ(b, "1500.00");
    json_decref(v);
    v = json_string("7,5");
    T_ASSERT_EQ(order_money_text(v, b, sizeof(b)), 0);
    T_ASSERT_STR_EQ(b, "7.50");
    json_decref(v);
    v = json_real(12.5);
    T_ASSERT_EQ(order_money_text(v, b, sizeof(b)), 0);
    T_ASSERT_STR_EQ(b, "12.50");
    json_decref(v);
    v = json_integer(300);
    T_ASSERT_EQ(order_money_text(v, b, sizeof(b)), 0);
    T_ASSERT_STR_EQ(b, "300.00");
    json_decref(v);
    v = json_string("12.");
    T_ASSERT_EQ(order_money_text(v, b, sizeof(b)), -1);
    json_decref(v);
    v = json_string("1e5");
    T_ASSERT_EQ(order_money_text(v, b, sizeof(b)), -1);
    json_decref(v);
    v = json_string("1;DROP");
    T_ASSERT_EQ(order_money_text(v, b, sizeof(b)), -1);
    json_decref(v);
    T_ASSERT_EQ(order_money_text(json_null(), b, sizeof(b)), -1);
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
    T_ASSERT_STR_EQ(ev.type, ORDER_EVENT_RAW);
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

static void test_key(void)
{
    char k[16];

    T_ASSERT_EQ(order_raw_key("web", 400000001, k, sizeof(k)), 0);
    T_ASSERT_STR_EQ(k, "web:400000001");
    T_ASSERT_EQ(order_raw_key("a-long-store", 400000001, k, sizeof(k)), -1);
}

static void test_status_and_clear(void)
{
    struct order o;

    T_ASSERT_STR_EQ(order_status_name(ORDER_STATUS_NEW), "new");
    T_ASSERT_STR_EQ(order_status_name(ORDER_STATUS_CANCELLED), "cancelled");
    T_ASSERT_STR_EQ(order_status_name((enum order_status)99), "?");
    memset(&o, 0, sizeof(o));
    o.number = strdup("1001");
    o.status_label = strdup("new");
    o.lines = calloc(1, sizeof(*o.lines));
    T_ASSERT(o.lines != NULL);
    if (o.lines) {
        o.nlines = 1;
        o.lines[0].sku = strdup("A");
    }
    o.client = json_object();
    order_clear(&o);
    T_ASSERT(o.number == NULL && o.lines == NULL && o.nlines == 0);
    T_ASSERT(o.client == NULL);
    order_clear(&o); /* idempotent */
    order_clear(NULL);
}

int main(void)
{
    test_ts();
    test_version();
    test_money();
    test_raw_event();
    test_key();
    test_status_and_clear();
    T_DONE();
}
