#include "store/store_client.h"

#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STORE_CONNECT_TIMEOUT_MS 10000
#define STORE_TIMEOUT_MS 55000 /* stores give up at 50 s (504) */
#define STORE_RETRY_MAX_S 600
#define STORE_MAX_BODY (64L * 1024 * 1024) /* refuse larger responses */

struct store_buf {
    char *data;
    size_t len, cap;
    int overflow;
};

struct store_client {
    CURL *ch;
    const struct store_adapter *ad;
    char *store_id;
    char *url; /* base without trailing '/' */
    char *login;
    char *password;
    char *ca_file;
    long api_limit, api_window_s;
    long connect_timeout_ms, timeout_ms;
    long retry_default_s, retry_max_s;
    long budget_max_wait_ms;
    /* Per-call state filled by the callbacks. */
    struct store_buf body;
    char usage[64];
    char retry_after[64];
    char errbuf[CURL_ERROR_SIZE];
};

static const char *const store_op_names[STORE_OP__COUNT] = {
    [STORE_OP_ACCOUNT_GET] = "account_get",
    [STORE_OP_PRODUCTS_LIST] = "products_list",
    [STORE_OP_PRODUCT_GET] = "product_get",
    [STORE_OP_PRODUCT_CREATE] = "product_create",
    [STORE_OP_PRODUCT_UPDATE] = "product_update",
    [STORE_OP_PRODUCT_DELETE] = "product_delete",
    [STORE_OP_VARIANTS_LIST] = "variants_list",
    [STORE_OP_VARIANT_GET] = "variant_get",
    [STORE_OP_VARIANT_CREATE] = "variant_create",
    [STORE_OP_VARIANT_UPDATE] = "variant_update",
    [STORE_OP_VARIANT_DELETE] = "variant_delete",
    [STORE_OP_VARIANTS_GROUP_UPDATE] = "variants_group_update",
    [STORE_OP_IMAGES_LIST] = "images_list",
    [STORE_OP_IMAGE_CREATE] = "image_create",
    [STORE_OP_CATEGORIES_LIST] = "categories_list",
    [STORE_OP_CATEGORY_CREATE] = "category_create",
    [STORE_OP_ORDERS_LIST] = "orders_list",
    [STORE_OP_ORDER_GET] = "order_get",
    [STORE_OP_ORDER_UPDATE] = "order_update",
    [STORE_OP_WEBHOOKS_LIST] = "webhooks_list",
    [STORE_OP_WEBHOOK_CREATE] = "webhook_create",
    [STORE_OP_WEBHOOK_DELETE] = "webhook_delete",
    [STORE_OP_PRODUCT_RECOVER] = "product_recover",
    [STORE_OP_IMAGE_DELETE] = "image_delete",
    [STORE_OP_IMAGE_UPDATE] = "image_update",
    [STORE_OP_CATEGORY_UPDATE] = "category_update",
    [STORE_OP_CATEGORY_DELETE] = "category_delete",
};

const char *store_op_name(enum store_op op)
{
    if ((int)op < 0 || op >= STORE_OP__COUNT || !store_op_names[op])
        return "?";
    return store_op_names[op];
}

void store_result_clear(struct store_result *r)
{
    if (!r)
        return;
    json_decref(r->body);
    memset(r, 0, sizeof(*r));
    r->usage_used = -1;
    r->usage_limit = -1;
}

/* Retry-After (RFC 9110 §10.2.3) as delta seconds or as an HTTP date (any
 * form libcurl's date parser reads: IMF-fixdate, RFC 850, asctime); a
 * date is turned into the seconds left from now, 0 when it has passed.
 * -1 when absent or neither. */
static long store_parse_retry_after(const char *v)
{
    char buf[64];
    size_t n;
    long long s;
    time_t at, now;

    if (!v)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n > 0 && strchr(" \t\r\n", v[n - 1]))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    if (cfg_parse_ll(buf, &s) == 0)
        return s < 0 ? -1 : (s > 1000000 ? 1000000 : (long)s);
    if (strspn(buf, "0123456789+-") == n)
        return -1; /* a malformed number is not a date */
    at = curl_getdate(buf, NULL);
    if (at < 0)
        return -1;
    now = time(NULL);
    if (at <= now)
        return 0;
    return at - now > 1000000 ? 1000000 : (long)(at - now);
}

void store_result_classify(struct store_result *out, int curl_code, long status,
                           const char *retry_after, long def_retry_s,
                           long max_retry_s)
{
    long ra;

    out->retry_after_s = 0;
    if (curl_code != CURLE_OK) {
        out->status = 0;
        switch (curl_code) {
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            /* A broken store URL: retrying cannot help. */
            out->res = OUTCOME_REJECTED;
            break;
        default:
            out->res = OUTCOME_RETRY;
        }
        snprintf(out->reason, sizeof(out->reason), "%s",
                 curl_easy_strerror((CURLcode)curl_code));
        return;
    }
    out->status = status;
    if (status >= 200 && status < 300) {
        out->res = OUTCOME_OK;
        snprintf(out->reason, sizeof(out->reason), "HTTP %ld", status);
    } else if (status == 429 || status == 503) {
        /* The store's rate limit (some stores answered 503, later 429). */
        ra = store_parse_retry_after(retry_after);
        if (ra < 0)
            ra = def_retry_s;
        if (ra > max_retry_s)
            ra = max_retry_s;
        if (ra < 1)
            ra = 1;
        out->res = OUTCOME_PAUSED;
        out->retry_after_s = ra;
        snprintf(out->reason, sizeof(out->reason),
                 "HTTP %ld: rate limited, retry after %ld s%s", status, ra,
                 retry_after ? "" : " (no Retry-After header)");
    } else if (status >= 500 || status == 408) {
        out->res = OUTCOME_RETRY;
        snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s", status,
                 status == 504 ? ": store timed out (50 s)" : "");
    } else {
        /* 3xx (redirects are not followed), 4xx: the request is wrong. */
        out->res = OUTCOME_REJECTED;
        snprintf(out->reason, sizeof(out->reason), "HTTP %ld", status);
    }
}

static size_t store_on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct store_client *sc = ud;
    struct store_buf *b = &sc->body;
    size_t n = size * nmemb, cap;
    char *p;

    if (b->len + n + 1 > (size_t)STORE_MAX_BODY) {
        b->overflow = 1;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->data, cap);
        if (!p)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Copy a header value (trimmed) if the line is "<name>: value". */
static void store_header_pick(const char *line, size_t n, const char *name,
                              char *dst, size_t dsize)
{
    size_t nl = strlen(name), vlen;
    const char *v;

    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    v = line + nl + 1;
    vlen = n - nl - 1;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen &&
           (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen >= dsize)
        vlen = dsize - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
}

static size_t store_on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct store_client *sc = ud;
    size_t n = size * nmemb;

    /* A new status line (after 100 Continue): forget earlier headers. */
    if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        sc->usage[0] = '\0';
        sc->retry_after[0] = '\0';
        return n;
    }
    if (sc->ad->limit.usage_header)
        store_header_pick(ptr, n, sc->ad->limit.usage_header, sc->usage,
                          sizeof(sc->usage));
    store_header_pick(ptr, n, "Retry-After", sc->retry_after,
                      sizeof(sc->retry_after));
    return n;
}

static char *store_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

/* The settings a client cannot work without; errstr names the problem
 * (never the password). */
static int store_settings_check(const struct store_adapter *ad,
                                const struct store_settings *s, char *errstr,
                                size_t errstr_size)
{
    if (!ad || !s || !s->url || !*s->url || !s->login || !s->password) {
        snprintf(errstr, errstr_size,
                 "store client: adapter, url, login and password required");
        return -1;
    }
    if (strncmp(s->url, "https://", 8) != 0 &&
        strncmp(s->url, "http://", 7) != 0) {
        snprintf(errstr, errstr_size,
                 "store client: url must start with https:// or http://");
        return -1;
    }
    return 0;
}

/* Copy the strings of @p s (url without trailing '/'). */
static int store_client_strings(struct store_client *sc,
                                const struct store_settings *s)
{
    int has_ca = s->ca_file && *s->ca_file;
    size_t n;

    sc->store_id =
        store_strdup(s->store_id && *s->store_id ? s->store_id : s->login);
    sc->url = store_strdup(s->url);
    sc->login = store_strdup(s->login);
    sc->password = store_strdup(s->password);
    sc->ca_file = has_ca ? store_strdup(s->ca_file) : NULL;
    if (!sc->store_id || !sc->url || !sc->login || !sc->password ||
        (has_ca && !sc->ca_file))
        return -1;
    n = strlen(sc->url);
    while (n > 0 && sc->url[n - 1] == '/')
        sc->url[--n] = '\0';
    return 0;
}

/* The limit: the store's settings, else the adapter's model. */
static void store_client_limit(struct store_client *sc,
                               const struct store_adapter *ad,
                               const struct store_settings *s)
{
    sc->api_limit = s->api_limit > 0 ? s->api_limit : ad->limit.limit;
    sc->api_window_s =
        s->api_window_s > 0 ? s->api_window_s : ad->limit.window_s;
    if (ad->limit.kind == STORE_LIMIT_LEAKY_BUCKET && s->api_window_s <= 0 &&
        ad->limit.leak_per_s > 0) {
        /* A bucket of capacity C draining r/s never overflows if at most C
         * requests go out per C/r seconds: the fixed-window budget with
         * window C/r is a safe model of it at the full long-run rate. */
        sc->api_window_s =
            (long)((double)sc->api_limit / ad->limit.leak_per_s + 0.999);
    }
}

/* Timeouts and waits: the settings, else the defaults. */
static void store_client_times(struct store_client *sc,
                               const struct store_adapter *ad,
                               const struct store_settings *s)
{
    sc->connect_timeout_ms = s->connect_timeout_ms > 0
                                 ? s->connect_timeout_ms
                                 : STORE_CONNECT_TIMEOUT_MS;
    sc->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : STORE_TIMEOUT_MS;
    sc->retry_default_s = s->retry_after_default_s > 0
                              ? s->retry_after_default_s
                              : ad->retry_after_default_s;
    /* A fixed window never blocks for longer than the window itself. */
    if (sc->retry_default_s <= 0 ||
        (ad->limit.kind == STORE_LIMIT_FIXED_WINDOW &&
         sc->retry_default_s > sc->api_window_s))
        sc->retry_default_s = sc->api_window_s;
    sc->retry_max_s =
        s->retry_after_max_s > 0 ? s->retry_after_max_s : STORE_RETRY_MAX_S;
    sc->budget_max_wait_ms =
        s->budget_max_wait_ms > 0 ? s->budget_max_wait_ms : -1;
}

struct store_client *store_client_new(const struct store_adapter *ad,
                                      const struct store_settings *s,
                                      char *errstr, size_t errstr_size)
{
    struct store_client *sc = NULL;

    if (store_settings_check(ad, s, errstr, errstr_size) != 0)
        return NULL;
    sc = calloc(1, sizeof(*sc));
    if (!sc || store_client_strings(sc, s) != 0) {
        snprintf(errstr, errstr_size, "store client: out of memory");
        goto fail;
    }
    sc->ad = ad;
    store_client_limit(sc, ad, s);
    store_client_times(sc, ad, s);
    sc->ch = curl_easy_init();
    if (!sc->ch) {
        snprintf(errstr, errstr_size, "store client: curl_easy_init failed");
        goto fail;
    }
    return sc;
fail:
    store_client_destroy(sc);
    return NULL;
}

void store_client_destroy(struct store_client *sc)
{
    if (!sc)
        return;
    if (sc->ch)
        curl_easy_cleanup(sc->ch);
    if (sc->password) {
        sodium_memzero(sc->password, strlen(sc->password));
        free(sc->password);
    }
    free(sc->store_id);
    free(sc->url);
    free(sc->login);
    free(sc->ca_file);
    free(sc->body.data);
    free(sc);
}

const struct store_adapter *store_client_adapter(const struct store_client *sc)
{
    return sc->ad;
}

const char *store_client_budget(const struct store_client *sc, long *limit,
                                long *window_s)
{
    *limit = sc->api_limit;
    *window_s = sc->api_window_s;
    return sc->store_id;
}

/* First bytes of a body, printable ASCII only (never the whole body). */
static void store_excerpt(char *dst, size_t dsize, const char *src, size_t len)
{
    size_t i, n = len < dsize - 1 ? len : dsize - 1;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];

        dst[i] = isprint(c) ? (char)c : '.';
    }
    dst[n] = '\0';
}

/* Set every option of one call; the handle keeps its live connections
 * across curl_easy_reset(). */
static int store_setup(struct store_client *sc, const char *method,
                       const char *url, const char *body,
                       struct curl_slist *hdrs)
{
    CURL *ch = sc->ch;
    int bad = 0;

    curl_easy_reset(ch);
    bad |= curl_easy_setopt(ch, CURLOPT_URL, url) != CURLE_OK;
    bad |=
        curl_easy_setopt(ch, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) !=
           CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_USERNAME, sc->login) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_PASSWORD, sc->password) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    if (sc->ca_file)
        bad |= curl_easy_setopt(ch, CURLOPT_CAINFO, sc->ca_file) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_CONNECTTIMEOUT_MS,
                            sc->connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, sc->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_USERAGENT, "omnisync/1") != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |=
        curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, store_on_body) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_WRITEDATA, sc) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_HEADERFUNCTION, store_on_header) !=
           CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_HEADERDATA, sc) != CURLE_OK;
    bad |= curl_easy_setopt(ch, CURLOPT_ERRORBUFFER, sc->errbuf) != CURLE_OK;
    if (strcmp(method, "GET") == 0) {
        bad |= curl_easy_setopt(ch, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(ch, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
        if (strcmp(method, "DELETE") != 0 || body) {
            /* The store wants the JSON Content-Type even on empty POSTs. */
            bad |= curl_easy_setopt(ch, CURLOPT_POSTFIELDS, body ? body : "") !=
                   CURLE_OK;
        }
    }
    return bad ? -1 : 0;
}

enum outcome store_client_do(struct store_client *sc, enum store_op op,
                             const struct store_req_args *a,
                             struct store_result *out)
{
    struct store_http_req req;
    struct curl_slist *hdrs = NULL, *h;
    char url[2048], errbuf[256];
    char *body = NULL;
    json_error_t jerr;
    CURLcode cc;
    long status = 0, used, limit;

    memset(out, 0, sizeof(*out));
    out->usage_used = -1;
    out->usage_limit = -1;
    memset(&req, 0, sizeof(req));
    if (sc->ad->build(op, a, &req, errbuf, sizeof(errbuf)) != 0) {
        out->res = OUTCOME_REJECTED;
        snprintf(out->reason, sizeof(out->reason), "%s", errbuf);
        goto out;
    }
    if (snprintf(url, sizeof(url), "%s%s", sc->url, req.path) >=
        (int)sizeof(url)) {
        out->res = OUTCOME_REJECTED;
        snprintf(out->reason, sizeof(out->reason), "%s: url too long",
                 store_op_name(op));
        goto out;
    }
    if (req.body) {
        body = json_dumps(req.body, JSON_COMPACT);
        if (!body) {
            out->res = OUTCOME_RETRY;
            snprintf(out->reason, sizeof(out->reason), "out of memory");
            goto out;
        }
    }
    h = curl_slist_append(hdrs, "Accept: application/json");
    if (h)
        hdrs = h;
    h = curl_slist_append(hdrs, "Content-Type: application/json");
    if (h)
        hdrs = h;
    h = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (h)
        hdrs = h;
    sc->body.len = 0;
    sc->body.overflow = 0;
    sc->usage[0] = '\0';
    sc->retry_after[0] = '\0';
    sc->errbuf[0] = '\0';
    if (!hdrs || store_setup(sc, req.method, url, body, hdrs) != 0) {
        out->res = OUTCOME_RETRY;
        snprintf(out->reason, sizeof(out->reason), "curl setup failed");
        goto out;
    }
    cc = curl_easy_perform(sc->ch);
    if (cc == CURLE_OK)
        curl_easy_getinfo(sc->ch, CURLINFO_RESPONSE_CODE, &status);
    store_result_classify(out, (int)cc, status,
                          sc->retry_after[0] ? sc->retry_after : NULL,
                          sc->retry_default_s, sc->retry_max_s);
    if (cc != CURLE_OK && sc->body.overflow)
        snprintf(out->reason, sizeof(out->reason),
                 "response larger than %ld bytes", STORE_MAX_BODY);
    else if (cc != CURLE_OK && sc->errbuf[0])
        /* errbuf names host and port at most: the URL has no password. */
        snprintf(out->reason, sizeof(out->reason), "%.200s", sc->errbuf);
    if (sc->usage[0] && sc->ad->parse_usage &&
        sc->ad->parse_usage(sc->usage, &used, &limit) == 0) {
        out->usage_used = used;
        out->usage_limit = limit;
    }
    if (cc == CURLE_OK && sc->body.len > 0) {
        out->body = json_loadb(sc->body.data, sc->body.len,
                               JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!out->body)
            store_excerpt(out->excerpt, sizeof(out->excerpt), sc->body.data,
                          sc->body.len);
    }
    log_debug_ctx(sc->store_id, "%s %s -> %s (%s)", req.method, req.path,
                  outcome_name(out->res), out->reason);
out:
    free(body);
    json_decref(req.body);
    curl_slist_free_all(hdrs);
    /* Keep at most one spare buffer of a modest size between calls. */
    if (sc->body.cap > 1024 * 1024) {
        free(sc->body.data);
        sc->body.data = NULL;
        sc->body.cap = 0;
    }
    return out->res;
}

/*
 * A token before @p deadline_ms (a drain, or a bounded wait that keeps a
 * paused store from holding the others: docs/isolation.md): poll the
 * budget, ignoring the stop request (budget_acquire() gives up on it).
 * BUDGET_WAIT at once when the budget's next token is due after the
 * deadline; *waited is the time spent.
 */
static enum budget_res store_token_until(struct store_client *sc,
                                         struct budget *b,
                                         enum budget_class cls,
                                         long long deadline_ms, long *waited,
                                         struct budget_token *tok)
{
    long long start = clock_mono_ms();
    enum budget_res br;
    struct timespec nap;
    long wait_ms = 0;

    for (;;) {
        br = budget_take(b, sc->store_id, cls, sc->api_limit, sc->api_window_s,
                         &wait_ms, tok);
        if (br == BUDGET_GRANTED)
            break;
        if (br != BUDGET_WAIT)
            wait_ms = 200;
        /* A token due after the deadline (a paused store): give up now
         * rather than sleep until the deadline for nothing. */
        if (clock_mono_ms() + wait_ms > deadline_ms) {
            br = BUDGET_WAIT;
            break;
        }
        if (wait_ms > 100)
            wait_ms = 100;
        nap.tv_sec = 0;
        nap.tv_nsec = (wait_ms > 0 ? wait_ms : 1) * 1000000L;
        nanosleep(&nap, NULL);
    }
    *waited = (long)(clock_mono_ms() - start);
    return br;
}

/* No token, no call: the store is never called unmetered. */
static void store_no_token(struct store_result *out, enum budget_res br,
                           long waited, int draining)
{
    memset(out, 0, sizeof(*out));
    out->usage_used = -1;
    out->usage_limit = -1;
    if (br == BUDGET_WAIT && draining) {
        out->res = OUTCOME_PAUSED;
        snprintf(out->reason, sizeof(out->reason),
                 "budget: no token before the drain deadline");
    } else if (br == BUDGET_WAIT) {
        out->res = OUTCOME_PAUSED;
        out->retry_after_s = (waited + 999) / 1000;
        snprintf(out->reason, sizeof(out->reason),
                 "budget: next token in %ld ms, beyond the wait bound", waited);
    } else {
        out->res = OUTCOME_RETRY;
        snprintf(out->reason, sizeof(out->reason), "%s",
                 br == BUDGET_STOPPED
                     ? "budget: shutdown requested"
                     : "budget: redis unavailable (budget closed)");
    }
}

/* c->why for a failed call: the operation and the store's reason; for a
 * rejection also the status and the start of the store's answer. */
static void store_call_why(struct store_call *c, enum store_op op)
{
    const struct store_result *r = &c->last;
    char *text;

    if (r->res == OUTCOME_OK) {
        c->why[0] = '\0';
        return;
    }
    if (r->res != OUTCOME_REJECTED) {
        snprintf(c->why, sizeof(c->why), "%s: %s", store_op_name(op),
                 r->reason);
        return;
    }
    text = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(c->why, sizeof(c->why), "%s: HTTP %ld: %s: %.500s",
             store_op_name(op), r->status, r->reason, text ? text : r->excerpt);
    free(text);
}

void store_call_init(struct store_call *c, struct store_client *sc,
                     struct budget *b, enum budget_class cls)
{
    memset(c, 0, sizeof(*c));
    c->sc = sc;
    c->b = b;
    c->cls = cls;
    c->last.usage_used = -1;
    c->last.usage_limit = -1;
}

enum outcome store_call_run(struct store_call *c, enum store_op op,
                            const struct store_req_args *a)
{
    struct store_client *sc = c->sc;
    struct store_result *out = &c->last;
    struct budget_token tok;
    enum budget_res br;
    long waited = 0;

    store_result_clear(out);
    memset(&tok, 0, sizeof(tok));
    if (c->deadline_ms > 0)
        br = store_token_until(sc, c->b, c->cls, c->deadline_ms, &waited, &tok);
    else
        br = budget_acquire(c->b, sc->store_id, c->cls, sc->api_limit,
                            sc->api_window_s, sc->budget_max_wait_ms, &waited,
                            &tok);
    if (br != BUDGET_GRANTED) {
        store_no_token(out, br, waited, c->deadline_ms > 0);
        store_call_why(c, op);
        return out->res;
    }
    store_client_do(sc, op, a, out);
    out->wait_ms = waited;
    budget_note_call(c->b, sc->store_id, c->cls, waited, out->status);
    if (out->status != 0) {
        c->calls++;
        /* Any response ends the window's probe phase; a usage header also
         * lets the budget adopt a higher count of the store's. */
        budget_feedback(c->b, sc->store_id, &tok, out->usage_used,
                        out->usage_limit);
    }
    if (out->status == 429 || out->status == 503) {
        budget_note_status(c->b, out->status);
        budget_pause(c->b, sc->store_id, out->retry_after_s, out->status);
    }
    store_call_why(c, op);
    return out->res;
}

enum outcome store_call_fail(struct store_call *c, enum outcome o,
                             const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    return o;
}

void store_call_clear(struct store_call *c)
{
    if (!c)
        return;
    store_result_clear(&c->last);
    c->why[0] = '\0';
}
