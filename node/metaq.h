/*  metaq: what flows down to children (META items), and what this office
    learnt from above about its own reports (receipts, rejections).

    Each child has its own queue in the store's `meta` table, numbered from
    1; the child acknowledges with META_ACK and acknowledged items are
    deleted. A receipt ("received by unit X at T, rev N") is created by the
    office that applied a record and travels back down the path the record
    came up; a rejection by a parent is turned into a notice the same way.
    All functions work inside the caller's transaction.

    A parent's next key (kind KEY, blob = its 32-byte Ed25519 key, sent when
    it rotates its own) is kept in `state` TH_METAQ_NEXT_KEY as the 40 Z85
    characters of the [parent] key it replaces and the new key (32).

    A form (kind FORM, key = form id, blob = its source text) replaces
    the office's form of that id when its version is newer; "forms.gen" in
    `state` counts such changes so that a hub's collector passes them on.
    Unit lists (kind UNITS) likewise, counted by "units.gen"
    (th_metaq_sync_down).

    Layouts (store tables):
      meta      q|<child>|<seq %020>  kind(1) | keylen(1) | key | blob
      state     mq.<child>            last seq queued for that child (u64)
      receipts  r|<record key>|<by>   "rev at_ms"
                x|<record key>        "rev code reason"  (rejected above)
                t|<record key>        "rev at_ms by reason" (returned for
                                      correction; concerns that rev only) */
#ifndef TH_METAQ_H
#define TH_METAQ_H

#include <stdint.h>

#include "msg.h"
#include "office.h"

#define TH_METAQ_NEXT_KEY "uplink.next_key"
/* state: the Vietnamese notice kept when a unit list from above no longer
   has this office's unit (status shows it) */
#define TH_METAQ_UNITS_NOTICE "units.notice"

/* Appends an item for child; returns 0 (and *seq if not NULL) or store errors. */
int th_metaq_push(th_store_txn_t *txn, const char *child, uint8_t kind, const char *key,
                  const void *blob, size_t len, uint64_t *seq);
/* Adds to m (a META being built) the items of child after `after`, at most
   max; returns 0 or errors. The blobs point into the map: encode m inside
   the same transaction. */
int th_metaq_fill(th_store_txn_t *txn, const char *child, uint64_t after, size_t max,
                  th_msg_t *m);
/* Deletes the items of child up to upto. */
int th_metaq_ack(th_store_txn_t *txn, const char *child, uint64_t upto);
/* 1 when child acknowledged item seq (it is no longer queued), 0 when it
   waits, or store errors. */
int th_metaq_delivered(th_store_txn_t *txn, const char *child, uint64_t seq);
/* Last seq queued for child (0 if none). */
int th_metaq_head(th_store_txn_t *txn, const char *child, uint64_t *seq);

/* The direct child of unit `me` on the path down to `unit` in the tree in
   force on day; TH_E_NOTFOUND when unit is not below me. */
int th_metaq_path_child(const th_units_t *units, const char *me, const char *unit,
                        int32_t day, char child[TH_UNIT_MAX]);

/* The text kept in `receipts` under "<kind>|<record key>" (kind 't'
   returned, 'a' approved, 'x' rejected), NUL-terminated into buf.
   Returns 0, TH_E_NOTFOUND (absent, or longer than cap - 1), store errors. */
int th_metaq_receipt_text(th_store_txn_t *txn, char kind, const char *key, char *buf,
                          size_t cap);

/* Receipt blobs: "rev=N;by=UNIT;at=MS". */
int th_metaq_receipt_make(char *buf, size_t cap, uint32_t rev, const char *by, int64_t at);
int th_metaq_receipt_parse(const void *blob, size_t len, uint32_t *rev,
                           char by[TH_UNIT_MAX], int64_t *at);

/* Applies one META item addressed to this office (o): a receipt or notice
   about its own report is stored in `receipts`; one about a unit below a
   hub is queued for the child on its path. Unknown kinds are ignored (logged). */
int th_metaq_apply(th_store_txn_t *txn, th_office_t *o, const th_msg_meta_t *item);

/* Queues for child every form of this office newer than what was last
   queued for it (peers "fv:<child>:<form>"): forms flow from the root
   down, each hub passing on what it has. */
int th_metaq_sync_forms(th_store_txn_t *txn, th_office_t *o, const char *child);

/* th_metaq_sync_forms, and every unit list of this office whose version
   is newer than what was last queued for child (peers "uv:<child>:<set>";
   every office starts at version 1, as init made it): a list changed at
   the root (`units add`) flows down, each hub passing on what it has. An
   office applies a list (kind UNITS, key = set name, blob = be64 version,
   be32 valid_from, be32 valid_to, CSV) when its version is newer than its
   own, after checking it whole; when its own unit was in the set and is no
   longer, it keeps a notice (TH_METAQ_UNITS_NOTICE). */
int th_metaq_sync_down(th_store_txn_t *txn, th_office_t *o, const char *child);

/* Records that the parent rejected our log entry (key, rev): for our own
   report in `receipts`; for a relayed one as a notice to the child on the
   path. */
int th_metaq_rejected(th_store_txn_t *txn, th_office_t *o, const char *key, uint32_t rev,
                      int code, const char *reason);

#endif
