/*
 * test_strmap — lib/strmap: lookups of present and absent keys across
 * growth (10,000 keys, so probing runs past collisions), replacement keeps
 * one entry, prefixes and the empty key are keys of their own, the empty
 * map, and free leaving an empty map.
 */
#include "lib/strmap.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS 10000

static void test_many(void)
{
    static char keys[NKEYS][24];
    struct strmap m = {0};
    char absent[24];
    int i, bad = 0;

    for (i = 0; i < NKEYS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "SKU-%05d-RED", i);
        T_CHECK(strmap_put(&m, keys[i], i) == 0, "put %s", keys[i]);
    }
    T_CHECK(m.n == NKEYS, "n is %zu", m.n);
    T_CHECK(m.n * 4 <= m.cap * 3, "load 3/4 at most: %zu of %zu", m.n, m.cap);
    for (i = 0; i < NKEYS; i++)
        bad += strmap_get(&m, keys[i]) != i;
    T_CHECK(bad == 0, "%d of %d keys read back wrong", bad, NKEYS);
    for (i = 0, bad = 0; i < NKEYS; i++) {
        snprintf(absent, sizeof(absent), "SKU-%05d-BLUE", i);
        bad += strmap_get(&m, absent) != -1;
    }
    T_CHECK(bad == 0, "%d absent keys found", bad);
    strmap_free(&m);
    T_CHECK(!m.slots && m.cap == 0 && m.n == 0, "free empties the map");
    T_CHECK(strmap_get(&m, keys[0]) == -1, "a freed map finds nothing");
}

static void test_replace(void)
{
    struct strmap m = {0};
    char a[] = "article", b[] = "article";

    T_CHECK(strmap_get(&m, "x") == -1, "the empty map finds nothing");
    T_CHECK(strmap_put(&m, a, 1) == 0 && strmap_put(&m, b, 7) == 0, "puts");
    T_CHECK(m.n == 1, "an equal key replaces: n is %zu", m.n);
    T_CHECK(strmap_get(&m, "article") == 7, "the later value wins");
    T_CHECK(strmap_get(&m, "articl") == -1 && strmap_get(&m, "article ") == -1,
            "a prefix or a longer key is another key");
    T_CHECK(strmap_get(&m, "") == -1, "the empty key is absent");
    T_CHECK(strmap_put(&m, "", 3) == 0 && strmap_get(&m, "") == 3,
            "the empty key is a key");
    strmap_free(&m);
}

int main(void)
{
    test_many();
    test_replace();
    T_DONE();
}
