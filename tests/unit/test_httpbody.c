#include "lib/httpbody.h"
#include "t.h"

#include <string.h>

int main(void)
{
    struct httpbody b;
    char big[5000];

    memset(&b, 0, sizeof(b));
    T_ASSERT_EQ(httpbody_append(&b, "{\"a\":", 5, 16), 0);
    T_ASSERT_EQ(httpbody_append(&b, "1}", 2, 16), 0);
    T_ASSERT_EQ(b.len, 7);
    T_ASSERT_STR_EQ(b.buf, "{\"a\":1}");
    T_ASSERT_EQ(b.too_big, 0);
    /* Past the cap: everything is dropped and stays dropped. */
    T_ASSERT_EQ(httpbody_append(&b, "0123456789", 10, 16), 0);
    T_ASSERT_EQ(b.too_big, 1);
    T_ASSERT(b.buf == NULL);
    T_ASSERT_EQ(b.len, 0);
    T_ASSERT_EQ(httpbody_append(&b, "x", 1, 16), 0);
    T_ASSERT_EQ(b.len, 0);
    httpbody_free(&b);
    T_ASSERT_EQ(b.too_big, 0);
    /* Growth past the first allocation keeps the bytes. */
    memset(big, 'z', sizeof(big));
    T_ASSERT_EQ(httpbody_append(&b, big, sizeof(big), 1 << 20), 0);
    T_ASSERT_EQ(httpbody_append(&b, "!", 1, 1 << 20), 0);
    T_ASSERT_EQ(b.len, sizeof(big) + 1);
    T_ASSERT_EQ(b.buf[sizeof(big)], '!');
    T_ASSERT_EQ(b.buf[b.len], '\0');
    httpbody_free(&b);
    httpbody_free(NULL);
    T_DONE();
}
