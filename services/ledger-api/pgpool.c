#include "pgpool.h"

#include "lib/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pgpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *dsn;
    const char *app;
    PGconn **conns; /* NULL: not connected */
    int *busy;
    size_t n;
};

struct pgpool *pgpool_new(const char *dsn, size_t n, const char *app)
{
    struct pgpool *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->dsn = strdup(dsn ? dsn : "");
    p->conns = calloc(n, sizeof(*p->conns));
    p->busy = calloc(n, sizeof(*p->busy));
    p->n = n;
    p->app = app;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (!p->dsn || !p->conns || !p->busy) {
        pgpool_destroy(p);
        return NULL;
    }
    return p;
}

/* Mark slot @p i free and wake a waiter. */
static void pgpool_release(struct pgpool *p, size_t i)
{
    pthread_mutex_lock(&p->mu);
    p->busy[i] = 0;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

PGconn *pgpool_get(struct pgpool *p, char *errstr, size_t errstr_size)
{
    size_t i;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (i = 0; i < p->n && p->busy[i]; i++)
            ;
        if (i < p->n)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    p->busy[i] = 1;
    pthread_mutex_unlock(&p->mu);
    if (p->conns[i] && PQstatus(p->conns[i]) != CONNECTION_OK) {
        PQfinish(p->conns[i]);
        p->conns[i] = NULL;
    }
    if (!p->conns[i])
        p->conns[i] = db_connect(p->dsn, p->app, errstr, errstr_size);
    if (!p->conns[i]) {
        pgpool_release(p, i);
        return NULL;
    }
    return p->conns[i];
}

void pgpool_put(struct pgpool *p, PGconn *pg)
{
    size_t i;

    if (!pg)
        return;
    for (i = 0; i < p->n; i++)
        if (p->conns[i] == pg) {
            /* A transaction left open by a failure must not leak into the
             * next request. */
            if (PQtransactionStatus(pg) != PQTRANS_IDLE)
                db_rollback(pg);
            pgpool_release(p, i);
            return;
        }
}

void pgpool_destroy(struct pgpool *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; p->conns && i < p->n; i++)
        if (p->conns[i])
            PQfinish(p->conns[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->conns);
    free(p->busy);
    free(p->dsn);
    free(p);
}
