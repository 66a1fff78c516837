/*
 * image_job — the `images.job` event (topic omnisync.images.v1): one photo
 * of one product to upload to one store (docs/image-uploader.md).
 *
 *   key:  the ledger product id (decimal), so a product's photos stay in
 *         order on one partition.
 *   data: {"store": "<store name>", "photo_id": <product_photo.id>,
 *          "product_id": <ledger id>, "remote_product_id": <store id>,
 *          "position": <1..>, "path": "<absolute path>",
 *          "sha256": "<64 lower-case hex>"}
 *
 * Pure helpers, no I/O: encode/validate the data, sniff an image format
 * from its magic bytes, derive the upload filename from the content hash
 * (DESIGN.md "Photos after a crash"), and a deterministic event id.
 */
#ifndef OMNI_IMAGE_JOB_H
#define OMNI_IMAGE_JOB_H

#include <jansson.h>
#include <stddef.h>

#define IMAGE_JOB_EVENT "images.job"
#define IMAGE_JOB_SHA256_LEN 64

/* Upload filename: first 16 hex chars of the SHA-256, '.', extension. */
#define IMAGE_JOB_NAME_HEX 16
#define IMAGE_JOB_NAME_MAX 32

/* One job.  Strings are borrowed (from the decoded JSON or the caller). */
struct image_job {
    const char *store;
    long long photo_id;
    long long product_id;
    long long remote_product_id;
    long long position;
    const char *path;
    const char *sha256;
};

/**
 * @brief The data object of @p j.
 * @returns a new object, or NULL when a field is missing (NULL string).
 */
json_t *image_job_encode(const struct image_job *j);

/**
 * @brief Validate @p data strictly (every key, no other key, types,
 *        positive ids, absolute path, lower-case hex SHA-256) against the
 *        envelope's @p key (the product id) and @p store, and fill @p j
 *        (may be NULL) with pointers borrowed from @p data.
 * @returns 0, or -1 with errstr naming the field ("data.sha256: ...").
 */
int image_job_decode(const json_t *data, const char *key, const char *store,
                     struct image_job *j, char *errstr, size_t errstr_size);

/**
 * @brief The image format of @p buf by its magic bytes.
 * @returns "jpg", "png", "gif" or "webp", or NULL when none matches.
 */
const char *image_job_sniff(const unsigned char *buf, size_t len);

/**
 * @brief The upload filename of content @p sha256 with extension @p ext:
 *        the first IMAGE_JOB_NAME_HEX hex chars, '.', @p ext.
 * @returns 0, or -1 when @p sha256 is not 64 hex chars or @p out is small.
 */
int image_job_filename(const char *sha256, const char *ext, char *out,
                       size_t out_size);

/**
 * @brief A deterministic UUID-shaped event id for the job of photo
 *        @p photo_id with content @p sha256 for @p store: the same job
 *        always gets the same id, so a re-emitted job is recognisable.
 * @param out receives 36 chars and a NUL.
 */
void image_job_event_id(const char *store, long long photo_id,
                        const char *sha256, char out[37]);

#endif
