#include "lib/sig.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void sig_on_signal(int sig)
{
    if (stop_requested)
        _exit(1); /* second signal: the operator insists */
    stop_requested = sig;
}

void sig_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sig_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

int sig_stop_requested(void)
{
    return (int)stop_requested;
}

void sig_request_stop(void)
{
    if (!stop_requested)
        stop_requested = SIGTERM;
}

int sig_sleep_ms(long ms)
{
    struct timespec ts;

    while (ms > 0) {
        long step = ms > 100 ? 100 : ms;

        if (stop_requested)
            return -1;
        ts.tv_sec = 0;
        ts.tv_nsec = step * 1000000L;
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return stop_requested ? -1 : 0;
}
