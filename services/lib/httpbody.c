#include "lib/httpbody.h"

#include "lib/grow.h"

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
    if (grow_to(&b->buf, &b->cap, b->len + n + 1, 4096) < 0)
        return -1;
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
