/*
 * sim_products — products, variants, images and variants_group_update.
 */
#ifndef SIM_PRODUCTS_H
#define SIM_PRODUCTS_H

#include <stdint.h>

#include <jansson.h>

struct sim_db;
struct sim_req;
struct sim_resp;

/**
 * @brief Serve /admin/products... and /admin/variants/group_update
 *        (db->mu held).
 * @returns 1 when the route matched (response filled), else 0.
 */
int sim_products_route(struct sim_db *db, struct sim_req *rq,
                       struct sim_resp *rs);

/**
 * @brief Create a product from its JSON (the inner object of
 *        {"product":{...}}), as POST /admin/products.json does (lock held).
 * @param errors (out, new reference) the 422 body on failure.
 * @returns the product id, or -1 with @p errors set.
 */
int64_t sim_product_create(struct sim_db *db, json_t *in, int64_t now,
                           json_t **errors);

/** @brief Apply queued group updates that are due (lock held). */
void sim_products_tick(struct sim_db *db, int64_t now_ms);

/** @brief Find or create option name @p title; returns its id or -1. */
int64_t sim_option_name_intern(struct sim_db *db, const char *title,
                               int64_t now);

#endif
