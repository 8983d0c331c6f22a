/*  test_msg: the sync protocol's messages. Round trips of every type, the
    encoder's refusals, the decoder against hand-made hostile frames (wrong
    types and missing keys for every known key, bad sequences, bad unit
    codes, bombs, deep nesting), seeded random frames and mutations of valid
    frames, and allocation-failure injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "mem.h"
#include "model.h"
#include "msg.h"

#include <msgpack.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static uint64_t s_rng_state;

static uint64_t
s_rng(void)
{
    /* xorshift64*: seeded, so a failure replays */
    uint64_t x = s_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s_rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static const char *
s_nz(const char *s)
{
    return s ? s : "";
}

static bool
s_blob_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* BATCH.through as sent: 0 stands for the last entry's seq. */
static uint64_t
s_through(const th_msg_t *m)
{
    if (m->through || !m->nentries)
        return m->through;
    return m->entries[m->nentries - 1].seq;
}

/* Content equality of the fields that belong to the type. */
static bool
s_equal(const th_msg_t *a, const th_msg_t *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case TH_MSG_HELLO:
        return strcmp(a->unit, b->unit) == 0 && a->clock == b->clock &&
               a->meta_upto == b->meta_upto && a->head == b->head &&
               strcmp(a->agent, b->agent) == 0;
    case TH_MSG_WELCOME:
        return a->resume_after == b->resume_after && a->clock == b->clock &&
               a->window == b->window && strcmp(a->unit, b->unit) == 0;
    case TH_MSG_BATCH:
        if (a->nentries != b->nentries || s_through(a) != s_through(b))
            return false;
        for (size_t i = 0; i < a->nentries; i++) {
            const th_msg_entry_t *x = &a->entries[i], *y = &b->entries[i];
            if (x->seq != y->seq || x->kind != y->kind ||
                !s_blob_eq(x->blob, x->len, y->blob, y->len))
                return false;
        }
        return true;
    case TH_MSG_ACK:
        if (a->upto != b->upto || a->nrejected != b->nrejected)
            return false;
        for (size_t i = 0; i < a->nrejected; i++) {
            const th_msg_reject_t *x = &a->rejected[i], *y = &b->rejected[i];
            if (x->seq != y->seq || x->code != y->code ||
                strcmp(s_nz(x->reason), s_nz(y->reason)) != 0)
                return false;
        }
        return true;
    case TH_MSG_META:
        if (a->nmeta != b->nmeta)
            return false;
        for (size_t i = 0; i < a->nmeta; i++) {
            const th_msg_meta_t *x = &a->meta[i], *y = &b->meta[i];
            if (x->seq != y->seq || x->kind != y->kind ||
                strcmp(x->key, y->key) != 0 ||
                !s_blob_eq(x->blob, x->len, y->blob, y->len))
                return false;
        }
        return true;
    case TH_MSG_META_ACK:
        return a->upto == b->upto;
    case TH_MSG_PING:
    case TH_MSG_PONG:
        return a->clock == b->clock;
    case TH_MSG_ERROR:
        return a->code == b->code &&
               strcmp(s_nz(a->reason), s_nz(b->reason)) == 0;
    }
    return false;
}

static void
s_expect_cleared(const th_msg_t *m)
{
    th_msg_t z;
    memset(&z, 0, sizeof z);
    assert_memory_equal(m, &z, sizeof z);
}

/* encode -> decode -> same content -> re-encode to the same bytes. */
static void
s_roundtrip(const th_msg_t *m)
{
    uint8_t *f = NULL, *g = NULL;
    size_t flen = 0, glen = 0;
    assert_int_equal(th_msg_encode(m, &f, &flen), 0);
    assert_non_null(f);
    assert_true(flen <= TH_MSG_FRAME_MAX);
    th_msg_t d = { 0 };
    assert_int_equal(th_msg_decode(f, flen, &d), 0);
    assert_true(s_equal(m, &d));
    assert_int_equal(th_msg_encode(&d, &g, &glen), 0);
    assert_int_equal(glen, flen);
    assert_memory_equal(f, g, flen);
    th_msg_clear(&d);
    th_free(f);
    th_free(g);
}

static void
s_hello(th_msg_t *m)
{
    th_msg_init(m, TH_MSG_HELLO);
    strcpy(m->unit, "00001");
    m->clock = 1767225600123LL;
    m->meta_upto = 42;
    m->head = UINT64_MAX;
    strcpy(m->agent, "tonghop/0.1.0");
}

static void
s_welcome(th_msg_t *m)
{
    th_msg_init(m, TH_MSG_WELCOME);
    m->resume_after = 1000;
    m->clock = -5;   /* before 1970: still a valid int */
    m->window = 64;
    strcpy(m->unit, "01");
}

static const uint8_t s_blob1[] = { 0x92, 0xc4, 0x01, 0x00, 0xc4, 0x00 };
static const uint8_t s_blob2[] = "another blob";

/* The sample frames used by several tests, one per type. */
static size_t
s_samples(uint8_t *frames[16], size_t lens[16])
{
    th_msg_t m;
    size_t n = 0;
    th_msg_entry_t ent[2] = {
        { 7, TH_MSG_ENTRY_RECORD, s_blob1, sizeof s_blob1 },
        { 9, TH_MSG_ENTRY_ENROLL, s_blob2, sizeof s_blob2 },
    };
    th_msg_reject_t rej[2] = {
        { 3, TH_E_SIG, "Chữ ký không hợp lệ" },
        { 5, TH_E_UNIT, "Đơn vị không thuộc phạm vi quản lý" },
    };
    th_msg_meta_t met[2] = {
        { 1, TH_MSG_META_FORM, "bc-dvcq", s_blob1, sizeof s_blob1 },
        { 2, TH_MSG_META_NOTICE, "bc-dvcq|2026S1|00001", NULL, 0 },
    };
    for (int t = TH_MSG_HELLO; t <= TH_MSG_ERROR; t++) {
        th_msg_init(&m, (th_msg_type_t)t);
        switch (t) {
        case TH_MSG_HELLO: s_hello(&m); break;
        case TH_MSG_WELCOME: s_welcome(&m); break;
        case TH_MSG_BATCH: m.nentries = 2; m.entries = ent; break;
        case TH_MSG_ACK: m.upto = 9; m.nrejected = 2; m.rejected = rej; break;
        case TH_MSG_META: m.nmeta = 2; m.meta = met; break;
        case TH_MSG_META_ACK: m.upto = 2; break;
        case TH_MSG_PING: m.clock = 1; break;
        case TH_MSG_PONG: m.clock = INT64_MAX; break;
        case TH_MSG_ERROR:
            m.code = TH_E_KEY;
            m.reason = "Khóa không khớp với đơn vị đã đăng ký";
            break;
        }
        assert_int_equal(th_msg_encode(&m, &frames[n], &lens[n]), 0);
        n++;
    }
    return n;
}

static void
s_free_samples(uint8_t *frames[16], size_t n)
{
    for (size_t i = 0; i < n; i++)
        th_free(frames[i]);
}

/* ------------------------------------------------------------- round trips */

static void
test_msg_roundtrip_hello(void **state)
{
    (void)state;
    th_msg_t m;
    s_hello(&m);
    s_roundtrip(&m);
    m.agent[0] = '\0';   /* empty agent is allowed */
    m.clock = INT64_MIN;
    m.head = 0;
    s_roundtrip(&m);
    memset(m.agent, 'a', TH_MSG_AGENT_MAX);
    m.agent[TH_MSG_AGENT_MAX] = '\0';
    s_roundtrip(&m);
}

static void
test_msg_roundtrip_welcome(void **state)
{
    (void)state;
    th_msg_t m;
    s_welcome(&m);
    s_roundtrip(&m);
    m.window = 1;
    s_roundtrip(&m);
    m.window = TH_MSG_WINDOW_MAX;
    m.resume_after = UINT64_MAX;
    s_roundtrip(&m);
}

static void
test_msg_roundtrip_small_types(void **state)
{
    (void)state;
    th_msg_t m;
    th_msg_init(&m, TH_MSG_META_ACK);
    m.upto = 123456789012ULL;
    s_roundtrip(&m);
    th_msg_init(&m, TH_MSG_PING);
    m.clock = 1767225600123LL;
    s_roundtrip(&m);
    th_msg_init(&m, TH_MSG_PONG);
    m.clock = -1;
    s_roundtrip(&m);
    th_msg_init(&m, TH_MSG_ERROR);
    m.code = TH_E_KEY;
    m.reason = "Đơn vị không khớp với khóa đã đăng ký";
    s_roundtrip(&m);
    m.code = INT32_MIN;
    m.reason = NULL;   /* encodes as "" */
    s_roundtrip(&m);
}

static void
test_msg_roundtrip_ack_with_and_without_rejections(void **state)
{
    (void)state;
    th_msg_t m;
    th_msg_init(&m, TH_MSG_ACK);
    m.upto = 77;
    s_roundtrip(&m);   /* empty rejected list */

    assert_int_equal(th_msg_add_reject(&m, 3, TH_E_SIG, "Chữ ký không hợp lệ"), 0);
    assert_int_equal(th_msg_add_reject(&m, 77, TH_E_UNIT, ""), 0);
    assert_int_equal(m.nrejected, 2);
    s_roundtrip(&m);
    th_msg_clear(&m);

    /* 256 rejections with maximal reasons */
    th_msg_init(&m, TH_MSG_ACK);
    m.upto = 1000;
    char reason[TH_MSG_REASON_MAX + 1];
    memset(reason, 'x', TH_MSG_REASON_MAX);
    reason[TH_MSG_REASON_MAX] = '\0';
    for (uint64_t i = 1; i <= TH_MSG_REJECTED_MAX; i++)
        assert_int_equal(th_msg_add_reject(&m, i, TH_E_INVALID, reason), 0);
    assert_int_equal(th_msg_add_reject(&m, 999, TH_E_INVALID, "x"), TH_E_LIMIT);
    s_roundtrip(&m);
    th_msg_clear(&m);
}

static void
test_msg_roundtrip_batch_256_entries(void **state)
{
    (void)state;
    th_msg_t m;
    th_msg_init(&m, TH_MSG_BATCH);
    uint8_t blobs[TH_MSG_ENTRIES_MAX][8];
    for (size_t i = 0; i < TH_MSG_ENTRIES_MAX; i++) {
        for (size_t j = 0; j < 8; j++)
            blobs[i][j] = (uint8_t)(i * 8 + j);
        assert_int_equal(th_msg_add_entry(&m, 10 + i * 3,
                                          i % 2 ? TH_MSG_ENTRY_ENROLL
                                                : TH_MSG_ENTRY_RECORD,
                                          blobs[i], 1 + i % 8), 0);
    }
    assert_int_equal(m.nentries, TH_MSG_ENTRIES_MAX);
    /* the 257th goes to the next BATCH */
    assert_int_equal(th_msg_add_entry(&m, 100000, TH_MSG_ENTRY_RECORD,
                                      blobs[0], 1), TH_E_LIMIT);
    assert_int_equal(m.nentries, TH_MSG_ENTRIES_MAX);
    s_roundtrip(&m);
    th_msg_clear(&m);
    th_msg_clear(&m);   /* safe twice */
    s_expect_cleared(&m);
}

static void
test_msg_roundtrip_batch_1mib_blob(void **state)
{
    (void)state;
    uint8_t *big = malloc(TH_MSG_BLOB_MAX + 1);
    assert_non_null(big);
    for (size_t i = 0; i <= TH_MSG_BLOB_MAX; i++)
        big[i] = (uint8_t)(i * 31 + 7);
    th_msg_t m;
    th_msg_init(&m, TH_MSG_BATCH);
    assert_int_equal(th_msg_add_entry(&m, 1, TH_MSG_ENTRY_RECORD, big,
                                      TH_MSG_BLOB_MAX), 0);
    assert_int_equal(th_msg_add_entry(&m, 2, TH_MSG_ENTRY_RECORD, big,
                                      TH_MSG_BLOB_MAX + 1), TH_E_INVALID);
    s_roundtrip(&m);

    /* the decoded blob is the frame's bytes, not a copy */
    uint8_t *f = NULL;
    size_t flen = 0;
    assert_int_equal(th_msg_encode(&m, &f, &flen), 0);
    th_msg_t d = { 0 };
    assert_int_equal(th_msg_decode(f, flen, &d), 0);
    assert_true(d.entries[0].blob > f && d.entries[0].blob < f + flen);
    assert_int_equal(d.entries[0].len, TH_MSG_BLOB_MAX);
    th_msg_clear(&d);
    th_free(f);

    /* three 1 MiB blobs fit in one frame; the builder refuses the fourth */
    assert_int_equal(th_msg_add_entry(&m, 2, TH_MSG_ENTRY_RECORD, big,
                                      TH_MSG_BLOB_MAX), 0);
    assert_int_equal(th_msg_add_entry(&m, 3, TH_MSG_ENTRY_RECORD, big,
                                      TH_MSG_BLOB_MAX), 0);
    assert_int_equal(th_msg_add_entry(&m, 4, TH_MSG_ENTRY_RECORD, big,
                                      TH_MSG_BLOB_MAX), TH_E_LIMIT);
    assert_int_equal(m.nentries, 3);
    s_roundtrip(&m);
    th_msg_clear(&m);

    /* META: 1 MiB blob */
    th_msg_init(&m, TH_MSG_META);
    assert_int_equal(th_msg_add_meta(&m, 5, TH_MSG_META_UNITS, "units",
                                     big, TH_MSG_BLOB_MAX), 0);
    s_roundtrip(&m);
    th_msg_clear(&m);
    free(big);
}

static void
test_msg_roundtrip_meta(void **state)
{
    (void)state;
    th_msg_t m;
    th_msg_init(&m, TH_MSG_META);
    char key[TH_KEY_MAX];
    snprintf(key, sizeof key, "bc-dvcq|2026S1|00001");
    assert_int_equal(th_msg_add_meta(&m, 1, TH_MSG_META_FORM, "bc-dvcq",
                                     s_blob1, sizeof s_blob1), 0);
    assert_int_equal(th_msg_add_meta(&m, 2, TH_MSG_META_RECEIPT, key,
                                     s_blob2, sizeof s_blob2), 0);
    /* keys are copied: the caller's buffer may change */
    key[0] = 'X';
    assert_string_equal(m.meta[1].key, "bc-dvcq|2026S1|00001");
    assert_int_equal(th_msg_add_meta(&m, 3, TH_MSG_META_NOTICE,
                                     "trả lại|2026S1", NULL, 0), 0);
    /* longest key */
    memset(key, 'k', TH_KEY_MAX - 1);
    key[TH_KEY_MAX - 1] = '\0';
    assert_int_equal(th_msg_add_meta(&m, 4, TH_MSG_META_UNITS, key,
                                     s_blob1, 1), 0);
    s_roundtrip(&m);
    th_msg_clear(&m);

    th_msg_init(&m, TH_MSG_META);
    for (uint64_t i = 1; i <= TH_MSG_META_MAX; i++)
        assert_int_equal(th_msg_add_meta(&m, i, TH_MSG_META_RECEIPT, "r",
                                         s_blob1, sizeof s_blob1), 0);
    assert_int_equal(th_msg_add_meta(&m, 999, TH_MSG_META_RECEIPT, "r",
                                     s_blob1, 1), TH_E_LIMIT);
    s_roundtrip(&m);
    th_msg_clear(&m);
}

static void
test_msg_type_names(void **state)
{
    (void)state;
    assert_string_equal(th_msg_type_name(TH_MSG_HELLO), "HELLO");
    assert_string_equal(th_msg_type_name(TH_MSG_META_ACK), "META_ACK");
    assert_string_equal(th_msg_type_name(TH_MSG_ERROR), "ERROR");
    assert_string_equal(th_msg_type_name((th_msg_type_t)0), "UNKNOWN");
    assert_string_equal(th_msg_type_name((th_msg_type_t)10), "UNKNOWN");
}

/* ------------------------------------------------------- encoder refusals */

static void
s_expect_encode(const th_msg_t *m, int want)
{
    uint8_t *f = (uint8_t *)"x";
    size_t flen = 99;
    assert_int_equal(th_msg_encode(m, &f, &flen), want);
    if (want < 0) {
        assert_null(f);
        assert_int_equal(flen, 0);
    } else {
        th_free(f);
    }
}

static void
test_msg_encode_refuses_invalid_input(void **state)
{
    (void)state;
    th_msg_t m;

    th_msg_init(&m, (th_msg_type_t)0);
    s_expect_encode(&m, TH_E_INVALID);
    th_msg_init(&m, (th_msg_type_t)10);
    s_expect_encode(&m, TH_E_INVALID);

    s_hello(&m);
    strcpy(m.unit, "00 01");
    s_expect_encode(&m, TH_E_INVALID);
    strcpy(m.unit, "");
    s_expect_encode(&m, TH_E_INVALID);
    memset(m.unit, '1', sizeof m.unit);   /* not terminated */
    s_expect_encode(&m, TH_E_INVALID);
    s_hello(&m);
    memset(m.agent, 'a', sizeof m.agent);   /* 65 bytes, not terminated */
    s_expect_encode(&m, TH_E_INVALID);
    s_hello(&m);
    strcpy(m.agent, "\xc3\x28");   /* bad UTF-8 */
    s_expect_encode(&m, TH_E_INVALID);

    s_welcome(&m);
    m.window = 0;
    s_expect_encode(&m, TH_E_INVALID);
    m.window = TH_MSG_WINDOW_MAX + 1;
    s_expect_encode(&m, TH_E_INVALID);
    s_welcome(&m);
    strcpy(m.unit, "01/");
    s_expect_encode(&m, TH_E_INVALID);

    th_msg_entry_t ent[TH_MSG_ENTRIES_MAX + 1];
    for (size_t i = 0; i <= TH_MSG_ENTRIES_MAX; i++)
        ent[i] = (th_msg_entry_t){ i + 1, TH_MSG_ENTRY_RECORD, s_blob1, 1 };
    th_msg_init(&m, TH_MSG_BATCH);
    s_expect_encode(&m, TH_E_INVALID);   /* empty */
    m.entries = ent;
    m.nentries = TH_MSG_ENTRIES_MAX + 1;
    s_expect_encode(&m, TH_E_INVALID);
    m.nentries = TH_MSG_ENTRIES_MAX;
    s_expect_encode(&m, 0);
    m.nentries = 2;
    ent[1].seq = 1;   /* not increasing */
    s_expect_encode(&m, TH_E_INVALID);
    ent[1].seq = 2;
    ent[0].seq = 0;
    s_expect_encode(&m, TH_E_INVALID);
    ent[0].seq = 1;
    ent[1].kind = TH_MSG_ENTRY_ROTATE + 1;
    s_expect_encode(&m, TH_E_INVALID);
    ent[1].kind = TH_MSG_ENTRY_ENROLL;
    ent[1].len = 0;
    s_expect_encode(&m, TH_E_INVALID);
    ent[1].blob = NULL;
    ent[1].len = 4;
    s_expect_encode(&m, TH_E_INVALID);
    ent[1].blob = s_blob1;
    ent[1].len = TH_MSG_BLOB_MAX + 1;
    s_expect_encode(&m, TH_E_INVALID);
    ent[1].len = 1;
    s_expect_encode(&m, 0);
    m.through = 1;   /* below the last entry */
    s_expect_encode(&m, TH_E_INVALID);
    m.through = 2;
    s_expect_encode(&m, 0);
    m.through = 1000;   /* skipped entries after the last one sent */
    s_roundtrip(&m);
    m.nentries = 0;
    s_roundtrip(&m);    /* all skipped */
    m.through = 0;
    s_expect_encode(&m, TH_E_INVALID);

    th_msg_reject_t rej[2] = { { 1, TH_E_SIG, "a" }, { 2, TH_E_SIG, "b" } };
    th_msg_init(&m, TH_MSG_ACK);
    m.upto = 2;
    m.rejected = rej;
    m.nrejected = 2;
    s_expect_encode(&m, 0);
    m.upto = 1;   /* a rejected seq above upto */
    s_expect_encode(&m, TH_E_INVALID);
    m.upto = 2;
    rej[1].code = 0;
    s_expect_encode(&m, TH_E_INVALID);
    rej[1].code = 5;
    s_expect_encode(&m, TH_E_INVALID);
    rej[1].code = TH_E_SIG;
    rej[1].seq = 1;
    s_expect_encode(&m, TH_E_INVALID);
    rej[1].seq = 2;
    char longr[TH_MSG_REASON_MAX + 2];
    memset(longr, 'r', TH_MSG_REASON_MAX + 1);
    longr[TH_MSG_REASON_MAX + 1] = '\0';
    rej[1].reason = longr;
    s_expect_encode(&m, TH_E_INVALID);
    longr[TH_MSG_REASON_MAX] = '\0';
    s_expect_encode(&m, 0);
    rej[1].reason = "\xff";
    s_expect_encode(&m, TH_E_INVALID);
    m.nrejected = TH_MSG_REJECTED_MAX + 1;
    s_expect_encode(&m, TH_E_INVALID);

    th_msg_meta_t met[1] = { { 1, TH_MSG_META_FORM, "k", s_blob1, 1 } };
    th_msg_init(&m, TH_MSG_META);
    s_expect_encode(&m, TH_E_INVALID);   /* empty */
    m.meta = met;
    m.nmeta = 1;
    s_expect_encode(&m, 0);
    met[0].kind = 0;
    s_expect_encode(&m, TH_E_INVALID);
    met[0].kind = TH_MSG_META_KEY + 1;
    s_expect_encode(&m, TH_E_INVALID);
    met[0].kind = TH_MSG_META_FORM;
    met[0].key = "";
    s_expect_encode(&m, TH_E_INVALID);
    met[0].key = NULL;
    s_expect_encode(&m, TH_E_INVALID);
    char longk[TH_KEY_MAX + 1];
    memset(longk, 'k', TH_KEY_MAX);
    longk[TH_KEY_MAX] = '\0';
    met[0].key = longk;
    s_expect_encode(&m, TH_E_INVALID);
    met[0].key = "k";
    met[0].seq = 0;
    s_expect_encode(&m, TH_E_INVALID);

    th_msg_init(&m, TH_MSG_ERROR);
    m.code = 0;
    m.reason = "x";
    s_expect_encode(&m, TH_E_INVALID);
    m.code = TH_E_KEY;
    m.reason = "\xed\xa0\x80";   /* UTF-16 surrogate */
    s_expect_encode(&m, TH_E_INVALID);
}

static void
test_msg_encode_refuses_oversized_frame(void **state)
{
    (void)state;
    uint8_t *big = calloc(1, TH_MSG_BLOB_MAX);
    assert_non_null(big);
    th_msg_entry_t ent[5];
    for (size_t i = 0; i < 5; i++)
        ent[i] = (th_msg_entry_t){ i + 1, TH_MSG_ENTRY_RECORD, big,
                                   TH_MSG_BLOB_MAX };
    th_msg_t m;
    th_msg_init(&m, TH_MSG_BATCH);
    m.entries = ent;
    m.nentries = 5;   /* refused before packing */
    s_expect_encode(&m, TH_E_LIMIT);
    m.nentries = 4;   /* blobs exactly 4 MiB: the headers push it over */
    s_expect_encode(&m, TH_E_LIMIT);
    m.nentries = 3;
    s_expect_encode(&m, 0);

    th_msg_meta_t met[4];
    for (size_t i = 0; i < 4; i++)
        met[i] = (th_msg_meta_t){ i + 1, TH_MSG_META_FORM, "f", big,
                                  TH_MSG_BLOB_MAX };
    th_msg_init(&m, TH_MSG_META);
    m.meta = met;
    m.nmeta = 4;
    s_expect_encode(&m, TH_E_LIMIT);
    free(big);
}

static void
test_msg_builders_refuse_misuse(void **state)
{
    (void)state;
    th_msg_t m;
    th_msg_init(&m, TH_MSG_ACK);
    assert_int_equal(th_msg_add_entry(&m, 1, 1, s_blob1, 1), TH_E_USAGE);
    assert_int_equal(th_msg_add_meta(&m, 1, 1, "k", s_blob1, 1), TH_E_USAGE);
    th_msg_init(&m, TH_MSG_BATCH);
    assert_int_equal(th_msg_add_reject(&m, 1, TH_E_SIG, "x"), TH_E_USAGE);
    assert_null(m.priv_);

    /* an array the caller attached is not grown behind its back */
    th_msg_entry_t mine[1] = { { 1, TH_MSG_ENTRY_RECORD, s_blob1, 1 } };
    m.entries = mine;
    m.nentries = 1;
    assert_int_equal(th_msg_add_entry(&m, 2, 1, s_blob1, 1), TH_E_USAGE);
    th_msg_clear(&m);   /* must not free mine */

    th_msg_init(&m, TH_MSG_BATCH);
    assert_int_equal(th_msg_add_entry(&m, 5, 1, s_blob1, 1), 0);
    assert_int_equal(th_msg_add_entry(&m, 5, 1, s_blob1, 1), TH_E_INVALID);
    assert_int_equal(th_msg_add_entry(&m, 4, 1, s_blob1, 1), TH_E_INVALID);
    assert_int_equal(th_msg_add_entry(&m, 6, TH_MSG_ENTRY_ROTATE + 1, s_blob1, 1), TH_E_INVALID);
    assert_int_equal(th_msg_add_entry(&m, 6, 1, s_blob1, 0), TH_E_INVALID);
    assert_int_equal(th_msg_add_entry(&m, 6, 1, NULL, 1), TH_E_INVALID);
    assert_int_equal(m.nentries, 1);
    assert_int_equal(th_msg_add_entry(&m, 6, 2, s_blob1, 1), 0);
    assert_int_equal(m.nentries, 2);
    th_msg_clear(&m);

    th_msg_init(&m, TH_MSG_ACK);
    m.upto = 10;
    char reason[32];
    strcpy(reason, "Sai mẫu biểu");
    assert_int_equal(th_msg_add_reject(&m, 2, TH_E_FORM, reason), 0);
    strcpy(reason, "changed");
    assert_string_equal(m.rejected[0].reason, "Sai mẫu biểu");
    assert_int_equal(th_msg_add_reject(&m, 2, TH_E_FORM, "x"), TH_E_INVALID);
    assert_int_equal(th_msg_add_reject(&m, 3, 0, "x"), TH_E_INVALID);
    assert_int_equal(th_msg_add_reject(&m, 0, TH_E_FORM, "x"), TH_E_INVALID);
    assert_int_equal(th_msg_add_reject(&m, 3, TH_E_FORM, NULL), 0);
    assert_string_equal(m.rejected[1].reason, "");
    /* seq above upto is caught at encode */
    assert_int_equal(th_msg_add_reject(&m, 11, TH_E_FORM, "x"), 0);
    s_expect_encode(&m, TH_E_INVALID);
    m.upto = 11;
    s_expect_encode(&m, 0);
    th_msg_clear(&m);
}

/* --------------------------------------------------- hand-made frames */

/* Field value kinds of the test's own frame builder. */
enum {
    F_T, F_V, F_UINT, F_INT, F_UNIT, F_AGENT, F_WINDOW, F_ENTRIES,
    F_REJECTED, F_ITEMS, F_CODE, F_REASON, F_SEQ, F_EKIND, F_MKIND, F_BLOB,
    F_KEY, F_THROUGH, F_AFTER
};

typedef struct {
    const char *key;
    int kind;
} s_field_t;

typedef struct {
    const s_field_t *f;
    size_t n;
} s_fields_t;

#define FIELDS(a) { a, sizeof a / sizeof a[0] }

static const s_field_t s_f_hello[] = {
    { "t", F_T }, { "v", F_V }, { "unit", F_UNIT }, { "clock", F_INT },
    { "meta_upto", F_UINT }, { "head", F_UINT }, { "agent", F_AGENT } };
static const s_field_t s_f_welcome[] = {
    { "t", F_T }, { "v", F_V }, { "resume_after", F_UINT },
    { "clock", F_INT }, { "window", F_WINDOW }, { "unit", F_UNIT } };
static const s_field_t s_f_batch[] = {
    { "t", F_T }, { "v", F_V }, { "entries", F_ENTRIES },
    { "through", F_THROUGH }, { "after", F_AFTER } };
static const s_field_t s_f_ack[] = {
    { "t", F_T }, { "v", F_V }, { "upto", F_UINT }, { "rejected", F_REJECTED } };
static const s_field_t s_f_meta[] = {
    { "t", F_T }, { "v", F_V }, { "items", F_ITEMS } };
static const s_field_t s_f_meta_ack[] = {
    { "t", F_T }, { "v", F_V }, { "upto", F_UINT } };
static const s_field_t s_f_ping[] = {
    { "t", F_T }, { "v", F_V }, { "clock", F_INT } };
static const s_field_t s_f_error[] = {
    { "t", F_T }, { "v", F_V }, { "code", F_CODE }, { "reason", F_REASON } };

static const s_field_t s_f_entry[] = {
    { "seq", F_SEQ }, { "kind", F_EKIND }, { "blob", F_BLOB } };
static const s_field_t s_f_reject[] = {
    { "seq", F_SEQ }, { "code", F_CODE }, { "reason", F_REASON } };
static const s_field_t s_f_item[] = {
    { "seq", F_SEQ }, { "kind", F_MKIND }, { "key", F_KEY }, { "blob", F_BLOB } };

static const s_fields_t s_top[] = {
    [TH_MSG_HELLO] = FIELDS(s_f_hello), [TH_MSG_WELCOME] = FIELDS(s_f_welcome),
    [TH_MSG_BATCH] = FIELDS(s_f_batch), [TH_MSG_ACK] = FIELDS(s_f_ack),
    [TH_MSG_META] = FIELDS(s_f_meta), [TH_MSG_META_ACK] = FIELDS(s_f_meta_ack),
    [TH_MSG_PING] = FIELDS(s_f_ping), [TH_MSG_PONG] = FIELDS(s_f_ping),
    [TH_MSG_ERROR] = FIELDS(s_f_error),
};

/* What to break in a hand-made frame; -1 = nothing. Element changes apply
   to the second element of the type's array. */
typedef struct {
    int drop, wrong, variant;       /* top-level field index */
    int edrop, ewrong, evariant;    /* element field index */
    int dup;                        /* repeat this top-level field */
    bool extra;                     /* add unknown keys (top and element) */
    bool elem_not_map;              /* second element is an int */
    uint64_t seq2;                  /* seq of the second element; 0 = 2 */
    const char *unit;               /* unit code override */
} s_break_t;

static const s_break_t s_nobreak = { -1, -1, 0, -1, -1, 0, -1, false, false,
                                     0, NULL };

/* Wrong-type variants: nil, bool, float, uint, str, bin, array, map. */
enum { W_NIL, W_BOOL, W_FLOAT, W_UINT, W_STR, W_BIN, W_ARRAY, W_MAP, W_COUNT };

static int
s_category(int kind)
{
    switch (kind) {
    case F_UNIT: case F_AGENT: case F_REASON: case F_KEY: return W_STR;
    case F_BLOB: return W_BIN;
    case F_ENTRIES: case F_REJECTED: case F_ITEMS: return W_ARRAY;
    default: return W_UINT;
    }
}

static void
s_pack_wrong(msgpack_packer *pk, int variant)
{
    switch (variant) {
    case W_NIL: msgpack_pack_nil(pk); break;
    case W_BOOL: msgpack_pack_true(pk); break;
    case W_FLOAT: msgpack_pack_double(pk, 1.5); break;
    case W_UINT: msgpack_pack_uint64(pk, 1); break;
    case W_STR: msgpack_pack_str_with_body(pk, "1", 1); break;
    case W_BIN: msgpack_pack_bin_with_body(pk, "1", 1); break;
    case W_ARRAY: msgpack_pack_array(pk, 0); break;
    case W_MAP: msgpack_pack_map(pk, 0); break;
    }
}

static void
s_pack_cstr(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void s_pack_fields(msgpack_packer *pk, int type, const s_fields_t *fs,
                          const s_break_t *b, bool top, uint64_t seq);

static void
s_pack_value(msgpack_packer *pk, int type, int kind, const s_break_t *b,
             uint64_t seq)
{
    static const s_fields_t entry = FIELDS(s_f_entry);
    static const s_fields_t reject = FIELDS(s_f_reject);
    static const s_fields_t item = FIELDS(s_f_item);
    switch (kind) {
    case F_T: msgpack_pack_uint32(pk, (uint32_t)type); break;
    case F_V: msgpack_pack_uint32(pk, 1); break;
    case F_UINT: msgpack_pack_uint64(pk, 5); break;
    case F_INT: msgpack_pack_int64(pk, -1234); break;
    case F_UNIT: s_pack_cstr(pk, b->unit ? b->unit : "00001"); break;
    case F_AGENT: s_pack_cstr(pk, "tonghop/1"); break;
    case F_WINDOW: msgpack_pack_uint32(pk, 16); break;
    case F_CODE: msgpack_pack_int32(pk, TH_E_SIG); break;
    case F_REASON: s_pack_cstr(pk, "Chữ ký sai"); break;
    case F_SEQ: msgpack_pack_uint64(pk, seq); break;
    case F_EKIND: msgpack_pack_uint32(pk, TH_MSG_ENTRY_RECORD); break;
    case F_MKIND: msgpack_pack_uint32(pk, TH_MSG_META_RECEIPT); break;
    case F_BLOB: msgpack_pack_bin_with_body(pk, "\x01\x02", 2); break;
    case F_KEY: s_pack_cstr(pk, "bc|2026|00001"); break;
    case F_THROUGH: msgpack_pack_uint64(pk, 10); break;
    case F_AFTER: msgpack_pack_uint64(pk, 0); break;
    case F_ENTRIES: case F_REJECTED: case F_ITEMS: {
        const s_fields_t *ef = kind == F_ENTRIES ? &entry
                             : kind == F_REJECTED ? &reject : &item;
        msgpack_pack_array(pk, 2);
        s_pack_fields(pk, type, ef, &s_nobreak, false, 1);
        if (b->elem_not_map)
            msgpack_pack_uint32(pk, 7);
        else
            s_pack_fields(pk, type, ef, b, false, b->seq2 ? b->seq2 : 2);
        break;
    }
    }
}

static void
s_pack_fields(msgpack_packer *pk, int type, const s_fields_t *fs,
              const s_break_t *b, bool top, uint64_t seq)
{
    int drop = top ? b->drop : b->edrop;
    int wrong = top ? b->wrong : b->ewrong;
    int variant = top ? b->variant : b->evariant;
    int dup = top ? b->dup : -1;
    size_t n = fs->n - (drop >= 0) + (dup >= 0) + (b->extra ? 2 : 0);
    msgpack_pack_map(pk, n);
    if (b->extra) {   /* unknown keys first, with nested junk */
        s_pack_cstr(pk, "zz_future");
        msgpack_pack_array(pk, 2);
        msgpack_pack_map(pk, 1);
        s_pack_cstr(pk, "t");
        s_pack_cstr(pk, "not the type");
        msgpack_pack_nil(pk);
    }
    for (size_t i = 0; i < fs->n; i++) {
        if ((int)i == drop)
            continue;
        s_pack_cstr(pk, fs->f[i].key);
        if ((int)i == wrong)
            s_pack_wrong(pk, variant);
        else
            s_pack_value(pk, type, fs->f[i].kind, b, seq);
        if ((int)i == dup) {
            s_pack_cstr(pk, fs->f[i].key);
            s_pack_value(pk, type, fs->f[i].kind, b, seq);
        }
    }
    if (b->extra) {
        s_pack_cstr(pk, "");
        msgpack_pack_bin_with_body(pk, "", 0);
    }
}

static int
s_decode_built(int type, const s_break_t *b)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    s_pack_fields(&pk, type, &s_top[type], b, true, 1);
    th_msg_t m = { 0 };
    int rc = th_msg_decode((const uint8_t *)sb.data, sb.size, &m);
    if (rc < 0) {
        s_expect_cleared(&m);
    } else {
        assert_int_equal(m.type, type);
        /* whatever decodes must re-encode and decode to the same */
        uint8_t *f = NULL;
        size_t flen = 0;
        assert_int_equal(th_msg_encode(&m, &f, &flen), 0);
        th_msg_t d = { 0 };
        assert_int_equal(th_msg_decode(f, flen, &d), 0);
        assert_true(s_equal(&m, &d));
        th_msg_clear(&d);
        th_free(f);
    }
    th_msg_clear(&m);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int
s_elem_kind(int type)
{
    return type == TH_MSG_BATCH ? F_ENTRIES
         : type == TH_MSG_ACK ? F_REJECTED
         : type == TH_MSG_META ? F_ITEMS : -1;
}

static const s_fields_t *
s_elem_fields(int type)
{
    static const s_fields_t entry = FIELDS(s_f_entry);
    static const s_fields_t reject = FIELDS(s_f_reject);
    static const s_fields_t item = FIELDS(s_f_item);
    return type == TH_MSG_BATCH ? &entry
         : type == TH_MSG_ACK ? &reject
         : type == TH_MSG_META ? &item : NULL;
}

static void
test_msg_decode_builder_frames_valid(void **state)
{
    (void)state;
    for (int t = TH_MSG_HELLO; t <= TH_MSG_ERROR; t++) {
        assert_int_equal(s_decode_built(t, &s_nobreak), 0);
        /* unknown keys, at the top and in elements, are ignored */
        s_break_t b = s_nobreak;
        b.extra = true;
        assert_int_equal(s_decode_built(t, &b), 0);
    }
}

static void
test_msg_decode_rejects_wrong_types(void **state)
{
    (void)state;
    int checked = 0;
    for (int t = TH_MSG_HELLO; t <= TH_MSG_ERROR; t++) {
        const s_fields_t *fs = &s_top[t];
        for (size_t i = 0; i < fs->n; i++) {
            for (int v = 0; v < W_COUNT; v++) {
                if (v == s_category(fs->f[i].kind))
                    continue;
                s_break_t b = s_nobreak;
                b.wrong = (int)i;
                b.variant = v;
                if (s_decode_built(t, &b) != TH_E_TYPE)
                    fail_msg("%s.%s variant %d: not TH_E_TYPE",
                             th_msg_type_name(t), fs->f[i].key, v);
                checked++;
            }
        }
        const s_fields_t *ef = s_elem_fields(t);
        if (!ef)
            continue;
        for (size_t i = 0; i < ef->n; i++) {
            for (int v = 0; v < W_COUNT; v++) {
                if (v == s_category(ef->f[i].kind))
                    continue;
                s_break_t b = s_nobreak;
                b.ewrong = (int)i;
                b.evariant = v;
                if (s_decode_built(t, &b) != TH_E_TYPE)
                    fail_msg("%s element .%s variant %d: not TH_E_TYPE",
                             th_msg_type_name(t), ef->f[i].key, v);
                checked++;
            }
        }
        s_break_t b = s_nobreak;
        b.elem_not_map = true;
        assert_int_equal(s_decode_built(t, &b), TH_E_TYPE);
        assert_int_equal(s_elem_kind(t) >= 0, 1);
    }
    assert_true(checked > 150);

    /* not a map at all; a key that is not a str */
    uint8_t arr[] = { 0x92, 0x01, 0x01 };
    th_msg_t m = { 0 };
    assert_int_equal(th_msg_decode(arr, sizeof arr, &m), TH_E_TYPE);
    uint8_t intkey[] = { 0x83, 0xa1, 't', 0x07, 0xa1, 'v', 0x01, 0x05, 0x05 };
    assert_int_equal(th_msg_decode(intkey, sizeof intkey, &m), TH_E_TYPE);
    s_expect_cleared(&m);
}

static void
test_msg_decode_rejects_missing_and_repeated_keys(void **state)
{
    (void)state;
    for (int t = TH_MSG_HELLO; t <= TH_MSG_ERROR; t++) {
        const s_fields_t *fs = &s_top[t];
        for (size_t i = 0; i < fs->n; i++) {
            s_break_t b = s_nobreak;
            b.drop = (int)i;
            if (s_decode_built(t, &b) != TH_E_INVALID)
                fail_msg("%s without %s: not TH_E_INVALID",
                         th_msg_type_name(t), fs->f[i].key);
            b = s_nobreak;
            b.dup = (int)i;
            if (s_decode_built(t, &b) != TH_E_INVALID)
                fail_msg("%s with %s twice: not TH_E_INVALID",
                         th_msg_type_name(t), fs->f[i].key);
        }
        const s_fields_t *ef = s_elem_fields(t);
        for (size_t i = 0; ef && i < ef->n; i++) {
            s_break_t b = s_nobreak;
            b.edrop = (int)i;
            if (s_decode_built(t, &b) != TH_E_INVALID)
                fail_msg("%s element without %s: not TH_E_INVALID",
                         th_msg_type_name(t), ef->f[i].key);
        }
    }
}

static void
test_msg_decode_rejects_bad_sequences(void **state)
{
    (void)state;
    const int types[] = { TH_MSG_BATCH, TH_MSG_META, TH_MSG_ACK };
    for (size_t k = 0; k < 3; k++) {
        s_break_t b = s_nobreak;
        b.seq2 = 1;   /* equal to the first */
        assert_int_equal(s_decode_built(types[k], &b), TH_E_INVALID);
        b.seq2 = 3;
        assert_int_equal(s_decode_built(types[k], &b), 0);
    }
    /* ACK: a rejected seq above upto (upto is 5 in built frames) */
    s_break_t b = s_nobreak;
    b.seq2 = 6;
    assert_int_equal(s_decode_built(TH_MSG_ACK, &b), TH_E_INVALID);
    b.seq2 = 5;
    assert_int_equal(s_decode_built(TH_MSG_ACK, &b), 0);

    /* decreasing and zero seqs through the encoder's frame layout */
    uint8_t batch0[] = { 0x85, 0xa1, 't', 0x03, 0xa1, 'v', 0x01,
                         0xa7, 't', 'h', 'r', 'o', 'u', 'g', 'h', 0x01,
                         0xa7, 'e', 'n', 't', 'r', 'i', 'e', 's', 0x91,
                         0x83, 0xa3, 's', 'e', 'q', 0x00,
                         0xa4, 'k', 'i', 'n', 'd', 0x01,
                         0xa4, 'b', 'l', 'o', 'b', 0xc4, 0x01, 0x00,
                         0xa5, 'a', 'f', 't', 'e', 'r', 0x00 };
    th_msg_t m = { 0 };
    assert_int_equal(th_msg_decode(batch0, sizeof batch0, &m), TH_E_INVALID);
    batch0[30] = 0x01;
    assert_int_equal(th_msg_decode(batch0, sizeof batch0, &m), 0);
    assert_int_equal(m.entries[0].seq, 1);
    assert_int_equal(m.through, 1);
    assert_ptr_equal(m.entries[0].blob, batch0 + sizeof batch0 - 8);
    assert_int_equal(m.after, 0);
    batch0[30] = 0x02;   /* an entry beyond through */
    assert_int_equal(th_msg_decode(batch0, sizeof batch0, &m), TH_E_INVALID);
    batch0[15] = 0x00;   /* through 0 */
    assert_int_equal(th_msg_decode(batch0, sizeof batch0, &m), TH_E_INVALID);
    batch0[15] = 0x02;
    /* bin 0: empty blob (drop the blob byte, keep "after" behind it) */
    batch0[sizeof batch0 - 9] = 0x00;
    memmove(batch0 + sizeof batch0 - 8, batch0 + sizeof batch0 - 7, 7);
    assert_int_equal(th_msg_decode(batch0, sizeof batch0 - 1, &m), TH_E_INVALID);
    s_expect_cleared(&m);

    /* only skipped entries: no entries, through moves the cursor */
    uint8_t skipped[] = { 0x85, 0xa1, 't', 0x03, 0xa1, 'v', 0x01,
                          0xa7, 't', 'h', 'r', 'o', 'u', 'g', 'h', 0x09,
                          0xa7, 'e', 'n', 't', 'r', 'i', 'e', 's', 0x90,
                          0xa5, 'a', 'f', 't', 'e', 'r', 0x04 };
    assert_int_equal(th_msg_decode(skipped, sizeof skipped, &m), 0);
    assert_int_equal(m.nentries, 0);
    assert_int_equal(m.through, 9);
    assert_int_equal(m.after, 4);
    skipped[sizeof skipped - 1] = 0x09;   /* after must lie below through */
    assert_int_equal(th_msg_decode(skipped, sizeof skipped, &m), TH_E_INVALID);
    th_msg_clear(&m);
}

static void
test_msg_decode_rejects_bad_unit_codes(void **state)
{
    (void)state;
    const char *bad[] = { "", "00 01", "01/", "ấp01", "0123456789abcdef",
                          "01\n", "a.b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_break_t b = s_nobreak;
        b.unit = bad[i];
        assert_int_equal(s_decode_built(TH_MSG_HELLO, &b), TH_E_INVALID);
        assert_int_equal(s_decode_built(TH_MSG_WELCOME, &b), TH_E_INVALID);
    }
    s_break_t b = s_nobreak;
    b.unit = "0123456789abcde";   /* 15 bytes: the longest allowed */
    assert_int_equal(s_decode_built(TH_MSG_HELLO, &b), 0);

    /* NUL inside the code */
    uint8_t ping_like[] = { 0x87, 0xa1, 't', 0x01, 0xa1, 'v', 0x01,
                            0xa4, 'u', 'n', 'i', 't', 0xa3, '0', 0x00, '1',
                            0xa5, 'c', 'l', 'o', 'c', 'k', 0x00,
                            0xa9, 'm', 'e', 't', 'a', '_', 'u', 'p', 't', 'o', 0x00,
                            0xa4, 'h', 'e', 'a', 'd', 0x00,
                            0xa5, 'a', 'g', 'e', 'n', 't', 0xa0 };
    th_msg_t m = { 0 };
    assert_int_equal(th_msg_decode(ping_like, sizeof ping_like, &m),
                     TH_E_INVALID);
    ping_like[14] = '0';
    assert_int_equal(th_msg_decode(ping_like, sizeof ping_like, &m), 0);
    assert_string_equal(m.unit, "001");
    th_msg_clear(&m);
}

/* Builds {t, v, <key>: <raw bytes>} for the value checks below. */
static int
s_decode_raw(uint8_t type, const char *key, const uint8_t *val, size_t vlen,
             const char *key2, const uint8_t *val2, size_t v2len)
{
    uint8_t buf[2048];
    size_t n = 0;
    buf[n++] = (uint8_t)(0x80 | (key2 ? 4 : 3));
    memcpy(buf + n, "\xa1t", 2); n += 2;
    buf[n++] = type;
    memcpy(buf + n, "\xa1v\x01", 3); n += 3;
    buf[n++] = (uint8_t)(0xa0 | strlen(key));
    memcpy(buf + n, key, strlen(key)); n += strlen(key);
    memcpy(buf + n, val, vlen); n += vlen;
    if (key2) {
        buf[n++] = (uint8_t)(0xa0 | strlen(key2));
        memcpy(buf + n, key2, strlen(key2)); n += strlen(key2);
        memcpy(buf + n, val2, v2len); n += v2len;
    }
    th_msg_t m = { 0 };
    int rc = th_msg_decode(buf, n, &m);
    th_msg_clear(&m);
    return rc;
}

static void
test_msg_decode_rejects_out_of_range_values(void **state)
{
    (void)state;
    const uint8_t one[] = { 0x01 };
    /* t and v */
    assert_int_equal(s_decode_raw(7, "clock", one, 1, NULL, NULL, 0), 0);
    assert_int_equal(s_decode_raw(0, "clock", one, 1, NULL, NULL, 0), TH_E_INVALID);
    assert_int_equal(s_decode_raw(10, "clock", one, 1, NULL, NULL, 0), TH_E_INVALID);
    uint8_t v2[] = { 0x83, 0xa1, 't', 0x07, 0xa1, 'v', 0x02, 0xa5, 'c', 'l',
                     'o', 'c', 'k', 0x01 };
    th_msg_t m = { 0 };
    assert_int_equal(th_msg_decode(v2, sizeof v2, &m), TH_E_INVALID);
    v2[6] = 0x01;
    assert_int_equal(th_msg_decode(v2, sizeof v2, &m), 0);
    th_msg_clear(&m);

    /* clock beyond int64; negative uint */
    const uint8_t huge[] = { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(s_decode_raw(7, "clock", huge, 9, NULL, NULL, 0), TH_E_INVALID);
    const uint8_t neg[] = { 0xff };
    assert_int_equal(s_decode_raw(7, "clock", neg, 1, NULL, NULL, 0), 0);
    assert_int_equal(s_decode_raw(6, "upto", neg, 1, NULL, NULL, 0), TH_E_INVALID);
    const uint8_t f32[] = { 0xca, 0, 0, 0, 0 };
    assert_int_equal(s_decode_raw(6, "upto", f32, 5, NULL, NULL, 0), TH_E_TYPE);

    /* ERROR code: negative int32 only; reason length */
    const uint8_t reason[] = { 0xa1, 'x' };
    const uint8_t cpos[] = { 0x05 };
    const uint8_t cbig[] = { 0xd3, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff };
    const uint8_t cok[] = { 0xd2, 0x80, 0, 0, 0 };   /* INT32_MIN */
    assert_int_equal(s_decode_raw(9, "code", cpos, 1, "reason", reason, 2), TH_E_INVALID);
    assert_int_equal(s_decode_raw(9, "code", cbig, 9, "reason", reason, 2), TH_E_INVALID);
    assert_int_equal(s_decode_raw(9, "code", cok, 5, "reason", reason, 2), 0);
    uint8_t lr[3 + TH_MSG_REASON_MAX + 1];
    lr[0] = 0xda;
    lr[1] = (uint8_t)((TH_MSG_REASON_MAX + 1) >> 8);
    lr[2] = (uint8_t)((TH_MSG_REASON_MAX + 1) & 0xff);
    memset(lr + 3, 'r', TH_MSG_REASON_MAX + 1);
    assert_int_equal(s_decode_raw(9, "code", cok, 5, "reason", lr, sizeof lr), TH_E_LIMIT);
    lr[2]--;
    assert_int_equal(s_decode_raw(9, "code", cok, 5, "reason", lr, sizeof lr - 1), 0);
    const uint8_t badutf[] = { 0xa2, 0xc3, 0x28 };
    assert_int_equal(s_decode_raw(9, "code", cok, 5, "reason", badutf, 3), TH_E_INVALID);
    const uint8_t nul[] = { 0xa2, 'a', 0x00 };
    assert_int_equal(s_decode_raw(9, "code", cok, 5, "reason", nul, 3), TH_E_INVALID);

    /* the built frames, with values pushed out of range */
    uint8_t frames_hello[] = { 0x88, 0xa1, 't', 0x02, 0xa1, 'v', 0x01,
        0xac, 'r', 'e', 's', 'u', 'm', 'e', '_', 'a', 'f', 't', 'e', 'r', 0x00,
        0xa5, 'c', 'l', 'o', 'c', 'k', 0x00,
        0xa6, 'w', 'i', 'n', 'd', 'o', 'w', 0x00,
        0xa4, 'u', 'n', 'i', 't', 0xa2, '0', '1',
        0xa1, 'x', 0xc0, 0xa1, 'y', 0xc0 };
    assert_int_equal(th_msg_decode(frames_hello, sizeof frames_hello, &m), TH_E_INVALID);
    frames_hello[35] = 0x01;
    assert_int_equal(th_msg_decode(frames_hello, sizeof frames_hello, &m), 0);
    assert_int_equal(m.window, 1);
    th_msg_clear(&m);

    /* agent over 64 bytes */
    th_msg_t h;
    s_hello(&h);
    uint8_t *f = NULL;
    size_t flen = 0;
    assert_int_equal(th_msg_encode(&h, &f, &flen), 0);
    /* agent is the last field: "tonghop/0.1.0" (13 bytes) at the end */
    uint8_t *g = malloc(flen + 64);
    assert_non_null(g);
    memcpy(g, f, flen - 14);
    size_t n = flen - 14;
    g[n++] = 0xd9;
    g[n++] = 65;
    memset(g + n, 'a', 65);
    n += 65;
    assert_int_equal(th_msg_decode(g, n, &m), TH_E_LIMIT);
    g[flen - 14 + 1] = 64;
    assert_int_equal(th_msg_decode(g, n - 1, &m), 0);
    assert_int_equal(strlen(m.agent), 64);
    th_msg_clear(&m);
    free(g);
    th_free(f);
}

static void
test_msg_decode_rejects_bad_kinds_and_counts(void **state)
{
    (void)state;
    th_msg_t m = { 0 };
    /* entry kind 5, item kind 7: one past the last */
    uint8_t batch[] = { 0x85, 0xa1, 't', 0x03, 0xa1, 'v', 0x01,
                        0xa7, 'e', 'n', 't', 'r', 'i', 'e', 's', 0x91,
                        0x83, 0xa3, 's', 'e', 'q', 0x01,
                        0xa4, 'k', 'i', 'n', 'd', 0x05,
                        0xa4, 'b', 'l', 'o', 'b', 0xc4, 0x01, 0x00,
                        0xa7, 't', 'h', 'r', 'o', 'u', 'g', 'h', 0x01,
                        0xa5, 'a', 'f', 't', 'e', 'r', 0x00 };
    assert_int_equal(th_msg_decode(batch, sizeof batch, &m), TH_E_INVALID);
    batch[27] = 0x00;
    assert_int_equal(th_msg_decode(batch, sizeof batch, &m), TH_E_INVALID);
    batch[27] = 0x02;
    assert_int_equal(th_msg_decode(batch, sizeof batch, &m), 0);
    assert_int_equal(m.entries[0].kind, TH_MSG_ENTRY_ENROLL);
    /* empty entries need through */
    uint8_t empty[] = { 0x85, 0xa1, 't', 0x03, 0xa1, 'v', 0x01,
                        0xa5, 'a', 'f', 't', 'e', 'r', 0x00,
                        0xa7, 'e', 'n', 't', 'r', 'i', 'e', 's', 0x90,
                        0xa7, 't', 'h', 'r', 'o', 'u', 'g', 'h', 0x04 };
    assert_int_equal(th_msg_decode(empty, sizeof empty, &m), 0);
    assert_int_equal(m.nentries, 0);
    assert_null(m.entries);
    empty[0] = 0x84;   /* through left out */
    assert_int_equal(th_msg_decode(empty, sizeof empty - 9, &m), TH_E_INVALID);
    empty[0] = 0x85;
    empty[16] = 'x';   /* "extries": unknown, entries missing */
    assert_int_equal(th_msg_decode(empty, sizeof empty, &m), TH_E_INVALID);
    s_expect_cleared(&m);

    /* 257 entries: the count alone is refused */
    size_t cap = 16 + 257 * 32;
    uint8_t *big = malloc(cap);
    assert_non_null(big);
    size_t n = 0;
    memcpy(big, "\x85\xa1t\x03\xa1v\x01\xa7" "entries\xdc\x01\x01", 18);
    n = 18;
    for (int i = 0; i < 257; i++) {
        memcpy(big + n, "\x83\xa3seq\xcd", 6);
        n += 6;
        big[n++] = (uint8_t)((i + 1) >> 8);
        big[n++] = (uint8_t)(i + 1);
        memcpy(big + n, "\xa4kind\x01\xa4" "blob\xc4\x01\x00", 14);
        n += 14;
    }
    memcpy(big + n, "\xa7through\xcd\x01\x01\xa5" "after\x00", 18);
    n += 18;
    assert_int_equal(th_msg_decode(big, n, &m), TH_E_LIMIT);
    /* 256 is fine */
    big[17] = 0x00;
    memmove(big + n - 40, big + n - 18, 18);
    assert_int_equal(th_msg_decode(big, n - 22, &m), 0);
    assert_int_equal(m.nentries, 256);
    th_msg_clear(&m);
    free(big);
}

static void
test_msg_decode_rejects_truncation_at_every_length(void **state)
{
    (void)state;
    uint8_t *frames[16];
    size_t lens[16];
    size_t n = s_samples(frames, lens);
    th_msg_t m = { 0 };
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t l = 0; l < lens[i]; l++) {
            /* a copy of exactly l bytes, so ASan sees any over-read */
            uint8_t *p = malloc(l ? l : 1);
            assert_non_null(p);
            memcpy(p, frames[i], l);
            assert_int_equal(th_msg_decode(l ? p : NULL, l, &m), TH_E_PARSE);
            s_expect_cleared(&m);
            free(p);
            checked++;
        }
        /* trailing bytes */
        uint8_t *p = malloc(lens[i] + 1);
        assert_non_null(p);
        memcpy(p, frames[i], lens[i]);
        p[lens[i]] = 0xc0;
        assert_int_equal(th_msg_decode(p, lens[i] + 1, &m), TH_E_PARSE);
        assert_int_equal(th_msg_decode(p, lens[i], &m), 0);
        th_msg_clear(&m);
        free(p);
    }
    assert_true(checked > 400);
    s_free_samples(frames, n);
}

static void
test_msg_decode_rejects_bombs_and_depth(void **state)
{
    (void)state;
    th_msg_t m = { 0 };
    const uint8_t arr32[] = { 0xdd, 0xff, 0x00, 0x00, 0x00 };
    assert_int_equal(th_msg_decode(arr32, sizeof arr32, &m), TH_E_PARSE);
    const uint8_t map32[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(th_msg_decode(map32, sizeof map32, &m), TH_E_PARSE);
    const uint8_t bin32[] = { 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00 };
    assert_int_equal(th_msg_decode(bin32, sizeof bin32, &m), TH_E_PARSE);
    const uint8_t str32[] = { 0x81, 0xdb, 0x7f, 0xff, 0xff, 0xff, 0x00 };
    assert_int_equal(th_msg_decode(str32, sizeof str32, &m), TH_E_PARSE);

    /* depth 1000 */
    uint8_t deep[1001];
    memset(deep, 0x91, 1000);
    deep[1000] = 0xc0;
    assert_int_equal(th_msg_decode(deep, sizeof deep, &m), TH_E_LIMIT);
    /* depth 7 inside a valid-looking message: {t,v,clock,x:[[[[[[nil]]]]]]} */
    uint8_t d7[] = { 0x84, 0xa1, 't', 0x07, 0xa1, 'v', 0x01,
                     0xa5, 'c', 'l', 'o', 'c', 'k', 0x01, 0xa1, 'x',
                     0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0xc0 };
    assert_int_equal(th_msg_decode(d7, sizeof d7, &m), TH_E_LIMIT);
    /* depth 6 (top map + 5 arrays) is within the limit and ignored */
    uint8_t d6[] = { 0x84, 0xa1, 't', 0x07, 0xa1, 'v', 0x01,
                     0xa5, 'c', 'l', 'o', 'c', 'k', 0x01, 0xa1, 'x',
                     0x91, 0x91, 0x91, 0x91, 0x91, 0xc0 };
    assert_int_equal(th_msg_decode(d6, sizeof d6, &m), 0);
    assert_int_equal(m.type, TH_MSG_PING);
    assert_int_equal(m.clock, 1);
    th_msg_clear(&m);

    /* frame over 4 MiB; blob over 1 MiB */
    uint8_t *huge = calloc(1, TH_MSG_FRAME_MAX + 1);
    assert_non_null(huge);
    huge[0] = 0x81;
    assert_int_equal(th_msg_decode(huge, TH_MSG_FRAME_MAX + 1, &m), TH_E_LIMIT);
    size_t n = 0;
    memcpy(huge, "\x84\xa1t\x07\xa1v\x01\xa5" "clock\x01\xa1x\xc6", 17);
    n = 17;
    uint32_t bl = TH_MSG_BLOB_MAX + 1;
    huge[n++] = (uint8_t)(bl >> 24);
    huge[n++] = (uint8_t)(bl >> 16);
    huge[n++] = (uint8_t)(bl >> 8);
    huge[n++] = (uint8_t)bl;
    assert_int_equal(th_msg_decode(huge, n + bl, &m), TH_E_LIMIT);
    free(huge);

    /* more than 1024 items in an ignored container */
    size_t cap = 32 + 1025;
    uint8_t *wide = malloc(cap);
    assert_non_null(wide);
    memcpy(wide, "\x84\xa1t\x07\xa1v\x01\xa5" "clock\x01\xa1x\xdc\x04\x01", 19);
    memset(wide + 19, 0xc0, 1025);
    assert_int_equal(th_msg_decode(wide, 19 + 1025, &m), TH_E_LIMIT);
    wide[18] = 0x00;
    assert_int_equal(th_msg_decode(wide, 19 + 1024, &m), 0);
    th_msg_clear(&m);
    free(wide);
    s_expect_cleared(&m);
}

static void
test_msg_decode_clears_previous_content(void **state)
{
    (void)state;
    uint8_t *frames[16];
    size_t lens[16];
    size_t n = s_samples(frames, lens);
    th_msg_t m = { 0 };
    /* decoding into a used message frees the old content (ASan/valgrind
       would report a leak otherwise) */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(th_msg_decode(frames[i], lens[i], &m), 0);
    assert_int_equal(m.type, TH_MSG_ERROR);
    assert_string_equal(m.reason, "Khóa không khớp với đơn vị đã đăng ký");
    assert_int_equal(th_msg_decode(frames[2], lens[2], &m), 0);
    assert_int_equal(m.type, TH_MSG_BATCH);
    assert_int_equal(m.nentries, 2);
    assert_null(m.reason);
    assert_int_equal(th_msg_decode(frames[2], 3, &m), TH_E_PARSE);
    s_expect_cleared(&m);
    s_free_samples(frames, n);
}

/* ------------------------------------------------------------------ fuzz */

/* A decoded message must re-encode and decode to the same content. */
static void
s_check_decoded(const th_msg_t *m)
{
    uint8_t *f = NULL;
    size_t flen = 0;
    assert_int_equal(th_msg_encode(m, &f, &flen), 0);
    th_msg_t d = { 0 };
    assert_int_equal(th_msg_decode(f, flen, &d), 0);
    assert_true(s_equal(m, &d));
    th_msg_clear(&d);
    th_free(f);
}

static void
test_msg_fuzz_random_frames(void **state)
{
    (void)state;
    s_rng_state = 0x7468756f6e67ULL;
    uint8_t buf[96];
    int ok = 0;
    th_msg_t m = { 0 };
    for (int i = 0; i < 100000; i++) {
        size_t len = (size_t)(s_rng() % sizeof buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)s_rng();
        /* half start like a message so the decoder gets past the walker;
           some of those are PING/PONG/META_ACK with a random tail */
        if (len > 8 && (i & 1)) {
            buf[0] = (uint8_t)(0x80 | (s_rng() % 6));
            memcpy(buf + 1, "\xa1t", 2);
            buf[3] = (uint8_t)(1 + s_rng() % 9);
            memcpy(buf + 4, "\xa1v\x01", 3);
            if (len > 16 && (i & 2)) {
                buf[0] = 0x83;
                buf[3] = (uint8_t)(6 + s_rng() % 3);
                if (buf[3] == 6)
                    memcpy(buf + 7, "\xa4upto", 5);
                else
                    memcpy(buf + 7, "\xa5" "clock", 6);
                len = (buf[3] == 6 ? 12 : 13) + (size_t)(s_rng() % 4);
            }
        }
        int rc = th_msg_decode(len ? buf : NULL, len, &m);
        if (rc == 0) {
            ok++;
            s_check_decoded(&m);
        } else {
            assert_true(rc == TH_E_PARSE || rc == TH_E_LIMIT ||
                        rc == TH_E_TYPE || rc == TH_E_INVALID);
            s_expect_cleared(&m);
        }
        th_msg_clear(&m);
    }
    /* the seed is fixed: the PING/PONG/META_ACK-shaped frames whose random
       tail is one integer pass */
    assert_true(ok > 1000);
}

static void
test_msg_fuzz_mutations(void **state)
{
    (void)state;
    uint8_t *frames[16];
    size_t lens[16];
    size_t n = s_samples(frames, lens);
    s_rng_state = 0x6d75746174650aULL;
    uint8_t *buf = malloc(4096);
    assert_non_null(buf);
    int ok = 0, errs = 0;
    th_msg_t m = { 0 };
    for (int i = 0; i < 100000; i++) {
        size_t k = (size_t)(s_rng() % n);
        size_t len = lens[k];
        memcpy(buf, frames[k], len);
        int nmut = 1 + (int)(s_rng() % 4);
        for (int j = 0; j < nmut; j++) {
            size_t pos = len ? (size_t)(s_rng() % len) : 0;
            switch (s_rng() % 6) {
            case 0: if (len) buf[pos] ^= (uint8_t)(1u << (s_rng() % 8)); break;
            case 1: if (len) buf[pos] = (uint8_t)s_rng(); break;
            case 2:   /* insert a byte */
                if (len < 4000) {
                    memmove(buf + pos + 1, buf + pos, len - pos);
                    buf[pos] = (uint8_t)s_rng();
                    len++;
                }
                break;
            case 3:   /* delete a byte */
                if (len) {
                    memmove(buf + pos, buf + pos + 1, len - pos - 1);
                    len--;
                }
                break;
            case 4:   /* truncate */
                len = pos;
                break;
            case 5: {   /* interesting values */
                static const uint8_t v[] = { 0x00, 0x7f, 0x80, 0xc0, 0xc1,
                                             0xcc, 0xd2, 0xdc, 0xdd, 0xde,
                                             0xdf, 0xff, 0x90, 0x9f };
                if (len)
                    buf[pos] = v[s_rng() % sizeof v];
                break;
            }
            }
        }
        /* copy of exact length so an over-read is caught */
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, buf, len);
        int rc = th_msg_decode(len ? p : NULL, len, &m);
        if (rc == 0) {
            ok++;
            s_check_decoded(&m);
        } else {
            errs++;
            assert_true(rc == TH_E_PARSE || rc == TH_E_LIMIT ||
                        rc == TH_E_TYPE || rc == TH_E_INVALID);
            s_expect_cleared(&m);
        }
        th_msg_clear(&m);
        free(p);
    }
    /* flips inside strings, ints and blobs keep messages valid */
    assert_true(ok > 1000);
    assert_true(errs > 10000);
    free(buf);
    s_free_samples(frames, n);
}

/* ------------------------------------------------- allocation failures */

static void
test_msg_alloc_failure_encode(void **state)
{
    (void)state;
    uint8_t *frames[16];
    size_t lens[16];
    size_t n = s_samples(frames, lens);
    for (size_t i = 0; i < n; i++) {
        th_msg_t m = { 0 };
        assert_int_equal(th_msg_decode(frames[i], lens[i], &m), 0);
        int nomem = 0;
        for (long k = 0;; k++) {
            uint8_t *out = (uint8_t *)"x";
            size_t len = 1;
            th_mem_fail_after(k);
            int rc = th_msg_encode(&m, &out, &len);
            th_mem_fail_after(-1);
            if (rc == -ENOMEM) {
                assert_null(out);
                assert_int_equal(len, 0);
                nomem++;
                continue;
            }
            assert_int_equal(rc, 0);
            assert_int_equal(len, lens[i]);
            assert_memory_equal(out, frames[i], len);
            th_free(out);
            break;
        }
        assert_true(nomem >= 1);
        th_msg_clear(&m);
    }
    s_free_samples(frames, n);
}

static void
test_msg_alloc_failure_decode(void **state)
{
    (void)state;
    uint8_t *frames[16];
    size_t lens[16];
    size_t n = s_samples(frames, lens);
    int total_nomem = 0;
    for (size_t i = 0; i < n; i++) {
        th_msg_t want = { 0 };
        assert_int_equal(th_msg_decode(frames[i], lens[i], &want), 0);
        th_msg_t m = { 0 };
        for (long k = 0;; k++) {
            th_mem_fail_after(k);
            int rc = th_msg_decode(frames[i], lens[i], &m);
            th_mem_fail_after(-1);
            if (rc == -ENOMEM) {
                s_expect_cleared(&m);
                total_nomem++;
                continue;
            }
            assert_int_equal(rc, 0);
            assert_true(s_equal(&want, &m));
            break;
        }
        th_msg_clear(&m);
        th_msg_clear(&want);
    }
    /* every type allocates its private block; ACK/META/ERROR copy strings */
    assert_true(total_nomem >= 9 + 2 + 2 + 1 + 2);
    s_free_samples(frames, n);
}

static void
test_msg_alloc_failure_builders(void **state)
{
    (void)state;
    int nomem = 0;
    for (long k = 0;; k++) {
        th_msg_t m;
        th_msg_init(&m, TH_MSG_ACK);
        m.upto = 100;
        int rc = 0;
        uint64_t added = 0;
        th_mem_fail_after(k);
        for (uint64_t s = 1; s <= 20 && rc == 0; s++) {
            rc = th_msg_add_reject(&m, s, TH_E_SIG, "Chữ ký sai");
            if (rc == 0)
                added++;
        }
        th_mem_fail_after(-1);
        /* on failure the message holds exactly what was added before */
        assert_int_equal(m.nrejected, added);
        for (size_t i = 0; i < m.nrejected; i++)
            assert_string_equal(m.rejected[i].reason, "Chữ ký sai");
        th_msg_clear(&m);
        if (rc == -ENOMEM) {
            nomem++;
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(added, 20);
        break;
    }
    assert_true(nomem >= 20);

    nomem = 0;
    for (long k = 0;; k++) {
        th_msg_t m;
        th_msg_init(&m, TH_MSG_META);
        int rc = 0;
        th_mem_fail_after(k);
        for (uint64_t s = 1; s <= 10 && rc == 0; s++)
            rc = th_msg_add_meta(&m, s, TH_MSG_META_RECEIPT, "k", s_blob1, 1);
        th_mem_fail_after(-1);
        th_msg_clear(&m);
        if (rc == -ENOMEM) {
            nomem++;
            continue;
        }
        assert_int_equal(rc, 0);
        break;
    }
    assert_true(nomem >= 10);

    th_msg_t m;
    th_msg_init(&m, TH_MSG_BATCH);
    th_mem_fail_after(0);
    assert_int_equal(th_msg_add_entry(&m, 1, 1, s_blob1, 1), -ENOMEM);
    th_mem_fail_after(-1);
    assert_int_equal(m.nentries, 0);
    assert_int_equal(th_msg_add_entry(&m, 1, 1, s_blob1, 1), 0);
    th_msg_clear(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_roundtrip_hello),
        cmocka_unit_test(test_msg_roundtrip_welcome),
        cmocka_unit_test(test_msg_roundtrip_small_types),
        cmocka_unit_test(test_msg_roundtrip_ack_with_and_without_rejections),
        cmocka_unit_test(test_msg_roundtrip_batch_256_entries),
        cmocka_unit_test(test_msg_roundtrip_batch_1mib_blob),
        cmocka_unit_test(test_msg_roundtrip_meta),
        cmocka_unit_test(test_msg_type_names),
        cmocka_unit_test(test_msg_encode_refuses_invalid_input),
        cmocka_unit_test(test_msg_encode_refuses_oversized_frame),
        cmocka_unit_test(test_msg_builders_refuse_misuse),
        cmocka_unit_test(test_msg_decode_builder_frames_valid),
        cmocka_unit_test(test_msg_decode_rejects_wrong_types),
        cmocka_unit_test(test_msg_decode_rejects_missing_and_repeated_keys),
        cmocka_unit_test(test_msg_decode_rejects_bad_sequences),
        cmocka_unit_test(test_msg_decode_rejects_bad_unit_codes),
        cmocka_unit_test(test_msg_decode_rejects_out_of_range_values),
        cmocka_unit_test(test_msg_decode_rejects_bad_kinds_and_counts),
        cmocka_unit_test(test_msg_decode_rejects_truncation_at_every_length),
        cmocka_unit_test(test_msg_decode_rejects_bombs_and_depth),
        cmocka_unit_test(test_msg_decode_clears_previous_content),
        cmocka_unit_test(test_msg_fuzz_random_frames),
        cmocka_unit_test(test_msg_fuzz_mutations),
        cmocka_unit_test(test_msg_alloc_failure_encode),
        cmocka_unit_test(test_msg_alloc_failure_decode),
        cmocka_unit_test(test_msg_alloc_failure_builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
