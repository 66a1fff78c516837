/*
 * work — the outcome of handling one message in a consuming service, and
 * the mapping of a metered store call's typed result onto it (STYLE.md
 * §3: 429/5xx and lost connections retry, other 4xx dead-letter).
 */
#ifndef OMNI_WORK_H
#define OMNI_WORK_H

#include "lib/consume.h"
#include "store/store_client.h"

#include <libpq-fe.h>

/* What happens next with a message. */
enum work_res {
    WORK_OK = 0,    /* done: commit */
    WORK_RETRY = 1, /* retry the message later (no commit) */
    WORK_DLQ = 2,   /* dead-letter: reason in the error, then commit */
};

struct work_err {
    char reason[1024];
    long status; /* HTTP status of the store's answer, 0 when none */
    int backoff; /* WORK_RETRY: 1 = back off before retrying */
};

/**
 * @brief Fill @p e with a printf-style reason and the backoff flag.
 * @returns @p r, so callers can `return work_fail(e, WORK_RETRY, 1, ...)`.
 */
enum work_res work_fail(struct work_err *e, enum work_res r, int backoff,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * @brief A Postgres error: retry with backoff, after resetting the
 *        connection when it is gone.
 */
enum work_res work_db_fail(PGconn *pg, struct work_err *e, const char *err);

/**
 * @brief One metered call (store_call()) mapped onto what happens next:
 *        ok → WORK_OK; 4xx → WORK_DLQ with the store's answer in the
 *        reason; 429/503 → WORK_RETRY without backoff (the budget already
 *        pauses the fleet until Retry-After); other failures → WORK_RETRY
 *        with backoff.  e->status is the HTTP status.
 * @param calls incremented when a request reached the store (may be NULL).
 */
enum work_res work_store_call(struct store_client *sc, struct budget *b,
                              enum budget_class cls, enum store_op op,
                              const struct store_req_args *a,
                              struct store_result *r, struct work_err *e,
                              unsigned long long *calls);

/** @returns the consume loop's verdict for a WORK_RETRY with @p e. */
enum consume_res work_retry_verdict(const struct work_err *e);

#endif
