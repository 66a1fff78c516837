/*
 * documents — the back office's documents (table document, migration
 * 0015; docs/documents.md): supplier receipts, returns to suppliers,
 * transfers and write-offs, each with a number, a date, a counterparty,
 * its location(s) and lines.  Each line becomes one stock movement that
 * references the document (through ledger/movebatch.h, key
 * "doc:NUMBER:N"), in the document's one transaction.
 *
 * A document is given as JSON (a file of `omnisync doc import`, a body of
 * ledger-api's POST /v1/documents):
 *
 *   {"number": "PR-0001", "kind": "supplier_receipt", "date": "2026-12-01",
 *    "counterparty": "Supplier Ltd", "location": "WH1",
 *    "lines": [{"sku": "SH-1-RED-M", "qty": 5}]}
 *
 * ("to_location" for a transfer only).  Its number is unique: the same
 * number with the same content (SHA-256 of its canonical JSON) again is a
 * no-op, with other content an error.
 */
#ifndef OMNI_DOCUMENTS_H
#define OMNI_DOCUMENTS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#define DOCUMENTS_LINES_MAX 10000
#define DOCUMENTS_NUMBER_MAX 100

enum documents_res {
    DOCUMENTS_ERR = -1,     /* the ledger failed: nothing written */
    DOCUMENTS_APPLIED = 0,  /* new: written with its movements */
    DOCUMENTS_SAME = 1,     /* that number with that content: no-op */
    DOCUMENTS_CONFLICT = 2, /* that number with other content: refused */
    DOCUMENTS_BAD = 3,      /* invalid: see errors; nothing written */
};

struct documents_result {
    long long id;       /* the document (APPLIED, SAME, CONFLICT) */
    const char *number; /* borrowed from the input (may be NULL) */
    size_t lines;
    long long events;
    json_t *errors; /* BAD: [{"field", "error"}] (field "lines[N].sku"...);
                       owned: documents_result_clear() */
};

/**
 * @brief Check @p doc and apply it in one transaction of its own.
 * @param doc borrowed.
 * @returns a documents_res; DOCUMENTS_ERR with errstr.
 */
enum documents_res documents_apply(PGconn *pg, const json_t *doc,
                                   struct documents_result *r, char *errstr,
                                   size_t errstr_size);

/** @brief Free what @p r holds.  NULL-safe. */
void documents_result_clear(struct documents_result *r);

/** @returns the word of @p res: applied, unchanged, conflict, invalid,
 *  failed. */
const char *documents_res_name(enum documents_res res);

/**
 * @brief The documents `doc list` prints, by date then number: number,
 *        kind, date, counterparty, location, to_location, lines,
 *        created_at.
 * @param kind keep only this kind (may be NULL).
 * @returns the rows (PQclear() them), or NULL with errstr.
 */
PGresult *documents_list(PGconn *pg, const char *kind, char *errstr,
                         size_t errstr_size);

/**
 * @brief Document @p number as `doc show` prints it: the row (columns as
 *        documents_list(), then id and content).
 * @returns the result with 0 or 1 row (PQclear() it), or NULL with errstr.
 */
PGresult *documents_get(PGconn *pg, const char *number, char *errstr,
                        size_t errstr_size);

#endif
