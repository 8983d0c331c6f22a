/*  builtin: the default forms and the official unit lists, compiled into
    the binaries so that an office works from the binary alone (init needs
    no share directory). The texts are the files under config/ as they were
    at build time; they are NUL-terminated and live for the whole process. */
#ifndef TH_BUILTIN_H
#define TH_BUILTIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;     /* file name, e.g. "dvcq-nam.ini" or "vn-2024" */
    const char *text;
    size_t len;
    int32_t valid_from;   /* unit sets: days since 1970 (INT32_MIN = open) */
    int32_t valid_to;     /* INT32_MAX = open */
} th_builtin_t;

/* The built-in forms (the .ini files of config/forms); *n set to their number. */
const th_builtin_t *th_builtin_forms(size_t *n);
/* The national root above the provinces (Bộ Nội vụ's hub), in both trees. */
#define TH_BUILTIN_ROOT_CODE "VN"

/* The official unit trees: "vn-2024" (three tiers, until 30/06/2025) and
   "vn-2025" (two tiers, from 01/07/2025), each with the national root
   TH_BUILTIN_ROOT_CODE (level "country") as the parent of its provinces.
   *n is 0 when memory ran out making them. */
const th_builtin_t *th_builtin_units(size_t *n);

/* The successor of every unit of the official 2024 tree in the 2025 tree
   (config/units/successors-2025.csv, format in th_units_load_successors):
   name is the set it fills in, "vn-2024". */
const th_builtin_t *th_builtin_successors(void);

/* Where that mapping comes from, as a report names it (Vietnamese, static). */
const char *th_builtin_successors_source(void);

struct th_units;
/* Fills in the successors of the units of set from the built-in mapping
   when set is the one it is for ("vn-2024"); does nothing for any other
   set. Called after each load of a set, so that a store's lists (made
   before the mapping existed) gain it too. Returns 0 or the error of
   th_units_load_successors (errbuf gets its message). */
int th_builtin_fill_successors(struct th_units *units, const char *set, char *errbuf,
                               size_t cap);

#endif
