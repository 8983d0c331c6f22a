/*  peers: what a hub knows of the offices below it, in the store's `peers`
    table, inside the caller's transaction.

    keys (all values binary, integers big-endian):
      key:<unit>    Ed25519 key (32) | flags (1): bit 0 = direct child
                    (may connect), admitted by `enroll` or by a relayed,
                    verified enrollment of a hub below
      curve:<z85>   unit code of the direct child whose CURVE key this is
                    (the ZAP handler's lookup)
      seq:<unit>    highest log seq of that child durably stored here
      seen:<unit>   last contact (i64 ms) | clock offset (i64 ms, theirs -
                    ours) measured at HELLO (the collector writes the HELLOs
                    of a tick in one commit)
      prev:<unit>   during that direct child's key rotation, its old key
                    (32), whose curve: index stays until the child connects
                    with the new one
      revoked:<unit> the key revoked last for that unit (32) | when (i64 ms):
                    records it signs are refused, with this as the reason
      last:<unit>   seq (u64) | digest (16) of the last entry received from
                    that direct child: WELCOME sends them, so that a child
                    whose log went back sees its entry there is another one
      bytes:<unit>  bytes this hub stored for that direct child's subtree
                    (revisions applied, quarantined entries): what the
                    [limits] child_store_mb cap is checked against */
#ifndef TH_PEERS_H
#define TH_PEERS_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"
#include "model.h"
#include "store.h"

/* Records unit's key. A direct child's CURVE key is indexed for ZAP; a
   re-enrollment with a new key replaces the old one (and its index).
   Returns 0 or store errors. */
int th_peers_enroll(th_store_txn_t *txn, const char *unit, const uint8_t pk[32],
                    bool direct);
/* The unit (a hub) replaced its key by pk (a verified rotation statement):
   key:<unit> becomes pk; for a direct child the old key may still connect
   (prev:<unit>) until th_peers_prev_drop. TH_E_NOTFOUND when unit is not
   enrolled. */
int th_peers_rotate(th_store_txn_t *txn, const char *unit, const uint8_t pk[32]);
/* The old key of a rotation in progress: 0 and pk, or TH_E_NOTFOUND. */
int th_peers_prev(th_store_txn_t *txn, const char *unit, uint8_t pk[32]);
/* Ends a rotation: the old key can no longer connect. 1 when there was
   one, 0 when not, or store errors. enroll and revoke call it too. */
int th_peers_prev_drop(th_store_txn_t *txn, const char *unit);
/* TH_E_NOTFOUND when unit was never enrolled. direct may be NULL. */
int th_peers_key(th_store_txn_t *txn, const char *unit, uint8_t pk[32], bool *direct);
/* unit of a direct child by its CURVE public key (32 bytes); TH_E_NOTFOUND. */
int th_peers_unit_by_curve(th_store_txn_t *txn, const uint8_t curve_pk[32],
                           char unit[TH_UNIT_MAX]);
/* cb(unit) for every direct child enrolled here, in code order; its
   non-zero return stops and is returned. */
int th_peers_each_direct(th_store_txn_t *txn, int (*cb)(const char *unit, void *ctx),
                         void *ctx);
int th_peers_seq_get(th_store_txn_t *txn, const char *unit, uint64_t *seq);  /* 0 if none */
int th_peers_seq_put(th_store_txn_t *txn, const char *unit, uint64_t seq);
/* Revokes key pk of unit at time at (ms): when it is the unit's enrolled
   key, the enrollment goes (a direct child can no longer connect: ZAP finds
   no key); in any case revoked:<unit> records it. Returns 0 or store
   errors. A later enroll of a new key for the unit admits it again. */
int th_peers_revoke(th_store_txn_t *txn, const char *unit, const uint8_t pk[32], int64_t at);
/* 0 and *at (may be NULL) when pk is the key revoked last for unit (pk
   NULL: any key was), TH_E_NOTFOUND. */
int th_peers_revoked(th_store_txn_t *txn, const char *unit, const uint8_t pk[32], int64_t *at);
/* The last entry received from unit: *seq 0 when none. */
int th_peers_last_get(th_store_txn_t *txn, const char *unit, uint64_t *seq,
                      uint8_t digest[TH_DIGEST_LEN]);
int th_peers_last_put(th_store_txn_t *txn, const char *unit, uint64_t seq,
                      const uint8_t digest[TH_DIGEST_LEN]);
int th_peers_bytes_get(th_store_txn_t *txn, const char *unit, uint64_t *bytes); /* 0 if none */
int th_peers_bytes_put(th_store_txn_t *txn, const char *unit, uint64_t bytes);
int th_peers_seen_put(th_store_txn_t *txn, const char *unit, int64_t at, int64_t offset);
int th_peers_seen_get(th_store_txn_t *txn, const char *unit, int64_t *at, int64_t *offset);

#endif
