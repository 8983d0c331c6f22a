/*  mpk: msgpack-c plumbing, the strict UTF-8 check and the decoders'
    getters, shared by codec.c and msg.c (see mpk.h). */
#include "mpk.h"
#include "err.h"
#include "mem.h"

#include <string.h>

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF,
   and no NUL, because the record keeps text as C strings. */
bool
th_mpk_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1; cp = c & 0x1f; min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2; cp = c & 0x0f; min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return false;
        }
        if (k > n - i - 1)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

int
th_mpk_buf_write(void *data, const char *b, size_t n)
{
    th_mpk_buf_t *sb = data;
    if (sb->oom)
        return -1;
    if (n > sb->cap - sb->len) {
        size_t ncap = sb->cap ? sb->cap : 256;
        while (ncap - sb->len < n)
            ncap *= 2;
        uint8_t *np = th_realloc(sb->p, ncap);
        if (!np) {
            sb->oom = true;
            return -1;
        }
        sb->p = np;
        sb->cap = ncap;
    }
    memcpy(sb->p + sb->len, b, n);
    sb->len += n;
    return 0;
}

void
th_mpk_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    msgpack_pack_str(pk, n);
    if (n)
        msgpack_pack_str_body(pk, s, n);
}

int
th_mpk_uint(const msgpack_object *o, uint64_t max, uint64_t *v)
{
    if (!o)
        return TH_E_INVALID;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return TH_E_INVALID;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return TH_E_TYPE;
    if (o->via.u64 > max)
        return TH_E_INVALID;
    *v = o->via.u64;
    return 0;
}

int
th_mpk_int64(const msgpack_object *o, int64_t *v)
{
    if (!o)
        return TH_E_INVALID;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return TH_E_TYPE;
    if (o->via.u64 > (uint64_t)INT64_MAX)
        return TH_E_INVALID;
    *v = (int64_t)o->via.u64;
    return 0;
}

int
th_mpk_str(const msgpack_object *o, size_t max, const char **s, size_t *n)
{
    if (!o)
        return TH_E_INVALID;
    if (o->type != MSGPACK_OBJECT_STR)
        return TH_E_TYPE;
    if (o->via.str.size > max)
        return TH_E_LIMIT;
    if (!th_mpk_utf8_valid((const uint8_t *)o->via.str.ptr, o->via.str.size))
        return TH_E_INVALID;
    *s = o->via.str.ptr;
    *n = o->via.str.size;
    return 0;
}

int
th_mpk_id(const msgpack_object *o, char *dst, size_t cap)
{
    if (!o)
        return TH_E_INVALID;
    if (o->type != MSGPACK_OBJECT_STR)
        return TH_E_TYPE;
    if (o->via.str.size >= cap || memchr(o->via.str.ptr, '\0', o->via.str.size))
        return TH_E_INVALID;
    memcpy(dst, o->via.str.ptr, o->via.str.size);
    dst[o->via.str.size] = '\0';
    return 0;
}
