/*  bench_consolidate: workload 4 of docs/benchmarks.md, in-process.

        bench_consolidate DIR FORM PERIOD [ROUNDS]

    On the hub DIR: the time to walk every current report of FORM and
    PERIOD in the store and touch their bytes (the limit: what any
    consolidation has to read), then rollup, completeness and each export
    (CSV, HTML to /dev/null; XLSX to a file in DIR) for the hub's own unit,
    as the commands compute them, each the best of ROUNDS (3). Prints one
    JSON line per measurement (workload "consolidate", mode "in-process"),
    read by tools/bench_report.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "completeness.h"
#include "crypto.h"
#include "err.h"
#include "export.h"
#include "export_html.h"
#include "export_xlsx.h"
#include "office.h"
#include "rollup.h"

typedef struct {
    long n, bytes;
    unsigned sum;
} s_walk_t;

static int
s_touch(const th_store_rev_t *r, void *ctx)
{
    s_walk_t *w = ctx;
    w->n++;
    w->bytes += (long)r->len;
    for (size_t i = 0; i < r->len; i += 64)
        w->sum += r->blob[i];
    return 0;
}

typedef struct {
    const char *prefix;
    s_walk_t w;
} s_walk_ctx_t;

static int
s_walk(th_store_txn_t *txn, void *ctx)
{
    s_walk_ctx_t *x = ctx;
    memset(&x->w, 0, sizeof x->w);
    return th_store_each_report(txn, x->prefix, s_touch, &x->w);
}

static void
s_line(const char *what, double best, long n, int rounds)
{
    printf("{\"workload\": \"consolidate\", \"mode\": \"in-process\", \"what\": \"%s\", "
           "\"ms\": %.2f, \"units\": %ld, \"best_of\": %d}\n",
           what, best * 1e3, n, rounds);
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_consolidate DIR FORM PERIOD [ROUNDS]\n");
        return 2;
    }
    const char *form = argv[2], *period = argv[3];
    int rounds = argc > 4 ? atoi(argv[4]) : 3;
    if (th_crypto_init() < 0)
        return 1;
    char err[512];
    int rc;
    th_office_t *o = th_office_open(argv[1], err, sizeof err, &rc);
    if (!o) {
        fprintf(stderr, "bench_consolidate: %s\n", err);
        return 1;
    }
    char prefix[64], xlsx[4096];
    snprintf(prefix, sizeof prefix, "%s|%s|", form, period);
    snprintf(xlsx, sizeof xlsx, "%s/bench.xlsx", argv[1]);
    double best[6] = { 1e9, 1e9, 1e9, 1e9, 1e9, 1e9 };
    s_walk_ctx_t wx = { .prefix = prefix };
    long units = 0;
    FILE *null = fopen("/dev/null", "w");
    for (int k = 0; k < rounds; k++) {
        double t0 = s_now();
        if ((rc = th_store_read(o->store, s_walk, &wx)) < 0)
            goto fail;
        double t1 = s_now();
        th_rollup_t *r = NULL;
        if ((rc = th_rollup_compute(o, form, period, NULL, INT64_MAX, &r, err, sizeof err)) < 0)
            goto fail;
        double t2 = s_now();
        th_rollup_destroy(&r);
        th_completeness_t *c = NULL;
        if ((rc = th_completeness_compute(o, form, period, NULL, INT64_MAX, &c, err,
                                          sizeof err)) < 0)
            goto fail;
        double t3 = s_now();
        th_completeness_destroy(&c);
        th_export_t *x = NULL;
        if ((rc = th_export_make(o, form, period, NULL, INT64_MAX, &x, err, sizeof err)) < 0)
            goto fail;
        double t4 = s_now();
        th_export_csv(x, null);
        th_export_html(x, null);
        double t5 = s_now();
        if ((rc = th_export_xlsx(x, xlsx)) < 0)
            goto fail;
        double t6 = s_now();
        th_export_destroy(&x);
        double d[6] = { t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5 };
        for (int i = 0; i < 6; i++)
            if (d[i] < best[i])
                best[i] = d[i];
        units = wx.w.n;
    }
    printf("{\"workload\": \"consolidate\", \"what\": \"reports read\", \"reports\": %ld, "
           "\"bytes\": %ld, \"checksum\": %u}\n", wx.w.n, wx.w.bytes, wx.w.sum);
    s_line("store walk", best[0], units, rounds);
    s_line("rollup", best[1], units, rounds);
    s_line("completeness", best[2], units, rounds);
    s_line("export model", best[3], units, rounds);
    s_line("export CSV + HTML written", best[4], units, rounds);
    s_line("export XLSX written", best[5], units, rounds);
    fclose(null);
    th_office_destroy(&o);
    return 0;
fail:
    fprintf(stderr, "bench_consolidate: %s (%s)\n", th_strerror(rc), err);
    return 1;
}
