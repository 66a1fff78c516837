#include "ledger/movebatch.h"

#include "ledger/catalog.h"
#include "ledger/ledger.h"
#include "lib/db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const movebatch_kinds[] = {
    LEDGER_RECEIPT,  LEDGER_SALE,     LEDGER_RETURN,
    LEDGER_WRITEOFF, LEDGER_TRANSFER, LEDGER_COUNT,
};

const char *movebatch_status_name(enum movebatch_status st)
{
    switch (st) {
    case MOVEBATCH_APPLIED:
        return "applied";
    case MOVEBATCH_DUPLICATE:
        return "duplicate";
    case MOVEBATCH_INVALID:
        return "invalid";
    default:
        return "pending";
    }
}

static int movebatch_bad(struct movebatch_item *it, const char *field,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int movebatch_bad(struct movebatch_item *it, const char *field,
                         const char *fmt, ...)
{
    va_list ap;

    it->status = MOVEBATCH_INVALID;
    it->field = field;
    va_start(ap, fmt);
    vsnprintf(it->error, sizeof(it->error), fmt, ap);
    va_end(ap);
    return -1;
}

/* A required code-like field: present, not empty, not too long. */
static int movebatch_code_check(struct movebatch_item *it, const char *field,
                                const char *v)
{
    if (!v || !*v)
        return movebatch_bad(it, field, "required");
    if (strlen(v) > MOVEBATCH_KEY_MAX)
        return movebatch_bad(it, field, "longer than %d bytes",
                             MOVEBATCH_KEY_MAX);
    return 0;
}

int movebatch_item_check(struct movebatch_item *it)
{
    size_t i;
    int is_count, is_transfer;

    for (i = 0;
         it->kind && i < sizeof(movebatch_kinds) / sizeof(*movebatch_kinds);
         i++)
        if (!strcmp(it->kind, movebatch_kinds[i]))
            break;
    if (!it->kind || i == sizeof(movebatch_kinds) / sizeof(*movebatch_kinds))
        return movebatch_bad(it, "kind",
                             "not one of receipt, sale, return, writeoff, "
                             "transfer, count");
    is_count = !strcmp(it->kind, LEDGER_COUNT);
    is_transfer = !strcmp(it->kind, LEDGER_TRANSFER);
    if (movebatch_code_check(it, "location", it->location) < 0 ||
        movebatch_code_check(it, "sku", it->sku) < 0)
        return -1;
    if (is_transfer &&
        movebatch_code_check(it, "to_location", it->to_location) < 0)
        return -1;
    if (is_transfer && !strcmp(it->location, it->to_location))
        return movebatch_bad(it, "to_location", "same as location");
    if (!is_transfer && it->to_location)
        return movebatch_bad(it, "to_location", "only for a transfer");
    if (it->qty < (is_count ? 0 : 1) || it->qty > MOVEBATCH_QTY_MAX)
        return movebatch_bad(it, "qty", "%s integer up to %lld",
                             is_count ? "a non-negative" : "a positive",
                             MOVEBATCH_QTY_MAX);
    if (it->key_required && !it->key)
        return movebatch_bad(it, "key", "required");
    if (it->key && (!*it->key || strlen(it->key) > MOVEBATCH_KEY_MAX))
        return movebatch_bad(it, "key", "empty or longer than %d bytes",
                             MOVEBATCH_KEY_MAX);
    if (it->note && strlen(it->note) > MOVEBATCH_NOTE_MAX)
        return movebatch_bad(it, "note", "longer than %d bytes",
                             MOVEBATCH_NOTE_MAX);
    return 0;
}

/* The ids of the batch's location codes (@p locs: 2 a item, the second 0
 * unless a transfer) and SKUs (@p vars); unknown ones make their item
 * INVALID.  Returns the number of bad items, or -1 with errstr. */
static long long movebatch_resolve(PGconn *pg, struct movebatch_item *items,
                                   size_t n, long long *locs, long long *vars,
                                   char *errstr, size_t errstr_size,
                                   char *sqlstate)
{
    const char **codes = calloc(2 * n + 1, sizeof(*codes));
    long long bad = -1;
    size_t i;

    if (!codes) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        codes[2 * i] = items[i].location;
        codes[2 * i + 1] =
            items[i].to_location ? items[i].to_location : items[i].location;
    }
    if (ledger_location_ids(pg, codes, 2 * n, locs, errstr, errstr_size) < 0)
        goto out;
    for (i = 0; i < n; i++)
        codes[i] = items[i].sku ? items[i].sku : "";
    if (catalog_variant_ids(pg, codes, n, vars, errstr, errstr_size, sqlstate) <
        0)
        goto out;
    bad = 0;
    for (i = 0; i < n; i++) {
        if (items[i].status == MOVEBATCH_INVALID)
            continue;
        if (!locs[2 * i])
            movebatch_bad(&items[i], "location", "unknown location \"%s\"",
                          items[i].location);
        else if (!locs[2 * i + 1])
            movebatch_bad(&items[i], "to_location", "unknown location \"%s\"",
                          items[i].to_location);
        else if (!vars[i])
            movebatch_bad(&items[i], "sku", "unknown SKU \"%s\"", items[i].sku);
        else
            continue;
        bad++;
    }
out:
    free(codes);
    return bad;
}

/* Item @p it as a ledger movement with its lines in @p lines (room for
 * two). */
static void movebatch_move(const struct movebatch_item *it, long long loc,
                           long long to, long long var,
                           struct ledger_line *lines, struct ledger_move *m)
{
    memset(lines, 0, 2 * sizeof(*lines));
    memset(m, 0, sizeof(*m));
    m->kind = it->kind;
    m->idem_key = it->key;
    m->note = it->note;
    m->document_id = it->document_id;
    m->lines = lines;
    m->nlines = 1;
    lines[0].location_id = loc;
    lines[0].variant_id = var;
    if (!strcmp(it->kind, LEDGER_RECEIPT) || !strcmp(it->kind, LEDGER_RETURN)) {
        lines[0].on_hand_delta = it->qty;
    } else if (!strcmp(it->kind, LEDGER_COUNT)) {
        lines[0].on_hand_delta = it->qty;
        lines[0].on_hand_absolute = 1;
    } else {
        lines[0].on_hand_delta = -it->qty;
    }
    if (!strcmp(it->kind, LEDGER_TRANSFER)) {
        lines[1].location_id = to;
        lines[1].variant_id = var;
        lines[1].on_hand_delta = it->qty;
        m->nlines = 2;
    }
}

/* Apply the resolved items in the open transaction and fill their
 * results.  Returns 0 or -1 with errstr. */
static int movebatch_write(PGconn *pg, struct movebatch_item *items, size_t n,
                           const long long *locs, const long long *vars,
                           struct movebatch_summary *sum, char *errstr,
                           size_t errstr_size, char *sqlstate)
{
    struct ledger_line *lines = calloc(2 * n, sizeof(*lines));
    struct ledger_move *ms = calloc(n, sizeof(*ms));
    enum ledger_res *res = calloc(n, sizeof(*res));
    long long *ids = calloc(n, sizeof(*ids));
    size_t i;
    int rc = -1;

    if (!lines || !ms || !res || !ids) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++)
        movebatch_move(&items[i], locs[2 * i], locs[2 * i + 1], vars[i],
                       &lines[2 * i], &ms[i]);
    sum->events =
        ledger_moves_apply(pg, ms, n, res, ids, errstr, errstr_size, sqlstate);
    if (sum->events < 0)
        goto out;
    for (i = 0; i < n; i++) {
        items[i].move_id = ids[i];
        if (res[i] == LEDGER_DUPLICATE) {
            items[i].status = MOVEBATCH_DUPLICATE;
            sum->duplicate++;
            continue;
        }
        items[i].status = MOVEBATCH_APPLIED;
        items[i].delta = lines[2 * i].on_hand_delta;
        items[i].on_hand = lines[2 * i].on_hand_after;
        sum->applied++;
    }
    rc = 0;
out:
    free(lines);
    free(ms);
    free(res);
    free(ids);
    return rc;
}

int movebatch_apply_tx(PGconn *pg, struct movebatch_item *items, size_t n,
                       struct movebatch_summary *sum, char *errstr,
                       size_t errstr_size, char *sqlstate)
{
    long long *locs = calloc(2 * n + 1, sizeof(*locs));
    long long *vars = calloc(n + 1, sizeof(*vars));
    long long bad;
    size_t i;
    int rc = -1;

    memset(sum, 0, sizeof(*sum));
    if (sqlstate)
        sqlstate[0] = '\0';
    if (!locs || !vars) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        items[i].status = MOVEBATCH_PENDING;
        items[i].move_id = items[i].delta = items[i].on_hand = 0;
        if (movebatch_item_check(&items[i]) < 0)
            sum->invalid++;
    }
    bad = movebatch_resolve(pg, items, n, locs, vars, errstr, errstr_size,
                            sqlstate);
    if (bad < 0)
        goto out;
    sum->invalid += (size_t)bad;
    rc = MOVEBATCH_BAD;
    if (sum->invalid)
        goto out;
    rc = -1;
    if (n && movebatch_write(pg, items, n, locs, vars, sum, errstr, errstr_size,
                             sqlstate) < 0)
        goto out;
    rc = MOVEBATCH_OK;
out:
    free(locs);
    free(vars);
    return rc;
}

int movebatch_apply(PGconn *pg, struct movebatch_item *items, size_t n,
                    int dry_run, struct movebatch_summary *sum, char *errstr,
                    size_t errstr_size, char *sqlstate)
{
    struct movebatch_summary local;
    size_t i;
    int rc;

    if (!sum)
        sum = &local;
    if (db_begin(pg, errstr, errstr_size) < 0)
        return -1;
    rc = movebatch_apply_tx(pg, items, n, sum, errstr, errstr_size, sqlstate);
    if (rc == MOVEBATCH_OK && !dry_run &&
        db_commit(pg, errstr, errstr_size) < 0)
        rc = -1;
    if (rc != MOVEBATCH_OK || dry_run)
        db_rollback(pg);
    if (rc < 0) {
        for (i = 0; i < n; i++)
            items[i].status = MOVEBATCH_PENDING;
        memset(sum, 0, sizeof(*sum));
    }
    return rc;
}
