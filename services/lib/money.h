/*
 * money — amounts as integer minor units (long long, 2 decimals: 1500.50 is
 * 150050), read from the text and JSON that stores, files and the ledger
 * use, and written as the ledger's numeric(14,2) text.
 *
 * The grammar money_scan() accepts (ABNF, RFC 5234):
 *
 *   money      = ["-"] int-part [dec-sep frac-part]
 *   int-part   = 1*DIGIT
 *              / 1*3DIGIT 1*(group-sep 3DIGIT)   ; only with MONEY_GROUPS
 *   dec-sep    = "." / ","                       ; decimal point or comma
 *   frac-part  = 1*2DIGIT                        ; 3 or more digits only
 *                                                ; with MONEY_ROUND
 *   group-sep  = " " / %xC2.A0 / %xE2.80.AF      ; space, NBSP, NARROW NBSP
 *
 * Leading zeros are fine ("007" is 7.00); "-0" is 0.  Nothing else is
 * accepted: no blanks around the number, no "+", no exponent, no digits
 * missing on either side of the separator ("12." and ".5"), no thousands
 * separators unless MONEY_GROUPS.
 *
 * Rounding: none.  A third decimal is an error (MONEY_DECIMALS, "more than
 * 2 decimal places"), even "1500.000", unless the caller passes
 * MONEY_ROUND: then the amount is rounded half away from zero on the third
 * decimal ("12.555" -> 12.56, "-12.555" -> -12.56), as Postgres rounds
 * into numeric(14,2).
 *
 * Bound: at most 15 integer digits (leading zeros not counted), i.e.
 * |amount| <= 999 999 999 999 999.99 (MONEY_MAX_MINOR); beyond is
 * MONEY_RANGE.  The ledger's numeric(14,2) holds less (12 integer digits):
 * callers that write it check their own bound.
 */
#ifndef OMNI_MONEY_H
#define OMNI_MONEY_H

#include <stddef.h>

#include <jansson.h>

/* The largest amount in minor units: 999 999 999 999 999.99. */
#define MONEY_MAX_MINOR 99999999999999999LL

/* Room for any text money_format() writes, with its NUL. */
#define MONEY_TEXT_SIZE 24

/* money_scan() / money_from_json() options. */
#define MONEY_ROUND 0x1  /* round past 2 decimals instead of failing */
#define MONEY_GROUPS 0x2 /* accept thousands separators (group-sep) */

/* Why text is not money. */
enum money_res {
    MONEY_OK = 0,
    MONEY_SYNTAX,   /* not the grammar: "not a number" */
    MONEY_DECIMALS, /* "more than 2 decimal places" */
    MONEY_RANGE,    /* "too large (more than 15 integer digits)" */
};

/** @returns the reason text of @p r ("not a number", ...; "ok"). */
const char *money_res_name(enum money_res r);

/**
 * @brief Read the @p len bytes at @p s (no NUL needed; a NUL inside is not
 *        money) with the grammar above.
 * @param s      the text (may be NULL: MONEY_SYNTAX).
 * @param flags  0, or MONEY_ROUND and/or MONEY_GROUPS.
 * @param minor  receives the amount in minor units; untouched on error.
 * @returns MONEY_OK, or why not.  When several things are wrong the first
 *          of MONEY_SYNTAX, MONEY_DECIMALS, MONEY_RANGE is reported.
 */
enum money_res money_scan(const char *s, size_t len, unsigned flags,
                          long long *minor);

/**
 * @brief Read a NUL-terminated amount: "1500", "1500.5", "1500.50",
 *        "1500,50", "-0.50" (money_scan() without options).
 * @param s      the text (may be NULL: an error).
 * @param errstr (may be NULL when errstr_size is 0) receives the reason and
 *               the text, e.g.
 *               `more than 2 decimal places: "1.005"`.
 * @returns 0, or -1 with @p errstr.
 */
int money_parse(const char *s, long long *minor, char *errstr,
                size_t errstr_size);

/**
 * @brief Read an amount from JSON as stores send it: a string ("1500.0",
 *        "7,5": money_scan() with @p flags), an integer (1500: whole units)
 *        or a real (1500.5).  A real is read as the shortest decimal text
 *        that converts back to the same double ("%.Nf" with the smallest N),
 *        so 200.1 is 200.10, not 200.09999...; reals of 1e13 or more are
 *        rejected, since a double cannot tell cents apart there.
 * @param v      the value (may be NULL: an error; null is an error too).
 * @param flags  passed to money_scan() for strings and reals.
 * @param errstr (may be NULL when errstr_size is 0) receives the reason.
 * @returns 0, or -1 with @p errstr.
 */
int money_from_json(const json_t *v, unsigned flags, long long *minor,
                    char *errstr, size_t errstr_size);

/**
 * @brief Write @p minor as the ledger's text: "1500.00", "-0.50", "0.00".
 * @param out  receives the text; MONEY_TEXT_SIZE is always enough.
 * @returns 0, or -1 (with @p out truncated) when @p size is too small.
 */
int money_format(long long minor, char *out, size_t size);

/**
 * @brief Read an amount only in exactly the form money_format() writes
 *        ("1500.00", "-0.50"; not "1500.0", "01.00" or "-0.00").
 * @param s      the text (may be NULL: an error).
 * @param minor  (may be NULL) receives the amount.
 * @returns 0, or -1 when @p s is not that text.
 */
int money_parse_canonical(const char *s, long long *minor);

#endif
