/*  forms: the model of a report form (biểu mẫu) and the set of forms an
    office holds.

    A form has a [form] part (id, version, title, period type, reporting
    levels, deadline per receiving level), sections, indicators in entry
    order and validation rules (see rules.h). Forms are made by the INI
    reader (form_ini.h); once made a form is immutable and may be shared
    read-only between threads. Typed values and record validation are in
    validate.h. The source text a form was made from is kept so that it can
    be stored and sent downward byte for byte. */
#ifndef TH_FORMS_H
#define TH_FORMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "period.h"
#include "rules.h"

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

/* The yes/no words of form files ("required =") and of bool indicators:
   yes/no, true/false, 1/0, có/không, co/khong, case-insensitive (ASCII and
   the Vietnamese capitals of Latin-1). Returns 0 and *out, or TH_E_INVALID
   (*out untouched) for anything else, including a text of 16 bytes or more. */
int th_yesno_parse(const char *s, bool *out);

/* The white space trimmed around words of form files and typed values:
   ASCII space, tab, CR, LF, VT, FF. */
bool th_form_space(char c);

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
    bool has_cutoff;                /* the data cut-off (thời gian chốt số liệu, */
    th_deadline_spec_t cutoff_from; /* Nghị định 09/2019/NĐ-CP Điều 12): first */
    th_deadline_spec_t cutoff_to;   /* and last day counted, as deadline specs */
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

/* Frees *self_p (with its rules and strings), sets it NULL; safe twice. */
void th_form_destroy(th_form_t **self_p);

/* For the maker of a form (the INI reader): builds the index that
   th_form_indicator searches, once every indicator is in place; until then
   th_form_indicator searches linearly. Replaces an index built before.
   Returns 0, -ENOMEM (the form is left without an index: lookups stay
   right, only slower) or -EINVAL for a NULL f. */
int th_form_index(th_form_t *f);

/* Indicator with that code or NULL (binary search). Borrowed from f. */
const th_indicator_t *th_form_indicator(const th_form_t *f, const char *code);

/* Section with that id or NULL. Borrowed from f. */
const th_form_section_t *th_form_section(const th_form_t *f, const char *id);

/* Deadline for reports received by a unit of that level, or NULL if the
   form sets none. Borrowed from f. */
const th_deadline_spec_t *th_form_deadline(const th_form_t *f, const char *level);

/* The data cut-off of period p: the first and the last day the figures
   count (inclusive days). Returns false (days untouched) when the form
   sets none. */
bool th_form_cutoff(const th_form_t *f, const th_period_t *p, int32_t *from, int32_t *to);

/* The same as the reports say it: "Số liệu tính từ ngày 15/10/2025 đến ngày
   14/10/2026" into buf (cap >= 64), or "" when the form sets none.
   Returns buf. */
const char *th_form_cutoff_text(const th_form_t *f, const th_period_t *p, char *buf,
                                size_t cap);

/* True when units of that level report this form. */
bool th_form_reported_by(const th_form_t *f, const char *level);

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

#endif
