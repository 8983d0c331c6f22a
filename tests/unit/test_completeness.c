/*  Tests of completeness: expected units in the period tree, on time,
    late (days), missing, per child, clock-suspect flags, as-of. */
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

static th_completeness_t *
s_compl(const char *unit, const char *period, int64_t as_of)
{
    th_completeness_t *c = NULL;
    char err[256];
    if (th_completeness_compute(s_hub, "thu", period, unit, as_of, &c, err, sizeof err) < 0)
        fail_msg("completeness: %s", err);
    return c;
}

static const th_compl_unit_t *
s_unit(const th_completeness_t *c, const char *code)
{
    for (size_t i = 0; i < c->nunits; i++)
        if (strcmp(c->units[i].unit, code) == 0)
            return &c->units[i];
    return NULL;
}

static void
test_completeness_counts_and_states(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    assert_int_equal(c->total.expected, 4);   /* 90202 merged away: not expected */
    assert_null(s_unit(c, "90202"));
    assert_null(s_unit(c, "901"));            /* districts do not report the form */
    assert_int_equal(c->total.reported, 3);
    assert_int_equal(c->total.on_time, 2);
    assert_int_equal(c->total.late, 1);
    assert_int_equal(c->total.missing, 1);
    assert_float_equal(c->total.reported_rate, 75.0, 1e-9);
    assert_float_equal(c->total.on_time_rate, 50.0, 1e-9);
    /* on time although its correction came after the deadline */
    assert_int_equal(s_unit(c, "90101")->state, TH_COMPL_ON_TIME);
    assert_int_equal(s_unit(c, "90101")->rev, 2);
    /* 17/01 10:00 against the end of 15/01: 1 day 10 hours, rounded up */
    const th_compl_unit_t *x = s_unit(c, "90102");
    assert_int_equal(x->state, TH_COMPL_LATE);
    assert_int_equal(x->days_late, 2);
    char d[11];
    th_date_format_iso(x->deadline, d);
    assert_string_equal(d, "2025-01-15");
    /* its only report has a broken signature */
    assert_int_equal(s_unit(c, "90103")->state, TH_COMPL_MISSING);
    assert_int_equal(s_unit(c, "90201")->state, TH_COMPL_ON_TIME);
    th_completeness_destroy(&c);
    assert_null(c);
    th_completeness_destroy(&c);
}

static void
test_completeness_per_child(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    assert_int_equal(c->nchildren, 2);
    const th_compl_count_t *d1 = &c->children[0], *d2 = &c->children[1];
    assert_string_equal(d1->unit, "901");
    assert_string_equal(d1->name, "Huyện Một");
    assert_int_equal(d1->expected, 3);
    assert_int_equal(d1->reported, 2);
    assert_int_equal(d1->on_time, 1);
    assert_int_equal(d1->late, 1);
    assert_int_equal(d1->missing, 1);
    assert_float_equal(d1->reported_rate, 200.0 / 3.0, 1e-9);
    assert_string_equal(d2->unit, "902");
    assert_int_equal(d2->expected, 1);
    assert_int_equal(d2->on_time, 1);
    assert_float_equal(d2->on_time_rate, 100.0, 1e-9);
    assert_string_equal(s_unit(c, "90102")->child, "901");
    th_completeness_destroy(&c);
    /* at a district: its communes are the children */
    c = s_compl("901", "2024", INT64_MAX);
    assert_int_equal(c->total.expected, 3);
    assert_int_equal(c->nchildren, 3);
    assert_int_equal(c->children[1].late, 1);
    th_completeness_destroy(&c);
}

static void
test_completeness_clock_suspect(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    /* district 901 measured 20 minutes ahead, 902 one minute */
    assert_true(s_unit(c, "90102")->clock_suspect);
    assert_true(s_unit(c, "90102")->has_offset);
    assert_int_equal(s_unit(c, "90102")->clock_offset_ms, 20 * 60 * 1000);
    assert_false(s_unit(c, "90201")->clock_suspect);
    assert_true(s_unit(c, "90201")->has_offset);
    assert_int_equal(c->total.clock_suspect, 3);
    th_completeness_destroy(&c);
}

static void
test_completeness_merged_unit_expected_while_in_force(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2023", INT64_MAX);
    assert_int_equal(c->total.expected, 5);
    assert_non_null(s_unit(c, "90202"));
    assert_int_equal(c->total.missing, 5);
    th_completeness_destroy(&c);
}

static void
test_completeness_as_of(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", s_ms("2025-01-12"));
    assert_int_equal(c->total.reported, 2);
    assert_int_equal(c->total.missing, 2);
    assert_int_equal(s_unit(c, "90102")->state, TH_COMPL_MISSING);
    assert_int_equal(s_unit(c, "90101")->rev, 1);
    th_completeness_destroy(&c);
}

static void
test_completeness_json(void **state)
{
    (void)state;
    th_completeness_t *c = s_compl(NULL, "2024", INT64_MAX);
    json_t *j = th_completeness_json(c);
    assert_non_null(j);
    json_t *t = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "expected")), 4);
    assert_float_equal(json_real_value(json_object_get(t, "reported_rate")), 75.0, 1e-9);
    json_t *late = json_object_get(j, "late");
    assert_int_equal(json_array_size(late), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(late, 0), "unit")),
                        "90102");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(late, 0),
                                                        "days_late")), 2);
    json_t *miss = json_object_get(j, "missing");
    assert_int_equal(json_array_size(miss), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(miss, 0), "name")),
                        "Xã Một Ba");
    assert_int_equal(json_array_size(json_object_get(j, "children")), 2);
    json_decref(j);
    th_completeness_destroy(&c);
}

static void
test_completeness_errors(void **state)
{
    (void)state;
    th_completeness_t *c = NULL;
    char err[256] = "";
    assert_int_equal(th_completeness_compute(s_hub, "nope", "2024", NULL, INT64_MAX, &c, err,
                                             sizeof err), TH_E_FORM);
    assert_int_equal(th_completeness_compute(s_hub, "thu", "2024Q1", NULL, INT64_MAX, &c,
                                             err, sizeof err), TH_E_PERIOD);
    assert_int_equal(th_completeness_compute(s_hub, "thu", "2024", "12345", INT64_MAX, &c,
                                             err, sizeof err), TH_E_UNIT);
    assert_non_null(strstr(err, "12345"));
    assert_null(c);
}

static void
test_completeness_out_of_memory(void **state)
{
    (void)state;
    for (long n = 0; n < 200; n++) {
        th_completeness_t *c = NULL;
        th_mem_fail_after(n);
        int rc = th_completeness_compute(s_hub, "thu", "2024", NULL, INT64_MAX, &c, NULL, 0);
        th_mem_fail_after(-1);
        if (rc == 0) {
            th_completeness_destroy(&c);
            return;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(c);
    }
    fail_msg("still failing after 200 allocations");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completeness_counts_and_states),
        cmocka_unit_test(test_completeness_per_child),
        cmocka_unit_test(test_completeness_clock_suspect),
        cmocka_unit_test(test_completeness_merged_unit_expected_while_in_force),
        cmocka_unit_test(test_completeness_as_of),
        cmocka_unit_test(test_completeness_json),
        cmocka_unit_test(test_completeness_errors),
        cmocka_unit_test(test_completeness_out_of_memory),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
