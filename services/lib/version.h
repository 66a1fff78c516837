/*
 * version — what `--version` prints on every binary: the release and the
 * git revision the Makefile bakes in at build time ("unknown" when the
 * tree had no .git, e.g. a tarball or the container build's context).
 */
#ifndef OMNI_VERSION_H
#define OMNI_VERSION_H

#include <stdio.h>

/* The release of every binary of this tree. */
#define VERSION_RELEASE "0.1.0"

/** @returns the git revision, e.g. "3f2a9c1d04be" or "3f2a9c1d04be-dirty",
 *           or "unknown" (static). */
const char *version_rev(void);

/** @brief Print "<prog> <release> (git <rev>)" and a newline to @p fp. */
void version_print(FILE *fp, const char *prog);

/** @returns 1 when @p arg is --version. */
int version_is_arg(const char *arg);

#endif
