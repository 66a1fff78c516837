#include "moves.h"

#include <stdlib.h>

/* A string member, or NULL when absent or not a string. */
static const char *moves_str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

struct movebatch_item *moves_from_json(const json_t *arr, int key_required)
{
    size_t n = json_array_size(arr), i;
    struct movebatch_item *items = calloc(n ? n : 1, sizeof(*items));
    const json_t *o, *qty;

    if (!items)
        return NULL;
    json_array_foreach(arr, i, o)
    {
        struct movebatch_item *it = &items[i];

        it->key_required = key_required;
        it->key = moves_str(o, "key");
        it->kind = moves_str(o, "kind");
        it->location = moves_str(o, "location");
        it->to_location = moves_str(o, "to_location");
        it->sku = moves_str(o, "sku");
        it->note = moves_str(o, "note");
        qty = json_object_get(o, "qty");
        it->qty = json_is_integer(qty) ? json_integer_value(qty) : -1;
    }
    return items;
}

json_t *moves_results_json(const struct movebatch_item *items, size_t n,
                           const struct movebatch_summary *sum)
{
    json_t *arr = json_array(), *r;
    size_t i;

    for (i = 0; arr && i < n; i++) {
        const struct movebatch_item *it = &items[i];

        r = json_pack("{s:I, s:s, s:I}", "index", (json_int_t)i, "status",
                      movebatch_status_name(it->status), "movement_id",
                      (json_int_t)it->move_id);
        if (r && it->key)
            json_object_set_new(r, "key", json_string(it->key));
        if (r && it->status == MOVEBATCH_APPLIED) {
            json_object_set_new(r, "delta", json_integer(it->delta));
            json_object_set_new(r, "on_hand", json_integer(it->on_hand));
        }
        if (!r || json_array_append_new(arr, r) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (!arr)
        return NULL;
    return json_pack("{s:I, s:I, s:I, s:o}", "applied",
                     (json_int_t)sum->applied, "duplicate",
                     (json_int_t)sum->duplicate, "events",
                     (json_int_t)sum->events, "results", arr);
}

json_t *moves_errors_json(const struct movebatch_item *items, size_t n)
{
    json_t *arr = json_array(), *e;
    size_t i;

    for (i = 0; arr && i < n; i++) {
        const struct movebatch_item *it = &items[i];

        if (it->status != MOVEBATCH_INVALID)
            continue;
        e = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i, "field",
                      it->field ? it->field : "", "error", it->error);
        if (e && it->key)
            json_object_set_new(e, "key", json_string(it->key));
        if (!e || json_array_append_new(arr, e) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (!arr)
        return NULL;
    return json_pack("{s:s, s:o}", "error", "invalid items: nothing applied",
                     "errors", arr);
}
