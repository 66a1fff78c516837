#include "cli_store.h"

#include "app/storeset.h"
#include "cli.h"

#include <sodium.h>
#include <string.h>

int cli_store_open(PGconn *pg, const char *cmd, const char *name, long slack_ms,
                   struct cli_store *cs)
{
    const char *redis = cli_config()->redis_addr;
    unsigned char key[SECRET_KEY_BYTES];
    long wait_ms;
    char err[512];
    int r;

    r = cli_redis_check(cmd);
    if (r != CLI_OK)
        return r;
    if (cli_secret_key(key, err, sizeof(err)) < 0)
        return cli_err(CLI_USAGE, "%s: %s", cmd, err);
    r = stores_load(pg, key, name, &cs->conf, err, sizeof(err));
    sodium_memzero(key, sizeof(key));
    if (r == 1)
        return cli_err(CLI_USAGE, "%s: unknown store '%s'", cmd, name);
    if (r < 0)
        return cli_err(CLI_DEPENDENCY, "%s: %s", cmd, err);
    cs->b = budget_new(redis, NULL, err, sizeof(err));
    if (!cs->b)
        return cli_err(CLI_DEPENDENCY, "%s: budget: %s", cmd, err);
    wait_ms = (long)cs->conf.api_window * 1000 + slack_ms;
    cs->sc =
        storeset_client_new(&cs->conf, wait_ms, &cs->plat, err, sizeof(err));
    if (!cs->sc)
        return cli_err(CLI_DEPENDENCY, "%s: %s", cmd, err);
    store_call_init(&cs->call, cs->sc, cs->b, BUDGET_CATALOG);
    return CLI_OK;
}

void cli_store_close(struct cli_store *cs)
{
    store_call_clear(&cs->call);
    store_client_destroy(cs->sc);
    budget_destroy(cs->b);
    store_conf_clear(&cs->conf);
    memset(cs, 0, sizeof(*cs));
}
