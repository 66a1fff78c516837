/*
 * t.h — a tiny unit-test harness.  Each test binary ends with the line
 * "N passed, N failed" and exits non-zero when anything failed.
 */
#ifndef OMNI_T_H
#define OMNI_T_H

#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;

/* Functions rather than inline expressions so string literals are fine. */
static inline int t_str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static inline int t_str_contains(const char *h, const char *n)
{
    return h && n && strstr(h, n) != NULL;
}

static inline const char *t_str_show(const char *s)
{
    return s ? s : "(null)";
}

#define T_CHECK(cond, ...)                                                     \
    do {                                                                       \
        if (cond) {                                                            \
            t_passed++;                                                        \
        } else {                                                               \
            t_failed++;                                                        \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

#define T_ASSERT(cond) T_CHECK((cond), "%s", #cond)
#define T_ASSERT_EQ(a, b)                                                      \
    T_CHECK((long long)(a) == (long long)(b), "%s == %s (%lld != %lld)", #a,   \
            #b, (long long)(a), (long long)(b))
#define T_ASSERT_STR_EQ(a, b)                                                  \
    T_CHECK(t_str_eq((a), (b)), "%s == %s (\"%s\" != \"%s\")", #a, #b,         \
            t_str_show(a), t_str_show(b))
#define T_ASSERT_STR_CONTAINS(h, n)                                            \
    T_CHECK(t_str_contains((h), (n)), "\"%s\" contains \"%s\"", t_str_show(h), \
            t_str_show(n))

#define T_DONE()                                                               \
    do {                                                                       \
        printf("%s: %d passed, %d failed\n", __FILE__, t_passed, t_failed);    \
        return t_failed ? 1 : 0;                                               \
    } while (0)

#endif
