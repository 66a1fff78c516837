/*
 * test_store_client — result mapping for every status class and for curl
 * failures (a closed port, a socket that never answers), settings checks,
 * and that the password never reaches a result.
 */
#include "store/insales/insales.h"
#include "store/store_client.h"
#include "t.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#define SECRET "s3cr3t-PaSsWoRd"

static enum outcome classify(long status, const char *ra, long *retry,
                             char *reason, size_t rsize)
{
    struct store_result r;

    memset(&r, 0, sizeof(r));
    store_result_classify(&r, CURLE_OK, status, ra, 150, 600);
    *retry = r.retry_after_s;
    snprintf(reason, rsize, "%s", r.reason);
    T_ASSERT_EQ(r.status, status);
    return r.res;
}

/* An HTTP date @p ahead seconds from now in one of RFC 9110's three forms:
 * IMF-fixdate, the obsolete RFC 850 and asctime. */
static void http_date(int form, long ahead, char *out, size_t size)
{
    time_t at = time(NULL) + ahead;
    struct tm tm;

    gmtime_r(&at, &tm);
    if (form == 0)
        strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    else if (form == 1) {
        char day[16], mon[8], hms[16];

        strftime(day, sizeof(day), "%A", &tm);
        strftime(mon, sizeof(mon), "%b", &tm);
        strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
        snprintf(out, size, "%s, %02d-%s-%02d %s GMT", day, tm.tm_mday, mon,
                 tm.tm_year % 100, hms);
    } else
        strftime(out, size, "%a %b %e %H:%M:%S %Y", &tm);
}

/* Retry-After as an HTTP date some seconds ahead: the seconds left. */
static void test_retry_after_dates(void)
{
    char date[64], why[256];
    long ra;
    int form;

    for (form = 0; form < 3; form++) {
        http_date(form, 120, date, sizeof(date));
        T_ASSERT_EQ(classify(429, date, &ra, why, sizeof(why)), OUTCOME_PAUSED);
        T_ASSERT(ra >= 118 && ra <= 120);
        http_date(form, 120, date, sizeof(date));
        T_ASSERT_EQ(classify(503, date, &ra, why, sizeof(why)), OUTCOME_PAUSED);
        T_ASSERT(ra >= 118 && ra <= 120);
    }
    /* far ahead: capped like a number */
    http_date(0, 86400, date, sizeof(date));
    T_ASSERT_EQ(classify(429, date, &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 600);
}

static void test_status_mapping(void)
{
    char why[256];
    const char *w = why;
    long ra;

    T_ASSERT_EQ(classify(200, NULL, &ra, why, sizeof(why)), OUTCOME_OK);
    T_ASSERT_EQ(classify(201, NULL, &ra, why, sizeof(why)), OUTCOME_OK);
    T_ASSERT_EQ(classify(204, NULL, &ra, why, sizeof(why)), OUTCOME_OK);
    T_ASSERT_EQ(classify(401, NULL, &ra, why, sizeof(why)), OUTCOME_REJECTED);
    T_ASSERT_STR_CONTAINS(w, "401");
    T_ASSERT_EQ(classify(403, NULL, &ra, why, sizeof(why)), OUTCOME_REJECTED);
    T_ASSERT_EQ(classify(404, NULL, &ra, why, sizeof(why)), OUTCOME_REJECTED);
    T_ASSERT_EQ(classify(422, NULL, &ra, why, sizeof(why)), OUTCOME_REJECTED);
    T_ASSERT_EQ(classify(400, NULL, &ra, why, sizeof(why)), OUTCOME_REJECTED);
    T_ASSERT_EQ(classify(301, NULL, &ra, why, sizeof(why)), OUTCOME_REJECTED);
    /* 429 / 503 with Retry-After */
    T_ASSERT_EQ(classify(429, "17", &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 17);
    T_ASSERT_EQ(classify(503, " 42 ", &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 42);
    /* ... without it (or unparsable): the default */
    T_ASSERT_EQ(classify(429, NULL, &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 150);
    T_ASSERT_STR_CONTAINS(w, "no Retry-After");
    T_ASSERT_EQ(classify(503, NULL, &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 150);
    T_ASSERT_EQ(classify(429, "soon", &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 150);
    T_ASSERT_EQ(classify(429, "12x", &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 150);
    /* ... an HTTP date in the past: at least one second */
    T_ASSERT_EQ(
        classify(429, "Wed, 21 Oct 2015 07:28:00 GMT", &ra, why, sizeof(why)),
        OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 1);
    test_retry_after_dates();
    /* ... capped, and at least one second */
    T_ASSERT_EQ(classify(429, "99999", &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 600);
    T_ASSERT_EQ(classify(429, "0", &ra, why, sizeof(why)), OUTCOME_PAUSED);
    T_ASSERT_EQ(ra, 1);
    /* other 5xx, 504, 408: transient */
    T_ASSERT_EQ(classify(500, NULL, &ra, why, sizeof(why)), OUTCOME_RETRY);
    T_ASSERT_EQ(classify(502, NULL, &ra, why, sizeof(why)), OUTCOME_RETRY);
    T_ASSERT_EQ(classify(504, NULL, &ra, why, sizeof(why)), OUTCOME_RETRY);
    T_ASSERT_STR_CONTAINS(w, "504");
    T_ASSERT_EQ(classify(408, NULL, &ra, why, sizeof(why)), OUTCOME_RETRY);
}

static void test_curl_mapping(void)
{
    struct store_result r;
    const char *w = r.reason;

    memset(&r, 0, sizeof(r));
    store_result_classify(&r, CURLE_OPERATION_TIMEDOUT, 200, NULL, 150, 600);
    T_ASSERT_EQ(r.res, OUTCOME_RETRY);
    T_ASSERT_EQ(r.status, 0);
    T_ASSERT_STR_CONTAINS(w, "imeout");
    store_result_classify(&r, CURLE_COULDNT_CONNECT, 0, NULL, 150, 600);
    T_ASSERT_EQ(r.res, OUTCOME_RETRY);
    store_result_classify(&r, CURLE_COULDNT_RESOLVE_HOST, 0, NULL, 150, 600);
    T_ASSERT_EQ(r.res, OUTCOME_RETRY);
    store_result_classify(&r, CURLE_RECV_ERROR, 0, NULL, 150, 600);
    T_ASSERT_EQ(r.res, OUTCOME_RETRY);
    store_result_classify(&r, CURLE_PEER_FAILED_VERIFICATION, 0, NULL, 150,
                          600);
    T_ASSERT_EQ(r.res, OUTCOME_RETRY);
    store_result_classify(&r, CURLE_URL_MALFORMAT, 0, NULL, 150, 600);
    T_ASSERT_EQ(r.res, OUTCOME_REJECTED);
    T_ASSERT_EQ(strcmp(outcome_name(OUTCOME_PAUSED), "paused"), 0);
    T_ASSERT_EQ(strcmp(store_op_name(STORE_OP_VARIANTS_GROUP_UPDATE),
                       "variants_group_update"),
                0);
}

/* A loopback port with nothing listening. */
static int closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* A listening socket nobody accepts from: connects, never answers. */
static int silent_listener(int *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    listen(fd, 8);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void test_client_errors(void)
{
    struct store_settings s;
    struct store_client *sc;
    struct store_result r;
    char url[64], err[256];
    const char *e = err, *why = r.reason;
    int port, lfd;

    memset(&s, 0, sizeof(s));
    s.login = "app";
    s.password = SECRET;
    s.url = "ftp://example.invalid";
    T_ASSERT(store_client_new(&insales_adapter, &s, err, sizeof(err)) == NULL);
    T_ASSERT_STR_CONTAINS(e, "https://");
    T_ASSERT(strstr(err, SECRET) == NULL);
    s.url = NULL;
    T_ASSERT(store_client_new(&insales_adapter, &s, err, sizeof(err)) == NULL);

    /* connection refused -> transient, no password anywhere */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", closed_port());
    s.url = url;
    s.connect_timeout_ms = 2000;
    s.timeout_ms = 700;
    sc = store_client_new(&insales_adapter, &s, err, sizeof(err));
    T_ASSERT(sc != NULL);
    if (!sc)
        return;
    T_ASSERT_EQ(store_client_do(sc, STORE_OP_ACCOUNT_GET, NULL, &r),
                OUTCOME_RETRY);
    T_ASSERT_EQ(r.status, 0);
    T_ASSERT(r.body == NULL);
    T_ASSERT(strstr(r.reason, SECRET) == NULL);
    T_ASSERT(strstr(r.reason, "app:") == NULL);
    store_result_clear(&r);
    /* invalid arguments never reach the network */
    T_ASSERT_EQ(store_client_do(sc, STORE_OP_PRODUCT_GET, NULL, &r),
                OUTCOME_REJECTED);
    T_ASSERT_STR_CONTAINS(why, "needs an id");
    store_result_clear(&r);
    store_client_destroy(sc);

    /* the server accepts the connection and never answers -> timeout */
    lfd = silent_listener(&port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    sc = store_client_new(&insales_adapter, &s, err, sizeof(err));
    T_ASSERT_EQ(store_client_do(sc, STORE_OP_ACCOUNT_GET, NULL, &r),
                OUTCOME_RETRY);
    T_ASSERT_STR_CONTAINS(why, "timed out");
    T_ASSERT(strstr(r.reason, SECRET) == NULL);
    store_result_clear(&r);
    store_client_destroy(sc);
    close(lfd);
    store_client_destroy(NULL);
    store_result_clear(NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_status_mapping();
    test_curl_mapping();
    test_client_errors();
    curl_global_cleanup();
    T_DONE();
}
