/*
 * test_secret — secretbox round trip, wrong key, tampering, key parsing,
 * and that no error message ever quotes the key.
 */
#include "lib/secret.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

/* Two keys as od -An -tx1 -N32 /dev/urandom printed them. */
#define HEX_A "3f9c2a71d04be8165a0c97e3b2f46d18c5e07a9b31f28d4c6e90b7a5d3128f4e"
#define HEX_B "ff9c2a71d04be8165a0c97e3b2f46d18c5e07a9b31f28d4c6e90b7a5d3128f4e"

/* 1 when @p needle occurs in the @p len bytes at @p hay. */
static int contains(const unsigned char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle), i;

    for (i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

/* 1 when @p h holds @p n (the t.h string macros' NULL checks confuse
 * cppcheck's null-pointer analysis for arrays). */
static int has(const char *h, const char *n)
{
    return h && strstr(h, n) != NULL;
}

static void test_round_trip(void)
{
    unsigned char key[SECRET_KEY_BYTES], nonce[SECRET_NONCE_BYTES],
        nonce2[SECRET_NONCE_BYTES], *box = NULL, *box2 = NULL;
    size_t box_len = 0, box2_len = 0;
    char err[256], *plain = NULL;
    const char *pw = "s3cr3t-Пароль";

    T_ASSERT_EQ(secret_key_parse(HEX_A, key, err, sizeof(err)), 0);
    T_ASSERT_EQ(key[0], 0x3f);
    T_ASSERT_EQ(key[31], 0x4e);
    T_ASSERT_EQ(secret_seal(key, pw, strlen(pw), nonce, &box, &box_len, err,
                            sizeof(err)),
                0);
    T_ASSERT_EQ(box_len, strlen(pw) + SECRET_MAC_BYTES);
    T_ASSERT(!contains(box, box_len, "s3cr3t"));
    T_ASSERT_EQ(secret_open(key, nonce, box, box_len, &plain, err, sizeof(err)),
                0);
    T_ASSERT(plain && strcmp(plain, pw) == 0);
    secret_str_free(plain);
    plain = NULL;

    /* A fresh nonce each time: the same password seals differently. */
    T_ASSERT_EQ(secret_seal(key, pw, strlen(pw), nonce2, &box2, &box2_len, err,
                            sizeof(err)),
                0);
    T_ASSERT(memcmp(nonce, nonce2, sizeof(nonce)) != 0);
    T_ASSERT(memcmp(box, box2, box_len) != 0);

    /* Tampering is detected. */
    box[0] ^= 1;
    T_ASSERT_EQ(secret_open(key, nonce, box, box_len, &plain, err, sizeof(err)),
                -1);
    T_ASSERT(plain == NULL);
    T_ASSERT_EQ(secret_open(key, nonce, box, 3, &plain, err, sizeof(err)), -1);
    free(box);
    free(box2);
}

static void test_wrong_key(void)
{
    unsigned char ka[SECRET_KEY_BYTES], kb[SECRET_KEY_BYTES],
        nonce[SECRET_NONCE_BYTES], *box = NULL;
    size_t box_len = 0;
    char err[256], *plain = NULL;

    T_ASSERT_EQ(secret_key_parse(HEX_A, ka, err, sizeof(err)), 0);
    T_ASSERT_EQ(secret_key_parse(HEX_B, kb, err, sizeof(err)), 0);
    T_ASSERT_EQ(
        secret_seal(ka, "pw", 2, nonce, &box, &box_len, err, sizeof(err)), 0);
    T_ASSERT_EQ(secret_open(kb, nonce, box, box_len, &plain, err, sizeof(err)),
                -1);
    T_ASSERT(plain == NULL);
    T_ASSERT(has(err, "cannot decrypt"));
    T_ASSERT(!has(err, "pw"));
    free(box);
}

static void test_bad_keys(void)
{
    unsigned char key[SECRET_KEY_BYTES];
    char err[256];
    /* 64 characters, one of them not hex. */
    const char *nonhex =
        "zz9c2a71d04be8165a0c97e3b2f46d18c5e07a9b31f28d4c6e90b7a5d3128f4e";

    T_ASSERT_EQ(secret_key_parse(NULL, key, err, sizeof(err)), -1);
    T_ASSERT_EQ(secret_key_parse("", key, err, sizeof(err)), -1);
    T_ASSERT_EQ(secret_key_parse("abcd", key, err, sizeof(err)), -1);
    T_ASSERT(has(err, "64 hex"));
    T_ASSERT_EQ(secret_key_parse(nonhex, key, err, sizeof(err)), -1);
    T_ASSERT(!has(err, "zz9c"));
    T_ASSERT_EQ(secret_key_parse(HEX_A "00", key, err, sizeof(err)), -1);
    T_ASSERT_EQ(secret_key_parse(HEX_A, key, err, sizeof(err)), 0);

    /* The configured key: errors name the variable, never the value. */
    T_ASSERT_EQ(secret_key_load("not-a-key-ABCDEF", key, err, sizeof(err)), -1);
    T_ASSERT(has(err, SECRET_KEY_ENV));
    T_ASSERT(!has(err, "not-a-key"));
    T_ASSERT_EQ(secret_key_load(NULL, key, err, sizeof(err)), -1);
    T_ASSERT(has(err, "OMNISYNC_SECRET_KEY is not set"));
    T_ASSERT_EQ(secret_key_load("", key, err, sizeof(err)), -1);
    T_ASSERT(has(err, "OMNISYNC_SECRET_KEY is not set"));
    /* It is taken as given: the environment is not read. */
    setenv(SECRET_KEY_ENV, HEX_A, 1);
    T_ASSERT_EQ(secret_key_load(HEX_B, key, err, sizeof(err)), 0);
    unsetenv(SECRET_KEY_ENV);
    T_ASSERT_EQ(key[0], 0xff);
}

/* Keys someone typed: refused by secret_key_parse(), secret_key_load()
 * and secret_key_check() (the boot check of lib/cfg), each with a reason
 * that quotes nothing of the key. */
static void test_weak_keys(void)
{
    static const struct {
        const char *hex, *why;
    } weak[] = {
        {"0000000000000000000000000000000000000000000000000000000000000000",
         "one byte repeated"},
        {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
         "one byte repeated"},
        {"abababababababababababababababababababababababababababababababab",
         "one byte repeated"},
        /* printf '%064d' 7: 31 zero bytes and a 7 */
        {"0000000000000000000000000000000000000000000000000000000000000007",
         "only 2 distinct bytes"},
        {"deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
         "only 4 distinct bytes"},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "only 8 distinct bytes"},
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "counting sequence"},
        {"fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0",
         "counting sequence"},
        {"3f9c2a71d04be8165a0c97e3b2f46d183f9c2a71d04be8165a0c97e3b2f46d18",
         "two equal halves"},
    };
    unsigned char key[SECRET_KEY_BYTES];
    char err[256], hex[65];
    size_t i;
    int j;

    for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        memset(key, 0x55, sizeof(key));
        T_ASSERT_EQ(secret_key_parse(weak[i].hex, key, err, sizeof(err)), -1);
        T_CHECK(has(err, weak[i].why), "%s: '%s' says '%s'", weak[i].hex, err,
                weak[i].why);
        T_ASSERT(has(err, "weak"));
        T_ASSERT_EQ(key[0] | key[15] | key[31], 0); /* zeroed on failure */
        T_ASSERT_EQ(secret_key_load(weak[i].hex, key, err, sizeof(err)), -1);
        T_ASSERT(has(err, SECRET_KEY_ENV) && has(err, "weak"));
        T_ASSERT_EQ(secret_key_check(weak[i].hex, err, sizeof(err)), -1);
        T_ASSERT(has(err, "weak") && has(err, "/dev/urandom"));
        T_ASSERT(!has(err, weak[i].hex) && !has(err, weak[i].hex + 48));
    }
    /* Bad text through the boot check: the same reasons, and the hint. */
    T_ASSERT_EQ(secret_key_check("0123abcd", err, sizeof(err)), -1);
    T_ASSERT(has(err, "64 hex characters (got 8)") && has(err, "urandom"));
    T_ASSERT(!has(err, "0123abcd"));
    T_ASSERT_EQ(secret_key_check(NULL, err, sizeof(err)), -1);
    T_ASSERT(has(err, "not set"));
    T_ASSERT_EQ(secret_key_check(HEX_A, err, sizeof(err)), 0);
    T_ASSERT_EQ(secret_key_check(HEX_B, err, sizeof(err)), 0);

    /* Generated keys pass: 2000 of them. */
    for (j = 0; j < 2000; j++) {
        T_ASSERT_EQ(secret_random_hex(hex, sizeof(hex), SECRET_KEY_BYTES), 0);
        if (secret_key_check(hex, err, sizeof(err)) != 0) {
            T_CHECK(0, "random key refused: %s", err);
            break;
        }
    }
}

static void test_random_hex(void)
{
    char a[33], b[33], small[8];
    size_t i;
    int ok = 1;

    T_ASSERT_EQ(secret_random_hex(a, sizeof(a), 16), 0);
    T_ASSERT_EQ(secret_random_hex(b, sizeof(b), 16), 0);
    T_ASSERT_EQ(strlen(a), 32);
    for (i = 0; i < 32; i++)
        ok &= (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f');
    T_ASSERT(ok);
    T_ASSERT(strcmp(a, b) != 0);
    T_ASSERT_EQ(secret_random_hex(small, sizeof(small), 16), -1);
}

int main(void)
{
    test_round_trip();
    test_wrong_key();
    test_bad_keys();
    test_weak_keys();
    test_random_hex();
    T_DONE();
}
