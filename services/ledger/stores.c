#include "ledger/stores.h"

#include "lib/db.h"
#include "lib/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns 0..17; ss_ids is the '{..}' array of source location ids in
 * position order.  Binary columns come hex-encoded. */
#define STORES_SQL                                                             \
    "SELECT s.id, s.name, s.platform, s.url, s.login,"                         \
    " encode(s.password_nonce, 'hex'), encode(s.password_box, 'hex'),"         \
    " s.api_limit, s.api_window, s.safety_stock, s.price_list_id, pl.code,"    \
    " s.online_location_id, ol.code, s.delivery_variant_id, v.sku,"            \
    " s.webhook_secret,"                                                       \
    " ARRAY(SELECT ss.location_id FROM store_source ss"                        \
    "  WHERE ss.store_id = s.id ORDER BY ss.position)::text "                  \
    "FROM store s JOIN price_list pl ON pl.id = s.price_list_id"               \
    " JOIN location ol ON ol.id = s.online_location_id"                        \
    " JOIN variant v ON v.id = s.delivery_variant_id "

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

/* Fill @p conf from row @p row, decrypting the password. */
static int stores_row(const PGresult *res, int row, const unsigned char *key,
                      struct store_conf *conf, char *errstr, size_t errstr_size)
{
    unsigned char nonce[SECRET_NONCE_BYTES], *box = NULL;
    const char *hex_nonce = PQgetvalue(res, row, 5);
    const char *hex_box = PQgetvalue(res, row, 6);
    size_t nonce_len = 0, box_len = 0, hex_box_len = strlen(hex_box);
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
    conf->webhook_secret = stores_dup(res, row, 16, &fail);
    if (fail ||
        stores_ids_parse(PQgetvalue(res, row, 17), &conf->source_location_ids,
                         &conf->n_sources) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
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
        snprintf(errstr, errstr_size, "store %s: malformed password column",
                 conf->name);
        goto out;
    }
    if (secret_open(key, nonce, box, box_len, &conf->password, errstr,
                    errstr_size) < 0) {
        /* errstr says why without any secret in it; name the store. */
        char why[256];

        snprintf(why, sizeof(why), "%s", errstr);
        snprintf(errstr, errstr_size, "store %s: password: %s", conf->name,
                 why);
        goto out;
    }
    rc = 0;
out:
    free(box);
    if (rc < 0)
        store_conf_clear(conf);
    return rc;
}

int stores_load(PGconn *pg, const unsigned char *key, const char *name,
                struct store_conf *conf, char *errstr, size_t errstr_size)
{
    const char *vals[1];
    PGresult *res = NULL;
    int rc = -1;

    memset(conf, 0, sizeof(*conf));
    vals[0] = name;
    res = db_exec(pg, STORES_SQL "WHERE s.name = $1", 1, vals, "load store",
                  errstr, errstr_size, NULL);
    if (!res)
        goto out;
    if (PQntuples(res) == 0) {
        snprintf(errstr, errstr_size, "no store named '%s'", name);
        rc = 1;
        goto out;
    }
    rc = stores_row(res, 0, key, conf, errstr, errstr_size);
out:
    PQclear(res);
    return rc;
}

int stores_load_all(PGconn *pg, const unsigned char *key,
                    struct store_conf **confs, size_t *n, char *errstr,
                    size_t errstr_size)
{
    struct store_conf *all = NULL;
    PGresult *res = NULL;
    size_t i, nrows = 0, done = 0;
    int rc = -1;

    *confs = NULL;
    *n = 0;
    res = db_exec(pg, STORES_SQL "ORDER BY s.name", 0, NULL, "load stores",
                  errstr, errstr_size, NULL);
    if (!res)
        goto out;
    nrows = (size_t)PQntuples(res);
    all = calloc(nrows ? nrows : 1, sizeof(*all));
    if (!all) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (i = 0; i < nrows; i++) {
        if (stores_row(res, (int)i, key, &all[i], errstr, errstr_size) < 0)
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
    if (conf->webhook_secret)
        sodium_memzero(conf->webhook_secret, strlen(conf->webhook_secret));
    free(conf->webhook_secret);
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

#define STORES_SQL_INSERT                                                      \
    "INSERT INTO store (name, platform, url, login,"                           \
    " password_nonce, password_box, online_location_id,"                       \
    " price_list_id, delivery_variant_id, safety_stock,"                       \
    " api_limit, api_window, webhook_secret) "                                 \
    "VALUES ($1, $2, $3, $4, decode($5, 'hex'),"                               \
    " decode($6, 'hex'), $7, $8, $9, $10, $11, $12, $13) "                     \
    "RETURNING id"

#define STORES_SQL_SOURCE                                                      \
    "INSERT INTO store_source (store_id, location_id, position)"               \
    " VALUES ($1, $2, $3)"

/* Columns of store list/show; never the password.  $1: a name or NULL. */
#define STORES_SQL_LIST                                                        \
    "SELECT s.name, s.platform, s.url, s.login, ol.code,"                      \
    " COALESCE((SELECT string_agg(l.code, ',' ORDER BY ss.position)"           \
    "  FROM store_source ss JOIN location l ON l.id = ss.location_id"          \
    "  WHERE ss.store_id = s.id AND ss.position > 0), ''),"                    \
    " pl.code, v.sku, s.safety_stock, s.api_limit, s.api_window,"              \
    " s.webhook_secret "                                                       \
    "FROM store s JOIN location ol ON ol.id = s.online_location_id"            \
    " JOIN price_list pl ON pl.id = s.price_list_id"                           \
    " JOIN variant v ON v.id = s.delivery_variant_id "                         \
    "WHERE $1::text IS NULL OR s.name = $1 "                                   \
    "ORDER BY s.name COLLATE \"C\""

/* Insert the source locations of store @p sid, in position order. */
static int stores_sources_insert(PGconn *pg, const char *sid,
                                 const struct store_new *s, char *errstr,
                                 size_t errstr_size)
{
    char t_loc[24], t_pos[24];
    const char *vals[3] = {sid, t_loc, t_pos};

    for (size_t i = 0; i < s->n_sources; i++) {
        snprintf(t_loc, sizeof(t_loc), "%lld", s->source_location_ids[i]);
        snprintf(t_pos, sizeof(t_pos), "%zu", i);
        if (db_cmd(pg, STORES_SQL_SOURCE, 3, vals, "add store source", errstr,
                   errstr_size) < 0)
            return -1;
    }
    return 0;
}

long long stores_insert(PGconn *pg, const struct store_new *s, char *errstr,
                        size_t errstr_size, char *sqlstate)
{
    char nonce[129], *box = malloc(s->box_len * 2 + 1), sid[24];
    char n[6][24];
    const long long nums[6] = {s->online_location_id,  s->price_list_id,
                               s->delivery_variant_id, s->safety_stock,
                               s->api_limit,           s->api_window};
    const char *vals[13] = {s->name,
                            s->platform,
                            s->url,
                            s->login,
                            nonce,
                            box,
                            n[0],
                            n[1],
                            n[2],
                            n[3],
                            n[4],
                            n[5],
                            s->webhook_secret};
    PGresult *res = NULL;
    long long id = -1;

    if (!box || s->nonce_len * 2 + 1 > sizeof(nonce)) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    sodium_bin2hex(nonce, sizeof(nonce), s->password_nonce, s->nonce_len);
    sodium_bin2hex(box, s->box_len * 2 + 1, s->password_box, s->box_len);
    for (int i = 0; i < 6; i++)
        snprintf(n[i], sizeof(n[i]), "%lld", nums[i]);
    res = db_exec(pg, STORES_SQL_INSERT, 13, vals, "add store", errstr,
                  errstr_size, sqlstate);
    if (!res)
        goto out;
    snprintf(sid, sizeof(sid), "%s", PQgetvalue(res, 0, 0));
    if (stores_sources_insert(pg, sid, s, errstr, errstr_size) == 0)
        id = stores_ll(res, 0, 0);
out:
    PQclear(res);
    free(box);
    return id;
}

int stores_online_owner(PGconn *pg, long long location_id, char *owner,
                        size_t owner_size, char *errstr, size_t errstr_size)
{
    char t_loc[24];
    const char *vals[1] = {t_loc};
    PGresult *res;

    snprintf(t_loc, sizeof(t_loc), "%lld", location_id);
    res = db_exec(pg, "SELECT name FROM store WHERE online_location_id = $1", 1,
                  vals, "look up store", errstr, errstr_size, NULL);
    if (!res)
        return -1;
    snprintf(owner, owner_size, "%s",
             PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

/* "WH2,WH1" as a JSON array of codes. */
static json_t *stores_codes_json(const char *list)
{
    json_t *arr = json_array();
    const char *p, *comma;

    for (p = list; arr && *p; p = comma + 1) {
        comma = strchr(p, ',');
        json_array_append_new(
            arr, json_stringn(p, comma ? (size_t)(comma - p) : strlen(p)));
        if (!comma)
            break;
    }
    return arr;
}

/* One row of STORES_SQL_LIST as an object. */
static json_t *stores_list_row(const PGresult *res, int r)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:I,s:I,s:I,s:s}", "name",
        PQgetvalue(res, r, 0), "platform", PQgetvalue(res, r, 1), "url",
        PQgetvalue(res, r, 2), "login", PQgetvalue(res, r, 3),
        "online_location", PQgetvalue(res, r, 4), "source_locations",
        stores_codes_json(PQgetvalue(res, r, 5)), "price_list",
        PQgetvalue(res, r, 6), "delivery_sku", PQgetvalue(res, r, 7),
        "safety_stock", (json_int_t)stores_ll(res, r, 8), "api_limit",
        (json_int_t)stores_ll(res, r, 9), "api_window",
        (json_int_t)stores_ll(res, r, 10), "webhook_secret",
        PQgetvalue(res, r, 11));
}

json_t *stores_list(PGconn *pg, const char *name, char *errstr,
                    size_t errstr_size)
{
    const char *vals[1] = {name};
    PGresult *res = db_exec(pg, STORES_SQL_LIST, 1, vals, "list stores", errstr,
                            errstr_size, NULL);
    json_t *arr = res ? json_array() : NULL;

    for (int r = 0; arr && r < PQntuples(res); r++) {
        if (json_array_append_new(arr, stores_list_row(res, r)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (res && !arr)
        snprintf(errstr, errstr_size, "list stores: out of memory");
    PQclear(res);
    return arr;
}
