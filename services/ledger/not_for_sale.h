/*
 * not_for_sale — products catalog-publisher skipped for a store because
 * they are not (yet) for sale in its channel (table not_for_sale,
 * migration 0012; docs/catalog-publisher.md "Not for sale").
 *
 * A product with no active variant priced in the store's price list (or
 * with every variant archived) is not dead-lettered: it is recorded here
 * and published by the next event once it is sellable, which removes the
 * row.
 */
#ifndef OMNI_NOT_FOR_SALE_H
#define OMNI_NOT_FOR_SALE_H

#include <libpq-fe.h>
#include <stddef.h>

/**
 * @brief Record (or refresh the reason of) product @p product_id as not
 *        for sale in store @p store_id.
 * @returns 1 when the row is new, 0 when it was there, -1 with errstr.
 */
int not_for_sale_put(PGconn *pg, long long store_id, long long product_id,
                     const char *reason, char *errstr, size_t errstr_size);

/**
 * @brief Forget product @p product_id of store @p store_id (published or
 *        archived).
 * @returns 0 (also when there was none), or -1 with errstr.
 */
int not_for_sale_clear(PGconn *pg, long long store_id, long long product_id,
                       char *errstr, size_t errstr_size);

/**
 * @brief How many products store @p store_id has skipped as not for sale.
 * @returns 0, or -1 with errstr.
 */
int not_for_sale_count(PGconn *pg, long long store_id, long long *n,
                       char *errstr, size_t errstr_size);

struct metrics;
struct metrics_family;

/**
 * @brief Register the gauge omnisync_catalog_not_for_sale{store} in @p m
 *        (may be NULL: then NULL is returned).
 */
struct metrics_family *not_for_sale_gauge_new(struct metrics *m);

/**
 * @brief Set @p f (may be NULL: nothing is done) to every store's count.
 * @returns 0, or -1 with errstr.
 */
int not_for_sale_gauge_set(PGconn *pg, struct metrics_family *f, char *errstr,
                           size_t errstr_size);

#endif
