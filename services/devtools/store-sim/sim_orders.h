/*
 * sim_orders — orders: the admin API (list, count, get, update) and the
 * shopper side (POST /_sim/orders), with the orders webhooks.
 */
#ifndef SIM_ORDERS_H
#define SIM_ORDERS_H

struct sim_db;
struct sim_req;
struct sim_resp;

/**
 * @brief Serve /admin/orders... (db->mu held).
 * @returns 1 when the route matched, else 0.
 */
int sim_orders_route(struct sim_db *db, struct sim_req *rq,
                     struct sim_resp *rs);

/**
 * @brief POST /_sim/orders: place an order as a shopper (db->mu held).
 *        201 with the order; 409 when a line exceeds stock; 422 for an
 *        unknown SKU or a bad body.  Nothing is applied on refusal.
 */
void sim_orders_place(struct sim_db *db, struct sim_req *rq,
                      struct sim_resp *rs);

/**
 * @brief POST /_sim/orders/{id}/status with {"fulfillment_status":..,
 *        "financial_status":..} (db->mu held).
 */
void sim_orders_set_status(struct sim_db *db, struct sim_req *rq,
                           struct sim_resp *rs, const char *id);

#endif
