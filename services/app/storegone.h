/*
 * storegone — what remote_map says a store holds that the store no longer
 * shows: products and variants deleted in the store behind omnisync's
 * back (docs/catalog-publisher.md "Deleted in the store").
 *
 * `omnisync sync resync` and `omnisync reconcile --repair` read the
 * store's products and call storegone_mark(): the recorded payload hash
 * of each lost product and variant becomes "", so the product differs
 * from remote_map and is published again; catalog-publisher's update then
 * meets a 404 and creates the object anew, re-mapping it.
 */
#ifndef OMNI_STOREGONE_H
#define OMNI_STOREGONE_H

#include "store/platform.h"

#include <libpq-fe.h>
#include <stddef.h>

/* What storegone_mark() found. */
struct storegone {
    long long *pids; /* local ids of the products to publish again */
    size_t n;
    size_t products; /* mapped products the store does not show */
    size_t variants; /* mapped variants the store does not show */
};

/**
 * @brief Every variant of every product store @p call's store shows
 *        (all pages of products_page), appended to @p out.  A transient
 *        failure is tried again a few times (a 429 waits in the budget).
 * @returns 0, or -1 with errstr.
 */
int storegone_read(const struct store_platform *plat, struct store_call *call,
                   struct store_variants *out, char *errstr,
                   size_t errstr_size);

/**
 * @brief Compare remote_map of store @p store_id with @p shown (every
 *        variant the store shows, with its product id) and reset the
 *        payload hash of what the store lost, in one transaction.
 * @param out filled; release with storegone_clear().
 * @returns 0, or -1 with errstr (nothing changed).
 */
int storegone_mark(PGconn *pg, long long store_id,
                   const struct store_variants *shown, struct storegone *out,
                   char *errstr, size_t errstr_size);

/** @brief Free @p g's ids and zero it.  NULL-safe. */
void storegone_clear(struct storegone *g);

#endif
