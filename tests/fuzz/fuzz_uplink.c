/*  libFuzzer target: a parent's frame as the uplink handles it. The input
    is decoded as a protocol message; META items go through th_metaq_apply
    (receipts, notices, forms from above, passed on to the child on the
    path) and ACK rejections through th_metaq_rejected, in one write
    transaction that is then aborted (every input meets the same store).
    The office is district hub 703 (2024 tree) under province 72, with
    commune 25456 below it, so items about its own unit and about a child's
    report are both reachable. WELCOME, PONG and ERROR only move the
    uplink's state machine and are covered by the decoder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "mem.h"
#include "metaq.h"
#include "msg.h"
#include "office.h"
#include "fuzz_office.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static th_office_t *s_hub;

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
    s_hub = fuzz_office("uplink", "d703", "703", "tcp://127.0.0.1:*", "tcp://127.0.0.1:9",
                        "0000000000000000000000000000000000000000");
    atexit(s_cleanup);
    return 0;
}

static int
s_txn(th_store_txn_t *txn, void *ctx)
{
    const th_msg_t *m = ctx;
    if (m->type == TH_MSG_META)
        for (size_t i = 0; i < m->nmeta; i++)
            (void)th_metaq_apply(txn, s_hub, &m->meta[i]);
    if (m->type == TH_MSG_ACK)
        for (size_t i = 0; i < m->nrejected; i++) {
            /* the uplink finds (key, rev) by the rejected seq in its log */
            const char *key = m->rejected[i].seq % 2 ? "dvcq-nam|2024|25456" : "dvcq-nam|2024|703";
            (void)th_metaq_rejected(txn, s_hub, key, (uint32_t)(m->rejected[i].seq % 7 + 1),
                                    m->rejected[i].code, m->rejected[i].reason);
        }
    return TH_E_USAGE;   /* never commit */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    th_msg_t m;
    th_msg_init(&m, TH_MSG_PING);
    if (th_msg_decode(data, size, &m) == 0 && (m.type == TH_MSG_META || m.type == TH_MSG_ACK) &&
        th_store_write(s_hub->store, s_txn, &m) != TH_E_USAGE)
        abort();
    th_msg_clear(&m);
    return 0;
}
