/*  daemon: loop, ZeroMQ context, signals, services. */
#include "daemon.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "runfile.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <zmq.h>

#define S_MAX_SERVICES 8

struct th_daemon {
    uv_loop_t loop;
    void *zctx;
    th_office_t *office;               /* borrowed */
    th_service_t svc[S_MAX_SERVICES];
    int nsvc;
    int started;                       /* services started so far */
    int stopping;
    uv_signal_t sig_term, sig_int, sig_hup;
    th_runfile_t *run;                 /* the claim on the data directory */
};

th_daemon_t *
th_daemon_new(th_office_t *o, int *err)
{
    th_daemon_t *d = th_calloc(1, sizeof *d);
    if (!d) {
        *err = -ENOMEM;
        return NULL;
    }
    int rc = uv_loop_init(&d->loop);
    if (rc < 0) {
        th_free(d);
        *err = rc;
        return NULL;
    }
    d->zctx = zmq_ctx_new();
    if (!d->zctx) {
        *err = -zmq_errno();
        uv_loop_close(&d->loop);
        th_free(d);
        return NULL;
    }
    d->office = o;
    return d;
}

int
th_daemon_add(th_daemon_t *d, const th_service_t *svc)
{
    if (d->nsvc >= S_MAX_SERVICES)
        return TH_E_LIMIT;
    d->svc[d->nsvc++] = *svc;
    return 0;
}

static void
s_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void
th_daemon_stop(th_daemon_t *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    th_log(TH_LOG_INFO, "daemon: stopping");
    for (int i = d->started - 1; i >= 0; i--)
        if (d->svc[i].stop)
            d->svc[i].stop(d->svc[i].self);
    uv_signal_stop(&d->sig_term);
    uv_signal_stop(&d->sig_int);
    uv_signal_stop(&d->sig_hup);
    /* Anything a service left open is closed so that the loop can end. */
    uv_walk(&d->loop, s_walk_close, NULL);
}

static void
s_on_signal(uv_signal_t *h, int signum)
{
    th_daemon_t *d = h->data;
    if (signum == SIGHUP) {
        char err[512];
        char path[PATH_MAX];
        th_config_t cfg;
        snprintf(path, sizeof path, "%s/tonghop.ini", d->office->dir);
        if (th_config_load(path, &cfg, err, sizeof err) == 0) {
            th_log_level = th_daemon_log_level(cfg.log_level);
            th_log(TH_LOG_WARN, "daemon: SIGHUP: log level reloaded; other changes "
                                "take effect at the next start");
        } else {
            th_log(TH_LOG_ERROR, "daemon: SIGHUP: configuration not reloaded: %s", err);
        }
        return;
    }
    th_log(TH_LOG_INFO, "daemon: signal %d", signum);
    th_daemon_stop(d);
}

int
th_daemon_log_level(int configured)
{
    th_log_level_t env;
    const char *e = getenv("TONGHOP_LOG");
    if (e && th_log_parse_level(e, &env) == 0)
        return (int)env;
    return configured > TH_LOG_INFO ? configured : TH_LOG_INFO;
}

int
th_daemon_publish(th_daemon_t *d, const char *name, const char *value)
{
    return d->run ? th_runfile_set(d->run, name, value) : 0;
}

/* Claims the data directory; logs why not. */
static int
s_claim(th_daemon_t *d)
{
    pid_t other = 0;
    int rc = th_runfile_claim(d->office->dir, &d->run, &other);
    if (rc == TH_E_BUSY && other > 0)
        th_log(TH_LOG_ERROR, "daemon: another daemon (pid %ld) already runs on %s; stop it "
               "first (systemctl stop, or kill %ld)", (long)other, d->office->dir, (long)other);
    else if (rc == TH_E_BUSY)
        th_log(TH_LOG_ERROR, "daemon: another daemon already runs on %s; stop it first",
               d->office->dir);
    else if (rc < 0)
        th_log(TH_LOG_ERROR, "daemon: cannot claim %s/%s: %s", d->office->dir,
               TH_RUNFILE_NAME, th_strerror(rc));
    return rc;
}

int
th_daemon_run(th_daemon_t *d)
{
    uv_signal_init(&d->loop, &d->sig_term);
    uv_signal_init(&d->loop, &d->sig_int);
    uv_signal_init(&d->loop, &d->sig_hup);
    d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
    uv_signal_start(&d->sig_term, s_on_signal, SIGTERM);
    uv_signal_start(&d->sig_int, s_on_signal, SIGINT);
    uv_signal_start(&d->sig_hup, s_on_signal, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    int rc = s_claim(d);
    for (int i = 0; rc == 0 && i < d->nsvc; i++) {
        rc = d->svc[i].start(d->svc[i].self, d);
        if (rc < 0) {
            th_log(TH_LOG_ERROR, "daemon: %s did not start: %s", d->svc[i].name,
                   th_strerror(rc));
            /* what it opened before failing is closed too: an open ZeroMQ
               socket would make zmq_ctx_term wait for ever */
            d->svc[i].stop(d->svc[i].self);
            break;
        }
        d->started++;
    }
    if (rc < 0) {
        th_daemon_stop(d);
    } else {
        int w = th_runfile_write(d->run);
        if (w < 0)
            th_log(TH_LOG_WARN, "daemon: cannot write %s/%s: %s", d->office->dir,
                   TH_RUNFILE_NAME, th_strerror(w));
        th_log(TH_LOG_INFO, "daemon: running for unit %s", d->office->cfg.unit);
    }
    uv_run(&d->loop, UV_RUN_DEFAULT);
    return rc;
}

void
th_daemon_destroy(th_daemon_t **self_p)
{
    th_daemon_t *d = *self_p;
    if (!d)
        return;
    if (!d->stopping)
        th_daemon_stop(d);
    uv_run(&d->loop, UV_RUN_DEFAULT);   /* let close callbacks run */
    uv_loop_close(&d->loop);
    zmq_ctx_term(d->zctx);
    th_runfile_release(&d->run);
    th_free(d);
    *self_p = NULL;
}

uv_loop_t *
th_daemon_loop(th_daemon_t *d)
{
    return &d->loop;
}

void *
th_daemon_zctx(th_daemon_t *d)
{
    return d->zctx;
}

th_office_t *
th_daemon_office(th_daemon_t *d)
{
    return d->office;
}
