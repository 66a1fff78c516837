/*
 * log — one-line structured logging to stderr.
 *
 * Format: "<ts> <level> <service> [ctx] message".  Level macros test the
 * level before formatting so disabled levels cost one comparison.
 */
#ifndef OMNI_LOG_H
#define OMNI_LOG_H

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
};

extern int log_level;

/**
 * @brief Set the service name printed on every line (borrowed, must outlive
 *        the program) and the level from a name ("error".."debug").
 * @returns 0, or -1 when @p level is not a known level name.
 */
int log_init(const char *service, const char *level);

/** @brief Parse a level name; returns -1 if unknown. */
int log_level_parse(const char *name);

/**
 * @brief Write one record.  @p ctx (may be NULL) is printed in brackets
 *        before the message, e.g. an event id, SKU or order id.
 */
void log_write(int lvl, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...)                                                         \
    do {                                                                       \
        if (log_level >= LOG_ERROR)                                            \
            log_write(LOG_ERROR, NULL, __VA_ARGS__);                           \
    } while (0)
#define log_warn(...)                                                          \
    do {                                                                       \
        if (log_level >= LOG_WARN)                                             \
            log_write(LOG_WARN, NULL, __VA_ARGS__);                            \
    } while (0)
#define log_info(...)                                                          \
    do {                                                                       \
        if (log_level >= LOG_INFO)                                             \
            log_write(LOG_INFO, NULL, __VA_ARGS__);                            \
    } while (0)
#define log_debug(...)                                                         \
    do {                                                                       \
        if (log_level >= LOG_DEBUG)                                            \
            log_write(LOG_DEBUG, NULL, __VA_ARGS__);                           \
    } while (0)
#define log_error_ctx(ctx, ...)                                                \
    do {                                                                       \
        if (log_level >= LOG_ERROR)                                            \
            log_write(LOG_ERROR, ctx, __VA_ARGS__);                            \
    } while (0)
#define log_warn_ctx(ctx, ...)                                                 \
    do {                                                                       \
        if (log_level >= LOG_WARN)                                             \
            log_write(LOG_WARN, ctx, __VA_ARGS__);                             \
    } while (0)
#define log_info_ctx(ctx, ...)                                                 \
    do {                                                                       \
        if (log_level >= LOG_INFO)                                             \
            log_write(LOG_INFO, ctx, __VA_ARGS__);                             \
    } while (0)
#define log_debug_ctx(ctx, ...)                                                \
    do {                                                                       \
        if (log_level >= LOG_DEBUG)                                            \
            log_write(LOG_DEBUG, ctx, __VA_ARGS__);                            \
    } while (0)

#endif
