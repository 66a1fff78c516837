/*
 * cmd_import — `omnisync import catalog|prices FILE ...`: CSV imports into
 * the ledger (the work is in services/common/catalog_import.c; the file
 * format is docs/import.md).
 */
#include "cli.h"

#include "ledger/catalog_import.h"
#include "lib/csv.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: omnisync import catalog FILE [--price-list PL] "
            "[--photos-dir DIR]\n"
            "                               [--archive-missing] "
            "[--dry-run] [--json]\n"
            "       omnisync import prices FILE --price-list PL [--dry-run] "
            "[--json]\n"
            "       omnisync import stock FILE --location L --mode "
            "count|receipt|writeoff\n"
            "                             [--ref KEY] [--dry-run] [--json]"
            "  (import stock --help)\n"
            "\n"
            "Load a CSV file (',' or ';' separated, UTF-8, header row; see "
            "docs/import.md)\n"
            "into the ledger in one transaction: a file with any bad row "
            "changes nothing,\n"
            "and every bad row is reported as FILE:LINE:COLUMN: reason.\n"
            "FILE - reads standard input (at most 256 MiB; positions read\n"
            "<stdin>:LINE:COLUMN; photo paths are relative to the current\n"
            "directory unless --photos-dir is given).\n"
            "\n"
            "catalog columns (any order, case-insensitive): article, name, "
            "sku (required),\n"
            "  group, description, barcode, color, size, option:<Name>, "
            "price, old_price,\n"
            "  photos ('|'-separated paths relative to the file or "
            "--photos-dir).\n"
            "prices columns: sku, price (required), old_price.\n"
            "\n"
            "  --price-list PL     price list of the price columns "
            "(required when prices\n"
            "                      are given)\n"
            "  --photos-dir DIR    base directory of relative photo paths\n"
            "  --archive-missing   archive products that are in the ledger "
            "but not in FILE\n"
            "  --dry-run           check and apply, then roll back\n"
            "  --json              the summary as one JSON object "
            "(docs/cli.md)\n"
            "\n"
            "Unchanged rows change nothing and emit no event; each product "
            "whose snapshot\n"
            "changed emits one catalog.product event.\n");
}

/* "--opt VALUE" or "--opt=VALUE"; advances *i past a separate value.
 * Returns 1 when argv[*i] is @p opt (value in *val, NULL if missing). */
static int opt_value(int argc, char **argv, int *i, const char *opt,
                     const char **val)
{
    size_t n = strlen(opt);

    if (strncmp(argv[*i], opt, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

/* The options without a value.  @returns 1 when @p arg was one. */
static int import_flag(struct catalog_import_opts *o, const char *arg)
{
    if (o->kind == CATALOG_IMPORT_CATALOG && !strcmp(arg, "--archive-missing"))
        o->archive_missing = 1;
    else if (!strcmp(arg, "--dry-run"))
        o->dry_run = 1;
    else if (!strcmp(arg, "--json"))
        o->json = 1;
    else
        return 0;
    return 1;
}

/* import catalog|prices */
static int import_catalog(int argc, char **argv)
{
    struct catalog_import_opts o;
    const char *val;
    int i, rc;

    memset(&o, 0, sizeof(o));
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "catalog")) {
        o.kind = CATALOG_IMPORT_CATALOG;
    } else if (!strcmp(argv[1], "prices")) {
        o.kind = CATALOG_IMPORT_PRICES;
    } else {
        usage(stderr);
        return cli_err(CLI_USAGE,
                       "import: unknown kind '%s' (catalog, prices or "
                       "stock)",
                       argv[1]);
    }
    for (i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (opt_value(argc, argv, &i, "--price-list", &val)) {
            if (!val || !*val)
                return cli_err(CLI_USAGE, "import: --price-list needs a "
                                          "price list code");
            o.price_list = val;
        } else if (o.kind == CATALOG_IMPORT_CATALOG &&
                   opt_value(argc, argv, &i, "--photos-dir", &val)) {
            if (!val || !*val)
                return cli_err(CLI_USAGE, "import: --photos-dir needs a "
                                          "directory");
            o.photos_dir = val;
        } else if (import_flag(&o, argv[i])) {
            continue;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_err(CLI_USAGE,
                           "import %s: unknown option '%s' (see "
                           "omnisync import --help)",
                           argv[1], argv[i]);
        } else if (o.file) {
            return cli_err(CLI_USAGE,
                           "import %s: one FILE only ('%s' and "
                           "'%s')",
                           argv[1], o.file, argv[i]);
        } else {
            o.file = argv[i];
        }
    }
    if (!o.file)
        return cli_err(CLI_USAGE, "import %s: FILE is required", argv[1]);
    if (o.kind == CATALOG_IMPORT_PRICES && !o.price_list)
        return cli_err(CLI_USAGE, "import prices: --price-list PL is "
                                  "required");
    if (!strcmp(o.file, "-"))
        o.file = CSV_STDIN; /* positions read "<stdin>:LINE:COLUMN" */
    o.photo_max_bytes = cli_config()->photo_max_bytes;
    rc = catalog_import_run(&o, cli_pg);
    return rc == CATALOG_IMPORT_FAIL ? CLI_DEPENDENCY : rc;
}

int cmd_import(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "stock"))
        return cmd_import_stock(argc, argv); /* cmd_stockimport.c */
    return import_catalog(argc, argv);
}
