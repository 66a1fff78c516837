/*
 * test_money — lib/money: the grammar (strict, with thousands separators,
 * with rounding), the bound, JSON strings, integers and reals, the ledger's
 * text and its canonical form.  Also the cases of the parsers it replaced
 * (orders_money, reconcile_money_norm, sim_money_parse).
 */
#include "lib/money.h"
#include "t.h"

#include <limits.h>
#include <string.h>

#define ERR 0 /* the minor of a failing case: not looked at */

static const struct {
    const char *in;
    unsigned flags;
    enum money_res res;
    long long minor; /* when res == MONEY_OK */
} scan_cases[] = {
    /* Strict: the forms stores and files send. */
    {"0", 0, MONEY_OK, 0},
    {"-0", 0, MONEY_OK, 0},
    {"-0.00", 0, MONEY_OK, 0},
    {"00", 0, MONEY_OK, 0},
    {"1500", 0, MONEY_OK, 150000},
    {"1500.5", 0, MONEY_OK, 150050},
    {"1500.50", 0, MONEY_OK, 150050},
    {"1500,50", 0, MONEY_OK, 150050},
    {"1500,5", 0, MONEY_OK, 150050},
    {"1500.0", 0, MONEY_OK, 150000},
    {"0.01", 0, MONEY_OK, 1},
    {"-0.50", 0, MONEY_OK, -50},
    {"-1500.05", 0, MONEY_OK, -150005},
    {"7,05", 0, MONEY_OK, 705},
    {"007", 0, MONEY_OK, 700},
    {"01500.50", 0, MONEY_OK, 150050},
    {"000000000000000000001", 0, MONEY_OK, 100}, /* zeros do not count */
    {"999999999999999.99", 0, MONEY_OK, MONEY_MAX_MINOR},
    {"-999999999999999.99", 0, MONEY_OK, -MONEY_MAX_MINOR},
    {"999999999999.99", 0, MONEY_OK, 99999999999999LL}, /* numeric(14,2) */
    /* Not the grammar. */
    {"", 0, MONEY_SYNTAX, ERR},
    {"-", 0, MONEY_SYNTAX, ERR},
    {"+5", 0, MONEY_SYNTAX, ERR},
    {"--5", 0, MONEY_SYNTAX, ERR},
    {"5-", 0, MONEY_SYNTAX, ERR},
    {" 5", 0, MONEY_SYNTAX, ERR},
    {"5 ", 0, MONEY_SYNTAX, ERR},
    {"1500\n", 0, MONEY_SYNTAX, ERR},
    {"1 500", 0, MONEY_SYNTAX, ERR}, /* separators only with MONEY_GROUPS */
    {"1\xC2\xA0"
     "500",
     0, MONEY_SYNTAX, ERR},
    {"1,500.50", 0, MONEY_SYNTAX, ERR},
    {"1.500,50", 0, MONEY_SYNTAX, ERR},
    {"12.", 0, MONEY_SYNTAX, ERR},
    {".5", 0, MONEY_SYNTAX, ERR},
    {"-.5", 0, MONEY_SYNTAX, ERR},
    {".", 0, MONEY_SYNTAX, ERR},
    {"1..5", 0, MONEY_SYNTAX, ERR},
    {"1.2.3", 0, MONEY_SYNTAX, ERR},
    {"1e3", 0, MONEY_SYNTAX, ERR},
    {"1E3", 0, MONEY_SYNTAX, ERR},
    {"1.5e2", 0, MONEY_SYNTAX, ERR},
    {"0x10", 0, MONEY_SYNTAX, ERR},
    {"inf", 0, MONEY_SYNTAX, ERR},
    {"nan", 0, MONEY_SYNTAX, ERR},
    {"abc", 0, MONEY_SYNTAX, ERR},
    {"12,x", 0, MONEY_SYNTAX, ERR},
    {"12.5x", 0, MONEY_SYNTAX, ERR},
    {"1;DROP", 0, MONEY_SYNTAX, ERR},
    {"\xD9\xA1", 0, MONEY_SYNTAX, ERR}, /* ARABIC-INDIC DIGIT ONE */
    {"1e3.001", 0, MONEY_SYNTAX, ERR},  /* syntax wins over decimals */
    /* More than 2 decimals: an error without MONEY_ROUND. */
    {"1500.505", 0, MONEY_DECIMALS, ERR},
    {"1500.000", 0, MONEY_DECIMALS, ERR},
    {"0.001", 0, MONEY_DECIMALS, ERR},
    {"1.005", 0, MONEY_DECIMALS, ERR},
    {"1,0000000000", 0, MONEY_DECIMALS, ERR},
    {"1000000000000000.001", 0, MONEY_DECIMALS, ERR}, /* before the bound */
    /* The bound: 15 integer digits. */
    {"1000000000000000", 0, MONEY_RANGE, ERR},
    {"-1000000000000000", 0, MONEY_RANGE, ERR},
    {"9999999999999999.99", 0, MONEY_RANGE, ERR},
    {"99999999999999999999999", 0, MONEY_RANGE, ERR},
    {"100000000000000000000000000000000000000", 0, MONEY_RANGE, ERR},
    /* Thousands separators (MONEY_GROUPS): groups of exactly three. */
    {"1 500,50", MONEY_GROUPS, MONEY_OK, 150050},
    {"1\xC2\xA0"
     "500",
     MONEY_GROUPS, MONEY_OK, 150000},
    {"1\xE2\x80\xAF"
     "500.5",
     MONEY_GROUPS, MONEY_OK, 150050},
    {"12 345 678,9", MONEY_GROUPS, MONEY_OK, 1234567890},
    {"123 456", MONEY_GROUPS, MONEY_OK, 12345600},
    {"-1 500", MONEY_GROUPS, MONEY_OK, -150000},
    {"1500", MONEY_GROUPS, MONEY_OK, 150000}, /* none is fine */
    {"1 50", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {"1 5000", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {"1234 567", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {"1 500 ", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {" 1 500", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {"1  500", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {"- 1500", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {"1 500,5 0", MONEY_GROUPS, MONEY_SYNTAX, ERR},
    {"1\xC2"
     "500",
     MONEY_GROUPS, MONEY_SYNTAX, ERR},            /* half an NBSP */
    {"1,500", MONEY_GROUPS, MONEY_DECIMALS, ERR}, /* ',' is decimal */
    {"1 000 000 000 000 000", MONEY_GROUPS, MONEY_RANGE, ERR},
    {"1 500.005", MONEY_GROUPS, MONEY_DECIMALS, ERR},
    /* Rounding (MONEY_ROUND): half away from zero on the third decimal. */
    {"12.555", MONEY_ROUND, MONEY_OK, 1256},
    {"12.554", MONEY_ROUND, MONEY_OK, 1255},
    {"12.5549", MONEY_ROUND, MONEY_OK, 1255},
    {"12.5550", MONEY_ROUND, MONEY_OK, 1256},
    {"-12.555", MONEY_ROUND, MONEY_OK, -1256},
    {"0.005", MONEY_ROUND, MONEY_OK, 1},
    {"0.004", MONEY_ROUND, MONEY_OK, 0},
    {"-0.004", MONEY_ROUND, MONEY_OK, 0},
    {"99.995", MONEY_ROUND, MONEY_OK, 10000},
    {"1500.000", MONEY_ROUND, MONEY_OK, 150000},
    {"1500.5", MONEY_ROUND, MONEY_OK, 150050},
    {"999999999999999.994", MONEY_ROUND, MONEY_OK, MONEY_MAX_MINOR},
    {"999999999999999.995", MONEY_ROUND, MONEY_RANGE, ERR},
    {"12.", MONEY_ROUND, MONEY_SYNTAX, ERR},
    /* Cases of the replaced parsers. */
    {"1500.0", MONEY_ROUND, MONEY_OK, 150000}, /* orders_money */
    {"7,5", MONEY_ROUND, MONEY_OK, 750},
    {"1e5", MONEY_ROUND, MONEY_SYNTAX, ERR},
    {"-3.10", 0, MONEY_OK, -310},              /* reconcile_money_norm */
    {"1.2.3", MONEY_ROUND, MONEY_SYNTAX, ERR}, /* sim_money_parse */
    {"99999999999999999999999", MONEY_ROUND, MONEY_RANGE, ERR},
};

static void test_scan(void)
{
    long long m;
    enum money_res r;
    size_t i;

    for (i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
        m = -42;
        r = money_scan(scan_cases[i].in, strlen(scan_cases[i].in),
                       scan_cases[i].flags, &m);
        if (scan_cases[i].res == MONEY_OK)
            T_CHECK(r == MONEY_OK && m == scan_cases[i].minor,
                    "scan \"%s\" /%u -> %d %lld, want %lld", scan_cases[i].in,
                    scan_cases[i].flags, (int)r, m, scan_cases[i].minor);
        else
            T_CHECK(r == scan_cases[i].res && m == -42,
                    "scan \"%s\" /%u -> %d (%s), want %d", scan_cases[i].in,
                    scan_cases[i].flags, (int)r, money_res_name(r),
                    (int)scan_cases[i].res);
    }
    /* The length bounds the text; a NUL inside it is not money. */
    T_ASSERT_EQ(money_scan("1500xyz", 4, 0, &m), MONEY_OK);
    T_ASSERT_EQ(m, 150000);
    T_ASSERT_EQ(money_scan("15\0"
                           "00",
                           5, 0, &m),
                MONEY_SYNTAX);
    T_ASSERT_EQ(money_scan(NULL, 0, 0, &m), MONEY_SYNTAX);
    T_ASSERT_EQ(money_scan("1", 0, 0, &m), MONEY_SYNTAX);
}

static void test_parse(void)
{
    char err[128];
    long long m = -42;

    T_ASSERT_EQ(money_parse("1500,50", &m, err, sizeof(err)), 0);
    T_ASSERT_EQ(m, 150050);
    T_ASSERT_EQ(money_parse("1.005", &m, err, sizeof(err)), -1);
    T_ASSERT_STR_EQ(err, "more than 2 decimal places: \"1.005\"");
    T_ASSERT_EQ(money_parse("1500.000", &m, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "more than 2 decimal places");
    T_ASSERT_EQ(money_parse("1 500", &m, err, sizeof(err)), -1);
    T_ASSERT_STR_EQ(err, "not a number: \"1 500\"");
    T_ASSERT_EQ(money_parse("1000000000000000", &m, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "too large");
    T_ASSERT_EQ(money_parse(NULL, &m, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "not a number");
    /* Long input is cut in the message. */
    T_ASSERT_EQ(money_parse("1234567890123456789012345678901234567890x", &m,
                            err, sizeof(err)),
                -1);
    T_ASSERT_STR_CONTAINS(err, "1234567890123456789012345678901234567890...");
    /* errstr may be NULL. */
    T_ASSERT_EQ(money_parse("x", &m, NULL, 0), -1);
    T_ASSERT_EQ(m, 150050);
}

static void test_json(void)
{
    static const struct {
        const char *json; /* decoded with JSON_DECODE_ANY */
        unsigned flags;
        long long minor; /* LLONG_MIN: must fail */
    } cases[] = {
        {"\"1500.0\"", 0, 150000},
        {"\"7,5\"", 0, 750},
        {"\"-0.50\"", 0, -50},
        {"1500", 0, 150000},
        {"-5", 0, -500},
        {"0", 0, 0},
        {"999999999999999", 0, 99999999999999900LL},
        {"1000000000000000", 0, LLONG_MIN},
        {"-1000000000000000", 0, LLONG_MIN},
        {"1500.0", 0, 150000},
        {"1500.5", 0, 150050},
        {"12.5", 0, 1250},
        {"200.1", 0, 20010}, /* 200.09999999999999 as a double */
        {"0.1", 0, 10},
        {"0.3", 0, 30},
        {"1.15", 0, 115},
        {"-0.0", 0, 0},
        {"-12.34", 0, -1234},
        {"9999999999999.99", 0, 999999999999999LL},
        {"1e13", 0, LLONG_MIN},
        {"-1e13", 0, LLONG_MIN},
        {"1e300", 0, LLONG_MIN},
        {"0.30000000000000004", 0, LLONG_MIN}, /* 0.1 + 0.2 */
        {"0.30000000000000004", MONEY_ROUND, 30},
        {"12.555", 0, LLONG_MIN},
        {"12.555", MONEY_ROUND, 1256},
        {"1.005", MONEY_ROUND, 101}, /* the decimal, not the double below */
        {"1e-5", 0, LLONG_MIN},
        {"1e-5", MONEY_ROUND, 0},
        {"\"12.555\"", MONEY_ROUND, 1256},
        {"\"1 500\"", MONEY_GROUPS, 150000},
        /* orders_money's cases. */
        {"\"12.\"", MONEY_ROUND, LLONG_MIN},
        {"\"1e5\"", MONEY_ROUND, LLONG_MIN},
        {"\"1;DROP\"", MONEY_ROUND, LLONG_MIN},
        {"\"\"", 0, LLONG_MIN},
        {"null", 0, LLONG_MIN},
        {"true", 0, LLONG_MIN},
        {"[1]", 0, LLONG_MIN},
        {"{\"a\":1}", 0, LLONG_MIN},
    };
    json_error_t je;
    json_t *v;
    char err[128];
    long long m;
    int rc;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = json_loads(cases[i].json, JSON_DECODE_ANY, &je);
        T_CHECK(v != NULL, "bad test JSON %s: %s", cases[i].json, je.text);
        m = -42;
        err[0] = '\0';
        rc = money_from_json(v, cases[i].flags, &m, err, sizeof(err));
        if (cases[i].minor != LLONG_MIN)
            T_CHECK(rc == 0 && m == cases[i].minor,
                    "json %s /%u -> %d %lld (%s), want %lld", cases[i].json,
                    cases[i].flags, rc, m, err, cases[i].minor);
        else
            T_CHECK(rc == -1 && m == -42 && err[0],
                    "json %s /%u must fail (got %lld)", cases[i].json,
                    cases[i].flags, m);
        json_decref(v);
    }
    T_ASSERT_EQ(money_from_json(NULL, 0, &m, err, sizeof(err)), -1);
    /* A NUL inside a JSON string is not money. */
    v = json_stringn("15\0"
                     "00",
                     5);
    T_ASSERT_EQ(money_from_json(v, 0, &m, err, sizeof(err)), -1);
    json_decref(v);
    v = json_real(0.1 + 0.2);
    T_ASSERT_EQ(money_from_json(v, 0, &m, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "more than 2 decimal places");
    json_decref(v);
}

static void test_format(void)
{
    static const struct {
        long long minor;
        const char *want;
    } cases[] = {
        {0, "0.00"},
        {1, "0.01"},
        {-1, "-0.01"},
        {-50, "-0.50"},
        {10, "0.10"},
        {100, "1.00"},
        {150000, "1500.00"},
        {150050, "1500.50"},
        {-150005, "-1500.05"},
        {99999999999999LL, "999999999999.99"},
        {MONEY_MAX_MINOR, "999999999999999.99"},
        {-MONEY_MAX_MINOR, "-999999999999999.99"},
        {LLONG_MAX, "92233720368547758.07"},
        {LLONG_MIN, "-92233720368547758.08"},
    };
    char out[MONEY_TEXT_SIZE];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_CHECK(money_format(cases[i].minor, out, sizeof(out)) == 0 &&
                    strcmp(out, cases[i].want) == 0,
                "format %lld -> \"%s\", want \"%s\"", cases[i].minor, out,
                cases[i].want);
    /* "1500.00" needs 8 bytes. */
    T_ASSERT_EQ(money_format(150000, out, 8), 0);
    T_ASSERT_EQ(money_format(150000, out, 7), -1);
    T_ASSERT_EQ(money_format(150000, NULL, 0), -1);
}

static void test_canonical(void)
{
    static const char *const good[] = {"0.00",
                                       "0.50",
                                       "-0.50",
                                       "1500.00",
                                       "999999999999.99",
                                       "999999999999999.99"};
    static const char *const bad[] = {
        "1500.0", "1500",     "01.00", "-0.00", "1500,00", "+1.00", "",
        "1e3.00", "1 500.00", ".00",   "1.000", "-1.0",    "00.00"};
    long long m;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        T_CHECK(money_parse_canonical(good[i], &m) == 0, "canonical \"%s\"",
                good[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        T_CHECK(money_parse_canonical(bad[i], NULL) == -1,
                "not canonical \"%s\"", bad[i]);
    T_ASSERT_EQ(money_parse_canonical(NULL, &m), -1);
    T_ASSERT_EQ(money_parse_canonical("-12.30", &m), 0);
    T_ASSERT_EQ(m, -1230);
}

/* format then parse gives the amount back. */
static void test_round_trip(void)
{
    static const long long amounts[] = {0,
                                        1,
                                        -1,
                                        99,
                                        100,
                                        -101,
                                        150050,
                                        123456789,
                                        -98765,
                                        9999999,
                                        MONEY_MAX_MINOR,
                                        -MONEY_MAX_MINOR};
    char out[MONEY_TEXT_SIZE];
    long long back;
    size_t i;

    for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++)
        T_CHECK(money_format(amounts[i], out, sizeof(out)) == 0 &&
                    money_parse(out, &back, NULL, 0) == 0 &&
                    back == amounts[i] && money_parse_canonical(out, NULL) == 0,
                "round trip %lld via \"%s\"", amounts[i], out);
}

int main(void)
{
    test_scan();
    test_parse();
    test_json();
    test_format();
    test_canonical();
    test_round_trip();
    T_DONE();
}
