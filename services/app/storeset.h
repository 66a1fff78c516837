/*
 * storeset — the online stores of the ledger, each with its platform
 * (platform.h, found in the registry by the store's platform name) and a
 * store client ready for metered calls through the shared budget.
 *
 * Services that talk to stores (publishers, order-ingestor) keep one set
 * per worker thread, refresh it periodically to pick up stores added with
 * `omnisync store add`, and look stores up by name or id.
 *
 * @locality one thread at a time (store clients are not thread-safe).
 */
#ifndef OMNI_STORESET_H
#define OMNI_STORESET_H

#include "ledger/stores.h"
#include "store/platform.h"
#include "store/store_client.h"

#include <libpq-fe.h>
#include <stddef.h>

/*
 * The shared row of how often services reload the stores (cfg.h rows):
 * T is the binary's config struct, F its long long field.
 */
#define STORESET_CFG_REFRESH_MS(T, F)                                          \
    {                                                                          \
        "stores.refresh.ms", CFG_INT, "30000", 100, 86400000, 0,               \
            offsetof(T, F),                                                    \
            "how often the stores are reloaded from the ledger (settings, "    \
            "new stores)"                                                      \
    }

/*
 * The shared row of the store client's timeout (a whole call, connect
 * included): T is the binary's config struct, F its long long field.
 */
#define STORESET_CFG_TIMEOUT_MS(T, F)                                          \
    {                                                                          \
        "store.timeout.ms", CFG_INT, "55000", 1000, 600000, 0, offsetof(T, F), \
            "longest store API call (stores give up at 50 s); a call "         \
            "without an answer by then is a transient failure"                 \
    }

/* One store: its settings, platform and client (settings and client
 * owned by the set). */
struct storeset_entry {
    struct store_conf conf;
    const struct store_platform *plat; /* static */
    struct store_client *sc;
};

struct storeset;

/** @brief An empty set.  @returns NULL only when out of memory. */
struct storeset *storeset_new(void);

/**
 * @brief (Re)load every store from the ledger.  Entries whose settings
 *        did not change keep their client (and its open connection);
 *        new stores get one, removed stores are dropped.  Entry pointers
 *        from before the call are invalid after it.
 * @param secret_key the configured key that decrypts the passwords: 64
 *                   hex characters (config key secret.key; may be NULL:
 *                   then this fails, naming OMNISYNC_SECRET_KEY).
 * @returns the number of stores, or -1 with errstr (the set is unchanged).
 */
int storeset_refresh(struct storeset *s, PGconn *pg, const char *secret_key,
                     char *errstr, size_t errstr_size);

/* How often storeset_refresh_changed() asks the ledger (ms). */
#define STORESET_CHECK_MS 1000

/**
 * @brief Reload the stores when the ledger's stores_version() differs from
 *        the last refresh's (a store added, changed by `store set`, or
 *        removed), asking at most every STORESET_CHECK_MS; one cheap query
 *        otherwise.  Services call it from their loops so a settings
 *        change takes effect within about a second, without a restart.
 * @returns 1 reloaded, 0 unchanged (or not asked yet), -1 with errstr.
 */
int storeset_refresh_changed(struct storeset *s, PGconn *pg,
                             const char *secret_key, char *errstr,
                             size_t errstr_size);

/** @brief Clients made by later refreshes time out after @p timeout_ms
 *         (0: the client's default, 55 s). */
void storeset_timeout_set(struct storeset *s, long timeout_ms);

/** @returns the number of stores in the set. */
size_t storeset_count(const struct storeset *s);

/** @returns entry @p i (borrowed, valid until the next refresh). */
struct storeset_entry *storeset_get(struct storeset *s, size_t i);

/** @returns the store named @p name, or NULL (borrowed, as above). */
struct storeset_entry *storeset_find(struct storeset *s, const char *name);

/** @returns the store with ledger id @p id, or NULL (borrowed). */
struct storeset_entry *storeset_find_id(struct storeset *s, long long id);

/**
 * @brief A client for the store of @p c on its platform (the settings'
 *        strings are copied).
 * @param max_wait_ms longest budget wait of a call (0: no bound).
 * @param plat receives the platform (may be NULL).
 * @returns the client, or NULL with errstr (an unknown platform too).
 */
struct store_client *storeset_client_new(const struct store_conf *c,
                                         long max_wait_ms,
                                         const struct store_platform **plat,
                                         char *errstr, size_t errstr_size);

/** @brief Free the set, its clients and settings.  NULL-safe. */
void storeset_destroy(struct storeset *s);

#endif
