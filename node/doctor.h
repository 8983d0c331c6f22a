/*  doctor: `tonghop-{node,hub} doctor --dir D [--json]`, the checks of what
    an operator gets wrong when installing an office: the data directory's
    and the keys' permissions and owner, the configuration, the parent
    reachable, the clock against the parent's, the free disk space against
    the store, the web interface exposed without users or over plain HTTP
    beyond the machine. Each finding says what is wrong and what to do, in
    Vietnamese and English. Exit status 0 when nothing failed (warnings
    allowed), 1 otherwise. */
#ifndef TH_DOCTOR_H
#define TH_DOCTOR_H

#include "cli.h"

typedef enum { TH_DOCTOR_OK = 0, TH_DOCTOR_WARN = 1, TH_DOCTOR_FAIL = 2 } th_doctor_level_t;

/* One finding (strings static or owned by the caller's buffers). */
typedef struct {
    const char *check;          /* "key", "parent", "clock", "disk", "web", ... */
    th_doctor_level_t level;
    char vi[512];
    char en[512];
} th_doctor_finding_t;

/* Free disk space thresholds of the store's file system. */
#define TH_DOCTOR_DISK_FAIL_MB 100
#define TH_DOCTOR_DISK_WARN_MB 1024
/* A clock further than this from the parent's is a problem (as the hub's
   completeness flags it: TH_CLOCK_SUSPECT_MS). */
#define TH_DOCTOR_CLOCK_MS (15 * 60 * 1000)

/* Runs every check on the data directory dir; *out (owned by the caller,
   th_free) gets the findings in order, *n their number. Returns 0 or
   -ENOMEM. A directory that does not open is itself a finding. */
int th_doctor_run(const char *dir, th_doctor_finding_t **out, size_t *n);

/* The command. */
int th_doctor_cmd(th_cli_opts_t *o, int argc, char **argv);

#endif
