/*  msg: encoder and strict decoder of the sync protocol's messages.

    Encoding packs through msgpack-c into a th_realloc'ed buffer (as codec
    does) so that allocation failures are injectable. Decoding never hands
    msgpack-c a byte th_codec_check has not walked with th_msg_limits; after
    unpacking, every field is checked against the same rules the encoder
    enforces, so whatever decodes also re-encodes. Blobs are not copied:
    msgpack-c's unpacker references the input for str/bin, and the decoder
    checks that each blob indeed lies inside the frame before keeping the
    pointer, because the unpacker's zone is freed before returning. */
#include "msg.h"
#include "err.h"
#include "mem.h"
#include "mpk.h"

#include <msgpack.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

const th_codec_limits_t th_msg_limits = {
    .max_bytes = TH_MSG_FRAME_MAX,
    .max_depth = 6,
    .max_items = 1024,
    .max_total = 65536,
    .max_str = TH_MSG_BLOB_MAX,
};

/* What a th_msg_t owns: the arrays made by the decoder or the builders, and
   copies of strings (kept as a list so one clear frees them all). */
typedef struct {
    th_msg_entry_t *entries;
    size_t ecap;
    th_msg_reject_t *rejected;
    size_t rcap;
    th_msg_meta_t *meta;
    size_t mcap;
    char **strs;
    size_t nstrs, scap;
    size_t est;   /* upper bound of the encoded BATCH/META built so far */
} s_priv_t;

const char *
th_msg_type_name(th_msg_type_t t)
{
    switch (t) {
    case TH_MSG_HELLO: return "HELLO";
    case TH_MSG_WELCOME: return "WELCOME";
    case TH_MSG_BATCH: return "BATCH";
    case TH_MSG_ACK: return "ACK";
    case TH_MSG_META: return "META";
    case TH_MSG_META_ACK: return "META_ACK";
    case TH_MSG_PING: return "PING";
    case TH_MSG_PONG: return "PONG";
    case TH_MSG_ERROR: return "ERROR";
    }
    return "UNKNOWN";
}

void
th_msg_init(th_msg_t *m, th_msg_type_t type)
{
    memset(m, 0, sizeof *m);
    m->type = type;
}

void
th_msg_clear(th_msg_t *m)
{
    if (!m)
        return;
    s_priv_t *p = m->priv_;
    if (p) {
        for (size_t i = 0; i < p->nstrs; i++)
            th_free(p->strs[i]);
        th_free(p->strs);
        th_free(p->entries);
        th_free(p->rejected);
        th_free(p->meta);
        th_free(p);
    }
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ ownership */

static s_priv_t *
s_priv(th_msg_t *m)
{
    if (!m->priv_)
        m->priv_ = th_calloc(1, sizeof(s_priv_t));
    return m->priv_;
}

/* Grows *arr to hold at least need elements; the old block stays valid on
   failure. */
static int
s_reserve(void **arr, size_t *cap, size_t elsize, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap < need)
        ncap = need;
    void *np = th_realloc(*arr, ncap * elsize);
    if (!np)
        return -ENOMEM;
    *arr = np;
    *cap = ncap;
    return 0;
}

/* A NUL-terminated copy of n bytes owned by p. */
static int
s_own_str(s_priv_t *p, const char *s, size_t n, const char **out)
{
    int rc = s_reserve((void **)&p->strs, &p->scap, sizeof *p->strs,
                       p->nstrs + 1);
    if (rc < 0)
        return rc;
    char *c = th_strndup(n ? s : "", n);
    if (!c)
        return -ENOMEM;
    p->strs[p->nstrs++] = c;
    *out = c;
    return 0;
}

/* ------------------------------------------------------------ validity */

/* A C string of at most max bytes, UTF-8. NULL counts as "". */
static bool
s_text_ok(const char *s, size_t max)
{
    if (!s)
        return true;
    size_t n = strnlen(s, max + 1);
    return n <= max && th_codec_utf8_valid((const uint8_t *)s, n);
}

static bool
s_unit_ok(const char *u)
{
    return memchr(u, '\0', TH_UNIT_MAX) && th_valid_unit_code(u);
}

static bool
s_entry_ok(const th_msg_entry_t *e)
{
    return e->seq >= 1 &&
           e->kind >= TH_MSG_ENTRY_RECORD && e->kind <= TH_MSG_ENTRY_ROTATE &&
           e->blob && e->len >= 1 && e->len <= TH_MSG_BLOB_MAX;
}

static bool
s_meta_ok(const th_msg_meta_t *it)
{
    if (it->seq < 1 || it->kind < TH_MSG_META_FORM ||
        it->kind > TH_MSG_META_KEY)
        return false;
    if (it->len > TH_MSG_BLOB_MAX || (it->len && !it->blob))
        return false;
    if (!it->key)
        return false;
    size_t n = strnlen(it->key, TH_KEY_MAX);
    return n >= 1 && n < TH_KEY_MAX &&
           th_codec_utf8_valid((const uint8_t *)it->key, n);
}

static bool
s_reject_ok(const th_msg_reject_t *r)
{
    return r->seq >= 1 && r->code < 0 && s_text_ok(r->reason, TH_MSG_REASON_MAX);
}

/* Everything th_msg_encode refuses, in one place; also sums the blob bytes
   so that an oversized BATCH/META is refused before packing. */
static int
s_check(const th_msg_t *m, size_t *blob_bytes)
{
    *blob_bytes = 0;
    switch (m->type) {
    case TH_MSG_HELLO:
        if (!s_unit_ok(m->unit) ||
            !memchr(m->agent, '\0', sizeof m->agent) ||
            !s_text_ok(m->agent, TH_MSG_AGENT_MAX))
            return TH_E_INVALID;
        return 0;
    case TH_MSG_WELCOME:
        if (!s_unit_ok(m->unit) || m->window < 1 ||
            m->window > TH_MSG_WINDOW_MAX)
            return TH_E_INVALID;
        return 0;
    case TH_MSG_BATCH:
        if (m->nentries > TH_MSG_ENTRIES_MAX || (m->nentries && !m->entries))
            return TH_E_INVALID;
        if (m->nentries ? m->through && m->through < m->entries[m->nentries - 1].seq
                        : m->through == 0)
            return TH_E_INVALID;
        if (m->nentries ? m->after >= m->entries[0].seq : m->after >= m->through)
            return TH_E_INVALID;
        for (size_t i = 0; i < m->nentries; i++) {
            const th_msg_entry_t *e = &m->entries[i];
            if (!s_entry_ok(e) || (i && e->seq <= m->entries[i - 1].seq))
                return TH_E_INVALID;
            *blob_bytes += e->len;
        }
        return 0;
    case TH_MSG_ACK:
        if (m->nrejected > TH_MSG_REJECTED_MAX ||
            (m->nrejected && !m->rejected))
            return TH_E_INVALID;
        for (size_t i = 0; i < m->nrejected; i++) {
            const th_msg_reject_t *r = &m->rejected[i];
            if (!s_reject_ok(r) || r->seq > m->upto ||
                (i && r->seq <= m->rejected[i - 1].seq))
                return TH_E_INVALID;
        }
        return 0;
    case TH_MSG_META:
        if (m->nmeta < 1 || m->nmeta > TH_MSG_META_MAX || !m->meta)
            return TH_E_INVALID;
        for (size_t i = 0; i < m->nmeta; i++) {
            const th_msg_meta_t *it = &m->meta[i];
            if (!s_meta_ok(it) || (i && it->seq <= m->meta[i - 1].seq))
                return TH_E_INVALID;
            *blob_bytes += it->len;
        }
        return 0;
    case TH_MSG_META_ACK:
    case TH_MSG_PING:
    case TH_MSG_PONG:
        return 0;
    case TH_MSG_ERROR:
        if (m->code >= 0 || !s_text_ok(m->reason, TH_MSG_REASON_MAX))
            return TH_E_INVALID;
        return 0;
    }
    return TH_E_INVALID;
}

/* ------------------------------------------------------------- encode */

static void
s_pack_bin(msgpack_packer *pk, const uint8_t *b, size_t n)
{
    msgpack_pack_bin(pk, n);
    if (n)
        msgpack_pack_bin_body(pk, b, n);
}

static void
s_pack_body(msgpack_packer *pk, const th_msg_t *m)
{
    static const size_t nfields[] = {
        [TH_MSG_HELLO] = 5, [TH_MSG_WELCOME] = 4, [TH_MSG_BATCH] = 3,
        [TH_MSG_ACK] = 2, [TH_MSG_META] = 1, [TH_MSG_META_ACK] = 1,
        [TH_MSG_PING] = 1, [TH_MSG_PONG] = 1, [TH_MSG_ERROR] = 2,
    };
    bool check = m->type == TH_MSG_WELCOME && m->check_seq;
    msgpack_pack_map(pk, 2 + nfields[m->type] + (check ? 2 : 0));
    th_mpk_pack_str(pk, "t");
    msgpack_pack_uint32(pk, (uint32_t)m->type);
    th_mpk_pack_str(pk, "v");
    msgpack_pack_uint32(pk, TH_MSG_VERSION);

    switch (m->type) {
    case TH_MSG_HELLO:
        th_mpk_pack_str(pk, "unit");
        th_mpk_pack_str(pk, m->unit);
        th_mpk_pack_str(pk, "clock");
        msgpack_pack_int64(pk, m->clock);
        th_mpk_pack_str(pk, "meta_upto");
        msgpack_pack_uint64(pk, m->meta_upto);
        th_mpk_pack_str(pk, "head");
        msgpack_pack_uint64(pk, m->head);
        th_mpk_pack_str(pk, "agent");
        th_mpk_pack_str(pk, m->agent);
        break;
    case TH_MSG_WELCOME:
        th_mpk_pack_str(pk, "resume_after");
        msgpack_pack_uint64(pk, m->resume_after);
        th_mpk_pack_str(pk, "clock");
        msgpack_pack_int64(pk, m->clock);
        th_mpk_pack_str(pk, "window");
        msgpack_pack_uint32(pk, m->window);
        th_mpk_pack_str(pk, "unit");
        th_mpk_pack_str(pk, m->unit);
        if (check) {
            th_mpk_pack_str(pk, "check_seq");
            msgpack_pack_uint64(pk, m->check_seq);
            th_mpk_pack_str(pk, "check");
            s_pack_bin(pk, m->check, TH_DIGEST_LEN);
        }
        break;
    case TH_MSG_BATCH:
        th_mpk_pack_str(pk, "after");
        msgpack_pack_uint64(pk, m->after);
        th_mpk_pack_str(pk, "through");
        msgpack_pack_uint64(pk, m->through ? m->through
                                           : m->entries[m->nentries - 1].seq);
        th_mpk_pack_str(pk, "entries");
        msgpack_pack_array(pk, m->nentries);
        for (size_t i = 0; i < m->nentries; i++) {
            const th_msg_entry_t *e = &m->entries[i];
            msgpack_pack_map(pk, 3);
            th_mpk_pack_str(pk, "seq");
            msgpack_pack_uint64(pk, e->seq);
            th_mpk_pack_str(pk, "kind");
            msgpack_pack_uint32(pk, e->kind);
            th_mpk_pack_str(pk, "blob");
            s_pack_bin(pk, e->blob, e->len);
        }
        break;
    case TH_MSG_ACK:
        th_mpk_pack_str(pk, "upto");
        msgpack_pack_uint64(pk, m->upto);
        th_mpk_pack_str(pk, "rejected");
        msgpack_pack_array(pk, m->nrejected);
        for (size_t i = 0; i < m->nrejected; i++) {
            const th_msg_reject_t *r = &m->rejected[i];
            msgpack_pack_map(pk, 3);
            th_mpk_pack_str(pk, "seq");
            msgpack_pack_uint64(pk, r->seq);
            th_mpk_pack_str(pk, "code");
            msgpack_pack_int32(pk, r->code);
            th_mpk_pack_str(pk, "reason");
            th_mpk_pack_str(pk, r->reason);
        }
        break;
    case TH_MSG_META:
        th_mpk_pack_str(pk, "items");
        msgpack_pack_array(pk, m->nmeta);
        for (size_t i = 0; i < m->nmeta; i++) {
            const th_msg_meta_t *it = &m->meta[i];
            msgpack_pack_map(pk, 4);
            th_mpk_pack_str(pk, "seq");
            msgpack_pack_uint64(pk, it->seq);
            th_mpk_pack_str(pk, "kind");
            msgpack_pack_uint32(pk, it->kind);
            th_mpk_pack_str(pk, "key");
            th_mpk_pack_str(pk, it->key);
            th_mpk_pack_str(pk, "blob");
            s_pack_bin(pk, it->blob, it->len);
        }
        break;
    case TH_MSG_META_ACK:
        th_mpk_pack_str(pk, "upto");
        msgpack_pack_uint64(pk, m->upto);
        break;
    case TH_MSG_PING:
    case TH_MSG_PONG:
        th_mpk_pack_str(pk, "clock");
        msgpack_pack_int64(pk, m->clock);
        break;
    case TH_MSG_ERROR:
        th_mpk_pack_str(pk, "code");
        msgpack_pack_int32(pk, m->code);
        th_mpk_pack_str(pk, "reason");
        th_mpk_pack_str(pk, m->reason);
        break;
    }
}

int
th_msg_encode(const th_msg_t *m, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t blobs = 0;
    int rc = s_check(m, &blobs);
    if (rc < 0)
        return rc;
    if (blobs > TH_MSG_FRAME_MAX)
        return TH_E_LIMIT;

    /* One allocation in the common case: blobs plus a bound on the rest. */
    th_mpk_buf_t sb = { 0 };
    size_t n = m->nentries > m->nmeta ? m->nentries : m->nmeta;
    if (m->type == TH_MSG_ACK)
        n = m->nrejected;
    sb.cap = TH_MSG_ENVELOPE_OVERHEAD + 128 + blobs +
             n * (m->type == TH_MSG_ACK ? 48 + TH_MSG_REASON_MAX
                                        : TH_MSG_META_OVERHEAD);
    if (m->type != TH_MSG_BATCH && m->type != TH_MSG_META &&
        m->type != TH_MSG_ACK)
        sb.cap = 256;
    sb.p = th_malloc(sb.cap);
    if (!sb.p)
        return -ENOMEM;

    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, th_mpk_buf_write);
    s_pack_body(&pk, m);
    if (sb.oom) {
        th_free(sb.p);
        return -ENOMEM;
    }
    if (sb.len > TH_MSG_FRAME_MAX) {
        th_free(sb.p);
        return TH_E_LIMIT;
    }
    *out = sb.p;
    *len = sb.len;
    return 0;
}

/* ------------------------------------------------------------ builders */

static int
s_builder(th_msg_t *m, th_msg_type_t type, s_priv_t **pp)
{
    if (m->type != type)
        return TH_E_USAGE;
    s_priv_t *p = m->priv_;
    /* An array the caller attached is not ours to grow. */
    switch (type) {
    case TH_MSG_BATCH:
        if (m->entries && (!p || m->entries != p->entries))
            return TH_E_USAGE;
        break;
    case TH_MSG_ACK:
        if (m->rejected && (!p || m->rejected != p->rejected))
            return TH_E_USAGE;
        break;
    default:
        if (m->meta && (!p || m->meta != p->meta))
            return TH_E_USAGE;
        break;
    }
    p = s_priv(m);
    if (!p)
        return -ENOMEM;
    *pp = p;
    return 0;
}

int
th_msg_add_entry(th_msg_t *m, uint64_t seq, uint8_t kind, const uint8_t *blob,
                 size_t len)
{
    s_priv_t *p;
    int rc = s_builder(m, TH_MSG_BATCH, &p);
    if (rc < 0)
        return rc;
    th_msg_entry_t e = { .seq = seq, .kind = kind, .blob = blob, .len = len };
    if (!s_entry_ok(&e) ||
        (m->nentries && seq <= m->entries[m->nentries - 1].seq))
        return TH_E_INVALID;
    size_t est = p->est ? p->est : TH_MSG_ENVELOPE_OVERHEAD;
    if (m->nentries >= TH_MSG_ENTRIES_MAX ||
        len + TH_MSG_ENTRY_OVERHEAD > TH_MSG_FRAME_MAX - est)
        return TH_E_LIMIT;
    rc = s_reserve((void **)&p->entries, &p->ecap, sizeof *p->entries,
                   m->nentries + 1);
    m->entries = p->entries;
    if (rc < 0)
        return rc;
    m->entries[m->nentries++] = e;
    p->est = est + len + TH_MSG_ENTRY_OVERHEAD;
    return 0;
}

int
th_msg_add_reject(th_msg_t *m, uint64_t seq, int32_t code, const char *reason)
{
    s_priv_t *p;
    int rc = s_builder(m, TH_MSG_ACK, &p);
    if (rc < 0)
        return rc;
    th_msg_reject_t r = { .seq = seq, .code = code, .reason = reason };
    if (!s_reject_ok(&r) ||
        (m->nrejected && seq <= m->rejected[m->nrejected - 1].seq))
        return TH_E_INVALID;
    if (m->nrejected >= TH_MSG_REJECTED_MAX)
        return TH_E_LIMIT;
    rc = s_reserve((void **)&p->rejected, &p->rcap, sizeof *p->rejected,
                   m->nrejected + 1);
    m->rejected = p->rejected;
    if (rc < 0)
        return rc;
    rc = s_own_str(p, reason, reason ? strlen(reason) : 0, &r.reason);
    if (rc < 0)
        return rc;
    m->rejected[m->nrejected++] = r;
    return 0;
}

int
th_msg_add_meta(th_msg_t *m, uint64_t seq, uint8_t kind, const char *key,
                const uint8_t *blob, size_t len)
{
    s_priv_t *p;
    int rc = s_builder(m, TH_MSG_META, &p);
    if (rc < 0)
        return rc;
    th_msg_meta_t it = { .seq = seq, .kind = kind, .key = key, .blob = blob,
                         .len = len };
    if (!s_meta_ok(&it) || (m->nmeta && seq <= m->meta[m->nmeta - 1].seq))
        return TH_E_INVALID;
    size_t est = p->est ? p->est : TH_MSG_ENVELOPE_OVERHEAD;
    if (m->nmeta >= TH_MSG_META_MAX ||
        len + TH_MSG_META_OVERHEAD > TH_MSG_FRAME_MAX - est)
        return TH_E_LIMIT;
    rc = s_reserve((void **)&p->meta, &p->mcap, sizeof *p->meta,
                   m->nmeta + 1);
    m->meta = p->meta;
    if (rc < 0)
        return rc;
    rc = s_own_str(p, key, strlen(key), &it.key);
    if (rc < 0)
        return rc;
    m->meta[m->nmeta++] = it;
    p->est = est + len + TH_MSG_META_OVERHEAD;
    return 0;
}

/* ------------------------------------------------------------- decode */

enum {
    K_T, K_V, K_UNIT, K_CLOCK, K_META_UPTO, K_HEAD, K_AGENT, K_RESUME_AFTER,
    K_WINDOW, K_ENTRIES, K_UPTO, K_REJECTED, K_ITEMS, K_CODE, K_REASON,
    K_SEQ, K_KIND, K_BLOB, K_KEY, K_THROUGH, K_AFTER, K_CHECK_SEQ, K_CHECK, K_COUNT
};

static const char *const s_keys[K_COUNT] = {
    "t", "v", "unit", "clock", "meta_upto", "head", "agent", "resume_after",
    "window", "entries", "upto", "rejected", "items", "code", "reason",
    "seq", "kind", "blob", "key", "through", "after", "check_seq", "check",
};

typedef struct {
    const uint8_t *frame;
    size_t len;
    s_priv_t *p;
} s_dec_t;

/* Indexes the keys of one map that this decoder knows (the top level or an
   element); other keys are skipped, so a newer peer may add fields. */
static int
s_index(const msgpack_object *o, const msgpack_object *f[K_COUNT])
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return TH_E_TYPE;
    for (int k = 0; k < K_COUNT; k++)
        f[k] = NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return TH_E_TYPE;
        const msgpack_object_str *s = &kv->key.via.str;
        for (int k = 0; k < K_COUNT; k++) {
            size_t n = strlen(s_keys[k]);
            if (s->size == n && memcmp(s->ptr, s_keys[k], n) == 0) {
                /* Two values for one key would let two readers see two
                   different messages. */
                if (f[k])
                    return TH_E_INVALID;
                f[k] = &kv->val;
                break;
            }
        }
    }
    return 0;
}

static int
s_seq(const msgpack_object *o, uint64_t *v)
{
    int rc = th_mpk_uint(o, UINT64_MAX, v);
    if (rc == 0 && *v == 0)
        rc = TH_E_INVALID;
    return rc;
}

/* An error code: a negative int32. */
static int
s_code(const msgpack_object *o, int32_t *v)
{
    if (!o)
        return TH_E_INVALID;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return TH_E_INVALID;
    if (o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return TH_E_TYPE;
    if (o->via.i64 < INT32_MIN)
        return TH_E_INVALID;
    *v = (int32_t)o->via.i64;
    return 0;
}

static int
s_unit(const msgpack_object *o, char unit[TH_UNIT_MAX])
{
    int rc = th_mpk_id(o, unit, TH_UNIT_MAX);
    if (rc < 0)
        return rc;
    return th_valid_unit_code(unit) ? 0 : TH_E_INVALID;
}

/* A blob must lie inside the frame: the unpacker's zone is gone by the time
   the caller reads it. */
static int
s_blob(const s_dec_t *d, const msgpack_object *o, const uint8_t **b,
       size_t *n)
{
    if (!o)
        return TH_E_INVALID;
    if (o->type != MSGPACK_OBJECT_BIN)
        return TH_E_TYPE;
    const uint8_t *ptr = (const uint8_t *)o->via.bin.ptr;
    size_t sz = o->via.bin.size;
    if (sz > TH_MSG_BLOB_MAX)
        return TH_E_LIMIT;
    if (sz == 0) {
        *b = NULL;
        *n = 0;
        return 0;
    }
    uintptr_t lo = (uintptr_t)d->frame, at = (uintptr_t)ptr;
    if (at < lo || at - lo > d->len || sz > d->len - (at - lo))
        return TH_E_PARSE;
    *b = ptr;
    *n = sz;
    return 0;
}

/* The array of a BATCH/ACK/META: type and count, checked before any
   allocation. */
static int
s_array(const msgpack_object *o, size_t min, size_t max)
{
    if (!o)
        return TH_E_INVALID;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return TH_E_TYPE;
    if (o->via.array.size > max)
        return TH_E_LIMIT;
    if (o->via.array.size < min)
        return TH_E_INVALID;
    return 0;
}

static int
s_dec_entries(s_dec_t *d, const msgpack_object *o, th_msg_t *m)
{
    int rc = s_array(o, 0, TH_MSG_ENTRIES_MAX);
    if (rc < 0)
        return rc;
    size_t n = o->via.array.size;
    if (n == 0)
        return 0;
    rc = s_reserve((void **)&d->p->entries, &d->p->ecap, sizeof *m->entries, n);
    if (rc < 0)
        return rc;
    m->entries = d->p->entries;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *f[K_COUNT];
        rc = s_index(&o->via.array.ptr[i], f);
        if (rc < 0)
            return rc;
        th_msg_entry_t *e = &m->entries[i];
        uint64_t kind = 0;
        if ((rc = s_seq(f[K_SEQ], &e->seq)) < 0 ||
            (rc = th_mpk_uint(f[K_KIND], TH_MSG_ENTRY_ROTATE, &kind)) < 0 ||
            (rc = s_blob(d, f[K_BLOB], &e->blob, &e->len)) < 0)
            return rc;
        if (kind < TH_MSG_ENTRY_RECORD || e->len == 0)
            return TH_E_INVALID;
        if ((i && e->seq <= m->entries[i - 1].seq) || e->seq > m->through)
            return TH_E_INVALID;
        e->kind = (uint8_t)kind;
        m->nentries = i + 1;
    }
    return 0;
}

static int
s_dec_rejected(s_dec_t *d, const msgpack_object *o, th_msg_t *m)
{
    int rc = s_array(o, 0, TH_MSG_REJECTED_MAX);
    if (rc < 0)
        return rc;
    size_t n = o->via.array.size;
    if (n == 0)
        return 0;
    rc = s_reserve((void **)&d->p->rejected, &d->p->rcap, sizeof *m->rejected,
                   n);
    if (rc < 0)
        return rc;
    m->rejected = d->p->rejected;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *f[K_COUNT];
        rc = s_index(&o->via.array.ptr[i], f);
        if (rc < 0)
            return rc;
        th_msg_reject_t *r = &m->rejected[i];
        const char *s = NULL;
        size_t sn = 0;
        if ((rc = s_seq(f[K_SEQ], &r->seq)) < 0 ||
            (rc = s_code(f[K_CODE], &r->code)) < 0 ||
            (rc = th_mpk_str(f[K_REASON], TH_MSG_REASON_MAX, &s, &sn)) < 0)
            return rc;
        if (r->seq > m->upto || (i && r->seq <= m->rejected[i - 1].seq))
            return TH_E_INVALID;
        rc = s_own_str(d->p, s, sn, &r->reason);
        if (rc < 0)
            return rc;
        m->nrejected = i + 1;
    }
    return 0;
}

static int
s_dec_items(s_dec_t *d, const msgpack_object *o, th_msg_t *m)
{
    int rc = s_array(o, 1, TH_MSG_META_MAX);
    if (rc < 0)
        return rc;
    size_t n = o->via.array.size;
    rc = s_reserve((void **)&d->p->meta, &d->p->mcap, sizeof *m->meta, n);
    if (rc < 0)
        return rc;
    m->meta = d->p->meta;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *f[K_COUNT];
        rc = s_index(&o->via.array.ptr[i], f);
        if (rc < 0)
            return rc;
        th_msg_meta_t *it = &m->meta[i];
        uint64_t kind = 0;
        const char *s = NULL;
        size_t sn = 0;
        if ((rc = s_seq(f[K_SEQ], &it->seq)) < 0 ||
            (rc = th_mpk_uint(f[K_KIND], TH_MSG_META_KEY, &kind)) < 0 ||
            (rc = th_mpk_str(f[K_KEY], TH_KEY_MAX - 1, &s, &sn)) < 0 ||
            (rc = s_blob(d, f[K_BLOB], &it->blob, &it->len)) < 0)
            return rc;
        if (kind < TH_MSG_META_FORM || sn == 0)
            return TH_E_INVALID;
        if (i && it->seq <= m->meta[i - 1].seq)
            return TH_E_INVALID;
        it->kind = (uint8_t)kind;
        rc = s_own_str(d->p, s, sn, &it->key);
        if (rc < 0)
            return rc;
        m->nmeta = i + 1;
    }
    return 0;
}

static int
s_dec_top(s_dec_t *d, const msgpack_object *o, th_msg_t *m)
{
    const msgpack_object *f[K_COUNT];
    int rc = s_index(o, f);
    if (rc < 0)
        return rc;
    uint64_t t = 0, v = 0, u = 0;
    if ((rc = th_mpk_uint(f[K_T], UINT64_MAX, &t)) < 0 ||
        (rc = th_mpk_uint(f[K_V], UINT64_MAX, &v)) < 0)
        return rc;
    if (t < TH_MSG_HELLO || t > TH_MSG_ERROR || v != TH_MSG_VERSION)
        return TH_E_INVALID;
    m->type = (th_msg_type_t)t;

    const char *s = NULL;
    size_t sn = 0;
    switch (m->type) {
    case TH_MSG_HELLO:
        if ((rc = s_unit(f[K_UNIT], m->unit)) < 0 ||
            (rc = th_mpk_int64(f[K_CLOCK], &m->clock)) < 0 ||
            (rc = th_mpk_uint(f[K_META_UPTO], UINT64_MAX, &m->meta_upto)) < 0 ||
            (rc = th_mpk_uint(f[K_HEAD], UINT64_MAX, &m->head)) < 0 ||
            (rc = th_mpk_str(f[K_AGENT], TH_MSG_AGENT_MAX, &s, &sn)) < 0)
            return rc;
        if (sn)
            memcpy(m->agent, s, sn);
        m->agent[sn] = '\0';
        return 0;
    case TH_MSG_WELCOME:
        if ((rc = th_mpk_uint(f[K_RESUME_AFTER], UINT64_MAX, &m->resume_after)) < 0 ||
            (rc = th_mpk_int64(f[K_CLOCK], &m->clock)) < 0 ||
            (rc = th_mpk_uint(f[K_WINDOW], TH_MSG_WINDOW_MAX, &u)) < 0 ||
            (rc = s_unit(f[K_UNIT], m->unit)) < 0)
            return rc;
        if (u < 1)
            return TH_E_INVALID;
        m->window = (uint32_t)u;
        /* optional, both or neither */
        if (!f[K_CHECK_SEQ] != !f[K_CHECK])
            return TH_E_INVALID;
        if (f[K_CHECK_SEQ]) {
            const uint8_t *b;
            size_t n;
            if ((rc = s_seq(f[K_CHECK_SEQ], &m->check_seq)) < 0 ||
                (rc = s_blob(d, f[K_CHECK], &b, &n)) < 0)
                return rc;
            if (n != TH_DIGEST_LEN)
                return TH_E_INVALID;
            memcpy(m->check, b, n);
        }
        return 0;
    case TH_MSG_BATCH:
        if ((rc = s_seq(f[K_THROUGH], &m->through)) < 0 ||
            (rc = th_mpk_uint(f[K_AFTER], UINT64_MAX, &m->after)) < 0)
            return rc;
        if (m->after >= m->through)
            return TH_E_INVALID;
        if ((rc = s_dec_entries(d, f[K_ENTRIES], m)) < 0)
            return rc;
        if (m->nentries && m->entries[0].seq <= m->after)
            return TH_E_INVALID;
        return 0;
    case TH_MSG_ACK:
        if ((rc = th_mpk_uint(f[K_UPTO], UINT64_MAX, &m->upto)) < 0)
            return rc;
        return s_dec_rejected(d, f[K_REJECTED], m);
    case TH_MSG_META:
        return s_dec_items(d, f[K_ITEMS], m);
    case TH_MSG_META_ACK:
        return th_mpk_uint(f[K_UPTO], UINT64_MAX, &m->upto);
    case TH_MSG_PING:
    case TH_MSG_PONG:
        return th_mpk_int64(f[K_CLOCK], &m->clock);
    case TH_MSG_ERROR:
        if ((rc = s_code(f[K_CODE], &m->code)) < 0 ||
            (rc = th_mpk_str(f[K_REASON], TH_MSG_REASON_MAX, &s, &sn)) < 0)
            return rc;
        return s_own_str(d->p, s, sn, &m->reason);
    }
    return TH_E_INVALID;
}

int
th_msg_decode(const uint8_t *frame, size_t len, th_msg_t *m)
{
    th_msg_clear(m);
    int rc = th_codec_check(frame, len, &th_msg_limits);
    if (rc < 0)
        return rc;

    s_dec_t d = { .frame = frame, .len = len, .p = s_priv(m) };
    if (!d.p)
        return -ENOMEM;

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ur =
        msgpack_unpack_next(&u, (const char *)frame, len, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
        rc = -ENOMEM;
    else if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        rc = TH_E_PARSE;   /* th_codec_check proved one object of len bytes */
    else
        rc = s_dec_top(&d, &u.data, m);
    msgpack_unpacked_destroy(&u);
    if (rc < 0)
        th_msg_clear(m);
    return rc;
}
