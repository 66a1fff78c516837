#include "api.h"

#include "apicfg.h"
#include "app/ops.h"
#include "catput.h"
#include "ledger/clients.h"
#include "ledger/documents.h"
#include "ledger/ledger.h"
#include "ledger/movebatch.h"
#include "lib/db.h"
#include "lib/hash.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "moves.h"
#include "pgpool.h"
#include "prices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct api {
    const struct api_cfg *c;
    struct httpd *h;
    struct pgpool *pool;
    struct metrics_family *mx_requests; /* {route, code} */
    struct metrics_family *mx_items;    /* {entry, status} */
};

/* One request being answered. */
struct api_call {
    struct api *a;
    const struct httpd_req *req;
    struct httpd_resp *resp;
    const char *route; /* label: movements, stock, prices, documents,
                          catalog, other */
    PGconn *pg;
    char client[CLIENTS_NAME_MAX + 1];
};

/* Answer {"error": msg}. */
static void api_error(struct api_call *k, unsigned status, const char *msg)
{
    httpd_resp_json(k->resp, status, json_pack("{s:s}", "error", msg));
}

/* The ledger connection of the call; 503 when unreachable. */
static int api_pg(struct api_call *k)
{
    char err[512];

    k->pg = pgpool_get(k->a->pool, err, sizeof(err));
    if (!k->pg) {
        log_warn("api: ledger: %s", err);
        api_error(k, 503, "ledger unavailable");
        return -1;
    }
    return 0;
}

/* Does the comma-separated @p scopes hold @p want? */
static int api_scope_has(const char *scopes, const char *want)
{
    size_t n = strlen(want);
    const char *p = scopes;

    while (p && *p) {
        if (!strncmp(p, want, n) && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

/* The bearer token names an active client with @p scope; else the answer
 * is set (401, 403, 503) and -1 returned. */
static int api_auth(struct api_call *k, const char *scope)
{
    const char *h = httpd_req_header(k->req, "Authorization");
    char hash[HASH_SHA256_HEX_LEN + 1], scopes[512], err[512];
    int rc;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        api_error(k, 401, "missing bearer token");
        return -1;
    }
    hash_sha256_hex(h + 7, strlen(h + 7), hash);
    if (api_pg(k) < 0)
        return -1;
    rc = clients_auth(k->pg, hash, k->client, sizeof(k->client), scopes,
                      sizeof(scopes), err, sizeof(err));
    if (rc < 0) {
        log_warn("api: %s", err);
        api_error(k, 503, "ledger unavailable");
        return -1;
    }
    if (rc != 1) {
        api_error(k, 401, rc == 2 ? "token revoked" : "unknown token");
        return -1;
    }
    if (!api_scope_has(scopes, scope)) {
        api_error(k, 403, "the client lacks this scope");
        log_info("api: client %s refused %s (scope %s)", k->client, k->req->url,
                 scope);
        return -1;
    }
    return 0;
}

/* The body as JSON object with member @p member an array of at most
 * api.max_items; else the answer is set (400, 413) and NULL returned. */
static json_t *api_body_array(struct api_call *k, const char *member,
                              json_t **arr)
{
    json_error_t jerr;
    json_t *root;
    char msg[300];

    root = json_loadb(k->req->body, k->req->body_len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (!root) {
        snprintf(msg, sizeof(msg), "body is not JSON: line %d column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        api_error(k, 400, msg);
        return NULL;
    }
    *arr = json_object_get(root, member);
    if (!json_is_object(root) || !json_is_array(*arr)) {
        snprintf(msg, sizeof(msg),
                 "body must be an object with an array "
                 "\"%s\"",
                 member);
        api_error(k, 400, msg);
    } else if (json_array_size(*arr) > (size_t)k->a->c->api_max_items) {
        snprintf(msg, sizeof(msg), "more than %lld items in one batch",
                 k->a->c->api_max_items);
        api_error(k, 413, msg);
    } else {
        return root;
    }
    json_decref(root);
    return NULL;
}

/* Count each item's outcome in omnisync_api_items_total{entry,status}. */
static void api_count_items(struct api *a, const char *entry,
                            const struct movebatch_item *items, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        metrics_inc(a->mx_items,
                    (const char *const[]){
                        entry, movebatch_status_name(items[i].status)});
}

/* POST /v1/movements */
static void api_movements(struct api_call *k, const char *rest)
{
    struct movebatch_summary sum;
    struct movebatch_item *items = NULL;
    json_t *root, *arr;
    char err[1024], sqlstate[6];
    size_t n;
    int rc;

    (void)rest;
    if (api_auth(k, CLIENTS_SCOPE_MOVEMENTS) < 0)
        return;
    root = api_body_array(k, "movements", &arr);
    if (!root)
        return;
    n = json_array_size(arr);
    items = moves_from_json(arr, 1);
    if (!items) {
        api_error(k, 500, "out of memory");
        goto out;
    }
    rc = movebatch_apply(k->pg, items, n, 0, &sum, err, sizeof(err), sqlstate);
    api_count_items(k->a, "http", items, n);
    if (rc < 0) {
        log_warn("api: client %s: movements: %s", k->client, err);
        api_error(k, db_conn_lost(k->pg) ? 503 : 500,
                  "the ledger failed the batch: nothing applied");
    } else if (rc == MOVEBATCH_BAD) {
        httpd_resp_json(k->resp, 422, moves_errors_json(items, n));
    } else {
        log_debug("api: client %s: %zu applied, %zu duplicate", k->client,
                  sum.applied, sum.duplicate);
        httpd_resp_json(k->resp, 200, moves_results_json(items, n, &sum));
    }
out:
    free(items);
    json_decref(root);
}

/* GET /v1/stock?location=&sku= */
static void api_stock(struct api_call *k, const char *rest)
{
    const char *loc = httpd_req_query(k->req, "location");
    const char *sku = httpd_req_query(k->req, "sku");
    json_t *levels;
    PGresult *res;
    char err[512];
    int i;

    (void)rest;
    if (api_auth(k, CLIENTS_SCOPE_STOCK) < 0)
        return;
    res = ledger_level_list(k->pg, loc && *loc ? loc : NULL,
                            sku && *sku ? sku : NULL, err, sizeof(err));
    if (!res) {
        log_warn("api: stock: %s", err);
        api_error(k, 503, "ledger unavailable");
        return;
    }
    levels = json_array();
    for (i = 0; levels && i < PQntuples(res); i++)
        json_array_append_new(
            levels,
            json_pack("{s:s, s:s, s:I, s:I}", "location", PQgetvalue(res, i, 0),
                      "sku", PQgetvalue(res, i, 1), "on_hand",
                      (json_int_t)strtoll(PQgetvalue(res, i, 2), NULL, 10),
                      "reserved",
                      (json_int_t)strtoll(PQgetvalue(res, i, 3), NULL, 10)));
    PQclear(res);
    httpd_resp_json(k->resp, 200,
                    levels ? json_pack("{s:o}", "levels", levels) : NULL);
}

/* PUT /v1/prices/{price_list} */
static void api_prices(struct api_call *k, const char *list)
{
    json_t *root, *arr, *answer = NULL;
    unsigned status;

    if (api_auth(k, CLIENTS_SCOPE_PRICES) < 0)
        return;
    root = api_body_array(k, "prices", &arr);
    if (!root)
        return;
    status = prices_put(k->pg, list, arr, &answer);
    httpd_resp_json(k->resp, status, answer);
    json_decref(root);
}

/* PUT /v1/catalog: product and variant upserts (catput.h). */
static void api_catalog(struct api_call *k, const char *rest)
{
    struct catput_req r;
    json_error_t jerr;
    json_t *root, *answer = NULL;
    const char *hkey = httpd_req_header(k->req, "Idempotency-Key");
    const json_t *bkey;
    unsigned status;

    (void)rest;
    if (api_auth(k, CLIENTS_SCOPE_CATALOG) < 0)
        return;
    root = json_loadb(k->req->body, k->req->body_len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (!json_is_object(root)) {
        api_error(k, 400, "body is not a JSON object");
        goto out;
    }
    bkey = json_object_get(root, "key");
    memset(&r, 0, sizeof(r));
    r.key = hkey && *hkey ? hkey : json_string_value(bkey);
    if ((bkey && !json_is_string(bkey)) ||
        (r.key && (!*r.key || strlen(r.key) > CLIENTS_KEY_MAX))) {
        api_error(k, 400, "the idempotency key must be 1 to 200 bytes");
        goto out;
    }
    r.client = k->client;
    r.body = k->req->body;
    r.body_len = k->req->body_len;
    r.root = root;
    r.max_items = k->a->c->api_max_items;
    status = catput_put(k->pg, &r, &answer);
    httpd_resp_json(k->resp, status, answer);
out:
    json_decref(root);
}

/* POST /v1/documents: one document (docs/documents.md). */
static void api_documents(struct api_call *k, const char *rest)
{
    struct documents_result r;
    enum documents_res res;
    json_error_t jerr;
    json_t *doc;
    char err[1024];
    static const unsigned status[] = {200, 200, 409, 422};

    (void)rest;
    if (api_auth(k, CLIENTS_SCOPE_DOCUMENTS) < 0)
        return;
    doc = json_loadb(k->req->body, k->req->body_len, JSON_REJECT_DUPLICATES,
                     &jerr);
    if (!doc) {
        api_error(k, 400, "body is not JSON");
        return;
    }
    res = documents_apply(k->pg, doc, &r, err, sizeof(err));
    if (res == DOCUMENTS_ERR) {
        log_warn("api: client %s: document: %s", k->client, err);
        api_error(k, db_conn_lost(k->pg) ? 503 : 500,
                  "the ledger failed the document: nothing applied");
    } else if (res == DOCUMENTS_BAD) {
        httpd_resp_json(k->resp, 422,
                        json_pack("{s:s, s:O}", "error",
                                  "invalid document: nothing applied", "errors",
                                  r.errors));
    } else if (res == DOCUMENTS_CONFLICT) {
        api_error(k, 409,
                  "a document with this number and other content exists");
    } else {
        httpd_resp_json(
            k->resp, status[res],
            json_pack("{s:s, s:s, s:I, s:I, s:I}", "number", r.number, "result",
                      documents_res_name(res), "id", (json_int_t)r.id, "lines",
                      (json_int_t)r.lines, "events", (json_int_t)r.events));
    }
    documents_result_clear(&r);
    json_decref(doc);
}

/* The routes: an exact path, or a prefix whose rest (one segment) is the
 * handler's argument. */
static const struct {
    const char *path;
    int prefix;
    const char *method, *route;
    void (*fn)(struct api_call *k, const char *rest);
} api_routes[] = {
    {"/v1/movements", 0, "POST", "movements", api_movements},
    {"/v1/stock", 0, "GET", "stock", api_stock},
    {"/v1/prices/", 1, "PUT", "prices", api_prices},
    {"/v1/documents", 0, "POST", "documents", api_documents},
    {"/v1/catalog", 0, "PUT", "catalog", api_catalog},
};

/* Which route: sets k->route and calls it, or answers 404 / 405. */
static void api_dispatch(struct api_call *k)
{
    const char *u = k->req->url, *rest;
    char msg[32];
    size_t i, n;

    for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
        n = strlen(api_routes[i].path);
        if (api_routes[i].prefix ? strncmp(u, api_routes[i].path, n) != 0
                                 : strcmp(u, api_routes[i].path) != 0)
            continue;
        rest = u + n;
        if (api_routes[i].prefix && (!*rest || strchr(rest, '/')))
            continue;
        k->route = api_routes[i].route;
        if (strcmp(k->req->method, api_routes[i].method)) {
            snprintf(msg, sizeof(msg), "use %s", api_routes[i].method);
            api_error(k, 405, msg);
            return;
        }
        api_routes[i].fn(k, rest);
        return;
    }
    api_error(k, 404, "no such resource");
}

static void api_route(void *opaque, const struct httpd_req *req,
                      struct httpd_resp *resp)
{
    struct api_call k;
    char code[8];

    memset(&k, 0, sizeof(k));
    k.a = opaque;
    k.req = req;
    k.resp = resp;
    k.route = "other";
    if (req->too_big) {
        char msg[96];

        snprintf(msg, sizeof(msg), "body larger than %lld bytes",
                 k.a->c->api_max_body);
        api_error(&k, 413, msg);
    } else {
        api_dispatch(&k);
    }
    pgpool_put(k.a->pool, k.pg);
    snprintf(code, sizeof(code), "%u", resp->status);
    metrics_inc(k.a->mx_requests, (const char *const[]){k.route, code});
}

/* The API's metric families and its readiness check. */
static void api_ops(struct api *a, struct ops *ops)
{
    if (!ops)
        return;
    ops_check_postgres(ops, a->c->pg_dsn);
    a->mx_requests = metrics_counter_new(
        ops_metrics(ops), "omnisync_api_requests_total",
        "ledger-api requests answered, by route and status code.",
        (const char *const[]){"route", "code", NULL});
    a->mx_items = metrics_counter_new(
        ops_metrics(ops), "omnisync_api_items_total",
        "Movements received by ledger-api, by entry point (http, kafka) "
        "and outcome (applied, duplicate, invalid, pending).",
        (const char *const[]){"entry", "status", NULL});
}

struct api *api_new(const struct api_cfg *c, struct ops *ops, char *errstr,
                    size_t errstr_size)
{
    struct api *a = calloc(1, sizeof(*a));
    struct httpd_conf hc;
    char err[256];

    if (!a) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    a->c = c;
    a->pool = pgpool_new(c->pg_dsn, (size_t)c->api_pg_pool, "ledger-api");
    if (!a->pool) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    api_ops(a, ops);
    memset(&hc, 0, sizeof(hc));
    hc.listen = c->api_listen;
    hc.max_conns = (unsigned)c->api_max_conns;
    hc.serves = "/v1/movements /v1/stock /v1/prices /v1/documents "
                "/v1/catalog";
    a->h = httpd_new(&hc, NULL, err, sizeof(err));
    if (!a->h) {
        snprintf(errstr, errstr_size, "api.listen: %s", err);
        goto fail;
    }
    if (httpd_route_add(a->h, "/v1/", (size_t)c->api_max_body, api_route, a) <
        0) {
        snprintf(errstr, errstr_size, "api: cannot add the /v1/ route");
        goto fail;
    }
    return a;
fail:
    api_destroy(a);
    return NULL;
}

struct metrics_family *api_items_family(struct api *a)
{
    return a ? a->mx_items : NULL;
}

void api_stop(struct api *a)
{
    if (a)
        httpd_stop(a->h);
}

void api_destroy(struct api *a)
{
    if (!a)
        return;
    httpd_destroy(a->h);
    pgpool_destroy(a->pool);
    free(a);
}
