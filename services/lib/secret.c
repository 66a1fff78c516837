#include "lib/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int secret_init(char *errstr, size_t errstr_size)
{
    if (sodium_init() < 0) {
        snprintf(errstr, errstr_size, "libsodium initialisation failed");
        return -1;
    }
    return 0;
}

/*
 * Weak keys: a key someone typed rather than generated.  A random 32-byte
 * key has about 30 distinct byte values; fewer than SECRET_MIN_DISTINCT
 * (all zero, one byte repeated, a short pattern repeated) happens by
 * chance with a probability far below 2^-64.  A counting sequence
 * (00 01 02 ..., ff fe fd ...: every step the same) and two equal halves
 * are refused too.
 */
#define SECRET_MIN_DISTINCT 16

int secret_key_weak(const unsigned char key[SECRET_KEY_BYTES], char *errstr,
                    size_t errstr_size)
{
    unsigned char seen[256] = {0};
    int distinct = 0, counting = 1;
    size_t i;

    for (i = 0; i < SECRET_KEY_BYTES; i++) {
        distinct += !seen[key[i]];
        seen[key[i]] = 1;
        if (i >= 2 && (unsigned char)(key[i] - key[i - 1]) !=
                          (unsigned char)(key[1] - key[0]))
            counting = 0;
    }
    if (distinct == 1)
        snprintf(errstr, errstr_size,
                 "key is weak (one byte repeated, e.g. all zero)");
    else if (distinct < SECRET_MIN_DISTINCT)
        snprintf(errstr, errstr_size,
                 "key is weak (only %d distinct bytes of %d; a random key "
                 "has about 30)",
                 distinct, SECRET_KEY_BYTES);
    else if (counting)
        snprintf(errstr, errstr_size, "key is weak (a counting sequence)");
    else if (memcmp(key, key + SECRET_KEY_BYTES / 2, SECRET_KEY_BYTES / 2) == 0)
        snprintf(errstr, errstr_size, "key is weak (two equal halves)");
    else
        return 0;
    return 1;
}

int secret_key_parse(const char *hex, unsigned char key[SECRET_KEY_BYTES],
                     char *errstr, size_t errstr_size)
{
    size_t bin_len = 0, i;

    sodium_memzero(key, SECRET_KEY_BYTES);
    if (!hex || !*hex) {
        snprintf(errstr, errstr_size, "key is not set");
        return -1;
    }
    for (i = 0; hex[i]; i++) {
        char c = hex[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F'))) {
            snprintf(errstr, errstr_size,
                     "key must be %d hex characters (found a non-hex "
                     "character)",
                     SECRET_KEY_BYTES * 2);
            return -1;
        }
    }
    if (i != SECRET_KEY_BYTES * 2 ||
        sodium_hex2bin(key, SECRET_KEY_BYTES, hex, i, NULL, &bin_len, NULL) !=
            0 ||
        bin_len != SECRET_KEY_BYTES) {
        sodium_memzero(key, SECRET_KEY_BYTES);
        snprintf(errstr, errstr_size, "key must be %d hex characters (got %zu)",
                 SECRET_KEY_BYTES * 2, i);
        return -1;
    }
    if (secret_key_weak(key, errstr, errstr_size)) {
        sodium_memzero(key, SECRET_KEY_BYTES);
        return -1;
    }
    return 0;
}

int secret_key_check(const char *hex, char *errstr, size_t errstr_size)
{
    unsigned char key[SECRET_KEY_BYTES];
    char why[160];
    int rc;

    rc = secret_key_parse(hex, key, why, sizeof(why));
    sodium_memzero(key, sizeof(key));
    if (rc < 0)
        snprintf(errstr, errstr_size,
                 "%s; generate one with: od -An -tx1 -N32 /dev/urandom | tr "
                 "-d ' \\n'",
                 why);
    return rc;
}

int secret_key_load(const char *hex, unsigned char key[SECRET_KEY_BYTES],
                    char *errstr, size_t errstr_size)
{
    char why[128];

    if (secret_init(errstr, errstr_size) < 0)
        return -1;
    if (!hex || !*hex) {
        snprintf(errstr, errstr_size,
                 "%s is not set (64 hex characters: the 32-byte key that "
                 "encrypts store passwords)",
                 SECRET_KEY_ENV);
        return -1;
    }
    if (secret_key_parse(hex, key, why, sizeof(why)) < 0) {
        snprintf(errstr, errstr_size, "%s: %s", SECRET_KEY_ENV, why);
        return -1;
    }
    return 0;
}

int secret_seal(const unsigned char key[SECRET_KEY_BYTES], const void *plain,
                size_t len, unsigned char nonce[SECRET_NONCE_BYTES],
                unsigned char **box, size_t *box_len, char *errstr,
                size_t errstr_size)
{
    unsigned char *b;

    *box = NULL;
    *box_len = 0;
    if (secret_init(errstr, errstr_size) < 0)
        return -1;
    b = malloc(len + SECRET_MAC_BYTES);
    if (!b) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    randombytes_buf(nonce, SECRET_NONCE_BYTES);
    if (crypto_secretbox_easy(b, plain, len, nonce, key) != 0) {
        free(b);
        snprintf(errstr, errstr_size, "encryption failed");
        return -1;
    }
    *box = b;
    *box_len = len + SECRET_MAC_BYTES;
    return 0;
}

int secret_open(const unsigned char key[SECRET_KEY_BYTES],
                const unsigned char nonce[SECRET_NONCE_BYTES],
                const unsigned char *box, size_t box_len, char **plain,
                char *errstr, size_t errstr_size)
{
    char *p;
    size_t len;

    *plain = NULL;
    if (secret_init(errstr, errstr_size) < 0)
        return -1;
    if (box_len < SECRET_MAC_BYTES) {
        snprintf(errstr, errstr_size, "sealed value too short");
        return -1;
    }
    len = box_len - SECRET_MAC_BYTES;
    p = malloc(len + 1);
    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    if (crypto_secretbox_open_easy((unsigned char *)p, box, box_len, nonce,
                                   key) != 0) {
        sodium_memzero(p, len + 1);
        free(p);
        snprintf(errstr, errstr_size,
                 "cannot decrypt (wrong %s or corrupted value)",
                 SECRET_KEY_ENV);
        return -1;
    }
    p[len] = '\0';
    *plain = p;
    return 0;
}

void secret_str_free(char *s)
{
    if (!s)
        return;
    sodium_memzero(s, strlen(s));
    free(s);
}

int secret_random_hex(char *out, size_t out_size, size_t nbytes)
{
    unsigned char buf[64];

    if (nbytes > sizeof(buf) || out_size < nbytes * 2 + 1 || sodium_init() < 0)
        return -1;
    randombytes_buf(buf, nbytes);
    sodium_bin2hex(out, out_size, buf, nbytes);
    sodium_memzero(buf, sizeof(buf));
    return 0;
}
