/*
 * devkafka — a development Kafka broker: librdkafka's mock cluster hosted
 * in a process until SIGTERM, with the project's topics pre-created.
 *
 * The mock cluster speaks the Kafka protocol on random 127.0.0.1 ports, so
 * other processes use it like a broker (KAFKA.md §2 lists its limits).
 */
#ifndef OMNI_DEVKAFKA_H
#define OMNI_DEVKAFKA_H

#include <stddef.h>

struct devkafka_opts {
    int brokers;                /* mock brokers, >= 1 */
    int partitions;             /* partitions per project topic */
    int replication;            /* replication factor (--create-topics) */
    const char *bootstrap_file; /* where to write the bootstrap string
                                   (may be NULL) */
    const char *bootstrap;      /* real broker (--create-topics mode) */
    int create_topics;          /* 1: create topics on @bootstrap, exit */
    int describe_topics;        /* 1: print topic configs of @bootstrap */
};

/**
 * @brief Parse devkafka's command line into @p o (defaults first).
 * @param errstr receives the reason on error.
 * @returns 0 to run, 1 when --help or --version was printed, -1 on a
 *          usage error.
 */
int devkafka_parse_args(int argc, char **argv, struct devkafka_opts *o,
                        char *errstr, size_t errstr_size);

/**
 * @brief Write @p bootstrap and a newline to @p path atomically (temporary
 *        file then rename), so a reader never sees a partial line.
 * @returns 0 on success, -1 on error (errno set).
 */
int devkafka_write_bootstrap_file(const char *path, const char *bootstrap);

/**
 * @brief Host a mock cluster with the project's topics until SIGINT or
 *        SIGTERM.  Prints "devkafka bootstrap=<servers>" on stdout once the
 *        cluster is up.
 * @returns the process exit status (0 after a clean stop).
 */
int devkafka_serve(const struct devkafka_opts *o);

/**
 * @brief Create the project's topics on the real broker @p o->bootstrap
 *        (topics_create()), or print their configs when
 *        @p o->describe_topics is set.
 * @returns the process exit status: 0 success, 1 failure.
 */
int devkafka_admin(const struct devkafka_opts *o);

#endif
