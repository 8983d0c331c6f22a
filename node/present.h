/*  present: how values and records are shown to people and programs.

    One place for values as people read them (numbers through vnnum.h),
    yes/no words, enum labels, and the JSON shape of records and forms, so
    that the CLI, the web pages and the exports all say the same thing.
    JSON values are jansson objects owned by the caller (json_decref). */
#ifndef TH_PRESENT_H
#define TH_PRESENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "forms.h"
#include "model.h"

/* A value as a person reads it, per its indicator (ind may be NULL):
   numbers by th_vnnum_format_int and th_vnnum_format_dec (vnnum.h), bools
   "Có"/"Không", enum options by label, text as is. */
void th_fmt_value_vn(const th_indicator_t *ind, const th_value_t *v, char *buf,
                     size_t cap);

/* s in capitals as Vietnamese headings write it ("Tỉnh Tây Ninh" ->
   "TỈNH TÂY NINH"), by the C.UTF-8 locale's case mapping (thread-local,
   the process locale is untouched). Invalid UTF-8 is copied as it is.
   buf gets at most cap bytes, NUL-terminated, never cut inside a
   character. Returns 0, or TH_E_LIMIT when the result was cut. */
int th_upper_vn(const char *s, char *buf, size_t cap);

/* Writes s to f with &, <, >, " and ' escaped for HTML text and
   attribute values. s NULL writes nothing. */
void th_html_put(FILE *f, const char *s);

/* JSON of one value: integer, real, true/false or string. NULL on OOM. */
json_t *th_present_value_json(const th_value_t *v);

/* JSON of a record: form, period, unit, rev, status ("draft"|"submitted"),
   submitted_at (ISO 8601 UTC), author, note, proxy, origin (Z85),
   signature ("valid"|"invalid"), values {code: value} and, when f is given,
   computed {code: value} for ratio indicators. NULL on OOM. */
json_t *th_present_record_json(const th_form_t *f, const th_record_t *r,
                               bool signature_ok);

/* JSON list of forms as DESIGN §2 (forms --json). NULL on OOM. */
json_t *th_present_forms_json(const th_forms_t *fs);

#endif
