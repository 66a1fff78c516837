/*
 * sim_persist — the shop on disk (store-sim --data-dir DIR).
 *
 * The whole shop (products with their variants and images, orders,
 * categories, collections, collects, option names and values, the
 * warehouse, webhooks, queued group updates, every id counter and the
 * mutation clock) is one JSON document, DIR/shop.json.  After every
 * request that may have changed the shop, sim_http takes a snapshot
 * under the shop's lock (sim_persist_dump) and writes it outside the lock
 * (sim_persist_write): to DIR/shop.json.tmp, fsync, rename over
 * shop.json, fsync DIR.  A crash leaves the old or the new file, never a
 * torn one.  Not kept: the rate-limit windows, the request log and its
 * counters, the faults and webhook deliveries still queued.
 *
 * DIR/lock is held (flock) while the store-sim runs, so two store-sims
 * never share a shop.
 */
#ifndef SIM_PERSIST_H
#define SIM_PERSIST_H

#include <stddef.h>
#include <stdint.h>

struct sim_db;
struct sim_persist;

/* The file's format version ("store_sim_shop"). */
#define SIM_PERSIST_VERSION 1

/**
 * @brief Open (creating it) the data directory @p dir and lock it.
 * @returns the handle, or NULL with @p errstr filled (cannot create or
 *          open it, or another store-sim holds it).
 */
struct sim_persist *sim_persist_new(const char *dir, char *errstr,
                                    size_t errstr_size);

/** @brief Unlock and close; NULL-safe. */
void sim_persist_destroy(struct sim_persist *p);

/** @returns the shop file's path (borrowed, valid while @p p lives). */
const char *sim_persist_path(const struct sim_persist *p);

/**
 * @brief Replace the shop of @p db (fresh from sim_db_new, no request
 *        served yet) with the one in the shop file.
 * @returns 1 loaded, 0 no shop file (@p db untouched), -1 unreadable,
 *          malformed or inconsistent file, with @p errstr filled (then
 *          @p db holds part of it: only sim_db_destroy it).
 */
int sim_persist_load(struct sim_persist *p, struct sim_db *db, char *errstr,
                     size_t errstr_size);

/**
 * @brief The shop as the file's text (db->mu held by the caller).
 * @returns a malloc'd string, or NULL when out of memory.
 */
char *sim_persist_dump(struct sim_db *db);

/**
 * @brief Write snapshot @p text durably unless a later one is already
 *        written: @p gen numbers the snapshots in the order they were
 *        dumped (0 first, e.g. the shop as loaded).
 * @returns 0, or -1 with @p errstr filled (the file on disk is unchanged).
 * @locality any thread.
 */
int sim_persist_write(struct sim_persist *p, const char *text, uint64_t gen,
                      char *errstr, size_t errstr_size);

#endif
