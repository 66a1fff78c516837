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
 * @brief Parse money text ("1500", "1500.0", "12.555", "7,5") into
 *        hundredths, rounding half away from zero.
 * @returns 0, or -1 when @p s is not a number.
 */
int sim_money_parse(const char *s, int64_t *cents);

/**
 * @brief Read money from a JSON number or string.
 * @returns 0, or -1 when @p v is neither or not a number.
 */
int sim_money_from_json(const json_t *v, int64_t *cents);

/** @brief New JSON string for @p cents (jansson new reference). */
json_t *sim_money_json(int64_t cents);

/**
 * @brief Format milliseconds since the epoch as
 *        "2023-11-22T14:24:30.000+03:00".
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
 * shop's +03:00 is assumed), and a bare date.
 * @returns 0, or -1 when @p s is not a timestamp.
 */
int sim_time_parse(const char *s, int64_t *ms);

/** @returns wall-clock milliseconds since the epoch. */
int64_t sim_now_ms(void);

/**
 * @brief Transliterate a title into an inSales-style permalink
 *        ("Docs API простой" -> "docs-api-prostoy").
 * @returns @p buf.
 */
char *sim_permalink(const char *title, char *buf, size_t bufsz);

#endif
