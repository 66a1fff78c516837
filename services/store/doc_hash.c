#include "store/doc_hash.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void doc_hash_text(const char *s, char out[DOC_HASH_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, DOC_HASH_LEN + 1, h, sizeof(h));
}

int doc_hash_compute(const json_t *doc, char out[DOC_HASH_LEN + 1])
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    out[0] = '\0';
    if (!s)
        return -1;
    doc_hash_text(s, out);
    free(s);
    return 0;
}

void doc_hash_archived(char out[DOC_HASH_LEN + 1])
{
    doc_hash_text(DOC_HASH_ARCHIVED_DOC, out);
}
