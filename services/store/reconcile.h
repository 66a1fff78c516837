/*
 * reconcile — drift between what a store shows and what the ledger says it
 * should show (`omnisync reconcile`, docs/stock-publisher.md).
 *
 * The pure part: the store's variants (as its platform's products_page
 * shows them, platform.h) and the ledger's variants of the store (available
 * quantity, price and old price in the store's price list, remote id) are
 * matched — by the remote id recorded in remote_map first, then by SKU —
 * and compared field by field.  Money is compared numerically ("1500.0" ==
 * "1500.00"); an old price of zero counts as no old price.  No I/O here:
 * cmd_reconcile.c reads the store and the ledger.
 */
#ifndef OMNI_RECONCILE_H
#define OMNI_RECONCILE_H

#include "store/platform.h"

#include <jansson.h>
#include <stddef.h>

/* One ledger variant the store should sell (strings owned). */
struct reconcile_lvar {
    long long variant_id;
    long long remote_id; /* remote_map variant id in the store, 0: none */
    char *sku;
    long long available; /* ledger_available_calc() */
    char *price;         /* price in the store's price list (not NULL) */
    char *old_price;     /* NULL when the list has none */
};

/* A growable array of them. */
struct reconcile_lvars {
    struct reconcile_lvar *v;
    size_t n, cap;
};

/* One differing field. */
struct reconcile_drift {
    long long variant_id; /* ledger variant */
    long long remote_id;  /* store variant */
    int by_sku;           /* matched by SKU only: no remote_map row says so,
                             so a stock event cannot reach it */
    char sku[128];
    const char *field; /* "quantity", "price", "old_price" (static) */
    char store[48];    /* as the store shows it, "null" when absent */
    char ledger[48];   /* as the ledger says, "null" when absent */
};

/* The outcome of one comparison (all arrays owned). */
struct reconcile_report {
    struct reconcile_drift *drift;
    size_t n_drift;
    size_t n_drift_variants; /* distinct variants among the rows */
    char **missing;          /* ledger SKUs the store does not show */
    size_t n_missing;
    char **unknown; /* store SKUs ("#<id>" without a SKU) the ledger lacks */
    size_t n_unknown;
    size_t n_store;  /* store variants read */
    size_t n_ledger; /* ledger variants compared */
    size_t n_matched;
};

/**
 * @brief Append a copy of @p v (strings copied; NULLs kept).
 * @returns 0, or -1 when out of memory.
 */
int reconcile_lvars_add(struct reconcile_lvars *a,
                        const struct reconcile_lvar *v);

/** @brief Free the elements and the array, zero @p a.  NULL-safe. */
void reconcile_lvars_clear(struct reconcile_lvars *a);

/**
 * @returns 1 when @p a and @p b are the same amount (lib/money.h's
 *          money_parse(); both NULL counts as equal; a value that is not
 *          money equals only the identical string).
 */
int reconcile_money_eq(const char *a, const char *b);

/** @returns 1 when old prices agree: NULL and zero both mean "none". */
int reconcile_old_price_eq(const char *a, const char *b);

/**
 * @brief Match and compare.  Drift rows follow the order of @p l (one
 *        variant's rows together: quantity, price, old_price); missing
 *        follows @p l, unknown follows @p s.
 * @param rep filled; release with reconcile_report_clear().
 * @returns 0, or -1 when out of memory (rep is cleared).
 */
int reconcile_compare(const struct reconcile_lvars *l,
                      const struct store_variants *s,
                      struct reconcile_report *rep);

/** @returns 1 when the report shows no drift, missing or unknown variant. */
int reconcile_report_clean(const struct reconcile_report *rep);

/** @brief Free the report's arrays and zero it.  NULL-safe. */
void reconcile_report_clear(struct reconcile_report *rep);

/**
 * @brief {"store":..,"drift":[{"sku","field","store","ledger"}],
 *         "missing_in_store":[sku...],"unknown_in_store":[sku...]}
 *        (values as strings; "null" shown as JSON null).
 * @returns a new reference, or NULL when out of memory.
 */
json_t *reconcile_report_json(const char *store,
                              const struct reconcile_report *rep);

/** @returns the drift rows as a JSON array (new reference, or NULL). */
json_t *reconcile_drift_json(const struct reconcile_drift *d, size_t n);

#endif
