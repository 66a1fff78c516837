/*
 * stores — the store and store_source tables: a store's integration
 * settings, its source locations, and what follows from them, the
 * availability of a variant in a store.
 *
 * Loads the store row with its price list, online location, source
 * locations, delivery item and the decrypted API password.  The password
 * is sealed (stores_add()) and opened (stores_load()) here and nowhere
 * else; it is secret: never log it, and release it with
 * store_conf_clear(), which zeroes it.
 *
 * Availability: what a store may sell of a variant is the sum of on hand
 * and reserved over the store's source locations, its safety stock, and
 * the variant's price in the store's price list (docs/events.md,
 * stock.available).  The one query that reads it lives here; the stock
 * module (ledger.h) turns its rows into stock.available events, and
 * `omnisync reconcile` compares them with what the store shows.
 */
#ifndef OMNI_STORES_H
#define OMNI_STORES_H

#include <libpq-fe.h>
#include <stddef.h>

/* One store's settings (all strings owned; store_conf_clear() frees). */
/* The longest store name, in bytes (docs/limits.md).  A name is part of
 * every event key and Redis key of its store; `store add` refuses longer
 * ones and the schema checks it (migration 0008). */
#define STORE_NAME_MAX 64

struct store_conf {
    long long id;
    char *name;
    char *platform; /* a name in the platform registry (store/platform.h) */
    char *url;      /* API base URL, http(s):// */
    char *login;    /* API identifier */
    char *password; /* decrypted API password: secret (NULL when loaded
                       with stores_settings_load*()) */
    int api_limit;  /* calls per window (default: the platform's) */
    int api_window; /* window in seconds (default: the platform's) */
    int safety_stock;
    long long price_list_id;
    char *price_list; /* price list code */
    long long online_location_id;
    char *online_location; /* its code */
    long long delivery_variant_id;
    char *delivery_sku;
    char *webhook_secret; /* 32 hex chars, part of the webhook URL: secret,
                             sealed at rest like the password (NULL when
                             loaded with stores_settings_load*()) */
    /* Where returned stock goes (--return-location; default the online
     * location). */
    long long return_location_id;
    char *return_location; /* its code */
    /* Source locations in reservation order; [0] is the online location. */
    long long *source_location_ids;
    size_t n_sources;
};

/**
 * @brief Load store @p name.
 * @param key  the 32-byte secret key that decrypts the password
 *             (secret_key_load()).
 * @param conf filled on success; zeroed on failure.
 * @returns 0; 1 when no store has that name; -1 with errstr on errors
 *          (including a password that cannot be decrypted).
 */
int stores_load(PGconn *pg, const unsigned char *key, const char *name,
                struct store_conf *conf, char *errstr, size_t errstr_size);

/**
 * @brief Load every store, ordered by name.
 * @param key   as for stores_load().
 * @param confs receives a malloc()ed array (free with stores_free_all()).
 * @param n     receives its length (0 is fine).
 * @returns 0, or -1 with errstr.
 */
int stores_load_all(PGconn *pg, const unsigned char *key,
                    struct store_conf **confs, size_t *n, char *errstr,
                    size_t errstr_size);

/**
 * @brief Load store @p name's settings without its password
 *        (conf->password stays NULL), so no key is needed: for code that
 *        reads the ledger but never calls the store.
 * @param sqlstate receives the SQLSTATE of a failed statement (may be
 *                 NULL; 6 bytes).
 * @returns 0; 1 when no store has that name; -1 with errstr.
 */
int stores_settings_load(PGconn *pg, const char *name, struct store_conf *conf,
                         char *errstr, size_t errstr_size, char *sqlstate);

/**
 * @brief Every store's settings without passwords, ordered by name (as
 *        stores_load_all(); free with stores_free_all()).
 * @returns 0, or -1 with errstr.
 */
int stores_settings_load_all(PGconn *pg, struct store_conf **confs, size_t *n,
                             char *errstr, size_t errstr_size);

/** @brief Zero the password, free every field, zero @p conf.  NULL-safe. */
void store_conf_clear(struct store_conf *conf);

/** @brief store_conf_clear() each of @p n confs and free the array. */
void stores_free_all(struct store_conf *confs, size_t n);

/**
 * @brief The id of store @p name.
 * @returns 1 (*id set), 0 when there is no such store, -1 with errstr.
 */
int stores_find(PGconn *pg, const char *name, long long *id, char *errstr,
                size_t errstr_size);

/**
 * @brief The name of the store whose online location is @p location_id.
 * @param name receives it ("" when none).
 * @returns 1 when a store has it, 0 when none does, -1 with errstr.
 */
int stores_online_owner(PGconn *pg, long long location_id, char *name,
                        size_t name_size, char *errstr, size_t errstr_size);

/** @brief Set @p n to the number of stores.  @returns 0, or -1. */
int stores_count(PGconn *pg, long long *n, char *errstr, size_t errstr_size);

/* When a store was last checked against what it really shows
 * (docs/status.md; migration 0006). */
struct stores_verified {
    int known;            /* 0: never verified */
    long long at;         /* when, seconds since the epoch */
    int ok;               /* the check found store and ledger agree */
    char by[32];          /* what checked: "reconcile" */
    char detail[256];     /* what it found */
    long long created_at; /* the store's row was added (seconds) */
};

/**
 * @brief Record a check of store @p store_id against the store: by
 *        @p by ("reconcile"), whether it agreed, and what it found.
 * @returns 0, or -1 with errstr.
 */
int stores_verified_set(PGconn *pg, long long store_id, const char *by, int ok,
                        const char *detail, char *errstr, size_t errstr_size);

/**
 * @brief The last check of store @p store_id (stores_verified_set()).
 * @returns 0, or -1 with errstr (also when there is no such store).
 */
int stores_verified_get(PGconn *pg, long long store_id,
                        struct stores_verified *v, char *errstr,
                        size_t errstr_size);

/* A new store (strings and the array borrowed). */
struct store_new {
    const char *name;
    const char *platform;
    const char *url;
    const char *login;
    long long online_location_id;
    long long price_list_id;
    long long delivery_variant_id;
    long long safety_stock;
    long long api_limit;
    long long api_window;
    long long return_location_id; /* 0: the online location */
    /* Source locations in reservation order, each once; [0] is the
     * online location. */
    const long long *source_location_ids;
    size_t n_sources;
};

/**
 * @brief Insert a store and its source locations in the caller's
 *        transaction.  The password is sealed under @p key (never stored
 *        or logged in clear); the webhook secret is generated.
 * @param sqlstate receives the SQLSTATE of a failed statement (may be
 *                 NULL; 6 bytes): DB_UNIQUE_VIOLATION when the name or
 *                 the online location is taken.
 * @returns the new store's id, or -1 with errstr.
 */
long long stores_add(PGconn *pg, const struct store_new *s,
                     const unsigned char *key, const char *password,
                     char *errstr, size_t errstr_size, char *sqlstate);

/* What `store set` changes (strings and the array borrowed); a field left
 * at its "kept" value is not changed. */
struct store_change {
    const char *url;               /* NULL: kept */
    const char *password;          /* plain, sealed here; NULL: kept */
    long long price_list_id;       /* 0: kept */
    long long delivery_variant_id; /* 0: kept */
    long long safety_stock;        /* -1: kept */
    long long api_limit;           /* 0: kept */
    long long api_window;          /* 0: kept */
    long long return_location_id;  /* 0: kept */
    /* The sources after the online location, in reservation order, each
     * once and never the online location; NULL: kept. */
    const long long *source_location_ids;
    size_t n_sources;
};

/**
 * @brief Change store @p store_id's settings in the caller's transaction
 *        (a new password is sealed under @p key); updated_at moves, so the
 *        services see a new stores_version().
 * @returns 0, or -1 with errstr (a removed or unknown store too).
 */
int stores_change(PGconn *pg, long long store_id, const struct store_change *c,
                  const unsigned char *key, char *errstr, size_t errstr_size);

/**
 * @brief Stop syncing store @p store_id: removed_at is set (migration
 *        0013) and no service loads it any more; its rows (orders,
 *        movements, remote ids, dead letters) stay as history.
 * @returns 0, or -1 with errstr.
 */
int stores_remove(PGconn *pg, long long store_id, char *errstr,
                  size_t errstr_size);

/**
 * @brief A text that changes whenever any store is added, changed or
 *        removed (the services reload their stores when it does).
 * @returns 0, or -1 with errstr.
 */
int stores_version(PGconn *pg, char *version, size_t version_size, char *errstr,
                   size_t errstr_size);

/**
 * @brief Seal every webhook secret still kept in clear (store rows from
 *        before migration 0011) in one transaction of its own: the
 *        plain column is cleared in the same statement that writes the
 *        sealed one.  `omnisync db migrate` runs it after the SQL
 *        migrations.
 * @param key the secret key (may be NULL: then it fails when there is a
 *            plain secret, and does nothing when there is none).
 * @returns the number of secrets sealed (0 when none), or -1 with errstr
 *          (never quoting a secret).
 */
long long stores_webhook_seal_plain(PGconn *pg, const unsigned char *key,
                                    char *errstr, size_t errstr_size);

/**
 * @brief The settings `store list|show` prints, never the password.
 * @param name one store (may be NULL: every store, by name).
 * @returns the rows (PQclear() them), columns: name, platform, url, login,
 *          online location code, the other source location codes joined
 *          with ',' in order ("" when none), price list code, delivery
 *          SKU, return location code, safety_stock, api_limit,
 *          api_window (never the password nor the webhook secret; removed
 *          stores aside); or NULL with errstr.
 */
PGresult *stores_list(PGconn *pg, const char *name, char *errstr,
                      size_t errstr_size);

/* One availability row: what store @p store may sell of a variant
 * (strings borrowed for the callback's duration). */
struct stores_avail {
    const char *store; /* store name */
    long long variant_id;
    const char *sku;
    long long safety_stock;
    long long on_hand;     /* sum over the store's source locations */
    long long reserved;    /* likewise */
    const char *price;     /* in the store's price list; NULL when none */
    const char *old_price; /* NULL when none */
};

/* Called once per availability row, in order; returns 0 to go on, or -1
 * with errstr to stop (the read then returns -1). */
struct stores_avail_each {
    int (*fn)(void *arg, const struct stores_avail *a, char *errstr,
              size_t errstr_size);
    void *arg;
};

/**
 * @brief Availability of every (store, variant) where the store sells
 *        from location_ids[i] and variant_ids[i] is the variant (a
 *        movement's lines: @p n pairs, repeats allowed), ordered by
 *        store id then variant id.
 * @returns the number of rows, or -1 with errstr.
 */
long long stores_avail_moved(PGconn *pg, const long long *location_ids,
                             const long long *variant_ids, size_t n,
                             const struct stores_avail_each *each, char *errstr,
                             size_t errstr_size);

/**
 * @brief Availability of every variant with stock (on hand or reserved
 *        not zero) at a source location of store @p store_id, ordered by
 *        variant id.
 * @returns the number of rows, or -1 with errstr.
 */
long long stores_avail_stocked(PGconn *pg, long long store_id,
                               const struct stores_avail_each *each,
                               char *errstr, size_t errstr_size);

/**
 * @brief Availability of the @p n pairs (store_ids[i], variant_ids[i])
 *        whether or not they have stock, ordered by store id then variant
 *        id (a pair naming no store or no variant has no row).
 * @returns the number of rows, or -1 with errstr.
 */
long long stores_avail_pairs(PGconn *pg, const long long *store_ids,
                             const long long *variant_ids, size_t n,
                             const struct stores_avail_each *each, char *errstr,
                             size_t errstr_size);

/**
 * @brief Availability of each of the @p n variants in every store whose
 *        price list is @p price_list_id, ordered by store id then variant
 *        id.
 * @returns the number of rows, or -1 with errstr.
 */
long long stores_avail_priced(PGconn *pg, long long price_list_id,
                              const long long *variant_ids, size_t n,
                              const struct stores_avail_each *each,
                              char *errstr, size_t errstr_size);

/**
 * @brief Availability of every variant store @p store_id should sell
 *        (not archived, of a product not archived, priced in the store's
 *        price list), ordered by SKU.
 * @returns the number of rows, or -1 with errstr.
 */
long long stores_avail_sellable(PGconn *pg, long long store_id,
                                const struct stores_avail_each *each,
                                char *errstr, size_t errstr_size);

#endif
