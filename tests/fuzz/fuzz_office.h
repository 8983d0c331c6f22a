/*  fuzz_office.h: the offices the store-backed fuzz targets run against, in
    one temporary directory per process, removed at exit (after the target's
    own atexit cleanup, which closes them). Header-only: each target is one
    .c file. Aborts when an office cannot be made (a fuzz run without its
    office would test nothing). */
#ifndef TH_FUZZ_OFFICE_H
#define TH_FUZZ_OFFICE_H

#include <stdio.h>
#include <stdlib.h>

#include "crypto.h"
#include "office.h"

static char s_fuzz_dir[64];

static void
s_fuzz_rmdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", s_fuzz_dir);
}

/* A new office of unit (a hub when bind is set; parent/parent_key may be
   NULL) in the process's temporary directory, under sub. */
static th_office_t *
fuzz_office(const char *target, const char *sub, const char *unit, const char *bind,
            const char *parent, const char *parent_key)
{
    if (!s_fuzz_dir[0]) {
        if (th_crypto_init() < 0)
            abort();
        snprintf(s_fuzz_dir, sizeof s_fuzz_dir, "/tmp/th-fuzz-%s.XXXXXX", target);
        if (!mkdtemp(s_fuzz_dir))
            abort();
        atexit(s_fuzz_rmdir);
    }
    char dir[128], err[512];
    snprintf(dir, sizeof dir, "%s/%s", s_fuzz_dir, sub);
    th_office_init_t opt = { .dir = dir, .unit = unit, .bind = bind,
                             .parent_endpoint = parent, .parent_key = parent_key };
    int rc;
    th_office_t *o = NULL;
    if (th_office_init(&opt, err, sizeof err) < 0 || !(o = th_office_open(dir, err, sizeof err, &rc))) {
        fprintf(stderr, "fuzz_%s: %s\n", target, err);
        abort();
    }
    return o;
}

#endif
