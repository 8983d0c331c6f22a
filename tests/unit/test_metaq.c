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

/* ---- unit lists from above ---------------------------------------------- */

typedef struct {
    const char *text;
    uint64_t version;
    int step;                /* 0 apply, 1 read back, 2 sync down to 25459 */
    uint64_t got_version, gen, queued;
    bool notice;
    char notice_text[600];
} s_units_t;

static int
s_units_txn(th_store_txn_t *txn, void *ctx)
{
    s_units_t *u = ctx;
    if (u->step == 0) {
        size_t n = strlen(u->text);
        uint8_t *blob = malloc(16 + n);
        for (int i = 0; i < 8; i++)
            blob[i] = (uint8_t)(u->version >> (56 - 8 * i));
        int32_t from = INT32_MIN, to = 20269;   /* as init stores vn-2024 */
        for (int i = 0; i < 4; i++) {
            blob[8 + i] = (uint8_t)((uint32_t)from >> (24 - 8 * i));
            blob[12 + i] = (uint8_t)((uint32_t)to >> (24 - 8 * i));
        }
        memcpy(blob + 16, u->text, n);
        th_msg_meta_t item = { .seq = 1, .kind = TH_MSG_META_UNITS, .key = "vn-2024",
                               .blob = blob, .len = 16 + n };
        int rc = th_metaq_apply(txn, s_hub, &item);
        free(blob);
        return rc;
    }
    if (u->step == 2) {
        uint64_t before = 0;
        int rc = th_metaq_head(txn, "25459", &before);
        if (rc == 0)
            rc = th_metaq_sync_down(txn, s_hub, "25459");
        if (rc == 0)
            rc = th_metaq_head(txn, "25459", &u->queued);
        u->queued -= before;
        return rc;
    }
    int rc = th_office_units_version(txn, "vn-2024", &u->got_version);
    if (rc == 0)
        rc = th_store_state_get_u64(txn, "units.gen", &u->gen);
    const void *v;
    size_t len;
    u->notice = rc == 0 && th_store_kv_get(txn, TH_DB_STATE, TH_METAQ_UNITS_NOTICE, &v, &len) == 0;
    if (u->notice)
        snprintf(u->notice_text, sizeof u->notice_text, "%.*s", (int)len, (const char *)v);
    return rc;
}

static void
s_units_step(s_units_t *u, int step)
{
    u->step = step;
    assert_int_equal(step == 1 ? th_store_read(s_hub->store, s_units_txn, u)
                               : th_store_write(s_hub->store, s_units_txn, u), 0);
}

static void
test_metaq_unit_lists_from_above(void **state)
{
    (void)state;
    s_units_t u = { .text = "code,name,level,parent_code\n72,Tỉnh Tây Ninh,province,\n"
                            "72-SNV,Sở Nội vụ,department,72\n", .version = 2 };
    s_units_step(&u, 1);
    assert_int_equal(u.got_version, 1);   /* as init made it */
    uint64_t gen0 = u.gen;
    assert_false(u.notice);
    /* version 2 without 703: applied, and this office is told it left */
    s_units_step(&u, 0);
    s_units_step(&u, 1);
    assert_int_equal(u.got_version, 2);
    assert_true(u.gen > gen0);
    assert_true(u.notice);
    assert_non_null(strstr(u.notice_text, "Đơn vị 703 (Thành phố Tây Ninh) không còn trong "
                                          "danh mục đơn vị vn-2024 (phiên bản 2"));
    /* the same version again, an older one, or a broken list: nothing changes */
    uint64_t gen2 = u.gen;
    s_units_step(&u, 0);
    u.version = 1;
    s_units_step(&u, 0);
    u.version = 3;
    u.text = "code,name,level,parent_code\n72-X,X,department,99\n";   /* parent missing */
    s_units_step(&u, 0);
    s_units_step(&u, 1);
    assert_int_equal(u.got_version, 2);
    assert_int_equal(u.gen, gen2);
    /* passed on to a child once: the two shipped forms and the list, then
       nothing */
    s_units_step(&u, 2);
    assert_int_equal(u.queued, 3);
    s_units_step(&u, 2);
    assert_int_equal(u.queued, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metaq_receipts_parse_strictly),
        cmocka_unit_test(test_metaq_path_child_follows_the_tree_of_the_day),
        cmocka_unit_test(test_metaq_queue_push_fill_ack),
        cmocka_unit_test(test_metaq_unit_lists_from_above),
    };
    return cmocka_run_group_tests_name("metaq", tests, s_setup, s_teardown);
}
