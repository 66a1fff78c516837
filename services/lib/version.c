#include "lib/version.h"

#include <string.h>

/* -DVERSION_GIT_REV="..." from the Makefile (OMNISYNC_REV). */
#ifndef VERSION_GIT_REV
#define VERSION_GIT_REV "unknown"
#endif

const char *version_rev(void)
{
    return VERSION_GIT_REV;
}

void version_print(FILE *fp, const char *prog)
{
    fprintf(fp, "%s %s (git %s)\n", prog, VERSION_RELEASE, version_rev());
}

int version_is_arg(const char *arg)
{
    return arg && !strcmp(arg, "--version");
}
