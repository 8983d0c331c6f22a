/*  unitlist: the units a hub adds to its tree (provincial departments,
    the sở, ban, ngành that report to the Sở Nội vụ besides the districts and
    communes), and the `units add|list` commands.

    A department is a unit of level "department" with an assigned code,
    below the hub's unit or a unit of its subtree. It is kept in the store
    as a row of the unit list (set) that holds its parent in the tree in
    force today (or the latest that has it), and of every other list in
    which the parent is the same unit, so that every lookup by code and day, the completeness and
    the rollup see it as any other unit; the change is one write
    transaction, checked by loading the whole list again before it is
    stored, and counts up "units.gen" so that a running daemon re-reads the
    lists (th_office_reload_units). */
#ifndef TH_UNITLIST_H
#define TH_UNITLIST_H

#include <stddef.h>

#include "cli.h"
#include "office.h"

/* Adds unit code (name, level "department") below parent (NULL: o's own
   unit) to o's store. Checks: code valid and used by no unit of any list;
   name non-empty UTF-8 without control characters; level "department";
   parent at or below o's unit in the tree in force today, or in the
   latest tree that has it (a hub of an older tree). errbuf gets a
   Vietnamese sentence (what, and what to do). Returns 0, TH_E_USAGE (bad
   code, name or level), TH_E_EXISTS (code taken), TH_E_UNIT (parent),
   TH_E_CORRUPT (the stored list), -ENOMEM or store errors. o's own
   registry is not changed (reopen, or th_office_reload_units). */
int th_unitlist_add(th_office_t *o, const char *code, const char *name, const char *level,
                    const char *parent, char *errbuf, size_t cap);

/* `tonghop-hub units add|list` (DESIGN §2). Returns an exit code. */
int th_unitlist_cmd(th_cli_opts_t *o, int argc, char **argv);

#endif
