/*
 * sim_fmt — pure formatting and parsing helpers of store-sim: money as
 * inSales strings, timestamps with the shop's +03:00 offset, permalinks.
 */
#ifndef SIM_FMT_H
#define SIM_FMT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Shop time zone offset used in every timestamp (Moscow, +03:00). */
#define SIM_TZ_OFFSET_MIN 180

/**
 * @brief Format hundredths as an inSales money string: "1500.0", "200.1",
 *        "12.55", "-3.5" (trailing zeros dropped, at least one decimal).
 * @returns @p buf.
 */
char *sim_money_fmt(int64_t cents, char *buf, size_t bufsz);

/**
 * @brief Read money from a JSON number or string ("1500", "1500.0",
 *        "12.555", "7,5", 200.1): lib/money.h's grammar, rounded half away
 *        from zero past 2 decimals (MONEY_ROUND).
 * @returns 0, or -1 when @p v is neither or not money.
 */
int sim_money_from_json(const json_t *v, int64_t *cents);

/** @brief New JSON string for @p cents (jansson new reference). */
json_t *sim_money_json(int64_t cents);

/**
 * @brief Format milliseconds since the epoch as
 *        "2023-11-22T14:24:30.000+03:00" (lib/clock.h; "" when @p ms is
 *        outside years 0001..9999 or @p bufsz is too small).
 * @returns @p buf.
 */
char *sim_time_fmt(int64_t ms, char *buf, size_t bufsz);

/** @brief New JSON string for @p ms (jansson new reference). */
json_t *sim_time_json(int64_t ms);

/**
 * @brief Parse a timestamp as clients send it in `updated_since`.
 *
 * Accepts "2023-11-22T14:24:30.000+03:00", "2023-11-22 14:24:30 +03:00",
 * the same with '+' left as a separator or turned into a space by URL
 * decoding ("... 14:24:30 03:00" means +03:00), "Z", or no offset (the
 * shop's +03:00 is assumed), no seconds ("14:24"), "+0300", and a bare
 * date.  These forms are rewritten as RFC 3339 and read by
 * clock_rfc3339_parse(), so dates, times and offsets are checked as there
 * (no February 30, no leap second, at most 9 fraction digits).
 * @returns 0, or -1 when @p s is not a timestamp.
 */
int sim_time_parse(const char *s, int64_t *ms);

/**
 * @brief Transliterate a title into an inSales-style permalink
 *        ("Docs API простой" -> "docs-api-prostoy").
 * @returns @p buf.
 */
char *sim_permalink(const char *title, char *buf, size_t bufsz);

#endif
