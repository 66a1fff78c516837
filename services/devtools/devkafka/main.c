/*
 * devkafka — development Kafka broker (librdkafka mock cluster) and topic
 * creation for real brokers.  See devkafka.h and docs/harness.md.
 */
#include <stdio.h>

#include "devkafka.h"
#include "lib/log.h"
#include "lib/sig.h"

int main(int argc, char **argv)
{
    struct devkafka_opts o;
    char err[512];
    int rc;

    log_init("devkafka", "info");
    rc = devkafka_parse_args(argc, argv, &o, err, sizeof(err));
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "devkafka: %s (try --help)\n", err);
        return 2;
    }
    if (o.create_topics || o.describe_topics)
        return devkafka_admin(&o);
    sig_install();
    return devkafka_serve(&o);
}
