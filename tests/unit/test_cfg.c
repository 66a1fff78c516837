#include "lib/cfg.h"
#include "t.h"

#include <stddef.h>
#include <stdlib.h>

struct tcfg {
    char *name;
    long long port;
    int flag;
};

static const struct cfg_opt tbl[] = {
    {"name", "TCFG_NAME", CFG_STR, "dflt", 0, 0, 0, offsetof(struct tcfg, name),
     "a name"},
    {"port", "TCFG_PORT", CFG_INT, "10", 1, 100, 0, offsetof(struct tcfg, port),
     "a port"},
    {"flag", NULL, CFG_BOOL, "off", 0, 0, 0, offsetof(struct tcfg, flag), ""},
    {NULL},
};

int main(void)
{
    long long n;
    struct tcfg tc = {0};
    struct cfg *c;
    char a0[] = "prog", a1[] = "-o", a2[] = "port=42", a3[] = "-o",
         a4[] = "flag=yes";
    char *argv[] = {a0, a1, a2, a3, a4, NULL};
    static const char *const pt[] = {"kafka.", NULL};

    T_ASSERT_EQ(cfg_parse_ll("123", &n), 0);
    T_ASSERT_EQ(n, 123);
    T_ASSERT_EQ(cfg_parse_ll("12x", &n), -1);
    T_ASSERT_EQ(cfg_parse_ll("", &n), -1);
    T_ASSERT_EQ(cfg_parse_ll("99999999999999999999999", &n), -1);
    T_ASSERT_EQ(cfg_parse_bool("On"), 1);
    T_ASSERT_EQ(cfg_parse_bool("no"), 0);
    T_ASSERT_EQ(cfg_parse_bool("maybe"), -1);

    setenv("TCFG_NAME", "fromenv", 1);
    setenv("TCFG_PORT", "7", 1);
    c = cfg_load(tbl, &tc, pt, "prog", "usage", 5, argv);
    T_ASSERT_STR_EQ(tc.name, "fromenv");
    T_ASSERT_EQ(tc.port, 42); /* -o beats env */
    T_ASSERT_EQ(tc.flag, 1);
    cfg_destroy(c);
    T_DONE();
}
