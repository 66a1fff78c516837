/*
 * sim_http — the HTTP face of store-sim: libmicrohttpd daemon, request
 * bodies, Basic auth, the rate limit, faults, the request log and routing
 * to the resource modules.
 */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct sim_db;
struct sim_limiter;
struct sim_persist;

#define SIM_MAX_SEGS 8
#define SIM_BODY_CAP (32L * 1024 * 1024) /* bytes; larger bodies get 413 */

/* One parsed request as the resource handlers see it. */
struct sim_req {
    const char *method;
    const char *path;         /* URL path without the query */
    char *segs[SIM_MAX_SEGS]; /* after "/admin/" or "/_sim/", no ".json" */
    int nseg;
    json_t *body;           /* parsed JSON body, NULL when empty */
    void *conn;             /* struct MHD_Connection * */
    int64_t now;            /* wall clock at dispatch, ms */
    unsigned char *fetched; /* image fetched from image.src, or NULL */
    size_t fetched_len;
    int fetch_failed; /* image.src given but not fetchable */
};

/* What a handler answers. */
struct sim_resp {
    int status;
    json_t *json;     /* owned; serialised compactly */
    const char *text; /* static text body instead of JSON (may be NULL) */
    const char *ctype;
};

struct sim_http_opts {
    int port;         /* 0 = pick a free port */
    const char *bind; /* IPv4 address to listen on (NULL: 127.0.0.1) */
    const char *login, *password;
    int limit_status; /* 429 or 503 */
    /* (borrowed, may be NULL) where the shop is saved after every request
     * that may have changed it, before the response goes out */
    struct sim_persist *persist;
};

struct sim_http;

/**
 * @brief Start listening on 127.0.0.1.
 * @param db, lim (borrowed) must outlive the returned object.
 * @returns the server, or NULL with @p errstr filled.
 */
struct sim_http *sim_http_new(const struct sim_http_opts *opts,
                              struct sim_db *db, struct sim_limiter *lim,
                              char *errstr, size_t errstr_size);

/** @returns the bound TCP port. */
int sim_http_port(const struct sim_http *h);

/** @brief Stop the daemon (waits for connections); NULL-safe. */
void sim_http_destroy(struct sim_http *h);

/** @returns query argument @p key (borrowed until the request ends). */
const char *sim_req_arg(const struct sim_req *rq, const char *key);

/**
 * @brief Every value of @p key and of "key[]", each also split at commas.
 * @returns the number of values stored in @p out (at most @p max), which
 *          point into @p buf.
 */
int sim_req_args(const struct sim_req *rq, const char *key, char *buf,
                 size_t bufsz, const char **out, int max);

/**
 * @brief page (1-based) and per_page (below 10 raised to 10, max 250,
 *        default @p def).
 */
void sim_req_paging(const struct sim_req *rq, long def, long *page,
                    long *per_page);

/**
 * @brief updated_since and from_id.  @p has_since is 0 when absent;
 *        from_id is 0 unless updated_since is given.
 * @returns 0, or -1 when updated_since does not parse.
 */
int sim_req_since(const struct sim_req *rq, int *has_since, int64_t *since,
                  int64_t *from_id);

/** @brief Parse a strictly decimal id from a path segment (-1 if not). */
int64_t sim_seg_id(const char *s);

/** @brief true when query argument @p key is "true" or "1". */
int sim_req_flag(const struct sim_req *rq, const char *key);

/*
 * The requests a route answers: from nmin to nmax path segments, the
 * method (NULL: any) and the segments that must be equal (NULL: any).
 * Resource modules route through tables of these, first match wins.
 */
#define SIM_ROUTE_SEGS 3
struct sim_route_shape {
    int nmin, nmax;
    const char *method;
    const char *seg[SIM_ROUTE_SEGS];
};

/** @returns 1 when @p rq has the shape @p sh, else 0. */
int sim_req_matches(const struct sim_req *rq, const struct sim_route_shape *sh);

void sim_resp_json(struct sim_resp *rs, int status, json_t *json);
void sim_resp_not_found(struct sim_resp *rs);
void sim_resp_ok(struct sim_resp *rs);
/** @brief 422 {"field":["msg"]}. */
void sim_resp_invalid(struct sim_resp *rs, const char *field, const char *msg);

#endif
