/*  export: the consolidated report of one form and period at one unit, as
    a document that the XLSX, CSV and HTML writers render (DESIGN §6).

    The content is decided once, here, from a rollup (with its
    completeness): a header (issuing office, place, date, title, period,
    as-of time) and six parts, each a titled table of typed cells:
      I    totals per indicator, by section of the form;
      II   the breakdown, one row per direct child unit and a total row
           (absent when the unit has no children);
      III  reporting status per direct child: expected, reported, on time,
           late, missing, rates;
      IV   late and missing units, named, with the days late;
      V    rule violations per unit;
      VI   text answers quoted per unit.
    The writers (export_xlsx.h, export_html.h, and th_export_csv below)
    only render: every user-visible word is Vietnamese and comes from here,
    so that the three files say the same thing. A document is immutable
    once made and may be read by any thread. */
#ifndef TH_EXPORT_H
#define TH_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "office.h"
#include "rollup.h"

typedef enum {
    TH_XCELL_EMPTY = 0,
    TH_XCELL_TEXT,
    TH_XCELL_INT,
    TH_XCELL_DEC
} th_xcell_kind_t;

typedef struct {
    th_xcell_kind_t kind;
    char *text;          /* TEXT: owned by the document */
    int64_t i;           /* INT */
    double d;            /* DEC (printed with up to 2 decimals) */
} th_xcell_t;

typedef enum {
    TH_XROW_DATA = 0,
    TH_XROW_HEADING,     /* a group heading: only the first cell, spanning the row */
    TH_XROW_TOTAL        /* a total line, shown in bold */
} th_xrow_kind_t;

typedef struct {
    char *title;         /* "I. SỐ LIỆU TỔNG HỢP" */
    char *sheet;         /* XLSX sheet name, at most 31 characters */
    char *empty_note;    /* said instead of the table when it has no rows */
    bool wide;           /* many columns: printed in landscape */
    size_t ncols;
    char **header;       /* ncols column titles */
    char **header_hint;  /* ncols, NULL entries when none: the indicator's label
                            behind a column titled by its code */
    unsigned *widths;    /* ncols suggested widths, in characters */
    size_t nrows;
    th_xrow_kind_t *row_kind;   /* nrows */
    th_xcell_t *cells;          /* nrows * ncols, row-major */
} th_export_part_t;

typedef struct th_export {
    th_rollup_t *rollup;        /* owned: the figures behind the parts */
    /* administrative header (Nghị định 30/2020/NĐ-CP layout) */
    char *superior;             /* governing body, capitals; "" when none */
    char *issuer;               /* issuing office, capitals */
    char *place;                /* place name for "Tây Ninh, ngày ..." */
    char *signer;               /* signer's title, capitals */
    char *date_line;            /* "Tây Ninh, ngày 23 tháng 11 năm 2026" */
    char *title;                /* "BÁO CÁO TỔNG HỢP" */
    char *subtitle;             /* the form's title */
    char *period_line;          /* "Kỳ báo cáo: Năm 2026" */
    int64_t made_at;            /* Unix ms the document was made */
    size_t nmeta;               /* label/value lines under the title */
    char *(*meta)[2];
    size_t nparts;
    th_export_part_t *parts;
} th_export_t;

/* Makes the document of form/period at unit (NULL = o's unit) as of as_of
   (Unix ms; INT64_MAX = now), dated now. The header comes from [report]
   in o's tonghop.ini; what is not set there is derived from the unit's
   name: issuer "ỦY BAN NHÂN DÂN <NAME>", place = the name without its
   level word ("Tỉnh", "Xã", ...), signer "THỦ TRƯỞNG CƠ QUAN".
   Errors as th_rollup_compute (errbuf, when cap > 0, gets an English
   sentence; *out stays NULL). On success *out is owned by the caller
   (th_export_destroy) and borrows nothing from o. */
int th_export_make(th_office_t *o, const char *form, const char *period, const char *unit,
                   int64_t as_of, th_export_t **out, char *errbuf, size_t cap);

/* The same with the totals of the period compare beside period's (both
   in period's unit tree, th_rollup_compute_compare): part I gets the
   columns "Kỳ này (P)", "Kỳ so sánh (P2)" and "Chênh lệch" instead of one
   figure, and the header the lines "Kỳ so sánh" and "Đối chiếu đơn vị" (the
   mapping used). compare NULL: th_export_make. Errors as
   th_rollup_compute_compare. */
int th_export_make_compare(th_office_t *o, const char *form, const char *period,
                           const char *compare, const char *unit, int64_t as_of,
                           th_export_t **out, char *errbuf, size_t cap);

/* Frees *x and NULLs it; safe with NULL and twice. */
void th_export_destroy(th_export_t **x);

/* A cell as a person reads it (Vietnamese number format) or, plain, as a
   program reads it ("1234.5"); "" for an empty cell. buf gets at most cap
   bytes, NUL-terminated; text longer than cap is cut (callers that need
   all of a text read cell->text). */
void th_export_cell_format(const th_xcell_t *c, bool human, char *buf, size_t cap);

/* Writes x as CSV, UTF-8 with a byte-order mark (Excel reads it as
   UTF-8): the header lines, then each part as its title line, its column
   titles and its rows, parts separated by an empty line; numbers plain
   ("1234.5"). Returns 0, or -EIO when writing failed. */
int th_export_csv(const th_export_t *x, FILE *f);

#endif
