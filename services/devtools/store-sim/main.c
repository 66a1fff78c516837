/*
 * store-sim — a local emulator of the inSales admin API (see
 * docs/store-sim.md).  main() is a short script: flags, init, wait for a
 * signal, tear down.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/sig.h"
#include "lib/version.h"
#include "sim_db.h"
#include "sim_http.h"
#include "sim_limit.h"
#include "sim_persist.h"
#include "sim_webhook.h"

static const char sim_usage[] =
    "usage: store-sim --login L --password PW [options]\n"
    "\n"
    "A local emulator of the inSales admin API on 127.0.0.1 (--bind).\n"
    "\n"
    "  --port P                  TCP port (default 8765; 0 = pick a free "
    "one)\n"
    "  --data-dir DIR            keep the shop in DIR/shop.json (made when "
    "missing)\n"
    "                            across restarts (default: in memory "
    "only)\n"
    "  --bind ADDR               IPv4 address to listen on (default "
    "127.0.0.1;\n"
    "                            0.0.0.0 in a container of the demo "
    "profile)\n"
    "  --allow-host H[,H...]     also deliver webhooks to (and fetch images "
    "from)\n"
    "                            these hosts, not only loopback (a "
    "container\n"
    "                            network's service names)\n"
    "  --login L                 HTTP Basic login (required)\n"
    "  --password PW             HTTP Basic password (required)\n"
    "  --limit N                 API requests per window (default 500; 0 = "
    "off)\n"
    "  --window S                window length in seconds (default 300)\n"
    "  --limit-status 429|503    status when over the limit (default 429)\n"
    "  --group-update queued|sync  variants_group_update mode (default "
    "queued)\n"
    "  --group-update-delay-ms N queued mode: delay before applying "
    "(default 2000)\n"
    "  --max-image-bytes N       image size limit (default 10485760)\n"
    "  --image-processing-ms N   image_processing:true for this long "
    "(default 1000)\n"
    "  --webhook-timeout-ms N    webhook POST timeout (default 5000)\n"
    "  --per-page-default N      page size without per_page (default 25)\n"
    "  --log-level L             error|warn|info|debug (default info)\n"
    "  --version                 print the release and git revision\n"
    "  -h, --help                this text\n"
    "\n"
    "Prints \"store-sim listening on 127.0.0.1:PORT\" to stderr when ready.\n";

struct sim_args {
    long port, limit, window, limit_status, group_delay, max_image, image_ms,
        hook_timeout, per_page;
    int group_sync;
    const char *login, *level, *data_dir, *bind;
    char *password; /* a copy: the argument itself is blanked */
};

static void sim_die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void sim_die_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "store-sim: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'store-sim --help'.\n");
    exit(2);
}

static long sim_num(const char *name, const char *v, long lo, long hi)
{
    long long x;

    if (cfg_parse_ll(v, &x) != 0 || x < lo || x > hi)
        sim_die_usage("--%s: invalid value '%s'", name, v);
    return (long)x;
}

/* --limit-status: 429 or 503. */
static long sim_limit_status(const char *v)
{
    long st = sim_num("limit-status", v, 429, 503);

    if (st != 429 && st != 503)
        sim_die_usage("--limit-status: must be 429 or 503, not '%s'", v);
    return st;
}

/* --group-update: 1 for sync, 0 for queued. */
static int sim_group_update(const char *v)
{
    if (strcmp(v, "sync") != 0 && strcmp(v, "queued") != 0)
        sim_die_usage("--group-update: must be queued or sync, not '%s'", v);
    return strcmp(v, "sync") == 0;
}

/* Option @p ch of the command line (its argument in optarg; @p arg the
 * word as given, for the message about an unknown option). */
static void sim_parse_opt(int ch, const char *arg, struct sim_args *a)
{
    switch (ch) {
    case 'p':
        a->port = sim_num("port", optarg, 0, 65535);
        break;
    case 'l':
        a->login = optarg;
        break;
    case 'b':
        a->bind = optarg;
        break;
    case 'A':
        if (sim_url_allow_hosts(optarg) < 0)
            sim_die_usage("--allow-host: at most 8 names, 500 characters");
        break;
    case 'D':
        if (!*optarg)
            sim_die_usage("--data-dir: empty");
        a->data_dir = optarg;
        break;
    case 'w':
        /* A copy, then the argument blanked: `ps` shows no password. */
        a->password = strdup(optarg);
        if (!a->password)
            sim_die_usage("out of memory");
        memset(optarg, 'x', strlen(optarg));
        break;
    case 'L':
        a->limit = sim_num("limit", optarg, 0, 100000000);
        break;
    case 'W':
        a->window = sim_num("window", optarg, 1, 86400);
        break;
    case 'S':
        a->limit_status = sim_limit_status(optarg);
        break;
    case 'g':
        a->group_sync = sim_group_update(optarg);
        break;
    case 'G':
        a->group_delay = sim_num("group-update-delay-ms", optarg, 0, 3600000);
        break;
    case 'm':
        a->max_image = sim_num("max-image-bytes", optarg, 1, SIM_BODY_CAP);
        break;
    case 'i':
        a->image_ms = sim_num("image-processing-ms", optarg, 0, 3600000);
        break;
    case 't':
        a->hook_timeout = sim_num("webhook-timeout-ms", optarg, 1, 600000);
        break;
    case 'P':
        a->per_page = sim_num("per-page-default", optarg, 10, 250);
        break;
    case 'v':
        if (log_level_parse(optarg) < 0)
            sim_die_usage("--log-level: unknown level '%s'", optarg);
        a->level = optarg;
        break;
    case 'h':
        fputs(sim_usage, stdout);
        exit(0);
    case 'V':
        version_print(stdout, "store-sim");
        exit(0);
    default:
        sim_die_usage("unknown or incomplete option '%s'", arg);
    }
}

static void sim_parse(int argc, char **argv, struct sim_args *a)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"data-dir", required_argument, NULL, 'D'},
        {"bind", required_argument, NULL, 'b'},
        {"allow-host", required_argument, NULL, 'A'},
        {"login", required_argument, NULL, 'l'},
        {"password", required_argument, NULL, 'w'},
        {"limit", required_argument, NULL, 'L'},
        {"window", required_argument, NULL, 'W'},
        {"limit-status", required_argument, NULL, 'S'},
        {"group-update", required_argument, NULL, 'g'},
        {"group-update-delay-ms", required_argument, NULL, 'G'},
        {"max-image-bytes", required_argument, NULL, 'm'},
        {"image-processing-ms", required_argument, NULL, 'i'},
        {"webhook-timeout-ms", required_argument, NULL, 't'},
        {"per-page-default", required_argument, NULL, 'P'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int ch;

    memset(a, 0, sizeof(*a));
    a->port = 8765;
    a->limit = 500;
    a->window = 300;
    a->limit_status = 429;
    a->group_delay = 2000;
    a->max_image = 10L * 1024 * 1024;
    a->image_ms = 1000;
    a->hook_timeout = 5000;
    a->per_page = 25;
    a->level = "info";
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        sim_parse_opt(ch, argv[optind - 1], a);
    if (optind < argc)
        sim_die_usage("unexpected argument '%s'", argv[optind]);
    if (!a->login || !*a->login)
        sim_die_usage("--login is required");
    if (!a->password || !*a->password)
        sim_die_usage("--password is required");
}

/* --data-dir: lock DIR, load its shop into @p db or write the empty one.
 * @returns 0, or the exit status (2: the shop file cannot be used). */
static int sim_open_shop(const char *dir, struct sim_db *db,
                         struct sim_persist **out)
{
    struct sim_persist *p;
    char errstr[1024];
    char *text;
    int loaded;

    p = sim_persist_new(dir, errstr, sizeof(errstr));
    if (!p) {
        log_error("--data-dir: %s", errstr);
        return 2;
    }
    loaded = sim_persist_load(p, db, errstr, sizeof(errstr));
    if (loaded < 0) {
        log_error("cannot load the shop: %s (move the file away to start "
                  "with an empty shop)",
                  errstr);
        sim_persist_destroy(p);
        return 2;
    }
    if (loaded)
        log_info("shop loaded from %s: %zu products, %zu variants, %zu "
                 "orders, %zu webhooks",
                 sim_persist_path(p), db->products.live, db->variants.live,
                 db->orders.live, db->webhooks.live);
    else
        log_info("no shop in %s yet: starting empty", dir);
    text = sim_persist_dump(db);
    if (!text || sim_persist_write(p, text, 0, errstr, sizeof(errstr)) != 0) {
        log_error("--data-dir: cannot save the shop: %s",
                  text ? errstr : "out of memory");
        free(text);
        sim_persist_destroy(p);
        return 1;
    }
    free(text);
    *out = p;
    return 0;
}

int main(int argc, char **argv)
{
    struct sim_args a;
    struct sim_opts o;
    struct sim_http_opts ho;
    struct sim_hooks *hooks = NULL;
    struct sim_limiter *lim = NULL;
    struct sim_db *db = NULL;
    struct sim_http *http = NULL;
    struct sim_persist *persist = NULL;
    char errstr[256];
    int rc = 1;

    sim_parse(argc, argv, &a);
    log_init("store-sim", a.level);
    if (sodium_init() < 0) {
        log_error("init: libsodium");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sig_install();

    memset(&o, 0, sizeof(o));
    o.port = (int)a.port;
    o.group_sync = a.group_sync;
    o.group_delay_ms = a.group_delay;
    o.max_image_bytes = a.max_image;
    o.image_processing_ms = a.image_ms;
    o.per_page_default = a.per_page;
    hooks = sim_hooks_new(a.hook_timeout, errstr, sizeof(errstr));
    if (!hooks) {
        log_error("init: %s", errstr);
        goto out;
    }
    lim = sim_limiter_new(a.limit, (int64_t)a.window * 1000);
    db = sim_db_new(&o, hooks);
    if (!lim || !db) {
        log_error("init: out of memory");
        goto out;
    }
    if (a.data_dir) {
        rc = sim_open_shop(a.data_dir, db, &persist);
        if (rc != 0)
            goto out;
        rc = 1;
    }
    memset(&ho, 0, sizeof(ho));
    ho.persist = persist;
    ho.port = (int)a.port;
    ho.bind = a.bind;
    ho.login = a.login;
    ho.password = a.password;
    ho.limit_status = (int)a.limit_status;
    http = sim_http_new(&ho, db, lim, errstr, sizeof(errstr));
    if (!http) {
        log_error("init: %s", errstr);
        goto out;
    }
    fprintf(stderr, "store-sim listening on %s:%d\n",
            a.bind ? a.bind : "127.0.0.1", sim_http_port(http));
    log_info("limit %ld per %ld s (%ld), group update %s (%ld ms)", a.limit,
             a.window, a.limit_status, a.group_sync ? "sync" : "queued",
             a.group_delay);
    while (!sig_stop_requested())
        sig_sleep_ms(100);
    log_info("signal %d: shutting down", sig_stop_requested());
    rc = 0;
out:
    /* Reverse creation order: no request can reach db after this. */
    sim_http_destroy(http);
    sim_hooks_destroy(hooks);
    sim_db_destroy(db);
    sim_persist_destroy(persist);
    sim_limiter_destroy(lim);
    curl_global_cleanup();
    free(a.password);
    return rc;
}
