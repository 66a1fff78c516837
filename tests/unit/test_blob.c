/*
 * test_blob — ledger/blob's photo file reader (no database): an allowed
 * image by magic bytes, the size limit and its key in the message, regular
 * files only (a FIFO with no writer is refused without blocking, a
 * directory too), the SHA-256 and content type of what it read.
 */
#include "ledger/blob.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char png[] = {0x89, 'P',  'N', 'G', '\r', '\n',
                                    0x1a, '\n', 0,   0,   0,    13};

static void write_file(const char *path, const void *b, size_t n)
{
    FILE *fp = fopen(path, "wb");

    T_ASSERT(fp != NULL);
    if (!fp)
        return;
    T_ASSERT_EQ(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

static void test_check(void)
{
    char why[256];
    const char *ext = NULL;

    T_ASSERT_EQ(
        blob_photo_check(png, sizeof(png), 100, "k", &ext, why, sizeof(why)),
        0);
    T_ASSERT_STR_EQ(ext, "png");
    T_ASSERT_EQ(blob_photo_check(png, sizeof(png), 11, "images.max_bytes", &ext,
                                 why, sizeof(why)),
                -1);
    T_ASSERT_STR_EQ(why, "too big: 12 bytes > images.max_bytes 11");
    T_ASSERT_EQ(blob_photo_check((const unsigned char *)"hello", 5, 100, "k",
                                 &ext, why, sizeof(why)),
                -1);
    T_ASSERT_STR_EQ(why, "not a JPEG, PNG, GIF or WebP (magic bytes)");
    T_ASSERT_EQ(blob_photo_check((const unsigned char *)"", 0, 100, "k", NULL,
                                 why, sizeof(why)),
                -1);
    T_ASSERT_STR_CONTAINS(why, "empty file");
}

static void test_read(void)
{
    char dir[] = "/tmp/test_blob.XXXXXX", path[256], why[256];
    struct blob_photo ph;

    T_ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/a.png", dir);
    write_file(path, png, sizeof(png));
    T_ASSERT_EQ(blob_photo_read(path, 100, "import.photo_max_bytes", &ph, why,
                                sizeof(why)),
                0);
    T_ASSERT_EQ(ph.len, sizeof(png));
    T_ASSERT(ph.bytes && memcmp(ph.bytes, png, sizeof(png)) == 0);
    T_ASSERT_STR_EQ(ph.content_type, "image/png");
    /* printf '\x89PNG\r\n\x1a\n\0\0\0\r' | sha256sum */
    T_ASSERT_STR_EQ(ph.sha256,
                    "218ad85a233eff829618a6865ab681222b734c62d35a32b3"
                    "eabd5c37d8945f86");
    blob_photo_clear(&ph);
    T_ASSERT(ph.bytes == NULL);

    T_ASSERT_EQ(blob_photo_read(path, 11, "import.photo_max_bytes", &ph, why,
                                sizeof(why)),
                -1);
    T_ASSERT_STR_EQ(why, "too big: 12 bytes > import.photo_max_bytes 11");

    snprintf(path, sizeof(path), "%s/notes.jpg", dir);
    write_file(path, "text\n", 5);
    T_ASSERT_EQ(blob_photo_read(path, 100, "k", &ph, why, sizeof(why)), -1);
    T_ASSERT_STR_EQ(why, "not a JPEG, PNG, GIF or WebP (magic bytes)");
    unlink(path);

    /* No writer: a blocking open would hang here. */
    snprintf(path, sizeof(path), "%s/pipe.png", dir);
    T_ASSERT_EQ(mkfifo(path, 0600), 0);
    T_ASSERT_EQ(blob_photo_read(path, 100, "k", &ph, why, sizeof(why)), -1);
    T_ASSERT_STR_EQ(why, "not a regular file");
    unlink(path);

    T_ASSERT_EQ(blob_photo_read(dir, 100, "k", &ph, why, sizeof(why)), -1);
    T_ASSERT_STR_EQ(why, "not a regular file");

    snprintf(path, sizeof(path), "%s/none.png", dir);
    T_ASSERT_EQ(blob_photo_read(path, 100, "k", &ph, why, sizeof(why)), -1);
    T_ASSERT_STR_EQ(why, "cannot read: No such file or directory");

    snprintf(path, sizeof(path), "%s/a.png", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_check();
    test_read();
    T_DONE();
}
