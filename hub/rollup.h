/*  rollup: the consolidated figures of one form and period at one unit, as
    held by this hub at a given time (DESIGN §6).

    The rollup of (form F, period P) at unit U as of time T aggregates each
    indicator over the latest SUBMITTED revision received here at or
    before T of every unit of U's subtree (U included) in the unit tree in
    force on P's last day. A revision whose signature fails is not counted
    (logged); an older revision is not used in its place. Aggregations:
    sum (int stays int, falls back to decimal on int64 overflow; decimal),
    count_true (number of units with true), min, max, mean (over the units
    that have a value), ratio = scale * SUM numerator / SUM denominator over
    the units that have both parts (never a mean of ratios; null when the
    denominator sum is 0), text: kept per unit with its code and name. An
    aggregate with no contributing unit is null. The same is computed for
    each direct child of U (the breakdown), every rule of the form is
    evaluated on each counted report (SKIP is no violation), and the
    reporting counts come from completeness (same snapshot time).
    Each report is counted once: a hub that reports its own work (a
    district, whose communes report theirs) has its own report beside its
    communes', never a consolidation of them. When U's own level reports
    the form, U's own report is a part of its own (own); when the form is
    reported by several levels, the same is computed per level of the
    reporting units (groups: "Khối sở, ngành", "Khối huyện", "Khối xã"),
    whose sums are the total's.
    Thread rules: as for the office (one thread at a time per office); a
    result is immutable and may be read by any thread. */
#ifndef TH_ROLLUP_H
#define TH_ROLLUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "forms.h"
#include "model.h"
#include "office.h"
#include "period.h"

/* One aggregated indicator. */
typedef struct {
    char code[TH_CODE_MAX];
    th_agg_t agg;
    bool present;           /* false = null */
    bool is_int;            /* value in i (sum/min/max of int, count_true), else d */
    int64_t i;
    double d;
    size_t n;               /* units that contributed */
    double num, den;        /* ratio only: the sums */
} th_rollup_value_t;

/* Totals of U, of one direct child's subtree, of U's own report, or of
   the reporting units of one level (a group). */
typedef struct {
    char unit[TH_UNIT_MAX];      /* "" for a group */
    char level[TH_LEVEL_MAX];    /* a group's level, "" otherwise */
    char *name;                  /* owned by the result (a group: its label) */
    size_t nvalues;              /* = form's nindicators, form order; text
                                    indicators have present = false */
    th_rollup_value_t *values;
    size_t expected, reported, on_time;  /* from completeness */
    size_t counted;              /* units whose report was aggregated (any level) */
} th_rollup_part_t;

/* One text value kept per unit. */
typedef struct {
    char code[TH_CODE_MAX];      /* indicator */
    char unit[TH_UNIT_MAX];
    char *name;                  /* unit name, owned */
    char *text;                  /* as entered (enum: the option code), owned */
} th_rollup_text_t;

/* One rule violated by one unit's report. */
typedef struct {
    char unit[TH_UNIT_MAX];
    char *name;                  /* unit name, owned */
    char rule[TH_SECTION_ID_MAX];
    char *message;               /* the form's Vietnamese message, owned */
} th_rollup_violation_t;

typedef struct th_rollup {
    char form[TH_FORM_ID_MAX];
    char *title;                 /* form title, owned */
    th_period_t period;
    int64_t as_of;               /* Unix ms used (now when asked for INT64_MAX) */
    th_rollup_part_t total;      /* U */
    size_t nchildren;            /* direct children of U in force, file order */
    th_rollup_part_t *children;
    bool has_own;                /* U's level reports the form: own is set */
    th_rollup_part_t own;        /* U's own report (unit U) */
    size_t ngroups;              /* the form's levels when it has several, form */
    th_rollup_part_t *groups;    /* order, without a level that has no unit here
                                    (no district in the two-tier tree) */
    size_t ntexts;               /* form order, then subtree order */
    th_rollup_text_t *texts;
    size_t nviolations;          /* subtree order, then rule order */
    th_rollup_violation_t *violations;
    struct th_completeness *completeness; /* of the same unit at the same as_of,
                                             owned by the result */
    struct th_rollup *compare;   /* th_rollup_compute_compare: the other period read in
                                    this one's tree (owned), else NULL */
    char *mapping;               /* in a compare result: how its units were read in the
                                    tree (Vietnamese, as the report names it), owned */
} th_rollup_t;

/* Computes the rollup (see above) of form/period at unit (NULL = this
   office's unit) as of as_of (Unix ms; INT64_MAX = now).
   Errors (errbuf, when cap > 0, gets an English sentence; *out stays NULL):
     TH_E_INVALID  o, form, period or out NULL
     TH_E_FORM     form unknown here
     TH_E_PERIOD   period malformed or not of the form's period type
     TH_E_UNIT     unit malformed, not in force on the period's last day, or
                   not in this office's subtree in that tree
     -ENOMEM, store errors.
   On success *out is owned by the caller (th_rollup_destroy); it borrows
   nothing from o. */
int th_rollup_compute(th_office_t *o, const char *form, const char *period,
                      const char *unit, int64_t as_of, th_rollup_t **out, char *errbuf,
                      size_t cap);

/* The rollup of period with beside it (r->compare) the rollup of the
   period compare at the same unit and as_of, both in the tree of period
   (the later one): compare's units are those of its own tree whose
   successor (th_units_successor) lies in U's subtree in period's tree,
   each counted under U's direct child that holds its successor (so new
   Tây Ninh 80 gets for 2024 the communes of old Long An 80 and of old Tây
   Ninh 72, and never an old unit for sharing a code). r->compare->mapping
   names the mapping used; r->compare has no own part (has_own false) and
   no clock-suspect units. compare NULL: th_rollup_compute. Errors as
   th_rollup_compute, and TH_E_PERIOD when compare is malformed, not of
   the form's period type, or read in a later tree than period (map old to
   new only: give the later period as period). */
int th_rollup_compute_compare(th_office_t *o, const char *form, const char *period,
                              const char *compare, const char *unit, int64_t as_of,
                              th_rollup_t **out, char *errbuf, size_t cap);

/* d = a - b when both are present (int when both are and it fits, else
   decimal); returns false (d cleared, not present) otherwise. */
bool th_rollup_diff(const th_rollup_value_t *a, const th_rollup_value_t *b,
                    th_rollup_value_t *d);

/* JSON document: {"form","title","period","unit","name","as_of" (ISO UTC),
   "values":{CODE:number|null} (numeric indicators; ints as integers),
   "reporting":{"expected","reported","on_time","counted"},
   "children":[{"unit","name","values","reporting"}],
   "own":{"unit","name","values","reporting"} (only when has_own),
   "groups":[{"level","name","values","reporting"}],
   "texts":{CODE:[{"unit","name","text"}]},
   "violations":[{"unit","name","rule","message"}],
   "compare" (only with a compare result):{"period","values","reporting",
   "mapping","children":[{"unit","name","values","reporting"}]}}. New reference owned by
   the caller; NULL on allocation failure or NULL r. */
json_t *th_rollup_json(const th_rollup_t *r);

/* The aggregate of code in part, or NULL. Borrowed from the result. */
const th_rollup_value_t *th_rollup_value(const th_rollup_part_t *part, const char *code);

/* v as a person reads it (human: Vietnamese format "1.234,5", "—" for
   null) or as a program reads it (plain "1234.5", "" for null); buf gets
   at most cap bytes, NUL-terminated. */
void th_rollup_format(const th_rollup_value_t *v, bool human, char *buf, size_t cap);

/* The Vietnamese name of the group of reporting units of a level: "Khối
   sở, ngành" (department), "Khối huyện", "Khối xã", "Khối tỉnh"; other
   levels "Khối <level>". Written into buf (cap >= 64 is enough). */
const char *th_rollup_group_label(const char *level, char *buf, size_t cap);

/* Vietnamese name of an aggregation as a report states it ("Tổng",
   "Tỷ lệ", ...). Static string; "" for an unknown value. */
const char *th_rollup_agg_label(th_agg_t a);

/* Frees *r and NULLs it; safe with NULL and twice. */
void th_rollup_destroy(th_rollup_t **r);

/* The `rollup` command of tonghop-hub (DESIGN §2): --dir, --form, --period,
   optional --unit, --as-of (ISO 8601; a bare date is the end of that day,
   Vietnam time) and --format table|csv|json. Returns an exit code (0, 1
   failure, 2 usage); on error prints one "tonghop: error:" line and
   nothing on stdout. */
int th_rollup_cmd(th_cli_opts_t *o, int argc, char **argv);

#endif
