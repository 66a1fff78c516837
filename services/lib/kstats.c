#include "lib/kstats.h"

#include "lib/log.h"
#include "lib/metrics.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kstats {
    pthread_mutex_t mu; /* parts, nparts, assigned */
    struct kstats_part *parts;
    size_t nparts;
    long assigned; /* -1: no statistics yet */
    char *group;   /* for the collectors' label */
};

struct kstats *kstats_new(void)
{
    struct kstats *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->parts = calloc(KSTATS_PARTS_MAX, sizeof(*s->parts));
    if (!s->parts) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->assigned = -1;
    return s;
}

void kstats_destroy(struct kstats *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->parts);
    free(s->group);
    free(s);
}

/* Whether a partition's fetch_state says the consumer fetches it. */
static int kstats_fetching(const char *state)
{
    return state && strcmp(state, "none") != 0 &&
           strcmp(state, "stopping") != 0 && strcmp(state, "stopped") != 0;
}

/* The fetched partitions of one topic's "partitions" object into
 * @p out (from index @p n); returns the new count. */
static size_t kstats_topic(const char *topic, json_t *parts,
                           struct kstats_part *out, size_t n)
{
    const char *pkey;
    json_t *p;

    json_object_foreach(parts, pkey, p)
    {
        json_int_t id = json_integer_value(json_object_get(p, "partition"));
        json_t *lag = json_object_get(p, "consumer_lag");
        const char *state =
            json_string_value(json_object_get(p, "fetch_state"));

        (void)pkey;
        if (n >= KSTATS_PARTS_MAX)
            break;
        if (id < 0 || !json_is_integer(lag) || json_integer_value(lag) < 0 ||
            !kstats_fetching(state))
            continue;
        snprintf(out[n].topic, sizeof(out[n].topic), "%s", topic);
        out[n].partition = (int32_t)id;
        out[n].lag = (int64_t)json_integer_value(lag);
        n++;
    }
    return n;
}

int kstats_update(struct kstats *s, const char *json, size_t len)
{
    struct kstats_part *parts = NULL;
    json_t *root = json_loadb(json, len, 0, NULL), *topics, *t, *cgrp;
    const char *name;
    size_t n = 0;
    long assigned = 0;
    int rc = -1;

    topics = json_object_get(root, "topics");
    if (!json_is_object(root) || (topics && !json_is_object(topics)))
        goto out;
    parts = calloc(KSTATS_PARTS_MAX, sizeof(*parts));
    if (!parts)
        goto out;
    json_object_foreach(topics, name, t)
    {
        json_t *tp = json_object_get(t, "partitions");

        if (json_is_object(tp))
            n = kstats_topic(name, tp, parts, n);
    }
    cgrp = json_object_get(root, "cgrp");
    if (json_is_integer(json_object_get(cgrp, "assignment_size")))
        assigned =
            (long)json_integer_value(json_object_get(cgrp, "assignment_size"));
    pthread_mutex_lock(&s->mu);
    free(s->parts);
    s->parts = parts;
    s->nparts = n;
    s->assigned = assigned;
    pthread_mutex_unlock(&s->mu);
    parts = NULL;
    rc = 0;
out:
    free(parts);
    json_decref(root);
    return rc;
}

size_t kstats_get(struct kstats *s, struct kstats_part *out, size_t max,
                  long *assigned)
{
    size_t n;

    pthread_mutex_lock(&s->mu);
    n = s->nparts < max ? s->nparts : max;
    if (n)
        memcpy(out, s->parts, n * sizeof(*out));
    if (assigned)
        *assigned = s->assigned;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void kstats_lag_collect(struct metrics_emit *e, void *opaque)
{
    struct kstats *s = opaque;
    char part[16];

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nparts; i++) {
        const struct kstats_part *p = &s->parts[i];

        snprintf(part, sizeof(part), "%d", (int)p->partition);
        metrics_emit_value(e, (const char *const[]){s->group, p->topic, part},
                           (double)p->lag);
    }
    pthread_mutex_unlock(&s->mu);
}

static void kstats_assigned_collect(struct metrics_emit *e, void *opaque)
{
    struct kstats *s = opaque;
    long assigned;

    pthread_mutex_lock(&s->mu);
    assigned = s->assigned;
    pthread_mutex_unlock(&s->mu);
    if (assigned >= 0)
        metrics_emit_value(e, (const char *const[]){s->group},
                           (double)assigned);
}

int kstats_register(struct kstats *s, struct metrics *m, const char *group)
{
    if (s->group)
        return -1; /* registered already */
    s->group = strdup(group ? group : "");
    if (!s->group)
        return -1;
    if (!metrics_callback_new(
            m, "omnisync_kafka_consumer_lag_messages",
            "Messages of a fetched partition not yet committed by the "
            "group (librdkafka statistics: high watermark minus committed "
            "offset).",
            METRICS_GAUGE,
            (const char *const[]){"group", "topic", "partition", NULL},
            kstats_lag_collect, s))
        return -1;
    if (!metrics_callback_new(
            m, "omnisync_kafka_assigned_partitions",
            "Partitions assigned to this consumer (librdkafka statistics).",
            METRICS_GAUGE, (const char *const[]){"group", NULL},
            kstats_assigned_collect, s))
        return -1;
    log_debug("kafka: lag metrics for group %s", s->group);
    return 0;
}
