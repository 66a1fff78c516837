/*
 * move-burst — apply N random stock movements fast through ledger.h
 * (tests and benchmarks of stock-publisher).
 *
 *   move-burst --location CODE --sku-like PATTERN [--variants N]
 *              [--moves N] [--kinds receipt,sale,reserve,release]
 *              [--max-qty Q] [--per-tx K] [--seed S] [--workers W]
 *              [--batch 1]
 *
 * Picks the first N variants (by id) whose SKU matches the SQL LIKE
 * PATTERN, then applies --moves movements, each one line at --location on
 * a random one of them with a random kind of --kinds and a quantity
 * 1..--max-qty: receipt/return add on hand, sale/writeoff take it (on hand
 * may go negative), reserve/release change reserved (release only what is
 * reserved).  --per-tx movements share one transaction (default 1).
 * --workers W processes (own connections) split the variants between them
 * (variant k goes to worker k mod W, so they never wait for each other's
 * locks) and the movements evenly.
 * --batch 1: each transaction is one movebatch_apply() call of --per-tx
 * items named by location code and SKU (the bulk intake's write path:
 * `omnisync import stock`, ledger-api's POST /v1/movements); kinds
 * receipt, sale, return, writeoff only.
 * Prints "moves=N variants=N tx=N secs=S rate=R/s" on stdout.
 * Connects with OMNISYNC_PG.  Exit 0, 1 on failure, 2 on usage.
 */
#include "lib/db.h"
#include "ledger/ledger.h"
#include "ledger/movebatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: move-burst --location CODE --sku-like PATTERN "
                    "[--variants N] [--moves N]\n"
                    "                  [--kinds receipt,sale,reserve,release] "
                    "[--max-qty Q] [--per-tx K] [--seed S] "
                    "[--workers W] [--batch 1]\n");
    return 2;
}

/* --batch: @p n movements, --per-tx a movebatch_apply() call. */
static int burst_batched(PGconn *pg, const char *loc, char **skus, int nv,
                         const char **kinds, size_t nkinds, long long maxq,
                         long long per_tx, long long n, char *err,
                         size_t errlen)
{
    struct movebatch_item *items = calloc((size_t)per_tx, sizeof(*items));
    long long done = 0, k;
    int rc = 0;

    if (!items) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (rc == 0 && done < n) {
        memset(items, 0, (size_t)per_tx * sizeof(*items));
        for (k = 0; k < per_tx && done + k < n; k++) {
            items[k].kind = kinds[random() % (long)nkinds];
            items[k].location = loc;
            items[k].sku = skus[random() % nv];
            items[k].qty = 1 + random() % maxq;
        }
        rc = movebatch_apply(pg, items, (size_t)k, 0, NULL, err, errlen, NULL);
        if (rc == MOVEBATCH_BAD)
            snprintf(err, errlen, "batch refused: %s: %s",
                     items[0].field ? items[0].field : "?", items[0].error);
        done += k;
    }
    free(items);
    return rc == 0 ? 0 : -1;
}

static int num(const char *s, long long *out)
{
    char *end;

    *out = strtoll(s, &end, 10);
    return (*s && !*end) ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *loc = NULL, *like = NULL, *kinds_arg = "receipt,sale,reserve";
    long long nvar = 1000, moves = 10000, maxq = 3, per_tx = 1, seed = 1;
    long long workers = 1, w, wmoves, batch = 0;
    pid_t pid;
    const char *kinds[8];
    size_t nkinds = 0;
    char err[1024], kbuf[256], *p;
    long long *vids = NULL, *reserved = NULL, loc_id, i, done = 0, tx = 0;
    char **skus = NULL;
    PGresult *vres = NULL;
    PGconn *pg;
    PGresult *res;
    const char *vals[3];
    char lim[24], lid[24];
    struct timespec t0, t1;
    double secs;
    int nv, rc = 1, a;

    for (a = 1; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        long long *dst = NULL;

        if (!v)
            return usage();
        if (!strcmp(o, "--location"))
            loc = v;
        else if (!strcmp(o, "--sku-like"))
            like = v;
        else if (!strcmp(o, "--kinds"))
            kinds_arg = v;
        else if (!strcmp(o, "--variants"))
            dst = &nvar;
        else if (!strcmp(o, "--moves"))
            dst = &moves;
        else if (!strcmp(o, "--max-qty"))
            dst = &maxq;
        else if (!strcmp(o, "--per-tx"))
            dst = &per_tx;
        else if (!strcmp(o, "--seed"))
            dst = &seed;
        else if (!strcmp(o, "--workers"))
            dst = &workers;
        else if (!strcmp(o, "--batch"))
            dst = &batch;
        else
            return usage();
        if (dst && (num(v, dst) < 0 || *dst < 0))
            return usage();
        a++;
    }
    if (!loc || !like || nvar < 1 || maxq < 1 || per_tx < 1 || workers < 1 ||
        workers > 64)
        return usage();
    snprintf(kbuf, sizeof(kbuf), "%s", kinds_arg);
    for (p = kbuf; p && *p && nkinds < 8;) {
        kinds[nkinds++] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = '\0';
    }
    if (!nkinds)
        return usage();
    srandom((unsigned)seed);
    pg = db_connect(getenv("OMNISYNC_PG"), "move-burst", err, sizeof(err));
    if (!pg) {
        fprintf(stderr, "move-burst: %s\n", err);
        return 1;
    }
    vals[0] = loc;
    res = db_exec(pg, "SELECT id FROM location WHERE code = $1", 1, vals,
                  "location", err, sizeof(err), NULL);
    if (!res || PQntuples(res) != 1) {
        fprintf(stderr, "move-burst: location %s: %s\n", loc,
                res ? "unknown" : err);
        PQclear(res);
        goto out;
    }
    loc_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    snprintf(lim, sizeof(lim), "%lld", nvar);
    snprintf(lid, sizeof(lid), "%lld", loc_id);
    vals[0] = like;
    vals[1] = lim;
    vals[2] = lid;
    /* reserved: what a release may take back without going below 0 */
    res = db_exec(pg,
                  "SELECT v.id, coalesce(l.reserved, 0), v.sku FROM variant v "
                  "LEFT JOIN stock_level l ON l.variant_id = v.id AND "
                  "l.location_id = $3 WHERE v.sku LIKE $1 ORDER BY v.id "
                  "LIMIT $2",
                  3, vals, "variants", err, sizeof(err), NULL);
    if (!res || PQntuples(res) == 0) {
        fprintf(stderr, "move-burst: no variant matches %s %s\n", like,
                res ? "" : err);
        PQclear(res);
        goto out;
    }
    nv = PQntuples(res);
    vids = calloc((size_t)nv, sizeof(*vids));
    reserved = calloc((size_t)nv, sizeof(*reserved));
    skus = calloc((size_t)nv, sizeof(*skus));
    if (!vids || !reserved || !skus) {
        PQclear(res);
        goto out;
    }
    for (i = 0; i < nv; i++) {
        vids[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
        reserved[i] = strtoll(PQgetvalue(res, (int)i, 1), NULL, 10);
        skus[i] = PQgetvalue(res, (int)i, 2); /* vres keeps them */
    }
    vres = res;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Worker w: its own connection, variants k with k % workers == w. */
    wmoves = moves;
    for (w = 0; workers > 1 && w < workers; w++) {
        pid = fork();
        if (pid < 0) {
            snprintf(err, sizeof(err), "fork failed");
            goto fail;
        }
        if (pid > 0)
            continue;
        PQfinish(pg);
        pg = db_connect(getenv("OMNISYNC_PG"), "move-burst", err, sizeof(err));
        if (!pg) {
            fprintf(stderr, "move-burst: %s\n", err);
            _exit(1);
        }
        srandom((unsigned)(seed * 1000 + w));
        wmoves = moves / workers + (w < moves % workers);
        for (i = 0, a = 0; i < nv; i++)
            if (i % workers == w) {
                vids[a] = vids[i];
                skus[a] = skus[i];
                reserved[a++] = reserved[i];
            }
        nv = a;
        break;
    }
    if (workers > 1 && w == workers) {
        /* the parent: wait for every worker */
        int st;

        rc = 0;
        while (wait(&st) > 0)
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                rc = 1;
        done = rc ? 0 : moves;
        tx = -1;
        goto report;
    }
    if (batch) {
        if (burst_batched(pg, loc, skus, nv, kinds, nkinds, maxq, per_tx,
                          wmoves, err, sizeof(err)) < 0)
            goto fail;
        done = wmoves;
    }
    while (done < wmoves) {
        if (db_begin(pg, err, sizeof(err)) < 0)
            goto fail;
        for (i = 0; i < per_tx && done < wmoves; i++, done++) {
            struct ledger_line line;
            struct ledger_move m;
            long long k = random() % nv, q = 1 + random() % maxq;
            const char *kind = kinds[random() % (long)nkinds];

            memset(&line, 0, sizeof(line));
            memset(&m, 0, sizeof(m));
            line.location_id = loc_id;
            line.variant_id = vids[k];
            if (!strcmp(kind, LEDGER_RESERVE)) {
                line.reserved_delta = q;
                reserved[k] += q;
            } else if (!strcmp(kind, LEDGER_RELEASE)) {
                if (reserved[k] == 0)
                    kind = LEDGER_RECEIPT;
                else if (q > reserved[k])
                    q = reserved[k];
                if (!strcmp(kind, LEDGER_RECEIPT))
                    line.on_hand_delta = q;
                else {
                    line.reserved_delta = -q;
                    reserved[k] -= q;
                }
            } else if (!strcmp(kind, LEDGER_SALE) ||
                       !strcmp(kind, LEDGER_WRITEOFF)) {
                line.on_hand_delta = -q;
            } else {
                line.on_hand_delta = q;
            }
            m.kind = kind;
            m.lines = &line;
            m.nlines = 1;
            if (ledger_move_apply(pg, &m, NULL, err, sizeof(err), NULL) ==
                LEDGER_ERR)
                goto fail;
        }
        if (db_commit(pg, err, sizeof(err)) < 0)
            goto fail;
        tx++;
    }
    if (workers > 1) {
        PQfinish(pg);
        _exit(0);
    }
report:
    if (rc != 0 && workers > 1)
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("moves=%lld variants=%lld workers=%lld secs=%.2f rate=%.0f/s\n",
           done, nvar < nv ? nvar : (long long)nv, workers, secs,
           secs > 0 ? (double)done / secs : 0.0);
    (void)tx;
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "move-burst: %s\n", err);
    db_rollback(pg);
out:
    free(vids);
    free(reserved);
    free(skus);
    PQclear(vres);
    PQfinish(pg);
    return rc;
}
