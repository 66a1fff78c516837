/*
 * t.h — a tiny unit-test harness.  Each test binary ends with the line
 * "N passed, N failed" and exits non-zero when anything failed.
 */
#ifndef OMNI_T_H
#define OMNI_T_H

#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;

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
    T_CHECK((a) && (b) && strcmp((a), (b)) == 0, "%s == %s (\"%s\" != \"%s\")", \
            #a, #b, (a) ? (a) : "(null)", (b) ? (b) : "(null)")
#define T_ASSERT_STR_CONTAINS(h, n)                                            \
    T_CHECK((h) && strstr((h), (n)) != NULL, "\"%s\" contains \"%s\"",         \
            (h) ? (h) : "(null)", (n))

#define T_DONE()                                                               \
    do {                                                                       \
        printf("%s: %d passed, %d failed\n", __FILE__, t_passed, t_failed);   \
        return t_failed ? 1 : 0;                                               \
    } while (0)

#endif
