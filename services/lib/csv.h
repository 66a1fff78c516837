/*
 * csv — a streaming RFC 4180 reader over a file or a memory buffer.
 *
 * What it accepts:
 *  - fields separated by ',' or ';' (detected from the first record, outside
 *    quotes, when the caller passes delim 0: the more frequent of the two
 *    wins, ',' on a tie), records ended by LF, CRLF or a bare CR;
 *  - quoted fields ("..."), with "" for a quote and embedded delimiters and
 *    line breaks; a line break inside quotes is returned as "\n" whatever
 *    its form in the file (CRLF, CR or LF);
 *  - a UTF-8 byte order mark at the very start (skipped, not counted).
 *
 * Every field carries the physical line (1-based; quoted line breaks
 * advance it) and the column (1-based, in UTF-8 characters, not bytes) of
 * its first character — for a quoted field, of its opening quote — so
 * callers can report "FILE:LINE:COLUMN: reason".
 *
 * The reader does not validate UTF-8 (see csv_utf8_check()) and does not
 * skip blank lines: a blank line is a record of one empty field.
 */
#ifndef OMNI_CSV_H
#define OMNI_CSV_H

#include <stddef.h>

/** One field of a record.  text/len are borrowed: valid until the next
 *  csv_reader_next() or csv_reader_destroy(). */
struct csv_field {
    const char *text; /* NUL-terminated (may also hold NUL bytes: use len) */
    size_t len;       /* bytes */
    long line;        /* 1-based physical line of the first character */
    long col;         /* 1-based UTF-8 character column of it */
    int quoted;       /* 1 when the field was quoted */
};

/** One record.  fields is borrowed like the fields' text. */
struct csv_record {
    long line; /* line where the record starts */
    size_t nfields;
    const struct csv_field *fields;
};

/** A syntax error; the reader stays usable unless fatal is set. */
struct csv_error {
    long line;
    long col;
    int fatal; /* 1: nothing more can be read (e.g. unterminated quote) */
    char msg[256];
};

#define CSV_RECORD 1
#define CSV_EOF 0
#define CSV_ERROR (-1)

struct csv_reader;

/* The path that reads standard input (the CLI's "-"); it also names the
 * input in positions ("<stdin>:LINE:COLUMN").  Standard input is read at
 * most CSV_STDIN_MAX bytes: more is a fatal error (a file is bounded by its
 * size; a pipe need not be). */
#define CSV_STDIN "<stdin>"
#define CSV_STDIN_MAX (256UL * 1024 * 1024)

/**
 * @brief Open @p path for reading (CSV_STDIN: standard input, not closed
 *        by csv_reader_destroy()).
 * @param delim ',' or ';', or 0 to detect it from the first record.
 * @returns a reader (csv_reader_destroy() it), or NULL with @p errstr.
 */
struct csv_reader *csv_reader_open_file(const char *path, int delim,
                                        char *errstr, size_t errstr_size);

/**
 * @brief Read from memory.
 * @param buf  borrowed: must outlive the reader.
 * @param delim as for csv_reader_open_file().
 * @returns a reader, or NULL with @p errstr (out of memory, bad delim).
 */
struct csv_reader *csv_reader_open_buffer(const char *buf, size_t len,
                                          int delim, char *errstr,
                                          size_t errstr_size);

/** @brief Free the reader (and close its file).  NULL is a no-op. */
void csv_reader_destroy(struct csv_reader *r);

/**
 * @brief Read the next record.
 * @returns CSV_RECORD with @p rec filled; CSV_EOF at the end of input;
 *          CSV_ERROR with @p err filled: a non-fatal error (garbage after a
 *          closing quote) skips the rest of that record, and the next call
 *          continues with the next record; after a fatal one (an
 *          unterminated quote, naming the line where it opened; an I/O
 *          error; out of memory) every further call returns CSV_EOF.
 */
int csv_reader_next(struct csv_reader *r, struct csv_record *rec,
                    struct csv_error *err);

/** @returns the delimiter in use (after detection: once the first record
 *  has been read, or at open for a buffer or file). */
int csv_reader_delim(const struct csv_reader *r);

/** @returns 1 when the input started with a UTF-8 byte order mark. */
int csv_reader_had_bom(const struct csv_reader *r);

/**
 * @brief Check that @p s[0..len) is well-formed UTF-8 (no overlong forms,
 *        surrogates or code points above U+10FFFF).
 * @param bad_off (may be NULL) set to the byte offset of the first bad byte.
 * @returns 0 when valid, -1 when not.
 */
int csv_utf8_check(const char *s, size_t len, size_t *bad_off);

/** @returns the number of UTF-8 characters in @p s[0..len) (bytes that are
 *  not continuation bytes; a stray byte counts as one character). */
size_t csv_utf8_len(const char *s, size_t len);

#endif
