/*
 * jtext — JSON text written straight into a growing buffer, for
 * producers of many documents of a fixed shape (the catalog snapshots)
 * where a tree of jansson values per document would cost an allocation a
 * value.  The caller writes the punctuation; jtext escapes strings the way
 * jansson does without JSON_ENSURE_ASCII (", \, and control characters;
 * other bytes as they are: the input is UTF-8).  An append that cannot
 * grow the buffer sets oom and every later append does nothing.
 */
#ifndef OMNI_JTEXT_H
#define OMNI_JTEXT_H

#include <stddef.h>

struct jtext {
    char *buf; /* NUL-terminated when len > 0 */
    size_t len, cap;
    int oom;
};

/** @brief Append @p n raw bytes (punctuation, numbers, true/false/null). */
void jtext_raw(struct jtext *t, const char *s, size_t n);

/** @brief Append the NUL-terminated raw text @p s. */
void jtext_lit(struct jtext *t, const char *s);

/** @brief Append @p n bytes of @p s as a quoted, escaped JSON string. */
void jtext_str(struct jtext *t, const char *s, size_t n);

/**
 * @brief Take the text out of @p t (a malloc()ed copy, "" when empty) and
 *        leave @p t empty; its buffer stays for the next text (one
 *        buffer for many documents: jtext_free() it after the last).
 * @returns the string, or NULL when out of memory (also after an oom;
 *          @p t is freed then).
 */
char *jtext_take(struct jtext *t);

/** @brief Free @p t's buffer; @p t is empty after. */
void jtext_free(struct jtext *t);

#endif
