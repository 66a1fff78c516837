/*
 * stores — a store's integration settings, as services need them, and the
 * store and store_source tables' other statements (`omnisync store`).
 *
 * Loads the store row with its price list, online location, source
 * locations, delivery item and the decrypted API password.  The password
 * is secret: never log it, and release it with store_conf_clear(), which
 * zeroes it.
 */
#ifndef OMNI_STORES_H
#define OMNI_STORES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

/* One store's settings (all strings owned; store_conf_clear() frees). */
struct store_conf {
    long long id;
    char *name;
    char *platform; /* a name in the platform registry (store/platform.h) */
    char *url;      /* API base URL, http(s):// */
    char *login;    /* API identifier */
    char *password; /* decrypted API password: secret */
    int api_limit;  /* calls per window (default: the platform's) */
    int api_window; /* window in seconds (default: the platform's) */
    int safety_stock;
    long long price_list_id;
    char *price_list; /* price list code */
    long long online_location_id;
    char *online_location; /* its code */
    long long delivery_variant_id;
    char *delivery_sku;
    char *webhook_secret; /* 32 hex chars, part of the webhook URL */
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

/** @brief Zero the password, free every field, zero @p conf.  NULL-safe. */
void store_conf_clear(struct store_conf *conf);

/** @brief store_conf_clear() each of @p n confs and free the array. */
void stores_free_all(struct store_conf *confs, size_t n);

/* A new store as `omnisync store add` writes it (everything borrowed). */
struct store_new {
    const char *name, *platform, *url, *login;
    const unsigned char *password_nonce; /* the sealed API password */
    size_t nonce_len;
    const unsigned char *password_box;
    size_t box_len;
    long long online_location_id, price_list_id, delivery_variant_id;
    long long safety_stock, api_limit, api_window;
    const char *webhook_secret;
    const long long *source_location_ids; /* the online location first */
    size_t n_sources;
};

/**
 * @brief Insert the store row and its source locations (positions in the
 *        given order), in the caller's transaction.
 * @param sqlstate (may be NULL) 6 bytes: the failed statement's SQLSTATE.
 * @returns the new store's id, or -1 with errstr.
 */
long long stores_insert(PGconn *pg, const struct store_new *s, char *errstr,
                        size_t errstr_size, char *sqlstate);

/**
 * @brief The name of the store whose online location is @p location_id
 *        into @p owner ("" when none).
 * @returns 0, or -1 with errstr.
 */
int stores_online_owner(PGconn *pg, long long location_id, char *owner,
                        size_t owner_size, char *errstr, size_t errstr_size);

/**
 * @brief The stores' settings as `omnisync store list|show` shows them,
 *        never the password: [{"name","platform","url","login",
 *        "online_location","source_locations":[code...] (without the
 *        online location),"price_list","delivery_sku","safety_stock",
 *        "api_limit","api_window","webhook_secret"}...] ordered by name
 *        (bytewise).
 * @param name (may be NULL) only the store of this name.
 * @returns a new array, or NULL with errstr.
 */
json_t *stores_list(PGconn *pg, const char *name, char *errstr,
                    size_t errstr_size);

#endif
