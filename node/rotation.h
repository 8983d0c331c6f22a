/*  rotation: an office's identity key being replaced, on disk.

    A data directory holds identity.key, the key the office signs with.
    While a hub rotates its key (`tonghop-hub rekey`, docs/operations.md §3)
    it also holds identity.prev, the old key: its links still use it until
    its parent and its children have the new one, then it is deleted. The
    swap is crash-safe: the new key is written to identity.new first, the
    store records its public key (state "rotation.key") in the caller's
    transaction, then identity.key is linked to identity.prev and
    identity.new renamed over identity.key. An interrupted swap is finished
    (or, when the store never recorded it, undone) by th_rotation_load at
    the next open, and an identity.prev outliving its rotation removed. */
#ifndef TH_ROTATION_H
#define TH_ROTATION_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "model.h"
#include "store.h"

#define TH_ROTATION_STATE "rotation.key"

/* What the rotation waits for, as the store says (a hub records it when it
   starts one; hub/rekey.h):
     rotation.seq       u64, the log seq of the statement of the new key
                        sent to the parent (absent at a root)
     rotation.refused   the parent's reason when it refused the statement
     rotation.c.<unit>  u64, the seq of the META item with the new key
                        queued for that direct child */
#define TH_ROTATION_SEQ     "rotation.seq"
#define TH_ROTATION_REFUSED "rotation.refused"
#define TH_ROTATION_CHILD   "rotation.c."   /* + the child's unit code */
#define TH_ROTATION_PENDING_MAX 8
typedef struct {
    bool active;              /* a rotation is recorded */
    uint64_t seq;             /* rotation.seq, 0 when there is no parent */
    bool parent_has;          /* the parent acknowledged it (or no parent) */
    char refused[256];        /* "" unless the parent refused it */
    size_t nchildren;         /* direct children told of the new key */
    size_t npending;          /* of which have not acknowledged it yet */
    char pending[TH_ROTATION_PENDING_MAX][TH_UNIT_MAX];   /* the first ones */
} th_rotation_progress_t;

/* Fills *p inside txn. Returns 0 or store errors. */
int th_rotation_progress(th_store_txn_t *txn, th_rotation_progress_t *p);

/* The upward part alone: *seq (0 when none) and, when the parent refused
   the statement, its reason into refused (cap bytes; "" when not).
   Returns 0 or store errors. */
int th_rotation_parent(th_store_txn_t *txn, uint64_t *seq, char *refused, size_t cap);

/* At open, after the store: finishes or undoes an interrupted swap, then
   loads identity.prev into *prev when present (*has_prev), and *cur again
   when the swap changed it. Returns 0 or a negative error with errbuf set. */
int th_rotation_load(const char *dir, th_store_t *store, th_identity_t *cur,
                     th_identity_t *prev, bool *has_prev, char *errbuf, size_t cap);

/* Replaces the identity by a fresh one: cb(txn, ctx, fresh) runs in the
   write transaction that records it (what the caller sends about the new
   key goes there); when it fails nothing changes. On success *cur is the
   new identity, *prev the old one, *has_prev true. Refuses (TH_E_EXISTS)
   while a rotation is in progress. Returns 0 or a negative error with
   errbuf set. */
int th_rotation_begin(const char *dir, th_store_t *store, th_identity_t *cur,
                      th_identity_t *prev, bool *has_prev,
                      int (*cb)(th_store_txn_t *txn, void *ctx, const th_identity_t *fresh),
                      void *ctx, char *errbuf, size_t cap);

/* The rotation is over: every "rotation.*" name in the store's state (the
   callers keep theirs under that prefix too) cleared, *prev wiped, then
   identity.prev deleted (left behind, th_rotation_load removes it).
   Returns 0 or a negative error. */
int th_rotation_end(const char *dir, th_store_t *store, th_identity_t *prev, bool *has_prev);

#endif
