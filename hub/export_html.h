/*  export_html: the consolidated report as one printable HTML page.

    A self-contained UTF-8 document (inline CSS, no script, no external
    resource) laid out for A4 paper as a Vietnamese administrative report
    (Nghị định 30/2020/NĐ-CP): the governing body and issuing office on the
    left, the national motto (Quốc hiệu, tiêu ngữ) on the right, the place
    and date, the title, then the parts of the document; the breakdown by
    unit, which has one column per indicator, is printed on landscape
    pages. Numbers use the Vietnamese format (1.234.567 and 98,04). Every
    text from the document is escaped. Thread-safe for distinct files. */
#ifndef TH_EXPORT_HTML_H
#define TH_EXPORT_HTML_H

#include <stdio.h>

#include "export.h"
#include "present.h"

/* Writes the page for x to f. Returns 0, or -EIO when writing failed. */
int th_export_html(const th_export_t *x, FILE *f);

#endif
