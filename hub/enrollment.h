/*  enrollment: the signed statements "office U has public key K, admitted
    by hub P at time T", "hub P revoked key K of office U at time T" and
    "hub U replaces its own key by K at time T".

    A hub writes one when an operator enrolls a child (`enroll`), keeps the
    key in its peers table, and sends the statement up its own log so that
    every hub above can verify records of U to their origin: the chain of
    trust follows the tree (DESIGN §5). The blob has a fixed binary layout,
    so it has exactly one encoding and parsing needs no allocation:

        "THE1" | unit[16] | parent[16] | key[32] | at (i64 BE, ms) | sig[64]

    unit and parent are NUL-padded codes; sig is the Ed25519 signature by
    the parent hub's identity over the 76 bytes before it. A revocation has
    the same layout with the magic "THR1" (signed, so neither statement can
    pass for the other): it travels up the log like an enrollment, and every
    hub above stops accepting what that key signs. A key rotation
    (`tonghop-hub rekey`) has the magic "THK1", unit = parent = the hub
    itself, the new key, and is signed by the hub's old key: every hub above
    that knows the old key takes the new one in its place. */
#ifndef TH_ENROLLMENT_H
#define TH_ENROLLMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "model.h"
#include "store.h"

#define TH_ENROLLMENT_LEN 140

typedef struct {
    char unit[TH_UNIT_MAX];
    char parent[TH_UNIT_MAX];
    uint8_t key[TH_PUBKEY_LEN];
    int64_t at;
    uint8_t sig[TH_SIG_LEN];
    uint8_t kind;               /* TH_LOG_KIND_ENROLL ("THE1"), _REVOKE
                                   ("THR1") or _ROTATE ("THK1") */
} th_enrollment_t;

/* Fills e->sig with signer's signature and writes the blob (exactly
   TH_ENROLLMENT_LEN bytes) to out. Returns 0 or TH_E_INVALID (bad codes or
   kind). */
int th_enrollment_sign(th_enrollment_t *e, const th_identity_t *signer,
                       uint8_t out[TH_ENROLLMENT_LEN]);

/* Parses a blob (any length accepted as input; only TH_ENROLLMENT_LEN is
   valid) and verifies it against signer_pk. Returns 0, TH_E_PARSE
   (layout, codes), TH_E_SIG. */
int th_enrollment_parse(const uint8_t *blob, size_t len, th_enrollment_t *e);
int th_enrollment_verify(const uint8_t *blob, size_t len,
                         const uint8_t signer_pk[TH_PUBKEY_LEN]);

/* Appends a statement blob (len bytes, about unit) of kind (a
   TH_LOG_KIND_ENROLL, _REVOKE or _ROTATE) to the office's outgoing log
   inside txn, under "enroll|<unit>", "revoke|<unit>" or "rotate|<unit>",
   so that the offices above get it. Returns 0 (*seq, when not NULL, the
   entry's seq) or store errors. */
int th_enrollment_log(th_store_txn_t *txn, uint8_t kind, const char *unit,
                      const uint8_t *blob, size_t len, uint64_t *seq);

#endif
