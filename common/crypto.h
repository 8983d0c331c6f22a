/*  crypto: the office's Ed25519 identity, Z85 keys, record signatures.

    One identity per office (DESIGN §5). The secret is kept as the 32-byte
    Ed25519 seed, Z85-encoded, in a file of mode 0600; the public key is
    shown and exchanged as 40 Z85 characters. The same identity yields the
    CURVE (X25519) key pair of the office's ZeroMQ links, so an office has
    exactly one key to exchange. Call th_crypto_init() once before anything
    else (idempotent, thread-safe after the first call). */
#ifndef TH_CRYPTO_H
#define TH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define TH_Z85_KEY_LEN 40   /* Z85 text of a 32-byte key, without NUL */
#define TH_DIGEST_LEN 16    /* th_digest16 */

typedef struct {
    uint8_t pk[32];   /* Ed25519 public key */
    uint8_t sk[64];   /* libsodium secret key (seed || pk) */
} th_identity_t;

/* Initialises libsodium. Returns 0, or -EIO when libsodium cannot start. */
int th_crypto_init(void);

/* Fresh random identity. Returns 0. */
int th_identity_generate(th_identity_t *id);

/* Writes the seed to path, which must not exist yet (O_EXCL), mode 0600,
   fsynced. Returns 0, -EEXIST or another -errno. */
int th_identity_save(const th_identity_t *id, const char *path);

/* Reads an identity file. Refuses a file readable by group or others
   (-EACCES: fix with chmod 600), a malformed one (TH_E_KEY).
   Other failures: -errno from open/read. */
int th_identity_load(const char *path, th_identity_t *id);

/* Zeroes the secret in memory. */
void th_identity_wipe(th_identity_t *id);

/* out must hold TH_Z85_KEY_LEN + 1 bytes. */
void th_z85_encode_key(const uint8_t key[32], char *out);
/* Decodes exactly 40 Z85 characters. Returns 0 or TH_E_KEY. */
int th_z85_decode_key(const char *s, uint8_t key[32]);

/* Detached Ed25519 signature of msg. */
void th_sign(const th_identity_t *id, const uint8_t *msg, size_t len,
             uint8_t sig[64]);
/* Returns 0 when sig is pk's signature of msg, TH_E_SIG otherwise. */
int th_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
              const uint8_t sig[64]);

/* CURVE key pair of this identity / CURVE public key of a peer's Ed25519
   key. Return 0 or TH_E_KEY (a point that has no X25519 form). */
int th_identity_curve(const th_identity_t *id, uint8_t curve_pk[32],
                      uint8_t curve_sk[32]);
int th_pubkey_curve(const uint8_t ed_pk[32], uint8_t curve_pk[32]);

/* A 16-byte BLAKE2b digest of p (n bytes): tells two blobs apart, not a
   signature. */
void th_digest16(const uint8_t *p, size_t n, uint8_t out[TH_DIGEST_LEN]);

#endif
