/*
 * stores — a store's integration settings, as services need them.
 *
 * Loads the store row with its price list, online location, source
 * locations, delivery item and the decrypted API password.  The password
 * is secret: never log it, and release it with store_conf_clear(), which
 * zeroes it.
 */
#ifndef OMNI_STORES_H
#define OMNI_STORES_H

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
 * @param key  the 32-byte secret key (may be NULL: read
 *             OMNISYNC_SECRET_KEY).
 * @param conf filled on success; zeroed on failure.
 * @returns 0; 1 when no store has that name; -1 with errstr on errors
 *          (including a password that cannot be decrypted).
 */
int stores_load(PGconn *pg, const unsigned char *key, const char *name,
                struct store_conf *conf, char *errstr, size_t errstr_size);

/**
 * @brief Load every store, ordered by name.
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

#endif
