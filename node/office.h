/*  office: one office's data directory, opened as a whole.

    A data directory D holds tonghop.ini (config), identity.key (the
    office's Ed25519 seed, mode 0600) and store/ (LMDB). The forms and the
    unit lists in force live in the store, so that what the root sends down
    later replaces them for every command at once. Every CLI command and the
    daemon open the directory through this module. Not thread-safe: one
    thread uses an office at a time (the store itself may be shared). */
#ifndef TH_OFFICE_H
#define TH_OFFICE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "crypto.h"
#include "forms.h"
#include "store.h"
#include "units.h"

typedef struct {
    char *dir;              /* owned copy of the directory path */
    th_config_t cfg;
    th_identity_t id;       /* signs; identity.key */
    th_identity_t prev;     /* with has_prev: the key being rotated out,
                               which the links still use (rotation.h) */
    bool has_prev;
    th_store_t *store;
    th_forms_t *forms;      /* parsed from the store */
    th_units_t *units;      /* parsed from the store */
    uint64_t units_gen;     /* "units.gen" of the store when units was read */
} th_office_t;

typedef struct {
    const char *dir;
    const char *unit;
    const char *parent_endpoint;   /* NULL/"" = root */
    const char *parent_key;        /* Z85, with parent_endpoint */
    const char *bind;              /* hubs: tcp://IP:PORT */
    const char *units_csv;         /* NULL = the built-in official lists */
    const char *forms_dir;         /* extra/overriding forms, NULL = none */
} th_office_init_t;

/* Creates a new data directory. dir must not exist or be empty. Writes the
   identity, the config and a store holding the forms (forms_dir first, then
   the built-in forms whose id it did not define) and the unit lists.
   The unit must exist in the unit lists. On failure everything this call
   created is removed, errbuf says what went wrong and what to do, and the
   return is negative (TH_E_CONFIG, TH_E_UNIT, TH_E_EXISTS, -errno...). */
int th_office_init(const th_office_init_t *opt, char *errbuf, size_t cap);

/* Opens an existing data directory. Returns NULL with *err and errbuf set
   (e.g. "'/x' is not a tonghop data directory (run init)"). */
th_office_t *th_office_open(const char *dir, char *errbuf, size_t cap, int *err);
void th_office_destroy(th_office_t **self_p);

/* The unit lists as the store keeps them: one value per set (key: the set
   name), its validity (inclusive days) and its CSV text, and its version
   ("uv.<set>" in state; 1 as init made it). get: *text points into the
   store, valid until txn ends; TH_E_NOTFOUND, TH_E_CORRUPT. put replaces
   the set at version (0: the next one, for a change made here; a list
   from the parent keeps the root's number) and counts up "units.gen", so
   that a running daemon re-reads the lists (th_office_reload_units) and a
   hub passes the new version on to its children (metaq). */
int th_office_units_set_get(th_store_txn_t *txn, const char *set, int32_t *from, int32_t *to,
                            const char **text, size_t *len);
int th_office_units_set_put(th_store_txn_t *txn, const char *set, int32_t from, int32_t to,
                            const char *text, size_t len, uint64_t version);
int th_office_units_version(th_store_txn_t *txn, const char *set, uint64_t *version);

/* Reads the unit lists again when the store's "units.gen" moved since
   they were read (a `units add` by another process): *changed tells.
   Every th_unit_t pointer obtained from o->units before a change becomes
   invalid. On error the lists in use stay and errbuf may say why. */
int th_office_reload_units(th_office_t *o, bool *changed, char *errbuf, size_t cap);

/* The form with this id, or NULL. Valid while the office is open. */
const th_form_t *th_office_form(const th_office_t *o, const char *id);

/* True when this office is a hub (config has a bind endpoint). */
bool th_office_is_hub(const th_office_t *o);

#endif
