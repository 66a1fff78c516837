/*
 * test_csv — the RFC 4180 reader: quoting, delimiter detection, BOM, line
 * endings, line/column tracking, errors, UTF-8 helpers.
 */
#include "lib/csv.h"
#include "t.h"

/* Through variables: cppcheck flags a string literal inside T_ASSERT_STR_EQ's
 * NULL checks. */
#define STR_EQ(got, want)                                                      \
    do {                                                                       \
        const char *got_ = (got), *want_ = (want);                             \
        T_ASSERT_STR_EQ(got_, want_);                                          \
    } while (0)

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct csv_reader *open_str(const char *s, int delim)
{
    char err[256];
    struct csv_reader *r =
        csv_reader_open_buffer(s, strlen(s), delim, err, sizeof(err));

    T_ASSERT(r != NULL);
    return r;
}

static void test_simple(void)
{
    struct csv_reader *r = open_str("a,b,c\n1,,3\n", 0);
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 3);
    STR_EQ(rec.fields[0].text, "a");
    STR_EQ(rec.fields[2].text, "c");
    T_ASSERT_EQ(csv_reader_delim(r), ',');
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 3);
    STR_EQ(rec.fields[0].text, "1");
    T_ASSERT_EQ(rec.fields[1].len, 0); /* empty field */
    STR_EQ(rec.fields[1].text, "");
    T_ASSERT_EQ(rec.fields[2].col, 4);
    T_ASSERT_EQ(rec.line, 2);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_EOF);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_EOF);
    csv_reader_destroy(r);
}

static void test_quoting(void)
{
    /* Embedded delimiter, doubled quote, embedded newline; no final EOL. */
    struct csv_reader *r =
        open_str("x,y,z\n\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\"\n\"\",q", 0);
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 3);
    STR_EQ(rec.fields[0].text, "a,b");
    T_ASSERT_EQ(rec.fields[0].quoted, 1);
    STR_EQ(rec.fields[1].text, "say \"hi\"");
    STR_EQ(rec.fields[2].text, "l1\nl2");
    T_ASSERT_EQ(rec.fields[2].line, 2);
    T_ASSERT_EQ(rec.fields[2].col, 20);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.line, 4); /* the quoted newline advanced the line */
    T_ASSERT_EQ(rec.nfields, 2);
    STR_EQ(rec.fields[0].text, "");
    T_ASSERT_EQ(rec.fields[0].quoted, 1);
    STR_EQ(rec.fields[1].text, "q");
    T_ASSERT_EQ(rec.fields[1].col, 4);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_EOF);
    csv_reader_destroy(r);
}

static void test_semicolon_detect(void)
{
    /* The comma inside quotes must not count; 2 ';' vs 1 ','. */
    struct csv_reader *r = open_str("\"a,b\";c,d;e\n1;2,5;3\n", 0);
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_delim(r), ';');
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 3);
    STR_EQ(rec.fields[1].text, "c,d");
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    STR_EQ(rec.fields[1].text, "2,5");
    csv_reader_destroy(r);

    /* Forced delimiter wins over detection. */
    r = open_str("a;b,c\n", ',');
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 2);
    STR_EQ(rec.fields[0].text, "a;b");
    csv_reader_destroy(r);

    /* One column: no delimiter at all -> ','. */
    r = open_str("sku\nA\n", 0);
    T_ASSERT_EQ(csv_reader_delim(r), ',');
    csv_reader_destroy(r);
}

static void test_bom_crlf(void)
{
    struct csv_reader *r =
        open_str("\xEF\xBB\xBFsku;name\r\nA;\"x\r\ny\"\r\nB;z\r\n", 0);
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_had_bom(r), 1);
    T_ASSERT_EQ(csv_reader_delim(r), ';');
    STR_EQ(rec.fields[0].text, "sku"); /* BOM not in the text */
    T_ASSERT_EQ(rec.fields[0].col, 1); /* nor in the column */
    T_ASSERT_EQ(rec.fields[1].col, 5);
    T_ASSERT_EQ(rec.fields[1].len, 4); /* no CR */
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    STR_EQ(rec.fields[1].text, "x\ny"); /* CRLF in quotes -> LF */
    T_ASSERT_EQ(rec.line, 2);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.line, 4);
    STR_EQ(rec.fields[1].text, "z");
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_EOF);
    csv_reader_destroy(r);

    /* Bare CR line ends. */
    r = open_str("a,b\r1,2\r", 0);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.line, 2);
    STR_EQ(rec.fields[1].text, "2");
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_EOF);
    csv_reader_destroy(r);
}

static void test_blank_and_empty(void)
{
    struct csv_reader *r = open_str("a,b\n\n,\n1,2,\n", 0);
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 1); /* blank line: one empty field */
    T_ASSERT_EQ(rec.fields[0].len, 0);
    T_ASSERT_EQ(rec.line, 2);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 2);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 3); /* trailing delimiter: empty last field */
    T_ASSERT_EQ(rec.fields[2].col, 5);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_EOF);
    csv_reader_destroy(r);
}

/* A record whose first field is empty, before any text was kept (the
 * fuzzer's find: no pointer arithmetic on the unallocated text). */
static void test_first_field_empty(void)
{
    struct csv_reader *r = open_str("\n,x\n", ',');
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 1);
    T_ASSERT_EQ(rec.fields[0].len, 0);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 2);
    STR_EQ(rec.fields[1].text, "x");
    csv_reader_destroy(r);
    r = open_str("\"\",x\n", ',');
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.nfields, 2);
    T_ASSERT_EQ(rec.fields[0].len, 0);
    T_ASSERT_EQ(rec.fields[0].quoted, 1);
    csv_reader_destroy(r);
}

static void test_multiline_positions(void)
{
    /* Line/column of fields after a multi-line quoted field. */
    const char *s = "h1,h2,h3\n"
                    "a,\"one\n"
                    "two\n"
                    "three\",c\n"
                    "d,e,f\n";
    struct csv_reader *r = open_str(s, 0);
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.line, 2);
    T_ASSERT_EQ(rec.fields[1].line, 2);
    T_ASSERT_EQ(rec.fields[1].col, 3);
    STR_EQ(rec.fields[1].text, "one\ntwo\nthree");
    T_ASSERT_EQ(rec.fields[2].line, 4); /* c starts on line 4 ... */
    T_ASSERT_EQ(rec.fields[2].col, 8);  /* ... after `three",` */
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.line, 5);
    T_ASSERT_EQ(rec.fields[2].line, 5);
    T_ASSERT_EQ(rec.fields[2].col, 5);
    csv_reader_destroy(r);
}

static void test_utf8_columns(void)
{
    /* "Одежда" is 6 characters, 12 bytes: the next field is at column 8. */
    struct csv_reader *r = open_str("g;n\nОдежда;Рубашка;x\n", 0);
    struct csv_record rec;
    struct csv_error err;

    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(rec.fields[1].col, 8);
    T_ASSERT_EQ(rec.fields[2].col, 16);
    T_ASSERT_EQ(rec.fields[1].len, 14);
    csv_reader_destroy(r);
}

static void test_errors(void)
{
    const char *msg;
    struct csv_reader *r;
    struct csv_record rec;
    struct csv_error err;

    /* Unterminated quote: fatal, names where the quote opened. */
    r = open_str("a,b\n1,2\n3,\"open\n4,5\n6,7\n", 0);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_ERROR);
    T_ASSERT_EQ(err.fatal, 1);
    T_ASSERT_EQ(err.line, 3);
    T_ASSERT_EQ(err.col, 3);
    msg = err.msg;
    T_ASSERT_STR_CONTAINS(msg, "unterminated");
    T_ASSERT_STR_CONTAINS(msg, "line 3");
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_EOF);
    csv_reader_destroy(r);

    /* Garbage after a closing quote: non-fatal, skips that record. */
    r = open_str("a,b\n\"x\"y,2\n3,4\n", 0);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_ERROR);
    T_ASSERT_EQ(err.fatal, 0);
    T_ASSERT_EQ(err.line, 2);
    T_ASSERT_EQ(err.col, 4);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    STR_EQ(rec.fields[0].text, "3");
    T_ASSERT_EQ(rec.line, 3);
    csv_reader_destroy(r);

    /* A quote inside an unquoted field is taken literally. */
    r = open_str("a\n5\"x\n", 0);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &err), CSV_RECORD);
    STR_EQ(rec.fields[0].text, "5\"x");
    csv_reader_destroy(r);
}

static void test_file(void)
{
    char path[] = "/tmp/test_csv_XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    FILE *fp;
    struct csv_reader *r;
    struct csv_record rec;
    struct csv_error cerr;
    long i, n = 0;
    int rc;

    T_ASSERT(fd >= 0);
    fp = fdopen(fd, "w");
    T_ASSERT(fp != NULL);
    if (!fp)
        return;
    /* Big enough to cross several read chunks, with a quoted header. */
    fputs("\xEF\xBB\xBF\"sku\";\"na;me\"\n", fp);
    for (i = 0; i < 20000; i++)
        fprintf(fp, "S%ld;\"long\nvalue %ld with ; and \"\"q\"\"\"\n", i, i);
    fclose(fp);
    r = csv_reader_open_file(path, 0, err, sizeof(err));
    T_ASSERT(r != NULL);
    if (!r)
        goto out;
    T_ASSERT_EQ(csv_reader_delim(r), ';');
    T_ASSERT_EQ(csv_reader_next(r, &rec, &cerr), CSV_RECORD);
    STR_EQ(rec.fields[1].text, "na;me");
    while ((rc = csv_reader_next(r, &rec, &cerr)) == CSV_RECORD) {
        if (rec.nfields != 2 || rec.line != 2 + 2 * n)
            break;
        n++;
    }
    T_ASSERT_EQ(rc, CSV_EOF);
    T_ASSERT_EQ(n, 20000);
    csv_reader_destroy(r);
    T_ASSERT(csv_reader_open_file("/nonexistent/x.csv", 0, err, sizeof(err)) ==
             NULL);
    {
        const char *e = err;

        T_ASSERT_STR_CONTAINS(e, "/nonexistent/x.csv");
    }
out:
    unlink(path);
}

/* Field @p i of test_long_runs(): @p n characters, every third one "ж"
 * (two bytes); @returns its length in bytes. */
static size_t long_field(char *out, long i, size_t n)
{
    size_t k, len = 0;

    for (k = 0; k < n; k++) {
        if (k % 3 == 2) {
            memcpy(out + len, "\xD0\xB6", 2);
            len += 2;
        } else {
            out[len++] = (char)('a' + (i + (long)k) % 26);
        }
    }
    out[len] = '\0';
    return len;
}

/* Fields far longer than a read chunk, plain and quoted, with multi-byte
 * characters split across chunk ends: text, line and column exact. */
static void test_long_runs(void)
{
    char path[] = "/tmp/test_csv_runs_XXXXXX";
    char err[256], *want = malloc(300000);
    int fd = mkstemp(path);
    FILE *fp;
    struct csv_reader *r = NULL;
    struct csv_record rec;
    struct csv_error cerr;
    long i, line = 2, bad = 0;

    T_ASSERT(fd >= 0 && want != NULL);
    fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!fp || !want)
        goto out;
    fputs("a,b,c\n", fp);
    for (i = 0; i < 40; i++) {
        size_t n = (size_t)(i * 7919 % 140000);

        long_field(want, i, n);
        fprintf(fp, "%s,\"%s\"\"x\r\ny\",%ld\r\n", want, want, i);
    }
    fclose(fp);
    r = csv_reader_open_file(path, 0, err, sizeof(err));
    T_ASSERT(r != NULL);
    if (!r)
        goto out;
    T_ASSERT_EQ(csv_reader_next(r, &rec, &cerr), CSV_RECORD);
    for (i = 0; i < 40; i++) {
        size_t n = (size_t)(i * 7919 % 140000), len = long_field(want, i, n);

        if (csv_reader_next(r, &rec, &cerr) != CSV_RECORD || rec.nfields != 3) {
            bad++;
            break;
        }
        bad += rec.line != line || rec.fields[0].len != len ||
               memcmp(rec.fields[0].text, want, len) != 0;
        bad += rec.fields[1].col != (long)n + 2 ||
               rec.fields[1].len != len + 4 ||
               memcmp(rec.fields[1].text, want, len) != 0 ||
               memcmp(rec.fields[1].text + len, "\"x\ny", 4) != 0;
        bad += rec.fields[2].line != line + 1 || rec.fields[2].col != 4 ||
               atol(rec.fields[2].text) != i;
        line += 2;
    }
    T_ASSERT_EQ(bad, 0);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &cerr), CSV_EOF);
out:
    csv_reader_destroy(r);
    free(want);
    unlink(path);
}

/* CSV_STDIN reads standard input and leaves it open. */
static void test_stdin(void)
{
    char path[] = "/tmp/test_csv_stdin_XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    struct csv_reader *r;
    struct csv_record rec;
    struct csv_error cerr;
    static const char text[] = "a,b\n1,\"x\ny\"\n2,z\n";

    T_ASSERT(fd >= 0);
    if (fd < 0)
        return;
    T_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    T_ASSERT(freopen(path, "rb", stdin) != NULL);
    r = csv_reader_open_file(CSV_STDIN, 0, err, sizeof(err));
    T_ASSERT(r != NULL);
    if (!r)
        goto out;
    T_ASSERT_EQ(csv_reader_next(r, &rec, &cerr), CSV_RECORD);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &cerr), CSV_RECORD);
    STR_EQ(rec.fields[1].text, "x\ny");
    T_ASSERT_EQ(csv_reader_next(r, &rec, &cerr), CSV_RECORD);
    T_ASSERT_EQ(rec.line, 4);
    T_ASSERT_EQ(csv_reader_next(r, &rec, &cerr), CSV_EOF);
    csv_reader_destroy(r);
    T_ASSERT(fcntl(STDIN_FILENO, F_GETFD) != -1); /* not closed */
out:
    unlink(path);
}

static void test_utf8_helpers(void)
{
    size_t off = 99;

    T_ASSERT_EQ(csv_utf8_check("plain", 5, NULL), 0);
    T_ASSERT_EQ(csv_utf8_check("Одежда", strlen("Одежда"), NULL), 0);
    T_ASSERT_EQ(csv_utf8_check("\xF0\x9F\x98\x80", 4, NULL), 0); /* emoji */
    T_ASSERT_EQ(csv_utf8_check("ab\xFFz", 4, &off), -1);
    T_ASSERT_EQ(off, 2);
    T_ASSERT_EQ(csv_utf8_check("a\xD0", 2, &off), -1); /* truncated */
    T_ASSERT_EQ(off, 1);
    T_ASSERT_EQ(csv_utf8_check("\xC0\xAF", 2, NULL), -1);     /* overlong */
    T_ASSERT_EQ(csv_utf8_check("\xED\xA0\x80", 3, NULL), -1); /* surrogate */
    T_ASSERT_EQ(csv_utf8_check("\xF4\x90\x80\x80", 4, NULL), -1);
    T_ASSERT_EQ(csv_utf8_check("\xD0\x41", 2, NULL), -1);
    T_ASSERT_EQ(csv_utf8_len("Одежда/x", strlen("Одежда/x")), 8);
}

int main(void)
{
    test_simple();
    test_quoting();
    test_semicolon_detect();
    test_bom_crlf();
    test_blank_and_empty();
    test_first_field_empty();
    test_multiline_positions();
    test_utf8_columns();
    test_errors();
    test_file();
    test_long_runs();
    test_stdin();
    test_utf8_helpers();
    T_DONE();
}
