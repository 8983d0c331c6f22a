/*  units: the registry of administrative units, over several tree versions.

    Vietnam's tree of offices changes by law: until 30/06/2025 it had three
    tiers (63 provinces, ~700 districts, ~10,000 communes), from 01/07/2025
    two (34 provinces, 3,321 communes), and codes were reused with another
    meaning (25459 was "Phường 3", is "Phường Tân Ninh"; province 80 was Long
    An, is Tây Ninh). So a unit code identifies a unit only within one tree
    version, here called a *set*, and every lookup names the day it is about
    (the period's day, a submission's day). A registry holds any number of
    sets, each loaded from a CSV file `code,name,level,parent_code` with
    optional `valid_from,valid_to,successor` columns, each in force over a
    range of days. Lookups are hash-based (code -> unit per set) with
    per-unit child lists in file order, so the national lists load in a few
    milliseconds. Thread rules: loading needs exclusive access; once loading
    is done, any number of threads may call the const functions at once. */
#ifndef TH_UNITS_H
#define TH_UNITS_H

#include "model.h"   /* TH_UNIT_MAX, th_valid_unit_code */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 01/07/2025, the first day of the two-tier tree (vn-2025). */
#define TH_UNITS_REFORM_DAY 20270

typedef struct {
    char code[TH_UNIT_MAX];
    char *name;                /* UTF-8, owned by the registry */
    char *level;               /* "province", "district", "commune", ... */
    char parent[TH_UNIT_MAX];  /* "" for a root */
    int32_t valid_from;        /* inclusive days; INT32_MIN = open */
    int32_t valid_to;          /* inclusive days; INT32_MAX = open */
    char successor[TH_UNIT_MAX]; /* code of the unit it merged into, "" if none */
    const char *set;           /* name of the set it came from */
} th_unit_t;

typedef struct th_units th_units_t;

/* An empty registry, or NULL on allocation failure. */
th_units_t *th_units_new(void);

/* Frees the registry and every unit; NULLs *p; safe with NULL / *p NULL.
   Every th_unit_t pointer obtained from it becomes invalid. */
void th_units_destroy(th_units_t **p);

/* Loads one set (a tree version) named set from CSV text[0..len) (borrowed
   for the call only; may lack a NUL). Units are in force from..to
   (inclusive days, INT32_MIN / INT32_MAX for open) unless a row's own
   valid_from / valid_to (dd/mm/yyyy or yyyy-mm-dd, empty = the set's)
   says otherwise. origin names the text in messages (a path, "vn-2024").
   Checks: the header starts with code,name,level,parent_code and may go on
   with valid_from, valid_to, successor (each at most once, any order; any
   other column is an error); every row has as many fields as the header;
   code non-empty and valid (th_valid_unit_code); name non-empty; level
   non-empty, of [a-z0-9_-]; no duplicate code in the set; every non-empty
   parent exists in the set (anywhere in the file); no parent cycle;
   dates valid and valid_from <= valid_to; successor empty or a valid
   code (it may name a unit of another set, so it is not looked up).
   On error nothing of the set is kept, and errbuf (if errcap > 0) gets
   "<origin>:<line>: <what is wrong>" in English, shown to the operator.
   Returns 0, or
     TH_E_PARSE   CSV syntax error, missing or wrong header, wrong field count
     TH_E_INVALID bad value: empty/invalid code, duplicate code, missing
                  parent, cycle, bad level, bad date, bad successor
     TH_E_LIMIT   CSV field/field-count limit (see csv.h)
     TH_E_EXISTS  a set of this name is already loaded
     TH_E_USAGE   set empty, NULL or longer than 63 bytes; from > to
     -ENOMEM
   The official trees are not built in here: the caller passes their text
   (see builtin.h) as set "vn-2024" with (INT32_MIN, TH_UNITS_REFORM_DAY-1)
   and "vn-2025" with (TH_UNITS_REFORM_DAY, INT32_MAX). */
int th_units_load_csv(th_units_t *u, const char *set, const char *origin, const char *text,
                      size_t len, int32_t from, int32_t to, char *errbuf, size_t errcap);

/* The unit with this code in force on day (its valid_from <= day <=
   valid_to), or NULL if none. When several sets have one (overlapping
   validity), the set loaded last wins. The pointer is valid while u lives. */
const th_unit_t *th_units_find(const th_units_t *u, const char *code, int32_t day);

/* The unit with this code in the named set, whatever its validity; NULL if
   none. Pointer valid while u lives. */
const th_unit_t *th_units_find_in_set(const th_units_t *u, const char *set, const char *code);

/* The unit with this code in the set loaded last that has it, whatever its
   validity (for codes of an older tree); NULL if no set has it. */
const th_unit_t *th_units_find_latest(const th_units_t *u, const char *code);
/* day clamped into unit's validity: the day closest to `day` on which
   that version of the unit is in force. */
int32_t th_units_day_for(const th_unit_t *unit, int32_t day);
/* The day on which to read code in the tree: day itself when a unit code
   is in force then, else the day closest to it on which the latest unit of
   that code was (codes are reused across trees: a statement made by a unit
   that has since merged away is read in its own tree); day when no unit
   has the code. *unit (may be NULL) gets that unit, or NULL. */
int32_t th_units_tree_day(const th_units_t *u, const char *code, int32_t day,
                          const th_unit_t **unit);
/* The parent of unit (a pointer from this registry) in its own set, or NULL
   for a root. Pointer valid while u lives. */
const th_unit_t *th_units_parent(const th_units_t *u, const th_unit_t *unit);

/* Calls cb for each child of the unit code (as found by th_units_find) that
   is itself in force on day, in file order. A non-zero return from cb stops
   the walk and is returned. Returns 0 when all were visited, or TH_E_UNIT
   when no unit code is in force on day (cb never called). */
int th_units_each_child(const th_units_t *u, const char *code, int32_t day,
                        int (*cb)(const th_unit_t *c, void *ctx), void *ctx);

/* Like each_child but over the whole subtree: the unit code itself first,
   then depth-first in file order (a unit before its children). Units not
   in force on day are skipped with their whole subtree. level non-NULL
   restricts the callbacks to units of that level (the walk still goes
   through the others). Same returns as th_units_each_child. */
int th_units_each_in_subtree(const th_units_t *u, const char *code, int32_t day,
                             const char *level,
                             int (*cb)(const th_unit_t *c, void *ctx), void *ctx);

/* True when code (as found on day) is ancestor itself or lies below it:
   the walk goes up the parents of code's own set and compares codes, so an
   ancestor code only matches in the tree version in force on day. False
   when code has no unit in force on day. */
bool th_units_in_subtree(const th_units_t *u, const char *ancestor, const char *code,
                         int32_t day);

/* Calls cb for every unit in force on day (optionally only of level), sets
   in load order, units in file order. Returns 0 or cb's non-zero value. */
int th_units_each(const th_units_t *u, int32_t day, const char *level,
                  int (*cb)(const th_unit_t *c, void *ctx), void *ctx);

/* Fills in the successor of the units of the named set from a successor
   mapping, CSV text[0..len) with the header level,old_code,new_code,main,note
   (config/units/successors-2025.csv; borrowed for the call): each row with
   main = 1 says that old_code went into new_code (a unit of another set,
   not looked up). Rows with main = 0 (the other parts of a split unit) are
   read and ignored. A unit that already has a successor (its own column)
   keeps it; an old_code the set lacks is skipped (the set may be a list
   edited since). Checks: the header; every row has 5 fields; codes valid;
   main 0 or 1; one main row per old_code. On error nothing is changed and
   errbuf gets "<origin>:<line>: <what>". Returns the number of units
   filled in, or TH_E_PARSE (CSV syntax, header, field count), TH_E_INVALID
   (bad code, bad main, two main rows), TH_E_LIMIT, TH_E_USAGE (no such set,
   NULL arguments), -ENOMEM. Loading needs exclusive access, as for
   th_units_load_csv. */
int th_units_load_successors(th_units_t *u, const char *set, const char *origin,
                             const char *text, size_t len, char *errbuf, size_t errcap);

/* The unit in force on day that unit (of this registry, usually of an older
   set) went into: unit itself when it is in force on day; else the unit
   its successor code names (looked up the day after unit's validity ends,
   then on day), followed again until one is in force on day; a unit
   without a successor maps to the unit in force on day with its code, name
   and level (unchanged across the reform, e.g. a department of a province
   that did not merge), else to where its parent goes (a commune the
   mapping lacks is counted with its old province's successor). NULL when
   nothing is found, when day is before unit's validity (no mapping back in
   time) or after 16 steps. Codes are never compared across sets: old 80
   (Long An) maps to new 80 (Tây Ninh) only because the mapping says so.
   Pointer valid while u lives. */
const th_unit_t *th_units_successor(const th_units_t *u, const th_unit_t *unit, int32_t day);

/* Number of units in all sets. */
size_t th_units_count(const th_units_t *u);

/* Number of units in the named set (0 if no such set). */
size_t th_units_set_count(const th_units_t *u, const char *set);

#endif
