/*
 * outcome — what happens next with a piece of work, from the store call
 * through to the consume loop: one enum for every layer.
 *
 * Mapping (STYLE.md §3): a 2xx is OUTCOME_OK; the store's rate limit (429,
 * 503) is OUTCOME_PAUSED with the wait in the caller's result; other 5xx,
 * timeouts, lost Redis, Postgres or Kafka connections are OUTCOME_RETRY;
 * other 4xx and input that can never be processed are OUTCOME_REJECTED
 * (dead-letter, then move on).
 */
#ifndef OMNI_OUTCOME_H
#define OMNI_OUTCOME_H

enum outcome {
    OUTCOME_OK = 0,       /* done (processed or skipped): commit */
    OUTCOME_RETRY = 1,    /* transient: retry after a backoff */
    OUTCOME_PAUSED = 2,   /* the store's limit: retry after its wait */
    OUTCOME_REJECTED = 3, /* never succeeds as it is: dead-letter */
};

/** @returns "ok", "retry", "paused" or "rejected". */
const char *outcome_name(enum outcome o);

#endif
