/*
 * sim_db — the in-memory model of the simulated shop and its JSON views.
 *
 * Every object kind lives in a vector indexed by (id - base), so lookups by
 * id are O(1); each kind has its own id base so an id of the wrong kind is
 * never found by mistake.  Products and orders also sit on a list kept in
 * (updated_at, id) order, which serves `updated_since` queries by walking
 * back from the tail.  One mutex (db->mu) guards all of it; the caller
 * (sim_http) holds it around every handler.
 */
#ifndef SIM_DB_H
#define SIM_DB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SIM_MAX_OPTIONS 8
#define SIM_STATUS_MAX 600

#define SIM_BASE_PRODUCT 100000000LL
#define SIM_BASE_VARIANT 200000000LL
#define SIM_BASE_IMAGE 300000000LL
#define SIM_BASE_ORDER 400000000LL
#define SIM_BASE_LINE 500000000LL
#define SIM_BASE_CATEGORY 1000000LL
#define SIM_BASE_COLLECTION 2000000LL
#define SIM_BASE_COLLECT 3000000LL
#define SIM_BASE_OPTION_NAME 4000000LL
#define SIM_BASE_OPTION_VALUE 5000000LL
#define SIM_BASE_WAREHOUSE 6000000LL
#define SIM_BASE_WEBHOOK 7000000LL
#define SIM_BASE_CLIENT 8000000LL

struct sim_hooks;

/* A growable vector of owned pointers indexed by id - base. */
struct sim_vec {
    void **items;
    size_t n, cap, live;
    int64_t base;
};

/* Node of an (updated_at, id)-ordered list. */
struct sim_touch {
    struct sim_touch *prev, *next;
    int64_t id, updated_at;
    void *obj;
};

struct sim_tlist {
    struct sim_touch *head, *tail;
};

/* Growable array of ids. */
struct sim_ids {
    int64_t *v;
    size_t n, cap;
};

struct sim_variant {
    int64_t id, product_id;
    char *sku, *barcode, *weight, *dimensions;
    int64_t price, old_price, cost_price, price2, price3; /* hundredths */
    int has_old_price, has_cost_price, has_price2, has_price3;
    int64_t quantity;
    int has_quantity;                    /* 0: quantity is null (not tracked) */
    int64_t image_id;                    /* 0 = none */
    int64_t opt_values[SIM_MAX_OPTIONS]; /* aligned with product options */
    int64_t created_at, updated_at;
};

struct sim_image {
    int64_t id, product_id, position, created_at, ready_at;
    char *filename, *title, *src;
    size_t size;
    char sha256[65];
};

struct sim_product {
    struct sim_touch t;
    int64_t id, category_id, created_at;
    char *title, *description, *short_description, *permalink;
    int is_hidden, archived;
    int64_t options[SIM_MAX_OPTIONS]; /* option_name ids */
    int n_options;
    struct sim_ids variants, images, collections;
};

struct sim_order_line {
    int64_t id, variant_id, product_id, quantity, sale_price, total_price;
    char *sku, *title;
};

struct sim_order {
    struct sim_touch t;
    int64_t id, number, created_at, accepted_at, paid_at, delivered_at;
    char key[33];
    char fulfillment[16], financial[16];
    char *delivery_title, *comment, *manager_comment, *custom_status;
    int64_t delivery_price, items_price, total_price;
    json_t *client, *shipping_address;
    struct sim_order_line *lines;
    size_t n_lines;
};

/* Fault settings (POST /_sim/faults); guarded by db->smu. */
struct sim_faults {
    double error_rate;
    int error_status;
    long latency_ms;
    double timeout_rate;
    long timeout_ms;
    double webhook_drop_rate, webhook_dup_rate;
    uint64_t seed;
    long retry_after_s;   /* injected 429/503: Retry-After seconds, 0 none */
    int retry_after_date; /* 1: every Retry-After as an HTTP date */
};

struct sim_opts {
    int port;
    int group_sync;       /* 1: variants_group_update applies at once */
    long group_delay_ms;  /* queued mode: delay before applying */
    long max_image_bytes; /* decoded image size limit */
    long image_processing_ms;
    long per_page_default;
};

/* One queued variants_group_update. */
struct sim_pending {
    struct sim_pending *next;
    int64_t due_ms;
    json_t *items; /* array of variant patches (owned) */
};

/* One /admin request as the control API reports it. */
struct sim_reqlog {
    int64_t seq, time_ms;
    int status;
    char method[8];
    char *path, *query;
};

#define SIM_REQLOG_CAP 65536

struct sim_db {
    pthread_mutex_t mu; /* the model */
    struct sim_opts opts;
    int64_t clock_last;
    struct sim_vec products, variants, images, orders;
    struct sim_vec categories, collections, collects, option_names,
        option_values, warehouses, webhooks; /* json_t objects */
    struct sim_tlist ptl, otl;
    int64_t next_line_id, next_client_id, next_order_number;
    struct sim_pending *pending_head, *pending_tail;
    int64_t root_category, root_collection;
    struct sim_hooks *hooks; /* borrowed */

    pthread_mutex_t smu; /* counters, request log, faults, rng */
    int64_t requests, rejected, seq;
    int64_t status_counts[SIM_STATUS_MAX];
    struct sim_reqlog *log; /* ring of SIM_REQLOG_CAP */
    struct sim_faults faults;
    uint64_t rng;
};

/**
 * @brief New empty shop (root category, root collection, one warehouse).
 * @param hooks (borrowed, may be NULL) webhook delivery queue.
 */
struct sim_db *sim_db_new(const struct sim_opts *opts, struct sim_hooks *hooks);

/** @brief Free everything; NULL-safe. */
void sim_db_destroy(struct sim_db *db);

/**
 * @brief Drop every object of the shop (and the request log), not even
 *        the roots, for a loader to fill (sim_persist); the vectors keep
 *        their id bases.
 */
void sim_db_clear_model(struct sim_db *db);

/** @brief Drop every object, counter, log entry and fault (lock held). */
void sim_db_reset(struct sim_db *db);

/**
 * @brief Timestamp for the mutation being made: wall clock, but strictly
 *        greater than the previous mutation's (lock held).
 */
int64_t sim_db_clock(struct sim_db *db);

/**
 * @brief First node of @p l with updated_at >= @p since (walks back from
 *        the tail, so recent windows cost only their own length).
 */
struct sim_touch *sim_tlist_from(const struct sim_tlist *l, int64_t since);

/* Vectors. */
void *sim_vec_get(const struct sim_vec *v, int64_t id);
int64_t sim_vec_add(struct sim_vec *v, void *item); /* -1 on ENOMEM */
void sim_vec_del(struct sim_vec *v, int64_t id);    /* does not free */
/* An empty vector sized for ids base .. base + n - 1, every slot empty;
 * 0 or -1 (not empty, ENOMEM).  Ids base + n and up come from sim_vec_add. */
int sim_vec_reserve(struct sim_vec *v, size_t n);
/* @p item into the empty slot of @p id inside the reserved range; 0 or -1. */
int sim_vec_put(struct sim_vec *v, int64_t id, void *item);

int sim_ids_add(struct sim_ids *ids, int64_t id);
void sim_ids_del(struct sim_ids *ids, int64_t id);
int sim_ids_has(const struct sim_ids *ids, int64_t id);

/** @brief Unlink @p t from @p l (no-op when it is not on it). */
void sim_tlist_remove(struct sim_tlist *l, struct sim_touch *t);

/** @brief Move @p t to its (ts, id) place at the end of @p l. */
void sim_tlist_touch(struct sim_tlist *l, struct sim_touch *t, int64_t ts);

/** @brief Mark @p p changed at @p ts (lock held). */
void sim_product_touch(struct sim_db *db, struct sim_product *p, int64_t ts);
void sim_order_touch(struct sim_db *db, struct sim_order *o, int64_t ts);

/** @brief Live product by id or NULL. */
struct sim_product *sim_db_product(struct sim_db *db, int64_t id);
struct sim_variant *sim_db_variant(struct sim_db *db, int64_t id);
struct sim_image *sim_db_image(struct sim_db *db, int64_t id);
struct sim_order *sim_db_order(struct sim_db *db, int64_t id);

/** @brief Variant title: option values joined by " / ", or NULL. */
json_t *sim_variant_title_json(struct sim_db *db, const struct sim_variant *v);

/* JSON views, exactly as GET returns them (new references). */
json_t *sim_variant_json(struct sim_db *db, const struct sim_variant *v);
json_t *sim_image_json(struct sim_db *db, const struct sim_image *im,
                       int64_t now_ms);
json_t *sim_product_json(struct sim_db *db, const struct sim_product *p,
                         int64_t now_ms);
json_t *sim_order_json(struct sim_db *db, const struct sim_order *o);

/** @brief Free a variant / image / order / product (not unlinked). */
void sim_variant_free(struct sim_variant *v);
void sim_image_free(struct sim_image *im);
void sim_order_free(struct sim_order *o);
void sim_product_free(struct sim_product *p);

/* The same as callbacks for tables of kinds (void * items; NULL-safe). */
void sim_db_free_variant(void *p);
void sim_db_free_image(void *p);
void sim_db_free_product(void *p);
void sim_db_free_order(void *p);
void sim_db_free_json(void *p); /* json_decref */

/**
 * @brief Queue a webhook delivery of @p payload to every webhook of
 *        @p topic, applying the drop/duplicate faults (lock held).
 * @param payload (borrowed) the JSON body.
 */
void sim_db_fire(struct sim_db *db, const char *topic, json_t *payload);

/** @brief Uniform random number in [0,1) from the fault RNG (smu held). */
double sim_db_rand(struct sim_db *db);

#endif
