/*  Tests of rollup: every aggregation at two levels, ratio of sums, as-of,
    texts per unit, rule violations, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"
#include "completeness.h"
#include "crypto.h"
#include "err.h"
#include "mem.h"
#include "peers.h"
#include "rollup.h"

#include "hub_fixture.h"

static th_rollup_t *
s_rollup(const char *unit, int64_t as_of)
{
    th_rollup_t *r = NULL;
    char err[256];
    int rc = th_rollup_compute(s_hub, "thu", "2024", unit, as_of, &r, err, sizeof err);
    if (rc < 0)
        fail_msg("rollup: %s", err);
    return r;
}

static const th_rollup_part_t *
s_child(const th_rollup_t *r, const char *code)
{
    for (size_t i = 0; i < r->nchildren; i++)
        if (strcmp(r->children[i].unit, code) == 0)
            return &r->children[i];
    fail_msg("no child %s", code);
    return NULL;
}

static void
test_rollup_aggregations_at_province(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    const th_rollup_part_t *t = &r->total;
    assert_string_equal(t->unit, "91");
    /* 12 (rev 2 of 90101) + 20 + 5; not the draft 500, not the broken 700,
       not the merged unit's 1000 */
    const th_rollup_value_t *v = th_rollup_value(t, "A");
    assert_true(v->present && v->is_int);
    assert_int_equal(v->i, 37);
    v = th_rollup_value(t, "B");
    assert_true(v->present && !v->is_int);
    assert_float_equal(v->d, 3.75, 1e-12);
    assert_int_equal(v->n, 2);
    v = th_rollup_value(t, "F");
    assert_true(v->is_int);
    assert_int_equal(v->i, 2);
    assert_int_equal(th_rollup_value(t, "MN")->i, 3);
    assert_int_equal(th_rollup_value(t, "MX")->i, 9);
    assert_float_equal(th_rollup_value(t, "ME")->d, 4.0, 1e-12);
    /* 100 * (1 + 99 + 5) / (2 + 100 + 3) */
    v = th_rollup_value(t, "R");
    assert_true(v->present);
    assert_float_equal(v->d, 100.0, 1e-9);
    assert_float_equal(v->num, 105, 0);
    assert_float_equal(v->den, 105, 0);
    assert_int_equal(t->counted, 3);
    assert_int_equal(t->expected, 4);
    assert_int_equal(t->reported, 3);
    assert_int_equal(t->on_time, 2);
    assert_int_equal(r->nchildren, 2);
    th_rollup_destroy(&r);
    assert_null(r);
    th_rollup_destroy(&r);
}

static void
test_rollup_ratio_of_sums_not_mean_of_ratios(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup("901", INT64_MAX);
    /* 90101: 1/2, 90102: 99/100 -> 100 * 100/102 = 98.04, not (50 + 99) / 2 */
    const th_rollup_value_t *v = th_rollup_value(&r->total, "R");
    assert_true(v->present);
    assert_float_equal(v->d, 100.0 * 100.0 / 102.0, 1e-9);
    assert_true(v->d - 74.5 > 20);
    assert_int_equal(th_rollup_value(&r->total, "A")->i, 32);
    assert_int_equal(th_rollup_value(&r->total, "F")->i, 1);
    assert_int_equal(th_rollup_value(&r->total, "MN")->i, 3);
    assert_int_equal(th_rollup_value(&r->total, "MX")->i, 9);
    assert_float_equal(th_rollup_value(&r->total, "ME")->d, 3.0, 1e-12);
    assert_int_equal(r->nchildren, 3);   /* the three communes */
    assert_int_equal(r->total.expected, 3);
    th_rollup_destroy(&r);
}

static void
test_rollup_breakdown_per_child(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    const th_rollup_part_t *d1 = s_child(r, "901"), *d2 = s_child(r, "902");
    assert_string_equal(d1->name, "Huyện Một");
    assert_int_equal(th_rollup_value(d1, "A")->i, 32);
    assert_float_equal(th_rollup_value(d1, "R")->d, 100.0 * 100.0 / 102.0, 1e-9);
    assert_int_equal(d1->expected, 3);
    assert_int_equal(d1->reported, 2);
    assert_int_equal(th_rollup_value(d2, "A")->i, 5);
    assert_false(th_rollup_value(d2, "B")->present);   /* nobody reported B */
    assert_int_equal(th_rollup_value(d2, "MN")->i, 7);
    assert_int_equal(th_rollup_value(d2, "MX")->i, 1);
    assert_float_equal(th_rollup_value(d2, "ME")->d, 6.0, 1e-12);
    assert_float_equal(th_rollup_value(d2, "R")->d, 500.0 / 3.0, 1e-9);
    assert_int_equal(d2->expected, 1);
    th_rollup_destroy(&r);
}

static void
test_rollup_as_of_takes_older_revision(void **state)
{
    (void)state;
    /* before the correction of 90101 arrived (01/02/2025): rev 1, A = 10 */
    th_rollup_t *r = s_rollup(NULL, s_ms("2025-01-20"));
    assert_int_equal(th_rollup_value(&r->total, "A")->i, 35);
    th_rollup_destroy(&r);
    /* before 90102 arrived (17/01 11:00): only 90101 rev 1 and 90201 */
    r = s_rollup(NULL, s_ms("2025-01-12"));
    assert_int_equal(th_rollup_value(&r->total, "A")->i, 15);
    assert_int_equal(r->total.reported, 2);
    assert_int_equal(r->total.counted, 2);
    th_rollup_destroy(&r);
    /* before anything arrived: every aggregate null */
    r = s_rollup(NULL, s_ms("2024-12-31"));
    assert_false(th_rollup_value(&r->total, "A")->present);
    assert_false(th_rollup_value(&r->total, "R")->present);
    assert_int_equal(r->total.reported, 0);
    th_rollup_destroy(&r);
}

static void
test_rollup_texts_kept_per_unit(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    assert_int_equal(r->ntexts, 2);
    assert_string_equal(r->texts[0].code, "T");
    assert_string_equal(r->texts[0].unit, "90101");
    assert_string_equal(r->texts[0].name, "Xã Một Một");
    assert_string_equal(r->texts[0].text, "văn bản A");
    assert_string_equal(r->texts[1].unit, "90102");
    assert_string_equal(r->texts[1].text, "Nội dung B");
    assert_false(th_rollup_value(&r->total, "T")->present);
    th_rollup_destroy(&r);
}

static void
test_rollup_violations(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, INT64_MAX);
    assert_int_equal(r->nviolations, 1);
    assert_string_equal(r->violations[0].unit, "90201");
    assert_string_equal(r->violations[0].name, "Xã Hai Một");
    assert_string_equal(r->violations[0].rule, "R01");
    assert_string_equal(r->violations[0].message, "Số đúng hạn không được lớn hơn số tiếp nhận");
    th_rollup_destroy(&r);
}

static void
test_rollup_json_shape(void **state)
{
    (void)state;
    th_rollup_t *r = s_rollup(NULL, s_ms("2025-01-20"));
    json_t *j = th_rollup_json(r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "form")), "thu");
    assert_string_equal(json_string_value(json_object_get(j, "period")), "2024");
    assert_string_equal(json_string_value(json_object_get(j, "unit")), "91");
    assert_string_equal(json_string_value(json_object_get(j, "as_of")), "2025-01-19T17:00:00Z");
    json_t *vals = json_object_get(j, "values");
    assert_int_equal(json_integer_value(json_object_get(vals, "A")), 35);
    assert_true(json_is_real(json_object_get(vals, "R")));
    assert_null(json_object_get(vals, "T"));
    json_t *rep = json_object_get(j, "reporting");
    assert_int_equal(json_integer_value(json_object_get(rep, "expected")), 4);
    assert_int_equal(json_integer_value(json_object_get(rep, "reported")), 3);
    assert_int_equal(json_integer_value(json_object_get(rep, "on_time")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "children")), 2);
    json_t *t = json_object_get(json_object_get(j, "texts"), "T");
    assert_int_equal(json_array_size(t), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "text")),
                        "Nội dung B");
    assert_int_equal(json_array_size(json_object_get(j, "violations")), 1);
    json_decref(j);
    th_rollup_destroy(&r);
}

static void
test_rollup_errors(void **state)
{
    (void)state;
    th_rollup_t *r = NULL;
    char err[256] = "";
    assert_int_equal(th_rollup_compute(s_hub, "nope", "2024", NULL, INT64_MAX, &r, err,
                                       sizeof err), TH_E_FORM);
    assert_non_null(strstr(err, "nope"));
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024S1", NULL, INT64_MAX, &r, err,
                                       sizeof err), TH_E_PERIOD);
    assert_int_equal(th_rollup_compute(s_hub, "thu", "20x4", NULL, INT64_MAX, &r, err,
                                       sizeof err), TH_E_PERIOD);
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024", "99999", INT64_MAX, &r, err,
                                       sizeof err), TH_E_UNIT);
    /* 90202 no longer exists at the end of 2024 */
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024", "90202", INT64_MAX, &r, err,
                                       sizeof err), TH_E_UNIT);
    assert_int_equal(th_rollup_compute(s_hub, "thu", "2024", "bad code!", INT64_MAX, &r, err,
                                       sizeof err), TH_E_UNIT);
    assert_null(r);
    assert_int_equal(th_rollup_compute(NULL, "thu", "2024", NULL, 0, &r, NULL, 0),
                     TH_E_INVALID);
}

static void
test_rollup_out_of_memory(void **state)
{
    (void)state;
    /* every allocation failure gives -ENOMEM and leaks nothing (ASan) */
    for (long n = 0; n < 400; n++) {
        th_rollup_t *r = NULL;
        th_mem_fail_after(n);
        int rc = th_rollup_compute(s_hub, "thu", "2024", NULL, INT64_MAX, &r, NULL, 0);
        th_mem_fail_after(-1);
        if (rc == 0) {
            assert_non_null(r);
            th_rollup_destroy(&r);
            return;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(r);
    }
    fail_msg("rollup still failing after 400 allocations");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_aggregations_at_province),
        cmocka_unit_test(test_rollup_ratio_of_sums_not_mean_of_ratios),
        cmocka_unit_test(test_rollup_breakdown_per_child),
        cmocka_unit_test(test_rollup_as_of_takes_older_revision),
        cmocka_unit_test(test_rollup_texts_kept_per_unit),
        cmocka_unit_test(test_rollup_violations),
        cmocka_unit_test(test_rollup_json_shape),
        cmocka_unit_test(test_rollup_errors),
        cmocka_unit_test(test_rollup_out_of_memory),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
