/*  Unit tests for common/rules: grammar, precedence, epsilon comparisons,
    SKIP semantics, error columns and limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "mem.h"
#include "rules.h"

/* A tiny variable table: name=value pairs; a NULL name ends it. */
typedef struct {
    const char *name;
    double v;
} s_var_t;

static int
s_lookup(const char *ident, double *v, void *ctx)
{
    const s_var_t *vars = ctx;
    for (; vars && vars->name; vars++)
        if (strcmp(vars->name, ident) == 0) {
            *v = vars->v;
            return 0;
        }
    return TH_E_NOTFOUND;
}

static int
s_lookup_fail(const char *ident, double *v, void *ctx)
{
    (void)ident; (void)v; (void)ctx;
    return -EIO;
}

/* Compiles expr (must succeed) and evaluates it against vars. */
static th_rule_result_t
s_run(const char *expr, const s_var_t *vars)
{
    char eb[128];
    int err = 1;
    th_rule_t *r = th_rule_compile(expr, eb, sizeof eb, &err);
    if (!r)
        fail_msg("'%s' did not compile: %s", expr, eb);
    assert_int_equal(err, 0);
    th_rule_result_t res = 99;
    assert_int_equal(th_rule_eval(r, s_lookup, (void *)vars, &res), 0);
    th_rule_destroy(&r);
    assert_null(r);
    return res;
}

/* Compiles expr (must fail) and returns the error; errbuf gets the text. */
static int
s_bad(const char *expr, char *eb, size_t cap)
{
    int err = 0;
    th_rule_t *r = th_rule_compile(expr, eb, cap, &err);
    assert_null(r);
    assert_true(err < 0);
    return err;
}

static void
test_rules_arithmetic_precedence(void **state)
{
    (void)state;
    assert_int_equal(s_run("1 + 2 * 3 == 7", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("(1 + 2) * 3 == 9", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("10 - 4 - 3 == 3", NULL), TH_RULE_TRUE);   /* left assoc */
    assert_int_equal(s_run("24 / 4 / 2 == 3", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("-2 * -3 == 6", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("- -2 == 2", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("2 - -2 == 4", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("1 + 2 * 3 == 9", NULL), TH_RULE_FALSE);
    assert_int_equal(s_run("0.5 + .25 == 0.75", NULL), TH_RULE_TRUE);
}

static void
test_rules_comparisons_with_epsilon(void **state)
{
    (void)state;
    s_var_t v[] = { { "A", 0.1 }, { "B", 0.2 }, { "C", 0.3 }, { "BIG", 1e12 },
                    { "BIG2", 1e12 + 0.0001 }, { NULL, 0 } };
    /* 0.1 + 0.2 is not exactly 0.3 in binary floating point. */
    assert_int_equal(s_run("A + B == C", v), TH_RULE_TRUE);
    assert_int_equal(s_run("A + B = C", v), TH_RULE_TRUE);
    assert_int_equal(s_run("A + B <= C", v), TH_RULE_TRUE);
    assert_int_equal(s_run("A + B >= C", v), TH_RULE_TRUE);
    assert_int_equal(s_run("A + B > C", v), TH_RULE_FALSE);
    assert_int_equal(s_run("A + B < C", v), TH_RULE_FALSE);
    assert_int_equal(s_run("A + B != C", v), TH_RULE_FALSE);
    assert_int_equal(s_run("A + B <> C", v), TH_RULE_FALSE);
    assert_int_equal(s_run("BIG == BIG2", v), TH_RULE_TRUE);    /* relative */
    assert_int_equal(s_run("A < B", v), TH_RULE_TRUE);
    assert_int_equal(s_run("A > B", v), TH_RULE_FALSE);
    assert_int_equal(s_run("1 == 1.001", v), TH_RULE_FALSE);
    assert_int_equal(s_run("3 >= 4", v), TH_RULE_FALSE);
}

static void
test_rules_logic_and_or_not(void **state)
{
    (void)state;
    s_var_t v[] = { { "T", 1 }, { "F", 0 }, { "X.1", 5 }, { NULL, 0 } };
    assert_int_equal(s_run("T and F", v), TH_RULE_FALSE);
    assert_int_equal(s_run("T AND T", v), TH_RULE_TRUE);
    assert_int_equal(s_run("T && F", v), TH_RULE_FALSE);
    assert_int_equal(s_run("F or T", v), TH_RULE_TRUE);
    assert_int_equal(s_run("F Or F", v), TH_RULE_FALSE);
    assert_int_equal(s_run("F || T", v), TH_RULE_TRUE);
    assert_int_equal(s_run("not F", v), TH_RULE_TRUE);
    assert_int_equal(s_run("NOT T", v), TH_RULE_FALSE);
    assert_int_equal(s_run("!T", v), TH_RULE_FALSE);
    assert_int_equal(s_run("!!T", v), TH_RULE_TRUE);
    /* and binds tighter than or */
    assert_int_equal(s_run("T or T and F", v), TH_RULE_TRUE);
    assert_int_equal(s_run("(T or T) and F", v), TH_RULE_FALSE);
    /* not binds looser than a comparison */
    assert_int_equal(s_run("not X.1 > 10", v), TH_RULE_TRUE);
    assert_int_equal(s_run("not X.1 > 1 or F", v), TH_RULE_FALSE);
    assert_int_equal(s_run("X.1", v), TH_RULE_TRUE);
    assert_int_equal(s_run("F", v), TH_RULE_FALSE);
    assert_int_equal(s_run("(X.1 >= 5) + (X.1 >= 5) == 2", v), TH_RULE_TRUE);
}

static void
test_rules_parentheses_and_whitespace(void **state)
{
    (void)state;
    assert_int_equal(s_run("((((2))))*((3+4))==14", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("  2*(3+4)\t==\n14  ", NULL), TH_RULE_TRUE);
    assert_int_equal(s_run("2*3+4==14", NULL), TH_RULE_FALSE);
}

static void
test_rules_skip_on_missing_value(void **state)
{
    (void)state;
    s_var_t v[] = { { "DVK01", 3 }, { NULL, 0 } };
    assert_int_equal(s_run("DVK02 <= DVK01", v), TH_RULE_SKIP);
    /* no short-circuit: missing values make the whole rule not apply */
    assert_int_equal(s_run("DVK01 > 0 or DVK02 > 0", v), TH_RULE_SKIP);
    assert_int_equal(s_run("DVK01 <= 3", v), TH_RULE_TRUE);
}

static void
test_rules_skip_on_division_by_zero(void **state)
{
    (void)state;
    s_var_t v[] = { { "N", 5 }, { "D", 0 }, { NULL, 0 } };
    assert_int_equal(s_run("N / D <= 1", v), TH_RULE_SKIP);
    assert_int_equal(s_run("D / N <= 1", v), TH_RULE_TRUE);
    assert_int_equal(s_run("1 / (N - 5) > 0", v), TH_RULE_SKIP);
}

static void
test_rules_lookup_error_propagates(void **state)
{
    (void)state;
    th_rule_t *r = th_rule_compile("A > 1", NULL, 0, NULL);
    assert_non_null(r);
    th_rule_result_t res = TH_RULE_TRUE;
    assert_int_equal(th_rule_eval(r, s_lookup_fail, NULL, &res), -EIO);
    assert_int_equal(res, TH_RULE_TRUE);   /* untouched */
    assert_int_equal(th_rule_eval(r, NULL, NULL, &res), -EINVAL);
    th_rule_destroy(&r);
    th_rule_destroy(&r);   /* safe twice */
}

static void
test_rules_compile_errors_name_column(void **state)
{
    (void)state;
    char eb[128];
    assert_int_equal(s_bad("DVK02 <= ", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 10: expected an operand but found end of expression");
    assert_int_equal(s_bad("A <= * B", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 6: expected an operand but found '*'");
    assert_int_equal(s_bad("(A + B", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 7: expected ')' but found end of expression");
    assert_int_equal(s_bad("A B", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 3: unexpected 'B' after a complete expression");
    assert_int_equal(s_bad("A < B < C", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 7: unexpected '<' after a complete expression");
    assert_int_equal(s_bad("A # B", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 3: unexpected character '#'");
    assert_int_equal(s_bad("A & B", eb, sizeof eb), TH_E_PARSE);
    assert_true(strncmp(eb, "column 3: unexpected character '&'", 34) == 0);
    assert_int_equal(s_bad("1.2.3 > 0", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 1: malformed number");
    assert_int_equal(s_bad("12abc > 0", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 1: malformed number");
    assert_int_equal(s_bad("", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 1: expected an operand but found end of expression");
    assert_int_equal(s_bad("A and or B", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 7: expected an operand but found 'or'");
    assert_int_equal(s_bad("()", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 2: expected an operand but found ')'");
    /* multi-byte UTF-8 is reported as a byte, not mangled */
    assert_int_equal(s_bad("A \xc3\xa2 B", eb, sizeof eb), TH_E_PARSE);
    assert_string_equal(eb, "column 3: unexpected byte 0xc3");
    /* a tiny errbuf is truncated, never overrun */
    char small[8];
    memset(small, 'Z', sizeof small);
    assert_int_equal(s_bad("A <=", small, sizeof small), TH_E_PARSE);
    assert_int_equal(strlen(small), 7);
    /* errbuf and err are optional */
    assert_null(th_rule_compile("(", NULL, 0, NULL));
    int err = 0;
    assert_null(th_rule_compile(NULL, eb, sizeof eb, &err));
    assert_int_equal(err, -EINVAL);
}

static void
test_rules_limits(void **state)
{
    (void)state;
    char eb[128];
    char buf[TH_RULE_EXPR_MAX + 2];
    /* exactly the limit compiles: "1+1+...+1" */
    size_t n = 0;
    buf[n++] = '1';
    while (n + 2 <= TH_RULE_EXPR_MAX) {
        buf[n++] = '+';
        buf[n++] = '1';
    }
    buf[n] = '\0';
    assert_true(n <= TH_RULE_EXPR_MAX);
    th_rule_t *r = th_rule_compile(buf, eb, sizeof eb, NULL);
    assert_non_null(r);
    th_rule_result_t res;
    assert_int_equal(th_rule_eval(r, s_lookup, NULL, &res), 0);
    assert_int_equal(res, TH_RULE_TRUE);
    th_rule_destroy(&r);
    /* one byte over the limit */
    memset(buf, ' ', TH_RULE_EXPR_MAX + 1);
    buf[0] = '1';
    buf[TH_RULE_EXPR_MAX + 1] = '\0';
    assert_int_equal(s_bad(buf, eb, sizeof eb), TH_E_LIMIT);
    assert_string_equal(eb, "column 1025: expression longer than 1024 bytes");

    /* nesting: 32 parentheses are fine, 33 are not */
    char nest[128];
    n = 0;
    for (int i = 0; i < TH_RULE_DEPTH_MAX; i++)
        nest[n++] = '(';
    nest[n++] = '1';
    for (int i = 0; i < TH_RULE_DEPTH_MAX; i++)
        nest[n++] = ')';
    nest[n] = '\0';
    r = th_rule_compile(nest, eb, sizeof eb, NULL);
    assert_non_null(r);
    th_rule_destroy(&r);
    memmove(nest + 1, nest, n + 1);
    nest[0] = '(';
    strcat(nest, ")");
    assert_int_equal(s_bad(nest, eb, sizeof eb), TH_E_LIMIT);
    assert_string_equal(eb, "column 33: nesting deeper than 32");
    /* unary chains count too */
    memset(nest, '-', 40);
    strcpy(nest + 40, "1");
    assert_int_equal(s_bad(nest, eb, sizeof eb), TH_E_LIMIT);
    memset(nest, '!', 33);
    strcpy(nest + 33, "1");
    assert_int_equal(s_bad(nest, eb, sizeof eb), TH_E_LIMIT);
    /* identifier length */
    char id[64];
    memset(id, 'A', 40);
    strcpy(id + 40, " > 0");
    assert_int_equal(s_bad(id, eb, sizeof eb), TH_E_LIMIT);
    assert_string_equal(eb, "column 1: identifier longer than 31 bytes");
}

static int
s_collect(const char *ident, void *ctx)
{
    char *buf = ctx;
    strcat(buf, ident);
    strcat(buf, ";");
    return strcmp(ident, "STOP") == 0 ? 7 : 0;
}

static void
test_rules_each_ident_distinct_in_order(void **state)
{
    (void)state;
    th_rule_t *r = th_rule_compile("B + A.1 > B * C or A.1 == 0", NULL, 0, NULL);
    assert_non_null(r);
    char buf[128] = "";
    assert_int_equal(th_rule_each_ident(r, s_collect, buf), 0);
    assert_string_equal(buf, "B;A.1;C;");
    assert_int_equal(th_rule_ident_count(r), 3);
    assert_string_equal(th_rule_ident_at(r, 1), "A.1");
    assert_null(th_rule_ident_at(r, 3));
    assert_string_equal(th_rule_text(r), "B + A.1 > B * C or A.1 == 0");
    th_rule_destroy(&r);

    r = th_rule_compile("X + STOP + Y > 0", NULL, 0, NULL);
    buf[0] = '\0';
    assert_int_equal(th_rule_each_ident(r, s_collect, buf), 7);
    assert_string_equal(buf, "X;STOP;");
    th_rule_destroy(&r);
}

static void
test_rules_out_of_memory_is_clean(void **state)
{
    (void)state;
    const char *expr = "(A + B) * 2 <= C and not D or E / F > 0.5";
    int failures = 0;
    for (long k = 0; k < 100; k++) {
        th_mem_fail_after(k);
        int err = 0;
        th_rule_t *r = th_rule_compile(expr, NULL, 0, &err);
        th_mem_fail_after(-1);
        if (r) {
            assert_int_equal(err, 0);
            th_rule_destroy(&r);
            break;
        }
        assert_int_equal(err, -ENOMEM);
        failures++;
    }
    assert_true(failures > 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_arithmetic_precedence),
        cmocka_unit_test(test_rules_comparisons_with_epsilon),
        cmocka_unit_test(test_rules_logic_and_or_not),
        cmocka_unit_test(test_rules_parentheses_and_whitespace),
        cmocka_unit_test(test_rules_skip_on_missing_value),
        cmocka_unit_test(test_rules_skip_on_division_by_zero),
        cmocka_unit_test(test_rules_lookup_error_propagates),
        cmocka_unit_test(test_rules_compile_errors_name_column),
        cmocka_unit_test(test_rules_limits),
        cmocka_unit_test(test_rules_each_ident_distinct_in_order),
        cmocka_unit_test(test_rules_out_of_memory_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
