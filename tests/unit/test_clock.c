/*
 * test_clock — lib/clock: the RFC 3339 grammar (valid and invalid
 * timestamps, edge dates and offsets), the formats the services emit, the
 * round trip between them, and the two clocks.
 */
#include "lib/clock.h"
#include "t.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

/* 2023-11-22T11:24:30.123Z */
#define T0 1700652270123000LL

static const struct {
    const char *in;
    long long us;
} parse_ok[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01T03:00:00.000+03:00", 0},
    {"1970-01-01T00:00:00.000-00:00", 0}, /* unknown offset: UTC */
    {"2023-11-22T14:24:30.123+03:00", T0},
    {"2023-11-22T11:24:30.123Z", T0},
    {"2023-11-22t11:24:30.123z", T0}, /* RFC 3339 5.6: case-insensitive */
    {"2023-11-22T11:24:30.123z", T0},
    {"2023-11-22t11:24:30.123Z", T0},
    {"2023-11-22T08:24:30.123-03:00", T0},
    {"2023-11-22T11:24:30.123+00:00", T0},
    {"2023-11-22T11:24:30.1230Z", T0},
    {"2023-11-22T11:24:30.123000000Z", T0},
    /* Digits past the microsecond are dropped, not rounded. */
    {"2023-11-22T11:24:30.1234567Z", T0 + 456},
    {"2023-11-22T11:24:30.123456999Z", T0 + 456},
    {"2023-11-22T11:24:30.1Z", T0 - 23000},
    {"2023-11-22T11:24:30Z", T0 - 123000},
    {"2023-11-22T11:24:30.999999999Z", T0 - 123000 + 999999},
    /* inSales' own form. */
    {"2026-11-27T10:00:00.000+03:00", 1795762800000000LL},
    {"2026-11-27T10:00:00+03:00", 1795762800000000LL},
    {"2026-11-27T07:00:00Z", 1795762800000000LL},
    /* Offsets with minutes, both signs, the extremes. */
    {"2023-11-22T14:24:30+05:45", 1700642370000000LL},
    {"2023-11-22T00:00:00-12:00", 1700654400000000LL},
    {"2023-11-23T23:23:00+23:59", 1700695440000000LL},
    {"2023-11-21T00:00:00-23:59", 1700611140000000LL},
    /* Leap years: every 4th, not every 100th, every 400th. */
    {"2024-02-29T00:00:00Z", 1709164800000000LL},
    {"2000-02-29T00:00:00Z", 951782400000000LL},
    {"2100-03-01T00:00:00Z", 4107542400000000LL},
    {"2024-12-31T23:59:59Z", 1735689599000000LL},
    {"2023-04-30T00:00:00Z", 1682812800000000LL},
    {"2023-01-31T00:00:00Z", 1675123200000000LL},
    /* Before the epoch and the ends of the year range. */
    {"1969-12-31T23:59:59.5Z", -500000},
    {"1969-12-31T23:59:59.999999Z", -1},
    {"0001-01-01T00:00:00Z", -62135596800000000LL},
    {"0001-01-01T00:00:00+23:59", -62135683140000000LL},
    {"9999-12-31T23:59:59.999999Z", 253402300799999999LL},
    {"9999-12-31T23:59:59-23:59", 253402387139000000LL},
    /* The cases of stockpub_ts_ms, which this replaced. */
    {"1970-01-01T00:00:01.250Z", 1250000},
    {"2026-11-27T10:15:31.456+03:00", 1795763731456000LL},
    {"2026-11-27T07:15:31.456+00:00", 1795763731456000LL},
    {"2026-11-27T07:15:31Z", 1795763731000000LL},
};

static const char *const parse_bad[] = {
    "",
    "garbage",
    "2023-11-22",                        /* date only */
    "2023-11-22T14:24:30",               /* no offset */
    "2023-11-22T14:24Z",                 /* no seconds */
    "2023-11-22T14:24+03:00",            /* no seconds */
    "2023-11-22 14:24:30Z",              /* space separator */
    "2023-11-22 14:24:30.123+03:00",     /* space separator */
    "2023-11-22TT14:24:30Z",             /* doubled separator */
    "2023-11-22x14:24:30Z",              /* other separator */
    "2023-11-22T14:24:30 +03:00",        /* space before the offset */
    "2023-11-22T14:24:30+0300",          /* offset without ':' */
    "2023-11-22T14:24:30+03",            /* offset without minutes */
    "2023-11-22T14:24:30+3:00",          /* one-digit offset hour */
    "2023-11-22T14:24:30+03:00:00",      /* offset with seconds */
    "2023-11-22T14:24:30+24:00",         /* offset hour out of range */
    "2023-11-22T14:24:30-24:00",         /* offset hour out of range */
    "2023-11-22T14:24:30+23:60",         /* offset minute out of range */
    "2023-11-22T14:24:30UTC",            /* zone name */
    "2023-11-22T14:24:30ZZ",             /* trailing */
    "2023-11-22T14:24:30Zx",             /* trailing */
    "2023-11-22T14:24:30+03:00 ",        /* trailing blank */
    "2023-11-22T14:24:30+03:00\n",       /* trailing newline */
    " 2023-11-22T14:24:30Z",             /* leading blank */
    "+2023-11-22T14:24:30Z",             /* signed year */
    "2023-11-22T14:24:30.Z",             /* empty fraction */
    "2023-11-22T14:24:30.1234567890Z",   /* 10 fraction digits */
    "2023-11-22T14:24:30,123Z",          /* decimal comma */
    "2023-11-22T14:24:30.12a3Z",         /* letter in the fraction */
    "2023-11-22T1a:24:30Z",              /* letter in the hour */
    "23-11-22T14:24:30Z",                /* two-digit year */
    "20231-11-22T14:24:30Z",             /* five-digit year */
    "2023-1-22T14:24:30Z",               /* one-digit month */
    "2023-11-2T14:24:30Z",               /* one-digit day */
    "2023/11/22T14:24:30Z",              /* other date separator */
    "2023-11-22T14.24.30Z",              /* other time separator */
    "0000-01-01T00:00:00Z",              /* year 0 */
    "2023-00-10T00:00:00Z",              /* month 0 */
    "2023-13-10T00:00:00Z",              /* month 13 */
    "2023-01-00T00:00:00Z",              /* day 0 */
    "2023-01-32T00:00:00Z",              /* day 32 */
    "2023-02-29T00:00:00Z",              /* not a leap year */
    "1900-02-29T00:00:00Z",              /* centuries are not */
    "2024-02-30T00:00:00Z",              /* leap February has 29 */
    "2023-04-31T00:00:00Z",              /* April has 30 */
    "2023-06-31T00:00:00Z",              /* June has 30 */
    "2023-09-31T00:00:00Z",              /* September has 30 */
    "2023-11-31T00:00:00Z",              /* November has 30 */
    "2023-11-22T24:00:00Z",              /* hour 24 */
    "2023-11-22T23:60:00Z",              /* minute 60 */
    "2016-12-31T23:59:60Z",              /* a real leap second: rejected */
    "2023-11-22T23:59:61Z",              /* second 61 */
    "2023-11-22T14:24:30.123+03:00junk", /* trailing */
    "2026-13-27T07:15:31Z",              /* stockpub_ts_ms's cases */
    "2026-11-27T07:15:31",
};

static void test_parse(void)
{
    int64_t us;
    size_t i;

    for (i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
        us = -42;
        T_CHECK(clock_rfc3339_parse(parse_ok[i].in, &us) == 0 &&
                    us == parse_ok[i].us,
                "parse \"%s\" -> %lld, want %lld", parse_ok[i].in,
                (long long)us, parse_ok[i].us);
    }
    for (i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++) {
        us = -42;
        T_CHECK(clock_rfc3339_parse(parse_bad[i], &us) == -1 && us == -42,
                "parse \"%s\" must fail (got %lld)", parse_bad[i],
                (long long)us);
    }
    T_ASSERT_EQ(clock_rfc3339_parse(NULL, &us), -1);
    /* A NUL inside: the text ends there. */
    T_ASSERT_EQ(clock_rfc3339_parse("2023-11-22T14:24:30Z\0junk", &us), 0);
}

static const struct {
    long long us;
    int offset_min;
    unsigned flags;
    const char *want; /* NULL: must fail */
} fmt_cases[] = {
    /* Event ts, catalog-publisher, order-ingestor: ms, "+00:00". */
    {0, 0, CLOCK_FMT_MS, "1970-01-01T00:00:00.000+00:00"},
    {T0, 0, CLOCK_FMT_MS, "2023-11-22T11:24:30.123+00:00"},
    /* The log line: ms, "Z". */
    {T0, 0, CLOCK_FMT_MS | CLOCK_FMT_Z, "2023-11-22T11:24:30.123Z"},
    /* catalog-publisher's updated_since: whole seconds. */
    {T0, 0, CLOCK_FMT_SEC, "2023-11-22T11:24:30+00:00"},
    {T0, 0, CLOCK_FMT_SEC | CLOCK_FMT_Z, "2023-11-22T11:24:30Z"},
    /* store-sim: the shop's +03:00. */
    {T0, 180, CLOCK_FMT_MS, "2023-11-22T14:24:30.123+03:00"},
    {T0, 180, CLOCK_FMT_MS | CLOCK_FMT_Z, "2023-11-22T14:24:30.123+03:00"},
    {T0, -330, CLOCK_FMT_MS, "2023-11-22T05:54:30.123-05:30"},
    {T0, 345, CLOCK_FMT_SEC, "2023-11-22T17:09:30+05:45"},
    {T0, 1439, CLOCK_FMT_MS, "2023-11-23T11:23:30.123+23:59"},
    {T0, -1439, CLOCK_FMT_MS, "2023-11-21T11:25:30.123-23:59"},
    /* Truncated toward the past, never rounded. */
    {T0 + 999, 0, CLOCK_FMT_MS, "2023-11-22T11:24:30.123+00:00"},
    {T0 + 876999, 0, CLOCK_FMT_MS, "2023-11-22T11:24:30.999+00:00"},
    {T0 + 876999, 0, CLOCK_FMT_SEC, "2023-11-22T11:24:30+00:00"},
    {-1, 0, CLOCK_FMT_MS, "1969-12-31T23:59:59.999+00:00"},
    {-500000, 0, CLOCK_FMT_SEC, "1969-12-31T23:59:59+00:00"},
    {-1000000, 0, CLOCK_FMT_MS, "1969-12-31T23:59:59.000+00:00"},
    /* Leap days and the ends of the year range. */
    {1709164800000000LL, 0, CLOCK_FMT_MS, "2024-02-29T00:00:00.000+00:00"},
    {951782400000000LL, 0, CLOCK_FMT_MS, "2000-02-29T00:00:00.000+00:00"},
    {4107542400000000LL - 1, 0, CLOCK_FMT_SEC, "2100-02-28T23:59:59+00:00"},
    {-62135596800000000LL, 0, CLOCK_FMT_MS, "0001-01-01T00:00:00.000+00:00"},
    {253402300799999999LL, 0, CLOCK_FMT_MS, "9999-12-31T23:59:59.999+00:00"},
    {253402300799999999LL, -1439, CLOCK_FMT_SEC, "9999-12-31T00:00:59-23:59"},
    {-62135596800000000LL - 1, 0, CLOCK_FMT_MS, NULL},
    {253402300800000000LL, 0, CLOCK_FMT_MS, NULL},
    {-62135596800000000LL, -1, CLOCK_FMT_MS, NULL},
    {253402300799999999LL, 1, CLOCK_FMT_MS, NULL},
    {INT64_MAX, 0, CLOCK_FMT_MS, NULL},
    {INT64_MIN, 0, CLOCK_FMT_MS, NULL},
    /* Offsets out of range. */
    {0, 1440, CLOCK_FMT_MS, NULL},
    {0, -1440, CLOCK_FMT_MS, NULL},
};

static void test_format(void)
{
    char out[CLOCK_RFC3339_SIZE], small[29];
    size_t i;
    int rc;

    for (i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
        memset(out, 'x', sizeof(out));
        rc = clock_rfc3339_format(fmt_cases[i].us, fmt_cases[i].offset_min,
                                  fmt_cases[i].flags, out, sizeof(out));
        if (fmt_cases[i].want)
            T_CHECK(rc == 0 && strcmp(out, fmt_cases[i].want) == 0,
                    "format %lld %+d %u -> \"%s\", want \"%s\"",
                    fmt_cases[i].us, fmt_cases[i].offset_min,
                    fmt_cases[i].flags, rc == 0 ? out : "(failed)",
                    fmt_cases[i].want);
        else
            T_CHECK(rc == -1 && out[0] == '\0',
                    "format %lld %+d must fail (got \"%s\")", fmt_cases[i].us,
                    fmt_cases[i].offset_min, out);
    }
    /* The longest text is 29 characters: 30 bytes fit, 29 do not. */
    T_ASSERT_EQ(clock_rfc3339_format(T0, 180, CLOCK_FMT_MS, out, 30), 0);
    T_ASSERT_EQ(strlen(out), 29);
    T_ASSERT_EQ(
        clock_rfc3339_format(T0, 180, CLOCK_FMT_MS, small, sizeof(small)), -1);
    T_ASSERT_EQ(small[0], '\0');
    T_ASSERT_EQ(clock_rfc3339_format(T0, 0, CLOCK_FMT_MS, NULL, 0), -1);
}

/* Whatever is formatted reads back as the same instant (to the unit the
 * format keeps), in every zone. */
static void test_round_trip(void)
{
    static const long long instants[] = {0,
                                         1,
                                         -1,
                                         T0,
                                         T0 + 999999,
                                         -62135596800000000LL + 86400000000LL,
                                         253402300799999999LL - 86400000000LL,
                                         951868799999999LL,
                                         1709251199999999LL};
    static const int offsets[] = {0, 180, -180, 345, -570, 1439, -1439};
    char out[CLOCK_RFC3339_SIZE];
    int64_t back;
    long long want;
    size_t i, j;

    for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        for (j = 0; j < sizeof(offsets) / sizeof(offsets[0]); j++) {
            want = instants[i] / 1000 * 1000;
            if (instants[i] < 0 && instants[i] % 1000)
                want -= 1000;
            T_CHECK(clock_rfc3339_format(instants[i], offsets[j],
                                         CLOCK_FMT_MS | CLOCK_FMT_Z, out,
                                         sizeof(out)) == 0 &&
                        clock_rfc3339_parse(out, &back) == 0 && back == want,
                    "round trip %lld %+d via \"%s\"", instants[i], offsets[j],
                    out);
        }
    }
}

static void test_now(void)
{
    int64_t m0 = clock_mono_ms(), m1, w = clock_wall_ms();
    int64_t wus = clock_wall_us();
    struct timespec nap = {0, 20 * 1000000L};
    time_t t = time(NULL);

    nanosleep(&nap, NULL);
    m1 = clock_mono_ms();
    T_ASSERT(m1 - m0 >= 20);
    T_ASSERT(m1 - m0 < 5000);
    /* Wall milliseconds and microseconds agree with time(). */
    T_ASSERT(w / 1000 >= (int64_t)t - 1 && w / 1000 <= (int64_t)t + 1);
    T_ASSERT(wus / 1000 >= w && wus / 1000 - w < 1000);
}

int main(void)
{
    test_parse();
    test_format();
    test_round_trip();
    test_now();
    T_DONE();
}
