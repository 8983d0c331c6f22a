/*  status: where an office's own reports stand, as one JSON document.

    The model behind `tonghop-node status`: the link to the parent, how many
    log entries wait to go up, and for every current report of the office's
    own unit its revision, its receipts from the offices above, and any
    rejection or return for correction that concerns that revision. The
    CLI prints the document as it is (--json) or renders its text from it;
    the web pages render the same document, so both say the same thing.
    The small helpers below give the Vietnamese words those renderings use.

    Thread rules: as for the office (one thread at a time per office). The
    helpers that take no office are pure and may be called from any thread. */
#ifndef TH_STATUS_H
#define TH_STATUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "office.h"
#include "store.h"

/* ---- the status document ------------------------------------------------ */

/* Builds the status document of office o in one read transaction (a
   consistent snapshot) into *out. Keys, in this order:

     unit        the office's unit code
     link        { state: "none" (no parent configured, nothing recorded),
                          "never" (a parent, never reached), "up", "down",
                          "refused" (as the uplink recorded it),
                   last_contact: ISO 8601 UTC of the last exchange with the
                          parent, or null if none,
                   error: the parent's last refusal message, "" if none }
     pending     log entries not yet acknowledged by the parent
                 (last_seq - acked_seq, 0 if negative)
     acked_seq   last log sequence number the parent acknowledged
     last_seq    last log sequence number written here
     reports     array, in key order, one per current report of the
                 office's own unit:
                 { form, period,
                   rev       current revision number,
                   status    "submitted" | "draft",
                   saved_at  ISO 8601 UTC, when this store saved it,
                   receipts  [ { by (unit code), by_name ("" if the unit is
                               not in the lists in force on the period's
                               last day), level ("province", "district",
                               "commune", "" if unknown), rev (the revision
                               received, any revision), at (ISO 8601) } ],
                             in the order of the receiving units' codes,
                   rejected  (only when a rejection from above concerns the
                             current revision) { rev, code, reason },
                   returned  (only when a return for correction concerns
                             the current revision; a newer revision clears
                             it) { rev, by, at (ISO 8601), reason } }

     rotation    (only while this hub rotates its own key, hub/rekey.h)
                 { parent: "waiting" | "done" | "refused", refused: the
                   parent's reason or "", children: direct children told
                   of the new key, children_waiting: how many have not
                   acknowledged it, waiting: [unit codes] (the first 8) }
     daemon      what runfile.h publishes: { running: false } when no
                 daemon runs on the directory, else { running: true, pid,
                 started_at, collector (hubs: the address really bound,
                 e.g. "tcp://127.0.0.1:41234"), web ("http://IP:PORT/",
                 absent when the web is off) }; pid and the rest may be
                 missing for a moment while the daemon starts

   Stored texts that are not valid UTF-8 (which the protocol refuses) have
   their non-ASCII bytes replaced by '?'. Malformed receipts, rejections
   and notices are skipped.

   Returns 0 and sets *out (the caller owns it: json_decref). On failure
   *out is NULL, errbuf (may be NULL) says what failed, and the return is
   TH_E_INVALID (o or out NULL), -ENOMEM, or the store's error on reading
   (TH_E_CORRUPT, TH_E_STORE...). */
int th_status_json(th_office_t *o, json_t **out, char *errbuf, size_t cap);

/* The same document with "reports" limited to one form and period (form
   NULL: all, as th_status_json). A hub holds every report of its area,
   so a page about one report asks for that one: the walk then covers
   the keys of that form and period only. Errors as th_status_json, and
   TH_E_INVALID when form is given without period. */
int th_status_json_for(th_office_t *o, const char *form, const char *period, json_t **out,
                       char *errbuf, size_t cap);

/* ---- Vietnamese words of the renderings ---------------------------------- */

/* The word for an office of this receiving level: "tỉnh" (province),
   "huyện" (district), "xã" (commune), "cấp trên" for anything else,
   NULL included. Static string. */
const char *th_status_level_vn(const char *level);

/* The link state of the document in words ("đang kết nối", "mất kết nối",
   "chưa kết nối lần nào", "bị cấp trên từ chối", "không có cấp trên");
   an unknown state is returned as it is, NULL as "". Never NULL; the
   string is static or state itself. */
const char *th_status_link_vn(const char *state);

/* An ISO 8601 instant of the document ("2026-11-01T16:59:59Z") as
   "01/11/2026 23:59" in Vietnam time. A NULL or unparsable string is
   copied as it is (cut to 31 bytes; "" for NULL). */
void th_status_time_vn(const char *iso, char buf[32]);

/* Bytes a progress phrase may take, NUL included. */
#define TH_STATUS_PHRASE_MAX 1280

/* Where one report of the document (an element of "reports") stands, as
   the status command says it: "chưa gửi" for a draft, "TRẢ LẠI ĐỂ SỬA: "
   or "BỊ TỪ CHỐI: " followed by the reason, the receipts of the current
   revision ("huyện đã nhận (01/11/2026 09:30); tỉnh đã nhận (...)"), or
   else "chờ gửi" when pending (the document's count) is not 0, "đã gửi"
   otherwise. Writes at most cap bytes into buf, NUL-terminated, cut on a
   UTF-8 character boundary (TH_STATUS_PHRASE_MAX is always enough).
   Missing keys count as absent; never fails. */
void th_status_progress_vn(const json_t *report, uint64_t pending, char *buf, size_t cap);

/* ---- return for correction ----------------------------------------------- */

/* Bytes of a return reason, NUL included (the protocol's reason limit). */
#define TH_STATUS_REASON_MAX 513

/* A return for correction from an office above (`tonghop-hub return`). */
typedef struct {
    uint32_t rev;                        /* the revision it concerns */
    char by[TH_UNIT_MAX];                /* unit code of the office that returned it */
    int64_t at;                          /* when it returned it, Unix ms */
    char reason[TH_STATUS_REASON_MAX];   /* what to correct, Vietnamese, UTF-8 */
} th_status_returned_t;

/* Reads the return-for-correction notice of report key ("form|period|unit")
   into *out if it concerns revision rev: a notice about an older revision
   is cleared by the newer one and not reported. Uses txn (read or write)
   of the caller; *out holds copies and outlives it.
   Returns 0 (found, *out set), TH_E_NOTFOUND (no notice, a notice for
   another revision, or a malformed one; *out untouched), TH_E_INVALID
   (NULL argument), or the store's error on reading. */
int th_status_returned_txn(th_store_txn_t *txn, const char *key, uint32_t rev,
                           th_status_returned_t *out);

/* Same in a read transaction of its own on o's store. */
int th_status_returned(th_office_t *o, const char *key, uint32_t rev,
                       th_status_returned_t *out);

#endif
