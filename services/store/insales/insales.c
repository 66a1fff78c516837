#include "store/insales/insales.h"

#include "store/insales/insales_stock.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bits of what an operation needs. */
#define INS_ID 0x1     /* product/order/webhook id in the path */
#define INS_SUB 0x2    /* variant/image id in the path */
#define INS_BODY 0x4   /* payload object, wrapped in root */
#define INS_ARRAY 0x8  /* payload array, wrapped in root */
#define INS_LIST 0x10  /* paging/incremental query parameters */
#define INS_EMPTY 0x20 /* body {} (the store wants JSON even when empty) */

/* Largest variants_group_update batch the store accepts (INSALES.md §3.1). */
#define INS_GROUP_MAX INSALES_GROUP_MAX

struct ins_op {
    const char *method;
    const char *path; /* printf pattern: {id} for id, then sub_id */
    int flags;
    const char *root; /* body root key */
};

static const struct ins_op ins_ops[STORE_OP__COUNT] = {
    [STORE_OP_ACCOUNT_GET] = {"GET", "/admin/account.json", 0, NULL},
    [STORE_OP_PRODUCTS_LIST] = {"GET", "/admin/products.json", INS_LIST, NULL},
    [STORE_OP_PRODUCT_GET] = {"GET", "/admin/products/{id}.json", INS_ID, NULL},
    [STORE_OP_PRODUCT_CREATE] = {"POST", "/admin/products.json", INS_BODY,
                                 "product"},
    [STORE_OP_PRODUCT_UPDATE] = {"PUT", "/admin/products/{id}.json",
                                 INS_ID | INS_BODY, "product"},
    [STORE_OP_PRODUCT_DELETE] = {"DELETE", "/admin/products/{id}.json", INS_ID,
                                 NULL},
    [STORE_OP_VARIANTS_LIST] = {"GET", "/admin/products/{id}/variants.json",
                                INS_ID, NULL},
    [STORE_OP_VARIANT_GET] = {"GET", "/admin/products/{id}/variants/{sub}.json",
                              INS_ID | INS_SUB, NULL},
    [STORE_OP_VARIANT_CREATE] = {"POST", "/admin/products/{id}/variants.json",
                                 INS_ID | INS_BODY, "variant"},
    [STORE_OP_VARIANT_UPDATE] = {"PUT",
                                 "/admin/products/{id}/variants/{sub}.json",
                                 INS_ID | INS_SUB | INS_BODY, "variant"},
    [STORE_OP_VARIANT_DELETE] = {"DELETE",
                                 "/admin/products/{id}/variants/{sub}.json",
                                 INS_ID | INS_SUB, NULL},
    [STORE_OP_VARIANTS_GROUP_UPDATE] = {"PUT",
                                        "/admin/products/"
                                        "variants_group_update.json",
                                        INS_ARRAY, "variants"},
    [STORE_OP_IMAGES_LIST] = {"GET", "/admin/products/{id}/images.json", INS_ID,
                              NULL},
    [STORE_OP_IMAGE_CREATE] = {"POST", "/admin/products/{id}/images.json",
                               INS_ID | INS_BODY, "image"},
    [STORE_OP_CATEGORIES_LIST] = {"GET", "/admin/categories.json", 0, NULL},
    [STORE_OP_CATEGORY_CREATE] = {"POST", "/admin/categories.json", INS_BODY,
                                  "category"},
    [STORE_OP_ORDERS_LIST] = {"GET", "/admin/orders.json", INS_LIST, NULL},
    [STORE_OP_ORDER_GET] = {"GET", "/admin/orders/{id}.json", INS_ID, NULL},
    [STORE_OP_ORDER_UPDATE] = {"PUT", "/admin/orders/{id}.json",
                               INS_ID | INS_BODY, "order"},
    [STORE_OP_WEBHOOKS_LIST] = {"GET", "/admin/webhooks.json", 0, NULL},
    [STORE_OP_WEBHOOK_CREATE] = {"POST", "/admin/webhooks.json", INS_BODY,
                                 "webhook"},
    [STORE_OP_WEBHOOK_DELETE] = {"DELETE", "/admin/webhooks/{id}.json", INS_ID,
                                 NULL},
    [STORE_OP_PRODUCT_RECOVER] = {"POST", "/admin/products/{id}/recover.json",
                                  INS_ID | INS_EMPTY, NULL},
    [STORE_OP_IMAGE_DELETE] = {"DELETE",
                               "/admin/products/{id}/images/{sub}.json",
                               INS_ID | INS_SUB, NULL},
    [STORE_OP_IMAGE_UPDATE] = {"PUT", "/admin/products/{id}/images/{sub}.json",
                               INS_ID | INS_SUB | INS_BODY, "image"},
    [STORE_OP_CATEGORY_UPDATE] = {"PUT", "/admin/categories/{id}.json",
                                  INS_ID | INS_BODY, "category"},
    [STORE_OP_CATEGORY_DELETE] = {"DELETE", "/admin/categories/{id}.json",
                                  INS_ID, NULL},
};

/* Append the string @p s to out at *len; -1 when it does not fit. */
static int ins_put(char *out, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);

    if (*len + n >= size)
        return -1;
    memcpy(out + *len, s, n + 1);
    *len += n;
    return 0;
}

/* Append "<sep><name>=<n>". */
static int ins_put_num(char *out, size_t size, size_t *len, char *sep,
                       const char *name, long long n)
{
    char num[64];

    snprintf(num, sizeof(num), "%c%s=%lld", *sep, name, n);
    *sep = '&';
    return ins_put(out, size, len, num);
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
static int ins_escape(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            if (n + 1 >= size)
                return -1;
            out[n++] = (char)c;
        } else {
            if (n + 3 >= size)
                return -1;
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
    return 0;
}

/* The list query: per_page, page, updated_since (+ from_id). */
static int ins_query(const struct store_req_args *a, char *out, size_t size,
                     size_t *len)
{
    char esc[256];
    char sep = '?';
    char pre[24];

    if (a->per_page > 0 &&
        ins_put_num(out, size, len, &sep, "per_page", a->per_page) != 0)
        return -1;
    if (a->page > 0 && ins_put_num(out, size, len, &sep, "page", a->page) != 0)
        return -1;
    if (a->updated_since && *a->updated_since) {
        if (ins_escape(a->updated_since, esc, sizeof(esc)) != 0)
            return -1;
        snprintf(pre, sizeof(pre), "%cupdated_since=", sep);
        sep = '&';
        if (ins_put(out, size, len, pre) != 0 ||
            ins_put(out, size, len, esc) != 0)
            return -1;
        /* from_id means nothing without updated_since (INSALES.md §2.2). */
        if (a->from_id > 0 &&
            ins_put_num(out, size, len, &sep, "from_id", a->from_id) != 0)
            return -1;
    }
    return 0;
}

/* Expand {id} and {sub} in a path template. */
static int ins_path(const char *tpl, const struct store_req_args *a, char *out,
                    size_t size, size_t *len)
{
    char num[32];
    const char *p = tpl;

    *len = 0;
    out[0] = '\0';
    while (*p) {
        if (strncmp(p, "{id}", 4) == 0 || strncmp(p, "{sub}", 5) == 0) {
            int is_id = p[1] == 'i';

            snprintf(num, sizeof(num), "%lld", is_id ? a->id : a->sub_id);
            if (ins_put(out, size, len, num) != 0)
                return -1;
            p += is_id ? 4 : 5;
        } else {
            if (*len + 1 >= size)
                return -1;
            out[(*len)++] = *p++;
            out[*len] = '\0';
        }
    }
    return 0;
}

/* What the operation needs from its arguments; errstr when missing. */
static int ins_args_check(enum store_op op, const struct ins_op *o,
                          const struct store_req_args *a, char *errstr,
                          size_t errstr_size)
{
    size_t n = json_array_size(a->payload);

    if ((o->flags & INS_ID) && a->id <= 0) {
        snprintf(errstr, errstr_size, "insales: %s needs an id",
                 store_op_name(op));
        return -1;
    }
    if ((o->flags & INS_SUB) && a->sub_id <= 0) {
        snprintf(errstr, errstr_size, "insales: %s needs a sub id",
                 store_op_name(op));
        return -1;
    }
    if ((o->flags & INS_BODY) && !json_is_object(a->payload)) {
        snprintf(errstr, errstr_size, "insales: %s needs an object payload",
                 store_op_name(op));
        return -1;
    }
    if ((o->flags & INS_ARRAY) &&
        (!json_is_array(a->payload) || n == 0 || n > INS_GROUP_MAX)) {
        snprintf(errstr, errstr_size,
                 "insales: %s needs an array of 1..%d items", store_op_name(op),
                 INS_GROUP_MAX);
        return -1;
    }
    return 0;
}

/* The body: the payload wrapped in the resource's root key, or {} where
 * the store wants JSON even without fields.  NULL when out of memory. */
static json_t *ins_body(const struct ins_op *o, const struct store_req_args *a)
{
    json_t *body = json_object();

    if (body && (o->flags & (INS_BODY | INS_ARRAY)) &&
        json_object_set(body, o->root, a->payload) != 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

int insales_request_build(enum store_op op, const struct store_req_args *a,
                          struct store_http_req *out, char *errstr,
                          size_t errstr_size)
{
    static const struct store_req_args none;
    const struct ins_op *o;
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    if (!a)
        a = &none;
    if ((int)op < 0 || op >= STORE_OP__COUNT || !ins_ops[op].method) {
        snprintf(errstr, errstr_size, "insales: unknown operation %d", (int)op);
        return -1;
    }
    o = &ins_ops[op];
    if (ins_args_check(op, o, a, errstr, errstr_size) != 0)
        return -1;
    if (ins_path(o->path, a, out->path, sizeof(out->path), &len) != 0 ||
        ((o->flags & INS_LIST) &&
         ins_query(a, out->path, sizeof(out->path), &len) != 0)) {
        snprintf(errstr, errstr_size, "insales: %s: path too long",
                 store_op_name(op));
        out->path[0] = '\0';
        return -1;
    }
    if (o->flags & (INS_BODY | INS_ARRAY | INS_EMPTY)) {
        out->body = ins_body(o, a);
        if (!out->body) {
            snprintf(errstr, errstr_size, "insales: out of memory");
            out->path[0] = '\0';
            return -1;
        }
    }
    out->method = o->method;
    return 0;
}

/* Parse [spaces] digits [spaces]; advance *p.  -1 on no digits/overflow. */
static int ins_parse_num(const char **p, long *v)
{
    const char *s = *p;
    char *end;
    long long n;

    while (*s == ' ' || *s == '\t')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno == ERANGE || n < 0 || n > 1000000000LL)
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    *v = (long)n;
    *p = end;
    return 0;
}

int insales_usage_parse(const char *value, long *used, long *limit)
{
    const char *p = value;
    long u, l;

    if (!p)
        return -1;
    if (ins_parse_num(&p, &u) != 0 || *p != '/')
        return -1;
    p++;
    if (ins_parse_num(&p, &l) != 0)
        return -1;
    while (*p == '\r' || *p == '\n')
        p++;
    if (*p != '\0' || l < 1)
        return -1;
    *used = u;
    *limit = l;
    return 0;
}

static int ins_build(enum store_op op, const struct store_req_args *a,
                     struct store_http_req *out, char *errstr,
                     size_t errstr_size)
{
    return insales_request_build(op, a, out, errstr, errstr_size);
}

const struct store_adapter insales_adapter = {
    .name = INSALES_NAME,
    .limit =
        {
            .kind = STORE_LIMIT_FIXED_WINDOW,
            .limit = INSALES_LIMIT,
            .window_s = INSALES_WINDOW_S,
            .leak_per_s = 0,
            .usage_header = "API-Usage-Limit",
        },
    .retry_after_default_s = 150, /* the official gem's wait (§7) */
    .build = ins_build,
    .parse_usage = insales_usage_parse,
};
