#include "cli.h"

#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PGconn *cli_pg(void)
{
    char err[512];
    PGconn *pg = db_connect(getenv("OMNISYNC_PG"), "omnisync-cli", err,
                            sizeof(err));

    if (!pg)
        fprintf(stderr, "omnisync: %s\n", err);
    return pg;
}

int cli_err(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("omnisync: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_is_help(const char *arg)
{
    return arg && (!strcmp(arg, "-h") || !strcmp(arg, "--help"));
}
