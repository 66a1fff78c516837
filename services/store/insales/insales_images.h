/*
 * insales_images — product images for inSales (platform.h images_list,
 * image_upload, image_delete): GET/POST /admin/products/{id}/images.json,
 * DELETE .../images/{id}.json.  An upload sends the bytes as a base64
 * "attachment" with the "filename" and "position"; the store keeps the
 * filename, so a caller can find an upload whose answer was lost.
 */
#ifndef OMNI_INSALES_IMAGES_H
#define OMNI_INSALES_IMAGES_H

#include "store/platform.h"

#include <jansson.h>
#include <stddef.h>

/**
 * @brief The upload document {"attachment" (base64), "filename",
 *        "position"}.
 * @returns a new object, or NULL when out of memory.
 */
json_t *insales_images_doc(const unsigned char *bytes, size_t len,
                           const char *filename, long position);

/**
 * @brief Append the images of an images list (a JSON array) to @p out.
 * @returns 0, or -1 with errstr (not an array, out of memory).
 */
int insales_images_parse(const json_t *list, struct store_images *out,
                         char *errstr, size_t errstr_size);

/** @brief platform.h images_list. */
enum outcome insales_images_list(struct store_call *c, long long product_id,
                                 struct store_images *out);

/** @brief platform.h image_upload. */
enum outcome insales_images_upload(struct store_call *c, long long product_id,
                                   const unsigned char *bytes, size_t len,
                                   const char *filename, long position,
                                   long long *id);

/** @brief platform.h image_position (PUT .../images/{id}.json with
 *         {"image":{"position":N}}). */
enum outcome insales_images_position(struct store_call *c, long long product_id,
                                     long long id, long position);

/** @brief platform.h image_delete. */
enum outcome insales_images_delete(struct store_call *c, long long product_id,
                                   long long id);

#endif
