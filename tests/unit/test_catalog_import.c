/*
 * test_catalog_import — the parts of the catalog import that need no
 * database: money, group paths, and reading + validating fixture files
 * (errors as line:column), run from the repository root.
 */
#include "ledger/catalog_import.h"
#include "t.h"

/* Through variables: cppcheck flags a string literal inside T_ASSERT_STR_EQ's
 * NULL checks. */
#define STR_EQ(got, want)                                                      \
    do {                                                                       \
        const char *got_ = (got), *want_ = (want);                             \
        T_ASSERT_STR_EQ(got_, want_);                                          \
    } while (0)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void money_ok(const char *in, const char *want)
{
    char out[CATALOG_MONEY_SIZE] = "", why[256] = "";
    int rc = catalog_money_parse(in, strlen(in), out, why, sizeof(why));

    T_CHECK(rc == 0 && !strcmp(out, want), "money \"%s\" -> \"%s\" (%s)", in,
            out, why);
}

static void money_bad(const char *in, const char *reason)
{
    char out[CATALOG_MONEY_SIZE] = "", why[256] = "";
    int rc = catalog_money_parse(in, strlen(in), out, why, sizeof(why));

    T_CHECK(rc == -1 && strstr(why, reason), "money \"%s\" bad: %s", in, why);
}

static void test_money(void)
{
    money_ok("1500", "1500.00");
    money_ok("1500.5", "1500.50");
    money_ok("1500,50", "1500.50");
    money_ok(" 12,05 ", "12.05");
    money_ok("0", "0.00");
    money_ok("0,99", "0.99");
    money_ok("007", "7.00");
    money_ok("1 500,50", "1500.50");
    money_ok("1\xC2\xA0"
             "500,50",
             "1500.50"); /* NBSP */
    money_ok("1\xE2\x80\xAF"
             "500",
             "1500.00"); /* NARROW NBSP */
    money_ok("12 345 678,9", "12345678.90");
    money_ok("999999999999.99", "999999999999.99");
    money_bad("12,x", "not a number: \"12,x\"");
    money_bad("", "not a number");
    money_bad("abc", "not a number");
    money_bad("1,500.50", "not a number");
    money_bad("1 50", "not a number");     /* not a group of 3 */
    money_bad("1234 567", "not a number"); /* first group too long */
    money_bad("12.", "not a number");
    money_bad(".5", "not a number");
    money_bad("1e3", "not a number");
    money_bad("-5", "must not be negative");
    money_bad("1.005", "more than 2 decimals");
    money_bad("1000000000000", "too large");
}

static void group_ok(const char *in, const char *want)
{
    char *out = NULL, why[256] = "";
    int rc = catalog_group_path_parse(in, strlen(in), &out, why, sizeof(why));

    T_CHECK(rc == 0 && out && !strcmp(out, want), "group \"%s\" -> \"%s\"", in,
            out ? out : "(null)");
    free(out);
}

static void test_group(void)
{
    char *out = NULL, why[256] = "";

    group_ok("Одежда/Мужская/Рубашки", "Одежда/Мужская/Рубашки");
    group_ok(" Одежда / Мужская ", "Одежда/Мужская");
    group_ok("/A/B/", "A/B");
    group_ok("", "");
    group_ok("  ", "");
    group_ok("A", "A");
    T_ASSERT_EQ(catalog_group_path_parse("A//B", 4, &out, why, sizeof(why)),
                -1);
    T_ASSERT(out == NULL);
    T_ASSERT(strstr(why, "empty group name") != NULL);
    T_ASSERT_EQ(catalog_group_path_parse("A/ /B", 5, &out, why, sizeof(why)),
                -1);
}

/* Parse @p path; returns the import (caller destroys) and the rc. */
static struct catalog_import *parse(const char *path, int kind, const char *pl,
                                    int *rc, char *err, size_t err_size)
{
    struct catalog_import_opts o;
    struct catalog_import *ci;

    memset(&o, 0, sizeof(o));
    o.kind = (enum catalog_import_kind)kind;
    o.file = path;
    o.price_list = pl;
    ci = catalog_import_new(&o, err, err_size);
    T_ASSERT(ci != NULL);
    *rc = ci ? catalog_import_parse(ci, err, err_size) : -1;
    return ci;
}

/* "line:col: msg" of error @p i, for comparisons. */
static const char *err_at(struct catalog_import *ci, size_t i, char *buf,
                          size_t size)
{
    const struct catalog_import_error *e = catalog_import_error_get(ci, i);

    if (!e)
        return "(none)";
    snprintf(buf, size, "%ld:%ld: %s", e->line, e->col, e->msg);
    return buf;
}

static void test_fixtures(void)
{
    char err[512], buf[1024];
    const char *s;
    struct catalog_import *ci;
    int rc;

    ci = parse("tests/fixtures/catalog/small.csv", CATALOG_IMPORT_CATALOG,
               "RETAIL", &rc, err, sizeof(err));
    T_ASSERT_EQ(rc, CATALOG_IMPORT_OK);
    T_ASSERT_EQ(catalog_import_error_count(ci), 0);
    catalog_import_destroy(ci);

    /* Prices in the file but no price list: a usage error naming it. */
    ci = parse("tests/fixtures/catalog/small.csv", CATALOG_IMPORT_CATALOG, NULL,
               &rc, err, sizeof(err));
    T_ASSERT_EQ(rc, CATALOG_IMPORT_USAGE);
    s = err;
    T_ASSERT_STR_CONTAINS(s, "--price-list");
    catalog_import_destroy(ci);

    /* Bad rows, after a multi-line field and Cyrillic text: positions are
     * physical lines and UTF-8 character columns. */
    ci = parse("tests/fixtures/catalog/bad3.csv", CATALOG_IMPORT_CATALOG, NULL,
               &rc, err, sizeof(err));
    T_ASSERT_EQ(rc, CATALOG_IMPORT_OK);
    T_ASSERT_EQ(catalog_import_error_count(ci), 4);
    s = err_at(ci, 0, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "3:17: price: not a number: \"12,x\"");
    s = err_at(ci, 1, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "4:13: group: \"Одежда\" differs from");
    s = err_at(ci, 2, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "5:14: sku: duplicate SKU \"A-1-S\" (first on "
                             "line 2)");
    s = err_at(ci, 3, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "5:22: photo \"photos/none.jpg\": cannot read: "
                             "No such file or directory");
    catalog_import_destroy(ci);
}

/* Write @p text to a temp file; returns its path (static buffer). */
static const char *tmp_csv(const char *text)
{
    static char path[64];
    int fd;
    FILE *fp;

    snprintf(path, sizeof(path), "/tmp/test_catimp_XXXXXX");
    fd = mkstemp(path);
    fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    return path;
}

static void test_headers_and_rows(void)
{
    char err[512], buf[1024];
    const char *path, *s;
    struct catalog_import *ci;
    int rc;

    /* A missing required column: FILE:1:1. */
    path = tmp_csv("article,name,price\nA,B,1\n");
    ci = parse(path, CATALOG_IMPORT_CATALOG, "P", &rc, err, sizeof(err));
    T_ASSERT_EQ(catalog_import_error_count(ci), 1);
    s = err_at(ci, 0, buf, sizeof(buf));
    STR_EQ(s, "1:1: missing column \"sku\"");
    catalog_import_destroy(ci);
    unlink(path);

    /* Case-insensitive, any order; duplicate columns; wrong field count;
     * invalid UTF-8; old_price without price; empty name on the first row;
     * conflicting name on a later row. */
    path = tmp_csv("SKU,Name,ARTICLE,sku,Price,Old_Price\n"
                   "S1,N,A,x,1,\n"
                   "S2,N,A\n");
    ci = parse(path, CATALOG_IMPORT_CATALOG, "P", &rc, err, sizeof(err));
    s = err_at(ci, 0, buf, sizeof(buf));
    STR_EQ(s, "1:18: duplicate column \"sku\" (also column 1)");
    catalog_import_destroy(ci);
    unlink(path);

    path = tmp_csv("sku,name,article,price,old_price\n"
                   "S1,N,A,1,\n"
                   "S2,N,A\n"
                   "S3,\xFF,B,,5\n"
                   "S4,,C,,\n"
                   "S5,M,A,,\n"
                   ",,,,\n"
                   "\n");
    ci = parse(path, CATALOG_IMPORT_CATALOG, "P", &rc, err, sizeof(err));
    T_ASSERT_EQ(rc, CATALOG_IMPORT_OK);
    T_ASSERT_EQ(catalog_import_error_count(ci), 4);
    s = err_at(ci, 0, buf, sizeof(buf));
    STR_EQ(s, "3:6: expected 5 fields as in the header, found 3");
    s = err_at(ci, 1, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "4:4: name: invalid UTF-8");
    s = err_at(ci, 2, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "5:4: name: empty");
    s = err_at(ci, 3, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "6:4: name: \"M\" differs from \"N\" on line 2");
    catalog_import_destroy(ci);
    unlink(path);

    path = tmp_csv("sku,name,article,price,old_price\nS1,N,A,,5\n");
    ci = parse(path, CATALOG_IMPORT_CATALOG, "P", &rc, err, sizeof(err));
    s = err_at(ci, 0, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "2:9: old_price: given without a price");
    catalog_import_destroy(ci);
    unlink(path);

    /* Unterminated quote: names where it opened. */
    path = tmp_csv("sku,name,article\nS1,\"N,A\nS2,N,A\n");
    ci = parse(path, CATALOG_IMPORT_CATALOG, NULL, &rc, err, sizeof(err));
    s = err_at(ci, 0, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "2:4: unterminated quoted field");
    catalog_import_destroy(ci);
    unlink(path);

    /* Prices: required columns, duplicates, bad values. */
    path = tmp_csv("sku;price\nA;1,5\nA;2\nB;\nC;x\n");
    ci = parse(path, CATALOG_IMPORT_PRICES, "P", &rc, err, sizeof(err));
    T_ASSERT_EQ(catalog_import_error_count(ci), 3);
    s = err_at(ci, 0, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "3:1: sku: duplicate SKU \"A\" (first on line "
                             "2)");
    s = err_at(ci, 1, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "4:3: price: empty");
    s = err_at(ci, 2, buf, sizeof(buf));
    T_ASSERT_STR_CONTAINS(s, "5:3: price: not a number: \"x\"");
    catalog_import_destroy(ci);
    unlink(path);

    path = tmp_csv("sku,old_price\nA,1\n");
    ci = parse(path, CATALOG_IMPORT_PRICES, "P", &rc, err, sizeof(err));
    s = err_at(ci, 0, buf, sizeof(buf));
    STR_EQ(s, "1:1: missing column \"price\"");
    catalog_import_destroy(ci);
    unlink(path);
}

int main(void)
{
    test_money();
    test_group();
    test_fixtures();
    test_headers_and_rows();
    T_DONE();
}
