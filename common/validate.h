/*  validate: what a user typed turned into a typed value, records checked
    against their form, and computed (ratio) indicators.

    Everything said to the user here is Vietnamese: the messages are shown
    beside the field or the record as they are. Numbers follow Vietnamese
    conventions (vnnum.h). All functions are thread-safe for a shared,
    immutable form. */
#ifndef TH_VALIDATE_H
#define TH_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "forms.h"
#include "model.h"

/* Parses text typed by a user for ind into *out (previous content of *out
   is NOT freed; pass a cleared value). Leading/trailing spaces are
   ignored. Numbers follow Vietnamese conventions: "1.234.567" and "1 234"
   (also with no-break spaces) are thousands separators, "12,5" is a
   decimal comma; for a decimal indicator "12.5" (one dot, no comma) is
   also read as a decimal. int: an integer, "-" sign allowed, within int64.
   decimal: finite. bool: có/không, co/khong, x/"" , 1/0, true/false,
   yes/no (case-insensitive). enum: an option code or its exact label,
   stored as the code (TH_V_TEXT). text: stored as typed, valid UTF-8,
   shorter than TH_TEXT_MAX. An empty text is an error for int/decimal/enum
   ("Chưa nhập giá trị"): callers treat an empty field as "not entered"
   before calling. A computed indicator cannot be entered.
   Returns 0 (out->code, kind and value set; text heap-owned by out, free
   with th_value_clear), TH_E_INVALID with *msg (optional) pointing to a
   static Vietnamese message ("Phải là số nguyên", ...), -ENOMEM, or
   -EINVAL when ind/text/out is NULL. */
int th_form_parse_value(const th_indicator_t *ind, const char *text,
                        th_value_t *out, const char **msg);

/* One problem found by th_form_validate. */
typedef struct {
    char code[TH_CODE_MAX]; /* indicator concerned (for a rule: its first
                               indicator) */
    const char *label;      /* its label, borrowed from the form; NULL for a
                               code the form does not know */
    char *message;          /* Vietnamese, owned (freed by th_problems_clear) */
} th_problem_t;

typedef struct {
    th_problem_t *items;
    size_t n;
} th_problems_t;

/* Frees the items and their messages and zeroes p. Safe on a zeroed p. */
void th_problems_clear(th_problems_t *p);

/* Checks record r against f. Always: unknown indicator, value kind vs type
   (a decimal indicator also accepts an int value), min/max, enum option,
   text UTF-8, computed indicator entered. When submitting (not for drafts):
   required indicators present (an empty or blank text counts as missing),
   and every rule (SKIP passes). A rule problem carries the rule's message
   followed by " (quy tắc <id>)". out must be zeroed or previously used
   (its old content is cleared first); problems are in form order:
   per-value problems by record order, then required, then rules.
   Returns 0 when clean, TH_E_REJECTED when out has problems, -ENOMEM
   (out cleared), -EINVAL for NULL arguments. Thread-safe for a shared f. */
int th_form_validate(const th_form_t *f, const th_record_t *r, bool submitting,
                     th_problems_t *out);

/* Value of computed (ratio) indicator ind from r:
   scale * numerator / denominator. Returns 0 and *v, TH_E_NOTFOUND when a
   part is missing, not numeric or the denominator is 0, TH_E_INVALID when
   ind is not a ratio indicator, -EINVAL for NULL arguments. */
int th_form_computed(const th_form_t *f, const th_indicator_t *ind,
                     const th_record_t *r, double *v);

#endif
