#include "store/budget.h"

#include "lib/cfg.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/sig.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUDGET_KEY_PREFIX "omnisync:budget:"

/*
 * BUDGET_LUA — the only code that changes a budget hash.
 *
 * KEYS[1] = "omnisync:budget:{<store>}", a hash with the fields
 *   window_start_ms  Redis time the current window opened (0: none)
 *   used             requests counted in the window (ours + adopted)
 *   limit            limit of the window (min of settings and server)
 *   window_ms        window length fixed when the window opened
 *   guard_ms         extra length of our window over the store's
 *   probe_until_ms   until then only orders may take (0: confirmed)
 *   pause_until_ms   fleet-wide pause end (0: none)
 *   server_limit     last limit the store reported (0: unknown)
 *   used_<class>     tokens each class took in the window (status)
 *   pause_status     the HTTP status that started the pause (status)
 *   orders_prev      orders tokens of the window before (0 after a gap
 *                    longer than a window): the orders headroom's basis
 * ARGV[1] = mode:
 *   take     ARGV: limit window_ms guard_ms reserve_pct probe_ms bypass
 *            class orders_headroom_pct pace (1: the class's tokens are
 *            spread over the window, a tenth of them at once)
 *            -> {granted, wait_ms, used, limit, window_start_ms}
 *   feedback ARGV: token_window_start_ms server_used server_limit
 *            -> {adopted (1, 0, -1 = stale), used, limit}
 *   pause    ARGV: retry_after_ms http_status -> {pause_remaining_ms}
 *
 * Time comes from Redis (TIME), never from the caller.  Redis 7 replicates
 * script effects by default, which makes TIME legal before writes; older
 * servers need redis.replicate_commands(), called when it exists.  The key
 * expires one window after it stops mattering, so idle stores leave nothing.
 */
static const char BUDGET_LUA[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local key = KEYS[1]\n"
    "local mode = ARGV[1]\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local f = redis.call('HMGET', key, 'window_start_ms', 'used', 'limit',\n"
    "  'window_ms', 'guard_ms', 'probe_until_ms', 'pause_until_ms',\n"
    "  'server_limit', 'used_orders', 'orders_prev')\n"
    "local ws = tonumber(f[1]) or 0\n"
    "local used = tonumber(f[2]) or 0\n"
    "local limit = tonumber(f[3]) or 0\n"
    "local wms = tonumber(f[4]) or 0\n"
    "local guard = tonumber(f[5]) or 0\n"
    "local probe = tonumber(f[6]) or 0\n"
    "local pause = tonumber(f[7]) or 0\n"
    "local slimit = tonumber(f[8]) or 0\n"
    "local uord = tonumber(f[9]) or 0\n"
    "local oprev = tonumber(f[10]) or 0\n"
    "local function keep()\n"
    "  local til = math.max(ws + wms + guard, pause)\n"
    "  redis.call('PEXPIRE', key, math.max(til - now, 0) + wms + 1000)\n"
    "end\n"
    "if mode == 'take' then\n"
    "  local climit = tonumber(ARGV[2])\n"
    "  local cwms = tonumber(ARGV[3])\n"
    "  local cguard = tonumber(ARGV[4])\n"
    "  local pct = tonumber(ARGV[5])\n"
    "  local probe_ms = tonumber(ARGV[6])\n"
    "  local bypass = tonumber(ARGV[7])\n"
    "  local ckey = 'used_' .. ARGV[8]\n"
    "  if pause > now then return {0, pause - now, used, limit, ws} end\n"
    "  local eff = climit\n"
    "  if slimit > 0 and slimit < eff then eff = slimit end\n"
    "  local ohead = tonumber(ARGV[9]) or 0\n"
    "  if ws == 0 or now >= ws + wms + guard then\n"
    "    if ws == 0 or now >= ws + 2 * (wms + guard) then uord = 0 end\n"
    "    redis.call('HSET', key, 'orders_prev', uord)\n"
    "    ws = now; used = 1; wms = cwms; guard = cguard; limit = eff\n"
    "    redis.call('HSET', key, 'window_start_ms', ws, 'used', used,\n"
    "      'limit', limit, 'window_ms', wms, 'guard_ms', guard,\n"
    "      'probe_until_ms', now + probe_ms, 'pause_until_ms', 0,\n"
    "      'used_orders', 0, 'used_stock', 0, 'used_catalog', 0,\n"
    "      'used_images', 0)\n"
    "    redis.call('HSET', key, ckey, 1)\n"
    "    keep()\n"
    "    return {1, 0, used, limit, ws}\n"
    "  end\n"
    "  if limit < eff then eff = limit end\n"
    "  if bypass == 0 and probe > now then\n"
    "    return {0, math.min(probe - now, 20), used, eff, ws}\n"
    "  end\n"
    "  local reserve = math.ceil(eff * pct / 100)\n"
    "  if tonumber(ARGV[10]) == 1 then\n"
    "    local cap = math.max(eff - reserve, 1)\n"
    "    local el = now - ws + math.floor(wms / 10)\n"
    "    local uc = tonumber(redis.call('HGET', key, ckey)) or 0\n"
    "    if el < wms and uc >= math.ceil(cap * el / wms) then\n"
    "      local due = math.ceil((uc + 1) * wms / cap) - el\n"
    "      return {0, math.max(due, 1), used, eff, ws}\n"
    "    end\n"
    "  end\n"
    "  if bypass == 0 and ohead > 0 then\n"
    "    local el = math.max(now - ws, math.floor(wms / 10), 1)\n"
    "    local proj = math.max(oprev, uord * wms / el)\n"
    "    local need = math.ceil(proj * ohead / 100) - uord\n"
    "    if need > reserve then reserve = need end\n"
    "  end\n"
    "  if eff - used > reserve then\n"
    "    used = redis.call('HINCRBY', key, 'used', 1)\n"
    "    redis.call('HINCRBY', key, ckey, 1)\n"
    "    return {1, 0, used, eff, ws}\n"
    "  end\n"
    "  return {0, math.max(ws + wms + guard - now, 1), used, eff, ws}\n"
    "elseif mode == 'feedback' then\n"
    "  local tws = tonumber(ARGV[2])\n"
    "  local sused = tonumber(ARGV[3])\n"
    "  local slim = tonumber(ARGV[4])\n"
    "  if ws == 0 or tws ~= ws then return {-1, used, limit} end\n"
    "  if probe ~= 0 then redis.call('HSET', key, 'probe_until_ms', 0) end\n"
    "  if slim > 0 and slim ~= slimit then\n"
    "    redis.call('HSET', key, 'server_limit', slim)\n"
    "    if slim < limit then\n"
    "      limit = slim\n"
    "      redis.call('HSET', key, 'limit', limit)\n"
    "    end\n"
    "  end\n"
    "  if sused > used then\n"
    "    used = sused\n"
    "    redis.call('HSET', key, 'used', used)\n"
    "    return {1, used, limit}\n"
    "  end\n"
    "  return {0, used, limit}\n"
    "elseif mode == 'pause' then\n"
    "  local til = now + tonumber(ARGV[2])\n"
    "  if til > pause then pause = til end\n"
    "  redis.call('HSET', key, 'pause_until_ms', pause, 'window_start_ms', 0,\n"
    "    'used', limit, 'pause_status', ARGV[3])\n"
    "  ws = 0\n"
    "  keep()\n"
    "  return {pause - now}\n"
    "end\n"
    "return redis.error_reply('budget: unknown mode')\n";

struct budget {
    pthread_mutex_t mu;
    redisContext *rc; /* NULL while disconnected */
    char host[256];
    int port;
    char sha[64];            /* SHA1 of BUDGET_LUA from SCRIPT LOAD */
    int64_t next_connect_ms; /* monotonic: no reconnect before this */
    struct budget_config cfg;
    atomic_int down;    /* 1 during a logged outage */
    char last_err[128]; /* reason of the current outage */
    atomic_ullong taken[BUDGET_CLASS_COUNT];
    atomic_ullong waits[BUDGET_CLASS_COUNT];
    atomic_ullong wait_ms[BUDGET_CLASS_COUNT];
    atomic_ullong seen_429, seen_503, pauses, adopted, redis_errors, outages,
        script_reloads;
    struct budget_mx { /* (each may be NULL) docs/metrics.md */
        struct metrics_family *tokens, *used, *limit, *left, *wait, *pauses,
            *pause_end, *unavailable, *calls;
    } mx;
};

static const char *const budget_class_names[BUDGET_CLASS_COUNT] = {
    "orders", "stock", "catalog", "images"};

void budget_config_default(struct budget_config *c)
{
    memset(c, 0, sizeof(*c));
    c->reserve_pct[BUDGET_ORDERS] = 0;
    c->reserve_pct[BUDGET_STOCK] = 5;
    c->reserve_pct[BUDGET_CATALOG] = 15;
    c->reserve_pct[BUDGET_IMAGES] = 30;
    c->orders_headroom_pct = 125;
    c->pace_bulk = 1;
    c->guard_ms = 500;
    c->probe_ms = 1000;
    c->backoff_min_ms = 100;
    c->backoff_max_ms = 2000;
    c->redis_timeout_ms = 1000;
}

const char *budget_class_name(enum budget_class cls)
{
    if ((int)cls < 0 || cls >= BUDGET_CLASS_COUNT)
        return "?";
    return budget_class_names[cls];
}

int budget_class_parse(const char *name)
{
    int i;

    for (i = 0; name && i < BUDGET_CLASS_COUNT; i++)
        if (strcmp(name, budget_class_names[i]) == 0)
            return i;
    return -1;
}

static int budget_config_check(const struct budget_config *c, char *errstr,
                               size_t errstr_size)
{
    int i;

    for (i = 0; i < BUDGET_CLASS_COUNT; i++) {
        if (c->reserve_pct[i] < 0 || c->reserve_pct[i] > 99) {
            snprintf(errstr, errstr_size,
                     "budget: reserve of class %s must be 0..99 %%",
                     budget_class_names[i]);
            return -1;
        }
    }
    if (c->orders_headroom_pct < 0 || c->orders_headroom_pct > 1000) {
        snprintf(errstr, errstr_size,
                 "budget: orders headroom must be 0..1000 %%");
        return -1;
    }
    if (c->guard_ms < 0 || c->probe_ms < 0 || c->backoff_min_ms < 1 ||
        c->backoff_max_ms < c->backoff_min_ms || c->redis_timeout_ms < 1) {
        snprintf(errstr, errstr_size, "budget: invalid timing settings");
        return -1;
    }
    return 0;
}

/* Split "host:port" or "[v6]:port" into @p host and @p port. */
static int budget_addr_parse(const char *addr, char *host, size_t host_size,
                             int *port, char *errstr, size_t errstr_size)
{
    const char *colon;
    long long p;
    char portbuf[16];
    size_t hlen;

    if (!addr || !*addr) {
        snprintf(errstr, errstr_size,
                 "budget: no Redis address (set OMNISYNC_REDIS)");
        return -1;
    }
    colon = strrchr(addr, ':');
    hlen = colon ? (size_t)(colon - addr) : 0;
    if (!colon || hlen == 0 || hlen >= host_size ||
        strlen(colon + 1) >= sizeof(portbuf)) {
        snprintf(errstr, errstr_size,
                 "budget: Redis address must be host:port");
        return -1;
    }
    snprintf(portbuf, sizeof(portbuf), "%s", colon + 1);
    if (cfg_parse_ll(portbuf, &p) != 0 || p < 1 || p > 65535) {
        snprintf(errstr, errstr_size, "budget: bad Redis port in address");
        return -1;
    }
    /* Strip IPv6 brackets: "[::1]:6379". */
    if (addr[0] == '[' && hlen > 2 && addr[hlen - 1] == ']')
        snprintf(host, host_size, "%.*s", (int)(hlen - 2), addr + 1);
    else
        snprintf(host, host_size, "%.*s", (int)hlen, addr);
    *port = (int)p;
    return 0;
}

struct budget *budget_new(const char *redis_addr,
                          const struct budget_config *cfg, char *errstr,
                          size_t errstr_size)
{
    struct budget *b = calloc(1, sizeof(*b));

    if (!b) {
        snprintf(errstr, errstr_size, "budget: out of memory");
        return NULL;
    }
    pthread_mutex_init(&b->mu, NULL);
    if (budget_addr_parse(redis_addr, b->host, sizeof(b->host), &b->port,
                          errstr, errstr_size) != 0)
        goto fail;
    if (cfg)
        b->cfg = *cfg;
    else
        budget_config_default(&b->cfg);
    if (budget_config_check(&b->cfg, errstr, errstr_size) != 0)
        goto fail;
    return b;
fail:
    budget_destroy(b);
    return NULL;
}

/* A connection of its own to the Redis at @p redis_addr, with
 * @p timeout_ms for connecting and each command; NULL with @p reason. */
static redisContext *budget_redis_open(const char *redis_addr, long timeout_ms,
                                       char *reason, size_t reason_size)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    char host[256];
    redisContext *rc;
    int port;

    if (budget_addr_parse(redis_addr, host, sizeof(host), &port, reason,
                          reason_size) != 0)
        return NULL;
    rc = redisConnectWithTimeout(host, port, tv);
    if (!rc || rc->err) {
        snprintf(reason, reason_size, "%s", rc ? rc->errstr : "out of memory");
        if (rc)
            redisFree(rc);
        return NULL;
    }
    redisSetTimeout(rc, tv);
    return rc;
}

/* Why @p r (a reply of @p rc) is no answer. */
static void budget_reply_why(redisContext *rc, const redisReply *r,
                             const char *what, char *reason, size_t reason_size)
{
    snprintf(reason, reason_size, "%s: %s", what,
             r && r->type == REDIS_REPLY_ERROR ? r->str
             : rc->err                         ? rc->errstr
                                               : "no reply");
}

int budget_redis_ping(const char *redis_addr, long timeout_ms, char *reason,
                      size_t reason_size)
{
    redisContext *rc =
        budget_redis_open(redis_addr, timeout_ms, reason, reason_size);
    redisReply *r;
    int ok = -1;

    if (!rc)
        return -1;
    r = redisCommand(rc, "PING");
    if (!r || r->type == REDIS_REPLY_ERROR)
        budget_reply_why(rc, r, "PING", reason, reason_size);
    else
        ok = 0;
    if (r)
        freeReplyObject(r);
    redisFree(rc);
    return ok;
}

static long long budget_field(const redisReply *r, size_t i)
{
    const redisReply *e = r->element[i];

    return e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : 0;
}

/* Fill @p st from the hash's fields @p h (in budget_state_read()'s order)
 * at Redis time st->now_ms. */
static void budget_state_fill(struct budget_state *st, const redisReply *h)
{
    long long ws = budget_field(h, 0), wms = budget_field(h, 3);
    long long end = ws + wms + budget_field(h, 4);
    int i;

    st->limit = budget_field(h, 2);
    st->pause_until_ms = budget_field(h, 5);
    if (st->pause_until_ms > st->now_ms) {
        /* A pause counts the window as used up (BUDGET_LUA). */
        st->used = st->limit;
        st->pause_status = (long)budget_field(h, 6);
    } else {
        st->pause_until_ms = 0;
    }
    if (ws > 0 && st->now_ms < end) {
        st->used = budget_field(h, 1);
        st->window_end_ms = end;
        for (i = 0; i < BUDGET_CLASS_COUNT; i++)
            st->used_by[i] = budget_field(h, 7 + (size_t)i);
    }
}

/* TIME and the hash of @p store on @p rc into @p st.  0, or -1 with a
 * short @p reason. */
static int budget_state_query(redisContext *rc, const char *store,
                              struct budget_state *st, char *reason,
                              size_t reason_size)
{
    redisReply *t = NULL, *h = NULL;
    char key[512];
    int ok = -1;

    memset(st, 0, sizeof(*st));
    snprintf(key, sizeof(key), BUDGET_KEY_PREFIX "{%s}", store);
    t = redisCommand(rc, "TIME");
    if (!t || t->type != REDIS_REPLY_ARRAY || t->elements != 2) {
        budget_reply_why(rc, t, "TIME", reason, reason_size);
        goto out;
    }
    h = redisCommand(rc,
                     "HMGET %s window_start_ms used limit window_ms guard_ms "
                     "pause_until_ms pause_status used_orders used_stock "
                     "used_catalog used_images",
                     key);
    if (!h || h->type != REDIS_REPLY_ARRAY || h->elements != 11) {
        budget_reply_why(rc, h, "HMGET", reason, reason_size);
        goto out;
    }
    st->now_ms = strtoll(t->element[0]->str, NULL, 10) * 1000 +
                 strtoll(t->element[1]->str, NULL, 10) / 1000;
    budget_state_fill(st, h);
    ok = 0;
out:
    if (h)
        freeReplyObject(h);
    if (t)
        freeReplyObject(t);
    return ok;
}

int budget_state_read(const char *redis_addr, const char *store,
                      long timeout_ms, struct budget_state *st, char *reason,
                      size_t reason_size)
{
    redisContext *rc =
        budget_redis_open(redis_addr, timeout_ms, reason, reason_size);
    int ok;

    memset(st, 0, sizeof(*st));
    if (!rc)
        return -1;
    ok = budget_state_query(rc, store, st, reason, reason_size);
    redisFree(rc);
    return ok;
}

void budget_destroy(struct budget *b)
{
    if (!b)
        return;
    if (b->rc)
        redisFree(b->rc);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* Mark the start of an outage: log once, count once.  Called with mu held. */
static void budget_outage(struct budget *b, const char *why)
{
    atomic_fetch_add(&b->redis_errors, 1);
    if (atomic_exchange(&b->down, 1) == 0) {
        atomic_fetch_add(&b->outages, 1);
        snprintf(b->last_err, sizeof(b->last_err), "%.100s", why);
        log_warn("redis unavailable at %s:%d (%s): budget closed, store "
                 "calls wait until it returns",
                 b->host, b->port, why);
    }
}

static void budget_recovered(struct budget *b)
{
    if (atomic_load(&b->down) && atomic_exchange(&b->down, 0) == 1)
        log_info("redis at %s:%d available again: budget open", b->host,
                 b->port);
}

static void budget_disconnect(struct budget *b)
{
    if (b->rc)
        redisFree(b->rc);
    b->rc = NULL;
    /* Throttle reconnects so a dead Redis costs one attempt per 100 ms. */
    b->next_connect_ms = clock_mono_ms() + b->cfg.backoff_min_ms;
}

/* Connect and load the script.  Called with mu held.  0 or -1. */
static int budget_connect(struct budget *b)
{
    struct timeval tv;
    redisReply *r = NULL;
    char why[128];
    int rc = -1;

    if (b->rc)
        return 0;
    if (clock_mono_ms() < b->next_connect_ms) {
        atomic_fetch_add(&b->redis_errors, 1);
        return -1;
    }
    tv.tv_sec = b->cfg.redis_timeout_ms / 1000;
    tv.tv_usec = (b->cfg.redis_timeout_ms % 1000) * 1000;
    b->rc = redisConnectWithTimeout(b->host, b->port, tv);
    if (!b->rc || b->rc->err) {
        snprintf(why, sizeof(why), "%.100s",
                 b->rc ? b->rc->errstr : "out of memory");
        goto out;
    }
    redisSetTimeout(b->rc, tv);
    r = redisCommand(b->rc, "SCRIPT LOAD %s", BUDGET_LUA);
    if (!r || r->type != REDIS_REPLY_STRING) {
        snprintf(why, sizeof(why), "SCRIPT LOAD: %.100s",
                 r && r->type == REDIS_REPLY_ERROR ? r->str
                 : b->rc->err                      ? b->rc->errstr
                                                   : "unexpected reply");
        goto out;
    }
    snprintf(b->sha, sizeof(b->sha), "%s", r->str);
    rc = 0;
out:
    if (r)
        freeReplyObject(r);
    if (rc != 0) {
        budget_disconnect(b);
        budget_outage(b, why);
    }
    return rc;
}

/*
 * Run the script: EVALSHA, and on NOSCRIPT (SCRIPT FLUSH, a Redis restart
 * that kept us connected) EVAL with the full text, which also re-caches it.
 * Fills out[] with up to n integers.  Returns the number of integers, or -1
 * on a Redis error (the connection is dropped and the outage noted).
 */
static int budget_eval(struct budget *b, const char *store, int argc,
                       const char **args, long long *out, int n)
{
    const char *argv[16];
    size_t argl[16];
    char key[512];
    redisReply *r = NULL;
    char why[128];
    int i, cnt = -1;

    snprintf(key, sizeof(key), BUDGET_KEY_PREFIX "{%s}", store);
    pthread_mutex_lock(&b->mu);
    if (budget_connect(b) != 0)
        goto out;
    argv[0] = "EVALSHA";
    argv[1] = b->sha;
    argv[2] = "1";
    argv[3] = key;
    for (i = 0; i < argc && i + 4 < 16; i++)
        argv[i + 4] = args[i];
    for (i = 0; i < argc + 4; i++)
        argl[i] = strlen(argv[i]);
    r = redisCommandArgv(b->rc, argc + 4, argv, argl);
    if (r && r->type == REDIS_REPLY_ERROR &&
        strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        atomic_fetch_add(&b->script_reloads, 1);
        log_info("redis lost the budget script (NOSCRIPT): sending it again");
        argv[0] = "EVAL";
        argv[1] = BUDGET_LUA;
        argl[0] = 4;
        argl[1] = sizeof(BUDGET_LUA) - 1;
        r = redisCommandArgv(b->rc, argc + 4, argv, argl);
    }
    if (!r) {
        snprintf(why, sizeof(why), "%.100s",
                 b->rc->err ? b->rc->errstr : "no reply");
        budget_disconnect(b);
        budget_outage(b, why);
        goto out;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        /* A script error or a Redis that refuses writes (loading, OOM,
         * read-only replica): closed as well, the connection stays. */
        snprintf(why, sizeof(why), "%.100s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        budget_outage(b, why);
        goto out;
    }
    for (i = 0; i < (int)r->elements && i < n; i++)
        out[i] = r->element[i]->type == REDIS_REPLY_INTEGER
                     ? r->element[i]->integer
                     : 0;
    cnt = i;
    budget_recovered(b);
out:
    pthread_mutex_unlock(&b->mu);
    if (r)
        freeReplyObject(r);
    return cnt;
}

int budget_peek(struct budget *b, const char *store, struct budget_state *st)
{
    char why[128];
    int ok = -1;

    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&b->mu);
    if (budget_connect(b) == 0) {
        ok = budget_state_query(b->rc, store, st, why, sizeof(why));
        if (ok < 0) {
            budget_disconnect(b);
            budget_outage(b, why);
        }
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

/* ---- metrics (docs/metrics.md "Store API and budget") ----------------- */

int budget_metrics_register(struct budget *b, struct metrics *m)
{
    static const char *const sc[] = {"store", "class", NULL};
    static const char *const st[] = {"store", NULL};
    struct budget_mx *x = &b->mx;

    x->tokens = metrics_counter_new(
        m, "omnisync_budget_tokens_total",
        "Budget tokens this process took (its share of the store's API "
        "budget used).",
        sc);
    x->used = metrics_gauge_new(
        m, "omnisync_budget_used_requests",
        "Requests counted in the store's current window, fleet-wide (the "
        "last budget answer this process saw).",
        st);
    x->limit = metrics_gauge_new(m, "omnisync_budget_limit_requests",
                                 "The store's request limit per window.", st);
    x->left = metrics_gauge_new(
        m, "omnisync_budget_left_requests",
        "Requests a class may still take in the store's window: limit - "
        "used - the class's reserve, at least 0.",
        sc);
    x->wait = metrics_histogram_new(
        m, "omnisync_budget_token_wait_seconds",
        "Time a store call waited for its budget token.", sc,
        (const double[]){METRICS_BUCKETS_WAIT},
        sizeof((const double[]){METRICS_BUCKETS_WAIT}) / sizeof(double));
    x->pauses = metrics_counter_new(
        m, "omnisync_budget_pauses_total",
        "Fleet-wide pauses this process started after a 429 or 503.", st);
    x->pause_end = metrics_gauge_new(
        m, "omnisync_budget_pause_end_time_seconds",
        "When the last fleet-wide pause this process set for the store ends "
        "(seconds since the epoch; in the past once it ended).",
        st);
    x->unavailable = metrics_counter_new(
        m, "omnisync_budget_unavailable_total",
        "Token requests refused because Redis was unreachable.", st);
    x->calls = metrics_counter_new(
        m, "omnisync_store_api_calls_total",
        "Store API calls made after a token, by HTTP status (error: no "
        "answer).",
        (const char *const[]){"store", "class", "status", NULL});
    return x->tokens && x->used && x->limit && x->left && x->wait &&
                   x->pauses && x->pause_end && x->unavailable && x->calls
               ? 0
               : -1;
}

void budget_metrics_share(struct budget *b, const struct budget *from)
{
    b->mx = from->mx;
}

/* The window state a budget answer showed for @p store: used, limit and
 * what each class may still take. */
static void budget_mx_window(struct budget *b, const char *store,
                             long long used, long long limit)
{
    int i;

    if (!b->mx.used || limit <= 0)
        return;
    metrics_set(b->mx.used, (const char *const[]){store}, (double)used);
    metrics_set(b->mx.limit, (const char *const[]){store}, (double)limit);
    for (i = 0; i < BUDGET_CLASS_COUNT; i++) {
        double reserve = ceil((double)limit * b->cfg.reserve_pct[i] / 100.0);
        double left = (double)limit - (double)used - reserve;

        metrics_set(b->mx.left,
                    (const char *const[]){store, budget_class_names[i]},
                    left > 0 ? left : 0);
    }
}

void budget_note_call(struct budget *b, const char *store,
                      enum budget_class cls, long waited_ms, long http_status)
{
    char status[24];
    const char *cname = budget_class_name(cls);

    if (http_status > 0)
        snprintf(status, sizeof(status), "%ld", http_status);
    else
        snprintf(status, sizeof(status), "error");
    metrics_inc(b->mx.calls, (const char *const[]){store, cname, status});
    metrics_observe(b->mx.wait, (const char *const[]){store, cname},
                    waited_ms > 0 ? (double)waited_ms / 1000.0 : 0.0);
}

enum budget_res budget_take(struct budget *b, const char *store,
                            enum budget_class cls, long limit, long window_s,
                            long *wait_ms, struct budget_token *tok)
{
    char a_limit[24], a_win[24], a_guard[24], a_pct[24], a_probe[24],
        a_ohead[24];
    const char *args[10];
    long long v[5];

    if ((int)cls < 0 || cls >= BUDGET_CLASS_COUNT)
        cls = BUDGET_IMAGES;
    if (limit < 1)
        limit = 1;
    if (window_s < 1)
        window_s = 1;
    snprintf(a_limit, sizeof(a_limit), "%ld", limit);
    snprintf(a_win, sizeof(a_win), "%ld", window_s * 1000);
    snprintf(a_guard, sizeof(a_guard), "%ld", b->cfg.guard_ms);
    snprintf(a_pct, sizeof(a_pct), "%d", b->cfg.reserve_pct[cls]);
    snprintf(a_probe, sizeof(a_probe), "%ld", b->cfg.probe_ms);
    snprintf(a_ohead, sizeof(a_ohead), "%d", b->cfg.orders_headroom_pct);
    args[0] = "take";
    args[1] = a_limit;
    args[2] = a_win;
    args[3] = a_guard;
    args[4] = a_pct;
    args[5] = a_probe;
    args[6] = cls == BUDGET_ORDERS ? "1" : "0";
    args[7] = budget_class_names[cls];
    args[8] = a_ohead;
    args[9] = b->cfg.pace_bulk && cls >= BUDGET_CATALOG ? "1" : "0";
    if (budget_eval(b, store, 10, args, v, 5) != 5) {
        metrics_inc(b->mx.unavailable, (const char *const[]){store});
        return BUDGET_UNAVAILABLE;
    }
    budget_mx_window(b, store, v[2], v[3]);
    if (v[0] == 1) {
        atomic_fetch_add(&b->taken[cls], 1);
        metrics_inc(b->mx.tokens,
                    (const char *const[]){store, budget_class_names[cls]});
        if (tok) {
            tok->window_start_ms = v[4];
            tok->used = (long)v[2];
            tok->limit = (long)v[3];
        }
        return BUDGET_GRANTED;
    }
    if (wait_ms)
        *wait_ms = v[1] > 0 ? (long)v[1] : 1;
    return BUDGET_WAIT;
}

enum budget_res budget_acquire(struct budget *b, const char *store,
                               enum budget_class cls, long limit, long window_s,
                               long max_wait_ms, long *wait_ms,
                               struct budget_token *tok)
{
    int64_t start = clock_mono_ms(), waited;
    long backoff = b->cfg.backoff_min_ms, w = 0, sleep_ms;
    enum budget_res r;
    int did_wait = 0;

    if ((int)cls < 0 || cls >= BUDGET_CLASS_COUNT)
        cls = BUDGET_IMAGES;
    for (;;) {
        if (sig_stop_requested()) {
            r = BUDGET_STOPPED;
            break;
        }
        r = budget_take(b, store, cls, limit, window_s, &w, tok);
        waited = clock_mono_ms() - start;
        if (r == BUDGET_GRANTED) {
            if (wait_ms)
                *wait_ms = (long)waited;
            break;
        }
        if (r == BUDGET_WAIT) {
            sleep_ms = w;
            backoff = b->cfg.backoff_min_ms;
        } else {
            sleep_ms = backoff;
            backoff = backoff * 2 > b->cfg.backoff_max_ms
                          ? b->cfg.backoff_max_ms
                          : backoff * 2;
        }
        if (max_wait_ms >= 0 && waited + sleep_ms > max_wait_ms) {
            if (wait_ms)
                *wait_ms = sleep_ms;
            break;
        }
        did_wait = 1;
        if (sig_sleep_ms(sleep_ms) != 0) {
            r = BUDGET_STOPPED;
            break;
        }
    }
    if (did_wait) {
        atomic_fetch_add(&b->waits[cls], 1);
        atomic_fetch_add(&b->wait_ms[cls],
                         (unsigned long long)(clock_mono_ms() - start));
    }
    return r;
}

int budget_feedback(struct budget *b, const char *store,
                    const struct budget_token *tok, long server_used,
                    long server_limit)
{
    char a_ws[24], a_used[24], a_lim[24];
    const char *args[4];
    long long v[3];

    if (!tok)
        return 0;
    snprintf(a_ws, sizeof(a_ws), "%lld", (long long)tok->window_start_ms);
    snprintf(a_used, sizeof(a_used), "%ld", server_used);
    snprintf(a_lim, sizeof(a_lim), "%ld", server_limit);
    args[0] = "feedback";
    args[1] = a_ws;
    args[2] = a_used;
    args[3] = a_lim;
    if (budget_eval(b, store, 4, args, v, 3) != 3)
        return -1;
    if (v[0] >= 0)
        budget_mx_window(b, store, v[1], v[2]);
    if (v[0] == 1) {
        atomic_fetch_add(&b->adopted, 1);
        log_info_ctx(store,
                     "budget adopted the store's count: %ld used of %lld "
                     "(we had counted fewer)",
                     server_used, v[2]);
        return 1;
    }
    return 0;
}

int budget_pause(struct budget *b, const char *store, long retry_after_s,
                 long http_status)
{
    char a_ms[24], a_status[24];
    const char *args[3];
    long long v[1];

    if (retry_after_s < 1)
        retry_after_s = 1;
    snprintf(a_ms, sizeof(a_ms), "%lld", (long long)retry_after_s * 1000);
    snprintf(a_status, sizeof(a_status), "%ld", http_status);
    args[0] = "pause";
    args[1] = a_ms;
    args[2] = a_status;
    if (budget_eval(b, store, 3, args, v, 1) != 1)
        return -1;
    atomic_fetch_add(&b->pauses, 1);
    metrics_inc(b->mx.pauses, (const char *const[]){store});
    metrics_set(b->mx.pause_end, (const char *const[]){store},
                (double)(clock_wall_ms() + v[0]) / 1000.0);
    /* The window counts as used up until the pause ends. */
    for (int i = 0; i < BUDGET_CLASS_COUNT; i++)
        metrics_set(b->mx.left,
                    (const char *const[]){store, budget_class_names[i]}, 0);
    log_warn_ctx(store, "store rejected a call: fleet paused for %lld ms",
                 v[0]);
    return 0;
}

void budget_note_status(struct budget *b, long http_status)
{
    if (http_status == 429)
        atomic_fetch_add(&b->seen_429, 1);
    else if (http_status == 503)
        atomic_fetch_add(&b->seen_503, 1);
}

void budget_metrics_get(const struct budget *b, struct budget_metrics *out)
{
    struct budget *m = (struct budget *)b; /* atomics need non-const */
    int i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < BUDGET_CLASS_COUNT; i++) {
        out->taken[i] = atomic_load(&m->taken[i]);
        out->waits[i] = atomic_load(&m->waits[i]);
        out->wait_ms[i] = atomic_load(&m->wait_ms[i]);
    }
    out->seen_429 = atomic_load(&m->seen_429);
    out->seen_503 = atomic_load(&m->seen_503);
    out->pauses = atomic_load(&m->pauses);
    out->adopted = atomic_load(&m->adopted);
    out->redis_errors = atomic_load(&m->redis_errors);
    out->outages = atomic_load(&m->outages);
    out->script_reloads = atomic_load(&m->script_reloads);
}
