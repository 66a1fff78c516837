/*
 * sig — SIGINT/SIGTERM handling for graceful shutdown.
 *
 * The handler only sets a flag; loops poll sig_stop_requested() at least
 * every 100 ms.  A second signal exits immediately with status 1.
 */
#ifndef OMNI_SIG_H
#define OMNI_SIG_H

/** @brief Install SIGINT/SIGTERM handlers and ignore SIGPIPE. */
void sig_install(void);

/** @returns the signal number that asked us to stop, or 0. */
int sig_stop_requested(void);

/** @brief Ask the process to stop as if a signal arrived (tests, fatal). */
void sig_request_stop(void);

/**
 * @brief Sleep up to @p ms milliseconds, waking early on a stop request.
 * @returns 0 when the full time elapsed, -1 when interrupted by a stop.
 */
int sig_sleep_ms(long ms);

#endif
