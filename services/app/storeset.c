#include "app/storeset.h"

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct storeset {
    struct storeset_entry *v;
    size_t n;
    char version[128];  /* stores_version() of the last refresh */
    int64_t checked_ms; /* when the version was last compared */
    long timeout_ms;    /* new clients' call timeout (0: default) */
};

struct storeset *storeset_new(void)
{
    return calloc(1, sizeof(struct storeset));
}

static int storeset_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether a client built for @p a still fits settings @p b. */
static int storeset_same_client(const struct store_conf *a,
                                const struct store_conf *b)
{
    return a->id == b->id && storeset_str_eq(a->name, b->name) &&
           storeset_str_eq(a->platform, b->platform) &&
           storeset_str_eq(a->url, b->url) &&
           storeset_str_eq(a->login, b->login) &&
           storeset_str_eq(a->password, b->password) &&
           a->api_limit == b->api_limit && a->api_window == b->api_window;
}

void storeset_timeout_set(struct storeset *s, long timeout_ms)
{
    s->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

/* storeset_client_new() with the call timeout @p timeout_ms (0: default). */
static struct store_client *
storeset_client_make(const struct store_conf *c, long max_wait_ms,
                     long timeout_ms, const struct store_platform **plat,
                     char *errstr, size_t errstr_size)
{
    const struct store_platform *p = store_platform_find(c->platform);
    struct store_settings st;

    if (!p) {
        snprintf(errstr, errstr_size,
                 "store %s: unknown platform '%s' (known: %s)", c->name,
                 c->platform ? c->platform : "", store_platform_names());
        return NULL;
    }
    if (plat)
        *plat = p;
    memset(&st, 0, sizeof(st));
    st.store_id = c->name;
    st.url = c->url;
    st.login = c->login;
    st.password = c->password;
    st.api_limit = c->api_limit;
    st.api_window_s = c->api_window;
    st.budget_max_wait_ms = max_wait_ms;
    st.timeout_ms = timeout_ms;
    return store_client_new(p->adapter, &st, errstr, errstr_size);
}

struct store_client *storeset_client_new(const struct store_conf *c,
                                         long max_wait_ms,
                                         const struct store_platform **plat,
                                         char *errstr, size_t errstr_size)
{
    return storeset_client_make(c, max_wait_ms, 0, plat, errstr, errstr_size);
}

static void storeset_entries_free(struct storeset_entry *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        store_client_destroy(v[i].sc);
        store_conf_clear(&v[i].conf);
    }
    free(v);
}

/* Every store's settings, the passwords decrypted with @p secret_key. */
static int storeset_load(PGconn *pg, const char *secret_key,
                         struct store_conf **confs, size_t *n, char *errstr,
                         size_t errstr_size)
{
    unsigned char key[SECRET_KEY_BYTES];
    int rc = -1;

    if (secret_key_load(secret_key, key, errstr, errstr_size) == 0)
        rc = stores_load_all(pg, key, confs, n, errstr, errstr_size);
    sodium_memzero(key, sizeof(key));
    return rc;
}

int storeset_refresh(struct storeset *s, PGconn *pg, const char *secret_key,
                     char *errstr, size_t errstr_size)
{
    struct store_conf *confs = NULL;
    struct storeset_entry *v = NULL;
    size_t *from = NULL; /* index of the old entry a client came from */
    char version[128];
    size_t n = 0, i, j;
    int rc = -1;

    /* The version first: a change committed while we load shows as a new
     * version at the next check, never as a missed one. */
    if (stores_version(pg, version, sizeof(version), errstr, errstr_size) < 0 ||
        storeset_load(pg, secret_key, &confs, &n, errstr, errstr_size) < 0)
        return -1;
    v = calloc(n + 1, sizeof(*v));
    from = calloc(n + 1, sizeof(*from));
    if (!v || !from) {
        snprintf(errstr, errstr_size, "storeset: out of memory");
        goto out;
    }
    /* Phase 1: a client for every store, reusing unchanged ones so their
     * connections stay open.  Nothing in @p s changes until all exist. */
    for (i = 0; i < n; i++) {
        from[i] = (size_t)-1;
        for (j = 0; j < s->n; j++)
            if (s->v[j].sc && storeset_same_client(&s->v[j].conf, &confs[i]))
                break;
        if (j < s->n) {
            v[i].sc = s->v[j].sc;
            v[i].plat = s->v[j].plat;
            s->v[j].sc = NULL;
            from[i] = j;
            continue;
        }
        v[i].sc = storeset_client_make(&confs[i], 0, s->timeout_ms, &v[i].plat,
                                       errstr, errstr_size);
        if (!v[i].sc) {
            while (i-- > 0) {
                if (from[i] != (size_t)-1)
                    s->v[from[i]].sc = v[i].sc;
                else
                    store_client_destroy(v[i].sc);
            }
            goto out;
        }
    }
    /* Phase 2: the entries take over the settings. */
    for (i = 0; i < n; i++) {
        v[i].conf = confs[i];
        memset(&confs[i], 0, sizeof(confs[i]));
    }
    storeset_entries_free(s->v, s->n);
    s->v = v;
    s->n = n;
    snprintf(s->version, sizeof(s->version), "%s", version);
    s->checked_ms = clock_mono_ms();
    v = NULL;
    rc = (int)n;
out:
    free(v);
    free(from);
    stores_free_all(confs, n);
    return rc;
}

int storeset_refresh_changed(struct storeset *s, PGconn *pg,
                             const char *secret_key, char *errstr,
                             size_t errstr_size)
{
    char version[128];
    int64_t now = clock_mono_ms();

    if (now - s->checked_ms < STORESET_CHECK_MS)
        return 0;
    s->checked_ms = now;
    if (stores_version(pg, version, sizeof(version), errstr, errstr_size) < 0)
        return -1;
    if (strcmp(version, s->version) == 0)
        return 0;
    log_info("stores: settings changed in the ledger, reloading");
    return storeset_refresh(s, pg, secret_key, errstr, errstr_size) < 0 ? -1
                                                                        : 1;
}

size_t storeset_count(const struct storeset *s)
{
    return s ? s->n : 0;
}

struct storeset_entry *storeset_get(struct storeset *s, size_t i)
{
    return s && i < s->n ? &s->v[i] : NULL;
}

struct storeset_entry *storeset_find(struct storeset *s, const char *name)
{
    size_t i;

    for (i = 0; s && name && i < s->n; i++)
        if (strcmp(s->v[i].conf.name, name) == 0)
            return &s->v[i];
    return NULL;
}

struct storeset_entry *storeset_find_id(struct storeset *s, long long id)
{
    size_t i;

    for (i = 0; s && i < s->n; i++)
        if (s->v[i].conf.id == id)
            return &s->v[i];
    return NULL;
}

void storeset_destroy(struct storeset *s)
{
    if (!s)
        return;
    storeset_entries_free(s->v, s->n);
    free(s);
}
