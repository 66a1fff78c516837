#include "lib/metrics.h"

#include "lib/grow.h"
#include "lib/log.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define METRICS_HASH_SIZE 256 /* chains per family */
#define METRICS_REFUSED "omnisync_metrics_series_refused_total"

struct metrics_series {
    struct metrics_series *next;  /* creation order */
    struct metrics_series *hnext; /* hash chain */
    struct metrics_family *f;
    unsigned long hash;
    char **values;               /* f->nlabels strings */
    double value;                /* counter, gauge; a histogram's sum */
    unsigned long long cnt;      /* histogram: observations */
    unsigned long long *buckets; /* histogram: per bucket, not cumulative */
};

struct metrics_family {
    struct metrics_family *next;
    struct metrics *m;
    enum metrics_type type;
    char *name, *help;
    char **labels;
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    metrics_collect_fn *collect; /* callback families only */
    void *opaque;
    pthread_mutex_t mu; /* the series and refused */
    struct metrics_series *head, *tail;
    struct metrics_series *hash[METRICS_HASH_SIZE];
    size_t nseries;
    unsigned long long refused;
};

struct metrics {
    pthread_mutex_t mu; /* the family list; held while rendering */
    struct metrics_family *head, *tail;
    size_t max_series;
};

/* A growing text buffer; on allocation failure it stays failed. */
struct metrics_buf {
    char *s;
    size_t len, cap;
    int oom;
};

struct metrics_emit {
    struct metrics_family *f;
    struct metrics_buf *b;
    size_t n; /* series emitted this render */
};

/* ---- text buffer --------------------------------------------------------- */

static void mbuf_reserve(struct metrics_buf *b, size_t n)
{
    if (!b->oom && grow_to(&b->s, &b->cap, b->len + n + 1, 4096) < 0)
        b->oom = 1;
}

static void mbuf_put(struct metrics_buf *b, const char *s, size_t n)
{
    mbuf_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void mbuf_puts(struct metrics_buf *b, const char *s)
{
    mbuf_put(b, s, strlen(s));
}

/* Escape per the text format: in help "\\" and "\n"; in label values also
 * "\"". */
static void mbuf_escaped(struct metrics_buf *b, const char *s, int quotes)
{
    for (; *s; s++) {
        if (*s == '\\')
            mbuf_put(b, "\\\\", 2);
        else if (*s == '\n')
            mbuf_put(b, "\\n", 2);
        else if (*s == '"' && quotes)
            mbuf_put(b, "\\\"", 2);
        else
            mbuf_put(b, s, 1);
    }
}

/* The shortest of %.15g / %.17g that reads back as @p v; integers plain,
 * infinities and NaN as the format spells them. */
static void metrics_fmt_double(char *out, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
    } else if (isinf(v)) {
        snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
    } else if (v == 0) {
        snprintf(out, size, "0");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, size, "%.0f", v);
    } else {
        snprintf(out, size, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, size, "%.17g", v);
    }
}

static void mbuf_double(struct metrics_buf *b, double v)
{
    char num[40];

    metrics_fmt_double(num, sizeof(num), v);
    mbuf_puts(b, num);
}

/* name[suffix]{l1="v1",...[,le="bound"]} value\n */
static void mbuf_sample(struct metrics_buf *b, const struct metrics_family *f,
                        const char *suffix, const char *const *values,
                        const char *le, double v)
{
    size_t i;

    mbuf_puts(b, f->name);
    mbuf_puts(b, suffix);
    if (f->nlabels || le) {
        mbuf_put(b, "{", 1);
        for (i = 0; i < f->nlabels; i++) {
            if (i)
                mbuf_put(b, ",", 1);
            mbuf_puts(b, f->labels[i]);
            mbuf_put(b, "=\"", 2);
            mbuf_escaped(b, values[i] ? values[i] : "", 1);
            mbuf_put(b, "\"", 1);
        }
        if (le) {
            mbuf_puts(b, f->nlabels ? ",le=\"" : "le=\"");
            mbuf_puts(b, le);
            mbuf_put(b, "\"", 1);
        }
        mbuf_put(b, "}", 1);
    }
    mbuf_put(b, " ", 1);
    mbuf_double(b, v);
    mbuf_put(b, "\n", 1);
}

/* ---- names --------------------------------------------------------------- */

static int metrics_name_ok(const char *s, int label)
{
    const char *p;

    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return 0;
    if (label && strncmp(s, "__", 2) == 0)
        return 0;
    for (p = s; *p; p++) {
        int c = (unsigned char)*p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || (c == ':' && !label)))
            return 0;
    }
    return 1;
}

static int metrics_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether @p hist_name + one of a histogram's sample suffixes is @p name. */
static int metrics_hist_collides(const char *hist_name, const char *name)
{
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    size_t n = strlen(hist_name);

    if (strncmp(hist_name, name, n) != 0)
        return 0;
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
        if (strcmp(name + n, sfx[i]) == 0)
            return 1;
    return 0;
}

/* Called with m->mu held. */
static int metrics_name_taken(const struct metrics *m, const char *name,
                              enum metrics_type type)
{
    for (const struct metrics_family *f = m->head; f; f = f->next) {
        if (strcmp(f->name, name) == 0)
            return 1;
        if (f->type == METRICS_HISTOGRAM &&
            metrics_hist_collides(f->name, name))
            return 1;
        if (type == METRICS_HISTOGRAM && metrics_hist_collides(name, f->name))
            return 1;
    }
    return 0;
}

/* Why @p name / @p labels cannot make a family of @p type, or NULL. */
static const char *metrics_check(const char *name, const char *help,
                                 enum metrics_type type,
                                 const char *const *labels, size_t *nlabels)
{
    size_t i;

    if (!metrics_name_ok(name, 0))
        return "invalid metric name";
    if (type == METRICS_COUNTER && !metrics_ends_with(name, "_total"))
        return "a counter's name must end in _total";
    if (!help || !*help)
        return "help text required";
    for (i = 0; labels && labels[i]; i++) {
        if (i >= METRICS_LABELS_MAX)
            return "too many labels";
        if (!metrics_name_ok(labels[i], 1))
            return "invalid label name";
        if (type == METRICS_HISTOGRAM && strcmp(labels[i], "le") == 0)
            return "a histogram cannot have a label \"le\"";
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                return "duplicate label name";
    }
    *nlabels = i;
    return NULL;
}

/* ---- families ------------------------------------------------------------ */

static void metrics_series_free(struct metrics_series *s, size_t nlabels)
{
    if (!s)
        return;
    for (size_t i = 0; s->values && i < nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->buckets);
    free(s);
}

static void metrics_family_free(struct metrics_family *f)
{
    struct metrics_series *s, *next;
    size_t i;

    if (!f)
        return;
    for (s = f->head; s; s = next) {
        next = s->next;
        metrics_series_free(s, f->nlabels);
    }
    for (i = 0; f->labels && i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->labels);
    free(f->bounds);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static struct metrics_family *
metrics_family_alloc(const char *name, const char *help, enum metrics_type type,
                     const char *const *labels, size_t nlabels,
                     const double *bounds, size_t nbounds)
{
    struct metrics_family *f = calloc(1, sizeof(*f));
    size_t i;

    if (!f)
        return NULL;
    pthread_mutex_init(&f->mu, NULL);
    f->type = type;
    f->name = strdup(name);
    f->help = strdup(help);
    f->labels = calloc(nlabels ? nlabels : 1, sizeof(*f->labels));
    if (!f->name || !f->help || !f->labels)
        goto fail;
    for (i = 0; i < nlabels; i++) {
        f->labels[i] = strdup(labels[i]);
        if (!f->labels[i])
            goto fail;
        f->nlabels = i + 1;
    }
    if (nbounds) {
        f->bounds = malloc(nbounds * sizeof(*f->bounds));
        if (!f->bounds)
            goto fail;
        memcpy(f->bounds, bounds, nbounds * sizeof(*f->bounds));
        f->nbounds = nbounds;
    }
    return f;
fail:
    metrics_family_free(f);
    return NULL;
}

static struct metrics_family *
metrics_family_add(struct metrics *m, const char *name, const char *help,
                   enum metrics_type type, const char *const *labels,
                   const double *bounds, size_t nbounds, metrics_collect_fn *fn,
                   void *opaque)
{
    struct metrics_family *f = NULL;
    const char *why;
    size_t nlabels = 0;

    if (!m)
        return NULL;
    why = metrics_check(name, help, type, labels, &nlabels);
    if (!why && type == METRICS_HISTOGRAM) {
        if (nbounds == 0 || nbounds > METRICS_BUCKETS_MAX)
            why = "a histogram needs 1 to METRICS_BUCKETS_MAX bounds";
        for (size_t i = 0; !why && i < nbounds; i++)
            if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
                why = "histogram bounds must be finite and increasing";
    }
    if (why) {
        log_error("metrics: %s: %s", name ? name : "(null)", why);
        return NULL;
    }
    f = metrics_family_alloc(name, help, type, labels, nlabels, bounds,
                             nbounds);
    if (!f) {
        log_error("metrics: %s: out of memory", name);
        return NULL;
    }
    f->m = m;
    f->collect = fn;
    f->opaque = opaque;
    pthread_mutex_lock(&m->mu);
    if (metrics_name_taken(m, name, type)) {
        pthread_mutex_unlock(&m->mu);
        log_error("metrics: %s: already registered", name);
        metrics_family_free(f);
        return NULL;
    }
    if (m->tail)
        m->tail->next = f;
    else
        m->head = f;
    m->tail = f;
    pthread_mutex_unlock(&m->mu);
    /* A family without labels shows its one series (at 0) from the start. */
    if (!fn && nlabels == 0)
        metrics_series_get(f, NULL);
    return f;
}

struct metrics_family *metrics_counter_new(struct metrics *m, const char *name,
                                           const char *help,
                                           const char *const *labels)
{
    return metrics_family_add(m, name, help, METRICS_COUNTER, labels, NULL, 0,
                              NULL, NULL);
}

struct metrics_family *metrics_gauge_new(struct metrics *m, const char *name,
                                         const char *help,
                                         const char *const *labels)
{
    return metrics_family_add(m, name, help, METRICS_GAUGE, labels, NULL, 0,
                              NULL, NULL);
}

struct metrics_family *metrics_histogram_new(struct metrics *m,
                                             const char *name, const char *help,
                                             const char *const *labels,
                                             const double *bounds,
                                             size_t nbounds)
{
    return metrics_family_add(m, name, help, METRICS_HISTOGRAM, labels, bounds,
                              nbounds, NULL, NULL);
}

struct metrics_family *
metrics_callback_new(struct metrics *m, const char *name, const char *help,
                     enum metrics_type type, const char *const *labels,
                     metrics_collect_fn *fn, void *opaque)
{
    if (!fn || type == METRICS_HISTOGRAM) {
        log_error("metrics: %s: a callback family is a counter or gauge "
                  "with a collector",
                  name ? name : "(null)");
        return NULL;
    }
    return metrics_family_add(m, name, help, type, labels, NULL, 0, fn, opaque);
}

/* ---- series -------------------------------------------------------------- */

static unsigned long metrics_hash(const struct metrics_family *f,
                                  const char *const *values)
{
    unsigned long h = 2166136261UL; /* FNV-1a */

    for (size_t i = 0; i < f->nlabels; i++) {
        for (const char *p = values[i] ? values[i] : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619UL;
        h = (h ^ 0xffUL) * 16777619UL; /* separator: ("ab","") != ("a","b") */
    }
    return h;
}

static int metrics_values_eq(const struct metrics_family *f,
                             const struct metrics_series *s,
                             const char *const *values)
{
    for (size_t i = 0; i < f->nlabels; i++)
        if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
            return 0;
    return 1;
}

/* Called with f->mu held. */
static struct metrics_series *metrics_series_create(struct metrics_family *f,
                                                    const char *const *values,
                                                    unsigned long h)
{
    struct metrics_series *s = calloc(1, sizeof(*s));
    size_t i;

    if (!s)
        return NULL;
    s->f = f;
    s->hash = h;
    s->values = calloc(f->nlabels ? f->nlabels : 1, sizeof(*s->values));
    if (!s->values)
        goto fail;
    for (i = 0; i < f->nlabels; i++) {
        s->values[i] = strdup(values[i] ? values[i] : "");
        if (!s->values[i])
            goto fail;
    }
    if (f->type == METRICS_HISTOGRAM) {
        s->buckets = calloc(f->nbounds, sizeof(*s->buckets));
        if (!s->buckets)
            goto fail;
    }
    return s;
fail:
    metrics_series_free(s, f->nlabels);
    return NULL;
}

struct metrics_series *metrics_series_get(struct metrics_family *f,
                                          const char *const *values)
{
    struct metrics_series *s;
    unsigned long h;
    size_t slot;

    if (!f || f->collect || (f->nlabels && !values))
        return NULL;
    h = metrics_hash(f, values);
    slot = h % METRICS_HASH_SIZE;
    pthread_mutex_lock(&f->mu);
    for (s = f->hash[slot]; s; s = s->hnext)
        if (s->hash == h && metrics_values_eq(f, s, values))
            goto out;
    if (f->nseries >= f->m->max_series) {
        f->refused++;
        goto out;
    }
    s = metrics_series_create(f, values, h);
    if (!s)
        goto out;
    s->hnext = f->hash[slot];
    f->hash[slot] = s;
    if (f->tail)
        f->tail->next = s;
    else
        f->head = s;
    f->tail = s;
    f->nseries++;
out:
    pthread_mutex_unlock(&f->mu);
    return s;
}

void metrics_series_add(struct metrics_series *s, double v)
{
    if (!s || s->f->type == METRICS_HISTOGRAM)
        return;
    if (s->f->type == METRICS_COUNTER && !(v >= 0))
        return;
    pthread_mutex_lock(&s->f->mu);
    s->value += v;
    pthread_mutex_unlock(&s->f->mu);
}

void metrics_series_set(struct metrics_series *s, double v)
{
    if (!s || s->f->type != METRICS_GAUGE)
        return;
    pthread_mutex_lock(&s->f->mu);
    s->value = v;
    pthread_mutex_unlock(&s->f->mu);
}

void metrics_series_observe(struct metrics_series *s, double v)
{
    size_t i;

    if (!s || s->f->type != METRICS_HISTOGRAM || isnan(v))
        return;
    for (i = 0; i < s->f->nbounds; i++)
        if (v <= s->f->bounds[i])
            break;
    pthread_mutex_lock(&s->f->mu);
    if (i < s->f->nbounds)
        s->buckets[i]++;
    s->cnt++;
    s->value += v;
    pthread_mutex_unlock(&s->f->mu);
}

double metrics_series_value(struct metrics_series *s)
{
    double v;

    if (!s)
        return 0;
    pthread_mutex_lock(&s->f->mu);
    v = s->f->type == METRICS_HISTOGRAM ? (double)s->cnt : s->value;
    pthread_mutex_unlock(&s->f->mu);
    return v;
}

void metrics_add(struct metrics_family *f, const char *const *values, double v)
{
    metrics_series_add(metrics_series_get(f, values), v);
}

void metrics_inc(struct metrics_family *f, const char *const *values)
{
    metrics_series_add(metrics_series_get(f, values), 1);
}

void metrics_set(struct metrics_family *f, const char *const *values, double v)
{
    metrics_series_set(metrics_series_get(f, values), v);
}

void metrics_observe(struct metrics_family *f, const char *const *values,
                     double v)
{
    metrics_series_observe(metrics_series_get(f, values), v);
}

void metrics_emit_value(struct metrics_emit *e, const char *const *values,
                        double v)
{
    static const char *const none[METRICS_LABELS_MAX] = {NULL};

    if (!e)
        return;
    /* The cap; and a family without labels has one series. */
    if (e->n >= e->f->m->max_series || (e->f->nlabels == 0 && e->n > 0)) {
        pthread_mutex_lock(&e->f->mu);
        e->f->refused++;
        pthread_mutex_unlock(&e->f->mu);
        return;
    }
    e->n++;
    mbuf_sample(e->b, e->f, "", values ? values : none, NULL, v);
}

/* ---- registry and rendering ---------------------------------------------- */

/* omnisync_metrics_series_refused_total: every family's refusals so far. */
static void metrics_refused_collect(struct metrics_emit *e, void *opaque)
{
    const struct metrics *m = opaque;

    for (struct metrics_family *f = m->head; f; f = f->next) {
        unsigned long long n;

        pthread_mutex_lock(&f->mu);
        n = f->refused;
        pthread_mutex_unlock(&f->mu);
        if (n)
            metrics_emit_value(e, (const char *const[]){f->name}, (double)n);
    }
}

struct metrics *metrics_new(size_t max_series, char *errstr, size_t errstr_size)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (!m) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->max_series = max_series ? max_series : METRICS_SERIES_MAX_DEFAULT;
    if (!metrics_callback_new(
            m, METRICS_REFUSED,
            "Updates dropped because their family already held its maximum "
            "number of label sets.",
            METRICS_COUNTER, (const char *const[]){"family", NULL},
            metrics_refused_collect, m)) {
        snprintf(errstr, errstr_size, "out of memory");
        metrics_destroy(m);
        return NULL;
    }
    return m;
}

void metrics_destroy(struct metrics *m)
{
    struct metrics_family *f, *next;

    if (!m)
        return;
    for (f = m->head; f; f = next) {
        next = f->next;
        metrics_family_free(f);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const char *metrics_type_name(enum metrics_type t)
{
    return t == METRICS_COUNTER ? "counter"
           : t == METRICS_GAUGE ? "gauge"
                                : "histogram";
}

/* Called with f->mu held. */
static void metrics_render_histogram(struct metrics_buf *b,
                                     const struct metrics_family *f,
                                     const struct metrics_series *s)
{
    const char *const *values = (const char *const *)s->values;
    unsigned long long cum = 0;
    char le[40];

    for (size_t i = 0; i < f->nbounds; i++) {
        cum += s->buckets[i];
        metrics_fmt_double(le, sizeof(le), f->bounds[i]);
        mbuf_sample(b, f, "_bucket", values, le, (double)cum);
    }
    mbuf_sample(b, f, "_bucket", values, "+Inf", (double)s->cnt);
    mbuf_sample(b, f, "_sum", values, NULL, s->value);
    mbuf_sample(b, f, "_count", values, NULL, (double)s->cnt);
}

static void metrics_render_family(struct metrics_buf *b,
                                  struct metrics_family *f)
{
    mbuf_puts(b, "# HELP ");
    mbuf_puts(b, f->name);
    mbuf_put(b, " ", 1);
    mbuf_escaped(b, f->help, 0);
    mbuf_puts(b, "\n# TYPE ");
    mbuf_puts(b, f->name);
    mbuf_put(b, " ", 1);
    mbuf_puts(b, metrics_type_name(f->type));
    mbuf_put(b, "\n", 1);
    if (f->collect) {
        struct metrics_emit e = {f, b, 0};

        f->collect(&e, f->opaque);
        return;
    }
    pthread_mutex_lock(&f->mu);
    for (const struct metrics_series *s = f->head; s; s = s->next) {
        if (f->type == METRICS_HISTOGRAM)
            metrics_render_histogram(b, f, s);
        else
            mbuf_sample(b, f, "", (const char *const *)s->values, NULL,
                        s->value);
    }
    pthread_mutex_unlock(&f->mu);
}

char *metrics_render(struct metrics *m, size_t *len)
{
    struct metrics_buf b = {NULL, 0, 0, 0};

    if (!m)
        return NULL;
    mbuf_reserve(&b, 0);
    pthread_mutex_lock(&m->mu);
    for (struct metrics_family *f = m->head; f; f = f->next)
        metrics_render_family(&b, f);
    pthread_mutex_unlock(&m->mu);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.s;
}

/* ---- process collectors (/proc/self) ------------------------------------- */

struct metrics_proc {
    double cpu_s, start_s, vsize, rss;
};

/* Seconds since the epoch at boot, from /proc/stat's "btime". */
static double metrics_boot_time(void)
{
    char line[256];
    double bt = 0;
    FILE *fp = fopen("/proc/stat", "r");

    if (!fp)
        return 0;
    while (fgets(line, sizeof(line), fp))
        if (strncmp(line, "btime ", 6) == 0) {
            bt = strtod(line + 6, NULL);
            break;
        }
    fclose(fp);
    return bt;
}

/* /proc/self/stat: utime(14) stime(15) starttime(22) vsize(23) rss(24),
 * counted from the state field (3) after the last ')' of the command. */
static int metrics_proc_read(struct metrics_proc *p)
{
    char buf[1024], *s, *end;
    unsigned long long v[25] = {0};
    double tck = (double)sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    size_t n;
    FILE *fp = fopen("/proc/self/stat", "r");
    int field;

    if (!fp)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    s = strrchr(buf, ')');
    if (!s || tck <= 0 || page <= 0)
        return -1;
    s += 2; /* ") " */
    for (field = 3; field <= 24; field++) {
        if (field == 3) { /* state: one letter */
            s += 2;
            continue;
        }
        v[field] = strtoull(s, &end, 10);
        if (end == s)
            return -1;
        s = end;
    }
    p->cpu_s = (double)(v[14] + v[15]) / tck;
    p->start_s = metrics_boot_time() + (double)v[22] / tck;
    p->vsize = (double)v[23];
    p->rss = (double)v[24] * (double)page;
    return 0;
}

enum metrics_proc_what {
    MP_CPU,
    MP_RSS,
    MP_VSIZE,
    MP_START,
    MP_OPEN_FDS,
    MP_MAX_FDS,
};

static double metrics_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    const struct dirent *de;
    double n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the descriptor reading the directory */
}

static void metrics_proc_collect(struct metrics_emit *e, void *opaque)
{
    enum metrics_proc_what w = *(const enum metrics_proc_what *)opaque;
    struct metrics_proc p;
    struct rlimit rl;
    double v = -1;

    if (w == MP_OPEN_FDS) {
        v = metrics_open_fds();
    } else if (w == MP_MAX_FDS) {
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
            v = rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
    } else if (metrics_proc_read(&p) == 0) {
        v = w == MP_CPU     ? p.cpu_s
            : w == MP_RSS   ? p.rss
            : w == MP_VSIZE ? p.vsize
                            : p.start_s;
    }
    if (v >= 0)
        metrics_emit_value(e, NULL, v);
}

/* What each process family reads (its collector's opaque). */
static enum metrics_proc_what metrics_proc_whats[] = {
    MP_CPU, MP_RSS, MP_VSIZE, MP_START, MP_OPEN_FDS, MP_MAX_FDS};

int metrics_process_register(struct metrics *m)
{
    static const struct {
        const char *name, *help;
        enum metrics_type type;
    } fam[] = {
        {"process_cpu_seconds_total",
         "Total user and system CPU time spent in seconds.", METRICS_COUNTER},
        {"process_resident_memory_bytes", "Resident memory size in bytes.",
         METRICS_GAUGE},
        {"process_virtual_memory_bytes", "Virtual memory size in bytes.",
         METRICS_GAUGE},
        {"process_start_time_seconds",
         "Start time of the process since unix epoch in seconds.",
         METRICS_GAUGE},
        {"process_open_fds", "Number of open file descriptors.", METRICS_GAUGE},
        {"process_max_fds", "Maximum number of open file descriptors.",
         METRICS_GAUGE},
    };
    int rc = 0;

    for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
        if (!metrics_callback_new(m, fam[i].name, fam[i].help, fam[i].type,
                                  NULL, metrics_proc_collect,
                                  &metrics_proc_whats[i]))
            rc = -1;
    return rc;
}
