/*
 * cmd_db — `omnisync db migrate`: apply the ledger's SQL migrations.
 */
#include "cli.h"
#include "lib/db.h"

#include <stdio.h>

static int db_migrate_run(int argc, char **argv)
{
    char dir[4096], err[1024];
    const char *pos[1];
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
     "  /usr/share/omnisync/sql."},
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
