/*
 * work — why a piece of work in a consuming service failed, with the
 * outcome that decides what happens next (lib/outcome.h): the reason of a
 * retry for the logs, or of a rejection for the dead letter.
 */
#ifndef OMNI_WORK_H
#define OMNI_WORK_H

#include "lib/outcome.h"
#include "store/store_client.h"

#include <libpq-fe.h>

struct work_err {
    char reason[1024];
};

/**
 * @brief Fill @p e with a printf-style reason.
 * @returns @p o, so callers can `return work_fail(e, OUTCOME_RETRY, ...)`.
 */
enum outcome work_fail(struct work_err *e, enum outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief A Postgres error: OUTCOME_RETRY (with backoff), after resetting
 *        the connection when it is gone.
 */
enum outcome work_db_fail(PGconn *pg, struct work_err *e, const char *err);

/**
 * @brief The outcome @p o of a platform operation made through @p c: on
 *        failure @p e takes what the call says failed (c->why).
 * @returns @p o.
 */
enum outcome work_call(struct work_err *e, const struct store_call *c,
                       enum outcome o);

#endif
