/*  collector: ROUTER + ZAP handler + ingest of children's batches. */
#include "collector.h"
#include "err.h"
#include "ingest.h"
#include "log.h"
#include "mem.h"
#include "msg.h"
#include "peers.h"
#include "zuv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define S_WINDOW 256

struct th_collector {
    th_office_t *o;             /* borrowed */
    th_daemon_t *d;
    void *router, *zap;
    th_zuv_t *zrouter, *zzap;
    uint8_t curve_pk[32], curve_sk[32];
    void (*on_applied)(void *arg);
    void *on_applied_arg;
    th_ingest_t *ingest;        /* one batch at a time (loop thread) */
};

/* ---- ZAP (RFC 27) ------------------------------------------------------ */

typedef struct {
    const uint8_t *curve;
    char unit[TH_UNIT_MAX];
} s_zap_q_t;

static int
s_zap_lookup(th_store_txn_t *txn, void *ctx)
{
    s_zap_q_t *q = ctx;
    return th_peers_unit_by_curve(txn, q->curve, q->unit);
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

typedef struct {
    const char *unit;
    uint64_t seq;
    int64_t now, offset;
} s_hello_t;

static int
s_hello_txn(th_store_txn_t *txn, void *ctx)
{
    s_hello_t *h = ctx;
    int rc = th_peers_seq_get(txn, h->unit, &h->seq);
    if (rc == 0)
        rc = th_peers_seen_put(txn, h->unit, h->now, h->offset);
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
    b->now = th_now_ms();
    int rc = th_store_write(c->o->store, th_ingest_batch, b);
    if (rc < 0) {
        /* nothing committed: no ACK; the child resends after its timeout */
        th_log(TH_LOG_ERROR, "collector: batch from %s not stored: %s", unit,
               th_strerror(rc));
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
        s_hello_t h = { .unit = unit, .now = th_now_ms() };
        h.offset = m.clock - h.now;
        rc = th_store_write(c->o->store, s_hello_txn, &h);
        if (rc < 0) {
            th_log(TH_LOG_ERROR, "collector: HELLO from %s: %s", unit, th_strerror(rc));
            break;
        }
        th_log(TH_LOG_INFO, "collector: %s connected, holds through %" PRIu64
               ", clock offset %" PRId64 " ms", unit, h.seq, h.offset);
        th_msg_t w;
        th_msg_init(&w, TH_MSG_WELCOME);
        w.resume_after = h.seq;
        w.clock = h.now;
        w.window = S_WINDOW;
        snprintf(w.unit, sizeof w.unit, "%s", c->o->cfg.unit);
        s_reply(c, &rid, &w);
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

/* ---- service ---------------------------------------------------------------------- */

static int
s_start(void *self, th_daemon_t *d)
{
    th_collector_t *c = self;
    c->d = d;
    void *ctx = th_daemon_zctx(d);
    int rc, one = 1, zero = 0;
    c->zap = zmq_socket(ctx, ZMQ_REP);
    if (!c->zap || zmq_bind(c->zap, "inproc://zeromq.zap.01") != 0)
        goto zerr;
    c->router = zmq_socket(ctx, ZMQ_ROUTER);
    if (!c->router ||
        zmq_setsockopt(c->router, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(c->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(c->router, ZMQ_CURVE_SECRETKEY, c->curve_sk, 32) != 0 ||
        zmq_setsockopt(c->router, ZMQ_ZAP_DOMAIN, "tonghop", 7) != 0 ||
        zmq_bind(c->router, c->o->cfg.bind) != 0)
        goto zerr;
    if (!(c->zzap = th_zuv_new(th_daemon_loop(d), c->zap, s_on_zap, c, &rc)) ||
        !(c->zrouter = th_zuv_new(th_daemon_loop(d), c->router, s_on_router, c, &rc)))
        return rc;
    th_log(TH_LOG_INFO, "collector: listening on %s", c->o->cfg.bind);
    return 0;
zerr:
    rc = -zmq_errno();
    th_log(TH_LOG_ERROR, "collector: cannot listen on %s: %s", c->o->cfg.bind,
           zmq_strerror(-rc));
    return rc;
}

static void
s_stop(void *self)
{
    th_collector_t *c = self;
    th_zuv_destroy(&c->zrouter);
    th_zuv_destroy(&c->zzap);
    if (c->router)
        zmq_close(c->router);
    if (c->zap)
        zmq_close(c->zap);
    c->router = c->zap = NULL;
}

th_collector_t *
th_collector_new(th_office_t *o, int *err)
{
    if (!o->cfg.bind[0]) {
        *err = TH_E_CONFIG;
        return NULL;
    }
    th_collector_t *c = th_calloc(1, sizeof *c);
    if (!c || !(c->ingest = th_calloc(1, sizeof *c->ingest))) {
        th_free(c);
        *err = -ENOMEM;
        return NULL;
    }
    c->o = o;
    if (th_identity_curve(&o->id, c->curve_pk, c->curve_sk) < 0) {
        th_free(c->ingest);
        th_free(c);
        *err = TH_E_KEY;
        return NULL;
    }
    return c;
}

void
th_collector_destroy(th_collector_t **self_p)
{
    th_collector_t *c = *self_p;
    if (!c)
        return;
    memset(c->curve_sk, 0, sizeof c->curve_sk);
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
