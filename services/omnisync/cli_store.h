/*
 * cli_store — one store opened by a CLI command that calls it (reconcile,
 * sync resync): its settings (password opened with the secret key), its
 * platform, a metered client and the shared budget, and a call of class
 * catalog.
 */
#ifndef OMNI_CLI_STORE_H
#define OMNI_CLI_STORE_H

#include "ledger/stores.h"
#include "store/budget.h"
#include "store/platform.h"
#include "store/store_client.h"

#include <libpq-fe.h>

struct cli_store {
    struct store_conf conf;
    const struct store_platform *plat;
    struct store_client *sc;
    struct budget *b;
    struct store_call call; /* catalog class */
};

/**
 * @brief Open store @p name for command @p cmd (messages start with it):
 *        Redis reachable, the secret key, the store's settings, a client
 *        whose calls wait for a token at most one window of the store's
 *        limit and @p slack_ms more.
 * @returns CLI_OK, CLI_USAGE (unknown store, no key) or CLI_DEPENDENCY,
 *          printed.  cli_store_close() in every case.
 */
int cli_store_open(PGconn *pg, const char *cmd, const char *name, long slack_ms,
                   struct cli_store *cs);

/** @brief Release what cli_store_open() made (a zeroed @p cs too). */
void cli_store_close(struct cli_store *cs);

#endif
