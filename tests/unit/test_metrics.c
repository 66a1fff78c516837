#include "lib/log.h"
#include "lib/metrics.h"
#include "t.h"
#include "t_promtool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T_THREADS 4
#define T_INCS 20000

static struct metrics *t_registry(size_t max_series)
{
    char err[256];
    struct metrics *m = metrics_new(max_series, err, sizeof(err));

    if (!m)
        fprintf(stderr, "metrics_new: %s\n", err);
    return m;
}

/* The rendered text of @p m minus the built-in refusal family's header. */
static char *t_render(struct metrics *m)
{
    static const char hdr[] =
        "# HELP omnisync_metrics_series_refused_total Updates dropped because "
        "their family already held its maximum number of label sets.\n"
        "# TYPE omnisync_metrics_series_refused_total counter\n";
    char *s = metrics_render(m, NULL);

    if (s && strncmp(s, hdr, sizeof(hdr) - 1) == 0)
        memmove(s, s + sizeof(hdr) - 1, strlen(s) - (sizeof(hdr) - 1) + 1);
    return s;
}

static void test_names(void)
{
    struct metrics *m = t_registry(0);
    const double b[] = {1, 2};
    const double bad[] = {2, 1};

    /* Invalid registrations are refused (and logged). */
    T_ASSERT(metrics_counter_new(m, "omnisync_x", "h", NULL) == NULL);
    T_ASSERT(metrics_counter_new(m, "1x_total", "h", NULL) == NULL);
    T_ASSERT(metrics_counter_new(m, "x-y_total", "h", NULL) == NULL);
    T_ASSERT(metrics_gauge_new(m, "omnisync_g", "", NULL) == NULL);
    T_ASSERT(metrics_gauge_new(m, "omnisync_g", "h",
                               (const char *const[]){"__x", NULL}) == NULL);
    T_ASSERT(metrics_gauge_new(m, "omnisync_g", "h",
                               (const char *const[]){"a:b", NULL}) == NULL);
    T_ASSERT(metrics_gauge_new(m, "omnisync_g", "h",
                               (const char *const[]){"a", "a", NULL}) == NULL);
    T_ASSERT(metrics_histogram_new(m, "omnisync_h_seconds", "h",
                                   (const char *const[]){"le", NULL}, b,
                                   2) == NULL);
    T_ASSERT(metrics_histogram_new(m, "omnisync_h_seconds", "h", NULL, bad,
                                   2) == NULL);
    T_ASSERT(metrics_histogram_new(m, "omnisync_h_seconds", "h", NULL, b, 0) ==
             NULL);
    T_ASSERT(metrics_callback_new(m, "omnisync_cb", "h", METRICS_GAUGE, NULL,
                                  NULL, NULL) == NULL);
    /* Valid ones, then duplicates and histogram sample-name clashes. */
    T_ASSERT(metrics_gauge_new(m, "omnisync_g", "h", NULL) != NULL);
    T_ASSERT(metrics_gauge_new(m, "omnisync_g", "h", NULL) == NULL);
    T_ASSERT(metrics_counter_new(m, "omnisync_g", "h", NULL) == NULL);
    T_ASSERT(metrics_histogram_new(m, "omnisync_h_seconds", "h", NULL, b, 2) !=
             NULL);
    T_ASSERT(metrics_gauge_new(m, "omnisync_h_seconds_count", "h", NULL) ==
             NULL);
    T_ASSERT(metrics_gauge_new(m, "omnisync_k_bucket", "h", NULL) != NULL);
    T_ASSERT(metrics_histogram_new(m, "omnisync_k", "h", NULL, b, 2) == NULL);
    /* Every update is NULL-safe. */
    metrics_inc(NULL, NULL);
    metrics_set(NULL, NULL, 1);
    metrics_observe(NULL, NULL, 1);
    metrics_series_add(NULL, 1);
    T_ASSERT(metrics_series_value(NULL) == 0);
    metrics_destroy(m);
    metrics_destroy(NULL);
}

static void test_render(void)
{
    struct metrics *m = t_registry(0);
    struct metrics_family *c, *g;
    char *s;

    c = metrics_counter_new(m, "omnisync_messages_consumed_total",
                            "Messages consumed.\nBy \\topic\\.",
                            (const char *const[]){"topic", NULL});
    g = metrics_gauge_new(m, "omnisync_budget_left", "Tokens left.", NULL);
    T_ASSERT(c && g);
    metrics_inc(c, (const char *const[]){"omnisync.stock.v1"});
    metrics_add(c, (const char *const[]){"omnisync.stock.v1"}, 2);
    metrics_add(c, (const char *const[]){"omnisync.stock.v1"}, -5); /* no */
    metrics_inc(c, (const char *const[]){"a\"b\\c\nd"});
    metrics_set(g, NULL, 0.25);
    metrics_add(g, NULL, -1.5);
    s = t_render(m);
    T_ASSERT_STR_EQ(
        s, "# HELP omnisync_messages_consumed_total Messages consumed.\\nBy "
           "\\\\topic\\\\.\n"
           "# TYPE omnisync_messages_consumed_total counter\n"
           "omnisync_messages_consumed_total{topic=\"omnisync.stock.v1\"} 3\n"
           "omnisync_messages_consumed_total{topic=\"a\\\"b\\\\c\\nd\"} 1\n"
           "# HELP omnisync_budget_left Tokens left.\n"
           "# TYPE omnisync_budget_left gauge\n"
           "omnisync_budget_left -1.25\n");
    T_ASSERT_EQ(t_promtool(s), 0);
    free(s);
    T_ASSERT(metrics_series_value(metrics_series_get(
                 c, (const char *const[]){"omnisync.stock.v1"})) == 3);
    metrics_destroy(m);
}

static void test_histogram(void)
{
    struct metrics *m = t_registry(0);
    struct metrics_family *h;
    struct metrics_series *s;
    char *txt;

    h = metrics_histogram_new(m, "omnisync_token_wait_seconds", "Token waits.",
                              (const char *const[]){"store", "class", NULL},
                              (const double[]){0.005, 0.1, 1}, 3);
    s = metrics_series_get(h, (const char *const[]){"s1", "stock"});
    T_ASSERT(s != NULL);
    metrics_series_observe(s, 0.005); /* le is inclusive */
    metrics_series_observe(s, 0.05);
    metrics_series_observe(s, 0.1);
    metrics_series_observe(s, 7);
    metrics_series_observe(s, 0.0 / 0.0); /* NaN: ignored */
    txt = t_render(m);
    T_ASSERT_STR_EQ(
        txt,
        "# HELP omnisync_token_wait_seconds Token waits.\n"
        "# TYPE omnisync_token_wait_seconds histogram\n"
        "omnisync_token_wait_seconds_bucket{store=\"s1\",class=\"stock\","
        "le=\"0.005\"} 1\n"
        "omnisync_token_wait_seconds_bucket{store=\"s1\",class=\"stock\","
        "le=\"0.1\"} 3\n"
        "omnisync_token_wait_seconds_bucket{store=\"s1\",class=\"stock\","
        "le=\"1\"} 3\n"
        "omnisync_token_wait_seconds_bucket{store=\"s1\",class=\"stock\","
        "le=\"+Inf\"} 4\n"
        "omnisync_token_wait_seconds_sum{store=\"s1\",class=\"stock\"} "
        "7.155\n"
        "omnisync_token_wait_seconds_count{store=\"s1\",class=\"stock\"} 4\n");
    T_ASSERT_EQ(t_promtool(txt), 0);
    T_ASSERT(metrics_series_value(s) == 4);
    free(txt);
    metrics_destroy(m);
}

static void test_cap(void)
{
    struct metrics *m = t_registry(3);
    struct metrics_family *c;
    char name[16], *s;
    int i;

    c = metrics_counter_new(m, "omnisync_calls_total", "Calls.",
                            (const char *const[]){"store", NULL});
    for (i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        T_ASSERT(metrics_series_get(c, (const char *const[]){name}) != NULL);
    }
    /* A fourth label set is refused, each time; known ones still work. */
    T_ASSERT(metrics_series_get(c, (const char *const[]){"s3"}) == NULL);
    metrics_inc(c, (const char *const[]){"s4"});
    metrics_inc(c, (const char *const[]){"s0"});
    s = metrics_render(m, NULL);
    T_ASSERT_STR_CONTAINS(s, "omnisync_metrics_series_refused_total{family="
                             "\"omnisync_calls_total\"} 2\n");
    T_ASSERT_STR_CONTAINS(s, "omnisync_calls_total{store=\"s0\"} 1\n");
    T_CHECK(!strstr(s, "s3") && !strstr(s, "s4"), "%s", s);
    T_ASSERT_EQ(t_promtool(s), 0);
    free(s);
    metrics_destroy(m);
}

struct t_lag {
    int calls;
};

static void t_lag_collect(struct metrics_emit *e, void *opaque)
{
    struct t_lag *l = opaque;
    char part[16];

    l->calls++;
    for (int p = 0; p < 5; p++) {
        snprintf(part, sizeof(part), "%d", p);
        metrics_emit_value(e, (const char *const[]){"omnisync.orders.v1", part},
                           p * 10 + l->calls);
    }
}

static void test_callback(void)
{
    struct metrics *m = t_registry(4);
    struct t_lag lag = {0};
    char *s;

    T_ASSERT(
        metrics_callback_new(m, "omnisync_consumer_lag_messages",
                             "Consumer lag.", METRICS_GAUGE,
                             (const char *const[]){"topic", "partition", NULL},
                             t_lag_collect, &lag) != NULL);
    /* A callback family has no stored series. */
    T_ASSERT(metrics_series_get(metrics_callback_new(m, "omnisync_q", "Q.",
                                                     METRICS_GAUGE, NULL,
                                                     t_lag_collect, &lag),
                                NULL) == NULL);
    s = t_render(m);
    T_ASSERT_EQ(lag.calls, 2); /* both families called it */
    T_ASSERT_STR_CONTAINS(s, "omnisync_consumer_lag_messages{topic=\"omnisync."
                             "orders.v1\",partition=\"3\"} 31\n");
    /* The cap (4) applies to emitted series too. */
    T_CHECK(!strstr(s, "partition=\"4\""), "%s", s);
    free(s);
    s = metrics_render(m, NULL);
    T_ASSERT_STR_CONTAINS(s, "partition=\"0\"} 3\n");
    T_ASSERT_STR_CONTAINS(s, "{family=\"omnisync_consumer_lag_messages\"} 1\n");
    free(s);
    metrics_destroy(m);
}

struct t_worker {
    struct metrics_family *c, *h;
    int id;
};

static void *t_worker_main(void *arg)
{
    struct t_worker *w = arg;
    char own[16];

    snprintf(own, sizeof(own), "w%d", w->id);
    for (int i = 0; i < T_INCS; i++) {
        metrics_inc(w->c, (const char *const[]){"shared"});
        metrics_inc(w->c, (const char *const[]){own});
        metrics_observe(w->h, NULL, 0.5);
    }
    return NULL;
}

static void *t_render_main(void *arg)
{
    for (int i = 0; i < 50; i++)
        free(metrics_render(arg, NULL));
    return NULL;
}

static void test_threads(void)
{
    struct metrics *m = t_registry(0);
    struct t_worker w[T_THREADS];
    pthread_t th[T_THREADS + 1];
    char want[64], *s;
    int i;

    w[0].c = metrics_counter_new(m, "omnisync_n_total", "N.",
                                 (const char *const[]){"who", NULL});
    w[0].h = metrics_histogram_new(m, "omnisync_w_seconds", "W.", NULL,
                                   (const double[]){1}, 1);
    for (i = 0; i < T_THREADS; i++) {
        w[i] = w[0];
        w[i].id = i;
        pthread_create(&th[i], NULL, t_worker_main, &w[i]);
    }
    pthread_create(&th[T_THREADS], NULL, t_render_main, m);
    for (i = 0; i <= T_THREADS; i++)
        pthread_join(th[i], NULL);
    s = t_render(m);
    snprintf(want, sizeof(want), "omnisync_n_total{who=\"shared\"} %d\n",
             T_THREADS * T_INCS);
    T_ASSERT_STR_CONTAINS(s, want);
    snprintf(want, sizeof(want), "omnisync_n_total{who=\"w3\"} %d\n", T_INCS);
    T_ASSERT_STR_CONTAINS(s, want);
    snprintf(want, sizeof(want), "omnisync_w_seconds_count %d\n",
             T_THREADS * T_INCS);
    T_ASSERT_STR_CONTAINS(s, want);
    free(s);
    metrics_destroy(m);
}

/* The value of the unlabelled sample @p name in @p text, or -1. */
static double t_sample(const char *text, const char *name)
{
    char key[128];
    const char *p;

    snprintf(key, sizeof(key), "\n%s ", name);
    p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static void test_process(void)
{
    struct metrics *m = t_registry(0);
    volatile double x = 0;
    double start;
    char *s;

    T_ASSERT_EQ(metrics_process_register(m), 0);
    /* Registering twice clashes on every name. */
    T_ASSERT_EQ(metrics_process_register(m), -1);
    for (long i = 0; i < 20000000; i++) /* some CPU time */
        x += (double)i;
    s = metrics_render(m, NULL);
    T_ASSERT(s != NULL);
    if (!s)
        return;
    T_ASSERT(t_sample(s, "process_resident_memory_bytes") > 1 << 20);
    T_ASSERT(t_sample(s, "process_virtual_memory_bytes") >=
             t_sample(s, "process_resident_memory_bytes"));
    T_ASSERT(t_sample(s, "process_cpu_seconds_total") > 0);
    T_ASSERT(t_sample(s, "process_open_fds") >= 3);
    T_ASSERT(t_sample(s, "process_max_fds") >= t_sample(s, "process_open_fds"));
    start = t_sample(s, "process_start_time_seconds");
    T_CHECK(start > (double)time(NULL) - 600 && start <= (double)time(NULL) + 1,
            "start %f now %ld", start, (long)time(NULL));
    T_ASSERT_STR_CONTAINS(s, "# TYPE process_cpu_seconds_total counter\n");
    T_ASSERT_EQ(t_promtool(s), 0);
    free(s);
    metrics_destroy(m);
}

static void test_promtool_rejects(void)
{
    /* The promtool check can fail: no HELP, and a non-base unit. */
    T_ASSERT(t_promtool("# TYPE x_milliseconds gauge\nx_milliseconds 1\n") !=
             0);
}

int main(void)
{
    log_init("test_metrics", "error");
    log_level = -1; /* the refused registrations log errors on purpose */
    test_names();
    test_render();
    test_histogram();
    test_cap();
    test_callback();
    test_threads();
    test_process();
    test_promtool_rejects();
    T_DONE();
}
