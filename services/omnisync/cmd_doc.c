/*
 * cmd_doc — `omnisync doc import|list|show`: the back office's documents
 * (supplier receipts, returns to suppliers, transfers, write-offs;
 * ledger/documents.h, docs/documents.md).
 */
#include "cli.h"

#include "ledger/documents.h"
#include "ledger/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The documents of a file: an object (one document), an array, or
 * {"documents": [...]}.  Returns a new array reference, or NULL after
 * printing why. */
static json_t *doc_file_load(const char *file)
{
    json_error_t jerr;
    json_t *root, *arr;

    root = strcmp(file, "-")
               ? json_load_file(file, JSON_REJECT_DUPLICATES, &jerr)
               : json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        cli_err(CLI_USAGE, "%s:%d:%d: %s", strcmp(file, "-") ? file : "<stdin>",
                jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (json_is_array(root))
        return root;
    arr = json_object_get(root, "documents");
    if (json_is_array(arr)) {
        json_incref(arr);
        json_decref(root);
        return arr;
    }
    arr = json_array();
    json_array_append_new(arr, root);
    return arr;
}

/* One document's outcome, as a line of text (errors on stderr). */
static void doc_report(const char *file, size_t i, enum documents_res res,
                       const struct documents_result *r, const char *err)
{
    const char *num = r->number ? r->number : "?";
    const json_t *e;
    size_t k;

    switch (res) {
    case DOCUMENTS_APPLIED:
        printf("%s: applied (%zu lines, %lld events)\n", num, r->lines,
               r->events);
        break;
    case DOCUMENTS_SAME:
        printf("%s: unchanged (already imported)\n", num);
        break;
    case DOCUMENTS_CONFLICT:
        fprintf(stderr,
                "%s: document %zu: number %s exists with other content "
                "(nothing applied)\n",
                file, i + 1, num);
        break;
    case DOCUMENTS_BAD:
        json_array_foreach(r->errors, k, e)
        {
            fprintf(stderr, "%s: document %zu (%s): %s: %s\n", file, i + 1, num,
                    json_string_value(json_object_get(e, "field")),
                    json_string_value(json_object_get(e, "error")));
        }
        break;
    default:
        fprintf(stderr, "%s: document %zu (%s): %s\n", file, i + 1, num, err);
    }
}

/* doc import FILE [--json] */
static int doc_import(int argc, char **argv)
{
    const char *pos[1];
    int as_json = 0, npos, rc, worst = CLI_OK;
    const struct cli_opt opts[] = {{"--json", NULL, &as_json},
                                   {NULL, NULL, NULL}};
    size_t counts[5] = {0}, i;
    struct documents_result r;
    enum documents_res res;
    json_t *docs, *out = NULL;
    char err[1024];
    PGconn *pg;

    rc = cli_args_parse("doc import", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "doc import: FILE is required");
    docs = doc_file_load(pos[0]);
    if (!docs)
        return CLI_USAGE;
    pg = cli_pg();
    if (!pg) {
        json_decref(docs);
        return CLI_DEPENDENCY;
    }
    out = as_json ? json_array() : NULL;
    for (i = 0; i < json_array_size(docs); i++) {
        res =
            documents_apply(pg, json_array_get(docs, i), &r, err, sizeof(err));
        counts[res < 0 ? 4 : res]++;
        if (out)
            json_array_append_new(
                out, json_pack("{s:s?, s:s, s:I, s:I, s:O?}", "number",
                               r.number, "result", documents_res_name(res),
                               "lines", (json_int_t)r.lines, "events",
                               (json_int_t)r.events, "errors", r.errors));
        if (!out || res < 0 || res >= DOCUMENTS_CONFLICT)
            doc_report(pos[0], i, res, &r, err);
        if (res < 0)
            worst = CLI_DEPENDENCY;
        else if (res >= DOCUMENTS_CONFLICT && worst == CLI_OK)
            worst = CLI_USAGE;
        documents_result_clear(&r);
    }
    if (out)
        cli_json_print(out);
    else
        printf("doc import: %zu documents, %zu applied, %zu unchanged, %zu "
               "refused\n",
               json_array_size(docs), counts[0], counts[1],
               counts[2] + counts[3] + counts[4]);
    json_decref(docs);
    PQfinish(pg);
    return worst;
}

/* doc list [--kind K] [--json] */
static int doc_list(int argc, char **argv)
{
    static const char *const headers[] = {
        "number",   "kind",        "date",  "counterparty",
        "location", "to_location", "lines", "created_at"};
    const char *kind = NULL, *pos[1];
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {{"--kind", &kind, NULL},
                                   {"--json", NULL, &as_json},
                                   {NULL, NULL, NULL}};
    char err[512];
    PGresult *res;
    PGconn *pg;

    rc = cli_args_parse("doc list", argc, argv, opts, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    res = documents_list(pg, kind, err, sizeof(err));
    rc = res ? cli_print_result(res, 8, headers, "sssnsnis", as_json)
             : cli_err(CLI_DEPENDENCY, "doc list: %s", err);
    PQclear(res);
    PQfinish(pg);
    return rc;
}

/* The document's movements as JSON rows or text lines. */
static json_t *doc_moves(const PGresult *mv, int as_json)
{
    json_t *arr = as_json ? json_array() : NULL;
    int i;

    for (i = 0; i < PQntuples(mv); i++) {
        if (arr)
            json_array_append_new(
                arr,
                json_pack("{s:I, s:s, s:s, s:s, s:I}", "movement",
                          (json_int_t)strtoll(PQgetvalue(mv, i, 0), NULL, 10),
                          "kind", PQgetvalue(mv, i, 1), "location",
                          PQgetvalue(mv, i, 2), "sku", PQgetvalue(mv, i, 3),
                          "delta",
                          (json_int_t)strtoll(PQgetvalue(mv, i, 4), NULL, 10)));
        else
            printf("  movement %s %s %s %s %s\n", PQgetvalue(mv, i, 0),
                   PQgetvalue(mv, i, 1), PQgetvalue(mv, i, 2),
                   PQgetvalue(mv, i, 3), PQgetvalue(mv, i, 4));
    }
    return arr;
}

/* doc show NUMBER [--json] */
static int doc_show(int argc, char **argv)
{
    const char *pos[1];
    int as_json = 0, npos, rc;
    const struct cli_opt opts[] = {{"--json", NULL, &as_json},
                                   {NULL, NULL, NULL}};
    PGresult *d = NULL, *mv = NULL;
    char err[512];
    PGconn *pg;

    rc = cli_args_parse("doc show", argc, argv, opts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_err(CLI_USAGE, "doc show: NUMBER is required");
    pg = cli_pg();
    if (!pg)
        return CLI_DEPENDENCY;
    d = documents_get(pg, pos[0], err, sizeof(err));
    if (d && PQntuples(d) == 1)
        mv = ledger_document_moves(pg, strtoll(PQgetvalue(d, 0, 8), NULL, 10),
                                   err, sizeof(err));
    if (!d || (PQntuples(d) == 1 && !mv))
        rc = cli_err(CLI_DEPENDENCY, "doc show: %s", err);
    else if (PQntuples(d) == 0)
        rc = cli_err(CLI_USAGE, "doc show: unknown document '%s'", pos[0]);
    else if (as_json)
        rc = cli_json_print(json_pack("{s:o, s:o}", "document",
                                      json_loads(PQgetvalue(d, 0, 9), 0, NULL),
                                      "movements", doc_moves(mv, 1)));
    else {
        printf("%s %s %s %s at %s%s%s, %s lines\n", PQgetvalue(d, 0, 0),
               PQgetvalue(d, 0, 1), PQgetvalue(d, 0, 2),
               PQgetisnull(d, 0, 3) ? "-" : PQgetvalue(d, 0, 3),
               PQgetvalue(d, 0, 4), PQgetisnull(d, 0, 5) ? "" : " -> ",
               PQgetvalue(d, 0, 5), PQgetvalue(d, 0, 6));
        doc_moves(mv, 0);
    }
    PQclear(d);
    PQclear(mv);
    PQfinish(pg);
    return rc;
}

static const struct cli_sub doc_subs[] = {
    {"import", doc_import,
     "doc import FILE|- [--json]\n"
     "  Documents from a JSON file (one document, an array, or\n"
     "  {\"documents\": [...]}); each in one transaction, each line a\n"
     "  movement referencing it.  The same number with the same content:\n"
     "  unchanged; with other content: refused (exit 2)."},
    {"list", doc_list,
     "doc list [--kind K] [--json]\n"
     "  number, kind, date, counterparty, location, to_location, lines,\n"
     "  created_at; by date then number."},
    {"show", doc_show,
     "doc show NUMBER [--json]\n"
     "  The document and the movements its lines became."},
    {NULL, NULL, NULL},
};

/**
 * @brief `omnisync doc ...`.
 * @returns CLI_OK, CLI_USAGE or CLI_DEPENDENCY.
 */
int cmd_doc(int argc, char **argv)
{
    return cli_sub_run(doc_subs, argc, argv);
}
