/*  hubcli: the commands only a hub has (DESIGN §2), added to the office
    commands by tonghop-hub's main. */
#ifndef TH_HUBCLI_H
#define TH_HUBCLI_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

const th_cli_cmd_t *th_hubcli_commands(size_t *n);

/* Returns unit's current report of form/period for correction: queues a
   notice (reason, 1..400 bytes) for the child office on the unit's path,
   delivered by the running daemon. *rev (optional) gets the revision
   returned. Errors (errbuf gets an English sentence): TH_E_INVALID (reason),
   TH_E_FORM, TH_E_PERIOD, TH_E_UNIT (not below this office), TH_E_NOTFOUND
   (no report held), store errors. */
int th_hubcli_return(th_office_t *off, const char *form, const char *period, const char *unit,
                     const char *reason, uint32_t *rev, char *errbuf, size_t cap);

#endif
