/*  store: the LMDB store of one office, codec-agnostic.

    One LMDB environment per directory holds everything an office keeps:
    `reports` (key "form|period|unit" -> current revision), `revisions`
    (key + rev -> every revision ever stored, the audit trail), `log` (u64
    seq -> entry, the outgoing change feed the uplink sends), `state` (small
    named values: cursors, the schema version) and generic key/value tables
    for later modules (units, forms, peers, receipts, quarantine, meta).
    Records travel as opaque blobs: the store never decodes them. All access
    goes through th_store_write / th_store_read, which run a callback inside
    one transaction; a write returns 0 only after a durable commit, so a
    caller may acknowledge what it wrote as soon as th_store_write returns 0.
    The map grows by itself on MDB_MAP_FULL; readers left behind by killed
    processes are cleared at open. The daemon and a CLI call may use the
    same directory at the same time (LMDB's locks arbitrate).

    Threads: a th_store_t may be shared by threads; reads run in parallel,
    writes are serialised by LMDB (also across processes). A th_store_txn_t
    and every pointer obtained through it belong to the thread running the
    callback and die when the callback returns. A callback must not call
    th_store_write/th_store_read on any store (deadlock), nor keep a txn.
    Never fork while a callback runs; a child must open its own store. */
#ifndef TH_STORE_H
#define TH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct th_store th_store_t;
typedef struct th_store_txn th_store_txn_t;

/* Generic key/value tables (the fixed tables have their own functions). */
typedef enum {
    TH_DB_STATE = 0,
    TH_DB_UNITS,
    TH_DB_FORMS,
    TH_DB_PEERS,
    TH_DB_RECEIPTS,
    TH_DB_QUARANTINE,
    TH_DB_META
} th_store_db_t;

#define TH_STORE_SCHEMA   1u    /* value of state "schema" this code writes */
#define TH_STORE_KEY_MAX  128   /* keys must be shorter (bytes, without NUL) */

typedef struct {
    size_t map_size;   /* initial map size in bytes, 0 = 64 MiB; an existing
                          store that is already larger keeps its size */
    bool create;       /* create the directory (0700) and an empty store */
} th_store_opts_t;

/* Opens (or with opts->create, creates) the store in directory dir.
   opts may be NULL (64 MiB, no create). Clears reader slots left by dead
   processes (mdb_reader_check) and logs how many. Checks the schema version
   kept in state "schema".
   Errors (*err, when err is not NULL; NULL is returned):
     TH_E_NOTFOUND  dir holds no tonghop store and create is false (nothing
                    is created then);
     TH_E_SCHEMA    the store has another schema version, or LMDB's file
                    format differs (MDB_VERSION_MISMATCH);
     TH_E_CORRUPT   the files are not a valid LMDB environment;
     -EBUSY         this process already has this directory open;
     TH_E_INVALID   dir is NULL or empty;
     -ENOMEM, other -errno (e.g. -ENOENT when dir is missing and create is
                    false, -EACCES), TH_E_STORE for other LMDB failures.
   The caller owns the result; free it with th_store_destroy. */
th_store_t *th_store_open(const char *dir, const th_store_opts_t *opts, int *err);

/* Closes the environment and frees the store; NULLs *self_p; safe on NULL
   and twice. No callback may be running on it. */
void th_store_destroy(th_store_t **self_p);

/* Runs fn(txn, ctx) inside one write transaction and commits it.
   When LMDB reports MDB_MAP_FULL (inside fn or at commit) the transaction
   is aborted, the map size doubled and fn run again (at most 16 times), so
   fn must have no effect outside the store other than on ctx fields that
   every run rewrites. fn's non-zero return aborts the transaction (nothing
   is written) and is returned unchanged. Returns 0 only after the commit
   succeeded (durable: LMDB syncs on commit).
   Errors: fn's return; -ENOSPC when the map could not grow enough;
   TH_E_INVALID (s or fn NULL); the mapped LMDB error of begin/commit.
   Blocks while another thread or process holds the write transaction. */
int th_store_write(th_store_t *s, int (*fn)(th_store_txn_t *txn, void *ctx), void *ctx);

/* Same in a read-only transaction (a consistent snapshot). Pointers handed
   out inside are valid only until fn returns. Write functions called on a
   read transaction return TH_E_USAGE. */
int th_store_read(th_store_t *s, int (*fn)(th_store_txn_t *txn, void *ctx), void *ctx);

/* One revision of one report, as stored. */
typedef struct {
    const char *key;          /* "form|period|unit", NUL-terminated, < 128 bytes */
    uint32_t rev;             /* >= 1 */
    uint8_t status;           /* 0 draft, 1 submitted (stored as given) */
    int64_t received_at;      /* Unix ms; when this store got it (as given) */
    const uint8_t *blob;      /* signed record bytes */
    size_t len;
    bool seal;                /* th_store_put_revision only: the caller checked
                                 blob (strict decode and signature, or signed it
                                 here); store a seal (seal.h) so that readers may
                                 trust it without verifying again */
} th_store_rev_t;

/* Common errors of every function taking a txn and a key:
     TH_E_INVALID  NULL argument, empty key, blob NULL with len > 0;
     TH_E_LIMIT    key of TH_STORE_KEY_MAX bytes or more (or a prefix that
                   long), value too large for LMDB;
     TH_E_USAGE    a write function called in a read transaction;
     TH_E_CORRUPT  a stored value does not have the documented format, or
                   LMDB reports corruption;
     -ENOSPC       map full (th_store_write then grows the map and retries:
                   just return the error from fn);
     TH_E_STORE    other LMDB failure (logged).
   Once a write function failed with anything but TH_E_NOTFOUND, TH_E_STALE,
   TH_E_INVALID, TH_E_LIMIT or TH_E_USAGE, the transaction is dead: return
   the error from fn. Pointers in outputs (blob, key, val) point into the map
   or into the txn and are valid until fn returns, and in a write txn only
   until the next write; copy what must outlive it. Input blobs/values must
   not point into the map (copy a value read before writing it back).
   Walk callbacks (each_*, log_each, kv_each) must not write to the table
   being walked. */

/* Stores one revision: revisions[key|rev] and reports[key] = it.
   rev->rev must be greater than the current rev of key, else TH_E_STALE
   and nothing changes (rev 0 is TH_E_INVALID). If log_it, also appends a
   log entry (kind TH_LOG_KIND_RECORD, the same key, rev and blob) and puts
   its seq in *seq_out (seq_out may be NULL; *seq_out is 0 when !log_it). */
int th_store_put_revision(th_store_txn_t *txn, const th_store_rev_t *rev, bool log_it,
                          uint64_t *seq_out);

/* Whether revision r (as read by get_revision / each_revision in this
   txn) carries a seal that matches its key, number, status, reception time
   and bytes: then its writer checked exactly these bytes and a reader may
   skip verifying the signature. False for a revision stored without seal,
   altered since, or when the store runs without seals; never an error. */
bool th_store_revision_sealed(th_store_txn_t *txn, const th_store_rev_t *r);

/* The current revision of key into *out (out->key = key). TH_E_NOTFOUND. */
int th_store_get_current(th_store_txn_t *txn, const char *key, th_store_rev_t *out);

/* Revision rev of key into *out. TH_E_NOTFOUND. */
int th_store_get_revision(th_store_txn_t *txn, const char *key, uint32_t rev,
                          th_store_rev_t *out);

/* Revisions of one key in ascending rev (none: returns 0 without calling
   cb). cb returning non-zero stops the walk and is returned. */
int th_store_each_revision(th_store_txn_t *txn, const char *key,
                           int (*cb)(const th_store_rev_t *r, void *ctx), void *ctx);

/* Current reports whose key starts with prefix (e.g. "form|period|"; ""
   for all), in key (byte) order. r->key points to a NUL-terminated copy
   valid during the call. cb returning non-zero stops and is returned. */
int th_store_each_report(th_store_txn_t *txn, const char *prefix,
                         int (*cb)(const th_store_rev_t *r, void *ctx), void *ctx);

enum { TH_LOG_KIND_RECORD = 1, TH_LOG_KIND_ENROLL = 2, TH_LOG_KIND_REVOKE = 3,
       TH_LOG_KIND_ROTATE = 4 };

typedef struct {
    uint64_t seq;             /* 1, 2, ... never reused */
    uint8_t kind;             /* TH_LOG_KIND_* */
    const char *key;          /* NUL-terminated, valid during the call */
    uint32_t rev;
    const uint8_t *blob;
    size_t len;
} th_store_log_entry_t;

/* Appends an entry to the change feed with the next seq (last + 1, seqs
   are never reused) and puts it in *seq_out (may be NULL). key may be ""
   (kinds that have none). */
int th_store_log_append(th_store_txn_t *txn, uint8_t kind, const char *key, uint32_t rev,
                        const uint8_t *blob, size_t len, uint64_t *seq_out);

/* Highest seq ever appended into *seq; 0 when none. */
int th_store_log_last(th_store_txn_t *txn, uint64_t *seq);

/* Moves the log counter up to seq (nothing when it is there already), so
   that the next entry gets seq + 1: for a parent that holds seqs of ours
   this store never wrote (restored from an older backup, or the office's
   key used by another installation). Returns 0 or store errors. */
int th_store_log_skip(th_store_txn_t *txn, uint64_t seq);

/* Entries with seq > after in ascending seq; cb returning non-zero stops
   and is returned. */
int th_store_log_each(th_store_txn_t *txn, uint64_t after,
                      int (*cb)(const th_store_log_entry_t *e, void *ctx), void *ctx);

/* Generic tables: values are opaque bytes (len may be 0). kv_get's *val
   points into the map, valid until the transaction ends (fn returns).
   kv_get and kv_del return TH_E_NOTFOUND when key is absent. kv_each walks
   the keys starting with prefix ("" = all) in byte order; key is a
   NUL-terminated copy valid during the call; cb's non-zero return stops
   and is returned. The names "schema" and "store.*" in TH_DB_STATE are
   the store's own (schema version, log counter): do not write them. */
int th_store_kv_put(th_store_txn_t *txn, th_store_db_t db, const char *key,
                    const void *val, size_t len);
int th_store_kv_get(th_store_txn_t *txn, th_store_db_t db, const char *key,
                    const void **val, size_t *len);
int th_store_kv_del(th_store_txn_t *txn, th_store_db_t db, const char *key);
int th_store_kv_each(th_store_txn_t *txn, th_store_db_t db, const char *prefix,
                     int (*cb)(const char *key, const void *val, size_t len, void *ctx),
                     void *ctx);

/* Named u64 in TH_DB_STATE (8 bytes big-endian). get: absent -> *v = 0 and
   returns 0; a value of another length is TH_E_CORRUPT. */
int th_store_state_get_u64(th_store_txn_t *txn, const char *name, uint64_t *v);
int th_store_state_put_u64(th_store_txn_t *txn, const char *name, uint64_t v);

/* Current map size in bytes (grows on MDB_MAP_FULL); 0 when s is NULL. */
size_t th_store_map_size(th_store_t *s);

/* The id of the last committed write transaction: it changes whenever
   anything in the store changes (by this process or another); 0 when s is
   NULL or on error. What was computed from the store at one value holds
   while it stays. Thread-safe. */
uint64_t th_store_generation(th_store_t *s);

/* Clears reader slots of dead processes now (a daemon may call it from a
   timer); *cleared (may be NULL) gets how many. Returns 0 or the mapped
   LMDB error. Thread-safe. */
int th_store_reader_check(th_store_t *s, int *cleared);

/* How many stale reader slots th_store_open cleared. */
int th_store_stale_cleared(const th_store_t *s);

#endif
