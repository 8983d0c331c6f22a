/*  th_evil: a hostile child office, for the integration tests.

    It opens the data directory of a real office (its identity, its parent
    endpoint and the parent's key), connects a DEALER to the parent the way
    node/uplink.c does (CURVE keys derived from the Ed25519 identity) and
    then misbehaves in one chosen way: no CURVE at all, a key the parent
    never enrolled, random bytes, a msgpack bomb, a frame over the limit, a
    HELLO for another unit, a record of another unit, a record whose
    signature has one byte flipped, a replay of revisions the parent already
    holds, a record signed by a stranger's key, and (beyond issue 3) a
    properly signed record for a period its form does not have. It prints
    ONE line of JSON on stdout saying what the parent answered, so that a
    test can check that the hub refused or rejected the attack with a
    reason and kept serving (after every attack that got through the
    handshake, a PING must still be answered). "flood" is a stolen or
    broken office that is enrolled and signs properly but sends new
    revisions without end: it reports what it sent and what came back (the
    hub's limits should drop most of it, then refuse it with ERROR when its
    store cap is reached). Record attacks start from
    the office's own current revision of one report (the office must have
    submitted it) and are re-signed the way node/entry.c signs:
    th_codec_record_body, th_sign, th_codec_record_encode. With --quarantine
    it reads the quarantine table of a hub's data directory instead, because
    no CLI shows it. Exit status:
    0 when the attack ran, whatever the parent did; 1 when it could not be
    prepared (the JSON line then has "error"); 2 on a usage error. */
#include "codec.h"
#include "crypto.h"
#include "entry.h"
#include "err.h"
#include "mem.h"
#include "model.h"
#include "msg.h"
#include "office.h"
#include "period.h"
#include "store.h"
#include "units.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_OVERSIZED     (5u * 1024u * 1024u)  /* the "oversized" frame: 5 MiB */
#define S_GARBAGE_LEN   512
#define S_REPLAY_MAX    64                    /* revisions replayed at most */
#define S_OTHER_REV     1000000u              /* rev of the "otherunit" record */
#define S_AGENT         "th_evil/0.1"
#define S_MONITOR       "inproc://th-evil-monitor"

typedef enum {
    A_PLAIN, A_UNENROLLED, A_GARBAGE, A_BOMB, A_OVERSIZED, A_WRONGUNIT, A_OTHERUNIT,
    A_BADSIG, A_REPLAY, A_FORGED, A_BADPERIOD, A_FLOOD
} s_attack_t;

static const struct {
    const char *name;
    s_attack_t id;
    const char *what;
} s_attacks[] = {
    { "plain", A_PLAIN, "no CURVE at all (NULL mechanism)" },
    { "unenrolled", A_UNENROLLED, "CURVE with a freshly generated key" },
    { "garbage", A_GARBAGE, "512 random bytes as a message, after HELLO" },
    { "bomb", A_BOMB, "the msgpack array32 header dd ff ff ff ff, after HELLO" },
    { "oversized", A_OVERSIZED, "a 5 MiB BATCH frame, after HELLO" },
    { "wrongunit", A_WRONGUNIT, "HELLO claiming another unit code" },
    { "otherunit", A_OTHERUNIT, "a record of another unit, signed with this key" },
    { "badsig", A_BADSIG, "a new revision with one signature byte flipped" },
    { "replay", A_REPLAY, "revisions the parent holds, again, under new seqs" },
    { "forged", A_FORGED, "a new revision of this unit signed by a fresh key" },
    { "badperiod", A_BADPERIOD, "a properly signed record for a period the form has not" },
    { "flood", A_FLOOD, "for --flood-ms, BATCHes of 16 new, properly signed revisions as fast "
                        "as the socket takes them, never waiting for an ACK" },
};

typedef struct {
    const char *dir;
    const char *attack;
    const char *endpoint;      /* NULL: the office's configured parent */
    const char *form;
    const char *period;
    const char *other;         /* NULL: a sibling of the office's unit */
    int timeout_ms;
    int flood_ms;
    bool quarantine;
} s_opts_t;

/* What came back, gathered for the JSON line. */
typedef struct {
    void *ctx, *sock, *mon;
    bool connected;            /* the monitor saw the handshake succeed */
    const char *handshake;     /* "none", "ok", "auth-failed", ... */
    long hs_value;             /* ZAP status or ZMTP protocol error */
    int meta_seen;             /* META messages skipped while waiting */
} s_link_t;

/* Entries of one BATCH, owned. */
typedef struct {
    uint8_t *blob[S_REPLAY_MAX];
    size_t len[S_REPLAY_MAX];
    uint32_t rev[S_REPLAY_MAX];
    size_t n;
    char unit[TH_UNIT_MAX];
    char period[TH_PERIOD_MAX];
} s_batch_t;

static void
s_usage(FILE *f)
{
    fprintf(f, "usage: th_evil --dir D --attack NAME [--endpoint tcp://127.0.0.1:P]\n"
               "               [--timeout-ms N] [--form F] [--period P] [--other UNIT]\n"
               "               [--flood-ms N]\n"
               "       th_evil --dir HUBDIR --quarantine\n"
               "D is the data directory of an office (its identity, parent endpoint and\n"
               "parent key are used). Record attacks start from D's current revision of\n"
               "--form (dvcq-nam) for --period (2026). --other names the unit claimed by\n"
               "wrongunit/otherunit (default: a sibling of D's unit). Attacks:\n");
    for (size_t i = 0; i < sizeof s_attacks / sizeof s_attacks[0]; i++)
        fprintf(f, "  %-11s %s\n", s_attacks[i].name, s_attacks[i].what);
}

static void
s_print(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        puts(s);
        free(s);
    }
    fflush(stdout);
}

static json_t *
s_str(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static int64_t
s_left(int64_t deadline)
{
    int64_t l = deadline - th_now_ms();
    return l > 0 ? l : 0;
}

/* ---- records ------------------------------------------------------------- */

typedef struct {
    const char *key;
    th_record_t *tmpl;
    s_batch_t *replay;
    int found;
    int rc;
} s_load_t;

static int
s_load_rev(const th_store_rev_t *r, void *ctx)
{
    s_load_t *x = ctx;
    if (r->status != TH_STATUS_SUBMITTED || x->replay->n == S_REPLAY_MAX)
        return 0;
    size_t i = x->replay->n;
    if (!(x->replay->blob[i] = th_memdup(r->blob, r->len)))
        return -ENOMEM;
    x->replay->len[i] = r->len;
    x->replay->rev[i] = r->rev;
    x->replay->n++;
    return 0;
}

static int
s_load_txn(th_store_txn_t *txn, void *ctx)
{
    s_load_t *x = ctx;
    th_store_rev_t cur;
    int rc = th_store_get_current(txn, x->key, &cur);
    if (rc < 0)
        return rc;
    x->found = 1;
    if ((rc = th_entry_decode_verified(cur.blob, cur.len, x->tmpl)) < 0)
        return rc;
    /* every submitted revision up to the current one: what the parent holds */
    return th_store_each_revision(txn, x->key, s_load_rev, x);
}

static void
s_batch_clear(s_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        th_free(b->blob[i]);
    memset(b, 0, sizeof *b);
}

/* Signs r as node/entry.c does, with signer (whose key becomes the origin);
   flip: the index of a signature byte to flip after signing, or -1. */
static int
s_seal(th_record_t *r, const th_identity_t *signer, int flip, s_batch_t *b)
{
    uint8_t *body = NULL;
    size_t body_len;
    memcpy(r->origin, signer->pk, sizeof r->origin);
    r->submitted_at = th_now_ms();
    int rc = th_codec_record_body(r, &body, &body_len);
    if (rc < 0)
        return rc;
    th_sign(signer, body, body_len, r->sig);
    th_free(body);
    if (flip >= 0)
        r->sig[flip] ^= 0x01;
    if ((rc = th_codec_record_encode(r, &b->blob[0], &b->len[0])) < 0)
        return rc;
    b->rev[0] = r->rev;
    b->n = 1;
    snprintf(b->unit, sizeof b->unit, "%s", r->unit);
    snprintf(b->period, sizeof b->period, "%s", r->period);
    return 0;
}

/* A period of another type than the form's, in the same year. */
static void
s_wrong_period(const char *period, char *out, size_t cap)
{
    th_period_t p;
    if (th_period_parse(period, &p) < 0 || p.type != TH_PT_QUARTERLY)
        snprintf(out, cap, "%.4sQ1", period);
    else
        snprintf(out, cap, "%.4s", period);
}

/* Builds the entries of a record attack into b. errbuf says what failed. */
static int
s_prepare(th_office_t *o, s_attack_t a, const s_opts_t *op, const char *other,
          s_batch_t *b, char *errbuf, size_t cap)
{
    char key[TH_KEY_MAX];
    th_record_t tmpl, r;
    th_record_init(&tmpl);
    th_record_init(&r);
    s_batch_t held = { 0 };
    int rc = th_key_make(key, sizeof key, op->form, op->period, o->cfg.unit);
    if (rc < 0) {
        snprintf(errbuf, cap, "bad --form or --period");
        return rc;
    }
    s_load_t x = { .key = key, .tmpl = &tmpl, .replay = &held };
    rc = th_store_read(o->store, s_load_txn, &x);
    if (rc < 0) {
        snprintf(errbuf, cap, "office %s holds no valid submitted report '%s' (%s): "
                 "submit one first", o->cfg.unit, key, th_strerror(rc));
        goto done;
    }
    if (a == A_REPLAY) {
        *b = held;   /* the stored bytes, untouched */
        memset(&held, 0, sizeof held);
        snprintf(b->unit, sizeof b->unit, "%s", tmpl.unit);
        snprintf(b->period, sizeof b->period, "%s", tmpl.period);
        goto done;
    }
    if ((rc = th_record_copy(&r, &tmpl)) < 0)
        goto done;
    th_free(r.note);
    r.note = NULL;
    char note[64];
    snprintf(note, sizeof note, "th_evil %s", op->attack);
    if (!(r.note = th_strdup(note))) {
        rc = -ENOMEM;
        goto done;
    }
    r.rev = tmpl.rev + 1;   /* newer than what the parent holds: it would apply */
    th_identity_t stranger;
    switch (a) {
    case A_OTHERUNIT:
        snprintf(r.unit, sizeof r.unit, "%s", other);
        r.rev = S_OTHER_REV;   /* would win over anything the other unit sent */
        rc = s_seal(&r, &o->id, -1, b);
        break;
    case A_BADSIG:
        rc = s_seal(&r, &o->id, 17, b);
        break;
    case A_FLOOD:
        rc = s_seal(&r, &o->id, -1, b);   /* the first one; s_flood makes the rest */
        break;
    case A_FORGED:
        th_identity_generate(&stranger);
        rc = s_seal(&r, &stranger, -1, b);
        th_identity_wipe(&stranger);
        break;
    case A_BADPERIOD:
        s_wrong_period(tmpl.period, r.period, sizeof r.period);
        r.rev = 1;
        rc = s_seal(&r, &o->id, -1, b);
        break;
    default:
        rc = TH_E_USAGE;
        break;
    }
    if (rc < 0)
        snprintf(errbuf, cap, "cannot build the record: %s", th_strerror(rc));
done:
    s_batch_clear(&held);
    th_record_clear(&tmpl);
    th_record_clear(&r);
    return rc;
}

/* ---- the other unit ---------------------------------------------------- */

typedef struct {
    const char *self;
    char code[TH_UNIT_MAX];
} s_sib_t;

static int
s_sibling_cb(const th_unit_t *u, void *ctx)
{
    s_sib_t *s = ctx;
    if (strcmp(u->code, s->self) == 0)
        return 0;
    snprintf(s->code, sizeof s->code, "%s", u->code);
    return 1;
}

/* A unit with the same parent as the office's, in the tree of period. */
static int
s_sibling(th_office_t *o, const char *period, char out[TH_UNIT_MAX])
{
    th_period_t p;
    int32_t day = th_time_day_vn(th_now_ms());
    if (th_period_parse(period, &p) == 0)
        day = p.end;
    const th_unit_t *me = th_units_find(o->units, o->cfg.unit, day);
    if (!me || !me->parent[0])
        return TH_E_UNIT;
    s_sib_t s = { .self = o->cfg.unit };
    if (th_units_each_child(o->units, me->parent, day, s_sibling_cb, &s) != 1)
        return TH_E_UNIT;
    snprintf(out, TH_UNIT_MAX, "%s", s.code);
    return 0;
}

/* ---- the link ------------------------------------------------------------- */

static void
s_on_event(s_link_t *l)
{
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, l->mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&f);
        return;
    }
    uint16_t ev = 0;
    uint32_t val = 0;
    if (zmq_msg_size(&f) >= 6) {
        memcpy(&ev, zmq_msg_data(&f), 2);
        memcpy(&val, (uint8_t *)zmq_msg_data(&f) + 2, 4);
    }
    int more = zmq_msg_more(&f);
    zmq_msg_close(&f);
    while (more) {   /* the endpoint frame */
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, l->mon, 0) < 0) {
            zmq_msg_close(&f);
            break;
        }
        more = zmq_msg_more(&f);
        zmq_msg_close(&f);
    }
    switch (ev) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        l->connected = true;
        l->handshake = "ok";
        l->hs_value = 0;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        if (!l->connected) {
            l->handshake = "auth-failed";
            l->hs_value = (long)val;
        }
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if (!l->connected) {
            l->handshake = "protocol-failed";
            l->hs_value = (long)val;
        }
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (!l->connected)
            l->handshake = "failed";
        break;
    case ZMQ_EVENT_DISCONNECTED:
        if (!l->connected && strcmp(l->handshake, "none") == 0)
            l->handshake = "disconnected";
        break;
    default:
        break;
    }
}

static int
s_open(s_link_t *l, const s_opts_t *op, th_office_t *o, s_attack_t a, char *errbuf,
       size_t cap)
{
    const char *ep = op->endpoint ? op->endpoint : o->cfg.parent_endpoint;
    int zero = 0;
    l->handshake = "none";
    if (!ep[0]) {
        snprintf(errbuf, cap, "office %s has no parent endpoint (give --endpoint)",
                 o->cfg.unit);
        return TH_E_CONFIG;
    }
    if (!(l->ctx = zmq_ctx_new()) || !(l->sock = zmq_socket(l->ctx, ZMQ_DEALER)) ||
        zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof zero) != 0)
        goto zerr;
    if (a != A_PLAIN) {
        uint8_t parent_pk[32], server[32], pk[32], sk[32];
        th_identity_t id = o->id;
        if (a == A_UNENROLLED)
            th_identity_generate(&id);
        if (th_z85_decode_key(o->cfg.parent_key, parent_pk) < 0 ||
            th_pubkey_curve(parent_pk, server) < 0 || th_identity_curve(&id, pk, sk) < 0) {
            th_identity_wipe(&id);
            snprintf(errbuf, cap, "cannot derive the CURVE keys");
            return TH_E_KEY;
        }
        th_identity_wipe(&id);
        int rc = zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, server, 32) |
                 zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, pk, 32) |
                 zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, sk, 32);
        sodium_memzero(sk, sizeof sk);
        if (rc != 0)
            goto zerr;
    }
    if (zmq_socket_monitor(l->sock, S_MONITOR, ZMQ_EVENT_ALL) != 0 ||
        !(l->mon = zmq_socket(l->ctx, ZMQ_PAIR)) || zmq_connect(l->mon, S_MONITOR) != 0 ||
        zmq_connect(l->sock, ep) != 0)
        goto zerr;
    return 0;
zerr:
    snprintf(errbuf, cap, "cannot connect to '%s': %s", ep, zmq_strerror(zmq_errno()));
    return -zmq_errno();
}

static void
s_close(s_link_t *l)
{
    if (l->sock) {
        zmq_socket_monitor(l->sock, NULL, 0);
        zmq_close(l->sock);
    }
    if (l->mon)
        zmq_close(l->mon);
    if (l->ctx)
        zmq_ctx_term(l->ctx);
    l->sock = l->mon = l->ctx = NULL;
}

static int
s_send_raw(s_link_t *l, const void *buf, size_t len)
{
    return zmq_send(l->sock, buf, len, 0) == (int)len ? 0 : -zmq_errno();
}

static int
s_send(s_link_t *l, const th_msg_t *m)
{
    uint8_t *buf;
    size_t len;
    int rc = th_msg_encode(m, &buf, &len);
    if (rc < 0)
        return rc;
    rc = s_send_raw(l, buf, len);
    th_free(buf);
    return rc;
}

/* Waits until the handshake succeeded or failed. */
static void
s_wait_handshake(s_link_t *l, int64_t deadline)
{
    while (strcmp(l->handshake, "none") == 0 || strcmp(l->handshake, "disconnected") == 0) {
        zmq_pollitem_t it = { l->mon, 0, ZMQ_POLLIN, 0 };
        int64_t left = s_left(deadline);
        if (left == 0 || zmq_poll(&it, 1, (long)left) <= 0)
            return;
        s_on_event(l);
    }
}

/* Waits for a message of one of the types in want (bit 1 << type), META
   being skipped. Returns 1 with *m decoded (th_msg_clear it), 0 on
   timeout, or the decode error of a frame that does not decode. */
static int
s_wait(s_link_t *l, int64_t deadline, unsigned want, th_msg_t *m)
{
    for (;;) {
        zmq_pollitem_t it[2] = { { l->sock, 0, ZMQ_POLLIN, 0 },
                                 { l->mon, 0, ZMQ_POLLIN, 0 } };
        int64_t left = s_left(deadline);
        if (left == 0)
            return 0;
        int n = zmq_poll(it, 2, (long)left);
        if (n < 0)
            return -zmq_errno();
        if (n == 0)
            return 0;
        if (it[1].revents & ZMQ_POLLIN)
            s_on_event(l);
        if (!(it[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, l->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f);
            continue;
        }
        int rc = th_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), m);
        /* only ACK/ERROR/WELCOME/PONG fields are read: all copies */
        zmq_msg_close(&f);
        if (rc < 0)
            return rc;
        if (want & (1u << m->type))
            return 1;
        if (m->type == TH_MSG_META)
            l->meta_seen++;
        th_msg_clear(m);
    }
}

#define S_W(t) (1u << (t))

/* What a reply says, into the JSON object. */
static void
s_put_reply(json_t *j, int rc, const th_msg_t *m)
{
    if (rc < 0) {
        json_object_set_new(j, "reply", json_string("UNDECODABLE"));
        json_object_set_new(j, "decode_error", json_string(th_err_name(rc)));
        return;
    }
    if (rc == 0) {
        json_object_set_new(j, "reply", json_null());
        return;
    }
    json_object_set_new(j, "reply", json_string(th_msg_type_name(m->type)));
    if (m->type == TH_MSG_ACK) {
        json_object_set_new(j, "upto", json_integer((json_int_t)m->upto));
        json_t *a = json_array();
        for (size_t i = 0; i < m->nrejected; i++)
            json_array_append_new(a, json_pack("{s:I, s:i, s:o}", "seq",
                                               (json_int_t)m->rejected[i].seq, "code",
                                               (int)m->rejected[i].code, "reason",
                                               s_str(m->rejected[i].reason)));
        json_object_set_new(j, "rejected", a);
    } else if (m->type == TH_MSG_ERROR) {
        json_object_set_new(j, "code", json_integer(m->code));
        json_object_set_new(j, "error_name", json_string(th_err_name(m->code)));
        json_object_set_new(j, "reason", s_str(m->reason));
    } else if (m->type == TH_MSG_WELCOME) {
        json_object_set_new(j, "resume_after", json_integer((json_int_t)m->resume_after));
    }
}

static int
s_hello(s_link_t *l, const char *unit)
{
    th_msg_t h;
    th_msg_init(&h, TH_MSG_HELLO);
    snprintf(h.unit, sizeof h.unit, "%s", unit);
    snprintf(h.agent, sizeof h.agent, "%s", S_AGENT);
    h.clock = th_now_ms();
    return s_send(l, &h);
}

/* A well-formed BATCH of exactly S_OVERSIZED bytes, one entry whose blob
   fills it: only its sizes are wrong. */
static uint8_t *
s_oversized(uint64_t seq, size_t *len)
{
    static const char head1[] = "\x84\xa1t\x03\xa1v\x01\xa7through\xce";
    static const char head2[] = "\xa7" "entries\x91\x83\xa3seq\xce";
    static const char head3[] = "\xa4kind\x01\xa4" "blob\xc6";
    size_t h = (sizeof head1 - 1) + 4 + (sizeof head2 - 1) + 4 + (sizeof head3 - 1) + 4;
    uint8_t *f = th_malloc(S_OVERSIZED);
    if (!f)
        return NULL;
    uint32_t s = (uint32_t)seq, bl = (uint32_t)(S_OVERSIZED - h);
    uint8_t be[4] = { (uint8_t)(s >> 24), (uint8_t)(s >> 16), (uint8_t)(s >> 8),
                      (uint8_t)s };
    uint8_t bb[4] = { (uint8_t)(bl >> 24), (uint8_t)(bl >> 16), (uint8_t)(bl >> 8),
                      (uint8_t)bl };
    size_t p = 0;
    memcpy(f + p, head1, sizeof head1 - 1), p += sizeof head1 - 1;
    memcpy(f + p, be, 4), p += 4;
    memcpy(f + p, head2, sizeof head2 - 1), p += sizeof head2 - 1;
    memcpy(f + p, be, 4), p += 4;
    memcpy(f + p, head3, sizeof head3 - 1), p += sizeof head3 - 1;
    memcpy(f + p, bb, 4), p += 4;
    memset(f + p, 0xA5, S_OVERSIZED - p);
    *len = S_OVERSIZED;
    return f;
}

/* ---- the flood ------------------------------------------------------------ */

#define S_FLOOD_ENTRIES 16

/* Sends BATCHes of S_FLOOD_ENTRIES new revisions (from the one in b) for
   op->flood_ms, counting what comes back; the figures go into j. */
static int
s_flood(s_link_t *l, const s_opts_t *op, th_office_t *o, const s_batch_t *b, uint64_t after,
        json_t *j)
{
    th_record_t r;
    th_record_init(&r);
    const uint8_t *body;
    size_t bl;
    int rc = th_codec_record_decode(b->blob[0], b->len[0], &r, &body, &bl);
    if (rc < 0)
        return rc;
    uint64_t seq = after, batches = 0, records = 0, bytes = 0, acks = 0, errors = 0, upto = 0,
             welcomes = 0;
    char first_error[TH_MSG_REASON_MAX + 1] = "";
    int64_t end = th_now_ms() + op->flood_ms;
    while (rc == 0 && th_now_ms() < end) {
        th_msg_t m;
        th_msg_init(&m, TH_MSG_BATCH);
        s_batch_t one[S_FLOOD_ENTRIES];
        memset(one, 0, sizeof one);
        size_t n = 0;
        for (; rc == 0 && n < S_FLOOD_ENTRIES; n++) {
            if ((rc = s_seal(&r, &o->id, -1, &one[n])) == 0)
                rc = th_msg_add_entry(&m, seq + 1 + n, TH_MSG_ENTRY_RECORD, one[n].blob[0],
                                      one[n].len[0]);
            r.rev++;
        }
        m.after = seq;
        uint8_t *frame;
        size_t len;
        if (rc == 0 && (rc = th_msg_encode(&m, &frame, &len)) == 0) {
            rc = s_send_raw(l, frame, len);
            th_free(frame);
            batches++;
            records += n;
            bytes += len;
            seq += n;
        }
        th_msg_clear(&m);
        for (size_t i = 0; i < S_FLOOD_ENTRIES; i++)
            s_batch_clear(&one[i]);
        /* whatever came back meanwhile, without waiting */
        for (;;) {
            zmq_msg_t f;
            zmq_msg_init(&f);
            if (zmq_msg_recv(&f, l->sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&f);
                break;
            }
            th_msg_t x = { 0 };
            if (th_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), &x) == 0) {
                if (x.type == TH_MSG_ACK) {
                    acks++;
                    if (x.upto > upto)
                        upto = x.upto;
                } else if (x.type == TH_MSG_WELCOME) {
                    /* a batch was dropped: go on from what the hub holds, as
                       the real uplink would (a flood that hits the limits
                       and keeps going where the hub says) */
                    welcomes++;
                    seq = x.resume_after;
                } else if (x.type == TH_MSG_META) {
                    /* a floor (the hub holds a higher rev of another
                       history): number after it, as the real office does */
                    for (size_t k = 0; k < x.nmeta; k++)
                        if (x.meta[k].kind == TH_MSG_META_FLOOR && x.meta[k].len < 16) {
                            char t[16];
                            memcpy(t, x.meta[k].blob, x.meta[k].len);
                            t[x.meta[k].len] = '\0';
                            uint32_t fl = (uint32_t)strtoul(t, NULL, 10);
                            if (fl >= r.rev)
                                r.rev = fl + 1;
                        }
                } else if (x.type == TH_MSG_ERROR) {
                    if (!errors++)
                        snprintf(first_error, sizeof first_error, "%s", x.reason ? x.reason : "");
                }
            }
            th_msg_clear(&x);
            zmq_msg_close(&f);
        }
    }
    th_record_clear(&r);
    json_object_set_new(j, "flood", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
        "batches", (json_int_t)batches, "records", (json_int_t)records,
        "bytes", (json_int_t)bytes, "acks", (json_int_t)acks, "acked_upto", (json_int_t)upto,
        "welcomes", (json_int_t)welcomes, "errors", (json_int_t)errors,
        "first_error", first_error));
    return rc;
}

/* ---- the attack ---------------------------------------------------------- */

static int
s_run(const s_opts_t *op, s_attack_t a, th_office_t *o, json_t *j, char *errbuf, size_t cap)
{
    s_link_t l = { 0 };
    s_batch_t b = { 0 };
    th_msg_t m = { 0 };
    char other[TH_UNIT_MAX] = "";
    int rc = 0;
    if (a == A_WRONGUNIT || a == A_OTHERUNIT) {
        if (op->other)
            snprintf(other, sizeof other, "%s", op->other);
        else if (s_sibling(o, op->period, other) < 0) {
            snprintf(errbuf, cap, "no other unit under the parent of %s (give --other)",
                     o->cfg.unit);
            return TH_E_UNIT;
        }
    }
    if (a >= A_OTHERUNIT && (rc = s_prepare(o, a, op, other, &b, errbuf, cap)) < 0)
        return rc;
    if ((rc = s_open(&l, op, o, a, errbuf, cap)) < 0)
        goto done;
    int64_t deadline = th_now_ms() + op->timeout_ms;

    if (a == A_PLAIN || a == A_UNENROLLED) {
        /* HELLO is queued at once: it would go out if the handshake passed */
        if ((rc = s_hello(&l, o->cfg.unit)) < 0)
            goto zfail;
        rc = s_wait(&l, deadline, ~0u, &m);
        s_put_reply(j, rc, &m);
        rc = 0;
        goto report;
    }
    s_wait_handshake(&l, deadline);
    if (!l.connected) {
        json_object_set_new(j, "reply", json_null());
        goto report;
    }
    deadline = th_now_ms() + op->timeout_ms;
    if ((rc = s_hello(&l, a == A_WRONGUNIT ? other : o->cfg.unit)) < 0)
        goto zfail;
    rc = s_wait(&l, deadline, S_W(TH_MSG_WELCOME) | S_W(TH_MSG_ERROR), &m);
    if (a == A_WRONGUNIT || rc != 1 || m.type != TH_MSG_WELCOME) {
        if (a == A_WRONGUNIT)
            json_object_set_new(j, "claimed", json_string(other));
        s_put_reply(j, rc, &m);
        rc = 0;
        goto probe;
    }
    uint64_t after = m.resume_after;
    rc = 0;
    json_object_set_new(j, "welcome", json_pack("{s:I, s:s, s:i}", "resume_after",
                                                 (json_int_t)after, "unit", m.unit,
                                                 "window", (int)m.window));
    th_msg_clear(&m);

    if (a == A_FLOOD) {
        if ((rc = s_flood(&l, op, o, &b, after, j)) < 0)
            goto zfail;
        goto probe;
    }
    deadline = th_now_ms() + op->timeout_ms;
    json_t *sent = json_object();
    json_object_set_new(j, "sent", sent);
    if (a == A_GARBAGE || a == A_BOMB || a == A_OVERSIZED) {
        uint8_t garbage[S_GARBAGE_LEN], bomb[5] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
        uint8_t *frame = NULL;
        size_t len = 0;
        if (a == A_GARBAGE) {
            randombytes_buf(garbage, sizeof garbage);
            frame = garbage, len = sizeof garbage;
        } else if (a == A_BOMB) {
            frame = bomb, len = sizeof bomb;
        } else if (!(frame = s_oversized(after + 1, &len))) {
            rc = -ENOMEM;
            goto done;
        }
        json_object_set_new(sent, "bytes", json_integer((json_int_t)len));
        rc = s_send_raw(&l, frame, len);
        if (a == A_OVERSIZED)
            th_free(frame);
        if (rc < 0)
            goto zfail;
    } else {
        th_msg_t batch;
        th_msg_init(&batch, TH_MSG_BATCH);
        json_t *seqs = json_array(), *revs = json_array();
        for (size_t i = 0; rc == 0 && i < b.n; i++) {
            rc = th_msg_add_entry(&batch, after + 1 + i, TH_MSG_ENTRY_RECORD, b.blob[i],
                                  b.len[i]);
            json_array_append_new(seqs, json_integer((json_int_t)(after + 1 + i)));
            json_array_append_new(revs, json_integer(b.rev[i]));
        }
        json_object_set_new(sent, "seqs", seqs);
        json_object_set_new(sent, "revs", revs);
        json_object_set_new(sent, "unit", json_string(b.unit));
        json_object_set_new(sent, "period", json_string(b.period));
        json_object_set_new(sent, "form", json_string(op->form));
        if (rc == 0)
            rc = s_send(&l, &batch);
        th_msg_clear(&batch);
        if (rc < 0)
            goto zfail;
    }
    rc = s_wait(&l, deadline, S_W(TH_MSG_ACK) | S_W(TH_MSG_ERROR), &m);
    s_put_reply(j, rc, &m);
    rc = 0;
probe:
    /* the parent must still answer on this connection */
    th_msg_clear(&m);
    {
        th_msg_t ping;
        th_msg_init(&ping, TH_MSG_PING);
        ping.clock = th_now_ms();
        int got = 0;
        if (s_send(&l, &ping) == 0)
            got = s_wait(&l, th_now_ms() + op->timeout_ms, S_W(TH_MSG_PONG), &m);
        json_object_set_new(j, "pong", json_boolean(got == 1));
        th_msg_clear(&m);
    }
report:
    json_object_set_new(j, "connected", json_boolean(l.connected));
    json_object_set_new(j, "handshake", json_string(l.handshake));
    if (l.hs_value)
        json_object_set_new(j, "handshake_value", json_integer(l.hs_value));
    if (l.hs_value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        json_object_set_new(j, "handshake_error", json_string("ZMTP_MECHANISM_MISMATCH"));
    if (l.meta_seen)
        json_object_set_new(j, "meta_skipped", json_integer(l.meta_seen));
    goto done;
zfail:
    snprintf(errbuf, cap, "send: %s", th_strerror(rc));
done:
    th_msg_clear(&m);
    s_close(&l);
    s_batch_clear(&b);
    return rc;
}

/* ---- --quarantine ---------------------------------------------------------- */

static int
s_q_entry(const char *key, const void *val, size_t len, void *ctx)
{
    const uint8_t *v = val;
    json_t *list = ctx;
    int32_t code = 0;
    const char *reason = "";
    if (len >= 5 && memchr(v + 4, '\0', len - 4)) {
        code = (int32_t)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 |
                         v[3]);
        reason = (const char *)v + 4;
    }
    json_array_append_new(list, json_pack("{s:s, s:i, s:o}", "key", key, "code", (int)code,
                                          "reason", s_str(reason)));
    return 0;
}

static int
s_q_txn(th_store_txn_t *txn, void *ctx)
{
    return th_store_kv_each(txn, TH_DB_QUARANTINE, "", s_q_entry, ctx);
}

/* ---- main ------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
    enum { O_DIR = 1, O_ATTACK, O_ENDPOINT, O_TIMEOUT, O_FORM, O_PERIOD, O_OTHER, O_QUAR,
           O_FLOOD, O_HELP };
    static const struct option opts[] = {
        { "dir", required_argument, NULL, O_DIR },
        { "attack", required_argument, NULL, O_ATTACK },
        { "endpoint", required_argument, NULL, O_ENDPOINT },
        { "timeout-ms", required_argument, NULL, O_TIMEOUT },
        { "form", required_argument, NULL, O_FORM },
        { "period", required_argument, NULL, O_PERIOD },
        { "other", required_argument, NULL, O_OTHER },
        { "quarantine", no_argument, NULL, O_QUAR },
        { "flood-ms", required_argument, NULL, O_FLOOD },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    s_opts_t op = { .form = "dvcq-nam", .period = "2026", .timeout_ms = 3000, .flood_ms = 5000 };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DIR: op.dir = optarg; break;
        case O_ATTACK: op.attack = optarg; break;
        case O_ENDPOINT: op.endpoint = optarg; break;
        case O_TIMEOUT: op.timeout_ms = atoi(optarg); break;
        case O_FORM: op.form = optarg; break;
        case O_PERIOD: op.period = optarg; break;
        case O_OTHER: op.other = optarg; break;
        case O_QUAR: op.quarantine = true; break;
        case O_FLOOD: op.flood_ms = atoi(optarg); break;
        case O_HELP: s_usage(stdout); return 0;
        default: s_usage(stderr); return 2;
        }
    }
    if (optind < argc || !op.dir || (!op.attack && !op.quarantine) || op.timeout_ms <= 0 ||
        op.timeout_ms > 600000 || op.flood_ms <= 0 || op.flood_ms > 600000) {
        s_usage(stderr);
        return 2;
    }
    s_attack_t a = A_PLAIN;
    bool known = op.quarantine;
    for (size_t i = 0; !known && i < sizeof s_attacks / sizeof s_attacks[0]; i++)
        if (strcmp(op.attack, s_attacks[i].name) == 0) {
            a = s_attacks[i].id;
            known = true;
        }
    if (!known) {
        fprintf(stderr, "th_evil: unknown attack '%s'\n", op.attack);
        s_usage(stderr);
        return 2;
    }
    if (th_crypto_init() < 0) {
        fprintf(stderr, "th_evil: libsodium does not start\n");
        return 1;
    }
    char errbuf[512] = "";
    int rc;
    th_office_t *o = th_office_open(op.dir, errbuf, sizeof errbuf, &rc);
    json_t *j = json_object();
    if (!o) {
        json_object_set_new(j, op.quarantine ? "quarantine" : "attack",
                            op.quarantine ? json_null() : json_string(op.attack));
        json_object_set_new(j, "error", s_str(errbuf));
        s_print(j);
        json_decref(j);
        fprintf(stderr, "th_evil: %s\n", errbuf);
        return 1;
    }
    if (op.quarantine) {
        json_t *list = json_array();
        rc = th_store_read(o->store, s_q_txn, list);
        if (rc < 0)
            snprintf(errbuf, sizeof errbuf, "cannot read the quarantine: %s",
                     th_strerror(rc));
        json_object_set_new(j, "quarantine",
                            json_integer((json_int_t)json_array_size(list)));
        json_object_set_new(j, "entries", list);
    } else {
        json_object_set_new(j, "attack", json_string(op.attack));
        json_object_set_new(j, "office", json_string(o->cfg.unit));
        rc = s_run(&op, a, o, j, errbuf, sizeof errbuf);
    }
    if (rc < 0) {
        json_object_set_new(j, "error", s_str(errbuf));
        fprintf(stderr, "th_evil: %s\n", errbuf);
    }
    s_print(j);
    json_decref(j);
    th_office_destroy(&o);
    return rc < 0 ? 1 : 0;
}
