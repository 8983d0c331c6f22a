/*  libFuzzer target: a child's frame as the collector handles it. The input
    is decoded as a protocol message; a BATCH goes through th_ingest_batch
    (every check of a hub: decode, signature, enrolled signer, subtree,
    form, values, revisions, enrollments relayed from below) in a write
    transaction that is then aborted, so the store stays as set up and each
    input is judged alone.

    The hub is province 72 (2024 tree) with district 703 enrolled directly
    (the sender) and commune 25456 enrolled through it. So that the fuzzer
    gets past the signature check, every record that decodes is re-signed
    with the key enrolled for its unit (25456: the commune's, else the
    district's) before ingest; the bytes the fuzzer chose are otherwise
    kept. Inputs that do not decode still exercise the message decoder. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "crypto.h"
#include "err.h"
#include "ingest.h"
#include "mem.h"
#include "msg.h"
#include "office.h"
#include "peers.h"
#include "fuzz_office.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static th_office_t *s_hub;
static th_identity_t s_district, s_commune;

static void
s_identity(th_identity_t *id, uint8_t fill)
{
    uint8_t seed[32];
    memset(seed, fill, sizeof seed);
    crypto_sign_seed_keypair(id->pk, id->sk, seed);
}

static int
s_enroll(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    int rc = th_peers_enroll(txn, "703", s_district.pk, true);
    return rc ? rc : th_peers_enroll(txn, "25456", s_commune.pk, false);
}

static void
s_cleanup(void)
{
    th_office_destroy(&s_hub);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_hub = fuzz_office("ingest", "p72", "72", "tcp://127.0.0.1:*", NULL, NULL);
    s_identity(&s_district, 7);
    s_identity(&s_commune, 9);
    if (th_store_write(s_hub->store, s_enroll, NULL) != 0)
        abort();
    atexit(s_cleanup);
    return 0;
}

/* A decodable record re-signed by the key enrolled for its unit; NULL when
   the blob does not decode (then it goes in as the fuzzer wrote it). */
static uint8_t *
s_resign(const uint8_t *blob, size_t len, size_t *out_len)
{
    th_record_t r;
    th_record_init(&r);
    const uint8_t *body;
    size_t bl;
    uint8_t *out = NULL;
    if (th_codec_record_decode(blob, len, &r, &body, &bl) == 0) {
        const th_identity_t *id = strcmp(r.unit, "25456") == 0 ? &s_commune : &s_district;
        memcpy(r.origin, id->pk, sizeof r.origin);
        uint8_t *b;
        size_t n;
        if (th_codec_record_body(&r, &b, &n) == 0) {
            th_sign(id, b, n, r.sig);
            th_free(b);
            if (th_codec_record_encode(&r, &out, out_len) < 0)
                out = NULL;
        }
    }
    th_record_clear(&r);
    return out;
}

typedef struct {
    th_ingest_t *b;
} s_ctx_t;

static int
s_txn(th_store_txn_t *txn, void *ctx)
{
    int rc = th_ingest_batch(txn, ((s_ctx_t *)ctx)->b);
    (void)rc;
    return TH_E_USAGE;   /* never commit: every input meets the same store */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    th_msg_t m;
    th_msg_init(&m, TH_MSG_PING);
    if (th_msg_decode(data, size, &m) != 0 || m.type != TH_MSG_BATCH) {
        th_msg_clear(&m);
        return 0;
    }
    th_msg_entry_t *e = th_calloc(m.nentries ? m.nentries : 1, sizeof *e);
    uint8_t **owned = th_calloc(m.nentries ? m.nentries : 1, sizeof *owned);
    static th_ingest_t b;
    if (e && owned) {
        for (size_t i = 0; i < m.nentries; i++) {
            e[i] = m.entries[i];
            size_t n;
            if (e[i].kind == TH_MSG_ENTRY_RECORD && (owned[i] = s_resign(e[i].blob, e[i].len, &n))) {
                e[i].blob = owned[i];
                e[i].len = n;
            }
        }
        memset(&b, 0, sizeof b);
        b.office = s_hub;
        b.sender = "703";
        b.entries = e;
        b.nentries = m.nentries;
        b.through = m.through;
        b.after = m.after;
        b.now = 1730000000000LL;
        s_ctx_t ctx = { &b };
        if (th_store_write(s_hub->store, s_txn, &ctx) != TH_E_USAGE)
            abort();   /* the store failed under a valid transaction */
        for (size_t i = 0; i < m.nentries; i++)
            th_free(owned[i]);
    }
    th_free(owned);
    th_free(e);
    th_msg_clear(&m);
    return 0;
}
