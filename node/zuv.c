/*  zuv: uv_poll on ZMQ_FD, draining while ZMQ_EVENTS has ZMQ_POLLIN. */
#include "zuv.h"
#include "err.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <zmq.h>

struct th_zuv {
    uv_poll_t poll;      /* on ZMQ_FD */
    uv_timer_t kick;     /* deferred re-check after sends */
    void *sock;          /* borrowed ZeroMQ socket */
    th_zuv_cb cb;
    void *arg;
    int closing;         /* handles closed; freed when both callbacks ran */
    int closed;
};

static void
s_drain(th_zuv_t *z)
{
    /* Bounded per turn so one busy socket cannot starve the loop; the
       kick timer brings us back for the rest. */
    for (int n = 0; n < 1000 && !z->closing; n++) {
        int events = 0;
        size_t sz = sizeof events;
        if (zmq_getsockopt(z->sock, ZMQ_EVENTS, &events, &sz) != 0) {
            if (zmq_errno() != EINTR)
                th_log(TH_LOG_ERROR, "zuv: ZMQ_EVENTS: %s", zmq_strerror(zmq_errno()));
            return;
        }
        if (!(events & ZMQ_POLLIN))
            return;
        z->cb(z->sock, z->arg);
    }
    th_zuv_kick(z);
}

static void
s_on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    s_drain(h->data);
}

static void
s_on_kick(uv_timer_t *t)
{
    s_drain(t->data);
}

th_zuv_t *
th_zuv_new(uv_loop_t *loop, void *sock, th_zuv_cb on_readable, void *arg, int *err)
{
    th_zuv_t *z = th_calloc(1, sizeof *z);
    if (!z) {
        *err = -ENOMEM;
        return NULL;
    }
    z->sock = sock;
    z->cb = on_readable;
    z->arg = arg;
    int fd;
    size_t sz = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) != 0) {
        *err = -zmq_errno();
        th_free(z);
        return NULL;
    }
    int rc = uv_poll_init(loop, &z->poll, fd);
    if (rc < 0) {
        *err = rc;
        th_free(z);
        return NULL;
    }
    uv_timer_init(loop, &z->kick);
    z->poll.data = z;
    z->kick.data = z;
    uv_poll_start(&z->poll, UV_READABLE, s_on_poll);
    th_zuv_kick(z);   /* messages may already be waiting */
    return z;
}

void
th_zuv_kick(th_zuv_t *z)
{
    if (z && !z->closing)
        uv_timer_start(&z->kick, s_on_kick, 0, 0);
}

static void
s_on_close(uv_handle_t *h)
{
    th_zuv_t *z = h->data;
    if (++z->closed == 2)
        th_free(z);
}

void
th_zuv_destroy(th_zuv_t **self_p)
{
    th_zuv_t *z = *self_p;
    if (!z)
        return;
    z->closing = 1;
    uv_poll_stop(&z->poll);
    uv_timer_stop(&z->kick);
    uv_close((uv_handle_t *)&z->poll, s_on_close);
    uv_close((uv_handle_t *)&z->kick, s_on_close);
    *self_p = NULL;
}

int
th_zuv_send(th_zuv_t *z, const void *rid, size_t rid_len, const void *body, size_t len)
{
    int rc = 0;
    if (rid && zmq_send(z->sock, rid, rid_len, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0)
        rc = -zmq_errno();
    else if (zmq_send(z->sock, body, len, ZMQ_DONTWAIT) < 0)
        rc = -zmq_errno();
    th_zuv_kick(z);
    return rc;
}
