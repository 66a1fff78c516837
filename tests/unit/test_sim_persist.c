/* Unit tests of store-sim's shop file: dump, write, load round trip, the
 * (updated_at, id) lists rebuilt, ids going on, errors naming the problem,
 * one store-sim per directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devtools/store-sim/sim_db.h"
#include "devtools/store-sim/sim_persist.h"
#include "devtools/store-sim/sim_products.h"
#include "t.h"

static struct sim_db *new_db(void)
{
    struct sim_opts o;

    memset(&o, 0, sizeof(o));
    o.max_image_bytes = 1000;
    o.per_page_default = 25;
    return sim_db_new(&o, NULL);
}

static int64_t add_product(struct sim_db *db, const char *body)
{
    json_t *in = json_loads(body, 0, NULL), *errors = NULL;
    int64_t id = sim_product_create(db, in, sim_db_clock(db), &errors);

    json_decref(in);
    json_decref(errors);
    return id;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Load @p text as DIR/shop.json into a fresh db; the error into @p err. */
static int load_text(const char *dir, const char *text, char *err, size_t errsz)
{
    char path[512];
    struct sim_persist *p;
    struct sim_db *db = new_db();
    int rc;

    snprintf(path, sizeof(path), "%s/shop.json", dir);
    if (write_file(path, text) != 0)
        return -9;
    p = sim_persist_new(dir, err, errsz);
    rc = p ? sim_persist_load(p, db, err, errsz) : -9;
    sim_persist_destroy(p);
    sim_db_destroy(db);
    return rc;
}

int main(void)
{
    char tmpl[] = "/tmp/test_sim_persist.XXXXXX", err[512], path[600];
    char *dir = mkdtemp(tmpl), *text = NULL, *again = NULL;
    struct sim_persist *p = NULL, *p2;
    struct sim_db *db = new_db(), *db2 = new_db();
    int64_t a, b, c;

    T_ASSERT(dir != NULL && db != NULL && db2 != NULL);
    if (!dir || !db || !db2)
        T_DONE();

    /* A fresh directory: no shop yet, the db left alone. */
    p = sim_persist_new(dir, err, sizeof(err));
    T_ASSERT(p != NULL);
    if (!p)
        T_DONE();
    T_ASSERT_EQ(sim_persist_load(p, db2, err, sizeof(err)), 0);
    T_ASSERT_EQ(db2->categories.live, 1);

    /* One store-sim per directory. */
    p2 = sim_persist_new(dir, err, sizeof(err));
    T_ASSERT(p2 == NULL);
    T_ASSERT_STR_CONTAINS(err, "in use by another store-sim");

    a = add_product(db, "{\"title\":\"A\",\"variants_attributes\":[{\"sku\":"
                        "\"A1\",\"price\":\"10.5\",\"quantity\":2},{\"sku\":"
                        "\"A2\",\"price\":\"1\",\"old_price\":\"2\"}]}");
    b = add_product(db, "{\"title\":\"B\",\"options\":[{\"title\":\"Цвет\"}],"
                        "\"variants_attributes\":[{\"sku\":\"B1\",\"price\":"
                        "\"3\",\"options\":[{\"title\":\"Цвет\",\"value\":"
                        "\"Red\"}]}]}");
    T_ASSERT(a > 0 && b > a);
    sim_product_touch(db, sim_db_product(db, a), sim_db_clock(db));

    text = sim_persist_dump(db);
    T_ASSERT(text != NULL);
    T_ASSERT_EQ(sim_persist_write(p, text, 1, err, sizeof(err)), 0);
    /* An older snapshot never replaces a newer one. */
    T_ASSERT_EQ(sim_persist_write(p, "{}", 0, err, sizeof(err)), 0);
    T_ASSERT_EQ(sim_persist_load(p, db2, err, sizeof(err)), 1);
    again = sim_persist_dump(db2);
    T_ASSERT_STR_EQ(again, text); /* the same shop, byte for byte */
    T_ASSERT_EQ(db2->products.live, 2);
    T_ASSERT_EQ(db2->variants.live, 3);
    T_ASSERT_EQ(db2->clock_last, db->clock_last);
    /* The (updated_at, id) list: b, then a (touched last). */
    T_ASSERT(db2->ptl.head && db2->ptl.head->id == b);
    T_ASSERT(db2->ptl.tail && db2->ptl.tail->id == a);
    T_ASSERT_EQ(sim_db_product(db2, b)->n_options, 1);
    T_ASSERT_STR_EQ(
        sim_db_variant(db2, sim_db_product(db2, a)->variants.v[1])->sku, "A2");
    T_ASSERT_EQ(sim_db_variant(db2, sim_db_product(db2, a)->variants.v[1])
                    ->has_old_price,
                1);
    /* Ids go on after the loaded ones. */
    c = add_product(db2, "{\"title\":\"C\"}");
    T_ASSERT_EQ(c, b + 1);
    sim_persist_destroy(p);
    p = NULL;

    /* Errors: each names what is wrong. */
    T_ASSERT_EQ(load_text(dir, "{\"store_sim_shop\":1,", err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "shop.json: line 1");
    T_ASSERT_EQ(load_text(dir, "[]", err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "not a store-sim shop");
    T_ASSERT_EQ(load_text(dir, "{\"store_sim_shop\":7}", err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "format version 7");
    T_ASSERT_EQ(load_text(dir, "{\"store_sim_shop\":1}", err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "clock_last: not an integer");

    /* A duplicate key is refused too (JSON_REJECT_DUPLICATES). */
    T_ASSERT_EQ(load_text(dir, "{\"store_sim_shop\":1,\"store_sim_shop\":1}",
                          err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(err, "duplicate");

    /* The good file again loads. */
    snprintf(path, sizeof(path), "%s/shop.json", dir);
    T_ASSERT_EQ(load_text(dir, text, err, sizeof(err)), 1);

    free(text);
    free(again);
    sim_db_destroy(db);
    sim_db_destroy(db2);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/shop.json.tmp", dir);
    unlink(path);
    rmdir(dir);
    T_DONE();
}
