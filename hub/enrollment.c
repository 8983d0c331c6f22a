/*  enrollment: fixed-layout signed key statements. */
#include "enrollment.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

#define S_BODY 76   /* bytes covered by the signature */

static const char *const s_magic[] = {
    [TH_LOG_KIND_ENROLL] = "THE1", [TH_LOG_KIND_REVOKE] = "THR1", [TH_LOG_KIND_ROTATE] = "THK1"
};
static const char *const s_word[] = {
    [TH_LOG_KIND_ENROLL] = "enroll", [TH_LOG_KIND_REVOKE] = "revoke",
    [TH_LOG_KIND_ROTATE] = "rotate"
};

static bool
s_kind_ok(uint8_t kind)
{
    return kind >= TH_LOG_KIND_ENROLL && kind <= TH_LOG_KIND_ROTATE;
}

static int
s_put_code(uint8_t *dst, const char *code)
{
    size_t n = strlen(code);
    if (!th_valid_unit_code(code) || n >= TH_UNIT_MAX)
        return TH_E_INVALID;
    memset(dst, 0, TH_UNIT_MAX);
    memcpy(dst, code, n);
    return 0;
}

static int
s_get_code(const uint8_t *src, char *dst)
{
    /* NUL-terminated within the field, padded with NULs, a valid code */
    size_t n = strnlen((const char *)src, TH_UNIT_MAX);
    if (n == 0 || n >= TH_UNIT_MAX)
        return TH_E_PARSE;
    for (size_t i = n; i < TH_UNIT_MAX; i++)
        if (src[i])
            return TH_E_PARSE;
    memcpy(dst, src, n + 1);
    return th_valid_unit_code(dst) ? 0 : TH_E_PARSE;
}

int
th_enrollment_sign(th_enrollment_t *e, const th_identity_t *signer,
                   uint8_t out[TH_ENROLLMENT_LEN])
{
    if (!s_kind_ok(e->kind))
        return TH_E_INVALID;
    memcpy(out, s_magic[e->kind], 4);
    if (s_put_code(out + 4, e->unit) < 0 || s_put_code(out + 20, e->parent) < 0)
        return TH_E_INVALID;
    memcpy(out + 36, e->key, 32);
    uint64_t at = (uint64_t)e->at;
    for (int i = 0; i < 8; i++)
        out[68 + i] = (uint8_t)(at >> (56 - 8 * i));
    th_sign(signer, out, S_BODY, e->sig);
    memcpy(out + S_BODY, e->sig, 64);
    return 0;
}

int
th_enrollment_parse(const uint8_t *blob, size_t len, th_enrollment_t *e)
{
    if (len != TH_ENROLLMENT_LEN)
        return TH_E_PARSE;
    e->kind = 0;
    for (uint8_t k = TH_LOG_KIND_ENROLL; k <= TH_LOG_KIND_ROTATE; k++)
        if (memcmp(blob, s_magic[k], 4) == 0)
            e->kind = k;
    if (!e->kind)
        return TH_E_PARSE;
    if (s_get_code(blob + 4, e->unit) < 0 || s_get_code(blob + 20, e->parent) < 0)
        return TH_E_PARSE;
    memcpy(e->key, blob + 36, 32);
    uint64_t at = 0;
    for (int i = 0; i < 8; i++)
        at = (at << 8) | blob[68 + i];
    e->at = (int64_t)at;
    memcpy(e->sig, blob + S_BODY, 64);
    return 0;
}

int
th_enrollment_verify(const uint8_t *blob, size_t len, const uint8_t signer_pk[TH_PUBKEY_LEN])
{
    th_enrollment_t e;
    int rc = th_enrollment_parse(blob, len, &e);
    if (rc < 0)
        return rc;
    return th_verify(signer_pk, blob, S_BODY, e.sig);
}

int
th_enrollment_log(th_store_txn_t *txn, uint8_t kind, const char *unit, const uint8_t *blob,
                  size_t len, uint64_t *seq)
{
    if (!s_kind_ok(kind))
        return TH_E_INVALID;
    char key[TH_KEY_MAX];
    snprintf(key, sizeof key, "%s|%s", s_word[kind], unit);
    return th_store_log_append(txn, kind, key, 0, blob, len, seq);
}
