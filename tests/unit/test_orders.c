/*
 * test_orders — the pure parts of ledger/orders.c: the stock state machine
 * and the reservation split.
 */
#include "ledger/orders.h"
#include "t.h"

static void test_transition(void)
{
    enum orders_stock n;

    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_NONE, ORDER_STATUS_NEW, &n),
                ORDERS_ACT_RESERVE);
    T_ASSERT_EQ(n, ORDERS_STOCK_RESERVED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_NONE, ORDER_STATUS_SHIPPED, &n),
                ORDERS_ACT_RESERVE | ORDERS_ACT_SHIP);
    T_ASSERT_EQ(n, ORDERS_STOCK_SHIPPED);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_NONE, ORDER_STATUS_CANCELLED, &n), 0);
    T_ASSERT_EQ(n, ORDERS_STOCK_RELEASED);
    /* A later open version brings the reservation to its lines. */
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_RESERVED, ORDER_STATUS_ACCEPTED, &n),
        ORDERS_ACT_RESERVE);
    T_ASSERT_EQ(n, ORDERS_STOCK_RESERVED);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_RESERVED, ORDER_STATUS_CANCELLED, &n),
        ORDERS_ACT_RELEASE);
    T_ASSERT_EQ(n, ORDERS_STOCK_RELEASED);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_RESERVED, ORDER_STATUS_RETURNED, &n),
        ORDERS_ACT_RELEASE);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_RESERVED, ORDER_STATUS_DELIVERED, &n),
        ORDERS_ACT_RESERVE | ORDERS_ACT_SHIP);
    T_ASSERT_EQ(n, ORDERS_STOCK_SHIPPED);
    /* Delivered after dispatched: once. */
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_SHIPPED, ORDER_STATUS_DELIVERED, &n), 0);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_SHIPPED, ORDER_STATUS_RETURNED, &n),
        ORDERS_ACT_RETURN);
    T_ASSERT_EQ(n, ORDERS_STOCK_RETURNED);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_SHIPPED, ORDER_STATUS_CANCELLED, &n),
        ORDERS_ACT_RETURN); /* cancelled after shipment: returned */
    T_ASSERT_EQ(n, ORDERS_STOCK_RETURNED);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_SHIPPED, ORDER_STATUS_NEW, &n),
                ORDERS_ACT_ODD);
    T_ASSERT_EQ(n, ORDERS_STOCK_SHIPPED);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_RETURNED, ORDER_STATUS_RETURNED, &n), 0);
    T_ASSERT_EQ(
        orders_transition(ORDERS_STOCK_RELEASED, ORDER_STATUS_CANCELLED, &n),
        0);
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_RELEASED, ORDER_STATUS_NEW, &n),
                ORDERS_ACT_ODD);
    T_ASSERT_EQ(n, ORDERS_STOCK_RELEASED);
    /* A shop's own status is still open: reserve. */
    T_ASSERT_EQ(orders_transition(ORDERS_STOCK_NONE, ORDER_STATUS_OTHER, &n),
                ORDERS_ACT_RESERVE);
    T_ASSERT_EQ(n, ORDERS_STOCK_RESERVED);
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
    test_transition();
    test_allocate();
    T_DONE();
}
