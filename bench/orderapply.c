/*
 * orderapply — baseline of bench/order-latency.sh: applies store orders
 * (one JSON object per line on stdin) to the ledger with orders_apply()
 * directly, no HTTP and no Kafka, and prints per-order latency
 * percentiles: "direct n=N p50_ms=X p99_ms=Y".
 *
 *   orderapply STORE < orders.jsonl      (OMNISYNC_PG names the ledger)
 */
#include "lib/db.h"
#include "ledger/orders.h"

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

int main(int argc, char **argv)
{
    char line[1 << 16], err[1024];
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
    while (fgets(line, sizeof(line), stdin)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        enum orders_res res;
        double t0;

        if (!o)
            continue;
        t0 = now_ms();
        res = orders_apply(pg, argv[1], o, NULL, NULL, err, sizeof(err));
        if (res != ORDERS_APPLIED) {
            fprintf(stderr, "orderapply: %s: %s\n", orders_res_name(res), err);
            rc = 1;
        } else {
            if (n == cap) {
                double *nl;

                cap = cap ? cap * 2 : 256;
                nl = realloc(lat, cap * sizeof(*lat));
                if (!nl) {
                    json_decref(o);
                    break;
                }
                lat = nl;
            }
            lat[n++] = now_ms() - t0;
        }
        json_decref(o);
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
