/*
 * clients — the clients of ledger-api (table api_client, migration 0014):
 * a name, the SHA-256 of its bearer token, its scopes, revoked or not.
 * The token itself is made and shown once by `omnisync client add` and
 * never stored (docs/ledger-api.md "Clients and tokens").
 */
#ifndef OMNI_CLIENTS_H
#define OMNI_CLIENTS_H

#include <libpq-fe.h>
#include <stddef.h>

/* The scopes (docs/ledger-api.md). */
#define CLIENTS_SCOPE_MOVEMENTS "movements:write"
#define CLIENTS_SCOPE_STOCK "stock:read"
#define CLIENTS_SCOPE_PRICES "prices:write"
#define CLIENTS_SCOPE_CATALOG "catalog:write"
#define CLIENTS_SCOPE_DOCUMENTS "documents:write"

#define CLIENTS_NAME_MAX 64

/**
 * @brief Add client @p name with token hash @p token_hash (64 hex) and
 *        @p scopes (a Postgres array literal, e.g. "{stock:read}").
 * @returns the new id, or -1 with errstr and @p sqlstate (may be NULL;
 *          DB_UNIQUE_VIOLATION when the name is taken).
 */
long long clients_add(PGconn *pg, const char *name, const char *token_hash,
                      const char *scopes, char *errstr, size_t errstr_size,
                      char *sqlstate);

/**
 * @brief Revoke client @p name (idempotent).
 * @returns 1 when revoked now or before, 0 when there is no such client,
 *          -1 with errstr.
 */
int clients_revoke(PGconn *pg, const char *name, char *errstr,
                   size_t errstr_size);

/**
 * @brief The clients `client list` prints, by name: name, scopes (comma
 *        separated), created_at, revoked_at (NULL when active).
 * @returns the rows (PQclear() them), or NULL with errstr.
 */
PGresult *clients_list(PGconn *pg, char *errstr, size_t errstr_size);

/**
 * @brief Who holds the token whose hash is @p token_hash.
 * @param name   receives the client's name.
 * @param scopes receives its scopes, comma separated.
 * @returns 1 (an active client), 2 (a revoked one), 0 (none), -1 with
 *          errstr.
 */
int clients_auth(PGconn *pg, const char *token_hash, char *name,
                 size_t name_size, char *scopes, size_t scopes_size,
                 char *errstr, size_t errstr_size);

/* The longest idempotency key of a batch (api_request.idem_key). */
#define CLIENTS_KEY_MAX 200

/** One batch's idempotency key (table api_request, migration 0016). */
struct clients_request {
    const char *client; /* the client's name */
    const char *route;  /* e.g. "catalog" */
    const char *key;    /* 1..CLIENTS_KEY_MAX bytes */
};

/**
 * @brief The first result of the batch recorded under @p rq.
 * @param body_sha256 receives the recorded body's SHA-256 (hex).
 * @param answer      receives the answer's text (malloc()ed; free() it).
 * @returns 1 (found), 0 (no such key), -1 with errstr.
 */
int clients_request_find(PGconn *pg, const struct clients_request *rq,
                         char body_sha256[65], unsigned *status, char **answer,
                         char *errstr, size_t errstr_size);

/**
 * @brief Record @p rq's result, in the caller's transaction (the batch's).
 * @returns 1 (recorded), 0 (the key was recorded meanwhile by another
 *          request), -1 with errstr.
 */
int clients_request_save(PGconn *pg, const struct clients_request *rq,
                         const char *body_sha256, unsigned status,
                         const char *answer, char *errstr, size_t errstr_size);

#endif
