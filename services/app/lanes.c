#include "app/lanes.h"

#include "lib/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A job's state (lane_job.state_). */
enum { LJ_IDLE = 0, LJ_RUNNING, LJ_FINISHED };

struct lane_worker {
    struct lanes *l;
    pthread_t th;
    int started;
    pthread_cond_t cond;  /* a job came, a handoff, or stop */
    struct lane_job *job; /* NULL: free */
    long long store;      /* job->store, readable while job is settled */
    int settling;         /* job is being settled or freed: do not touch */
};

struct lanes {
    pthread_mutex_t mu;
    pthread_cond_t done; /* a job finished or a worker became free */
    struct lanes_ops ops;
    long slice_ms;
    int stop;
    int n;
    struct lane_worker *w;
};

/* Now + @p ms on CLOCK_MONOTONIC, for pthread_cond_timedwait. */
static struct timespec lanes_deadline(long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static int lanes_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    int rc;

    if (pthread_condattr_init(&a) != 0)
        return -1;
    rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0 &&
                 pthread_cond_init(c, &a) == 0
             ? 0
             : -1;
    pthread_condattr_destroy(&a);
    return rc;
}

/* The worker is free again (called with the lock held). */
static void lanes_release(struct lane_worker *w)
{
    w->job = NULL;
    w->settling = 0;
    pthread_cond_broadcast(&w->l->done);
}

/* After a run: the caller's again, or settled and freed here once handed
 * off.  Called and returns with the lock held. */
static void lanes_after_run(struct lane_worker *w, struct lane_job *j,
                            void *env)
{
    struct lanes *l = w->l;
    int h;

    if (!j->detached_) {
        j->state_ = LJ_FINISHED;
        lanes_release(w);
        return;
    }
    while (!j->handoff_)
        pthread_cond_wait(&w->cond, &l->mu);
    h = j->handoff_;
    if (h == LANE_COLLECT) {
        j->state_ = LJ_FINISHED;
        lanes_release(w);
        return;
    }
    w->settling = 1;
    pthread_mutex_unlock(&l->mu);
    if (h == LANE_SETTLE && !j->abandoned_ && j->settle)
        j->settle(env, j);
    if (j->free)
        j->free(j);
    pthread_mutex_lock(&l->mu);
    lanes_release(w);
}

static void *lanes_main(void *arg)
{
    struct lane_worker *w = arg;
    struct lanes *l = w->l;
    struct lane_job *j;
    void *env = NULL;
    char err[512];

    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!w->job && !l->stop)
            pthread_cond_wait(&w->cond, &l->mu);
        if (!w->job)
            break;
        j = w->job;
        pthread_mutex_unlock(&l->mu);
        if (!env && l->ops.env_new) {
            env = l->ops.env_new(l->ops.arg, err, sizeof(err));
            if (!env)
                log_warn("store worker: %s", err);
        }
        j->run(env, j);
        pthread_mutex_lock(&l->mu);
        lanes_after_run(w, j, env);
    }
    pthread_mutex_unlock(&l->mu);
    if (l->ops.env_free)
        l->ops.env_free(env);
    return NULL;
}

struct lanes *lanes_new(int workers, long slice_ms, const struct lanes_ops *ops,
                        char *errstr, size_t errstr_size)
{
    struct lanes *l = calloc(1, sizeof(*l));
    int i;

    if (!l || workers < 1)
        goto oom;
    l->w = calloc((size_t)workers, sizeof(*l->w));
    if (!l->w || pthread_mutex_init(&l->mu, NULL) != 0 ||
        lanes_cond_init(&l->done) != 0)
        goto oom;
    l->ops = *ops;
    l->slice_ms = slice_ms > 0 ? slice_ms : 1;
    for (i = 0; i < workers; i++) {
        l->w[i].l = l;
        if (pthread_cond_init(&l->w[i].cond, NULL) != 0)
            goto fail;
        l->n = i + 1;
        if (pthread_create(&l->w[i].th, NULL, lanes_main, &l->w[i]) != 0)
            goto fail;
        l->w[i].started = 1;
    }
    return l;
fail:
    snprintf(errstr, errstr_size, "store workers: cannot start thread %d", i);
    lanes_destroy(l);
    return NULL;
oom:
    snprintf(errstr, errstr_size, "store workers: out of memory");
    if (l)
        free(l->w);
    free(l);
    return NULL;
}

enum lane_res lanes_run(struct lanes *l, struct lane_job *j)
{
    struct lane_worker *w = NULL;
    struct timespec until;
    enum lane_res r;
    int i;

    pthread_mutex_lock(&l->mu);
    for (i = 0; i < l->n && !w; i++)
        if (!l->w[i].job)
            w = &l->w[i];
    if (!w) {
        pthread_mutex_unlock(&l->mu);
        return LANE_NO_WORKER;
    }
    j->state_ = LJ_RUNNING;
    j->detached_ = j->handoff_ = j->abandoned_ = 0;
    w->job = j;
    w->store = j->store;
    pthread_cond_signal(&w->cond);
    until = lanes_deadline(l->slice_ms);
    while (j->state_ != LJ_FINISHED &&
           pthread_cond_timedwait(&l->done, &l->mu, &until) != ETIMEDOUT)
        ;
    if (j->state_ == LJ_FINISHED) {
        r = LANE_DONE;
    } else {
        j->detached_ = 1;
        r = LANE_DETACHED;
    }
    pthread_mutex_unlock(&l->mu);
    return r;
}

/* The worker holding @p j, or NULL (lock held). */
static struct lane_worker *lanes_holder(struct lanes *l,
                                        const struct lane_job *j)
{
    for (int i = 0; i < l->n; i++)
        if (l->w[i].job == j)
            return &l->w[i];
    return NULL;
}

void lanes_handoff(struct lanes *l, struct lane_job *j, enum lane_handoff h)
{
    struct lane_worker *w;

    pthread_mutex_lock(&l->mu);
    j->handoff_ = (int)h;
    w = lanes_holder(l, j);
    if (w)
        pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&l->mu);
}

int lanes_collect(struct lanes *l, struct lane_job *j)
{
    int done;

    pthread_mutex_lock(&l->mu);
    done = j->state_ == LJ_FINISHED;
    pthread_mutex_unlock(&l->mu);
    return done;
}

int lanes_store_busy(struct lanes *l, long long store)
{
    int n = 0;

    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n; i++)
        if (l->w[i].job && l->w[i].store == store)
            n++;
    pthread_mutex_unlock(&l->mu);
    return n;
}

size_t lanes_busy_stores(struct lanes *l, long long *out, size_t max)
{
    size_t n = 0, k;

    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n && n < max; i++) {
        if (!l->w[i].job)
            continue;
        for (k = 0; k < n && out[k] != l->w[i].store; k++)
            ;
        if (k == n)
            out[n++] = l->w[i].store;
    }
    pthread_mutex_unlock(&l->mu);
    return n;
}

int lanes_free_workers(struct lanes *l)
{
    int n = 0;

    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n; i++)
        n += !l->w[i].job;
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* Workers with a job (lock held). */
static int lanes_busy(const struct lanes *l)
{
    int n = 0;

    for (int i = 0; i < l->n; i++)
        n += l->w[i].job != NULL;
    return n;
}

int lanes_drain(struct lanes *l, long wait_ms,
                void (*abandon)(void *ctx, struct lane_job *j), void *ctx)
{
    struct timespec until = lanes_deadline(wait_ms > 0 ? wait_ms : 0);
    struct lane_job *j;
    int n = 0;

    if (!l)
        return 0;
    pthread_mutex_lock(&l->mu);
    while (lanes_busy(l) &&
           pthread_cond_timedwait(&l->done, &l->mu, &until) != ETIMEDOUT)
        ;
    /* The lock is held while abandoning: a worker cannot settle or free
     * its job meanwhile, and skips settling it afterwards. */
    for (int i = 0; i < l->n; i++) {
        j = l->w[i].job;
        if (!j || l->w[i].settling || j->state_ != LJ_RUNNING ||
            j->handoff_ != LANE_SETTLE || j->abandoned_)
            continue;
        j->abandoned_ = 1;
        if (abandon)
            abandon(ctx, j);
        n++;
    }
    pthread_mutex_unlock(&l->mu);
    return n;
}

void lanes_destroy(struct lanes *l)
{
    int stuck;

    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    for (int i = 0; i < l->n; i++)
        pthread_cond_signal(&l->w[i].cond);
    stuck = lanes_busy(l);
    pthread_mutex_unlock(&l->mu);
    if (stuck) {
        /* A call still running past the drain: the process is exiting;
         * the pool stays allocated for the threads that still use it. */
        log_warn("%d store worker(s) still in a call: left to the exit", stuck);
        for (int i = 0; i < l->n; i++)
            if (l->w[i].started)
                pthread_detach(l->w[i].th);
        return;
    }
    for (int i = 0; i < l->n; i++) {
        if (l->w[i].started)
            pthread_join(l->w[i].th, NULL);
        pthread_cond_destroy(&l->w[i].cond);
    }
    pthread_cond_destroy(&l->done);
    pthread_mutex_destroy(&l->mu);
    free(l->w);
    free(l);
}
