#include "lib/clock.h"

#include <stdio.h>
#include <time.h>

#define CLOCK_US_PER_S 1000000LL
#define CLOCK_S_PER_DAY 86400LL

static int64_t clock_read_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * CLOCK_US_PER_S + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
    return clock_read_us(CLOCK_MONOTONIC) / 1000;
}

int64_t clock_mono_us(void)
{
    return clock_read_us(CLOCK_MONOTONIC);
}

int64_t clock_wall_ms(void)
{
    return clock_read_us(CLOCK_REALTIME) / 1000;
}

int64_t clock_wall_us(void)
{
    return clock_read_us(CLOCK_REALTIME);
}

/* a / b rounded toward minus infinity (b > 0). */
static int64_t clock_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return a % b < 0 ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms"). */
static int64_t clock_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of clock_days_from_civil(). */
static void clock_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int clock_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Read exactly @p n digits at *p into *out and advance; -1 if they are not
 * all there (a NUL stops the scan before anything past it is read). */
static int clock_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Skip the character @p c at *p; -1 when another one is there. */
static int clock_lit(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

/* "." 1*9DIGIT as microseconds (digits past the 6th dropped); nothing when
 * there is no '.'. */
static int clock_secfrac(const char **p, int64_t *frac_us)
{
    int n = 0;

    *frac_us = 0;
    if (**p != '.')
        return 0;
    (*p)++;
    for (; **p >= '0' && **p <= '9'; (*p)++, n++)
        if (n < 6)
            *frac_us = *frac_us * 10 + (**p - '0');
    if (n < 1 || n > 9)
        return -1;
    for (; n < 6; n++)
        *frac_us *= 10;
    return 0;
}

/* "Z" / "z" / ("+" / "-") HH ":" MM, as seconds east of UTC. */
static int clock_offset(const char **p, int *off_s)
{
    int sign, oh, om;

    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *off_s = 0;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (clock_digits(p, 2, &oh) < 0 || clock_lit(p, ':') < 0 ||
        clock_digits(p, 2, &om) < 0 || oh > 23 || om > 59)
        return -1;
    *off_s = sign * (oh * 3600 + om * 60);
    return 0;
}

int clock_rfc3339_parse(const char *s, int64_t *us)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, off_s;
    int64_t frac_us, t;

    if (!s)
        return -1;
    if (clock_digits(&p, 4, &y) < 0 || clock_lit(&p, '-') < 0 ||
        clock_digits(&p, 2, &mo) < 0 || clock_lit(&p, '-') < 0 ||
        clock_digits(&p, 2, &d) < 0)
        return -1;
    if (*p != 'T' && *p != 't')
        return -1;
    p++;
    if (clock_digits(&p, 2, &h) < 0 || clock_lit(&p, ':') < 0 ||
        clock_digits(&p, 2, &mi) < 0 || clock_lit(&p, ':') < 0 ||
        clock_digits(&p, 2, &sec) < 0 || clock_secfrac(&p, &frac_us) < 0 ||
        clock_offset(&p, &off_s) < 0 || *p != '\0')
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > clock_days_in_month(y, mo) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    t = clock_days_from_civil(y, mo, d) * CLOCK_S_PER_DAY + h * 3600 + mi * 60 +
        sec - off_s;
    *us = t * CLOCK_US_PER_S + frac_us;
    return 0;
}

int clock_rfc3339_format(int64_t us, int offset_min, unsigned flags, char *out,
                         size_t size)
{
    int64_t sec, local, days, y;
    int sod, m, d, ms, n;
    char zone[16], frac[16] = "";

    if (!out || size == 0)
        return -1;
    out[0] = '\0';
    if (offset_min < -1439 || offset_min > 1439)
        return -1;
    /* The remainder taken apart from the quotient: sec * 10^6 would
     * overflow for |us| near INT64_MAX. */
    sec = clock_floor_div(us, CLOCK_US_PER_S);
    ms = (int)((us % CLOCK_US_PER_S + CLOCK_US_PER_S) % CLOCK_US_PER_S / 1000);
    local = sec + (int64_t)offset_min * 60;
    days = clock_floor_div(local, CLOCK_S_PER_DAY);
    sod = (int)(local - days * CLOCK_S_PER_DAY);
    clock_civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return -1;
    if (!(flags & CLOCK_FMT_SEC))
        snprintf(frac, sizeof(frac), ".%03d", ms);
    if (offset_min == 0 && (flags & CLOCK_FMT_Z))
        snprintf(zone, sizeof(zone), "Z");
    else
        snprintf(zone, sizeof(zone), "%c%02d:%02d", offset_min < 0 ? '-' : '+',
                 (offset_min < 0 ? -offset_min : offset_min) / 60,
                 (offset_min < 0 ? -offset_min : offset_min) % 60);
    n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", (int)y, m, d,
                 sod / 3600, sod / 60 % 60, sod % 60, frac, zone);
    if (n < 0 || (size_t)n >= size) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
