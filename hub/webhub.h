/*  webhub: the pages only a hub has (DESIGN §7): the dashboard of a form
    and period (completeness per unit with on time / late / missing,
    progress toward the deadline, the consolidated figures with drill-down
    by unit), a unit's report as received with its rule violations and the
    return-for-correction form, the exports (XLSX, CSV, print view), and
    /api/rollup, /api/completeness. Loop thread only (see web.h). */
#ifndef TH_WEBHUB_H
#define TH_WEBHUB_H

#include "httpd.h"

/* Adds the hub pages and the "Tổng hợp" link to w, with the cache of the
   last dashboard they keep (freed with w). Returns 0, -ENOMEM or TH_E_LIMIT. */
int th_webhub_add(th_httpd_t *w);

#endif
