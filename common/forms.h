/*  forms: report form definitions (biểu mẫu) that an officer can read and edit.

    A form is an INI file under config/forms/ parsed with libinih: a [form]
    section (id, version, title, period type, reporting levels, deadline per
    receiving level), [section ID] headings, [indicator CODE] entries in entry
    order, and [rule ID] validation rules (see rules.h). Parsing checks
    everything an operator could get wrong and reports it as
    "<origin>:<line>: <what is wrong>"; a parsed form is then immutable and
    may be shared read-only between threads. The module also turns what a
    user typed into a typed value (Vietnamese number conventions), validates
    records against the form (messages in Vietnamese) and computes ratio
    indicators. The parsed source text is kept so that it can be stored and
    sent downward byte for byte.

    File format notes (Debian's libinih 55 build): comments start a line with
    ';' or '#', and an inline comment starts at " ;" (whitespace then ';'),
    so a value that needs ';' must not have a space before it. A line may be
    at most TH_FORM_LINE_MAX bytes; a longer text (title, label, help,
    message, options) is continued on the following lines indented by at
    least one space or tab, joined with one space. Keys must not be
    indented. An indicator without "section =" belongs to the last [section]
    above it. */
#ifndef TH_FORMS_H
#define TH_FORMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "period.h"
#include "rules.h"

#define TH_FORM_LINE_MAX   197      /* bytes of one line, without newline */
#define TH_FORM_SOURCE_MAX (1 << 20) /* bytes of one form file */
#define TH_LEVEL_MAX       32       /* level name incl. NUL: [a-z0-9_-] */
#define TH_SECTION_ID_MAX  32       /* section/rule id incl. NUL: [A-Za-z0-9_.-] */

typedef enum { TH_IT_INT = 1, TH_IT_DEC, TH_IT_BOOL, TH_IT_TEXT, TH_IT_ENUM } th_itype_t;
typedef enum {
    TH_AGG_SUM = 1,
    TH_AGG_COUNT_TRUE,
    TH_AGG_MIN,
    TH_AGG_MAX,
    TH_AGG_MEAN,
    TH_AGG_RATIO,
    TH_AGG_TEXT
} th_agg_t;

/* "int","decimal","bool","text","enum" / "sum","count_true","min","max",
   "mean","ratio","text"; "?" for anything else. Static strings. */
const char *th_itype_name(th_itype_t t);
const char *th_agg_name(th_agg_t a);
/* Inverses (exact, lowercase). Return 0 or TH_E_INVALID (*out untouched). */
int th_itype_parse(const char *s, th_itype_t *out);
int th_agg_parse(const char *s, th_agg_t *out);

/* All strings below are owned by the form, NUL-terminated, never NULL
   ("" when absent) and live until th_form_destroy. */

typedef struct {
    char code[TH_CODE_MAX];   /* stored value, [A-Za-z0-9_.-] */
    char *label;              /* shown to the user */
} th_form_option_t;

typedef struct {
    char code[TH_CODE_MAX];   /* indicator code, unique in the form */
    char *label;              /* Vietnamese label (required) */
    th_itype_t type;
    th_agg_t agg;             /* default: sum for int/decimal, count_true for
                                 bool, text for text/enum */
    char *unit;               /* unit of measure ("buổi", "%"), may be "" */
    char *help;               /* hint under the field, may be "" */
    char section[TH_SECTION_ID_MAX]; /* id of its section, "" when none */
    bool required;            /* must be present when submitting */
    bool has_min, has_max;    /* int/decimal only */
    double min, max;
    size_t noptions;          /* enum only, >= 1 */
    th_form_option_t *options;
    char numerator[TH_CODE_MAX];   /* ratio only: codes of two int/decimal, */
    char denominator[TH_CODE_MAX]; /* non-computed indicators */
    double scale;             /* ratio only, default 1 (100 for a percent) */
    bool computed;            /* agg == ratio: never entered, computed */
    int line;                 /* line of its [indicator] header */
} th_indicator_t;

typedef struct {
    char id[TH_SECTION_ID_MAX];  /* "I", "II", "1.2" ... */
    char *title;                 /* required */
    int line;
} th_form_section_t;

typedef struct {
    char id[TH_SECTION_ID_MAX];  /* "R01" ... */
    char *expr;                  /* expression text as written */
    th_rule_t *rule;             /* compiled; owned by the form */
    char *message;               /* Vietnamese message shown when violated */
    int line;
} th_form_rule_t;

typedef struct {
    char level[TH_LEVEL_MAX];    /* receiving level: "district", "province" */
    th_deadline_spec_t spec;     /* reports received by that level are due */
} th_form_deadline_t;

typedef struct th_form {
    char id[TH_FORM_ID_MAX];     /* [a-z0-9._-] */
    uint32_t version;            /* >= 1; a higher version replaces a lower */
    char *title;
    th_period_type_t period_type;
    size_t nlevels;              /* >= 1 */
    char (*levels)[TH_LEVEL_MAX];/* levels of units that report this form */
    size_t ndeadlines;
    th_form_deadline_t *deadlines;  /* file order */
    size_t nsections;
    th_form_section_t *sections;    /* file order */
    size_t nindicators;             /* 1..TH_VALUES_MAX */
    th_indicator_t *indicators;     /* file order = entry-form order */
    size_t nrules;
    th_form_rule_t *rules;          /* file order */
    char *origin;                   /* file name or other origin given */
    char *source;                   /* the exact text parsed (NUL added) */
    size_t source_len;              /* bytes of source, without the NUL */
    const th_indicator_t **by_code; /* private: indicators sorted by code */
} th_form_t;

/* Parses a form definition from text[0..len) (need not be NUL-terminated;
   a NUL byte inside is an error). origin names it in messages (NULL ->
   "form"). errbuf/cap optional; on failure it receives
   "<origin>:<line>: <what is wrong>" in English. err optional; receives 0
   or the error:
     TH_E_PARSE  syntax or content error: unknown section or key, duplicate
                 section/key/code, bad id/code/type/aggregation/number,
                 missing label/type/title, aggregation not allowed for the
                 type, ratio parts missing or not numeric, rule that does not
                 compile or names an unknown or non-numeric indicator, bad
                 deadline, unknown section reference, bad period_type,
                 invalid UTF-8, line longer than TH_FORM_LINE_MAX
     TH_E_LIMIT  text over TH_FORM_SOURCE_MAX, more than TH_VALUES_MAX
                 indicators
     -ENOMEM
     -EINVAL     text is NULL
   Returns the form (caller owns it; th_form_destroy) or NULL. Does not
   change libinih's global settings, and relies on them keeping their
   defaults (multi-line values on, ';' inline comments): no module may
   change them. Thread-safe. */
th_form_t *th_form_parse(const char *text, size_t len, const char *origin,
                         char *errbuf, size_t cap, int *err);

/* Reads and parses the file at path (origin = path). Errors as
   th_form_parse plus -errno from opening/reading the file. */
th_form_t *th_form_load(const char *path, char *errbuf, size_t cap, int *err);

/* Frees *self_p (with its rules and strings), sets it NULL; safe twice. */
void th_form_destroy(th_form_t **self_p);

/* Indicator with that code or NULL (binary search). Borrowed from f. */
const th_indicator_t *th_form_indicator(const th_form_t *f, const char *code);

/* Section with that id or NULL. Borrowed from f. */
const th_form_section_t *th_form_section(const th_form_t *f, const char *id);

/* Deadline for reports received by a unit of that level, or NULL if the
   form sets none. Borrowed from f. */
const th_deadline_spec_t *th_form_deadline(const th_form_t *f, const char *level);

/* True when units of that level report this form. */
bool th_form_reported_by(const th_form_t *f, const char *level);

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

/* ---- A set of forms, newest version per id ------------------------------ */

typedef struct th_forms th_forms_t;

/* NULL on allocation failure. */
th_forms_t *th_forms_new(void);

/* Frees the set and every form in it; NULLs *p; safe twice. */
void th_forms_destroy(th_forms_t **p);

/* Adds *form, taking ownership in all cases (*form is NULLed): when the id
   is new it is inserted; when a lower version is present it is replaced
   (the old form destroyed: pointers to it become invalid); when an equal
   or higher version is present the new form is destroyed and TH_E_STALE
   returned. Returns 0, TH_E_STALE, -ENOMEM (form destroyed), -EINVAL when
   fs, form or *form is NULL. Not thread-safe: no reader may use the set while
   it changes. */
int th_forms_add(th_forms_t *fs, th_form_t **form);

/* Form with that id or NULL; borrowed until the set changes. */
const th_form_t *th_forms_get(const th_forms_t *fs, const char *id);

size_t th_forms_count(const th_forms_t *fs);

/* i-th form sorted by id; NULL when out of range. Borrowed as above. */
const th_form_t *th_forms_at(const th_forms_t *fs, size_t i);

/* Loads every "*.ini" file of dir (in name order) into fs. Stops at the
   first file that does not parse and returns its error with the message in
   errbuf; a file whose id is already present with an equal or higher
   version is skipped (logged). Returns 0, an error of th_form_load, or
   -errno from opening dir. */
int th_forms_load_dir(th_forms_t *fs, const char *dir, char *errbuf, size_t cap);

#endif
