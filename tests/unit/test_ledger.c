/*
 * test_ledger — the pure part of the ledger: what a store may sell.
 * (Movements, levels and events are covered against Postgres by
 * tests/integration/cli/.)
 */
#include "ledger/ledger.h"
#include "t.h"

int main(void)
{
    /* available = on hand - reserved - safety stock, never below 0 */
    T_ASSERT_EQ(ledger_available_calc(10, 0, 0), 10);
    T_ASSERT_EQ(ledger_available_calc(10, 3, 0), 7);
    T_ASSERT_EQ(ledger_available_calc(10, 3, 2), 5);
    T_ASSERT_EQ(ledger_available_calc(5, 3, 2), 0);
    T_ASSERT_EQ(ledger_available_calc(5, 3, 3), 0);
    T_ASSERT_EQ(ledger_available_calc(0, 0, 0), 0);
    /* A location sold more than the ledger knew: negative on hand. */
    T_ASSERT_EQ(ledger_available_calc(-4, 0, 0), 0);
    T_ASSERT_EQ(ledger_available_calc(-4, 1, 2), 0);
    T_ASSERT_EQ(ledger_available_calc(0, 0, 5), 0);
    T_ASSERT_EQ(ledger_available_calc(1000000000000LL, 1, 1), 999999999998LL);
    T_DONE();
}
