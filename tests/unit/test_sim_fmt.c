/* Unit tests of store-sim's money, time and permalink helpers. */
#include <stdint.h>

#include "devtools/store-sim/sim_fmt.h"
#include "t.h"

/* Hides string literals from cppcheck's literal-to-bool check in t.h. */
static const char *lit(const char *s)
{
    return s;
}

static const char *money(int64_t c)
{
    static char buf[64];

    return sim_money_fmt(c, buf, sizeof(buf));
}

/* sim_money_from_json() of a JSON string. */
static int str_money(const char *s, int64_t *c)
{
    json_t *v = json_string(s);
    int rc = sim_money_from_json(v, c);

    json_decref(v);
    return rc;
}

int main(void)
{
    char buf[128];
    int64_t c, ms, ms2;
    json_t *v;

    /* Money formatting, inSales style. */
    T_ASSERT_STR_EQ(money(150000), lit("1500.0"));
    T_ASSERT_STR_EQ(money(20010), lit("200.1"));
    T_ASSERT_STR_EQ(money(1255), lit("12.55"));
    T_ASSERT_STR_EQ(money(0), lit("0.0"));
    T_ASSERT_STR_EQ(money(5), lit("0.05"));
    T_ASSERT_STR_EQ(money(-350), lit("-3.5"));

    /* Money parsing: strings as clients send them (sim_money_parse() gave
     * way to lib/money; its grammar is tested in test_money.c). */
    T_ASSERT_EQ(str_money("1500", &c), 0);
    T_ASSERT_EQ(c, 150000);
    T_ASSERT_EQ(str_money("1500.0", &c), 0);
    T_ASSERT_EQ(c, 150000);
    T_ASSERT_EQ(str_money("12.555", &c), 0);
    T_ASSERT_EQ(c, 1256);
    T_ASSERT_EQ(str_money("7,5", &c), 0);
    T_ASSERT_EQ(c, 750);
    T_ASSERT_EQ(str_money("abc", &c), -1);
    T_ASSERT_EQ(str_money("", &c), -1);
    T_ASSERT_EQ(str_money("1.2.3", &c), -1);
    T_ASSERT_EQ(str_money("99999999999999999999999", &c), -1);
    v = json_real(200.1);
    T_ASSERT_EQ(sim_money_from_json(v, &c), 0);
    T_ASSERT_EQ(c, 20010);
    json_decref(v);
    v = json_integer(1900);
    T_ASSERT_EQ(sim_money_from_json(v, &c), 0);
    T_ASSERT_EQ(c, 190000);
    json_decref(v);
    v = json_true();
    T_ASSERT_EQ(sim_money_from_json(v, &c), -1);

    /* Time formatting: 2023-11-22T11:24:30Z is 14:24:30 in Moscow. */
    T_ASSERT_EQ(sim_time_parse("2023-11-22T11:24:30Z", &ms), 0);
    T_ASSERT_STR_EQ(sim_time_fmt(ms, buf, sizeof(buf)),
                    lit("2023-11-22T14:24:30.000+03:00"));
    T_ASSERT_STR_EQ(sim_time_fmt(ms + 7, buf, sizeof(buf)),
                    lit("2023-11-22T14:24:30.007+03:00"));
    T_ASSERT_EQ(ms, 1700652270000LL);

    /* Round trip and the forms clients send. */
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30.123+03:00", &ms2), 0);
    T_ASSERT_EQ(ms2, ms + 123);
    T_ASSERT_EQ(sim_time_parse("2023-11-22 14:24:30 +03:00", &ms2), 0);
    T_ASSERT_EQ(ms2, ms);
    T_ASSERT_EQ(sim_time_parse("2023-11-22 14:24:30 03:00", &ms2), 0);
    T_ASSERT_EQ(ms2, ms); /* '+' decoded to a space */
    T_ASSERT_EQ(sim_time_parse("2023-11-22+14:24:30++03:00", &ms2), 0);
    T_ASSERT_EQ(ms2, ms);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30.123 03:00", &ms2), 0);
    T_ASSERT_EQ(ms2, ms + 123);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30", &ms2), 0);
    T_ASSERT_EQ(ms2, ms); /* no offset: the shop's +03:00 */
    T_ASSERT_EQ(sim_time_parse("2023-11-22T08:24:30-03:00", &ms2), 0);
    T_ASSERT_EQ(ms2, ms);
    T_ASSERT_EQ(sim_time_parse("2023-11-22", &ms2), 0);
    T_ASSERT_EQ(sim_time_parse("2023-13-22", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("yesterday", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30+03:00junk", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("", &ms2), -1);
    /* More query forms, and what lib/clock now checks for them. */
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24+03:00", &ms2), 0);
    T_ASSERT_EQ(ms2, ms - 30000); /* no seconds: :00 */
    T_ASSERT_EQ(sim_time_parse("2023-11-22 14:24:30 +0300", &ms2), 0);
    T_ASSERT_EQ(ms2, ms);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T11:24:30.123456789z", &ms2), 0);
    T_ASSERT_EQ(ms2, ms + 123);
    T_ASSERT_EQ(sim_time_parse("1969-12-31T23:59:59.9995Z", &ms2), 0);
    T_ASSERT_EQ(ms2, -1); /* floor, as sim_time_fmt() */
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:3", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:2", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30.", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30+3", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30+03:0", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22 ", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-02-30", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T23:59:60Z", &ms2), -1);
    T_ASSERT_EQ(sim_time_parse("2023-11-22T14:24:30.1234567890Z", &ms2), -1);

    /* Permalinks. */
    T_ASSERT_STR_EQ(sim_permalink("Docs API простой", buf, sizeof(buf)),
                    lit("docs-api-prostoy"));
    T_ASSERT_STR_EQ(sim_permalink("  Чёрный / M ", buf, sizeof(buf)),
                    lit("chernyy-m"));
    T_ASSERT_STR_EQ(sim_permalink("Щука & Ёж", buf, sizeof(buf)),
                    lit("schuka-ezh"));
    T_DONE();
}
