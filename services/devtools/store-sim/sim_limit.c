#include "sim_limit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SIM_LIMIT_MAX_LOGINS 64

void sim_limit_take(struct sim_limit_win *w, long limit, int64_t window_ms,
                    int64_t now_ms, struct sim_limit_res *res)
{
    int64_t left;

    if (w->count == 0 || now_ms >= w->start_ms + window_ms) {
        w->start_ms = now_ms;
        w->count = 0;
    }
    w->count++;
    res->used = w->count;
    res->retry_after = 0;
    res->allowed = limit <= 0 || w->count <= limit;
    if (!res->allowed) {
        left = w->start_ms + window_ms - now_ms;
        res->retry_after = (long)((left + 999) / 1000);
        if (res->retry_after < 1)
            res->retry_after = 1;
    }
}

struct sim_limiter {
    pthread_mutex_t mu;
    long limit;
    int64_t window_ms;
    int n;
    char *logins[SIM_LIMIT_MAX_LOGINS];
    struct sim_limit_win wins[SIM_LIMIT_MAX_LOGINS];
};

struct sim_limiter *sim_limiter_new(long limit, int64_t window_ms)
{
    struct sim_limiter *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    l->limit = limit;
    l->window_ms = window_ms;
    return l;
}

void sim_limiter_reset(struct sim_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n; i++) {
        free(l->logins[i]);
        l->logins[i] = NULL;
    }
    memset(l->wins, 0, sizeof(l->wins));
    l->n = 0;
    pthread_mutex_unlock(&l->mu);
}

void sim_limiter_destroy(struct sim_limiter *l)
{
    if (!l)
        return;
    sim_limiter_reset(l);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

long sim_limiter_limit(const struct sim_limiter *l)
{
    return l->limit;
}

void sim_limiter_take(struct sim_limiter *l, const char *login, int64_t now_ms,
                      struct sim_limit_res *res)
{
    int i;

    pthread_mutex_lock(&l->mu);
    for (i = 0; i < l->n; i++)
        if (strcmp(l->logins[i], login) == 0)
            break;
    if (i == l->n) {
        /* Only the configured login authenticates, so the table stays
         * tiny; when it is somehow full, the last slot is shared. */
        if (l->n < SIM_LIMIT_MAX_LOGINS) {
            l->logins[i] = strdup(login);
            if (l->logins[i])
                l->n++;
            else
                i = 0;
        } else {
            i = SIM_LIMIT_MAX_LOGINS - 1;
        }
    }
    sim_limit_take(&l->wins[i], l->limit, l->window_ms, now_ms, res);
    pthread_mutex_unlock(&l->mu);
}
