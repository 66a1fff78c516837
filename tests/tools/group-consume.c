/*
 * group-consume — consume exactly --count messages of --topic as consumer
 * group --group, committing each one synchronously, then leave the group
 * (tests of `omnisync lag`).
 *
 *   group-consume --group G --topic T --count K [--hold-ms MS]
 *                 [--timeout-ms MS]
 *
 * --hold-ms: afterwards stay in the group (polling, committing nothing)
 * for MS milliseconds or until SIGTERM, so the group shows a member and
 * its assignment.  Bootstrap servers from OMNISYNC_KAFKA.  Prints
 * "consumed K" on stdout; exits 0 when K messages were consumed and
 * committed within --timeout-ms (default 30000), 1 otherwise, 2 on usage.
 */
#include "lib/cfg.h"
#include "lib/kafka.h"
#include "lib/log.h"
#include "lib/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long gc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int gc_usage(void)
{
    fprintf(stderr, "usage: group-consume --group G --topic T --count K "
                    "[--hold-ms MS] [--timeout-ms MS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *group = NULL, *topic = NULL;
    long long count = -1, hold_ms = 0, timeout_ms = 30000, n = 0, end;
    struct kafka_consumer *kc = NULL;
    char err[512];
    int i, rc = 1;

    log_init("group-consume", "warn");
    for (i = 1; i + 1 < argc; i += 2) {
        long long *v = !strcmp(argv[i], "--count")        ? &count
                       : !strcmp(argv[i], "--hold-ms")    ? &hold_ms
                       : !strcmp(argv[i], "--timeout-ms") ? &timeout_ms
                                                          : NULL;

        if (!strcmp(argv[i], "--group"))
            group = argv[i + 1];
        else if (!strcmp(argv[i], "--topic"))
            topic = argv[i + 1];
        else if (!v || cfg_parse_ll(argv[i + 1], v) < 0 || *v < 0)
            return gc_usage();
    }
    if (i != argc || !group || !topic || count < 0 || !getenv("OMNISYNC_KAFKA"))
        return gc_usage();
    sig_install();
    kc = kafka_consumer_new(getenv("OMNISYNC_KAFKA"), group, NULL, err,
                            sizeof(err));
    if (!kc || kafka_consumer_subscribe(kc, &topic, 1, err, sizeof(err)) < 0) {
        fprintf(stderr, "group-consume: %s\n", err);
        goto out;
    }
    end = gc_now_ms() + timeout_ms;
    while (n < count && gc_now_ms() < end && !sig_stop_requested()) {
        rd_kafka_message_t *m = kafka_consumer_poll(kc, KAFKA_POLL_MS);

        if (!m)
            continue;
        if (kafka_consumer_commit(kc, m, 0, err, sizeof(err)) < 0) {
            fprintf(stderr, "group-consume: commit: %s\n", err);
            rd_kafka_message_destroy(m);
            goto out;
        }
        rd_kafka_message_destroy(m);
        n++;
    }
    printf("consumed %lld\n", n);
    fflush(stdout);
    if (n < count) {
        fprintf(stderr, "group-consume: only %lld of %lld messages\n", n,
                count);
        goto out;
    }
    /* Stay a member without consuming: messages polled now are dropped
     * uncommitted, so the group's committed offsets do not move. */
    end = gc_now_ms() + hold_ms;
    while (gc_now_ms() < end && !sig_stop_requested()) {
        rd_kafka_message_t *m = kafka_consumer_poll(kc, KAFKA_POLL_MS);

        if (m)
            rd_kafka_message_destroy(m);
    }
    rc = 0;
out:
    kafka_consumer_destroy(kc);
    return rc;
}
