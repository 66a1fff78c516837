/*
 * fuzz_headers — libFuzzer target for the rate-limit headers of a store's
 * answer: the API-Usage-Limit value (store/insales/insales.c
 * insales_usage_parse) and Retry-After (store/store_client.c, reached
 * through store_result_classify() of a 429 and a 503).
 *
 * The input up to the first newline is the API-Usage-Limit value, the
 * rest the Retry-After value (each NUL-terminated, as the client copies
 * them from the header lines).
 */
#include "store/insales/insales.h"
#include "store/store_client.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n1 = nl ? (size_t)(nl - data) : size;
    struct store_result res;
    char *usage, *retry;
    long used, limit;

    usage = malloc(n1 + 1);
    retry = malloc(size - n1 + 1);
    if (!usage || !retry) {
        free(usage);
        free(retry);
        return 0;
    }
    memcpy(usage, data, n1);
    usage[n1] = '\0';
    if (nl) {
        memcpy(retry, nl + 1, size - n1 - 1);
        retry[size - n1 - 1] = '\0';
    } else {
        retry[0] = '\0';
    }
    if (insales_usage_parse(usage, &used, &limit) == 0 &&
        (used < 0 || limit < 1))
        abort(); /* the contract: 0 only with a sane pair */
    memset(&res, 0, sizeof(res));
    store_result_classify(&res, 0, 429, retry, 5, 600);
    if (res.retry_after_s < 1 || res.retry_after_s > 600)
        abort(); /* always clamped into [1, max] */
    store_result_classify(&res, 0, 503, nl ? retry : NULL, 0, 600);
    if (res.retry_after_s < 1 || res.retry_after_s > 600)
        abort();
    free(usage);
    free(retry);
    return 0;
}
