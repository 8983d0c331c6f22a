/*  collector: the hub's side of its children's links (ROUTER, CURVE, ZAP),
    as a daemon service.

    The ZAP handler admits only CURVE clients whose key was enrolled
    (`enroll` writes the peers table; the handler reads it on every
    handshake, so an enrollment takes effect without a restart) and sets
    the connection's User-Id to the child's unit code: the collector trusts
    that, never a unit code written in a message. Each BATCH is ingested in
    one write transaction and acknowledged after the commit. Loop thread
    only. */
#ifndef TH_COLLECTOR_H
#define TH_COLLECTOR_H

#include "daemon.h"

typedef struct th_collector th_collector_t;

/* NULL when the office has no bind endpoint (*err = TH_E_CONFIG). */
th_collector_t *th_collector_new(th_office_t *o, int *err);
void th_collector_destroy(th_collector_t **self_p);
th_service_t th_collector_service(th_collector_t *c);
/* Called after entries were applied and appended to the log (to wake the
   uplink of a hub that has a parent). */
void th_collector_on_applied(th_collector_t *c, void (*cb)(void *arg), void *arg);

#endif
