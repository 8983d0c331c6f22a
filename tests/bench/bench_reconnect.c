/*  bench_reconnect: workload 2 of docs/benchmarks.md, many communes
    reconnecting to one hub at once.

        bench_reconnect enroll HUBDIR N KEYS      (the hub stopped)
        bench_reconnect connect ENDPOINT KEYS

    enroll: makes a key for each of the first N communes below the hub's
    unit in the tree in force today, enrolls each at the hub as a direct
    child (as `enroll` does) that has connected before (the hub's forms
    sent and acknowledged), and writes the keys to KEYS. connect: one
    process plays every commune: each has its own key and its own CURVE
    session (a DEALER socket with its CURVE keys), speaks the sync protocol
    with the project's own messages (HELLO, WELCOME, BATCH of one signed
    dvcq-6thang report of the current half-year, ACK), all at once; prints
    the time until every commune's report is acknowledged (durably stored
    at the hub). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bench_clock.h"
#include "bench_records.h"
#include "err.h"
#include "form_ini.h"
#include "metaq.h"
#include "msg.h"
#include "office.h"
#include "peers.h"
#include "period.h"

typedef struct {
    char unit[TH_UNIT_MAX];
    uint8_t sk[64];
} s_key_t;

typedef struct {
    s_key_t *v;
    size_t n, cap, want;
    th_office_t *o;
} s_keys_t;

static int
s_commune(const th_unit_t *u, void *ctx)
{
    s_keys_t *k = ctx;
    if (k->n == k->want)
        return 1;
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 1024;
        if (!(k->v = realloc(k->v, k->cap * sizeof *k->v)))
            return -ENOMEM;
    }
    th_identity_t id;
    th_identity_generate(&id);
    snprintf(k->v[k->n].unit, TH_UNIT_MAX, "%s", u->code);
    memcpy(k->v[k->n].sk, id.sk, 64);
    k->n++;
    return 0;
}

static int
s_enroll_all(th_store_txn_t *txn, void *ctx)
{
    s_keys_t *k = ctx;
    for (size_t i = 0; i < k->n; i++) {
        int rc = th_peers_enroll(txn, k->v[i].unit, k->v[i].sk + 32, true);
        /* offices that were connected before: they have the forms (queued
           once, as at a first HELLO, and acknowledged) */
        uint64_t head;
        if (rc < 0 || (rc = th_metaq_sync_forms(txn, k->o, k->v[i].unit)) < 0 ||
            (rc = th_metaq_head(txn, k->v[i].unit, &head)) < 0 ||
            (rc = th_metaq_ack(txn, k->v[i].unit, head)) < 0)
            return rc;
    }
    return 0;
}

static int
s_enroll(const char *dir, long n, const char *path)
{
    char err[512];
    int rc;
    th_office_t *o = th_office_open(dir, err, sizeof err, &rc);
    if (!o) {
        fprintf(stderr, "bench_reconnect: %s\n", err);
        return 1;
    }
    s_keys_t k = { .want = (size_t)n, .o = o };
    int32_t today = th_time_day_vn(th_now_ms());
    if ((rc = th_units_each_in_subtree(o->units, o->cfg.unit, today, "commune", s_commune,
                                       &k)) < 0 ||
        (rc = th_store_write(o->store, s_enroll_all, &k)) < 0) {
        fprintf(stderr, "bench_reconnect: %s\n", th_strerror(rc));
        return 1;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(k.v, sizeof *k.v, k.n, f) != k.n || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    printf("enrolled %zu communes\n", k.n);
    th_office_destroy(&o);
    free(k.v);
    return 0;
}

typedef struct {
    void *sock;
    th_identity_t id;
    const char *unit;
    int state;            /* 0 HELLO sent, 1 BATCH sent, 2 acknowledged */
    uint8_t *blob;
    size_t len;
} s_child_t;

static int
s_send(void *sock, const th_msg_t *m)
{
    uint8_t *buf;
    size_t len;
    int rc = th_msg_encode(m, &buf, &len);
    if (rc < 0)
        return rc;
    rc = zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0 ? -zmq_errno() : 0;
    th_free(buf);
    return rc;
}

static int
s_connect(const char *ep, const char *server_z85, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    s_keys_t k = { 0 };
    s_key_t one;
    while (fread(&one, sizeof one, 1, f) == 1) {
        if (k.n == k.cap) {
            k.cap = k.cap ? 2 * k.cap : 1024;
            k.v = realloc(k.v, k.cap * sizeof *k.v);
        }
        k.v[k.n++] = one;
    }
    fclose(f);
    uint8_t spk[32], scurve[32];
    if (th_z85_decode_key(server_z85, spk) < 0 || th_pubkey_curve(spk, scurve) < 0) {
        fprintf(stderr, "bench_reconnect: bad hub key\n");
        return 1;
    }
    /* the shipped form (run from the source tree), the current half-year */
    th_forms_t *forms = th_forms_new();
    char err[256];
    if (th_forms_load_dir(forms, "config/forms", err, sizeof err) < 0) {
        fprintf(stderr, "bench_reconnect: %s\n", err);
        return 1;
    }
    const th_form_t *form = th_forms_get(forms, "dvcq-6thang");
    th_period_t p;
    th_period_of_day(TH_PT_SIXMONTHLY, th_time_day_vn(th_now_ms()), &p);
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)k.n + 64);
    s_child_t *c = calloc(k.n, sizeof *c);
    zmq_pollitem_t *items = calloc(k.n, sizeof *items);
    double t0 = s_now();
    for (size_t i = 0; i < k.n; i++) {
        c[i].unit = k.v[i].unit;
        memcpy(c[i].id.sk, k.v[i].sk, 64);
        memcpy(c[i].id.pk, k.v[i].sk + 32, 32);
        th_record_t r;
        if (th_bench_record(&r, form, p.id, c[i].unit, &c[i].id, (unsigned)i, &c[i].blob,
                            &c[i].len) < 0)
            return 1;
        th_record_clear(&r);
        uint8_t cpk[32], csk[32];
        th_identity_curve(&c[i].id, cpk, csk);
        int zero = 0;
        c[i].sock = zmq_socket(ctx, ZMQ_DEALER);
        if (!c[i].sock ||
            zmq_setsockopt(c[i].sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
            zmq_setsockopt(c[i].sock, ZMQ_CURVE_SERVERKEY, scurve, 32) != 0 ||
            zmq_setsockopt(c[i].sock, ZMQ_CURVE_PUBLICKEY, cpk, 32) != 0 ||
            zmq_setsockopt(c[i].sock, ZMQ_CURVE_SECRETKEY, csk, 32) != 0 ||
            zmq_connect(c[i].sock, ep) != 0) {
            fprintf(stderr, "bench_reconnect: socket %zu: %s\n", i, zmq_strerror(zmq_errno()));
            return 1;
        }
        th_msg_t h;
        th_msg_init(&h, TH_MSG_HELLO);
        snprintf(h.unit, sizeof h.unit, "%s", c[i].unit);
        snprintf(h.agent, sizeof h.agent, "bench_reconnect");
        h.clock = th_now_ms();
        s_send(c[i].sock, &h);
        items[i] = (zmq_pollitem_t){ .socket = c[i].sock, .events = ZMQ_POLLIN };
    }
    double t_setup = s_now() - t0;
    size_t done = 0, welcomed = 0;
    double t_last = t0;
    while (done < k.n && s_now() - t0 < 600) {
        if (zmq_poll(items, (int)k.n, 1000) < 0)
            break;
        for (size_t i = 0; i < k.n; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            zmq_msg_t fr;
            zmq_msg_init(&fr);
            while (zmq_msg_recv(&fr, c[i].sock, ZMQ_DONTWAIT) >= 0) {
                th_msg_t m = { 0 };
                if (th_msg_decode(zmq_msg_data(&fr), zmq_msg_size(&fr), &m) == 0) {
                    if (m.type == TH_MSG_WELCOME && c[i].state == 0) {
                        th_msg_t b;
                        th_msg_init(&b, TH_MSG_BATCH);
                        b.after = m.resume_after;
                        th_msg_add_entry(&b, m.resume_after + 1, TH_MSG_ENTRY_RECORD,
                                         c[i].blob, c[i].len);
                        s_send(c[i].sock, &b);
                        th_msg_clear(&b);
                        c[i].state = 1;
                        welcomed++;
                    } else if (m.type == TH_MSG_ACK && c[i].state == 1 && m.upto >= 1) {
                        if (m.nrejected)
                            fprintf(stderr, "bench_reconnect: %s refused: %s\n", c[i].unit,
                                    m.rejected[0].reason);
                        c[i].state = 2;
                        done++;
                        t_last = s_now();
                    } else if (m.type == TH_MSG_ERROR) {
                        fprintf(stderr, "bench_reconnect: %s: %s\n", c[i].unit, m.reason);
                    }
                }
                th_msg_clear(&m);
            }
            zmq_msg_close(&fr);
        }
    }
    printf("{\"communes\": %zu, \"welcomed\": %zu, \"acknowledged\": %zu, "
           "\"setup_s\": %.3f, \"all_acknowledged_s\": %.3f}\n",
           k.n, welcomed, done, t_setup, t_last - t0);
    for (size_t i = 0; i < k.n; i++) {
        zmq_close(c[i].sock);
        th_free(c[i].blob);
    }
    zmq_ctx_term(ctx);
    th_forms_destroy(&forms);
    free(c);
    free(items);
    free(k.v);
    return done == k.n ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (th_crypto_init() < 0)
        return 1;
    if (argc == 5 && strcmp(argv[1], "enroll") == 0)
        return s_enroll(argv[2], atol(argv[3]), argv[4]);
    if (argc == 5 && strcmp(argv[1], "connect") == 0)
        return s_connect(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: bench_reconnect enroll HUBDIR N KEYS\n"
                    "       bench_reconnect connect ENDPOINT HUB_KEY_Z85 KEYS\n");
    return 2;
}
