/*
 * cmd_location — `omnisync location add|list` and `omnisync pricelist
 * add|list`: the locations (warehouses, outlets, online stores) and the
 * price lists of the chain.
 */
#include "cli.h"
#include "ledger/catalog.h"
#include "ledger/ledger.h"
#include "lib/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int location_add(int argc, char **argv)
{
    const char *kind = NULL, *name = NULL, *pl = NULL, *pos[1];
    int npos, rc, as_json = 0;
    const struct cli_opt opts[] = {
        {"--kind", &kind, NULL},     {"--name", &name, NULL},
        {"--price-list", &pl, NULL}, {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024], sqlstate[6];
    PGconn *pg = NULL;
    long long pl_id = 0;

    rc = cli_args_parse("location add", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "location add: CODE is required");
    rc = cli_code_name_check("location add", pos[0], name);
    if (rc != CLI_OK)
        return rc;
    if (!kind)
        return cli_err(CLI_USAGE, "location add: --kind is required "
                                  "(warehouse, outlet or online)");
    if (strcmp(kind, "warehouse") && strcmp(kind, "outlet") &&
        strcmp(kind, "online"))
        return cli_err(CLI_USAGE,
                       "location add: bad --kind '%s' (warehouse, outlet or "
                       "online)",
                       kind);
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    rc = CLI_DEPENDENCY;
    if (pl) {
        pl_id = cli_id_lookup(pg, "price_list", pl);
        if (pl_id < 0)
            goto out;
        if (pl_id == 0) {
            rc =
                cli_err(CLI_USAGE, "location add: unknown price list '%s'", pl);
            goto out;
        }
    }
    if (ledger_location_add(pg, pos[0], name ? name : pos[0], kind, pl_id, err,
                            sizeof(err), sqlstate) < 0) {
        if (db_state_is(sqlstate, DB_UNIQUE_VIOLATION))
            rc = cli_err(CLI_USAGE,
                         "location add: location '%s' already "
                         "exists",
                         pos[0]);
        else
            rc = cli_err(CLI_DEPENDENCY, "%s", err);
        goto out;
    }
    rc = CLI_OK;
    if (as_json)
        rc = cli_json_print(json_pack("{s:s, s:s, s:s, s:s?}", "code", pos[0],
                                      "name", name ? name : pos[0], "kind",
                                      kind, "price_list", pl));
    else
        printf("added location %s (%s)\n", pos[0], kind);
out:
    PQfinish(pg);
    return rc;
}

static int location_list(int argc, char **argv)
{
    static const char *const headers[] = {"code", "name", "kind", "price_list"};

    return cli_list_run("location list", argc, argv, ledger_location_list,
                        headers, "sssn");
}

static int pricelist_add(int argc, char **argv)
{
    const char *name = NULL, *pos[1];
    int npos, rc, as_json = 0;
    const struct cli_opt opts[] = {
        {"--name", &name, NULL},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[1024], sqlstate[6];
    PGconn *pg;

    rc = cli_args_parse("pricelist add", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "pricelist add: CODE is required");
    rc = cli_code_name_check("pricelist add", pos[0], name);
    if (rc != CLI_OK)
        return rc;
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    if (catalog_price_list_add(pg, pos[0], name ? name : pos[0], err,
                               sizeof(err), sqlstate) < 0) {
        if (db_state_is(sqlstate, DB_UNIQUE_VIOLATION))
            rc = cli_err(CLI_USAGE,
                         "pricelist add: price list '%s' already exists",
                         pos[0]);
        else
            rc = cli_err(CLI_DEPENDENCY, "%s", err);
        goto out;
    }
    rc = CLI_OK;
    if (as_json)
        rc = cli_json_print(json_pack("{s:s, s:s}", "code", pos[0], "name",
                                      name ? name : pos[0]));
    else
        printf("added price list %s\n", pos[0]);
out:
    PQfinish(pg);
    return rc;
}

static int pricelist_list(int argc, char **argv)
{
    static const char *const headers[] = {"code", "name"};

    return cli_list_run("pricelist list", argc, argv, catalog_price_list_list,
                        headers, "ss");
}

static const struct cli_sub location_subs[] = {
    {"add", location_add,
     "location add CODE --kind warehouse|outlet|online [--name NAME] "
     "[--price-list PL] [--json]\n"
     "  Add a location.  NAME defaults to CODE; PL must exist.  A code\n"
     "  already in use is an input error (exit 2).  --json: the location\n"
     "  as {\"code\", \"name\", \"kind\", \"price_list\"} (null: none)."},
    {"list", location_list,
     "location list [--json]\n"
     "  List locations: code, name, kind, price_list (JSON: an array of\n"
     "  objects with those keys)."},
    {NULL, NULL, NULL},
};

static const struct cli_sub pricelist_subs[] = {
    {"add", pricelist_add,
     "pricelist add CODE [--name NAME] [--json]\n"
     "  Add a price list.  NAME defaults to CODE.  --json: {\"code\",\n"
     "  \"name\"}."},
    {"list", pricelist_list,
     "pricelist list [--json]\n"
     "  List price lists: code, name."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync location add|list`.
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_location(int argc, char **argv)
{
    return cli_sub_run(location_subs, argc, argv);
}

/**
 * @brief `omnisync pricelist add|list`.
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_pricelist(int argc, char **argv)
{
    return cli_sub_run(pricelist_subs, argc, argv);
}
