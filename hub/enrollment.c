/*  enrollment: fixed-layout signed key statements. */
#include "enrollment.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

#define S_BODY 76   /* bytes covered by the signature */

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
    memcpy(out, e->revoked ? "THR1" : "THE1", 4);
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
    if (len != TH_ENROLLMENT_LEN ||
        (memcmp(blob, "THE1", 4) != 0 && memcmp(blob, "THR1", 4) != 0))
        return TH_E_PARSE;
    e->revoked = blob[2] == 'R';
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
th_enrollment_log(th_store_txn_t *txn, bool revoked, const char *unit, const uint8_t *blob,
                  size_t len)
{
    char key[TH_KEY_MAX];
    snprintf(key, sizeof key, "%s|%s", revoked ? "revoke" : "enroll", unit);
    return th_store_log_append(txn, revoked ? TH_LOG_KIND_REVOKE : TH_LOG_KIND_ENROLL, key, 0,
                               blob, len, NULL);
}
