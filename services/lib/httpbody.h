/*
 * httpbody — accumulate a request body delivered in pieces by
 * libmicrohttpd's access handler, with a size cap.  Past the cap the
 * bytes are dropped and too_big is set, so the handler can answer 413
 * once the upload is over (MHD wants the whole upload consumed first).
 */
#ifndef OMNI_HTTPBODY_H
#define OMNI_HTTPBODY_H

#include <stddef.h>

struct httpbody {
    char *buf; /* NUL-terminated after every append (may be NULL) */
    size_t len;
    size_t cap;
    int too_big; /* the body exceeded the cap; buf was freed */
};

/**
 * @brief Append @p n bytes of @p data unless the body would exceed
 *        @p max bytes (then drop everything and set too_big).
 * @returns 0, or -1 when out of memory.
 */
int httpbody_append(struct httpbody *b, const char *data, size_t n, size_t max);

/** @brief Free the buffer and reset @p b.  NULL-safe. */
void httpbody_free(struct httpbody *b);

#endif
