#include "sim_webhook.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"

struct sim_hook_item {
    struct sim_hook_item *next;
    char *url, *body;
};

struct sim_hooks {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thr;
    int started, stop;
    long timeout_ms;
    struct sim_hook_item *head, *tail;
    struct sim_hooks_stats st;
};

static void sim_hook_item_free(struct sim_hook_item *it)
{
    if (!it)
        return;
    free(it->url);
    free(it->body);
    free(it);
}

static size_t sim_hooks_discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

/* The URL's origin ("http://host:port"): the path of a webhook address
 * holds the receiver's secret, which never goes into a log line. */
static const char *sim_hooks_origin(const char *url, char *buf, size_t size)
{
    const char *p = strstr(url, "://");
    const char *end = p ? strchr(p + 3, '/') : NULL;
    int n = end ? (int)(end - url) : (int)strlen(url);

    snprintf(buf, size, "%.*s/...", n, url);
    return buf;
}

static int sim_hooks_post(struct sim_hooks *h, CURL *ch,
                          const struct sim_hook_item *it)
{
    struct curl_slist *hdrs = NULL;
    long code = 0;
    char origin[256];
    CURLcode rc;

    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_reset(ch);
    curl_easy_setopt(ch, CURLOPT_URL, it->url);
    curl_easy_setopt(ch, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ch, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(ch, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(ch, CURLOPT_POSTFIELDSIZE, (long)strlen(it->body));
    curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, sim_hooks_discard);
    curl_easy_setopt(ch, CURLOPT_USERAGENT, "store-sim webhooks");
    rc = curl_easy_perform(ch);
    if (rc == CURLE_OK)
        curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK || code < 200 || code > 299) {
        log_warn("webhook %s: %s (HTTP %ld)",
                 sim_hooks_origin(it->url, origin, sizeof(origin)),
                 rc != CURLE_OK ? curl_easy_strerror(rc) : "bad status", code);
        return -1;
    }
    log_debug("webhook %s: HTTP %ld",
              sim_hooks_origin(it->url, origin, sizeof(origin)), code);
    return 0;
}

static void *sim_hooks_run(void *arg)
{
    struct sim_hooks *h = arg;
    CURL *ch = curl_easy_init();

    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct sim_hook_item *it = h->head;
        int rc;

        if (!it) {
            pthread_cond_wait(&h->cv, &h->mu);
            continue;
        }
        h->head = it->next;
        if (!h->head)
            h->tail = NULL;
        pthread_mutex_unlock(&h->mu);
        rc = ch ? sim_hooks_post(h, ch, it) : -1;
        sim_hook_item_free(it);
        pthread_mutex_lock(&h->mu);
        h->st.queued--;
        if (rc == 0)
            h->st.delivered++;
        else
            h->st.failed++;
    }
    pthread_mutex_unlock(&h->mu);
    curl_easy_cleanup(ch);
    return NULL;
}

struct sim_hooks *sim_hooks_new(long timeout_ms, char *errstr,
                                size_t errstr_size)
{
    struct sim_hooks *h = calloc(1, sizeof(*h));

    if (!h) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->timeout_ms = timeout_ms;
    if (pthread_create(&h->thr, NULL, sim_hooks_run, h) != 0) {
        snprintf(errstr, errstr_size, "cannot start the webhook thread");
        sim_hooks_destroy(h);
        return NULL;
    }
    h->started = 1;
    return h;
}

void sim_hooks_reset(struct sim_hooks *h)
{
    struct sim_hook_item *it, *next;

    pthread_mutex_lock(&h->mu);
    for (it = h->head; it; it = next) {
        next = it->next;
        sim_hook_item_free(it);
    }
    h->head = h->tail = NULL;
    memset(&h->st, 0, sizeof(h->st));
    pthread_mutex_unlock(&h->mu);
}

void sim_hooks_destroy(struct sim_hooks *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->started)
        pthread_join(h->thr, NULL);
    sim_hooks_reset(h);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int sim_hooks_push(struct sim_hooks *h, const char *url, const char *body)
{
    struct sim_hook_item *it = calloc(1, sizeof(*it));

    if (!it)
        return -1;
    it->url = strdup(url);
    it->body = strdup(body);
    if (!it->url || !it->body) {
        sim_hook_item_free(it);
        return -1;
    }
    pthread_mutex_lock(&h->mu);
    if (h->tail)
        h->tail->next = it;
    else
        h->head = it;
    h->tail = it;
    h->st.queued++;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return 0;
}

void sim_hooks_count_drop(struct sim_hooks *h)
{
    pthread_mutex_lock(&h->mu);
    h->st.dropped++;
    pthread_mutex_unlock(&h->mu);
}

void sim_hooks_get_stats(struct sim_hooks *h, struct sim_hooks_stats *st)
{
    pthread_mutex_lock(&h->mu);
    *st = h->st;
    pthread_mutex_unlock(&h->mu);
}

/* --allow-host: the loopback names, then up to SIM_ALLOW_MAX more. */
#define SIM_ALLOW_MAX 8
static char sim_allow_buf[512];
static const char *sim_allow[3 + SIM_ALLOW_MAX] = {"127.0.0.1", "localhost",
                                                   "[::1]"};
static size_t sim_allow_n = 3;

int sim_url_allow_hosts(const char *csv)
{
    char *p, *comma;

    if (!csv || strlen(csv) >= sizeof(sim_allow_buf))
        return -1;
    snprintf(sim_allow_buf, sizeof(sim_allow_buf), "%s", csv);
    for (p = sim_allow_buf; p && *p; p = comma) {
        comma = strchr(p, ',');
        if (comma)
            *comma++ = '\0';
        if (!*p)
            continue;
        if (sim_allow_n == sizeof(sim_allow) / sizeof(sim_allow[0]))
            return -1;
        sim_allow[sim_allow_n++] = p;
    }
    return 0;
}

int sim_url_is_loopback(const char *url)
{
    const char *p;

    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    p = url + 7;
    for (size_t i = 0; i < sim_allow_n; i++) {
        size_t n = strlen(sim_allow[i]);
        if (strncasecmp(p, sim_allow[i], n) == 0 &&
            (p[n] == ':' || p[n] == '/' || p[n] == '\0'))
            return 1;
    }
    return 0;
}
