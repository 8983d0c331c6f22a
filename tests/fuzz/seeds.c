/*  Writes the fuzzers' binary seed corpora (records, messages, batches,
    enrollments) into DIR/<target>/, made with the project's own encoders
    and the same fixed keys as fuzz_ingest. The text corpora (forms, unit
    lists, values, rules) are plain files kept in tests/fuzz/corpus/.

        seeds DIR        (make fuzz-seeds: DIR = tests/fuzz/corpus) */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"
#include "crypto.h"
#include "enrollment.h"
#include "mem.h"
#include "metaq.h"
#include "msg.h"

static const char *s_out;

static void
s_write(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_out, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", s_out, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "seeds: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void
s_identity(th_identity_t *id, uint8_t fill)
{
    uint8_t seed[32];
    memset(seed, fill, sizeof seed);
    crypto_sign_seed_keypair(id->pk, id->sk, seed);
}

static void
s_int(th_record_t *r, const char *code, int64_t v)
{
    th_value_t x = { .kind = TH_V_INT, .u.i = v };
    snprintf(x.code, sizeof x.code, "%s", code);
    th_record_set(r, &x);
}

static void
s_text(th_record_t *r, const char *code, const char *s)
{
    th_value_t x = { .kind = TH_V_TEXT, .u.s = (char *)s };
    snprintf(x.code, sizeof x.code, "%s", code);
    th_record_set(r, &x);
}

/* A signed dvcq-nam record of unit for period, rev, with TT01 = tt01;
   by non-NULL: entered on the unit's behalf by that hub (format 2). */
static uint8_t *
s_record(const th_identity_t *id, const char *unit, const char *period, uint32_t rev,
         int64_t tt01, bool full, const char *by, size_t *len)
{
    th_record_t r;
    th_record_init(&r);
    snprintf(r.form, sizeof r.form, "dvcq-nam");
    snprintf(r.period, sizeof r.period, "%s", period);
    snprintf(r.unit, sizeof r.unit, "%s", unit);
    r.form_version = 1;
    r.rev = rev;
    r.status = TH_STATUS_SUBMITTED;
    r.submitted_at = 1730000000000LL;
    r.author = th_strdup("Nguyễn Văn A");
    if (by) {
        r.proxy = true;
        snprintf(r.by, sizeof r.by, "%s", by);
        r.doc = th_strdup("Báo cáo số 45/BC-UBND ngày 20/10/2024");
    }
    memcpy(r.origin, id->pk, 32);
    s_int(&r, "TT01", tt01);
    if (full) {
        static const char *ints[] = { "TT02", "TT03", "TT04", "DT01", "DT02", "DVK01", "DVK02",
                                      "KT01", "KT02", "CCHC01", "CCHC02", "CCHC04", "TCD01",
                                      "TCD02", "TCD03", "TCD05", "GS01", "GS02", "GS03",
                                      "KTR01", "KTR02" };
        for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
            s_int(&r, ints[i], (int64_t)(i + 1));
        th_value_t b = { .code = "LD01", .kind = TH_V_BOOL, .u.b = true };
        th_record_set(&r, &b);
        s_text(&r, "DG01", "tot");
        s_text(&r, "ND01", "Tổ chức 4 buổi đối thoại");
    }
    uint8_t *body, *blob = NULL;
    size_t bl;
    if (th_codec_record_body(&r, &body, &bl) == 0) {
        th_sign(id, body, bl, r.sig);
        th_free(body);
        if (th_codec_record_encode(&r, &blob, len) < 0)
            blob = NULL;
    }
    th_record_clear(&r);
    if (!blob) {
        fprintf(stderr, "seeds: cannot encode a record\n");
        exit(1);
    }
    return blob;
}

static void
s_msg(const char *target, const char *name, const th_msg_t *m)
{
    uint8_t *p;
    size_t n;
    if (th_msg_encode(m, &p, &n) < 0) {
        fprintf(stderr, "seeds: cannot encode %s\n", name);
        exit(1);
    }
    s_write(target, name, p, n);
    th_free(p);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seeds DIR\n");
        return 2;
    }
    s_out = argv[1];
    if (th_crypto_init() < 0)
        return 1;
    th_identity_t district, commune;
    s_identity(&district, 7);   /* the keys fuzz_ingest enrolls */
    s_identity(&commune, 9);

    size_t l1, l2, l3;
    uint8_t *full = s_record(&commune, "25456", "2024", 1, 10, true, NULL, &l1);
    uint8_t *small = s_record(&commune, "25456", "2024", 2, 12, false, NULL, &l2);
    uint8_t *other = s_record(&commune, "25459", "2025S1", 1, 3, false, NULL, &l3);
    size_t l4;
    uint8_t *entry = s_record(&commune, "25459", "2024", 1, 7, true, "703", &l4);
    s_write("record", "proxy-entry", entry, l4);
    th_free(entry);
    s_write("record", "full", full, l1);
    s_write("record", "correction", small, l2);
    s_write("record", "other-unit", other, l3);

    th_enrollment_t e = { .kind = TH_LOG_KIND_ENROLL,
                          .unit = "25459", .parent = "703", .at = 1730000000000LL };
    memcpy(e.key, commune.pk, 32);
    uint8_t enr[TH_ENROLLMENT_LEN];
    if (th_enrollment_sign(&e, &district, enr) < 0)
        return 1;
    s_write("enrollment", "valid", enr, sizeof enr);

    th_msg_t m;
    th_msg_init(&m, TH_MSG_BATCH);
    th_msg_add_entry(&m, 1, TH_MSG_ENTRY_RECORD, full, l1);
    th_msg_add_entry(&m, 2, TH_MSG_ENTRY_RECORD, small, l2);
    s_msg("msg", "batch", &m);
    s_msg("ingest", "batch-two-revisions", &m);
    th_msg_clear(&m);
    th_msg_init(&m, TH_MSG_BATCH);
    th_msg_add_entry(&m, 1, TH_MSG_ENTRY_ENROLL, enr, sizeof enr);
    th_msg_add_entry(&m, 2, TH_MSG_ENTRY_RECORD, other, l3);
    m.after = 0;
    m.through = 4;
    s_msg("ingest", "batch-enroll-then-record", &m);
    th_msg_clear(&m);
    th_msg_init(&m, TH_MSG_BATCH);
    th_msg_add_entry(&m, 5, TH_MSG_ENTRY_RECORD, full, l1);
    m.after = 3;
    s_msg("ingest", "batch-after-gap", &m);
    th_msg_clear(&m);

    th_msg_init(&m, TH_MSG_HELLO);
    snprintf(m.unit, sizeof m.unit, "703");
    m.clock = 1730000000000LL;
    m.meta_upto = 3;
    m.head = 9;
    snprintf(m.agent, sizeof m.agent, "tonghop/seed");
    s_msg("msg", "hello", &m);
    th_msg_init(&m, TH_MSG_WELCOME);
    snprintf(m.unit, sizeof m.unit, "72");
    m.clock = 1730000000000LL;
    m.resume_after = 4;
    m.window = 256;
    s_msg("msg", "welcome", &m);
    th_msg_init(&m, TH_MSG_ACK);
    m.upto = 7;
    th_msg_add_reject(&m, 5, -31014, "Biểu mẫu chưa có tại cấp trên");
    s_msg("msg", "ack-with-reject", &m);
    s_msg("uplink", "ack-with-reject", &m);
    th_msg_clear(&m);
    th_msg_init(&m, TH_MSG_META);
    th_msg_add_meta(&m, 1, TH_MSG_META_RECEIPT, "dvcq-nam|2024|25456", (const uint8_t *)"x", 1);
    th_msg_add_meta(&m, 2, TH_MSG_META_NOTICE, "dvcq-nam|2024|25456",
                    (const uint8_t *)"Kiểm tra lại", strlen("Kiểm tra lại"));
    s_msg("msg", "meta", &m);
    s_msg("uplink", "meta-receipt-notice", &m);
    th_msg_clear(&m);
    /* a receipt blob as a parent makes it, for the office's own report */
    char rc[128];
    int rn = th_metaq_receipt_make(rc, sizeof rc, 1, "72", 1730000000000LL);
    th_msg_init(&m, TH_MSG_META);
    if (rn > 0) {
        th_msg_add_meta(&m, 1, TH_MSG_META_RECEIPT, "dvcq-nam|2024|25456", (const uint8_t *)rc,
                        (size_t)rn);
        th_msg_add_meta(&m, 2, TH_MSG_META_RECEIPT, "dvcq-nam|2024|703", (const uint8_t *)rc,
                        (size_t)rn);
    }
    s_msg("uplink", "meta-receipts", &m);
    th_msg_clear(&m);
    th_msg_init(&m, TH_MSG_META_ACK);
    m.upto = 2;
    s_msg("msg", "meta-ack", &m);
    th_msg_init(&m, TH_MSG_PING);
    m.clock = 1;
    s_msg("msg", "ping", &m);
    th_msg_init(&m, TH_MSG_ERROR);
    m.code = -31013;
    m.reason = "Mã đơn vị không khớp";
    s_msg("msg", "error", &m);
    th_free(full);
    th_free(small);
    th_free(other);
    return 0;
}
