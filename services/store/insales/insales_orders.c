#include "store/insales/insales_orders.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INS_HOOK_PRE "/hooks/"
#define INS_HOOK_POST "/orders"

/* The webhook topics an intake needs (INSALES.md §6). */
static const char *const ins_hook_topics[] = {"orders/create", "orders/update"};
#define INS_NTOPICS (sizeof(ins_hook_topics) / sizeof(ins_hook_topics[0]))

static int ins_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ins_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- calls -------------------------------------------------------------- */

/* A call with a payload (owned: freed here; NULL means out of memory). */
static enum outcome ins_call_payload(struct store_call *call, enum store_op op,
                                     long long id, json_t *payload)
{
    struct store_req_args a;
    enum outcome o;

    if (!payload) {
        store_call_clear(call);
        return store_call_fail(call, OUTCOME_RETRY, "%s: out of memory",
                               store_op_name(op));
    }
    memset(&a, 0, sizeof(a));
    a.id = id;
    a.payload = payload;
    o = store_call_run(call, op, &a);
    json_decref(payload);
    return o;
}

/* ---- statuses ----------------------------------------------------------- */

static const struct {
    const char *label;
    enum order_status status;
} ins_statuses[] = {
    {"new", ORDER_STATUS_NEW},
    {"accepted", ORDER_STATUS_ACCEPTED},
    {"approved", ORDER_STATUS_ACCEPTED},
    {"dispatched", ORDER_STATUS_SHIPPED},
    {"delivered", ORDER_STATUS_DELIVERED},
    {"declined", ORDER_STATUS_CANCELLED},
    {"returned", ORDER_STATUS_RETURNED},
};
#define INS_NSTATUSES (sizeof(ins_statuses) / sizeof(ins_statuses[0]))

enum order_status insales_order_status(const char *fulfillment_status)
{
    for (size_t i = 0; fulfillment_status && i < INS_NSTATUSES; i++)
        if (strcmp(ins_statuses[i].label, fulfillment_status) == 0)
            return ins_statuses[i].status;
    return ORDER_STATUS_OTHER;
}

const char *insales_order_status_label(enum order_status s)
{
    /* The first label of a status is the one that sets it. */
    for (size_t i = 0; i < INS_NSTATUSES; i++)
        if (ins_statuses[i].status == s)
            return ins_statuses[i].label;
    return NULL;
}

enum outcome insales_order_status_set(struct store_call *call,
                                      long long remote_id, enum order_status s)
{
    const char *label = insales_order_status_label(s);

    if (!label || remote_id <= 0) {
        store_call_clear(call);
        return store_call_fail(call, OUTCOME_REJECTED,
                               "order %lld: cannot set status '%s'", remote_id,
                               order_status_name(s));
    }
    return ins_call_payload(call, STORE_OP_ORDER_UPDATE, remote_id,
                            json_pack("{s:s}", "fulfillment_status", label));
}

/* ---- the poll ----------------------------------------------------------- */

enum outcome insales_orders_page(struct store_call *call,
                                 const struct order_cursor *since, long limit,
                                 json_t **page)
{
    struct store_req_args a;
    enum outcome o;

    *page = NULL;
    memset(&a, 0, sizeof(a));
    a.updated_since = since->since;
    a.from_id = since->after_id;
    a.page = 1; /* the §2.2 loop moves the filter, never the page */
    a.per_page = limit;
    o = store_call_run(call, STORE_OP_ORDERS_LIST, &a);
    if (o != OUTCOME_OK)
        return o;
    if (!json_is_array(call->last.body))
        return store_call_fail(call, OUTCOME_REJECTED,
                               "orders list: expected an array");
    *page = call->last.body;
    call->last.body = NULL;
    return OUTCOME_OK;
}

int insales_order_identify(const json_t *raw, struct order_ref *ref,
                           char *errstr, size_t errstr_size)
{
    const json_t *id = json_object_get(raw, "id");
    const json_t *upd = json_object_get(raw, "updated_at");
    int n;

    memset(ref, 0, sizeof(*ref));
    if (!json_is_object(raw))
        return ins_fail(errstr, errstr_size, "order: expected object");
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        return ins_fail(errstr, errstr_size, "id: expected integer > 0");
    if (!json_is_string(upd) ||
        order_ts_parse(json_string_value(upd), &ref->updated_us) < 0)
        return ins_fail(errstr, errstr_size,
                        "updated_at: expected RFC 3339 timestamp");
    ref->remote_id = json_integer_value(id);
    n = snprintf(ref->next.since, sizeof(ref->next.since), "%s",
                 json_string_value(upd));
    if (n < 0 || (size_t)n >= sizeof(ref->next.since))
        return ins_fail(errstr, errstr_size, "updated_at: too long");
    ref->next.after_id = ref->remote_id;
    return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static char *ins_strdup_opt(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    char buf[32];

    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return strdup(buf);
    }
    return NULL;
}

/* An optional id: absent/null -> 0; else an integer > 0. */
static int ins_id_opt(const json_t *obj, const char *name, long long *out)
{
    const json_t *v = json_object_get(obj, name);

    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = json_integer_value(v);
        return 0;
    }
    return -1;
}

static int ins_money_opt(const json_t *obj, const char *name, char *out,
                         size_t out_size, const char *def)
{
    const json_t *v = json_object_get(obj, name);

    if (!v || json_is_null(v)) {
        snprintf(out, out_size, "%s", def);
        return 0;
    }
    return order_money_text(v, out, out_size);
}

/* A line's quantity: an integer (or an integral number) in range. */
static int ins_line_quantity(const json_t *jl, size_t i, long long *q,
                             char *errstr, size_t errstr_size)
{
    const json_t *v = json_object_get(jl, "quantity");

    double d = json_is_real(v) ? json_real_value(v) : 0;

    /* A real is range-checked before the cast (1e19 does not fit). */
    if (json_is_integer(v))
        *q = json_integer_value(v);
    else if (json_is_real(v) && !(d >= 1 && d <= ORDER_QUANTITY_MAX))
        *q = -1;
    else if (json_is_real(v) && d == (double)(long long)d)
        *q = (long long)d;
    else
        return ins_fail(errstr, errstr_size,
                        "order_lines[%zu].quantity: expected integer", i);
    if (*q <= 0 || *q > ORDER_QUANTITY_MAX)
        return ins_fail(errstr, errstr_size,
                        "order_lines[%zu].quantity: out of range 1..%lld", i,
                        (long long)ORDER_QUANTITY_MAX);
    return 0;
}

static int ins_line_parse(const json_t *jl, size_t i, struct order_line *l,
                          char *errstr, size_t errstr_size)
{
    if (!json_is_object(jl))
        return ins_fail(errstr, errstr_size,
                        "order_lines[%zu]: expected object", i);
    if (ins_id_opt(jl, "id", &l->remote_line_id) < 0)
        return ins_fail(errstr, errstr_size,
                        "order_lines[%zu].id: expected integer > 0", i);
    if (ins_id_opt(jl, "variant_id", &l->remote_variant_id) < 0)
        return ins_fail(errstr, errstr_size,
                        "order_lines[%zu].variant_id: expected integer > 0", i);
    if (ins_line_quantity(jl, i, &l->quantity, errstr, errstr_size) < 0)
        return -1;
    if (ins_money_opt(jl, "sale_price", l->price, sizeof(l->price), "0") < 0)
        return ins_fail(errstr, errstr_size,
                        "order_lines[%zu].sale_price: expected money "
                        "0..999999999.99",
                        i);
    l->sku = ins_strdup_opt(jl, "sku");
    if (l->sku && !l->sku[0]) {
        free(l->sku);
        l->sku = NULL;
    }
    l->title = ins_strdup_opt(jl, "title");
    return 0;
}

static int ins_order_lines(const json_t *raw, struct order *o, char *errstr,
                           size_t errstr_size)
{
    const json_t *lines = json_object_get(raw, "order_lines");

    if (!lines || json_is_null(lines))
        return 0;
    if (!json_is_array(lines))
        return ins_fail(errstr, errstr_size, "order_lines: expected array");
    if (json_array_size(lines) > ORDER_MAX_LINES)
        return ins_fail(errstr, errstr_size, "order_lines: more than %d lines",
                        ORDER_MAX_LINES);
    o->lines = calloc(json_array_size(lines) + 1, sizeof(*o->lines));
    if (!o->lines)
        return ins_fail(errstr, errstr_size, "out of memory");
    for (size_t i = 0; i < json_array_size(lines); i++) {
        o->nlines = i + 1;
        if (ins_line_parse(json_array_get(lines, i), i, &o->lines[i], errstr,
                           errstr_size) < 0)
            return -1;
    }
    return 0;
}

/* id, version, number, statuses. */
static int ins_order_head(const json_t *raw, struct order *o, char *errstr,
                          size_t errstr_size)
{
    const json_t *v = json_object_get(raw, "id");

    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return ins_fail(errstr, errstr_size, "id: expected integer > 0");
    o->remote_id = json_integer_value(v);
    v = json_object_get(raw, "updated_at");
    if (!json_is_string(v))
        return ins_fail(errstr, errstr_size, "updated_at: expected string");
    if (order_ts_parse(json_string_value(v), &o->updated_us) < 0)
        return ins_fail(errstr, errstr_size,
                        "updated_at: '%.64s' is not an RFC 3339 timestamp",
                        json_string_value(v));
    o->number = ins_strdup_opt(raw, "number");
    v = json_object_get(raw, "fulfillment_status");
    if (v && !json_is_null(v) && (!json_is_string(v) || !json_string_length(v)))
        return ins_fail(errstr, errstr_size,
                        "fulfillment_status: expected non-empty string");
    o->status_label =
        strdup(v && json_is_string(v) ? json_string_value(v) : "new");
    if (!o->status_label)
        return ins_fail(errstr, errstr_size, "out of memory");
    o->status = insales_order_status(o->status_label);
    o->payment_status = ins_strdup_opt(raw, "financial_status");
    return 0;
}

/* Totals, delivery, the client. */
static int ins_order_money(const json_t *raw, struct order *o, char *errstr,
                           size_t errstr_size)
{
    const json_t *v;

    if (ins_money_opt(raw, "total_price", o->total_price,
                      sizeof(o->total_price), "") < 0)
        return ins_fail(errstr, errstr_size,
                        "total_price: expected money 0..999999999.99");
    if (ins_money_opt(raw, "delivery_price", o->delivery_price,
                      sizeof(o->delivery_price), "") < 0)
        return ins_fail(errstr, errstr_size,
                        "delivery_price: expected money 0..999999999.99");
    o->delivery_title = ins_strdup_opt(raw, "delivery_title");
    v = json_object_get(raw, "client");
    if (json_is_object(v))
        o->client = json_incref((json_t *)(uintptr_t)v);
    return 0;
}

int insales_order_parse(const json_t *raw, struct order *o, char *errstr,
                        size_t errstr_size)
{
    memset(o, 0, sizeof(*o));
    if (!json_is_object(raw))
        return ins_fail(errstr, errstr_size, "order: expected object");
    if (ins_order_head(raw, o, errstr, errstr_size) < 0 ||
        ins_order_money(raw, o, errstr, errstr_size) < 0 ||
        ins_order_lines(raw, o, errstr, errstr_size) < 0) {
        order_clear(o);
        return -1;
    }
    return 0;
}

/* ---- webhooks ----------------------------------------------------------- */

int insales_webhook_address(const char *base_url, const char *secret, char *out,
                            size_t out_size)
{
    int n = snprintf(out, out_size, "%s" INS_HOOK_PRE "%s" INS_HOOK_POST,
                     base_url, secret ? secret : "");

    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}

/* Which of the topics the store sends to @p addr already. */
static void ins_hooks_have(const json_t *list, const char *addr,
                           int have[INS_NTOPICS])
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *wh = json_array_get(list, i);
        const char *wa = json_string_value(json_object_get(wh, "address"));
        const char *wt = json_string_value(json_object_get(wh, "topic"));

        for (size_t t = 0; t < INS_NTOPICS; t++)
            if (wa && wt && strcmp(wa, addr) == 0 &&
                strcmp(wt, ins_hook_topics[t]) == 0)
                have[t] = 1;
    }
}

static enum outcome ins_hook_create(struct store_call *call, const char *addr,
                                    const char *topic)
{
    enum outcome o =
        ins_call_payload(call, STORE_OP_WEBHOOK_CREATE, 0,
                         json_pack("{s:s, s:s, s:s}", "address", addr, "topic",
                                   topic, "format_type", "json"));

    /* 422 "already exists": another instance registered it first. */
    if (o == OUTCOME_REJECTED && call->last.status == 422) {
        call->why[0] = '\0';
        return OUTCOME_OK;
    }
    return o;
}

enum outcome insales_webhooks_register(struct store_call *call,
                                       const char *base_url, const char *secret,
                                       int *created)
{
    struct store_req_args a;
    char addr[1024];
    int have[INS_NTOPICS] = {0};
    enum outcome o;

    if (created)
        *created = 0;
    if (insales_webhook_address(base_url, secret, addr, sizeof(addr)) < 0) {
        store_call_clear(call);
        return store_call_fail(call, OUTCOME_REJECTED,
                               "webhook address too long");
    }
    memset(&a, 0, sizeof(a));
    o = store_call_run(call, STORE_OP_WEBHOOKS_LIST, &a);
    if (o != OUTCOME_OK)
        return o;
    ins_hooks_have(call->last.body, addr, have);
    for (size_t t = 0; t < INS_NTOPICS; t++) {
        if (have[t])
            continue;
        o = ins_hook_create(call, addr, ins_hook_topics[t]);
        if (o != OUTCOME_OK)
            return o;
        if (created)
            (*created)++;
    }
    return OUTCOME_OK;
}

/* The secret in "/hooks/<secret>/orders", or NULL. */
static const char *ins_hook_secret(const char *path)
{
    const char *s;

    if (!path || strncmp(path, INS_HOOK_PRE, strlen(INS_HOOK_PRE)) != 0)
        return NULL;
    s = path + strlen(INS_HOOK_PRE);
    for (size_t i = 0; i < INSALES_HOOK_SECRET_LEN; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return NULL;
    if (strcmp(s + INSALES_HOOK_SECRET_LEN, INS_HOOK_POST) != 0)
        return NULL;
    return s;
}

int insales_webhook_route(const char *path)
{
    return ins_hook_secret(path) != NULL;
}

int insales_webhook_authenticate(const struct webhook_request *req,
                                 const char *secret)
{
    const char *s = ins_hook_secret(req ? req->path : NULL);

    if (!s || !secret || strlen(secret) != INSALES_HOOK_SECRET_LEN)
        return 0;
    return sodium_memcmp(s, secret, INSALES_HOOK_SECRET_LEN) == 0;
}
