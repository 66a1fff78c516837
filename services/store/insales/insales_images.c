#include "store/insales/insales_images.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *insales_images_doc(const unsigned char *bytes, size_t len,
                           const char *filename, long position)
{
    size_t b64len =
        sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    json_t *doc;

    if (!b64)
        return NULL;
    sodium_bin2base64(b64, b64len, bytes, len, sodium_base64_VARIANT_ORIGINAL);
    doc = json_pack("{s:s,s:s,s:I}", "attachment", b64, "filename", filename,
                    "position", (json_int_t)position);
    free(b64);
    return doc;
}

int insales_images_parse(const json_t *list, struct store_images *out,
                         char *errstr, size_t errstr_size)
{
    struct store_image img;
    const json_t *o, *id;
    size_t i;

    if (!json_is_array(list)) {
        snprintf(errstr, errstr_size, "images list: not an array");
        return -1;
    }
    json_array_foreach(list, i, o)
    {
        id = json_object_get(o, "id");
        img.id = json_is_integer(id) ? (long long)json_integer_value(id) : 0;
        img.filename =
            (char *)json_string_value(json_object_get(o, "filename"));
        img.position = (long)json_integer_value(json_object_get(o, "position"));
        if (store_images_add(out, &img) < 0) {
            snprintf(errstr, errstr_size, "images list: out of memory");
            return -1;
        }
    }
    return 0;
}

enum outcome insales_images_list(struct store_call *c, long long product_id,
                                 struct store_images *out)
{
    struct store_req_args a;
    char err[256];
    enum outcome o;

    memset(&a, 0, sizeof(a));
    a.id = product_id;
    o = store_call_run(c, STORE_OP_IMAGES_LIST, &a);
    if (o == OUTCOME_OK &&
        insales_images_parse(c->last.body, out, err, sizeof(err)) < 0)
        o = store_call_fail(c, OUTCOME_RETRY, "%s", err);
    return o;
}

enum outcome insales_images_upload(struct store_call *c, long long product_id,
                                   const unsigned char *bytes, size_t len,
                                   const char *filename, long position,
                                   long long *id)
{
    struct store_req_args a;
    const json_t *jid;
    enum outcome o;

    *id = 0;
    memset(&a, 0, sizeof(a));
    a.id = product_id;
    a.payload = insales_images_doc(bytes, len, filename, position);
    if (!a.payload)
        return store_call_fail(c, OUTCOME_RETRY, "out of memory");
    o = store_call_run(c, STORE_OP_IMAGE_CREATE, &a);
    json_decref(a.payload);
    if (o != OUTCOME_OK)
        return o;
    jid = json_object_get(c->last.body, "id");
    *id = json_is_integer(jid) ? (long long)json_integer_value(jid) : 0;
    if (*id <= 0)
        return store_call_fail(c, OUTCOME_RETRY,
                               "image create: no id in answer");
    return OUTCOME_OK;
}

enum outcome insales_images_delete(struct store_call *c, long long product_id,
                                   long long id)
{
    struct store_req_args a;

    memset(&a, 0, sizeof(a));
    a.id = product_id;
    a.sub_id = id;
    return store_call_run(c, STORE_OP_IMAGE_DELETE, &a);
}

enum outcome insales_images_position(struct store_call *c, long long product_id,
                                     long long id, long position)
{
    struct store_req_args a;
    enum outcome o;

    memset(&a, 0, sizeof(a));
    a.id = product_id;
    a.sub_id = id;
    a.payload = json_pack("{s:I}", "position", (json_int_t)position);
    if (!a.payload)
        return store_call_fail(c, OUTCOME_RETRY, "out of memory");
    o = store_call_run(c, STORE_OP_IMAGE_UPDATE, &a);
    json_decref(a.payload);
    return o;
}
