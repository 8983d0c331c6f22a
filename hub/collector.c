/*  collector: ROUTER + ZAP handler + ingest of children's batches. */
#include "collector.h"
#include "err.h"
#include "ingest.h"
#include "log.h"
#include "metaq.h"
#include "mem.h"
#include "msg.h"
#include "peers.h"
#include "rotation.h"
#include "zuv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_WINDOW 1024
#define S_CHILDREN 4096   /* connected children tracked for META pushes */

/* A child seen on this run: where to reach it and how far META went. */
typedef struct {
    char unit[TH_UNIT_MAX];
    uint8_t rid[256];
    size_t rid_len;
    uint64_t meta_sent;     /* highest META seq sent on its connection */
    int64_t last_seen;
    /* [limits] token buckets (loop time, ms): what it may still send now */
    double tok_msgs, tok_bytes;
    uint64_t refill_ms;     /* 0: buckets not filled yet */
    uint64_t dropped;       /* messages dropped over the limits, this run */
    uint64_t warned_ms;     /* last time its excess was logged */
    uint64_t gap_logged_ms; /* last time a lost batch (restart) was logged */
    uint64_t cap_logged_ms; /* last time its store cap was logged */
    /* its last HELLO (peers seen:), written with the others' at the next
       tick: one commit for a thousand reconnecting children, not one each */
    int64_t seen_at, seen_offset;
    bool seen_dirty;
} s_child_t;

struct th_collector {
    th_office_t *o;             /* borrowed */
    th_daemon_t *d;
    void *router, *zap, *mon;
    th_zuv_t *zrouter, *zzap, *zmon;
    uint8_t curve_pk[32], curve_sk[32];
    bool router_prev;           /* the ROUTER still serves the key being
                                   rotated out (node/rotation.h) */
    void (*on_applied)(void *arg);
    void *on_applied_arg;
    th_ingest_t *ingest;        /* one batch at a time (loop thread) */
    s_child_t *children;        /* S_CHILDREN slots */
    size_t nchildren;
    uv_timer_t tick;            /* pushes META queued by other paths */
    uint64_t forms_gen;         /* forms.gen + units.gen when forms and unit lists
                                   were last passed on */
    int tick_on;
};

static s_child_t *
s_child(th_collector_t *c, const char *unit, bool create)
{
    for (size_t i = 0; i < c->nchildren; i++)
        if (strcmp(c->children[i].unit, unit) == 0)
            return &c->children[i];
    if (!create)
        return NULL;
    size_t slot = c->nchildren;
    if (slot == S_CHILDREN) {   /* full: reuse the longest silent one */
        slot = 0;
        for (size_t i = 1; i < S_CHILDREN; i++)
            if (c->children[i].last_seen < c->children[slot].last_seen)
                slot = i;
    } else {
        c->nchildren++;
    }
    s_child_t *ch = &c->children[slot];
    memset(ch, 0, sizeof *ch);
    snprintf(ch->unit, sizeof ch->unit, "%s", unit);
    return ch;
}

/* ---- limits ------------------------------------------------------------ */

#define S_WARN_EVERY_MS 5000   /* excess of one child logged at most this often */

/* True (and *last set to now) when *last is unset or S_WARN_EVERY_MS old:
   one child's repeated trouble is logged once every 5 s, not per message. */
static bool
s_every(uint64_t *last, uint64_t now)
{
    if (*last && now - *last < S_WARN_EVERY_MS)
        return false;
    *last = now;
    return true;
}

/* True when ch may send a message of len bytes now ([limits]
   child_msgs_per_s and child_kib_per_s, buckets of 2 s that always hold one
   largest frame); false: the message is dropped unread, as a congested
   line would lose it, and the child resends after its timeout. A flood
   costs the hub a recv and this test, not a decode, a signature check and
   a durable commit. */
static bool
s_admit(th_collector_t *c, s_child_t *ch, size_t len)
{
    const th_config_t *cfg = &c->o->cfg;
    uint64_t now = uv_now(th_daemon_loop(c->d));
    double rate_m = cfg->limit_msgs_per_s, rate_b = (double)cfg->limit_kib_per_s * 1024.0;
    double cap_m = 2 * rate_m, cap_b = 2 * rate_b;
    if (cap_b < (double)TH_MSG_FRAME_MAX)
        cap_b = (double)TH_MSG_FRAME_MAX;
    if (!ch->refill_ms) {
        ch->tok_msgs = cap_m;
        ch->tok_bytes = cap_b;
    } else if (now > ch->refill_ms) {
        double s = (double)(now - ch->refill_ms) / 1000.0;
        ch->tok_msgs = ch->tok_msgs + s * rate_m > cap_m ? cap_m : ch->tok_msgs + s * rate_m;
        ch->tok_bytes = ch->tok_bytes + s * rate_b > cap_b ? cap_b : ch->tok_bytes + s * rate_b;
    }
    ch->refill_ms = now;
    if (ch->tok_msgs >= 1.0 && ch->tok_bytes >= (double)len) {
        ch->tok_msgs -= 1.0;
        ch->tok_bytes -= (double)len;
        return true;
    }
    ch->dropped++;
    if (s_every(&ch->warned_ms, now))
        th_log(TH_LOG_WARN, "collector: %s is over its limits ([limits] child_msgs_per_s = %d, "
               "child_kib_per_s = %d): %" PRIu64 " message(s) dropped so far", ch->unit,
               cfg->limit_msgs_per_s, cfg->limit_kib_per_s, ch->dropped);
    return false;
}

/* ---- ZAP (RFC 27) ------------------------------------------------------ */

typedef struct {
    const uint8_t *curve;
    char unit[TH_UNIT_MAX];
    bool rotated;     /* out: the unit rotated its key and this is the new one */
} s_zap_q_t;

static int
s_zap_lookup(th_store_txn_t *txn, void *ctx)
{
    s_zap_q_t *q = ctx;
    int rc = th_peers_unit_by_curve(txn, q->curve, q->unit);
    uint8_t prev[32], curve[32];
    if (rc == 0 && th_peers_prev(txn, q->unit, prev) == 0 &&
        th_pubkey_curve(prev, curve) == 0 && memcmp(curve, q->curve, 32) != 0)
        q->rotated = true;
    return rc;
}

/* A child that rotated its key connects with the new one: the old one can
   no longer connect. */
static int
s_zap_rotated(th_store_txn_t *txn, void *ctx)
{
    s_zap_q_t *q = ctx;
    int rc = th_peers_prev_drop(txn, q->unit);
    if (rc == 1)
        th_log(TH_LOG_INFO, "collector: %s connects with its new key: the old one is no "
                            "longer accepted", q->unit);
    return rc < 0 ? rc : 0;
}

static void
s_zap_reply(void *sock, const zmq_msg_t *reqid, const char *status, const char *text,
            const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, zmq_msg_data((zmq_msg_t *)reqid), zmq_msg_size((zmq_msg_t *)reqid),
             ZMQ_SNDMORE);
    zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

static void
s_on_zap(void *sock, void *arg)
{
    th_collector_t *c = arg;
    zmq_msg_t f[8];
    int n = 0, more = 1;
    while (more && n < 8) {
        zmq_msg_init(&f[n]);
        if (zmq_msg_recv(&f[n], sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f[n]);
            break;
        }
        more = zmq_msg_more(&f[n]);
        n++;
    }
    while (more) {   /* drain an over-long request */
        zmq_msg_t x;
        zmq_msg_init(&x);
        if (zmq_msg_recv(&x, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&x);
            break;
        }
        more = zmq_msg_more(&x);
        zmq_msg_close(&x);
    }
    /* version, request id, domain, address, identity, mechanism, key */
    if (n >= 2) {
        const char *status = "400", *text = "unknown key";
        s_zap_q_t q = { 0 };
        if (n == 7 && zmq_msg_size(&f[5]) == 5 &&
            memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 && zmq_msg_size(&f[6]) == 32) {
            q.curve = zmq_msg_data(&f[6]);
            int rc = th_store_read(c->o->store, s_zap_lookup, &q);
            int w;
            if (rc == 0 && q.rotated && (w = th_store_write(c->o->store, s_zap_rotated, &q)) < 0)
                th_log(TH_LOG_WARN, "collector: cannot record that %s uses its new key: %s",
                       q.unit, th_strerror(w));
            if (rc == 0) {
                status = "200";
                text = "OK";
            } else if (rc != TH_E_NOTFOUND) {
                status = "500";
                text = "store error";
            }
        } else {
            text = "CURVE required";
        }
        if (status[0] != '2') {
            char addr[64] = "";
            if (n > 3)
                snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&f[3]),
                         (const char *)zmq_msg_data(&f[3]));
            th_log(TH_LOG_WARN, "collector: refused a connection from %s: %s", addr, text);
        }
        s_zap_reply(sock, &f[1], status, text, status[0] == '2' ? q.unit : "");
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* ---- children's messages ------------------------------------------------------ */

/* Where the child's notices go now, and how far it has them. */
static void
s_child_route(s_child_t *ch, const zmq_msg_t *rid, uint64_t meta_upto)
{
    if (zmq_msg_size((zmq_msg_t *)rid) <= sizeof ch->rid) {
        ch->rid_len = zmq_msg_size((zmq_msg_t *)rid);
        memcpy(ch->rid, zmq_msg_data((zmq_msg_t *)rid), ch->rid_len);
    }
    ch->meta_sent = meta_upto;
}

static void
s_reply(th_collector_t *c, const zmq_msg_t *rid, const th_msg_t *m)
{
    uint8_t *buf;
    size_t len;
    int rc = th_msg_encode(m, &buf, &len);
    if (rc < 0) {
        th_log(TH_LOG_ERROR, "collector: cannot encode %s: %s", th_msg_type_name(m->type),
               th_strerror(rc));
        return;
    }
    rc = th_zuv_send(c->zrouter, zmq_msg_data((zmq_msg_t *)rid),
                     zmq_msg_size((zmq_msg_t *)rid), buf, len);
    th_free(buf);
    if (rc < 0)
        th_log(TH_LOG_WARN, "collector: send %s: %s", th_msg_type_name(m->type),
               th_strerror(rc));
}

/* WELCOME: resume after seq (what we hold of the child), with the last
   entry received from it (check_seq, its digest) when it is within. */
static void
s_welcome(th_collector_t *c, const zmq_msg_t *rid, uint64_t seq, int64_t now,
          uint64_t check_seq, const uint8_t check[TH_DIGEST_LEN])
{
    th_msg_t w;
    th_msg_init(&w, TH_MSG_WELCOME);
    w.resume_after = seq;
    w.clock = now;
    w.window = S_WINDOW;
    w.check_seq = check_seq <= seq ? check_seq : 0;
    memcpy(w.check, check, sizeof w.check);
    snprintf(w.unit, sizeof w.unit, "%s", c->o->cfg.unit);
    s_reply(c, rid, &w);
}

typedef struct {
    const char *unit;
    uint64_t after;
    uint8_t *frame;
    size_t len;
    uint64_t last;
} s_meta_t;

static int
s_meta_txn(th_store_txn_t *txn, void *ctx)
{
    s_meta_t *x = ctx;
    th_msg_t m;
    th_msg_init(&m, TH_MSG_META);
    int rc = th_metaq_fill(txn, x->unit, x->after, 128, &m);
    if (rc == 0 && m.nmeta) {
        x->last = m.meta[m.nmeta - 1].seq;
        rc = th_msg_encode(&m, &x->frame, &x->len);
    }
    th_msg_clear(&m);
    return rc;
}

/* Sends what is queued for ch beyond what its connection already got. */
static void
s_push_meta(th_collector_t *c, s_child_t *ch)
{
    if (!ch->rid_len)
        return;
    s_meta_t x = { .unit = ch->unit, .after = ch->meta_sent };
    int rc = th_store_read(c->o->store, s_meta_txn, &x);
    if (rc < 0) {
        th_log(TH_LOG_ERROR, "collector: META for %s: %s", ch->unit, th_strerror(rc));
        return;
    }
    if (!x.frame)
        return;
    rc = th_zuv_send(c->zrouter, ch->rid, ch->rid_len, x.frame, x.len);
    th_free(x.frame);
    if (rc == 0)
        ch->meta_sent = x.last;
}

typedef struct {
    th_collector_t *c;
    uint64_t gen;
} s_gen_t;

/* forms.gen + units.gen: moves whenever a form or a unit list changed */
static int
s_gen_read(th_store_txn_t *txn, void *ctx)
{
    uint64_t f = 0, u = 0;
    int rc = th_store_state_get_u64(txn, "forms.gen", &f);
    if (rc == 0)
        rc = th_store_state_get_u64(txn, "units.gen", &u);
    *(uint64_t *)ctx = f + u;
    return rc;
}

static int
s_forms_txn(th_store_txn_t *txn, void *ctx)
{
    s_gen_t *g = ctx;
    int rc = s_gen_read(txn, &g->gen);
    for (size_t i = 0; rc == 0 && i < g->c->nchildren; i++)
        if (g->c->children[i].rid_len)
            rc = th_metaq_sync_down(txn, g->c->o, g->c->children[i].unit);
    return rc;
}

static void s_rotation(th_collector_t *c);

static int
s_seen_txn(th_store_txn_t *txn, void *ctx)
{
    th_collector_t *c = ctx;
    for (size_t i = 0; i < c->nchildren; i++) {
        s_child_t *ch = &c->children[i];
        int rc;
        if (ch->seen_dirty &&
            (rc = th_peers_seen_put(txn, ch->unit, ch->seen_at, ch->seen_offset)) < 0)
            return rc;
    }
    return 0;
}

/* The HELLOs since the last flush, in one commit. */
static void
s_seen_flush(th_collector_t *c)
{
    bool any = false;
    for (size_t i = 0; i < c->nchildren && !any; i++)
        any = c->children[i].seen_dirty;
    if (!any)
        return;
    int rc = th_store_write(c->o->store, s_seen_txn, c);
    if (rc < 0) {
        th_log(TH_LOG_WARN, "collector: cannot record the children's last contact: %s",
               th_strerror(rc));
        return;
    }
    for (size_t i = 0; i < c->nchildren; i++)
        c->children[i].seen_dirty = false;
}

static void
s_on_tick(uv_timer_t *t)
{
    th_collector_t *c = t->data;
    int64_t now = th_now_ms();
    /* forms and unit lists that changed since the last tick go on down */
    uint64_t gen = c->forms_gen;
    if (th_store_read(c->o->store, s_gen_read, &gen) == 0 && gen != c->forms_gen) {
        s_gen_t g = { c, 0 };
        if (th_store_write(c->o->store, s_forms_txn, &g) == 0)
            c->forms_gen = g.gen;
    }
    /* units added by `units add` (another process) since the last tick */
    bool changed;
    char why[256];
    if (th_office_reload_units(c->o, &changed, why, sizeof why) < 0)
        th_log(TH_LOG_WARN, "collector: cannot read the unit lists again: %s", why);
    else if (changed)
        th_log(TH_LOG_INFO, "collector: unit lists read again (a unit was added)");
    for (size_t i = 0; i < c->nchildren; i++) {
        s_child_t *ch = &c->children[i];
        /* a child silent for three timeouts has gone; its next HELLO says
           where it stands */
        if (ch->rid_len && now - ch->last_seen > 3 * (int64_t)c->o->cfg.timeout_ms)
            ch->rid_len = 0;
        s_push_meta(c, ch);
    }
    s_seen_flush(c);
    s_rotation(c);
}

typedef struct {
    const char *unit;
    uint64_t upto;
} s_mack_t;

static int
s_mack_txn(th_store_txn_t *txn, void *ctx)
{
    s_mack_t *x = ctx;
    return th_metaq_ack(txn, x->unit, x->upto);
}

typedef struct {
    const char *unit;
    uint64_t seq;
    int64_t now, offset;
    uint64_t meta_upto;
    th_office_t *office;
    uint64_t check_seq;
    uint8_t check[TH_DIGEST_LEN];
} s_hello_t;


static int
s_hello_txn(th_store_txn_t *txn, void *ctx)
{
    s_hello_t *h = ctx;
    /* a key revoked while its connection was open: ZAP admitted it then */
    uint8_t pk[32];
    bool direct = false;
    int rc = th_peers_key(txn, h->unit, pk, &direct);
    if (rc == TH_E_NOTFOUND || (rc == 0 && !direct))
        return TH_E_KEY;
    if (rc == 0)
        rc = th_peers_seq_get(txn, h->unit, &h->seq);
    if (rc == 0)
        rc = th_peers_last_get(txn, h->unit, &h->check_seq, h->check);
    if (rc == 0)
        rc = th_metaq_ack(txn, h->unit, h->meta_upto);
    if (rc == 0)
        rc = th_metaq_sync_down(txn, h->office, h->unit);
    return rc;
}

static void
s_on_batch(th_collector_t *c, const zmq_msg_t *rid, const char *unit, const th_msg_t *m)
{
    th_ingest_t *b = c->ingest;
    memset(b, 0, sizeof *b);
    b->office = c->o;
    b->sender = unit;
    b->entries = m->entries;
    b->nentries = m->nentries;
    b->through = m->through;
    b->after = m->after;
    b->now = th_now_ms();
    b->store_cap = (uint64_t)c->o->cfg.limit_store_mb * 1024 * 1024;
    int rc = th_store_write(c->o->store, th_ingest_batch, b);
    if (rc < 0) {
        /* nothing committed: no ACK; the child resends after its timeout */
        th_log(TH_LOG_ERROR, "collector: batch from %s not stored: %s", unit,
               th_strerror(rc));
        return;
    }
    if (b->gap) {
        /* a child that ignores the restart would get one log line per batch */
        s_child_t *ch = s_child(c, unit, false);
        uint64_t now = uv_now(th_daemon_loop(c->d));
        uint64_t once = 0;
        if (s_every(ch ? &ch->gap_logged_ms : &once, now))
            th_log(TH_LOG_INFO, "collector: %s sent from %" PRIu64 " but we hold only "
                   "through %" PRIu64 ": restarting it there", unit, m->after, b->upto);
        s_welcome(c, rid, b->upto, b->now, b->check_seq, b->check);
        return;
    }
    if (b->over_cap) {
        s_child_t *ch = s_child(c, unit, false);
        uint64_t now = uv_now(th_daemon_loop(c->d));
        uint64_t once = 0;
        if (s_every(ch ? &ch->cap_logged_ms : &once, now))
            th_log(TH_LOG_WARN, "collector: %s has %" PRIu64 " bytes stored here, at its "
                   "[limits] child_store_mb = %d: batch refused", unit, b->stored,
                   c->o->cfg.limit_store_mb);
        char reason[TH_MSG_REASON_MAX];
        snprintf(reason, sizeof reason, "Cấp trên đã lưu %" PRIu64 " MB dữ liệu của đơn vị "
                 "này và các đơn vị trực thuộc, đạt hạn mức %d MB; báo cáo mới chưa được "
                 "nhận. Hãy liên hệ cán bộ quản trị của cấp trên.",
                 b->stored / (1024 * 1024), c->o->cfg.limit_store_mb);
        th_msg_t err;
        th_msg_init(&err, TH_MSG_ERROR);
        err.code = TH_E_LIMIT;
        err.reason = reason;
        s_reply(c, rid, &err);
        return;
    }
    th_log(TH_LOG_DEBUG, "collector: %s through %" PRIu64 ": %zu applied, %zu held, "
           "%zu rejected", unit, b->upto, b->applied, b->duplicates, b->nrejected);
    th_msg_t ack;
    th_msg_init(&ack, TH_MSG_ACK);
    ack.upto = b->upto;
    for (size_t i = 0; i < b->nrejected; i++)
        if (th_msg_add_reject(&ack, b->rejected[i].seq, b->rejected[i].code,
                              b->rejected[i].reason) < 0 &&
            th_msg_add_reject(&ack, b->rejected[i].seq, b->rejected[i].code,
                              "Dữ liệu bị từ chối") < 0)
            th_log(TH_LOG_ERROR, "collector: cannot report rejection of seq %" PRIu64,
                   b->rejected[i].seq);
    s_reply(c, rid, &ack);
    th_msg_clear(&ack);
    s_child_t *ch = s_child(c, unit, false);
    if (ch)
        s_push_meta(c, ch);
    if (b->applied && c->on_applied)
        c->on_applied(c->on_applied_arg);
}

static void
s_on_router(void *sock, void *arg)
{
    th_collector_t *c = arg;
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&rid, sock, ZMQ_DONTWAIT) < 0)
        goto out;
    if (!zmq_msg_more(&rid) || zmq_msg_recv(&body, sock, ZMQ_DONTWAIT) < 0)
        goto out;
    if (zmq_msg_more(&body)) {
        /* one frame per message: drain and ignore the rest */
        int more = 1;
        while (more) {
            zmq_msg_t x;
            zmq_msg_init(&x);
            if (zmq_msg_recv(&x, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&x);
                break;
            }
            more = zmq_msg_more(&x);
            zmq_msg_close(&x);
        }
        goto out;
    }
    const char *unit = zmq_msg_gets(&body, "User-Id");
    if (!unit || !th_valid_unit_code(unit))
        goto out;   /* cannot happen past ZAP; never trust a body instead */
    s_child_t *lim = s_child(c, unit, true);
    if (!s_admit(c, lim, zmq_msg_size(&body)))
        goto out;
    th_msg_t m = { 0 };
    int rc = th_msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m);
    if (rc < 0) {
        th_log(TH_LOG_WARN, "collector: bad message from %s: %s", unit, th_strerror(rc));
        th_msg_t err;
        th_msg_init(&err, TH_MSG_ERROR);
        err.code = rc;
        err.reason = "Thông điệp không hợp lệ";
        s_reply(c, &rid, &err);
        goto out;
    }
    s_child_t *seen = s_child(c, unit, false);
    if (seen)
        seen->last_seen = th_now_ms();
    switch (m.type) {
    case TH_MSG_HELLO: {
        if (strcmp(m.unit, unit) != 0) {
            th_log(TH_LOG_WARN, "collector: key of %s says it is %s: refused", unit, m.unit);
            th_msg_t err;
            th_msg_init(&err, TH_MSG_ERROR);
            err.code = TH_E_UNIT;
            err.reason = "Mã đơn vị không khớp với khóa đã đăng ký";
            s_reply(c, &rid, &err);
            break;
        }
        s_hello_t h = { .unit = unit, .now = th_now_ms(), .meta_upto = m.meta_upto,
                        .office = c->o };
        h.offset = m.clock - h.now;
        rc = th_store_write(c->o->store, s_hello_txn, &h);
        if (rc == TH_E_KEY) {
            th_log(TH_LOG_WARN, "collector: %s is no longer enrolled here (revoked): refused",
                   unit);
            th_msg_t err;
            th_msg_init(&err, TH_MSG_ERROR);
            err.code = TH_E_KEY;
            err.reason = "Khóa của văn phòng này đã bị cấp trên thu hồi; hãy liên hệ cán bộ "
                         "quản trị của cấp trên để đăng ký khóa mới";
            s_reply(c, &rid, &err);
            break;
        }
        if (rc < 0) {
            th_log(TH_LOG_ERROR, "collector: HELLO from %s: %s", unit, th_strerror(rc));
            break;
        }
        th_log(TH_LOG_INFO, "collector: %s connected, holds through %" PRIu64
               ", clock offset %" PRId64 " ms", unit, h.seq, h.offset);
        s_welcome(c, &rid, h.seq, h.now, h.check_seq, h.check);
        s_child_t *ch = s_child(c, unit, true);
        s_child_route(ch, &rid, m.meta_upto);
        ch->last_seen = h.now;
        ch->seen_at = h.now;
        ch->seen_offset = h.offset;
        ch->seen_dirty = true;
        s_push_meta(c, ch);
        break;
    }
    case TH_MSG_META_ACK: {
        s_mack_t x = { unit, m.upto };
        rc = th_store_write(c->o->store, s_mack_txn, &x);
        if (rc < 0)
            th_log(TH_LOG_ERROR, "collector: META_ACK from %s: %s", unit, th_strerror(rc));
        break;
    }
    case TH_MSG_BATCH:
        s_on_batch(c, &rid, unit, &m);
        break;
    case TH_MSG_PING: {
        th_msg_t pong;
        th_msg_init(&pong, TH_MSG_PONG);
        pong.clock = th_now_ms();
        s_reply(c, &rid, &pong);
        /* A child whose link libzmq healed under it (a cut, or our
           restart) comes on another routing id and need not say HELLO
           again: route its notices there. From 0: what it acknowledged is
           no longer queued, and it skips what it applied already. */
        if (lim->rid_len != zmq_msg_size(&rid) ||
            memcmp(lim->rid, zmq_msg_data(&rid), lim->rid_len) != 0) {
            s_child_route(lim, &rid, 0);
            lim->last_seen = th_now_ms();
            s_push_meta(c, lim);
        }
        break;
    }
    default:
        break;
    }
    th_msg_clear(&m);
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
}

/* Handshake failures never reach ZAP (a client without CURVE fails the
   mechanism check first): a socket monitor makes them visible in the log. */
static void
s_on_monitor(void *sock, void *arg)
{
    (void)arg;
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&ev) &&
        zmq_msg_recv(&addr, sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_size(&ev) >= 6) {
        uint16_t event;
        memcpy(&event, zmq_msg_data(&ev), sizeof event);   /* host byte order */
        const char *what = event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol error (no CURVE?)"
                         : event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "key not admitted"
                         : "handshake failed";
        th_log(TH_LOG_WARN, "collector: refused a connection on %.*s: %s",
               (int)zmq_msg_size(&addr), (const char *)zmq_msg_data(&addr), what);
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
}

/* ---- service ---------------------------------------------------------------------- */

static int
s_progress_read(th_store_txn_t *txn, void *ctx)
{
    return th_rotation_progress(txn, ctx);
}

/* The ROUTER's key: during our own rotation the old one, until every
   direct child has acknowledged the new one (they could not connect
   otherwise). */
static int
s_curve_set(th_collector_t *c)
{
    th_rotation_progress_t p = { 0 };
    if (c->o->has_prev && th_store_read(c->o->store, s_progress_read, &p) < 0)
        p.npending = 1;   /* unknown: stay on the key the children have */
    c->router_prev = c->o->has_prev && p.npending > 0;
    return th_identity_curve(c->router_prev ? &c->o->prev : &c->o->id, c->curve_pk,
                             c->curve_sk) < 0 ? TH_E_KEY : 0;
}

static void
s_router_close(th_collector_t *c)
{
    th_zuv_destroy(&c->zrouter);
    th_zuv_destroy(&c->zmon);
    if (c->router) {
        zmq_socket_monitor(c->router, NULL, 0);
        zmq_close(c->router);
    }
    if (c->mon)
        zmq_close(c->mon);
    c->router = c->mon = NULL;
}

/* The ROUTER with its monitor, bound to ep. 0 or -errno (logged). */
static int
s_router_open(th_collector_t *c, const char *ep)
{
    void *ctx = th_daemon_zctx(c->d);
    int rc, one = 1, zero = 0;
    /* libzmq would otherwise buffer any frame a peer announces before our
       own 4 MiB check sees it */
    int64_t maxmsg = TH_MSG_FRAME_MAX;
    /* thousands of communes come back at once after an outage here:
       libzmq's default backlog of 100 drops the rest of their SYNs, and
       TCP retries them only after 1, 3, 7, 15, 31 s (the kernel caps this
       at net.core.somaxconn) */
    int backlog = 4096;
    c->router = zmq_socket(ctx, ZMQ_ROUTER);
    if (!c->router ||
        zmq_setsockopt(c->router, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(c->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(c->router, ZMQ_CURVE_SECRETKEY, c->curve_sk, 32) != 0 ||
        zmq_setsockopt(c->router, ZMQ_ZAP_DOMAIN, "tonghop", 7) != 0 ||
        zmq_setsockopt(c->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(c->router, ZMQ_BACKLOG, &backlog, sizeof backlog) != 0 ||
        zmq_socket_monitor(c->router, "inproc://th-collector-monitor",
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0 ||
        zmq_bind(c->router, ep) != 0)
        goto zerr;
    c->mon = zmq_socket(ctx, ZMQ_PAIR);
    if (!c->mon || zmq_connect(c->mon, "inproc://th-collector-monitor") != 0)
        goto zerr;
    if (!(c->zmon = th_zuv_new(th_daemon_loop(c->d), c->mon, s_on_monitor, c, &rc)) ||
        !(c->zrouter = th_zuv_new(th_daemon_loop(c->d), c->router, s_on_router, c, &rc)))
        return rc;
    return 0;
zerr:
    rc = -zmq_errno();
    th_log(TH_LOG_ERROR, "collector: cannot listen on %s: %s", ep, zmq_strerror(-rc));
    return rc;
}

/* Our own rotation, each tick: the ROUTER goes over to the new key once
   every direct child has it (their links drop and come back with it);
   the rotation ends when the parent has it too. */
static void
s_rotation(th_collector_t *c)
{
    th_rotation_progress_t p;
    if (!c->o->has_prev || th_store_read(c->o->store, s_progress_read, &p) < 0)
        return;
    if (c->router_prev && p.npending == 0) {
        char ep[TH_ENDPOINT_MAX];
        size_t eplen = sizeof ep;
        if (zmq_getsockopt(c->router, ZMQ_LAST_ENDPOINT, ep, &eplen) != 0)
            snprintf(ep, sizeof ep, "%s", c->o->cfg.bind);
        th_log(TH_LOG_INFO, "collector: every child has our new key (%zu): listening with it "
               "on %s", p.nchildren, ep);
        s_router_close(c);
        for (size_t i = 0; i < c->nchildren; i++)
            c->children[i].rid_len = 0;   /* their next HELLO comes on the new socket */
        c->router_prev = false;
        int rc = th_identity_curve(&c->o->id, c->curve_pk, c->curve_sk) < 0 ? TH_E_KEY : 0;
        /* libzmq lets the old listener go in its I/O thread: the port may
           be taken for a moment */
        for (int i = 0; rc == 0; i++) {
            if ((rc = s_router_open(c, ep)) != -EADDRINUSE || i == 40)
                break;
            s_router_close(c);
            usleep(50 * 1000);
            rc = 0;
        }
        if (rc < 0)
            th_log(TH_LOG_ERROR, "collector: cannot listen with the new key: restart the "
                                 "daemon");
    }
    if (!c->router_prev && p.parent_has) {
        int rc = th_rotation_end(c->o->dir, c->o->store, &c->o->prev, &c->o->has_prev);
        if (rc < 0)
            th_log(TH_LOG_ERROR, "collector: cannot end the key rotation: %s",
                   th_strerror(rc));
        else
            th_log(TH_LOG_INFO, "collector: key rotation done: the old key is deleted");
    }
}

static int
s_start(void *self, th_daemon_t *d)
{
    th_collector_t *c = self;
    c->d = d;
    int rc;
    if ((rc = s_curve_set(c)) < 0)
        return rc;
    c->zap = zmq_socket(th_daemon_zctx(d), ZMQ_REP);
    if (!c->zap || zmq_bind(c->zap, "inproc://zeromq.zap.01") != 0) {
        rc = -zmq_errno();
        th_log(TH_LOG_ERROR, "collector: ZAP: %s", zmq_strerror(-rc));
        return rc;
    }
    if (!(c->zzap = th_zuv_new(th_daemon_loop(d), c->zap, s_on_zap, c, &rc)) ||
        (rc = s_router_open(c, c->o->cfg.bind)) < 0)
        return rc;
    uv_timer_init(th_daemon_loop(d), &c->tick);
    c->tick.data = c;
    c->tick_on = 1;
    uv_timer_start(&c->tick, s_on_tick, (uint64_t)c->o->cfg.poll_ms,
                   (uint64_t)c->o->cfg.poll_ms);
    /* with "tcp://IP:*" the kernel picked the port: say which */
    char ep[TH_ENDPOINT_MAX];
    size_t eplen = sizeof ep;
    if (zmq_getsockopt(c->router, ZMQ_LAST_ENDPOINT, ep, &eplen) != 0)
        snprintf(ep, sizeof ep, "%s", c->o->cfg.bind);
    if ((rc = th_daemon_publish(d, "collector", ep)) < 0)
        return rc;
    th_log(TH_LOG_INFO, "collector: listening on %s%s", ep,
           c->router_prev ? " (with the old key: children still learning the new one)" : "");
    return 0;
}

static void
s_stop(void *self)
{
    th_collector_t *c = self;
    if (c->o && c->o->store)
        s_seen_flush(c);
    if (c->tick_on) {
        uv_timer_stop(&c->tick);
        uv_close((uv_handle_t *)&c->tick, NULL);
        c->tick_on = 0;
    }
    s_router_close(c);
    th_zuv_destroy(&c->zzap);
    if (c->zap)
        zmq_close(c->zap);
    c->zap = NULL;
}

th_collector_t *
th_collector_new(th_office_t *o, int *err)
{
    if (!o->cfg.bind[0]) {
        *err = TH_E_CONFIG;
        return NULL;
    }
    th_collector_t *c = th_calloc(1, sizeof *c);
    if (!c || !(c->ingest = th_calloc(1, sizeof *c->ingest)) ||
        !(c->children = th_calloc(S_CHILDREN, sizeof *c->children))) {
        if (c)
            th_free(c->ingest);
        th_free(c);
        *err = -ENOMEM;
        return NULL;
    }
    c->o = o;
    return c;
}

void
th_collector_destroy(th_collector_t **self_p)
{
    th_collector_t *c = *self_p;
    if (!c)
        return;
    memset(c->curve_sk, 0, sizeof c->curve_sk);
    th_free(c->children);
    th_free(c->ingest);
    th_free(c);
    *self_p = NULL;
}

th_service_t
th_collector_service(th_collector_t *c)
{
    return (th_service_t){ .name = "collector", .start = s_start, .stop = s_stop, .self = c };
}

void
th_collector_on_applied(th_collector_t *c, void (*cb)(void *arg), void *arg)
{
    c->on_applied = cb;
    c->on_applied_arg = arg;
}
