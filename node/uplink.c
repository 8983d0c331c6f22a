/*  uplink: child side of the sync protocol (docs/protocol.md). */
#include "uplink.h"
#include "err.h"
#include "log.h"
#include "metaq.h"
#include "mem.h"
#include "msg.h"
#include "rotation.h"
#include "zuv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_BATCH_ENTRIES 256
#define S_BATCH_BYTES   (512u * 1024u)
#define S_AGENT         "tonghop/" TH_VERSION   /* TH_VERSION: the file VERSION (Makefile) */

typedef enum { S_DOWN = 0, S_HELLO_SENT, S_STREAMING } s_state_t;

struct th_uplink {
    th_office_t *o;               /* borrowed */
    th_daemon_t *d;               /* borrowed, set at start */
    void *sock;                   /* DEALER, NULL when down */
    th_zuv_t *zuv;
    uv_timer_t t_tick;            /* heartbeat, timeout, log polling */
    uv_timer_t t_retry;           /* reconnect after backoff */
    int timers;                   /* timers initialised */
    bool start_readonly;          /* the start's state read could not write */
    s_state_t state;
    uint64_t acked;               /* durable: parent holds every seq <= acked */
    uint64_t sent;                /* highest seq sent on this connection */
    uint64_t meta;                /* durable: META applied through this seq */
    uint32_t window;
    int64_t last_rx, last_tx, last_poll, last_contact_saved;
    int64_t last_progress;        /* last ACK that moved `acked`, or WELCOME */
    int backoff_ms;
    /* keys: the parent's (its [parent] key, or the one that replaced it
       when the parent rotated its own), the next one it announced (tried
       when the first stops answering), and ours: during our own rotation
       the link keeps the old key until the parent acknowledged the
       statement of the new one (seq rot_seq) */
    uint8_t parent_pk[32], next_pk[32];
    bool has_next, use_next;
    bool own_prev;
    uint64_t rot_seq;
    uint8_t parent_curve[32], my_curve_pk[32], my_curve_sk[32];
    char parent_unit[TH_UNIT_MAX];
};

/* ---- persisted link state (read by `status`) -------------------------- */

typedef struct {
    const char *state;
    int64_t contact;
    const char *error;
    uint64_t acked;        /* 0: leave */
    bool set_acked;
    th_office_t *o;        /* with rejected: record them */
    const th_msg_t *ack;
    /* WELCOME: acked is the parent's cursor; when it is beyond our own last
       seq, the entries after prev_acked are sent again above it */
    bool welcome;
    bool has_offset;              /* the parent's clock minus ours, at WELCOME */
    int64_t offset;
    uint64_t prev_acked;
    uint64_t check_seq;    /* WELCOME's check: 0 = none */
    const uint8_t *check;
    uint64_t head, moved;  /* out: our last seq before, entries re-logged */
    bool diverged;         /* out: our entry at check_seq is another one */
    const char *ini;       /* with promote: the [parent] key it replaces */
    const uint8_t *promote; /* the parent's next key answered: keep it */
} s_save_t;

typedef struct {
    uint64_t seq;
    const uint8_t *digest;
    bool same;
} s_check_t;

static int
s_check_entry(const th_store_log_entry_t *e, void *ctx)
{
    s_check_t *c = ctx;
    uint8_t d[TH_DIGEST_LEN];
    th_digest16(e->blob, e->len, d);
    c->same = e->seq == c->seq && memcmp(d, c->digest, TH_DIGEST_LEN) == 0;
    return 1;   /* only the first entry after seq - 1 */
}

/* One unconfirmed log entry, copied (the log cannot be written while it
   is walked). */
typedef struct {
    uint8_t kind;
    uint32_t rev;
    char *key;
    uint8_t *blob;
    size_t len;
} s_copy_t;

typedef struct {
    s_copy_t *v;
    size_t n, cap;
} s_copies_t;

static void
s_copies_free(s_copies_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        th_free(c->v[i].key);
        th_free(c->v[i].blob);
    }
    th_free(c->v);
    memset(c, 0, sizeof *c);
}

static int
s_copy_entry(const th_store_log_entry_t *e, void *ctx)
{
    s_copies_t *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        s_copy_t *v = th_realloc(c->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    s_copy_t *x = &c->v[c->n];
    x->kind = e->kind;
    x->rev = e->rev;
    x->len = e->len;
    x->key = th_strdup(e->key);
    x->blob = e->len ? th_memdup(e->blob, e->len) : NULL;
    if (!x->key || (e->len && !x->blob)) {
        th_free(x->key);
        th_free(x->blob);
        return -ENOMEM;
    }
    c->n++;
    return 0;
}

/* The parent holds seqs of ours beyond our own last one: this store was
   restored from an older backup, or another installation used this
   office's key. Acknowledging its cursor as is would count our own
   unconfirmed entries (after prev_acked) as delivered when the parent holds
   something else under those seqs: they are appended again above the
   parent's cursor, and sent from there. */
static int
s_rebase(th_store_txn_t *txn, s_save_t *x)
{
    s_copies_t c = { 0 };
    int rc = th_store_log_each(txn, x->prev_acked, s_copy_entry, &c);
    if (rc == 0)
        rc = th_store_log_skip(txn, x->acked);
    for (size_t i = 0; rc == 0 && i < c.n; i++)
        rc = th_store_log_append(txn, c.v[i].kind, c.v[i].key, c.v[i].rev, c.v[i].blob,
                                 c.v[i].len, NULL);
    x->moved = rc == 0 ? c.n : 0;
    s_copies_free(&c);
    return rc;
}

typedef struct {
    th_store_txn_t *txn;
    th_office_t *o;
    const th_msg_reject_t *rj;
} s_rej_t;

static int
s_rej_entry(const th_store_log_entry_t *e, void *ctx)
{
    s_rej_t *x = ctx;
    if (e->seq == x->rj->seq && e->kind == TH_LOG_KIND_ROTATE) {
        /* our new key refused: the link stays on the old one (status) */
        th_log(TH_LOG_ERROR, "uplink: the parent refused our new key: %s", x->rj->reason);
        int rc = th_store_kv_put(x->txn, TH_DB_STATE, TH_ROTATION_REFUSED, x->rj->reason,
                                 strlen(x->rj->reason));
        return rc < 0 ? rc : 1;
    }
    if (e->seq == x->rj->seq && e->kind == TH_LOG_KIND_RECORD) {
        int rc = th_metaq_rejected(x->txn, x->o, e->key, e->rev, x->rj->code,
                                   x->rj->reason);
        return rc < 0 ? rc : 1;
    }
    return 1;   /* only the first entry after seq-1 is wanted */
}

static int
s_save_txn(th_store_txn_t *txn, void *ctx)
{
    s_save_t *x = ctx;
    int rc = 0;
    if (x->state)
        rc = th_store_kv_put(txn, TH_DB_STATE, "link.state", x->state, strlen(x->state));
    if (rc == 0 && x->contact)
        rc = th_store_state_put_u64(txn, "link.last_contact", (uint64_t)x->contact);
    /* for `doctor`: how far this office's clock is from its parent's */
    if (rc == 0 && x->has_offset)
        rc = th_store_state_put_u64(txn, TH_UPLINK_CLOCK_OFFSET, (uint64_t)x->offset);
    if (rc == 0 && x->error)
        rc = th_store_kv_put(txn, TH_DB_STATE, "link.error", x->error, strlen(x->error));
    x->moved = 0;
    x->diverged = false;
    if (rc == 0 && x->welcome && (rc = th_store_log_last(txn, &x->head)) == 0 &&
        x->check_seq && x->check_seq <= x->head) {
        s_check_t c = { .seq = x->check_seq, .digest = x->check };
        rc = th_store_log_each(txn, x->check_seq - 1, s_check_entry, &c);
        if (rc > 0)
            rc = 0;
        x->diverged = !c.same;
    }
    if (rc == 0 && x->welcome && (x->acked > x->head || x->diverged))
        rc = s_rebase(txn, x);
    if (rc == 0 && x->set_acked)
        rc = th_store_state_put_u64(txn, "uplink.acked", x->acked);
    if (rc == 0 && x->promote) {
        uint8_t v[TH_Z85_KEY_LEN + 32];
        memcpy(v, x->ini, TH_Z85_KEY_LEN);
        memcpy(v + TH_Z85_KEY_LEN, x->promote, 32);
        if ((rc = th_store_kv_put(txn, TH_DB_STATE, "uplink.key", v, sizeof v)) == 0 &&
            (rc = th_store_kv_del(txn, TH_DB_STATE, TH_METAQ_NEXT_KEY)) == TH_E_NOTFOUND)
            rc = 0;
    }
    for (size_t i = 0; rc == 0 && x->ack && i < x->ack->nrejected; i++) {
        s_rej_t r = { txn, x->o, &x->ack->rejected[i] };
        if (r.rj->seq == 0)
            continue;
        rc = th_store_log_each(txn, r.rj->seq - 1, s_rej_entry, &r);
        if (rc > 0)
            rc = 0;
    }
    return rc;
}

static void
s_save(th_uplink_t *u, const char *state, const char *error)
{
    s_save_t x = { .state = state, .contact = u->last_rx, .error = error };
    int rc = th_store_write(u->o->store, s_save_txn, &x);
    if (rc < 0)
        th_log(TH_LOG_ERROR, "uplink: cannot save link state: %s", th_strerror(rc));
    u->last_contact_saved = u->last_rx;
}

/* ---- sending ------------------------------------------------------------ */

static int
s_send_msg(th_uplink_t *u, const th_msg_t *m)
{
    uint8_t *buf;
    size_t len;
    int rc = th_msg_encode(m, &buf, &len);
    if (rc < 0) {
        th_log(TH_LOG_ERROR, "uplink: cannot encode %s: %s", th_msg_type_name(m->type),
               th_strerror(rc));
        return rc;
    }
    rc = th_zuv_send(u->zuv, NULL, 0, buf, len);
    th_free(buf);
    if (rc == 0)
        u->last_tx = th_now_ms();
    return rc;
}

typedef struct {
    th_uplink_t *u;
    th_msg_t *m;
    size_t bytes;
    uint64_t through;
    uint64_t limit;      /* highest seq the window allows */
    int skipped;
    uint8_t *frame;      /* encoded inside the transaction */
    size_t frame_len;
} s_pump_t;

typedef struct {
    s_pump_t *p;
    th_store_txn_t *txn;
} s_pump_ctx_t;

static int
s_pump_entry(const th_store_log_entry_t *e, void *ctx)
{
    s_pump_ctx_t *c = ctx;
    s_pump_t *p = c->p;
    if (e->seq > p->limit || p->m->nentries >= S_BATCH_ENTRIES ||
        (p->m->nentries && p->bytes + e->len > S_BATCH_BYTES))
        return 1;
    if (e->kind == TH_LOG_KIND_RECORD) {
        th_store_rev_t cur;
        if (th_store_get_current(c->txn, e->key, &cur) == 0 && cur.status == 1 &&
            cur.rev > e->rev) {
            p->skipped++;
            p->through = e->seq;
            return 0;
        }
    }
    int rc = th_msg_add_entry(p->m, e->seq, e->kind, e->blob, e->len);
    if (rc < 0)
        return rc;
    p->bytes += e->len;
    p->through = e->seq;
    return 0;
}

static int
s_pump_txn(th_store_txn_t *txn, void *ctx)
{
    s_pump_t *p = ctx;
    s_pump_ctx_t c = { p, txn };
    uint64_t after = p->u->sent;
    int rc = th_store_log_each(txn, after, s_pump_entry, &c);
    if (rc < 0)
        return rc;
    if (p->through <= after)
        return 0;
    p->m->through = p->through;
    p->m->after = after;
    /* blobs point into the map: encode before the transaction ends */
    return th_msg_encode(p->m, &p->frame, &p->frame_len);
}

static void
s_pump(th_uplink_t *u)
{
    while (u->state == S_STREAMING) {
        uint64_t inflight = u->sent - u->acked;
        if (inflight >= u->window)
            return;
        th_msg_t m;
        th_msg_init(&m, TH_MSG_BATCH);
        s_pump_t p = { .u = u, .m = &m, .limit = u->acked + u->window };
        int rc = th_store_read(u->o->store, s_pump_txn, &p);
        th_msg_clear(&m);
        if (rc < 0) {
            th_log(TH_LOG_ERROR, "uplink: cannot read the log: %s", th_strerror(rc));
            th_free(p.frame);
            return;
        }
        if (!p.frame)
            return;   /* nothing new */
        rc = th_zuv_send(u->zuv, NULL, 0, p.frame, p.frame_len);
        th_free(p.frame);
        if (rc < 0) {
            th_log(TH_LOG_WARN, "uplink: send: %s", th_strerror(rc));
            return;
        }
        th_log(TH_LOG_DEBUG, "uplink: sent through seq %" PRIu64 " (%d skipped)", p.through,
               p.skipped);
        u->sent = p.through;
        u->last_tx = th_now_ms();
    }
}

/* ---- connection ----------------------------------------------------------- */

static void s_connect(th_uplink_t *u);

static void
s_disconnect(th_uplink_t *u, const char *why)
{
    if (u->sock) {
        th_zuv_destroy(&u->zuv);
        zmq_close(u->sock);
        u->sock = NULL;
    }
    if (u->state != S_DOWN || why) {
        th_log(TH_LOG_INFO, "uplink: link down%s%s", why ? ": " : "", why ? why : "");
        s_save(u, "down", NULL);
    }
    u->state = S_DOWN;
}

static void
s_on_retry(uv_timer_t *t)
{
    s_connect(t->data);
}

static void
s_schedule_retry(th_uplink_t *u)
{
    const th_config_t *c = &u->o->cfg;
    int base = u->backoff_ms ? u->backoff_ms : c->heartbeat_ms / 4;
    if (base < 50)
        base = 50;
    u->backoff_ms = base * 2 > c->retry_max_ms ? c->retry_max_ms : base * 2;
    /* full jitter on the upper half spreads thousands of communes out after
       an outage at the province */
    int delay = base / 2 + (int)(random() % (base / 2 + 1));
    uv_timer_start(&u->t_retry, s_on_retry, (uint64_t)delay, 0);
}

/* A parent key kept in state under name, when it was learnt under the
   [parent] key in force: 1 and pk, 0 when none, or a store error. */
static int
s_state_key(th_store_txn_t *txn, const th_uplink_t *u, const char *name, uint8_t pk[32])
{
    const void *v;
    size_t len;
    int rc = th_store_kv_get(txn, TH_DB_STATE, name, &v, &len);
    if (rc == TH_E_NOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (len != TH_Z85_KEY_LEN + 32 || memcmp(v, u->o->cfg.parent_key, TH_Z85_KEY_LEN) != 0)
        return 0;   /* learnt from another parent */
    memcpy(pk, (const uint8_t *)v + TH_Z85_KEY_LEN, 32);
    return 1;
}

/* Reads which keys the link uses (see th_uplink: keys). */
static int
s_keys_txn(th_store_txn_t *txn, th_uplink_t *u)
{
    int rc = th_z85_decode_key(u->o->cfg.parent_key, u->parent_pk);
    if (rc < 0 || (rc = s_state_key(txn, u, "uplink.key", u->parent_pk)) < 0 ||
        (rc = s_state_key(txn, u, TH_METAQ_NEXT_KEY, u->next_pk)) < 0)
        return rc;
    u->has_next = rc == 1 && memcmp(u->next_pk, u->parent_pk, 32) != 0;
    if (!u->has_next)
        u->use_next = false;
    char refused[8];
    if ((rc = th_rotation_parent(txn, &u->rot_seq, refused, sizeof refused)) < 0)
        return rc;
    u->own_prev = u->o->has_prev && (u->rot_seq > u->acked || refused[0]);
    return 0;
}

static int
s_keys_read(th_store_txn_t *txn, void *ctx)
{
    return s_keys_txn(txn, ctx);
}

/* Our own rotation: the parent acknowledged the new key (and did not
   refuse it). Reconnects with it; true when it did (the caller returns). */
static bool
s_own_switch(th_uplink_t *u)
{
    if (!u->own_prev || u->acked < u->rot_seq)
        return false;
    bool was = u->own_prev;
    if (th_store_read(u->o->store, s_keys_read, u) < 0 ||
        u->own_prev == was)
        return false;   /* refused: stays on the old key */
    th_log(TH_LOG_INFO, "uplink: the parent holds our new key: reconnecting with it");
    u->state = S_DOWN;
    s_disconnect(u, NULL);
    u->backoff_ms = 0;
    s_schedule_retry(u);
    return true;
}

/* The CURVE keys of the next connection. */
static int
s_curve(th_uplink_t *u)
{
    const th_identity_t *me = u->own_prev ? &u->o->prev : &u->o->id;
    if (th_pubkey_curve(u->use_next ? u->next_pk : u->parent_pk, u->parent_curve) < 0 ||
        th_identity_curve(me, u->my_curve_pk, u->my_curve_sk) < 0)
        return TH_E_KEY;
    return 0;
}

typedef struct {
    th_uplink_t *u;
    const th_msg_t *m;
    uint64_t upto;
} s_meta_t;

/* Applies the META items not applied yet, and the cursor, atomically. */
static int
s_meta_txn(th_store_txn_t *txn, void *ctx)
{
    s_meta_t *x = ctx;
    uint64_t cur;
    int rc = th_store_state_get_u64(txn, "uplink.meta", &cur);
    x->upto = cur;
    for (size_t i = 0; rc == 0 && i < x->m->nmeta; i++) {
        const th_msg_meta_t *it = &x->m->meta[i];
        if (it->seq <= x->upto)
            continue;   /* already applied (a resend after a lost META_ACK) */
        if ((rc = th_metaq_apply(txn, x->u->o, it)) == 0)
            x->upto = it->seq;
    }
    if (rc == 0 && x->upto > cur)
        rc = th_store_state_put_u64(txn, "uplink.meta", x->upto);
    if (rc == 0)
        rc = s_keys_txn(txn, x->u);   /* a KEY item among them */
    return rc;
}

static void
s_on_message(void *sock, void *arg)
{
    th_uplink_t *u = arg;
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return;
    }
    th_msg_t m = { 0 };
    int rc = th_msg_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &m);
    if (rc < 0) {
        th_log(TH_LOG_WARN, "uplink: bad message from the parent: %s", th_strerror(rc));
        zmq_msg_close(&frame);
        return;
    }
    u->last_rx = th_now_ms();
    switch (m.type) {
    case TH_MSG_WELCOME: {
        snprintf(u->parent_unit, sizeof u->parent_unit, "%s", m.unit);
        /* The parent's word is what it holds durably: resume there, also
           backwards if it lost data (restored from a backup). */
        s_save_t x = { .state = "up", .contact = u->last_rx, .acked = m.resume_after,
                       .set_acked = true, .welcome = true, .prev_acked = u->acked,
                       .check_seq = m.check_seq, .check = m.check,
                       .ini = u->o->cfg.parent_key, .promote = u->use_next ? u->next_pk : NULL,
                       .has_offset = m.clock != 0, .offset = m.clock - th_now_ms() };
        if (m.resume_after < u->acked)
            th_log(TH_LOG_WARN, "uplink: parent holds only up to %" PRIu64
                   " (we had %" PRIu64 " acknowledged): resending", m.resume_after, u->acked);
        rc = th_store_write(u->o->store, s_save_txn, &x);
        /* On a full disk what is stored must still go up: the parent's
           cursor is kept in memory (the next WELCOME says it again), unless
           our own log had to be renumbered first. */
        if (rc == TH_E_DISKFULL && m.resume_after <= x.head && !x.diverged) {
            th_log(TH_LOG_WARN, "uplink: the disk is full: the parent's cursor is kept in "
                                "memory only");
            rc = 0;
        }
        if (rc < 0) {
            th_log(TH_LOG_ERROR, "uplink: cannot save cursor: %s", th_strerror(rc));
            break;
        }
        if (m.resume_after > x.head || x.diverged)
            th_log(TH_LOG_WARN, "uplink: parent %s holds our seqs through %" PRIu64 " but this "
                   "office wrote %s%" PRIu64 ": restored from an older backup, or this "
                   "office's key is used by another installation (revoke it at the parent if "
                   "it was stolen); %" PRIu64 " unconfirmed entries sent again from %" PRIu64,
                   m.unit, m.resume_after, x.diverged ? "other entries up to " : "only ",
                   x.head, x.moved, (x.diverged && x.head > m.resume_after ? x.head
                                                                          : m.resume_after) + 1);
        u->acked = u->sent = m.resume_after;
        if (x.promote) {
            th_log(TH_LOG_INFO, "uplink: the parent %s answers with its new key: kept", m.unit);
            memcpy(u->parent_pk, u->next_pk, 32);
            u->has_next = u->use_next = false;
        }
        if (s_own_switch(u))
            break;
        u->last_progress = u->last_rx;
        u->window = m.window ? m.window : 1;
        u->state = S_STREAMING;
        u->backoff_ms = 0;
        th_log(TH_LOG_INFO, "uplink: up, parent %s holds through seq %" PRIu64
               ", window %u", m.unit, m.resume_after, u->window);
        s_pump(u);
        break;
    }
    case TH_MSG_ACK: {
        if (u->state != S_STREAMING || m.upto <= u->acked)
            break;
        if (m.upto > u->sent) {
            th_log(TH_LOG_WARN, "uplink: ACK beyond what was sent (%" PRIu64 " > %" PRIu64
                   ")", m.upto, u->sent);
            break;
        }
        s_save_t x = { .contact = u->last_rx, .acked = m.upto, .set_acked = true,
                       .o = u->o, .ack = &m };
        rc = th_store_write(u->o->store, s_save_txn, &x);
        if (rc == TH_E_DISKFULL) {
            /* sending goes on; what cannot be recorded is a rejection's
               notice for the clerk (logged below) */
            th_log(TH_LOG_WARN, "uplink: the disk is full: the acknowledgement is kept in "
                                "memory only%s", m.nrejected ? ", rejections not recorded" : "");
            rc = 0;
        }
        if (rc < 0) {
            th_log(TH_LOG_ERROR, "uplink: cannot save cursor: %s", th_strerror(rc));
            break;
        }
        for (size_t i = 0; i < m.nrejected; i++)
            th_log(TH_LOG_WARN, "uplink: parent rejected seq %" PRIu64 ": %s",
                   m.rejected[i].seq, m.rejected[i].reason);
        u->acked = m.upto;
        u->last_progress = u->last_rx;
        u->last_contact_saved = u->last_rx;
        if (s_own_switch(u))
            break;
        s_pump(u);
        break;
    }
    case TH_MSG_PING: {
        th_msg_t pong;
        th_msg_init(&pong, TH_MSG_PONG);
        pong.clock = th_now_ms();
        s_send_msg(u, &pong);
        break;
    }
    case TH_MSG_PONG:
        break;
    case TH_MSG_META: {
        s_meta_t x = { .u = u, .m = &m };
        rc = th_store_write(u->o->store, s_meta_txn, &x);
        if (rc < 0) {
            th_log(TH_LOG_ERROR, "uplink: cannot apply META: %s", th_strerror(rc));
            break;   /* not acknowledged: the parent sends it again */
        }
        u->meta = x.upto;
        /* a unit list from above is in force here at once */
        bool changed;
        char why[256];
        if (th_office_reload_units(u->o, &changed, why, sizeof why) < 0)
            th_log(TH_LOG_WARN, "uplink: cannot read the unit lists again: %s", why);
        th_msg_t ack;
        th_msg_init(&ack, TH_MSG_META_ACK);
        ack.upto = u->meta;
        s_send_msg(u, &ack);
        break;
    }
    case TH_MSG_ERROR:
        th_log(TH_LOG_ERROR, "uplink: parent refused us: %s", m.reason);
        s_save(u, "refused", m.reason);
        th_msg_clear(&m);
        zmq_msg_close(&frame);
        /* down without saving "down": the clerk must go on seeing why */
        u->state = S_DOWN;
        s_disconnect(u, NULL);
        u->backoff_ms = u->o->cfg.retry_max_ms;
        s_schedule_retry(u);
        return;
    default:
        th_log(TH_LOG_DEBUG, "uplink: ignoring %s", th_msg_type_name(m.type));
        break;
    }
    th_msg_clear(&m);
    zmq_msg_close(&frame);
}

static int
s_setopt(void *sock, int opt, const void *v, size_t len)
{
    return zmq_setsockopt(sock, opt, v, len) == 0 ? 0 : -zmq_errno();
}

static void
s_connect(th_uplink_t *u)
{
    int rc, zero = 0, one = 1;
    int64_t maxmsg = TH_MSG_FRAME_MAX;
    if ((rc = s_curve(u)) < 0) {
        th_log(TH_LOG_ERROR, "uplink: a key has no CURVE form: %s", th_strerror(rc));
        s_schedule_retry(u);
        return;
    }
    u->sock = zmq_socket(th_daemon_zctx(u->d), ZMQ_DEALER);
    if (!u->sock) {
        th_log(TH_LOG_ERROR, "uplink: socket: %s", zmq_strerror(zmq_errno()));
        s_schedule_retry(u);
        return;
    }
    if ((rc = s_setopt(u->sock, ZMQ_LINGER, &zero, sizeof zero)) < 0 ||
        (rc = s_setopt(u->sock, ZMQ_IMMEDIATE, &one, sizeof one)) < 0 ||
        (rc = s_setopt(u->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)) < 0 ||
        (rc = s_setopt(u->sock, ZMQ_CURVE_SERVERKEY, u->parent_curve, 32)) < 0 ||
        (rc = s_setopt(u->sock, ZMQ_CURVE_PUBLICKEY, u->my_curve_pk, 32)) < 0 ||
        (rc = s_setopt(u->sock, ZMQ_CURVE_SECRETKEY, u->my_curve_sk, 32)) < 0 ||
        zmq_connect(u->sock, u->o->cfg.parent_endpoint) != 0) {
        th_log(TH_LOG_ERROR, "uplink: cannot connect to %s: %s", u->o->cfg.parent_endpoint,
               zmq_strerror(rc < 0 ? -rc : zmq_errno()));
        zmq_close(u->sock);
        u->sock = NULL;
        s_schedule_retry(u);
        return;
    }
    u->zuv = th_zuv_new(th_daemon_loop(u->d), u->sock, s_on_message, u, &rc);
    if (!u->zuv) {
        zmq_close(u->sock);
        u->sock = NULL;
        s_schedule_retry(u);
        return;
    }
    th_msg_t hello;
    th_msg_init(&hello, TH_MSG_HELLO);
    snprintf(hello.unit, sizeof hello.unit, "%s", u->o->cfg.unit);
    snprintf(hello.agent, sizeof hello.agent, "%s", S_AGENT);
    hello.clock = th_now_ms();
    hello.meta_upto = u->meta;
    u->state = S_HELLO_SENT;
    u->last_rx = th_now_ms();   /* the timeout runs from here */
    /* With ZMQ_IMMEDIATE the HELLO waits until the handshake is done; if
       the parent is unreachable, the send fails and the timeout retries. */
    rc = s_send_msg(u, &hello);
    if (rc < 0 && rc != -EAGAIN)
        th_log(TH_LOG_WARN, "uplink: HELLO: %s", th_strerror(rc));
    if (rc == -EAGAIN)
        u->last_tx = 0;   /* resend from the tick while not connected */
}

static void
s_on_tick(uv_timer_t *t)
{
    th_uplink_t *u = t->data;
    const th_config_t *c = &u->o->cfg;
    int64_t now = th_now_ms();
    if (u->state == S_DOWN)
        return;
    if (now - u->last_rx > c->timeout_ms) {
        if (u->state == S_HELLO_SENT && u->has_next) {
            /* no handshake: the parent may have gone over to its new key */
            u->use_next = !u->use_next;
            th_log(TH_LOG_INFO, "uplink: no answer: trying the parent's %s key",
                   u->use_next ? "new" : "previous");
        }
        s_disconnect(u, "no answer from the parent");
        s_schedule_retry(u);
        return;
    }
    if (u->state == S_HELLO_SENT && u->last_tx == 0) {
        th_msg_t hello;
        th_msg_init(&hello, TH_MSG_HELLO);
        snprintf(hello.unit, sizeof hello.unit, "%s", c->unit);
        snprintf(hello.agent, sizeof hello.agent, "%s", S_AGENT);
        hello.clock = now;
        hello.meta_upto = u->meta;
        if (s_send_msg(u, &hello) < 0)
            u->last_tx = 0;
        return;
    }
    if (u->state != S_STREAMING)
        return;
    /* Sent but not acknowledged for long while the link answers: a batch
       (or its ACK) was lost in a cut that libzmq healed underneath us.
       Ask again where the parent stands; WELCOME resends from there. */
    if (u->sent > u->acked && now - u->last_progress > c->timeout_ms / 2) {
        th_log(TH_LOG_INFO, "uplink: no ACK beyond %" PRIu64 " (sent %" PRIu64
               "): resynchronising", u->acked, u->sent);
        th_msg_t hello;
        th_msg_init(&hello, TH_MSG_HELLO);
        snprintf(hello.unit, sizeof hello.unit, "%s", c->unit);
        snprintf(hello.agent, sizeof hello.agent, "%s", S_AGENT);
        hello.clock = now;
        hello.meta_upto = u->meta;
        u->last_progress = now;
        if (s_send_msg(u, &hello) == 0)
            u->state = S_HELLO_SENT;
        return;
    }
    if (now - u->last_tx >= c->heartbeat_ms) {
        th_msg_t ping;
        th_msg_init(&ping, TH_MSG_PING);
        ping.clock = now;
        s_send_msg(u, &ping);
    }
    if (now - u->last_poll >= c->poll_ms) {
        u->last_poll = now;
        s_pump(u);
    }
    if (u->last_rx - u->last_contact_saved > 5000)
        s_save(u, NULL, NULL);
}

/* ---- service ------------------------------------------------------------------- */

/* The META cursor counts the notices of one parent: another parent (a
   commune moved in the 2025 reform, a district replaced) numbers its own
   from 1, so the cursor starts again when the parent's key changes. The
   log cursor needs no such care: WELCOME's resume_after sets it. */
static int
s_acked_txn(th_store_txn_t *txn, void *ctx)
{
    th_uplink_t *u = ctx;
    const char *pk = u->o->cfg.parent_key;
    const void *v;
    size_t len;
    int rc = th_store_kv_get(txn, TH_DB_STATE, "uplink.parent", &v, &len);
    if (rc < 0 && rc != TH_E_NOTFOUND)
        return rc;
    bool changed = rc == TH_E_NOTFOUND || len != strlen(pk) || memcmp(v, pk, len) != 0;
    if (changed && u->start_readonly) {
        /* (a full disk) the change is recorded at a later start */
    } else if (changed) {
        if (rc == 0)
            th_log(TH_LOG_INFO, "uplink: the parent's key changed: its notices are counted "
                                "afresh");
        if ((rc = th_store_state_put_u64(txn, "uplink.meta", 0)) < 0 ||
            (rc = th_store_kv_put(txn, TH_DB_STATE, "uplink.parent", pk, strlen(pk))) < 0)
            return rc;
    }
    rc = th_store_state_get_u64(txn, "uplink.acked", &u->acked);
    if (rc == 0 && changed)
        u->meta = 0;
    else if (rc == 0)
        rc = th_store_state_get_u64(txn, "uplink.meta", &u->meta);
    return rc == 0 ? s_keys_txn(txn, u) : rc;
}

static int
s_start(void *self, th_daemon_t *d)
{
    th_uplink_t *u = self;
    u->d = d;
    u->start_readonly = false;
    int rc = th_store_write(u->o->store, s_acked_txn, u);
    if (rc == TH_E_DISKFULL) {
        /* what is stored must still go up: start from a read */
        th_log(TH_LOG_WARN, "uplink: the disk is full; starting without recording the parent");
        u->start_readonly = true;
        rc = th_store_read(u->o->store, s_acked_txn, u);
    }
    if (rc < 0)
        return rc;
    u->sent = u->acked;
    uv_timer_init(th_daemon_loop(d), &u->t_tick);
    uv_timer_init(th_daemon_loop(d), &u->t_retry);
    u->t_tick.data = u->t_retry.data = u;
    u->timers = 1;
    int period = u->o->cfg.heartbeat_ms / 4;
    if (period > u->o->cfg.poll_ms)
        period = u->o->cfg.poll_ms;
    if (period < 10)
        period = 10;
    uv_timer_start(&u->t_tick, s_on_tick, (uint64_t)period, (uint64_t)period);
    srandom((unsigned)(th_now_ms() ^ (int64_t)getpid()));
    th_log(TH_LOG_INFO, "uplink: parent %s, acknowledged through seq %" PRIu64,
           u->o->cfg.parent_endpoint, u->acked);
    s_connect(u);
    return 0;
}

static void
s_stop(void *self)
{
    th_uplink_t *u = self;
    if (u->sock) {
        th_zuv_destroy(&u->zuv);
        zmq_close(u->sock);
        u->sock = NULL;
    }
    if (u->timers) {
        uv_timer_stop(&u->t_tick);
        uv_timer_stop(&u->t_retry);
        uv_close((uv_handle_t *)&u->t_tick, NULL);
        uv_close((uv_handle_t *)&u->t_retry, NULL);
        u->timers = 0;
    }
    if (u->state != S_DOWN)
        s_save(u, "down", NULL);
    u->state = S_DOWN;
}

th_uplink_t *
th_uplink_new(th_office_t *o, int *err)
{
    if (!o->cfg.parent_endpoint[0]) {
        *err = TH_E_CONFIG;
        return NULL;
    }
    th_uplink_t *u = th_calloc(1, sizeof *u);
    if (!u) {
        *err = -ENOMEM;
        return NULL;
    }
    u->o = o;
    if (th_z85_decode_key(o->cfg.parent_key, u->parent_pk) < 0 || s_curve(u) < 0) {
        th_free(u);
        *err = TH_E_KEY;
        return NULL;
    }
    u->window = 1;
    return u;
}

void
th_uplink_destroy(th_uplink_t **self_p)
{
    th_uplink_t *u = *self_p;
    if (!u)
        return;
    memset(u->my_curve_sk, 0, sizeof u->my_curve_sk);
    th_free(u);
    *self_p = NULL;
}

th_service_t
th_uplink_service(th_uplink_t *u)
{
    return (th_service_t){ .name = "uplink", .start = s_start, .stop = s_stop, .self = u };
}

void
th_uplink_wake(th_uplink_t *u)
{
    s_pump(u);
}

void
th_uplink_wake_cb(void *arg)
{
    th_uplink_wake(arg);
}
