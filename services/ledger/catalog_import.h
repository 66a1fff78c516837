/*
 * catalog_import — `omnisync import catalog|prices`: read a CSV file (see
 * docs/import.md), validate all of it, then apply it to the ledger in one
 * transaction, emitting one `catalog.product` event per product whose
 * snapshot (catalog.h) changed.
 *
 * Flow: catalog_import_new() -> catalog_import_parse() (the file alone: CSV
 * syntax, columns, values, photos; no database) -> catalog_import_apply()
 * (database checks — SKUs owned by another article, unknown SKUs, the price
 * list — and then the writes, only if no row is bad, through the catalog
 * module's staged import, catalog.h).  catalog_import_run() does all of it
 * the way the CLI wants.
 *
 * Every bad row is recorded as (line, column, reason); nothing is written
 * when there is any.  Messages go to stderr as "FILE:LINE:COLUMN: reason",
 * the summary line to stdout.
 */
#ifndef OMNI_CATALOG_IMPORT_H
#define OMNI_CATALOG_IMPORT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

struct csv_record;

/* Exit codes of catalog_import_run() (the CLI's). */
#define CATALOG_IMPORT_OK 0
#define CATALOG_IMPORT_FAIL 1  /* runtime failure (database, I/O) */
#define CATALOG_IMPORT_USAGE 2 /* bad input or usage */

/* The longest product description, in bytes (docs/limits.md; the other
 * columns' limits are in catalog_import.c).  A product's event must fit a
 * Kafka message (1 MB by default) with all its variants. */
#define CATALOG_DESCRIPTION_MAX 65536
/* The most columns a file may have, and unknown-column warnings printed. */
#define CATALOG_IMPORT_MAX_COLUMNS 256
#define CATALOG_IMPORT_MAX_WARNINGS 10

/* At most this many errors are printed, then "... and N more errors". */
#define CATALOG_IMPORT_MAX_ERRORS 100

/* The default largest photo file an import reads (key
 * import.photo_max_bytes): 10 MiB. */
#define CATALOG_IMPORT_PHOTO_MAX_BYTES (10LL * 1024 * 1024)

/* Room for a canonical money string ("999999999999.99"). */
#define CATALOG_MONEY_SIZE 24

enum catalog_import_kind {
    CATALOG_IMPORT_CATALOG, /* import catalog */
    CATALOG_IMPORT_PRICES,  /* import prices: sku,price[,old_price] */
};

struct catalog_import_opts {
    enum catalog_import_kind kind;
    const char *file;          /* CSV path, as given (used in messages) */
    const char *price_list;    /* price list code (may be NULL) */
    const char *photos_dir;    /* (may be NULL) base of relative photo paths;
                                  default: the CSV file's directory */
    long long photo_max_bytes; /* largest photo file; 0: the default,
                                  CATALOG_IMPORT_PHOTO_MAX_BYTES */
    int archive_missing;       /* archive products absent from the file */
    int dry_run;               /* do everything, then ROLLBACK */
    int json; /* the summary as one JSON object (docs/cli.md) */
    /* (may be NULL) called inside the import's transaction just before
     * COMMIT, once every write is done (catalog_import_summary() is then
     * set); non-zero rolls everything back and the apply fails with the
     * hook's errstr.  ledger-api records an idempotency key with it. */
    int (*before_commit)(void *arg, PGconn *pg, char *errstr,
                         size_t errstr_size);
    void *before_commit_arg;
};

/** One bad row (or header problem). */
struct catalog_import_error {
    long line; /* 1-based physical line */
    long col;  /* 1-based UTF-8 character column */
    char *msg; /* reason, starting with the column header when it is about
                  one field, e.g. `price: not a number: "12,x"` */
};

struct catalog_import;

/**
 * @brief A new import.  @p o is copied (its strings are borrowed and must
 *        outlive the import).
 * @returns the import, or NULL with @p errstr.
 */
struct catalog_import *catalog_import_new(const struct catalog_import_opts *o,
                                          char *errstr, size_t errstr_size);

/** @brief Free everything.  NULL is a no-op. */
void catalog_import_destroy(struct catalog_import *ci);

/**
 * @brief Read and validate the file (no database).
 * @returns CATALOG_IMPORT_OK when the file could be read (row errors are
 *          then in catalog_import_error_count()), CATALOG_IMPORT_USAGE with
 *          a message in @p errstr when the file cannot be used at all
 *          (cannot open it, prices without --price-list), or
 *          CATALOG_IMPORT_FAIL (out of memory).
 */
int catalog_import_parse(struct catalog_import *ci, char *errstr,
                         size_t errstr_size);

/**
 * @brief Read already-parsed records instead of a file (ledger-api's
 *        PUT /v1/catalog): @p recs[0] is the header, the rest are rows,
 *        checked exactly as catalog_import_parse() checks a file's.  The
 *        fields' line and col are the caller's own coordinates; errors
 *        carry them back (catalog_import_error_get()).
 * @param recs borrowed for the call (the rows are copied).
 * @returns as catalog_import_parse().
 */
int catalog_import_parse_records(struct catalog_import *ci,
                                 const struct csv_record *recs, size_t n,
                                 char *errstr, size_t errstr_size);

/**
 * @brief Check the parsed rows against the ledger and, when no row is bad,
 *        apply them in one transaction (ROLLBACK instead of COMMIT when
 *        dry_run).  Prints notices to stderr and the summary to @p out
 *        (may be NULL: no summary; catalog_import_summary() has it).
 * @returns CATALOG_IMPORT_OK; CATALOG_IMPORT_USAGE when rows are bad
 *          (see catalog_import_error_count()) or the price list is unknown
 *          (message in @p errstr); CATALOG_IMPORT_FAIL with @p errstr on a
 *          database failure (nothing applied).
 */
int catalog_import_apply(struct catalog_import *ci, PGconn *pg, FILE *out,
                         char *errstr, size_t errstr_size);

/**
 * @brief The summary of the last successful catalog_import_apply() (also
 *        set when before_commit runs): what `--json` prints, {"kind",
 *        "rows", "products", "new", "changed", "unchanged", "archived",
 *        "variants", "events", "dry_run"}.
 * @returns a new reference, or NULL (out of memory).
 */
json_t *catalog_import_summary(const struct catalog_import *ci);

/** @returns the number of bad rows recorded so far. */
size_t catalog_import_error_count(const struct catalog_import *ci);

/** @returns the @p i th error in file order (line, then column); borrowed,
 *  valid until the next call into @p ci. */
const struct catalog_import_error *
catalog_import_error_get(struct catalog_import *ci, size_t i);

/** @brief Print the errors as "FILE:LINE:COL: reason", at most
 *  CATALOG_IMPORT_MAX_ERRORS, then "... and N more errors". */
void catalog_import_errors_print(struct catalog_import *ci, FILE *fp);

/**
 * @brief The whole command: parse, connect (via @p connect, called only
 *        when the file is usable), apply, print.
 * @param connect  returns a connection or NULL after printing why.
 * @returns a CATALOG_IMPORT_* exit code.
 */
int catalog_import_run(const struct catalog_import_opts *o,
                       PGconn *(*connect)(void));

/**
 * @brief Parse a money amount: digits with an optional decimal point or
 *        decimal comma and at most 2 decimals; ASCII spaces, NBSP or
 *        NARROW NBSP as thousands separators (groups of 3 digits only);
 *        surrounding blanks ignored; not negative; at most 12 integer
 *        digits (numeric(14,2)).
 * @param out  receives the canonical form ("1500.50"), CATALOG_MONEY_SIZE.
 * @param why  the reason on failure, e.g. `not a number: "12,x"`.
 * @returns 0, or -1 with @p why.
 */
int catalog_money_parse(const char *s, size_t len, char out[CATALOG_MONEY_SIZE],
                        char *why, size_t why_size);

/**
 * @brief Canonical form of a group path: '/'-separated names, each trimmed
 *        of blanks; a leading or trailing '/' is ignored; "" for no group.
 * @param out  receives a malloc()ed string (caller frees).
 * @returns 0, or -1 with @p why (an empty name inside the path).
 */
int catalog_group_path_parse(const char *s, size_t len, char **out, char *why,
                             size_t why_size);

/**
 * @brief The stock.available events a price change owes (every store
 *        whose price list is @p pl, for each variant whose price this
 *        transaction wrote), in the caller's transaction, after the price
 *        upsert (catalog_price_stage_apply()).  The prices import and
 *        ledger-api's PUT /v1/prices both call it.
 * @returns 0, or -1 with errstr.
 */
int catalog_import_price_stock_emit(PGconn *pg, long long pl, char *errstr,
                                    size_t errstr_size);

#endif
