#include "lib/money.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many integer digits (leading zeros not counted). */
#define MONEY_MAX_INT_DIGITS 15

/* A JSON real at or beyond this magnitude cannot carry exact cents. */
#define MONEY_REAL_MAX 1e13

const char *money_res_name(enum money_res r)
{
    switch (r) {
    case MONEY_OK:
        return "ok";
    case MONEY_SYNTAX:
        break;
    case MONEY_DECIMALS:
        return "more than 2 decimal places";
    case MONEY_RANGE:
        return "too large (more than 15 integer digits)";
    }
    return "not a number";
}

/* Length of a thousands separator at s (space, NBSP, NARROW NBSP in UTF-8),
 * or 0. */
static size_t money_group_sep(const char *s, size_t left)
{
    const unsigned char *u = (const unsigned char *)s;

    if (left >= 1 && u[0] == ' ')
        return 1;
    if (left >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (left >= 3 && u[0] == 0xE2 && u[1] == 0x80 && u[2] == 0xAF)
        return 3;
    return 0;
}

static int money_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* What money_scan() read so far. */
struct money_text {
    const char *s;
    size_t len, i;
    int nint, nfrac, round_up;
    long long whole, frac;
};

/* The integer part at t->i, with thousands groups when MONEY_GROUPS. */
static enum money_res money_scan_int(struct money_text *t, unsigned flags)
{
    int ndig = 0, group = 0, ngroups = 0;
    size_t sep;

    for (; t->i < t->len; t->i++) {
        char c = t->s[t->i];

        if (money_is_digit(c)) {
            /* Leading zeros count for grouping only; beyond the bound the
             * digits are still scanned so a syntax error wins. */
            if ((t->whole || c != '0') && ++t->nint <= MONEY_MAX_INT_DIGITS)
                t->whole = t->whole * 10 + (c - '0');
            ndig++;
            group++;
            continue;
        }
        sep = flags & MONEY_GROUPS ? money_group_sep(t->s + t->i, t->len - t->i)
                                   : 0;
        if (!sep)
            break;
        if (group == 0 || (ngroups == 0 ? group > 3 : group != 3))
            return MONEY_SYNTAX;
        ngroups++;
        group = 0;
        t->i += sep - 1;
    }
    if (ndig == 0 || (ngroups > 0 && group != 3))
        return MONEY_SYNTAX;
    return MONEY_OK;
}

/* An optional fraction after '.' or ','; the third decimal decides the
 * rounding. */
static enum money_res money_scan_frac(struct money_text *t)
{
    if (t->i >= t->len || (t->s[t->i] != '.' && t->s[t->i] != ','))
        return MONEY_OK;
    for (t->i++; t->i < t->len && money_is_digit(t->s[t->i]);
         t->i++, t->nfrac++) {
        if (t->nfrac < 2)
            t->frac = t->frac * 10 + (t->s[t->i] - '0');
        else if (t->nfrac == 2)
            t->round_up = t->s[t->i] >= '5';
    }
    return t->nfrac == 0 ? MONEY_SYNTAX : MONEY_OK;
}

enum money_res money_scan(const char *s, size_t len, unsigned flags,
                          long long *minor)
{
    struct money_text t = {.s = s, .len = len};
    enum money_res r;
    int neg = 0;
    long long v;

    if (!s)
        return MONEY_SYNTAX;
    if (len > 0 && s[0] == '-') {
        neg = 1;
        t.i = 1;
    }
    r = money_scan_int(&t, flags);
    if (r == MONEY_OK)
        r = money_scan_frac(&t);
    if (r != MONEY_OK || t.i < len)
        return MONEY_SYNTAX;
    if (t.nfrac > 2 && !(flags & MONEY_ROUND))
        return MONEY_DECIMALS;
    if (t.nint > MONEY_MAX_INT_DIGITS)
        return MONEY_RANGE;
    if (t.nfrac == 1)
        t.frac *= 10;
    v = t.whole * 100 + t.frac + t.round_up;
    if (v > MONEY_MAX_MINOR)
        return MONEY_RANGE; /* 999999999999999.995 rounded up */
    *minor = neg ? -v : v;
    return MONEY_OK;
}

int money_parse(const char *s, long long *minor, char *errstr,
                size_t errstr_size)
{
    enum money_res r = money_scan(s, s ? strlen(s) : 0, 0, minor);

    if (r == MONEY_OK)
        return 0;
    snprintf(errstr, errstr_size, "%s: \"%.40s%s\"", money_res_name(r),
             s ? s : "(null)", s && strlen(s) > 40 ? "..." : "");
    return -1;
}

/* The shortest "%.Nf" text of @p d that reads back as @p d; -1 when @p d is
 * not finite or too large to carry cents. */
static int money_real_text(double d, char *buf, size_t size)
{
    if (!isfinite(d) || fabs(d) >= MONEY_REAL_MAX)
        return -1;
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(buf, size, "%.*f", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return 0;
}

int money_from_json(const json_t *v, unsigned flags, long long *minor,
                    char *errstr, size_t errstr_size)
{
    char buf[64];
    const char *s;
    size_t len;
    enum money_res r;

    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);

        if (n > MONEY_MAX_MINOR / 100 || n < -(MONEY_MAX_MINOR / 100)) {
            snprintf(errstr, errstr_size, "%s: %" JSON_INTEGER_FORMAT,
                     money_res_name(MONEY_RANGE), n);
            return -1;
        }
        *minor = (long long)n * 100;
        return 0;
    }
    if (json_is_real(v)) {
        if (money_real_text(json_real_value(v), buf, sizeof(buf)) < 0) {
            snprintf(errstr, errstr_size,
                     "a JSON number of 1e13 or more cannot carry cents "
                     "(send a string): %g",
                     json_real_value(v));
            return -1;
        }
        s = buf;
        len = strlen(buf);
    } else if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);
    } else {
        snprintf(errstr, errstr_size, "not a number or a string");
        return -1;
    }
    r = money_scan(s, len, flags, minor);
    if (r == MONEY_OK)
        return 0;
    snprintf(errstr, errstr_size, "%s: \"%.40s%s\"", money_res_name(r), s,
             len > 40 ? "..." : "");
    return -1;
}

int money_format(long long minor, char *out, size_t size)
{
    unsigned long long a = minor < 0 ? 0ULL - (unsigned long long)minor
                                     : (unsigned long long)minor;
    int n;

    if (!out || size == 0)
        return -1;
    n = snprintf(out, size, "%s%llu.%02llu", minor < 0 ? "-" : "", a / 100,
                 a % 100);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int money_parse_canonical(const char *s, long long *minor)
{
    char buf[MONEY_TEXT_SIZE];
    long long m;

    if (!s || money_scan(s, strlen(s), 0, &m) != MONEY_OK ||
        money_format(m, buf, sizeof(buf)) < 0 || strcmp(buf, s) != 0)
        return -1;
    if (minor)
        *minor = m;
    return 0;
}
