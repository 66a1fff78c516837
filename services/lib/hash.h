/*
 * hash — SHA-256 (libsodium) as 64 lowercase hex digits: of a buffer, or of
 * a file's content read in chunks.  The one SHA-256-to-hex of the code
 * base.  And FNV-1a of a string, for in-memory hash tables.
 */
#ifndef OMNI_HASH_H
#define OMNI_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Hex digits of a SHA-256, without the NUL. */
#define HASH_SHA256_HEX_LEN 64

/**
 * @brief Hash @p len bytes at @p buf.
 * @param buf  the bytes (may be NULL when @p len is 0).
 * @param out  receives 64 lowercase hex digits and a NUL.
 */
void hash_sha256_hex(const void *buf, size_t len,
                     char out[HASH_SHA256_HEX_LEN + 1]);

/**
 * @brief Hash the content of the regular file @p path, 64 KiB at a time.
 * @param out  receives 64 lowercase hex digits and a NUL.
 * @returns 0, or -1 with @p errstr ("not a regular file", the strerror of
 *          a failed open/read; the path is not repeated in errstr).
 */
int hash_sha256_file_hex(const char *path, char out[HASH_SHA256_HEX_LEN + 1],
                         char *errstr, size_t errstr_size);

/** @returns the 64-bit FNV-1a hash of the NUL-terminated @p s (hash
 *           tables only: not a digest). */
uint64_t hash_fnv1a(const char *s);

#endif
