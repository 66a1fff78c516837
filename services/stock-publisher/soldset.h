/*
 * soldset — the store:variants a store was last sent as sold out
 * (available <= stockpub.urgent.at), so that only a change that SELLS a
 * variant out is urgent (flushpol.h), not every change of a variant the
 * store already shows as sold out.
 *
 * Only what this process pushed is known: after a restart every variant
 * is "not known sold out", so its first sell-out is urgent again (one
 * call at most per variant).  Holds only sold-out variants: its size is
 * the number of variants a store shows as sold out.
 *
 * @locality one thread (stock-publisher's consumer thread).
 */
#ifndef OMNI_SOLDSET_H
#define OMNI_SOLDSET_H

struct soldset;

/** @returns a new empty set, or NULL when out of memory. */
struct soldset *soldset_new(void);

/** @brief Free the set.  NULL-safe. */
void soldset_destroy(struct soldset *ss);

/**
 * @brief Record what @p store accepted for @p variant_id: sold out
 *        (@p sold 1) or not.
 * @returns 0, or -1 when out of memory (the variant is then not known
 *          sold out: its next sell-out is urgent, which is safe).
 */
int soldset_set(struct soldset *ss, const char *store, long long variant_id,
                int sold);

/** @returns 1 when @p store was last sent @p variant_id as sold out. */
int soldset_has(const struct soldset *ss, const char *store,
                long long variant_id);

#endif
