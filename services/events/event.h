/*
 * event — the envelope every omnisync event travels in (docs/events.md).
 *
 *   {"type","v","id","ts","store","key","data"}
 *
 * event_build() makes the envelope the relay publishes from an outbox row;
 * event_decode() parses and validates one received message: the envelope
 * strictly (no missing, extra or mistyped keys), then the data of the
 * known types (catalog.product, stock.available).  Error messages name
 * the offending field, e.g. "data.variants[0].sku: expected string".
 * The JSON Schemas in proto/ describe the same contract.
 */
#ifndef OMNI_EVENT_H
#define OMNI_EVENT_H

#include <jansson.h>
#include <stddef.h>

#define EVENT_VERSION 1

#define EVENT_CATALOG_PRODUCT "catalog.product"
#define EVENT_STOCK_AVAILABLE "stock.available"

/*
 * A decoded event.  Every pointer is borrowed from root and stays valid
 * until event_clear(); store is NULL when the envelope's store is null.
 */
struct event {
    json_t *root; /* owned: released by event_clear() */
    const char *type;
    int v;
    const char *id;
    const char *ts;
    const char *store;
    const char *key;
    json_t *data; /* borrowed from root */
};

/**
 * @brief Build the compact JSON envelope of one outbox row.
 *
 * @param type      event type, e.g. "catalog.product".
 * @param id        the row's event_id (UUID text).
 * @param ts        the row's created_at as RFC 3339 with offset and
 *                  milliseconds, e.g. "2026-11-27T23:43:46.123+00:00".
 * @param store     store name (may be NULL: JSON null).
 * @param key       the Kafka message key.
 * @param data_json the row's data as JSON text (an object).
 * @param errstr    receives the reason on failure.
 * @returns the envelope text, NUL-terminated (owned: free() it), or NULL
 *          when an argument is missing or @p data_json is not a JSON
 *          object.  The data is not validated against its type here: the
 *          ledger's writer owns it, and the relay must publish what it was
 *          given (consumers validate with event_decode()).
 */
char *event_build(const char *type, const char *id, const char *ts,
                  const char *store, const char *key, const char *data_json,
                  char *errstr, size_t errstr_size);

/**
 * @brief Parse and validate an envelope from @p len bytes at @p buf.
 *
 * Checks, in order: JSON syntax; the seven envelope keys with their types
 * (json_unpack_ex with JSON_STRICT); v == EVENT_VERSION; id is a UUID;
 * ts is RFC 3339 with an offset; key is not empty; type is known; the
 * type's data (see docs/events.md) and its relation to key and store.
 *
 * @param ev     filled on success; on failure left empty (root NULL).
 * @param errstr receives a precise reason naming the field on failure.
 * @returns 0, or -1 with errstr.
 */
int event_decode(struct event *ev, const void *buf, size_t len, char *errstr,
                 size_t errstr_size);

/**
 * @brief Validate the data object of an event of @p type with its key and
 *        store (the checks event_decode() applies after the envelope).
 * @param data  borrowed.
 * @param store may be NULL.
 * @returns 0, or -1 with errstr ("data.<field>: <reason>").
 */
int event_data_validate(const char *type, const char *key, const char *store,
                        json_t *data, char *errstr, size_t errstr_size);

/** @brief Release what event_decode() filled in.  Safe on an empty event. */
void event_clear(struct event *ev);

#endif
