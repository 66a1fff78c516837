/*
 * test_budget — the parts of the budget that need no Redis: defaults,
 * class names, address and config validation, and failing closed when
 * nothing listens at the address (no token, counted and bounded waits).
 */
#include "store/budget.h"
#include "t.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_defaults(void)
{
    struct budget_config c;

    budget_config_default(&c);
    T_ASSERT_EQ(c.reserve_pct[BUDGET_ORDERS], 0);
    T_ASSERT_EQ(c.reserve_pct[BUDGET_STOCK], 5);
    T_ASSERT_EQ(c.reserve_pct[BUDGET_CATALOG], 15);
    T_ASSERT_EQ(c.reserve_pct[BUDGET_IMAGES], 30);
    T_ASSERT_EQ(c.backoff_min_ms, 100);
    T_ASSERT_EQ(c.backoff_max_ms, 2000);
    T_ASSERT_STR_EQ(budget_class_name(BUDGET_ORDERS), "orders");
    T_ASSERT_STR_EQ(budget_class_name(BUDGET_IMAGES), "images");
    T_ASSERT_STR_EQ(budget_class_name((enum budget_class)9), "?");
    T_ASSERT_EQ(budget_class_parse("stock"), BUDGET_STOCK);
    T_ASSERT_EQ(budget_class_parse("catalog"), BUDGET_CATALOG);
    T_ASSERT_EQ(budget_class_parse("photos"), -1);
    T_ASSERT_EQ(budget_class_parse(NULL), -1);
}

static void test_new_validation(void)
{
    struct budget_config c;
    char err[256];
    const char *e = err;
    struct budget *b;

    T_ASSERT(budget_new(NULL, NULL, err, sizeof(err)) == NULL);
    T_ASSERT_STR_CONTAINS(e, "OMNISYNC_REDIS");
    T_ASSERT(budget_new("localhost", NULL, err, sizeof(err)) == NULL);
    T_ASSERT_STR_CONTAINS(e, "host:port");
    T_ASSERT(budget_new("localhost:0", NULL, err, sizeof(err)) == NULL);
    T_ASSERT(budget_new("localhost:99999", NULL, err, sizeof(err)) == NULL);
    T_ASSERT(budget_new("localhost:63x", NULL, err, sizeof(err)) == NULL);
    T_ASSERT(budget_new(":6379", NULL, err, sizeof(err)) == NULL);
    budget_config_default(&c);
    c.reserve_pct[BUDGET_IMAGES] = 100;
    T_ASSERT(budget_new("127.0.0.1:6379", &c, err, sizeof(err)) == NULL);
    T_ASSERT_STR_CONTAINS(e, "images");
    budget_config_default(&c);
    c.backoff_max_ms = 10;
    T_ASSERT(budget_new("127.0.0.1:6379", &c, err, sizeof(err)) == NULL);
    /* connecting is lazy: a valid address always gives a budget */
    b = budget_new("[::1]:6379", NULL, err, sizeof(err));
    T_ASSERT(b != NULL);
    budget_destroy(b);
    budget_destroy(NULL);
}

static int closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void test_fail_closed(void)
{
    struct budget_config c;
    struct budget_metrics m;
    struct budget_token tok;
    struct budget *b;
    char addr[64], err[256];
    long w = -1;

    budget_config_default(&c);
    c.backoff_min_ms = 20;
    c.backoff_max_ms = 80;
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", closed_port());
    b = budget_new(addr, &c, err, sizeof(err));
    T_ASSERT(b != NULL);
    if (!b)
        return;
    T_ASSERT_EQ(budget_take(b, "s1", BUDGET_ORDERS, 50, 10, &w, &tok),
                BUDGET_UNAVAILABLE);
    /* acquire never grants without Redis; it gives up at the bound */
    T_ASSERT_EQ(budget_acquire(b, "s1", BUDGET_ORDERS, 50, 10, 300, &w, &tok),
                BUDGET_UNAVAILABLE);
    T_ASSERT_EQ(budget_feedback(b, "s1", &tok, 10, 50), -1);
    T_ASSERT_EQ(budget_pause(b, "s1", 5, 429), -1);
    budget_note_status(b, 429);
    budget_note_status(b, 503);
    budget_note_status(b, 500);
    budget_metrics_get(b, &m);
    T_ASSERT_EQ(m.taken[BUDGET_ORDERS], 0);
    T_ASSERT_EQ(m.outages, 1); /* one outage, however many calls */
    T_ASSERT(m.redis_errors >= 3);
    T_ASSERT_EQ(m.waits[BUDGET_ORDERS], 1);
    T_ASSERT_EQ(m.seen_429, 1);
    T_ASSERT_EQ(m.seen_503, 1);
    T_ASSERT_EQ(m.pauses, 0);
    budget_destroy(b);
}

int main(void)
{
    test_defaults();
    test_new_validation();
    test_fail_closed();
    T_DONE();
}
