/*
 * roles — least privilege in the ledger: one NOLOGIN group role per
 * service with only the grants the SQL it runs needs, an operator role for
 * the CLI and a read-only viewer (`omnisync db roles`, docs/deploy.md
 * "Database roles").  Every GRANT and REVOKE naming a ledger table lives
 * in this module (archcheck's sql-owner rule).  A deployment makes its
 * LOGIN users members of these roles.
 */
#ifndef OMNI_ROLES_H
#define OMNI_ROLES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

/* The default prefix of every role name ("omnisync_stock_publisher"). */
#define ROLES_PREFIX_DEFAULT "omnisync_"

/**
 * @brief Whether @p prefix makes valid role names: 1 to 40 characters of
 *        [a-z0-9_], starting with a letter or '_'.
 * @returns 1 or 0.
 */
int roles_prefix_ok(const char *prefix);

/**
 * @brief Create the roles that do not exist (NOLOGIN) and set each one's
 *        privileges on the ledger's tables and sequences to exactly its
 *        list (REVOKE ALL, then GRANT), in one transaction under an
 *        advisory lock, so a rerun or a concurrent run converges.  Existing
 *        roles keep their attributes and members.
 * @param prefix  the role names' prefix (roles_prefix_ok()).
 * @param dry_run run it all, then ROLLBACK: nothing changes.
 * @param report  set to {"dry_run": b, "roles": [{"role", "created",
 *                "statements": [SQL...]}]} (caller json_decref()s it).
 * @returns 0, or -1 with @p errstr (connection or server error).
 */
int roles_apply(PGconn *pg, const char *prefix, int dry_run, json_t **report,
                char *errstr, size_t errstr_size);

#endif
