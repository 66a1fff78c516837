#include "events/image_job.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int ij_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ij_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

static int ij_is_hex64(const char *s)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; s[i]; i++)
        if (!(s[i] >= '0' && s[i] <= '9') && !(s[i] >= 'a' && s[i] <= 'f'))
            return 0;
    return i == IMAGE_JOB_SHA256_LEN;
}

json_t *image_job_encode(const struct image_job *j)
{
    if (!j->store || !j->path || !j->sha256)
        return NULL;
    return json_pack(
        "{s:s,s:I,s:I,s:I,s:I,s:s,s:s}", "store", j->store, "photo_id",
        (json_int_t)j->photo_id, "product_id", (json_int_t)j->product_id,
        "remote_product_id", (json_int_t)j->remote_product_id, "position",
        (json_int_t)j->position, "path", j->path, "sha256", j->sha256);
}

static const char *const ij_keys[] = {
    "store",    "photo_id", "product_id", "remote_product_id",
    "position", "path",     "sha256",     NULL,
};

static int ij_int(const json_t *data, const char *name, long long *out,
                  char *errstr, size_t errstr_size)
{
    const json_t *v = json_object_get(data, name);

    if (!v)
        return ij_fail(errstr, errstr_size, "data.%s: missing", name);
    if (!json_is_integer(v))
        return ij_fail(errstr, errstr_size, "data.%s: expected integer", name);
    *out = (long long)json_integer_value(v);
    if (*out <= 0)
        return ij_fail(errstr, errstr_size, "data.%s: must be > 0", name);
    return 0;
}

static int ij_str(const json_t *data, const char *name, const char **out,
                  char *errstr, size_t errstr_size)
{
    const json_t *v = json_object_get(data, name);

    if (!v)
        return ij_fail(errstr, errstr_size, "data.%s: missing", name);
    if (!json_is_string(v))
        return ij_fail(errstr, errstr_size, "data.%s: expected string", name);
    *out = json_string_value(v);
    if (!**out)
        return ij_fail(errstr, errstr_size, "data.%s: empty", name);
    return 0;
}

int image_job_decode(const json_t *data, const char *key, const char *store,
                     struct image_job *j, char *errstr, size_t errstr_size)
{
    struct image_job tmp;
    const char *k;
    const json_t *v;
    char pid[32];
    size_t i;

    if (!j)
        j = &tmp;
    memset(j, 0, sizeof(*j));
    if (!json_is_object(data))
        return ij_fail(errstr, errstr_size, "data: expected object");
    json_object_foreach((json_t *)data, k, v)
    {
        for (i = 0; ij_keys[i]; i++)
            if (strcmp(ij_keys[i], k) == 0)
                break;
        if (!ij_keys[i])
            return ij_fail(errstr, errstr_size, "data.%s: unknown key", k);
    }
    if (ij_str(data, "store", &j->store, errstr, errstr_size) != 0 ||
        ij_int(data, "photo_id", &j->photo_id, errstr, errstr_size) != 0 ||
        ij_int(data, "product_id", &j->product_id, errstr, errstr_size) != 0 ||
        ij_int(data, "remote_product_id", &j->remote_product_id, errstr,
               errstr_size) != 0 ||
        ij_int(data, "position", &j->position, errstr, errstr_size) != 0 ||
        ij_str(data, "path", &j->path, errstr, errstr_size) != 0 ||
        ij_str(data, "sha256", &j->sha256, errstr, errstr_size) != 0)
        return -1;
    if (j->path[0] != '/')
        return ij_fail(errstr, errstr_size, "data.path: not absolute");
    if (!ij_is_hex64(j->sha256))
        return ij_fail(errstr, errstr_size,
                       "data.sha256: expected 64 lower-case hex chars");
    if (!store || strcmp(store, j->store) != 0)
        return ij_fail(errstr, errstr_size,
                       "data.store: '%s' differs from the envelope's store",
                       j->store);
    snprintf(pid, sizeof(pid), "%lld", j->product_id);
    if (!key || strcmp(key, pid) != 0)
        return ij_fail(errstr, errstr_size,
                       "data.product_id: %lld differs from the key",
                       j->product_id);
    return 0;
}

const char *image_job_sniff(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "jpg";
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "gif";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "webp";
    return NULL;
}

int image_job_filename(const char *sha256, const char *ext, char *out,
                       size_t out_size)
{
    int n;

    if (!ij_is_hex64(sha256) || !ext || !*ext)
        return -1;
    n = snprintf(out, out_size, "%.*s.%s", IMAGE_JOB_NAME_HEX, sha256, ext);
    return n > 0 && (size_t)n < out_size ? 0 : -1;
}

void image_job_event_id(const char *store, long long photo_id,
                        const char *sha256, char out[37])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    char buf[512];
    int n;

    n = snprintf(buf, sizeof(buf), "%s\n%lld\n%s", store ? store : "", photo_id,
                 sha256 ? sha256 : "");
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    crypto_hash_sha256(h, (const unsigned char *)buf, (unsigned long long)n);
    /* A version-5-style UUID shape from the hash (name-based). */
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    sodium_bin2hex(hex, sizeof(hex), h, 16);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}
