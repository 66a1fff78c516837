#include "lib/httpbody.h"

#include <stdlib.h>
#include <string.h>

int httpbody_append(struct httpbody *b, const char *data, size_t n, size_t max)
{
    if (b->too_big)
        return 0;
    if (b->len + n > max) {
        free(b->buf);
        b->buf = NULL;
        b->len = b->cap = 0;
        b->too_big = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        char *nb;

        while (ncap < b->len + n + 1)
            ncap *= 2;
        nb = realloc(b->buf, ncap);
        if (!nb)
            return -1;
        b->buf = nb;
        b->cap = ncap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

void httpbody_free(struct httpbody *b)
{
    if (!b)
        return;
    free(b->buf);
    memset(b, 0, sizeof(*b));
}
