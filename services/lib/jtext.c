#include "lib/jtext.h"

#include "lib/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for @p n more bytes and the NUL; 0 or -1 (oom set). */
static int jtext_room(struct jtext *t, size_t n)
{
    if (t->oom || grow_to(&t->buf, &t->cap, t->len + n + 1, 256) < 0) {
        t->oom = 1;
        return -1;
    }
    return 0;
}

void jtext_raw(struct jtext *t, const char *s, size_t n)
{
    if (jtext_room(t, n) < 0)
        return;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

void jtext_lit(struct jtext *t, const char *s)
{
    jtext_raw(t, s, strlen(s));
}

/* The escape of byte @p c into @p out (NUL-terminated); 0 when it needs
 * none. */
static int jtext_escape(unsigned char c, char out[8])
{
    static const struct {
        unsigned char c;
        char letter;
    } named[] = {{'"', '"'},  {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'},
                 {'\n', 'n'}, {'\r', 'r'},  {'\t', 't'}};

    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (c == named[i].c) {
            out[0] = '\\';
            out[1] = named[i].letter;
            out[2] = '\0';
            return 1;
        }
    if (c >= 0x20)
        return 0;
    snprintf(out, 8, "\\u%04X", c);
    return 1;
}

void jtext_str(struct jtext *t, const char *s, size_t n)
{
    size_t i, run = 0;
    char esc[8];

    jtext_raw(t, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        /* Most bytes need no escape: tell them apart before the table. */
        if ((c >= 0x20 && c != '"' && c != '\\') || !jtext_escape(c, esc))
            continue;
        jtext_raw(t, s + run, i - run);
        jtext_lit(t, esc);
        run = i + 1;
    }
    jtext_raw(t, s + run, n - run);
    jtext_raw(t, "\"", 1);
}

char *jtext_take(struct jtext *t)
{
    char *s;

    if (t->oom) {
        jtext_free(t);
        return NULL;
    }
    /* A copy of the text: the buffer stays for the next one, grown to
     * the size texts have (a snapshot a product: no regrowing each). */
    s = malloc(t->len + 1);
    if (!s) {
        jtext_free(t);
        return NULL;
    }
    memcpy(s, t->buf ? t->buf : "", t->len);
    s[t->len] = '\0';
    t->len = 0;
    return s;
}

void jtext_free(struct jtext *t)
{
    free(t->buf);
    t->buf = NULL;
    t->len = t->cap = 0;
    t->oom = 0;
}
