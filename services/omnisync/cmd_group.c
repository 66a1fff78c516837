/*
 * cmd_group — `omnisync group list|rename|move`: the product groups (the
 * nomenclature tree).  A rename or a move queues one catalog.product
 * event per product in the group or below, and catalog-publisher renames
 * or re-parents the stores' categories (docs/catalog-publisher.md
 * "Groups").
 */
#include "cli.h"
#include "ledger/catalog.h"

#include <stdio.h>
#include <string.h>

static int group_list(int argc, char **argv)
{
    static const char *const headers[] = {"path", "name", "parent", "products",
                                          "subgroups"};

    return cli_list_run("group list", argc, argv, catalog_groups_list, headers,
                        "sssii");
}

/* group rename PATH NEW_NAME | group move PATH NEW_PARENT_PATH */
static int group_change(int argc, char **argv, int move)
{
    const char *cmd = move ? "group move" : "group rename", *pos[2];
    int as_json = 0, npos, rc, r;
    const struct cli_opt opts[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    struct catalog_group_change ch;
    char err[1024];
    PGconn *pg;

    rc = cli_args_parse(cmd, argc, argv, opts, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 2)
        return cli_err(CLI_USAGE, "%s: PATH and %s are required", cmd,
                       move ? "NEW_PARENT_PATH" : "NEW_NAME");
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    r = catalog_group_change(pg, pos[0], pos[1], move, &ch, err, sizeof(err));
    if (r > 0)
        rc = cli_err(CLI_USAGE, "%s: %s", cmd, err);
    else if (r < 0)
        rc = cli_err(CLI_DEPENDENCY, "%s: %s", cmd, err);
    else if (as_json)
        rc = cli_json_print(json_pack("{s:s,s:s,s:I,s:I}", "from", pos[0], "to",
                                      ch.path, "groups", (json_int_t)ch.groups,
                                      "events", (json_int_t)ch.products));
    else
        printf("group %s -> %s: %lld group(s), %lld catalog.product event(s) "
               "queued\n",
               pos[0], ch.path, ch.groups, ch.products);
    PQfinish(pg);
    return rc;
}

static int group_rename(int argc, char **argv)
{
    return group_change(argc, argv, 0);
}

static int group_move(int argc, char **argv)
{
    return group_change(argc, argv, 1);
}

static const struct cli_sub group_subs[] = {
    {"list", group_list,
     "group list [--json]\n"
     "  Every product group: path, name, parent, products (not archived,\n"
     "  directly in it), subgroups."},
    {"rename", group_rename,
     "group rename PATH NEW_NAME [--json]\n"
     "  Rename the group at PATH (e.g. 'Одежда/Мужская'); the paths of the\n"
     "  groups below it follow.  One catalog.product event per product in\n"
     "  it or below: catalog-publisher renames the stores' categories.\n"
     "  Exit 2: no such group, a bad name, the new path taken."},
    {"move", group_move,
     "group move PATH NEW_PARENT_PATH [--json]\n"
     "  Move the group at PATH (with what is below it) under the group at\n"
     "  NEW_PARENT_PATH ('/' or '': to the top).  One catalog.product event\n"
     "  per product in it or below: catalog-publisher re-parents the\n"
     "  stores' categories and removes a category nothing references any\n"
     "  more.  Exit 2: no such group, the new path taken, a group moved\n"
     "  under itself."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync group list|rename|move ...`.
 * @returns CLI_OK, CLI_USAGE or CLI_DEPENDENCY.
 */
int cmd_group(int argc, char **argv)
{
    return cli_sub_run(group_subs, argc, argv);
}
