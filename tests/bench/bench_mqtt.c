/*  bench_mqtt: the MQTT peer of the relay backlog (tests/bench/relay.sh),
    on Debian's mosquitto and libmosquitto.

        bench_mqtt sub HOST PORT STORE N     subscriber: until N messages
        bench_mqtt pub HOST PORT BLOBS       publisher

    The publisher sends each record of BLOBS (as bench_relay writes them:
    u32 length, then the signed msgpack record, the same bytes tonghop
    relays) as one QoS 1 message on tonghop/reports/<key>, and waits for
    every PUBACK. The subscriber (persistent session: clean_session off,
    QoS 1) commits each message to an LMDB store (the project's, as a
    revision) in batches of 256 or every 50 ms, fsynced (libmosquitto
    acknowledges a message when it arrives, not after the commit: the peer
    gives no "after durable" acknowledgement); it prints the seconds from
    its first message to the commit holding the Nth. */
#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "codec.h"
#include "crypto.h"
#include "err.h"
#include "mem.h"
#include "store.h"

#define S_COMMIT 256

typedef struct {
    th_store_t *store;
    long want, got, committed;
    double t_first, t_done, t_last_commit;
    struct { char key[TH_KEY_MAX]; uint8_t *blob; size_t len; } pend[S_COMMIT];
    size_t npend;
    int rc;
} s_sub_t;

static int
s_commit_txn(th_store_txn_t *txn, void *ctx)
{
    s_sub_t *s = ctx;
    for (size_t i = 0; i < s->npend; i++) {
        th_store_rev_t r = { .key = s->pend[i].key, .rev = 1, .status = 1,
                             .received_at = th_now_ms(), .blob = s->pend[i].blob,
                             .len = s->pend[i].len };
        int rc = th_store_put_revision(txn, &r, true, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void
s_commit(s_sub_t *s)
{
    if (!s->npend)
        return;
    if ((s->rc = th_store_write(s->store, s_commit_txn, s)) < 0)
        fprintf(stderr, "bench_mqtt: commit: %s\n", th_strerror(s->rc));
    s->committed += (long)s->npend;
    for (size_t i = 0; i < s->npend; i++)
        th_free(s->pend[i].blob);
    s->npend = 0;
    s->t_last_commit = s_now();
    if (s->committed >= s->want && !s->t_done)
        s->t_done = s->t_last_commit;
}

static void
s_on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
    (void)m;
    s_sub_t *s = arg;
    if (!s->got++)
        s->t_first = s_now();
    const char *key = strrchr(msg->topic, '/');
    snprintf(s->pend[s->npend].key, TH_KEY_MAX, "%s", key ? key + 1 : msg->topic);
    s->pend[s->npend].blob = th_memdup(msg->payload, (size_t)msg->payloadlen);
    s->pend[s->npend].len = (size_t)msg->payloadlen;
    if (++s->npend == S_COMMIT || s->got >= s->want)
        s_commit(s);
}

static int
s_sub(const char *host, int port, const char *dir, long n)
{
    th_store_opts_t so = { .create = true };
    int rc;
    s_sub_t *s = calloc(1, sizeof *s);
    s->want = n;
    if (!(s->store = th_store_open(dir, &so, &rc))) {
        fprintf(stderr, "bench_mqtt: store: %s\n", th_strerror(rc));
        return 1;
    }
    struct mosquitto *m = mosquitto_new("tonghop-root", false, s);
    mosquitto_message_callback_set(m, s_on_message);
    if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS ||
        mosquitto_subscribe(m, NULL, "tonghop/reports/#", 1) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "bench_mqtt: cannot subscribe on %s:%d\n", host, port);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    double start = s_now();
    while (!s->t_done && s_now() - start < 600) {
        mosquitto_loop(m, 50, 1);
        if (s->npend && s_now() - s->t_last_commit > 0.05)
            s_commit(s);
    }
    printf("{\"messages\": %ld, \"committed\": %ld, \"seconds\": %.3f}\n", s->got, s->committed,
           s->t_done ? s->t_done - s->t_first : -1.0);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    th_store_destroy(&s->store);
    int ok = s->t_done > 0;
    free(s);
    return ok ? 0 : 1;
}

typedef struct {
    long sent, acked;
} s_pub_t;

static void
s_on_publish(struct mosquitto *m, void *arg, int mid)
{
    (void)m;
    (void)mid;
    ((s_pub_t *)arg)->acked++;
}

static int
s_pub(const char *host, int port, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    s_pub_t p = { 0 };
    struct mosquitto *m = mosquitto_new("tonghop-relay", false, &p);
    mosquitto_publish_callback_set(m, s_on_publish);
    mosquitto_max_inflight_messages_set(m, 1024);
    if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "bench_mqtt: cannot connect to %s:%d\n", host, port);
        return 1;
    }
    uint8_t hdr[4], *buf = malloc(1 << 20);
    double t0 = s_now();
    while (fread(hdr, 4, 1, f) == 1) {
        uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
                       hdr[3];
        if (len > (1u << 20) || fread(buf, len, 1, f) != 1)
            break;
        th_record_t r;
        th_record_init(&r);
        char topic[TH_KEY_MAX + 32] = "tonghop/reports/";
        if (th_codec_record_decode(buf, len, &r, NULL, NULL) == 0)
            th_record_key(&r, topic + strlen(topic), TH_KEY_MAX);
        th_record_clear(&r);
        int rc;
        while ((rc = mosquitto_publish(m, NULL, topic, (int)len, buf, 1, false)) ==
               MOSQ_ERR_NOMEM || rc == MOSQ_ERR_OVERSIZE_PACKET)
            mosquitto_loop(m, 10, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "bench_mqtt: publish: %s\n", mosquitto_strerror(rc));
            return 1;
        }
        p.sent++;
        mosquitto_loop(m, 0, 1);
    }
    fclose(f);
    while (p.acked < p.sent && s_now() - t0 < 600)
        mosquitto_loop(m, 50, 1);
    printf("{\"published\": %ld, \"acknowledged\": %ld, \"seconds\": %.3f}\n", p.sent, p.acked,
           s_now() - t0);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    free(buf);
    return p.acked == p.sent ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (th_crypto_init() < 0)
        return 1;
    mosquitto_lib_init();
    int rc = 2;
    if (argc == 6 && strcmp(argv[1], "sub") == 0)
        rc = s_sub(argv[2], atoi(argv[3]), argv[4], atol(argv[5]));
    else if (argc == 5 && strcmp(argv[1], "pub") == 0)
        rc = s_pub(argv[2], atoi(argv[3]), argv[4]);
    else
        fprintf(stderr, "usage: bench_mqtt sub HOST PORT STORE N | pub HOST PORT BLOBS\n");
    mosquitto_lib_cleanup();
    return rc;
}
