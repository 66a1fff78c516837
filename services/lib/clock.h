/*
 * clock — the one clock: "now" (monotonic for intervals and deadlines, wall
 * for timestamps) and RFC 3339 timestamps read and written as microseconds
 * since 1970-01-01T00:00:00Z.
 *
 * The grammar clock_rfc3339_parse() accepts (ABNF, RFC 5234; RFC 3339 §5.6
 * narrowed to what the store and our events send):
 *
 *   date-time     = full-date t-sep partial-time time-offset
 *   full-date     = year "-" month "-" mday
 *   year          = 4DIGIT            ; 0001..9999 (0000 is rejected)
 *   month         = 2DIGIT            ; 01..12
 *   mday          = 2DIGIT            ; 01..28/29/30/31 by month and year
 *                                     ; (Gregorian leap years)
 *   t-sep         = "T" / "t"         ; no space
 *   partial-time  = hour ":" minute ":" second [secfrac]
 *   hour          = 2DIGIT            ; 00..23
 *   minute        = 2DIGIT            ; 00..59
 *   second        = 2DIGIT            ; 00..59 (the leap second 60 is
 *                                     ; rejected: POSIX time has none)
 *   secfrac       = "." 1*9DIGIT      ; digits past the 6th (below a
 *                                     ; microsecond) are dropped, not rounded
 *   time-offset   = "Z" / "z" / num-offset
 *   num-offset    = ("+" / "-") hour ":" minute   ; within -23:59..+23:59;
 *                                     ; "-00:00" reads as "+00:00"
 *
 * Seconds and the offset are required; nothing may follow the offset.
 * Examples: "2026-11-27T10:00:00.000+03:00" (a store's local time),
 * "2026-11-27T07:00:00Z", "2026-11-27t07:00:00.123456789z".
 */
#ifndef OMNI_CLOCK_H
#define OMNI_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Room for any text clock_rfc3339_format() writes, with its NUL
 * ("9999-12-31T23:59:59.999+23:59"). */
#define CLOCK_RFC3339_SIZE 32

/* clock_rfc3339_format() options. */
#define CLOCK_FMT_MS 0x0  /* milliseconds: "...T10:00:00.123+03:00" */
#define CLOCK_FMT_SEC 0x1 /* whole seconds: "...T10:00:00+03:00" */
#define CLOCK_FMT_Z 0x2   /* "Z" instead of "+00:00" when the offset is 0 */

/** @returns milliseconds of CLOCK_MONOTONIC: for intervals and deadlines. */
int64_t clock_mono_ms(void);

/** @returns microseconds of CLOCK_MONOTONIC: for timing short steps. */
int64_t clock_mono_us(void);

/** @returns milliseconds since the epoch (CLOCK_REALTIME). */
int64_t clock_wall_ms(void);

/** @returns microseconds since the epoch (CLOCK_REALTIME). */
int64_t clock_wall_us(void);

/**
 * @brief Read an RFC 3339 timestamp with the grammar above.
 * @param s   the text (may be NULL: an error).
 * @param us  receives microseconds since the epoch (UTC); untouched on
 *            error.
 * @returns 0, or -1 when @p s does not match the grammar or names a day
 *          or time that does not exist.
 */
int clock_rfc3339_parse(const char *s, int64_t *us);

/**
 * @brief Write @p us as RFC 3339 in the zone @p offset_min minutes east of
 *        UTC: "2026-11-27T10:00:00.000+03:00".  Sub-units are truncated
 *        toward the past (floor), never rounded.
 * @param offset_min  -1439..1439 (-23:59..+23:59).
 * @param flags       CLOCK_FMT_MS (default) or CLOCK_FMT_SEC, optionally
 *                    with CLOCK_FMT_Z.
 * @param out         receives the text; CLOCK_RFC3339_SIZE is always enough.
 * @returns 0, or -1 (with @p out "" when there is room for it) when the
 *          year falls outside 0001..9999, the offset is out of range, or
 *          @p size is too small.
 */
int clock_rfc3339_format(int64_t us, int offset_min, unsigned flags, char *out,
                         size_t size);

#endif
