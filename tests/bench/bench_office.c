/*  bench_office: the costs one office pays, measured on this machine.

    Prints one JSON line per measurement (workload "office": what, how
    many, total time, rate), read by tools/bench_report.py into
    docs/benchmarks.md; nothing here asserts a speed (speed is measured,
    not tested). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "builtin.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"
#include "mem.h"
#include "model.h"
#include "store.h"
#include "units.h"

static void
s_report(const char *what, long n, double secs)
{
    printf("{\"workload\": \"office\", \"what\": \"%s\", \"n\": %ld, \"seconds\": %.4f, "
           "\"per_s\": %.0f, \"us_each\": %.2f}\n",
           what, n, secs, (double)n / secs, secs * 1e6 / (double)n);
}

static void
s_record(th_record_t *r, const th_identity_t *id, uint32_t rev, int unit)
{
    th_record_init(r);
    snprintf(r->form, sizeof r->form, "dvcq-nam");
    snprintf(r->period, sizeof r->period, "2026");
    snprintf(r->unit, sizeof r->unit, "%05d", unit);
    r->rev = rev;
    r->status = TH_STATUS_SUBMITTED;
    r->form_version = 1;
    r->submitted_at = 1790000000000LL + rev;
    memcpy(r->origin, id->pk, 32);
    static const char *codes[] = { "CCHC01", "CCHC02", "CCHC04", "DC01", "DT01", "DT02",
                                   "DVK01", "DVK02", "GS01", "GS02", "GS03", "KT01",
                                   "KT02", "KTR01", "KTR02", "LD01", "TCD01", "TCD02",
                                   "TCD03", "TCD05", "TT01", "TT02", "TT03", "TT04" };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        th_value_t v = { .kind = TH_V_INT };
        snprintf(v.code, sizeof v.code, "%s", codes[i]);
        v.u.i = (int64_t)(i * 37 + rev);
        th_record_set(r, &v);
    }
    th_value_t t = { .kind = TH_V_TEXT };
    snprintf(t.code, sizeof t.code, "ND01");
    t.u.s = "Tổ chức tốt các buổi đối thoại trực tiếp với Nhân dân; mô hình "
            "\"Dân vận khéo\" được nhân rộng ở các khu phố.";
    th_record_set(r, &t);
}

typedef struct {
    uint8_t **blobs;
    size_t *lens;
    int from, n;
} s_batch_t;

static int
s_put_batch(th_store_txn_t *txn, void *ctx)
{
    s_batch_t *b = ctx;
    for (int i = b->from; i < b->from + b->n; i++) {
        char key[TH_KEY_MAX];
        snprintf(key, sizeof key, "dvcq-nam|2026|%05d", i);
        th_store_rev_t r = { .key = key, .rev = 1, .status = 1, .received_at = i,
                             .blob = b->blobs[i], .len = b->lens[i] };
        int rc = th_store_put_revision(txn, &r, true, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/tonghop-bench";
    if (th_crypto_init() < 0)
        return 1;
    th_identity_t id;
    th_identity_generate(&id);

    /* unit lists */
    size_t nb;
    const th_builtin_t *bu = th_builtin_units(&nb);
    double t0 = s_now();
    const int loads = 20;
    for (int k = 0; k < loads; k++) {
        th_units_t *u = th_units_new();
        char err[256];
        for (size_t i = 0; i < nb; i++)
            if (th_units_load_csv(u, bu[i].name, bu[i].name, bu[i].text, bu[i].len,
                                  bu[i].valid_from, bu[i].valid_to, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
        th_units_destroy(&u);
    }
    s_report("load both official unit trees (14,149 rows)", loads, s_now() - t0);

    /* codec and signatures */
    const int n = 20000;
    uint8_t **blobs = calloc((size_t)n, sizeof *blobs);
    size_t *lens = calloc((size_t)n, sizeof *lens);
    th_record_t r;
    t0 = s_now();
    for (int i = 0; i < n; i++) {
        uint8_t *body;
        size_t bl;
        s_record(&r, &id, 1, i);
        th_codec_record_body(&r, &body, &bl);
        th_sign(&id, body, bl, r.sig);
        th_free(body);
        th_codec_record_encode(&r, &blobs[i], &lens[i]);
        th_record_clear(&r);
    }
    s_report("build + sign + encode a 25-value record", n, s_now() - t0);
    printf("{\"workload\": \"office\", \"what\": \"size of one signed record\", "
           "\"bytes\": %zu}\n", lens[0]);
    t0 = s_now();
    for (int i = 0; i < n; i++) {
        const uint8_t *body;
        size_t bl;
        th_record_init(&r);
        if (th_codec_record_decode(blobs[i], lens[i], &r, &body, &bl) < 0 ||
            th_verify(r.origin, body, bl, r.sig) < 0) {
            fprintf(stderr, "decode/verify failed\n");
            return 1;
        }
        th_record_clear(&r);
    }
    s_report("decode (strict, canonical check) + verify", n, s_now() - t0);

    /* store */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    th_store_opts_t so = { .map_size = 0, .create = true };
    int err = 0;
    th_store_t *s = th_store_open(dir, &so, &err);
    if (!s) {
        fprintf(stderr, "store: %s\n", th_strerror(err));
        return 1;
    }
    const int single = 500;
    t0 = s_now();
    for (int i = 0; i < single; i++) {
        s_batch_t b = { blobs, lens, i, 1 };
        if (th_store_write(s, s_put_batch, &b) < 0)
            return 1;
    }
    s_report("store: one revision per durable commit", single, s_now() - t0);
    t0 = s_now();
    for (int i = single; i < n; i += 1000) {
        s_batch_t b = { blobs, lens, i, (n - i) < 1000 ? n - i : 1000 };
        if (th_store_write(s, s_put_batch, &b) < 0)
            return 1;
    }
    s_report("store: revisions in commits of 1,000", n - single, s_now() - t0);
    th_store_destroy(&s);
    if (system(cmd) != 0)
        return 1;
    for (int i = 0; i < n; i++)
        th_free(blobs[i]);
    free(blobs);
    free(lens);
    return 0;
}
