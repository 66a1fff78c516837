/* Unit tests of image_job: encode/decode, magic bytes, filename, id. */
#include "events/event.h"
#include "events/image_job.h"
#include "store/insales/insales.h"
#include "t.h"

#include <stdlib.h>

#include <string.h>

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *job_data(void)
{
    struct image_job j = {"shop", 7, 12, 200000001, 1, "/p/a.png", SHA};

    return image_job_encode(&j);
}

static void test_roundtrip(void)
{
    json_t *d = job_data();
    struct image_job j;
    char err[256];

    T_ASSERT(d != NULL);
    T_ASSERT_EQ(image_job_decode(d, "12", "shop", &j, err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(j.store, "shop");
    T_ASSERT_EQ(j.photo_id, 7);
    T_ASSERT_EQ(j.product_id, 12);
    T_ASSERT_EQ(j.remote_product_id, 200000001);
    T_ASSERT_EQ(j.position, 1);
    T_ASSERT_STR_EQ(j.path, "/p/a.png");
    T_ASSERT_STR_EQ(j.sha256, SHA);
    json_decref(d);
}

static void test_invalid(void)
{
    json_t *d;
    char err[256];

    d = job_data();
    T_ASSERT_EQ(image_job_decode(d, "13", "shop", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.product_id");
    T_ASSERT_EQ(image_job_decode(d, "12", "other", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.store");
    T_ASSERT_EQ(image_job_decode(d, "12", NULL, NULL, err, sizeof(err)), -1);
    json_object_set_new(d, "extra", json_true());
    T_ASSERT_EQ(image_job_decode(d, "12", "shop", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.extra");
    json_decref(d);

    d = job_data();
    json_object_set_new(d, "sha256", json_string("ABC"));
    T_ASSERT_EQ(image_job_decode(d, "12", "shop", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.sha256");
    json_decref(d);

    d = job_data();
    json_object_set_new(d, "path", json_string("rel/a.png"));
    T_ASSERT_EQ(image_job_decode(d, "12", "shop", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.path");
    json_decref(d);

    d = job_data();
    json_object_set_new(d, "position", json_integer(0));
    T_ASSERT_EQ(image_job_decode(d, "12", "shop", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "data.position");
    json_object_set_new(d, "position", json_string("1"));
    T_ASSERT_EQ(image_job_decode(d, "12", "shop", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "expected integer");
    json_object_del(d, "position");
    T_ASSERT_EQ(image_job_decode(d, "12", "shop", NULL, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "missing");
    json_decref(d);

    T_ASSERT_EQ(image_job_decode(NULL, "12", "shop", NULL, err, sizeof(err)),
                -1);
}

static void test_sniff(void)
{
    static const unsigned char jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10};
    static const unsigned char png[] = {0x89, 'P',  'N',  'G', '\r',
                                        '\n', 0x1a, '\n', 0};
    static const unsigned char webp[] = "RIFF\x10\0\0\0WEBPVP8 ";
    static const unsigned char riff[] = "RIFF\x10\0\0\0WAVEfmt ";

    T_ASSERT_STR_EQ(image_job_sniff(jpg, sizeof(jpg)), "jpg");
    T_ASSERT_STR_EQ(image_job_sniff(png, sizeof(png)), "png");
    T_ASSERT_STR_EQ(image_job_sniff((const unsigned char *)"GIF89a..", 8),
                    "gif");
    T_ASSERT_STR_EQ(image_job_sniff((const unsigned char *)"GIF87a", 6), "gif");
    T_ASSERT_STR_EQ(image_job_sniff(webp, 16), "webp");
    T_ASSERT(image_job_sniff(riff, 16) == NULL);
    T_ASSERT(image_job_sniff((const unsigned char *)"hello world", 11) == NULL);
    T_ASSERT(image_job_sniff(jpg, 2) == NULL);
    T_ASSERT(image_job_sniff(png, 7) == NULL);
    T_ASSERT(image_job_sniff(NULL, 0) == NULL);
}

static void test_filename(void)
{
    char out[IMAGE_JOB_NAME_MAX];
    char tiny[8];

    T_ASSERT_EQ(image_job_filename(SHA, "png", out, sizeof(out)), 0);
    T_ASSERT_STR_EQ(out, "0123456789abcdef.png");
    T_ASSERT_EQ(image_job_filename(SHA, "webp", out, sizeof(out)), 0);
    T_ASSERT_STR_EQ(out, "0123456789abcdef.webp");
    T_ASSERT_EQ(image_job_filename("abc", "png", out, sizeof(out)), -1);
    T_ASSERT_EQ(image_job_filename(SHA, "", out, sizeof(out)), -1);
    T_ASSERT_EQ(image_job_filename(SHA, "png", tiny, sizeof(tiny)), -1);
}

static void test_event_id(void)
{
    char a[37], b[37], c[37];

    image_job_event_id("shop", 7, SHA, a);
    image_job_event_id("shop", 7, SHA, b);
    image_job_event_id("shop", 8, SHA, c);
    T_ASSERT_EQ(strlen(a), 36);
    T_ASSERT_STR_EQ(a, b);
    T_ASSERT(strcmp(a, c) != 0);
    T_ASSERT(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    T_ASSERT(a[14] == '5');
}

/* An images.job envelope goes through event_decode() (event.c). */
static void test_envelope(void)
{
    json_t *d = job_data();
    char *dj = json_dumps(d, JSON_COMPACT), *env, err[256], id[37];
    struct event ev;

    image_job_event_id("shop", 7, SHA, id);
    env = event_build(IMAGE_JOB_EVENT, id, "2026-11-27T10:00:00.000+00:00",
                      "shop", "12", dj, err, sizeof(err));
    T_ASSERT(env != NULL);
    if (env) {
        T_ASSERT_EQ(event_decode(&ev, env, strlen(env), err, sizeof(err)), 0);
        T_ASSERT_STR_EQ(ev.type, IMAGE_JOB_EVENT);
        event_clear(&ev);
        free(env);
    }
    env = event_build(IMAGE_JOB_EVENT, id, "2026-11-27T10:00:00.000+00:00",
                      "other", "12", dj, err, sizeof(err));
    T_ASSERT(env != NULL);
    if (env) {
        T_ASSERT_EQ(event_decode(&ev, env, strlen(env), err, sizeof(err)), -1);
        T_ASSERT_STR_CONTAINS(err, "data.store");
        free(env);
    }
    free(dj);
    json_decref(d);
}

/* The adapter operations image-uploader and catalog-publisher added. */
static void test_insales_ops(void)
{
    struct store_req_args a;
    struct store_http_req r;
    char err[256];
    char *body;

    memset(&a, 0, sizeof(a));
    a.id = 42;
    T_ASSERT_EQ(insales_request_build(STORE_OP_PRODUCT_RECOVER, &a, &r, err,
                                      sizeof(err)),
                0);
    T_ASSERT_STR_EQ(r.method, "POST");
    T_ASSERT_STR_EQ(r.path, "/admin/products/42/recover.json");
    body = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
    T_ASSERT_STR_EQ(body, "{}"); /* sent with the JSON Content-Type */
    free(body);
    json_decref(r.body);
    a.sub_id = 7;
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_IMAGE_DELETE, &a, &r, err, sizeof(err)),
        0);
    T_ASSERT_STR_EQ(r.method, "DELETE");
    T_ASSERT_STR_EQ(r.path, "/admin/products/42/images/7.json");
    T_ASSERT(r.body == NULL);
    a.sub_id = 0;
    T_ASSERT_EQ(
        insales_request_build(STORE_OP_IMAGE_DELETE, &a, &r, err, sizeof(err)),
        -1);
    a.id = 0;
    T_ASSERT_EQ(insales_request_build(STORE_OP_PRODUCT_RECOVER, &a, &r, err,
                                      sizeof(err)),
                -1);
}

int main(void)
{
    test_roundtrip();
    test_invalid();
    test_sniff();
    test_filename();
    test_event_id();
    test_envelope();
    test_insales_ops();
    T_DONE();
}
