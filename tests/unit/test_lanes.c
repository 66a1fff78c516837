/*
 * test_lanes — app/lanes: work that ends within the slice is the caller's
 * again; longer work detaches and is settled (or collected) by its worker
 * while the store counts as busy; no free worker is said; each worker
 * builds its environment once, lazily; a drain abandons what is still
 * running and the worker then neither settles it twice nor leaks it.
 */
#include "app/lanes.h"
#include "t.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int n_env, n_env_free, n_settled, n_freed;

struct tjob {
    struct lane_job lj;
    long sleep_ms;
    int ran;
    void *env_seen;
};

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void *env_new(void *arg, char *errstr, size_t errstr_size)
{
    (void)arg;
    (void)errstr;
    (void)errstr_size;
    pthread_mutex_lock(&mu);
    n_env++;
    pthread_mutex_unlock(&mu);
    return malloc(1);
}

static void env_free(void *env)
{
    if (!env)
        return;
    pthread_mutex_lock(&mu);
    n_env_free++;
    pthread_mutex_unlock(&mu);
    free(env);
}

static void run(void *env, struct lane_job *j)
{
    struct tjob *t = (struct tjob *)j;

    nap(t->sleep_ms);
    t->ran = 1;
    t->env_seen = env;
}

static void settle(void *env, struct lane_job *j)
{
    (void)env;
    (void)j;
    pthread_mutex_lock(&mu);
    n_settled++;
    pthread_mutex_unlock(&mu);
}

static void job_free(struct lane_job *j)
{
    pthread_mutex_lock(&mu);
    n_freed++;
    pthread_mutex_unlock(&mu);
    free(j);
}

static struct tjob *job_new(long long store, long sleep_ms)
{
    struct tjob *t = calloc(1, sizeof(*t));

    t->lj.store = store;
    t->lj.run = run;
    t->lj.settle = settle;
    t->lj.free = job_free;
    t->sleep_ms = sleep_ms;
    return t;
}

static int counter(const int *c)
{
    int v;

    pthread_mutex_lock(&mu);
    v = *c;
    pthread_mutex_unlock(&mu);
    return v;
}

int main(void)
{
    char err[256];
    struct lanes_ops ops = {env_new, env_free, NULL};
    struct lanes *l = lanes_new(2, 100, &ops, err, sizeof(err));
    struct tjob *fast, *slow, *coll, *third;
    long long busy[4];

    T_ASSERT(l != NULL);
    T_ASSERT_EQ(lanes_free_workers(l), 2);

    /* Within the slice: done, the caller's, run with an environment. */
    fast = job_new(1, 0);
    T_ASSERT_EQ(lanes_run(l, &fast->lj), LANE_DONE);
    T_ASSERT_EQ(fast->ran, 1);
    T_ASSERT(fast->env_seen != NULL);
    T_ASSERT_EQ(lanes_store_busy(l, 1), 0);
    /* The same free worker again: no second environment. */
    fast->ran = 0;
    T_ASSERT_EQ(lanes_run(l, &fast->lj), LANE_DONE);
    T_ASSERT_EQ(counter(&n_env), 1);
    free(fast);

    /* Longer than the slice: detached, the store busy until settled. */
    slow = job_new(7, 400);
    T_ASSERT_EQ(lanes_run(l, &slow->lj), LANE_DETACHED);
    T_ASSERT_EQ(lanes_store_busy(l, 7), 1);
    T_ASSERT_EQ(lanes_store_busy(l, 1), 0);
    T_ASSERT_EQ(lanes_busy_stores(l, busy, 4), 1);
    T_ASSERT_EQ(busy[0], 7);
    lanes_handoff(l, &slow->lj, LANE_SETTLE);

    /* The other worker collects. */
    coll = job_new(8, 300);
    T_ASSERT_EQ(lanes_run(l, &coll->lj), LANE_DETACHED);
    lanes_handoff(l, &coll->lj, LANE_COLLECT);
    T_ASSERT_EQ(lanes_collect(l, &coll->lj), 0);

    /* Both workers busy: no worker, nothing ran. */
    third = job_new(9, 0);
    T_ASSERT_EQ(lanes_run(l, &third->lj), LANE_NO_WORKER);
    T_ASSERT_EQ(third->ran, 0);
    T_ASSERT_EQ(lanes_free_workers(l), 0);

    nap(600);
    T_ASSERT_EQ(lanes_collect(l, &coll->lj), 1);
    T_ASSERT_EQ(coll->ran, 1);
    free(coll);
    T_ASSERT_EQ(lanes_drain(l, 2000, NULL, NULL), 0);
    T_ASSERT_EQ(counter(&n_settled), 1);
    T_ASSERT_EQ(counter(&n_freed), 1);
    T_ASSERT_EQ(lanes_store_busy(l, 7), 0);
    T_ASSERT_EQ(lanes_free_workers(l), 2);

    /* A drain abandons a job still running: no settle, still freed. */
    slow = job_new(7, 500);
    T_ASSERT_EQ(lanes_run(l, &slow->lj), LANE_DETACHED);
    lanes_handoff(l, &slow->lj, LANE_SETTLE);
    T_ASSERT_EQ(lanes_drain(l, 50, NULL, NULL), 1);
    T_ASSERT_EQ(lanes_drain(l, 3000, NULL, NULL), 0);
    T_ASSERT_EQ(counter(&n_settled), 1);
    T_ASSERT_EQ(counter(&n_freed), 2);

    /* A discarded job is freed unsettled. */
    slow = job_new(3, 200);
    T_ASSERT_EQ(lanes_run(l, &slow->lj), LANE_DETACHED);
    lanes_handoff(l, &slow->lj, LANE_DISCARD);
    T_ASSERT_EQ(lanes_drain(l, 3000, NULL, NULL), 0);
    T_ASSERT_EQ(counter(&n_settled), 1);
    T_ASSERT_EQ(counter(&n_freed), 3);

    third->ran = 0;
    T_ASSERT_EQ(lanes_run(l, &third->lj), LANE_DONE);
    free(third);
    lanes_destroy(l);
    T_ASSERT_EQ(counter(&n_env), counter(&n_env_free));
    T_ASSERT(counter(&n_env) <= 2);
    lanes_destroy(NULL);
    T_DONE();
}
