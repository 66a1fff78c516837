/*
 * t_promtool.h — run `promtool check metrics` (Debian's prometheus
 * package) on a rendered exposition, for the metrics and httpd tests.
 */
#ifndef OMNI_T_PROMTOOL_H
#define OMNI_T_PROMTOOL_H

#include <stdio.h>
#include <sys/wait.h>

/* Pipe @p text through promtool (its findings go to stderr).
 * @returns its exit status: 0 clean, non-zero with findings or when
 *          promtool is missing; -1 when it could not be run. */
static inline int t_promtool(const char *text)
{
    FILE *fp = popen("promtool check metrics >&2", "w");
    int st;

    if (!fp)
        return -1;
    fputs(text, fp);
    st = pclose(fp);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
