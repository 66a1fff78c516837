/*
 * omnisync — the operator CLI.  Dispatches to one module per command.
 */
#include "cli.h"
#include "lib/cfg.h"
#include "lib/log.h"

#include <stdio.h>
#include <string.h>

struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct cli_cmd cli_cmds[] = {
    {"db", cmd_db,
     "db migrate|roles: apply the ledger's SQL migrations; its Postgres "
     "roles"},
    {"location", cmd_location,
     "location add|list: warehouses, outlets, "
     "online stores' locations"},
    {"pricelist", cmd_pricelist, "pricelist add|list: price lists"},
    {"group", cmd_group,
     "group list|rename|move: product groups (stores' categories follow)"},
    {"import", cmd_import,
     "import catalog|prices|stock FILE|-: load a CSV (- : standard input)"},
    {"stock", cmd_stock,
     "stock receipt|sale|return|writeoff|transfer|count|"
     "show: movements"},
    {"store", cmd_store,
     "store add|set|remove|list|show|adopt: online stores (adopt: map an "
     "existing store's products by SKU)"},
    {"status", cmd_status, "status: what the ledger and the outbox hold"},
    {"sync", cmd_sync, "sync initial|resync STORE: publish the catalog"},
    {"orders", cmd_orders,
     "orders list|show|resolve: customer orders from stores"},
    {"reconcile", cmd_reconcile,
     "reconcile STORE [--repair] [--json]: store vs ledger drift"},
    {"lag", cmd_lag,
     "lag [--group G] [--max N] [--json] [--watch]: consumer lag"},
    {"dlq", cmd_dlq,
     "dlq list|show|replay|drop: dead-lettered messages (omnisync.dlq.v1)"},
    {"topics", cmd_topics,
     "topics create [--dry-run] [--json]: the Kafka topics, idempotent"},
    {"doc", cmd_doc,
     "doc import|list|show: supplier receipts, returns, transfers, "
     "write-offs"},
    {"client", cmd_client,
     "client add|list|revoke: ledger-api clients and their tokens"},
    {NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
    const struct cli_cmd *c;

    fprintf(fp, "usage: omnisync [-c PATH] [-o KEY=VALUE]... [--dump-config] "
                "COMMAND [ARGS...]\n"
                "       (omnisync COMMAND --help for details)\n\nCommands:\n");
    for (c = cli_cmds; c->name; c++)
        fprintf(fp, "  %-10s %s\n", c->name, c->summary);
    fprintf(fp, "\nOptions (before the command):\n");
    cfg_options_print(fp);
    fprintf(fp, "\nKeys (env var, default; docs/config.md):\n");
    cfg_keys_print(fp, cli_cfg_table());
    fprintf(fp, "\nExit status (every command; docs/cli.md):\n"
                "  0  success\n"
                "  1  a negative answer: drift, lag, not in sync\n"
                "  2  usage or input error, a missing or bad setting\n"
                "  3  could not reach a dependency (Postgres, Redis, Kafka, a "
                "store)\n"
                "     or it failed the request\n");
}

/* Run the command named by argv[0] (argc may be 0: no command). */
static int cli_dispatch(int argc, char **argv)
{
    const struct cli_cmd *c;

    if (argc < 1) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[0]) || !strcmp(argv[0], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    for (c = cli_cmds; c->name; c++)
        if (!strcmp(argv[0], c->name))
            return c->fn(argc, argv);
    fprintf(stderr, "omnisync: unknown command '%s'\n", argv[0]);
    usage(stderr);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    struct cfg *cfg;
    int argi, rc;

    log_init("omnisync", NULL);
    cfg = cli_config_load(argc, argv, &argi); /* exits 2 on bad config */
    rc = cli_dispatch(argc - argi, argv + argi);
    cfg_destroy(cfg);
    return rc;
}
