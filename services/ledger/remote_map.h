/*
 * remote_map — the ledger's map from local ids to the store's ids
 * (table remote_map: store_id, entity, local_id, remote_id, payload_hash).
 *
 * payload_hash is the hash of what was last sent (store/doc_hash.h), so
 * an unchanged payload is not sent again.
 *
 * In-flight markers: before a create whose outcome could be lost (the
 * process dies after the store created the object but before the id is
 * recorded), catalog-publisher records a marker row with remote_id =
 * -local_id and payload_hash = REMOTE_MAP_INFLIGHT, committed before the
 * call.  A later attempt that finds the marker looks the object up in the
 * store (by SKU) before creating it again.  remote_id > 0 is a real id.
 *
 * Entities: "category" (local_id = product_group.id; 0 is the store's root
 * category), "product", "variant", "image", "photoset" (migration 0012).
 */
#ifndef OMNI_REMOTE_MAP_H
#define OMNI_REMOTE_MAP_H

#include <libpq-fe.h>
#include <stddef.h>

#define REMOTE_MAP_INFLIGHT "inflight"

#define REMOTE_MAP_CATEGORY "category"
#define REMOTE_MAP_PRODUCT "product"
#define REMOTE_MAP_VARIANT "variant"
#define REMOTE_MAP_IMAGE "image"
/* local id: product; remote id: the store's product; payload_hash: the
 * hash of the photo set the store's images were last aligned with */
#define REMOTE_MAP_PHOTOSET "photoset"

/* One row. */
struct remote_ref {
    long long remote_id; /* > 0 real; < 0 in-flight marker */
    char hash[72];       /* payload_hash, "" when NULL */
    long long age_s;     /* seconds since updated_at */
};

/**
 * @brief Read the row of (@p store_id, @p entity, @p local_id).
 * @returns 1 found (ref filled), 0 not found, -1 with errstr.
 */
int remote_map_get(PGconn *pg, long long store_id, const char *entity,
                   long long local_id, struct remote_ref *ref, char *errstr,
                   size_t errstr_size);

/**
 * @brief Insert or replace the row of (@p store_id, @p entity,
 *        @p local_id).  A row of another local id holding the same remote
 *        id (a stale mapping) is removed first, in the same statement
 *        sequence.
 * @param hash payload hash (may be NULL: SQL NULL).
 * @returns 0, or -1 with errstr.
 */
int remote_map_put(PGconn *pg, long long store_id, const char *entity,
                   long long local_id, long long remote_id, const char *hash,
                   char *errstr, size_t errstr_size);

/**
 * @brief Record an in-flight marker (remote_id = -local_id), unless a real
 *        mapping exists.
 * @returns 0, or -1 with errstr.
 */
int remote_map_mark_inflight(PGconn *pg, long long store_id, const char *entity,
                             long long local_id, char *errstr,
                             size_t errstr_size);

/**
 * @brief Delete the row of (@p store_id, @p entity, @p local_id).
 * @returns 0 (also when there was none), or -1 with errstr.
 */
int remote_map_del(PGconn *pg, long long store_id, const char *entity,
                   long long local_id, char *errstr, size_t errstr_size);

/**
 * @brief Find the local id mapped to @p remote_id.
 * @returns 1 found (*local_id set), 0 not found, -1 with errstr.
 */
int remote_map_find_local(PGconn *pg, long long store_id, const char *entity,
                          long long remote_id, long long *local_id,
                          char *errstr, size_t errstr_size);

/**
 * @brief Serialise category creation for one store across processes
 *        (a session advisory lock): hold it from the look-up by (parent,
 *        title) to recording the new category's id, so neither a second
 *        instance nor a crash in between duplicates a category.
 * @returns 0, or -1 with errstr.
 */
int remote_map_category_lock(PGconn *pg, long long store_id, char *errstr,
                             size_t errstr_size);

/** @brief Release remote_map_category_lock().  A failure is ignored: the
 *         lock ends with the session, which a lost connection resets. */
void remote_map_category_unlock(PGconn *pg, long long store_id);

/* A real mapping, as remote_map_list() returns them. */
struct remote_map_row {
    long long local_id;
    long long remote_id; /* > 0 */
    char hash[72];       /* payload_hash, "" when NULL */
};

/**
 * @brief Every real mapping (remote id > 0) of @p entity in store
 *        @p store_id, by local id.
 * @param rows receives a malloc()ed array (caller frees).
 * @returns 0, or -1 with errstr.
 */
int remote_map_list(PGconn *pg, long long store_id, const char *entity,
                    struct remote_map_row **rows, size_t *n, char *errstr,
                    size_t errstr_size);

/**
 * @brief The store's ids of the @p n local ids @p local_ids of @p entity:
 *        remote_ids[i] is the real remote id of local_ids[i], 0 when it
 *        has none.
 * @returns 0, or -1 with errstr.
 */
int remote_map_remote_ids(PGconn *pg, long long store_id, const char *entity,
                          const long long *local_ids, size_t n,
                          long long *remote_ids, char *errstr,
                          size_t errstr_size);

/* How far a store's sync is (`omnisync status`): what remote_map holds
 * with the current payload, of what is not archived. */
struct remote_map_progress {
    long long products_synced; /* mapped, payload hash recorded */
    long long variants_synced; /* likewise */
    long long photos_synced;   /* mapped with the photo's current sha256 */
    long long photos_queued;   /* photos of mapped products not in the
                                  store with their current content and not
                                  dead-lettered: image jobs still to do */
};

/** @brief Fill @p p for store @p store_id.  @returns 0, or -1 with errstr. */
int remote_map_progress(PGconn *pg, long long store_id,
                        struct remote_map_progress *p, char *errstr,
                        size_t errstr_size);

#endif
