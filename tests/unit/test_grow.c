/*
 * test_grow — lib/grow: the capacity doubles from the first size until
 * the need fits, a need that fits changes nothing, the bytes are kept.
 */
#include "lib/grow.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *buf = NULL, *was;
    size_t cap = 0, need;

    T_ASSERT_EQ(grow_to(&buf, &cap, 0, 16), 0); /* fits: nothing */
    T_ASSERT(buf == NULL);
    T_ASSERT_EQ(cap, 0);
    T_ASSERT_EQ(grow_to(&buf, &cap, 1, 16), 0);
    T_ASSERT(buf != NULL);
    T_ASSERT_EQ(cap, 16);
    memcpy(buf, "0123456789abcdef", 16);
    was = buf;
    T_ASSERT_EQ(grow_to(&buf, &cap, 16, 16), 0);
    T_ASSERT(buf == was);
    T_ASSERT_EQ(cap, 16);
    T_ASSERT_EQ(grow_to(&buf, &cap, 17, 16), 0);
    T_ASSERT_EQ(cap, 32);
    T_ASSERT(buf != NULL && memcmp(buf, "0123456789abcdef", 16) == 0);
    T_ASSERT_EQ(grow_to(&buf, &cap, 1000, 16), 0);
    T_ASSERT_EQ(cap, 1024);
    for (need = 1025; need < 70000; need += 4099) {
        T_ASSERT_EQ(grow_to(&buf, &cap, need, 16), 0);
        T_ASSERT(cap >= need && cap < 2 * need);
    }
    T_ASSERT(buf != NULL && memcmp(buf, "0123456789abcdef", 16) == 0);
    /* A need the doubling cannot reach: -1, the buffer and its capacity
     * unchanged (no allocation tried). */
    was = buf;
    need = cap;
    T_ASSERT_EQ(grow_to(&buf, &cap, (size_t)-1 / 2 + 2, 16), -1);
    T_ASSERT(buf == was);
    T_ASSERT_EQ(cap, need);
    free(buf);
    T_DONE();
}
