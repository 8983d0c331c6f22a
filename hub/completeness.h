/*  completeness: who was expected to report a form for a period, who did,
    on time or late, and who is missing, as held by this hub at a given time.

    Expected units are the units of U's subtree (U included) whose level
    reports the form (th_form_reported_by), in the unit tree in force on the
    period's last day; a unit that merged away before then is not expected.
    A unit has reported when its latest submitted revision received here at
    or before the as-of time has a valid signature; at a hub that approves
    ([hub] approve = yes), only revisions of units below it approved by the
    as-of time count (approval.h), and a unit with a newer revision not
    approved yet is flagged awaiting approval. Timeliness is judged on
    the signed submitted_at (the owner's clock) of the unit's EARLIEST
    submitted revision held here (a later correction does not make a
    report late), against the end of its deadline day in Vietnam time
    (th_entry_deadline: the form's deadline for the level of the unit's
    parent); a unit whose form names no deadline for it is on time. Since
    relays may skip revisions superseded before they were sent, a hub high
    in the tree may judge on a later revision than the one first submitted.
    A unit is flagged clock-suspect when the clock offset measured at HELLO
    of this hub's direct child on the unit's path exceeds 15 minutes either
    way (no measurement: not suspect). Counts and rates are given overall
    and per direct child of U. Thread rules: as for the office (one thread
    at a time per office); a result is immutable and may be read by any
    thread. */
#ifndef TH_COMPLETENESS_H
#define TH_COMPLETENESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "forms.h"
#include "model.h"
#include "office.h"
#include "period.h"

#define TH_CLOCK_SUSPECT_MS (15 * 60 * 1000)

typedef enum {
    TH_COMPL_MISSING = 0,   /* no valid submitted revision as of the time */
    TH_COMPL_ON_TIME = 1,
    TH_COMPL_LATE = 2
} th_compl_state_t;

/* One expected unit. */
typedef struct {
    char unit[TH_UNIT_MAX];
    char *name;                 /* owned by the result */
    char level[TH_LEVEL_MAX];   /* its level: commune, district, department, ... */
    char child[TH_UNIT_MAX];    /* direct child of U whose subtree holds it;
                                   "" when it is U itself */
    th_compl_state_t state;
    uint32_t rev;               /* latest submitted rev as of the time; 0 if missing */
    int64_t submitted_at;       /* signed submitted_at used for timeliness; 0 if missing */
    int32_t deadline;           /* due day, INT32_MIN when none */
    int days_late;              /* > 0 only when late: whole days, rounded up */
    bool clock_suspect;
    bool awaiting_approval;     /* a hub that approves holds a revision of it
                                   received by as_of and not approved yet */
    bool has_offset;            /* a clock offset was measured for its path */
    int64_t clock_offset_ms;    /* theirs - ours, when has_offset */
} th_compl_unit_t;

/* Counts for U overall or one direct child of U. Rates are percentages of
   expected (reported_rate = reported / expected, on_time_rate = on_time /
   expected) and are meaningless (set 0) when expected is 0. */
typedef struct {
    char unit[TH_UNIT_MAX];
    char *name;                 /* owned by the result */
    size_t expected, reported, on_time, late, missing;
    double reported_rate, on_time_rate;
    size_t clock_suspect;       /* expected units flagged clock-suspect */
    size_t awaiting_approval;   /* expected units awaiting approval here */
} th_compl_count_t;

typedef struct th_completeness {
    char form[TH_FORM_ID_MAX];
    th_period_t period;
    int64_t as_of;              /* Unix ms actually used (now when asked for INT64_MAX) */
    th_compl_count_t total;     /* unit = U */
    size_t nchildren;           /* every direct child of U in force, file order */
    th_compl_count_t *children;
    size_t nunits;              /* expected units, U first then depth-first */
    th_compl_unit_t *units;
} th_completeness_t;

/* Computes the completeness of (form, period) at unit (NULL = this
   office's unit) as of as_of (Unix ms; INT64_MAX = now), reading o's store
   in one snapshot. Revisions whose signature or decoding fails are not
   counted (logged as warnings).
   Errors (errbuf, when cap > 0, gets an English sentence for the operator;
   *out stays NULL):
     TH_E_INVALID  o, form, period or out NULL
     TH_E_FORM     form unknown here
     TH_E_PERIOD   period malformed or not of the form's period type
     TH_E_UNIT     unit malformed, not in force on the period's last day, or
                   not in this office's subtree in that tree
     -ENOMEM, store errors.
   On success *out is owned by the caller (th_completeness_destroy); it
   borrows nothing from o. */
int th_completeness_compute(th_office_t *o, const char *form, const char *period,
                            const char *unit, int64_t as_of, th_completeness_t **out,
                            char *errbuf, size_t cap);

/* The same, and fn(u, rec, ctx) for each expected unit u (in the order of
   c->units: U first then depth-first, while the result is being built:
   only u->unit, name, level and child are set yet) whose report counts, with
   its counted revision decoded (rec: the latest submitted one received by
   as_of, verified or sealed; borrowed for the call). One read of the store
   serves both: the rollup folds its figures here. fn returning < 0 stops
   and fails the computation with that error. fn may be NULL. */
typedef int (*th_completeness_counted_fn)(const th_compl_unit_t *u, const th_record_t *rec,
                                          void *ctx);
int th_completeness_compute_each(th_office_t *o, const char *form, const char *period,
                                 const char *unit, int64_t as_of,
                                 th_completeness_counted_fn fn, void *ctx,
                                 th_completeness_t **out, char *errbuf, size_t cap);

/* The same for a period read in the tree of another, later day tree_day
   (rollup --compare across the 2025 reform): U (unit, NULL = o's) and its
   direct children are looked up on tree_day; the expected units are those
   of the tree in force on the period's last day whose level reports the
   form and whose successor on tree_day (th_units_successor) is U or lies
   below it, in load and file order; a unit's child is U's direct child
   whose subtree holds its successor ("" when the successor is U). A unit
   never counts under U for sharing U's code: old 80 (Long An) is under new
   80 (Tây Ninh) only as its successor. Clock offsets are not looked up
   (they belong to this tree's links): no unit is clock-suspect. When the
   period's tree is tree_day's own, this is the plain computation with U's
   own report among the units. Errors as th_completeness_compute, the unit
   ones about tree_day's tree. */
int th_completeness_compute_mapped(th_office_t *o, const char *form, const char *period,
                                   const char *unit, int32_t tree_day, int64_t as_of,
                                   th_completeness_counted_fn fn, void *ctx,
                                   th_completeness_t **out, char *errbuf, size_t cap);

/* JSON document: {"form","period","unit","unit_name","as_of" (ISO UTC),
   "totals":{expected,reported,on_time,late,missing,reported_rate,
   on_time_rate (null when expected is 0),clock_suspect},
   "children":[{unit,name,...same counts}], "late":[{unit,name,days_late,
   submitted_at,deadline (yyyy-mm-dd),clock_suspect}], "missing":[{unit,
   name}], "units":[{unit,name,child,status ("on_time"|"late"|"missing"),
   rev,days_late,clock_suspect}]}. New reference owned by the caller; NULL
   on allocation failure or NULL c. */
json_t *th_completeness_json(const th_completeness_t *c);

/* Frees *c and NULLs it; safe with NULL and twice. */
void th_completeness_destroy(th_completeness_t **c);

/* Looks up U (NULL = o's unit) in the tree of the period and checks it
   lies in o's subtree; shared with rollup. On success *f, *p and *u are
   set (f and u borrowed from o, valid while o is open and its forms and
   units unchanged). Errors as th_completeness_compute. */
int th_completeness_resolve(th_office_t *o, const char *form, const char *period,
                            const char *unit, const th_form_t **f, th_period_t *p,
                            const th_unit_t **u, char *errbuf, size_t cap);

/* The same with U looked up in the tree in force on tree_day (INT32_MIN:
   the period's last day, as th_completeness_resolve). */
int th_completeness_resolve_at(th_office_t *o, const char *form, const char *period,
                               const char *unit, int32_t tree_day, const th_form_t **f,
                               th_period_t *p, const th_unit_t **u, char *errbuf,
                               size_t cap);

/* The `completeness` command of tonghop-hub (DESIGN §2): --dir, --form,
   --period, optional --unit, --as-of (th_time_parse_iso_end) and --format
   table|csv|json. Returns an exit code (0, 1 failure, 2 usage); on error
   prints one "tonghop: error:" line and nothing on stdout. o is a
   th_cli_opts_t (node/cli.h). */
int th_completeness_cmd(th_cli_opts_t *o, int argc, char **argv);

#endif
