/*  ingest: what a hub does with a child's BATCH, inside one write
    transaction (the ACK is sent only after it commits).

    Every entry is checked before anything of it is applied: it decodes
    within limits, is signed, the signer is the key enrolled for the
    record's unit (or, for a record entered on a unit's behalf, for an
    office above it), the unit lies in the sender's subtree in the unit
    tree in force for the period, the form and every indicator are known
    and typed right. A revision newer than the one held is applied (and,
    at a hub with a parent, appended to the outgoing log untouched); an
    older or equal one is already held: acknowledged, not applied twice.
    A failing entry is quarantined with its reason and reported back; the
    rest of the batch goes on. Pure store logic: no sockets, testable. */
#ifndef TH_INGEST_H
#define TH_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "office.h"

typedef struct {
    uint64_t seq;
    int code;                   /* TH_E_* */
    char reason[256];           /* Vietnamese, for the clerk */
} th_ingest_reject_t;

typedef struct {
    /* in */
    th_office_t *office;
    const char *sender;         /* unit code the ZAP handler authenticated */
    const th_msg_entry_t *entries;
    size_t nentries;
    uint64_t through;           /* highest seq the batch covers */
    uint64_t after;             /* the child believes we hold up to here */
    int64_t now;
    uint64_t store_cap;         /* bytes the sender's subtree may have stored
                                   here ([limits] child_store_mb); 0 = none */
    /* out (reset at the start of every attempt) */
    uint64_t upto;              /* new cursor of the sender */
    size_t applied, duplicates, skipped_old;
    bool gap;                   /* after > our cursor: a batch was lost,
                                   nothing applied, answer with WELCOME */
    bool over_cap;              /* the sender had stored store_cap bytes or
                                   more already: nothing applied, no cursor
                                   moved; answer with ERROR */
    uint64_t stored;            /* bytes stored for the sender, after */
    uint64_t check_seq;         /* the last entry received from the sender */
    uint8_t check[TH_DIGEST_LEN];   /* and its digest (peers last:), after */
    size_t nrejected;
    th_ingest_reject_t rejected[TH_MSG_ENTRIES_MAX];
} th_ingest_t;

/* The th_store_write callback: ctx is a th_ingest_t. Entries at or below
   the sender's stored cursor are skipped (already handled). A batch that
   starts beyond the cursor (after > cursor: an earlier batch was lost) is
   not applied at all: gap is set and upto is the cursor. So is a batch
   from a sender that has used up its store_cap (over_cap; the check is at
   the start of a batch, so one batch of at most a frame may go beyond).
   The bytes each applied or quarantined entry adds are charged to the
   sender (peers bytes:<unit>). Returns 0 or a
   store error (then nothing is committed and no ACK must be sent). */
int th_ingest_batch(th_store_txn_t *txn, void *ctx);

#endif
