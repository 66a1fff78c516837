/*
 * cmd_db — `omnisync db migrate`: apply the ledger's SQL migrations.
 */
#include "cli.h"
#include "ledger/blob.h"
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
    PQfinish(pg);
    if (out != stdout) {
        fclose(out);
        if (rc == CLI_OK)
            rc = db_migrate_json(text ? text : "");
        free(text);
    }
    return rc;
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
     "  files are).  --json: {\"applied\": [file...]}."},
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
