/*  uplink: the office's link to its parent (DEALER, CURVE), as a daemon
    service.

    It sends the office's outgoing log (own submitted revisions, and at a
    hub the relayed entries of its children) upward and keeps one durable
    cursor, "uplink.acked": every entry up to it is held durably by the
    parent. On every (re)connection HELLO/WELCOME tells where the parent
    stands, so sending resumes exactly there; at most `window` entries are
    unacknowledged; an entry superseded by a newer submitted revision of
    the same report is skipped (the BATCH's `through` still moves the
    parent's cursor past it). No word from the parent for timeout_ms ends
    the connection; reconnection waits an exponentially growing, jittered
    delay. Link state and rejections are written to the store for
    `status`. Loop thread only. */
#ifndef TH_UPLINK_H
#define TH_UPLINK_H

#include "daemon.h"

/* state: the parent's clock minus this office's (ms, int64 as u64) at the
   last WELCOME, for `doctor` */
#define TH_UPLINK_CLOCK_OFFSET "link.clock_offset"

typedef struct th_uplink th_uplink_t;

/* NULL when the office has no parent (*err = TH_E_CONFIG) or on failure. */
th_uplink_t *th_uplink_new(th_office_t *o, int *err);
void th_uplink_destroy(th_uplink_t **self_p);
th_service_t th_uplink_service(th_uplink_t *u);
/* New entries in the log: send them now rather than at the next poll. */
void th_uplink_wake(th_uplink_t *u);
/* The same, in the shape of a callback (arg is the th_uplink_t *). */
void th_uplink_wake_cb(void *arg);

#endif
