/*
 * test_ops — the operator surface every service runs (app/ops): the probe
 * URL of a listen address, `--probe` with and without a URL, readiness
 * checks that fail with their name, the latency family.  No server but
 * its own: the checks point at ports nothing listens on.
 */
#include "app/ops.h"
#include "lib/cfg.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "t.h"
#include "t_promtool.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t_cfg {
    char *http_listen;
    long long http_liveness_ms;
    long long http_ready_timeout_ms;
};

static const struct cfg_opt t_opts[] = {
    CFG_ROWS_HTTP(struct t_cfg, "127.0.0.1:9499"),
    {NULL},
};

static void test_probe_url(void)
{
    char url[256], err[256];

    T_ASSERT_EQ(
        ops_probe_url("127.0.0.1:9401", url, sizeof(url), err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(url, "http://127.0.0.1:9401/healthz");
    T_ASSERT_EQ(
        ops_probe_url("0.0.0.0:9402", url, sizeof(url), err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(url, "http://127.0.0.1:9402/healthz");
    T_ASSERT_EQ(ops_probe_url("*:9403", url, sizeof(url), err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(url, "http://127.0.0.1:9403/healthz");
    T_ASSERT_EQ(ops_probe_url(":9404", url, sizeof(url), err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(url, "http://127.0.0.1:9404/healthz");
    T_ASSERT_EQ(ops_probe_url("[::]:9405", url, sizeof(url), err, sizeof(err)),
                0);
    T_ASSERT_STR_EQ(url, "http://[::1]:9405/healthz");
    T_ASSERT_EQ(ops_probe_url("[::1]:9406", url, sizeof(url), err, sizeof(err)),
                0);
    T_ASSERT_STR_EQ(url, "http://[::1]:9406/healthz");
    T_ASSERT_EQ(
        ops_probe_url("ops.local:80", url, sizeof(url), err, sizeof(err)), 0);
    T_ASSERT_STR_EQ(url, "http://ops.local:80/healthz");
    T_ASSERT_EQ(
        ops_probe_url("127.0.0.1:0", url, sizeof(url), err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "port 0");
    T_ASSERT_EQ(ops_probe_url("nocolon", url, sizeof(url), err, sizeof(err)),
                -1);
    T_ASSERT_EQ(ops_probe_url("h:99999", url, sizeof(url), err, sizeof(err)),
                -1);
    T_ASSERT_EQ(ops_probe_url("[::1:80", url, sizeof(url), err, sizeof(err)),
                -1);
}

/* ops_probe_main() with @p url (NULL: none) and the config from the
 * environment. */
static int t_probe(const char *url)
{
    char *argv[4];
    int argc = 0;
    struct t_cfg c = {0};

    argv[argc++] = (char *)(uintptr_t) "test_ops";
    argv[argc++] = (char *)(uintptr_t) "--probe";
    if (url)
        argv[argc++] = (char *)(uintptr_t)url;
    argv[argc] = NULL;
    return ops_probe_main(argc, argv, t_opts, &c, NULL, "test_ops",
                          offsetof(struct t_cfg, http_listen));
}

static void test_server(void)
{
    char err[256], url[128], listen[64];
    struct ops *o = ops_new(&(struct ops_conf){"127.0.0.1:0", 120000, 3000},
                            err, sizeof(err));
    char *argv[] = {(char *)(uintptr_t) "test_ops", NULL};
    char *text;
    int port;

    T_CHECK(o != NULL, "ops_new: %s", err);
    if (!o)
        return;
    port = httpd_port(ops_httpd(o));
    T_ASSERT(port > 0);
    ops_heartbeat(o);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", port);
    T_ASSERT_EQ(httpd_probe(url, 5000, err, sizeof(err)), 0); /* no checks */

    /* A check per dependency; a second of a name is not added. */
    T_ASSERT_EQ(ops_check_postgres(o, "host=127.0.0.1 port=1 user=x"), 0);
    T_ASSERT_EQ(ops_check_postgres(o, "host=127.0.0.1 port=2"), 0);
    T_ASSERT_EQ(ops_check_redis(o, "127.0.0.1:1"), 0);
    T_ASSERT_EQ(ops_check_kafka(o, NULL), -1);
    T_ASSERT_EQ(ops_check_assignment(o, NULL), -1);
    T_ASSERT_EQ(httpd_probe(url, 5000, err, sizeof(err)), -1);
    T_ASSERT_STR_CONTAINS(err, "HTTP 503");

    /* --probe: with a URL, and from the configuration (environment). */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
    T_ASSERT_EQ(t_probe(url), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", port);
    T_ASSERT_EQ(t_probe(url), 1);
    snprintf(listen, sizeof(listen), "0.0.0.0:%d", port);
    setenv("OMNISYNC_HTTP_LISTEN", listen, 1);
    T_ASSERT_EQ(t_probe(NULL), 0);
    setenv("OMNISYNC_HTTP_LISTEN", "127.0.0.1:0", 1);
    T_ASSERT_EQ(t_probe(NULL), 1);
    unsetenv("OMNISYNC_HTTP_LISTEN");
    T_ASSERT_EQ(ops_probe_main(1, argv, t_opts, NULL, NULL, "test_ops", 0), -1);

    /* The latency family, registered once, observing seconds. */
    T_ASSERT(ops_latency_family(o) != NULL);
    T_ASSERT(ops_latency_family(o) == ops_latency_family(o));
    ops_latency_observe(ops_latency_family(o), "s1", "stock",
                        "2020-01-01T00:00:00Z");
    ops_latency_observe(ops_latency_family(o), "s1", "stock", "not a time");
    ops_latency_observe(NULL, "s1", "stock", "2020-01-01T00:00:00Z");
    text = metrics_render(ops_metrics(o), NULL);
    T_ASSERT_STR_CONTAINS(text, "omnisync_ledger_to_store_seconds_count{store="
                                "\"s1\",kind=\"stock\"} 1\n");
    T_ASSERT_STR_CONTAINS(text, "omnisync_ledger_to_store_seconds_bucket{store="
                                "\"s1\",kind=\"stock\",le=\"3600\"} 0\n");
    T_ASSERT_STR_CONTAINS(text, "process_start_time_seconds ");
    T_ASSERT_EQ(t_promtool(text), 0);
    free(text);
    ops_stop(o);
    ops_stop(o);
    ops_destroy(o);
    ops_destroy(NULL);
}

static void test_bad_listen(void)
{
    char err[256];
    struct ops *o =
        ops_new(&(struct ops_conf){"nohost", 0, 0}, err, sizeof(err));

    T_ASSERT(o == NULL);
    T_ASSERT_STR_CONTAINS(err, "http.listen");
}

int main(void)
{
    log_init("test_ops", "error");
    test_probe_url();
    test_server();
    test_bad_listen();
    T_DONE();
}
