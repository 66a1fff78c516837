/*
 * cfg — table-driven configuration for every omnisync binary.
 *
 * Precedence: default < file (-c PATH) < environment < -o key=value.
 * An empty environment variable counts as unset.  Keys with a prefix
 * listed in passthru (e.g. "kafka.") are kept verbatim for the library
 * they belong to.  Validation happens once; errors name key, source and
 * reason and the process exits 2.
 */
#ifndef OMNI_CFG_H
#define OMNI_CFG_H

#include <stddef.h>

enum cfg_type {
    CFG_STR,  /* char * (owned by the cfg handle) */
    CFG_INT,  /* long long, checked against min/max */
    CFG_BOOL, /* int 0/1: true/false/yes/no/on/off/1/0 */
};

#define CFG_REQUIRED 0x1
#define CFG_SECRET 0x2 /* masked in --dump-config, never logged */

struct cfg_opt {
    const char *key; /* "pg.dsn" */
    const char *env; /* "OMNISYNC_PG" (may be NULL) */
    enum cfg_type type;
    const char *def; /* default as text (may be NULL) */
    long long min, max;
    int flags;
    size_t off; /* offsetof(struct svc_cfg, field) */
    const char *help;
};

struct cfg;

/**
 * @brief Build the configuration of a service.
 *
 * Parses argv for: -c PATH, -o key=value, --dump-config, --log-level L,
 * -h/--help.  Positional arguments are not accepted.  On --help or
 * --dump-config prints and exits 0; on any error prints
 * "<prog>: config: <key> (<source>): <reason>" and exits 2.
 *
 * @param tbl      option table ending with a {NULL} row.
 * @param target   struct receiving the typed values (fields at tbl[].off).
 * @param passthru NULL-terminated list of key prefixes kept verbatim
 *                 (may be NULL), e.g. {"kafka.", NULL}.
 * @param usage    text printed by --help before the option list.
 * @returns the handle owning the strings stored in @p target.
 */
struct cfg *cfg_load(const struct cfg_opt *tbl, void *target,
                     const char *const *passthru, const char *prog,
                     const char *usage, int argc, char **argv);

/**
 * @brief Call @p cb for every passthrough key starting with @p prefix, in
 *        the order they were set, with the prefix stripped.
 * @returns 0, or the first non-zero value returned by @p cb.
 */
int cfg_passthru_foreach(const struct cfg *c, const char *prefix,
                         int (*cb)(const char *key, const char *val,
                                   void *opaque),
                         void *opaque);

/** @brief Free the handle and every string it stored.  NULL-safe. */
void cfg_destroy(struct cfg *c);

/**
 * @brief Parse a decimal integer strictly (whole string, no overflow).
 * @returns 0 on success, -1 otherwise.
 */
int cfg_parse_ll(const char *s, long long *out);

/** @brief Parse a boolean word; returns 0/1, or -1 if not a boolean. */
int cfg_parse_bool(const char *s);

#endif
