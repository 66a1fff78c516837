#include "lib/hashfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hash_file_sha256(const char *path, char hex[HASH_SHA256_HEX_LEN + 1],
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
    sodium_bin2hex(hex, HASH_SHA256_HEX_LEN + 1, digest, sizeof(digest));
    rc = 0;
out:
    close(fd);
    return rc;
}
