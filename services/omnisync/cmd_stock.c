/*
 * cmd_stock — `omnisync stock ...`: stock movements through the ledger
 * (receipt, sale, return, writeoff, transfer, count) and `stock show`.
 */
#include "cli.h"
#include "ledger/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Up to two locations: a transfer's FROM and TO. */
struct stock_req {
    const char *kind;
    const char *loc_codes[2];
    size_t nlocs;
    const char *sku;
    long long qty;
    const char *ref; /* may be NULL */
    int as_json;     /* --json */
};

/* --json: the movement, or {"already_applied": true} for a repeated ref. */
static int stock_json(const struct stock_req *r,
                      const struct ledger_line *lines, long long move_id,
                      int duplicate)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr && !duplicate && i < r->nlocs; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:I}", "location", r->loc_codes[i],
                           "delta", (json_int_t)lines[i].on_hand_delta,
                           "on_hand", (json_int_t)lines[i].on_hand_after));
    if (!arr)
        return cli_json_print(NULL);
    return cli_json_print(json_pack(
        "{s:s, s:s, s:I, s:s?, s:b, s:o, s:o}", "kind", r->kind, "sku", r->sku,
        "qty", (json_int_t)r->qty, "ref", r->ref, "already_applied", duplicate,
        "movement", duplicate ? json_null() : json_integer(move_id), "lines",
        arr));
}

/* The movement as a line of text. */
static void stock_print(const struct stock_req *r,
                        const struct ledger_line *lines, long long move_id)
{
    if (!strcmp(r->kind, LEDGER_TRANSFER))
        printf("transfer %s -> %s %s %lld: on hand %s %lld, %s %lld "
               "(movement %lld)\n",
               r->loc_codes[0], r->loc_codes[1], r->sku, r->qty,
               r->loc_codes[0], lines[0].on_hand_after, r->loc_codes[1],
               lines[1].on_hand_after, move_id);
    else if (!strcmp(r->kind, LEDGER_COUNT))
        printf("count %s %s = %lld (%+lld): on hand %lld (movement %lld)\n",
               r->loc_codes[0], r->sku, r->qty, lines[0].on_hand_delta,
               lines[0].on_hand_after, move_id);
    else
        printf("%s %s %s %+lld: on hand %lld (movement %lld)\n", r->kind,
               r->loc_codes[0], r->sku, lines[0].on_hand_delta,
               lines[0].on_hand_after, move_id);
}

/* Resolve codes, apply the movement, report.  Returns a CLI_* code. */
static int stock_apply(const struct stock_req *r)
{
    struct ledger_line lines[2];
    struct ledger_move m;
    char err[1024], sqlstate[6], name[64];
    long long loc_ids[2], var_id, move_id;
    enum ledger_res res;
    PGconn *pg;
    size_t i;
    int rc = CLI_DEPENDENCY;

    snprintf(name, sizeof(name), "stock %s", r->kind);
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    for (i = 0; i < r->nlocs; i++) {
        loc_ids[i] = cli_id_lookup(pg, "location", r->loc_codes[i]);
        if (loc_ids[i] < 0)
            goto out;
        if (loc_ids[i] == 0) {
            rc = cli_err(CLI_USAGE, "%s: unknown location '%s'", name,
                         r->loc_codes[i]);
            goto out;
        }
    }
    var_id = cli_id_lookup(pg, "variant", r->sku);
    if (var_id < 0)
        goto out;
    if (var_id == 0) {
        rc = cli_err(CLI_USAGE, "%s: unknown SKU '%s'", name, r->sku);
        goto out;
    }
    memset(lines, 0, sizeof(lines));
    for (i = 0; i < r->nlocs; i++) {
        lines[i].location_id = loc_ids[i];
        lines[i].variant_id = var_id;
    }
    if (!strcmp(r->kind, LEDGER_RECEIPT) || !strcmp(r->kind, LEDGER_RETURN)) {
        lines[0].on_hand_delta = r->qty;
    } else if (!strcmp(r->kind, LEDGER_TRANSFER)) {
        lines[0].on_hand_delta = -r->qty;
        lines[1].on_hand_delta = r->qty;
    } else if (!strcmp(r->kind, LEDGER_COUNT)) {
        lines[0].on_hand_delta = r->qty;
        lines[0].on_hand_absolute = 1;
    } else { /* sale, writeoff */
        lines[0].on_hand_delta = -r->qty;
    }
    memset(&m, 0, sizeof(m));
    m.kind = r->kind;
    m.idem_key = r->ref;
    m.lines = lines;
    m.nlines = r->nlocs;
    res = ledger_move_apply_tx(pg, &m, &move_id, err, sizeof(err), sqlstate);
    if (res == LEDGER_ERR) {
        rc = cli_err(CLI_DEPENDENCY, "%s: %s", name, err);
        goto out;
    }
    rc = CLI_OK;
    if (r->as_json)
        rc = stock_json(r, lines, move_id, res == LEDGER_DUPLICATE);
    else if (res == LEDGER_DUPLICATE)
        printf("already applied: ref %s\n", r->ref);
    else
        stock_print(r, lines, move_id);
    if (res == LEDGER_DUPLICATE)
        goto out;
    /* Selling what the ledger did not know about is allowed (the shop
     * sold it), but someone should look. */
    for (i = 0; i < r->nlocs; i++)
        if (lines[i].on_hand_delta < 0 && lines[i].on_hand_after < 0)
            fprintf(stderr,
                    "omnisync: warning: on hand of %s at %s is now %lld\n",
                    r->sku, r->loc_codes[i], lines[i].on_hand_after);
out:
    PQfinish(pg);
    return rc;
}

/* stock receipt|sale|return|writeoff|count LOCATION SKU QTY [--ref KEY] */
static int stock_simple(int argc, char **argv)
{
    struct stock_req r;
    const char *ref = NULL, *pos[3];
    int npos, rc, as_json = 0;
    const struct cli_opt opts[] = {
        {"--ref", &ref, NULL},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    int is_count = !strcmp(argv[0], LEDGER_COUNT);
    char name[64];

    snprintf(name, sizeof(name), "stock %s", argv[0]);
    rc = cli_args_parse(name, argc, argv, opts, pos, 3, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 3)
        return cli_err(CLI_USAGE, "%s: LOCATION, SKU and QTY are required",
                       name);
    memset(&r, 0, sizeof(r));
    r.kind = argv[0];
    r.loc_codes[0] = pos[0];
    r.nlocs = 1;
    r.sku = pos[1];
    if (cli_qty_parse(pos[2], is_count, &r.qty) < 0)
        return cli_err(CLI_USAGE, "%s: bad QTY '%s' (%s integer up to %lld)",
                       name, pos[2], is_count ? "a non-negative" : "a positive",
                       CLI_QTY_MAX);
    if (ref && !*ref)
        return cli_err(CLI_USAGE, "%s: --ref is empty", name);
    r.ref = ref;
    r.as_json = as_json;
    return stock_apply(&r);
}

/* stock transfer FROM TO SKU QTY [--ref KEY] */
static int stock_transfer(int argc, char **argv)
{
    struct stock_req r;
    const char *ref = NULL, *pos[4];
    int npos, rc, as_json = 0;
    const struct cli_opt opts[] = {
        {"--ref", &ref, NULL},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };

    rc = cli_args_parse("stock transfer", argc, argv, opts, pos, 4, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 4)
        return cli_err(CLI_USAGE,
                       "stock transfer: FROM, TO, SKU and QTY are required");
    memset(&r, 0, sizeof(r));
    r.kind = LEDGER_TRANSFER;
    r.loc_codes[0] = pos[0];
    r.loc_codes[1] = pos[1];
    r.nlocs = 2;
    r.sku = pos[2];
    if (!strcmp(pos[0], pos[1]))
        return cli_err(CLI_USAGE,
                       "stock transfer: FROM and TO are the same location "
                       "'%s'",
                       pos[0]);
    if (cli_qty_parse(pos[3], 0, &r.qty) < 0)
        return cli_err(CLI_USAGE,
                       "stock transfer: bad QTY '%s' (a positive integer up "
                       "to %lld)",
                       pos[3], CLI_QTY_MAX);
    if (ref && !*ref)
        return cli_err(CLI_USAGE, "stock transfer: --ref is empty");
    r.ref = ref;
    r.as_json = as_json;
    return stock_apply(&r);
}

/* stock show [--location CODE] [--sku SKU] [--json] */
static int stock_show(int argc, char **argv)
{
    static const char *const headers[] = {"location", "sku", "on_hand",
                                          "reserved"};
    const char *loc = NULL, *sku = NULL, *pos[1];
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--location", &loc, NULL},
        {"--sku", &sku, NULL},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024];
    PGconn *pg;
    PGresult *res = NULL;
    long long id;

    rc = cli_args_parse("stock show", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rc = CLI_DEPENDENCY;
    if (loc) {
        id = cli_id_lookup(pg, "location", loc);
        if (id <= 0) {
            if (id == 0)
                rc = cli_err(CLI_USAGE, "stock show: unknown location '%s'",
                             loc);
            goto out;
        }
    }
    if (sku) {
        id = cli_id_lookup(pg, "variant", sku);
        if (id <= 0) {
            if (id == 0)
                rc = cli_err(CLI_USAGE, "stock show: unknown SKU '%s'", sku);
            goto out;
        }
    }
    res = ledger_level_list(pg, loc, sku, err, sizeof(err));
    if (!res) {
        cli_err(CLI_DEPENDENCY, "%s", err);
        goto out;
    }
    rc = cli_print_result(res, 4, headers, "ssii", as_json);
out:
    PQclear(res);
    PQfinish(pg);
    return rc;
}

static const struct cli_sub stock_subs[] = {
    {"receipt", stock_simple,
     "stock receipt LOCATION SKU QTY [--ref KEY] [--json]\n"
     "  Goods received at LOCATION: on hand += QTY (QTY > 0)."},
    {"sale", stock_simple,
     "stock sale LOCATION SKU QTY [--ref KEY] [--json]\n"
     "  Goods sold at LOCATION: on hand -= QTY.  May go below zero (warns)."},
    {"return", stock_simple,
     "stock return LOCATION SKU QTY [--ref KEY] [--json]\n"
     "  Goods returned by a customer: on hand += QTY."},
    {"writeoff", stock_simple,
     "stock writeoff LOCATION SKU QTY [--ref KEY] [--json]\n"
     "  Goods written off: on hand -= QTY.  May go below zero (warns)."},
    {"transfer", stock_transfer,
     "stock transfer FROM TO SKU QTY [--ref KEY] [--json]\n"
     "  Move QTY from FROM to TO: one movement with two lines."},
    {"count", stock_simple,
     "stock count LOCATION SKU QTY [--ref KEY] [--json]\n"
     "  Stocktaking: set on hand to QTY (QTY >= 0); records the difference."},
    {"show", stock_show,
     "stock show [--location CODE] [--sku SKU] [--json]\n"
     "  Stock levels: location, sku, on_hand, reserved; sorted by location\n"
     "  then SKU."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync stock ...`.  A repeated --ref KEY changes nothing and
 *        prints "already applied: ref KEY" (exit 0).
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_stock(int argc, char **argv)
{
    return cli_sub_run(stock_subs, argc, argv);
}
