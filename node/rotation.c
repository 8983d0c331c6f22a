/*  rotation: an office's identity key being replaced, on disk. */
#include "rotation.h"
#include "err.h"
#include "log.h"
#include "metaq.h"
#include "mem.h"
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char key[4096], prev[4096], next[4096];
} s_paths_t;

static int
s_paths(const char *dir, s_paths_t *p)
{
    int a = snprintf(p->key, sizeof p->key, "%s/identity.key", dir);
    int b = snprintf(p->prev, sizeof p->prev, "%s/identity.prev", dir);
    int c = snprintf(p->next, sizeof p->next, "%s/identity.new", dir);
    return a < 0 || b < 0 || c < 0 || (size_t)c >= sizeof p->next ? -ENAMETOOLONG : 0;
}

static int
s_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* The key the store records as the rotation's: 1 and pk, 0 when none, or
   store errors. */
static int
s_recorded(th_store_txn_t *txn, uint8_t pk[32])
{
    const void *v;
    size_t len;
    int rc = th_store_kv_get(txn, TH_DB_STATE, TH_ROTATION_STATE, &v, &len);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (len != 32)
        return 0;
    memcpy(pk, v, 32);
    return 1;
}

typedef struct {
    const uint8_t *pk;    /* in: the key identity.new holds */
    bool recorded;        /* out: the store holds pk as the rotation's key */
} s_state_t;

static int
s_state_txn(th_store_txn_t *txn, void *ctx)
{
    s_state_t *x = ctx;
    uint8_t pk[32];
    int rc = s_recorded(txn, pk);
    x->recorded = rc == 1 && memcmp(pk, x->pk, 32) == 0;
    return rc < 0 ? rc : 0;
}

/* Any rotation recorded. */
static int
s_state_any(th_store_txn_t *txn, void *ctx)
{
    s_state_t *x = ctx;
    uint8_t pk[32];
    int rc = s_recorded(txn, pk);
    x->recorded = rc == 1;
    return rc < 0 ? rc : 0;
}

/* identity.key -> identity.prev (a link: identity.key stays), then
   identity.new over identity.key. Each step is atomic; repeating them
   after a crash gives the same result. */
static int
s_swap(const s_paths_t *p, const char *dir)
{
    if (link(p->key, p->prev) < 0 && errno != EEXIST)
        return -errno;
    if (rename(p->next, p->key) < 0)
        return -errno;
    return s_sync_dir(dir);
}

static int
s_load_one(const char *path, th_identity_t *id, char *errbuf, size_t cap)
{
    int rc = th_identity_load(path, id);
    if (rc < 0)
        snprintf(errbuf, cap, "cannot read identity key '%s': %s%s", path, th_strerror(rc),
                 rc == -EACCES ? " (it must be mode 0600 and owned by this user)" : "");
    return rc;
}

int
th_rotation_load(const char *dir, th_store_t *store, th_identity_t *cur, th_identity_t *prev,
                 bool *has_prev, char *errbuf, size_t cap)
{
    s_paths_t p;
    int rc = s_paths(dir, &p);
    if (rc < 0)
        return rc;
    *has_prev = false;
    if (access(p.next, F_OK) == 0) {
        th_identity_t fresh;
        if ((rc = s_load_one(p.next, &fresh, errbuf, cap)) < 0)
            return rc;
        s_state_t x = { .pk = fresh.pk };
        rc = th_store_read(store, s_state_txn, &x);
        th_identity_wipe(&fresh);
        if (rc < 0) {
            snprintf(errbuf, cap, "cannot read the store: %s", th_strerror(rc));
            return rc;
        }
        if (x.recorded) {
            th_log(TH_LOG_WARN, "rotation: finishing an interrupted key rotation in %s", dir);
            if ((rc = s_swap(&p, dir)) < 0) {
                snprintf(errbuf, cap, "cannot finish the key rotation in '%s': %s", dir,
                         th_strerror(rc));
                return rc;
            }
            if ((rc = s_load_one(p.key, cur, errbuf, cap)) < 0)
                return rc;
        } else if (unlink(p.next) < 0 && errno != ENOENT) {
            /* a rekey that stopped before its commit: nothing happened */
            rc = -errno;
            snprintf(errbuf, cap, "cannot remove '%s' (a key rotation that did not "
                                  "happen): %s", p.next, th_strerror(rc));
            return rc;
        }
    }
    if (access(p.prev, F_OK) != 0)
        return 0;
    /* identity.prev without a rotation recorded: one that ended and was
       stopped before the file went (th_rotation_end clears the store
       first) */
    s_state_t x = { 0 };
    if ((rc = th_store_read(store, s_state_any, &x)) < 0) {
        snprintf(errbuf, cap, "cannot read the store: %s", th_strerror(rc));
        return rc;
    }
    if (!x.recorded) {
        if (unlink(p.prev) < 0 && errno != ENOENT) {
            rc = -errno;
            snprintf(errbuf, cap, "cannot remove '%s' (left by a key rotation that ended): %s",
                     p.prev, th_strerror(rc));
            return rc;
        }
        th_log(TH_LOG_INFO, "rotation: removed the old key of a rotation that had ended");
        return 0;
    }
    if ((rc = s_load_one(p.prev, prev, errbuf, cap)) < 0)
        return rc;
    *has_prev = true;
    return 0;
}

typedef struct {
    const th_identity_t *fresh;
    int (*cb)(th_store_txn_t *txn, void *ctx, const th_identity_t *fresh);
    void *ctx;
} s_begin_t;

static int
s_begin_txn(th_store_txn_t *txn, void *ctx)
{
    s_begin_t *x = ctx;
    int rc = x->cb(txn, x->ctx, x->fresh);
    if (rc == 0)
        rc = th_store_kv_put(txn, TH_DB_STATE, TH_ROTATION_STATE, x->fresh->pk, 32);
    return rc;
}

int
th_rotation_begin(const char *dir, th_store_t *store, th_identity_t *cur, th_identity_t *prev,
                  bool *has_prev,
                  int (*cb)(th_store_txn_t *txn, void *ctx, const th_identity_t *fresh),
                  void *ctx, char *errbuf, size_t cap)
{
    s_paths_t p;
    int rc = s_paths(dir, &p);
    if (rc < 0)
        return rc;
    errbuf[0] = '\0';
    if (*has_prev) {
        snprintf(errbuf, cap, "a key rotation is still in progress (identity.prev is kept "
                              "until the parent and every child have the new key; see "
                              "'status')");
        return TH_E_EXISTS;
    }
    th_identity_t fresh;
    th_identity_generate(&fresh);
    if ((rc = th_identity_save(&fresh, p.next)) < 0) {
        snprintf(errbuf, cap, "cannot write '%s': %s", p.next, th_strerror(rc));
        th_identity_wipe(&fresh);
        return rc;
    }
    s_begin_t x = { &fresh, cb, ctx };
    if ((rc = th_store_write(store, s_begin_txn, &x)) < 0) {
        unlink(p.next);
        th_identity_wipe(&fresh);
        snprintf(errbuf, cap, "cannot record the new key: %s", th_strerror(rc));
        return rc;
    }
    if ((rc = s_swap(&p, dir)) < 0) {
        /* recorded: the next open finishes the swap */
        th_identity_wipe(&fresh);
        snprintf(errbuf, cap, "the new key is recorded but '%s' could not be put in place "
                              "(%s); it will be at the next start", p.next, th_strerror(rc));
        return rc;
    }
    *prev = *cur;
    *cur = fresh;
    *has_prev = true;
    th_identity_wipe(&fresh);
    return 0;
}

typedef struct {
    char (*keys)[TH_KEY_MAX];
    size_t n, cap;
} s_keys_t;

static int
s_collect(const char *key, const void *val, size_t len, void *ctx)
{
    (void)val;
    (void)len;
    s_keys_t *k = ctx;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 16;
        char (*v)[TH_KEY_MAX] = th_realloc(k->keys, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        k->keys = v;
        k->cap = cap;
    }
    snprintf(k->keys[k->n++], TH_KEY_MAX, "%s", key);
    return 0;
}

/* Every "rotation.*" state name goes (the callers' own included). */
static int
s_end_txn(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    s_keys_t k = { 0 };
    int rc = th_store_kv_each(txn, TH_DB_STATE, "rotation.", s_collect, &k);
    for (size_t i = 0; rc == 0 && i < k.n; i++)
        rc = th_store_kv_del(txn, TH_DB_STATE, k.keys[i]);
    th_free(k.keys);
    return rc;
}

int
th_rotation_end(const char *dir, th_store_t *store, th_identity_t *prev, bool *has_prev)
{
    s_paths_t p;
    int rc = s_paths(dir, &p);
    if (rc < 0)
        return rc;
    /* the store first: an identity.prev left behind by a stop in between
       is removed at the next open (th_rotation_load) */
    if ((rc = th_store_write(store, s_end_txn, NULL)) < 0)
        return rc;
    th_identity_wipe(prev);
    *has_prev = false;
    if (unlink(p.prev) < 0 && errno != ENOENT)
        return -errno;
    return s_sync_dir(dir);
}

typedef struct {
    th_store_txn_t *txn;
    th_rotation_progress_t *p;
} s_prog_t;

static int
s_prog_child(const char *key, const void *val, size_t len, void *ctx)
{
    s_prog_t *x = ctx;
    const char *unit = key + strlen(TH_ROTATION_CHILD);
    if (len != 8 || !th_valid_unit_code(unit))
        return 0;
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++)
        seq = (seq << 8) | ((const uint8_t *)val)[i];
    int rc = th_metaq_delivered(x->txn, unit, seq);
    if (rc < 0)
        return rc;
    x->p->nchildren++;
    if (rc == 0) {
        if (x->p->npending < TH_ROTATION_PENDING_MAX)
            snprintf(x->p->pending[x->p->npending], TH_UNIT_MAX, "%s", unit);
        x->p->npending++;
    }
    return 0;
}

int
th_rotation_progress(th_store_txn_t *txn, th_rotation_progress_t *p)
{
    memset(p, 0, sizeof *p);
    uint8_t pk[32];
    int rc = s_recorded(txn, pk);
    if (rc <= 0)
        return rc;
    p->active = true;
    uint64_t acked;
    if ((rc = th_rotation_parent(txn, &p->seq, p->refused, sizeof p->refused)) < 0 ||
        (rc = th_store_state_get_u64(txn, "uplink.acked", &acked)) < 0)
        return rc;
    p->parent_has = !p->refused[0] && acked >= p->seq;
    s_prog_t x = { txn, p };
    return th_store_kv_each(txn, TH_DB_STATE, TH_ROTATION_CHILD, s_prog_child, &x);
}

int
th_rotation_parent(th_store_txn_t *txn, uint64_t *seq, char *refused, size_t cap)
{
    const void *v;
    size_t len;
    int rc = th_store_state_get_u64(txn, TH_ROTATION_SEQ, seq);
    if (rc < 0)
        return rc;
    refused[0] = '\0';
    rc = th_store_kv_get(txn, TH_DB_STATE, TH_ROTATION_REFUSED, &v, &len);
    if (rc == 0)
        snprintf(refused, cap, "%.*s", (int)len, (const char *)v);
    return rc == TH_E_NOTFOUND ? 0 : rc;
}
