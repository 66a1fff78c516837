/*
 * order — the platform-neutral store order and the orders.raw event.
 *
 * struct order is what a platform's parser (store/platform.h,
 * order_parse) makes of one order as the store sent it, and what the
 * ledger applies (ledger/orders.h).  Times are microseconds since the
 * epoch; money is decimal text until the one money type (minor units)
 * exists.  The store's own status label travels next to the neutral
 * status, because the ledger keeps it for operators.
 *
 * Event "orders.raw" on omnisync.orders.v1, key "<store>:<remote id>":
 *   data = {"source": "webhook"|"poll", "order": <order as received>}
 * The contract (proto/orders.raw.schema.json) requires only the order's
 * integer "id" (> 0) and its RFC 3339 "updated_at"; the rest is the
 * platform's and only its parser reads it.
 */
#ifndef OMNI_ORDER_H
#define OMNI_ORDER_H

#include <jansson.h>
#include <stddef.h>

#define ORDER_EVENT_RAW "orders.raw"
#define ORDER_MAX_LINES 1000
/* The largest quantity of one order line (docs/limits.md). */
#define ORDER_QUANTITY_MAX 1000000000
#define ORDER_MONEY_MAX 32

/* Where an order is, whatever the platform calls it. */
enum order_status {
    ORDER_STATUS_NEW = 0,   /* placed, not handled yet */
    ORDER_STATUS_ACCEPTED,  /* accepted or approved by the shop */
    ORDER_STATUS_OTHER,     /* a status the shop defined: still open */
    ORDER_STATUS_SHIPPED,   /* handed over for delivery */
    ORDER_STATUS_DELIVERED, /* delivered to the customer */
    ORDER_STATUS_CANCELLED, /* cancelled (declined) */
    ORDER_STATUS_RETURNED,  /* sent back by the customer */
};

/* One item line. */
struct order_line {
    long long remote_line_id;    /* 0 when absent */
    long long remote_variant_id; /* the store's variant id, 0 when absent */
    char *sku;                   /* NULL when absent */
    char *title;                 /* NULL when absent */
    long long quantity;          /* > 0 */
    char price[ORDER_MONEY_MAX]; /* unit price, decimal text, "0" absent */
};

/* One version of an order (strings and lines owned; order_clear()). */
struct order {
    long long remote_id;      /* the store's order id, > 0 */
    char *number;             /* human-visible number, NULL when absent */
    long long updated_us;     /* the version: when the store changed it */
    enum order_status status; /* neutral */
    char *status_label;       /* the store's own status name */
    char *payment_status;     /* as the store says it, NULL when absent */
    char total_price[ORDER_MONEY_MAX];    /* "" when absent */
    char delivery_price[ORDER_MONEY_MAX]; /* "" when there is no delivery */
    char *delivery_title;                 /* NULL when absent */
    json_t *client;           /* (owned reference) the customer, or NULL */
    struct order_line *lines; /* nlines of them */
    size_t nlines;
};

/** @returns "new", "accepted", "other", "shipped", "delivered",
 *           "cancelled", "returned" (static). */
const char *order_status_name(enum order_status s);

/** @brief Free what a parser filled in @p o and zero it.  NULL-safe,
 *         idempotent. */
void order_clear(struct order *o);

/**
 * @brief Parse an RFC 3339 timestamp with an offset ("Z" allowed), e.g.
 *        "2023-11-22T14:24:30.123+03:00"; a space may replace the 'T'.
 *        Every order timestamp goes through here (one place to swap for
 *        the clock module).  Only years 1970 to 9999 are orders' times
 *        (docs/limits.md).
 * @param us receives microseconds since the epoch (fraction digits beyond
 *           the sixth are ignored).
 * @returns 0, or -1 when @p s is not such a timestamp or out of range.
 */
int order_ts_parse(const char *s, long long *us);

/**
 * @brief Compare two order versions (RFC 3339 timestamps).
 * @returns 1 when @p incoming is newer than @p current, 0 when it is the
 *          same or older, -1 when either cannot be parsed.
 */
int order_version_newer(const char *incoming, const char *current);

/* The largest amount of an order's price or total, in minor units
 * (999,999,999.99; docs/limits.md): the ledger stores numeric(14, 2). */
#define ORDER_MONEY_MAX_MINOR 99999999999LL

/**
 * @brief Normalise a money value of a JSON payload (string "1500.0",
 *        "7,5" or a number) into decimal text, from 0 to
 *        ORDER_MONEY_MAX_MINOR.
 * @returns 0, or -1 when @p v is not money in that range (null is -1 too).
 */
int order_money_text(const json_t *v, char *out, size_t out_size);

/**
 * @brief The orders.raw key of an order: "<store>:<remote id>".
 * @returns 0, or -1 when it does not fit @p out.
 */
int order_raw_key(const char *store, long long remote_id, char *out,
                  size_t out_size);

/**
 * @brief Validate the data of an orders.raw event against its key and
 *        store (called by event_data_validate()).
 * @returns 0, or -1 with errstr ("data.<field>: <reason>").
 */
int order_raw_validate(const char *key, const char *store, json_t *data,
                       char *errstr, size_t errstr_size);

#endif
