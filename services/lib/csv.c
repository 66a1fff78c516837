#include "lib/csv.h"

#include "lib/grow.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_CHUNK (64 * 1024) /* bytes read from a file at a time */

struct csv_reader {
    FILE *fp;        /* file mode; NULL for a buffer */
    char *own;       /* file mode: the window onto the file */
    const char *buf; /* bytes available: buf[pos..len) */
    size_t len, pos; /* */
    size_t cap;      /* file mode: allocated size of own */
    int src_eof;     /* no more bytes beyond buf[len) */
    int io_error;    /* errno of a failed read, 0 if none */
    size_t max;      /* file mode: most bytes to read (0: no limit) */
    size_t total;    /* file mode: bytes read so far */
    int delim;       /* ',' or ';' (0 until detected) */
    int had_bom;     /* input started with EF BB BF */
    int started;     /* BOM and delimiter handled */
    int done;        /* EOF or fatal error reached */
    long line, col;  /* position of the next byte */
    char *text;      /* the current record's field text, NUL-separated */
    size_t text_len, text_cap;
    struct csv_field *fields;
    size_t nfields, fields_cap;
};

/* Make more bytes available (file mode): keep the unread tail, read on. */
static int rd_refill(struct csv_reader *r)
{
    size_t n;

    if (r->src_eof)
        return 0;
    if (r->pos > 0) {
        memmove(r->own, r->own + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->len < CSV_CHUNK) {
        size_t cap = r->cap ? r->cap * 2 : CSV_CHUNK * 2;
        char *p = realloc(r->own, cap);

        if (!p) {
            r->io_error = ENOMEM;
            r->src_eof = 1;
            return 0;
        }
        r->own = p;
        r->cap = cap;
    }
    r->buf = r->own;
    n = fread(r->own + r->len, 1, r->cap - r->len, r->fp);
    r->len += n;
    r->total += n;
    if (r->max && r->total > r->max) {
        r->io_error = EFBIG;
        r->src_eof = 1;
        return 0;
    }
    if (n == 0) {
        if (ferror(r->fp))
            r->io_error = errno ? errno : EIO;
        r->src_eof = 1;
    }
    return (int)n;
}

/* The byte @p off bytes ahead of the read position, or -1 at the end. */
static int rd_at(struct csv_reader *r, size_t off)
{
    while (r->pos + off >= r->len) {
        if (!r->fp || r->src_eof)
            return -1;
        rd_refill(r);
    }
    return (unsigned char)r->buf[r->pos + off];
}

static int rd_peek(struct csv_reader *r)
{
    return rd_at(r, 0);
}

/* Consume one byte, tracking line and column.  A CR followed by LF is left
 * to the LF to count; a bare CR is a line break of its own. */
static int rd_get(struct csv_reader *r)
{
    int c = rd_peek(r);

    if (c < 0)
        return c;
    r->pos++;
    if (c == '\n') {
        r->line++;
        r->col = 1;
    } else if (c == '\r') {
        if (rd_peek(r) != '\n') {
            r->line++;
            r->col = 1;
        }
    } else if ((c & 0xC0) != 0x80) {
        r->col++;
    }
    return c;
}

static void rd_start(struct csv_reader *r)
{
    size_t off = 0;
    long commas = 0, semis = 0;
    int inq = 0, c;

    r->started = 1;
    if (rd_at(r, 0) == 0xEF && rd_at(r, 1) == 0xBB && rd_at(r, 2) == 0xBF) {
        r->pos += 3; /* not a character of line 1 */
        r->had_bom = 1;
    }
    if (r->delim)
        return;
    /* Detect the delimiter from the first record, outside quotes. */
    for (;;) {
        c = rd_at(r, off++);
        if (c < 0)
            break;
        if (c == '"')
            inq = !inq;
        else if (!inq && (c == '\n' || c == '\r'))
            break;
        else if (!inq && c == ',')
            commas++;
        else if (!inq && c == ';')
            semis++;
    }
    r->delim = semis > commas ? ';' : ',';
}

/* Room for @p n more bytes of record text; 0, or -1 out of memory. */
static int rec_reserve(struct csv_reader *r, size_t n)
{
    return grow_to(&r->text, &r->text_cap, r->text_len + n, 1024);
}

static int rec_putc(struct csv_reader *r, char c)
{
    if (rec_reserve(r, 1) < 0)
        return -1;
    r->text[r->text_len++] = c;
    return 0;
}

/* Copy the run of bytes at the read position that are none of @p a, @p b
 * and @p c (ASCII) into the record's text: a field's plain bytes, a block
 * at a time; the byte that ends the run is left to the caller.  Columns
 * count as in rd_get() (no run holds a line break).  0, or -1 out of
 * memory. */
static int rd_take_run(struct csv_reader *r, char a, char b, char c)
{
    for (;;) {
        size_t avail = r->len - r->pos, n = 0, i;
        const char *s;

        if (avail == 0) {
            if (rd_peek(r) < 0)
                return 0;
            continue;
        }
        s = r->buf + r->pos;
        while (n < avail && s[n] != a && s[n] != b && s[n] != c)
            n++;
        if (n == 0)
            return 0; /* (the text may not be allocated yet) */
        if (rec_reserve(r, n) < 0)
            return -1;
        memcpy(r->text + r->text_len, s, n);
        r->text_len += n;
        for (i = 0; i < n; i++)
            r->col += ((unsigned char)s[i] & 0xC0) != 0x80;
        r->pos += n;
        if (n < avail)
            return 0;
    }
}

static int rec_field_begin(struct csv_reader *r, int quoted)
{
    struct csv_field *f;

    if (r->nfields == r->fields_cap) {
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 32;
        struct csv_field *p = realloc(r->fields, cap * sizeof(*p));

        if (!p)
            return -1;
        r->fields = p;
        r->fields_cap = cap;
    }
    f = &r->fields[r->nfields++];
    /* text holds the offset until the record is complete. */
    f->text = NULL;
    f->len = r->text_len;
    f->line = r->line;
    f->col = r->col;
    f->quoted = quoted;
    return 0;
}

static int rec_field_end(struct csv_reader *r)
{
    struct csv_field *f = &r->fields[r->nfields - 1];

    f->len = r->text_len - f->len;
    return rec_putc(r, '\0');
}

static void set_err(struct csv_error *err, long line, long col, int fatal,
                    const char *msg)
{
    err->line = line;
    err->col = col;
    err->fatal = fatal;
    snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

/* Skip to the end of the current line (after a syntax error). */
static void skip_line(struct csv_reader *r)
{
    int c;

    for (;;) {
        c = rd_peek(r);
        if (c < 0)
            return;
        rd_get(r);
        if (c == '\n' || (c == '\r' && rd_peek(r) != '\n'))
            return;
    }
}

/* Consume the line break that ends a record (if any). */
static void eat_eol(struct csv_reader *r)
{
    int c = rd_peek(r);

    if (c == '\r') {
        rd_get(r);
        if (rd_peek(r) == '\n')
            rd_get(r);
    } else if (c == '\n') {
        rd_get(r);
    }
}

/* Read a quoted field; the opening quote is next.  0, or -1 with err. */
static int read_quoted(struct csv_reader *r, struct csv_error *err)
{
    long oline = r->line, ocol = r->col;
    int c;
    char msg[128];

    rd_get(r);
    for (;;) {
        if (rd_take_run(r, '"', '\r', '\n') < 0)
            goto oom;
        c = rd_get(r);
        if (c < 0) {
            snprintf(msg, sizeof(msg),
                     "unterminated quoted field (the quote opened at line "
                     "%ld, column %ld)",
                     oline, ocol);
            set_err(err, oline, ocol, 1, msg);
            return -1;
        }
        if (c == '"') {
            if (rd_peek(r) != '"')
                break;
            rd_get(r);
        } else if (c == '\r') {
            if (rd_peek(r) == '\n')
                rd_get(r);
            c = '\n';
        }
        if (rec_putc(r, (char)c) < 0)
            goto oom;
    }
    return 0;
oom:
    set_err(err, r->line, r->col, 1, "out of memory");
    return -1;
}

int csv_reader_next(struct csv_reader *r, struct csv_record *rec,
                    struct csv_error *err)
{
    long rline;
    int c;
    size_t i, off;

    memset(rec, 0, sizeof(*rec));
    if (r->done)
        return CSV_EOF;
    if (!r->started)
        rd_start(r);
    r->text_len = 0;
    r->nfields = 0;
    c = rd_peek(r);
    if (c < 0) {
        r->done = 1;
        if (r->io_error) {
            char m[96];

            if (r->io_error == EFBIG && r->max)
                snprintf(m, sizeof(m), "input larger than %zu MiB",
                         r->max / (1024 * 1024));
            else
                snprintf(m, sizeof(m), "%s", strerror(r->io_error));
            set_err(err, r->line, r->col, 1, m);
            return CSV_ERROR;
        }
        return CSV_EOF;
    }
    rline = r->line;
    for (;;) {
        /* At the start of a field. */
        c = rd_peek(r);
        if (c == '"') {
            if (rec_field_begin(r, 1) < 0)
                goto oom;
            if (read_quoted(r, err) < 0) {
                r->done = 1;
                return CSV_ERROR;
            }
            c = rd_peek(r);
            if (c >= 0 && c != r->delim && c != '\n' && c != '\r') {
                set_err(err, r->line, r->col, 0,
                        "unexpected character after a closing quote (a quote "
                        "inside a quoted field must be doubled)");
                skip_line(r);
                return CSV_ERROR;
            }
        } else {
            if (rec_field_begin(r, 0) < 0)
                goto oom;
            if (rd_take_run(r, (char)r->delim, '\n', '\r') < 0)
                goto oom;
            c = rd_peek(r);
        }
        if (rec_field_end(r) < 0)
            goto oom;
        if (c == r->delim) {
            rd_get(r);
            continue;
        }
        eat_eol(r);
        break;
    }
    for (i = 0, off = 0; i < r->nfields; i++) {
        r->fields[i].text = r->text + off;
        off += r->fields[i].len + 1;
    }
    rec->line = rline;
    rec->nfields = r->nfields;
    rec->fields = r->fields;
    return CSV_RECORD;
oom:
    r->done = 1;
    set_err(err, r->line, r->col, 1, "out of memory");
    return CSV_ERROR;
}

static struct csv_reader *reader_new(int delim, char *errstr,
                                     size_t errstr_size)
{
    struct csv_reader *r;

    if (delim != 0 && delim != ',' && delim != ';') {
        snprintf(errstr, errstr_size, "csv: delimiter must be ',' or ';'");
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(errstr, errstr_size, "csv: out of memory");
        return NULL;
    }
    r->delim = delim;
    r->line = 1;
    r->col = 1;
    return r;
}

struct csv_reader *csv_reader_open_file(const char *path, int delim,
                                        char *errstr, size_t errstr_size)
{
    struct csv_reader *r = reader_new(delim, errstr, errstr_size);

    if (!r)
        return NULL;
    if (!strcmp(path, CSV_STDIN)) {
        r->fp = stdin;
        r->max = CSV_STDIN_MAX;
    } else {
        r->fp = fopen(path, "rb");
    }
    if (!r->fp) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        csv_reader_destroy(r);
        return NULL;
    }
    rd_start(r);
    if (r->io_error) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(r->io_error));
        csv_reader_destroy(r);
        return NULL;
    }
    return r;
}

struct csv_reader *csv_reader_open_buffer(const char *buf, size_t len,
                                          int delim, char *errstr,
                                          size_t errstr_size)
{
    struct csv_reader *r = reader_new(delim, errstr, errstr_size);

    if (!r)
        return NULL;
    r->buf = buf;
    r->len = len;
    r->src_eof = 1;
    rd_start(r);
    return r;
}

void csv_reader_destroy(struct csv_reader *r)
{
    if (!r)
        return;
    if (r->fp && r->fp != stdin)
        fclose(r->fp);
    free(r->own);
    free(r->text);
    free(r->fields);
    free(r);
}

int csv_reader_delim(const struct csv_reader *r)
{
    return r->delim;
}

int csv_reader_had_bom(const struct csv_reader *r)
{
    return r->had_bom;
}

int csv_utf8_check(const char *s, size_t len, size_t *bad_off)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n, k;
    unsigned long cp;

    while (i < len) {
        unsigned char c = p[i];

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        if (i + n >= len)
            goto bad;
        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += n + 1;
    }
    return 0;
bad:
    if (bad_off)
        *bad_off = i;
    return -1;
}

size_t csv_utf8_len(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}
