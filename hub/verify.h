/*  verify: the Ed25519 checks of a batch's records, spread over the
    machine's cores.

    Verification bounds a hub's ingest (docs/benchmarks.md, workload 3:
    about 72 % of th_ingest_batch is the strict decode and the signature
    check). th_verify_entries runs them for a whole batch on up to
    TH_VERIFY_THREADS threads (the caller's included) before the ingest's
    per-entry checks, which then take the result instead of verifying
    again. Only signatures are decided here; every other check stays in
    ingest.c. Thread-safe; no state between calls (threads are started and
    joined per call: a few tens of microseconds against milliseconds of
    work). */
#ifndef TH_VERIFY_H
#define TH_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define TH_VERIFY_THREADS 8
#define TH_VERIFY_MIN     16   /* smaller batches are checked on the caller's thread */

/* For each entry i: out[i] = 1 when it is a record that decodes and whose
   signature verifies against the key it names, 0 when it decodes and the
   signature does not verify, -1 otherwise (not a record, does not decode:
   the ingest looks at it itself). */
void th_verify_entries(const th_msg_entry_t *entries, size_t n, int8_t *out);

#endif
