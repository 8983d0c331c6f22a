/*  Unit tests for common/vnnum: reading numbers as Vietnamese type them
    (thousands '.', decimal ','), and writing them the same way. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "vnnum.h"

/* Parsing s must return want_rc and, on success, the value want_i (an
   integer) or want_d (a decimal); on error the output stays untouched. */
static void
s_parse(bool integer, const char *s, int want_rc, int64_t want_i, double want_d)
{
    int64_t i = 42;
    double d = 42;
    int rc = integer ? th_vnnum_parse_int(s, strlen(s), &i)
                     : th_vnnum_parse_dec(s, strlen(s), &d);
    if (rc != want_rc)
        fail_msg("'%s': rc %d, want %d", s, rc, want_rc);
    if (rc == 0 && (integer ? i != want_i : d != want_d))
        fail_msg("'%s': %lld / %.17g, want %lld / %.17g", s, (long long)i, d,
                 (long long)want_i, want_d);
    if (rc != 0 && (i != 42 || d != 42))
        fail_msg("'%s': output written on error", s);
}
#define s_int(s, rc, v) s_parse(true, (s), (rc), (v), 0)
#define s_dec(s, rc, v) s_parse(false, (s), (rc), 0, (v))

static void
test_vnnum_parse_int(void **state)
{
    (void)state;
    s_int("0", 0, 0);
    s_int("1.234", 0, 1234);
    s_int("1.234.567", 0, 1234567);
    s_int("1 234 567", 0, 1234567);
    s_int("1\xe2\x80\xaf" "234\xe2\x80\x89" "567", 0, 1234567);   /* U+202F, U+2009 */
    s_int("-1.234", 0, -1234);
    s_int("+12", 0, 12);
    s_int("9.223.372.036.854.775.807", 0, INT64_MAX);
    s_int("-9223372036854775808", 0, INT64_MIN);
    s_int("12,5", TH_E_INVALID, 0);       /* no decimals in an integer */
    s_int("1.234,5", TH_E_INVALID, 0);
    s_int("12.5", TH_E_INVALID, 0);       /* a group has three digits */
    s_int("1,2,3", TH_E_INVALID, 0);
    s_int("abc", TH_E_INVALID, 0);
    s_int("", TH_E_INVALID, 0);
    s_int("-", TH_E_INVALID, 0);
    s_int("1.", TH_E_INVALID, 0);
    s_int(".123", TH_E_INVALID, 0);
    s_int("1234.567", TH_E_INVALID, 0);   /* the first group has 1-3 digits */
    s_int("1..234", TH_E_INVALID, 0);
    s_int("--1", TH_E_INVALID, 0);
    s_int("1 2", TH_E_INVALID, 0);
    s_int("9223372036854775808", -ERANGE, 0);
    s_int("-9.223.372.036.854.775.809", -ERANGE, 0);
    s_int("99999999999999999999999", -ERANGE, 0);
    s_int("99999999999999999999999x", TH_E_INVALID, 0);   /* malformed before big */
    /* n bounds the text: no NUL needed, nothing read past it */
    int64_t v = 0;
    assert_int_equal(th_vnnum_parse_int("12345", 3, &v), 0);
    assert_true(v == 123);
}

static void
test_vnnum_parse_dec(void **state)
{
    (void)state;
    s_dec("12,5", 0, 12.5);
    s_dec("1.234,5", 0, 1234.5);
    s_dec("1.234.567,25", 0, 1234567.25);
    s_dec("1 234,5", 0, 1234.5);
    s_dec("1.234", 0, 1.234);            /* one dot alone: a decimal point */
    s_dec("1.234.567", 0, 1234567);      /* several: thousands */
    s_dec("12.5", 0, 12.5);
    s_dec("-0,25", 0, -0.25);
    s_dec("-1.234,5", 0, -1234.5);
    s_dec("0,1", 0, 0.1);                /* rounded once: the double nearest 0.1 */
    s_dec("98", 0, 98);
    s_dec("1,2,3", TH_E_INVALID, 0);
    s_dec("12,", TH_E_INVALID, 0);
    s_dec(",5", TH_E_INVALID, 0);
    s_dec("1,2a", TH_E_INVALID, 0);
    s_dec("abc", TH_E_INVALID, 0);
    s_dec("1.23.4,5", TH_E_INVALID, 0);
    s_dec("1 234.5", TH_E_INVALID, 0);   /* a dot among spaces groups, badly */
    s_dec("", TH_E_INVALID, 0);
    s_dec("99999999999999999999999", -ERANGE, 0);
    s_dec("1,00000000000000000000001", -ERANGE, 0);
}

/* Each formatter must write exactly want for v. */
static void
s_fmt(void (*fmt)(double, char *, size_t), double v, const char *want)
{
    char b[64];
    fmt(v, b, sizeof b);
    if (strcmp(b, want) != 0)
        fail_msg("%.17g gave '%s', want '%s'", v, b, want);
}

static void
s_fmt_int(double v, char *buf, size_t cap)
{
    th_vnnum_format_int((int64_t)v, buf, cap);
}

static void
test_vnnum_format_int_groups_thousands(void **state)
{
    (void)state;
    s_fmt(s_fmt_int, 0, "0");
    s_fmt(s_fmt_int, 999, "999");
    s_fmt(s_fmt_int, 1000, "1.000");
    s_fmt(s_fmt_int, -1234567, "-1.234.567");
    char b[64];
    th_vnnum_format_int(INT64_MAX, b, sizeof b);   /* beyond a double's integers */
    assert_string_equal(b, "9.223.372.036.854.775.807");
    th_vnnum_format_int(INT64_MIN, b, sizeof b);
    assert_string_equal(b, "-9.223.372.036.854.775.808");
    /* cut to fit, never past cap, always terminated */
    char small[6];
    memset(small, 'z', sizeof small);
    th_vnnum_format_int(1234567, small, sizeof small);
    assert_string_equal(small, "1.23");
    th_vnnum_format_int(-5, small, 1);
    assert_string_equal(small, "");
}

static void
test_vnnum_format_dec_rounds_to_two_decimals(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        { 12.5, "12,5" },
        { 1234.567, "1.234,57" },
        { 1234567.891, "1.234.567,89" },
        { 0.125, "0,13" },      /* half away from zero */
        { -0.125, "-0,13" },
        { 999.999, "1.000" },   /* carries into the thousands */
        { 3.10, "3,1" },        /* trailing zero dropped */
        { 3.05, "3,05" },
        { -0.004, "0" },        /* rounds to zero: no sign */
        { NAN, "—" },
        { INFINITY, "—" },
        { 1e14, "100000000000000" },   /* beyond exact cents: plainly */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        s_fmt(th_vnnum_format_dec, cases[i].v, cases[i].want);
}

static void
test_vnnum_format_g_writes_bounds(void **state)
{
    (void)state;
    s_fmt(th_vnnum_format_g, 1234567, "1.234.567");
    s_fmt(th_vnnum_format_g, -2.5, "-2,5");
    s_fmt(th_vnnum_format_g, 12.345678, "12,3457");   /* 6 significant digits */
    s_fmt(th_vnnum_format_g, 0, "0");
    s_fmt(th_vnnum_format_g, -0.0, "0");
    s_fmt(th_vnnum_format_g, 1e20, "1e+20");          /* too large to group */
}

/* What is written reads back as the same number. */
static void
test_vnnum_round_trip(void **state)
{
    (void)state;
    const int64_t ints[] = { 0, 7, -7, 1000, 123456789, -987654321012, INT64_MAX, INT64_MIN };
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        char b[64];
        int64_t back = 0;
        th_vnnum_format_int(ints[i], b, sizeof b);
        assert_int_equal(th_vnnum_parse_int(b, strlen(b), &back), 0);
        assert_true(back == ints[i]);
    }
    const double decs[] = { 0.5, 12.25, -1234.75, 1234567.89 };
    for (size_t i = 0; i < sizeof decs / sizeof *decs; i++) {
        char b[64];
        double back = 0;
        th_vnnum_format_dec(decs[i], b, sizeof b);
        assert_int_equal(th_vnnum_parse_dec(b, strlen(b), &back), 0);
        assert_float_equal(back, decs[i], 1e-9);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vnnum_parse_int),
        cmocka_unit_test(test_vnnum_parse_dec),
        cmocka_unit_test(test_vnnum_format_int_groups_thousands),
        cmocka_unit_test(test_vnnum_format_dec_rounds_to_two_decimals),
        cmocka_unit_test(test_vnnum_format_g_writes_bounds),
        cmocka_unit_test(test_vnnum_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
