#include "lib/log.h"

#include "lib/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int log_level = LOG_INFO;
static const char *log_service = "omnisync";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const log_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *name)
{
    size_t i;

    if (!name)
        return -1;
    for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
        if (strcasecmp(name, log_names[i]) == 0)
            return (int)i;
    return -1;
}

int log_init(const char *service, const char *level)
{
    int lvl;

    if (service)
        log_service = service;
    if (!level || !*level)
        return 0;
    lvl = log_level_parse(level);
    if (lvl < 0)
        return -1;
    log_level = lvl;
    return 0;
}

void log_write(int lvl, const char *ctx, const char *fmt, ...)
{
    char msg[2048], ts[CLOCK_RFC3339_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clock_rfc3339_format(clock_wall_us(), 0, CLOCK_FMT_MS | CLOCK_FMT_Z, ts,
                         sizeof(ts));
    if (lvl < 0 || lvl > LOG_DEBUG)
        lvl = LOG_ERROR;
    /* One fprintf per record under a lock keeps lines whole across
     * threads (librdkafka's log callback runs on its own threads). */
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s %s %s%s%s%s %s\n", ts, log_names[lvl], log_service,
            ctx ? " [" : "", ctx ? ctx : "", ctx ? "]" : "", msg);
    pthread_mutex_unlock(&log_lock);
}
