/*  returns: a hub returns a child's report for correction (trả lại): the
    operation behind `tonghop-hub return` and the unit page's form, so that
    the CLI and the web both call it and neither calls the other. */
#ifndef TH_RETURNS_H
#define TH_RETURNS_H

#include <stddef.h>
#include <stdint.h>

#include "office.h"

/* Returns unit's current report of form/period for correction: queues a
   notice (reason, 1..400 bytes) for the child office on the unit's path,
   delivered by the running daemon. *rev (optional) gets the revision
   returned. Errors (errbuf gets an English sentence): TH_E_INVALID (reason),
   TH_E_FORM, TH_E_PERIOD, TH_E_UNIT (not below this office), TH_E_NOTFOUND
   (no report held), store errors. */
int th_return_report(th_office_t *off, const char *form, const char *period, const char *unit,
                     const char *reason, uint32_t *rev, char *errbuf, size_t cap);

#endif
