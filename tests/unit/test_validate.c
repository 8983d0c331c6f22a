/*  Unit tests for common/validate: typed-value parsing (Vietnamese
    formats), record validation with its Vietnamese messages, and computed
    ratios. Run from the repository root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "forms.h"
#include "mem.h"
#include "model.h"
#include "validate.h"

#include "forms_fixture.h"
#include "record_fixture.h"

/* A complete, valid annual report for the shipped form. */
static void
s_fill_valid(th_record_t *r)
{
    s_set_int(r, "TT01", 12);
    s_set_int(r, "TT02", 1530);
    s_set_bool(r, "LD01", true);
    s_set_int(r, "DVK01", 3);
    s_set_int(r, "DVK02", 2);
    s_set_int(r, "CCHC01", 1200);
    s_set_int(r, "CCHC02", 1188);
    s_set_int(r, "TCD01", 40);
    s_set_int(r, "TCD02", 15);
    s_set_int(r, "TCD03", 14);
    s_set_bool(r, "DC01", true);
    s_set_text(r, "DG01", "tot");
    s_set_text(r, "ND01", "Hoàn thành 2 mô hình \"Dân vận khéo\" cấp xã.");
}

static const th_problem_t *
s_find_problem(const th_problems_t *p, const char *code)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].code, code) == 0)
            return &p->items[i];
    return NULL;
}

/* ---- typed values -------------------------------------------------------------- */

static th_indicator_t
s_ind(th_itype_t t)
{
    th_indicator_t i;
    memset(&i, 0, sizeof i);
    strcpy(i.code, "X1");
    i.type = t;
    return i;
}

static void
s_int_ok(const char *text, int64_t want)
{
    th_indicator_t ind = s_ind(TH_IT_INT);
    th_value_t v;
    const char *msg = "unset";
    int rc = th_form_parse_value(&ind, text, &v, &msg);
    if (rc)
        fail_msg("'%s' rejected: %s", text, msg ? msg : "");
    assert_int_equal(v.kind, TH_V_INT);
    assert_string_equal(v.code, "X1");
    assert_true(v.u.i == want);
}

static void
s_dec_ok(const char *text, double want)
{
    th_indicator_t ind = s_ind(TH_IT_DEC);
    th_value_t v;
    const char *msg = NULL;
    int rc = th_form_parse_value(&ind, text, &v, &msg);
    if (rc)
        fail_msg("'%s' rejected: %s", text, msg ? msg : "");
    assert_int_equal(v.kind, TH_V_DEC);
    if (v.u.d != want)
        fail_msg("'%s' gave %.17g, want %.17g", text, v.u.d, want);
}

static void
s_bad_value(th_itype_t t, const char *text, const char *want_msg)
{
    th_indicator_t ind = s_ind(t);
    th_value_t v;
    const char *msg = NULL;
    assert_int_equal(th_form_parse_value(&ind, text, &v, &msg), TH_E_INVALID);
    if (!msg || strcmp(msg, want_msg) != 0)
        fail_msg("'%s': message '%s', want '%s'", text, msg ? msg : "(null)", want_msg);
}

static void
test_validate_parse_value_int_vietnamese_formats(void **state)
{
    (void)state;
    s_int_ok("0", 0);
    s_int_ok("1234567", 1234567);
    s_int_ok("1.234.567", 1234567);
    s_int_ok("1 234", 1234);
    s_int_ok("1\xc2\xa0" "234\xc2\xa0" "567", 1234567);   /* no-break spaces */
    s_int_ok("  -12  ", -12);
    s_int_ok("1.234", 1234);
    s_int_ok("9223372036854775807", INT64_MAX);
    s_int_ok("-9.223.372.036.854.775.808", INT64_MIN);
    s_bad_value(TH_IT_INT, "12,5", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "12.5", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "1.23.456", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "1234.567", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, ".123", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "12a", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "1..234", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "-", "Phải là số nguyên");
    s_bad_value(TH_IT_INT, "", "Chưa nhập giá trị");
    s_bad_value(TH_IT_INT, "9223372036854775808", "Số quá lớn");
    s_bad_value(TH_IT_INT, "99999999999999999999999", "Số quá lớn");
}

static void
test_validate_parse_value_decimal_vietnamese_formats(void **state)
{
    (void)state;
    s_dec_ok("12,5", 12.5);
    s_dec_ok("12.5", 12.5);             /* one dot, no comma: decimal point */
    s_dec_ok("1.234.567,25", 1234567.25);
    s_dec_ok("1 234,5", 1234.5);
    s_dec_ok("0,1", 0.1);
    s_dec_ok("-3,75", -3.75);
    s_dec_ok("98", 98);
    s_dec_ok("1.234.567", 1234567);     /* several dots: thousands */
    s_bad_value(TH_IT_DEC, "12,5,1", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "12,", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "1,2a", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "abc", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
    s_bad_value(TH_IT_DEC, "1.23.4,5", "Phải là số (ví dụ: 12,5 hoặc 1.234)");
}

static void
test_validate_parse_value_bool_enum_text(void **state)
{
    (void)state;
    th_indicator_t b = s_ind(TH_IT_BOOL);
    const char *yes[] = { "có", "Có", "CÓ", "co", "x", "X", "1", "true", "yes", "Yes" };
    const char *no[] = { "không", "Không", "KHÔNG", "khong", "", "  ", "0", "false", "no" };
    th_value_t v;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        assert_int_equal(th_form_parse_value(&b, yes[i], &v, NULL), 0);
        assert_int_equal(v.kind, TH_V_BOOL);
        if (!v.u.b)
            fail_msg("'%s' should be true", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        assert_int_equal(th_form_parse_value(&b, no[i], &v, NULL), 0);
        if (v.u.b)
            fail_msg("'%s' should be false", no[i]);
    }
    s_bad_value(TH_IT_BOOL, "đúng", "Phải là Có hoặc Không");
    s_bad_value(TH_IT_BOOL, "2", "Phải là Có hoặc Không");

    th_indicator_t e = s_ind(TH_IT_ENUM);
    th_form_option_t opts[2] = { { "tot", (char *)"Tốt" }, { "tb", (char *)"Trung bình" } };
    e.options = opts;
    e.noptions = 2;
    assert_int_equal(th_form_parse_value(&e, "tb", &v, NULL), 0);
    assert_int_equal(v.kind, TH_V_TEXT);
    assert_string_equal(v.u.s, "tb");
    th_value_clear(&v);
    assert_int_equal(th_form_parse_value(&e, " Trung bình ", &v, NULL), 0);
    assert_string_equal(v.u.s, "tb");
    th_value_clear(&v);
    assert_int_equal(th_form_parse_value(&e, "TOT", &v, NULL), 0);
    assert_string_equal(v.u.s, "tot");
    th_value_clear(&v);
    const char *msg = NULL;
    assert_int_equal(th_form_parse_value(&e, "Khá", &v, &msg), TH_E_INVALID);
    assert_string_equal(msg, "Không có trong danh sách lựa chọn");

    th_indicator_t t = s_ind(TH_IT_TEXT);
    assert_int_equal(th_form_parse_value(&t, "  Kết quả nổi bật: tốt.\n", &v, NULL), 0);
    assert_int_equal(v.kind, TH_V_TEXT);
    assert_string_equal(v.u.s, "Kết quả nổi bật: tốt.");
    th_value_clear(&v);
    assert_int_equal(th_form_parse_value(&t, "", &v, NULL), 0);
    assert_string_equal(v.u.s, "");
    th_value_clear(&v);
    s_bad_value(TH_IT_TEXT, "bad \xff byte", "Văn bản chứa ký tự không hợp lệ (không phải UTF-8)");
    s_bad_value(TH_IT_TEXT, "\xed\xa0\x80", "Văn bản chứa ký tự không hợp lệ (không phải UTF-8)");
    char *big = malloc(TH_TEXT_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', TH_TEXT_MAX);
    big[TH_TEXT_MAX] = '\0';
    s_bad_value(TH_IT_TEXT, big, "Văn bản quá dài");
    big[TH_TEXT_MAX - 1] = '\0';
    assert_int_equal(th_form_parse_value(&t, big, &v, NULL), 0);
    th_value_clear(&v);
    free(big);

    th_indicator_t c = s_ind(TH_IT_DEC);
    c.computed = true;
    c.agg = TH_AGG_RATIO;
    assert_int_equal(th_form_parse_value(&c, "12", &v, &msg), TH_E_INVALID);
    assert_string_equal(msg, "Chỉ tiêu này được tính tự động, không nhập");
    assert_int_equal(th_form_parse_value(NULL, "1", &v, &msg), -EINVAL);
}

/* ---- validation ---------------------------------------------------------------- */

static void
test_validate_valid_record_is_clean(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    assert_int_equal(p.n, 0);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_validate_value_problems(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    s_set_int(&r, "ZZ01", 5);            /* unknown */
    s_set_text(&r, "TT03", "năm");       /* wrong kind */
    s_set_int(&r, "TT04", -1);           /* negative count */
    s_set_text(&r, "DG01", "gioi");      /* not an option */
    s_set_dec(&r, "CCHC03", 99.0);       /* computed, entered */
    s_set_int(&r, "LD01", 1);            /* bool given as int */
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, false, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 6);
    const th_problem_t *q = s_find_problem(&p, "ZZ01");
    assert_non_null(q);
    assert_null(q->label);
    assert_string_equal(q->message, "Chỉ tiêu ZZ01 không có trong biểu mẫu");
    q = s_find_problem(&p, "TT03");
    assert_string_equal(q->message, "Phải là số nguyên");
    assert_string_equal(q->label, th_form_indicator(f, "TT03")->label);
    q = s_find_problem(&p, "TT04");
    assert_string_equal(q->message, "Không được nhỏ hơn 0");
    q = s_find_problem(&p, "DG01");
    assert_string_equal(q->message, "Giá trị \"gioi\" không có trong danh sách lựa chọn");
    q = s_find_problem(&p, "CCHC03");
    assert_string_equal(q->message, "Chỉ tiêu này được tính tự động, không nhập");
    q = s_find_problem(&p, "LD01");
    assert_string_equal(q->message, "Phải là Có hoặc Không");
    th_problems_clear(&p);
    assert_int_equal(p.n, 0);
    assert_null(p.items);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_validate_bounds_are_written_vietnamese(void **state)
{
    (void)state;
    th_form_t *f = s_parse(HDR "[indicator A]\nlabel = A\ntype = decimal\nmin = -2.5\n"
                           "max = 1234567\n");
    th_record_t r;
    th_record_init(&r);
    th_problems_t p = { 0 };
    s_set_dec(&r, "A", 2e6);
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_string_equal(p.items[0].message, "Không được lớn hơn 1.234.567");
    s_set_int(&r, "A", -3);   /* an int value is fine for a decimal indicator */
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 1);  /* previous content was cleared */
    assert_string_equal(p.items[0].message, "Không được nhỏ hơn -2,5");
    s_set_int(&r, "A", 7);
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    assert_int_equal(p.n, 0);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_validate_required_only_when_submitting(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    assert_int_equal(th_record_unset(&r, "TT01"), 1);
    s_set_text(&r, "ND01", "   ");   /* blank text counts as missing */
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, false, &p), 0);   /* a draft may be partial */
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].code, "TT01");
    assert_string_equal(p.items[0].message, "Bắt buộc phải nhập");
    assert_string_equal(p.items[0].label, th_form_indicator(f, "TT01")->label);
    assert_string_equal(p.items[1].code, "ND01");
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_validate_rule_violation_message(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    s_set_int(&r, "DVK02", 4);   /* recognised > registered (3) */
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, false, &p), 0);   /* rules wait for submit */
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].code, "DVK02");
    assert_string_equal(p.items[0].label, "Số mô hình \"Dân vận khéo\" được công nhận");
    assert_string_equal(p.items[0].message, "Số mô hình \"Dân vận khéo\" được công nhận không "
                        "được lớn hơn số mô hình đã đăng ký (quy tắc R01)");
    /* equal is allowed */
    s_set_int(&r, "DVK02", 3);
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_validate_skip_rule_passes(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    th_record_t r;
    th_record_init(&r);
    s_fill_valid(&r);
    /* GS02/GS03 are optional: R04 (GS03 <= GS02) does not apply without GS02 */
    s_set_int(&r, "GS03", 9);
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    s_set_int(&r, "GS02", 8);
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_string_equal(p.items[0].code, "GS03");
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_validate_rule_on_computed_ratio(void **state)
{
    (void)state;
    th_form_t *f = s_parse(HDR "[indicator N]\nlabel = N\ntype = int\n"
                           "[indicator D]\nlabel = D\ntype = int\n"
                           "[indicator P]\nlabel = P\ntype = decimal\nagg = ratio\n"
                           "numerator = N\ndenominator = D\nscale = 100\n"
                           "[rule R1]\nexpr = P >= 50\nmessage = Tỷ lệ phải từ 50% trở lên\n");
    th_record_t r;
    th_record_init(&r);
    s_set_int(&r, "N", 1);
    s_set_int(&r, "D", 4);
    th_problems_t p = { 0 };
    assert_int_equal(th_form_validate(f, &r, true, &p), TH_E_REJECTED);
    assert_string_equal(p.items[0].code, "P");
    assert_string_equal(p.items[0].message, "Tỷ lệ phải từ 50% trở lên (quy tắc R1)");
    s_set_int(&r, "D", 0);   /* ratio undefined: the rule does not apply */
    assert_int_equal(th_form_validate(f, &r, true, &p), 0);
    th_problems_clear(&p);
    th_record_clear(&r);
    th_form_destroy(&f);
}

static void
test_validate_computed_ratio(void **state)
{
    (void)state;
    th_form_t *f = s_load(NAM);
    const th_indicator_t *rate = th_form_indicator(f, "CCHC03");
    th_record_t r;
    th_record_init(&r);
    double v = -1;
    assert_int_equal(th_form_computed(f, rate, &r, &v), TH_E_NOTFOUND);
    s_set_int(&r, "CCHC01", 1200);
    assert_int_equal(th_form_computed(f, rate, &r, &v), TH_E_NOTFOUND);
    s_set_int(&r, "CCHC02", 1188);
    assert_int_equal(th_form_computed(f, rate, &r, &v), 0);
    assert_float_equal(v, 99.0, 1e-9);
    s_set_int(&r, "CCHC01", 0);
    v = -1;
    assert_int_equal(th_form_computed(f, rate, &r, &v), TH_E_NOTFOUND);
    assert_true(v == -1);
    assert_int_equal(th_form_computed(f, th_form_indicator(f, "TT01"), &r, &v), TH_E_INVALID);
    th_record_clear(&r);
    th_form_destroy(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_parse_value_int_vietnamese_formats),
        cmocka_unit_test(test_validate_parse_value_decimal_vietnamese_formats),
        cmocka_unit_test(test_validate_parse_value_bool_enum_text),
        cmocka_unit_test(test_validate_valid_record_is_clean),
        cmocka_unit_test(test_validate_value_problems),
        cmocka_unit_test(test_validate_bounds_are_written_vietnamese),
        cmocka_unit_test(test_validate_required_only_when_submitting),
        cmocka_unit_test(test_validate_rule_violation_message),
        cmocka_unit_test(test_validate_skip_rule_passes),
        cmocka_unit_test(test_validate_rule_on_computed_ratio),
        cmocka_unit_test(test_validate_computed_ratio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
