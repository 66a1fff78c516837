#include "sim_fmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

char *sim_money_fmt(int64_t cents, char *buf, size_t bufsz)
{
    const char *sign = cents < 0 ? "-" : "";
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    unsigned frac = (unsigned)(a % 100);

    if (frac == 0)
        snprintf(buf, bufsz, "%s%llu.0", sign, (unsigned long long)(a / 100));
    else if (frac % 10 == 0)
        snprintf(buf, bufsz, "%s%llu.%u", sign, (unsigned long long)(a / 100),
                 frac / 10);
    else
        snprintf(buf, bufsz, "%s%llu.%02u", sign, (unsigned long long)(a / 100),
                 frac);
    return buf;
}

int sim_money_parse(const char *s, int64_t *cents)
{
    int neg = 0, digits = 0;
    int64_t whole = 0, frac = 0;
    int fdigits = 0, round_up = 0;

    while (*s == ' ')
        s++;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    for (; isdigit((unsigned char)*s); s++, digits++) {
        if (whole > (INT64_MAX / 100 - 9) / 10)
            return -1;
        whole = whole * 10 + (*s - '0');
    }
    if (*s == '.' || *s == ',') {
        s++;
        for (; isdigit((unsigned char)*s); s++, digits++) {
            if (fdigits < 2)
                frac = frac * 10 + (*s - '0');
            else if (fdigits == 2)
                round_up = *s >= '5';
            fdigits++;
        }
    }
    while (*s == ' ')
        s++;
    if (*s != '\0' || digits == 0)
        return -1;
    if (fdigits == 1)
        frac *= 10;
    *cents = whole * 100 + frac + round_up;
    if (neg)
        *cents = -*cents;
    return 0;
}

int sim_money_from_json(const json_t *v, int64_t *cents)
{
    char buf[64];

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i > INT64_MAX / 100 || i < INT64_MIN / 100)
            return -1;
        *cents = (int64_t)i * 100;
        return 0;
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%.6f", json_real_value(v));
        return sim_money_parse(buf, cents);
    }
    if (json_is_string(v))
        return sim_money_parse(json_string_value(v), cents);
    return -1;
}

json_t *sim_money_json(int64_t cents)
{
    char buf[40];

    return json_string(sim_money_fmt(cents, buf, sizeof(buf)));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t sim_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

char *sim_time_fmt(int64_t ms, char *buf, size_t bufsz)
{
    int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int msec = (int)(ms - sec * 1000);
    time_t t = (time_t)(sec + SIM_TZ_OFFSET_MIN * 60);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+%02d:%02d",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, msec, SIM_TZ_OFFSET_MIN / 60,
             SIM_TZ_OFFSET_MIN % 60);
    return buf;
}

json_t *sim_time_json(int64_t ms)
{
    char buf[48];

    return json_string(sim_time_fmt(ms, buf, sizeof(buf)));
}

/* Read exactly @p n digits; returns -1 if they are not there. */
static int sim_digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

int sim_time_parse(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0, msec = 0;
    int off = SIM_TZ_OFFSET_MIN, sign = 1;

    y = sim_digits(&p, 4);
    if (y < 0 || *p++ != '-')
        return -1;
    mo = sim_digits(&p, 2);
    if (mo < 1 || mo > 12 || *p++ != '-')
        return -1;
    d = sim_digits(&p, 2);
    if (d < 1 || d > 31)
        return -1;
    if (*p == 'T' || *p == ' ' || *p == '+') {
        p++;
        h = sim_digits(&p, 2);
        if (h < 0 || h > 23 || *p++ != ':')
            return -1;
        mi = sim_digits(&p, 2);
        if (mi < 0 || mi > 59)
            return -1;
        if (*p == ':') {
            p++;
            se = sim_digits(&p, 2);
            if (se < 0 || se > 60)
                return -1;
            if (*p == '.') {
                int scale = 100;
                p++;
                if (!isdigit((unsigned char)*p))
                    return -1;
                for (; isdigit((unsigned char)*p); p++) {
                    msec += (*p - '0') * scale;
                    scale /= 10;
                }
            }
        }
        while (*p == ' ')
            p++;
        if (*p == 'Z' || *p == 'z') {
            off = 0;
            p++;
        } else if (*p == '+' || *p == '-' || isdigit((unsigned char)*p)) {
            int oh, om = 0;
            if (*p == '-')
                sign = -1;
            /* A literal '+' separator may precede the sign ("++03:00"). */
            while (*p == '+' || *p == '-')
                p++;
            oh = sim_digits(&p, 2);
            if (oh < 0 || oh > 14)
                return -1;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p)) {
                om = sim_digits(&p, 2);
                if (om < 0 || om > 59)
                    return -1;
            }
            off = sign * (oh * 60 + om);
        }
    }
    while (*p == ' ')
        p++;
    if (*p != '\0')
        return -1;
    *ms = ((sim_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) -
           (int64_t)off * 60) *
              1000 +
          msec;
    return 0;
}

int64_t sim_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Russian letters а..я in order, then ё. */
static const char *const sim_translit[33] = {
    "a",  "b",  "v",  "g",   "d", "e", "zh", "z", "i",  "y",  "k",
    "l",  "m",  "n",  "o",   "p", "r", "s",  "t", "u",  "f",  "h",
    "ts", "ch", "sh", "sch", "",  "y", "",   "e", "yu", "ya", "e"};

char *sim_permalink(const char *title, char *buf, size_t bufsz)
{
    const unsigned char *p = (const unsigned char *)title;
    size_t n = 0;
    int dash = 0;

    if (bufsz == 0)
        return buf;
    while (*p && n + 4 < bufsz) {
        const char *out = NULL;
        char one[2] = {0, 0};
        unsigned cp = 0;

        if (*p < 0x80) {
            if (isalnum(*p)) {
                one[0] = (char)tolower(*p);
                out = one;
            }
            p++;
        } else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            cp = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
            p += 2;
            if (cp >= 0x410 && cp <= 0x42F)
                out = sim_translit[cp - 0x410];
            else if (cp >= 0x430 && cp <= 0x44F)
                out = sim_translit[cp - 0x430];
            else if (cp == 0x401 || cp == 0x451)
                out = sim_translit[32];
        } else {
            p++;
            while ((*p & 0xC0) == 0x80)
                p++;
        }
        if (out == NULL) {
            dash = n > 0;
            continue;
        }
        if (*out == '\0')
            continue;
        if (dash && n + 1 < bufsz) {
            buf[n++] = '-';
            dash = 0;
        }
        for (; *out && n + 1 < bufsz; out++)
            buf[n++] = *out;
    }
    buf[n] = '\0';
    return buf;
}
