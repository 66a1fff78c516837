/*
 * hashfile — SHA-256 of a file's content (libsodium), as lowercase hex.
 */
#ifndef OMNI_HASHFILE_H
#define OMNI_HASHFILE_H

#include <stddef.h>

#define HASH_SHA256_HEX_LEN 64

/**
 * @brief Hash the content of the regular file @p path.
 * @param hex  receives 64 lowercase hex digits and a NUL.
 * @returns 0, or -1 with @p errstr ("not a regular file", the strerror of
 *          a failed open/read; the path is not repeated in errstr).
 */
int hash_file_sha256(const char *path, char hex[HASH_SHA256_HEX_LEN + 1],
                     char *errstr, size_t errstr_size);

#endif
