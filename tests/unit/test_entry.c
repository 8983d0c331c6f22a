/*  Tests of entry (with office): numbering, signing, carry-over, rejection
    that stores nothing, tamper detection, deadlines per tree, CSV values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "entry.h"
#include "err.h"
#include "mem.h"
#include "period.h"

static char s_tmp[64];
static char s_dir[96];

static int
s_setup(void **state)
{
    (void)state;
    if (th_crypto_init() < 0)
        return -1;
    strcpy(s_tmp, "/tmp/th-entry-XXXXXX");
    if (!mkdtemp(s_tmp))
        return -1;
    snprintf(s_dir, sizeof s_dir, "%s/xa", s_tmp);
    th_office_init_t opt = { .dir = s_dir, .unit = "25459" };
    char err[512];
    if (th_office_init(&opt, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
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
s_open(void)
{
    char err[512];
    int rc;
    th_office_t *o = th_office_open(s_dir, err, sizeof err, &rc);
    if (!o)
        fail_msg("open: %s", err);
    return o;
}

static int
s_submit(th_office_t *o, const char *period, bool draft, th_problems_t *pr,
         th_entry_result_t *res, size_t n, const th_entry_value_t *vals)
{
    th_entry_req_t req = { .form = "dvcq-6thang", .period = period, .draft = draft,
                           .values = vals, .nvalues = n };
    char err[512] = "";
    int rc = th_entry_submit(o, &req, pr, res, err, sizeof err);
    if (rc < 0 && rc != TH_E_REJECTED)
        fprintf(stderr, "# submit: %s\n", err);
    return rc;
}

typedef struct {
    const char *key;
    uint32_t rev;
    th_record_t *out;
    int tamper_at;   /* -1: read as stored */
    bool sealed;     /* out: the store vouches for it (th_store_revision_sealed) */
} s_read_t;

static int
s_read_rev(th_store_txn_t *txn, void *ctx)
{
    s_read_t *r = ctx;
    th_store_rev_t sr;
    int rc = th_store_get_revision(txn, r->key, r->rev, &sr);
    if (rc < 0)
        return rc;
    r->sealed = th_store_revision_sealed(txn, &sr);
    uint8_t *copy = th_memdup(sr.blob, sr.len);
    if (!copy)
        return -ENOMEM;
    if (r->tamper_at >= 0)
        copy[(size_t)r->tamper_at % sr.len] ^= 0x20;
    rc = th_entry_decode_verified(copy, sr.len, r->out);
    th_free(copy);
    return rc;
}

static const th_entry_value_t s_full[] = {
    { "TT01", "3" }, { "TT02", "120" }, { "LD01", "có" }, { "CCHC01", "40" },
    { "CCHC02", "38" }, { "TCD01", "5" }, { "TCD02", "4" }, { "TCD03", "4" },
    { "DC01", "có" }, { "ND01", "Kết quả nổi bật" }, { "DVK01", "2" }, { "DVK02", "1" },
};
#define S_NFULL (sizeof s_full / sizeof *s_full)

static void
test_entry_revisions_signed_and_carried_over(void **state)
{
    (void)state;
    th_office_t *o = s_open();
    th_problems_t pr = { 0 };
    th_entry_result_t res;
    th_entry_value_t draft[] = { { "TT01", "2" } };
    assert_int_equal(s_submit(o, "2026S1", true, &pr, &res, 1, draft), 0);
    assert_int_equal(res.rev, 1);
    assert_int_equal(res.seq, 0);   /* drafts are not logged for the parent */
    assert_int_equal(s_submit(o, "2026S1", false, &pr, &res, S_NFULL, s_full), 0);
    assert_int_equal(res.rev, 2);
    assert_true(res.seq > 0);
    uint64_t first_seq = res.seq;
    th_entry_value_t fix[] = { { "TT01", "4" } };
    assert_int_equal(s_submit(o, "2026S1", false, &pr, &res, 1, fix), 0);
    assert_int_equal(res.rev, 3);
    assert_int_equal(res.seq, first_seq + 1);
    /* unchanged: nothing stored */
    assert_int_equal(s_submit(o, "2026S1", false, &pr, &res, 1, fix), 0);
    assert_true(res.unchanged);
    assert_int_equal(res.rev, 3);

    th_record_t r;
    th_record_init(&r);
    s_read_t q = { "dvcq-6thang|2026S1|25459", 3, &r, -1, false };
    assert_int_equal(th_store_read(o->store, s_read_rev, &q), 0);
    assert_int_equal(th_record_get(&r, "TT01")->u.i, 4);
    assert_int_equal(th_record_get(&r, "TT02")->u.i, 120);   /* carried over */
    assert_true(q.sealed);   /* signed here: readers need not verify it again */
    assert_memory_equal(r.origin, o->id.pk, 32);
    assert_int_equal(r.status, TH_STATUS_SUBMITTED);
    th_record_clear(&r);
    th_office_destroy(&o);
}

static void
test_entry_rejection_stores_nothing(void **state)
{
    (void)state;
    th_office_t *o = s_open();
    th_problems_t pr = { 0 };
    th_entry_result_t res;
    th_entry_value_t bad[] = { { "DVK01", "2" }, { "DVK02", "3" }, { "TT02", "nhiều" },
                               { "NOPE", "1" } };
    assert_int_equal(s_submit(o, "2027S1", false, &pr, &res, 4, bad), TH_E_REJECTED);
    bool typed = false, rule = false, unknown = false, required = false;
    for (size_t i = 0; i < pr.n; i++) {
        if (!strcmp(pr.items[i].code, "TT02") && strstr(pr.items[i].message, "số nguyên"))
            typed = true;
        if (!strcmp(pr.items[i].code, "TT02") && strstr(pr.items[i].message, "Bắt buộc"))
            fail_msg("a mistyped field must not also be reported missing");
        if (!strcmp(pr.items[i].code, "DVK02") && strstr(pr.items[i].message, "R01"))
            rule = true;
        if (!strcmp(pr.items[i].code, "NOPE"))
            unknown = true;
        if (!strcmp(pr.items[i].code, "CCHC01"))
            required = true;
    }
    assert_true(typed && rule && unknown && required);
    th_problems_clear(&pr);
    th_record_t r;
    th_record_init(&r);
    s_read_t q = { "dvcq-6thang|2027S1|25459", 1, &r, -1, false };
    assert_int_equal(th_store_read(o->store, s_read_rev, &q), TH_E_NOTFOUND);
    th_office_destroy(&o);
}

static void
test_entry_tampered_blob_is_detected(void **state)
{
    (void)state;
    th_office_t *o = s_open();
    th_problems_t pr = { 0 };
    th_entry_result_t res;
    assert_int_equal(s_submit(o, "2028S1", false, &pr, &res, S_NFULL, s_full), 0);
    th_record_t r;
    th_record_init(&r);
    s_read_t q = { "dvcq-6thang|2028S1|25459", res.rev, &r, -1, false };
    assert_int_equal(th_store_read(o->store, s_read_rev, &q), 0);
    th_record_clear(&r);
    /* any single changed byte of the stored blob fails decoding or signature */
    for (int at = 0; at < 600; at += 7) {
        q.tamper_at = at;
        int rc = th_store_read(o->store, s_read_rev, &q);
        assert_true(rc < 0);
        th_record_clear(&r);
    }
    th_office_destroy(&o);
}

static void
test_entry_deadline_follows_the_tree_of_the_period(void **state)
{
    (void)state;
    th_office_t *o = s_open();
    const th_form_t *f = th_office_form(o, "dvcq-6thang");
    assert_non_null(f);
    th_period_t p;
    char d[11];
    /* 2026S1: 2025 tree, 25459 reports straight to province 80: 10/06 */
    assert_int_equal(th_period_parse("2026S1", &p), 0);
    th_date_format_vn(th_entry_deadline(o, f, &p, "25459"), d);
    assert_string_equal(d, "10/06/2026");
    /* 2025S1: 2024 tree, 25459 (Phường 3) reports to a district: 05/06 */
    assert_int_equal(th_period_parse("2025S1", &p), 0);
    th_date_format_vn(th_entry_deadline(o, f, &p, "25459"), d);
    assert_string_equal(d, "05/06/2025");
    /* a province has no parent, hence no deadline */
    assert_int_equal(th_entry_deadline(o, f, &p, "72"), INT32_MIN);
    th_office_destroy(&o);
}

static void
test_entry_values_from_csv(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/v.csv", s_tmp);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("\xEF\xBB\xBF" "code,value\r\nTT01,12\r\nND01,\"a, \"\"b\"\"\nc\"\r\n", fp);
    fclose(fp);
    th_entry_value_t *v;
    size_t n;
    assert_int_equal(th_entry_values_from_csv(path, &v, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].code, "TT01");
    assert_string_equal(v[0].text, "12");
    assert_string_equal(v[1].text, "a, \"b\"\nc");
    th_entry_values_free(v, n);
    fp = fopen(path, "w");
    fputs("code,value\nTT01,1,extra\n", fp);
    fclose(fp);
    assert_int_equal(th_entry_values_from_csv(path, &v, &n, err, sizeof err), TH_E_PARSE);
    assert_non_null(strstr(err, "v.csv:2: expected 2 columns"));
}

typedef struct {
    const char *key;
    uint32_t rev;        /* 0: none */
    uint64_t last_seq;
    size_t nrev;
} s_state_t;

static int
s_count_rev(const th_store_rev_t *r, void *ctx)
{
    (void)r;
    ((s_state_t *)ctx)->nrev++;
    return 0;
}

static int
s_state_txn(th_store_txn_t *txn, void *ctx)
{
    s_state_t *st = ctx;
    th_store_rev_t cur;
    int rc = th_store_get_current(txn, st->key, &cur);
    st->rev = rc == 0 ? cur.rev : 0;
    st->nrev = 0;
    if (rc == 0 && (rc = th_store_each_revision(txn, st->key, s_count_rev, st)) < 0)
        return rc;
    return th_store_log_last(txn, &st->last_seq);
}

/* The Nth allocation fails, for every N, across a whole submission: each
   attempt fails with -ENOMEM and leaves the store as it was (no revision,
   no log entry; LeakSanitizer checks nothing leaked), until one succeeds. */
static void
test_entry_out_of_memory_leaves_the_store_as_it_was(void **state)
{
    (void)state;
    th_office_t *o = s_open();
    th_problems_t pr = { 0 };
    th_entry_result_t res;
    s_state_t before = { .key = "dvcq-6thang|2028S1|25459" }, after = before;
    assert_int_equal(th_store_read(o->store, s_state_txn, &before), 0);
    long n = 0;
    int rc;
    for (;; n++) {
        th_mem_fail_after(n);
        rc = s_submit(o, "2028S1", false, &pr, &res, S_NFULL, s_full);
        th_mem_fail_after(-1);
        th_problems_clear(&pr);
        if (rc == 0)
            break;
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(th_store_read(o->store, s_state_txn, &after), 0);
        assert_int_equal(after.rev, before.rev);
        assert_int_equal(after.nrev, before.nrev);
        assert_int_equal(after.last_seq, before.last_seq);
        assert_true(n < 100000);
    }
    assert_true(n > 10);   /* a submission allocates: the loop was exercised */
    assert_int_equal(th_store_read(o->store, s_state_txn, &after), 0);
    assert_int_equal(after.rev, 1);
    assert_int_equal(after.nrev, before.nrev + 1);
    assert_int_equal(after.last_seq, before.last_seq + 1);
    th_office_destroy(&o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_out_of_memory_leaves_the_store_as_it_was),
        cmocka_unit_test(test_entry_revisions_signed_and_carried_over),
        cmocka_unit_test(test_entry_rejection_stores_nothing),
        cmocka_unit_test(test_entry_tampered_blob_is_detected),
        cmocka_unit_test(test_entry_deadline_follows_the_tree_of_the_period),
        cmocka_unit_test(test_entry_values_from_csv),
    };
    return cmocka_run_group_tests_name("entry", tests, s_setup, s_teardown);
}
