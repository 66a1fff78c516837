#include "store/work.h"

#include <stdarg.h>
#include <stdio.h>

enum outcome work_fail(struct work_err *e, enum outcome o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    return o;
}

enum outcome work_db_fail(PGconn *pg, struct work_err *e, const char *err)
{
    if (PQstatus(pg) != CONNECTION_OK)
        PQreset(pg);
    return work_fail(e, OUTCOME_RETRY, "ledger: %s", err);
}

enum outcome work_call(struct work_err *e, const struct store_call *c,
                       enum outcome o)
{
    if (o != OUTCOME_OK)
        snprintf(e->reason, sizeof(e->reason), "%s", c->why);
    return o;
}
