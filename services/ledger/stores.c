#include "ledger/stores.h"

#include "lib/db.h"
#include "lib/hash.h"
#include "lib/idarray.h"
#include "lib/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns 0..19; ss_ids is the '{..}' array of source location ids in
 * position order.  Binary columns come hex-encoded.  The webhook secret
 * is sealed (17, 18); 16 is its plain form, left only by a ledger
 * migrated to 0011 whose `db migrate` has not sealed it yet. */
#define STORES_SQL                                                             \
    "SELECT s.id, s.name, s.platform, s.url, s.login,"                         \
    " encode(s.password_nonce, 'hex'), encode(s.password_box, 'hex'),"         \
    " s.api_limit, s.api_window, s.safety_stock, s.price_list_id, pl.code,"    \
    " s.online_location_id, ol.code, s.delivery_variant_id, v.sku,"            \
    " s.webhook_secret, encode(s.webhook_nonce, 'hex'),"                       \
    " encode(s.webhook_box, 'hex'),"                                           \
    " ARRAY(SELECT ss.location_id FROM store_source ss"                        \
    "  WHERE ss.store_id = s.id ORDER BY ss.position)::text,"                  \
    " COALESCE(s.return_location_id, s.online_location_id), rl.code "          \
    "FROM store s JOIN price_list pl ON pl.id = s.price_list_id"               \
    " JOIN location ol ON ol.id = s.online_location_id"                        \
    " JOIN location rl ON rl.id = "                                            \
    "COALESCE(s.return_location_id, s.online_location_id)"                     \
    " JOIN variant v ON v.id = s.delivery_variant_id "                         \
    "WHERE s.removed_at IS NULL "

#define STORES_SQL_INSERT                                                      \
    "INSERT INTO store (name, platform, url, login,"                           \
    " password_nonce, password_box, online_location_id,"                       \
    " price_list_id, delivery_variant_id, safety_stock,"                       \
    " api_limit, api_window, webhook_nonce, webhook_box, webhook_hash,"        \
    " return_location_id) "                                                    \
    "VALUES ($1, $2, $3, $4, decode($5, 'hex'),"                               \
    " decode($6, 'hex'), $7, $8, $9, $10, $11, $12, decode($13, 'hex'),"       \
    " decode($14, 'hex'), decode($15, 'hex'), NULLIF($16::bigint, 0)) "        \
    "RETURNING id"

#define STORES_SQL_SOURCE_INSERT                                               \
    "INSERT INTO store_source (store_id, location_id, position) "              \
    "VALUES ($1, $2, $3)"

/* Columns of store list/show; never the password nor the webhook secret.
 * $1: a name or NULL. */
#define STORES_SQL_LIST                                                        \
    "SELECT s.name, s.platform, s.url, s.login, ol.code,"                      \
    " COALESCE((SELECT string_agg(l.code, ',' ORDER BY ss.position)"           \
    "  FROM store_source ss JOIN location l ON l.id = ss.location_id"          \
    "  WHERE ss.store_id = s.id AND ss.position > 0), ''),"                    \
    " pl.code, v.sku, COALESCE(rl.code, ol.code), s.safety_stock,"             \
    " s.api_limit, s.api_window "                                              \
    "FROM store s JOIN location ol ON ol.id = s.online_location_id"            \
    " JOIN price_list pl ON pl.id = s.price_list_id"                           \
    " JOIN variant v ON v.id = s.delivery_variant_id"                          \
    " LEFT JOIN location rl ON rl.id = s.return_location_id "                  \
    "WHERE s.removed_at IS NULL AND ($1::text IS NULL OR s.name = $1) "        \
    "ORDER BY s.name COLLATE \"C\""

/*
 * The availability query.  From h(store_id, variant_id), a CTE each
 * caller defines, it returns per row: store name, variant id, sku, safety
 * stock, sum on hand, sum reserved over the store's source locations, and
 * the variant's price and old price in the store's price list (text, NULL
 * when it has none).  Callers append the ORDER BY.
 */
#define STORES_SQL_AVAIL                                                       \
    "SELECT s.name, v.id, v.sku, s.safety_stock,"                              \
    " COALESCE(SUM(l.on_hand), 0), COALESCE(SUM(l.reserved), 0),"              \
    " p.price::text, p.old_price::text "                                       \
    "FROM hit h JOIN store s ON s.id = h.store_id AND s.removed_at IS NULL"    \
    " JOIN variant v ON v.id = h.variant_id"                                   \
    " LEFT JOIN store_source src ON src.store_id = s.id"                       \
    " LEFT JOIN stock_level l ON l.location_id = src.location_id"              \
    "  AND l.variant_id = v.id"                                                \
    " LEFT JOIN price p ON p.price_list_id = s.price_list_id"                  \
    "  AND p.variant_id = v.id "                                               \
    "GROUP BY s.id, s.name, v.id, v.sku, s.safety_stock, p.price,"             \
    " p.old_price "

#define STORES_SQL_AVAIL_BY_ID STORES_SQL_AVAIL "ORDER BY s.id, v.id"

/* Every (store, variant) pair where the store sells from a location the
 * movement touched. */
#define STORES_SQL_AVAIL_MOVED                                                 \
    "WITH hit AS ("                                                            \
    " SELECT DISTINCT ss.store_id, x.variant_id"                               \
    " FROM unnest($1::bigint[], $2::bigint[]) AS x(location_id, variant_id)"   \
    " JOIN store_source ss ON ss.location_id = "                               \
    "x.location_id) " STORES_SQL_AVAIL_BY_ID

/* One store and every variant it has stock of. */
#define STORES_SQL_AVAIL_STOCKED                                               \
    "WITH hit AS ("                                                            \
    " SELECT DISTINCT ss.store_id, l.variant_id FROM store_source ss"          \
    " JOIN stock_level l ON l.location_id = ss.location_id"                    \
    " WHERE ss.store_id = $1 AND (l.on_hand <> 0 OR l.reserved <> "            \
    "0)) " STORES_SQL_AVAIL_BY_ID

/* Explicit (store, variant) pairs. */
#define STORES_SQL_AVAIL_PAIRS                                                 \
    "WITH hit AS ("                                                            \
    " SELECT DISTINCT x.store_id, x.variant_id"                                \
    " FROM unnest($1::bigint[], $2::bigint[]) AS x(store_id, "                 \
    "variant_id)) " STORES_SQL_AVAIL_BY_ID

/* Every store whose price list is $1, times the variants $2. */
#define STORES_SQL_AVAIL_PRICED                                                \
    "WITH hit AS ("                                                            \
    " SELECT s.id AS store_id, x.variant_id FROM store s"                      \
    " CROSS JOIN unnest($2::bigint[]) AS x(variant_id)"                        \
    " WHERE s.price_list_id = $1) " STORES_SQL_AVAIL_BY_ID

/* Every variant the store should sell: not archived, of a product not
 * archived, priced in the store's price list. */
#define STORES_SQL_AVAIL_SELLABLE                                              \
    "WITH hit AS ("                                                            \
    " SELECT s.id AS store_id, v.id AS variant_id FROM store s"                \
    " JOIN price p ON p.price_list_id = s.price_list_id"                       \
    " JOIN variant v ON v.id = p.variant_id AND NOT v.archived"                \
    " JOIN product pr ON pr.id = v.product_id AND NOT pr.archived"             \
    " WHERE s.id = $1) " STORES_SQL_AVAIL "ORDER BY v.sku"

static char *stores_dup(const PGresult *res, int row, int col, int *fail)
{
    char *s = strdup(PQgetvalue(res, row, col));

    if (!s)
        *fail = 1;
    return s;
}

static long long stores_ll(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Parse "{1,2,3}" into an array. */
static int stores_ids_parse(const char *text, long long **ids, size_t *n)
{
    const char *p = text;
    char *end;
    size_t cap = 1, k = 0;
    long long *a;

    for (; *p; p++)
        if (*p == ',')
            cap++;
    a = calloc(cap, sizeof(*a));
    if (!a)
        return -1;
    p = text;
    while (*p) {
        if (*p == '{' || *p == ',' || *p == '}') {
            p++;
            continue;
        }
        if (k == cap) {
            free(a);
            return -1;
        }
        a[k] = strtoll(p, &end, 10);
        if (end == p) {
            free(a);
            return -1;
        }
        k++;
        p = end;
    }
    *ids = a;
    *n = k;
    return 0;
}

/* A value sealed as a store row keeps it: nonce and box, hex-encoded
 * (decode($, 'hex') in SQL); box is malloc()ed (sealed_clear()). */
struct sealed {
    char nonce[SECRET_NONCE_BYTES * 2 + 1];
    char *box;
};

static void sealed_clear(struct sealed *sd)
{
    free(sd->box);
    sd->box = NULL;
}

/* Seal the string @p plain under @p key into @p sd. */
static int stores_seal(const unsigned char *key, const char *plain,
                       struct sealed *sd, char *errstr, size_t errstr_size)
{
    unsigned char nonce[SECRET_NONCE_BYTES], *box = NULL;
    size_t box_len = 0;

    sd->box = NULL;
    if (secret_seal(key, plain, strlen(plain), nonce, &box, &box_len, errstr,
                    errstr_size) < 0)
        return -1;
    sd->box = malloc(box_len * 2 + 1);
    if (!sd->box) {
        free(box);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    sodium_bin2hex(sd->nonce, sizeof(sd->nonce), nonce, sizeof(nonce));
    sodium_bin2hex(sd->box, box_len * 2 + 1, box, box_len);
    free(box);
    return 0;
}

/* Open the @p what ("password", "webhook secret") of store @p store from
 * its hex-encoded columns; on success *plain is the value (release with
 * secret_str_free()). */
static int stores_open(const unsigned char *key, const char *store,
                       const char *what, const char *hex_nonce,
                       const char *hex_box, char **plain, char *errstr,
                       size_t errstr_size)
{
    unsigned char nonce[SECRET_NONCE_BYTES], *box = NULL;
    size_t nonce_len = 0, box_len = 0, hex_box_len = strlen(hex_box);
    int rc = -1;

    box = malloc(hex_box_len / 2 + 1);
    if (!box) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (sodium_hex2bin(nonce, sizeof(nonce), hex_nonce, strlen(hex_nonce), NULL,
                       &nonce_len, NULL) != 0 ||
        nonce_len != sizeof(nonce) ||
        sodium_hex2bin(box, hex_box_len / 2 + 1, hex_box, hex_box_len, NULL,
                       &box_len, NULL) != 0) {
        snprintf(errstr, errstr_size, "store %s: malformed %s column", store,
                 what);
        goto out;
    }
    if (secret_open(key, nonce, box, box_len, plain, errstr, errstr_size) < 0) {
        /* errstr says why without any secret in it; name the store. */
        char why[256];

        snprintf(why, sizeof(why), "%s", errstr);
        snprintf(errstr, errstr_size, "store %s: %s: %s", store, what, why);
        goto out;
    }
    rc = 0;
out:
    free(box);
    return rc;
}

/* The webhook secret of row @p row into conf->webhook_secret: the plain
 * column of a row not sealed yet, else the sealed one opened with @p key;
 * NULL without a key. */
static int stores_row_webhook(const PGresult *res, int row,
                              const unsigned char *key, struct store_conf *conf,
                              char *errstr, size_t errstr_size)
{
    if (!PQgetisnull(res, row, 16)) {
        conf->webhook_secret = strdup(PQgetvalue(res, row, 16));
        if (!conf->webhook_secret) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        return 0;
    }
    if (!key)
        return 0;
    return stores_open(key, conf->name, "webhook secret",
                       PQgetvalue(res, row, 17), PQgetvalue(res, row, 18),
                       &conf->webhook_secret, errstr, errstr_size);
}

/* Fill @p conf from row @p row, decrypting the password and the webhook
 * secret unless @p key is NULL. */
static int stores_row(const PGresult *res, int row, const unsigned char *key,
                      struct store_conf *conf, char *errstr, size_t errstr_size)
{
    int fail = 0, rc = -1;

    memset(conf, 0, sizeof(*conf));
    conf->id = stores_ll(res, row, 0);
    conf->name = stores_dup(res, row, 1, &fail);
    conf->platform = stores_dup(res, row, 2, &fail);
    conf->url = stores_dup(res, row, 3, &fail);
    conf->login = stores_dup(res, row, 4, &fail);
    conf->api_limit = (int)stores_ll(res, row, 7);
    conf->api_window = (int)stores_ll(res, row, 8);
    conf->safety_stock = (int)stores_ll(res, row, 9);
    conf->price_list_id = stores_ll(res, row, 10);
    conf->price_list = stores_dup(res, row, 11, &fail);
    conf->online_location_id = stores_ll(res, row, 12);
    conf->online_location = stores_dup(res, row, 13, &fail);
    conf->delivery_variant_id = stores_ll(res, row, 14);
    conf->delivery_sku = stores_dup(res, row, 15, &fail);
    conf->return_location_id = stores_ll(res, row, 20);
    conf->return_location = stores_dup(res, row, 21, &fail);
    if (fail ||
        stores_ids_parse(PQgetvalue(res, row, 19), &conf->source_location_ids,
                         &conf->n_sources) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (key && stores_open(key, conf->name, "password", PQgetvalue(res, row, 5),
                           PQgetvalue(res, row, 6), &conf->password, errstr,
                           errstr_size) < 0)
        goto out;
    if (stores_row_webhook(res, row, key, conf, errstr, errstr_size) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        store_conf_clear(conf);
    return rc;
}

/* Load one store; @p k NULL: without its password. */
static int stores_one(PGconn *pg, const unsigned char *k, const char *name,
                      struct store_conf *conf, char *errstr, size_t errstr_size,
                      char *sqlstate)
{
    const char *vals[1] = {name};
    PGresult *res;
    int rc;

    res = db_exec(pg, STORES_SQL "AND s.name = $1", 1, vals, "load store",
                  errstr, errstr_size, sqlstate);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        snprintf(errstr, errstr_size, "no store named '%s'", name);
        rc = 1;
    } else {
        rc = stores_row(res, 0, k, conf, errstr, errstr_size);
    }
    PQclear(res);
    return rc;
}

/* Load every store; @p k NULL: without their passwords. */
static int stores_all(PGconn *pg, const unsigned char *k,
                      struct store_conf **confs, size_t *n, char *errstr,
                      size_t errstr_size)
{
    struct store_conf *all = NULL;
    PGresult *res;
    size_t i, nrows, done = 0;
    int rc = -1;

    res = db_exec(pg, STORES_SQL "ORDER BY s.name", 0, NULL, "load stores",
                  errstr, errstr_size, NULL);
    if (!res)
        return -1;
    nrows = (size_t)PQntuples(res);
    all = calloc(nrows ? nrows : 1, sizeof(*all));
    if (!all) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (i = 0; i < nrows; i++) {
        if (stores_row(res, (int)i, k, &all[i], errstr, errstr_size) < 0)
            goto out;
        done++;
    }
    *confs = all;
    *n = nrows;
    all = NULL;
    rc = 0;
out:
    stores_free_all(all, done);
    PQclear(res);
    return rc;
}

/* stores_row() takes a NULL key as "without the password": the loads
 * that open it refuse one. */
static int stores_key_check(const unsigned char *key, char *errstr,
                            size_t errstr_size)
{
    if (key)
        return 0;
    snprintf(errstr, errstr_size, "load store: no secret key");
    return -1;
}

int stores_load(PGconn *pg, const unsigned char *key, const char *name,
                struct store_conf *conf, char *errstr, size_t errstr_size)
{
    memset(conf, 0, sizeof(*conf));
    if (stores_key_check(key, errstr, errstr_size) < 0)
        return -1;
    return stores_one(pg, key, name, conf, errstr, errstr_size, NULL);
}

int stores_load_all(PGconn *pg, const unsigned char *key,
                    struct store_conf **confs, size_t *n, char *errstr,
                    size_t errstr_size)
{
    *confs = NULL;
    *n = 0;
    if (stores_key_check(key, errstr, errstr_size) < 0)
        return -1;
    return stores_all(pg, key, confs, n, errstr, errstr_size);
}

int stores_settings_load(PGconn *pg, const char *name, struct store_conf *conf,
                         char *errstr, size_t errstr_size, char *sqlstate)
{
    if (sqlstate)
        sqlstate[0] = '\0';
    memset(conf, 0, sizeof(*conf));
    return stores_one(pg, NULL, name, conf, errstr, errstr_size, sqlstate);
}

int stores_settings_load_all(PGconn *pg, struct store_conf **confs, size_t *n,
                             char *errstr, size_t errstr_size)
{
    *confs = NULL;
    *n = 0;
    return stores_all(pg, NULL, confs, n, errstr, errstr_size);
}

void store_conf_clear(struct store_conf *conf)
{
    if (!conf)
        return;
    secret_str_free(conf->password);
    free(conf->name);
    free(conf->platform);
    free(conf->url);
    free(conf->login);
    free(conf->price_list);
    free(conf->online_location);
    free(conf->delivery_sku);
    secret_str_free(conf->webhook_secret);
    free(conf->return_location);
    free(conf->source_location_ids);
    memset(conf, 0, sizeof(*conf));
}

void stores_free_all(struct store_conf *confs, size_t n)
{
    size_t i;

    if (!confs)
        return;
    for (i = 0; i < n; i++)
        store_conf_clear(&confs[i]);
    free(confs);
}

/* One bigint of a one-row query into *out: 1 when there was a row, 0 when
 * none, -1 with errstr. */
static int stores_one_ll(PGconn *pg, const char *sql, const char *val,
                         const char *what, long long *out, char *errstr,
                         size_t errstr_size)
{
    const char *vals[1] = {val};
    PGresult *res =
        db_exec(pg, sql, val ? 1 : 0, vals, what, errstr, errstr_size, NULL);
    int rc = 0;

    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        *out = stores_ll(res, 0, 0);
        rc = 1;
    }
    PQclear(res);
    return rc;
}

int stores_find(PGconn *pg, const char *name, long long *id, char *errstr,
                size_t errstr_size)
{
    return stores_one_ll(pg, "SELECT id FROM store WHERE name = $1", name,
                         "look up store", id, errstr, errstr_size);
}

int stores_count(PGconn *pg, long long *n, char *errstr, size_t errstr_size)
{
    return stores_one_ll(pg, "SELECT count(*) FROM store", NULL, "count stores",
                         n, errstr, errstr_size) < 0
               ? -1
               : 0;
}

int stores_verified_set(PGconn *pg, long long store_id, const char *by, int ok,
                        const char *detail, char *errstr, size_t errstr_size)
{
    char t_id[24];
    const char *vals[4] = {t_id, by, ok ? "true" : "false", detail};

    snprintf(t_id, sizeof(t_id), "%lld", store_id);
    return db_cmd(pg,
                  "UPDATE store SET verified_at = now(), verified_by = $2, "
                  "verified_ok = $3, verified_detail = $4 WHERE id = $1",
                  4, vals, "record the store's verification", errstr,
                  errstr_size);
}

int stores_verified_get(PGconn *pg, long long store_id,
                        struct stores_verified *v, char *errstr,
                        size_t errstr_size)
{
    char t_id[24];
    const char *vals[1] = {t_id};
    PGresult *res;

    memset(v, 0, sizeof(*v));
    snprintf(t_id, sizeof(t_id), "%lld", store_id);
    res = db_exec(pg,
                  "SELECT floor(extract(epoch FROM verified_at))::bigint, "
                  "verified_by, verified_ok, verified_detail, "
                  "floor(extract(epoch FROM created_at))::bigint "
                  "FROM store WHERE id = $1",
                  1, vals, "read the store's verification", errstr, errstr_size,
                  NULL);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        snprintf(errstr, errstr_size, "no store with id %lld", store_id);
        PQclear(res);
        return -1;
    }
    v->known = !PQgetisnull(res, 0, 0);
    v->at = stores_ll(res, 0, 0);
    snprintf(v->by, sizeof(v->by), "%s", PQgetvalue(res, 0, 1));
    v->ok = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    snprintf(v->detail, sizeof(v->detail), "%s", PQgetvalue(res, 0, 3));
    v->created_at = stores_ll(res, 0, 4);
    PQclear(res);
    return 0;
}

int stores_online_owner(PGconn *pg, long long location_id, char *name,
                        size_t name_size, char *errstr, size_t errstr_size)
{
    char t_loc[24];
    const char *vals[1] = {t_loc};
    PGresult *res;
    int found;

    snprintf(t_loc, sizeof(t_loc), "%lld", location_id);
    res = db_exec(pg, "SELECT name FROM store WHERE online_location_id = $1", 1,
                  vals, "look up store", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    found = PQntuples(res) > 0;
    snprintf(name, name_size, "%s", found ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return found;
}

/* The webhook secret as the store row keeps it: sealed under @p key and
 * its SHA-256 (hex, for the uniqueness check). */
static int stores_webhook_seal(const unsigned char *key, const char *secret,
                               struct sealed *sd,
                               char hash[HASH_SHA256_HEX_LEN + 1], char *errstr,
                               size_t errstr_size)
{
    hash_sha256_hex(secret, strlen(secret), hash);
    return stores_seal(key, secret, sd, errstr, errstr_size);
}

/* Insert the store row with the sealed password and a new sealed webhook
 * secret; returns its id or -1. */
static long long stores_insert(PGconn *pg, const struct store_new *s,
                               const unsigned char *key, const char *password,
                               char *errstr, size_t errstr_size, char *sqlstate)
{
    struct sealed pw = {{0}, NULL}, wh = {{0}, NULL};
    char t_online[24], t_pl[24], t_var[24], t_safety[24], t_limit[24],
        t_window[24], webhook[33], wh_hash[HASH_SHA256_HEX_LEN + 1], t_ret[24];
    const char *vals[16];
    PGresult *res = NULL;
    long long id = -1;

    if (secret_random_hex(webhook, sizeof(webhook), 16) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (stores_seal(key, password, &pw, errstr, errstr_size) < 0 ||
        stores_webhook_seal(key, webhook, &wh, wh_hash, errstr, errstr_size) <
            0)
        goto out;
    snprintf(t_online, sizeof(t_online), "%lld", s->online_location_id);
    snprintf(t_pl, sizeof(t_pl), "%lld", s->price_list_id);
    snprintf(t_var, sizeof(t_var), "%lld", s->delivery_variant_id);
    snprintf(t_safety, sizeof(t_safety), "%lld", s->safety_stock);
    snprintf(t_limit, sizeof(t_limit), "%lld", s->api_limit);
    snprintf(t_window, sizeof(t_window), "%lld", s->api_window);
    vals[0] = s->name;
    vals[1] = s->platform;
    vals[2] = s->url;
    vals[3] = s->login;
    vals[4] = pw.nonce;
    vals[5] = pw.box;
    vals[6] = t_online;
    vals[7] = t_pl;
    vals[8] = t_var;
    vals[9] = t_safety;
    vals[10] = t_limit;
    vals[11] = t_window;
    vals[12] = wh.nonce;
    vals[13] = wh.box;
    vals[14] = wh_hash;
    snprintf(t_ret, sizeof(t_ret), "%lld", s->return_location_id);
    vals[15] = t_ret;
    res = db_exec(pg, STORES_SQL_INSERT, 16, vals, "add store", errstr,
                  errstr_size, sqlstate);
    if (res)
        id = stores_ll(res, 0, 0);
out:
    PQclear(res);
    sealed_clear(&pw);
    sealed_clear(&wh);
    sodium_memzero(webhook, sizeof(webhook));
    return id;
}

/* Seal the plain webhook secret of store @p id (one row of
 * stores_webhook_seal_plain()). */
static int stores_webhook_seal_row(PGconn *pg, const unsigned char *key,
                                   const char *id, const char *plain,
                                   char *errstr, size_t errstr_size)
{
    struct sealed wh = {{0}, NULL};
    char hash[HASH_SHA256_HEX_LEN + 1];
    const char *vals[4] = {id, wh.nonce, NULL, hash};
    int rc = -1;

    if (stores_webhook_seal(key, plain, &wh, hash, errstr, errstr_size) < 0)
        goto out;
    vals[2] = wh.box;
    rc = db_cmd(pg,
                "UPDATE store SET webhook_secret = NULL,"
                " webhook_nonce = decode($2, 'hex'),"
                " webhook_box = decode($3, 'hex'),"
                " webhook_hash = decode($4, 'hex') WHERE id = $1",
                4, vals, "seal the webhook secret", errstr, errstr_size);
out:
    sealed_clear(&wh);
    return rc;
}

long long stores_webhook_seal_plain(PGconn *pg, const unsigned char *key,
                                    char *errstr, size_t errstr_size)
{
    PGresult *res = NULL;
    long long n = -1;
    int i;

    if (db_begin(pg, errstr, errstr_size) < 0)
        return -1;
    res = db_exec(pg,
                  "SELECT id, webhook_secret FROM store"
                  " WHERE webhook_secret IS NOT NULL ORDER BY id FOR UPDATE",
                  0, NULL, "read plain webhook secrets", errstr, errstr_size,
                  NULL);
    if (!res)
        goto out;
    if (PQntuples(res) > 0 && !key) {
        snprintf(errstr, errstr_size,
                 "%d store(s) keep their webhook secret in clear and no "
                 "secret key is set to seal it (set %s)",
                 PQntuples(res), SECRET_KEY_ENV);
        goto out;
    }
    for (i = 0; i < PQntuples(res); i++)
        if (stores_webhook_seal_row(pg, key, PQgetvalue(res, i, 0),
                                    PQgetvalue(res, i, 1), errstr,
                                    errstr_size) < 0)
            goto out;
    if (db_commit(pg, errstr, errstr_size) < 0)
        goto out;
    n = PQntuples(res);
out:
    if (n < 0)
        db_rollback(pg);
    PQclear(res);
    return n;
}

long long stores_add(PGconn *pg, const struct store_new *s,
                     const unsigned char *key, const char *password,
                     char *errstr, size_t errstr_size, char *sqlstate)
{
    char t_store[24], t_loc[24], t_posn[24];
    const char *vals[3] = {t_store, t_loc, t_posn};
    long long id;
    size_t i;

    if (sqlstate)
        sqlstate[0] = '\0';
    id = stores_insert(pg, s, key, password, errstr, errstr_size, sqlstate);
    if (id < 0)
        return -1;
    snprintf(t_store, sizeof(t_store), "%lld", id);
    for (i = 0; i < s->n_sources; i++) {
        snprintf(t_loc, sizeof(t_loc), "%lld", s->source_location_ids[i]);
        snprintf(t_posn, sizeof(t_posn), "%zu", i);
        if (db_cmd(pg, STORES_SQL_SOURCE_INSERT, 3, vals, "add store source",
                   errstr, errstr_size) < 0)
            return -1;
    }
    return id;
}

PGresult *stores_list(PGconn *pg, const char *name, char *errstr,
                      size_t errstr_size)
{
    const char *vals[1] = {name};

    return db_exec(pg, STORES_SQL_LIST, 1, vals, "list stores", errstr,
                   errstr_size, NULL);
}

/* Run availability query @p sql and hand each row to @p each. */
static long long stores_avail_run(PGconn *pg, const char *sql, int n,
                                  const char *const *vals,
                                  const struct stores_avail_each *each,
                                  char *errstr, size_t errstr_size)
{
    struct stores_avail a;
    PGresult *res;
    long long count = -1;
    int i;

    res = db_exec(pg, sql, n, vals, "read availability", errstr, errstr_size,
                  NULL);
    if (!res)
        return -1;
    for (i = 0; i < PQntuples(res); i++) {
        a.store = PQgetvalue(res, i, 0);
        a.variant_id = stores_ll(res, i, 1);
        a.sku = PQgetvalue(res, i, 2);
        a.safety_stock = stores_ll(res, i, 3);
        a.on_hand = stores_ll(res, i, 4);
        a.reserved = stores_ll(res, i, 5);
        a.price = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
        a.old_price = PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7);
        if (each->fn(each->arg, &a, errstr, errstr_size) < 0)
            goto out;
    }
    count = PQntuples(res);
out:
    PQclear(res);
    return count;
}

/* Two id arrays as parameters, then the query. */
static long long stores_avail_arrays(PGconn *pg, const char *sql,
                                     const long long *a, const long long *b,
                                     size_t n,
                                     const struct stores_avail_each *each,
                                     char *errstr, size_t errstr_size)
{
    char *t_a = idarray_text(a, n, 0, NULL);
    char *t_b = idarray_text(b, n, 0, NULL);
    const char *vals[2] = {t_a, t_b};
    long long rc = -1;

    if (!t_a || !t_b)
        snprintf(errstr, errstr_size, "out of memory");
    else
        rc = stores_avail_run(pg, sql, 2, vals, each, errstr, errstr_size);
    free(t_a);
    free(t_b);
    return rc;
}

long long stores_avail_moved(PGconn *pg, const long long *location_ids,
                             const long long *variant_ids, size_t n,
                             const struct stores_avail_each *each, char *errstr,
                             size_t errstr_size)
{
    return stores_avail_arrays(pg, STORES_SQL_AVAIL_MOVED, location_ids,
                               variant_ids, n, each, errstr, errstr_size);
}

long long stores_avail_pairs(PGconn *pg, const long long *store_ids,
                             const long long *variant_ids, size_t n,
                             const struct stores_avail_each *each, char *errstr,
                             size_t errstr_size)
{
    return stores_avail_arrays(pg, STORES_SQL_AVAIL_PAIRS, store_ids,
                               variant_ids, n, each, errstr, errstr_size);
}

/* One store's id as the parameter, then the query. */
static long long stores_avail_store(PGconn *pg, const char *sql,
                                    long long store_id,
                                    const struct stores_avail_each *each,
                                    char *errstr, size_t errstr_size)
{
    char t_store[24];
    const char *vals[1] = {t_store};

    snprintf(t_store, sizeof(t_store), "%lld", store_id);
    return stores_avail_run(pg, sql, 1, vals, each, errstr, errstr_size);
}

long long stores_avail_stocked(PGconn *pg, long long store_id,
                               const struct stores_avail_each *each,
                               char *errstr, size_t errstr_size)
{
    return stores_avail_store(pg, STORES_SQL_AVAIL_STOCKED, store_id, each,
                              errstr, errstr_size);
}

long long stores_avail_priced(PGconn *pg, long long price_list_id,
                              const long long *variant_ids, size_t n,
                              const struct stores_avail_each *each,
                              char *errstr, size_t errstr_size)
{
    char t_pl[24], *arr = idarray_text(variant_ids, n, 0, NULL);
    const char *vals[2] = {t_pl, arr};
    long long rc;

    if (!arr) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    snprintf(t_pl, sizeof(t_pl), "%lld", price_list_id);
    rc = stores_avail_run(pg, STORES_SQL_AVAIL_PRICED, 2, vals, each, errstr,
                          errstr_size);
    free(arr);
    return rc;
}

long long stores_avail_sellable(PGconn *pg, long long store_id,
                                const struct stores_avail_each *each,
                                char *errstr, size_t errstr_size)
{
    return stores_avail_store(pg, STORES_SQL_AVAIL_SELLABLE, store_id, each,
                              errstr, errstr_size);
}

/* A store's settings changed after `store add` (NULL / 0 / -1: kept). */
#define STORES_SQL_CHANGE                                                      \
    "UPDATE store SET url = COALESCE($2, url),"                                \
    " password_nonce = COALESCE(decode($3, 'hex'), password_nonce),"           \
    " password_box = COALESCE(decode($4, 'hex'), password_box),"               \
    " price_list_id = COALESCE($5::bigint, price_list_id),"                    \
    " delivery_variant_id = COALESCE($6::bigint, delivery_variant_id),"        \
    " safety_stock = COALESCE($7::int, safety_stock),"                         \
    " api_limit = COALESCE($8::int, api_limit),"                               \
    " api_window = COALESCE($9::int, api_window),"                             \
    " return_location_id = COALESCE($10::bigint, return_location_id),"         \
    " updated_at = clock_timestamp() "                                         \
    "WHERE id = $1 AND removed_at IS NULL"

/* "%lld" of @p v into @p buf, or NULL when @p v is @p unset. */
static const char *stores_opt(long long v, long long unset, char *buf,
                              size_t size)
{
    if (v == unset)
        return NULL;
    snprintf(buf, size, "%lld", v);
    return buf;
}

/* Replace the sources after the online location (position 0). */
static int stores_sources_replace(PGconn *pg, long long store_id,
                                  const long long *ids, size_t n, char *errstr,
                                  size_t errstr_size)
{
    char t_store[24], t_loc[24], t_posn[24];
    const char *vals[3] = {t_store, t_loc, t_posn};

    snprintf(t_store, sizeof(t_store), "%lld", store_id);
    if (db_cmd(pg,
               "DELETE FROM store_source WHERE store_id = $1 AND position > 0",
               1, vals, "replace store sources", errstr, errstr_size) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        snprintf(t_loc, sizeof(t_loc), "%lld", ids[i]);
        snprintf(t_posn, sizeof(t_posn), "%zu", i + 1);
        if (db_cmd(pg, STORES_SQL_SOURCE_INSERT, 3, vals, "add store source",
                   errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

int stores_change(PGconn *pg, long long store_id, const struct store_change *c,
                  const unsigned char *key, char *errstr, size_t errstr_size)
{
    struct sealed pw = {{0}, NULL};
    char b[9][24];
    const char *vals[10];
    PGresult *res = NULL;
    int rc = -1;

    if (c->password &&
        stores_seal(key, c->password, &pw, errstr, errstr_size) < 0)
        return -1;
    snprintf(b[0], sizeof(b[0]), "%lld", store_id);
    vals[0] = b[0];
    vals[1] = c->url;
    vals[2] = pw.box ? pw.nonce : NULL;
    vals[3] = pw.box;
    vals[4] = stores_opt(c->price_list_id, 0, b[1], sizeof(b[1]));
    vals[5] = stores_opt(c->delivery_variant_id, 0, b[2], sizeof(b[2]));
    vals[6] = stores_opt(c->safety_stock, -1, b[3], sizeof(b[3]));
    vals[7] = stores_opt(c->api_limit, 0, b[4], sizeof(b[4]));
    vals[8] = stores_opt(c->api_window, 0, b[5], sizeof(b[5]));
    vals[9] = stores_opt(c->return_location_id, 0, b[6], sizeof(b[6]));
    res = db_exec(pg, STORES_SQL_CHANGE, 10, vals, "change store", errstr,
                  errstr_size, NULL);
    if (!res)
        goto out;
    if (strcmp(PQcmdTuples(res), "1") != 0) {
        snprintf(errstr, errstr_size, "no such store");
        goto out;
    }
    if (c->source_location_ids &&
        stores_sources_replace(pg, store_id, c->source_location_ids,
                               c->n_sources, errstr, errstr_size) < 0)
        goto out;
    rc = 0;
out:
    PQclear(res);
    sealed_clear(&pw);
    return rc;
}

#define STORES_SQL_REMOVE                                                      \
    "UPDATE store SET removed_at = clock_timestamp(), updated_at = "           \
    "clock_timestamp() WHERE id = $1 AND removed_at IS NULL"

int stores_remove(PGconn *pg, long long store_id, char *errstr,
                  size_t errstr_size)
{
    struct store_change none = {.safety_stock = -1};
    char t_store[24];
    const char *vals[1];

    /* The change of nothing checks the store is there and not removed. */
    if (stores_change(pg, store_id, &none, NULL, errstr, errstr_size) < 0)
        return -1;
    snprintf(t_store, sizeof(t_store), "%lld", store_id);
    vals[0] = t_store;
    return db_cmd(pg, STORES_SQL_REMOVE, 1, vals, "remove store", errstr,
                  errstr_size);
}

int stores_version(PGconn *pg, char *version, size_t version_size, char *errstr,
                   size_t errstr_size)
{
    PGresult *res =
        db_exec(pg,
                "SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') "
                "FROM store",
                0, NULL, "stores version", errstr, errstr_size, NULL);

    if (!res)
        return -1;
    snprintf(version, version_size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}
