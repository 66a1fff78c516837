#include "ledger/documents.h"

#include "ledger/ledger.h"
#include "ledger/movebatch.h"
#include "lib/db.h"
#include "lib/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A document's kinds and the movement each line becomes. */
static const struct {
    const char *kind;
    const char *move;
} documents_kinds[] = {
    {"supplier_receipt", LEDGER_RECEIPT},
    {"supplier_return", LEDGER_WRITEOFF},
    {"transfer", LEDGER_TRANSFER},
    {"writeoff", LEDGER_WRITEOFF},
};
#define DOCUMENTS_NKINDS (sizeof(documents_kinds) / sizeof(documents_kinds[0]))

/* What one document is, read from its JSON (strings borrowed). */
struct documents_doc {
    const char *number, *kind, *move, *date, *counterparty, *location,
        *to_location;
    const json_t *lines;
    size_t n;
    char hash[HASH_SHA256_HEX_LEN + 1];
    char *content; /* canonical JSON (malloc) */
};

const char *documents_res_name(enum documents_res res)
{
    switch (res) {
    case DOCUMENTS_APPLIED:
        return "applied";
    case DOCUMENTS_SAME:
        return "unchanged";
    case DOCUMENTS_CONFLICT:
        return "conflict";
    case DOCUMENTS_BAD:
        return "invalid";
    default:
        return "failed";
    }
}

void documents_result_clear(struct documents_result *r)
{
    if (r) {
        json_decref(r->errors);
        r->errors = NULL;
    }
}

static void documents_bad(struct documents_result *r, const char *field,
                          const char *msg)
{
    if (!r->errors)
        r->errors = json_array();
    json_array_append_new(
        r->errors, json_pack("{s:s, s:s}", "field", field, "error", msg));
}

/* A string member of 1..max bytes, or NULL (reported when required). */
static const char *documents_str(const json_t *o, const char *name, size_t max,
                                 int required, struct documents_result *r)
{
    const json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);

    if ((!v || json_is_null(v)) && !required)
        return NULL;
    if (!s || !*s || strlen(s) > max) {
        char msg[96];

        snprintf(msg, sizeof(msg), "required: a string of 1-%zu bytes", max);
        documents_bad(r, name, msg);
        return NULL;
    }
    return s;
}

/* YYYY-MM-DD with plausible ranges (Postgres checks the calendar). */
static int documents_date_ok(const char *s)
{
    int y, m, d;
    char tail;

    return s && strlen(s) == 10 &&
           sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 1900 &&
           y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* The header fields of @p o into @p d; errors into @p r. */
static void documents_head(const json_t *o, struct documents_doc *d,
                           struct documents_result *r)
{
    size_t i;

    d->number = documents_str(o, "number", DOCUMENTS_NUMBER_MAX, 1, r);
    r->number = d->number;
    d->kind = documents_str(o, "kind", 40, 1, r);
    for (i = 0; d->kind && i < DOCUMENTS_NKINDS; i++)
        if (!strcmp(d->kind, documents_kinds[i].kind))
            d->move = documents_kinds[i].move;
    if (d->kind && !d->move)
        documents_bad(r, "kind",
                      "not one of supplier_receipt, supplier_return, "
                      "transfer, writeoff");
    d->date = documents_str(o, "date", 10, 1, r);
    if (d->date && !documents_date_ok(d->date))
        documents_bad(r, "date", "not a date YYYY-MM-DD");
    d->counterparty = documents_str(o, "counterparty", 200, 0, r);
    d->location = documents_str(o, "location", 200, 1, r);
    d->to_location = documents_str(
        o, "to_location", 200, d->move && !strcmp(d->move, LEDGER_TRANSFER), r);
    if (d->to_location && d->move && strcmp(d->move, LEDGER_TRANSFER))
        documents_bad(r, "to_location", "only for a transfer");
    d->lines = json_object_get(o, "lines");
    d->n = json_array_size(d->lines);
    if (!json_is_array(d->lines) || d->n == 0 || d->n > DOCUMENTS_LINES_MAX)
        documents_bad(r, "lines", "an array of 1-10000 lines");
}

/* The canonical JSON and its hash: what "the same content" means. */
static int documents_canon(struct documents_doc *d)
{
    json_t *lines = json_array(), *c;
    const json_t *l;
    size_t i;

    json_array_foreach(d->lines, i, l)
    {
        json_array_append_new(lines, json_pack("{s:O?, s:O?}", "sku",
                                               json_object_get(l, "sku"), "qty",
                                               json_object_get(l, "qty")));
    }
    c = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:o}", "number", d->number,
                  "kind", d->kind, "date", d->date, "counterparty",
                  d->counterparty, "location", d->location, "to_location",
                  d->to_location, "lines", lines);
    d->content = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(c);
    if (!d->content)
        return -1;
    hash_sha256_hex(d->content, strlen(d->content), d->hash);
    return 0;
}

/* Insert the document row.  Returns DOCUMENTS_APPLIED (r->id the new
 * row), DOCUMENTS_SAME / DOCUMENTS_CONFLICT (r->id the existing one),
 * DOCUMENTS_BAD (an unknown location), or DOCUMENTS_ERR. */
static enum documents_res documents_insert(PGconn *pg,
                                           const struct documents_doc *d,
                                           struct documents_result *r,
                                           char *errstr, size_t errstr_size)
{
    const char *vals[8] = {d->number,       d->kind,     d->date,
                           d->counterparty, d->location, d->to_location,
                           d->content,      d->hash};
    enum documents_res rc = DOCUMENTS_ERR;
    PGresult *res;

    res =
        db_exec(pg,
                "INSERT INTO document (number, kind, doc_date, counterparty,"
                " location_id, to_location_id, content, content_hash) "
                "SELECT $1, $2, $3::date, $4, l.id, t.id, $7::jsonb, $8 "
                "FROM location l LEFT JOIN location t ON t.code = $6 "
                "WHERE l.code = $5 AND ($6::text IS NULL OR t.id IS NOT NULL) "
                "ON CONFLICT (number) DO NOTHING RETURNING id",
                8, vals, "insert document", errstr, errstr_size, NULL);
    if (!res)
        return DOCUMENTS_ERR;
    if (PQntuples(res) == 1) {
        r->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        return DOCUMENTS_APPLIED;
    }
    PQclear(res);
    res = db_exec(pg, "SELECT id, content_hash FROM document WHERE number = $1",
                  1, vals, "read document", errstr, errstr_size, NULL);
    if (!res)
        return DOCUMENTS_ERR;
    if (PQntuples(res) == 1) {
        r->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        rc = strcmp(PQgetvalue(res, 0, 1), d->hash) ? DOCUMENTS_CONFLICT
                                                    : DOCUMENTS_SAME;
    } else {
        /* No row and no conflict: a location did not match. */
        documents_bad(r, "location", "unknown location");
        rc = DOCUMENTS_BAD;
    }
    PQclear(res);
    return rc;
}

/* The lines as movement items (keys "doc:NUMBER:N" in @p keys). */
static struct movebatch_item *documents_items(const struct documents_doc *d,
                                              long long doc_id, char **keys)
{
    struct movebatch_item *items = calloc(d->n, sizeof(*items));
    size_t i, klen = strlen(d->number) + 32;
    const json_t *l, *qty;

    *keys = calloc(d->n, klen);
    if (!items || !*keys) {
        free(items);
        free(*keys);
        *keys = NULL;
        return NULL;
    }
    json_array_foreach(d->lines, i, l)
    {
        char *k = *keys + i * klen;

        snprintf(k, klen, "doc:%s:%zu", d->number, i + 1);
        qty = json_object_get(l, "qty");
        items[i].kind = d->move;
        items[i].key = k;
        items[i].location = d->location;
        items[i].to_location = d->to_location;
        items[i].sku = json_string_value(json_object_get(l, "sku"));
        items[i].qty = json_is_integer(qty) ? json_integer_value(qty) : -1;
        items[i].document_id = doc_id;
    }
    return items;
}

/* The document's lines, in the open transaction. */
static enum documents_res documents_lines(PGconn *pg,
                                          const struct documents_doc *d,
                                          struct documents_result *r,
                                          char *errstr, size_t errstr_size)
{
    struct movebatch_summary sum;
    struct movebatch_item *items;
    char *keys = NULL, field[64];
    enum documents_res rc = DOCUMENTS_ERR;
    size_t i;
    int res;

    items = documents_items(d, r->id, &keys);
    if (!items) {
        snprintf(errstr, errstr_size, "out of memory");
        return DOCUMENTS_ERR;
    }
    res = movebatch_apply_tx(pg, items, d->n, &sum, errstr, errstr_size, NULL);
    if (res == MOVEBATCH_BAD) {
        for (i = 0; i < d->n; i++)
            if (items[i].status == MOVEBATCH_INVALID) {
                snprintf(field, sizeof(field), "lines[%zu].%s", i,
                         items[i].field);
                documents_bad(r, field, items[i].error);
            }
        rc = DOCUMENTS_BAD;
    } else if (res == MOVEBATCH_OK) {
        r->lines = sum.applied;
        r->events = sum.events;
        rc = DOCUMENTS_APPLIED;
    }
    free(items);
    free(keys);
    return rc;
}

enum documents_res documents_apply(PGconn *pg, const json_t *doc,
                                   struct documents_result *r, char *errstr,
                                   size_t errstr_size)
{
    struct documents_doc d;
    enum documents_res rc;

    memset(&d, 0, sizeof(d));
    memset(r, 0, sizeof(*r));
    if (!json_is_object(doc)) {
        documents_bad(r, "", "a document is a JSON object");
        return DOCUMENTS_BAD;
    }
    documents_head(doc, &d, r);
    if (r->errors)
        return DOCUMENTS_BAD;
    if (documents_canon(&d) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return DOCUMENTS_ERR;
    }
    if (db_begin(pg, errstr, errstr_size) < 0) {
        free(d.content);
        return DOCUMENTS_ERR;
    }
    rc = documents_insert(pg, &d, r, errstr, errstr_size);
    if (rc == DOCUMENTS_APPLIED)
        rc = documents_lines(pg, &d, r, errstr, errstr_size);
    if (rc == DOCUMENTS_APPLIED && db_commit(pg, errstr, errstr_size) < 0)
        rc = DOCUMENTS_ERR;
    if (rc != DOCUMENTS_APPLIED)
        db_rollback(pg);
    free(d.content);
    return rc;
}

#define DOCUMENTS_SQL_COLUMNS                                                  \
    "SELECT d.number, d.kind, d.doc_date::text, d.counterparty, l.code,"       \
    " t.code, jsonb_array_length(d.content->'lines'),"                         \
    " to_char(d.created_at AT TIME ZONE 'UTC', "                               \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), d.id, d.content::text "                \
    "FROM document d JOIN location l ON l.id = d.location_id"                  \
    " LEFT JOIN location t ON t.id = d.to_location_id "

PGresult *documents_list(PGconn *pg, const char *kind, char *errstr,
                         size_t errstr_size)
{
    const char *vals[1] = {kind};

    return db_exec(pg,
                   DOCUMENTS_SQL_COLUMNS
                   "WHERE ($1::text IS NULL OR d.kind = $1) "
                   "ORDER BY d.doc_date, d.number COLLATE \"C\"",
                   1, vals, "list documents", errstr, errstr_size, NULL);
}

PGresult *documents_get(PGconn *pg, const char *number, char *errstr,
                        size_t errstr_size)
{
    const char *vals[1] = {number};

    return db_exec(pg, DOCUMENTS_SQL_COLUMNS "WHERE d.number = $1", 1, vals,
                   "read document", errstr, errstr_size, NULL);
}
