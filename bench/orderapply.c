/*
 * orderapply — baseline of bench/order-latency.sh: applies store orders
 * (one JSON object per line on stdin), parsed by the store's platform, to
 * the ledger with orders_apply() directly, no HTTP and no Kafka, and prints
 * per-order latency percentiles: "direct n=N p50_ms=X p99_ms=Y".
 *
 *   orderapply STORE < orders.jsonl      (OMNISYNC_PG names the ledger)
 */
#include "ledger/orders.h"
#include "lib/db.h"
#include "store/platform.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One order: parse, apply.  @returns the milliseconds it took, or -1. */
static double apply_one(PGconn *pg, const struct store_platform *p,
                        const char *store, const json_t *raw)
{
    char err[1024];
    struct order o;
    enum orders_res res;
    double t0 = now_ms();

    if (p->order_parse(raw, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "orderapply: parse: %s\n", err);
        return -1;
    }
    res = orders_apply(pg, store, &o, raw, NULL, NULL, err, sizeof(err));
    order_clear(&o);
    if (res != ORDERS_APPLIED) {
        fprintf(stderr, "orderapply: %s: %s\n", orders_res_name(res), err);
        return -1;
    }
    return now_ms() - t0;
}

/* The platform of @p store, or NULL (printed). */
static const struct store_platform *store_platform(PGconn *pg,
                                                   const char *store)
{
    char name[64], err[1024];
    const struct store_platform *p = NULL;
    int rc =
        orders_store_platform(pg, store, name, sizeof(name), err, sizeof(err));

    if (rc == 0)
        p = store_platform_find(name);
    if (!p)
        fprintf(stderr, "orderapply: store %s: %s\n", store,
                rc < 0   ? err
                : rc > 0 ? "no such store"
                         : "unknown platform");
    return p;
}

int main(int argc, char **argv)
{
    char line[1 << 16], err[1024];
    const struct store_platform *p;
    double *lat = NULL;
    size_t n = 0, cap = 0;
    PGconn *pg;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: orderapply STORE < orders.jsonl\n");
        return 2;
    }
    pg = db_connect(getenv("OMNISYNC_PG"), "orderapply", err, sizeof(err));
    if (!pg) {
        fprintf(stderr, "orderapply: %s\n", err);
        return 1;
    }
    p = store_platform(pg, argv[1]);
    if (!p) {
        PQfinish(pg);
        return 1;
    }
    while (fgets(line, sizeof(line), stdin)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        double ms;

        if (!o)
            continue;
        ms = apply_one(pg, p, argv[1], o);
        json_decref(o);
        if (ms < 0) {
            rc = 1;
            continue;
        }
        if (n == cap) {
            double *nl;

            cap = cap ? cap * 2 : 256;
            nl = realloc(lat, cap * sizeof(*lat));
            if (!nl)
                break;
            lat = nl;
        }
        lat[n++] = ms;
    }
    if (n) {
        qsort(lat, n, sizeof(*lat), cmp_d);
        printf("direct n=%zu p50_ms=%.2f p99_ms=%.2f\n", n, lat[n / 2],
               lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]);
    }
    free(lat);
    PQfinish(pg);
    return rc;
}
