/*  daemon: the `run` command's process — one libuv loop in the main thread.

    The daemon owns the loop, the ZeroMQ context and the signal handling;
    the parts that talk (the uplink to the parent; at a hub the collector
    for children) register as services and only add handles to the loop.
    SIGTERM/SIGINT stop it cleanly: every service closes its sockets
    (a write transaction in progress has committed or aborted, since store
    calls never span loop turns), the loop drains, run returns 0. SIGHUP
    re-reads what can change without a restart (the log level). Loop
    thread only. */
#ifndef TH_DAEMON_H
#define TH_DAEMON_H

#include <uv.h>

#include "office.h"

typedef struct th_daemon th_daemon_t;

typedef struct {
    const char *name;
    /* Called once the loop and the ZeroMQ context exist; non-zero aborts run. */
    int (*start)(void *self, th_daemon_t *d);
    /* Close sockets and handles; called once, on stop, and also when start
       failed (so it must cope with a partial start). */
    void (*stop)(void *self);
    void *self;
} th_service_t;

/* o stays owned by the caller and must outlive the daemon. NULL on failure. */
th_daemon_t *th_daemon_new(th_office_t *o, int *err);
void th_daemon_destroy(th_daemon_t **self_p);

/* Registers a service (at most 8). Returns 0 or TH_E_LIMIT. */
int th_daemon_add(th_daemon_t *d, const th_service_t *svc);

/* Runs until SIGTERM/SIGINT or th_daemon_stop. First claims the data
   directory (runfile.h): TH_E_BUSY when another daemon runs on it, nothing
   started. Once every service has started, writes what they published to
   D/daemon.json. Returns 0, or the claim's or the first service start
   error. */
int th_daemon_run(th_daemon_t *d);
void th_daemon_stop(th_daemon_t *d);

/* For a service's start: records an address it really listens on (name
   "collector" or "web"; value copied), published once all have started.
   0, -ENOMEM, TH_E_LIMIT. */
int th_daemon_publish(th_daemon_t *d, const char *name, const char *value);

/* The log level of a running daemon: TONGHOP_LOG when set, else the
   configured [log] level but at least info (a service's life is logged).
   Used at start and on SIGHUP alike. */
int th_daemon_log_level(int configured);

uv_loop_t *th_daemon_loop(th_daemon_t *d);
void *th_daemon_zctx(th_daemon_t *d);
th_office_t *th_daemon_office(th_daemon_t *d);

#endif
