/*  entry: local data entry of an office's own reports.

    A submission is checked against its form, given the next revision
    number of its key, signed with the office identity and stored in one
    write transaction: the revision, the current report and (when submitted,
    not a draft) the outgoing log entry together, or nothing. Values not
    given carry over from the current revision, so a correction names only
    what changes; an empty value ("CODE=") removes one. */
#ifndef TH_ENTRY_H
#define TH_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "forms.h"
#include "office.h"
#include "validate.h"

typedef struct {
    const char *code;
    const char *text;      /* as typed by the user; "" removes the value */
} th_entry_value_t;

typedef struct {
    const char *form;
    const char *period;
    bool draft;
    const char *author;    /* NULL: none */
    const char *note;      /* NULL: none */
    /* Entry on behalf of a child office without a node (nhập thay, hubs
       only): for_unit is that office's code, a direct child of this
       office's unit in the tree of the period; the revision is marked
       proxy, signed here, and document (NULL: none) names the paper or
       e-mail it came from. NULL for_unit: this office's own report. */
    const char *for_unit;
    const char *document;
    const th_entry_value_t *values;
    size_t nvalues;
} th_entry_req_t;

typedef struct {
    uint32_t rev;          /* revision stored (or current one if unchanged) */
    bool unchanged;        /* same values and status as the current revision */
    uint64_t seq;          /* log seq when submitted, else 0 */
    int64_t submitted_at;
    bool late;             /* submitted after this unit's deadline */
    int32_t deadline;      /* day, or INT32_MIN when the form names none */
} th_entry_result_t;

/* Validates and stores one revision. Problems with the values (Vietnamese
   messages, per indicator) go to *problems and the return is
   TH_E_REJECTED with nothing stored. Other errors: TH_E_FORM (unknown
   form), TH_E_PERIOD (bad id, or not of the form's period type), TH_E_UNIT
   (the unit is not in the unit lists in force for the period, or its
   level does not report the form, or for_unit is not a direct child of
   this office's unit), TH_E_EXISTS (for_unit: the office itself has sent
   this report, which an entry on its behalf must not replace), store
   errors. errbuf says what and what to do. */
int th_entry_submit(th_office_t *o, const th_entry_req_t *req,
                    th_problems_t *problems, th_entry_result_t *res,
                    char *errbuf, size_t cap);

/* Reads "code,value" rows (header optional) of a UTF-8 CSV file into
   values; texts and codes are owned by *store_out (free with th_free on
   each of the 2*n strings' block: call th_entry_values_free). */
int th_entry_values_from_csv(const char *path, th_entry_value_t **values,
                             size_t *n, char *errbuf, size_t cap);
void th_entry_values_free(th_entry_value_t *values, size_t n);

/* Inside txn (write): when the parent holds report key up to rev floor,
   of another history (this office was reinstalled with a new key, a hub
   entered the report on its behalf, or the store was restored from an
   older backup), this office's current revision of
   key, if it is at or below floor, is issued again as revision floor + 1:
   same values, status, author, note and submission time, signed now, and
   logged for the parent when submitted. *rev (may be NULL) gets the new
   revision, 0 when nothing was needed. Returns 0, or codec/store errors. */
int th_entry_renumber(th_store_txn_t *txn, th_office_t *o, const char *key, uint32_t floor,
                      uint32_t *rev);

/* Decodes a stored blob and verifies its signature and that the signer is
   the key in the blob. Returns 0, codec errors, or TH_E_SIG. */
int th_entry_decode_verified(const uint8_t *blob, size_t len, th_record_t *out);

/* The day a unit's report of period p is due: the form's deadline for the
   level of the unit's parent in the tree in force. INT32_MIN when none. */
int32_t th_entry_deadline(const th_office_t *o, const th_form_t *f,
                          const th_period_t *p, const char *unit);

#endif
