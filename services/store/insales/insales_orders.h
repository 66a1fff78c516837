/*
 * insales_orders — inSales orders and order webhooks behind the platform
 * seam (store/platform.h, "orders and webhooks").
 *
 * Orders (../shared/INSALES.md §5): GET /admin/orders.json polled with the
 * §2.2 loop (always page 1, updated_since = the last order's updated_at,
 * from_id = its id); an order object's id, updated_at, number,
 * fulfillment_status, financial_status, total_price, delivery_price,
 * delivery_title, client and order_lines (id, variant_id, sku, title,
 * quantity, sale_price); status changes by PUT fulfillment_status.
 *
 * Webhooks (§6): orders/create and orders/update, JSON, one order object
 * per request.  inSales does not sign them, so the store's secret is part
 * of the address: <intake>/hooks/<32 hex secret>/orders.
 */
#ifndef OMNI_INSALES_ORDERS_H
#define OMNI_INSALES_ORDERS_H

#include "events/order.h"
#include "lib/outcome.h"
#include "store/platform.h"

#include <jansson.h>
#include <stddef.h>

/* Length of a webhook secret in the path (hex chars). */
#define INSALES_HOOK_SECRET_LEN 32

/**
 * @brief One page of orders since @p since (store_platform.orders_page).
 * @returns OUTCOME_OK with @p page set, or the call's outcome (a body
 *          that is not an array is OUTCOME_REJECTED).
 */
enum outcome insales_orders_page(struct store_call *call,
                                 const struct order_cursor *since, long limit,
                                 json_t **page);

/**
 * @brief Identify an order object (store_platform.order_identify): id > 0
 *        and an RFC 3339 updated_at, the cursor past it being
 *        (updated_at as written, id).
 * @returns 0, or -1 with errstr.
 */
int insales_order_identify(const json_t *raw, struct order_ref *ref,
                           char *errstr, size_t errstr_size);

/**
 * @brief Parse an order object (store_platform.order_parse).  Requires id
 *        and updated_at; order_lines, when present, an array of at most
 *        ORDER_MAX_LINES objects with quantity > 0.  A missing
 *        fulfillment_status is "new".
 * @returns 0, or -1 with errstr naming the field.
 */
int insales_order_parse(const json_t *raw, struct order *o, char *errstr,
                        size_t errstr_size);

/**
 * @brief The neutral status of a fulfillment_status: new; accepted and
 *        approved; dispatched (shipped); delivered; declined (cancelled);
 *        returned; anything else is a shop's own status (other).
 */
enum order_status insales_order_status(const char *fulfillment_status);

/** @returns the fulfillment_status that sets @p s, or NULL for
 *           ORDER_STATUS_OTHER (static). */
const char *insales_order_status_label(enum order_status s);

/**
 * @brief PUT the fulfillment_status of @p s on order @p remote_id
 *        (store_platform.order_status_set).
 */
enum outcome insales_order_status_set(struct store_call *call,
                                      long long remote_id, enum order_status s);

/**
 * @brief The webhook address of the store holding @p secret:
 *        "<base_url>/hooks/<secret>/orders".
 * @returns 0, or -1 when it does not fit @p out.
 */
int insales_webhook_address(const char *base_url, const char *secret, char *out,
                            size_t out_size);

/**
 * @brief List the store's webhooks, create orders/create and orders/update
 *        at the address of @p secret when missing (a 422 "already exists"
 *        counts as done) (store_platform.webhooks_register).
 */
enum outcome insales_webhooks_register(struct store_call *call,
                                       const char *base_url, const char *secret,
                                       int *created);

/** @returns 1 when @p path is "/hooks/<32 lower-case hex>/orders". */
int insales_webhook_route(const char *path);

/** @returns 1 when the secret in @p req's path is @p secret. */
int insales_webhook_authenticate(const struct webhook_request *req,
                                 const char *secret);

#endif
