#include "store/doc_hash.h"

#include "lib/hash.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(DOC_HASH_LEN == HASH_SHA256_HEX_LEN,
               "a document hash is a SHA-256 hex");

int doc_hash_compute(const json_t *doc, char out[DOC_HASH_LEN + 1])
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    out[0] = '\0';
    if (!s)
        return -1;
    hash_sha256_hex(s, strlen(s), out);
    free(s);
    return 0;
}

void doc_hash_archived(char out[DOC_HASH_LEN + 1])
{
    hash_sha256_hex(DOC_HASH_ARCHIVED_DOC, strlen(DOC_HASH_ARCHIVED_DOC), out);
}
