/*  store: tonghop's data on LMDB (see store.h for the contract).

    Stored formats (all integers big-endian, so that byte order = numeric
    order for keys and the files read the same on any machine):

      reports     key  = "form|period|unit" (bytes, no NUL, 1..127)
                  val  = u32 rev | u8 status | i64 received_at | blob
      revisions   key  = key bytes | 0x00 | u32 rev
                  val  = i64 received_at | u8 status | blob
                  The 0x00 separator keeps every revision of one key
                  contiguous and before any longer key sharing its prefix
                  ("a|b|1" < "a|b|10"), since keys never contain NUL.
      log         key  = u64 seq
                  val  = u8 kind | u32 rev | u8 keylen | key bytes | blob
      state       "schema"        = u64 TH_STORE_SCHEMA
                  "store.log_seq" = u64 highest seq ever appended, so that
                  seqs are never reused even if the log is pruned one day
                  other names: written by other modules (u64 or opaque)
      seals       key  = a revisions key, val = 16-byte tag (seal.h) of a
                  revision its writer checked; added to a store made
                  before it at the first open that may write
      units, forms, peers, receipts, quarantine, meta: key bytes -> opaque

    Map growth: th_store_write aborts on MDB_MAP_FULL, doubles the map and
    runs the callback again. mdb_env_set_mapsize may only run while this
    process has no transaction open, so every transaction holds a shared
    rwlock and the resize takes it exclusively. The same applies when
    another process grew the map (MDB_MAP_RESIZED at begin). */
#include "store.h"

#include "err.h"
#include "log.h"
#include "mem.h"
#include "openreg.h"
#include "seal.h"

#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define S_DEFAULT_MAP   ((size_t)64 << 20)
#define S_GROW_MAX      16      /* doublings per th_store_write */
#define S_RESIZED_MAX   8       /* MDB_MAP_RESIZED retries per begin */
#define S_REP_HDR       13      /* u32 rev, u8 status, i64 received_at */
#define S_REV_HDR       9       /* i64 received_at, u8 status */
#define S_LOG_HDR       6       /* u8 kind, u32 rev, u8 keylen */
#define S_BLOB_MAX      ((size_t)1 << 30)   /* far above any record */
#define S_SCHEMA_NAME   "schema"
#define S_LOGSEQ_NAME   "store.log_seq"

/* Internal table indexes: the generic ones first, equal to th_store_db_t. */
enum { S_REPORTS = TH_DB_META + 1, S_REVISIONS, S_LOG, S_SEALS, S_NDB };

static const char *const s_db_names[S_NDB] = {
    [TH_DB_STATE] = "state",         [TH_DB_UNITS] = "units",
    [TH_DB_FORMS] = "forms",         [TH_DB_PEERS] = "peers",
    [TH_DB_RECEIPTS] = "receipts",   [TH_DB_QUARANTINE] = "quarantine",
    [TH_DB_META] = "meta",           [S_REPORTS] = "reports",
    [S_REVISIONS] = "revisions",     [S_LOG] = "log",
    [S_SEALS] = "seals",
};

struct th_store {
    MDB_env *env;               /* owned; one per directory per process */
    MDB_dbi dbi[S_NDB];         /* handles, valid for the env's lifetime */
    bool sealing;               /* seal_key loaded and the seals table open */
    uint8_t seal_key[TH_SEAL_KEY_LEN];
    char *path;                 /* owned; realpath of the directory (registry key) */
    pthread_rwlock_t resize;    /* shared by each txn, exclusive to set the map size */
    int stale_cleared;          /* reader slots of dead processes cleared at open */
};

struct th_store_txn {
    th_store_t *s;              /* borrowed */
    MDB_txn *txn;               /* owned by th_store_write/read */
    bool write;                 /* false: read-only snapshot */
    bool map_full;              /* some operation hit MDB_MAP_FULL: grow and retry */
};

/* ------------------------------------------------------------------ */
/* Byte helpers */

static void
s_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}

static void
s_be64(uint8_t *p, uint64_t v)
{
    s_be32(p, (uint32_t)(v >> 32));
    s_be32(p + 4, (uint32_t)v);
}

static uint32_t
s_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
s_rd64(const uint8_t *p)
{
    return (uint64_t)s_rd32(p) << 32 | s_rd32(p + 4);
}

/* ------------------------------------------------------------------ */
/* Errors: the one place LMDB codes become project codes. */

static int
s_err(int mrc, const char *what)
{
    switch (mrc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return TH_E_NOTFOUND;
    case MDB_KEYEXIST: return TH_E_EXISTS;
    case MDB_MAP_FULL: return -ENOSPC;
    case MDB_BAD_VALSIZE: return TH_E_LIMIT;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
        th_log(TH_LOG_ERROR, "store: %s: %s", what, mdb_strerror(mrc));
        return TH_E_CORRUPT;
    case MDB_VERSION_MISMATCH:
        th_log(TH_LOG_INFO, "store: %s: %s", what, mdb_strerror(mrc));
        return TH_E_SCHEMA;
    default: break;
    }
    if (mrc > 0)
        return -mrc;
    th_log(TH_LOG_ERROR, "store: %s: %s", what, mdb_strerror(mrc));
    return TH_E_STORE;
}

/* Same, inside a transaction: remembers MAP_FULL for th_store_write. */
static int
s_txerr(th_store_txn_t *t, int mrc, const char *what)
{
    if (mrc == MDB_MAP_FULL)
        t->map_full = true;
    return s_err(mrc, what);
}

/* Key checks: 1..TH_STORE_KEY_MAX-1 bytes. */
static int
s_keylen(const char *key, bool allow_empty, size_t *len)
{
    if (!key)
        return TH_E_INVALID;
    size_t n = strnlen(key, TH_STORE_KEY_MAX);
    if (n >= TH_STORE_KEY_MAX)
        return TH_E_LIMIT;
    if (n == 0 && !allow_empty)
        return TH_E_INVALID;
    *len = n;
    return 0;
}

static int
s_check_txn(const th_store_txn_t *t, bool write)
{
    if (!t || !t->txn)
        return TH_E_INVALID;
    if (write && !t->write)
        return TH_E_USAGE;
    return 0;
}

static int
s_check_blob(const void *blob, size_t len)
{
    if (!blob && len)
        return TH_E_INVALID;
    if (len > S_BLOB_MAX)
        return TH_E_LIMIT;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Map size */

static size_t
s_mapsize(MDB_env *env)
{
    MDB_envinfo info;
    if (mdb_env_info(env, &info) != MDB_SUCCESS)
        return 0;
    return info.me_mapsize;
}

/* Sets the map size with no transaction of this process open; size 0
   adopts the size another process set. */
static int
s_set_mapsize(th_store_t *s, size_t size)
{
    pthread_rwlock_wrlock(&s->resize);
    int mrc = mdb_env_set_mapsize(s->env, size);
    size_t now = s_mapsize(s->env);
    pthread_rwlock_unlock(&s->resize);
    if (mrc != MDB_SUCCESS)
        return s_err(mrc, "set map size");
    th_log(TH_LOG_INFO, "store: map size of '%s' is now %zu bytes", s->path, now);
    return 0;
}

/* Doubles the map that was too small (seen: its size when the failed
   transaction began), unless another thread grew it meanwhile. */
static int
s_grow(th_store_t *s, size_t seen)
{
    pthread_rwlock_wrlock(&s->resize);
    size_t cur = s_mapsize(s->env);
    int mrc = MDB_SUCCESS;
    if (cur == 0 || cur > SIZE_MAX / 2) {
        pthread_rwlock_unlock(&s->resize);
        return -ENOSPC;
    }
    if (cur <= seen)
        mrc = mdb_env_set_mapsize(s->env, cur * 2);
    cur = s_mapsize(s->env);
    pthread_rwlock_unlock(&s->resize);
    if (mrc != MDB_SUCCESS)
        return s_err(mrc, "grow map");
    th_log(TH_LOG_INFO, "store: map of '%s' grown to %zu bytes", s->path, cur);
    return 0;
}

/* Begins a transaction holding the shared resize lock (released by
   s_unlock). Adopts a map grown by another process, and clears dead readers
   once when the reader table is full. */
static int
s_begin(th_store_t *s, bool write, MDB_txn **txn)
{
    bool checked = false;
    for (int i = 0;; i++) {
        pthread_rwlock_rdlock(&s->resize);
        int mrc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
        if (mrc == MDB_SUCCESS)
            return 0;
        pthread_rwlock_unlock(&s->resize);
        if (mrc == MDB_MAP_RESIZED && i < S_RESIZED_MAX) {
            int rc = s_set_mapsize(s, 0);
            if (rc < 0)
                return rc;
            continue;
        }
        if (mrc == MDB_READERS_FULL && !checked) {
            checked = true;
            int dead = 0;
            mdb_reader_check(s->env, &dead);
            if (dead > 0)
                continue;
        }
        return s_err(mrc, write ? "begin write transaction" : "begin read transaction");
    }
}

static void
s_unlock(th_store_t *s)
{
    pthread_rwlock_unlock(&s->resize);
}

/* ------------------------------------------------------------------ */
/* Open / close */

static int
s_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *v, bool *found)
{
    MDB_val k = { strlen(name), (void *)name }, d;
    int mrc = mdb_get(txn, dbi, &k, &d);
    *found = false;
    *v = 0;
    if (mrc == MDB_NOTFOUND)
        return 0;
    if (mrc != MDB_SUCCESS)
        return s_err(mrc, "read state");
    if (d.mv_size != 8)
        return TH_E_CORRUPT;
    *found = true;
    *v = s_rd64(d.mv_data);
    return 0;
}

/* Opens every table; with create, creates them and writes the schema
   version into a new store. Without create, opens nothing unless the
   schema says this is our store. */
static int
s_open_dbs(th_store_t *s, bool create, bool *seals_missing)
{
    *seals_missing = false;
    MDB_txn *txn = NULL;
    int rc = s_begin(s, create, &txn);
    if (rc < 0)
        return rc;
    int mrc = mdb_dbi_open(txn, s_db_names[TH_DB_STATE], create ? MDB_CREATE : 0,
                           &s->dbi[TH_DB_STATE]);
    if (mrc == MDB_NOTFOUND || mrc == MDB_INCOMPATIBLE) {
        rc = TH_E_NOTFOUND;
        goto fail;
    }
    if (mrc != MDB_SUCCESS) {
        rc = s_err(mrc, "open table state");
        goto fail;
    }
    uint64_t schema;
    bool found;
    if ((rc = s_get_u64(txn, s->dbi[TH_DB_STATE], S_SCHEMA_NAME, &schema, &found)) < 0) {
        if (rc == TH_E_CORRUPT)
            rc = TH_E_SCHEMA;
        goto fail;
    }
    if (found && schema != TH_STORE_SCHEMA) {
        /* INFO: the caller reports the failure; CLIs print one line. */
        th_log(TH_LOG_INFO, "store: '%s' has schema version %llu, this program knows %u",
               s->path, (unsigned long long)schema, TH_STORE_SCHEMA);
        rc = TH_E_SCHEMA;
        goto fail;
    }
    if (!found && !create) {
        th_log(TH_LOG_INFO, "store: '%s' is not a tonghop store", s->path);
        rc = TH_E_NOTFOUND;
        goto fail;
    }
    for (int i = 0; i < S_NDB; i++) {
        if (i == TH_DB_STATE)
            continue;
        mrc = mdb_dbi_open(txn, s_db_names[i], create ? MDB_CREATE : 0, &s->dbi[i]);
        if (i == S_SEALS && mrc == MDB_NOTFOUND) {
            *seals_missing = true;   /* a store made before seals */
            continue;
        }
        if (mrc != MDB_SUCCESS) {
            /* A schema-v1 store has every table: a missing one is damage. */
            rc = mrc == MDB_NOTFOUND ? TH_E_CORRUPT : s_err(mrc, "open table");
            th_log(TH_LOG_ERROR, "store: table '%s' of '%s': %s", s_db_names[i], s->path,
                   th_strerror(rc));
            goto fail;
        }
    }
    if (!found) {
        uint8_t buf[8];
        s_be64(buf, TH_STORE_SCHEMA);
        MDB_val k = { strlen(S_SCHEMA_NAME), (void *)S_SCHEMA_NAME }, d = { 8, buf };
        if ((mrc = mdb_put(txn, s->dbi[TH_DB_STATE], &k, &d, 0)) != MDB_SUCCESS) {
            rc = s_err(mrc, "write schema");
            goto fail;
        }
    }
    /* Committing a read transaction too: it keeps the table handles. */
    mrc = mdb_txn_commit(txn);
    s_unlock(s);
    return s_err(mrc, "commit table creation");
fail:
    mdb_txn_abort(txn);
    s_unlock(s);
    return rc;
}

/* Sealing is an optimisation: without it (no seal.key can be read or
   made, or the table cannot be added) every revision read is verified. */
static void
s_open_seals(th_store_t *s, bool missing)
{
    int rc = th_seal_key_load(s->path, s->seal_key);
    if (rc == 0 && missing) {
        MDB_txn *txn = NULL;
        if ((rc = s_begin(s, true, &txn)) == 0) {
            int mrc = mdb_dbi_open(txn, s_db_names[S_SEALS], MDB_CREATE, &s->dbi[S_SEALS]);
            if (mrc == MDB_SUCCESS)
                mrc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
            s_unlock(s);
            rc = s_err(mrc, "add table seals");
        }
    }
    s->sealing = rc == 0;
    if (rc < 0)
        th_log(TH_LOG_WARN, "store: '%s' without seals (every revision read is verified "
               "again): %s", s->path, th_strerror(rc));
}

th_store_t *
th_store_open(const char *dir, const th_store_opts_t *opts, int *err)
{
    int rc, mrc;
    int dummy;
    if (!err)
        err = &dummy;
    if (!dir || !*dir) {
        *err = TH_E_INVALID;
        return NULL;
    }
    bool create = opts && opts->create;
    size_t map = opts && opts->map_size ? opts->map_size : S_DEFAULT_MAP;
    char file[PATH_MAX], real[PATH_MAX];
    struct stat st;

    if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
        *err = -errno;
        return NULL;
    }
    if (stat(dir, &st) < 0) {
        *err = -errno;
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        *err = -ENOTDIR;
        return NULL;
    }
    if (!realpath(dir, real)) {
        *err = -errno;
        return NULL;
    }
    if (snprintf(file, sizeof file, "%s/data.mdb", real) >= (int)sizeof file) {
        *err = -ENAMETOOLONG;
        return NULL;
    }
    /* Without create, leave a directory that holds no store untouched:
       mdb_env_open would create empty files there. */
    bool fresh = stat(file, &st) < 0;
    if (fresh && (!create || errno != ENOENT)) {
        *err = errno == ENOENT ? TH_E_NOTFOUND : -errno;
        return NULL;
    }

    th_store_t *s = th_calloc(1, sizeof *s);
    if (!s) {
        *err = -ENOMEM;
        return NULL;
    }
    if (!(s->path = th_strdup(real))) {
        th_free(s);
        *err = -ENOMEM;
        return NULL;
    }
    if ((rc = th_openreg_add(real)) < 0) {
        th_free(s->path);
        th_free(s);
        *err = rc;
        return NULL;
    }
    /* Writer preference: readers that never pause (web threads) would
       otherwise starve a resize forever. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    rc = -pthread_rwlock_init(&s->resize, &ra);
    pthread_rwlockattr_destroy(&ra);
    if (rc < 0) {
        th_openreg_remove(real);
        th_free(s->path);
        th_free(s);
        *err = rc;
        return NULL;
    }

    if ((mrc = mdb_env_create(&s->env)) != MDB_SUCCESS) {
        rc = s_err(mrc, "create environment");
        goto fail;
    }
    if ((mrc = mdb_env_set_maxdbs(s->env, S_NDB + 4)) != MDB_SUCCESS) {
        rc = s_err(mrc, "set max tables");
        goto fail;
    }
    /* An existing store's map size is raised after opening only: set
       before, it would shrink a map another process has grown (LMDB then
       keeps just the data size). */
    if (fresh && (mrc = mdb_env_set_mapsize(s->env, map)) != MDB_SUCCESS) {
        rc = s_err(mrc, "set map size");
        goto fail;
    }
    mrc = mdb_env_open(s->env, real, MDB_NOTLS, 0600);
    if (mrc != MDB_SUCCESS) {
        rc = s_err(mrc, "open environment");
        goto fail;
    }
    if (s_mapsize(s->env) < map && (mrc = mdb_env_set_mapsize(s->env, map)) != MDB_SUCCESS) {
        rc = s_err(mrc, "set map size");
        goto fail;
    }
    int dead = 0;
    if ((mrc = mdb_reader_check(s->env, &dead)) != MDB_SUCCESS) {
        rc = s_err(mrc, "check readers");
        goto fail;
    }
    s->stale_cleared = dead;
    th_log(dead > 0 ? TH_LOG_WARN : TH_LOG_DEBUG,
           "store: cleared %d stale reader slot(s) in '%s'", dead, real);
    bool seals_missing;
    if ((rc = s_open_dbs(s, create, &seals_missing)) < 0)
        goto fail;
    s_open_seals(s, seals_missing);
    th_log(TH_LOG_DEBUG, "store: opened '%s' (map %zu bytes)", real, s_mapsize(s->env));
    *err = 0;
    return s;
fail:
    if (s->env)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->resize);
    th_openreg_remove(real);
    th_free(s->path);
    th_free(s);
    *err = rc;
    return NULL;
}

void
th_store_destroy(th_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    th_store_t *s = *self_p;
    mdb_env_close(s->env);
    sodium_memzero(s->seal_key, sizeof s->seal_key);
    pthread_rwlock_destroy(&s->resize);
    th_openreg_remove(s->path);
    th_free(s->path);
    th_free(s);
    *self_p = NULL;
}

size_t
th_store_map_size(th_store_t *s)
{
    return s ? s_mapsize(s->env) : 0;
}

uint64_t
th_store_generation(th_store_t *s)
{
    MDB_envinfo info;
    if (!s || mdb_env_info(s->env, &info) != 0)
        return 0;
    return (uint64_t)info.me_last_txnid;
}

int
th_store_reader_check(th_store_t *s, int *cleared)
{
    if (!s)
        return TH_E_INVALID;
    int dead = 0;
    int mrc = mdb_reader_check(s->env, &dead);
    if (cleared)
        *cleared = dead;
    if (dead > 0)
        th_log(TH_LOG_WARN, "store: cleared %d stale reader slot(s) in '%s'", dead, s->path);
    return s_err(mrc, "check readers");
}

int
th_store_stale_cleared(const th_store_t *s)
{
    return s ? s->stale_cleared : 0;
}

/* ------------------------------------------------------------------ */
/* Transactions */

/* A commit that failed writing (LMDB reports a short write as EIO, a full
   disk as ENOSPC, a quota as EDQUOT) on a filesystem with almost nothing
   left: the disk is full. Nothing of the transaction is visible (LMDB
   writes the meta page last), and the next commit works once space is
   back. */
#define S_DISK_LOW (8u * 1024u * 1024u)
static bool
s_disk_full(const th_store_t *s, int mrc)
{
    if (mrc != EIO && mrc != ENOSPC && mrc != EDQUOT)
        return false;
    struct statvfs v;
    if (statvfs(s->path, &v) != 0)
        return mrc == ENOSPC;
    bool low = (uint64_t)v.f_bavail * v.f_frsize < S_DISK_LOW;
    if (low)
        th_log(TH_LOG_ERROR, "store: the disk of %s is full (%llu KiB free): nothing written",
               s->path, (unsigned long long)((uint64_t)v.f_bavail * v.f_frsize / 1024));
    return low || mrc == ENOSPC || mrc == EDQUOT;
}

int
th_store_write(th_store_t *s, int (*fn)(th_store_txn_t *txn, void *ctx), void *ctx)
{
    if (!s || !fn)
        return TH_E_INVALID;
    for (int attempt = 0;; attempt++) {
        th_store_txn_t t = { .s = s, .write = true };
        int rc = s_begin(s, true, &t.txn);
        if (rc < 0)
            return rc;
        size_t seen = s_mapsize(s->env);   /* stable: we hold the resize lock */
        rc = fn(&t, ctx);
        if (t.map_full) {
            mdb_txn_abort(t.txn);
            s_unlock(s);
        } else if (rc != 0) {
            mdb_txn_abort(t.txn);
            s_unlock(s);
            return rc;
        } else {
            int mrc = mdb_txn_commit(t.txn);   /* frees the txn whatever happens */
            s_unlock(s);
            if (mrc != MDB_MAP_FULL && mrc != MDB_SUCCESS && s_disk_full(s, mrc))
                return TH_E_DISKFULL;
            if (mrc != MDB_MAP_FULL)
                return s_err(mrc, "commit");
        }
        if (attempt >= S_GROW_MAX)
            return -ENOSPC;
        if ((rc = s_grow(s, seen)) < 0)
            return rc;
    }
}

int
th_store_read(th_store_t *s, int (*fn)(th_store_txn_t *txn, void *ctx), void *ctx)
{
    if (!s || !fn)
        return TH_E_INVALID;
    th_store_txn_t t = { .s = s, .write = false };
    int rc = s_begin(s, false, &t.txn);
    if (rc < 0)
        return rc;
    rc = fn(&t, ctx);
    mdb_txn_abort(t.txn);
    s_unlock(s);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reports and revisions */

static int
s_decode_report(const MDB_val *d, const char *key, th_store_rev_t *out)
{
    if (d->mv_size < S_REP_HDR)
        return TH_E_CORRUPT;
    const uint8_t *p = d->mv_data;
    out->key = key;
    out->rev = s_rd32(p);
    out->status = p[4];
    out->received_at = (int64_t)s_rd64(p + 5);
    out->blob = p + S_REP_HDR;
    out->len = d->mv_size - S_REP_HDR;
    return 0;
}

static int
s_decode_revision(const MDB_val *d, const char *key, uint32_t rev, th_store_rev_t *out)
{
    if (d->mv_size < S_REV_HDR)
        return TH_E_CORRUPT;
    const uint8_t *p = d->mv_data;
    out->key = key;
    out->rev = rev;
    out->received_at = (int64_t)s_rd64(p);
    out->status = p[8];
    out->blob = p + S_REV_HDR;
    out->len = d->mv_size - S_REV_HDR;
    return 0;
}

/* revisions key: key | 0x00 | u32 rev; buf holds TH_STORE_KEY_MAX + 5. */
static size_t
s_rev_key(uint8_t *buf, const char *key, size_t klen, uint32_t rev)
{
    memcpy(buf, key, klen);
    buf[klen] = 0;
    s_be32(buf + klen + 1, rev);
    return klen + 5;
}

int
th_store_put_revision(th_store_txn_t *txn, const th_store_rev_t *rev, bool log_it,
                      uint64_t *seq_out)
{
    int rc;
    size_t klen;
    if (seq_out)
        *seq_out = 0;
    if ((rc = s_check_txn(txn, true)) < 0)
        return rc;
    if (!rev)
        return TH_E_INVALID;
    if ((rc = s_keylen(rev->key, false, &klen)) < 0 ||
        (rc = s_check_blob(rev->blob, rev->len)) < 0)
        return rc;
    if (rev->rev == 0)
        return TH_E_INVALID;

    th_store_t *s = txn->s;
    MDB_val k = { klen, (void *)rev->key }, d;
    int mrc = mdb_get(txn->txn, s->dbi[S_REPORTS], &k, &d);
    if (mrc == MDB_SUCCESS) {
        th_store_rev_t cur;
        if ((rc = s_decode_report(&d, rev->key, &cur)) < 0)
            return rc;
        if (rev->rev <= cur.rev)
            return TH_E_STALE;
    } else if (mrc != MDB_NOTFOUND) {
        return s_txerr(txn, mrc, "read report");
    }

    /* MDB_RESERVE: LMDB hands out the space and we write header and blob
       straight into it, with no temporary buffer. */
    uint8_t rk[TH_STORE_KEY_MAX + 5];
    MDB_val k2 = { s_rev_key(rk, rev->key, klen, rev->rev), rk };
    d.mv_size = S_REV_HDR + rev->len;
    mrc = mdb_put(txn->txn, s->dbi[S_REVISIONS], &k2, &d, MDB_NOOVERWRITE | MDB_RESERVE);
    if (mrc == MDB_KEYEXIST) {
        /* Unreachable while reports and revisions agree. */
        th_log(TH_LOG_ERROR, "store: revision %u of '%s' exists above the current one",
               rev->rev, rev->key);
        return TH_E_CORRUPT;
    }
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "write revision");
    uint8_t *p = d.mv_data;
    s_be64(p, (uint64_t)rev->received_at);
    p[8] = rev->status;
    if (rev->len)
        memcpy(p + S_REV_HDR, rev->blob, rev->len);
    if (rev->seal && s->sealing) {
        uint8_t tag[TH_SEAL_TAG_LEN];
        th_seal_tag(s->seal_key, rk, k2.mv_size, p, S_REV_HDR, rev->blob, rev->len, tag);
        MDB_val sv = { sizeof tag, tag };
        if ((mrc = mdb_put(txn->txn, s->dbi[S_SEALS], &k2, &sv, 0)) != MDB_SUCCESS)
            return s_txerr(txn, mrc, "write seal");
    }

    d.mv_size = S_REP_HDR + rev->len;
    if ((mrc = mdb_put(txn->txn, s->dbi[S_REPORTS], &k, &d, MDB_RESERVE)) != MDB_SUCCESS)
        return s_txerr(txn, mrc, "write report");
    p = d.mv_data;
    s_be32(p, rev->rev);
    p[4] = rev->status;
    s_be64(p + 5, (uint64_t)rev->received_at);
    if (rev->len)
        memcpy(p + S_REP_HDR, rev->blob, rev->len);

    if (log_it)
        return th_store_log_append(txn, TH_LOG_KIND_RECORD, rev->key, rev->rev, rev->blob,
                                   rev->len, seq_out);
    return 0;
}

bool
th_store_revision_sealed(th_store_txn_t *txn, const th_store_rev_t *r)
{
    size_t klen;
    if (s_check_txn(txn, false) < 0 || !r || !txn->s->sealing ||
        s_keylen(r->key, false, &klen) < 0)
        return false;
    uint8_t rk[TH_STORE_KEY_MAX + 5], hdr[S_REV_HDR], tag[TH_SEAL_TAG_LEN];
    MDB_val k = { s_rev_key(rk, r->key, klen, r->rev), rk }, d;
    if (mdb_get(txn->txn, txn->s->dbi[S_SEALS], &k, &d) != MDB_SUCCESS ||
        d.mv_size != TH_SEAL_TAG_LEN)
        return false;
    s_be64(hdr, (uint64_t)r->received_at);
    hdr[8] = r->status;
    th_seal_tag(txn->s->seal_key, rk, k.mv_size, hdr, sizeof hdr, r->blob, r->len, tag);
    return sodium_memcmp(tag, d.mv_data, sizeof tag) == 0;
}

int
th_store_get_current(th_store_txn_t *txn, const char *key, th_store_rev_t *out)
{
    int rc;
    size_t klen;
    if ((rc = s_check_txn(txn, false)) < 0)
        return rc;
    if (!out)
        return TH_E_INVALID;
    if ((rc = s_keylen(key, false, &klen)) < 0)
        return rc;
    MDB_val k = { klen, (void *)key }, d;
    int mrc = mdb_get(txn->txn, txn->s->dbi[S_REPORTS], &k, &d);
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "read report");
    return s_decode_report(&d, key, out);
}

int
th_store_get_revision(th_store_txn_t *txn, const char *key, uint32_t rev, th_store_rev_t *out)
{
    int rc;
    size_t klen;
    if ((rc = s_check_txn(txn, false)) < 0)
        return rc;
    if (!out)
        return TH_E_INVALID;
    if ((rc = s_keylen(key, false, &klen)) < 0)
        return rc;
    uint8_t rk[TH_STORE_KEY_MAX + 5];
    MDB_val k = { s_rev_key(rk, key, klen, rev), rk }, d;
    int mrc = mdb_get(txn->txn, txn->s->dbi[S_REVISIONS], &k, &d);
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "read revision");
    return s_decode_revision(&d, key, rev, out);
}

int
th_store_each_revision(th_store_txn_t *txn, const char *key,
                       int (*cb)(const th_store_rev_t *r, void *ctx), void *ctx)
{
    int rc;
    size_t klen;
    if ((rc = s_check_txn(txn, false)) < 0)
        return rc;
    if (!cb)
        return TH_E_INVALID;
    if ((rc = s_keylen(key, false, &klen)) < 0)
        return rc;
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn->txn, txn->s->dbi[S_REVISIONS], &cur);
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "open cursor");
    uint8_t rk[TH_STORE_KEY_MAX + 5];
    MDB_val k = { s_rev_key(rk, key, klen, 0), rk }, d;
    rc = 0;
    for (mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); mrc == MDB_SUCCESS;
         mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data;
        if (k.mv_size != klen + 5 || memcmp(kp, key, klen) != 0 || kp[klen] != 0)
            break;
        th_store_rev_t r;
        if ((rc = s_decode_revision(&d, key, s_rd32(kp + klen + 1), &r)) < 0 ||
            (rc = cb(&r, ctx)) != 0)
            break;
    }
    if (rc == 0 && mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND)
        rc = s_txerr(txn, mrc, "walk revisions");
    mdb_cursor_close(cur);
    return rc;
}

/* Walks the keys of dbi starting with prefix; each_fn gets a NUL-terminated
   copy of the key. Shared by each_report and kv_each. */
typedef int (*s_walk_fn)(const char *key, const MDB_val *d, void *arg);

static int
s_walk_prefix(th_store_txn_t *txn, MDB_dbi dbi, const char *prefix, s_walk_fn fn, void *arg)
{
    int rc;
    size_t plen;
    if ((rc = s_check_txn(txn, false)) < 0)
        return rc;
    if (!prefix)
        prefix = "";
    if ((rc = s_keylen(prefix, true, &plen)) < 0)
        return rc;
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn->txn, dbi, &cur);
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "open cursor");
    MDB_val k = { plen, (void *)prefix }, d;
    rc = 0;
    /* LMDB rejects an empty key for MDB_SET_RANGE. */
    for (mrc = mdb_cursor_get(cur, &k, &d, plen ? MDB_SET_RANGE : MDB_FIRST);
         mrc == MDB_SUCCESS; mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (k.mv_size >= TH_STORE_KEY_MAX) {
            rc = TH_E_CORRUPT;
            break;
        }
        char kbuf[TH_STORE_KEY_MAX];
        memcpy(kbuf, k.mv_data, k.mv_size);
        kbuf[k.mv_size] = '\0';
        if ((rc = fn(kbuf, &d, arg)) != 0)
            break;
    }
    if (rc == 0 && mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND)
        rc = s_txerr(txn, mrc, "walk table");
    mdb_cursor_close(cur);
    return rc;
}

typedef struct {
    int (*cb)(const th_store_rev_t *r, void *ctx);
    void *ctx;
} s_report_walk_t;

static int
s_report_step(const char *key, const MDB_val *d, void *arg)
{
    s_report_walk_t *w = arg;
    th_store_rev_t r;
    int rc = s_decode_report(d, key, &r);
    return rc < 0 ? rc : w->cb(&r, w->ctx);
}

int
th_store_each_report(th_store_txn_t *txn, const char *prefix,
                     int (*cb)(const th_store_rev_t *r, void *ctx), void *ctx)
{
    if (!cb)
        return TH_E_INVALID;
    if (s_check_txn(txn, false) < 0)
        return TH_E_INVALID;
    s_report_walk_t w = { cb, ctx };
    return s_walk_prefix(txn, txn->s->dbi[S_REPORTS], prefix, s_report_step, &w);
}

/* ------------------------------------------------------------------ */
/* Log */

static int
s_put_u64(th_store_txn_t *txn, MDB_dbi dbi, const char *name, size_t nlen, uint64_t v)
{
    uint8_t buf[8];
    s_be64(buf, v);
    MDB_val k = { nlen, (void *)name }, d = { 8, buf };
    int mrc = mdb_put(txn->txn, dbi, &k, &d, 0);
    return mrc == MDB_SUCCESS ? 0 : s_txerr(txn, mrc, "write state");
}

int
th_store_log_last(th_store_txn_t *txn, uint64_t *seq)
{
    int rc;
    if ((rc = s_check_txn(txn, false)) < 0)
        return rc;
    if (!seq)
        return TH_E_INVALID;
    bool found;
    return s_get_u64(txn->txn, txn->s->dbi[TH_DB_STATE], S_LOGSEQ_NAME, seq, &found);
}

int
th_store_log_skip(th_store_txn_t *txn, uint64_t seq)
{
    int rc;
    uint64_t last;
    if ((rc = s_check_txn(txn, true)) < 0 || (rc = th_store_log_last(txn, &last)) < 0)
        return rc;
    if (seq <= last)
        return 0;
    return s_put_u64(txn, txn->s->dbi[TH_DB_STATE], S_LOGSEQ_NAME, strlen(S_LOGSEQ_NAME), seq);
}

int
th_store_log_append(th_store_txn_t *txn, uint8_t kind, const char *key, uint32_t rev,
                    const uint8_t *blob, size_t len, uint64_t *seq_out)
{
    int rc;
    size_t klen;
    uint64_t last;
    if (seq_out)
        *seq_out = 0;
    if ((rc = s_check_txn(txn, true)) < 0)
        return rc;
    if ((rc = s_keylen(key, true, &klen)) < 0 || (rc = s_check_blob(blob, len)) < 0)
        return rc;
    if ((rc = th_store_log_last(txn, &last)) < 0)
        return rc;
    if (last == UINT64_MAX)
        return TH_E_LIMIT;
    uint64_t seq = last + 1;
    uint8_t kb[8];
    s_be64(kb, seq);
    MDB_val k = { 8, kb }, d = { S_LOG_HDR + klen + len, NULL };
    /* MDB_APPEND: seqs only grow, so LMDB can fill pages completely. */
    int mrc = mdb_put(txn->txn, txn->s->dbi[S_LOG], &k, &d, MDB_APPEND | MDB_RESERVE);
    if (mrc == MDB_KEYEXIST) {
        th_log(TH_LOG_ERROR, "store: log holds entries past its counter (%llu)",
               (unsigned long long)last);
        return TH_E_CORRUPT;
    }
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "append log entry");
    uint8_t *p = d.mv_data;
    p[0] = kind;
    s_be32(p + 1, rev);
    p[5] = (uint8_t)klen;
    memcpy(p + S_LOG_HDR, key, klen);
    if (len)
        memcpy(p + S_LOG_HDR + klen, blob, len);
    if ((rc = s_put_u64(txn, txn->s->dbi[TH_DB_STATE], S_LOGSEQ_NAME, strlen(S_LOGSEQ_NAME),
                        seq)) < 0)
        return rc;
    if (seq_out)
        *seq_out = seq;
    return 0;
}

int
th_store_log_each(th_store_txn_t *txn, uint64_t after,
                  int (*cb)(const th_store_log_entry_t *e, void *ctx), void *ctx)
{
    int rc;
    if ((rc = s_check_txn(txn, false)) < 0)
        return rc;
    if (!cb)
        return TH_E_INVALID;
    if (after == UINT64_MAX)
        return 0;
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn->txn, txn->s->dbi[S_LOG], &cur);
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "open cursor");
    uint8_t kb[8];
    s_be64(kb, after + 1);
    MDB_val k = { 8, kb }, d;
    rc = 0;
    for (mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); mrc == MDB_SUCCESS;
         mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const uint8_t *p = d.mv_data;
        if (k.mv_size != 8 || d.mv_size < S_LOG_HDR ||
            p[5] >= TH_STORE_KEY_MAX || d.mv_size < (size_t)S_LOG_HDR + p[5]) {
            rc = TH_E_CORRUPT;
            break;
        }
        char kbuf[TH_STORE_KEY_MAX];
        memcpy(kbuf, p + S_LOG_HDR, p[5]);
        kbuf[p[5]] = '\0';
        th_store_log_entry_t e = {
            .seq = s_rd64(k.mv_data),
            .kind = p[0],
            .key = kbuf,
            .rev = s_rd32(p + 1),
            .blob = p + S_LOG_HDR + p[5],
            .len = d.mv_size - S_LOG_HDR - p[5],
        };
        if ((rc = cb(&e, ctx)) != 0)
            break;
    }
    if (rc == 0 && mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND)
        rc = s_txerr(txn, mrc, "walk log");
    mdb_cursor_close(cur);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Generic tables */

static int
s_kv_dbi(const th_store_txn_t *txn, th_store_db_t db, MDB_dbi *dbi)
{
    if ((int)db < TH_DB_STATE || (int)db > TH_DB_META)
        return TH_E_INVALID;
    *dbi = txn->s->dbi[db];
    return 0;
}

int
th_store_kv_put(th_store_txn_t *txn, th_store_db_t db, const char *key, const void *val,
                size_t len)
{
    int rc;
    size_t klen;
    MDB_dbi dbi;
    if ((rc = s_check_txn(txn, true)) < 0 || (rc = s_kv_dbi(txn, db, &dbi)) < 0 ||
        (rc = s_keylen(key, false, &klen)) < 0 || (rc = s_check_blob(val, len)) < 0)
        return rc;
    MDB_val k = { klen, (void *)key }, d = { len, (void *)(val ? val : "") };
    int mrc = mdb_put(txn->txn, dbi, &k, &d, 0);
    return mrc == MDB_SUCCESS ? 0 : s_txerr(txn, mrc, "write table");
}

int
th_store_kv_get(th_store_txn_t *txn, th_store_db_t db, const char *key, const void **val,
                size_t *len)
{
    int rc;
    size_t klen;
    MDB_dbi dbi;
    if ((rc = s_check_txn(txn, false)) < 0 || (rc = s_kv_dbi(txn, db, &dbi)) < 0 ||
        (rc = s_keylen(key, false, &klen)) < 0)
        return rc;
    if (!val || !len)
        return TH_E_INVALID;
    MDB_val k = { klen, (void *)key }, d;
    int mrc = mdb_get(txn->txn, dbi, &k, &d);
    if (mrc != MDB_SUCCESS)
        return s_txerr(txn, mrc, "read table");
    *val = d.mv_data;
    *len = d.mv_size;
    return 0;
}

int
th_store_kv_del(th_store_txn_t *txn, th_store_db_t db, const char *key)
{
    int rc;
    size_t klen;
    MDB_dbi dbi;
    if ((rc = s_check_txn(txn, true)) < 0 || (rc = s_kv_dbi(txn, db, &dbi)) < 0 ||
        (rc = s_keylen(key, false, &klen)) < 0)
        return rc;
    MDB_val k = { klen, (void *)key };
    int mrc = mdb_del(txn->txn, dbi, &k, NULL);
    return mrc == MDB_SUCCESS ? 0 : s_txerr(txn, mrc, "delete from table");
}

typedef struct {
    int (*cb)(const char *key, const void *val, size_t len, void *ctx);
    void *ctx;
} s_kv_walk_t;

static int
s_kv_step(const char *key, const MDB_val *d, void *arg)
{
    s_kv_walk_t *w = arg;
    return w->cb(key, d->mv_data, d->mv_size, w->ctx);
}

int
th_store_kv_each(th_store_txn_t *txn, th_store_db_t db, const char *prefix,
                 int (*cb)(const char *key, const void *val, size_t len, void *ctx), void *ctx)
{
    int rc;
    MDB_dbi dbi;
    if ((rc = s_check_txn(txn, false)) < 0 || (rc = s_kv_dbi(txn, db, &dbi)) < 0)
        return rc;
    if (!cb)
        return TH_E_INVALID;
    s_kv_walk_t w = { cb, ctx };
    return s_walk_prefix(txn, dbi, prefix, s_kv_step, &w);
}

int
th_store_state_get_u64(th_store_txn_t *txn, const char *name, uint64_t *v)
{
    int rc;
    size_t nlen;
    if ((rc = s_check_txn(txn, false)) < 0 || (rc = s_keylen(name, false, &nlen)) < 0)
        return rc;
    if (!v)
        return TH_E_INVALID;
    bool found;
    return s_get_u64(txn->txn, txn->s->dbi[TH_DB_STATE], name, v, &found);
}

int
th_store_state_put_u64(th_store_txn_t *txn, const char *name, uint64_t v)
{
    int rc;
    size_t nlen;
    if ((rc = s_check_txn(txn, true)) < 0 || (rc = s_keylen(name, false, &nlen)) < 0)
        return rc;
    return s_put_u64(txn, txn->s->dbi[TH_DB_STATE], name, nlen, v);
}
