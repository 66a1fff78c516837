/*
 * orders — online orders into the ledger (docs/order-ingestor.md).
 *
 * The pure parts (parsing a store's order JSON, comparing order versions,
 * the stock state machine, the reservation split over source locations)
 * are separate from orders_apply(), which writes one order version into
 * the ledger in one transaction: de-duplication on (store, remote id,
 * updated_at), the customer order and its lines (delivery as a service
 * line), and the stock movements (reserve, release, ship, return) with
 * idempotency keys "order:<store>:<remote id>:<transition>".
 *
 * Event "orders.raw" on omnisync.orders.v1, key "<store>:<remote id>":
 *   data = {"source": "webhook"|"poll", "order": <order as received>}
 */
#ifndef OMNI_ORDERS_H
#define OMNI_ORDERS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define ORDERS_EVENT_RAW "orders.raw"
#define ORDERS_MAX_LINES 1000

/* customer_order.status of an order that needs an operator. */
#define ORDERS_NEEDS_ATTENTION "needs_attention"

/* One item line of a store order. */
struct orders_line {
    long long remote_line_id;    /* 0 when absent */
    long long remote_variant_id; /* 0 when absent */
    char *sku;                   /* NULL when absent */
    char *title;                 /* NULL when absent */
    long long quantity;          /* > 0 */
    char price[32];              /* decimal text, "0" when absent */
};

/* A parsed store order (strings owned; orders_order_clear() frees). */
struct orders_order {
    long long remote_id;
    char *number;             /* NULL when absent */
    char *updated_at;         /* as received */
    int64_t updated_us;       /* updated_at, microseconds since the epoch */
    char *fulfillment_status; /* "new" when absent */
    char *financial_status;   /* NULL when absent */
    char total_price[32];     /* "" when absent */
    char delivery_price[32];  /* "" when absent */
    char *delivery_title;     /* NULL when absent */
    json_t *client;           /* (owned reference) or NULL */
    struct orders_line *lines;
    size_t nlines;
};

/**
 * @brief Compare two order versions (their updated_at values, RFC 3339 as
 *        lib/clock.h reads it).
 * @returns 1 when @p incoming is newer than @p current, 0 when it is the
 *          same or older, -1 when either cannot be parsed.
 */
int orders_version_newer(const char *incoming, const char *current);

/**
 * @brief Parse a store order object (INSALES.md §5.2).
 *
 * Requires id (integer > 0) and updated_at (RFC 3339); order_lines, when
 * present, must be an array of objects with quantity > 0.  Everything else
 * is optional.
 *
 * @param order borrowed.
 * @param o     filled on success (clear it with orders_order_clear()).
 * @returns 0, or -1 with errstr naming the field.
 */
int orders_parse(const json_t *order, struct orders_order *o, char *errstr,
                 size_t errstr_size);

/** @brief Free what orders_parse() filled.  NULL-safe, idempotent. */
void orders_order_clear(struct orders_order *o);

/**
 * @brief Validate the data of an orders.raw event against its key and
 *        store (called by event_data_validate()).
 * @returns 0, or -1 with errstr ("data.<field>: <reason>").
 */
int orders_raw_validate(const char *key, const char *store, json_t *data,
                        char *errstr, size_t errstr_size);

/* What the ledger has done with an order's stock (customer_order.
 * stock_state). */
enum orders_stock {
    ORDERS_STOCK_NONE = 0, /* nothing yet */
    ORDERS_STOCK_RESERVED, /* reserve applied */
    ORDERS_STOCK_SHIPPED,  /* ship applied (reservation consumed) */
    ORDERS_STOCK_RELEASED, /* release applied, or cancelled before any */
    ORDERS_STOCK_RETURNED, /* return applied after shipment */
};

/* Movement steps of a transition, in this order. */
#define ORDERS_ACT_RESERVE 0x1
#define ORDERS_ACT_SHIP 0x2
#define ORDERS_ACT_RELEASE 0x4
#define ORDERS_ACT_RETURN 0x8
#define ORDERS_ACT_ODD 0x10 /* a status change the ledger cannot follow */

/** @returns "none", "reserved", "shipped", "released", "returned". */
const char *orders_stock_name(enum orders_stock s);

/** @returns the state named @p name, or -1. */
int orders_stock_parse(const char *name);

/**
 * @brief The stock state machine: what to do when an order in state
 *        @p cur gets fulfillment status @p status.
 *
 * new/accepted/approved (and unknown custom statuses) want a reservation;
 * dispatched/delivered a shipment (reserve first when nothing was
 * reserved yet); declined a release; returned a return after shipment, a
 * release before it.  Released and returned are final.  Declined after
 * shipment, or re-opened after a shipment, sets ORDERS_ACT_ODD.
 *
 * @param next receives the state after the steps.
 * @returns a mask of ORDERS_ACT_* (0: nothing to do).
 */
int orders_transition(enum orders_stock cur, const char *status,
                      enum orders_stock *next);

/**
 * @brief Split @p need units over locations with @p avail[i] units
 *        available each (in reservation order): take from each in order
 *        what it has (never below 0) until @p need is met.
 * @param take receives the units taken at each location.
 * @returns the units taken in total (<= need).
 */
long long orders_allocate(long long need, const long long *avail, size_t n,
                          long long *take);

/* Outcome of orders_apply(). */
enum orders_res {
    ORDERS_APPLIED = 0, /* this version was written */
    ORDERS_STALE = 1,   /* same or older version: nothing changed */
    ORDERS_RETRY = 2,   /* transient (connection, deadlock): try again */
    ORDERS_REJECT = 3,  /* cannot ever apply (bad order, unknown store) */
};

/* What orders_apply() did (for logs). */
struct orders_apply_info {
    long long order_id; /* customer_order.id, 0 when none */
    int created;        /* 1 when this version created the order */
    int actions;        /* ORDERS_ACT_* applied */
    int attention;      /* 1 when the order needs attention */
    char reason[512];   /* attention reason, "" when none */
    char status[64];    /* customer_order.status after the apply */
};

/**
 * @brief Apply one version of a store order to the ledger in ONE
 *        transaction of its own (BEGIN .. COMMIT; rolled back on error).
 *
 * @param store       store name (the envelope's store).
 * @param order       the order object as received (borrowed).
 * @param received_at when the intake received it (RFC 3339; may be NULL:
 *                    now).
 * @param info        filled (may be NULL).
 * @returns ORDERS_APPLIED, ORDERS_STALE, ORDERS_RETRY or ORDERS_REJECT
 *          (the last two with errstr).
 */
enum orders_res orders_apply(PGconn *pg, const char *store, const json_t *order,
                             const char *received_at,
                             struct orders_apply_info *info, char *errstr,
                             size_t errstr_size);

/** @returns "applied", "stale", "retry", "reject". */
const char *orders_res_name(enum orders_res r);

#endif
