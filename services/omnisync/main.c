/*
 * omnisync — the operator CLI.  Dispatches to one module per command.
 */
#include "cli.h"
#include "lib/log.h"

#include <stdio.h>
#include <string.h>

struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct cli_cmd cli_cmds[] = {
    {"db", cmd_db, "db migrate: apply the ledger's SQL migrations"},
    {"location", cmd_location,
     "location add|list: warehouses, outlets, "
     "online stores' locations"},
    {"pricelist", cmd_pricelist, "pricelist add|list: price lists"},
    {"import", cmd_import, "import catalog|prices FILE: load a CSV"},
    {"stock", cmd_stock,
     "stock receipt|sale|return|writeoff|transfer|count|"
     "show: movements"},
    {"store", cmd_store, "store add|list|show: online stores"},
    {"status", cmd_status, "status: what the ledger and the outbox hold"},
    {"sync", cmd_sync, "sync initial|resync STORE: publish the catalog"},
    {"orders", cmd_orders, "orders list|show: customer orders from stores"},
    {"reconcile", cmd_reconcile,
     "reconcile STORE [--repair] [--json]: store vs ledger drift"},
    {"lag", cmd_lag,
     "lag [--group G] [--max N] [--json] [--watch]: consumer lag"},
    {NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
    const struct cli_cmd *c;

    fprintf(fp, "usage: omnisync COMMAND [ARGS...]   (omnisync COMMAND "
                "--help for details)\n\nCommands:\n");
    for (c = cli_cmds; c->name; c++)
        fprintf(fp, "  %-10s %s\n", c->name, c->summary);
    fprintf(fp,
            "\nEnvironment:\n"
            "  OMNISYNC_PG          libpq conninfo of the ledger\n"
            "  OMNISYNC_KAFKA       Kafka bootstrap servers\n"
            "  OMNISYNC_REDIS       Redis host:port (API budget)\n"
            "  OMNISYNC_SECRET_KEY  64 hex chars; encrypts store passwords\n"
            "  OMNISYNC_SQL_DIR     migrations directory (default: "
            "deploy/sql beside the binary's ../)\n"
            "\nExit status: 0 success, 1 runtime failure, 2 usage or input "
            "error.\n");
}

int main(int argc, char **argv)
{
    const struct cli_cmd *c;

    log_init("omnisync", NULL);
    log_level = LOG_WARN;
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    for (c = cli_cmds; c->name; c++)
        if (!strcmp(argv[1], c->name))
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "omnisync: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
