/*  verify: the strict decoding and Ed25519 checks of many records, spread
    over the machine's cores.

    Verification bounds a hub's ingest (docs/benchmarks.md, workload 3: the
    strict decode and the signature check are most of th_ingest_batch).
    th_verify_decode_entries decodes and verifies a batch's records on up to
    TH_VERIFY_THREADS threads (the caller's included) before the ingest's
    own checks, which then take the decoded records as they are.
    th_verify_decode_all does the same for the consolidations, which read
    revisions the store mostly vouches for (seal.h) and verify the others.
    Only signatures and decoding are decided here; every other check stays
    with the caller. Thread-safe; no state between calls (threads are
    started and joined per call: tens of microseconds against milliseconds
    of work). */
#ifndef TH_VERIFY_H
#define TH_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define TH_VERIFY_THREADS 8
#define TH_VERIFY_MIN     16   /* smaller batches are checked on the caller's thread */

#include "model.h"

/* The verdict of th_verify_decode for bytes the store vouches for (their
   seal matched, th_store_revision_sealed). */
#define TH_VERIFY_SEALED 2

/* Decodes every blob on every core as th_verify_decode would with verdict
   TH_VERIFY_SEALED (sealed[i]; sealed may be NULL) or -1 (verified here):
   recs[i] (n of them, uninitialised) gets the record and rcs[i] the result
   (TH_E_INVALID for a NULL blob). The caller clears every recs[i]. */
void th_verify_decode_all(const uint8_t *const *blobs, const size_t *lens, const bool *sealed,
                          size_t n, th_record_t *recs, int *rcs);

/* The same for a batch's entries (verified, none taken as sealed): only
   TH_MSG_ENTRY_RECORD ones are decoded; the others get TH_E_INVALID and
   an empty record. */
void th_verify_decode_entries(const th_msg_entry_t *entries, size_t n, th_record_t *recs,
                              int *rcs);

/* Decodes blob into out (initialised): verdict TH_VERIFY_SEALED decodes
   bytes the store vouches for (th_codec_record_decode_sealed), -1 decodes
   and verifies (th_entry_decode_verified). Returns as those do (TH_E_SIG
   for a signature that does not verify). */
int th_verify_decode(const uint8_t *blob, size_t len, int8_t verdict, th_record_t *out);

#endif
