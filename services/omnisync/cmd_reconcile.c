/*
 * cmd_reconcile — `omnisync reconcile STORE [--repair] [--json]`.
 * (Work in progress: the full command follows.)
 */
#include "cli.h"

int cmd_reconcile(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_err(CLI_FAIL, "reconcile: not implemented yet");
}
