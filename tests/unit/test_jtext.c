/*
 * test_jtext — lib/jtext: strings escaped exactly as jansson's
 * json_dumps() escapes them (every byte below 0x80 alone and inside
 * text, UTF-8 passed through), raw appends, the empty take, and a
 * document that jansson reads back equal to the tree it describes.
 */
#include "lib/jtext.h"
#include "t.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* jansson's text of the string @p s (@p n bytes), to compare with. */
static char *jansson_str(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    char *d = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

    json_decref(j);
    return d;
}

static void check_str(const char *s, size_t n, const char *what)
{
    struct jtext t = {0};
    char *got, *want = jansson_str(s, n);

    jtext_str(&t, s, n);
    got = jtext_take(&t);
    T_CHECK(t_str_eq(got, want), "%s: got %s, want %s", what, t_str_show(got),
            t_str_show(want));
    free(got);
    free(want);
    jtext_free(&t);
}

static void test_escapes(void)
{
    char b[8], what[32];

    for (int c = 1; c < 0x80; c++) {
        snprintf(what, sizeof(what), "byte 0x%02x", c);
        b[0] = (char)c;
        check_str(b, 1, what);
        memcpy(b, "a", 1);
        b[1] = (char)c;
        b[2] = 'z';
        check_str(b, 3, what);
    }
    check_str("", 0, "empty");
    check_str("Рубашка \"Люкс\"\n\tхлопок\\",
              strlen("Рубашка \"Люкс\"\n\tхлопок\\"), "utf-8 text");
    check_str("a\0b", 3, "NUL inside");
}

static void test_raw_and_take(void)
{
    struct jtext t = {0};
    char *s;

    s = jtext_take(&t);
    T_ASSERT_STR_EQ(s, "");
    free(s);
    jtext_lit(&t, "{\"a\":");
    jtext_raw(&t, "12345", 3);
    jtext_lit(&t, "}");
    s = jtext_take(&t);
    T_ASSERT_STR_EQ(s, "{\"a\":123}");
    T_ASSERT(t.len == 0);
    free(s);
    /* The kept buffer starts the next text empty. */
    jtext_lit(&t, "[1]");
    s = jtext_take(&t);
    T_ASSERT_STR_EQ(s, "[1]");
    free(s);
    s = jtext_take(&t);
    T_ASSERT_STR_EQ(s, "");
    free(s);
    jtext_free(&t);
    T_ASSERT(t.buf == NULL && t.len == 0 && t.cap == 0);
}

/* A document longer than the first buffer, read back by jansson. */
static void test_document(void)
{
    struct jtext t = {0};
    json_t *back, *want = json_array();
    json_error_t err;
    char *s, v[32];

    jtext_raw(&t, "[", 1);
    for (int i = 0; i < 500; i++) {
        snprintf(v, sizeof(v), "v\"%d\n", i);
        if (i)
            jtext_raw(&t, ",", 1);
        jtext_str(&t, v, strlen(v));
        json_array_append_new(want, json_string(v));
    }
    jtext_raw(&t, "]", 1);
    s = jtext_take(&t);
    back = s ? json_loads(s, 0, &err) : NULL;
    T_ASSERT(back != NULL);
    T_ASSERT(json_equal(back, want));
    json_decref(back);
    json_decref(want);
    free(s);
    jtext_free(&t);
}

int main(void)
{
    test_escapes();
    test_raw_and_take();
    test_document();
    T_DONE();
}
