/*
 * cmd_status — `omnisync status [--json]`: what the ledger and the outbox
 * hold.
 */
#include "cli.h"
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One statement, one row: the counters in the order of status_keys. */
#define STATUS_SQL                                                             \
    "SELECT (SELECT count(*) FROM location),"                                  \
    " (SELECT count(*) FROM price_list),"                                      \
    " (SELECT count(*) FROM product),"                                         \
    " (SELECT count(*) FROM variant),"                                         \
    " (SELECT count(*) FROM store),"                                           \
    " (SELECT count(*) FROM stock_movement),"                                  \
    " (SELECT count(*) FROM outbox WHERE sent_at IS NULL),"                    \
    " (SELECT floor(extract(epoch FROM clock_timestamp() - min(created_at)))"  \
    "  ::bigint FROM outbox WHERE sent_at IS NULL),"                           \
    " (SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL)"

static const char *const status_keys[] = {
    "locations", "price_lists", "products", "variants",
    "stores",    "movements",   "pending",  "oldest_pending_age_s",
    "sent",
};
#define STATUS_NKEYS 9
#define STATUS_FIRST_OUTBOX 6

/**
 * @brief `omnisync status [--json]`.  JSON: {"locations", "price_lists",
 *        "products", "variants", "stores", "movements", "outbox":
 *        {"pending", "oldest_pending_age_s" (null when none), "sent"}}.
 * @returns CLI_OK, CLI_FAIL or CLI_USAGE.
 */
int cmd_status(int argc, char **argv)
{
    int as_json = 0, npos, rc, i;
    const struct cli_opt opts[] = {
        {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    const char *pos[1];
    char err[1024];
    PGconn *pg;
    PGresult *res = NULL;
    json_t *root, *outbox, *target;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (cli_is_help(argv[i])) {
            printf("usage: omnisync status [--json]\n"
                   "  Counts of locations, price lists, products, variants,\n"
                   "  stores and stock movements; outbox rows pending (with\n"
                   "  the oldest one's age in seconds) and sent.\n");
            return CLI_OK;
        }
    rc = cli_args_parse("status", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK) {
        fprintf(stderr, "usage: omnisync status [--json]\n");
        return rc;
    }
    pg = cli_pg();
    if (!pg) return CLI_FAIL;
    rc = CLI_FAIL;
    res =
        db_exec(pg, STATUS_SQL, 0, NULL, "read status", err, sizeof(err), NULL);
    if (!res) {
        cli_err(CLI_FAIL, "%s", err);
        goto out;
    }
    if (as_json) {
        root = json_object();
        outbox = json_object();
        for (i = 0; root && outbox && i < STATUS_NKEYS; i++) {
            target = i >= STATUS_FIRST_OUTBOX ? outbox : root;
            json_object_set_new(
                target, status_keys[i],
                PQgetisnull(res, 0, i)
                    ? json_null()
                    : json_integer(strtoll(PQgetvalue(res, 0, i), NULL, 10)));
        }
        json_object_set_new(root, "outbox", outbox);
        rc = cli_json_print(root);
        goto out;
    }
    for (i = 0; i < STATUS_NKEYS; i++) {
        if (i == STATUS_FIRST_OUTBOX) printf("outbox:\n");
        printf("%s%-*s %s\n", i >= STATUS_FIRST_OUTBOX ? "  " : "",
               i >= STATUS_FIRST_OUTBOX ? 22 : 24, status_keys[i],
               PQgetisnull(res, 0, i) ? "-" : PQgetvalue(res, 0, i));
    }
    rc = CLI_OK;
out:
    PQclear(res);
    PQfinish(pg);
    return rc;
}
