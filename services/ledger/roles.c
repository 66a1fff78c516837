/*
 * roles — the ledger's Postgres roles and their grants (roles.h).
 *
 * Each list below is derived from the SQL the service runs through the
 * owner modules it calls (docs/deploy.md "Database roles" has the table).
 * A row lock (SELECT ... FOR UPDATE / FOR KEY SHARE) needs UPDATE on one
 * column of the table: those grants are "UPDATE (id)", which locks and
 * changes nothing a foreign key does not refuse.  Sequences are granted
 * USAGE from the tables a role may INSERT into.
 *
 * Role and database names go into the statements through the server's
 * format('%I') (templates below: %1$I the role, %2$I the database), never
 * through the client.
 */
#include "ledger/roles.h"

#include "lib/db.h"

#include <stdio.h>
#include <string.h>

/* Class of the advisory lock that serialises runs (db migrate: 0). */
#define ROLES_LOCK "7002"

/* Every role: connect, the schema, and a clean slate. */
static const char *const roles_base[] = {
    "GRANT CONNECT ON DATABASE %2$I TO %1$I",
    "GRANT USAGE ON SCHEMA public TO %1$I",
    "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %1$I",
    "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %1$I",
    NULL,
};

/* Every service: the store set (storeset_refresh) and its dead letters
 * (dlq_record_add). */
#define ROLES_SERVICE                                                          \
    "GRANT SELECT ON store, store_source, location, price_list, variant"       \
    " TO %1$I",                                                                \
        "GRANT SELECT, INSERT ON dlq_record TO %1$I"

static const char *const roles_outbox_relay[] = {
    "GRANT SELECT, INSERT ON dlq_record TO %1$I",
    /* A set-aside row's store, by name (dlq_record_add): no settings. */
    "GRANT SELECT (id, name) ON store TO %1$I",
    "GRANT SELECT, UPDATE, DELETE ON outbox TO %1$I",
    NULL,
};

static const char *const roles_stock_publisher[] = {
    ROLES_SERVICE,
    "GRANT SELECT ON remote_map TO %1$I",
    /* what each store shows sold out at start (stores_avail_sellable) */
    "GRANT SELECT ON product, price, stock_level TO %1$I",
    NULL,
};

static const char *const roles_catalog_publisher[] = {
    ROLES_SERVICE,
    "GRANT SELECT, INSERT, UPDATE, DELETE ON remote_map TO %1$I",
    "GRANT SELECT ON product, product_photo, price, stock_level TO %1$I",
    /* the categories nothing references any more (catalog_groups_unused) */
    "GRANT SELECT ON product_group TO %1$I",
    "GRANT UPDATE (id) ON variant, location TO %1$I",
    "GRANT INSERT ON outbox TO %1$I",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON parked TO %1$I",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON not_for_sale TO %1$I",
    NULL,
};

static const char *const roles_image_uploader[] = {
    ROLES_SERVICE,
    "GRANT SELECT, INSERT, UPDATE, DELETE ON remote_map TO %1$I",
    "GRANT SELECT ON product, product_photo, photo_blob TO %1$I",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON parked TO %1$I",
    NULL,
};

static const char *const roles_order_ingestor[] = {
    ROLES_SERVICE,
    "GRANT SELECT, INSERT, UPDATE ON customer_order, order_poll_cursor"
    " TO %1$I",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON customer_order_line TO %1$I",
    "GRANT SELECT, INSERT ON stock_movement, stock_movement_line TO %1$I",
    "GRANT SELECT, INSERT, UPDATE ON stock_level TO %1$I",
    "GRANT SELECT ON remote_map, product, price TO %1$I",
    "GRANT UPDATE (id) ON variant, location TO %1$I",
    "GRANT INSERT ON outbox TO %1$I",
    NULL,
};

/* ledger-api: movement batches (movebatch: levels, movements, the
 * stock.available burst), documents, prices and catalog upserts (the
 * catalog import's staged writes in temporary tables), its clients and
 * the batches' idempotency keys, the Kafka intake's dead letters. */
static const char *const roles_ledger_api[] = {
    ROLES_SERVICE,
    "GRANT TEMPORARY ON DATABASE %2$I TO %1$I",
    "GRANT SELECT ON api_client TO %1$I",
    "GRANT SELECT, INSERT ON api_request TO %1$I",
    "GRANT SELECT, INSERT ON stock_movement, stock_movement_line, document"
    " TO %1$I",
    "GRANT SELECT, INSERT, UPDATE ON stock_level TO %1$I",
    "GRANT SELECT, INSERT, UPDATE ON product, variant, product_group,"
    " option_name, option_value, price TO %1$I",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON variant_option TO %1$I",
    /* the catalog.product snapshot lists the photos */
    "GRANT SELECT ON product_photo TO %1$I",
    /* FOR KEY SHARE on a batch's locations */
    "GRANT UPDATE (id) ON location TO %1$I",
    "GRANT INSERT ON outbox TO %1$I",
    NULL,
};

/* The CLI: reads and writes every table, temporary tables for the
 * import's staging; no DDL (db migrate stays with the tables' owner). */
static const char *const roles_operator[] = {
    "GRANT TEMPORARY ON DATABASE %2$I TO %1$I",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public"
    " TO %1$I",
    NULL,
};

static const char *const roles_viewer[] = {
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %1$I",
    NULL,
};

static const struct roles_def {
    const char *name; /* after the prefix */
    const char *const *grants;
} roles_defs[] = {
    {"outbox_relay", roles_outbox_relay},
    {"catalog_publisher", roles_catalog_publisher},
    {"stock_publisher", roles_stock_publisher},
    {"image_uploader", roles_image_uploader},
    {"order_ingestor", roles_order_ingestor},
    {"ledger_api", roles_ledger_api},
    {"operator", roles_operator},
    {"viewer", roles_viewer},
    {NULL, NULL},
};

/* USAGE on each sequence owned by a column of a table the role may
 * INSERT into (bigserial, identity). */
#define ROLES_SQL_SEQUENCES                                                    \
    "SELECT format('GRANT USAGE ON SEQUENCE %s TO %I', s.oid::regclass,"       \
    " $1::text) FROM pg_class s"                                               \
    " JOIN pg_namespace n ON n.oid = s.relnamespace"                           \
    " JOIN pg_depend d ON d.classid = 'pg_class'::regclass"                    \
    "  AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass"            \
    "  AND d.deptype IN ('a', 'i')"                                            \
    " WHERE s.relkind = 'S' AND n.nspname = 'public'"                          \
    "  AND has_table_privilege($1::name, d.refobjid, 'INSERT')"                \
    " ORDER BY 1"

int roles_prefix_ok(const char *prefix)
{
    size_t i, n = strlen(prefix);

    if (n < 1 || n > 40 || (prefix[0] >= '0' && prefix[0] <= '9'))
        return 0;
    for (i = 0; i < n; i++)
        if (!((prefix[i] >= 'a' && prefix[i] <= 'z') ||
              (prefix[i] >= '0' && prefix[i] <= '9') || prefix[i] == '_'))
            return 0;
    return 1;
}

/* Run @p sql (its one row's one column is a statement), run that
 * statement and append it to @p done. */
static int roles_run_built(PGconn *pg, const char *sql, int n,
                           const char *const *vals, json_t *done, char *errstr,
                           size_t errstr_size)
{
    PGresult *r = db_exec(pg, sql, n, vals, "build a role statement", errstr,
                          errstr_size, NULL);
    int i, rc = 0;

    if (!r)
        return -1;
    for (i = 0; rc == 0 && i < PQntuples(r); i++) {
        const char *stmt = PQgetvalue(r, i, 0);

        rc = db_cmd(pg, stmt, 0, NULL, stmt, errstr, errstr_size);
        if (rc == 0 && json_array_append_new(done, json_string(stmt)) < 0)
            rc = -1;
    }
    PQclear(r);
    return rc;
}

static int roles_statements(PGconn *pg, const char *role,
                            const char *const *list, json_t *done, char *errstr,
                            size_t errstr_size)
{
    const char *vals[2] = {NULL, role};

    for (; *list; list++) {
        vals[0] = *list;
        if (roles_run_built(pg,
                            "SELECT format($1::text, $2::text,"
                            " current_database()::text)",
                            2, vals, done, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

/* Create @p role unless it exists; its report entry into @p out. */
static int roles_one(PGconn *pg, const char *role, const struct roles_def *def,
                     json_t *out, char *errstr, size_t errstr_size)
{
    const char *vals[1] = {role};
    json_t *done = json_array(), *entry;
    PGresult *r;
    int created = 0, rc;

    r = db_exec(pg, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, vals,
                "look for the role", errstr, errstr_size, NULL);
    if (!r || !done) {
        PQclear(r);
        json_decref(done);
        return -1;
    }
    created = PQntuples(r) == 0;
    PQclear(r);
    rc = created ? roles_run_built(pg,
                                   "SELECT format('CREATE ROLE %I NOLOGIN',"
                                   " $1::text)",
                                   1, vals, done, errstr, errstr_size)
                 : 0;
    if (rc == 0)
        rc = roles_statements(pg, role, roles_base, done, errstr, errstr_size);
    if (rc == 0)
        rc = roles_statements(pg, role, def->grants, done, errstr, errstr_size);
    if (rc == 0)
        rc = roles_run_built(pg, ROLES_SQL_SEQUENCES, 1, vals, done, errstr,
                             errstr_size);
    entry = json_pack("{s:s, s:b, s:o}", "role", role, "created", created,
                      "statements", done);
    if (rc == 0 && json_array_append_new(out, entry) < 0)
        rc = -1;
    else if (rc != 0)
        json_decref(entry);
    return rc;
}

int roles_apply(PGconn *pg, const char *prefix, int dry_run, json_t **report,
                char *errstr, size_t errstr_size)
{
    const char *lock[1] = {ROLES_LOCK};
    const struct roles_def *d;
    json_t *list = json_array();
    char role[128];
    int rc;

    *report = NULL;
    if (!list || db_begin(pg, errstr, errstr_size) < 0) {
        json_decref(list);
        return -1;
    }
    rc = db_cmd(pg, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock,
                "take the roles lock", errstr, errstr_size);
    for (d = roles_defs; rc == 0 && d->name; d++) {
        snprintf(role, sizeof(role), "%s%s", prefix, d->name);
        rc = roles_one(pg, role, d, list, errstr, errstr_size);
    }
    if (rc == 0 && !dry_run)
        rc = db_commit(pg, errstr, errstr_size);
    else
        db_rollback(pg);
    if (rc == 0)
        *report = json_pack("{s:b, s:o}", "dry_run", dry_run, "roles", list);
    else
        json_decref(list);
    return rc == 0 && *report ? 0 : -1;
}
