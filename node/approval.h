/*  approval: a hub configured to approve ([hub] approve = yes) counts a
    child's report, and sends it on up, only once an officer has approved
    (duyệt) that revision; a return for correction (returns.h) is the other
    answer. The clerk sees "đã duyệt" (status).

    What is kept (store tables):
      state     ap|<record key>|<rev %010u>   approved at, Unix ms (u64): at
                the approving hub, for each approved revision; also for the
                entries the hub makes itself on a child's behalf (nothing to
                approve there)
      receipts  a|<record key>                "rev at_ms by" at the office
                that made the report: its latest revision approved above
    The notice that travels down is META kind NOTICE with the blob
    "approved:<rev> <at_ms> <by unit>". */
#ifndef TH_APPROVAL_H
#define TH_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "office.h"

/* Marks revision rev of key approved at `at` (inside txn). */
int th_approval_mark(th_store_txn_t *txn, const char *key, uint32_t rev, int64_t at);

/* True when revision rev of key was approved here at or before as_of.
   Store errors count as not approved (logged by the caller's walk). */
bool th_approval_done(th_store_txn_t *txn, const char *key, uint32_t rev, int64_t as_of);

/* Whether revision rev of key is approved here now (a read of o's store):
   0 with *approved set, or store errors. */
int th_approval_state(th_office_t *o, const char *key, uint32_t rev, bool *approved);

/* Approves unit's current report of form/period at hub off: the revision
   is marked, appended to the outgoing log when the hub has a parent, and a
   notice goes down the unit's path. *rev (optional) gets the revision.
   Errors (errbuf gets a Vietnamese sentence): TH_E_USAGE (the hub does not
   approve: [hub] approve = no), TH_E_FORM, TH_E_PERIOD, TH_E_UNIT (not
   below this office), TH_E_NOTFOUND (no submitted report held), TH_E_EXISTS
   (that revision is approved already), store errors. */
int th_approval_approve(th_office_t *off, const char *form, const char *period,
                        const char *unit, uint32_t *rev, char *errbuf, size_t cap);

/* For the office that made the report: its latest revision approved above
   (receipts a|key): 0 with *rev, *at, by filled, or TH_E_NOTFOUND. */
int th_approval_receipt(th_store_txn_t *txn, const char *key, uint32_t *rev, int64_t *at,
                        char by[TH_UNIT_MAX]);

#endif
