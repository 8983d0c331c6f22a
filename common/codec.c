/*  codec: canonical msgpack encoding of records and a strict decoder.

    Encoding goes through msgpack-c's packer with a write callback that grows
    a th_realloc buffer, so allocation failures are injectable and msgpack-c
    picks the smallest header for every int and string (checked by golden
    tests). Decoding never hands msgpack-c a byte it has not walked first
    (th_codec_check), and ends by re-encoding: the decoder accepts exactly
    the image of the encoder. */
#include "codec.h"
#include "err.h"
#include "mem.h"
#include "mpk.h"

#include <msgpack.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

const th_codec_limits_t th_codec_record_limits = {
    .max_bytes = 1024 * 1024,
    .max_depth = 8,
    .max_items = 1024,
    .max_total = 65536,
    .max_str = TH_TEXT_MAX,
};

/* ------------------------------------------------------------------ check */

static uint64_t
s_be(const uint8_t *p, size_t w)
{
    uint64_t v = 0;
    for (size_t i = 0; i < w; i++)
        v = (v << 8) | p[i];
    return v;
}

int
th_codec_check(const uint8_t *buf, size_t len, const th_codec_limits_t *lim)
{
    if (!lim)
        lim = &th_codec_record_limits;
    if (len > lim->max_bytes)
        return TH_E_LIMIT;
    if (!buf || len == 0)
        return TH_E_PARSE;
    unsigned cap = lim->max_depth < TH_CODEC_DEPTH_CAP ? lim->max_depth
                                                       : TH_CODEC_DEPTH_CAP;
    /* Elements still expected by each open container; bounded by the cap, so
       a 1 MiB run of 0x91 cannot exhaust the C stack. */
    size_t left[TH_CODEC_DEPTH_CAP];
    unsigned depth = 0;
    size_t pending = 1;   /* objects still to read, each needs >= 1 byte */
    size_t total = 0;
    size_t pos = 0;

    while (pending > 0) {
        if (pos >= len)
            return TH_E_PARSE;
        uint8_t b = buf[pos++];
        size_t w = 0;          /* width of a length/count field that follows */
        size_t data = 0;       /* fixed payload bytes */
        int container = 0;     /* 1 array, 2 map */
        int strlike = 0;       /* 1 when a str/bin length follows */
        uint64_t n = 0;

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, nil, bool: nothing follows */
        } else if (b <= 0x8f) {
            container = 2;
            n = b & 0x0f;
        } else if (b <= 0x9f) {
            container = 1;
            n = b & 0x0f;
        } else if (b <= 0xbf) {
            strlike = 1;
            n = b & 0x1f;
        } else {
            switch (b) {
            case 0xc4: case 0xd9: strlike = 1; w = 1; break;
            case 0xc5: case 0xda: strlike = 1; w = 2; break;
            case 0xc6: case 0xdb: strlike = 1; w = 4; break;
            case 0xca: data = 4; break;
            case 0xcb: data = 8; break;
            case 0xcc: case 0xd0: data = 1; break;
            case 0xcd: case 0xd1: data = 2; break;
            case 0xce: case 0xd2: data = 4; break;
            case 0xcf: case 0xd3: data = 8; break;
            case 0xdc: container = 1; w = 2; break;
            case 0xdd: container = 1; w = 4; break;
            case 0xde: container = 2; w = 2; break;
            case 0xdf: container = 2; w = 4; break;
            default:
                /* 0xc1 (never used), ext 0xc7-0xc9, fixext 0xd4-0xd8 */
                return TH_E_PARSE;
            }
        }
        if (w) {
            if (w > len - pos)
                return TH_E_PARSE;
            n = s_be(buf + pos, w);
            pos += w;
        }
        if (++total > lim->max_total)
            return TH_E_LIMIT;
        pending--;
        if (depth)
            left[depth - 1]--;

        if (strlike) {
            if (n > len - pos)
                return TH_E_PARSE;
            if (n > lim->max_str)
                return TH_E_LIMIT;
            pos += (size_t)n;
        } else if (data) {
            if (data > len - pos)
                return TH_E_PARSE;
            pos += data;
        } else if (container) {
            size_t room = len - pos;
            /* Every pending object needs at least one byte: refuse a count
               the remaining input cannot hold before anyone allocates. */
            if (pending > room || n > (room - pending) / (size_t)container)
                return TH_E_PARSE;
            size_t elems = (size_t)n * (size_t)container;
            if (n > lim->max_items)
                return TH_E_LIMIT;
            if (depth >= cap)
                return TH_E_LIMIT;
            left[depth++] = elems;
            pending += elems;
        }
        while (depth && left[depth - 1] == 0)
            depth--;
    }
    if (pos != len)
        return TH_E_PARSE;
    return 0;
}

/* --------------------------------------------------------------- validity */

/* The check lives with the decoders' getters (mpk.c), which need it too. */
bool
th_codec_utf8_valid(const uint8_t *s, size_t n)
{
    return th_mpk_utf8_valid(s, n);
}

/* A text field: < TH_TEXT_MAX bytes (as th_record_set enforces), UTF-8. */
static int
s_check_text(const char *s)
{
    if (!s)
        return 0;
    size_t n = strnlen(s, TH_TEXT_MAX);
    if (n >= TH_TEXT_MAX)
        return TH_E_INVALID;
    return th_codec_utf8_valid((const uint8_t *)s, n) ? 0 : TH_E_INVALID;
}

/* The periods module owns the semantics (2026, 2026S1, 2026Q3, 202605, and
   whatever DHIS2 types forms adopt later); the codec only keeps the id a
   short plain token. */
static bool
s_valid_period(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                  (c >= 'a' && c <= 'z');
        if (!ok || n + 1 >= TH_PERIOD_MAX)
            return false;
    }
    return n > 0;
}

static bool
s_terminated(const char *a, size_t cap)
{
    return memchr(a, '\0', cap) != NULL;
}

static int
s_record_check(const th_record_t *r)
{
    if (!s_terminated(r->form, sizeof r->form) ||
        !s_terminated(r->period, sizeof r->period) ||
        !s_terminated(r->unit, sizeof r->unit))
        return TH_E_INVALID;
    if (!th_valid_form_id(r->form) || !th_valid_unit_code(r->unit) ||
        !s_valid_period(r->period))
        return TH_E_INVALID;
    if (r->status != TH_STATUS_DRAFT && r->status != TH_STATUS_SUBMITTED)
        return TH_E_INVALID;
    if (r->rev == 0)
        return TH_E_INVALID;
    if (s_check_text(r->author) < 0 || s_check_text(r->note) < 0 ||
        s_check_text(r->doc) < 0)
        return TH_E_INVALID;
    if (!s_terminated(r->by, sizeof r->by))
        return TH_E_INVALID;
    if (r->proxy ? !th_valid_unit_code(r->by) : (r->by[0] || (r->doc && r->doc[0])))
        return TH_E_INVALID;
    if (r->nvalues > TH_VALUES_MAX || (r->nvalues && !r->values))
        return TH_E_INVALID;
    for (size_t i = 0; i < r->nvalues; i++) {
        const th_value_t *v = &r->values[i];
        if (!s_terminated(v->code, sizeof v->code) ||
            !th_valid_indicator_code(v->code))
            return TH_E_INVALID;
        if (i > 0 && strcmp(r->values[i - 1].code, v->code) >= 0)
            return TH_E_INVALID;
        switch (v->kind) {
        case TH_V_INT:
        case TH_V_BOOL:
            break;
        case TH_V_DEC:
            if (!isfinite(v->u.d))
                return TH_E_INVALID;
            break;
        case TH_V_TEXT:
            if (s_check_text(v->u.s) < 0)
                return TH_E_INVALID;
            break;
        default:
            return TH_E_INVALID;
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- encode */

static void
s_pack_key(msgpack_packer *pk, const char *k)
{
    th_mpk_pack_str(pk, k);
}

int
th_codec_record_body(const th_record_t *r, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int rc = s_record_check(r);
    if (rc < 0)
        return rc;

    th_mpk_buf_t sb = { 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, th_mpk_buf_write);

    /* Keys in bytewise order; adding a key means placing it here and in
       s_keys below, and a new format version (older records keep theirs). */
    msgpack_pack_map(&pk, r->proxy ? 15 : 13);
    s_pack_key(&pk, "at");
    msgpack_pack_int64(&pk, r->submitted_at);
    s_pack_key(&pk, "author");
    th_mpk_pack_str(&pk, r->author);
    if (r->proxy) {
        s_pack_key(&pk, "by");
        th_mpk_pack_str(&pk, r->by);
        s_pack_key(&pk, "doc");
        th_mpk_pack_str(&pk, r->doc);
    }
    s_pack_key(&pk, "form");
    th_mpk_pack_str(&pk, r->form);
    s_pack_key(&pk, "fv");
    msgpack_pack_uint32(&pk, r->form_version);
    s_pack_key(&pk, "key");
    msgpack_pack_bin(&pk, TH_PUBKEY_LEN);
    msgpack_pack_bin_body(&pk, r->origin, TH_PUBKEY_LEN);
    s_pack_key(&pk, "note");
    th_mpk_pack_str(&pk, r->note);
    s_pack_key(&pk, "period");
    th_mpk_pack_str(&pk, r->period);
    s_pack_key(&pk, "proxy");
    if (r->proxy)
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
    s_pack_key(&pk, "rev");
    msgpack_pack_uint32(&pk, r->rev);
    s_pack_key(&pk, "st");
    msgpack_pack_uint32(&pk, (uint32_t)r->status);
    s_pack_key(&pk, "unit");
    th_mpk_pack_str(&pk, r->unit);
    s_pack_key(&pk, "v");
    msgpack_pack_uint32(&pk, r->proxy ? TH_CODEC_VERSION_PROXY : TH_CODEC_VERSION);
    s_pack_key(&pk, "vals");
    msgpack_pack_map(&pk, r->nvalues);
    for (size_t i = 0; i < r->nvalues; i++) {
        const th_value_t *v = &r->values[i];
        th_mpk_pack_str(&pk, v->code);
        switch (v->kind) {
        case TH_V_INT: msgpack_pack_int64(&pk, v->u.i); break;
        case TH_V_DEC: msgpack_pack_double(&pk, v->u.d); break;
        case TH_V_BOOL:
            if (v->u.b)
                msgpack_pack_true(&pk);
            else
                msgpack_pack_false(&pk);
            break;
        case TH_V_TEXT: th_mpk_pack_str(&pk, v->u.s); break;
        }
    }
    if (sb.oom) {
        th_free(sb.p);
        return -ENOMEM;
    }
    *out = sb.p;
    *len = sb.len;
    return 0;
}

int
th_codec_record_encode(const th_record_t *r, uint8_t **out, size_t *len)
{
    uint8_t *body;
    size_t blen;
    *out = NULL;
    *len = 0;
    int rc = th_codec_record_body(r, &body, &blen);
    if (rc < 0)
        return rc;

    /* Sized exactly: array header, bin32 header at most, body, sig. */
    th_mpk_buf_t sb = { 0 };
    sb.cap = 1 + 5 + blen + 2 + TH_SIG_LEN;
    sb.p = th_malloc(sb.cap);
    if (!sb.p) {
        th_free(body);
        return -ENOMEM;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, th_mpk_buf_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_bin(&pk, blen);
    msgpack_pack_bin_body(&pk, body, blen);
    msgpack_pack_bin(&pk, TH_SIG_LEN);
    msgpack_pack_bin_body(&pk, r->sig, TH_SIG_LEN);
    th_free(body);
    if (sb.oom) {   /* cannot happen with the exact size; kept for safety */
        th_free(sb.p);
        return -ENOMEM;
    }
    *out = sb.p;
    *len = sb.len;
    return 0;
}

/* ----------------------------------------------------------------- decode */

enum {
    K_AT, K_AUTHOR, K_BY, K_DOC, K_FORM, K_FV, K_KEY, K_NOTE, K_PERIOD, K_PROXY,
    K_REV, K_ST, K_UNIT, K_V, K_VALS, K_COUNT
};

static const char *const s_keys[K_COUNT] = {
    "at", "author", "by", "doc", "form", "fv", "key", "note", "period", "proxy",
    "rev", "st", "unit", "v", "vals",
};

/* the keys of a version 1 body; version 2 adds by and doc */
#define S_KEYS_V1 (((1u << K_COUNT) - 1) & ~((1u << K_BY) | (1u << K_DOC)))

/* Bytewise order of two msgpack strings, shorter first on a common prefix. */
static int
s_strcmp(const msgpack_object_str *a, const msgpack_object_str *b)
{
    size_t n = a->size < b->size ? a->size : b->size;
    int c = n ? memcmp(a->ptr, b->ptr, n) : 0;
    if (c)
        return c;
    return (a->size > b->size) - (a->size < b->size);
}

static int
s_find_key(const msgpack_object_str *k)
{
    for (int i = 0; i < K_COUNT; i++) {
        size_t n = strlen(s_keys[i]);
        if (k->size == n && memcmp(k->ptr, s_keys[i], n) == 0)
            return i;
    }
    return -1;
}

/* Heap text; "" gives NULL when empty_null (author, note). */
static int
s_get_text(const msgpack_object *o, char **dst, bool empty_null)
{
    const char *t;
    size_t n;
    int rc = th_mpk_str(o, TH_TEXT_MAX - 1, &t, &n);
    if (rc < 0)
        return rc;
    if (n == 0 && empty_null) {
        *dst = NULL;
        return 0;
    }
    *dst = th_strndup(n ? t : "", n);
    return *dst ? 0 : -ENOMEM;
}

static int
s_get_value(const msgpack_object *o, th_value_t *v)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        v->kind = TH_V_INT;
        return th_mpk_int64(o, &v->u.i);
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64))
            return TH_E_INVALID;
        v->kind = TH_V_DEC;
        v->u.d = o->via.f64;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
        return TH_E_CANON;
    case MSGPACK_OBJECT_BOOLEAN:
        v->kind = TH_V_BOOL;
        v->u.b = o->via.boolean;
        return 0;
    case MSGPACK_OBJECT_STR: {
        char *s = NULL;
        int rc = s_get_text(o, &s, false);
        if (rc < 0)
            return rc;
        v->kind = TH_V_TEXT;
        v->u.s = s;
        return 0;
    }
    default:
        return TH_E_TYPE;
    }
}

static int
s_get_vals(const msgpack_object *o, th_record_t *r)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return TH_E_TYPE;
    size_t n = o->via.map.size;
    if (n > TH_VALUES_MAX)
        return TH_E_LIMIT;
    if (n == 0)
        return 0;
    r->values = th_calloc(n, sizeof *r->values);
    if (!r->values)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return TH_E_TYPE;
        if (i > 0 && s_strcmp(&o->via.map.ptr[i - 1].key.via.str,
                              &kv->key.via.str) >= 0)
            return TH_E_CANON;
        th_value_t *v = &r->values[i];
        int rc = th_mpk_id(&kv->key, v->code, sizeof v->code);
        if (rc < 0)
            return rc;
        if (!th_valid_indicator_code(v->code))
            return TH_E_INVALID;
        rc = s_get_value(&kv->val, v);
        if (rc < 0)
            return rc;
        r->nvalues++;   /* only now does clearing own the value */
    }
    return 0;
}

static int
s_get_field(int k, const msgpack_object *o, th_record_t *r, uint64_t *ver)
{
    uint64_t u = 0;
    int rc;
    switch (k) {
    case K_AT:
        return th_mpk_int64(o, &r->submitted_at);
    case K_AUTHOR:
        return s_get_text(o, &r->author, true);
    case K_BY:
        rc = th_mpk_id(o, r->by, sizeof r->by);
        if (rc == 0 && !th_valid_unit_code(r->by))
            rc = TH_E_INVALID;
        return rc;
    case K_DOC:
        return s_get_text(o, &r->doc, true);
    case K_FORM:
        rc = th_mpk_id(o, r->form, sizeof r->form);
        if (rc == 0 && !th_valid_form_id(r->form))
            rc = TH_E_INVALID;
        return rc;
    case K_FV:
        rc = th_mpk_uint(o, UINT32_MAX, &u);
        r->form_version = (uint32_t)u;
        return rc;
    case K_KEY:
        if (o->type != MSGPACK_OBJECT_BIN)
            return TH_E_TYPE;
        if (o->via.bin.size != TH_PUBKEY_LEN)
            return TH_E_INVALID;
        memcpy(r->origin, o->via.bin.ptr, TH_PUBKEY_LEN);
        return 0;
    case K_NOTE:
        return s_get_text(o, &r->note, true);
    case K_PERIOD:
        rc = th_mpk_id(o, r->period, sizeof r->period);
        if (rc == 0 && !s_valid_period(r->period))
            rc = TH_E_INVALID;
        return rc;
    case K_PROXY:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return TH_E_TYPE;
        r->proxy = o->via.boolean;
        return 0;
    case K_REV:
        rc = th_mpk_uint(o, UINT32_MAX, &u);
        if (rc == 0 && u == 0)
            rc = TH_E_INVALID;
        r->rev = (uint32_t)u;
        return rc;
    case K_ST:
        rc = th_mpk_uint(o, TH_STATUS_SUBMITTED, &u);
        r->status = (th_status_t)u;
        return rc;
    case K_UNIT:
        rc = th_mpk_id(o, r->unit, sizeof r->unit);
        if (rc == 0 && !th_valid_unit_code(r->unit))
            rc = TH_E_INVALID;
        return rc;
    case K_V:
        rc = th_mpk_uint(o, UINT64_MAX, &u);
        if (rc == 0 && u != TH_CODEC_VERSION && u != TH_CODEC_VERSION_PROXY)
            rc = TH_E_INVALID;
        *ver = u;
        return rc;
    case K_VALS:
        return s_get_vals(o, r);
    default:
        return TH_E_INVALID;
    }
}

static int
s_get_body(const msgpack_object *o, th_record_t *r)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return TH_E_TYPE;
    unsigned seen = 0;
    uint64_t ver = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return TH_E_TYPE;
        int k = s_find_key(&kv->key.via.str);
        if (k < 0)
            return TH_E_INVALID;
        /* Strictly increasing also rules out duplicates, which would let
           two readers see two different records in one signed body. */
        if (i > 0 && s_strcmp(&o->via.map.ptr[i - 1].key.via.str,
                              &kv->key.via.str) >= 0)
            return TH_E_CANON;
        seen |= 1u << k;
        int rc = s_get_field(k, &kv->val, r, &ver);
        if (rc < 0)
            return rc;
    }
    /* version 1: an office's own report; version 2: an entry on its
       behalf, with who entered it and from what */
    if (ver == TH_CODEC_VERSION_PROXY ? seen != (1u << K_COUNT) - 1 || !r->proxy
                                      : seen != S_KEYS_V1 || r->proxy)
        return TH_E_INVALID;
    return 0;
}

static int
s_unpack(const uint8_t *buf, size_t len, msgpack_unpacked *u)
{
    size_t off = 0;
    msgpack_unpack_return ur =
        msgpack_unpack_next(u, (const char *)buf, len, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
        return -ENOMEM;
    /* th_codec_check already proved one complete object of len bytes. */
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        return TH_E_PARSE;
    return 0;
}

/* sealed: bytes the store vouches for, which passed every check here when
   they were stored: the walk of the limits (th_codec_check) and the
   canonical re-encoding are skipped; for bytes from outside, never. */
static int
s_record_decode(const uint8_t *buf, size_t len, th_record_t *out, const uint8_t **body,
                size_t *body_len, bool sealed)
{
    th_record_clear(out);

    /* The body travels as one bin, so only the outer string limit grows. */
    th_codec_limits_t outer = th_codec_record_limits;
    outer.max_str = outer.max_bytes;
    int rc = sealed ? 0 : th_codec_check(buf, len, &outer);
    if (rc < 0)
        return rc;

    msgpack_unpacked ub, uo;
    msgpack_unpacked_init(&uo);
    msgpack_unpacked_init(&ub);
    uint8_t *again = NULL;
    size_t again_len = 0;

    rc = s_unpack(buf, len, &uo);
    if (rc < 0)
        goto out;
    const msgpack_object *o = &uo.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2 ||
        o->via.array.ptr[0].type != MSGPACK_OBJECT_BIN ||
        o->via.array.ptr[1].type != MSGPACK_OBJECT_BIN) {
        rc = TH_E_TYPE;
        goto out;
    }
    const msgpack_object_bin *bb = &o->via.array.ptr[0].via.bin;
    const msgpack_object_bin *sig = &o->via.array.ptr[1].via.bin;
    if (sig->size != TH_SIG_LEN) {
        rc = TH_E_INVALID;
        goto out;
    }
    rc = sealed ? 0 : th_codec_check((const uint8_t *)bb->ptr, bb->size,
                                     &th_codec_record_limits);
    if (rc < 0)
        goto out;
    rc = s_unpack((const uint8_t *)bb->ptr, bb->size, &ub);
    if (rc < 0)
        goto out;
    rc = s_get_body(&ub.data, out);
    if (rc < 0)
        goto out;
    memcpy(out->sig, sig->ptr, TH_SIG_LEN);

    if (!sealed && (rc = th_codec_record_encode(out, &again, &again_len)) < 0)
        goto out;
    if (!sealed && (again_len != len || memcmp(again, buf, len) != 0)) {
        rc = TH_E_CANON;
        goto out;
    }
    if (body) {
        /* buf equals the canonical layout: [hdr][body][c4 40][sig]. */
        *body_len = bb->size;
        *body = buf + (len - TH_SIG_LEN - 2 - bb->size);
    }
out:
    th_free(again);
    msgpack_unpacked_destroy(&ub);
    msgpack_unpacked_destroy(&uo);
    if (rc < 0)
        th_record_clear(out);
    return rc;
}

int
th_codec_record_decode(const uint8_t *buf, size_t len, th_record_t *out,
                       const uint8_t **body, size_t *body_len)
{
    return s_record_decode(buf, len, out, body, body_len, false);
}

int
th_codec_record_decode_sealed(const uint8_t *buf, size_t len, th_record_t *out)
{
    return s_record_decode(buf, len, out, NULL, NULL, true);
}
