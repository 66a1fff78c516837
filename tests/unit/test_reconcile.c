/*
 * test_reconcile — drift computation of `omnisync reconcile` (reconcile.h):
 * money comparison, matching by remote id then SKU, missing
 * and unknown sets, JSON shape.
 */
#include "store/reconcile.h"
#include "t.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_money(void)
{
    /* reconcile_money_norm() gave way to lib/money (test_money.c). */
    T_ASSERT(reconcile_money_eq("01500.50", "1500.5"));
    T_ASSERT(reconcile_money_eq("7,05", "7.05"));
    T_ASSERT(reconcile_money_eq("-0.00", "0"));
    T_ASSERT(reconcile_money_eq("-3.10", "-3.1"));
    T_ASSERT(!reconcile_money_eq("-3.10", "3.10"));
    T_ASSERT(reconcile_money_eq("1500.0", "1500.00"));
    T_ASSERT(reconcile_money_eq("1500", "1500.00"));
    T_ASSERT(reconcile_money_eq("200.1", "200.10"));
    T_ASSERT(!reconcile_money_eq("200.1", "200.01"));
    T_ASSERT(!reconcile_money_eq("1500.0", "150.00"));
    T_ASSERT(reconcile_money_eq(NULL, NULL));
    T_ASSERT(!reconcile_money_eq(NULL, "0.00"));
    T_ASSERT(!reconcile_money_eq("1.00", NULL));
    T_ASSERT(reconcile_money_eq("x", "x"));
    T_ASSERT(!reconcile_money_eq("x", "1"));

    T_ASSERT(reconcile_old_price_eq(NULL, NULL));
    T_ASSERT(reconcile_old_price_eq("0.0", NULL));
    T_ASSERT(reconcile_old_price_eq(NULL, "0.00"));
    T_ASSERT(!reconcile_old_price_eq(NULL, "210.00"));
    T_ASSERT(reconcile_old_price_eq("210.0", "210.00"));
}

/* A ledger variant. */
static void lv(struct reconcile_lvars *l, long long vid, long long rid,
               const char *sku, long long avail, const char *price,
               const char *old)
{
    struct reconcile_lvar v;

    memset(&v, 0, sizeof(v));
    v.variant_id = vid;
    v.remote_id = rid;
    v.sku = (char *)sku;
    v.available = avail;
    v.price = (char *)price;
    v.old_price = (char *)old;
    T_ASSERT_EQ(reconcile_lvars_add(l, &v), 0);
}

static void sv(struct store_variants *s, long long id, const char *sku,
               int hasq, long long q, const char *price, const char *old)
{
    struct store_variant v;

    memset(&v, 0, sizeof(v));
    v.id = id;
    v.product_id = 1;
    v.sku = (char *)sku;
    v.has_quantity = hasq;
    v.quantity = q;
    v.price = (char *)price;
    v.old_price = (char *)old;
    T_ASSERT_EQ(store_variants_add(s, &v), 0);
}

static void test_compare(void)
{
    struct reconcile_lvars l;
    struct store_variants s;
    struct reconcile_report rep;
    json_t *j;
    char *txt;

    memset(&l, 0, sizeof(l));
    memset(&s, 0, sizeof(s));
    /* equal (money formats differ), mapped by remote id */
    lv(&l, 1, 201, "A", 5, "1500.00", NULL);
    sv(&s, 201, "A", 1, 5, "1500.0", NULL);
    /* quantity drift; store SKU renamed, still matched by remote id */
    lv(&l, 2, 202, "B", 0, "10.00", "20.00");
    sv(&s, 202, "B-renamed", 1, 7, "10.0", "20.0");
    /* price + old price drift, matched by SKU only (no remote id) */
    lv(&l, 3, 0, "C", 2, "99.00", NULL);
    sv(&s, 203, "C", 1, 2, "98.0", "150.0");
    /* quantity null in the store */
    lv(&l, 4, 204, "D", 1, "1.00", NULL);
    sv(&s, 204, "D", 0, 0, "1.0", "0.0");
    /* missing in the store (its remote id is not there) */
    lv(&l, 5, 999, "E", 3, "5.00", NULL);
    /* unknown in the store: a SKU the ledger lacks, and no SKU at all */
    sv(&s, 205, "ZZZ", 1, 1, "1.0", NULL);
    sv(&s, 206, NULL, 1, 1, "1.0", NULL);
    /* a duplicate of A's SKU in the store: A is taken, so unknown */
    sv(&s, 207, "A", 1, 5, "1500.0", NULL);

    T_ASSERT_EQ(reconcile_compare(&l, &s, &rep), 0);
    T_ASSERT_EQ(rep.n_store, 7);
    T_ASSERT_EQ(rep.n_ledger, 5);
    T_ASSERT_EQ(rep.n_matched, 4);
    T_ASSERT_EQ(rep.n_drift, 4);
    T_ASSERT_EQ(rep.n_drift_variants, 3);
    T_ASSERT_STR_EQ(rep.drift[0].sku, "B");
    T_ASSERT_STR_EQ(rep.drift[0].field, "quantity");
    T_ASSERT_STR_EQ(rep.drift[0].store, "7");
    T_ASSERT_STR_EQ(rep.drift[0].ledger, "0");
    T_ASSERT_EQ(rep.drift[0].by_sku, 0);
    T_ASSERT_EQ(rep.drift[0].variant_id, 2);
    T_ASSERT_EQ(rep.drift[0].remote_id, 202);
    T_ASSERT_STR_EQ(rep.drift[1].sku, "C");
    T_ASSERT_STR_EQ(rep.drift[1].field, "price");
    T_ASSERT_STR_EQ(rep.drift[1].store, "98.0");
    T_ASSERT_STR_EQ(rep.drift[1].ledger, "99.00");
    T_ASSERT_EQ(rep.drift[1].by_sku, 1);
    T_ASSERT_STR_EQ(rep.drift[2].field, "old_price");
    T_ASSERT_STR_EQ(rep.drift[2].store, "150.0");
    T_ASSERT_STR_EQ(rep.drift[2].ledger, "null");
    T_ASSERT_STR_EQ(rep.drift[3].sku, "D");
    T_ASSERT_STR_EQ(rep.drift[3].field, "quantity");
    T_ASSERT_STR_EQ(rep.drift[3].store, "null");
    T_ASSERT_STR_EQ(rep.drift[3].ledger, "1");
    T_ASSERT_EQ(rep.n_missing, 1);
    T_ASSERT_STR_EQ(rep.missing[0], "E");
    T_ASSERT_EQ(rep.n_unknown, 3);
    T_ASSERT_STR_EQ(rep.unknown[0], "ZZZ");
    T_ASSERT_STR_EQ(rep.unknown[1], "#206");
    T_ASSERT_STR_EQ(rep.unknown[2], "A");
    T_ASSERT(!reconcile_report_clean(&rep));

    j = reconcile_report_json("S1", &rep);
    T_ASSERT(j != NULL);
    txt = json_dumps(j, JSON_COMPACT);
    T_ASSERT_STR_CONTAINS(txt, "\"store\":\"S1\"");
    T_ASSERT_STR_CONTAINS(txt, "{\"sku\":\"B\",\"field\":\"quantity\","
                               "\"store\":\"7\",\"ledger\":\"0\"}");
    T_ASSERT_STR_CONTAINS(txt, "\"ledger\":null");
    T_ASSERT_STR_CONTAINS(txt, "\"missing_in_store\":[\"E\"]");
    T_ASSERT_STR_CONTAINS(txt, "\"unknown_in_store\":[\"ZZZ\",\"#206\",\"A\"]");
    free(txt);
    json_decref(j);
    reconcile_report_clear(&rep);
    T_ASSERT_EQ(rep.n_drift, 0);

    /* everything equal: clean */
    reconcile_lvars_clear(&l);
    store_variants_clear(&s);
    lv(&l, 1, 201, "A", 0, "10.00", "0.00");
    sv(&s, 201, "A", 1, 0, "10.0", NULL);
    T_ASSERT_EQ(reconcile_compare(&l, &s, &rep), 0);
    T_ASSERT(reconcile_report_clean(&rep));
    j = reconcile_report_json("S1", &rep);
    txt = json_dumps(j, JSON_COMPACT);
    T_ASSERT_STR_EQ(txt, "{\"store\":\"S1\",\"drift\":[],\"missing_in_store\":"
                         "[],\"unknown_in_store\":[]}");
    free(txt);
    json_decref(j);
    reconcile_report_clear(&rep);

    /* empty both sides */
    reconcile_lvars_clear(&l);
    store_variants_clear(&s);
    T_ASSERT_EQ(reconcile_compare(&l, &s, &rep), 0);
    T_ASSERT(reconcile_report_clean(&rep));
    reconcile_report_clear(&rep);
}

/* A large set: 10,000 variants, every 7th drifts, matched by remote id. */
static void test_many(void)
{
    struct reconcile_lvars l;
    struct store_variants s;
    struct reconcile_report rep;
    char sku[32];
    int i;

    memset(&l, 0, sizeof(l));
    memset(&s, 0, sizeof(s));
    for (i = 0; i < 10000; i++) {
        snprintf(sku, sizeof(sku), "S-%05d", i);
        lv(&l, i + 1, 1000000 + (9999 - i), sku, i % 5, "1.00", NULL);
        sv(&s, 1000000 + (9999 - i), sku, 1, i % 7 == 0 ? 99 : i % 5, "1.0",
           NULL);
    }
    T_ASSERT_EQ(reconcile_compare(&l, &s, &rep), 0);
    T_ASSERT_EQ(rep.n_matched, 10000);
    T_ASSERT_EQ(rep.n_drift, 1429);
    T_ASSERT_EQ(rep.n_missing, 0);
    T_ASSERT_EQ(rep.n_unknown, 0);
    reconcile_report_clear(&rep);
    reconcile_lvars_clear(&l);
    store_variants_clear(&s);
}

int main(void)
{
    test_money();
    test_compare();
    test_many();
    T_DONE();
}
