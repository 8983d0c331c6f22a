/*  zuv: a ZeroMQ socket driven by the libuv loop.

    ZMQ_FD is edge-triggered and only says "state changed": after every
    poll callback and after every send the socket's ZMQ_EVENTS must be read
    and the socket drained while it says ZMQ_POLLIN, or messages sit unread
    forever (DESIGN §10). This module is the one place that does it: it
    polls ZMQ_FD with uv_poll, and calls on_readable while ZMQ_EVENTS has
    ZMQ_POLLIN; th_zuv_kick schedules the same check on the next loop turn
    (call it after sending). Loop thread only. */
#ifndef TH_ZUV_H
#define TH_ZUV_H

#include <uv.h>

typedef struct th_zuv th_zuv_t;

/* Called with one message ready to be received (ZMQ_DONTWAIT); it should
   receive exactly one multipart message. */
typedef void (*th_zuv_cb)(void *sock, void *arg);

/* NULL on failure (*err = -errno or TH_E_*). sock stays owned by the caller
   and must outlive the zuv. */
th_zuv_t *th_zuv_new(uv_loop_t *loop, void *sock, th_zuv_cb on_readable, void *arg,
                     int *err);
/* Stops polling and frees after the loop released the handles. */
void th_zuv_destroy(th_zuv_t **self_p);
/* Re-checks ZMQ_EVENTS on the next loop iteration. */
void th_zuv_kick(th_zuv_t *z);

/* Sends [rid frame,] body frame without blocking, then kicks z (sending
   can consume the edge of ZMQ_FD). rid NULL for a DEALER. Returns 0,
   -EAGAIN (high-water mark: try later) or another -errno. */
int th_zuv_send(th_zuv_t *z, const void *rid, size_t rid_len, const void *body,
                size_t len);

#endif
