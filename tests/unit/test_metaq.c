/*  Tests of metaq: per-child queues, receipts, the path down the tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "metaq.h"
#include "period.h"

static char s_tmp[64];
static th_office_t *s_hub;

static int
s_setup(void **state)
{
    (void)state;
    if (th_crypto_init() < 0)
        return -1;
    strcpy(s_tmp, "/tmp/th-metaq-XXXXXX");
    if (!mkdtemp(s_tmp))
        return -1;
    char dir[128], err[512];
    snprintf(dir, sizeof dir, "%s/d703", s_tmp);
    th_office_init_t opt = { .dir = dir, .unit = "703", .bind = "tcp://127.0.0.1:1" };
    int rc;
    if (th_office_init(&opt, err, sizeof err) < 0 ||
        !(s_hub = th_office_open(dir, err, sizeof err, &rc))) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    th_office_destroy(&s_hub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_metaq_receipts_parse_strictly(void **state)
{
    (void)state;
    char buf[96], by[TH_UNIT_MAX];
    uint32_t rev;
    int64_t at;
    int n = th_metaq_receipt_make(buf, sizeof buf, 7, "72", 1750000000000LL);
    assert_true(n > 0);
    assert_int_equal(th_metaq_receipt_parse(buf, (size_t)n, &rev, by, &at), 0);
    assert_int_equal(rev, 7);
    assert_string_equal(by, "72");
    assert_int_equal(at, 1750000000000LL);
    assert_int_equal(th_metaq_receipt_parse("rev=7;by=72;at=1x", 17, &rev, by, &at),
                     TH_E_PARSE);
    assert_int_equal(th_metaq_receipt_parse("rev=7;by=7 2;at=1", 17, &rev, by, &at),
                     TH_E_PARSE);
    assert_int_equal(th_metaq_receipt_parse("", 0, &rev, by, &at), TH_E_PARSE);
}

static void
test_metaq_path_child_follows_the_tree_of_the_day(void **state)
{
    (void)state;
    char child[TH_UNIT_MAX];
    int32_t d2024 = th_date_from_ymd(2024, 12, 31);
    int32_t d2026 = th_date_from_ymd(2026, 12, 31);
    assert_int_equal(th_metaq_path_child(s_hub->units, "72", "25459", d2024, child), 0);
    assert_string_equal(child, "703");
    assert_int_equal(th_metaq_path_child(s_hub->units, "703", "25459", d2024, child), 0);
    assert_string_equal(child, "25459");
    /* in the 2025 tree 25459 is a commune of province 80, not below 72 */
    assert_int_equal(th_metaq_path_child(s_hub->units, "72", "25459", d2026, child),
                     TH_E_NOTFOUND);
    assert_int_equal(th_metaq_path_child(s_hub->units, "80", "25459", d2026, child), 0);
    assert_string_equal(child, "25459");
}

typedef struct {
    int step;
    size_t n;
    uint64_t last;
} s_q_t;

static int
s_queue_txn(th_store_txn_t *txn, void *ctx)
{
    s_q_t *q = ctx;
    if (q->step == 0) {
        for (int i = 0; i < 5; i++) {
            char key[32];
            snprintf(key, sizeof key, "dvcq-nam|2024|2545%d", i);
            int rc = th_metaq_push(txn, "25459", TH_MSG_META_RECEIPT, key, "rev=1;by=703;at=1",
                                   17, &q->last);
            if (rc < 0)
                return rc;
        }
        return th_metaq_push(txn, "25456", TH_MSG_META_NOTICE, "dvcq-nam|2024|25456", "x",
                             1, NULL);
    }
    if (q->step == 1)
        return th_metaq_ack(txn, "25459", 3);
    th_msg_t m;
    th_msg_init(&m, TH_MSG_META);
    int rc = th_metaq_fill(txn, "25459", 0, 100, &m);
    q->n = m.nmeta;
    q->last = m.nmeta ? m.meta[0].seq : 0;
    th_msg_clear(&m);
    return rc;
}

static void
test_metaq_queue_push_fill_ack(void **state)
{
    (void)state;
    s_q_t q = { 0 };
    assert_int_equal(th_store_write(s_hub->store, s_queue_txn, &q), 0);
    assert_int_equal(q.last, 5);
    q.step = 2;
    assert_int_equal(th_store_read(s_hub->store, s_queue_txn, &q), 0);
    assert_int_equal(q.n, 5);            /* only this child's items */
    q.step = 1;
    assert_int_equal(th_store_write(s_hub->store, s_queue_txn, &q), 0);
    q.step = 2;
    assert_int_equal(th_store_read(s_hub->store, s_queue_txn, &q), 0);
    assert_int_equal(q.n, 2);            /* 1..3 acknowledged and gone */
    assert_int_equal(q.last, 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metaq_receipts_parse_strictly),
        cmocka_unit_test(test_metaq_path_child_follows_the_tree_of_the_day),
        cmocka_unit_test(test_metaq_queue_push_fill_ack),
    };
    return cmocka_run_group_tests_name("metaq", tests, s_setup, s_teardown);
}
