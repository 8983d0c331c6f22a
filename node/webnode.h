/*  webnode: the pages every office has (DESIGN §7): its forms and periods
    with their status, the entry form generated from the form definition
    (sections, units of measure, help, Vietnamese number input, problems
    next to their fields), draft and submit, the history of revisions, the
    sync status with receipts, rejections and returns for correction; and
    the JSON endpoints /api/forms, /api/status, /api/report.

    Every page reads and writes through the same modules as the CLI (entry,
    status, present), on the daemon's loop thread (see web.h). */
#ifndef TH_WEBNODE_H
#define TH_WEBNODE_H

#include <stdio.h>

#include "forms.h"
#include "model.h"
#include "httpd.h"

/* Adds the office pages to w. Returns 0 or TH_E_LIMIT. */
int th_webnode_add(th_httpd_t *w);

/* Loads the current revision of form/period/unit from o's store into *r
   (th_record_init'ed by the caller; clear it after) with its signature
   check in *sig_ok. Returns 0, TH_E_NOTFOUND, store or codec errors. */
int th_webnode_load(th_office_t *o, const char *form, const char *period, const char *unit,
                    th_record_t *r, bool *sig_ok);

/* Writes r's values as <table id="values">, one <tr data-code="CODE"> per
   indicator of f in form order, sections as heading rows, values in the
   Vietnamese format in <td class="value">, computed ratios included. */
void th_webnode_values_table(FILE *out, const th_form_t *f, const th_record_t *r);

#endif
