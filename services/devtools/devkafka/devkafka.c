/*
 * devkafka — mock-cluster host and topic creation for real brokers.
 */
#include "devkafka.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "lib/version.h"
#include "events/topics.h"

static const char devkafka_usage[] =
    "Usage: devkafka [--brokers N] [--partitions N] [--bootstrap-file PATH]\n"
    "       devkafka --create-topics --bootstrap SERVERS [--partitions N]\n"
    "                [--replication N]\n"
    "       devkafka --describe-topics --bootstrap SERVERS\n"
    "\n"
    "Without --create-topics/--describe-topics: host librdkafka's mock\n"
    "cluster on 127.0.0.1 until SIGTERM, with omnisync's topics created,\n"
    "print \"devkafka bootstrap=<servers>\" on stdout and write the servers\n"
    "to --bootstrap-file.  Consumers of the mock cluster should use\n"
    "session.timeout.ms=6000, heartbeat.interval.ms=500, "
    "fetch.wait.max.ms=100.\n"
    "\n"
    "  --brokers N         mock brokers (default 1)\n"
    "  --partitions N      partitions per topic (default 6)\n"
    "  --replication N     replication factor for --create-topics (default 1)\n"
    "  --bootstrap-file P  write the bootstrap servers to P\n"
    "  --create-topics     create the topics on --bootstrap and exit 0/1\n"
    "  --describe-topics   print each topic's cleanup.policy, retention.ms\n"
    "  --bootstrap S       bootstrap servers of a real broker\n"
    "  --version           print the release and git revision\n"
    "  -h, --help          this text\n";

static int parse_count(const char *s, const char *what, int *out, char *errstr,
                       size_t errstr_size)
{
    long long v;

    if (cfg_parse_ll(s, &v) != 0 || v < 1 || v > 10000) {
        snprintf(errstr, errstr_size, "%s: not a count in 1..10000: %s", what,
                 s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int devkafka_parse_args(int argc, char **argv, struct devkafka_opts *o,
                        char *errstr, size_t errstr_size)
{
    enum {
        O_BROKERS = 256,
        O_PARTS,
        O_REPL,
        O_FILE,
        O_CREATE,
        O_DESC,
        O_BS,
        O_VERSION
    };
    static const struct option lo[] = {
        {"brokers", required_argument, NULL, O_BROKERS},
        {"partitions", required_argument, NULL, O_PARTS},
        {"replication", required_argument, NULL, O_REPL},
        {"bootstrap-file", required_argument, NULL, O_FILE},
        {"create-topics", no_argument, NULL, O_CREATE},
        {"describe-topics", no_argument, NULL, O_DESC},
        {"bootstrap", required_argument, NULL, O_BS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->brokers = 1;
    o->partitions = TOPICS_DEFAULT_PARTITIONS;
    o->replication = TOPICS_DEFAULT_REPLICATION;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_BROKERS:
            if (parse_count(optarg, "--brokers", &o->brokers, errstr,
                            errstr_size))
                return -1;
            break;
        case O_PARTS:
            if (parse_count(optarg, "--partitions", &o->partitions, errstr,
                            errstr_size))
                return -1;
            break;
        case O_REPL:
            if (parse_count(optarg, "--replication", &o->replication, errstr,
                            errstr_size))
                return -1;
            break;
        case O_FILE:
            o->bootstrap_file = optarg;
            break;
        case O_CREATE:
            o->create_topics = 1;
            break;
        case O_DESC:
            o->describe_topics = 1;
            break;
        case O_BS:
            o->bootstrap = optarg;
            break;
        case 'h':
            fputs(devkafka_usage, stdout);
            return 1;
        case O_VERSION:
            version_print(stdout, "devkafka");
            return 1;
        default:
            snprintf(errstr, errstr_size, "unknown or incomplete option: %s",
                     argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(errstr, errstr_size, "unexpected argument: %s", argv[optind]);
        return -1;
    }
    if ((o->create_topics || o->describe_topics) && !o->bootstrap) {
        snprintf(errstr, errstr_size,
                 "--create-topics and --describe-topics "
                 "need --bootstrap SERVERS");
        return -1;
    }
    if (o->bootstrap && !o->create_topics && !o->describe_topics) {
        snprintf(errstr, errstr_size,
                 "--bootstrap only goes with --create-topics or "
                 "--describe-topics");
        return -1;
    }
    return 0;
}

int devkafka_write_bootstrap_file(const char *path, const char *bootstrap)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    if (fprintf(f, "%s\n", bootstrap) < 0) {
        int e = errno;
        fclose(f);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int devkafka_serve(const struct devkafka_opts *o)
{
    char e[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    const char *bs;

    /* The hosting handle never connects anywhere; it only owns the mock
     * cluster's threads. */
    if (rd_kafka_conf_set(conf, "log_level", "3", e, sizeof(e)) !=
        RD_KAFKA_CONF_OK) {
        log_error("kafka config: %s", e);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!rk) {
        log_error("kafka handle: %s", e);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, o->brokers);
    if (!mc) {
        log_error("cannot start the mock cluster");
        rd_kafka_destroy(rk);
        return 1;
    }
    if (topics_mock_create(mc, o->partitions) != 0) {
        log_error("cannot create the project's topics on the mock cluster");
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 1;
    }
    bs = rd_kafka_mock_cluster_bootstraps(mc);
    if (o->bootstrap_file &&
        devkafka_write_bootstrap_file(o->bootstrap_file, bs) != 0) {
        log_error("cannot write %s: %s", o->bootstrap_file, strerror(errno));
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("devkafka bootstrap=%s\n", bs);
    fflush(stdout);
    log_info("mock cluster up: brokers=%d partitions=%d bootstrap=%s",
             o->brokers, o->partitions, bs);

    while (!sig_stop_requested())
        sig_sleep_ms(1000 /* ms */);

    log_info("stopping on signal %d", sig_stop_requested());
    if (o->bootstrap_file)
        unlink(o->bootstrap_file);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

int devkafka_admin(const struct devkafka_opts *o)
{
    char err[512];

    if (o->create_topics) {
        if (topics_create(o->bootstrap, o->partitions, o->replication, err,
                          sizeof(err)) != 0) {
            log_error("create topics on %s: %s", o->bootstrap, err);
            return 1;
        }
        printf("devkafka: %zu topics present on %s\n", topics_count(),
               o->bootstrap);
    }
    if (o->describe_topics &&
        topics_describe(o->bootstrap, stdout, err, sizeof(err)) != 0) {
        log_error("describe topics on %s: %s", o->bootstrap, err);
        return 1;
    }
    return 0;
}
