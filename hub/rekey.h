/*  rekey: a hub replaces its own key without losing its children or its
    parent (`tonghop-hub rekey`, docs/operations.md §3, protocol.md §9).

    With the daemon stopped, the command makes a new key (node/rotation.h
    keeps the old one as identity.prev) and, in the same transaction:
    - appends to the log a statement of the new key signed by the old one
      (enrollment.h, "THK1"): the parent, and every hub above, take the new
      key in place of the old; the parent still admits the old one until
      the hub connects with the new one;
    - queues for every direct child a META item with the new key: the child
      keeps it and tries it when the old key stops answering.
    The daemon then goes on with the old key on each link until the other
    side has the new one: the uplink until the parent acknowledged the
    statement (node/uplink.c), the collector until every direct child
    acknowledged the item; then the old key is deleted. What the hub signs
    from the rekey on (enrollments, revocations) is signed by the new key. */
#ifndef TH_REKEY_H
#define TH_REKEY_H

#include "cli.h"

/* The `rekey --dir D` command. */
int th_rekey_cmd(th_cli_opts_t *o, int argc, char **argv);

#endif
