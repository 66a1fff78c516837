/*
 * cfgdoc — print docs/config.md from the config tables of every binary:
 * one markdown table of every key with its environment variable, type,
 * default, range, whether it is secret, the binaries that have it and
 * its description.
 *
 *   cfgdoc >docs/config.md          (make config-doc)
 *
 * `make config-doc-check` (part of `make check`) compares its output with
 * docs/config.md.  It also holds the tables to one name per concept: a
 * key must mean the same in every binary (type, range, secrecy and
 * description; only the default and whether it is required may differ),
 * no table may list a key twice, and two keys may not share an
 * environment variable.  Exit 0, or 1 with the reason on stderr.
 */
#include "catalog-publisher/catpub.h"
#include "image-uploader/imgup.h"
#include "ledger-api/apicfg.h"
#include "lib/cfg.h"
#include "omnisync/cli.h"
#include "order-ingestor/oicfg.h"
#include "outbox-relay/relay.h"
#include "stock-publisher/stockpub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFGDOC_MAX_KEYS 256

/* One binary: its name, its table, the key prefixes it passes through. */
struct cfgdoc_bin {
    const char *name;
    const struct cfg_opt *(*table)(void);
    const char *const *passthru;
};

static const struct cfgdoc_bin cfgdoc_bins[] = {
    {"omnisync", cli_cfg_table, NULL},
    {"outbox-relay", relay_cfg_table, cfg_passthru_kafka},
    {"catalog-publisher", catpub_cfg_table, cfg_passthru_kafka},
    {"stock-publisher", stockpub_cfg_table, cfg_passthru_kafka},
    {"image-uploader", imgup_cfg_table, cfg_passthru_kafka},
    {"order-ingestor", oi_cfg_table, cfg_passthru_kafka},
    {"ledger-api", api_cfg_table, cfg_passthru_kafka},
};
#define CFGDOC_NBINS (sizeof(cfgdoc_bins) / sizeof(cfgdoc_bins[0]))

/* One key: its row in each binary (NULL where the binary lacks it). */
struct cfgdoc_key {
    const char *key;
    const struct cfg_opt *row[CFGDOC_NBINS];
};

static int cfgdoc_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int cfgdoc_fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "cfgdoc: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static int cfgdoc_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The first row of @p k (every key has one). */
static const struct cfg_opt *cfgdoc_first(const struct cfgdoc_key *k)
{
    size_t b;

    for (b = 0; b < CFGDOC_NBINS; b++)
        if (k->row[b])
            return k->row[b];
    return NULL;
}

/* Whether @p a and @p b describe the same setting. */
static int cfgdoc_same_concept(const struct cfg_opt *a, const struct cfg_opt *b)
{
    return a->type == b->type && a->min == b->min && a->max == b->max &&
           (a->flags & CFG_SECRET) == (b->flags & CFG_SECRET) &&
           cfgdoc_str_eq(a->help, b->help);
}

/* Add binary @p b's row @p o to the key list, checking it. */
static int cfgdoc_add(struct cfgdoc_key *keys, size_t *n, size_t b,
                      const struct cfg_opt *o)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (!strcmp(keys[i].key, o->key))
            break;
    if (i == *n) {
        if (*n == CFGDOC_MAX_KEYS)
            return cfgdoc_fail("more than %d keys", CFGDOC_MAX_KEYS);
        keys[i].key = o->key;
        (*n)++;
    } else if (keys[i].row[b]) {
        return cfgdoc_fail("%s lists %s twice", cfgdoc_bins[b].name, o->key);
    } else if (!cfgdoc_same_concept(cfgdoc_first(&keys[i]), o)) {
        return cfgdoc_fail("%s: %s disagrees with another binary about its "
                           "type, range, secrecy or description",
                           o->key, cfgdoc_bins[b].name);
    }
    keys[i].row[b] = o;
    return 0;
}

static int cfgdoc_key_cmp(const void *a, const void *b)
{
    const struct cfgdoc_key *ka = a, *kb = b;

    return strcmp(ka->key, kb->key);
}

/* Every key of every binary, sorted; two keys never share a variable. */
static int cfgdoc_collect(struct cfgdoc_key *keys, size_t *n)
{
    char ea[CFG_ENV_MAX], eb[CFG_ENV_MAX];
    const struct cfg_opt *t;
    size_t b, i, j;

    *n = 0;
    for (b = 0; b < CFGDOC_NBINS; b++)
        for (t = cfgdoc_bins[b].table(); t->key; t++)
            if (cfgdoc_add(keys, n, b, t) < 0)
                return -1;
    qsort(keys, *n, sizeof(*keys), cfgdoc_key_cmp);
    for (i = 0; i < *n; i++) {
        if (cfg_env_name(keys[i].key, ea, sizeof(ea)) < 0)
            return cfgdoc_fail("%s: key too long", keys[i].key);
        for (j = 0; j < i; j++) {
            cfg_env_name(keys[j].key, eb, sizeof(eb));
            if (!strcmp(ea, eb))
                return cfgdoc_fail("%s and %s share an environment variable",
                                   keys[j].key, keys[i].key);
        }
    }
    return 0;
}

/* @p s for a table cell: '|' escaped, '<' as an entity (not a tag). */
static void cfgdoc_cell(const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<') {
            fputs("&lt;", stdout);
            continue;
        }
        if (*s == '|')
            fputc('\\', stdout);
        fputc(*s, stdout);
    }
}

/* What a row says about the default: "`v`", "required", "empty" or
 * "none". */
static void cfgdoc_default_text(const struct cfg_opt *o, char *buf, size_t size)
{
    if (o->flags & CFG_REQUIRED)
        snprintf(buf, size, "required");
    else if (!o->def)
        snprintf(buf, size, "none");
    else if (!*o->def)
        snprintf(buf, size, "empty");
    else
        snprintf(buf, size, "`%s`", o->def);
}

/* The default column: the one default, or each with its binaries. */
static void cfgdoc_defaults(const struct cfgdoc_key *k)
{
    char text[CFGDOC_NBINS][256];
    int done[CFGDOC_NBINS] = {0}, all_same = 1, first = 1;
    const char *one = NULL;
    size_t b, c;

    for (b = 0; b < CFGDOC_NBINS; b++) {
        if (!k->row[b])
            continue;
        cfgdoc_default_text(k->row[b], text[b], sizeof(text[b]));
        if (!one)
            one = text[b];
        else if (strcmp(one, text[b]) != 0)
            all_same = 0;
    }
    if (all_same) {
        cfgdoc_cell(one);
        return;
    }
    for (b = 0; b < CFGDOC_NBINS; b++) {
        if (!k->row[b] || done[b])
            continue;
        printf("%s", first ? "" : "; ");
        first = 0;
        cfgdoc_cell(text[b]);
        printf(" (");
        for (c = b; c < CFGDOC_NBINS; c++) {
            if (!k->row[c] || strcmp(text[b], text[c]) != 0)
                continue;
            printf("%s%s", c == b ? "" : ", ", cfgdoc_bins[c].name);
            done[c] = 1;
        }
        printf(")");
    }
}

static void cfgdoc_row(const struct cfgdoc_key *k)
{
    static const char *const types[] = {"string", "integer", "boolean"};
    const struct cfg_opt *o = cfgdoc_first(k);
    char env[CFG_ENV_MAX];
    size_t b;
    int first = 1;

    cfg_env_name(k->key, env, sizeof(env));
    printf("| `%s` | `%s` | %s | ", k->key, env, types[o->type]);
    cfgdoc_defaults(k);
    if (o->type == CFG_INT)
        printf(" | %lld … %lld", o->min, o->max);
    else
        printf(" | ");
    printf(" | %s | ", (o->flags & CFG_SECRET) ? "yes" : "");
    for (b = 0; b < CFGDOC_NBINS; b++) {
        if (!k->row[b])
            continue;
        printf("%s%s", first ? "" : ", ", cfgdoc_bins[b].name);
        first = 0;
    }
    printf(" | ");
    cfgdoc_cell(o->help);
    printf(" |\n");
}

static void cfgdoc_print(const struct cfgdoc_key *keys, size_t n)
{
    size_t i, b;
    int first = 1;

    printf(
        "# Configuration\n\n"
        "<!-- Generated by `make config-doc` (tests/tools/cfgdoc.c) from the "
        "config tables;\n     do not edit: `make check` fails when this file "
        "is stale. -->\n\n"
        "Every binary reads its keys from, in rising precedence: the "
        "default, `-c FILE`\n(`key = value` lines), the environment, "
        "`-o key=value`.  An empty environment\nvariable counts as unset.  "
        "`--help` lists a binary's keys, `--dump-config`\nprints the "
        "effective values (secrets masked) with where each came from, and a\n"
        "bad value exits 2 naming the key.  The services take the options "
        "alone; the CLI\ntakes them before the command (`omnisync -o "
        "sql.dir=DIR db migrate`).\n\n"
        "Library properties are passed through as `kafka.<property>` "
        "(librdkafka's\nnames).  `--dump-config` prints one in clear only "
        "when its name is on an\nallow-list (unit-suffixed tuning knobs such "
        "as `*.ms` and `*.bytes`,\n`bootstrap.servers`, `client.id`, "
        "`security.protocol`, `*.location` paths,\n...: `cfg_printable()` "
        "in services/lib/cfg.c); any other, and any name\ncontaining "
        "`password` or `secret`, prints as `********`.\n\n"
        "One name per concept: a setting has the same key and the same "
        "environment\nvariable in every binary.  The variable is `OMNISYNC_` "
        "and the key upper-cased\nwith `.` as `_`, except the connection "
        "variables `OMNISYNC_PG`, `OMNISYNC_KAFKA`,\n`OMNISYNC_REDIS` and "
        "`OMNISYNC_SECRET_KEY`.  Where binaries differ in a default,\nthe "
        "default column names them.\n\n");
    printf("| key | env var | type | default | range | secret | binaries | "
           "description |\n"
           "|---|---|---|---|---|---|---|---|\n");
    for (i = 0; i < n; i++)
        cfgdoc_row(&keys[i]);
    printf("\nKeys starting with `kafka.` are passed verbatim to librdkafka "
           "(`rd_kafka_conf_set`)\nby ");
    for (b = 0; b < CFGDOC_NBINS; b++) {
        if (!cfgdoc_bins[b].passthru)
            continue;
        printf("%s%s", first ? "" : ", ", cfgdoc_bins[b].name);
        first = 0;
    }
    printf(", e.g. `-o kafka.session.timeout.ms=6000`.\n");
}

int main(void)
{
    static struct cfgdoc_key keys[CFGDOC_MAX_KEYS];
    size_t n;

    if (cfgdoc_collect(keys, &n) < 0)
        return 1;
    cfgdoc_print(keys, n);
    return fflush(stdout) == 0 ? 0 : 1;
}
