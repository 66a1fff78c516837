#include "events/order.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ord_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ord_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *const order_status_names[] = {
    [ORDER_STATUS_NEW] = "new",
    [ORDER_STATUS_ACCEPTED] = "accepted",
    [ORDER_STATUS_OTHER] = "other",
    [ORDER_STATUS_SHIPPED] = "shipped",
    [ORDER_STATUS_DELIVERED] = "delivered",
    [ORDER_STATUS_CANCELLED] = "cancelled",
    [ORDER_STATUS_RETURNED] = "returned",
};

const char *order_status_name(enum order_status s)
{
    if ((int)s < 0 || (size_t)s >= sizeof(order_status_names) / sizeof(char *))
        return "?";
    return order_status_names[s];
}

void order_clear(struct order *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nlines; i++) {
        free(o->lines[i].sku);
        free(o->lines[i].title);
    }
    free(o->lines);
    free(o->number);
    free(o->status_label);
    free(o->payment_status);
    free(o->delivery_title);
    json_decref(o->client);
    memset(o, 0, sizeof(*o));
}

/* ---- timestamps --------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long ord_days_from_civil(long long y, long long m, long long d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Read exactly @p n digits at *p; advances *p. */
static int ord_digits(const char **p, int n, long long *out)
{
    long long v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS" at *p into seconds since the epoch (UTC). */
static int ord_ts_date_time(const char **p, long long *sec_out)
{
    long long y, mo, d, h, mi, sec;

    if (ord_digits(p, 4, &y) || *(*p)++ != '-' || ord_digits(p, 2, &mo) ||
        *(*p)++ != '-' || ord_digits(p, 2, &d) || (**p != 'T' && **p != ' '))
        return -1;
    (*p)++;
    if (ord_digits(p, 2, &h) || *(*p)++ != ':' || ord_digits(p, 2, &mi) ||
        *(*p)++ != ':' || ord_digits(p, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    *sec_out = ord_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

/* An optional ".fraction" at *p into microseconds. */
static int ord_ts_fraction(const char **p, long long *frac)
{
    int nfrac = 0;

    *frac = 0;
    if (**p != '.')
        return 0;
    (*p)++;
    if (!isdigit((unsigned char)**p))
        return -1;
    for (; isdigit((unsigned char)**p); (*p)++)
        if (nfrac < 6) {
            *frac = *frac * 10 + (**p - '0');
            nfrac++;
        }
    for (; nfrac < 6; nfrac++)
        *frac *= 10;
    return 0;
}

/* "Z" or "+HH:MM" / "-HH:MM" at *p into seconds east of UTC. */
static int ord_ts_offset(const char **p, long long *off)
{
    long long oh, om;
    int sign;

    if (**p == 'Z') {
        (*p)++;
        *off = 0;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (ord_digits(p, 2, &oh) || *(*p)++ != ':' || ord_digits(p, 2, &om) ||
        oh > 23 || om > 59)
        return -1;
    *off = sign * (oh * 3600 + om * 60);
    return 0;
}

int order_ts_parse(const char *s, long long *us)
{
    long long sec, frac, off;
    const char *p = s;

    if (!s || ord_ts_date_time(&p, &sec) < 0 ||
        ord_ts_fraction(&p, &frac) < 0 || ord_ts_offset(&p, &off) < 0 ||
        *p != '\0')
        return -1;
    *us = (sec - off) * 1000000LL + frac;
    return 0;
}

int order_version_newer(const char *incoming, const char *current)
{
    long long a, b;

    if (order_ts_parse(incoming, &a) < 0 || order_ts_parse(current, &b) < 0)
        return -1;
    return a > b ? 1 : 0;
}

/* ---- money -------------------------------------------------------------- */

/* Decimal text: digits with at most one '.' or ',' between digits. */
static int ord_money_string(const char *s, char *out, size_t out_size)
{
    size_t n = 0;
    int seen_sep = 0, digits = 0;

    if (out_size < 2)
        return -1;
    if (*s == '-')
        out[n++] = *s++;
    for (; *s; s++) {
        if (n + 1 >= out_size)
            return -1;
        if (isdigit((unsigned char)*s)) {
            out[n++] = *s;
            digits++;
        } else if ((*s == '.' || *s == ',') && !seen_sep && digits) {
            out[n++] = '.';
            seen_sep = 1;
        } else {
            return -1;
        }
    }
    if (!digits || out[n - 1] == '.')
        return -1;
    out[n] = '\0';
    return 0;
}

int order_money_text(const json_t *v, char *out, size_t out_size)
{
    if (json_is_integer(v)) {
        snprintf(out, out_size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        snprintf(out, out_size, "%.2f", json_real_value(v));
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    return ord_money_string(json_string_value(v), out, out_size);
}

/* ---- the orders.raw event ----------------------------------------------- */

int order_raw_key(const char *store, long long remote_id, char *out,
                  size_t out_size)
{
    int n = snprintf(out, out_size, "%s:%lld", store, remote_id);

    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}

/* data has "source" and "order" and nothing else; source is known. */
static int ord_raw_data_keys(json_t *data, char *errstr, size_t errstr_size)
{
    const json_t *src = json_object_get(data, "source");
    const char *k;
    void *it;

    for (it = json_object_iter(data); it;
         it = json_object_iter_next(data, it)) {
        k = json_object_iter_key(it);
        if (strcmp(k, "source") != 0 && strcmp(k, "order") != 0)
            return ord_fail(errstr, errstr_size, "data.%s: unexpected key", k);
    }
    if (!json_is_string(src) ||
        (strcmp(json_string_value(src), "webhook") != 0 &&
         strcmp(json_string_value(src), "poll") != 0))
        return ord_fail(errstr, errstr_size,
                        "data.source: expected \"webhook\" or \"poll\"");
    return 0;
}

int order_raw_validate(const char *key, const char *store, json_t *data,
                       char *errstr, size_t errstr_size)
{
    const json_t *order = json_object_get(data, "order");
    const json_t *id, *upd;
    char want[512];
    long long us;

    if (ord_raw_data_keys(data, errstr, errstr_size) < 0)
        return -1;
    if (!json_is_object(order))
        return ord_fail(errstr, errstr_size, "data.order: expected object");
    id = json_object_get(order, "id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        return ord_fail(errstr, errstr_size,
                        "data.order.id: expected integer > 0");
    upd = json_object_get(order, "updated_at");
    if (!json_is_string(upd) || order_ts_parse(json_string_value(upd), &us) < 0)
        return ord_fail(errstr, errstr_size,
                        "data.order.updated_at: expected RFC 3339 timestamp");
    if (!store)
        return ord_fail(errstr, errstr_size,
                        "store: an orders.raw event needs a store");
    if (order_raw_key(store, json_integer_value(id), want, sizeof(want)) < 0 ||
        strcmp(key, want) != 0)
        return ord_fail(errstr, errstr_size,
                        "key: expected '%s' (store:order id), got '%s'", want,
                        key);
    return 0;
}
