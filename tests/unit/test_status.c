/*  Tests of status: the document of an empty office and of one with a
    parent, reports with their revision and status, receipts named by
    level, a rejection and a return for correction shown only for the
    revision they concern (a newer revision clears them), the Vietnamese
    words of the renderings, and out-of-memory at every allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "entry.h"
#include "err.h"
#include "mem.h"
#include "period.h"
#include "status.h"

#define S_KEY_NEW "dvcq-6thang|2026S1|25459"
#define S_KEY_OLD "dvcq-6thang|2024S2|25459"

static char s_tmp[64];
static char s_dir[96];          /* office 25459 without a parent */
static char s_child[96];        /* office 25459 with a parent */

static int
s_init(const char *dir, const char *parent, const char *parent_key)
{
    th_office_init_t opt = { .dir = dir, .unit = "25459", .parent_endpoint = parent,
                             .parent_key = parent_key };
    char err[512];
    if (th_office_init(&opt, err, sizeof err) < 0) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    return 0;
}

static int
s_setup(void **state)
{
    (void)state;
    if (th_crypto_init() < 0)
        return -1;
    strcpy(s_tmp, "/tmp/th-status-XXXXXX");
    if (!mkdtemp(s_tmp))
        return -1;
    snprintf(s_dir, sizeof s_dir, "%s/xa", s_tmp);
    snprintf(s_child, sizeof s_child, "%s/con", s_tmp);
    th_identity_t parent;
    char z85[TH_Z85_KEY_LEN + 1];
    th_identity_generate(&parent);
    th_z85_encode_key(parent.pk, z85);
    if (s_init(s_dir, NULL, NULL) < 0 || s_init(s_child, "tcp://127.0.0.1:1", z85) < 0)
        return -1;
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static th_office_t *
s_open(const char *dir)
{
    char err[512];
    int rc;
    th_office_t *o = th_office_open(dir, err, sizeof err, &rc);
    if (!o)
        fail_msg("open: %s", err);
    return o;
}

static json_t *
s_status(th_office_t *o)
{
    json_t *doc = NULL;
    char err[256] = "";
    int rc = th_status_json(o, &doc, err, sizeof err);
    if (rc < 0)
        fail_msg("status: %s", err);
    assert_non_null(doc);
    return doc;
}

static uint32_t
s_submit(th_office_t *o, const char *period, bool draft, const th_entry_value_t *vals,
         size_t n)
{
    th_entry_req_t req = { .form = "dvcq-6thang", .period = period, .draft = draft,
                           .values = vals, .nvalues = n };
    th_problems_t pr = { 0 };
    th_entry_result_t res;
    char err[512] = "";
    int rc = th_entry_submit(o, &req, &pr, &res, err, sizeof err);
    th_problems_clear(&pr);
    if (rc < 0)
        fail_msg("submit %s: %s (%s)", period, err, th_strerror(rc));
    return res.rev;
}

typedef struct {
    th_store_db_t db;
    const char *key, *val;
} s_put_t;

static int
s_put_txn(th_store_txn_t *txn, void *ctx)
{
    s_put_t *p = ctx;
    return th_store_kv_put(txn, p->db, p->key, p->val, strlen(p->val));
}

/* Writes key -> val into db as metaq and the uplink store them. */
static void
s_put(th_office_t *o, th_store_db_t db, const char *key, const char *val)
{
    s_put_t p = { db, key, val };
    assert_int_equal(th_store_write(o->store, s_put_txn, &p), 0);
}

typedef struct {
    const char *name;
    uint64_t v;
} s_u64_t;

static int
s_put_u64_txn(th_store_txn_t *txn, void *ctx)
{
    s_u64_t *p = ctx;
    return th_store_state_put_u64(txn, p->name, p->v);
}

static void
s_put_u64(th_office_t *o, const char *name, uint64_t v)
{
    s_u64_t p = { name, v };
    assert_int_equal(th_store_write(o->store, s_put_u64_txn, &p), 0);
}

static int
s_foreign_txn(th_store_txn_t *txn, void *ctx)
{
    (void)ctx;
    th_store_rev_t r = { .key = "dvcq-6thang|2024S2|25460", .rev = 1,
                         .status = TH_STATUS_SUBMITTED, .received_at = 1790000000000LL,
                         .blob = (const uint8_t *)"x", .len = 1 };
    return th_store_put_revision(txn, &r, false, NULL);
}

/* The report of doc with this period (NULL when absent). */
static json_t *
s_report(json_t *doc, const char *period)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "reports"), i, r)
        if (strcmp(json_string_value(json_object_get(r, "period")), period) == 0)
            return r;
    return NULL;
}

static const char *
s_s(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    assert_non_null(s);
    return s;
}

static json_int_t
s_i(const json_t *obj, const char *key)
{
    const json_t *j = json_object_get(obj, key);
    assert_true(json_is_integer(j));
    return json_integer_value(j);
}

static void
s_progress(const json_t *doc, const json_t *report, const char *want)
{
    char buf[TH_STATUS_PHRASE_MAX];
    th_status_progress_vn(report, (uint64_t)s_i(doc, "pending"), buf, sizeof buf);
    assert_string_equal(buf, want);
}

static const th_entry_value_t s_full[] = {
    { "TT01", "3" }, { "TT02", "120" }, { "LD01", "có" }, { "CCHC01", "40" },
    { "CCHC02", "38" }, { "TCD01", "5" }, { "TCD02", "4" }, { "TCD03", "4" },
    { "DC01", "có" }, { "ND01", "Kết quả nổi bật" }, { "DVK01", "2" }, { "DVK02", "1" },
};
#define S_NFULL (sizeof s_full / sizeof *s_full)

/* ---- tests ---------------------------------------------------------------- */

static void
test_status_empty_office_without_parent(void **state)
{
    (void)state;
    th_office_t *o = s_open(s_dir);
    json_t *doc = s_status(o);
    /* the keys, in the order the CLI has always printed them */
    static const char *keys[] = { "unit", "link", "pending", "acked_seq", "last_seq",
                                  "reports", "units", "daemon" };
    size_t n = 0;
    for (void *it = json_object_iter(doc); it; it = json_object_iter_next(doc, it), n++) {
        assert_true(n < 8);
        assert_string_equal(json_object_iter_key(it), keys[n]);
    }
    assert_int_equal(n, 8);
    /* the official lists as init made them, version 1 */
    json_t *ul = json_object_get(doc, "units");
    assert_int_equal(json_array_size(ul), 2);
    assert_string_equal(s_s(json_array_get(ul, 0), "set"), "vn-2024");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ul, 1), "version")), 1);
    /* no daemon runs on the directory (runfile.h) */
    assert_true(json_is_false(json_object_get(json_object_get(doc, "daemon"), "running")));
    assert_string_equal(s_s(doc, "unit"), "25459");
    json_t *link = json_object_get(doc, "link");
    assert_string_equal(s_s(link, "state"), "none");
    assert_true(json_is_null(json_object_get(link, "last_contact")));
    assert_string_equal(s_s(link, "error"), "");
    assert_int_equal(s_i(doc, "pending"), 0);
    assert_int_equal(s_i(doc, "acked_seq"), 0);
    assert_int_equal(s_i(doc, "last_seq"), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "reports")), 0);
    json_decref(doc);
    th_office_destroy(&o);
}

static void
test_status_link_never_with_parent(void **state)
{
    (void)state;
    th_office_t *o = s_open(s_child);
    json_t *doc = s_status(o);
    json_t *link = json_object_get(doc, "link");
    assert_string_equal(s_s(link, "state"), "never");
    assert_true(json_is_null(json_object_get(link, "last_contact")));
    assert_string_equal(s_s(link, "error"), "");
    json_decref(doc);

    /* what the uplink records replaces it */
    s_put(o, TH_DB_STATE, "link.state", "refused");
    s_put(o, TH_DB_STATE, "link.error", "khóa không được đăng ký");
    s_put_u64(o, "link.last_contact", 1790000000000ULL);
    doc = s_status(o);
    link = json_object_get(doc, "link");
    assert_string_equal(s_s(link, "last_contact"), "2026-09-21T14:13:20Z");
    assert_string_equal(s_s(link, "state"), "refused");
    assert_string_equal(s_s(link, "error"), "khóa không được đăng ký");
    assert_string_equal(th_status_link_vn(s_s(link, "state")), "bị cấp trên từ chối");
    json_decref(doc);
    th_office_destroy(&o);
}

static void
test_status_reports_receipts_rejection_return(void **state)
{
    (void)state;
    th_office_t *o = s_open(s_dir);
    th_entry_value_t d[] = { { "TT01", "2" } };
    assert_int_equal(s_submit(o, "2024S2", true, d, 1), 1);
    assert_int_equal(s_submit(o, "2024S2", false, s_full, S_NFULL), 2);
    assert_int_equal(s_submit(o, "2026S1", true, d, 1), 1);
    assert_int_equal(th_store_write(o->store, s_foreign_txn, NULL), 0);

    json_t *doc = s_status(o);
    assert_int_equal(s_i(doc, "pending"), 1);   /* drafts are not sent */
    assert_int_equal(s_i(doc, "acked_seq"), 0);
    assert_int_equal(s_i(doc, "last_seq"), 1);
    json_t *reports = json_object_get(doc, "reports");
    assert_int_equal(json_array_size(reports), 2);   /* not the other unit's */
    json_t *r = json_array_get(reports, 0);           /* key order */
    assert_string_equal(s_s(r, "form"), "dvcq-6thang");
    assert_string_equal(s_s(r, "period"), "2024S2");
    assert_int_equal(s_i(r, "rev"), 2);
    assert_string_equal(s_s(r, "status"), "submitted");
    int64_t saved;
    assert_int_equal(th_time_parse_iso(s_s(r, "saved_at"), &saved), 0);
    assert_int_equal(json_array_size(json_object_get(r, "receipts")), 0);
    assert_null(json_object_get(r, "rejected"));
    assert_null(json_object_get(r, "returned"));
    s_progress(doc, r, "chờ gửi");
    json_t *dr = json_array_get(reports, 1);
    assert_string_equal(s_s(dr, "period"), "2026S1");
    assert_int_equal(s_i(dr, "rev"), 1);
    assert_string_equal(s_s(dr, "status"), "draft");
    s_progress(doc, dr, "chưa gửi");
    json_decref(doc);

    /* the parent acknowledged everything: sent */
    s_put_u64(o, "uplink.acked", 1);
    doc = s_status(o);
    assert_int_equal(s_i(doc, "pending"), 0);
    s_progress(doc, s_report(doc, "2024S2"), "đã gửi");
    json_decref(doc);

    /* receipts "r|KEY|BY" -> "rev at": district 703 and province 72 in the
       lists of 2024; 72 first got rev 1 only */
    s_put(o, TH_DB_RECEIPTS, "r|" S_KEY_OLD "|703", "2 1790000123456");
    s_put(o, TH_DB_RECEIPTS, "r|" S_KEY_OLD "|72", "1 1790000999999");
    s_put(o, TH_DB_RECEIPTS, "r|" S_KEY_OLD "|99", "garbage");
    doc = s_status(o);
    r = s_report(doc, "2024S2");
    json_t *rc = json_object_get(r, "receipts");
    assert_int_equal(json_array_size(rc), 2);   /* the malformed one skipped */
    json_t *x = json_array_get(rc, 0);
    assert_string_equal(s_s(x, "by"), "703");
    assert_string_equal(s_s(x, "by_name"), "Thành phố Tây Ninh");
    assert_string_equal(s_s(x, "level"), "district");
    assert_int_equal(s_i(x, "rev"), 2);
    assert_string_equal(s_s(x, "at"), "2026-09-21T14:15:23Z");
    x = json_array_get(rc, 1);
    assert_string_equal(s_s(x, "by"), "72");
    assert_string_equal(s_s(x, "level"), "province");
    assert_int_equal(s_i(x, "rev"), 1);
    /* only receipts of the current revision speak */
    s_progress(doc, r, "huyện đã nhận (21/09/2026 21:15)");
    json_decref(doc);
    s_put(o, TH_DB_RECEIPTS, "r|" S_KEY_OLD "|72", "2 1790003600000");
    doc = s_status(o);
    s_progress(doc, s_report(doc, "2024S2"),
               "huyện đã nhận (21/09/2026 21:15); tỉnh đã nhận (21/09/2026 22:13)");
    json_decref(doc);

    /* a rejection "x|KEY" -> "rev code reason" of an older revision is not shown */
    s_put(o, TH_DB_RECEIPTS, "x|" S_KEY_OLD, "1 7 cũ");
    doc = s_status(o);
    assert_null(json_object_get(s_report(doc, "2024S2"), "rejected"));
    json_decref(doc);
    s_put(o, TH_DB_RECEIPTS, "x|" S_KEY_OLD, "2 7 Sai số liệu");
    doc = s_status(o);
    r = s_report(doc, "2024S2");
    x = json_object_get(r, "rejected");
    assert_non_null(x);
    assert_int_equal(s_i(x, "rev"), 2);
    assert_int_equal(s_i(x, "code"), 7);
    assert_string_equal(s_s(x, "reason"), "Sai số liệu");
    s_progress(doc, r, "BỊ TỪ CHỐI: Sai số liệu");
    json_decref(doc);

    /* a return "t|KEY" -> "rev at by reason" of the current revision */
    s_put(o, TH_DB_RECEIPTS, "t|" S_KEY_OLD, "2 1790001234567 80 Sửa TT01 cho khớp sổ");
    doc = s_status(o);
    r = s_report(doc, "2024S2");
    x = json_object_get(r, "returned");
    assert_non_null(x);
    assert_int_equal(s_i(x, "rev"), 2);
    assert_string_equal(s_s(x, "by"), "80");
    assert_string_equal(s_s(x, "at"), "2026-09-21T14:33:54Z");
    assert_string_equal(s_s(x, "reason"), "Sửa TT01 cho khớp sổ");
    assert_non_null(json_object_get(r, "rejected"));
    s_progress(doc, r, "TRẢ LẠI ĐỂ SỬA: Sửa TT01 cho khớp sổ");
    json_decref(doc);
    th_status_returned_t ret;
    memset(&ret, 0, sizeof ret);
    assert_int_equal(th_status_returned(o, S_KEY_OLD, 2, &ret), 0);
    assert_int_equal(ret.rev, 2);
    assert_string_equal(ret.by, "80");
    assert_int_equal(ret.at, 1790001234567LL);
    assert_string_equal(ret.reason, "Sửa TT01 cho khớp sổ");
    assert_int_equal(th_status_returned(o, S_KEY_OLD, 1, &ret), TH_E_NOTFOUND);
    assert_int_equal(th_status_returned(o, S_KEY_NEW, 1, &ret), TH_E_NOTFOUND);

    /* a new revision clears the return and the rejection */
    th_entry_value_t fix[] = { { "TT01", "4" } };
    assert_int_equal(s_submit(o, "2024S2", false, fix, 1), 3);
    doc = s_status(o);
    assert_int_equal(s_i(doc, "pending"), 1);
    r = s_report(doc, "2024S2");
    assert_int_equal(s_i(r, "rev"), 3);
    assert_null(json_object_get(r, "returned"));
    assert_null(json_object_get(r, "rejected"));
    assert_int_equal(json_array_size(json_object_get(r, "receipts")), 2);   /* of rev 2 */
    s_progress(doc, r, "chờ gửi");
    json_decref(doc);
    assert_int_equal(th_status_returned(o, S_KEY_OLD, 3, &ret), TH_E_NOTFOUND);

    /* one form and period only: the other report is not walked */
    char err[256] = "";
    assert_int_equal(th_status_json_for(o, "dvcq-6thang", "2026S1", &doc, err, sizeof err), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "reports")), 1);
    assert_string_equal(s_s(json_array_get(json_object_get(doc, "reports"), 0), "period"),
                        "2026S1");
    assert_int_equal(s_i(doc, "pending"), 1);   /* the office's counts are all there */
    json_decref(doc);
    assert_int_equal(th_status_json_for(o, "dvcq-6thang", "2025S1", &doc, err, sizeof err), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "reports")), 0);
    json_decref(doc);
    assert_int_equal(th_status_json_for(o, "dvcq-6thang", NULL, &doc, err, sizeof err),
                     TH_E_INVALID);
    assert_null(doc);

    /* a stored text that is not UTF-8 is shown, with '?' for its odd bytes */
    s_put(o, TH_DB_RECEIPTS, "x|" S_KEY_OLD, "3 9 l\xff\xfe do");
    doc = s_status(o);
    assert_string_equal(s_s(json_object_get(s_report(doc, "2024S2"), "rejected"), "reason"),
                        "l?? do");
    json_decref(doc);
    th_office_destroy(&o);
}

static void
test_status_words(void **state)
{
    (void)state;
    assert_string_equal(th_status_level_vn("province"), "tỉnh");
    assert_string_equal(th_status_level_vn("district"), "huyện");
    assert_string_equal(th_status_level_vn("commune"), "xã");
    assert_string_equal(th_status_level_vn(""), "cấp trên");
    assert_string_equal(th_status_level_vn(NULL), "cấp trên");
    assert_string_equal(th_status_link_vn("up"), "đang kết nối");
    assert_string_equal(th_status_link_vn("down"), "mất kết nối");
    assert_string_equal(th_status_link_vn("never"), "chưa kết nối lần nào");
    assert_string_equal(th_status_link_vn("none"), "không có cấp trên");
    assert_string_equal(th_status_link_vn("odd"), "odd");
    assert_string_equal(th_status_link_vn(NULL), "");
    char buf[32];
    th_status_time_vn("2026-09-21T14:33:54Z", buf);
    assert_string_equal(buf, "21/09/2026 21:33");
    th_status_time_vn("hôm qua", buf);
    assert_string_equal(buf, "hôm qua");
    th_status_time_vn(NULL, buf);
    assert_string_equal(buf, "");

    /* progress of hand-made reports; a small buffer cuts on a character */
    json_t *r = json_pack("{s:s, s:i, s:[]}", "status", "submitted", "rev", 1, "receipts");
    assert_non_null(r);
    char p[TH_STATUS_PHRASE_MAX];
    th_status_progress_vn(r, 0, p, sizeof p);
    assert_string_equal(p, "đã gửi");
    th_status_progress_vn(r, 3, p, sizeof p);
    assert_string_equal(p, "chờ gửi");
    th_status_progress_vn(r, 3, p, 3);
    assert_string_equal(p, "ch");
    th_status_progress_vn(r, 0, p, 2);   /* "đ" is 2 bytes: nothing fits */
    assert_string_equal(p, "");
    json_decref(r);
}

static void
test_status_errors(void **state)
{
    (void)state;
    json_t *doc = (json_t *)&doc;
    char err[128] = "";
    assert_int_equal(th_status_json(NULL, &doc, err, sizeof err), TH_E_INVALID);
    assert_null(doc);
    assert_true(err[0] != '\0');
    th_office_t *o = s_open(s_dir);
    assert_int_equal(th_status_json(o, NULL, NULL, 0), TH_E_INVALID);
    th_status_returned_t ret;
    assert_int_equal(th_status_returned(o, NULL, 1, &ret), TH_E_INVALID);
    assert_int_equal(th_status_returned(NULL, S_KEY_OLD, 1, &ret), TH_E_INVALID);
    assert_int_equal(th_status_returned_txn(NULL, S_KEY_OLD, 1, &ret), TH_E_INVALID);
    th_office_destroy(&o);
}

static void
test_status_out_of_memory(void **state)
{
    (void)state;
    th_office_t *o = s_open(s_dir);
    unsigned long before = th_mem_count();
    json_t *want = s_status(o);
    unsigned long allocs = th_mem_count() - before;
    assert_true(allocs > 50);   /* the loop below does reach jansson */
    /* every allocation failure gives -ENOMEM and leaks nothing (ASan);
       jansson allocates through th_malloc in this test (see main) */
    for (long n = 0; n < 2000; n++) {
        json_t *doc = NULL;
        th_mem_fail_after(n);
        int rc = th_status_json(o, &doc, NULL, 0);
        th_mem_fail_after(-1);
        if (rc == 0) {
            assert_int_equal((unsigned long)n, allocs);   /* each one was failed */
            assert_true(json_equal(doc, want));
            json_decref(doc);
            json_decref(want);
            th_office_destroy(&o);
            return;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(doc);
    }
    fail_msg("status still failing after 2000 allocations");
}

int
main(void)
{
    /* jansson through the project's allocator, so that the out-of-memory
       test reaches every JSON allocation */
    json_set_alloc_funcs(th_malloc, th_free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_empty_office_without_parent),
        cmocka_unit_test(test_status_link_never_with_parent),
        cmocka_unit_test(test_status_reports_receipts_rejection_return),
        cmocka_unit_test(test_status_words),
        cmocka_unit_test(test_status_errors),
        cmocka_unit_test(test_status_out_of_memory),
    };
    return cmocka_run_group_tests_name("status", tests, s_setup, s_teardown);
}
