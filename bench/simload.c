/*
 * simload — a small HTTP load driver for store-sim (loopback only).
 *
 *   simload --base http://127.0.0.1:PORT [--user L:PW] [--threads N]
 *           [--requests N] [--seconds S] PATH...
 *
 * Each thread keeps one keep-alive connection and cycles through the
 * PATHs (GET).  Stops after --requests in total or --seconds, whichever
 * comes first, then prints requests/second and latency percentiles.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/cfg.h"

struct sl_shared {
    const char *base, *user;
    char **paths;
    int npaths;
    long max_requests;
    double deadline;
    pthread_mutex_t mu;
    long issued;
};

struct sl_thread {
    pthread_t thr;
    struct sl_shared *sh;
    int idx;
    long done, errors, cap;
    double *lat;
};

static double sl_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sl_discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static int sl_take(struct sl_shared *sh)
{
    int ok;

    pthread_mutex_lock(&sh->mu);
    ok = sh->issued < sh->max_requests && sl_now() < sh->deadline;
    if (ok)
        sh->issued++;
    pthread_mutex_unlock(&sh->mu);
    return ok;
}

static void *sl_run(void *arg)
{
    struct sl_thread *t = arg;
    struct sl_shared *sh = t->sh;
    CURL *ch = curl_easy_init();
    char url[2048];
    long i = t->idx;

    if (!ch)
        return NULL;
    curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, sl_discard);
    curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, 10000L);
    if (sh->user)
        curl_easy_setopt(ch, CURLOPT_USERPWD, sh->user);
    while (sl_take(sh)) {
        long code = 0;
        double t0 = sl_now();
        snprintf(url, sizeof(url), "%s%s", sh->base,
                 sh->paths[i++ % sh->npaths]);
        curl_easy_setopt(ch, CURLOPT_URL, url);
        if (curl_easy_perform(ch) == CURLE_OK)
            curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code > 299)
            t->errors++;
        if (t->done < t->cap)
            t->lat[t->done] = sl_now() - t0;
        t->done++;
    }
    curl_easy_cleanup(ch);
    return NULL;
}

static int sl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int sl_usage(void)
{
    fprintf(stderr, "usage: simload --base URL [--user L:PW] [--threads N] "
                    "[--requests N] [--seconds S] PATH...\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sl_shared sh;
    struct sl_thread *ts;
    long long threads = 4, requests = 20000, seconds = 10;
    double t0, el, *all;
    long done = 0, errors = 0, n = 0;
    int i;

    memset(&sh, 0, sizeof(sh));
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return sl_usage();
        if (strcmp(argv[i], "--base") == 0)
            sh.base = v;
        else if (strcmp(argv[i], "--user") == 0)
            sh.user = v;
        else if (strcmp(argv[i], "--threads") == 0 &&
                 cfg_parse_ll(v, &threads) == 0 && threads > 0 &&
                 threads <= 256)
            continue;
        else if (strcmp(argv[i], "--requests") == 0 &&
                 cfg_parse_ll(v, &requests) == 0 && requests > 0 &&
                 requests <= 10000000)
            continue;
        else if (strcmp(argv[i], "--seconds") == 0 &&
                 cfg_parse_ll(v, &seconds) == 0 && seconds > 0 &&
                 seconds <= 600)
            continue;
        else
            return sl_usage();
    }
    if (!sh.base || i >= argc)
        return sl_usage();
    if (strncasecmp(sh.base, "http://127.0.0.1", 16) != 0 &&
        strncasecmp(sh.base, "http://localhost", 16) != 0) {
        fprintf(stderr, "simload: loopback targets only\n");
        return 2;
    }
    sh.paths = argv + i;
    sh.npaths = argc - i;
    sh.max_requests = (long)requests;
    pthread_mutex_init(&sh.mu, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ts = calloc((size_t)threads, sizeof(*ts));
    if (!ts)
        return 1;
    t0 = sl_now();
    sh.deadline = t0 + (double)seconds;
    for (i = 0; i < threads; i++) {
        ts[i].sh = &sh;
        ts[i].idx = i;
        ts[i].cap = (long)requests;
        ts[i].lat = calloc((size_t)requests, sizeof(double));
        if (!ts[i].lat || pthread_create(&ts[i].thr, NULL, sl_run, &ts[i])) {
            fprintf(stderr, "simload: cannot start thread\n");
            return 1;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(ts[i].thr, NULL);
        done += ts[i].done;
        errors += ts[i].errors;
    }
    el = sl_now() - t0;
    all = calloc((size_t)done + 1, sizeof(double));
    for (i = 0; all && i < threads; i++) {
        long k = ts[i].done < ts[i].cap ? ts[i].done : ts[i].cap;
        memcpy(all + n, ts[i].lat, (size_t)k * sizeof(double));
        n += k;
    }
    if (all && n > 0)
        qsort(all, (size_t)n, sizeof(double), sl_cmp);
    printf("simload: %ld requests, %ld errors, %lld threads, %.2f s: "
           "%.0f requests/second (p50 %.2f ms, p99 %.2f ms)\n",
           done, errors, threads, el, el > 0 ? (double)done / el : 0.0,
           n ? all[n / 2] * 1000 : 0.0, n ? all[n * 99 / 100] * 1000 : 0.0);
    for (i = 0; i < threads; i++)
        free(ts[i].lat);
    free(ts);
    free(all);
    curl_global_cleanup();
    pthread_mutex_destroy(&sh.mu);
    return errors ? 1 : 0;
}
