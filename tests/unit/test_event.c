/*
 * test_event — the envelope codec against tests/fixtures/events (run from
 * the repository root, or set OMNISYNC_FIXTURES to the events folder).
 */
#include "events/event.h"
#include "t.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
        fseek(fp, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf) {
            buf[n] = '\0';
            *len = (size_t)n;
        }
    }
    fclose(fp);
    return buf;
}

/* Run every case of DIR/<kind>; returns the number of cases seen. */
static int run_cases(const char *root, const char *kind)
{
    char dir[512], path[1024], err[512];
    struct dirent *de;
    DIR *d;
    int cases = 0;

    snprintf(dir, sizeof(dir), "%s/%s", root, kind);
    d = opendir(dir);
    T_CHECK(d != NULL, "cannot open %s", dir);
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        struct event ev;
        size_t len = 0, elen = 0;
        char *input, *want;
        int rc;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s/input.json", dir, de->d_name);
        input = read_file(path, &len);
        T_CHECK(input != NULL, "cannot read %s", path);
        if (!input)
            continue;
        cases++;
        err[0] = '\0';
        rc = event_decode(&ev, input, len, err, sizeof(err));
        if (strcmp(kind, "valid") == 0) {
            T_CHECK(rc == 0, "%s: expected valid, got: %s", de->d_name, err);
            if (rc == 0) {
                /* Round trip: rebuilding from the decoded fields gives an
                 * event that decodes again with the same fields. */
                char *data = json_dumps(ev.data, JSON_COMPACT);
                char *built = event_build(ev.type, ev.id, ev.ts, ev.store,
                                          ev.key, data, err, sizeof(err));
                struct event ev2;

                T_CHECK(built != NULL, "%s: rebuild: %s", de->d_name, err);
                if (built) {
                    rc = event_decode(&ev2, built, strlen(built), err,
                                      sizeof(err));
                    T_CHECK(rc == 0, "%s: rebuilt: %s", de->d_name, err);
                    if (rc == 0) {
                        T_ASSERT_STR_EQ(ev2.id, ev.id);
                        T_ASSERT_STR_EQ(ev2.key, ev.key);
                        T_ASSERT(json_equal(ev2.data, ev.data));
                        T_ASSERT((ev.store == NULL) == (ev2.store == NULL));
                        event_clear(&ev2);
                    }
                }
                free(built);
                free(data);
                event_clear(&ev);
            }
        } else {
            snprintf(path, sizeof(path), "%s/%s/error", dir, de->d_name);
            want = read_file(path, &elen);
            T_CHECK(want != NULL, "cannot read %s", path);
            T_CHECK(rc == -1, "%s: expected invalid", de->d_name);
            T_CHECK(ev.root == NULL, "%s: event left filled", de->d_name);
            if (rc == 0)
                event_clear(&ev);
            if (want) {
                while (elen &&
                       (want[elen - 1] == '\n' || want[elen - 1] == '\r'))
                    want[--elen] = '\0';
                T_CHECK(strstr(err, want) != NULL,
                        "%s: error \"%s\" does not contain \"%s\"", de->d_name,
                        err, want);
            }
            free(want);
        }
        free(input);
    }
    closedir(d);
    return cases;
}

static void test_build(void)
{
    char errbuf[256];
    char *err = errbuf; /* a pointer: t.h's string checks test for NULL */
    char *s;
    struct event ev;

    s = event_build("stock.available", "5e8f0c1d-7a2b-4e3c-8d9f-1a2b3c4d5e6f",
                    "2026-11-27T10:15:31.456+00:00", "shop", "shop:5",
                    "{\"variant_id\":5,\"sku\":\"A\",\"available\":1,"
                    "\"on_hand\":1,\"reserved\":0,\"safety_stock\":0,"
                    "\"price\":null,\"old_price\":null}",
                    err, sizeof(errbuf));
    T_ASSERT(s != NULL);
    /* Envelope keys in the contract's order, compact. */
    T_ASSERT(s && strncmp(s,
                          "{\"type\":\"stock.available\",\"v\":1,\"id\":"
                          "\"5e8f0c1d-7a2b-4e3c-8d9f-1a2b3c4d5e6f\",\"ts\":"
                          "\"2026-11-27T10:15:31.456+00:00\",\"store\":"
                          "\"shop\",\"key\":\"shop:5\",\"data\":{",
                          120) == 0);
    T_ASSERT_EQ(s ? event_decode(&ev, s, strlen(s), err, sizeof(errbuf)) : -1,
                0);
    if (s)
        event_clear(&ev);
    free(s);

    s = event_build("catalog.product", "5e8f0c1d-7a2b-4e3c-8d9f-1a2b3c4d5e6f",
                    "2026-11-27T10:15:31.456+00:00", NULL, "1", "{}", err,
                    sizeof(errbuf));
    T_ASSERT(s && strstr(s, "\"store\":null") != NULL);
    free(s);

    T_ASSERT(event_build("t", "i", "ts", NULL, "k", "[1]", err,
                         sizeof(errbuf)) == NULL);
    T_ASSERT_STR_CONTAINS(err, "data: expected object");
    T_ASSERT(event_build("t", "i", "ts", NULL, "k", "{bad", err,
                         sizeof(errbuf)) == NULL);
    T_ASSERT_STR_CONTAINS(err, "data: invalid JSON");
    T_ASSERT(event_build("t", "i", "ts", NULL, NULL, "{}", err,
                         sizeof(errbuf)) == NULL);
    T_ASSERT_STR_CONTAINS(err, "missing key");
    /* Data is published as written, whatever its type says. */
    s = event_build("unknown.type", "i", "ts", NULL, "k", "{\"a\":1}", err,
                    sizeof(errbuf));
    T_ASSERT(s != NULL);
    free(s);
    event_clear(NULL);
}

int main(void)
{
    const char *root = getenv("OMNISYNC_FIXTURES");

    if (!root || !*root)
        root = "tests/fixtures/events";
    T_CHECK(run_cases(root, "valid") >= 4, "too few valid cases");
    T_CHECK(run_cases(root, "invalid") >= 20, "too few invalid cases");
    test_build();
    T_DONE();
}
