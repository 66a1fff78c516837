/*
 * cmd_client — `omnisync client add|list|revoke`: the clients of
 * ledger-api and their bearer tokens (docs/ledger-api.md).  A token is
 * printed once, by `client add`; the ledger keeps only its SHA-256.
 */
#include "cli.h"

#include "ledger/clients.h"
#include "lib/db.h"
#include "lib/hash.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const client_scopes[] = {
    CLIENTS_SCOPE_MOVEMENTS, CLIENTS_SCOPE_STOCK,     CLIENTS_SCOPE_PRICES,
    CLIENTS_SCOPE_CATALOG,   CLIENTS_SCOPE_DOCUMENTS,
};
#define CLIENT_NSCOPES (sizeof(client_scopes) / sizeof(client_scopes[0]))

/* "a,b" -> the array literal "{a,b}", each scope known.  Returns 0, or -1
 * after printing why. */
static int client_scopes_parse(const char *list, char *lit, size_t size)
{
    char buf[512], *tok, *save = NULL;
    size_t i, used = 0;

    if (strlen(list) >= sizeof(buf))
        return cli_err(CLI_USAGE, "client add: --scopes too long"), -1;
    snprintf(buf, sizeof(buf), "%s", list);
    used += (size_t)snprintf(lit, size, "{");
    for (tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        for (i = 0; i < CLIENT_NSCOPES; i++)
            if (!strcmp(tok, client_scopes[i]))
                break;
        if (i == CLIENT_NSCOPES)
            return cli_err(CLI_USAGE,
                           "client add: unknown scope '%s' (movements:write, "
                           "stock:read, prices:write, catalog:write, "
                           "documents:write)",
                           tok),
                   -1;
        used += (size_t)snprintf(lit + used, size - used, "%s%s",
                                 used > 1 ? "," : "", tok);
    }
    if (used <= 1)
        return cli_err(CLI_USAGE, "client add: --scopes needs a scope"), -1;
    snprintf(lit + used, size - used, "}");
    return 0;
}

/* client add NAME --scopes S[,S...] [--json] */
static int client_add(int argc, char **argv)
{
    const char *scopes = NULL, *pos[1];
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {
        {"--scopes", &scopes, NULL},
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    unsigned char raw[32];
    char lit[600], token[80], hash[HASH_SHA256_HEX_LEN + 1], err[512],
        sqlstate[6];
    PGconn *pg;

    rc = cli_args_parse("client add", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1 || !cli_code_ok(pos[0]) || strlen(pos[0]) > CLIENTS_NAME_MAX)
        return cli_err(CLI_USAGE, "client add: NAME is required (up to 64 "
                                  "bytes, no whitespace, ',' or ':')");
    if (!scopes)
        return cli_err(CLI_USAGE, "client add: --scopes S[,S...] is required");
    if (client_scopes_parse(scopes, lit, sizeof(lit)) < 0)
        return CLI_USAGE;
    if (sodium_init() < 0)
        return cli_err(CLI_DEPENDENCY, "client add: libsodium init failed");
    randombytes_buf(raw, sizeof(raw));
    memcpy(token, "osk_", 4);
    sodium_bin2hex(token + 4, sizeof(token) - 4, raw, sizeof(raw));
    hash_sha256_hex(token, strlen(token), hash);
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    if (clients_add(pg, pos[0], hash, lit, err, sizeof(err), sqlstate) < 0) {
        rc = db_state_is(sqlstate, DB_UNIQUE_VIOLATION)
                 ? cli_err(CLI_USAGE, "client add: client '%s' exists", pos[0])
                 : cli_err(CLI_DEPENDENCY, "client add: %s", err);
    } else if (as_json) {
        rc = cli_json_print(json_pack("{s:s, s:s, s:s}", "name", pos[0],
                                      "scopes", scopes, "token", token));
    } else {
        printf("client %s added (scopes %s)\ntoken: %s\n"
               "(shown once: the ledger keeps only its hash)\n",
               pos[0], scopes, token);
    }
    sodium_memzero(token, sizeof(token));
    PQfinish(pg);
    return rc;
}

/* client list [--json] */
static int client_list(int argc, char **argv)
{
    static const char *const headers[] = {"name", "scopes", "created_at",
                                          "revoked_at"};

    return cli_list_run("client list", argc, argv, clients_list, headers,
                        "sssn");
}

/* client revoke NAME */
static int client_revoke(int argc, char **argv)
{
    const char *pos[1];
    int npos, rc, found;
    const struct cli_opt opts[] = {{NULL, NULL, NULL}};
    char err[512];
    PGconn *pg;

    rc = cli_args_parse("client revoke", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "client revoke: NAME is required");
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    found = clients_revoke(pg, pos[0], err, sizeof(err));
    if (found < 0)
        rc = cli_err(CLI_DEPENDENCY, "client revoke: %s", err);
    else if (!found)
        rc = cli_err(CLI_USAGE, "client revoke: unknown client '%s'", pos[0]);
    else
        printf("client %s revoked\n", pos[0]);
    PQfinish(pg);
    return rc;
}

static const struct cli_sub client_subs[] = {
    {"add", client_add,
     "client add NAME --scopes S[,S...] [--json]\n"
     "  A ledger-api client; prints its bearer token once.  Scopes:\n"
     "  movements:write stock:read prices:write catalog:write "
     "documents:write."},
    {"list", client_list,
     "client list [--json]\n"
     "  Clients: name, scopes, created_at, revoked_at (empty: active)."},
    {"revoke", client_revoke,
     "client revoke NAME\n"
     "  Refuse the client's token from now on (ledger-api answers 401)."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync client ...`.
 * @returns CLI_OK, CLI_USAGE or CLI_DEPENDENCY.
 */
int cmd_client(int argc, char **argv)
{
    return cli_sub_run(client_subs, argc, argv);
}
