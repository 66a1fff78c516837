/*
 * test_hash — lib/hash: SHA-256 as lowercase hex of buffers (the FIPS
 * 180-2 examples and other known digests) and of files (empty, chunk
 * boundaries, large), and the file errors.
 */
#include "lib/hash.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reference digests from sha256sum / Python's hashlib. */
#define SHA_EMPTY                                                              \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_A_MILLION                                                          \
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
#define SHA_X_64K                                                              \
    "1f8745f0d2d1387ec1af2211a3cf417b2e9e885e853472649c1d979d0e9370e3"
#define SHA_X_64K_1                                                            \
    "1abe08ebecf1c18cab71f6fe28aaddf20268f85bad78bb9a72f88ca47c874662"
#define SHA_BYTES_300                                                          \
    "f8b0585eb91f58c007a5634362c9f90d8543822c113f702523bc7b73408a9392"

static const struct {
    const char *in;
    size_t len;
    const char *hex;
} buf_cases[] = {
    {"", 0, SHA_EMPTY},
    {"abc", 3,
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"The quick brown fox jumps over the lazy dog", 43,
     "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
    {"The quick brown fox jumps over the lazy dog.", 44,
     "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"},
    /* One NUL byte: the length counts, not strlen. */
    {"", 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
    /* Only the first 3 bytes. */
    {"abcdef", 3,
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
};

/* Fill @p n bytes with the pattern @p kind: 'a'/'x' repeated, or 'r' for
 * 0..255 repeated. */
static unsigned char *pattern(int kind, size_t n)
{
    unsigned char *b = malloc(n ? n : 1);

    for (size_t i = 0; b && i < n; i++)
        b[i] = kind == 'r' ? (unsigned char)(i % 256) : (unsigned char)kind;
    return b;
}

static const struct {
    int kind;
    size_t len;
    const char *hex;
} big_cases[] = {
    {'a', 1000000, SHA_A_MILLION},     /* FIPS 180-2 example 3 */
    {'x', 64 * 1024, SHA_X_64K},       /* exactly one read chunk */
    {'x', 64 * 1024 + 1, SHA_X_64K_1}, /* one byte into the second */
    {'r', 256 * 300, SHA_BYTES_300},   /* every byte value */
};

static int is_lower_hex(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == HASH_SHA256_HEX_LEN;
}

static void test_buffers(void)
{
    char hex[HASH_SHA256_HEX_LEN + 1];
    unsigned char *b;
    size_t i;

    for (i = 0; i < sizeof(buf_cases) / sizeof(buf_cases[0]); i++) {
        memset(hex, 'X', sizeof(hex));
        hash_sha256_hex(buf_cases[i].in, buf_cases[i].len, hex);
        T_CHECK(strcmp(hex, buf_cases[i].hex) == 0 && is_lower_hex(hex),
                "sha256 of \"%s\" (%zu bytes) -> %s", buf_cases[i].in,
                buf_cases[i].len, hex);
    }
    hash_sha256_hex(NULL, 0, hex);
    T_ASSERT_STR_EQ(hex, SHA_EMPTY);
    for (i = 0; i < sizeof(big_cases) / sizeof(big_cases[0]); i++) {
        b = pattern(big_cases[i].kind, big_cases[i].len);
        T_ASSERT(b != NULL);
        if (!b)
            continue;
        hash_sha256_hex(b, big_cases[i].len, hex);
        T_CHECK(strcmp(hex, big_cases[i].hex) == 0,
                "sha256 of %zu x '%c' -> %s", big_cases[i].len,
                big_cases[i].kind, hex);
        free(b);
    }
}

/* Write @p n bytes to a new file under @p dir; returns its path (static). */
static const char *write_file(const char *dir, const unsigned char *b, size_t n)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/f", dir);
    f = fopen(path, "wb");
    if (!f)
        return NULL;
    if (n && fwrite(b, 1, n, f) != n) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    return path;
}

static void test_files(void)
{
    char dir[] = "/tmp/test_hash.XXXXXX", hex[HASH_SHA256_HEX_LEN + 1];
    char err[256], fifo[300], buf_hex[HASH_SHA256_HEX_LEN + 1];
    const char *path;
    unsigned char *b;
    size_t i;

    if (!mkdtemp(dir)) {
        T_CHECK(0, "mkdtemp failed");
        return;
    }
    path = write_file(dir, NULL, 0);
    T_ASSERT_EQ(hash_sha256_file_hex(path, hex, err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(hex, SHA_EMPTY);
    for (i = 0; i < sizeof(big_cases) / sizeof(big_cases[0]); i++) {
        b = pattern(big_cases[i].kind, big_cases[i].len);
        path = b ? write_file(dir, b, big_cases[i].len) : NULL;
        T_ASSERT(path != NULL);
        if (path) {
            memset(hex, 'X', sizeof(hex));
            T_CHECK(hash_sha256_file_hex(path, hex, err, sizeof(err)) == 0 &&
                        strcmp(hex, big_cases[i].hex) == 0,
                    "file of %zu x '%c' -> %s", big_cases[i].len,
                    big_cases[i].kind, hex);
            /* The file and the buffer agree. */
            hash_sha256_hex(b, big_cases[i].len, buf_hex);
            T_ASSERT_STR_EQ(hex, buf_hex);
        }
        free(b);
    }
    /* Errors: missing, a directory, a FIFO (not opened for reading in a
     * blocking way: the call must not hang). */
    snprintf(fifo, sizeof(fifo), "%s/missing", dir);
    T_ASSERT_EQ(hash_sha256_file_hex(fifo, hex, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "No such file");
    T_ASSERT_EQ(hash_sha256_file_hex(dir, hex, err, sizeof(err)), -1);
    T_ASSERT_STR_EQ(err, "not a regular file");
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    T_ASSERT_EQ(mkfifo(fifo, 0600), 0);
    T_ASSERT_EQ(hash_sha256_file_hex(fifo, hex, err, sizeof(err)), -1);
    T_ASSERT_STR_EQ(err, "not a regular file");
    unlink(fifo);
    snprintf(fifo, sizeof(fifo), "%s/f", dir);
    unlink(fifo);
    rmdir(dir);
}

int main(void)
{
    test_buffers();
    test_files();
    T_DONE();
}
