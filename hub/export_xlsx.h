/*  export_xlsx: the consolidated report as an Excel workbook
    (libxlsxwriter), one sheet per part of the document.

    The first sheet ("Tổng hợp") starts with the administrative header
    (issuing office, Quốc hiệu and tiêu ngữ, place and date), the title and
    the header lines; every sheet has its part's title, formatted column
    titles repeated on each printed page, frozen panes, numbers stored as
    numbers (format #,##0 and #,##0.00, so Excel sums them; integers beyond
    2^53 lose precision, as Excel itself keeps 15 digits), A4 paper, and
    landscape for the breakdown by unit. A column titled by an indicator
    code has the indicator's label under it. Thread-safe for distinct
    files. */
#ifndef TH_EXPORT_XLSX_H
#define TH_EXPORT_XLSX_H

#include "export.h"

/* Writes x to a new workbook at path (replaced if it exists). Returns 0,
   or -EIO when libxlsxwriter cannot create or write the file (its reason
   is logged), -ENOMEM. */
int th_export_xlsx(const th_export_t *x, const char *path);

#endif
