/*
 * cli — shared plumbing of the omnisync operator CLI: exit codes,
 * connections from the environment, option parsing helpers, and the
 * entry point of every command module (cmd_<name>.c).
 */
#ifndef OMNI_CLI_H
#define OMNI_CLI_H

#include <libpq-fe.h>

#define CLI_OK 0
#define CLI_FAIL 1  /* runtime failure */
#define CLI_USAGE 2 /* usage or input error */

/* Every command: argv[0] is the command word ("db", "stock", ...). */
int cmd_db(int argc, char **argv);
int cmd_location(int argc, char **argv);
int cmd_pricelist(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_stock(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_status(int argc, char **argv);

/**
 * @brief Connect to the ledger named by OMNISYNC_PG.
 * @returns the connection, or NULL after printing the reason to stderr
 *          (callers return CLI_FAIL).
 */
PGconn *cli_pg(void);

/** @brief Print "omnisync: <msg>" to stderr; returns @p code. */
int cli_err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** @returns 1 when @p arg is -h or --help. */
int cli_is_help(const char *arg);

#endif
