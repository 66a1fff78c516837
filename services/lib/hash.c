#include "lib/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 32 digest bytes as 64 lowercase hex digits. */
static void hash_hex(const unsigned char digest[crypto_hash_sha256_BYTES],
                     char out[HASH_SHA256_HEX_LEN + 1])
{
    sodium_bin2hex(out, HASH_SHA256_HEX_LEN + 1, digest,
                   crypto_hash_sha256_BYTES);
}

void hash_sha256_hex(const void *buf, size_t len,
                     char out[HASH_SHA256_HEX_LEN + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    static const unsigned char none[1];

    crypto_hash_sha256(digest, buf ? (const unsigned char *)buf : none,
                       (unsigned long long)len);
    hash_hex(digest, out);
}

int hash_sha256_file_hex(const char *path, char out[HASH_SHA256_HEX_LEN + 1],
                         char *errstr, size_t errstr_size)
{
    crypto_hash_sha256_state st;
    unsigned char digest[crypto_hash_sha256_BYTES];
    unsigned char buf[64 * 1024];
    struct stat sb;
    ssize_t n;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) < 0) {
        snprintf(errstr, errstr_size, "%s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(errstr, errstr_size, "not a regular file");
        goto out;
    }
    crypto_hash_sha256_init(&st);
    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(errstr, errstr_size, "%s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
    }
    crypto_hash_sha256_final(&st, digest);
    hash_hex(digest, out);
    rc = 0;
out:
    close(fd);
    return rc;
}

uint64_t hash_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}
