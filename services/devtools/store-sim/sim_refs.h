/*
 * sim_refs — reference data of the shop: account, categories (warehouse
 * tree), collections (storefront tree) and collects, option names and
 * values, warehouses, webhooks.
 */
#ifndef SIM_REFS_H
#define SIM_REFS_H

struct sim_db;
struct sim_req;
struct sim_resp;

/**
 * @brief Serve the reference resources (db->mu held).
 * @returns 1 when the route matched, else 0.
 */
int sim_refs_route(struct sim_db *db, struct sim_req *rq, struct sim_resp *rs);

#endif
