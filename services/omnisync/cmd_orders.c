/*
 * omnisync orders list|show — customer orders from online stores
 * (written by order-ingestor; docs/order-ingestor.md).
 */
#include "cli.h"

#include "ledger/orders.h"

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
    rc = CLI_OK;
out:
    cli_table_destroy(t);
    json_decref(arr);
    return rc;
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
                                         NULL};
    static const char *const lh[] = {"line",  "sku",     "title",   "qty",
                                     "price", "variant", "delivery"};
    static const char *const lk[] = {"line_no",    "sku",   "title",
                                     "quantity",   "price", "variant_id",
                                     "is_delivery"};
    static const char *const mh[] = {"movement", "kind",    "location",
                                     "sku",      "on_hand", "reserved"};
    const char *pos[2], *cells[7];
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024];
    struct cli_table *t = NULL;
    long long rid;
    json_t *o, *ls, *ms;
    PGconn *pg;
    size_t i, k;

    rc = cli_args_parse("orders show", argc, argv, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 2)
        return cli_err(CLI_USAGE, "orders show: STORE and REMOTE_ID required");
    {
        char *end;

        errno = 0;
        rid = strtoll(pos[1], &end, 10);
        if (errno || end == pos[1] || *end || rid <= 0)
            return cli_err(CLI_USAGE, "orders show: bad REMOTE_ID '%s'",
                           pos[1]);
    }
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
    t = cli_table_new(7, lh);
    if (!t)
        goto out;
    for (i = 0; i < json_array_size(ls); i++) {
        for (k = 0; k < 7; k++)
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
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync orders list|show`.
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_orders(int argc, char **argv)
{
    return cli_sub_run(orders_subs, argc, argv);
}
