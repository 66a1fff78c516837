#include "store/work.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

enum work_res work_fail(struct work_err *e, enum work_res r, int backoff,
                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    e->backoff = backoff;
    return r;
}

enum work_res work_db_fail(PGconn *pg, struct work_err *e, const char *err)
{
    if (PQstatus(pg) != CONNECTION_OK)
        PQreset(pg);
    return work_fail(e, WORK_RETRY, 1, "ledger: %s", err);
}

enum work_res work_store_call(struct store_client *sc, struct budget *b,
                              enum budget_class cls, enum store_op op,
                              const struct store_req_args *a,
                              struct store_result *r, struct work_err *e,
                              unsigned long long *calls)
{
    enum store_res res = store_call(sc, b, cls, op, a, r);
    char *text;

    if (r->status > 0 && calls)
        (*calls)++;
    e->status = r->status;
    switch (res) {
    case STORE_OK:
        return WORK_OK;
    case STORE_CLIENT_ERROR:
        text = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_ENCODE_ANY)
                       : NULL;
        work_fail(e, WORK_DLQ, 0, "%s: HTTP %ld: %s: %.500s", store_op_name(op),
                  r->status, r->reason, text ? text : r->excerpt);
        free(text);
        return WORK_DLQ;
    case STORE_RETRY_AFTER:
        return work_fail(e, WORK_RETRY, 0, "%s: %s", store_op_name(op),
                         r->reason);
    case STORE_TRANSIENT:
    default:
        return work_fail(e, WORK_RETRY, 1, "%s: %s", store_op_name(op),
                         r->reason);
    }
}

enum consume_res work_retry_verdict(const struct work_err *e)
{
    return e->backoff ? CONSUME_BACKOFF : CONSUME_RETRY;
}
