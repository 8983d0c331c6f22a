/*  peers: enrolled keys, CURVE index, per-child cursors. */
#include "peers.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

static void
s_key(char *buf, size_t cap, const char *kind, const char *unit)
{
    snprintf(buf, cap, "%s:%s", kind, unit);
}

static void
s_curve_key(char *buf, size_t cap, const uint8_t curve_pk[32])
{
    char z[TH_Z85_KEY_LEN + 1];
    th_z85_encode_key(curve_pk, z);
    snprintf(buf, cap, "curve:%s", z);
}

static int s_get_fixed(th_store_txn_t *txn, const char *what, const char *unit, size_t want,
                       const void **v);

static void
s_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

int
th_peers_prev_drop(th_store_txn_t *txn, const char *unit)
{
    char k[64];
    const void *v;
    uint8_t curve[32];
    int rc = s_get_fixed(txn, "prev", unit, 32, &v);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (th_pubkey_curve(v, curve) == 0) {
        s_curve_key(k, sizeof k, curve);
        if ((rc = th_store_kv_del(txn, TH_DB_PEERS, k)) < 0 && rc != TH_E_NOTFOUND)
            return rc;
    }
    s_key(k, sizeof k, "prev", unit);
    return (rc = th_store_kv_del(txn, TH_DB_PEERS, k)) < 0 ? rc : 1;
}

int
th_peers_prev(th_store_txn_t *txn, const char *unit, uint8_t pk[32])
{
    const void *v;
    int rc = s_get_fixed(txn, "prev", unit, 32, &v);
    if (rc == 0)
        memcpy(pk, v, 32);
    return rc;
}

int
th_peers_rotate(th_store_txn_t *txn, const char *unit, const uint8_t pk[32])
{
    char k[64];
    uint8_t old[32], curve[32];
    bool direct = false;
    int rc = th_peers_key(txn, unit, old, &direct);
    if (rc < 0)
        return rc;
    /* one rotation at a time: an older one still pending ends here */
    if ((rc = th_peers_prev_drop(txn, unit)) < 0)
        return rc;
    uint8_t val[33];
    memcpy(val, pk, 32);
    val[32] = direct ? 1 : 0;
    s_key(k, sizeof k, "key", unit);
    if ((rc = th_store_kv_put(txn, TH_DB_PEERS, k, val, sizeof val)) < 0 || !direct)
        return rc;
    /* the old key's CURVE index stays (the child's link still uses it
       until it reconnects with the new one): prev: says which it is */
    s_key(k, sizeof k, "prev", unit);
    if ((rc = th_store_kv_put(txn, TH_DB_PEERS, k, old, 32)) < 0)
        return rc;
    if (th_pubkey_curve(pk, curve) < 0)
        return TH_E_KEY;
    s_curve_key(k, sizeof k, curve);
    return th_store_kv_put(txn, TH_DB_PEERS, k, unit, strlen(unit));
}

int
th_peers_enroll(th_store_txn_t *txn, const char *unit, const uint8_t pk[32], bool direct)
{
    char k[64];
    uint8_t old[32], curve[32];
    bool was_direct = false;
    int rc = th_peers_prev_drop(txn, unit);
    if (rc < 0)
        return rc;
    rc = th_peers_key(txn, unit, old, &was_direct);
    if (rc == 0 && was_direct && th_pubkey_curve(old, curve) == 0) {
        s_curve_key(k, sizeof k, curve);
        rc = th_store_kv_del(txn, TH_DB_PEERS, k);
        if (rc < 0 && rc != TH_E_NOTFOUND)
            return rc;
    } else if (rc < 0 && rc != TH_E_NOTFOUND) {
        return rc;
    }
    uint8_t val[33];
    memcpy(val, pk, 32);
    val[32] = direct ? 1 : 0;
    s_key(k, sizeof k, "key", unit);
    if ((rc = th_store_kv_put(txn, TH_DB_PEERS, k, val, sizeof val)) < 0)
        return rc;
    if (!direct)
        return 0;
    if (th_pubkey_curve(pk, curve) < 0)
        return TH_E_KEY;
    s_curve_key(k, sizeof k, curve);
    return th_store_kv_put(txn, TH_DB_PEERS, k, unit, strlen(unit));
}

int
th_peers_revoke(th_store_txn_t *txn, const char *unit, const uint8_t pk[32], int64_t at)
{
    char k[64];
    uint8_t cur[32], curve[32];
    bool direct = false;
    int rc = th_peers_prev_drop(txn, unit);   /* a rotation's old key goes too */
    if (rc < 0)
        return rc;
    rc = th_peers_key(txn, unit, cur, &direct);
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    if (rc == 0 && memcmp(cur, pk, 32) == 0) {
        if (direct && th_pubkey_curve(cur, curve) == 0) {
            s_curve_key(k, sizeof k, curve);
            if ((rc = th_store_kv_del(txn, TH_DB_PEERS, k)) < 0 && rc != TH_E_NOTFOUND)
                return rc;
        }
        s_key(k, sizeof k, "key", unit);
        if ((rc = th_store_kv_del(txn, TH_DB_PEERS, k)) < 0)
            return rc;
    }
    uint8_t val[40];
    memcpy(val, pk, 32);
    s_put64(val + 32, (uint64_t)at);
    s_key(k, sizeof k, "revoked", unit);
    return th_store_kv_put(txn, TH_DB_PEERS, k, val, sizeof val);
}

/* The fixed-size value "<what>:<unit>" into *v (valid in the txn);
   TH_E_NOTFOUND, TH_E_CORRUPT when its size is not want. */
static int
s_get_fixed(th_store_txn_t *txn, const char *what, const char *unit, size_t want,
            const void **v)
{
    char k[64];
    size_t len;
    s_key(k, sizeof k, what, unit);
    int rc = th_store_kv_get(txn, TH_DB_PEERS, k, v, &len);
    if (rc < 0)
        return rc;
    return len == want ? 0 : TH_E_CORRUPT;
}

int
th_peers_key(th_store_txn_t *txn, const char *unit, uint8_t pk[32], bool *direct)
{
    const void *v;
    int rc = s_get_fixed(txn, "key", unit, 33, &v);
    if (rc < 0)
        return rc;
    memcpy(pk, v, 32);
    if (direct)
        *direct = ((const uint8_t *)v)[32] & 1;
    return 0;
}

int
th_peers_unit_by_curve(th_store_txn_t *txn, const uint8_t curve_pk[32], char unit[TH_UNIT_MAX])
{
    char k[64];
    const void *v;
    size_t len;
    s_curve_key(k, sizeof k, curve_pk);
    int rc = th_store_kv_get(txn, TH_DB_PEERS, k, &v, &len);
    if (rc < 0)
        return rc;
    if (len == 0 || len >= TH_UNIT_MAX)
        return TH_E_CORRUPT;
    memcpy(unit, v, len);
    unit[len] = '\0';
    return 0;
}

/* A u64 counter "kind:unit", 0 when absent. */
static int
s_u64_get(th_store_txn_t *txn, const char *kind, const char *unit, uint64_t *out)
{
    const void *v;
    int rc = s_get_fixed(txn, kind, unit, 8, &v);
    if (rc == TH_E_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc < 0)
        return rc;
    *out = s_get64(v);
    return 0;
}

static int
s_u64_put(th_store_txn_t *txn, const char *kind, const char *unit, uint64_t val)
{
    char k[64];
    uint8_t v[8];
    s_key(k, sizeof k, kind, unit);
    s_put64(v, val);
    return th_store_kv_put(txn, TH_DB_PEERS, k, v, sizeof v);
}

int
th_peers_seq_get(th_store_txn_t *txn, const char *unit, uint64_t *seq)
{
    return s_u64_get(txn, "seq", unit, seq);
}

int
th_peers_seq_put(th_store_txn_t *txn, const char *unit, uint64_t seq)
{
    return s_u64_put(txn, "seq", unit, seq);
}

int
th_peers_bytes_get(th_store_txn_t *txn, const char *unit, uint64_t *bytes)
{
    return s_u64_get(txn, "bytes", unit, bytes);
}

int
th_peers_bytes_put(th_store_txn_t *txn, const char *unit, uint64_t bytes)
{
    return s_u64_put(txn, "bytes", unit, bytes);
}

int
th_peers_seen_put(th_store_txn_t *txn, const char *unit, int64_t at, int64_t offset)
{
    char k[64];
    uint8_t v[16];
    s_key(k, sizeof k, "seen", unit);
    s_put64(v, (uint64_t)at);
    s_put64(v + 8, (uint64_t)offset);
    return th_store_kv_put(txn, TH_DB_PEERS, k, v, sizeof v);
}

int
th_peers_seen_get(th_store_txn_t *txn, const char *unit, int64_t *at, int64_t *offset)
{
    const void *v;
    int rc = s_get_fixed(txn, "seen", unit, 16, &v);
    if (rc < 0)
        return rc;
    *at = (int64_t)s_get64(v);
    *offset = (int64_t)s_get64((const uint8_t *)v + 8);
    return 0;
}

int
th_peers_revoked(th_store_txn_t *txn, const char *unit, const uint8_t pk[32], int64_t *at)
{
    const void *v;
    int rc = s_get_fixed(txn, "revoked", unit, 40, &v);
    if (rc < 0)
        return rc;
    if (pk && memcmp(v, pk, 32) != 0)
        return TH_E_NOTFOUND;
    if (at)
        *at = (int64_t)s_get64((const uint8_t *)v + 32);
    return 0;
}

int
th_peers_last_get(th_store_txn_t *txn, const char *unit, uint64_t *seq,
                  uint8_t digest[TH_DIGEST_LEN])
{
    const void *v;
    int rc = s_get_fixed(txn, "last", unit, 8 + TH_DIGEST_LEN, &v);
    if (rc == TH_E_NOTFOUND) {
        *seq = 0;
        memset(digest, 0, TH_DIGEST_LEN);
        return 0;
    }
    if (rc < 0)
        return rc;
    *seq = s_get64(v);
    memcpy(digest, (const uint8_t *)v + 8, TH_DIGEST_LEN);
    return 0;
}

int
th_peers_last_put(th_store_txn_t *txn, const char *unit, uint64_t seq,
                  const uint8_t digest[TH_DIGEST_LEN])
{
    char k[64];
    uint8_t v[8 + TH_DIGEST_LEN];
    s_key(k, sizeof k, "last", unit);
    s_put64(v, seq);
    memcpy(v + 8, digest, TH_DIGEST_LEN);
    return th_store_kv_put(txn, TH_DB_PEERS, k, v, sizeof v);
}

typedef struct {
    int (*cb)(const char *unit, void *ctx);
    void *ctx;
} s_each_t;

static int
s_each_key(const char *key, const void *val, size_t len, void *ctx)
{
    s_each_t *x = ctx;
    if (len != 33 || !(((const uint8_t *)val)[32] & 1))
        return 0;
    return x->cb(key + 4, x->ctx);
}

int
th_peers_each_direct(th_store_txn_t *txn, int (*cb)(const char *unit, void *ctx), void *ctx)
{
    s_each_t x = { cb, ctx };
    return th_store_kv_each(txn, TH_DB_PEERS, "key:", s_each_key, &x);
}
