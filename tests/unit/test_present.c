/*  Tests of present: the Vietnamese number format and JSON shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "err.h"
#include "form_ini.h"
#include "present.h"
#include "vnnum.h"

static void
test_present_vietnamese_numbers(void **state)
{
    (void)state;
    char b[64];
    th_vnnum_format_int(0, b, sizeof b);          assert_string_equal(b, "0");
    th_vnnum_format_int(999, b, sizeof b);        assert_string_equal(b, "999");
    th_vnnum_format_int(1000, b, sizeof b);       assert_string_equal(b, "1.000");
    th_vnnum_format_int(1234567, b, sizeof b);    assert_string_equal(b, "1.234.567");
    th_vnnum_format_int(-1234, b, sizeof b);      assert_string_equal(b, "-1.234");
    th_vnnum_format_int(INT64_MIN, b, sizeof b);  assert_string_equal(b, "-9.223.372.036.854.775.808");
    th_vnnum_format_dec(12.5, b, sizeof b);       assert_string_equal(b, "12,5");
    th_vnnum_format_dec(95.8333, b, sizeof b);    assert_string_equal(b, "95,83");
    th_vnnum_format_dec(1234.567, b, sizeof b);   assert_string_equal(b, "1.234,57");
    th_vnnum_format_dec(100.0, b, sizeof b);      assert_string_equal(b, "100");
    th_vnnum_format_dec(-0.5, b, sizeof b);       assert_string_equal(b, "-0,5");
    th_vnnum_format_dec(0.004, b, sizeof b);      assert_string_equal(b, "0");
}

static void
test_present_upper_vietnamese(void **state)
{
    (void)state;
    char b[128];
    assert_int_equal(th_upper_vn("Tỉnh Tây Ninh", b, sizeof b), 0);
    assert_string_equal(b, "TỈNH TÂY NINH");
    assert_int_equal(th_upper_vn("Ủy ban nhân dân đặc khu Phú Quốc, phường ơ ư", b, sizeof b), 0);
    assert_string_equal(b, "ỦY BAN NHÂN DÂN ĐẶC KHU PHÚ QUỐC, PHƯỜNG Ơ Ư");
    /* NFD: the base letter is raised, the combining marks kept */
    assert_int_equal(th_upper_vn("xa\xcc\x83", b, sizeof b), 0);
    assert_string_equal(b, "XA\xcc\x83");
    /* invalid bytes are copied */
    assert_int_equal(th_upper_vn("a\xff" "b", b, sizeof b), 0);
    assert_string_equal(b, "A\xff" "B");
    /* cut on a character boundary: "ĐẶ" is 2 + 3 bytes */
    assert_int_equal(th_upper_vn("đặc", b, 6), TH_E_LIMIT);
    assert_string_equal(b, "ĐẶ");
    assert_int_equal(th_upper_vn("đặc", b, 5), TH_E_LIMIT);
    assert_string_equal(b, "Đ");
    assert_int_equal(th_upper_vn("đặc", b, 7), 0);
    assert_string_equal(b, "ĐẶC");
}

static void
test_present_values_by_indicator(void **state)
{
    (void)state;
    size_t n;
    const th_builtin_t *bf = th_builtin_forms(&n);
    th_form_t *f = NULL;
    for (size_t i = 0; i < n && !f; i++)
        if (strcmp(bf[i].name, "dvcq-nam.ini") == 0)
            f = th_form_parse(bf[i].text, bf[i].len, bf[i].name, NULL, 0, NULL);
    assert_non_null(f);
    char b[128];
    th_value_t yes = { .kind = TH_V_BOOL, .u.b = true };
    th_fmt_value_vn(th_form_indicator(f, "LD01"), &yes, b, sizeof b);
    assert_string_equal(b, "Có");
    th_value_t opt = { .kind = TH_V_TEXT, .u.s = "tot" };
    th_fmt_value_vn(th_form_indicator(f, "DG01"), &opt, b, sizeof b);
    assert_string_equal(b, "Hoàn thành tốt");
    th_fmt_value_vn(NULL, &opt, b, sizeof b);   /* no indicator: as stored */
    assert_string_equal(b, "tot");

    th_record_t r;
    th_record_init(&r);
    strcpy(r.form, "dvcq-nam");
    strcpy(r.period, "2026");
    strcpy(r.unit, "25459");
    r.rev = 2;
    r.status = TH_STATUS_SUBMITTED;
    th_value_t a = { .code = "CCHC01", .kind = TH_V_INT, .u.i = 200 };
    th_value_t c = { .code = "CCHC02", .kind = TH_V_INT, .u.i = 150 };
    assert_int_equal(th_record_set(&r, &a), 0);
    assert_int_equal(th_record_set(&r, &c), 0);
    json_t *j = th_present_record_json(f, &r, true);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "submitted");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "values"), "CCHC01")), 200);
    double ratio = json_real_value(json_object_get(json_object_get(j, "computed"), "CCHC03"));
    assert_true(ratio > 74.999 && ratio < 75.001);
    json_decref(j);

    th_forms_t *fs = th_forms_new();
    assert_int_equal(th_forms_add(fs, &f), 0);
    json_t *list = th_present_forms_json(fs);
    assert_non_null(list);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(first, "period_type")), "yearly");
    assert_true(json_array_size(json_object_get(first, "indicators")) > 20);
    json_decref(list);
    th_forms_destroy(&fs);
    th_record_clear(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_present_vietnamese_numbers),
        cmocka_unit_test(test_present_upper_vietnamese),
        cmocka_unit_test(test_present_values_by_indicator),
    };
    return cmocka_run_group_tests_name("present", tests, NULL, NULL);
}
