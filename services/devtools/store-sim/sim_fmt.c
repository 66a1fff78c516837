#include "sim_fmt.h"

#include "lib/clock.h"
#include "lib/money.h"

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

int sim_money_from_json(const json_t *v, int64_t *cents)
{
    long long minor;

    /* Like the store, take what clients send and round it to kopecks. */
    if (money_from_json(v, MONEY_ROUND, &minor, NULL, 0) < 0)
        return -1;
    *cents = minor;
    return 0;
}

json_t *sim_money_json(int64_t cents)
{
    char buf[40];

    return json_string(sim_money_fmt(cents, buf, sizeof(buf)));
}

char *sim_time_fmt(int64_t ms, char *buf, size_t bufsz)
{
    clock_rfc3339_format(ms * 1000, SIM_TZ_OFFSET_MIN, CLOCK_FMT_MS, buf,
                         bufsz);
    return buf;
}

json_t *sim_time_json(int64_t ms)
{
    char buf[48];

    return json_string(sim_time_fmt(ms, buf, sizeof(buf)));
}

/* The RFC 3339 text sim_time_parse() builds, and where it is. */
struct sim_tbuf {
    char s[64];
    size_t n;
};

/* Append the next @p n bytes at *p (all there, none a NUL); advance. */
static int sim_take(struct sim_tbuf *b, const char **p, size_t n)
{
    if (strnlen(*p, n) < n || b->n + n >= sizeof(b->s))
        return -1;
    memcpy(b->s + b->n, *p, n);
    b->n += n;
    b->s[b->n] = '\0';
    *p += n;
    return 0;
}

/* Append the text @p lit. */
static int sim_add(struct sim_tbuf *b, const char *lit)
{
    return sim_take(b, &lit, strlen(lit));
}

/* The store's own offset, "+03:00". */
static int sim_add_local_offset(struct sim_tbuf *b)
{
    char off[8];

    snprintf(off, sizeof(off), "+%02d:%02d", SIM_TZ_OFFSET_MIN / 60,
             SIM_TZ_OFFSET_MIN % 60);
    return sim_add(b, off);
}

/* "HH:MM[:SS[.frac]]" at *p; missing seconds read as ":00". */
static int sim_time_clock(struct sim_tbuf *b, const char **p)
{
    const char *q;
    size_t nfrac;

    if (sim_add(b, "T") < 0 || sim_take(b, p, 5) < 0) /* HH:MM */
        return -1;
    q = *p;
    if (*q != ':')
        return sim_add(b, ":00");
    if (strnlen(q, 3) < 3)
        return -1;
    for (nfrac = 0; q[3] == '.' && isdigit((unsigned char)q[4 + nfrac]);
         nfrac++)
        ;
    return sim_take(b, p, q[3] == '.' ? 4 + nfrac : 3); /* :SS[.frac] */
}

/* A numeric offset at *p: a '+' left as a separator may precede the sign
 * ("++03:00"); one decoded to a space leaves bare digits ("03:00"); the
 * minutes and their colon are optional. */
static int sim_time_numoff(struct sim_tbuf *b, const char **p)
{
    char off[8];

    off[0] = **p == '-' ? '-' : '+';
    while (**p == '+' || **p == '-')
        (*p)++;
    if (strnlen(*p, 2) < 2)
        return -1;
    snprintf(off + 1, sizeof(off) - 1, "%.2s:", *p);
    *p += 2;
    if (**p == ':')
        (*p)++;
    if (isdigit((unsigned char)**p)) {
        if (strnlen(*p, 2) < 2)
            return -1;
        snprintf(off + 4, sizeof(off) - 4, "%.2s", *p);
        *p += 2;
    } else {
        snprintf(off + 4, sizeof(off) - 4, "00");
    }
    return sim_add(b, off);
}

/* The offset after a time: "Z", a numeric one, or none (the store's). */
static int sim_time_offset(struct sim_tbuf *b, const char **p)
{
    while (**p == ' ')
        (*p)++;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return sim_add(b, "Z");
    }
    if (**p == '+' || **p == '-' || isdigit((unsigned char)**p))
        return sim_time_numoff(b, p);
    return sim_add_local_offset(b);
}

/* The query forms of a time (sim_fmt.h) rewritten as RFC 3339 for
 * clock_rfc3339_parse(), which checks every digit and range. */
int sim_time_parse(const char *s, int64_t *ms)
{
    struct sim_tbuf b = {{0}, 0};
    const char *p = s;
    int64_t us;

    if (sim_take(&b, &p, 10) < 0) /* YYYY-MM-DD */
        return -1;
    if (*p == 'T' || *p == ' ' || *p == '+') {
        p++;
        if (sim_time_clock(&b, &p) < 0 || sim_time_offset(&b, &p) < 0)
            return -1;
    } else if (sim_add(&b, "T00:00:00") < 0 || sim_add_local_offset(&b) < 0) {
        return -1;
    }
    while (*p == ' ')
        p++;
    if (*p != '\0' || clock_rfc3339_parse(b.s, &us) < 0)
        return -1;
    *ms = us >= 0 ? us / 1000 : -((999 - us) / 1000);
    return 0;
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
