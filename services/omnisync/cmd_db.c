/*
 * cmd_db — `omnisync db migrate`: apply the ledger's SQL migrations;
 * `omnisync db roles`: the ledger's Postgres roles (ledger/roles.h).
 */
#include "cli.h"
#include "ledger/blob.h"
#include "ledger/roles.h"
#include "ledger/stores.h"
#include "lib/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --json: {"applied": [file...]} from db_migrate()'s "applied FILE" lines
 * in @p text. */
static int db_migrate_json(const char *text)
{
    json_t *applied = json_array();
    const char *p, *nl;

    for (p = text; applied && *p; p = nl ? nl + 1 : p + strlen(p)) {
        nl = strchr(p, '\n');
        if (!strncmp(p, "applied ", 8))
            json_array_append_new(
                applied,
                json_stringn(p + 8,
                             (size_t)((nl ? nl : p + strlen(p)) - (p + 8))));
    }
    return cli_json_print(applied ? json_pack("{s:o}", "applied", applied)
                                  : NULL);
}

/* Migration 0011's post-step: seal the webhook secrets still kept in
 * clear (SQL cannot seal).  The secret key is needed only when there are
 * such rows; a failure is an input error (no key) or the ledger's. */
static int db_migrate_seal(PGconn *pg, FILE *out)
{
    unsigned char key[SECRET_KEY_BYTES];
    char err[1024];
    int have_key = cli_secret_key(key, err, sizeof(err)) == 0;
    long long n;

    n = stores_webhook_seal_plain(pg, have_key ? key : NULL, err, sizeof(err));
    sodium_memzero(key, sizeof(key));
    if (n < 0)
        return cli_err(PQstatus(pg) == CONNECTION_OK && !have_key
                           ? CLI_USAGE
                           : CLI_DEPENDENCY,
                       "db migrate: %s", err);
    if (n > 0)
        fprintf(out, "sealed the webhook secret of %lld store(s)\n", n);
    return CLI_OK;
}

static int db_migrate_run(int argc, char **argv)
{
    char dir[4096], err[1024], *text = NULL;
    const char *pos[1];
    int npos, rc, as_json = 0;
    const struct cli_opt opts[] = {{"--json", NULL, &as_json},
                                   {NULL, NULL, NULL}};
    size_t text_len = 0;
    FILE *out = stdout;
    long long missing = 0;
    PGconn *pg;

    rc = cli_args_parse("db migrate", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (db_migrate_dir(cli_config()->sql_dir, dir, sizeof(dir)) < 0)
        return cli_err(CLI_USAGE, "db migrate: migrations directory path "
                                  "too long");
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    if (as_json) {
        out = open_memstream(&text, &text_len);
        if (!out) {
            PQfinish(pg);
            return cli_err(CLI_DEPENDENCY, "db migrate: out of memory");
        }
    }
    rc = CLI_OK;
    /* A failure with the connection still up is the migrations' own
     * (changed, broken, missing directory): an input error. */
    if (db_migrate(pg, dir, out, stderr, err, sizeof(err)) < 0)
        rc = cli_err(PQstatus(pg) == CONNECTION_OK ? CLI_USAGE : CLI_DEPENDENCY,
                     "%s", err);
    /* Migration 0005's post-step: SQL cannot read host files, so the bytes
     * of photos imported before it are read here from their recorded
     * paths (docs/image-uploader.md "Upgrading"). */
    else if (blob_photos_backfill(pg, cli_config()->photo_max_bytes,
                                  "import.photo_max_bytes", out, stderr,
                                  &missing, err, sizeof(err)) < 0)
        rc = cli_err(CLI_DEPENDENCY, "photo backfill: %s", err);
    else if (missing > 0)
        fprintf(stderr,
                "omnisync: db migrate: %lld photo(s) still have no bytes in "
                "the ledger (named above); image-uploader dead-letters their "
                "jobs until `omnisync db migrate` runs again where the files "
                "are, or the catalog is imported again\n",
                missing);
    if (rc == CLI_OK)
        rc = db_migrate_seal(pg, out);
    PQfinish(pg);
    if (out != stdout) {
        fclose(out);
        if (rc == CLI_OK)
            rc = db_migrate_json(text ? text : "");
        free(text);
    }
    return rc;
}

/* Text form of roles_apply()'s report: each statement, then one line per
 * role. */
static void db_roles_print(const json_t *report, int dry_run)
{
    const json_t *roles = json_object_get(report, "roles");
    size_t i, j;

    for (i = 0; i < json_array_size(roles); i++) {
        const json_t *role = json_array_get(roles, i);
        const json_t *stmts = json_object_get(role, "statements");

        for (j = 0; j < json_array_size(stmts); j++)
            printf("%s;\n", json_string_value(json_array_get(stmts, j)));
        printf("-- %s: %s%s, %zu statement(s)\n",
               json_string_value(json_object_get(role, "role")),
               json_is_true(json_object_get(role, "created")) ? "created"
                                                              : "exists",
               dry_run ? " (dry run: rolled back)" : "",
               json_array_size(stmts));
    }
}

static int db_roles_run(int argc, char **argv)
{
    const char *pos[1], *prefix = ROLES_PREFIX_DEFAULT;
    int npos, rc, as_json = 0, dry_run = 0;
    const struct cli_opt opts[] = {{"--json", NULL, &as_json},
                                   {"--dry-run", NULL, &dry_run},
                                   {"--prefix", &prefix, NULL},
                                   {NULL, NULL, NULL}};
    char err[1024];
    json_t *report = NULL;
    PGconn *pg;

    rc = cli_args_parse("db roles", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (!roles_prefix_ok(prefix))
        return cli_err(CLI_USAGE,
                       "db roles: --prefix %s: 1 to 40 of a-z, 0-9 and _, "
                       "not starting with a digit",
                       prefix);
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    /* With the connection still up, the server refused (not allowed to
     * create roles or grant): the operator's input, not a dependency. */
    if (roles_apply(pg, prefix, dry_run, &report, err, sizeof(err)) < 0)
        rc = cli_err(PQstatus(pg) == CONNECTION_OK ? CLI_USAGE : CLI_DEPENDENCY,
                     "db roles: %s", err);
    PQfinish(pg);
    if (rc != CLI_OK)
        return rc;
    if (as_json)
        return cli_json_print(report);
    db_roles_print(report, dry_run);
    json_decref(report);
    return CLI_OK;
}

static const struct cli_sub db_subs[] = {
    {"migrate", db_migrate_run,
     "db migrate [--json]\n"
     "  Apply every migration (deploy/sql/NNNN_name.sql) not yet applied,\n"
     "  in filename order, each in its own transaction.  Refuses when an\n"
     "  applied migration's file changed.  Directory: key sql.dir\n"
     "  (OMNISYNC_SQL_DIR), else <binary>/../deploy/sql, else\n"
     "  /usr/share/omnisync/sql.  Then stores the bytes of photos imported\n"
     "  before migration 0005 from their recorded paths, naming each it\n"
     "  cannot read (they stay without bytes; run it again where the\n"
     "  files are).  Then seals the webhook secret of every store that\n"
     "  still keeps it in clear (rows from before migration 0011; needs\n"
     "  OMNISYNC_SECRET_KEY only when there are such rows, exit 2\n"
     "  without it).  --json: {\"applied\": [file...]}."},
    {"roles", db_roles_run,
     "db roles [--prefix P] [--dry-run] [--json]\n"
     "  Create the ledger's NOLOGIN group roles (P defaults to omnisync_):\n"
     "  Poutbox_relay, Pcatalog_publisher, Pstock_publisher,\n"
     "  Pimage_uploader, Porder_ingestor, Pledger_api (each service: only\n"
     "  what its SQL needs), Poperator (the CLI: read and write every\n"
     "  table, no DDL) and Pviewer (read only); set each one's grants to\n"
     "  exactly its list (REVOKE ALL, then GRANT, in one transaction).\n"
     "  Idempotent; rerun it\n"
     "  after db migrate.  Needs a user allowed to create roles and grant\n"
     "  on the tables (their owner).  Login users are the deployment's:\n"
     "  CREATE ROLE u LOGIN ... IN ROLE Pstock_publisher (docs/deploy.md\n"
     "  \"Database roles\").  --dry-run: run it all, then roll back.\n"
     "  Prints each statement; --json: {\"dry_run\": b, \"roles\": "
     "[{\"role\",\n"
     "  \"created\", \"statements\": [SQL...]}]}."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync db ...`.
 * @returns CLI_OK, CLI_DEPENDENCY or CLI_USAGE.
 */
int cmd_db(int argc, char **argv)
{
    return cli_sub_run(db_subs, argc, argv);
}
