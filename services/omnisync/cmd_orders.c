/*
 * omnisync orders list|show|resolve — customer orders from online stores
 * (written by order-ingestor; docs/order-ingestor.md).
 */
#include "cli.h"

#include "ledger/orders.h"
#include "store/platform.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *orders_s(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    static char buf[4][64];
    static int slot;

    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        slot = (slot + 1) % 4;
        snprintf(buf[slot], sizeof(buf[slot]), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return buf[slot];
    }
    if (json_is_true(v))
        return "yes";
    if (json_is_false(v))
        return "no";
    return "";
}

/* `orders list --needs-attention`: why each line needs attention. */
static int orders_line_reasons_print(const json_t *arr)
{
    static const char *const h[] = {"store", "remote_id", "line",
                                    "sku",   "qty",       "line_reason"};
    static const char *const keys[] = {"store", "remote_id", "line",
                                       "sku",   "quantity",  "reason"};
    struct cli_table *t = cli_table_new(6, h);
    const char *cells[6];
    const json_t *o, *l;
    size_t i, k;
    int rc = CLI_DEPENDENCY;

    if (!t)
        return rc;
    json_array_foreach(arr, i, o)
    {
        json_array_foreach(json_object_get(o, "line_reasons"), k, l)
        {
            for (size_t c = 0; c < 6; c++)
                cells[c] = orders_s(l, keys[c]);
            if (cli_table_row(t, cells) < 0)
                goto out;
        }
    }
    printf("\nlines:\n");
    cli_table_print(t);
    rc = CLI_OK;
out:
    cli_table_destroy(t);
    return rc;
}

static int orders_list(int argc, char **argv)
{
    static const char *const headers[] = {"store",  "remote_id", "number",
                                          "status", "stock",     "lines",
                                          "total",  "delivery",  "reason"};
    static const char *const keys[] = {
        "store",       "remote_id",      "number",
        "status",      "stock_state",    "lines",
        "total_price", "delivery_price", "attention_reason"};
    const char *store = NULL, *status = NULL, *pos[1], *cells[9];
    int as_json = 0, attention = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--store", &store, NULL},
        {"--status", &status, NULL},
        {"--needs-attention", NULL, &attention},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024];
    struct cli_table *t = NULL;
    json_t *arr;
    PGconn *pg;
    size_t i;

    rc = cli_args_parse("orders list", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rc = store ? cli_store_known(pg, "orders list", store) : CLI_OK;
    arr = rc == CLI_OK
              ? orders_list_json(pg, store, status, attention, err, sizeof(err))
              : NULL;
    PQfinish(pg);
    if (rc != CLI_OK)
        return rc;
    if (!arr)
        return cli_err(CLI_DEPENDENCY, "%s", err);
    if (as_json)
        return cli_json_print(arr);
    rc = CLI_DEPENDENCY;
    t = cli_table_new(9, headers);
    if (!t)
        goto out;
    for (i = 0; i < json_array_size(arr); i++) {
        for (size_t k = 0; k < 9; k++)
            cells[k] = orders_s(json_array_get(arr, i), keys[k]);
        if (cli_table_row(t, cells) < 0)
            goto out;
    }
    cli_table_print(t);
    rc = attention ? orders_line_reasons_print(arr) : CLI_OK;
out:
    cli_table_destroy(t);
    json_decref(arr);
    return rc;
}

/* REMOTE_ID: a positive decimal.  0, or -1 (printed). */
static int orders_rid_check(const char *cmd, const char *s)
{
    char *end;
    long long rid;

    errno = 0;
    rid = strtoll(s, &end, 10);
    if (errno || end == s || *end || rid <= 0)
        return cli_err(-1, "%s: bad REMOTE_ID '%s'", cmd, s);
    return 0;
}

static int orders_show(int argc, char **argv)
{
    static const char *const fields[] = {"store",
                                         "remote_id",
                                         "number",
                                         "status",
                                         "fulfillment_status",
                                         "financial_status",
                                         "stock_state",
                                         "attention_reason",
                                         "total_price",
                                         "delivery_price",
                                         "resolved_by",
                                         "resolved_at",
                                         NULL};
    static const char *const lh[] = {"line",     "sku",     "title",
                                     "qty",      "price",   "variant",
                                     "delivery", "dropped", "attention"};
    static const char *const lk[] = {"line_no",     "sku",     "title",
                                     "quantity",    "price",   "variant_id",
                                     "is_delivery", "dropped", "attention"};
    static const char *const mh[] = {"movement", "kind",    "location",
                                     "sku",      "on_hand", "reserved"};
    const char *pos[2], *cells[9];
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024];
    struct cli_table *t = NULL;
    json_t *o, *ls, *ms;
    PGconn *pg;
    size_t i, k;

    rc = cli_args_parse("orders show", argc, argv, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 2)
        return cli_err(CLI_USAGE, "orders show: STORE and REMOTE_ID required");
    if (orders_rid_check("orders show", pos[1]) < 0)
        return CLI_USAGE;
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rc = cli_store_known(pg, "orders show", pos[0]);
    o = rc == CLI_OK ? orders_show_json(pg, pos[0], pos[1], err, sizeof(err))
                     : NULL;
    PQfinish(pg);
    if (rc != CLI_OK)
        return rc;
    if (!o)
        return cli_err(CLI_DEPENDENCY, "%s", err);
    if (json_is_null(o)) {
        json_decref(o);
        return cli_err(CLI_USAGE, "orders show: no order %s in store %s",
                       pos[1], pos[0]);
    }
    if (as_json)
        return cli_json_print(o);
    rc = CLI_DEPENDENCY;
    for (i = 0; fields[i]; i++)
        printf("%-19s %s\n", fields[i], orders_s(o, fields[i]));
    printf("\nlines:\n");
    ls = json_object_get(o, "lines");
    t = cli_table_new(9, lh);
    if (!t)
        goto out;
    for (i = 0; i < json_array_size(ls); i++) {
        for (k = 0; k < 9; k++)
            cells[k] = orders_s(json_array_get(ls, i), lk[k]);
        if (cli_table_row(t, cells) < 0)
            goto out;
    }
    cli_table_print(t);
    cli_table_destroy(t);
    printf("\nmovements:\n");
    ms = json_object_get(o, "movements");
    t = cli_table_new(6, mh);
    if (!t)
        goto out;
    for (i = 0; i < json_array_size(ms); i++) {
        json_t *m = json_array_get(ms, i), *mls = json_object_get(m, "lines");

        for (k = 0; k < json_array_size(mls); k++) {
            json_t *ml = json_array_get(mls, k);
            char id[32];

            snprintf(id, sizeof(id), "%s", orders_s(m, "id"));
            cells[0] = id;
            cells[1] = orders_s(m, "kind");
            cells[2] = orders_s(ml, "location");
            cells[3] = orders_s(ml, "sku");
            cells[4] = orders_s(ml, "on_hand_delta");
            cells[5] = orders_s(ml, "reserved_delta");
            if (cli_table_row(t, cells) < 0)
                goto out;
        }
    }
    cli_table_print(t);
    rc = CLI_OK;
out:
    cli_table_destroy(t);
    json_decref(o);
    return rc;
}

/* The decisions of `orders resolve` as given (--map LINE=SKU, --drop
 * LINE, each repeatable) and the other words, for cli_args_parse(). */
#define ORDERS_MAX_DECISIONS 256

struct orders_resolve_args {
    struct orders_decision d[ORDERS_MAX_DECISIONS];
    size_t nd;
    char *rest[ORDERS_MAX_DECISIONS * 2 + 8];
    int nrest;
};

/* "3" or "3=SKU" into decision @p d: 0, or -1 (printed). */
static int orders_decision_parse(const char *opt, const char *val,
                                 struct orders_decision *d)
{
    const char *eq = strchr(val, '=');
    int map = !strcmp(opt, "--map");
    char *end;
    long long n;

    errno = 0;
    n = strtoll(val, &end, 10);
    if (errno || end == val || n < 1 || n > 100000 ||
        (map ? end != eq || !eq[1] : *end != '\0'))
        return cli_err(-1, "orders resolve: bad %s '%s' (%s)", opt, val,
                       map ? "LINE=SKU, LINE a line number from orders show"
                           : "LINE, a line number from orders show");
    d->line = (size_t)n;
    d->map_sku = map ? eq + 1 : NULL;
    return 0;
}

/* Take --map/--drop out of argv (both "--opt V" and "--opt=V"). */
static int orders_resolve_split(int argc, char **argv,
                                struct orders_resolve_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i], *val = NULL;
        char opt[8];

        if (!strncmp(w, "--map", 5) || !strncmp(w, "--drop", 6)) {
            size_t ol = w[2] == 'm' ? 5 : 6;

            snprintf(opt, sizeof(opt), "%.*s", (int)ol, w);
            if (w[ol] == '=')
                val = w + ol + 1;
            else if (w[ol] == '\0' && i + 1 < argc)
                val = argv[++i];
            else if (w[ol] == '\0')
                return cli_err(-1, "orders resolve: %s needs a value", opt);
        }
        if (!val) {
            if (a->nrest >= (int)(sizeof(a->rest) / sizeof(a->rest[0])))
                return cli_err(-1, "orders resolve: too many arguments");
            a->rest[a->nrest++] = argv[i];
            continue;
        }
        if (a->nd == ORDERS_MAX_DECISIONS)
            return cli_err(-1, "orders resolve: more than %d decisions",
                           ORDERS_MAX_DECISIONS);
        if (orders_decision_parse(opt, val, &a->d[a->nd++]) < 0)
            return -1;
    }
    if (a->nd == 0)
        return cli_err(-1, "orders resolve: give --map LINE=SKU or --drop "
                           "LINE (repeatable)");
    return 0;
}

/* The order's latest version, parsed again by its store's platform. */
static int orders_reparse(PGconn *pg, const char *store, const char *rid,
                          json_t **raw, struct order *o)
{
    const struct store_platform *p;
    char name[64], err[1024];
    int rc;

    rc = orders_store_platform(pg, store, name, sizeof(name), err, sizeof(err));
    if (rc != 0)
        return rc < 0
                   ? cli_err(CLI_DEPENDENCY, "%s", err)
                   : cli_err(CLI_USAGE, "orders resolve: no store '%s'", store);
    p = store_platform_find(name);
    *raw = orders_raw_get(pg, store, rid, err, sizeof(err));
    if (!*raw)
        return cli_err(CLI_DEPENDENCY, "%s", err);
    if (json_is_null(*raw))
        return cli_err(CLI_USAGE, "orders resolve: no order %s in store %s",
                       rid, store);
    if (!p || p->order_parse(*raw, o, err, sizeof(err)) < 0)
        return cli_err(CLI_USAGE,
                       "orders resolve: order %s cannot be read (%s); a "
                       "newer version from the store applies as usual",
                       rid, p ? err : "unknown platform");
    return CLI_OK;
}

static int orders_resolve_print(const char *store, const char *rid,
                                const struct orders_apply_info *info,
                                const char *by, int as_json)
{
    if (as_json)
        return cli_json_print(json_pack(
            "{s:s, s:s, s:s, s:s, s:s?, s:b}", "store", store, "remote_id", rid,
            "status", info->status, "resolved_by", by, "attention_reason",
            info->reason[0] ? info->reason : NULL, "needs_attention",
            info->attention));
    printf("resolved order %s of store %s by %s: status %s%s%s\n", rid, store,
           by, info->status, info->attention ? ", still: " : "",
           info->attention ? info->reason : "");
    return CLI_OK;
}

/* orders resolve STORE REMOTE_ID (--map LINE=SKU | --drop LINE)...
 * [--by NAME] [--json] */
static int orders_resolve_cmd(int argc, char **argv)
{
    static struct orders_resolve_args a;
    const char *pos[2], *by = NULL;
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--by", &by, NULL},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    struct orders_apply_info info;
    struct order o;
    char err[1024];
    json_t *raw = NULL;
    PGconn *pg;

    memset(&a, 0, sizeof(a));
    memset(&o, 0, sizeof(o));
    if (orders_resolve_split(argc, argv, &a) < 0)
        return CLI_USAGE;
    rc = cli_args_parse("orders resolve", a.nrest, a.rest, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 2 || orders_rid_check("orders resolve", pos[1]) < 0)
        return npos != 2 ? cli_err(CLI_USAGE, "orders resolve: STORE and "
                                              "REMOTE_ID required")
                         : CLI_USAGE;
    if (!by)
        by = getenv("USER");
    if (!by || !*by)
        return cli_err(CLI_USAGE, "orders resolve: who decides? --by NAME "
                                  "(USER is not set)");
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rc = orders_reparse(pg, pos[0], pos[1], &raw, &o);
    if (rc == CLI_OK) {
        enum orders_res res = orders_resolve(pg, pos[0], &o, raw, a.d, a.nd, by,
                                             &info, err, sizeof(err));

        rc = res == ORDERS_APPLIED ? CLI_OK
             : res == ORDERS_REJECT
                 ? cli_err(CLI_USAGE, "orders resolve: %s", err)
                 : cli_err(CLI_DEPENDENCY, "orders resolve: %s", err);
    }
    PQfinish(pg);
    order_clear(&o);
    json_decref(raw);
    return rc == CLI_OK
               ? orders_resolve_print(pos[0], pos[1], &info, by, as_json)
               : rc;
}

static const struct cli_sub orders_subs[] = {
    {"list", orders_list,
     "orders list [--store NAME] [--status S] [--needs-attention] [--json]\n"
     "  Customer orders from online stores: store, remote id, number,\n"
     "  status (the store's fulfillment status, or needs_attention), what\n"
     "  the ledger did with the stock, item lines, totals and the reason\n"
     "  an order needs attention.  --status matches the status or the\n"
     "  store's fulfillment status."},
    {"show", orders_show,
     "orders show STORE REMOTE_ID [--json]\n"
     "  One order: its fields, its lines (the delivery line included) and\n"
     "  the stock movements (reserve, release, ship, return) it made."},
    {"resolve", orders_resolve_cmd,
     "orders resolve STORE REMOTE_ID (--map LINE=SKU | --drop LINE)...\n"
     "        [--by NAME] [--json]\n"
     "  Apply an order that needs attention with your decision on its\n"
     "  lines (LINE: the line number in orders show): --map reads the\n"
     "  line as SKU, --drop leaves it out (kept, never reserved).  The\n"
     "  reservation follows the decided lines and the attention is decided\n"
     "  again (cleared when nothing is left).  The decision is recorded\n"
     "  with who (--by, default $USER) and when, and later versions of\n"
     "  the order from the store apply it too."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync orders list|show|resolve`.
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_orders(int argc, char **argv)
{
    return cli_sub_run(orders_subs, argc, argv);
}
