/*
 * orders — online orders into the ledger (docs/order-ingestor.md).
 *
 * The pure parts (the stock state machine, the reservation split over
 * source locations) are separate from orders_apply(), which writes one
 * version of a neutral order (events/order.h; a platform parsed it) into
 * the ledger in one transaction: de-duplication on (store, remote id,
 * version), the customer order and its lines (delivery as a service
 * line), and the stock movements (reserve, release, ship, return) with
 * idempotency keys "order:<store>:<remote id>:<transition>".  The order as
 * the store sent it is kept next to it (customer_order.raw).
 *
 * The module owns customer_order, customer_order_line and the polling
 * backstop's cursor (order_poll_cursor), and reads orders back for the
 * CLI.
 */
#ifndef OMNI_ORDERS_H
#define OMNI_ORDERS_H

#include "events/order.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* customer_order.status of an order that needs an operator. */
#define ORDERS_NEEDS_ATTENTION "needs_attention"

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
 *        @p cur gets status @p status.
 *
 * new, accepted and other (shop-defined) statuses want a reservation
 * of the version's lines (ORDERS_ACT_RESERVE: reserve what is missing,
 * release what is no longer wanted, so a changed version recomputes
 * it); shipped/delivered a shipment of the version's lines (reserve
 * first); cancelled a release; returned a release before shipment;
 * returned or cancelled after shipment a return (to the store's return
 * location).  Released and returned are final.  Re-opened after a
 * shipment or a cancellation sets ORDERS_ACT_ODD.
 *
 * @param next receives the state after the steps.
 * @returns a mask of ORDERS_ACT_* (0: nothing to do).
 */
int orders_transition(enum orders_stock cur, enum order_status status,
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
 * @brief The platform of store @p store (stores.platform), so its raw
 *        orders can be parsed before they are applied.
 * @param platform receives the name.
 * @returns 0, 1 when there is no such store, -1 with errstr (connection:
 *          try again).
 */
int orders_store_platform(PGconn *pg, const char *store, char *platform,
                          size_t platform_size, char *errstr,
                          size_t errstr_size);

/**
 * @brief Apply one version of a store order to the ledger in ONE
 *        transaction of its own (BEGIN .. COMMIT; rolled back on error).
 *
 * @param store       store name (the envelope's store).
 * @param o           the order, parsed by the store's platform (borrowed).
 * @param raw         the order as the store sent it (borrowed), kept in
 *                    customer_order.raw.
 * @param received_at when the intake received it (RFC 3339; may be NULL:
 *                    now).
 * @param info        filled (may be NULL).
 * @returns ORDERS_APPLIED, ORDERS_STALE, ORDERS_RETRY or ORDERS_REJECT
 *          (the last two with errstr).
 */
enum orders_res orders_apply(PGconn *pg, const char *store,
                             const struct order *o, const json_t *raw,
                             const char *received_at,
                             struct orders_apply_info *info, char *errstr,
                             size_t errstr_size);

/**
 * @brief Keep an order version that cannot be applied (its platform could
 *        not read it, or the ledger refused a value) as a needs-attention
 *        order an operator sees in `omnisync orders list
 *        --needs-attention`, never only on the dead-letter topic.  Creates
 *        the order's row (no lines, no stock) or, for a newer version,
 *        marks the existing one; its stock is left as it was.
 *
 * @param remote_id  the order's id in the store (> 0).
 * @param updated_us the version's updated_at, microseconds.
 * @param raw        the order as the store sent it (kept in raw).
 * @param reason     why it cannot be applied (the attention reason).
 * @param info       filled (may be NULL): attention 1, status, reason.
 * @returns ORDERS_APPLIED (held), ORDERS_STALE (same or older version),
 *          ORDERS_REJECT (no such store), ORDERS_RETRY (errstr).
 */
enum orders_res orders_hold(PGconn *pg, const char *store, long long remote_id,
                            long long updated_us, const json_t *raw,
                            const char *reason, const char *received_at,
                            struct orders_apply_info *info, char *errstr,
                            size_t errstr_size);

/* An operator's decision on one line of an order (`orders resolve`). */
struct orders_decision {
    size_t line;         /* 1-based, in the order's line order */
    const char *map_sku; /* map the line to this SKU; NULL: drop it */
};

/**
 * @brief Apply the order's latest version again with the operator's
 *        decisions, in ONE transaction: each decision is added to the
 *        order's resolution (kept, so later versions apply it too; matched
 *        by the store's line id, else SKU), with @p by and the time; the
 *        reservation is brought to the decided lines (movement keys
 *        "…:reserve:r<time>" / "…:release:r<time>") and the attention is
 *        decided again from scratch (cleared when nothing is left).
 *
 * @param o   the order's latest applied version, parsed again from
 *            orders_raw_get() by its platform.
 * @param by  who decided (the operator).
 * @returns ORDERS_APPLIED; ORDERS_REJECT (errstr: no such store or order,
 *          a line the order lacks, an unknown SKU); ORDERS_RETRY (errstr:
 *          connection, or a newer version arrived meanwhile).
 */
enum orders_res orders_resolve(PGconn *pg, const char *store,
                               const struct order *o, const json_t *raw,
                               const struct orders_decision *d, size_t nd,
                               const char *by, struct orders_apply_info *info,
                               char *errstr, size_t errstr_size);

/**
 * @brief The order as the store last sent it (customer_order.raw).
 * @returns a new reference (JSON null when there is no such order or it
 *          has no raw), or NULL with errstr.
 */
json_t *orders_raw_get(PGconn *pg, const char *store, const char *remote_id,
                       char *errstr, size_t errstr_size);

/** @returns "applied", "stale", "retry", "reject". */
const char *orders_res_name(enum orders_res r);

/**
 * @brief Where the polling backstop resumes for store @p store_id
 *        (order_poll_cursor).
 * @param since    receives the platform's updated-since text.
 * @param after_id receives the last order id seen at that time.
 * @returns 1 found, 0 when the store has no cursor yet, -1 with errstr.
 */
int orders_cursor_get(PGconn *pg, long long store_id, char *since,
                      size_t since_size, long long *after_id, char *errstr,
                      size_t errstr_size);

/**
 * @brief Save the polling backstop's cursor of store @p store_id.
 * @returns 0, or -1 with errstr.
 */
int orders_cursor_put(PGconn *pg, long long store_id, const char *since,
                      long long after_id, char *errstr, size_t errstr_size);

/**
 * @brief The orders `orders list` shows, by store then remote id: a JSON
 *        array of objects with keys store, remote_id, number, status,
 *        fulfillment_status, financial_status, stock_state, total_price,
 *        delivery_price (text or null), lines (item lines, the delivery
 *        line aside), remote_updated_at (UTC, milliseconds),
 *        attention_reason, line_reasons (the lines that need attention:
 *        [{store, remote_id, line, sku, quantity, reason}]), resolved_by,
 *        resolved_at (the operator's last decision, or null).
 * @param store  keep one store (may be NULL).
 * @param status keep orders whose status or fulfillment status is this
 *               (may be NULL).
 * @param needs_attention keep only orders with an attention reason.
 * @returns a new reference, or NULL with errstr.
 */
json_t *orders_list_json(PGconn *pg, const char *store, const char *status,
                         int needs_attention, char *errstr, size_t errstr_size);

/**
 * @brief One order as `orders show` prints it: a JSON object with the
 *        order's fields, its "lines" (the delivery line included) and the
 *        stock "movements" it made, each with its "lines".
 * @param remote_id the order's id in the store, decimal.
 * @returns a new reference (JSON null when there is no such order), or
 *          NULL with errstr.
 */
json_t *orders_show_json(PGconn *pg, const char *store, const char *remote_id,
                         char *errstr, size_t errstr_size);

#endif
