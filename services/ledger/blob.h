/*
 * blob — photos stored by content: a small interface (put / get / exists,
 * keyed by the SHA-256 of the bytes as 64 lowercase hex digits) and its
 * embedded default implementation, the ledger's photo_blob table
 * (migration 0005; this module owns it).  Another store (an S3-compatible
 * one) is a second `struct blob_ops` behind the same calls
 * (docs/image-uploader.md "Where photo bytes live").
 *
 * Also the one reader of photo files: bounded (a size limit), regular files
 * only (a FIFO or a device is refused without blocking), an image of an
 * allowed type by its magic bytes (JPEG, PNG, GIF, WebP).
 */
#ifndef OMNI_BLOB_H
#define OMNI_BLOB_H

#include "lib/hash.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

/** The operations of one blob store; @p impl is its state. */
struct blob_ops {
    const char *name;
    /* Store @p len bytes under @p sha256 (content-addressed: storing the
     * same key twice is a no-op); 0 or -1 with errstr. */
    int (*put)(void *impl, const char *sha256, const unsigned char *bytes,
               size_t len, const char *content_type, char *errstr,
               size_t errstr_size);
    /* 1 with *bytes (owned, free()) and *len, 0 when absent, -1 with
     * errstr. */
    int (*get)(void *impl, const char *sha256, unsigned char **bytes,
               size_t *len, char *errstr, size_t errstr_size);
    /* 1 when stored, 0 when absent, -1 with errstr. */
    int (*exists)(void *impl, const char *sha256, char *errstr,
                  size_t errstr_size);
    void (*destroy)(void *impl); /* (may be NULL) */
};

struct blob_store;

/**
 * @brief The ledger's photo_blob table on @p pg (borrowed: it must outlive
 *        the store).  A put inside the caller's open transaction commits or
 *        rolls back with it.
 * @returns the store, or NULL when out of memory.
 */
struct blob_store *blob_store_pg_new(PGconn *pg);

/** @brief Free the store.  NULL is a no-op. */
void blob_store_destroy(struct blob_store *bs);

/** @brief blob_ops.put. */
int blob_put(struct blob_store *bs, const char *sha256,
             const unsigned char *bytes, size_t len, const char *content_type,
             char *errstr, size_t errstr_size);

/** @brief blob_ops.get: 1 found (*@p bytes owned), 0 absent, -1 error. */
int blob_get(struct blob_store *bs, const char *sha256, unsigned char **bytes,
             size_t *len, char *errstr, size_t errstr_size);

/** @brief blob_ops.exists: 1 stored, 0 absent, -1 error. */
int blob_exists(struct blob_store *bs, const char *sha256, char *errstr,
                size_t errstr_size);

/** A photo file's content, read and checked by blob_photo_read(). */
struct blob_photo {
    unsigned char *bytes; /* (owned) */
    size_t len;
    const char *ext;          /* "jpg", "png", "gif" or "webp" (static) */
    const char *content_type; /* "image/jpeg", ... (static) */
    char sha256[HASH_SHA256_HEX_LEN + 1];
};

/**
 * @brief Check photo bytes: an allowed image type by magic bytes, at most
 *        @p max_bytes (named @p limit_key in the message).
 * @param ext  (may be NULL) receives "jpg", "png", "gif" or "webp".
 * @returns 0, or -1 with the reason in @p why (no path in it).
 */
int blob_photo_check(const unsigned char *bytes, size_t len,
                     long long max_bytes, const char *limit_key,
                     const char **ext, char *why, size_t why_size);

/**
 * @brief Read the photo file @p path once: opened without blocking, a
 *        regular file, at most @p max_bytes, an allowed image type; its
 *        SHA-256 computed.
 * @returns 0 with @p ph filled (free with blob_photo_clear()), or -1 with
 *          the reason in @p why (no path in it), e.g. "not a regular file",
 *          "too big: 2000000 bytes > import.photo_max_bytes 1000000".
 */
int blob_photo_read(const char *path, long long max_bytes,
                    const char *limit_key, struct blob_photo *ph, char *why,
                    size_t why_size);

/** @brief Free the bytes of @p ph (may be zeroed). */
void blob_photo_clear(struct blob_photo *ph);

/**
 * @brief Store the bytes of every photo the ledger records by host path
 *        only (rows imported before migration 0005): read each path with
 *        blob_photo_read(), check its SHA-256 is the recorded one, store
 *        it.  Each photo it cannot store is named on @p warn with why; it
 *        stays without bytes (image-uploader dead-letters its jobs) until a
 *        later run or a re-import stores them.  Each stored photo commits
 *        on its own.
 * @param out  receives one summary line when there was anything to do.
 * @param missing  receives how many photos still have no bytes.
 * @returns 0, or -1 with @p errstr when the ledger failed.
 */
int blob_photos_backfill(PGconn *pg, long long max_bytes, const char *limit_key,
                         FILE *out, FILE *warn, long long *missing,
                         char *errstr, size_t errstr_size);

#endif
