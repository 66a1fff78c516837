/*
 * cmd_db — `omnisync db migrate`: apply the ledger's SQL migrations.
 */
#include "cli.h"
#include "ledger/blob.h"
#include "lib/db.h"

#include <stdio.h>

static int db_migrate_run(int argc, char **argv)
{
    char dir[4096], err[1024];
    const char *pos[1];
    long long missing = 0;
    PGconn *pg;
    int npos, rc;

    rc = cli_args_parse("db migrate", argc, argv, NULL, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (db_migrate_dir(cli_config()->sql_dir, dir, sizeof(dir)) < 0)
        return cli_err(CLI_USAGE, "db migrate: migrations directory path "
                                  "too long");
    pg = cli_pg();
    if (!pg)
        return CLI_FAIL;
    rc = CLI_OK;
    if (db_migrate(pg, dir, stdout, stderr, err, sizeof(err)) < 0)
        rc = cli_err(CLI_FAIL, "%s", err);
    /* Migration 0005's post-step: SQL cannot read host files, so the bytes
     * of photos imported before it are read here from their recorded
     * paths (docs/image-uploader.md "Upgrading"). */
    else if (blob_photos_backfill(pg, cli_config()->photo_max_bytes,
                                  "import.photo_max_bytes", stdout, stderr,
                                  &missing, err, sizeof(err)) < 0)
        rc = cli_err(CLI_FAIL, "photo backfill: %s", err);
    else if (missing > 0)
        fprintf(stderr,
                "omnisync: db migrate: %lld photo(s) still have no bytes in "
                "the ledger (named above); image-uploader dead-letters their "
                "jobs until `omnisync db migrate` runs again where the files "
                "are, or the catalog is imported again\n",
                missing);
    PQfinish(pg);
    return rc;
}

static const struct cli_sub db_subs[] = {
    {"migrate", db_migrate_run,
     "db migrate\n"
     "  Apply every migration (deploy/sql/NNNN_name.sql) not yet applied,\n"
     "  in filename order, each in its own transaction.  Refuses when an\n"
     "  applied migration's file changed.  Directory: key sql.dir\n"
     "  (OMNISYNC_SQL_DIR), else <binary>/../deploy/sql, else\n"
     "  /usr/share/omnisync/sql.  Then stores the bytes of photos imported\n"
     "  before migration 0005 from their recorded paths, naming each it\n"
     "  cannot read (they stay without bytes; run it again where the\n"
     "  files are)."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync db ...`.
 * @returns CLI_OK, CLI_FAIL or CLI_USAGE.
 */
int cmd_db(int argc, char **argv)
{
    return cli_sub_run(db_subs, argc, argv);
}
