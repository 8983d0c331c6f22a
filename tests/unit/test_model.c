/*  Tests of model: values kept sorted and unique, deep copies, invariants,
    and clean failure when allocation fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "model.h"

static th_value_t
s_int(const char *code, int64_t i)
{
    th_value_t v = { .kind = TH_V_INT };
    strcpy(v.code, code);
    v.u.i = i;
    return v;
}

static void
test_model_values_sorted_unique_replace(void **state)
{
    (void)state;
    th_record_t r;
    th_record_init(&r);
    const char *codes[] = { "TT02", "A1", "ZZ", "TT01", "B.2" };
    for (int i = 0; i < 5; i++) {
        th_value_t v = s_int(codes[i], i);
        assert_int_equal(th_record_set(&r, &v), 0);
    }
    assert_int_equal(r.nvalues, 5);
    for (size_t i = 1; i < r.nvalues; i++)
        assert_true(strcmp(r.values[i - 1].code, r.values[i].code) < 0);
    th_value_t t = { .kind = TH_V_TEXT };
    strcpy(t.code, "TT01");
    t.u.s = "thay thế";
    assert_int_equal(th_record_set(&r, &t), 0);
    assert_int_equal(r.nvalues, 5);
    const th_value_t *g = th_record_get(&r, "TT01");
    assert_non_null(g);
    assert_int_equal(g->kind, TH_V_TEXT);
    assert_string_equal(g->u.s, "thay thế");
    assert_ptr_not_equal(g->u.s, t.u.s);   /* copied, not borrowed */
    assert_null(th_record_get(&r, "NONE"));
    assert_int_equal(th_record_unset(&r, "A1"), 1);
    assert_int_equal(th_record_unset(&r, "A1"), 0);
    assert_null(th_record_get(&r, "A1"));
    assert_int_equal(r.nvalues, 4);
    th_record_clear(&r);
    assert_int_equal(r.nvalues, 0);
    th_record_clear(&r);   /* safe twice */
}

static void
test_model_rejects_bad_values(void **state)
{
    (void)state;
    th_record_t r;
    th_record_init(&r);
    th_value_t v = s_int("bad code", 1);
    assert_int_equal(th_record_set(&r, &v), TH_E_INVALID);
    v = s_int("", 1);
    assert_int_equal(th_record_set(&r, &v), TH_E_INVALID);
    th_value_t d = { .kind = TH_V_DEC };
    strcpy(d.code, "X");
    d.u.d = NAN;
    assert_int_equal(th_record_set(&r, &d), TH_E_INVALID);
    d.u.d = INFINITY;
    assert_int_equal(th_record_set(&r, &d), TH_E_INVALID);
    static char big[TH_TEXT_MAX + 1];
    memset(big, 'a', TH_TEXT_MAX);
    th_value_t t = { .kind = TH_V_TEXT };
    strcpy(t.code, "T");
    t.u.s = big;
    assert_int_equal(th_record_set(&r, &t), TH_E_LIMIT);
    for (int i = 0; i < TH_VALUES_MAX; i++) {
        char code[16];
        snprintf(code, sizeof code, "C%04d", i);
        th_value_t x = s_int(code, i);
        assert_int_equal(th_record_set(&r, &x), 0);
    }
    th_value_t one_more = s_int("Z9999", 1);
    assert_int_equal(th_record_set(&r, &one_more), TH_E_LIMIT);
    assert_int_equal(r.nvalues, TH_VALUES_MAX);
    th_record_clear(&r);
}

static void
test_model_copy_is_deep_and_equal(void **state)
{
    (void)state;
    th_record_t a, b;
    th_record_init(&a);
    th_record_init(&b);
    strcpy(a.form, "dvcq-nam");
    a.rev = 7;
    a.author = th_strdup("Nguyễn Thị B");
    th_value_t t = { .kind = TH_V_TEXT };
    strcpy(t.code, "ND01");
    t.u.s = "văn bản";
    assert_int_equal(th_record_set(&a, &t), 0);
    th_value_t i = s_int("TT01", 5);
    assert_int_equal(th_record_set(&a, &i), 0);
    assert_int_equal(th_record_copy(&b, &a), 0);
    assert_true(th_record_values_equal(&a, &b));
    assert_string_equal(b.author, "Nguyễn Thị B");
    assert_ptr_not_equal(b.author, a.author);
    assert_ptr_not_equal(th_record_get(&b, "ND01")->u.s, th_record_get(&a, "ND01")->u.s);
    i.u.i = 6;
    assert_int_equal(th_record_set(&b, &i), 0);
    assert_false(th_record_values_equal(&a, &b));
    th_record_clear(&a);
    th_record_clear(&b);
}

static void
test_model_copy_survives_allocation_failure(void **state)
{
    (void)state;
    th_record_t a, b;
    th_record_init(&a);
    th_record_init(&b);
    a.author = th_strdup("x");
    a.note = th_strdup("y");
    for (int k = 0; k < 5; k++) {
        th_value_t t = { .kind = TH_V_TEXT };
        snprintf(t.code, sizeof t.code, "T%d", k);
        t.u.s = "abc";
        assert_int_equal(th_record_set(&a, &t), 0);
    }
    int failures = 0;
    for (long n = 0; n < 50; n++) {
        th_mem_fail_after(n);
        int rc = th_record_copy(&b, &a);
        th_mem_fail_after(-1);
        if (rc == 0) {
            assert_true(th_record_values_equal(&a, &b));
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(b.nvalues, 0);   /* left cleared */
        assert_null(b.author);
        failures++;
    }
    assert_true(failures >= 8);   /* every allocation of the copy was tried */
    th_record_clear(&a);
    th_record_clear(&b);
}

static void
test_model_identifiers_and_keys(void **state)
{
    (void)state;
    assert_true(th_valid_form_id("dvcq-nam"));
    assert_false(th_valid_form_id("Dvcq"));
    assert_false(th_valid_form_id("a|b"));
    assert_true(th_valid_unit_code("25459"));
    assert_false(th_valid_unit_code("25 459"));
    assert_false(th_valid_unit_code("0123456789abcdef"));   /* 16 chars: too long */
    assert_true(th_valid_indicator_code("CCHC03"));
    assert_false(th_valid_indicator_code("a|b"));
    char key[TH_KEY_MAX];
    assert_int_equal(th_key_make(key, sizeof key, "dvcq-nam", "2026", "25459"), 19);
    assert_string_equal(key, "dvcq-nam|2026|25459");
    char small[8];
    assert_int_equal(th_key_make(small, sizeof small, "dvcq-nam", "2026", "1"), TH_E_LIMIT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_values_sorted_unique_replace),
        cmocka_unit_test(test_model_rejects_bad_values),
        cmocka_unit_test(test_model_copy_is_deep_and_equal),
        cmocka_unit_test(test_model_copy_survives_allocation_failure),
        cmocka_unit_test(test_model_identifiers_and_keys),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
