/*  test_codec: canonical record encoding and the strict decoder, including
    hostile input (huge declared counts, deep nesting, random bytes,
    mutations) and allocation-failure injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec.h"
#include "err.h"
#include "mem.h"
#include "model.h"

#include <msgpack.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

#include "record_fixture.h"

static void
s_header(th_record_t *r)
{
    th_record_init(r);
    strcpy(r->form, "dvcq.2026");
    strcpy(r->period, "2026S1");
    strcpy(r->unit, "26734");
    r->form_version = 3;
    r->rev = 7;
    r->status = TH_STATUS_SUBMITTED;
    r->submitted_at = 1780000000123;
    for (int i = 0; i < TH_PUBKEY_LEN; i++)
        r->origin[i] = (uint8_t)(i * 7 + 1);
    for (int i = 0; i < TH_SIG_LEN; i++)
        r->sig[i] = (uint8_t)(255 - i);
}

/* A record with every value kind and the integer/float edge cases. */
static void
s_sample(th_record_t *r)
{
    s_header(r);
    r->author = th_strdup("Nguyễn Thị Hoa");
    r->note = th_strdup("Báo cáo 6 tháng đầu năm");
    r->proxy = true;
    strcpy(r->by, "267");
    r->doc = th_strdup("Công văn số 12/UBND-VP ngày 05/6/2026");
    s_set_int(r, "IV1", 1234567);
    s_set_int(r, "IV2", -1);
    s_set_int(r, "IV3", INT64_MIN);
    s_set_int(r, "IV4", INT64_MAX);
    s_set_int(r, "IV5", 200);
    s_set_int(r, "IV6", -33);
    s_set_dec(r, "D1", 0.1);
    s_set_dec(r, "D2", -0.0);
    s_set_dec(r, "D3", 1e300);
    s_set_bool(r, "B1", true);
    s_set_bool(r, "B2", false);
    s_set_text(r, "T1", "Đã tổ chức 12 hội nghị đối thoại với Nhân dân");
    s_set_text(r, "T2", "");
    s_set_text(r, "T3", NULL);
}

static void
s_expect_same(const th_record_t *a, const th_record_t *b)
{
    assert_string_equal(a->form, b->form);
    assert_string_equal(a->period, b->period);
    assert_string_equal(a->unit, b->unit);
    assert_int_equal(a->form_version, b->form_version);
    assert_int_equal(a->rev, b->rev);
    assert_int_equal(a->status, b->status);
    assert_true(a->submitted_at == b->submitted_at);
    assert_int_equal(a->proxy, b->proxy);
    assert_memory_equal(a->origin, b->origin, TH_PUBKEY_LEN);
    assert_memory_equal(a->sig, b->sig, TH_SIG_LEN);
    assert_string_equal(a->author ? a->author : "", b->author ? b->author : "");
    assert_string_equal(a->note ? a->note : "", b->note ? b->note : "");
    assert_string_equal(a->by, b->by);
    assert_string_equal(a->doc ? a->doc : "", b->doc ? b->doc : "");
    assert_true(th_record_values_equal(a, b));
}

static void
s_expect_cleared(const th_record_t *r)
{
    assert_int_equal(r->nvalues, 0);
    assert_null(r->values);
    assert_null(r->author);
    assert_null(r->note);
    assert_int_equal(r->rev, 0);
    assert_int_equal(r->form[0], 0);
}

/* Outer blob around an arbitrary body, written with msgpack-c directly. */
static void
s_wrap(const uint8_t *body, size_t blen, msgpack_sbuffer *out)
{
    msgpack_sbuffer_init(out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    uint8_t sig[TH_SIG_LEN] = { 0 };
    msgpack_pack_array(&pk, 2);
    msgpack_pack_bin(&pk, blen);
    msgpack_pack_bin_body(&pk, body, blen);
    msgpack_pack_bin(&pk, TH_SIG_LEN);
    msgpack_pack_bin_body(&pk, sig, TH_SIG_LEN);
}

static int
s_decode_wrapped(const uint8_t *body, size_t blen)
{
    msgpack_sbuffer sb;
    s_wrap(body, blen, &sb);
    th_record_t r;
    th_record_init(&r);
    int rc = th_codec_record_decode((const uint8_t *)sb.data, sb.size, &r,
                                    NULL, NULL);
    if (rc < 0)
        s_expect_cleared(&r);
    th_record_clear(&r);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Hand-built bodies, canonical unless an option breaks them. */
enum {
    B_SWAP = 1 << 0,          /* "author" before "at" */
    B_DUP = 1 << 1,           /* "at" twice */
    B_MISSING = 1 << 2,       /* no "note" */
    B_UNKNOWN = 1 << 3,       /* extra "zz" key */
    B_F32 = 1 << 4,           /* a decimal as float32 */
    B_I64 = 1 << 5,           /* rev 1 as int64 */
    B_VUNSORTED = 1 << 6,     /* value codes out of order */
    B_NIL = 1 << 7,           /* a nil value */
    B_BADUTF8 = 1 << 8,       /* text not UTF-8 */
    B_NUL = 1 << 9,           /* text with NUL */
    B_REV0 = 1 << 10,         /* rev 0 */
    B_V2 = 1 << 11,           /* format version 2 */
    B_KEY31 = 1 << 12,        /* origin key of 31 bytes */
    B_BADFORM = 1 << 13,      /* form id with upper case */
    B_STR_REV = 1 << 14,      /* rev as str */
    B_ST2 = 1 << 15,          /* status 2 */
    B_UINT8_AT = 1 << 16,     /* at = 5 as uint8 */
    B_STR8_SHORT = 1 << 17,   /* "unit" value as str8 */
    B_INTKEY = 1 << 18,       /* an integer key */
    B_VALS_ARR = 1 << 19,     /* vals as array */
    B_DUP_OWNED = 1 << 20,    /* "author" and "vals" twice (heap fields) */
};

static void
s_str(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

#define S(pk, lit) s_str((pk), (lit), sizeof(lit) - 1)

static void
s_entry(msgpack_packer *pk, msgpack_sbuffer *sb, int k, unsigned opt)
{
    static const uint8_t key[32] = { 1 };
    switch (k) {
    case 0:
        S(pk, "at");
        if (opt & B_UINT8_AT)
            msgpack_sbuffer_write(sb, "\xcc\x05", 2);
        else
            msgpack_pack_int64(pk, 5);
        break;
    case 1: S(pk, "author"); S(pk, ""); break;
    case 2:
        S(pk, "form");
        if (opt & B_BADFORM)
            S(pk, "Form");
        else
            S(pk, "f1");
        break;
    case 3: S(pk, "fv"); msgpack_pack_uint32(pk, 1); break;
    case 4:
        S(pk, "key");
        msgpack_pack_bin(pk, (opt & B_KEY31) ? 31 : 32);
        msgpack_pack_bin_body(pk, key, (opt & B_KEY31) ? 31 : 32);
        break;
    case 5: S(pk, "note"); S(pk, ""); break;
    case 6: S(pk, "period"); S(pk, "2026"); break;
    case 7: S(pk, "proxy"); msgpack_pack_false(pk); break;
    case 8:
        S(pk, "rev");
        if (opt & B_I64)
            msgpack_sbuffer_write(sb, "\xd3\0\0\0\0\0\0\0\x01", 9);
        else if (opt & B_STR_REV)
            S(pk, "1");
        else
            msgpack_pack_uint32(pk, (opt & B_REV0) ? 0 : 1);
        break;
    case 9: S(pk, "st"); msgpack_pack_uint32(pk, (opt & B_ST2) ? 2 : 1); break;
    case 10:
        S(pk, "unit");
        if (opt & B_STR8_SHORT)
            msgpack_sbuffer_write(sb, "\xd9\x02U1", 4);
        else
            S(pk, "U1");
        break;
    case 11: S(pk, "v"); msgpack_pack_uint32(pk, (opt & B_V2) ? 2 : 1); break;
    case 12:
        S(pk, "vals");
        if (opt & B_VALS_ARR) {
            msgpack_pack_array(pk, 0);
            break;
        }
        msgpack_pack_map(pk, 4);
        if (opt & B_VUNSORTED) {
            S(pk, "b"); msgpack_pack_double(pk, 2.5);
            S(pk, "a"); msgpack_pack_int64(pk, 7);
        } else {
            S(pk, "a"); msgpack_pack_int64(pk, 7);
            S(pk, "b");
            if (opt & B_F32)
                msgpack_pack_float(pk, 2.5f);
            else
                msgpack_pack_double(pk, 2.5);
        }
        S(pk, "c");
        if (opt & B_BADUTF8)
            S(pk, "\xc3\x28");
        else if (opt & B_NUL)
            S(pk, "o\0k");
        else
            S(pk, "ok");
        S(pk, "d");
        if (opt & B_NIL)
            msgpack_pack_nil(pk);
        else
            msgpack_pack_true(pk);
        break;
    }
}

static int
s_build_decode(unsigned opt)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t n = 13 + ((opt & (B_DUP | B_UNKNOWN | B_INTKEY)) ? 1 : 0) -
               ((opt & B_MISSING) ? 1 : 0) + ((opt & B_DUP_OWNED) ? 2 : 0);
    msgpack_pack_map(&pk, n);
    for (int k = 0; k < 13; k++) {
        if ((opt & B_MISSING) && k == 5)
            continue;
        if ((opt & B_SWAP) && k == 0) {
            s_entry(&pk, &sb, 1, opt);
            s_entry(&pk, &sb, 0, opt);
            k = 1;
            continue;
        }
        s_entry(&pk, &sb, k, opt);
        if ((opt & B_DUP) && k == 0)
            s_entry(&pk, &sb, 0, opt);
        if ((opt & B_DUP_OWNED) && (k == 1 || k == 12))
            s_entry(&pk, &sb, k, opt);
    }
    if (opt & B_UNKNOWN) {
        S(&pk, "zz");
        msgpack_pack_uint32(&pk, 1);
    }
    if (opt & B_INTKEY) {
        msgpack_pack_uint32(&pk, 1);
        msgpack_pack_uint32(&pk, 1);
    }
    int rc = s_decode_wrapped((const uint8_t *)sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static uint64_t s_rng;

static uint64_t
s_rand(void)
{
    /* xorshift64*: seeded, so a failure is reproducible */
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 2685821657736338717ULL;
}

/* Decodes buf; if accepted, the record must re-encode to exactly buf. */
static int
s_decode_roundtrip(const uint8_t *buf, size_t len)
{
    th_record_t r;
    th_record_init(&r);
    const uint8_t *body = NULL;
    size_t blen = 0;
    int rc = th_codec_record_decode(buf, len, &r, &body, &blen);
    if (rc == 0) {
        uint8_t *again = NULL;
        size_t alen = 0;
        assert_int_equal(th_codec_record_encode(&r, &again, &alen), 0);
        assert_int_equal(alen, len);
        assert_memory_equal(again, buf, len);
        th_free(again);
        assert_true(body > buf && body + blen < buf + len);
    } else {
        assert_true(rc == TH_E_PARSE || rc == TH_E_LIMIT || rc == TH_E_TYPE ||
                    rc == TH_E_CANON || rc == TH_E_INVALID);
        s_expect_cleared(&r);
    }
    th_record_clear(&r);
    return rc;
}

/* ------------------------------------------------------------------ tests */

static void
test_codec_roundtrip_all_kinds(void **state)
{
    (void)state;
    th_record_t r, d;
    s_sample(&r);
    th_record_init(&d);
    uint8_t *blob = NULL, *body = NULL;
    size_t len = 0, blen = 0;
    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    assert_int_equal(th_codec_record_body(&r, &body, &blen), 0);

    const uint8_t *bp = NULL;
    size_t bl = 0;
    assert_int_equal(th_codec_record_decode(blob, len, &d, &bp, &bl), 0);
    s_expect_same(&r, &d);
    /* The body handed out for verification is the signed bytes, in buf. */
    assert_int_equal(bl, blen);
    assert_memory_equal(bp, body, blen);
    assert_true(bp > blob && bp + bl <= blob + len);

    const th_value_t *v = th_record_get(&d, "IV3");
    assert_non_null(v);
    assert_int_equal(v->kind, TH_V_INT);
    assert_true(v->u.i == INT64_MIN);
    v = th_record_get(&d, "D2");
    assert_int_equal(v->kind, TH_V_DEC);
    assert_true(v->u.d == 0.0 && signbit(v->u.d));
    v = th_record_get(&d, "B2");
    assert_int_equal(v->kind, TH_V_BOOL);
    assert_false(v->u.b);
    v = th_record_get(&d, "T3");   /* NULL text comes back as "" */
    assert_int_equal(v->kind, TH_V_TEXT);
    assert_string_equal(v->u.s, "");

    /* Decoding into a used record clears it first (no leak, no mixing). */
    assert_int_equal(th_codec_record_decode(blob, len, &d, NULL, NULL), 0);
    s_expect_same(&r, &d);

    th_free(blob);
    th_free(body);
    th_record_clear(&r);
    th_record_clear(&d);
}

static void
test_codec_empty_author_note_decode_to_null(void **state)
{
    (void)state;
    th_record_t r, d;
    s_header(&r);
    r.author = th_strdup("");
    th_record_init(&d);
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    assert_int_equal(th_codec_record_decode(blob, len, &d, NULL, NULL), 0);
    assert_null(d.author);
    assert_null(d.note);
    assert_int_equal(d.nvalues, 0);
    th_free(blob);
    th_record_clear(&r);
    th_record_clear(&d);
}

static void
test_codec_canonical_independent_of_set_order(void **state)
{
    (void)state;
    th_record_t a, b;
    s_header(&a);
    s_header(&b);
    s_set_int(&a, "z9", 1);
    s_set_text(&a, "A", "một");
    s_set_dec(&a, "m.2", 2.25);
    s_set_bool(&a, "_x", true);
    s_set_int(&a, "B", 5);

    s_set_int(&b, "B", 99);       /* overwritten below */
    s_set_bool(&b, "_x", true);
    s_set_dec(&b, "m.2", 2.25);
    s_set_text(&b, "A", "một");
    s_set_int(&b, "z9", 1);
    s_set_int(&b, "B", 5);

    uint8_t *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    assert_int_equal(th_codec_record_body(&a, &x, &xl), 0);
    assert_int_equal(th_codec_record_body(&b, &y, &yl), 0);
    assert_int_equal(xl, yl);
    assert_memory_equal(x, y, xl);
    th_free(x);
    th_free(y);

    /* and any change of content changes the bytes */
    s_set_int(&b, "B", 6);
    assert_int_equal(th_codec_record_body(&b, &y, &yl), 0);
    assert_int_equal(th_codec_record_body(&a, &x, &xl), 0);
    assert_true(xl != yl || memcmp(x, y, xl) != 0);
    th_free(x);
    th_free(y);
    th_record_clear(&a);
    th_record_clear(&b);
}

static void
test_codec_golden_bytes(void **state)
{
    (void)state;
    th_record_t r;
    th_record_init(&r);
    strcpy(r.form, "f");
    strcpy(r.period, "2026");
    strcpy(r.unit, "U1");
    r.form_version = 1;
    r.rev = 300;
    r.status = TH_STATUS_SUBMITTED;
    r.submitted_at = 1767225600000;   /* 2026-01-01T00:00:00Z */
    memset(r.origin, 0xab, sizeof r.origin);
    memset(r.sig, 0x5a, sizeof r.sig);
    char s40[41];
    memset(s40, 'x', 40);
    s40[40] = '\0';
    s_set_int(&r, "a", 200);
    s_set_int(&r, "b", -1);
    s_set_int(&r, "c", -33);
    s_set_dec(&r, "d", 1.5);
    s_set_text(&r, "t", s40);
    s_set_bool(&r, "u", false);

    /* Written out by hand from the msgpack spec. */
    uint8_t want[512];
    size_t n = 0;
#define PUT(...)                                                             \
    do {                                                                     \
        const uint8_t b_[] = { __VA_ARGS__ };                                \
        memcpy(want + n, b_, sizeof b_);                                     \
        n += sizeof b_;                                                      \
    } while (0)
#define PUTS(lit)                                                            \
    do {                                                                     \
        memcpy(want + n, lit, sizeof(lit) - 1);                              \
        n += sizeof(lit) - 1;                                                \
    } while (0)
    PUT(0x8d);                                           /* fixmap 13 */
    PUT(0xa2); PUTS("at");
    PUT(0xcf, 0x00, 0x00, 0x01, 0x9b, 0x76, 0xda, 0xa8, 0x00); /* uint64 */
    PUT(0xa6); PUTS("author"); PUT(0xa0);
    PUT(0xa4); PUTS("form"); PUT(0xa1); PUTS("f");
    PUT(0xa2); PUTS("fv"); PUT(0x01);
    PUT(0xa3); PUTS("key"); PUT(0xc4, 0x20);
    memset(want + n, 0xab, 32);
    n += 32;
    PUT(0xa4); PUTS("note"); PUT(0xa0);
    PUT(0xa6); PUTS("period"); PUT(0xa4); PUTS("2026");
    PUT(0xa5); PUTS("proxy"); PUT(0xc2);
    PUT(0xa3); PUTS("rev"); PUT(0xcd, 0x01, 0x2c);      /* uint16 300 */
    PUT(0xa2); PUTS("st"); PUT(0x01);
    PUT(0xa4); PUTS("unit"); PUT(0xa2); PUTS("U1");
    PUT(0xa1); PUTS("v"); PUT(0x01);
    PUT(0xa4); PUTS("vals"); PUT(0x86);
    PUT(0xa1); PUTS("a"); PUT(0xcc, 0xc8);               /* uint8 200 */
    PUT(0xa1); PUTS("b"); PUT(0xff);                     /* negfixint */
    PUT(0xa1); PUTS("c"); PUT(0xd0, 0xdf);               /* int8 -33 */
    PUT(0xa1); PUTS("d"); PUT(0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0);
    PUT(0xa1); PUTS("t"); PUT(0xd9, 0x28);               /* str8 40 */
    memset(want + n, 'x', 40);
    n += 40;
    PUT(0xa1); PUTS("u"); PUT(0xc2);
    size_t body_n = n;

    uint8_t *body = NULL, *blob = NULL;
    size_t blen = 0, len = 0;
    assert_int_equal(th_codec_record_body(&r, &body, &blen), 0);
    assert_int_equal(blen, body_n);
    assert_memory_equal(body, want, body_n);

    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    assert_int_equal(len, 1 + 2 + body_n + 2 + 64);
    assert_int_equal(blob[0], 0x92);
    assert_int_equal(blob[1], 0xc4);                     /* bin8 */
    assert_int_equal(blob[2], body_n);
    assert_memory_equal(blob + 3, want, body_n);
    assert_int_equal(blob[3 + body_n], 0xc4);
    assert_int_equal(blob[4 + body_n], 0x40);
    assert_int_equal(blob[5 + body_n], 0x5a);
    assert_int_equal(blob[len - 1], 0x5a);
#undef PUT
#undef PUTS
    th_free(body);
    th_free(blob);
    th_record_clear(&r);
}

/* An entry on behalf of a unit is format version 2, with by and doc; an
   office's own report keeps version 1 and its bytes; neither may pass for
   the other. */
static void
test_codec_proxy_entry_is_version_2(void **state)
{
    (void)state;
    th_record_t r, back;
    th_record_init(&back);
    s_sample(&r);   /* proxy, by 267, a document */
    uint8_t *body = NULL, *blob = NULL;
    size_t blen, len;
    assert_int_equal(th_codec_record_body(&r, &body, &blen), 0);
    assert_int_equal(body[0], 0x8f);   /* fixmap of 15 keys */
    assert_non_null(memmem(body, blen, "\xa2" "by" "\xa3" "267", 6));
    assert_non_null(memmem(body, blen, "\xa1" "v" "\x02", 3));
    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    assert_int_equal(th_codec_record_decode(blob, len, &back, NULL, NULL), 0);
    s_expect_same(&r, &back);
    assert_true(back.proxy);

    /* the same body claiming version 1 is refused (by and doc are not v1 keys) */
    uint8_t *v = memmem(body, blen, "\xa1" "v" "\x02", 3);
    v[2] = 0x01;
    assert_int_equal(s_decode_wrapped(body, blen), TH_E_INVALID);
    th_free(body);
    th_free(blob);

    /* a proxy entry must name the hub; by and doc only with proxy */
    r.by[0] = '\0';
    assert_int_equal(th_codec_record_body(&r, &body, &blen), TH_E_INVALID);
    assert_null(body);
    strcpy(r.by, "267");
    r.proxy = false;
    assert_int_equal(th_codec_record_body(&r, &body, &blen), TH_E_INVALID);
    r.by[0] = '\0';
    assert_int_equal(th_codec_record_body(&r, &body, &blen), TH_E_INVALID); /* doc left */
    th_free(r.doc);
    r.doc = NULL;
    assert_int_equal(th_codec_record_body(&r, &body, &blen), 0);
    assert_int_equal(body[0], 0x8d);   /* 13 keys, version 1 */
    assert_non_null(memmem(body, blen, "\xa1" "v" "\x01", 3));
    /* a version 1 body saying proxy is refused */
    uint8_t *px = memmem(body, blen, "\xa5" "proxy" "\xc2", 7);
    assert_non_null(px);
    px[6] = 0xc3;
    assert_int_equal(s_decode_wrapped(body, blen), TH_E_INVALID);
    th_free(body);
    th_record_clear(&r);
    th_record_clear(&back);
}

static void
test_codec_decode_rejects_noncanonical(void **state)
{
    (void)state;
    /* The builder's baseline is canonical, so each failure below is caused
       by its one deviation. */
    assert_int_equal(s_build_decode(0), 0);

    assert_int_equal(s_build_decode(B_I64), TH_E_CANON);
    assert_int_equal(s_build_decode(B_UINT8_AT), TH_E_CANON);
    assert_int_equal(s_build_decode(B_STR8_SHORT), TH_E_CANON);
    assert_int_equal(s_build_decode(B_SWAP), TH_E_CANON);
    assert_int_equal(s_build_decode(B_DUP), TH_E_CANON);
    /* a second value for a heap-owned field must not leak the first */
    assert_int_equal(s_build_decode(B_DUP_OWNED), TH_E_CANON);
    assert_int_equal(s_build_decode(B_F32), TH_E_CANON);
    assert_int_equal(s_build_decode(B_VUNSORTED), TH_E_CANON);
    assert_int_equal(s_build_decode(B_UNKNOWN), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_MISSING), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_BADUTF8), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_NUL), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_REV0), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_V2), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_KEY31), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_BADFORM), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_ST2), TH_E_INVALID);
    assert_int_equal(s_build_decode(B_NIL), TH_E_TYPE);
    assert_int_equal(s_build_decode(B_STR_REV), TH_E_TYPE);
    assert_int_equal(s_build_decode(B_INTKEY), TH_E_TYPE);
    assert_int_equal(s_build_decode(B_VALS_ARR), TH_E_TYPE);
}

static void
test_codec_decode_rejects_bad_envelope(void **state)
{
    (void)state;
    th_record_t r, d;
    s_sample(&r);
    th_record_init(&d);
    uint8_t *body = NULL;
    size_t blen = 0;
    assert_int_equal(th_codec_record_body(&r, &body, &blen), 0);
    assert_true(blen > 255);   /* so the canonical header is bin16 */

    /* body bin as bin32 instead of bin16: same content, other bytes */
    size_t n = 1 + 5 + blen + 2 + 64;
    uint8_t *b = calloc(1, n);
    assert_non_null(b);
    b[0] = 0x92;
    b[1] = 0xc6;
    b[2] = 0; b[3] = 0; b[4] = (uint8_t)(blen >> 8); b[5] = (uint8_t)blen;
    memcpy(b + 6, body, blen);
    b[6 + blen] = 0xc4;
    b[7 + blen] = 0x40;
    assert_int_equal(th_codec_record_decode(b, n, &d, NULL, NULL), TH_E_CANON);
    s_expect_cleared(&d);

    /* the same with a 63-byte signature */
    b[7 + blen] = 0x3f;
    assert_int_equal(th_codec_record_decode(b, n - 1, &d, NULL, NULL),
                     TH_E_INVALID);
    /* array of 3, str instead of bin, a bare map */
    b[0] = 0x93;
    assert_int_equal(th_codec_record_decode(b, n - 1, &d, NULL, NULL),
                     TH_E_PARSE);
    const uint8_t strs[] = { 0x92, 0xa1, 'x', 0xa1, 'y' };
    assert_int_equal(th_codec_record_decode(strs, sizeof strs, &d, NULL, NULL),
                     TH_E_TYPE);
    assert_int_equal(th_codec_record_decode(body, blen, &d, NULL, NULL),
                     TH_E_TYPE);
    /* a body that is not a map */
    const uint8_t notmap[] = { 0x91, 0x01 };
    assert_int_equal(s_decode_wrapped(notmap, sizeof notmap), TH_E_TYPE);
    /* a body with trailing garbage */
    uint8_t *tb = malloc(blen + 1);
    assert_non_null(tb);
    memcpy(tb, body, blen);
    tb[blen] = 0xc0;
    assert_int_equal(s_decode_wrapped(tb, blen + 1), TH_E_PARSE);
    assert_int_equal(th_codec_record_decode(NULL, 0, &d, NULL, NULL),
                     TH_E_PARSE);
    free(tb);
    free(b);
    th_free(body);
    th_record_clear(&r);
    th_record_clear(&d);
}

static void
test_codec_encode_rejects_invalid_record(void **state)
{
    (void)state;
    th_record_t r;
    uint8_t *out = (uint8_t *)"sentinel";
    size_t len = 99;

    s_header(&r);
    strcpy(r.form, "Bad Form");
    assert_int_equal(th_codec_record_encode(&r, &out, &len), TH_E_INVALID);
    assert_null(out);
    assert_int_equal(len, 0);

    s_header(&r);
    strcpy(r.period, "2026-S1");
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    s_header(&r);
    r.unit[0] = '\0';
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    s_header(&r);
    r.status = (th_status_t)2;
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    s_header(&r);
    r.rev = 0;
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);

    s_header(&r);
    r.author = th_strdup("\xff\xfe");
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    th_record_clear(&r);

    /* values bypassing th_record_set: unsorted, NaN, too long text */
    s_header(&r);
    s_set_int(&r, "a", 1);
    s_set_int(&r, "b", 2);
    th_value_t tmp = r.values[0];
    r.values[0] = r.values[1];
    r.values[1] = tmp;
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    r.values[1] = r.values[0];   /* duplicate "b" */
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    th_record_clear(&r);

    s_header(&r);
    s_set_dec(&r, "a", 1.0);
    r.values[0].u.d = NAN;
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    r.values[0].u.d = INFINITY;
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    r.values[0].kind = (th_vkind_t)9;
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    r.values[0].kind = TH_V_DEC;
    th_record_clear(&r);

    s_header(&r);
    char *big = malloc(TH_TEXT_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', TH_TEXT_MAX);
    big[TH_TEXT_MAX] = '\0';
    r.note = th_strdup(big);
    assert_int_equal(th_codec_record_body(&r, &out, &len), TH_E_INVALID);
    /* the longest text the model allows still encodes */
    r.note[TH_TEXT_MAX - 1] = '\0';
    assert_int_equal(th_codec_record_body(&r, &out, &len), 0);
    th_free(out);
    free(big);
    th_record_clear(&r);
}

static void
test_codec_every_truncation_rejected(void **state)
{
    (void)state;
    th_record_t r;
    s_sample(&r);
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
        assert_non_null(cut);
        memcpy(cut, blob, n);
        int rc = s_decode_roundtrip(cut, n);
        assert_true(rc < 0);
        free(cut);
    }
    /* and one byte more is trailing garbage */
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, blob, len);
    longer[len] = 0x00;
    assert_int_equal(s_decode_roundtrip(longer, len + 1), TH_E_PARSE);
    free(longer);
    th_free(blob);
    th_record_clear(&r);
}

static void
test_codec_huge_declared_counts_rejected(void **state)
{
    (void)state;
    static const uint8_t arr32[] = { 0xdd, 0xff, 0x00, 0x00, 0x00 };
    static const uint8_t map32[] = { 0xdf, 0xff, 0x00, 0x00, 0x00 };
    static const uint8_t arr32max[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t map32max[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t arr16[] = { 0xdc, 0xff, 0xff, 0x01 };
    static const uint8_t map16[] = { 0xde, 0xff, 0xff, 0x01, 0x02 };
    static const uint8_t str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' };
    static const uint8_t bin32[] = { 0xc6, 0x7f, 0xff, 0xff, 0xff, 'a' };
    const struct { const uint8_t *b; size_t n; } cases[] = {
        { arr32, sizeof arr32 }, { map32, sizeof map32 },
        { arr32max, sizeof arr32max }, { map32max, sizeof map32max },
        { arr16, sizeof arr16 }, { map16, sizeof map16 },
        { str32, sizeof str32 }, { bin32, sizeof bin32 },
    };
    /* Even with no limits at all, a count the bytes cannot hold is refused. */
    const th_codec_limits_t none = { SIZE_MAX, 8, SIZE_MAX, SIZE_MAX, SIZE_MAX };
    unsigned long before = th_mem_count();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(th_codec_check(cases[i].b, cases[i].n, &none),
                         TH_E_PARSE);
        /* "cannot fit" is decided before any limit, at the header */
        int rc = th_codec_check(cases[i].b, cases[i].n, NULL);
        assert_int_equal(rc, TH_E_PARSE);
        th_record_t r;
        th_record_init(&r);
        rc = th_codec_record_decode(cases[i].b, cases[i].n, &r, NULL, NULL);
        assert_true(rc == TH_E_PARSE || rc == TH_E_LIMIT);
        /* and inside a valid envelope, as the body */
        rc = s_decode_wrapped(cases[i].b, cases[i].n);
        assert_true(rc == TH_E_PARSE || rc == TH_E_LIMIT);
    }
    /* Rejected before any allocation by the codec (msgpack-c never ran:
       under ASan a 100 GB request would abort the test). */
    assert_int_equal(th_mem_count(), before);

    /* A count that fits the bytes is fine for check... */
    const uint8_t ok[] = { 0x93, 0x01, 0x02, 0x03 };
    assert_int_equal(th_codec_check(ok, sizeof ok, NULL), 0);
    /* ...but one element short is not */
    assert_int_equal(th_codec_check(ok, 3, NULL), TH_E_PARSE);
    /* pending elements of outer containers count too: [[x,y,z], ...] */
    const uint8_t nested[] = { 0x92, 0x93, 0x01, 0x02, 0x03 };
    assert_int_equal(th_codec_check(nested, sizeof nested, &none), TH_E_PARSE);
}

static void
test_codec_check_limits_and_types(void **state)
{
    (void)state;
    const th_codec_limits_t lim = { 64, 2, 3, 6, 4 };
    const uint8_t scalars[][9] = {
        { 0x00 }, { 0x7f }, { 0xe0 }, { 0xff }, { 0xc0 }, { 0xc2 }, { 0xc3 },
        { 0xcc, 1 }, { 0xd3, 1, 2, 3, 4, 5, 6, 7, 8 },
        { 0xca, 0, 0, 0, 0 }, { 0xcb, 0, 0, 0, 0, 0, 0, 0, 0 },
    };
    const size_t slen[] = { 1, 1, 1, 1, 1, 1, 1, 2, 9, 5, 9 };
    for (size_t i = 0; i < sizeof slen / sizeof slen[0]; i++) {
        assert_int_equal(th_codec_check(scalars[i], slen[i], &lim), 0);
        if (slen[i] > 1)
            assert_int_equal(th_codec_check(scalars[i], slen[i] - 1, &lim),
                             TH_E_PARSE);
    }
    const uint8_t c1[] = { 0xc1 };
    const uint8_t ext8[] = { 0xc7, 0x01, 0x05, 0x00 };
    const uint8_t fixext1[] = { 0xd4, 0x05, 0x00 };
    const uint8_t trailing[] = { 0x01, 0x02 };
    assert_int_equal(th_codec_check(c1, 1, &lim), TH_E_PARSE);
    assert_int_equal(th_codec_check(ext8, sizeof ext8, &lim), TH_E_PARSE);
    assert_int_equal(th_codec_check(fixext1, sizeof fixext1, &lim), TH_E_PARSE);
    assert_int_equal(th_codec_check(trailing, sizeof trailing, &lim),
                     TH_E_PARSE);
    assert_int_equal(th_codec_check(c1, 0, &lim), TH_E_PARSE);

    /* items: 3 allowed, 4 not; a map of 2 entries is 2 items */
    const uint8_t a3[] = { 0x93, 1, 2, 3 }, a4[] = { 0x94, 1, 2, 3, 4 };
    const uint8_t m2[] = { 0x82, 1, 2, 3, 4 };
    assert_int_equal(th_codec_check(a3, sizeof a3, &lim), 0);
    assert_int_equal(th_codec_check(a4, sizeof a4, &lim), TH_E_LIMIT);
    assert_int_equal(th_codec_check(m2, sizeof m2, &lim), 0);
    /* total objects: [[1,2],[3]] = 6 ok; [[1,2],[3,4]] = 7 too many */
    const uint8_t t6[] = { 0x92, 0x92, 1, 2, 0x91, 3 };
    const uint8_t t7[] = { 0x92, 0x92, 1, 2, 0x92, 3, 4 };
    assert_int_equal(th_codec_check(t6, sizeof t6, &lim), 0);
    assert_int_equal(th_codec_check(t7, sizeof t7, &lim), TH_E_LIMIT);
    /* depth 2 ok, 3 not, including an empty innermost container */
    const uint8_t d2[] = { 0x91, 0x90 }, d3[] = { 0x91, 0x91, 0x80 };
    assert_int_equal(th_codec_check(d2, sizeof d2, &lim), 0);
    assert_int_equal(th_codec_check(d3, sizeof d3, &lim), TH_E_LIMIT);
    /* strings: 4 bytes ok, 5 not; bin too */
    const uint8_t s4[] = { 0xa4, 'a', 'b', 'c', 'd' };
    const uint8_t s5[] = { 0xd9, 5, 'a', 'b', 'c', 'd', 'e' };
    const uint8_t b5[] = { 0xc4, 5, 1, 2, 3, 4, 5 };
    assert_int_equal(th_codec_check(s4, sizeof s4, &lim), 0);
    assert_int_equal(th_codec_check(s5, sizeof s5, &lim), TH_E_LIMIT);
    assert_int_equal(th_codec_check(b5, sizeof b5, &lim), TH_E_LIMIT);
    /* whole input */
    uint8_t big[65] = { 0xc4, 63 };
    assert_int_equal(th_codec_check(big, 65, &lim), TH_E_LIMIT);
}

static void
test_codec_deep_nesting_rejected(void **state)
{
    (void)state;
    uint8_t deep[1001];
    memset(deep, 0x91, 1000);
    deep[1000] = 0xc0;
    assert_int_equal(th_codec_check(deep, sizeof deep, NULL), TH_E_LIMIT);
    /* a caller asking for more depth than the walker's cap is still safe */
    th_codec_limits_t lim = th_codec_record_limits;
    lim.max_depth = 100000;
    assert_int_equal(th_codec_check(deep, sizeof deep, &lim), TH_E_LIMIT);
    lim.max_depth = 2000;
    assert_int_equal(th_codec_check(deep + 1000 - TH_CODEC_DEPTH_CAP,
                                    TH_CODEC_DEPTH_CAP + 1, &lim), 0);
    /* depth 8 is the record limit: 8 passes, 9 does not */
    assert_int_equal(th_codec_check(deep + 1000 - 8, 9, NULL), 0);
    assert_int_equal(th_codec_check(deep + 1000 - 9, 10, NULL), TH_E_LIMIT);

    th_record_t r;
    th_record_init(&r);
    assert_int_equal(th_codec_record_decode(deep, sizeof deep, &r, NULL, NULL),
                     TH_E_LIMIT);
    assert_int_equal(s_decode_wrapped(deep, sizeof deep), TH_E_LIMIT);
    /* a map as deep */
    uint8_t mdeep[2001];
    for (int i = 0; i < 1000; i++) {
        mdeep[2 * i] = 0x81;
        mdeep[2 * i + 1] = 0x00;
    }
    mdeep[2000] = 0xc0;
    assert_int_equal(th_codec_check(mdeep, sizeof mdeep, NULL), TH_E_LIMIT);
    s_expect_cleared(&r);
}

static void
test_codec_oversized_str_rejected(void **state)
{
    (void)state;
    size_t n = TH_TEXT_MAX + 1;
    uint8_t *s = malloc(n + 3);
    assert_non_null(s);
    s[0] = 0xda;
    s[1] = (uint8_t)(n >> 8);
    s[2] = (uint8_t)n;
    memset(s + 3, 'a', n);
    assert_int_equal(th_codec_check(s, n + 3, NULL), TH_E_LIMIT);
    assert_int_equal(s_decode_wrapped(s, n + 3), TH_E_LIMIT);
    free(s);

    /* A text value of exactly TH_TEXT_MAX bytes passes the walker's string
       limit but not the model's (< TH_TEXT_MAX): decode says LIMIT. Build
       the body by encoding a record and growing its note in place. */
    th_record_t r;
    s_header(&r);
    char *note = malloc(TH_TEXT_MAX);
    assert_non_null(note);
    memset(note, 'n', TH_TEXT_MAX - 1);
    note[TH_TEXT_MAX - 1] = '\0';
    r.note = th_strdup(note);
    uint8_t *body = NULL;
    size_t blen = 0;
    assert_int_equal(th_codec_record_body(&r, &body, &blen), 0);
    uint8_t *pat = memmem(body, blen, "\xa4note\xda\x3f\xff", 8);
    assert_non_null(pat);
    size_t off = (size_t)(pat - body) + 8;
    uint8_t *grown = malloc(blen + 1);
    assert_non_null(grown);
    memcpy(grown, body, off);
    grown[off - 2] = 0x40;
    grown[off - 1] = 0x00;
    grown[off] = 'n';
    memcpy(grown + off + 1, body + off, blen - off);
    assert_int_equal(th_codec_check(grown, blen + 1, NULL), 0);
    assert_int_equal(s_decode_wrapped(grown, blen + 1), TH_E_LIMIT);
    assert_int_equal(s_decode_wrapped(body, blen), 0);
    free(grown);
    free(note);
    th_free(body);
    th_record_clear(&r);
}

static void
test_codec_fuzz_random_inputs(void **state)
{
    (void)state;
    s_rng = 0x7468746f6e67ULL;
    uint8_t buf[96];
    size_t accepted = 0, checked = 0;
    for (int i = 0; i < 200000; i++) {
        size_t n = (size_t)(s_rand() % sizeof buf);
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)s_rand();
        /* Half the time, look like a blob so the body parser gets reached. */
        if (n > 4 && (i & 1)) {
            buf[0] = 0x92;
            buf[1] = 0xc4;
            buf[2] = (uint8_t)(n > 70 ? n - 70 : s_rand() % n);
        }
        if (th_codec_check(buf, n, NULL) == 0)
            checked++;
        if (s_decode_roundtrip(buf, n) == 0)
            accepted++;
    }
    /* Random bytes are not records; but the walker does accept some. */
    assert_int_equal(accepted, 0);
    assert_true(checked > 0);
}

static void
test_codec_fuzz_mutations(void **state)
{
    (void)state;
    static const uint8_t special[] = {
        0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
        0xc3, 0xc4, 0xc6, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xdb,
        0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
    };
    th_record_t r;
    s_sample(&r);
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    uint8_t *m = malloc(len);
    assert_non_null(m);
    s_rng = 0x636f646563ULL;
    size_t accepted = 0;
    for (int i = 0; i < 200000; i++) {
        memcpy(m, blob, len);
        int muts = 1 + (int)(s_rand() % 3);
        for (int k = 0; k < muts; k++) {
            size_t at = (size_t)(s_rand() % len);
            switch (s_rand() % 3) {
            case 0: m[at] ^= (uint8_t)(1u << (s_rand() % 8)); break;
            case 1: m[at] = (uint8_t)s_rand(); break;
            default:
                m[at] = special[s_rand() % sizeof special];
                break;
            }
        }
        size_t n = len;
        if (s_rand() % 8 == 0)
            n = (size_t)(s_rand() % len);
        if (s_decode_roundtrip(m, n) == 0)
            accepted++;
    }
    /* Flips inside text, numbers and the signature keep a valid record;
       each of those was checked to re-encode to the same bytes. */
    assert_true(accepted > 0);
    free(m);
    th_free(blob);
    th_record_clear(&r);
}

static void
test_codec_alloc_failure_encode(void **state)
{
    (void)state;
    th_record_t r;
    s_sample(&r);
    int nomem = 0;
    for (long n = 0;; n++) {
        uint8_t *out = (uint8_t *)"x";
        size_t len = 1;
        th_mem_fail_after(n);
        int rc = th_codec_record_encode(&r, &out, &len);
        th_mem_fail_after(-1);
        if (rc == -ENOMEM) {
            assert_null(out);
            assert_int_equal(len, 0);
            nomem++;
            continue;
        }
        assert_int_equal(rc, 0);
        th_free(out);
        break;
    }
    assert_true(nomem >= 2);
    th_record_clear(&r);
}

static void
test_codec_alloc_failure_decode(void **state)
{
    (void)state;
    th_record_t r, d;
    s_sample(&r);
    th_record_init(&d);
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(th_codec_record_encode(&r, &blob, &len), 0);
    int nomem = 0;
    for (long n = 0;; n++) {
        th_mem_fail_after(n);
        int rc = th_codec_record_decode(blob, len, &d, NULL, NULL);
        th_mem_fail_after(-1);
        if (rc == -ENOMEM) {
            s_expect_cleared(&d);
            nomem++;
            continue;
        }
        assert_int_equal(rc, 0);
        s_expect_same(&r, &d);
        break;
    }
    /* values array, author, note, 3 texts, re-encode buffers at least */
    assert_true(nomem >= 6);
    th_free(blob);
    th_record_clear(&r);
    th_record_clear(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_roundtrip_all_kinds),
        cmocka_unit_test(test_codec_empty_author_note_decode_to_null),
        cmocka_unit_test(test_codec_canonical_independent_of_set_order),
        cmocka_unit_test(test_codec_golden_bytes),
        cmocka_unit_test(test_codec_proxy_entry_is_version_2),
        cmocka_unit_test(test_codec_decode_rejects_noncanonical),
        cmocka_unit_test(test_codec_decode_rejects_bad_envelope),
        cmocka_unit_test(test_codec_encode_rejects_invalid_record),
        cmocka_unit_test(test_codec_every_truncation_rejected),
        cmocka_unit_test(test_codec_huge_declared_counts_rejected),
        cmocka_unit_test(test_codec_check_limits_and_types),
        cmocka_unit_test(test_codec_deep_nesting_rejected),
        cmocka_unit_test(test_codec_oversized_str_rejected),
        cmocka_unit_test(test_codec_fuzz_random_inputs),
        cmocka_unit_test(test_codec_fuzz_mutations),
        cmocka_unit_test(test_codec_alloc_failure_encode),
        cmocka_unit_test(test_codec_alloc_failure_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
