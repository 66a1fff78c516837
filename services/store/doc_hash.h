/*
 * doc_hash — the hash of a platform document, so a publisher skips
 * payloads the store already holds (remote_map.payload_hash).
 *
 * The SHA-256 (hex) of the document serialised with JSON_COMPACT |
 * JSON_SORT_KEYS, so equal documents hash equal whatever their key order.
 * An archived product is recorded with the hash of DOC_HASH_ARCHIVED_DOC.
 */
#ifndef OMNI_DOC_HASH_H
#define OMNI_DOC_HASH_H

#include <jansson.h>

#define DOC_HASH_LEN 64 /* hex chars, without the NUL */

/* The document an archived product's hash is computed from. */
#define DOC_HASH_ARCHIVED_DOC "{\"archived\":true}"

/**
 * @brief SHA-256 hex of @p doc serialised canonically.
 * @param out receives DOC_HASH_LEN hex chars and a NUL.
 * @returns 0, or -1 when @p doc cannot be serialised.
 */
int doc_hash_compute(const json_t *doc, char out[DOC_HASH_LEN + 1]);

/** @brief The hash recorded for an archived product. */
void doc_hash_archived(char out[DOC_HASH_LEN + 1]);

#endif
