/*  bench_relay: fills a relay hub with the backlog it would hold after a
    month without its parent, for tests/bench/relay.sh.

        bench_relay DIR YEAR_FROM YEAR_TO DOCS.jsonl

    DIR is a hub (initialised, its parent configured) for a unit U. For
    every child hub of U in the unit lists (the districts of a province,
    the provinces of a national root) the tool makes a key, enrolls it at U
    as `enroll` does, and feeds U, as that child's daemon would, batches
    of: the enrollment of each unit below it (signed by the hub above that
    unit, each hub with a key of its own), and one signed report of each
    commune for both shipped forms and every period from YEAR_FROM to
    YEAR_TO (yearly and six-monthly, the 2025S1 end of the 2024 tree
    included when YEAR_TO is 2024). DOCS.jsonl "-" writes no documents;
    BLOBS (optional) gets the records as relayed, each as a big-endian u32
    length and the bytes (for the MQTT peer). Every batch goes through the real
    ingest (th_ingest_batch: every check, the Ed25519 verification, one
    durable commit per batch), so U's log then holds exactly what its
    uplink relays. The same reports are written to DOCS.jsonl, one JSON
    document per line, for the peers (PouchDB) to replicate the same
    content. Prints: records, their total encoded size, the time of the
    whole fill (signing included), and the ingest's phases: every batch's
    th_ingest_batch with its durable commit, and the decode + verification
    of the same entries measured apart (workload 3 of docs/benchmarks.md). */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "bench_records.h"
#include "codec.h"
#include "crypto.h"
#include "enrollment.h"
#include "err.h"
#include "ingest.h"
#include "mem.h"
#include "office.h"
#include "peers.h"
#include "period.h"

#define S_BATCH 256

typedef struct {
    char (*codes)[TH_UNIT_MAX];
    size_t n, cap;
} s_list_t;

static int
s_add(const th_unit_t *u, void *ctx)
{
    s_list_t *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->codes = realloc(l->codes, l->cap * sizeof *l->codes);
        if (!l->codes)
            return -ENOMEM;
    }
    snprintf(l->codes[l->n++], TH_UNIT_MAX, "%s", u->code);
    return 0;
}

/* One entry of a batch being built: its blob is owned. */
typedef struct {
    th_msg_entry_t e[S_BATCH];
    uint8_t *own[S_BATCH];
    size_t n;
    uint64_t seq;
} s_batch_t;

/* What `enroll` does for a child hub: the key, and the statement up the log. */
typedef struct {
    const char *unit;
    const uint8_t *pk;
    const uint8_t *blob;
} s_enroll_t;

static int
s_enroll_txn(th_store_txn_t *txn, void *ctx)
{
    const s_enroll_t *e = ctx;
    int rc = th_peers_enroll(txn, e->unit, e->pk, true);
    return rc < 0 ? rc : th_enrollment_log(txn, TH_LOG_KIND_ENROLL, e->unit, e->blob,
                                           TH_ENROLLMENT_LEN, NULL);
}

/* Phases of the ingest, summed over every batch: the whole th_ingest_batch
   in its durable commit, and, measured apart on the same entries, the
   strict decode + Ed25519 verification that it includes. */
static double s_ingest_s, s_verify_s;
static long s_commits, s_ingested;

static void
s_verify_apart(const s_batch_t *b)
{
    double t0 = s_now();
    for (size_t i = 0; i < b->n; i++) {
        if (b->e[i].kind != TH_MSG_ENTRY_RECORD)
            continue;
        th_record_t r;
        const uint8_t *body;
        size_t bl;
        th_record_init(&r);
        if (th_codec_record_decode(b->e[i].blob, b->e[i].len, &r, &body, &bl) < 0 ||
            th_verify(r.origin, body, bl, r.sig) < 0)
            fprintf(stderr, "bench_relay: a record does not verify\n");
        th_record_clear(&r);
    }
    s_verify_s += s_now() - t0;
}

static int
s_flush(th_office_t *o, const char *sender, s_batch_t *b)
{
    if (!b->n)
        return 0;
    s_verify_apart(b);
    static th_ingest_t in;
    memset(&in, 0, sizeof in);
    in.office = o;
    in.sender = sender;
    in.entries = b->e;
    in.nentries = b->n;
    in.through = b->e[b->n - 1].seq;
    in.after = b->e[0].seq - 1;
    in.now = th_now_ms();
    double t0 = s_now();
    int rc = th_store_write(o->store, th_ingest_batch, &in);
    s_ingest_s += s_now() - t0;
    s_commits++;
    s_ingested += (long)b->n;
    if (rc == 0 && in.nrejected) {
        fprintf(stderr, "bench_relay: %s seq %llu refused: %s\n", sender,
                (unsigned long long)in.rejected[0].seq, in.rejected[0].reason);
        rc = TH_E_INVALID;
    }
    for (size_t i = 0; i < b->n; i++)
        th_free(b->own[i]);
    b->n = 0;
    return rc;
}

static int
s_push(th_office_t *o, const char *sender, s_batch_t *b, uint8_t kind, uint8_t *blob,
       size_t len)
{
    b->own[b->n] = blob;
    b->e[b->n] = (th_msg_entry_t){ .seq = ++b->seq, .kind = kind, .blob = blob, .len = len };
    return ++b->n == S_BATCH ? s_flush(o, sender, b) : 0;
}

static json_t *
s_doc(const th_record_t *r)
{
    char key[TH_KEY_MAX], o64[64], s64[128];
    th_record_key(r, key, sizeof key);
    sodium_bin2base64(o64, sizeof o64, r->origin, 32, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(s64, sizeof s64, r->sig, 64, sodium_base64_VARIANT_ORIGINAL);
    json_t *vals = json_object();
    for (size_t i = 0; i < r->nvalues; i++) {
        const th_value_t *v = &r->values[i];
        json_object_set_new(vals, v->code,
                            v->kind == TH_V_INT ? json_integer(v->u.i)
                            : v->kind == TH_V_DEC ? json_real(v->u.d)
                            : v->kind == TH_V_BOOL ? json_boolean(v->u.b)
                            : json_string(v->u.s));
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:I,s:o,s:s,s:s}", "_id", key, "form", r->form,
                     "period", r->period, "unit", r->unit, "rev", (int)r->rev, "form_version",
                     (int)r->form_version, "submitted_at", (json_int_t)r->submitted_at,
                     "values", vals, "origin", o64, "sig", s64);
}

typedef struct {
    th_office_t *o;
    const char *sender;     /* the relay's direct child the batches come from */
    s_batch_t *b;
    const th_form_t *forms[2];
    int y0, y1;
    int32_t day;            /* the tree's day */
    FILE *docs;             /* NULL: none written */
    FILE *blobs;            /* the records as relayed (u32 length | blob), or NULL */
    long records, bytes;
} s_fill_t;

/* A commune's reports: both forms, every period of the years. */
static int
s_reports(s_fill_t *f, const char *unit, const th_identity_t *cid, unsigned salt)
{
    int rc = 0;
    for (int fi = 0; fi < 2; fi++) {
        const th_form_t *form = f->forms[fi];
        th_period_type_t pt = form->period_type;
        int last = f->y1 + (pt == TH_PT_SIXMONTHLY && f->y1 == 2024);
        for (int y = f->y0; y <= last; y++) {
            for (int ix = 1; ix <= (pt == TH_PT_SIXMONTHLY ? 2 : 1); ix++) {
                if (y > f->y1 && ix == 2)
                    continue;   /* 2025S1 only, the end of the 2024 tree */
                th_period_t p;
                th_period_make(pt, y, ix, &p);
                th_record_t r;
                uint8_t *rb;
                size_t rl;
                if ((rc = th_bench_record(&r, form, p.id, unit, cid,
                                          salt + (unsigned)y + (unsigned)ix, &rb, &rl)) < 0)
                    return rc;
                if (f->docs) {
                    json_t *d = s_doc(&r);
                    char *line = json_dumps(d, JSON_COMPACT);
                    fprintf(f->docs, "%s\n", line);
                    free(line);
                    json_decref(d);
                }
                if (f->blobs) {
                    uint8_t h[4] = { (uint8_t)(rl >> 24), (uint8_t)(rl >> 16),
                                     (uint8_t)(rl >> 8), (uint8_t)rl };
                    fwrite(h, 4, 1, f->blobs);
                    fwrite(rb, rl, 1, f->blobs);
                }
                th_record_clear(&r);
                f->records++;
                f->bytes += (long)rl;
                if ((rc = s_push(f->o, f->sender, f->b, TH_MSG_ENTRY_RECORD, rb, rl)) < 0)
                    return rc;
            }
        }
    }
    return 0;
}

/* Every unit below hub (whose key is hid): enrolled by hub; a hub's own
   units below it in turn, a commune's reports. */
static int
s_fill(s_fill_t *f, const char *hub, const th_identity_t *hid)
{
    s_list_t kids = { 0 };
    int rc = th_units_each_child(f->o->units, hub, f->day, s_add, &kids);
    for (size_t k = 0; rc >= 0 && k < kids.n; k++) {
        const char *code = kids.codes[k];
        th_identity_t id;
        th_identity_generate(&id);
        th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL, .at = th_now_ms() };
        snprintf(e.unit, sizeof e.unit, "%s", code);
        snprintf(e.parent, sizeof e.parent, "%s", hub);
        memcpy(e.key, id.pk, 32);
        uint8_t *blob = th_malloc(TH_ENROLLMENT_LEN);
        if (!blob)
            return -ENOMEM;
        th_enrollment_sign(&e, hid, blob);
        if ((rc = s_push(f->o, f->sender, f->b, TH_MSG_ENTRY_ENROLL, blob,
                         TH_ENROLLMENT_LEN)) < 0)
            break;
        const th_unit_t *u = th_units_find(f->o->units, code, f->day);
        rc = u && strcmp(u->level, "commune") == 0 ? s_reports(f, code, &id, (unsigned)k * 31)
                                                   : s_fill(f, code, &id);
    }
    free(kids.codes);
    return rc < 0 ? rc : 0;
}

int
main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: bench_relay DIR YEAR_FROM YEAR_TO DOCS.jsonl|- [BLOBS]\n");
        return 2;
    }
    s_fill_t f = { .y0 = atoi(argv[2]), .y1 = atoi(argv[3]) };
    if (th_crypto_init() < 0)
        return 1;
    char err[512];
    int rc;
    th_office_t *o = f.o = th_office_open(argv[1], err, sizeof err, &rc);
    if (!o) {
        fprintf(stderr, "bench_relay: %s\n", err);
        return 1;
    }
    if (strcmp(argv[4], "-") != 0 && !(f.docs = fopen(argv[4], "w"))) {
        perror(argv[4]);
        return 1;
    }
    if (argc == 6 && !(f.blobs = fopen(argv[5], "wb"))) {
        perror(argv[5]);
        return 1;
    }
    f.forms[0] = th_office_form(o, "dvcq-nam");
    f.forms[1] = th_office_form(o, "dvcq-6thang");
    if (!f.forms[0] || !f.forms[1]) {
        fprintf(stderr, "bench_relay: the shipped forms are missing\n");
        return 1;
    }
    /* a day on which the tree holds (the 2024 tree: before 1/7/2025) */
    f.day = th_date_from_ymd(f.y1 > 2024 ? 2024 : f.y1, 12, 31);
    s_list_t kids = { 0 };
    if ((rc = th_units_each_child(o->units, o->cfg.unit, f.day, s_add, &kids)) < 0) {
        fprintf(stderr, "bench_relay: unit %s: %s\n", o->cfg.unit, th_strerror(rc));
        return 1;
    }
    double t0 = s_now();
    f.b = calloc(1, sizeof *f.b);
    for (size_t k = 0; f.b && k < kids.n; k++) {
        const char *hub = kids.codes[k];
        th_identity_t hid;
        th_identity_generate(&hid);
        th_enrollment_t he = { .kind = TH_LOG_KIND_ENROLL, .at = th_now_ms() };
        snprintf(he.unit, sizeof he.unit, "%s", hub);
        snprintf(he.parent, sizeof he.parent, "%s", o->cfg.unit);
        memcpy(he.key, hid.pk, 32);
        uint8_t blob[TH_ENROLLMENT_LEN];
        th_enrollment_sign(&he, &o->id, blob);
        s_enroll_t ee = { hub, hid.pk, blob };
        if ((rc = th_store_write(o->store, s_enroll_txn, &ee)) < 0) {
            fprintf(stderr, "bench_relay: enroll %s: %s\n", hub, th_strerror(rc));
            return 1;
        }
        /* this child's log, as its daemon would send it */
        memset(f.b, 0, sizeof *f.b);
        f.sender = hub;
        if ((rc = s_fill(&f, hub, &hid)) < 0 || (rc = s_flush(o, hub, f.b)) < 0) {
            fprintf(stderr, "bench_relay: %s\n", th_strerror(rc));
            return 1;
        }
    }
    double t_fill = s_now() - t0;
    if (f.docs)
        fclose(f.docs);
    if (f.blobs)
        fclose(f.blobs);
    printf("records %ld\nrecord_bytes %ld\nchildren %zu\nfill_s %.3f\n", f.records, f.bytes,
           kids.n, t_fill);
    printf("ingest_entries %ld\ningest_commits %ld\ningest_s %.3f\nverify_s %.3f\n",
           s_ingested, s_commits, s_ingest_s, s_verify_s);
    free(kids.codes);
    free(f.b);
    th_office_destroy(&o);
    return 0;
}
