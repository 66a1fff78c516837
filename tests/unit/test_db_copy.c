/*
 * test_db_copy — lib/db's COPY text buffer: fields tab-separated, rows
 * newline-ended, backslash escapes for the characters COPY's text format
 * gives a meaning (backslash, newline, carriage return, tab), \N for NULL,
 * integers, every other byte as it is, and an empty buffer after
 * db_copy_free().
 */
#include "lib/db.h"
#include "t.h"

#include <string.h>

static void test_rows(void)
{
    struct db_copy c = {0};
    const char *want = "a\tb\\\\c\td\\ne\\rf\\tg\t\\N\t-42\n"
                       "\xd0\x9e\xd0\xb4\\\\.\t0\n";

    db_copy_text(&c, "a");
    db_copy_text(&c, "b\\c");
    db_copy_text(&c, "d\ne\rf\tg");
    db_copy_text(&c, NULL);
    db_copy_int(&c, -42);
    db_copy_row_end(&c);
    db_copy_text(&c, "\xd0\x9e\xd0\xb4\\."); /* "Од\." : bytes kept */
    db_copy_int(&c, 0);
    db_copy_row_end(&c);
    T_ASSERT_EQ(c.rows, 2);
    T_ASSERT_EQ(c.oom, 0);
    T_ASSERT_EQ(c.len, strlen(want));
    T_CHECK(c.buf && c.len == strlen(want) && !memcmp(c.buf, want, c.len),
            "buffer \"%.*s\"", (int)c.len, c.buf ? c.buf : "");
    db_copy_free(&c);
    T_ASSERT(c.buf == NULL && c.len == 0 && c.rows == 0);
    db_copy_free(NULL);
}

/* Every byte alone: only backslash, newline, carriage return and tab are
 * escaped; any other (control bytes and UTF-8 ones too) is kept as is. */
static void test_every_byte(void)
{
    int bad = 0;

    for (int b = 1; b < 256; b++) {
        struct db_copy c = {0};
        char in[2] = {(char)b, '\0'}, want[3] = {(char)b, '\0', '\0'};

        if (b == '\\' || b == '\n' || b == '\r' || b == '\t') {
            want[0] = '\\';
            want[1] = b == '\\'   ? '\\'
                      : b == '\n' ? 'n'
                      : b == '\r' ? 'r'
                                  : 't';
        }
        db_copy_text(&c, in);
        if (c.len != strlen(want) || memcmp(c.buf, want, c.len) != 0) {
            T_CHECK(0, "byte 0x%02x: \"%.*s\"", b, (int)c.len, c.buf);
            bad++;
        }
        db_copy_free(&c);
    }
    T_CHECK(bad == 0, "%d of 255 bytes written wrong", bad);
}

/* Past the first allocation: every row intact. */
static void test_growth(void)
{
    struct db_copy c = {0};
    char big[5000];
    size_t i;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (i = 0; i < 100; i++) {
        db_copy_text(&c, big);
        db_copy_int(&c, (long long)i);
        db_copy_row_end(&c);
    }
    T_ASSERT_EQ(c.rows, 100);
    /* x's, tab, newline; then 10 one-digit and 90 two-digit numbers */
    T_ASSERT_EQ(c.len, 100 * (sizeof(big) - 1 + 2) + 10 * 1 + 90 * 2);
    T_ASSERT(c.buf && c.buf[c.len - 1] == '\n');
    db_copy_free(&c);
}

int main(void)
{
    test_rows();
    test_every_byte();
    test_growth();
    T_DONE();
}
