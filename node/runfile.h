/*  runfile: the running daemon's claim on its data directory, and what it
    publishes there.

    A daemon holds an exclusive flock(2) on D/daemon.json for as long as it
    runs, so a second daemon on the same directory is refused at start
    instead of sharing the store's log and notices with the first (the
    kernel drops the lock when the process dies, SIGKILL included, so a
    crash never leaves a stale claim). Once its services have started the
    daemon writes into the same file, as one JSON object, its pid and the
    addresses it really listens on:

        { "pid": 1234, "started_at": "2026-12-03T08:00:00Z",
          "collector": "tcp://127.0.0.1:41234",   (hubs; absent otherwise)
          "web": "http://127.0.0.1:8080/" }       (absent if the web is off)

    so that a configured "tcp://127.0.0.1:*" or web port 0 (the kernel
    picks the port) can be found by operators, tests and proxies: `status
    --json` shows it under "daemon". Readers trust the content only while
    the lock is held (a shared, non-blocking flock that fails means a daemon
    runs). The file is emptied at a clean stop.

    Not thread-safe; one runfile per process. Errors as in err.h. */
#ifndef TH_RUNFILE_H
#define TH_RUNFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TH_RUNFILE_NAME "daemon.json"

typedef struct th_runfile th_runfile_t;

/* Claims directory dir for this process. On success *out owns the claim.
   Returns TH_E_BUSY when another live process holds it (*other_pid set to
   its pid when it already published one, else 0), -errno when the file
   cannot be opened or locked (e.g. -EACCES). */
int th_runfile_claim(const char *dir, th_runfile_t **out, pid_t *other_pid);

/* Records what the daemon listens on under `name` ("collector", "web");
   written by the next th_runfile_write. value is copied. 0, -ENOMEM or
   TH_E_LIMIT (more than 8 names). */
int th_runfile_set(th_runfile_t *rf, const char *name, const char *value);

/* Rewrites the file: pid, start time and every name set so far. 0 or
   -errno (the daemon goes on: the file only informs). */
int th_runfile_write(th_runfile_t *rf);

/* Empties the file and drops the claim; frees *self_p, NULLs it; safe with
   NULL and twice. */
void th_runfile_release(th_runfile_t **self_p);

/* What the daemon running on dir published: *out = a new object as above
   (the caller owns it) with "running": true, or {"running": false} when no
   daemon holds the directory. A daemon that has not published yet gives
   {"running": true} alone. 0, -ENOMEM, or -errno other than -ENOENT. */
int th_runfile_read(const char *dir, json_t **out);

#endif
