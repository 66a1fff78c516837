/* Unit tests of store-sim's model: (updated_at, id) ordering, clock. */
#include <string.h>

#include "devtools/store-sim/sim_db.h"
#include "devtools/store-sim/sim_products.h"
#include "t.h"

/* Hides string literals from cppcheck's literal-to-bool check in t.h. */
static const char *lit(const char *s)
{
    return s;
}

int main(void)
{
    struct sim_tlist l;
    struct sim_touch n[5];
    struct sim_touch *t;
    struct sim_opts o;
    struct sim_db *db;
    json_t *in, *errors = NULL, *pj;
    int64_t a, b, id;
    int64_t order[5] = {0};
    int k = 0;

    memset(&l, 0, sizeof(l));
    memset(n, 0, sizeof(n));
    for (int i = 0; i < 5; i++)
        n[i].id = 10 + i;
    sim_tlist_touch(&l, &n[3], 100);
    sim_tlist_touch(&l, &n[1], 100); /* same ms, smaller id: goes first */
    sim_tlist_touch(&l, &n[4], 200);
    sim_tlist_touch(&l, &n[0], 300);
    sim_tlist_touch(&l, &n[3], 300); /* moved; ties ordered by id */
    for (t = l.head; t && k < 5; t = t->next)
        order[k++] = t->id;
    T_ASSERT_EQ(k, 4);
    T_ASSERT_EQ(order[0], 11);
    T_ASSERT_EQ(order[1], 14);
    T_ASSERT_EQ(order[2], 10);
    T_ASSERT_EQ(order[3], 13);
    T_ASSERT(sim_tlist_from(&l, 200) == &n[4]);
    T_ASSERT(sim_tlist_from(&l, 201) == &n[0]);
    T_ASSERT(sim_tlist_from(&l, 301) == NULL);
    T_ASSERT(l.tail == &n[3]);

    memset(&o, 0, sizeof(o));
    o.max_image_bytes = 1000;
    o.per_page_default = 25;
    db = sim_db_new(&o, NULL);
    T_ASSERT(db != NULL);
    if (!db)
        T_DONE();
    a = sim_db_clock(db);
    b = sim_db_clock(db);
    T_ASSERT(b > a); /* strictly increasing even within one ms */

    in = json_loads("{\"title\":\"T\",\"variants_attributes\":[{\"sku\":"
                    "\"S1\",\"price\":\"10.5\",\"quantity\":2}]}",
                    0, NULL);
    id = sim_product_create(db, in, sim_db_clock(db), &errors);
    T_ASSERT(id > 0);
    T_ASSERT(errors == NULL);
    pj = sim_product_json(db, sim_db_product(db, id), 0);
    T_ASSERT_STR_EQ(
        json_string_value(json_object_get(
            json_array_get(json_object_get(pj, "variants"), 0), "price")),
        lit("10.5"));
    json_decref(pj);
    json_decref(in);

    /* Invalid: undefined key in variants_attributes, nothing created. */
    in = json_loads("{\"title\":\"T\",\"variants_attributes\":[{\"sku\":"
                    "\"S2\",\"external_id\":\"x\"}]}",
                    0, NULL);
    T_ASSERT_EQ(sim_product_create(db, in, sim_db_clock(db), &errors), -1);
    T_ASSERT(json_object_get(errors, "variants_attributes") != NULL);
    T_ASSERT_EQ(db->products.live, 1);
    T_ASSERT_EQ(db->variants.live, 1);
    json_decref(errors);
    json_decref(in);

    sim_db_reset(db);
    T_ASSERT_EQ(db->products.live, 0);
    sim_db_destroy(db);
    sim_db_destroy(NULL);
    T_DONE();
}
