/*
 * order-status — set an order's status in its store through the platform
 * seam (store_platform.order_status_set), as an operator tool would: the
 * store from the ledger, its platform from the registry, one metered call
 * on the store's shared budget (class orders).
 *
 *   order-status STORE REMOTE_ID STATUS
 *
 * STATUS is a neutral status name (events/order.h: new, accepted, other,
 * shipped, delivered, cancelled, returned).  Connects with OMNISYNC_PG and
 * OMNISYNC_REDIS; decrypts the store's password with OMNISYNC_SECRET_KEY.
 * Prints "<outcome> <http status> <what failed>"; exit 0 when the store took
 * it, 1 when not, 2 on usage.
 */
#include "app/storeset.h"
#include "events/order.h"
#include "lib/db.h"
#include "lib/outcome.h"
#include "store/budget.h"
#include "store/platform.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int status_parse(const char *name, enum order_status *s)
{
    for (int i = ORDER_STATUS_NEW; i <= ORDER_STATUS_RETURNED; i++)
        if (strcmp(order_status_name((enum order_status)i), name) == 0) {
            *s = (enum order_status)i;
            return 0;
        }
    return -1;
}

static int id_parse(const char *s, long long *id)
{
    char *end;

    errno = 0;
    *id = strtoll(s, &end, 10);
    return errno || end == s || *end || *id <= 0 ? -1 : 0;
}

/* The call itself, once the store and its budget are there. */
static int status_set(struct storeset_entry *e, struct budget *b, long long id,
                      enum order_status st)
{
    const struct store_platform *p = store_platform_find(e->conf.platform);
    struct store_call call;
    enum outcome o;

    if (!p) {
        fprintf(stderr, "order-status: unknown platform '%s'\n",
                e->conf.platform);
        return 1;
    }
    store_call_init(&call, e->sc, b, BUDGET_ORDERS);
    o = p->order_status_set(&call, id, st);
    printf("%s %ld %s\n", outcome_name(o), call.last.status, call.why);
    store_call_clear(&call);
    return o == OUTCOME_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct storeset *ss = NULL;
    struct storeset_entry *e;
    struct budget *b = NULL;
    enum order_status st;
    char err[512];
    long long id;
    PGconn *pg = NULL;
    int rc = 1;

    if (argc != 4 || id_parse(argv[2], &id) < 0 ||
        status_parse(argv[3], &st) < 0) {
        fprintf(stderr, "usage: order-status STORE REMOTE_ID STATUS\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pg = db_connect(getenv("OMNISYNC_PG"), "order-status", err, sizeof(err));
    ss = storeset_new();
    if (!pg || !ss ||
        storeset_refresh(ss, pg, getenv("OMNISYNC_SECRET_KEY"), err,
                         sizeof(err)) < 0) {
        fprintf(stderr, "order-status: %s\n", ss ? err : "out of memory");
        goto out;
    }
    e = storeset_find(ss, argv[1]);
    b = budget_new(getenv("OMNISYNC_REDIS"), NULL, err, sizeof(err));
    if (!e || !b) {
        fprintf(stderr, "order-status: %s\n", e ? err : "no such store");
        goto out;
    }
    rc = status_set(e, b, id, st);
out:
    budget_destroy(b);
    storeset_destroy(ss);
    if (pg)
        PQfinish(pg);
    curl_global_cleanup();
    return rc;
}
